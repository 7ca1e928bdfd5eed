"""The dbt models on Apache Spark: the `spark` target of dbt_like_sql/profiles.yml (README "Scaling out").

Ingestion stays per landing file (each file its own unit of failure) and writes the raw zone; for
Spark the raw tables the governance models read are written as Parquet folders
(``export_raw_zone``), which the project's on-run-start hook registers as ``raw.*`` tables. dbt then
builds the same models on Spark. The HMAC key reaches Spark as its two RFC 2104 pads (hex) in the
session configuration, derived here from ``GTM_HMAC_KEY`` exactly as for DuckDB, passed to dbt in
``DBT_ENV_SECRET_`` variables (scrubbed from dbt's logs), never in SQL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import duckdb

from gtm_assets import settings
from gtm_assets.transform.project import dbt_executable
from gtm_assets.warehouse.resource import hmac_pads

# The raw-zone tables the models that run on Spark read (sources.yml and the raw_zone() macro). Those
# the warehouse holds are exported; the on-run-start hook registers the exported ones (GTM_SPARK_RAW_TABLES).
RAW_ZONE_TABLES = ("raw_events", "raw_ga4_events", "landing_files", "raw_media_spend", "raw_customers")


def default_spark_dir() -> Path:
    """Where the local Spark keeps its warehouse, metastore and the exported raw zone."""
    return settings.data_dir() / "spark"


def export_raw_zone(conn: duckdb.DuckDBPyConnection, raw_zone: Path) -> dict[str, int]:
    """Write the raw tables the models that run on Spark read as Parquet folders; rows per table."""
    counts = {}
    present = {name for (name,) in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()}
    for table in RAW_ZONE_TABLES:
        folder = raw_zone / table
        if table not in present:  # e.g. no media spend ingested: the models reading it cannot be built
            shutil.rmtree(folder, ignore_errors=True)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.parquet"):
            stale.unlink()
        target = str(folder / "part-0.parquet").replace("'", "''")
        conn.execute(f"COPY raw.{table} TO '{target}' (FORMAT parquet)")
        counts[table] = conn.execute(f"SELECT count(*) FROM raw.{table}").fetchall()[0][0]
    return counts


def dbt_on_spark(args: list[str], spark_dir: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``dbt <args> --target spark`` over the raw zone exported to ``<spark_dir>/raw``.

    dbt's artifacts go to ``<spark_dir>/dbt_target`` so the DuckDB manifest the Dagster assets are
    built from is untouched. Returns the finished process (output captured)."""
    spark_dir = (spark_dir or default_spark_dir()).resolve()
    spark_dir.mkdir(parents=True, exist_ok=True)
    inner, outer = hmac_pads(settings.hmac_key())
    project = str(settings.DBT_PROJECT_DIR)
    env = {
        **os.environ,
        "GTM_SPARK_DIR": str(spark_dir),
        "GTM_SPARK_RAW_ZONE": str(spark_dir / "raw"),
        "GTM_SPARK_RAW_TABLES": ",".join(t for t in RAW_ZONE_TABLES if (spark_dir / "raw" / t).is_dir()),
        "DBT_ENV_SECRET_GTM_HMAC_IPAD": inner.hex(),
        "DBT_ENV_SECRET_GTM_HMAC_OPAD": outer.hex(),
    }
    command = [
        dbt_executable(),
        *args,
        "--target",
        "spark",
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target-path",
        str(spark_dir / "dbt_target"),
        "--log-path",
        str(spark_dir / "dbt_logs"),
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, cwd=spark_dir)


def spark_table_files(spark_dir: Path, table: str, schema: str = "main") -> str:
    """A glob over the Parquet files of a table the local Spark built (readable by DuckDB)."""
    return str(spark_dir.resolve() / "warehouse" / f"{schema}.db" / table / "*.parquet")


def parity_fingerprint(conn: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, str]:
    """(rows, md5) of a relation's rows, every column but processed_at (when it has one), in a form both engines'
    tables agree on: timestamps as UTC text, doubles (sums whose order differs between engines) to
    6 decimals, rows sorted. ``relation`` is a DuckDB table or a read_parquet() of Spark's files."""
    described = conn.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    parts = []
    for name, kind, *_ in described:
        if name == "processed_at":
            continue
        if kind.startswith("TIMESTAMP"):
            value = (
                f"strftime(timezone('UTC', {name}::TIMESTAMPTZ), '%Y-%m-%d %H:%M:%S.%f')"
                if "TIME ZONE" in kind
                else f"strftime({name}, '%Y-%m-%d %H:%M:%S.%f')"
            )
        elif kind in ("DOUBLE", "FLOAT"):
            value = f"round({name}, 6)::VARCHAR"
        else:
            value = f"{name}::VARCHAR"
        parts.append(f"coalesce({value}, '<null>')")
    rows = f"SELECT md5(concat_ws('|', {', '.join(parts)})) AS line FROM {relation}"
    return conn.execute(f"SELECT count(*), md5(string_agg(line, '' ORDER BY line)) FROM ({rows})").fetchall()[0]
