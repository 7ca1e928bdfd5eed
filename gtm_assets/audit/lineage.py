"""The auditor's lineage graph: every edge from a payload line down to source rows, and the walk that
follows them (``gtm trace``).

Each edge kind is one SQL query over the tables the assets already write (child lineage id -> parent
lineage id), so nothing is copied: the ``lineage_edges`` view is their union, for auditors who prefer SQL,
and the walk runs only the edge queries of the assets it has reached, with the ids it has reached. Raw
rows are the leaves: their file, sha256 and row number come from the raw tables; a leaf that is no longer
there (its file was removed and re-synced) is reported as gone, with the file and row it had in the
session bridge when that is known.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from gtm_assets.warehouse.sql import first_row, sql_string

# (child asset, parent asset, relation, SELECT child_id, parent_id)
EDGES: tuple[tuple[str, str, str, str], ...] = (
    ("dsp_payload", "allocations", "campaign budget",
     "SELECT lineage_id, object_lineage_id FROM main.dsp_payload WHERE object_asset = 'allocations' AND object_lineage_id IS NOT NULL"),
    ("dsp_payload", "ad_sets", "ad set", "SELECT lineage_id, object_lineage_id FROM main.dsp_payload WHERE object_asset = 'ad_sets'"),
    ("dsp_payload", "creative_library", "ad creative",
     "SELECT lineage_id, object_lineage_id FROM main.dsp_payload WHERE object_asset = 'creative_library'"),
    ("dsp_payload", "audiences", "audience", "SELECT lineage_id, object_lineage_id FROM main.dsp_payload WHERE object_asset = 'audiences'"),
    ("ad_sets", "allocations", "campaign budget",
     "SELECT ad_set_id, allocation_lineage_id FROM main.ad_sets WHERE allocation_lineage_id IS NOT NULL"),
    ("ad_sets", "audiences", "targets", "SELECT ad_set_id, audience_id FROM main.ad_sets"),
    ("creative_library", "ad_sets", "runs in", "SELECT creative_id, ad_set_id FROM main.creative_library"),
    ("creative_library", "creative_briefs", "written from",
     "SELECT creative_id, brief_lineage_id FROM main.creative_library WHERE brief_lineage_id IS NOT NULL"),
    ("audiences", "persona_clusters", "cluster",
     "SELECT audience_id, persona_cluster_lineage_id FROM main.audiences WHERE persona_cluster_lineage_id IS NOT NULL"),
    ("audiences", "features", "consented member",
     "SELECT audience_id, source_lineage_id FROM main.audience_members WHERE consented AND source_asset = 'features'"),
    ("audiences", "customer_ltv", "high-value member",
     "SELECT audience_id, source_lineage_id FROM main.audience_members WHERE consented AND source_asset = 'customer_ltv'"),
    ("audiences", "raw_prospects", "consented member",
     "SELECT audience_id, source_lineage_id FROM main.audience_members WHERE consented AND source_asset = 'raw_prospects'"),
    ("allocations", "mmm_model", "response curve", "SELECT lineage_id, mmm_lineage_id FROM main.allocations"),
    ("allocations", "raw_media_spend", "campaign spend and conversions (Thompson window)",
     """SELECT a.lineage_id, m.raw_row_id FROM main.allocations a
        JOIN raw.raw_media_spend m ON m.channel = a.channel AND m.campaign = a.campaign
        WHERE m.date::DATE > (SELECT max(date::DATE) FROM raw.raw_media_spend) - 28"""),
    ("mmm_model", "raw_media_spend", "channel spend",
     "SELECT k.lineage_id, m.raw_row_id FROM main.mmm_model k JOIN raw.raw_media_spend m USING (channel)"),
    ("mmm_model", "raw_lift_tests", "calibration experiment",
     "SELECT k.lineage_id, t.raw_row_id FROM main.mmm_model k JOIN raw.raw_lift_tests t USING (channel)"),
    ("creative_briefs", "persona_clusters", "cluster profile",
     "SELECT lineage_id, persona_cluster_lineage_id FROM main.creative_briefs WHERE persona_cluster_lineage_id IS NOT NULL"),
    ("creative_briefs", "personas", "segment figures",
     "SELECT lineage_id, persona_summary_lineage_id FROM main.creative_briefs WHERE persona_summary_lineage_id IS NOT NULL"),
    ("personas", "customer_features", "segment member",
     """SELECT s.lineage_id, a.source_lineage_id FROM (SELECT lineage_id, unnest(assignment_lineage_ids) AS assignment
        FROM main.persona_summary) s JOIN main.personas a ON a.lineage_id = s.assignment"""),
    ("persona_clusters", "features", "cluster member",
     "SELECT persona_cluster_lineage_id, source_lineage_id FROM main.persona_cluster_members WHERE entity_type = 'user'"),
    ("persona_clusters", "customer_features", "cluster member",
     "SELECT persona_cluster_lineage_id, source_lineage_id FROM main.persona_cluster_members WHERE entity_type = 'customer'"),
    ("features", "guarded_sessions", "user's session", "SELECT lineage_id, unnest(session_lineage_ids) FROM main.features"),
    ("customer_ltv", "guarded_sessions", "purchase session",
     "SELECT lineage_id, unnest(purchase_session_lineage_ids) FROM main.customer_ltv"),
    ("customer_features", "raw_customers", "customer row", "SELECT lineage_id, raw_row_id FROM main.customer_features"),
    ("guarded_sessions", "raw_events", "event row", "SELECT session_lineage_id, raw_row_id FROM main.session_raw_rows"),
)  # fmt: skip

# Where an asset's ids live, to tell present ids from gone ones.
ID_TABLES = {
    "dsp_payload": ("main.dsp_payload", "lineage_id"),
    "allocations": ("main.allocation_history", "lineage_id"),
    "ad_sets": ("main.ad_sets", "ad_set_id"),
    "creative_library": ("main.creative_library", "creative_id"),
    "audiences": ("main.audiences", "audience_id"),
    "mmm_model": ("main.mmm_model", "lineage_id"),
    "creative_briefs": ("main.creative_briefs", "lineage_id"),
    "personas": ("main.persona_summary", "lineage_id"),
    "persona_clusters": ("main.persona_clusters", "lineage_id"),
    "features": ("main.features", "lineage_id"),
    "customer_ltv": ("main.customer_ltv", "lineage_id"),
    "customer_features": ("main.customer_features", "lineage_id"),
    "guarded_sessions": ("main.guarded_sessions", "lineage_id"),
}
# The raw tables each ingestion asset writes (raw_events lands flat files and GA4 exports in two tables
# with one raw_row_id scheme, source_file:row).
RAW_TABLES = {
    "raw_events": ("raw.raw_events", "raw.raw_ga4_events"),
    "raw_media_spend": ("raw.raw_media_spend",),
    "raw_lift_tests": ("raw.raw_lift_tests",),
    "raw_customers": ("raw.raw_customers",),
    "raw_prospects": ("raw.raw_prospects",),
}
MAX_DEPTH = 12


def lineage_edges_view_sql() -> str:
    """CREATE VIEW main.lineage_edges: every edge as (child_id, child_asset, parent_id, parent_asset, relation)."""
    parts = [
        f"SELECT child_id, {sql_string(child)} AS child_asset, parent_id, {sql_string(parent)} AS parent_asset, "
        f"{sql_string(relation)} AS relation "
        f"FROM ({sql}) AS e(child_id, parent_id)"
        for child, parent, relation, sql in EDGES
    ]
    return "CREATE OR REPLACE VIEW main.lineage_edges AS\n" + "\nUNION ALL\n".join(parts)


class TraceError(ValueError):
    """The payload or line to trace does not exist (or the warehouse has no payloads)."""


@dataclass
class Trace:
    payload_id: str | None  # None: traced from a row of another asset (trace_row)
    line: int | None
    start: list[dict]
    steps: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    gone_rows: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict:
        return {
            "payload_id": self.payload_id,
            "line": self.line,
            "start": self.start,
            "steps": self.steps,
            "sources": self.sources,
            "gone_rows": self.gone_rows,
            "seconds": round(self.seconds, 3),
        }


def _existing(conn, name: str) -> bool:
    schema, table = name.split(".")
    return bool(
        conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
        ).fetchall()[0][0]
    )


def trace_payload(conn, payload_id: str | None = None, *, line: int | None = None) -> Trace:
    """Walk from a payload (the newest when ``payload_id`` is None), or one of its lines, to source rows.

    Works on a read-only connection: everything it builds is a temporary table."""
    started = time.perf_counter()
    if not _existing(conn, "main.dsp_payload"):
        raise TraceError("no payload in the warehouse yet: materialize dsp_payload (gtm run)")
    if payload_id is None:
        found = first_row(conn.execute("SELECT payload_id FROM main.payload_outbox ORDER BY created_at DESC LIMIT 1"))
        if not found:
            raise TraceError("no payload in the warehouse yet: materialize dsp_payload (gtm run)")
        payload_id = found[0]
    matches = conn.execute(
        "SELECT DISTINCT payload_id FROM main.dsp_payload WHERE payload_id LIKE ? || '%'", [payload_id]
    ).fetchall()
    if len(matches) != 1:
        raise TraceError(f"payload {payload_id!r}: {'no such payload' if not matches else 'ambiguous prefix'}")
    payload_id = matches[0][0]
    where = "payload_id = ?" + (" AND line_number = ?" if line is not None else "")
    start = conn.execute(
        f"SELECT line_number, line_type, object_id, lineage_id FROM main.dsp_payload WHERE {where} ORDER BY line_number",
        [payload_id, *([line] if line is not None else [])],
    ).fetchall()
    if not start:
        total = conn.execute("SELECT count(*) FROM main.dsp_payload WHERE payload_id = ?", [payload_id]).fetchall()[0][0]
        raise TraceError(f"payload {payload_id} has no line {line} (lines 1..{total})")
    trace = Trace(payload_id, line, [{"line": n, "type": t, "object_id": o} for n, t, o, _ in start])
    _walk(conn, trace, "dsp_payload", [s[3] for s in start])
    trace.seconds = time.perf_counter() - started
    return trace


def _walk(conn, trace: Trace, start_asset: str, start_ids: list[str]) -> None:
    """Follow the edges from ``start_ids`` of ``start_asset`` down to source rows, into ``trace``."""
    conn.execute("CREATE OR REPLACE TEMP TABLE trace_nodes (id VARCHAR, asset VARCHAR, depth INTEGER)")
    conn.execute("CREATE OR REPLACE TEMP TABLE trace_new (id VARCHAR, asset VARCHAR)")
    conn.executemany("INSERT INTO trace_nodes VALUES (?, ?, 0)", [(i, start_asset) for i in start_ids])
    for depth in range(MAX_DEPTH):
        assets = [a for (a,) in conn.execute("SELECT DISTINCT asset FROM trace_nodes WHERE depth = ?", [depth]).fetchall()]
        conn.execute("DELETE FROM trace_new")
        for child, parent, _, sql in EDGES:
            if child in assets:
                conn.execute(
                    f"INSERT INTO trace_new SELECT DISTINCT e.parent_id, '{parent}' FROM ({sql}) AS e(child_id, parent_id) "
                    f"SEMI JOIN (SELECT id FROM trace_nodes WHERE depth = ? AND asset = '{child}') n ON n.id = e.child_id",
                    [depth],
                )
        added = conn.execute(
            "INSERT INTO trace_nodes SELECT DISTINCT id, asset, ? FROM trace_new n "
            "WHERE NOT EXISTS (SELECT 1 FROM trace_nodes t WHERE t.id = n.id AND t.asset = n.asset)",
            [depth + 1],
        ).fetchall()[0][0]
        if not added:
            break
    for asset, depth, ids in conn.execute(
        "SELECT asset, min(depth), count(*) FROM trace_nodes GROUP BY asset ORDER BY min(depth), asset"
    ).fetchall():
        gone = 0
        if asset in ID_TABLES:
            table, column = ID_TABLES[asset]
            gone = conn.execute(
                f"SELECT count(*) FROM trace_nodes n WHERE asset = ? AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{column} = n.id)",
                [asset],
            ).fetchall()[0][0]
        trace.steps.append({"depth": int(depth), "asset": asset, "ids": int(ids), "gone": int(gone)})
    _resolve_raw_rows(conn, trace)


def trace_row(conn, asset: str, row_id: str) -> Trace:
    """Walk from one row of an asset (its lineage id, or a unique prefix of it) down to source rows."""
    started = time.perf_counter()
    if asset not in ID_TABLES:
        raise TraceError(f"cannot trace from {asset!r}: one of {', '.join(sorted(ID_TABLES))}")
    table, column = ID_TABLES[asset]
    if not _existing(conn, table):
        raise TraceError(f"{table} does not exist yet: materialize {asset}")
    matches = conn.execute(f"SELECT DISTINCT {column} FROM {table} WHERE {column} LIKE ? || '%' LIMIT 2", [row_id]).fetchall()
    if len(matches) != 1:
        raise TraceError(f"{asset} row {row_id!r}: {'no such row' if not matches else 'ambiguous prefix'}")
    trace = Trace(None, None, [{"asset": asset, "object_id": matches[0][0]}])
    _walk(conn, trace, asset, [matches[0][0]])
    trace.seconds = time.perf_counter() - started
    return trace


def _resolve_raw_rows(conn, trace: Trace) -> None:
    """Files, sha256s and row numbers of the raw rows reached; rows no longer in the raw zone are gone."""
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE trace_raw (asset VARCHAR, raw_row_id VARCHAR, source_file VARCHAR, "
        "source_file_sha256 VARCHAR, source_row_number BIGINT, present BOOLEAN)"
    )
    for asset, tables in RAW_TABLES.items():
        present = [t for t in tables if _existing(conn, t)]
        if not present:
            continue
        rows = " UNION ALL ".join(
            f"SELECT raw_row_id, source_file, source_file_sha256, source_row_number FROM {t}" for t in present
        )
        conn.execute(
            f"INSERT INTO trace_raw SELECT '{asset}', n.id, r.source_file, r.source_file_sha256, r.source_row_number, "
            f"r.raw_row_id IS NOT NULL FROM (SELECT DISTINCT id FROM trace_nodes WHERE asset = '{asset}') n "
            f"LEFT JOIN ({rows}) r ON r.raw_row_id = n.id"
        )
    if _existing(conn, "main.session_raw_rows"):  # where a gone event row came from, as the bridge recorded it
        conn.execute(
            "UPDATE trace_raw SET source_file = b.source_file, source_row_number = b.source_row_number "
            "FROM main.session_raw_rows b WHERE NOT trace_raw.present AND trace_raw.asset = 'raw_events' "
            "AND b.raw_row_id = trace_raw.raw_row_id"
        )
    trace.sources = [
        {"asset": a, "file": f, "sha256": s, "rows": int(n), "first_row": int(lo), "last_row": int(hi)}
        for a, f, s, n, lo, hi in conn.execute(
            "SELECT asset, source_file, source_file_sha256, count(*), min(source_row_number), max(source_row_number) "
            "FROM trace_raw WHERE present GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    ]
    trace.gone_rows = [
        {"asset": a, "raw_row_id": r, "file": f, "row": n}
        for a, r, f, n in conn.execute(
            "SELECT asset, raw_row_id, source_file, source_row_number FROM trace_raw WHERE NOT present ORDER BY ALL"
        ).fetchall()
    ]


def raw_rows_csv(conn) -> list[tuple]:
    """Every raw row of the last trace on this connection: asset, file, sha256, row number, raw_row_id, status."""
    return conn.execute(
        "SELECT asset, source_file, source_file_sha256, source_row_number, raw_row_id, "
        "CASE WHEN present THEN 'present' ELSE 'gone' END FROM trace_raw ORDER BY asset, source_file, source_row_number"
    ).fetchall()
