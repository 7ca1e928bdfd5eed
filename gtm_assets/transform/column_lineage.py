"""Column-level lineage for the dbt models, computed after `dbt build` has finished.

dagster-dbt's ``fetch_column_metadata()`` reads column types through dbt's adapter while dbt is still
running, i.e. from a second connection to the DuckDB file that dbt holds, which DuckDB (one writer
process per file) refuses. Here the types come from our own connection once dbt is done, and the
lineage itself is built by dagster-dbt's sqlglot-based builder from the compiled SQL, so the UI shows
where each column of each model comes from. Ephemeral parents (inlined as CTEs) are replaced by their
own parents, which is what the compiled SQL reads.

Parsing the compiled SQL with sqlglot takes about 0.3 s a model, most of an incremental build's
Python time; a model's lineage only changes with its SQL file or the columns it and its parents have
(an incremental batch changes the compiled SQL's file lists, not where a column comes from), so it is
kept in ``target/column_lineage_cache.json`` under a digest of those.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt.core.dbt_cli_event import EventHistoryMetadata, _build_column_lineage_metadata

from gtm_assets import settings

logger = logging.getLogger(__name__)


def _node(manifest: dict, unique_id: str) -> dict | None:
    return manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id)


def _columns(conn: duckdb.DuckDBPyConnection, node: dict) -> dict[str, dict[str, Any]]:
    identifier = node["identifier"] if node["unique_id"].startswith("source") else node["alias"]
    rows = conn.execute(f'DESCRIBE "{node["schema"]}"."{identifier}"').fetchall()
    return {name: {"data_type": kind} for name, kind, *_ in rows}


def _materialized_parents(manifest: dict, unique_id: str) -> list[dict]:
    parents = []
    for parent_id in manifest["parent_map"].get(unique_id, []):
        parent = _node(manifest, parent_id)
        if parent is None:
            continue
        if parent.get("config", {}).get("materialized") == "ephemeral":
            parents += _materialized_parents(manifest, parent_id)
        else:
            parents.append(parent)
    return parents


def _cache_path() -> Path:
    return settings.DBT_PROJECT_DIR / "target" / "column_lineage_cache.json"


def _read_cache() -> dict[str, str]:
    try:
        return json.loads(_cache_path().read_text())
    except (OSError, ValueError):
        return {}


def _cache_key(node: dict, columns: dict, parents: dict) -> str:
    signature = [node["unique_id"], node.get("checksum", {}).get("checksum"), columns, sorted(parents.items())]
    return hashlib.sha256(json.dumps(signature, sort_keys=True, default=str).encode()).hexdigest()


def column_lineage_metadata(conn: duckdb.DuckDBPyConnection, invocation, unique_id: str) -> dict:
    """``dagster/column_lineage`` (and nothing else) for one built model; {} when it cannot be built."""
    manifest = invocation.manifest
    node = _node(manifest, unique_id)
    try:
        materialized = [p for p in _materialized_parents(manifest, unique_id) if p.get("relation_name")]
        parents = {p["relation_name"]: _columns(conn, p) for p in materialized}
        columns = _columns(conn, node)
        cache, key = _read_cache(), _cache_key(node, columns, parents)
        if key in cache:
            return {"dagster/column_lineage": dg.deserialize_value(cache[key], dg.TableColumnLineage)}
        # The builder reads the direct parents' relations; an ephemeral parent has none (its SQL is inlined).
        props = {**node, "depends_on": {**node["depends_on"], "nodes": [p["unique_id"] for p in materialized]}}
        built = _build_column_lineage_metadata(
            event_history_metadata=EventHistoryMetadata(columns=columns, parents=parents),
            dbt_resource_props=props,
            manifest=manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            target_path=invocation.target_path,
            project=invocation.project,
        )
    except Exception as error:  # lineage is descriptive metadata: a model it cannot parse still materializes
        logger.debug("column lineage for %s not built: %s", unique_id, error)
        return {}
    if "dagster/column_lineage" in built:
        _cache_path().write_text(json.dumps({**cache, key: dg.serialize_value(built["dagster/column_lineage"])}))
    return built
