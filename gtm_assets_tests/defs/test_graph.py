"""The whole graph on simulated data, asserted against the simulator's ground truth."""

import csv
import gzip
import hashlib
import hmac
import json
import os
import random

import pyarrow.parquet as pq

from gtm_assets.cli.run import materialize_graph
from gtm_assets.defs.governance.checks import find_pii
from gtm_assets_tests.conftest import TEST_HMAC_KEY

GRAPH_TABLES = [
    "main.event_dispositions",
    "main.quarantined_events",
    "main.guarded_sessions",
    "main.features",
    "main.customer_features",
    "main.personas",
    "main.persona_summary",
    "main.persona_clusters",
    "main.persona_cluster_members",
    "main.creative_briefs",
    "main.mmm_model",
    "main.mmm_response_curves",
    "main.mmm_decomposition",
    "main.forecast",
    "main.allocations",
    "main.creative_library",
    "main.ad_sets",
    "main.audiences",
    "main.audience_members",
    "main.dsp_payload",
    "main.payload_outbox",
]


def test_every_step_and_check_succeeds(graph_run):
    assert graph_run.success
    evaluations = [e for r in graph_run.results for e in r.get_asset_check_evaluations()]
    assert len(evaluations) >= 15
    failed = [(e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed]
    assert failed == []


def test_reconciliation_equals_ground_truth(conn, truth):
    counts = truth["counts"]
    raw = conn.execute("SELECT count(*) FROM raw.raw_events").fetchone()[0]
    dispositions = dict(conn.execute("SELECT disposition, count(*) FROM main.event_dispositions GROUP BY 1").fetchall())
    by_reason = dict(conn.execute("SELECT quarantine_reason, count(*) FROM main.quarantined_events GROUP BY 1").fetchall())
    assert raw == counts["raw_rows"]
    assert dispositions["kept"] == counts["kept"]
    assert dispositions["dropped_for_consent"] == counts["dropped_for_consent"]
    assert dispositions["quarantined"] == counts["quarantined_total"]
    assert by_reason == {k: v for k, v in counts["quarantined"].items() if v}
    assert raw == dispositions["kept"] + dispositions["dropped_for_consent"] + dispositions["quarantined"]
    sessions, events, revenue = conn.execute(
        "SELECT count(*), sum(events), sum(revenue)::DOUBLE FROM main.guarded_sessions"
    ).fetchone()
    assert sessions == counts["kept_sessions"]
    assert events == counts["kept"]
    assert round(revenue, 2) == counts["kept_revenue"]
    per_file = dict(conn.execute("SELECT source_file, count(*) FROM raw.raw_events GROUP BY 1").fetchall())
    assert per_file == {f"landing/events/{name}": n for name, n in counts["raw_rows_per_file"].items()}


def test_reconciliation_check_metadata_has_the_figures(graph_run, truth):
    evaluation = next(
        e for r in graph_run.results for e in r.get_asset_check_evaluations() if e.check_name == "raw_rows_reconcile"
    )
    figures = {k: v.value for k, v in evaluation.metadata.items()}
    assert figures["raw_rows"] == truth["counts"]["raw_rows"]
    assert figures["unaccounted_rows"] == 0


def test_source_row_numbers_point_at_the_exact_line(conn, data_dir, truth):
    """For every file format, sampled raw rows carry the row number where their event_id really is."""
    rng = random.Random(3)
    for name in truth["files"]:
        path = data_dir / "landing" / "events" / name
        rows = conn.execute(
            "SELECT source_row_number, event_id, source_file_sha256 FROM raw.raw_events "
            "WHERE source_file = ? AND event_id IS NOT NULL",
            [f"landing/events/{name}"],
        ).fetchall()
        if name.endswith(".parquet"):
            in_file = pq.read_table(path, columns=["event_id"]).column("event_id").to_pylist()
        elif ".jsonl" in name:
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rt") as handle:
                in_file = [json.loads(line).get("event_id") for line in handle]
        else:
            with open(path, newline="") as handle:
                in_file = [row["event_id"] for row in csv.DictReader(handle)]
        assert len(in_file) == truth["counts"]["raw_rows_per_file"][name]
        for row_number, event_id, _sha in rng.sample(rows, 200):
            assert in_file[row_number - 1] == event_id, (name, row_number)
        assert rows[0][2] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_pii_is_keyed_hmac_equal_to_python(conn):
    """The SQL HMAC equals Python's hmac for sampled sessions (user id, lower-cased email, IP)."""
    sample = conn.execute(
        """
        SELECT r.user_pseudo_id, lower(trim(r.email)), r.ip_address, s.user_key, s.email_hash, s.ip_hash
        FROM main.guarded_sessions s
        JOIN main.session_raw_rows b ON b.session_lineage_id = s.lineage_id
        JOIN raw.raw_events r ON r.raw_row_id = b.raw_row_id
        WHERE r.event_name = 'session_start' AND r.email IS NOT NULL
        LIMIT 300
        """
    ).fetchall()
    assert len(sample) == 300
    key = TEST_HMAC_KEY.encode("utf-8")
    digest = lambda value: hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()  # noqa: E731
    for user, email, ip, user_key, email_hash, ip_hash in sample:
        assert user_key == digest(user)
        assert email_hash == digest(email)
        assert ip_hash == digest(ip)
        assert user_key != hashlib.sha256(user.encode()).hexdigest()  # keyed, not plain SHA-256


def test_no_pii_in_any_table_downstream_of_raw(conn, data_dir):
    for table in GRAPH_TABLES:
        assert find_pii(conn, table) == {}, table
    emails = [r[0] for r in conn.execute("SELECT DISTINCT email FROM raw.raw_events WHERE email IS NOT NULL LIMIT 50").fetchall()]
    for payload in (data_dir / "outbox").glob("*.json"):
        text = payload.read_text()
        assert "@" not in text
        assert not any(email in text for email in emails)


def test_secrets_never_reach_dbt_artifacts_or_metadata(graph_run):
    from gtm_assets import settings
    from gtm_assets.warehouse.resource import hmac_pads

    inner, outer = hmac_pads(TEST_HMAC_KEY.encode("utf-8"))
    secrets = [TEST_HMAC_KEY, inner.hex(), outer.hex()]
    scanned = 0
    for folder in (settings.DBT_PROJECT_DIR / "target", settings.DBT_PROJECT_DIR / "logs"):
        for path in folder.rglob("*") if folder.exists() else []:
            if path.is_file():
                text = path.read_bytes().decode("utf-8", errors="ignore")
                assert not any(secret in text for secret in secrets), path
                scanned += 1
    assert scanned > 0
    # compiled/ holds the model's SELECT (run/ of an incremental build holds only the delete+insert)
    compiled = [p for p in (settings.DBT_PROJECT_DIR / "target").rglob("guarded_sessions.sql") if "compiled" in p.parts]
    assert compiled and all("pii_hmac(" in p.read_text() for p in compiled)
    for result in graph_run.results:
        for event in result.all_events:
            assert not any(secret in str(event) for secret in secrets)


def test_session_lineage_bridge_reaches_raw_rows(conn):
    orphans = conn.execute(
        "SELECT count(*) FROM main.session_raw_rows b LEFT JOIN raw.raw_events r USING (raw_row_id) WHERE r.raw_row_id IS NULL"
    ).fetchone()[0]
    assert orphans == 0
    mismatched = conn.execute(
        """
        SELECT count(*) FROM main.guarded_sessions s
        JOIN (SELECT session_lineage_id, count(*) AS n FROM main.session_raw_rows GROUP BY 1) b
          ON b.session_lineage_id = s.lineage_id
        WHERE b.n <> s.events
        """
    ).fetchone()[0]
    assert mismatched == 0


def test_second_run_is_idempotent(graph_run, instance, conn):
    # The payload tables keep every payload (keyed by payload id), and which campaigns are funded (so which
    # creatives and ad sets exist) moves with the re-optimised budget: compare the tables that are replaced.
    varying = {"main.dsp_payload", "main.payload_outbox", "main.creative_library", "main.ad_sets"}
    tables = ["raw.raw_events", "raw.raw_media_spend", "raw.raw_customers"] + [t for t in GRAPH_TABLES if t not in varying]
    before = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    conn.close()
    again = materialize_graph(instance)
    assert again.success
    from gtm_assets.warehouse.resource import DuckDBWarehouse

    with DuckDBWarehouse(database=os.environ["GTM_DUCKDB_PATH"]).get_connection() as fresh:
        after = {t: fresh.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        history_runs = fresh.execute("SELECT count(DISTINCT run_id) FROM main.allocation_history").fetchone()[0]
    assert after == before
    assert history_runs == 2


def test_raw_events_reports_the_tables_rows_and_each_files_rows_by_name(graph_run, truth):
    """The UI's "Row count" of raw_events (the latest partition's) is the raw zone's events of all files;
    the file's own rows sit beside it, named."""
    events = _materializations(graph_run, "raw_events")
    assert len(events) >= 2
    last = events[-1].metadata
    per_file = sum(e.metadata["rows_in_this_file_partition"].value for e in events)
    assert per_file == last["rows_in_raw.raw_events_all_files"].value == truth["counts"]["raw_rows"]
    assert last["dagster/row_count"].value == per_file > last["rows_in_this_file_partition"].value


def _materializations(graph_run, asset: str) -> list:
    return [e.materialization for r in graph_run.results for e in r.get_asset_materialization_events()
            if e.asset_key.to_user_string() == asset]  # fmt: skip


def _materialization(graph_run, asset: str):
    return _materializations(graph_run, asset)[-1]


def test_the_ui_shows_each_dbt_columns_description_and_where_it_comes_from(graph_run):
    """The column schema of a built dbt model carries the schema file's descriptions, and its column
    lineage reaches the raw columns through the staging views."""
    import yaml

    from gtm_assets.settings import DBT_PROJECT_DIR

    documented = {
        column["name"]: column["description"]
        for model in yaml.safe_load((DBT_PROJECT_DIR / "models" / "governance" / "schema.yml").read_text())["models"]
        if model["name"] == "guarded_sessions"
        for column in model.get("columns", [])
        if column.get("description")
    }
    metadata = _materialization(graph_run, "guarded_sessions").metadata
    shown = {column.name: column.description for column in metadata["dagster/column_schema"].value.columns}
    assert len(documented) >= 10 and {name: shown.get(name) for name in documented} == documented
    # the UI's column lineage, followed model by model from the HMAC'd user key back to the raw column
    frontier, reached = {("guarded_sessions", "user_key")}, set()
    while frontier:
        asset, column = frontier.pop()
        reached.add((asset, column))
        lineage = _materialization(graph_run, asset).metadata.get("dagster/column_lineage")
        if lineage is not None:
            deps = lineage.value.deps_by_column.get(column, [])
            frontier |= {(d.asset_key.to_user_string(), d.column_name) for d in deps} - reached
    assert {("stg_events", "user_pseudo_id"), ("raw_events", "user_pseudo_id")} <= reached, reached


def test_the_ui_describes_every_column_of_the_python_built_tables(graph_run, conn):
    """The column schema of the tables the Python assets build carries a description for every column, and the
    documented names are exactly the table's columns (a column added or renamed without one fails here)."""
    from gtm_assets.defs.activation.allocations import COLUMN_DESCRIPTIONS as ALLOCATIONS
    from gtm_assets.defs.activation.audiences import COLUMN_DESCRIPTIONS as AUDIENCES
    from gtm_assets.defs.activation.creative_library import COLUMN_DESCRIPTIONS as CREATIVE_LIBRARY
    from gtm_assets.defs.activation.dsp_payload import COLUMN_DESCRIPTIONS as DSP_PAYLOAD
    from gtm_assets.defs.forecast.forecast import COLUMN_DESCRIPTIONS as FORECAST
    from gtm_assets.defs.measurement.attribution import COLUMN_DESCRIPTIONS as ATTRIBUTION
    from gtm_assets.defs.measurement.mmm_model import COLUMN_DESCRIPTIONS as MMM_MODEL

    described = {
        "allocations": ALLOCATIONS,
        "mmm_model": MMM_MODEL,
        "forecast": FORECAST,
        "creative_library": CREATIVE_LIBRARY,
        "audiences": AUDIENCES,
        "dsp_payload": DSP_PAYLOAD,
        "attribution": ATTRIBUTION,
    }
    for asset, documented in described.items():
        columns = {name for name, *_ in conn.execute(f"DESCRIBE main.{asset}").fetchall()}
        schema = _materialization(graph_run, asset).metadata["dagster/column_schema"].value
        shown = {column.name: column.description for column in schema.columns}
        assert [name for name, text in shown.items() if not (text or "").strip()] == [], asset
        assert set(shown) == set(documented) == columns, asset
        assert shown == documented, asset
