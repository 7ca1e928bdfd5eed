"""The small strict landing tables (media spend, media plan, lift tests, customers): a bad value
fails the file with file, row and column named.

Each file is one unit of ingestion: its rows are replaced in one transaction, so re-ingesting a
file never duplicates it and a failed ingestion leaves the table as it was. Every raw row carries
``source_file``, ``source_file_sha256``, ``source_row_number`` (1-based data row: the header is not
counted, so for CSV it is the file's line number minus one; for JSON lines it is the line number),
``ingested_at`` and ``raw_row_id`` = source_file + ':' + row number (unique per file name and row,
whatever the content).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from gtm_assets.landing.files import sha256_of_file
from gtm_assets.warehouse.sql import first_row, sql_identifier, sql_string

MEDIA_COLUMNS = ("date", "channel", "campaign", "spend", "impressions", "clicks", "conversions")
MEDIA_PLAN_COLUMNS = ("date", "channel", "planned_spend")
SALES_COLUMNS = ("date", "orders", "revenue")
CUSTOMER_COLUMNS = (
    "ID",
    "Year_Birth",
    "Education",
    "Marital_Status",
    "Income",
    "Kidhome",
    "Teenhome",
    "Dt_Customer",
    "Recency",
    "MntWines",
    "MntFruits",
    "MntMeatProducts",
    "MntFishProducts",
    "MntSweetProducts",
    "MntGoldProds",
    "NumDealsPurchases",
    "NumWebPurchases",
    "NumCatalogPurchases",
    "NumStorePurchases",
    "NumWebVisitsMonth",
    "AcceptedCmp3",
    "AcceptedCmp4",
    "AcceptedCmp5",
    "AcceptedCmp1",
    "AcceptedCmp2",
    "Complain",
    "Z_CostContact",
    "Z_Revenue",
    "Response",
)


class LandingFileError(ValueError):
    """A landing file that cannot be ingested; the message names the file (and row/column)."""


@dataclass(frozen=True)
class IngestedFile:
    source_file: str
    sha256: str
    rows: int


def _reader(path: Path, *, delimiter: str = ",") -> tuple[str, str]:
    """A DuckDB table function reading CSV ``path`` as text, and its row-number expression."""
    if not path.name.endswith((".csv", ".csv.gz", ".tsv")):
        raise LandingFileError(f"{path}: unsupported file type (expected .csv, .csv.gz or .tsv)")
    return (
        f"read_csv({sql_string(str(path))}, header = true, all_varchar = true, delim = {sql_string(delimiter)}, "
        "strict_mode = true, null_padding = false)",
        "row_number() OVER ()",
    )


def _columns_of(conn: duckdb.DuckDBPyConnection, path: Path, reader: str) -> list[str]:
    try:
        return [row[0] for row in conn.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    except duckdb.Error as error:
        raise LandingFileError(f"{path}: unreadable: {error}") from error


def create_raw_table(conn: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS raw")
    column_ddl = ", ".join(f"{sql_identifier(c)} VARCHAR" for c in columns)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS raw.{table} ({column_ddl}, source_file VARCHAR NOT NULL, "
        "source_file_sha256 VARCHAR NOT NULL, source_row_number BIGINT NOT NULL, "
        "ingested_at TIMESTAMP NOT NULL, raw_row_id VARCHAR NOT NULL)"
    )


def replace_file_rows(
    conn: duckdb.DuckDBPyConnection,
    *,
    table: str,
    path: Path,
    source_file: str,
    columns: tuple[str, ...],
    delimiter: str = ",",
    typed_columns: dict[str, str] | None = None,
    signed_columns: tuple[str, ...] = (),
    ingested_at: datetime | None = None,
) -> IngestedFile:
    """Replace the rows that ``source_file`` contributed to ``raw.<table>`` in one transaction."""
    if not path.is_file():
        raise LandingFileError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise LandingFileError(f"{path}: empty file (no header, no rows)")
    present = _columns_of(conn, path, _reader(path, delimiter=delimiter)[0])
    missing = [c for c in columns if c not in present]
    if missing:
        raise LandingFileError(f"{path}: missing required column(s) {', '.join(missing)} (found: {', '.join(present)})")
    reader, row_number = _reader(path, delimiter=delimiter)
    sha256 = sha256_of_file(path)
    ingested_at = ingested_at or datetime.now(UTC).replace(tzinfo=None)
    select_columns = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in columns)
    create_raw_table(conn, table, columns)
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(f"DELETE FROM raw.{table} WHERE source_file = ?", [source_file])
        conn.execute(
            f"""
            INSERT INTO raw.{table}
            SELECT *, ? || ':' || source_row_number AS raw_row_id
            FROM (
                SELECT {select_columns}, ? AS source_file, ? AS source_file_sha256,
                       {row_number} AS source_row_number, ?::TIMESTAMP AS ingested_at
                FROM {reader}
            )
            """,
            [source_file, source_file, sha256, ingested_at],
        )
        rows = conn.execute(f"SELECT count(*) FROM raw.{table} WHERE source_file = ?", [source_file]).fetchall()[0][0]
        if rows == 0:
            raise LandingFileError(f"{path}: has a header but no data rows")
        for column, sql_type in (typed_columns or {}).items():
            _raise_on_first_bad_value(conn, table, path, source_file, column, sql_type, signed=column in signed_columns)
        conn.execute("COMMIT")
    except duckdb.Error as error:
        conn.execute("ROLLBACK")
        raise LandingFileError(f"{path}: could not be ingested: {error}") from error
    except LandingFileError:
        conn.execute("ROLLBACK")
        raise
    return IngestedFile(source_file=source_file, sha256=sha256, rows=rows)


def _raise_on_first_bad_value(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    path: Path,
    source_file: str,
    column: str,
    sql_type: str,
    *,
    signed: bool = False,
) -> None:
    """Numbers must be non-negative unless the column is ``signed`` (a measured lift can be negative)."""
    value = f'try_cast(trim("{column}") AS {sql_type})'
    numeric = sql_type.upper() not in ("DATE", "TIMESTAMP", "VARCHAR") and not signed
    negative = f" OR {value} < 0" if numeric else ""
    bad = first_row(
        conn.execute(
            f"""
        SELECT source_row_number, "{column}" FROM raw.{table}
        WHERE source_file = ? AND (nullif(trim("{column}"), '') IS NULL OR {value} IS NULL{negative})
        ORDER BY source_row_number LIMIT 1
        """,
            [source_file],
        )
    )
    if bad:
        raise LandingFileError(
            f"{path}: row {bad[0]}, column {column!r}: {bad[1]!r} is not a valid "
            + ("non-negative " if numeric else "")
            + sql_type
        )


def sync_csv_folder(
    conn: duckdb.DuckDBPyConnection,
    *,
    table: str,
    folder: Path,
    source_prefix: str,
    columns: tuple[str, ...],
    typed_columns: dict[str, str],
    signed_columns: tuple[str, ...] = (),
) -> list[IngestedFile]:
    """Mirror every CSV of ``folder`` into ``raw.<table>``: each file replaces its own rows (see
    ``replace_file_rows``), rows of files that have left the folder are removed, and the table
    exists (empty) even when the folder holds no file."""
    files = sorted(p for p in folder.glob("*.csv") if p.is_file()) if folder.is_dir() else []
    ingested = [
        replace_file_rows(
            conn,
            table=table,
            path=path,
            source_file=f"{source_prefix}/{path.name}",
            columns=columns,
            typed_columns=typed_columns,
            signed_columns=signed_columns,
        )
        for path in files
    ]
    create_raw_table(conn, table, columns)
    present = [item.source_file for item in ingested]
    conn.execute(f"DELETE FROM raw.{table} WHERE NOT list_contains(?, source_file)", [present])
    return ingested
