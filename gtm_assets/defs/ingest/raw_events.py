"""raw_events: event files from data/landing/events (the flat layout or GA4 BigQuery exports), one
dynamic partition per file."""

import dagster as dg

from gtm_assets import settings
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.landing import ingest_event_file
from gtm_assets.landing.events import RAW_TABLES
from gtm_assets.landing.ga4_schema import GA4_COLUMN_DESCRIPTIONS
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse
from gtm_assets.warehouse.sql import sql_string

landing_event_files = dg.DynamicPartitionsDefinition(name="landing_event_files")


@dg.asset(
    partitions_def=landing_event_files,
    group_name="ingest",
    owners=[OWNER],
    kinds={"duckdb", "python"},
    pool=DUCKDB_POOL,
    check_specs=[
        dg.AssetCheckSpec(
            "landing_file_readable",
            asset="raw_events",
            blocking=False,
            description="The partition's landing file could be read and loaded (a warning otherwise: the reason is "
            "recorded in raw.ingest_failures and the other files go on).",
        )
    ],
)
def raw_events(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """Events as landed: flat event files (CSV, Parquet, JSON lines) into raw.raw_events, GA4 BigQuery
    exports (Parquet, JSON lines or a JSON array, INT64 as numbers or strings) into raw.raw_ga4_events,
    the layout recognised by the file's columns; gzip allowed.

    One partition per landing file. The file's rows replace those of its earlier version in one
    transaction; damaged lines go to raw.rejected_lines with row number and reason, an unreadable
    file to raw.ingest_failures, a re-delivered copy (same sha256 under another name) is recorded as
    a duplicate and not loaded; bad input never fails the run. A file that has left the landing folder
    (a retention policy, a delete) keeps the rows ingested from it until a new version replaces them. Every row carries source_file,
    source_file_sha256, source_row_number, ingested_at and raw_row_id (source_file:row).
    """
    file_name = context.partition_key
    with warehouse.get_connection() as conn:
        outcome = ingest_event_file(conn, settings.landing_events_dir(), file_name)
        table = RAW_TABLES.get(outcome.layout or "flat")
        descriptions = GA4_COLUMN_DESCRIPTIONS if outcome.layout == "ga4" else None
        metadata = table_metadata(
            conn, table, where=f"source_file = {sql_string(outcome.source_file)}", descriptions=descriptions
        )
        table_rows = conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        all_rows = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in sorted(set(RAW_TABLES.values())))
    (context.log.warning if outcome.status == "failed" else context.log.info)(outcome.summary())
    metadata.update(
        {
            "source_file": outcome.source_file,
            "source_file_sha256": outcome.sha256 or "",
            "status": outcome.status,
            "unchanged_since_last_ingestion": outcome.unchanged,
            "file_still_in_landing_folder": outcome.still_landed,
            "layout": outcome.layout or "",
            # Dagster shows the latest partition's "Row count": the raw zone's events, all files; this file's, named:
            "dagster/row_count": dg.MetadataValue.int(int(all_rows)),
            "rows_in_this_file_partition": metadata["dagster/row_count"],
            f"rows_in_{table}_all_files": dg.MetadataValue.int(int(table_rows)),
            "rows_loaded": dg.MetadataValue.int(outcome.rows),
            "lines_rejected": dg.MetadataValue.int(outcome.rejected_lines),
            "duplicate_of": outcome.duplicate_of or "",
            "message": outcome.message,
            "raw_table": table,
        }
    )
    yield dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(outcome.sha256 or "unreadable"))
    yield dg.AssetCheckResult(
        check_name="landing_file_readable",
        passed=outcome.status != "failed",
        severity=dg.AssetCheckSeverity.WARN,
        description=outcome.summary(),
        metadata={"status": outcome.status, "lines_rejected": outcome.rejected_lines},
    )
