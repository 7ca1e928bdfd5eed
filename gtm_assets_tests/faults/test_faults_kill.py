"""A run killed with SIGKILL in the middle of raw_events, of the dbt governance build and of
allocations (real `dagster asset materialize` processes on a fresh DAGSTER_HOME; the kill is timed
from the run's event log): the warehouse opens and holds exactly what it held before, and a rerun
gives the tables a run that was never interrupted gives."""

import shutil

import duckdb
import pytest

from gtm_assets_tests.faults.faults import (
    kill_when,
    make_workspace,
    materialize_command,
    materialized_in,
    run,
    start,
    state,
    writer_holds,
)

pytestmark = pytest.mark.faults

NEW_FILE = "events_500_2026-01-01_2026-01-28.csv"
GOVERNANCE = "group:governance"


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """A new landing file large enough that loading it takes seconds (800k events)."""
    from gtm_assets.simulate import simulate

    out = tmp_path_factory.mktemp("big-world")
    simulate(out, days=28, events=800_000, seed=5, start_date="2026-01-01", formats=("csv",), n_event_files=1)
    (path,) = (out / "landing" / "events").glob("events_*.csv")
    return path


@pytest.fixture()
def world(graph_run, data_dir, tmp_path, big_file):
    """The session's materialized world copied, with the big file landed (not yet ingested)."""
    workspace = make_workspace(tmp_path / "killed", data_dir)
    shutil.copy(big_file, workspace.data / "landing" / "events" / NEW_FILE)
    with workspace.instance() as instance:
        instance.add_dynamic_partitions("landing_event_files", [NEW_FILE])
    return workspace


def _control(world, tmp_path):
    """The same starting point for a run that is never interrupted."""
    control = world.copy_to(tmp_path / "control")
    with control.instance() as instance:
        instance.add_dynamic_partitions("landing_event_files", [NEW_FILE])
    return control


def _kill_and_check(world, command, step, ready):
    before = state(world.warehouse)
    process = start(world, command)
    run_id = kill_when(process, world, step, ready)
    assert materialized_in(world, run_id) == [], "killed too late: the step had already finished"
    assert state(world.warehouse) == before  # opens, and every table and view is exactly as before
    return before


def test_sigkill_in_raw_events(world, tmp_path):
    control = _control(world, tmp_path)
    command = materialize_command("raw_events", NEW_FILE)
    # mid-load: the step started and its process holds DuckDB's write lock
    _kill_and_check(world, command, "raw_events", lambda logs: writer_holds(world.warehouse))

    run(world, command)
    run(control, command)
    assert state(world.warehouse, stable_only=True) == state(control.warehouse, stable_only=True)
    with duckdb.connect(str(world.warehouse), read_only=True) as conn:
        rows, distinct, loaded = conn.execute(
            "SELECT count(*), count(DISTINCT source_row_number), any_value(f.rows_loaded) FROM raw.raw_events e "
            "JOIN raw.landing_files f USING (source_file) WHERE source_file = ?",
            [f"landing/events/{NEW_FILE}"],
        ).fetchone()
    assert rows == distinct == loaded > 700_000  # each line of the file once


def test_sigkill_in_the_dbt_governance_build(world, tmp_path):
    run(world, materialize_command("raw_events", NEW_FILE))  # new raw rows for governance to process
    control = _control(world, tmp_path)
    command = materialize_command(GOVERNANCE)
    # mid-build: dbt has committed some models (into its staging copy) and is building the rest
    _kill_and_check(
        world, command, "gtm_dbt_models", lambda logs: any("built in the staging copy" in (e.user_message or "") for e in logs)
    )

    run(world, command)
    run(control, command)
    assert state(world.warehouse, stable_only=True) == state(control.warehouse, stable_only=True)


def test_sigkill_in_allocations(world, tmp_path):
    control = _control(world, tmp_path)
    command = materialize_command("allocations")
    before = _kill_and_check(world, command, "allocations", lambda logs: writer_holds(world.warehouse))

    run(world, command)
    run(control, command)
    # an allocation's lineage id hashes its run id: the one column besides the run's own id and time
    derived = ("main.allocations.lineage_id", "main.allocation_history.lineage_id")
    after = state(world.warehouse, stable_only=True, run_derived=derived)
    assert after == state(control.warehouse, stable_only=True, run_derived=derived)
    # the history gained the one plan of the rerun, not the killed run's as well
    assert after["main.allocation_history"][0] == before["main.allocation_history"][0] + after["main.allocations"][0]
