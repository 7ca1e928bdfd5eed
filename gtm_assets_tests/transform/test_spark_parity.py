"""The governance dbt models on Apache Spark (dbt-spark, local session) give the same rows as on
DuckDB, and both give the simulator's truth. Needs the `spark` extra and Java: `pytest -m spark`."""

import hashlib
import hmac
import json
import shutil

import duckdb
import pytest

from gtm_assets_tests.conftest import REPO, TEST_HMAC_KEY
from gtm_assets_tests.landing.test_ga4_export import ingest_and_govern
from gtm_assets_tests.simulate.simulated_worlds import simulate_world

pytestmark = pytest.mark.spark

OUTCOME_COLUMNS = "source_file, source_row_number, layout, disposition, quarantine_reason, quarantine_column, session_lineage_id"


DOWNSTREAM_MODELS = ("features", "touchpoints", "customer_features")


def _build_downstream_models(warehouse) -> None:
    """The media spend and customer files and the dbt models built from them and the guarded
    sessions, on DuckDB."""
    import dagster as dg

    from gtm_assets.defs.governance.dbt_models import gtm_dbt_models
    from gtm_assets.defs.ingest.raw_customers import raw_customers
    from gtm_assets.defs.ingest.raw_media_spend import raw_media_spend
    from gtm_assets.defs.resources import resources

    res = {**resources().resources, "warehouse": warehouse}
    assert dg.materialize([raw_media_spend, raw_customers], resources=res).success
    selection = dg.AssetSelection.assets(*DOWNSTREAM_MODELS)
    assert dg.materialize([gtm_dbt_models], resources=res, selection=selection).success


def _outcomes(conn, relation: str) -> list:
    return conn.execute(
        f"SELECT source_file, disposition, coalesce(quarantine_reason, ''), count(*) FROM {relation} GROUP BY ALL ORDER BY ALL"
    ).fetchall()


@pytest.mark.parametrize("layout", ["flat", "ga4-parquet"])
def test_governance_on_spark_equals_duckdb_and_the_truth(tmp_path, monkeypatch, layout):
    from gtm_assets.transform.spark_engine import dbt_on_spark, export_raw_zone, parity_fingerprint, spark_table_files

    out = tmp_path / "world"
    simulate_world(out, layout=layout, extra=("--formats", "csv,parquet"))
    shutil.copy(REPO / "data" / "marketing_campaign.csv", out / "marketing_campaign.csv")  # the real customer file
    truth = json.loads((out / "ground_truth.json").read_text())["counts"]
    names = sorted(p.name for p in (out / "landing" / "events").iterdir())
    warehouse = ingest_and_govern(out, monkeypatch, names)  # DuckDB, with the raw_rows_reconcile check
    _build_downstream_models(warehouse)

    spark_dir = tmp_path / "spark"
    with warehouse.get_connection() as conn:
        exported = export_raw_zone(conn, spark_dir / "raw")
        duck_downstream = {m: parity_fingerprint(conn, f"main.{m}") for m in DOWNSTREAM_MODELS}
        duck_outcomes = _outcomes(conn, "main.event_outcomes")
        duck_sessions = parity_fingerprint(conn, "main.guarded_sessions")
        duck_rows = parity_fingerprint(conn, f"(SELECT {OUTCOME_COLUMNS}, processed_at FROM main.event_outcomes)")
        user, session_key, user_key, lineage = conn.execute(
            "SELECT e.user_pseudo_id, e.session_natural_key, g.user_key, g.lineage_id FROM main.guarded_sessions g "
            "JOIN staging.stg_events e ON g.lineage_id = lineage_id('session', e.session_natural_key) LIMIT 1"
        ).fetchone()
        loaded = conn.execute("SELECT sum(rows_loaded) FROM raw.landing_files WHERE status = 'loaded'").fetchone()[0]
    assert exported["raw_events"] + exported["raw_ga4_events"] == loaded > 5000

    built = dbt_on_spark(["build", "--select", "governance", *DOWNSTREAM_MODELS], spark_dir)
    assert built.returncode == 0, built.stdout[-4000:]

    files = duckdb.connect()
    spark_outcomes = f"read_parquet('{spark_table_files(spark_dir, 'event_outcomes')}')"
    spark_sessions = f"read_parquet('{spark_table_files(spark_dir, 'guarded_sessions')}')"
    assert _outcomes(files, spark_outcomes) == duck_outcomes
    assert parity_fingerprint(files, spark_sessions) == duck_sessions
    # the models downstream too: per-user features, attribution's touchpoints, the customer features
    for model in DOWNSTREAM_MODELS:
        spark_rows = parity_fingerprint(files, f"read_parquet('{spark_table_files(spark_dir, model)}')")
        assert spark_rows == duck_downstream[model] and spark_rows[0] > 100, model
    assert parity_fingerprint(files, f"(SELECT {OUTCOME_COLUMNS}, processed_at FROM {spark_outcomes})") == duck_rows

    # the truth the simulator wrote, not either engine's output
    sessions, events, revenue = files.execute(
        f"SELECT count(*), sum(events), sum(revenue)::DOUBLE FROM {spark_sessions}"
    ).fetchone()
    assert (sessions, events, round(revenue, 2)) == (truth["kept_sessions"], truth["kept"], truth["kept_revenue"])
    # Spark's written-out HMAC is RFC 2104 HMAC-SHA256, as Python's hmac computes it
    key = TEST_HMAC_KEY.encode()
    expected_user_key = hmac.new(key, user.encode(), hashlib.sha256).hexdigest()
    expected_lineage = hmac.new(key, f"lineage|session|{session_key}".encode(), hashlib.sha256).hexdigest()[:32]
    assert (user_key, lineage) == (expected_user_key, expected_lineage)
    assert (
        files.execute(f"SELECT user_key FROM {spark_sessions} WHERE lineage_id = ?", [lineage]).fetchone()[0] == expected_user_key
    )
    # the key and its pads are in no compiled SQL or log dbt wrote for Spark
    pads = [bytes(b ^ x for b in key.ljust(64, b"\0")).hex() for x in (0x36, 0x5C)]
    for path in list((spark_dir / "dbt_target").rglob("*")) + list((spark_dir / "dbt_logs").rglob("*")):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert TEST_HMAC_KEY not in text and not any(p in text for p in pads), path
