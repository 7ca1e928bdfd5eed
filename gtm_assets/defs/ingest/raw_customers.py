"""raw_customers: the real customer table (marketing_campaign.csv, tab-separated)."""

import dagster as dg

from gtm_assets import settings
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.landing import CUSTOMER_COLUMNS, replace_file_rows
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

# The Kaggle "Customer Personality Analysis" columns, as its data card describes them (landed as text).
COLUMN_DESCRIPTIONS = {
    "ID": "Customer id.",
    "Year_Birth": "Year of birth.",
    "Education": "Education level (Graduation, PhD, Master, 2n Cycle, Basic).",
    "Marital_Status": "Marital status.",
    "Income": "Yearly household income (blank for 24 customers).",
    "Kidhome": "Number of small children in the household.",
    "Teenhome": "Number of teenagers in the household.",
    "Dt_Customer": "Date the customer enrolled (dd-mm-yyyy).",
    "Recency": "Days since the last purchase.",
    "MntWines": "Amount spent on wine in the last two years.",
    "MntFruits": "Amount spent on fruit in the last two years.",
    "MntMeatProducts": "Amount spent on meat in the last two years.",
    "MntFishProducts": "Amount spent on fish in the last two years.",
    "MntSweetProducts": "Amount spent on sweets in the last two years.",
    "MntGoldProds": "Amount spent on gold in the last two years.",
    "NumDealsPurchases": "Purchases made with a discount.",
    "NumWebPurchases": "Purchases made through the website.",
    "NumCatalogPurchases": "Purchases made from a catalogue.",
    "NumStorePurchases": "Purchases made in stores.",
    "NumWebVisitsMonth": "Website visits in the last month.",
    "AcceptedCmp1": "1 if the customer accepted the offer of campaign 1.",
    "AcceptedCmp2": "1 if the customer accepted the offer of campaign 2.",
    "AcceptedCmp3": "1 if the customer accepted the offer of campaign 3.",
    "AcceptedCmp4": "1 if the customer accepted the offer of campaign 4.",
    "AcceptedCmp5": "1 if the customer accepted the offer of campaign 5.",
    "Complain": "1 if the customer complained in the last two years.",
    "Z_CostContact": "Constant in the source (always 3): cost of a contact.",
    "Z_Revenue": "Constant in the source (always 11): revenue of an accepted offer.",
    "Response": "1 if the customer accepted the offer of the last campaign.",
}


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
        metadata = table_metadata(conn, "raw.raw_customers", descriptions=COLUMN_DESCRIPTIONS)
    return dg.MaterializeResult(
        metadata={**metadata, "source_file_sha256": ingested.sha256},
        data_version=dg.DataVersion(ingested.sha256),
    )
