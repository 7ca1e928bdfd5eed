"""Overlapping writers on one DuckDB file, with real `dagster` processes on a fresh DAGSTER_HOME (no
dagster.yaml, as `dagster dev` elsewhere or a new deployment creates): the first writer run stores the
one-writer pool limit in the instance, and the hourly allocation job launched while the daily persona
job writes waits for the pool: both succeed, neither fails on DuckDB's lock, nothing is written twice."""

import itertools
import os
import shutil
import signal
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from gtm_assets.definitions import defs
from gtm_assets.warehouse.writer_runs import WRITER_POOL
from gtm_assets_tests.faults.faults import DAGSTER, REPO, make_workspace, run, start, state

pytestmark = pytest.mark.faults


def _job(name: str) -> list[str]:
    return [DAGSTER, "job", "execute", "-m", "gtm_assets.definitions", "-j", name]


def _pool_limits(workspace) -> dict[str, int]:
    with workspace.instance() as instance:
        return {pool.name: pool.limit for pool in instance.event_log_storage.get_pool_limits()}


def _pooled_steps(workspace, run_id) -> list[tuple[float, float, str]]:
    """(start, end, step) of every step of the run that holds the writer pool."""
    from dagster import DagsterEventType

    with workspace.instance() as instance:
        job = defs.resolve_job_def(instance.get_run_by_id(run_id).job_name)
        pooled = {node.name for node in job.graph.nodes if WRITER_POOL in (node.definition.pools or set())}
        starts, ends = {}, {}
        for record in instance.all_logs(run_id):
            event = record.dagster_event
            if event is None or event.step_key is None:
                continue
            if event.event_type == DagsterEventType.STEP_START:
                starts[event.step_key] = record.timestamp
            elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
                ends[event.step_key] = record.timestamp
        return [(starts[k], ends.get(k, float("inf")), k) for k in starts if k in pooled]


@pytest.fixture
def fresh_home(graph_run, data_dir, tmp_path):
    workspace = make_workspace(tmp_path / "overlap", data_dir)
    assert not (workspace.home / "dagster.yaml").exists()
    return workspace


def test_a_fresh_instance_gets_the_one_writer_pool_from_its_first_writer_run(fresh_home):
    assert WRITER_POOL not in _pool_limits(fresh_home)
    run(fresh_home, _job("optimize_budget"))
    assert _pool_limits(fresh_home)[WRITER_POOL] == 1


def test_the_hourly_allocation_waits_while_the_daily_persona_job_writes(fresh_home):
    run(fresh_home, _job("sync_media_spend"))  # any writer run: the instance now has the pool limit
    assert _pool_limits(fresh_home)[WRITER_POOL] == 1
    before = state(fresh_home.warehouse)

    personas = start(fresh_home, _job("daily_personas"))
    # the persona run holds the writer slot before the hourly job starts (its own run, not the sync run
    # above: two runs claiming their first slot in the same instant can both get it from Dagster's
    # SQLite storage, which is why every connection also takes the warehouse's flock)
    with fresh_home.instance() as instance:
        deadline = time.monotonic() + 300
        while not (
            (runs := instance.get_runs(filters=dg.RunsFilter(job_name="daily_personas")))
            and _pooled_steps(fresh_home, runs[0].run_id)
        ):
            assert time.monotonic() < deadline and personas.poll() is None
            time.sleep(0.05)
    allocations = start(fresh_home, _job("hourly_allocations"))
    assert personas.wait(timeout=900) == 0
    assert allocations.wait(timeout=900) == 0

    with fresh_home.instance() as instance:
        runs = {r.job_name: r for r in instance.get_runs()}
        assert runs["daily_personas"].is_success and runs["hourly_allocations"].is_success
        steps = sorted(
            s for name in ("daily_personas", "hourly_allocations") for s in _pooled_steps(fresh_home, runs[name].run_id)
        )
        logs = [r.user_message for name in ("daily_personas", "hourly_allocations") for r in instance.all_logs(runs[name].run_id)]
    # one writer at a time: no two steps (of either run) overlapped
    for (_, end, step), (start_next, _, next_step) in itertools.pairwise(steps):
        assert start_next >= end, f"{next_step} started while {step} was running"
    assert not any("Could not set lock" in (message or "") for message in logs)

    after = state(fresh_home.warehouse)
    with duckdb.connect(str(fresh_home.warehouse), read_only=True) as conn:
        plans = conn.execute(
            "SELECT count(DISTINCT run_id) FROM main.allocation_history WHERE run_id = ?", [runs["hourly_allocations"].run_id]
        ).fetchone()[0]
        payloads = conn.execute(
            "SELECT dagster_run_id, count(*) FROM main.payload_outbox GROUP BY 1 HAVING count(*) > 1"
        ).fetchall()
    # each run wrote its own plan / payload once; the allocation history grew by exactly one plan
    assert plans == 1 and payloads == []
    assert after["main.allocation_history"][0] == before["main.allocation_history"][0] + after["main.allocations"][0]


def test_the_daemons_run_queue_holds_one_writer_run_at_a_time(graph_run, data_dir, tmp_path):
    """The project's dagster.yaml (pool granularity run, limit 1) with a real dagster-daemon: two writer
    runs submitted at once, the daily persona job and the hourly allocation job; one waits QUEUED until
    the other has finished, both succeed."""
    workspace = make_workspace(tmp_path / "queue", data_dir)
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", workspace.home / "dagster.yaml")
    with workspace.instance() as instance:
        instance.get_runs()  # create the storage once, before several processes open it
    # the default-running sensors and schedules would launch runs of their own
    stops = [
        start(workspace, [DAGSTER, kind, "stop", name, "-m", "gtm_assets.definitions"])
        for kind, name in [("sensor", s.name) for s in defs.sensors if s.name != "writer_runs_sensor"]
        + [("schedule", s.name) for s in defs.schedules]
    ]
    assert all(stop.wait(timeout=300) == 0 for stop in stops)
    before = state(workspace.warehouse, tables=["main.allocation_history", "main.allocations"])
    daemon = start(workspace, [str(Path(DAGSTER).parent / "dagster-daemon"), "run", "-m", "gtm_assets.definitions"])
    try:
        launches = [
            start(workspace, [DAGSTER, "job", "launch", "-m", "gtm_assets.definitions", "-j", job])
            for job in ("daily_personas", "hourly_allocations")
        ]
        assert all(launch.wait(timeout=300) == 0 for launch in launches)
        with workspace.instance() as instance:
            deadline, waited = time.monotonic() + 1200, False
            while True:
                runs = instance.get_runs()
                statuses = {r.status.value for r in runs}
                waited |= {"QUEUED", "STARTED"} <= statuses  # one running, the other held in the queue
                if len(runs) == 2 and all(r.is_finished for r in runs):
                    break
                assert time.monotonic() < deadline, statuses
                time.sleep(1)
            records = sorted(instance.get_run_records(), key=lambda r: r.start_time)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=120)
    assert [r.dagster_run.is_success for r in records] == [True, True]
    assert waited and records[1].start_time >= records[0].end_time  # never both in progress
    after = state(workspace.warehouse, tables=["main.allocation_history", "main.allocations"])
    assert after["main.allocation_history"][0] == before["main.allocation_history"][0] + after["main.allocations"][0]
