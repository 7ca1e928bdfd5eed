"""lineage_edges: the auditor's view from every payload line down to source rows."""

import dagster as dg

from gtm_assets.audit.lineage import EDGES, lineage_edges_view_sql, trace_payload
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

COLUMN_DESCRIPTIONS = {
    "child_id": "Lineage id of the row that was made from the parent.",
    "child_asset": "Asset (table) of the child row.",
    "parent_id": "Lineage id (or raw row id) of the row it was made from.",
    "parent_asset": "Asset (table) of the parent row.",
    "relation": "How the child came from the parent, in words.",
}


@dg.asset(
    deps=["dsp_payload"],
    group_name="activation",
    owners=[OWNER],
    kinds={"duckdb", "sql"},
    pool=DUCKDB_POOL,
)
def lineage_edges(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Every lineage edge (child lineage id -> parent lineage id, with both asset names and the relation)
    from payload lines to campaign budgets, ad sets, creatives and audiences, and on through briefs,
    personas, clusters, the media-mix model, features and guarded sessions to raw rows (file, sha256,
    row number). A view over the tables the assets write, so it never goes stale; `gtm trace` walks the
    same edges. The metadata shows the newest payload's trace: ids per asset and source files."""
    with warehouse.get_connection() as conn:
        conn.execute(lineage_edges_view_sql())
        trace = trace_payload(conn)
        metadata = table_metadata(conn, "main.lineage_edges", descriptions=COLUMN_DESCRIPTIONS)
    steps = "\n".join(f"| {s['depth']} | {s['asset']} | {s['ids']:,} | {s['gone']:,} |" for s in trace.steps)
    sources = "\n".join(f"| {s['asset']} | {s['file']} | {s['sha256'][:12]} | {s['rows']:,} |" for s in trace.sources)
    context.log.info(f"Traced payload {trace.payload_id} in {trace.seconds:.2f} s")
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "edge_kinds": dg.MetadataValue.int(len(EDGES)),
            "traced_payload_id": trace.payload_id,
            "trace_seconds": dg.MetadataValue.float(round(trace.seconds, 3)),
            "trace_steps": dg.MetadataValue.md("| depth | asset | ids | gone |\n|---|---|---|---|\n" + steps),
            "trace_sources": dg.MetadataValue.md("| source | file | sha256 | rows |\n|---|---|---|---|\n" + sources),
            "gone_source_rows": dg.MetadataValue.int(len(trace.gone_rows)),
        }
    )
