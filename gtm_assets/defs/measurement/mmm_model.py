"""mmm_model: adstock + Hill media-mix model on the weekly revenue/spend panel."""

import dagster as dg
import matplotlib.pyplot as plt
import pandas as pd

from gtm_assets.charts import figure_metadata
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.mmm import fit_mmm
from gtm_assets.observability import table_metadata
from gtm_assets.warehouse import DuckDBWarehouse

# Complete weeks only (Monday-start, seven days of media data), revenue from guarded sessions.
WEEKLY_PANEL_SQL = """
WITH media AS (
    SELECT date::DATE AS day, channel, spend::DECIMAL(18, 2) AS spend FROM raw.raw_media_spend
),
full_weeks AS (
    SELECT date_trunc('week', day)::DATE AS week FROM media
    GROUP BY 1 HAVING count(DISTINCT day) = 7
),
spend AS (
    SELECT date_trunc('week', day)::DATE AS week, channel, sum(spend)::DOUBLE AS spend
    FROM media GROUP BY 1, 2
),
revenue AS (
    SELECT date_trunc('week', session_start)::DATE AS week, sum(revenue)::DOUBLE AS revenue
    FROM main.guarded_sessions GROUP BY 1
)
SELECT w.week, s.channel, s.spend, coalesce(r.revenue, 0) AS revenue
FROM full_weeks w JOIN spend s USING (week) LEFT JOIN revenue r USING (week)
ORDER BY w.week, s.channel
"""


class MMMConfig(dg.Config):
    n_bootstrap: int = 30
    holdout_weeks: int = 8
    seed: int = 0


def weekly_panel(conn) -> tuple[pd.DataFrame, list[str]]:
    """Wide weekly panel: week, revenue, one spend column per channel."""
    long = conn.execute(WEEKLY_PANEL_SQL).fetchdf()
    wide = long.pivot_table(index=["week", "revenue"], columns="channel", values="spend", fill_value=0.0)
    channels = [str(c) for c in wide.columns]
    return wide.reset_index().rename_axis(columns=None), channels


def _roi_chart(channels: pd.DataFrame) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ordered = channels.sort_values("roi")
    errors = [ordered["roi"] - ordered["roi_lo"], ordered["roi_hi"] - ordered["roi"]]
    ax.barh(ordered["channel"], ordered["roi"], xerr=errors, color="#4C78A8", capsize=3)
    ax.set_xlabel("ROI (incremental revenue per unit of spend), 90% interval")
    ax.set_title("Media ROI by channel")
    return fig


@dg.asset(
    deps=["guarded_sessions", "raw_media_spend"],
    group_name="measurement",
    owners=[OWNER],
    kinds={"duckdb", "python", "statsmodels"},
    pool=DUCKDB_POOL,
)
def mmm_model(context: dg.AssetExecutionContext, config: MMMConfig, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Media-mix model on weekly revenue and spend: geometric adstock and Hill saturation per channel,
    estimated from the data (variable projection, non-negative media coefficients), with block-bootstrap
    intervals for ROI, marginal ROI and contribution. Writes mmm_model (one row per channel),
    mmm_response_curves and mmm_decomposition."""
    with warehouse.get_connection() as conn:
        panel, channels = weekly_panel(conn)
        result = fit_mmm(
            panel,
            date_col="week",
            target_col="revenue",
            spend_cols=channels,
            n_bootstrap=config.n_bootstrap,
            holdout_weeks=config.holdout_weeks,
            seed=config.seed,
        )
        fit_id = context.run_id
        media_files = conn.execute(
            "SELECT list(DISTINCT source_file_sha256 ORDER BY source_file_sha256) FROM raw.raw_media_spend"
        ).fetchall()[0][0]
        weeks = (str(panel["week"].min()), str(panel["week"].max()))
        channel_table = result.channels.assign(
            fit_run_id=fit_id,
            panel_first_week=weeks[0],
            panel_last_week=weeks[1],
            source_media_sha256s=[media_files] * len(result.channels),
        )
        conn.register("channel_table", channel_table)
        conn.execute(
            "CREATE OR REPLACE TABLE main.mmm_model AS SELECT lineage_id('mmm_channel', fit_run_id || '|' || "
            "channel) AS lineage_id, * FROM channel_table"
        )
        conn.register("curves", result.response_curves)
        conn.execute("CREATE OR REPLACE TABLE main.mmm_response_curves AS SELECT * FROM curves")
        conn.register("decomposition", result.decomposition)
        conn.execute("CREATE OR REPLACE TABLE main.mmm_decomposition AS SELECT * FROM decomposition")
        metadata = table_metadata(conn, "main.mmm_model")
    shown = result.channels[["channel", "roi", "roi_lo", "roi_hi", "marginal_roi", "contribution_share", "saturation_pct"]]
    diagnostics = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.diagnostics.items()}
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "channels": dg.MetadataValue.md(shown.round(3).to_markdown(index=False)),
            "diagnostics": dg.MetadataValue.json(diagnostics),
            "r2": dg.MetadataValue.float(float(result.diagnostics["r2"])),
            "weeks": dg.MetadataValue.int(len(panel)),
            **figure_metadata(_roi_chart(result.channels), "mmm_roi"),
        }
    )
