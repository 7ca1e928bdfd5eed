"""Readers never block writers: the reading commands open DuckDB read-only, and while a writer holds
the file they say so in one line and exit instead of waiting or failing on DuckDB's lock."""

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pytest

from gtm_assets_tests.faults.faults import REPO

pytestmark = pytest.mark.faults

GTM = str(Path(sys.executable).parent / "gtm")
READERS = {
    "trace": ["trace"],
    "show": ["show", "allocations"],
    "whatif": ["whatif", "cut TV by 20%"],
    "ask": ["ask", "What is the ROI of TV vs Search?"],
}


def _hold(path: Path, read_only: bool) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import sys, duckdb
        conn = duckdb.connect({str(path)!r}, read_only={read_only})
        print("open", flush=True)
        sys.stdin.readline()
        if not {read_only}:
            conn.execute("CREATE TABLE written_by_the_writer AS SELECT 1 AS x")
        conn.close()
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "open"
    return holder


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "gtm.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE t AS SELECT 1 AS x")
    return path


@pytest.mark.parametrize("command", list(READERS))
def test_a_reader_says_in_one_line_that_a_writer_holds_the_file(warehouse, command):
    writer = _hold(warehouse, read_only=False)
    try:
        started = time.monotonic()
        result = subprocess.run(
            [GTM, *READERS[command]],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            env={**_env(warehouse), "COLUMNS": "60", "GTM_READ_WAIT_SECONDS": "1"},
        )
        waited = time.monotonic() - started
    finally:
        writer.communicate("\n", timeout=30)
    said = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 2
    assert len(said) == 1 and "is being written right now" in said[0] and str(warehouse) in said[0], said
    assert f"writer PID {writer.pid}" in said[0]
    assert waited < 30 and "waited 1 s" in said[0]  # it waited 1 s, not for the writer to finish
    with duckdb.connect(str(warehouse), read_only=True) as conn:  # and the writer's work is there
        assert conn.execute("SELECT count(*) FROM written_by_the_writer").fetchone() == (1,)


def test_a_reader_waits_for_a_writers_step_to_let_go_and_then_reads(warehouse):
    """A step holds the file for one transaction: `gtm show` started meanwhile answers once it ends."""
    writer = _hold(warehouse, read_only=False)
    reader = subprocess.Popen([GTM, "show", "allocations"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env={**_env(warehouse), "GTM_READ_WAIT_SECONDS": "60"})  # fmt: skip
    time.sleep(2)  # the reader is waiting on the lock meanwhile
    assert reader.poll() is None
    writer.communicate("\n", timeout=30)
    out, _ = reader.communicate(timeout=120)
    assert "is being written right now" not in out, out
    assert writer.returncode == 0


def test_a_writer_waits_for_a_reader_and_then_writes(warehouse):
    """DuckDB lets no process write while another reads: the warehouse resource waits (it does not
    fail) until the reader, which holds the file only for one command, closes it."""
    from gtm_assets.warehouse.resource import DuckDBWarehouse

    reader = _hold(warehouse, read_only=True)
    started = time.monotonic()

    def finish_reading():
        reader.stdin.write("\n")
        reader.stdin.flush()

    threading.Timer(2.0, finish_reading).start()
    with DuckDBWarehouse(database=str(warehouse)).get_connection() as conn:
        conn.execute("INSERT INTO t VALUES (2)")
        waited = time.monotonic() - started
    reader.wait(timeout=30)
    assert waited >= 1.5
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert conn.execute("SELECT sum(x) FROM t").fetchone() == (3,)


def _env(warehouse: Path) -> dict:
    import os

    return {**os.environ, "GTM_DUCKDB_PATH": str(warehouse), "GTM_DATA_DIR": str(warehouse.parent)}
