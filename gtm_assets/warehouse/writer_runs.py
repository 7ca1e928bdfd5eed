"""Runs that write the warehouse, as the Dagster instance sees them: the one-writer pool, and the
liveness lock that tells a run whose process died from a run still working.

The pool. DuckDB accepts one writer process per file, so every asset that opens it is in the
``duckdb_warehouse`` pool. ``dagster_home/dagster.yaml`` queues whole runs on it (granularity run),
but a fresh ``DAGSTER_HOME`` (a new deployment, ``dagster dev`` elsewhere) has no limit at all;
``ensure_writer_pool`` stores the limit in the instance itself, where every run of that instance,
queued or started directly, honours it (per step when the instance has no ``granularity: run``).

Dead runs. A run process killed with SIGKILL (OOM, a power loss, ``kill -9``) never reports its end:
Dagster keeps it STARTED, and with run granularity the queue then holds every later writer run back
forever (op granularity: its claimed slot is never freed). Each writer run holds an exclusive flock
on ``<warehouse>.runs/<run id>`` while it lives; the kernel drops the lock when the process dies, so a
lock that can be taken belongs to a dead run, whatever happened to its PID. ``fail_dead_runs`` marks
such runs failed and frees their slots; the warehouse resource calls it before every run, and a
sensor calls it for runs waiting in the daemon's queue."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg

WRITER_POOL = "duckdb_warehouse"
WRITER_POOL_LIMIT = 1
UNFINISHED = ("STARTING", "STARTED", "CANCELING")


def ensure_writer_pool(instance: dg.DagsterInstance) -> str | None:
    """Give the writer pool a limit of one in this instance's storage unless it has one that is not
    larger (0 pauses writers on purpose and is kept). Returns what changed, or None."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return None  # an in-memory instance: one process, nothing to share
    limits = {pool.name: pool.limit for pool in storage.get_pool_limits()}
    current = limits.get(WRITER_POOL)
    if current is not None and current <= WRITER_POOL_LIMIT:
        return None
    storage.set_concurrency_slots(WRITER_POOL, WRITER_POOL_LIMIT)
    return f"pool {WRITER_POOL}: limit {current if current is not None else 'none'} -> {WRITER_POOL_LIMIT} (one DuckDB writer)"


def liveness_dir(database: str | Path) -> Path:
    return Path(f"{Path(database).resolve()}.runs")


@dataclass
class LivenessLock:
    """The exclusive flock a live writer run holds on its file."""

    path: Path
    fd: int

    def release(self) -> None:
        self.path.unlink(missing_ok=True)
        os.close(self.fd)  # closing drops the flock


def hold_liveness(database: str | Path, run_id: str) -> LivenessLock:
    """Lock ``<warehouse>.runs/<run id>`` for as long as this process runs the run. The file is locked
    under a temporary name and renamed into place, so no one sees it unlocked."""
    folder = liveness_dir(database)
    folder.mkdir(parents=True, exist_ok=True)
    path, pending = folder / run_id, folder / f".{run_id}.{os.getpid()}"
    fd = os.open(pending, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, f"{os.getpid()}\n".encode())
    os.replace(pending, path)
    return LivenessLock(path, fd)


def fail_dead_runs(instance: dg.DagsterInstance, database: str | Path) -> list[str]:
    """Mark failed every unfinished run of this instance whose liveness lock nobody holds, free its
    concurrency slots and return the run ids. Runs of other instances writing the same file are left
    to their own instance."""

    folder = liveness_dir(database)
    if not folder.is_dir():
        return []
    failed = []
    for path in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue  # its run just ended
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # alive
            run = instance.get_run_by_id(path.name)
            if run is None:
                continue  # another instance's run
            if run.status.value in UNFINISHED:
                pid = os.pread(fd, 32, 0).decode().strip() or "?"
                instance.report_run_failed(
                    run,
                    message=f"The run's process (PID {pid}) died without reporting its end (killed or crashed); "
                    "its unfinished DuckDB transactions were rolled back, so each asset holds its last committed "
                    "result. Re-execute the run to finish it.",
                )
                failed.append(run.run_id)
            if instance.event_log_storage.supports_global_concurrency_limits:
                instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return failed
