"""raw_daily_sales: the order system's daily ledger (orders and revenue) from data/landing/sales."""

import dagster as dg

from gtm_assets import settings
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.landing import SALES_COLUMNS, sync_csv_folder
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

SALES_TYPES = {"date": "DATE", "orders": "BIGINT", "revenue": "DECIMAL(18, 2)"}


COLUMN_DESCRIPTIONS = {
    "date": "Day of the orders (UTC).",
    "orders": "Orders that day, all customers (consented or not).",
    "revenue": "Revenue of that day's orders, all customers: what the models fit when the ledger covers every media day.",
}


@dg.asset(group_name="ingest", owners=[OWNER], kinds={"duckdb", "python"}, pool=DUCKDB_POOL)
def raw_daily_sales(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Daily orders and revenue from the order system (the sales ledger: every order, whatever the
    visitor's consent), as landed. When it covers the modelled weeks, mmm_model and forecast model
    these sales (what a budget owner is judged on) instead of the revenue of consented sessions.

    Each CSV in data/landing/sales (date, orders, revenue) replaces its own rows in one transaction;
    a value that does not parse fails with the file, row and column. Rows of files that have left
    the folder are removed. No sales files is not an error: the models then use consented sessions.
    """
    with warehouse.get_connection() as conn:
        ingested = sync_csv_folder(
            conn,
            table="raw_daily_sales",
            folder=settings.landing_sales_dir(),
            source_prefix="landing/sales",
            columns=SALES_COLUMNS,
            typed_columns=SALES_TYPES,
        )
        metadata = table_metadata(conn, "raw.raw_daily_sales", descriptions=COLUMN_DESCRIPTIONS)
        first_day, last_day, revenue = conn.execute(
            "SELECT min(date::DATE)::VARCHAR, max(date::DATE)::VARCHAR, coalesce(sum(revenue::DECIMAL(18, 2)), 0)::DOUBLE "
            "FROM raw.raw_daily_sales"
        ).fetchall()[0]
    context.log.info(f"Synced {sum(i.rows for i in ingested)} daily sales rows from {len(ingested)} file(s)")
    return dg.MaterializeResult(
        metadata={**metadata, "sales_first_day": str(first_day), "sales_last_day": str(last_day), "revenue": float(revenue)},
        data_version=dg.DataVersion(",".join(i.sha256[:16] for i in ingested) or "no sales"),
    )
