"""dsp_payload: the lineage-stamped JSON document sent to the ad platform."""

import hashlib
import json

import dagster as dg

from gtm_assets import settings
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.dsp import DspClient
from gtm_assets.observability import table_metadata
from gtm_assets.warehouse import DuckDBWarehouse

SOURCE_FILES_SQL = """
SELECT 'raw_events' AS source, source_file, any_value(source_file_sha256) AS sha256, count(*) AS rows FROM raw.raw_events GROUP BY 2
UNION ALL
SELECT 'raw_media_spend', source_file, any_value(source_file_sha256), count(*) FROM raw.raw_media_spend GROUP BY 2
UNION ALL
SELECT 'raw_media_plan', source_file, any_value(source_file_sha256), count(*) FROM raw.raw_media_plan GROUP BY 2
UNION ALL
SELECT 'raw_lift_tests', source_file, any_value(source_file_sha256), count(*) FROM raw.raw_lift_tests GROUP BY 2
UNION ALL
SELECT 'raw_customers', source_file, any_value(source_file_sha256), count(*) FROM raw.raw_customers GROUP BY 2
ORDER BY 1, 2
"""


def _records(conn, sql: str) -> list[dict]:
    frame = conn.execute(sql).fetchdf()
    return json.loads(frame.to_json(orient="records", date_format="iso"))


@dg.asset(
    deps=["allocations", "creative_library"],
    group_name="activation",
    owners=[OWNER],
    kinds={"duckdb", "python", "json"},
    pool=DUCKDB_POOL,
)
def dsp_payload(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, dsp: DspClient) -> dg.MaterializeResult:
    """The JSON document for the DSP: campaign budgets and creatives, each line carrying its lineage
    id, plus the payload id (hash of the content), the Dagster run id, and every source file hash
    it was built from. Written to data/outbox/ and to the dsp_payload table, then pushed through the
    DSP adapter (dry-run unless configured)."""
    with warehouse.get_connection() as conn:
        budgets = _records(
            conn,
            "SELECT lineage_id, channel, campaign, recommended_campaign_spend AS daily_budget, method, "
            "mmm_lineage_id, source_media_sha256s FROM main.allocations ORDER BY channel, campaign",
        )
        creatives = _records(
            conn,
            "SELECT lineage_id, cohort, persona, variant, channel, headline, body, call_to_action, "
            "compliance_score, persona_summary_lineage_id FROM main.creative_library ORDER BY cohort, persona, variant",
        )
        sources = _records(conn, SOURCE_FILES_SQL)
        content = {"budgets": budgets, "creatives": creatives, "source_files": sources}
        payload_id = hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()[:32]
        payload = {"payload_id": payload_id, "dagster_run_id": context.run_id, "currency": "USD", **content}
        outbox = settings.outbox_dir()
        outbox.mkdir(parents=True, exist_ok=True)
        path = outbox / f"dsp_payload_{payload_id}.json"
        path.write_text(json.dumps(payload, indent=2, sort_keys=True))
        lines = [("budget", line["lineage_id"], json.dumps(line, sort_keys=True)) for line in budgets]
        lines += [("creative", line["lineage_id"], json.dumps(line, sort_keys=True)) for line in creatives]
        conn.execute(
            "CREATE OR REPLACE TABLE main.dsp_payload (payload_id VARCHAR, dagster_run_id VARCHAR, line_number INTEGER, "
            "line_type VARCHAR, lineage_id VARCHAR, line_json VARCHAR, outbox_path VARCHAR)"
        )
        conn.executemany(
            "INSERT INTO main.dsp_payload VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(payload_id, context.run_id, n, kind, lineage, text, str(path)) for n, (kind, lineage, text) in enumerate(lines, start=1)],
        )
        metadata = table_metadata(conn, "main.dsp_payload")
    receipt = dsp.push(payload)
    context.log.info(f"Payload {payload_id}: {len(budgets)} budget lines, {len(creatives)} creatives -> {receipt['status']}")
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "payload_id": payload_id,
            "outbox_path": dg.MetadataValue.path(str(path)),
            "push_status": receipt["status"],
            "source_files": dg.MetadataValue.json(sources),
        }
    )
