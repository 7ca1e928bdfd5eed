"""Standard materialization metadata for every table the graph writes: row count, column schema,
a small preview and the source file hashes, under Dagster's standard keys so the UI renders them.
Raw PII columns never appear in a preview."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import duckdb

from gtm_assets.warehouse.column_glossary import SHARED_COLUMNS
from gtm_assets.warehouse.sql import sql_identifier

RAW_PII_COLUMNS = frozenset({"email", "ip_address", "user_pseudo_id"})
PREVIEW_ROWS = 5


def _markdown_table(columns: list[str], rows: list[tuple]) -> str:
    def cell(value) -> str:
        text = "" if value is None else str(value)
        return (text[:60] + "…" if len(text) > 60 else text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def table_metadata(
    conn: duckdb.DuckDBPyConnection, table: str, *, where: str = "", descriptions: Mapping[str, str] | None = None
) -> dict:
    """Metadata for ``table`` (optionally the rows matching ``where``), ready for a materialization;
    ``descriptions`` (column name -> text, e.g. from a dbt schema file) go into the column schema, the
    shared glossary describing the columns they leave out."""
    described = conn.execute(f"DESCRIBE {table}").fetchall()
    descriptions = {**SHARED_COLUMNS, **(descriptions or {})}
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name=name, type=kind, description=descriptions.get(name)) for name, kind, *_ in described]
    )
    filter_sql = f" WHERE {where}" if where else ""
    row_count = conn.execute(f"SELECT count(*) FROM {table}{filter_sql}").fetchall()[0][0]
    shown = [name for name, *_ in described if name not in RAW_PII_COLUMNS]
    preview_sql = ", ".join(sql_identifier(c) for c in shown)
    preview = conn.execute(f"SELECT {preview_sql} FROM {table}{filter_sql} LIMIT {PREVIEW_ROWS}").fetchall()
    metadata: dict = {
        "dagster/row_count": dg.MetadataValue.int(int(row_count)),
        "dagster/column_schema": schema,
        "dagster/table_name": dg.MetadataValue.text(table),
        "preview": dg.MetadataValue.md(_markdown_table(shown, preview)),
    }
    if "source_file_sha256" in {name for name, *_ in described}:
        hashes = conn.execute(
            f"SELECT source_file, any_value(source_file_sha256), count(*) FROM {table}{filter_sql} "
            "GROUP BY source_file ORDER BY source_file"
        ).fetchall()
        metadata["source_files"] = dg.MetadataValue.json({name: {"sha256": sha, "rows": int(n)} for name, sha, n in hashes})
    return metadata
