"""raw_media_spend: the media metrics sync from data/landing/media."""

import dagster as dg

from gtm_assets import settings
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.landing import MEDIA_COLUMNS, LandingFileError, sync_csv_folder
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

MEDIA_TYPES = {
    "date": "DATE",
    "spend": "DECIMAL(18, 2)",
    "impressions": "BIGINT",
    "clicks": "BIGINT",
    "conversions": "BIGINT",
}


@dg.asset(group_name="ingest", owners=[OWNER], kinds={"duckdb", "python"}, pool=DUCKDB_POOL)
def raw_media_spend(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Daily spend, impressions, clicks and conversions per channel and campaign, as landed.

    Each CSV in data/landing/media replaces its own rows in one transaction; a file with a value
    that does not parse fails with the file, row and column, and the table keeps its previous rows.
    Rows of files that have left the landing folder are removed.
    """
    folder = settings.landing_media_dir()
    if not any(folder.glob("*.csv")):
        raise LandingFileError(f"{folder}: no media spend CSV files found")
    with warehouse.get_connection() as conn:
        ingested = sync_csv_folder(
            conn,
            table="raw_media_spend",
            folder=folder,
            source_prefix="landing/media",
            columns=MEDIA_COLUMNS,
            typed_columns=MEDIA_TYPES,
        )
        metadata = table_metadata(conn, "raw.raw_media_spend")
        by_channel = conn.execute(
            "SELECT channel, sum(spend::DECIMAL(18, 2))::DOUBLE FROM raw.raw_media_spend GROUP BY 1 ORDER BY 1"
        ).fetchall()
    context.log.info(f"Synced {sum(i.rows for i in ingested)} media rows from {len(ingested)} file(s)")
    return dg.MaterializeResult(
        metadata={**metadata, "spend_by_channel": dg.MetadataValue.json(dict(by_channel))},
        data_version=dg.DataVersion(",".join(i.sha256[:16] for i in ingested)),
    )
