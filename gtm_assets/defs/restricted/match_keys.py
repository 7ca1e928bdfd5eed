"""match_keys: the restricted dbt model (dbt_like_sql/models/restricted/) of platform match keys.

It is built by its own dbt invocation so that its materializations carry only a row count and the
column schema: no preview, no column lineage, nothing of its values in Dagster's event log. Only the
upload step (defs/activation/platform_uploads.py) reads the table."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from gtm_assets.defs.governance.checks import no_pii_check
from gtm_assets.defs.governance.dbt_models import GtmDbtTranslator, _dbt_points_at, dbt_project
from gtm_assets.defs.resources import DUCKDB_POOL
from gtm_assets.warehouse.column_glossary import SHARED_COLUMNS
from gtm_assets.warehouse.resource import DuckDBWarehouse, warehouse_lock

RESTRICTED_SCHEMA = "restricted"


class RestrictedDbtTranslator(GtmDbtTranslator):
    """The restricted models are part of the governance step."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "ingest" if dbt_resource_props["resource_type"] == "source" else "governance"


def restricted_table_metadata(conn, table: str, descriptions: Mapping[str, str]) -> dict:
    """Row count and the described column schema only: a restricted table is never previewed."""
    described = conn.execute(f"DESCRIBE {table}").fetchall()
    descriptions = {**SHARED_COLUMNS, **descriptions}
    columns = [dg.TableColumn(name=n, type=t, description=descriptions.get(n)) for n, t, *_ in described]
    return {
        "dagster/row_count": dg.MetadataValue.int(int(conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])),
        "dagster/column_schema": dg.TableSchema(columns=columns),
        "dagster/table_name": dg.MetadataValue.text(table),
        "restricted": "values never shown; read only by the upload step",
    }


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select="path:models/restricted",
    dagster_dbt_translator=RestrictedDbtTranslator(),
    name="restricted_dbt_models",
    pool=DUCKDB_POOL,
)
def restricted_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: DuckDBWarehouse):
    """Run `dbt build` for the restricted models (match_keys) and record their size, never their values."""
    with warehouse_lock(warehouse.database), _dbt_points_at(warehouse.database):
        invocation = dbt.cli(["build"], context=context, raise_on_error=False)
        for event in invocation.stream():
            if isinstance(event, dg.Output):
                table = f"{RESTRICTED_SCHEMA}.{context.asset_key_for_output(event.output_name).path[-1]}"
                node = invocation.manifest["nodes"][event.metadata["unique_id"].value]
                documented = {name: c["description"] for name, c in node["columns"].items() if c.get("description")}
                with warehouse.get_connection() as conn:
                    event = event.with_metadata(
                        {**restricted_table_metadata(conn, table, documented), "unique_id": event.metadata["unique_id"]}
                    )
            yield event
    if not invocation.is_successful():
        raise dg.Failure(
            description="dbt build of the restricted models failed", metadata={"dbt_errors": str(invocation.get_error() or "")}
        )


match_keys_have_no_raw_pii = no_pii_check("match_keys", ["restricted.match_keys"])
