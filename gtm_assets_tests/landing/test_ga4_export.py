"""GA4 BigQuery export files, as exported, through ingestion and governance.

Fixtures: (1) events written by hand in the published export schema (every column of BigQuery's
field list, nested as exported) as Parquet, newline-delimited JSON with INT64 as strings (gzip) and a
pretty-printed JSON array, each built to exercise one rule with a known answer; (2) the simulator's
GA4 writer, whose truth is the simulator's own counts."""

import gzip
import json

import dagster as dg
import duckdb
import pytest

from gtm_assets.landing.ga4_schema import GA4_COLUMN_TYPES, GA4_COLUMNS
from gtm_assets.warehouse.resource import DuckDBWarehouse
from gtm_assets_tests.simulate.simulated_worlds import simulate_world

STREAM = "4242424242"
DAY1 = 1_704_153_600_000_000  # 2024-01-02 00:00:00 UTC in microseconds


def param(key, string=None, integer=None, double=None):
    return {"key": key, "value": {"string_value": string, "int_value": integer, "float_value": None, "double_value": double}}


def event(
    name,
    ts,
    user,
    session,
    *params,
    analytics="Yes",
    ads="Yes",
    device="mobile",
    country="Germany",
    revenue=None,
    transaction=None,
    items=(),
    first_touch=("google", "organic", "(organic)"),
    **extra,
):
    """One export row; ``session`` None leaves out ga_session_id, an int goes into int_value, a str
    into string_value (newer exports)."""
    event_params = list(params)
    if session is not None:
        event_params.insert(
            0, param("ga_session_id", integer=session) if isinstance(session, int) else param("ga_session_id", string=session)
        )
    row = {
        "event_date": "20240102",
        "event_timestamp": ts,
        "event_name": name,
        "event_params": event_params,
        "user_pseudo_id": user,
        "stream_id": STREAM,
        "platform": "WEB",
        "privacy_info": {"analytics_storage": analytics, "ads_storage": ads, "uses_transient_token": "No"},
        "device": {"category": device},
        "geo": {"country": country},
        "traffic_source": dict(zip(("source", "medium", "name"), first_touch)),
        "ecommerce": (
            {"purchase_revenue": revenue, "purchase_revenue_in_usd": revenue, "transaction_id": transaction}
            if revenue is not None
            else None
        ),
        "items": [dict(item) for item in items],
    }
    row.update(extra)
    return row


def daily_file_events():
    """events_20240102: the main day (expected outcome per row in the comments)."""
    s = 1_704_153_600
    return [
        # u1 session A: session_start carries a source, later page_view carries cpc: cpc wins
        event("session_start", DAY1 + 1, "u1", s, param("source", string="newsletter"), param("medium", string="email")),
        event(
            "page_view",
            DAY1 + 2,
            "u1",
            s,
            param("page_location", string="https://shop.example/?utm_source=google"),
            param("source", string="google"),
            param("medium", string="cpc"),
            param("campaign", string="brand"),
            param("term", string="shoes"),
        ),
        event(
            "purchase",
            DAY1 + 3,
            "u1",
            s,
            param("page_location", string="https://shop.example/thanks"),
            revenue=120.5,
            transaction="T1",
            items=[{"item_id": "SKU1", "item_name": "Shoe", "price": 60.25, "quantity": 2, "item_revenue": 120.5}],
        ),
        # u2: the same ga_session_id as u1: a different session (client is part of the key)
        event(
            "page_view",
            DAY1 + 4,
            "u2",
            s,
            param("page_location", string="https://shop.example/?gclid=abc"),
            device="(not set)",
            country="(data deleted)",
        ),
        # consent denied: consent mode writes no user_pseudo_id -> dropped for consent, no key
        event("page_view", DAY1 + 5, None, s, analytics="No", ads="No"),
        event("page_view", DAY1 + 6, None, s + 7, analytics="No", ads="No"),
        # analytics consent unknown (mode not in use) but no user_pseudo_id -> quarantined, never a session
        event("page_view", DAY1 + 7, None, s, analytics=None, ads=None),
        event("page_view", DAY1 + 8, None, s, analytics=None, ads=None),
        # no ga_session_id -> quarantined, counted
        event("page_view", DAY1 + 9, "u3", None),
        # u4: consent mode not in use (NULL): kept; ads only on 'Yes' -> no ads consent; placeholders pass
        event(
            "page_view",
            DAY1 + 10,
            "u4",
            str(s + 60),
            param("page_location", string="https://shop.example/"),
            param("source", string="<Other>"),
            param("medium", string="(not set)"),
            analytics=None,
            ads=None,
            device="<obfuscated>",
            country="<Other>",
        ),
        # u5: session crossing midnight, continued in the next daily file; ga_session_id as string
        event(
            "session_start",
            DAY1 + 86_399_000_000,
            "u5",
            str(s + 86_000),
            param("source", string="bing"),
            param("medium", string="cpc"),
        ),
    ]


def next_day_events():
    s = 1_704_153_600
    return [
        event("page_view", DAY1 + 86_400_500_000, "u5", s + 86_000, param("page_location", string="https://shop.example/p")),
        event(
            "purchase",
            DAY1 + 86_401_000_000,
            "u5",
            s + 86_000,
            revenue=30.0,
            transaction="T2",
            items=[{"item_id": "SKU2", "price": 10.0, "quantity": 3, "item_revenue": 30.0}],
        ),
    ]


def write_parquet(rows, path):
    """Rows in the full export schema, written by DuckDB as nested Parquet (what bq extract gives)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t (" + ", ".join(f'"{c}" {GA4_COLUMN_TYPES[c]}' for c in GA4_COLUMNS) + ")")
    json_path = path.with_suffix(".tmp.jsonl")
    json_path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    columns = "{" + ", ".join(f"'{c}': '{GA4_COLUMN_TYPES[c]}'" for c in GA4_COLUMNS) + "}"
    con.execute(f"INSERT INTO t SELECT * FROM read_json('{json_path}', format = 'newline_delimited', columns = {columns})")
    con.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    json_path.unlink()


def write_export_days(folder, days: list[str]) -> list[str]:
    """The main day's export rows re-dated to each of ``days`` (YYYY-MM-DD), session ids with them, one
    daily export file per day as BigQuery names them (events_YYYYMMDD.parquet); returns the file names."""
    from datetime import date

    def redated(row: dict, seconds: int) -> dict:
        params = [
            param("ga_session_id", integer=int(p["value"]["int_value"] or p["value"]["string_value"]) + seconds)
            if p["key"] == "ga_session_id" else p
            for p in row["event_params"]
        ]  # fmt: skip
        return {**row, "event_date": day.replace("-", ""), "event_timestamp": row["event_timestamp"] + seconds * 10**6,
                "event_params": params}  # fmt: skip

    names = []
    for day in days:
        rows = [redated(row, (date.fromisoformat(day) - date(2024, 1, 2)).days * 86_400) for row in daily_file_events()]
        names.append(f"events_{day.replace('-', '')}.parquet")
        write_parquet(rows, folder / names[-1])
    return names


def int64_as_text(value):
    """BigQuery's JSON export writes INT64 as strings."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return [int64_as_text(v) for v in value]
    if isinstance(value, dict):
        return {k: int64_as_text(v) for k, v in value.items()}
    return value


def ingest_and_govern(tmp_path, monkeypatch, files):
    from gtm_assets.defs.governance.checks import raw_rows_reconcile
    from gtm_assets.defs.governance.dbt_models import gtm_dbt_models
    from gtm_assets.defs.ingest.raw_events import landing_event_files, raw_events
    from gtm_assets.defs.resources import resources

    monkeypatch.setenv("GTM_DATA_DIR", str(tmp_path))
    database = str(tmp_path / "ga4.duckdb")
    monkeypatch.setenv("GTM_DUCKDB_PATH", database)
    res = {**resources().resources, "warehouse": DuckDBWarehouse(database=database)}
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(landing_event_files.name, files)
        for name in files:
            assert dg.materialize([raw_events], partition_key=name, instance=instance, resources=res).success
        result = dg.materialize(
            [gtm_dbt_models, raw_rows_reconcile],
            instance=instance,
            resources=res,
            selection=dg.AssetSelection.groups("governance"),
        )
    assert result.success
    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "raw_rows_reconcile")
    assert check.passed, check.metadata
    return DuckDBWarehouse(database=database)


def test_export_schema_fixture_through_governance(tmp_path, monkeypatch):
    events = tmp_path / "landing" / "events"
    events.mkdir(parents=True)
    day1, day2 = daily_file_events(), next_day_events()
    write_parquet(day1, events / "events_20240102.parquet")
    with gzip.open(events / "events_20240103.json.gz", "wt") as handle:  # NDJSON, INT64 as strings
        handle.writelines(json.dumps(int64_as_text(r)) + "\n" for r in day2)
    # the intraday export of day 2 overlaps the daily one: the same two events again, as a JSON array
    (events / "events_intraday_20240103.json").write_text(json.dumps([int64_as_text(r) for r in day2], indent=2))
    warehouse = ingest_and_govern(
        tmp_path, monkeypatch, ["events_20240102.parquet", "events_20240103.json.gz", "events_intraday_20240103.json"]
    )
    with warehouse.get_connection() as conn:
        outcomes = dict(
            conn.execute(
                "SELECT coalesce(quarantine_reason, disposition), count(*) FROM main.event_dispositions GROUP BY 1"
            ).fetchall()
        )
        assert outcomes == {"kept": 8, "dropped_for_consent": 2, "missing_id": 2, "missing_session_id": 1, "duplicate_event": 2}
        sessions = {
            r[0]: r[1:]
            for r in conn.execute(
                """SELECT session_id, events, purchases, revenue, utm_source, utm_medium, utm_campaign, utm_term,
                      device, country, consent_ads, first_touch_source, transactions, session_start
               FROM main.guarded_sessions"""
            ).fetchall()
        }
        s = 1_704_153_600
        # u1, u2 (the same ga_session_id as u1: another session), u4, u5 (across midnight)
        assert conn.execute("SELECT count(*) FROM main.guarded_sessions").fetchone()[0] == 4
        u4, u5 = sessions[str(s + 60)], sessions[str(s + 86_000)]
        assert conn.execute("SELECT count(*) FROM main.guarded_sessions WHERE session_id = ?", [str(s)]).fetchone()[0] == 2
        u1 = next(
            r[1:]
            for r in conn.execute(
                """SELECT session_id, events, purchases, revenue, utm_source, utm_medium, utm_campaign, utm_term,
                      device, country, consent_ads, first_touch_source, transactions, session_start
               FROM main.guarded_sessions WHERE events = 3 AND session_id = ?""",
                [str(s)],
            ).fetchall()
        )
        assert u1[:9] == (3, 1, 120.5, "google", "cpc", "brand", "shoes", "mobile", "Germany")
        u2 = conn.execute(
            "SELECT utm_source, utm_medium, device, country FROM main.guarded_sessions WHERE session_id = ? AND events = 1",
            [str(s)],
        ).fetchone()
        assert u2 == ("google", "cpc", "(not set)", "(data deleted)")  # gclid without a source; placeholders
        assert u4[3:5] == ("<Other>", "(not set)") and u4[7:9] == ("<obfuscated>", "<Other>")
        assert u4[9] is False and u1[9] is True  # ads consent only on 'Yes'
        assert u5[:4] == (3, 1, 30.0, "bing") and str(u5[-1]).startswith("2024-01-02 23:59")
        assert u1[10] == "google"  # traffic_source kept as first touch
        assert conn.execute("SELECT sum(revenue), sum(events) FROM main.guarded_sessions").fetchone() == (150.5, 8)
        items = conn.execute(
            "SELECT transaction_id, item_id, quantity, item_revenue FROM main.ga4_event_items ORDER BY 1"
        ).fetchall()
        assert items == [("T1", "SKU1", 2, 120.5), ("T2", "SKU2", 3, 30.0)]
        # the null user_pseudo_id rows never formed a key: nothing of them reached a session
        assert (
            conn.execute(
                "SELECT count(*) FROM main.event_dispositions WHERE source_row_number IN (5, 6, 7, 8) "
                "AND source_file LIKE '%20240102%' AND session_lineage_id IS NOT NULL"
            ).fetchone()[0]
            == 0
        )
        bridge = conn.execute("SELECT count(*), count(DISTINCT source_file_sha256) FROM main.session_raw_rows").fetchone()
        assert bridge == (8, 2)


def test_param_values_are_read_by_key_whatever_the_slot(tmp_path):
    """ga_session_id in int_value, string_value, double_value; page_location in string_value."""
    from gtm_assets.landing import ingest_event_file

    events = tmp_path / "events"
    events.mkdir()
    rows = [
        event("page_view", DAY1, "u", 11),
        event("page_view", DAY1 + 1, "u", "11"),
        event(
            "page_view",
            DAY1 + 2,
            "u",
            None,
            {
                "key": "ga_session_id",
                "value": {"string_value": None, "int_value": None, "float_value": None, "double_value": 11.0},
            },
        ),
    ]
    write_parquet(rows, events / "slots.parquet")
    con = duckdb.connect()
    assert ingest_event_file(con, events, "slots.parquet").rows == 3
    from gtm_assets.warehouse.resource import prepare_connection

    prepare_connection(con)
    got = con.execute("""
        SELECT coalesce(v.int_value, try_cast(v.string_value AS BIGINT), try_cast(v.double_value AS BIGINT))
        FROM (SELECT list_filter(event_params, lambda p: p.key = 'ga_session_id')[1].value AS v FROM raw.raw_ga4_events)
    """).fetchall()
    assert got == [(11,), (11,), (11,)]


@pytest.mark.parametrize("layout", ["ga4-parquet", "ga4-json"])
def test_simulated_ga4_export_matches_the_simulators_truth(tmp_path, monkeypatch, layout):
    out = tmp_path / "world"
    simulate_world(out, layout=layout)
    truth = json.loads((out / "ga4_export_truth.json").read_text())
    flat = json.loads((out / "ground_truth.json").read_text())["counts"]
    names = sorted(p.name for p in (out / "landing" / "events").iterdir())
    assert names == sorted(truth["files"])
    warehouse = ingest_and_govern(out, monkeypatch, names)
    with warehouse.get_connection() as conn:
        sessions, events, revenue = conn.execute(
            "SELECT count(*), sum(events), sum(revenue)::DOUBLE FROM main.guarded_sessions"
        ).fetchone()
        outcomes = dict(
            conn.execute(
                "SELECT coalesce(quarantine_reason, disposition), count(*) FROM main.event_dispositions GROUP BY 1"
            ).fetchall()
        )
        raw = conn.execute("SELECT count(*) FROM raw.raw_ga4_events").fetchone()[0]
    assert (sessions, events, round(revenue, 2)) == (flat["kept_sessions"], flat["kept"], flat["kept_revenue"])
    assert outcomes == {
        "kept": flat["kept"],
        "dropped_for_consent": flat["dropped_for_consent"],
        "duplicate_event": flat["quarantined"]["duplicate_event_id"],
    }
    assert raw == truth["raw_rows"]
