"""raw_prospects: B2B prospects for cold e-mail from data/landing/prospects."""

import dagster as dg

from gtm_assets import settings
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.landing import sync_csv_folder
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

PROSPECT_COLUMNS = ("prospect_id", "company", "industry", "job_title", "role", "email", "consent_email")
# consent_email is read as consent only when it says true/yes/1: anything else means no consent.
PROSPECT_TYPES: dict[str, str] = {}


COLUMN_DESCRIPTIONS = {
    "prospect_id": "Prospect id from the prospects file.",
    "company": "Company of the prospect.",
    "industry": "Industry of the company.",
    "job_title": "Job title as written in the file.",
    "role": "Function of the job (sales, marketing, c_suite, ...).",
    "consent_email": "true when the prospect agreed to marketing e-mail (text as landed).",
}


@dg.asset(group_name="ingest", owners=[OWNER], kinds={"duckdb", "python"}, pool=DUCKDB_POOL)
def raw_prospects(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """B2B prospects (company, industry, job title, role: sales / marketing / c_suite, e-mail, e-mail
    consent), as landed. Each CSV in data/landing/prospects replaces its own rows in one transaction; a
    value that does not parse fails with the file, row and column. No files: the table is empty and no
    cold e-mail is written."""
    with warehouse.get_connection() as conn:
        ingested = sync_csv_folder(
            conn,
            table="raw_prospects",
            folder=settings.landing_prospects_dir(),
            source_prefix="landing/prospects",
            columns=PROSPECT_COLUMNS,
            typed_columns=PROSPECT_TYPES,
        )
        metadata = table_metadata(conn, "raw.raw_prospects", descriptions=COLUMN_DESCRIPTIONS)
    context.log.info(f"Synced {sum(i.rows for i in ingested)} prospect rows from {len(ingested)} file(s)")
    return dg.MaterializeResult(
        metadata=metadata, data_version=dg.DataVersion(",".join(i.sha256[:16] for i in ingested) or "no prospects")
    )
