"""raw_events: GA4-style event files from data/landing/events, one dynamic partition per file."""

import dagster as dg

from gtm_assets import settings
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.landing import EVENT_COLUMNS, replace_file_rows, sql_string
from gtm_assets.observability import table_metadata
from gtm_assets.warehouse import DuckDBWarehouse

landing_event_files = dg.DynamicPartitionsDefinition(name="landing_event_files")


@dg.asset(
    partitions_def=landing_event_files,
    group_name="ingest",
    owners=[OWNER],
    kinds={"duckdb", "python"},
    pool=DUCKDB_POOL,
)
def raw_events(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """GA4-style events as landed (CSV, Parquet or JSON lines, gzip allowed), read by DuckDB.

    One partition per landing file: re-ingesting a file replaces its rows in one transaction.
    Every row carries source_file, source_file_sha256, source_row_number, ingested_at, raw_row_id.
    """
    file_name = context.partition_key
    source_file = f"landing/events/{file_name}"
    with warehouse.get_connection() as conn:
        ingested = replace_file_rows(
            conn,
            table="raw_events",
            path=settings.landing_events_dir() / file_name,
            source_file=source_file,
            columns=EVENT_COLUMNS,
        )
        metadata = table_metadata(conn, "raw.raw_events", where=f"source_file = {sql_string(source_file)}")
        table_rows = conn.execute("SELECT count(*) FROM raw.raw_events").fetchone()[0]
    context.log.info(f"Ingested {ingested.rows} rows from {source_file} (sha256 {ingested.sha256[:12]}…)")
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "source_file": source_file,
            "source_file_sha256": ingested.sha256,
            "table_rows_all_files": dg.MetadataValue.int(int(table_rows)),
        },
        data_version=dg.DataVersion(ingested.sha256),
    )
