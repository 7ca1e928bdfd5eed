"""The governance dbt models on Apache Spark (dbt-spark, local session) give the same rows as on
DuckDB, and both give the simulator's truth. Needs the `spark` extra and Java: `pytest -m spark`."""

import hashlib
import hmac
import json
import os
import subprocess
import sys

import duckdb
import pytest

from gtm_assets_tests.conftest import TEST_HMAC_KEY
from gtm_assets_tests.test_ga4_export import ingest_and_govern

pytestmark = pytest.mark.spark

# Every column but processed_at (when the row was built), in a form both engines' files agree on:
# timestamps as UTC text, doubles (sums whose order differs between engines) to 6 decimals.
OUTCOME_COLUMNS = "source_file, source_row_number, layout, disposition, quarantine_reason, quarantine_column, session_lineage_id"


def _canonical_rows(conn, relation: str) -> str:
    described = conn.execute(f"DESCRIBE SELECT * EXCLUDE (processed_at) FROM {relation}").fetchall()
    parts = []
    for name, kind, *_ in described:
        if kind.startswith("TIMESTAMP"):
            value = f"strftime({name}::TIMESTAMP, '%Y-%m-%d %H:%M:%S.%f')"
        elif kind in ("DOUBLE", "FLOAT"):
            value = f"round({name}, 6)::VARCHAR"
        else:
            value = f"{name}::VARCHAR"
        parts.append(f"coalesce({value}, '<null>')")
    return f"SELECT concat_ws('|', {', '.join(parts)}) AS line FROM {relation}"


def _fingerprint(conn, relation: str) -> tuple[int, str]:
    return conn.execute(f"SELECT count(*), md5(string_agg(line, chr(10) ORDER BY line)) FROM ({_canonical_rows(conn, relation)})").fetchone()


def _outcomes(conn, relation: str) -> list:
    return conn.execute(f"SELECT source_file, disposition, coalesce(quarantine_reason, ''), count(*) FROM {relation} "
                        "GROUP BY ALL ORDER BY ALL").fetchall()


@pytest.mark.parametrize("layout", ["flat", "ga4-parquet"])
def test_governance_on_spark_equals_duckdb_and_the_truth(tmp_path, monkeypatch, layout):
    from gtm_assets.spark_engine import dbt_on_spark, export_raw_zone, spark_table_files

    out = tmp_path / "world"
    command = [sys.executable, "-m", "gtm_assets.simulate", "--out", str(out), "--events", "6000", "--days", "40",
               "--seed", "5", "--format", layout, "--formats", "csv,parquet"]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    truth = json.loads((out / "ground_truth.json").read_text())["counts"]
    names = sorted(p.name for p in (out / "landing" / "events").iterdir())
    warehouse = ingest_and_govern(out, monkeypatch, names)  # DuckDB, with the raw_rows_reconcile check

    spark_dir = tmp_path / "spark"
    with warehouse.get_connection() as conn:
        exported = export_raw_zone(conn, spark_dir / "raw")
        duck_outcomes = _outcomes(conn, "main.event_outcomes")
        duck_sessions = _fingerprint(conn, "main.guarded_sessions")
        duck_rows = _fingerprint(conn, f"(SELECT {OUTCOME_COLUMNS}, processed_at FROM main.event_outcomes)")
        user, session_key, user_key, lineage = conn.execute(
            "SELECT e.user_pseudo_id, e.session_natural_key, g.user_key, g.lineage_id FROM main.guarded_sessions g "
            "JOIN main.stg_events e ON g.lineage_id = lineage_id('session', e.session_natural_key) LIMIT 1").fetchone()
        loaded = conn.execute("SELECT sum(rows_loaded) FROM raw.landing_files WHERE status = 'loaded'").fetchone()[0]
    assert exported["raw_events"] + exported["raw_ga4_events"] == loaded > 5000

    built = dbt_on_spark(["build", "--select", "governance"], spark_dir)
    assert built.returncode == 0, built.stdout[-4000:]

    files = duckdb.connect()
    files.execute("SET TimeZone = 'UTC'")
    spark_outcomes = f"read_parquet('{spark_table_files(spark_dir, 'event_outcomes')}')"
    spark_sessions = f"read_parquet('{spark_table_files(spark_dir, 'guarded_sessions')}')"
    assert _outcomes(files, spark_outcomes) == duck_outcomes
    assert _fingerprint(files, spark_sessions) == duck_sessions
    assert _fingerprint(files, f"(SELECT {OUTCOME_COLUMNS}, processed_at FROM {spark_outcomes})") == duck_rows

    # the truth the simulator wrote, not either engine's output
    sessions, events, revenue = files.execute(
        f"SELECT count(*), sum(events), sum(revenue)::DOUBLE FROM {spark_sessions}").fetchone()
    assert (sessions, events, round(revenue, 2)) == (truth["kept_sessions"], truth["kept"], truth["kept_revenue"])
    # Spark's written-out HMAC is RFC 2104 HMAC-SHA256, as Python's hmac computes it
    key = TEST_HMAC_KEY.encode()
    expected_user_key = hmac.new(key, user.encode(), hashlib.sha256).hexdigest()
    expected_lineage = hmac.new(key, f"lineage|session|{session_key}".encode(), hashlib.sha256).hexdigest()[:32]
    assert (user_key, lineage) == (expected_user_key, expected_lineage)
    assert files.execute(f"SELECT user_key FROM {spark_sessions} WHERE lineage_id = ?", [lineage]).fetchone()[0] == expected_user_key
    # the key and its pads are in no compiled SQL or log dbt wrote for Spark
    pads = [bytes(b ^ x for b in key.ljust(64, b"\0")).hex() for x in (0x36, 0x5C)]
    for path in list((spark_dir / "dbt_target").rglob("*")) + list((spark_dir / "dbt_logs").rglob("*")):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert TEST_HMAC_KEY not in text and not any(p in text for p in pads), path
