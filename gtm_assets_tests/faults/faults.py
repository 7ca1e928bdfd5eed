"""Helpers for the fault tests: a private copy of the session's world and warehouse, real `dagster`
processes on a fresh DAGSTER_HOME, the instance's event log polled for a step's progress, and the
warehouse's state as row counts and checksums over sorted rows."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
DAGSTER = str(Path(sys.executable).parent / "dagster")

# Columns that say when or by which run a row was written: a rerun writes new values by design.
VOLATILE_SUFFIXES = ("_at", "run_id")


@dataclass
class Workspace:
    """One test's own world: data dir (landing zone + warehouse) and Dagster home."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def warehouse(self) -> Path:
        return self.data / "gtm.duckdb"

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "GTM_DATA_DIR": str(self.data),
            "GTM_DUCKDB_PATH": str(self.warehouse),
            "DAGSTER_HOME": str(self.home),
            **extra,
        }
        return env

    def instance(self):
        import dagster as dg

        return dg.DagsterInstance.from_config(str(self.home))

    def copy_to(self, root: Path) -> Workspace:
        """A second workspace with the same landing zone and warehouse (no run history)."""
        other = Workspace(root)
        shutil.copytree(self.data, other.data, ignore=shutil.ignore_patterns("*.runs", ".dbt-staging", "*.lock"))
        other.home.mkdir(parents=True)
        return other


def make_workspace(root: Path, session_data: Path) -> Workspace:
    workspace = Workspace(root)
    shutil.copytree(session_data, workspace.data, ignore=shutil.ignore_patterns("*.runs", ".dbt-staging", "*.lock"))
    workspace.home.mkdir(parents=True)
    return workspace


def materialize_command(select: str, partition: str | None = None) -> list[str]:
    command = [DAGSTER, "asset", "materialize", "-m", "gtm_assets.definitions", "--select", select]
    return command + (["--partition", partition] if partition else [])


def start(workspace: Workspace, command: list[str], **extra_env: str) -> subprocess.Popen:
    """A process group of its own, so SIGKILL reaches its step processes and dbt too."""
    log = open(workspace.root / f"process-{time.monotonic_ns()}.log", "w")
    return subprocess.Popen(
        command, cwd=REPO, env=workspace.env(**extra_env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def run(workspace: Workspace, command: list[str], timeout: float = 600, **extra_env: str) -> None:
    process = start(workspace, command, **extra_env)
    assert process.wait(timeout=timeout) == 0, _tail(process)


def _tail(process: subprocess.Popen) -> str:
    log = Path(process.stdout.name) if process.stdout else None
    return log.read_text()[-3000:] if log and log.exists() else ""


def writer_holds(path: Path) -> bool:
    """Whether some process holds DuckDB's write lock on ``path`` (DuckDB fcntl-locks the whole file:
    a shared lock is refused only while a read-write connection is open)."""
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def kill_when(process: subprocess.Popen, workspace: Workspace, step: str, ready, timeout: float = 300) -> str:
    """SIGKILL the process group once the run's event log shows ``step`` started and ``ready(logs)``
    holds (polled every 20 ms); return the run id."""
    from dagster import DagsterEventType

    deadline = time.monotonic() + timeout
    with workspace.instance() as instance:
        while time.monotonic() < deadline:
            assert process.poll() is None, f"the run ended before it could be killed:\n{_tail(process)}"
            runs = instance.get_runs(limit=1)
            if runs:
                logs = instance.all_logs(runs[0].run_id)
                started = any(
                    e.dagster_event
                    and e.dagster_event.event_type == DagsterEventType.STEP_START
                    and e.dagster_event.step_key == step
                    for e in logs
                )
                if started and ready(logs):
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=60)
                    return runs[0].run_id
            time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError(f"step {step} never reached the point to kill it at:\n{_tail(process)}")


def materialized_in(workspace: Workspace, run_id: str) -> list[str]:
    from dagster import DagsterEventType

    with workspace.instance() as instance:
        return [
            e.dagster_event.asset_key.to_user_string()
            for e in instance.all_logs(run_id)
            if e.dagster_event and e.dagster_event.event_type == DagsterEventType.ASSET_MATERIALIZATION
        ]


def state(
    warehouse: Path, *, stable_only: bool = False, tables: list[str] | None = None, run_derived: tuple[str, ...] = ()
) -> dict[str, tuple]:
    """Every table's (row count, md5 over its sorted row hashes) and every view's SQL. ``stable_only``
    leaves out the columns that record when or by which run a row was written, and ``run_derived``
    ("schema.table.column") columns computed from the run id."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        relations = conn.execute(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables ORDER BY 1, 2"
        ).fetchall()
        result = {}
        for schema, name, kind in relations:
            key = f"{schema}.{name}"
            if tables is not None and key not in tables:
                continue
            if kind == "VIEW":
                result[key] = conn.execute(
                    "SELECT sql FROM duckdb_views() WHERE schema_name = ? AND view_name = ?", [schema, name]
                ).fetchone()
                continue
            columns = [
                c
                for (c,) in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                    "ORDER BY ordinal_position",
                    [schema, name],
                ).fetchall()
            ]
            if stable_only:
                columns = [c for c in columns if not c.endswith(VOLATILE_SUFFIXES) and f"{key}.{c}" not in run_derived]
            projection = ", ".join(f'"{c}"' for c in columns)
            result[key] = conn.execute(
                f"SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), '') FROM "
                f'(SELECT md5(CAST(r AS VARCHAR)) AS h FROM (SELECT {projection} FROM "{schema}"."{name}") r)'
            ).fetchone()
        return result
