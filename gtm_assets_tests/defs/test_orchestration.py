"""Definitions, schedules, the landing sensor, and two overlapping writer runs on one DuckDB file."""

import json
import os
import subprocess
import sys
import textwrap

import dagster as dg
import pytest

from gtm_assets.cli.run import load_definitions


def test_definitions_load_with_schedules_sensors_and_metadata():
    defs = load_definitions()
    schedules = {s.name: s.cron_schedule for s in defs.schedules}
    jobs = {job.name for job in defs.jobs}
    assert {
        "ingest_landing",
        "discover_personas",
        "generate_creatives",
        "optimize_budget",
        "push_payload",
        "refit_models",
    } <= jobs
    # no job is launched both by a sensor and by a schedule
    scheduled = {s.job_name for s in defs.schedules}
    sensed = {job.name for sensor in defs.sensors if sensor.has_jobs for job in sensor.jobs}
    assert not scheduled & sensed
    assert schedules == {
        "daily_personas_schedule": "0 7 * * *",
        "hourly_allocations_schedule": "0 * * * *",
        "daily_models_schedule": "0 6 * * *",
        "platform_metrics_sync_schedule": "*/15 * * * *",
        "hourly_conversions_schedule": "30 * * * *",
    }
    assert {s.name for s in defs.sensors} == {"landing_files_sensor", "governance_automation_sensor", "writer_runs_sensor"}
    graph = defs.resolve_asset_graph()
    expected = {
        "raw_events",
        "raw_media_spend",
        "raw_customers",
        "guarded_sessions",
        "quarantined_events",
        "event_dispositions",
        "session_raw_rows",
        "ga4_event_items",
        "features",
        "customer_features",
        "personas",
        "mmm_model",
        "forecast",
        "allocations",
        "audiences",
        "creative_library",
        "dsp_payload",
        "payload_push",
        "lineage_edges",
        "touchpoints",
        "match_keys",
        "attribution",
        "platform_metrics",
        "platform_campaigns",
        "offline_conversions",
        "experiment_results",
    }
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert expected <= keys
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name and node.owners and node.kinds, key
        assert node.description, key
        assert node.pools == {"duckdb_warehouse"} or node.is_external, key
    upstream = {k.to_user_string() for k in graph.get(dg.AssetKey("guarded_sessions")).parent_keys}
    assert upstream == {"stg_events", "quarantined_events", "event_outcomes"}  # event_outcomes: the sessions a batch touches
    staged = {k.to_user_string() for k in graph.get(dg.AssetKey("stg_flat_events")).parent_keys}
    assert staged == {"raw_events"}
    assert {k.to_user_string() for k in graph.get(dg.AssetKey("dsp_payload")).parent_keys} == {
        "allocations",
        "creative_library",
        "audiences",
    }
    assert all(graph.get(key).code_version for key in graph.get_all_asset_keys() if not graph.get(key).is_external), (
        "code versions"
    )
    # governance follows new raw data through declarative automation, not a hand-written sensor
    for name in ("event_dispositions", "guarded_sessions", "features"):
        assert graph.get(dg.AssetKey(name)).automation_condition is not None, name


def _record_ingested(instance, name, path):
    """What a raw_events run leaves in the instance: the file's sha256 for its partition."""
    import hashlib

    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key="raw_events",
            partition=name,
            metadata={"source_file_sha256": hashlib.sha256(path.read_bytes()).hexdigest()},
        )
    )


def _tick(sensor, instance, cursor):
    result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
    return result, sorted(r.partition_key for r in result.run_requests if r.partition_key)


def test_landing_sensor_semantics(tmp_path, monkeypatch):
    from gtm_assets.defs.ingest.landing_sensor import landing_files_sensor as sensor

    events = tmp_path / "landing" / "events"
    media = tmp_path / "landing" / "media"
    experiments = tmp_path / "landing" / "experiments"
    for folder in (events, media, experiments):
        folder.mkdir(parents=True)
    monkeypatch.setenv("GTM_DATA_DIR", str(tmp_path))
    (events / "a.csv").write_text("event_id\n1\n")
    (events / "b.parquet").write_bytes(b"x")
    (events / "notes.txt").write_text("ignored")
    (events / "c.csv").write_text("event_id\n3\n")
    (events / "c.csv.done").write_text("")  # the writer says it is complete
    (media / "media_spend.csv").write_text("date\n")
    (experiments / "lift_tests.csv").write_text("channel\n")
    with dg.DagsterInstance.ephemeral() as instance:
        first, requested = _tick(sensor, instance, None)
        assert requested == ["c.csv"]  # a and b might still be being written
        second, requested = _tick(sensor, instance, first.cursor)
        # unchanged across two ticks: complete. c.csv is asked for again until its run records it,
        # under the same run key, which Dagster runs only once.
        assert requested == ["a.csv", "b.parquet", "c.csv"]
        run_keys = {r.partition_key: r.run_key for r in second.run_requests if r.partition_key}
        assert run_keys["c.csv"] == first.run_requests[0].run_key
        jobs = sorted(r.job_name for r in second.run_requests if not r.partition_key)
        assert jobs == ["sync_lift_tests", "sync_media_spend"]
        for name in ("a.csv", "b.parquet", "c.csv"):
            _record_ingested(instance, name, events / name)
        instance.add_dynamic_partitions("landing_event_files", ["a.csv", "b.parquet", "c.csv"])

        # nothing changed: nothing to do, and the cursor survives a restart (a new context)
        third, requested = _tick(sensor, instance, second.cursor)
        assert requested == [] and third.run_requests == []
        # a daemon started from scratch on a warehouse that was filled (no cursor): nothing re-ingested
        fresh, requested = _tick(sensor, instance, None)
        assert requested == []
        fresh, requested = _tick(sensor, instance, fresh.cursor)
        assert requested == []

        # a file still being written is left alone until it stops changing
        (events / "a.csv").write_text("event_id\n1\n2\n")
        growing, requested = _tick(sensor, instance, third.cursor)
        assert requested == []
        with open(events / "a.csv", "a") as handle:
            handle.write("3\n")
        growing, requested = _tick(sensor, instance, growing.cursor)
        assert requested == []
        replaced, requested = _tick(sensor, instance, growing.cursor)
        assert requested == ["a.csv"]  # replaced content: ingested again (its old rows are replaced)
        assert replaced.run_requests[0].run_key != second.run_requests[0].run_key
        assert replaced.dynamic_partitions_requests == []  # the partition exists

        # a deleted file: no run, its entry leaves the cursor (its rows stay in the warehouse)
        (events / "b.parquet").unlink()
        deleted, requested = _tick(sensor, instance, replaced.cursor)
        assert "b.parquet" not in json.loads(deleted.cursor)["events"]
        assert requested == ["a.csv"]  # only the replaced file, still unrecorded, under its same run key
        assert deleted.run_requests[0].run_key == replaced.run_requests[0].run_key

        # the new version is ingested, then the file returns to its first content: asked for again,
        # under a run key Dagster has not seen (the first version's key would be skipped as done)
        _record_ingested(instance, "a.csv", events / "a.csv")
        (events / "a.csv").write_text("event_id\n1\n")
        back, requested = _tick(sensor, instance, deleted.cursor)
        back, requested = _tick(sensor, instance, back.cursor)
        assert requested == ["a.csv"]
        assert back.run_requests[0].run_key not in {run_keys["a.csv"], replaced.run_requests[0].run_key}


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

    config = yaml.safe_load((Path(__file__).resolve().parents[2] / "dagster_home" / "dagster.yaml").read_text())
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
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-3000:]
    (a_start, a_end), (b_start, b_end) = [tuple(map(float, out.strip().splitlines()[-1].split())) for out, _ in outputs]
    assert a_start < b_end and b_start < a_end  # the runs really overlapped in time


def test_without_the_lock_a_second_writer_fails(tmp_path):
    """The hazard the lock removes: DuckDB refuses a second writer process outright."""
    path = tmp_path / "raw.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('open', flush=True); time.sleep(5)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "open"
    probe = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r})"], capture_output=True, text=True
    )
    holder.kill()
    assert probe.returncode != 0 and "lock" in probe.stderr.lower()


def test_a_fresh_daemon_does_not_resync_a_folder_its_asset_already_recorded(tmp_path, monkeypatch):
    """`gtm run` synced the media folder; the daemon's sensor starts with no cursor: no sync run for the
    same files, and one as soon as a file changes."""
    import hashlib

    from gtm_assets.defs.ingest.landing_sensor import landing_files_sensor as sensor

    media = tmp_path / "landing" / "media"
    media.mkdir(parents=True)
    (tmp_path / "landing" / "events").mkdir()
    monkeypatch.setenv("GTM_DATA_DIR", str(tmp_path))
    (media / "media_spend.csv").write_text("date\n2024-01-01\n")
    version = hashlib.sha256((media / "media_spend.csv").read_bytes()).hexdigest()[:16]
    with dg.DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key="raw_media_spend", tags={"dagster/data_version": version})
        )
        first, _ = _tick(sensor, instance, None)
        second, _ = _tick(sensor, instance, first.cursor)
        assert [r.job_name for r in first.run_requests + second.run_requests] == []
        (media / "media_spend.csv").write_text("date\n2024-01-01\n2024-01-02\n")
        third, _ = _tick(sensor, instance, second.cursor)
        fourth, _ = _tick(sensor, instance, third.cursor)
        assert [r.job_name for r in fourth.run_requests] == ["sync_media_spend"]
