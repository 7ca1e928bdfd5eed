"""executive_report: the HTML + PDF report for marketing leaders, built from the latest tables."""

import dagster as dg

from gtm_assets.ask.report import build_report, report_dir
from gtm_assets.ask.source import Warehouse
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.warehouse.resource import DuckDBWarehouse


@dg.asset(
    deps=["mmm_model", "forecast", "allocations", "personas", "creative_briefs", "dsp_payload"],
    group_name="reporting",
    owners=[OWNER],
    kinds={"html", "pdf", "python"},
    pool=DUCKDB_POOL,
)
def executive_report(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Executive report (data/reports/executive_report.html and .pdf): the executive summary, ROI
    with 90% intervals, saturation and marginal ROI, the forecast fan chart, the recommended
    allocation with its expected effect, every persona with its brief, and the lineage block of the
    DSP payload, each section exactly as `gtm ask` answers it, with the Dagster run behind every table."""
    with warehouse.get_connection() as conn:
        wh = Warehouse(warehouse.database, connection=conn, instance=context.instance)
        report = build_report(wh, report_dir())
    for note in report.notes:
        context.log.info(note)
    if report.pdf_error:
        context.log.warning(report.pdf_error)
    lineage = report.lineage or {}
    return dg.MaterializeResult(
        metadata={
            "html": dg.MetadataValue.path(str(report.html)),
            "pdf": dg.MetadataValue.path(str(report.pdf)) if report.pdf else dg.MetadataValue.text(report.pdf_error),
            "report_url": dg.MetadataValue.url(report.html.as_uri()),
            "sections": dg.MetadataValue.json(list(report.sections)),
            "executive_summary": dg.MetadataValue.md(report.summary.text),
            "payload_id": dg.MetadataValue.text(str(lineage.get("payload_id"))),
            "payload_has_lineage_block": dg.MetadataValue.bool(bool(lineage.get("lineage"))),
            "materializations": dg.MetadataValue.json([m.to_json() for m in report.materializations]),
            "notes": dg.MetadataValue.json(report.notes),
        }
    )
