"""Resources shared by every asset: the DuckDB warehouse and the dbt CLI, both pointed at the file
named by GTM_DUCKDB_PATH; the DSP adapter; the optional LLM (offline unless GTM_LLM_MODE=openai).
Runs execute in-process (one DuckDB writer, no per-step process start)."""

import dagster as dg

from gtm_assets import settings
from gtm_assets.outbound.dsp import DspClient
from gtm_assets.outbound.llm import llm_from_settings
from gtm_assets.transform.project import GtmDbtCliResource, dbt_executable
from gtm_assets.warehouse.resource import DuckDBWarehouse

# Every asset that opens the DuckDB file is in this pool; dagster_home/dagster.yaml limits it to
# one run at a time (granularity: run), so the daemon never starts two writers.
DUCKDB_POOL = "duckdb_warehouse"
OWNER = "team:data-platform"


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "warehouse": DuckDBWarehouse(database=str(settings.duckdb_path())),
            "dbt": GtmDbtCliResource(
                project_dir=str(settings.DBT_PROJECT_DIR),
                profiles_dir=str(settings.DBT_PROJECT_DIR),
                dbt_executable=dbt_executable(),
                global_config_flags=["--no-use-colors"],  # plain text in run logs and redirected output
            ),
            "dsp": DspClient(
                mode=settings.env("GTM_DSP_MODE", "dry_run"),
                endpoint=settings.env("GTM_DSP_ENDPOINT"),
                api_token=settings.secret("GTM_DSP_API_TOKEN"),
            ),
            "llm": llm_from_settings(),
        },
        executor=dg.in_process_executor,
    )
