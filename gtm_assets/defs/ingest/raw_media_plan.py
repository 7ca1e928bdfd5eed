"""raw_media_plan: the planned daily spend per channel from data/landing/plans."""

import dagster as dg

from gtm_assets import settings
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.landing import MEDIA_PLAN_COLUMNS, sync_csv_folder
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

MEDIA_PLAN_TYPES = {"date": "DATE", "planned_spend": "DECIMAL(18, 2)"}


COLUMN_DESCRIPTIONS = {"planned_spend": "Spend the media plan set for the channel that day, fixed before the day."}


@dg.asset(group_name="ingest", owners=[OWNER], kinds={"duckdb", "python"}, pool=DUCKDB_POOL)
def raw_media_plan(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Planned daily spend per channel (the flight schedule, fixed in advance), as landed.

    Each CSV in data/landing/plans (date, channel, planned_spend) replaces its own rows in one
    transaction; a value that does not parse fails with the file, row and column. Rows of files
    that have left the folder are removed. No plan files is not an error: the table is then empty
    and the forecast falls back to the recent spend level.
    """
    with warehouse.get_connection() as conn:
        ingested = sync_csv_folder(
            conn,
            table="raw_media_plan",
            folder=settings.landing_plans_dir(),
            source_prefix="landing/plans",
            columns=MEDIA_PLAN_COLUMNS,
            typed_columns=MEDIA_PLAN_TYPES,
        )
        metadata = table_metadata(conn, "raw.raw_media_plan", descriptions=COLUMN_DESCRIPTIONS)
        first_day, last_day = conn.execute(
            "SELECT min(date::DATE)::VARCHAR, max(date::DATE)::VARCHAR FROM raw.raw_media_plan"
        ).fetchall()[0]
    context.log.info(f"Synced {sum(i.rows for i in ingested)} media plan rows from {len(ingested)} file(s)")
    return dg.MaterializeResult(
        metadata={**metadata, "plan_first_day": str(first_day), "plan_last_day": str(last_day)},
        data_version=dg.DataVersion(",".join(i.sha256[:16] for i in ingested) or "no plan"),
    )
