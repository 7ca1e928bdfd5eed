"""Blocking governance checks: downstream assets never run on data that fails them."""

import dagster as dg

from gtm_assets.defs.resources import DUCKDB_POOL
from gtm_assets.pii_patterns import PII_PATTERNS
from gtm_assets.warehouse import DuckDBWarehouse


@dg.asset_check(asset="guarded_sessions", blocking=True, pool=DUCKDB_POOL)
def raw_rows_reconcile(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    """Every raw event row is accounted for exactly once: raw = kept + dropped for consent + quarantined,
    and the kept rows are exactly the rows bridged to guarded sessions."""
    with warehouse.get_connection() as conn:
        raw, kept, dropped, quarantined, bridged, session_events = conn.execute(
            """
            SELECT
                (SELECT count(*) FROM raw.raw_events),
                (SELECT count(*) FROM main.event_dispositions WHERE disposition = 'kept'),
                (SELECT count(*) FROM main.event_dispositions WHERE disposition = 'dropped_for_consent'),
                (SELECT count(*) FROM main.quarantined_events),
                (SELECT count(*) FROM main.session_raw_rows),
                (SELECT coalesce(sum(events), 0) FROM main.guarded_sessions)
            """
        ).fetchone()
        by_reason = dict(
            conn.execute(
                "SELECT quarantine_reason, count(*) FROM main.quarantined_events GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
    passed = raw == kept + dropped + quarantined and kept == bridged == session_events
    return dg.AssetCheckResult(
        passed=bool(passed),
        metadata={
            "raw_rows": int(raw),
            "kept_rows": int(kept),
            "dropped_for_consent": int(dropped),
            "quarantined": int(quarantined),
            "quarantined_by_reason": dg.MetadataValue.json({k: int(v) for k, v in by_reason.items()}),
            "rows_bridged_to_sessions": int(bridged),
            "events_counted_in_sessions": int(session_events),
            "unaccounted_rows": int(raw - kept - dropped - quarantined),
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
        f"count(*) FILTER (WHERE regexp_matches(CAST(\"{column}\" AS VARCHAR), '{pattern}')) "
        f"AS \"{column}:{label}\""
        for column in columns
        for label, pattern in PII_PATTERNS.items()
    )
    row = conn.execute(f"SELECT {counts} FROM {table}").fetchone()
    names = [f"{column}:{label}" for column in columns for label in PII_PATTERNS]
    return {name: int(n) for name, n in zip(names, row) if n}


def no_pii_check(asset: str, tables: list[str]) -> dg.AssetChecksDefinition:
    """A blocking check that no email or IP address pattern appears in the asset's tables."""

    @dg.asset_check(asset=asset, name="no_raw_pii", blocking=True, pool=DUCKDB_POOL)
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
    no_pii_check("guarded_sessions", ["main.guarded_sessions"]),
    no_pii_check("quarantined_events", ["main.quarantined_events"]),
    no_pii_check("event_dispositions", ["main.event_dispositions"]),
    no_pii_check("features", ["main.features"]),
    no_pii_check("customer_features", ["main.customer_features"]),
    no_pii_check("persona_clusters", ["main.persona_clusters", "main.persona_cluster_members"]),
    no_pii_check("personas", ["main.persona_assignments", "main.persona_summary"]),
    no_pii_check("creative_briefs", ["main.creative_briefs"]),
    no_pii_check("mmm_model", ["main.mmm_model", "main.mmm_decomposition", "main.mmm_response_curves"]),
    no_pii_check("forecast", ["main.forecast"]),
    no_pii_check("allocations", ["main.allocations", "main.allocation_history"]),
    no_pii_check("creative_library", ["main.creative_library", "main.ad_sets", "main.creative_approvals"]),
    no_pii_check("dsp_payload", ["main.dsp_payload", "main.payload_outbox"]),
]
