"""forecast: Prophet revenue forecast with 80% and 95% intervals."""

import dagster as dg
import pandas as pd

from gtm_assets.charts import png_metadata
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.forecast import fan_chart_png, forecast_revenue
from gtm_assets.observability import table_metadata
from gtm_assets.warehouse import DuckDBWarehouse

# Every calendar day between the first and last session; a day without sessions earned nothing.
DAILY_REVENUE_SQL = """
WITH days AS (
    SELECT unnest(generate_series(min(session_start)::DATE, max(session_start)::DATE, INTERVAL 1 DAY))::DATE AS ds
    FROM main.guarded_sessions
)
SELECT ds, coalesce(sum(s.revenue), 0)::DOUBLE AS y
FROM days LEFT JOIN main.guarded_sessions s ON s.session_start::DATE = days.ds
GROUP BY ds ORDER BY ds
"""


class ForecastConfig(dg.Config):
    horizon_days: int = 14
    country: str = "US"
    seed: int = 0


@dg.asset(
    deps=["guarded_sessions"],
    group_name="forecast",
    owners=[OWNER],
    kinds={"duckdb", "python", "prophet"},
    pool=DUCKDB_POOL,
)
def forecast(context: dg.AssetExecutionContext, config: ForecastConfig, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Prophet forecast of daily revenue from guarded sessions (weekly and yearly seasonality,
    country holidays) for the next horizon_days, with 80% and 95% intervals and a fan chart."""
    with warehouse.get_connection() as conn:
        history = conn.execute(DAILY_REVENUE_SQL).fetchdf()
        history["ds"] = pd.to_datetime(history["ds"])
        predicted = forecast_revenue(history, horizon_days=config.horizon_days, country=config.country, seed=config.seed)
        predicted = predicted.assign(
            fit_run_id=context.run_id,
            history_first_day=history["ds"].min().date(),
            history_last_day=history["ds"].max().date(),
        )
        conn.register("predicted", predicted)
        conn.execute(
            "CREATE OR REPLACE TABLE main.forecast AS SELECT lineage_id('forecast', fit_run_id || '|' || "
            "ds::DATE) AS lineage_id, ds::DATE AS ds, * EXCLUDE (ds) FROM predicted"
        )
        metadata = table_metadata(conn, "main.forecast")
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "horizon_revenue": dg.MetadataValue.float(float(predicted["yhat"].sum())),
            "history_days": dg.MetadataValue.int(len(history)),
            **png_metadata(fan_chart_png(history, predicted), "forecast_fan"),
        }
    )
