"""Landing files into the raw zone with DuckDB's own readers (never pandas).

``events``: event files (the flat layout or GA4 BigQuery exports), one file per unit of ingestion,
bad input recorded instead of raised. ``tables``: the small strict CSV tables (media spend, plans,
sales, lift tests, customers). ``files``: hashes and safe names. ``ga4_schema``: the GA4 export schema."""

from gtm_assets.landing.events import EVENT_COLUMNS, IngestOutcome, ensure_landing_tables, ingest_event_file
from gtm_assets.landing.files import EVENT_FILE_SUFFIXES, UnsafeFileName, check_landing_name, is_event_file, sha256_of_file
from gtm_assets.landing.tables import (
    CUSTOMER_COLUMNS,
    MEDIA_COLUMNS,
    MEDIA_PLAN_COLUMNS,
    SALES_COLUMNS,
    IngestedFile,
    LandingFileError,
    create_raw_table,
    replace_file_rows,
    sync_csv_folder,
)

__all__ = [
    "CUSTOMER_COLUMNS",
    "EVENT_COLUMNS",
    "EVENT_FILE_SUFFIXES",
    "MEDIA_COLUMNS",
    "MEDIA_PLAN_COLUMNS",
    "SALES_COLUMNS",
    "IngestOutcome",
    "IngestedFile",
    "LandingFileError",
    "UnsafeFileName",
    "check_landing_name",
    "create_raw_table",
    "ensure_landing_tables",
    "ingest_event_file",
    "is_event_file",
    "replace_file_rows",
    "sha256_of_file",
    "sync_csv_folder",
]
