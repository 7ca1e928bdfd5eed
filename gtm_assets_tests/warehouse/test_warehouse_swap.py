"""The dbt build's all-or-nothing swap (stage a copy, build it, rename it over the warehouse) loses no
write: a rename under a connection still open on the old file would, so the swap is refused then."""

import os
import subprocess
import sys
import textwrap

import duckdb
import pytest

from gtm_assets.defs.governance.dbt_models import PublishRefused, publish_warehouse, stage_warehouse


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "gtm.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE t AS SELECT range AS i FROM range(3)")
    return path


def _built_copy(warehouse):
    staging = stage_warehouse(warehouse)
    with duckdb.connect(str(staging)) as conn:
        conn.execute("INSERT INTO t VALUES (100)")  # what dbt built
    return staging


def _rows(path):
    with duckdb.connect(str(path), read_only=True) as conn:
        return sorted(i for (i,) in conn.execute("SELECT i FROM t").fetchall())


def test_a_rename_under_an_open_connection_loses_its_writes(warehouse):
    """The hazard the guard exists for, shown with a bare os.replace: writes through a connection opened
    before the rename land in the unlinked inode and are gone."""
    staging = _built_copy(warehouse)
    held = duckdb.connect(str(warehouse))
    os.replace(staging, warehouse)
    held.execute("INSERT INTO t VALUES (7)")
    held.close()
    assert _rows(warehouse) == [0, 1, 2, 100]  # the 7 is lost


def test_publish_refused_while_this_process_has_the_file_open(warehouse):
    staging = _built_copy(warehouse)
    held = duckdb.connect(str(warehouse))
    with pytest.raises(PublishRefused, match="still open in this process"):
        publish_warehouse(staging, warehouse)
    held.execute("INSERT INTO t VALUES (7)")
    held.close()
    assert _rows(warehouse) == [0, 1, 2, 7]  # the write survived; the build was not published
    publish_warehouse(staging, warehouse)  # nothing open any more: the swap goes through
    assert _rows(warehouse) == [0, 1, 2, 100]


def _hold_in_child(warehouse, read_only: bool) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import sys, duckdb
        conn = duckdb.connect({str(warehouse)!r}, read_only={read_only})
        print("open", flush=True)
        sys.stdin.readline()
        print(sorted(i for (i,) in conn.execute("SELECT i FROM t").fetchall()), flush=True)
    """)
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "open"
    return child


def test_publish_refused_while_another_process_writes(warehouse):
    staging = _built_copy(warehouse)
    writer = _hold_in_child(warehouse, read_only=False)
    try:
        with pytest.raises(PublishRefused, match="another process has .* open for writing"):
            publish_warehouse(staging, warehouse)
    finally:
        writer.communicate("\n", timeout=30)
    assert staging.exists() and _rows(warehouse) == [0, 1, 2]


def test_a_reader_keeps_its_snapshot_and_does_not_stop_the_swap(warehouse):
    staging = _built_copy(warehouse)
    reader = _hold_in_child(warehouse, read_only=True)
    publish_warehouse(staging, warehouse)
    out, _ = reader.communicate("\n", timeout=30)
    assert out.strip() == "[0, 1, 2]"  # the reader's consistent view of the file it opened
    assert _rows(warehouse) == [0, 1, 2, 100] and not staging.exists()
