"""Definitions, schedules, the landing sensor, and two overlapping writer runs on one DuckDB file."""

import json
import os
import subprocess
import sys
import textwrap
import time

import dagster as dg
import pytest

from gtm_assets.cli.run import load_definitions


def test_definitions_load_with_schedules_sensors_and_metadata():
    defs = load_definitions()
    schedules = {s.name: s.cron_schedule for s in defs.schedules}
    assert schedules == {
        "daily_personas_schedule": "0 7 * * *",
        "hourly_allocations_schedule": "0 * * * *",
        "media_metrics_sync_schedule": "*/15 * * * *",
        "platform_metrics_sync_schedule": "*/15 * * * *",
        "hourly_conversions_schedule": "30 * * * *",
    }
    assert {s.name for s in defs.sensors} == {"landing_files_sensor", "govern_after_ingestion"}
    graph = defs.resolve_asset_graph()
    expected = {
        "raw_events", "raw_media_spend", "raw_customers", "guarded_sessions", "quarantined_events",
        "event_dispositions", "session_raw_rows", "features", "customer_features", "personas",
        "mmm_model", "forecast", "allocations", "audiences", "creative_library", "dsp_payload", "payload_push",
        "lineage_edges", "touchpoints", "match_keys", "attribution", "platform_metrics", "platform_campaigns",
        "offline_conversions", "experiment_results",
    }
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert expected <= keys
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name and node.owners and node.kinds, key
        assert node.description, key
        assert node.pools == {"duckdb_warehouse"} or node.is_external, key
    upstream = {k.to_user_string() for k in graph.get(dg.AssetKey("guarded_sessions")).parent_keys}
    assert upstream == {"raw_events", "quarantined_events"}
    assert {k.to_user_string() for k in graph.get(dg.AssetKey("dsp_payload")).parent_keys} == {"allocations", "creative_library", "audiences"}
    assert all(graph.get(key).code_version for key in graph.get_all_asset_keys() if not graph.get(key).is_external), "code versions"


def test_sensor_ingests_new_files_once_and_changed_files_again(tmp_path, monkeypatch):
    from gtm_assets.defs.ingest.landing_sensor import landing_files_sensor

    events = tmp_path / "landing" / "events"
    media = tmp_path / "landing" / "media"
    events.mkdir(parents=True)
    media.mkdir(parents=True)
    monkeypatch.setenv("GTM_DATA_DIR", str(tmp_path))
    (events / "a.csv").write_text("event_id\n1\n")
    (events / "b.parquet").write_bytes(b"x")
    (events / "notes.txt").write_text("ignored")
    (media / "media_spend.csv").write_text("date\n")
    with dg.DagsterInstance.ephemeral() as instance:
        first = landing_files_sensor(dg.build_sensor_context(instance=instance))
        assert sorted(r.partition_key for r in first.run_requests if r.partition_key) == ["a.csv", "b.parquet"]
        assert sum(r.job_name == "media_metrics_sync_job" for r in first.run_requests) == 1
        assert first.dynamic_partitions_requests[0].partition_keys == ["a.csv", "b.parquet"]
        instance.add_dynamic_partitions("landing_event_files", ["a.csv", "b.parquet"])

        unchanged = landing_files_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        assert unchanged.run_requests == []

        (events / "a.csv").write_text("event_id\n1\n2\n")
        changed = landing_files_sensor(dg.build_sensor_context(instance=instance, cursor=unchanged.cursor))
        assert [r.partition_key for r in changed.run_requests] == ["a.csv"]
        assert changed.run_requests[0].run_key != first.run_requests[0].run_key
        assert changed.dynamic_partitions_requests == []  # the partition already exists
        cursor = json.loads(changed.cursor)
        assert set(cursor["events"]) == {"a.csv", "b.parquet"}


def test_sensor_never_opens_duckdb(tmp_path, monkeypatch):
    from gtm_assets.defs.ingest.landing_sensor import landing_files_sensor

    (tmp_path / "landing" / "events").mkdir(parents=True)
    monkeypatch.setenv("GTM_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("duckdb.connect", lambda *a, **k: pytest.fail("the sensor opened DuckDB"))
    with dg.DagsterInstance.ephemeral() as instance:
        assert landing_files_sensor(dg.build_sensor_context(instance=instance)).run_requests == []


def test_instance_config_queues_duckdb_writers():
    from pathlib import Path

    import yaml

    config = yaml.safe_load((Path(__file__).resolve().parent.parent / "dagster_home" / "dagster.yaml").read_text())
    assert config["concurrency"]["pools"] == {"granularity": "run", "default_limit": 1}


WRITER = textwrap.dedent(
    """
    import sys, time
    import dagster as dg
    from gtm_assets.defs.ingest.raw_customers import raw_customers
    from gtm_assets.defs.governance.dbt_models import gtm_dbt_models
    from gtm_assets.defs.resources import resources
    res = resources().resources
    start = time.time()
    for _ in range(2):
        result = dg.materialize([raw_customers, gtm_dbt_models], selection=["raw_customers", "customer_features"], resources=res)
        assert result.success
    print(f"{start:.3f} {time.time():.3f}")
    """
)


def test_two_overlapping_runs_both_succeed(tmp_path, truth):
    """Two processes materialize (Python asset + dbt model) into the same DuckDB file at once."""
    env = {**os.environ, "GTM_DUCKDB_PATH": str(tmp_path / "shared.duckdb")}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-3000:]
    (a_start, a_end), (b_start, b_end) = [tuple(map(float, out.strip().splitlines()[-1].split())) for out, _ in outputs]
    assert a_start < b_end and b_start < a_end  # the runs really overlapped in time


def test_without_the_lock_a_second_writer_fails(tmp_path):
    """The hazard the lock removes: DuckDB refuses a second writer process outright."""
    path = tmp_path / "raw.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('open', flush=True); time.sleep(5)"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "open"
    probe = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r})"], capture_output=True, text=True
    )
    holder.kill()
    assert probe.returncode != 0 and "lock" in probe.stderr.lower()
