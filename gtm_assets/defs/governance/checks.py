"""Blocking governance checks: downstream assets never run on data that fails them."""

import dagster as dg

from gtm_assets.audit.pii_patterns import PII_PATTERNS
from gtm_assets.defs.resources import DUCKDB_POOL
from gtm_assets.warehouse.resource import DuckDBWarehouse

PER_FILE_RECONCILIATION = """
WITH files AS (
    SELECT source_file, sha256, rows_loaded, lines_rejected FROM raw.landing_files WHERE status = 'loaded'
),
raw_rows AS (
    SELECT source_file, count(*) AS n, count(DISTINCT source_row_number) AS distinct_rows,
           min(source_row_number) AS first_row, max(source_row_number) AS last_row
    FROM (SELECT source_file, source_row_number FROM raw.raw_events
          UNION ALL SELECT source_file, source_row_number FROM raw.raw_ga4_events)
    GROUP BY source_file
),
rejected AS (
    SELECT source_file, count(*) AS n, count(DISTINCT source_row_number) AS distinct_rows,
           max(source_row_number) AS last_row
    FROM raw.rejected_lines GROUP BY source_file
),
outcomes AS (
    SELECT source_file,
           count(*) FILTER (WHERE disposition = 'kept') AS kept,
           count(*) FILTER (WHERE disposition = 'dropped_for_consent') AS dropped,
           count(*) FILTER (WHERE disposition = 'quarantined') AS quarantined
    FROM main.event_dispositions GROUP BY source_file
)
SELECT f.source_file,
       coalesce(r.n, 0) + coalesce(j.n, 0) AS records,
       coalesce(o.kept, 0) AS kept, coalesce(o.dropped, 0) AS dropped_for_consent,
       coalesce(o.quarantined, 0) AS quarantined, coalesce(j.n, 0) AS rejected_lines,
       -- loaded and rejected row numbers are 1..records, each exactly once
       coalesce(r.n, 0) = coalesce(r.distinct_rows, 0) AND coalesce(j.n, 0) = coalesce(j.distinct_rows, 0)
           AND greatest(coalesce(r.last_row, 0), coalesce(j.last_row, 0)) = coalesce(r.n, 0) + coalesce(j.n, 0)
           AND coalesce(r.first_row, 1) >= 1 AS rows_numbered_exactly,
       f.rows_loaded = coalesce(r.n, 0) AND f.lines_rejected = coalesce(j.n, 0) AS matches_ingestion_record
FROM files f
LEFT JOIN raw_rows r USING (source_file)
LEFT JOIN rejected j USING (source_file)
LEFT JOIN outcomes o USING (source_file)
ORDER BY f.source_file
"""


@dg.asset_check(asset="guarded_sessions", blocking=True, pool=DUCKDB_POOL)
def raw_rows_reconcile(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    """Every line of every loaded landing file is accounted for exactly once, per file: records =
    kept + dropped for consent + quarantined + rejected lines, loaded and rejected row numbers cover
    1..records without gaps or repeats, and the kept rows are exactly the rows bridged to guarded
    sessions and counted in them. Duplicate deliveries and unreadable files are listed."""
    with warehouse.get_connection() as conn:
        per_file = conn.execute(PER_FILE_RECONCILIATION).fetchall()
        bridged, session_events, orphan_rows = conn.execute(
            """
            SELECT (SELECT count(*) FROM main.session_raw_rows),
                   (SELECT coalesce(sum(events), 0) FROM main.guarded_sessions),
                   (SELECT count(*) FROM main.event_dispositions d
                    ANTI JOIN (SELECT source_file, source_row_number FROM raw.raw_events
                               UNION ALL SELECT source_file, source_row_number FROM raw.raw_ga4_events) r
                    USING (source_file, source_row_number))
            """
        ).fetchall()[0]
        by_reason = dict(
            conn.execute("SELECT quarantine_reason, count(*) FROM main.quarantined_events GROUP BY 1 ORDER BY 1").fetchall()
        )
        duplicates = dict(
            conn.execute(
                "SELECT source_file, duplicate_of FROM raw.landing_files WHERE status = 'duplicate' ORDER BY 1"
            ).fetchall()
        )
        failed = dict(
            conn.execute("SELECT source_file, message FROM raw.landing_files WHERE status = 'failed' ORDER BY 1").fetchall()
        )
    unbalanced = [row[0] for row in per_file if row[1] != row[2] + row[3] + row[4] + row[5] or not row[6] or not row[7]]
    totals = [sum(row[i] for row in per_file) for i in range(1, 6)]
    records, kept, dropped, quarantined, rejected = totals
    passed = not unbalanced and kept == bridged == session_events and orphan_rows == 0
    return dg.AssetCheckResult(
        passed=bool(passed),
        metadata={
            "records": int(records),
            "raw_rows": int(records - rejected),
            "kept_rows": int(kept),
            "dropped_for_consent": int(dropped),
            "quarantined": int(quarantined),
            "rejected_lines": int(rejected),
            "quarantined_by_reason": dg.MetadataValue.json({k: int(v) for k, v in by_reason.items()}),
            "rows_bridged_to_sessions": int(bridged),
            "events_counted_in_sessions": int(session_events),
            "unaccounted_rows": int(records - kept - dropped - quarantined - rejected),
            "files_not_reconciled": dg.MetadataValue.json(unbalanced),
            "per_file": dg.MetadataValue.md(
                "| file | records | kept | dropped for consent | quarantined | rejected lines |\n|---|---|---|---|---|---|\n"
                + "\n".join(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} |" for r in per_file)
            ),
            "duplicate_deliveries": dg.MetadataValue.json(duplicates),
            "unreadable_files": dg.MetadataValue.json(failed),
        },
    )


def find_pii(conn, table: str) -> dict[str, int]:
    """Count values matching an email / IPv4 / IPv6 pattern in every text-like column of ``table``."""
    columns = [
        name
        for name, kind, *_ in conn.execute(f"DESCRIBE {table}").fetchall()
        if "VARCHAR" in kind or "JSON" in kind or "[]" in kind or "STRUCT" in kind or "MAP" in kind
    ]
    if not columns:
        return {}
    counts = ", ".join(
        f'count(*) FILTER (WHERE regexp_matches(CAST("{column}" AS VARCHAR), \'{pattern}\')) AS "{column}:{label}"'
        for column in columns
        for label, pattern in PII_PATTERNS.items()
    )
    row = conn.execute(f"SELECT {counts} FROM {table}").fetchall()[0]
    names = [f"{column}:{label}" for column in columns for label in PII_PATTERNS]
    return {name: int(n) for name, n in zip(names, row) if n}


# Schemas a reader of the warehouse may be given (a BI tool reads `main`); raw PII lives in `raw` and the
# `staging` views over it only.
GOVERNED_SCHEMAS = ("main", "restricted")
RAW_PII_COLUMN_NAMES = ("email", "ip_address", "ip", "phone")
RAW_PII_COLUMNS_SQL = f"""
SELECT table_schema || '.' || table_name AS relation, column_name
FROM information_schema.columns
WHERE table_schema IN ({", ".join(f"'{s}'" for s in GOVERNED_SCHEMAS)})
  AND lower(column_name) IN ({", ".join(f"'{c}'" for c in RAW_PII_COLUMN_NAMES)})
ORDER BY 1, 2
"""


@dg.asset_check(asset="guarded_sessions", name="no_raw_pii_columns_outside_the_raw_zone", blocking=True, pool=DUCKDB_POOL)
def no_raw_pii_columns_outside_the_raw_zone(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    """No table or view of the governed schemas (main, restricted) has a raw e-mail, IP or phone column:
    those stay in the raw zone and the staging views over it."""
    with warehouse.get_connection() as conn:
        found = [f"{relation}.{column}" for relation, column in conn.execute(RAW_PII_COLUMNS_SQL).fetchall()]
    return dg.AssetCheckResult(
        passed=not found,
        description=f"Looked for columns named {', '.join(RAW_PII_COLUMN_NAMES)} in every table and view of {', '.join(GOVERNED_SCHEMAS)}.",
        metadata={"columns": dg.MetadataValue.json(found)},
    )


def no_pii_check(asset: str, tables: list[str]) -> dg.AssetChecksDefinition:
    """A blocking check that no email or IP address pattern appears in the asset's tables."""

    @dg.asset_check(
        asset=asset,
        name="no_raw_pii",
        blocking=True,
        pool=DUCKDB_POOL,
        description=f"No e-mail address, IPv4 or IPv6 pattern in any text column of {', '.join(tables)} "
        "(blocking: nothing downstream runs on a match).",
    )
    def _check(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
        with warehouse.get_connection() as conn:
            found = {f"{table}.{where}": n for table in tables for where, n in find_pii(conn, table).items()}
        return dg.AssetCheckResult(
            passed=not found,
            description=f"Scanned {', '.join(tables)} for email, IPv4 and IPv6 patterns.",
            metadata={"matches": dg.MetadataValue.json(found), "tables_scanned": tables},
        )

    return _check


governed_outputs_have_no_pii = [
    no_pii_check("guarded_sessions", ["main.guarded_sessions", "main.session_raw_rows"]),
    no_pii_check("quarantined_events", ["main.quarantined_events"]),
    no_pii_check("event_dispositions", ["main.event_dispositions"]),
    no_pii_check("ga4_event_items", ["main.ga4_event_items"]),
    no_pii_check("features", ["main.features"]),
    no_pii_check("customer_features", ["main.customer_features"]),
    no_pii_check("persona_clusters", ["main.persona_clusters", "main.persona_cluster_members"]),
    no_pii_check("personas", ["main.personas", "main.persona_summary"]),
    no_pii_check("creative_briefs", ["main.creative_briefs"]),
    no_pii_check("mmm_model", ["main.mmm_model", "main.mmm_decomposition", "main.mmm_response_curves"]),
    no_pii_check("forecast", ["main.forecast"]),
    no_pii_check("allocations", ["main.allocations", "main.allocation_history"]),
    no_pii_check("creative_library", ["main.creative_library", "main.ad_sets", "main.creative_approvals"]),
    no_pii_check("dsp_payload", ["main.dsp_payload", "main.payload_outbox"]),
]
