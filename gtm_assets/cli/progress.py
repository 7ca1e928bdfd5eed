"""What `gtm run` shows while it works: a live progress display of the graph's steps (rich), with every
log line of the run (Dagster, dbt, Prophet and cmdstan) written to a log file instead of the terminal.

``captured_output`` points the process's own stdout and stderr (file descriptors 1 and 2, so the dbt
and cmdstan subprocesses are caught too) at the log file and hands back the terminal for the display.
``StepProgress`` listens to a run's events (``DagsterInstance.add_event_listener``) and keeps, per step,
its state, elapsed time, rows written and checks passed; the display shows the bar, the running steps
and the latest finished ones.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

RECENT_STEPS = 6


@contextmanager
def captured_output(log_path: Path) -> Iterator[TextIO]:
    """Send the process's stdout and stderr (descriptors, so subprocesses too) to ``log_path`` until the
    block ends; yield a stream to the terminal."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1)
    with open(log_path, "a", buffering=1) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()


def failure_reason(error) -> str:
    """One line for a failed step: the first line of the innermost cause (what went wrong), not the
    wrapper Dagster raised around it."""
    while error.cause is not None:
        error = error.cause
    lines = error.message.strip().splitlines()
    return lines[0] if lines else error.cls_name or "failed"


@dataclass
class Step:
    key: str
    started: float | None = None
    finished: float | None = None
    failed: str | None = None
    rows: int | None = None
    checks_passed: int = 0
    checks_failed: int = 0

    def elapsed(self, now: float) -> float:
        return ((self.finished or now) - self.started) if self.started else 0.0


@dataclass
class StepProgress:
    """The steps of the runs of one `gtm run`, from their events."""

    total: int = 0
    steps: dict[str, Step] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def listen(self, entry) -> None:
        """An event log entry of a run (``DagsterInstance.add_event_listener``'s callback)."""
        event = entry.dagster_event
        if event is None or not event.step_key:
            return
        step = self.steps.setdefault(event.step_key, Step(event.step_key))
        kind = event.event_type_value
        if kind == "STEP_START":
            step.started = time.monotonic()
            self.order.append(step.key)
        elif kind in ("STEP_SUCCESS", "STEP_SKIPPED"):
            step.finished = time.monotonic()
        elif kind == "STEP_FAILURE":
            step.finished = time.monotonic()
            error = event.step_failure_data.error if event.step_failure_data else None
            step.failed = failure_reason(error) if error else "failed"
        elif kind == "ASSET_MATERIALIZATION":
            rows = event.materialization.metadata.get("dagster/row_count")
            if rows is not None:
                step.rows = (step.rows or 0) + int(rows.value)
        elif kind == "ASSET_CHECK_EVALUATION":
            if event.event_specific_data.passed:
                step.checks_passed += 1
            else:
                step.checks_failed += 1

    def finished_steps(self) -> list[Step]:
        return [self.steps[k] for k in self.order if self.steps[k].finished is not None]

    def failures(self) -> list[Step]:
        return [s for s in self.finished_steps() if s.failed]

    def render(self):
        """The live display: the bar, the running steps, the latest finished ones."""
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        now = time.monotonic()
        done = len(self.finished_steps())
        running = [self.steps[k] for k in self.order if self.steps[k].finished is None]
        header = Table.grid(padding=(0, 1))
        header.add_row(
            ProgressBar(total=max(self.total, done, 1), completed=done, width=40),
            f"{done}/{max(self.total, done)} steps",
        )
        lines = Table.grid(padding=(0, 2))
        for step in self.finished_steps()[-RECENT_STEPS:]:
            mark = "[red]✗[/red]" if step.failed else "[green]✓[/green]"
            rows = f"{step.rows:,} rows" if step.rows is not None else ""
            checks = f"{step.checks_passed} checks passed" if step.checks_passed else ""
            lines.add_row(mark, step.key, f"{step.elapsed(now):5.1f} s", rows, checks)
        for step in running:
            lines.add_row(
                "[bold yellow]▶[/bold yellow]", f"[bold]{step.key}[/bold]", f"{step.elapsed(now):5.1f} s", "running", ""
            )
        return Group(header, lines)
