"""Incremental governance equals a full rebuild: a new day's file is governed alone (its rows and the
sessions it touches), a replaced file triggers a rebuild, and the results are the same rows as a
from-scratch build of the same files."""

import shutil

import dagster as dg
import pytest

from gtm_assets.warehouse.resource import DuckDBWarehouse
from gtm_assets_tests.landing.test_ingest_bad_input import HEADER, row

DAY1 = [
    row("a1", user_pseudo_id="u1", session_id="100", event_name="session_start", event_timestamp="2024-01-01T23:50:00Z"),
    row("a2", user_pseudo_id="u1", session_id="100", event_timestamp="2024-01-01T23:55:00Z"),
    row("a3", user_pseudo_id="u2", session_id="200", event_timestamp="2024-01-01T10:00:00Z", utm_source="(direct)"),
    row("a4", user_pseudo_id="u3", session_id="300", event_timestamp="2024-01-01T11:00:00Z", consent_analytics="false"),
]
DAY2 = [
    # u1's session 100 continues after midnight in the next day's file
    row(
        "b1",
        user_pseudo_id="u1",
        session_id="100",
        event_name="purchase",
        revenue="42.00",
        event_timestamp="2024-01-02T00:05:00Z",
    ),
    row("a2", user_pseudo_id="u1", session_id="100", event_timestamp="2024-01-01T23:55:00Z"),  # re-delivered event
    row("b3", user_pseudo_id="u4", session_id="400", event_timestamp="2024-01-02T09:00:00Z"),
    row("b4", user_pseudo_id="u4", session_id="400", event_timestamp="not a time"),
]
TABLES = {
    "main.guarded_sessions": "lineage_id, user_key, session_start, session_end, events, purchases, revenue, utm_source",
    "main.event_dispositions": "raw_row_id, disposition, quarantine_reason, session_lineage_id",
    "main.quarantined_events": "raw_row_id, quarantine_reason, offending_value",
    "main.session_raw_rows": "session_lineage_id, raw_row_id, source_file_sha256",
}


def _write(folder, name, rows):
    (folder / name).write_text(HEADER + "\n" + "\n".join(rows) + "\n")


def _govern(instance, res, names):
    from gtm_assets.defs.governance.dbt_models import gtm_dbt_models
    from gtm_assets.defs.ingest.raw_events import landing_event_files, raw_events

    instance.add_dynamic_partitions(landing_event_files.name, names)
    for name in names:
        assert dg.materialize([raw_events], partition_key=name, instance=instance, resources=res).success
    result = dg.materialize([gtm_dbt_models], selection=dg.AssetSelection.groups("governance"), instance=instance, resources=res)
    assert result.success


def _snapshot(warehouse):
    with warehouse.get_connection() as conn:
        return {
            table: sorted(conn.execute(f"SELECT {columns} FROM {table}").fetchall(), key=str) for table, columns in TABLES.items()
        }


@pytest.fixture()
def setup(tmp_path, monkeypatch):
    from gtm_assets.defs.resources import resources

    def make(name):
        data = tmp_path / name
        (data / "landing" / "events").mkdir(parents=True)
        database = str(data / "gtm.duckdb")
        warehouse = DuckDBWarehouse(database=database)
        return data, warehouse, {**resources().resources, "warehouse": warehouse}

    def point_at(data):
        monkeypatch.setenv("GTM_DATA_DIR", str(data))
        monkeypatch.setenv("GTM_DUCKDB_PATH", str(data / "gtm.duckdb"))

    return make, point_at


def test_incremental_day_equals_full_rebuild_and_replacement_rebuilds(setup):
    make, point_at = setup
    inc_data, inc_wh, inc_res = make("incremental")
    events = inc_data / "landing" / "events"
    point_at(inc_data)
    _write(events, "day1.csv", DAY1)
    with dg.DagsterInstance.ephemeral() as instance:
        _govern(instance, inc_res, ["day1.csv"])
        with inc_wh.get_connection() as conn:
            first_processed = conn.execute("SELECT max(processed_at) FROM main.event_outcomes").fetchone()[0]
        _write(events, "day2.csv", DAY2)
        _govern(instance, inc_res, ["day2.csv"])
        incremental = _snapshot(inc_wh)
        with inc_wh.get_connection() as conn:
            # day 1's rows were not processed again; the session continued on day 2 was rebuilt
            untouched = conn.execute(
                "SELECT count(*) FROM main.event_outcomes WHERE source_file LIKE '%day1.csv' AND processed_at = ?",
                [first_processed],
            ).fetchone()[0]
            assert untouched == len(DAY1)

        full_data, full_wh, full_res = make("full")
        point_at(full_data)
        for name in ("day1.csv", "day2.csv"):
            shutil.copy(events / name, full_data / "landing" / "events" / name)
        with dg.DagsterInstance.ephemeral() as fresh:
            _govern(fresh, full_res, ["day1.csv", "day2.csv"])
        assert incremental == _snapshot(full_wh)

        sessions = {r[0]: r for r in incremental["main.guarded_sessions"]}
        assert len(sessions) == 3  # u1 (across midnight, one session), u2, u4; u3 had no consent
        crossing = next(r for r in sessions.values() if r[4] == 3)
        assert (crossing[5], float(crossing[6])) == (1, 42.0)
        reasons = sorted(r[2] for r in incremental["main.event_dispositions"] if r[2])
        assert reasons == ["duplicate_event_id", "unparseable_timestamp"]

        # replacing day 1 (u2's event removed) rebuilds: equal to a fresh build of the new files
        point_at(inc_data)
        _write(events, "day1.csv", DAY1[:2] + DAY1[3:])
        _govern(instance, inc_res, ["day1.csv"])
        replaced = _snapshot(inc_wh)
    rebuilt_data, rebuilt_wh, rebuilt_res = make("rebuilt")
    point_at(rebuilt_data)
    for name in ("day1.csv", "day2.csv"):
        shutil.copy(events / name, rebuilt_data / "landing" / "events" / name)
    with dg.DagsterInstance.ephemeral() as fresh:
        _govern(fresh, rebuilt_res, ["day2.csv", "day1.csv"])  # the replaced day 1 was delivered last
    assert replaced == _snapshot(rebuilt_wh)
    assert len(replaced["main.guarded_sessions"]) == 2


def test_a_deleted_landing_file_keeps_its_rows_and_every_partition_rerun_reconciles(setup):
    """A landing folder with a retention policy deletes yesterday's file; "Materialize all → all
    partitions" re-runs its partition: the run succeeds and says the file is gone, the warehouse keeps
    its rows, governance changes nothing and the blocking reconciliation passes; restoring the file
    (same content) changes nothing either."""
    from gtm_assets.defs.governance.checks import raw_rows_reconcile
    from gtm_assets.defs.governance.dbt_models import gtm_dbt_models
    from gtm_assets.defs.ingest.raw_events import raw_events

    make, point_at = setup
    data, warehouse, res = make("retention")
    events = data / "landing" / "events"
    point_at(data)
    _write(events, "day1.csv", DAY1)
    _write(events, "day2.csv", DAY2)
    kept = (events / "day1.csv").read_bytes()
    with dg.DagsterInstance.ephemeral() as instance:
        _govern(instance, res, ["day1.csv", "day2.csv"])
        before = _snapshot(warehouse)
        (events / "day1.csv").unlink()
        runs = {name: dg.materialize([raw_events], partition_key=name, instance=instance, resources=res)
                for name in ("day1.csv", "day2.csv")}  # fmt: skip
        assert all(run.success for run in runs.values())
        gone = runs["day1.csv"]
        metadata = gone.get_asset_materialization_events()[0].materialization.metadata
        assert metadata["file_still_in_landing_folder"].value is False
        assert "kept" in metadata["message"].value and metadata["status"].value == "loaded"
        checks = dg.materialize(
            [gtm_dbt_models, raw_rows_reconcile], selection=dg.AssetSelection.groups("governance"),
            instance=instance, resources=res,
        )  # fmt: skip
        reconcile = next(e for e in checks.get_asset_check_evaluations() if e.check_name == "raw_rows_reconcile")
        assert reconcile.passed, reconcile.metadata
        assert reconcile.metadata["records"].value == len(DAY1) + len(DAY2)
        assert _snapshot(warehouse) == before

        (events / "day1.csv").write_bytes(kept)
        back = dg.materialize([raw_events], partition_key="day1.csv", instance=instance, resources=res)
        metadata = back.get_asset_materialization_events()[0].materialization.metadata
        assert metadata["file_still_in_landing_folder"].value is True
        assert metadata["unchanged_since_last_ingestion"].value is True
    assert _snapshot(warehouse) == before
