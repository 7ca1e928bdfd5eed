"""forecast: Prophet revenue forecast with 80% and 95% intervals."""

import dagster as dg
import matplotlib.pyplot as plt
import pandas as pd

from gtm_assets.charts import figure_metadata
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.forecast import forecast_revenue
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


def _fan_chart(history: pd.DataFrame, forecast: pd.DataFrame) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 3.5))
    recent = history.tail(90)
    ax.plot(recent["ds"], recent["y"], color="#333333", linewidth=1, label="revenue")
    ax.fill_between(forecast["ds"], forecast["yhat_lower_95"], forecast["yhat_upper_95"], alpha=0.2, color="#4C78A8", label="95%")
    ax.fill_between(forecast["ds"], forecast["yhat_lower_80"], forecast["yhat_upper_80"], alpha=0.35, color="#4C78A8", label="80%")
    ax.plot(forecast["ds"], forecast["yhat"], color="#4C78A8", linewidth=2, label="forecast")
    ax.set_title("Daily revenue: last 90 days and forecast")
    ax.legend(loc="upper left")
    return fig


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
            **figure_metadata(_fan_chart(history, predicted), "forecast_fan"),
        }
    )
