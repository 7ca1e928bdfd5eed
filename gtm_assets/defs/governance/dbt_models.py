"""The dbt project in dbt_like_sql/ as assets: governance (guarded_sessions and its accounting
tables) and features. dbt tests become asset checks (error severity blocks downstream), model
checksums become code versions, and every model's materialization gets the standard metadata."""


import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from gtm_assets import settings
from gtm_assets.dbt_project import dbt_project
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.dbt_column_lineage import column_lineage_metadata
from gtm_assets.observability import table_metadata
from gtm_assets.warehouse import DuckDBWarehouse, warehouse_lock

# `dagster dev` builds a missing or stale manifest itself; everything else calls dbt_project.prepare().
dbt_project.prepare_if_dev()


class GtmDbtTranslator(DagsterDbtTranslator):
    """Asset keys are bare model/source names, so dbt sources meet the Python ingestion assets."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        declared = dbt_resource_props.get("meta", {}).get("dagster", {}).get("asset_key")
        return dg.AssetKey(declared) if declared else dg.AssetKey(dbt_resource_props["name"])

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        """Governance and features run once after new raw data, whatever started the ingestion
        (the sensor, `gtm run`, a partition re-ingested from the UI): eager waits while upstream
        runs are in progress, so a batch of files is governed once."""
        if dbt_resource_props["resource_type"] == "source":
            return None
        return dg.AutomationCondition.eager()

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "ingest"
        return dbt_resource_props["fqn"][1]  # the folder under models/: governance, features

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return [OWNER]


@contextmanager
def _dbt_points_at(database: str) -> Iterator[None]:
    """dbt's profile reads GTM_DUCKDB_PATH; make it name the resource's file for this invocation."""
    previous = os.environ.get("GTM_DUCKDB_PATH")
    os.environ["GTM_DUCKDB_PATH"] = str(Path(database).resolve())
    try:
        yield
    finally:
        if previous is None:
            del os.environ["GTM_DUCKDB_PATH"]
        else:
            os.environ["GTM_DUCKDB_PATH"] = previous


def _prune_invocation_targets(keep: int) -> None:
    """dagster-dbt writes each invocation's artifacts to target/<name>-<id>/; keep the newest few."""
    runs = sorted(
        (p for p in (settings.DBT_PROJECT_DIR / "target").glob("gtm_dbt_models-*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
    )
    for stale in runs[:-keep]:
        shutil.rmtree(stale, ignore_errors=True)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=GtmDbtTranslator(),
    exclude="path:models/restricted",  # built and described without previews by defs/restricted/match_keys.py
    pool=DUCKDB_POOL,
)
def gtm_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: DuckDBWarehouse):
    """Run `dbt build` for the selected models, then describe each built table from DuckDB."""
    with warehouse_lock(warehouse.database), _dbt_points_at(warehouse.database):
        invocation = dbt.cli(["build"], context=context, raise_on_error=False)
        events = list(invocation.stream())
        with warehouse.get_connection() as conn:
            for event in events:
                if isinstance(event, dg.Output):
                    table = f"main.{context.asset_key_for_output(event.output_name).path[-1]}"
                    lineage = column_lineage_metadata(conn, invocation, event.metadata["unique_id"].value)
                    event = event.with_metadata({**event.metadata, **table_metadata(conn, table), **lineage})
                yield event
    _prune_invocation_targets(keep=5)
    if not invocation.is_successful():
        raise dg.Failure(
            description="dbt build failed",
            metadata={"dbt_errors": dg.MetadataValue.md(invocation.get_error() and str(invocation.get_error()) or "")},
        )
