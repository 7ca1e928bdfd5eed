"""raw_customers: the real customer table (marketing_campaign.csv, tab-separated)."""

import dagster as dg

from gtm_assets import settings
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.landing import CUSTOMER_COLUMNS, replace_file_rows
from gtm_assets.observability import table_metadata
from gtm_assets.warehouse import DuckDBWarehouse


@dg.asset(group_name="ingest", owners=[OWNER], kinds={"duckdb", "python"}, pool=DUCKDB_POOL)
def raw_customers(warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Customer demographics, two-year spend by category, purchases and campaign responses
    (Kaggle "Customer Personality Analysis"), landed as text with lineage columns."""
    path = settings.customers_csv()
    with warehouse.get_connection() as conn:
        ingested = replace_file_rows(
            conn,
            table="raw_customers",
            path=path,
            source_file=path.name,
            columns=CUSTOMER_COLUMNS,
            delimiter="\t",
        )
        metadata = table_metadata(conn, "raw.raw_customers")
    return dg.MaterializeResult(
        metadata={**metadata, "source_file_sha256": ingested.sha256},
        data_version=dg.DataVersion(ingested.sha256),
    )
