"""raw_lift_tests: incrementality experiments (lift tests / geo holdouts) from data/landing/experiments."""

import dagster as dg

from gtm_assets import settings
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.landing import sync_csv_folder
from gtm_assets.models.mmm_data import LIFT_TEST_COLUMNS
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

LIFT_TEST_TYPES = {
    "start_date": "DATE",
    "end_date": "DATE",
    "spend": "DECIMAL(18, 2)",
    "incremental_revenue": "DECIMAL(18, 2)",
    "standard_error": "DECIMAL(18, 2)",
}


COLUMN_DESCRIPTIONS = {
    "channel": "Channel the lift test measured.",
    "start_date": "First day of the test window.",
    "end_date": "Last day of the test window.",
    "spend": "Spend the test withheld (switch-off) or added over its window.",
    "incremental_revenue": "Measured incremental revenue of that spend over the window (all customers).",
    "standard_error": "Standard error of incremental_revenue, as the experiment estimated it.",
}


@dg.asset(group_name="ingest", owners=[OWNER], kinds={"duckdb", "python"}, pool=DUCKDB_POOL)
def raw_lift_tests(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Lift tests per channel (test window, test spend, measured incremental revenue and its
    standard error), as landed; mmm_model uses them to calibrate the channels' curves.

    Each CSV in data/landing/experiments replaces its own rows in one transaction; a value that does
    not parse fails with the file, row and column. Rows of files that have left the folder are
    removed. No experiment files is not an error: the table is then empty and the model is fitted
    on the weekly panel alone.
    """
    with warehouse.get_connection() as conn:
        ingested = sync_csv_folder(
            conn,
            table="raw_lift_tests",
            folder=settings.landing_experiments_dir(),
            source_prefix="landing/experiments",
            columns=LIFT_TEST_COLUMNS,
            typed_columns=LIFT_TEST_TYPES,
            signed_columns=("incremental_revenue",),  # an experiment can measure a negative lift
        )
        metadata = table_metadata(conn, "raw.raw_lift_tests", descriptions=COLUMN_DESCRIPTIONS)
        channels = conn.execute(
            "SELECT coalesce(string_agg(DISTINCT channel, ', ' ORDER BY channel), '') FROM raw.raw_lift_tests"
        ).fetchall()[0][0]
    context.log.info(f"Synced {sum(i.rows for i in ingested)} lift test rows from {len(ingested)} file(s)")
    return dg.MaterializeResult(
        metadata={**metadata, "channels_tested": channels},
        data_version=dg.DataVersion(",".join(i.sha256[:16] for i in ingested) or "no lift tests"),
    )
