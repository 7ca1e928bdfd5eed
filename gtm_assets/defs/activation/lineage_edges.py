"""lineage_edges: the auditor's view from every payload line down to source rows."""

import dagster as dg

from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.lineage import EDGES, lineage_edges_view_sql, trace_payload
from gtm_assets.warehouse import DuckDBWarehouse


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
    steps = "\n".join(f"| {s['depth']} | {s['asset']} | {s['ids']:,} | {s['gone']:,} |" for s in trace.steps)
    sources = "\n".join(f"| {s['asset']} | {s['file']} | {s['sha256'][:12]} | {s['rows']:,} |" for s in trace.sources)
    context.log.info(f"Traced payload {trace.payload_id} in {trace.seconds:.2f} s")
    return dg.MaterializeResult(
        metadata={
            "edge_kinds": dg.MetadataValue.int(len(EDGES)),
            "traced_payload_id": trace.payload_id,
            "trace_seconds": dg.MetadataValue.float(round(trace.seconds, 3)),
            "trace_steps": dg.MetadataValue.md("| depth | asset | ids | gone |\n|---|---|---|---|\n" + steps),
            "trace_sources": dg.MetadataValue.md("| source | file | sha256 | rows |\n|---|---|---|---|\n" + sources),
            "gone_source_rows": dg.MetadataValue.int(len(trace.gone_rows)),
        }
    )
