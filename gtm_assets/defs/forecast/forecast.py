"""forecast: Prophet revenue forecast with 80% and 95% intervals, backtested against seasonal naive."""

import dagster as dg
import pandas as pd

from gtm_assets.charts.assets import fan_chart_png
from gtm_assets.charts.metadata import png_metadata
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.forecast import (
    MIN_HISTORY_DAYS,
    ForecastInputError,
    backtest,
    backtest_cutoffs,
    forecast_revenue,
    latest_span,
)
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.reads import daily_revenue
from gtm_assets.warehouse.resource import DuckDBWarehouse

# The daily revenue history is gtm_assets.warehouse.reads.daily_revenue: the sales ledger, else one row per calendar day that
# has consented sessions. Days without revenue rows are left out on purpose: the model refuses gaps (naming the first
# missing date) instead of reading them as zero revenue.
DAILY_SPEND_SQL = """
SELECT date::DATE AS ds, sum(spend::DECIMAL(18, 2))::DOUBLE AS total_spend FROM raw.raw_media_spend GROUP BY 1 ORDER BY 1
"""
DAILY_PLAN_SQL = """
SELECT date::DATE AS ds, sum(planned_spend::DECIMAL(18, 2))::DOUBLE AS total_spend FROM raw.raw_media_plan GROUP BY 1 ORDER BY 1
"""
# The column schema shown in the Dagster UI. Intervals are conformal (empirical quantiles of the errors of up to six
# earlier horizon-long forecasts) unless the history is too short, then quantiles of Prophet's predictive samples.
COLUMN_DESCRIPTIONS = {
    "lineage_id": "Keyed lineage id of the row: lineage_id('forecast', fit_run_id | ds).",
    "ds": "Forecast day: one of the horizon_days days (14 by default) after history_last_day.",
    "yhat": "Prophet's point forecast of the day's revenue (the sales ledger's, else guarded sessions'), floored at 0.",
    "yhat_lower_80": (
        "Lower bound of the 80% interval: yhat plus the lower conformal quantile of recent past forecasts' errors (or Prophet's "
        "samples), floored at 0."
    ),
    "yhat_upper_80": (
        "Upper bound of the 80% interval: yhat plus the upper conformal quantile of recent past forecasts' errors (or Prophet's "
        "samples), floored at 0."
    ),
    "yhat_lower_95": (
        "Lower bound of the 95% interval: yhat plus the lower conformal quantile of recent past forecasts' errors (or Prophet's "
        "samples), floored at 0."
    ),
    "yhat_upper_95": (
        "Upper bound of the 95% interval: yhat plus the upper conformal quantile of recent past forecasts' errors (or Prophet's "
        "samples), floored at 0."
    ),
    "fit_run_id": "Dagster run id of the fit.",
    "history_first_day": "First day of the daily revenue history the model was fitted on.",
    "history_last_day": "Last day of the daily revenue history: the forecast origin.",
}


class ForecastConfig(dg.Config):
    horizon_days: int = 14
    country: str = "US"
    seed: int = 0
    # Total media spend as a regressor (chosen on the benchmark's earlier cutoffs); its horizon
    # values are the planned total spend of raw_media_plan when the plan covers the horizon, else
    # the last 7 days' mean.
    use_spend_regressor: bool = True
    backtest_cutoffs: int = 6
    backtest_period_days: int = 28


def _spend_regressor(conn, history: pd.DataFrame) -> tuple[pd.DataFrame | None, str]:
    """Daily total spend over the revenue history, or None with the reason it cannot be used."""
    spend = conn.execute(DAILY_SPEND_SQL).fetchdf()
    spend["ds"] = pd.to_datetime(spend["ds"])
    missing = history["ds"][~history["ds"].isin(spend["ds"])]
    if not missing.empty:
        return None, f"not used: no media spend on {missing.iloc[0].date()} ({len(missing)} revenue days without spend)"
    return spend[spend["ds"] <= history["ds"].max()], "total_spend"


def _plan_covering(plan: pd.DataFrame, first_day: pd.Timestamp, last_day: pd.Timestamp) -> tuple[pd.DataFrame | None, str]:
    """The daily planned total spend if it has every day from first_day to last_day, else None;
    with a note on the source of the horizon's spend values."""
    needed = pd.date_range(first_day, last_day, freq="D")
    missing = needed.difference(plan["ds"])
    if missing.empty:
        return plan, f"media plan (raw_media_plan, {first_day.date()}..{last_day.date()})"
    reason = "no media plan" if plan.empty else f"media plan lacks {missing[0].date()} ({len(missing)} days)"
    return None, f"recent mean of the last 7 days ({reason})"


@dg.asset(
    deps=["guarded_sessions", "raw_daily_sales", "raw_media_spend", "raw_media_plan"],
    group_name="forecast",
    owners=[OWNER],
    kinds={"duckdb", "python", "prophet"},
    pool=DUCKDB_POOL,
)
def forecast(context: dg.AssetExecutionContext, config: ForecastConfig, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Prophet forecast of daily revenue (the sales ledger when landed, else guarded sessions; weekly and yearly seasonality,
    country holidays, total-spend regressor) for the next horizon_days, with
    80% and 95% conformal intervals (from the errors of recent past origins), a fan chart, and a rolling-origin backtest against a seasonal-naive
    baseline (MAPE, sMAPE, coverage per horizon day; table forecast_backtest). A history with gaps
    is fitted on its latest unbroken span (metadata history_span says which days and what was left
    out); fewer than 8 weeks in it fail with the figures named.

    The spend regressor's horizon values are the planned total spend from raw_media_plan when the
    plan covers the horizon (in the backtest: the horizons of all cutoffs; the plan is fixed in
    advance, so its values after a cutoff were known at the cutoff), else the last week's mean;
    metadata future_spend_source / backtest_future_spend_source say which was used."""
    with warehouse.transaction() as conn:
        revenue = daily_revenue(conn)
        history, span_note = latest_span(revenue.frame)
        plan = conn.execute(DAILY_PLAN_SQL).fetchdf()
        plan["ds"] = pd.to_datetime(plan["ds"])
        regressors, regressor_note, spend_source = None, "none", "none (no spend regressor)"
        if config.use_spend_regressor:
            regressors, regressor_note = _spend_regressor(conn, history)
        last_day = history["ds"].max()
        horizon_plan = None
        if regressors is not None:
            horizon_plan, spend_source = _plan_covering(
                plan, last_day + pd.Timedelta(days=1), last_day + pd.Timedelta(days=config.horizon_days)
            )
        predicted = forecast_revenue(
            history,
            horizon_days=config.horizon_days,
            country=config.country,
            seed=config.seed,
            regressors=regressors,
            future_regressors="recent_mean" if horizon_plan is None else "given",
            plan=horizon_plan,
        )
        interval_method = predicted.attrs["interval_method"]
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
        backtest_metadata = _backtest(conn, context, config, history, regressors, plan)
        metadata = table_metadata(conn, "main.forecast", descriptions=COLUMN_DESCRIPTIONS)
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "horizon_revenue": dg.MetadataValue.float(float(predicted["yhat"].sum())),
            "history_days": dg.MetadataValue.int(len(history)),
            "history_span": span_note,
            "regressor": regressor_note,
            "revenue_source": revenue.note,
            "future_spend_source": spend_source,
            "interval_method": interval_method,
            **backtest_metadata,
            **png_metadata(fan_chart_png(history, predicted), "forecast_fan"),
        }
    )


def _backtest(
    conn, context, config: ForecastConfig, history: pd.DataFrame, regressors: pd.DataFrame | None, plan: pd.DataFrame
) -> dict:
    """Run the backtest on the latest cutoffs, write main.forecast_backtest, return its metadata.

    The horizon spend at each cutoff comes from the media plan when it covers every cutoff's
    horizon (honest: the plan was fixed in advance), else from the recent mean as of the cutoff.

    With too little history for even one cutoff the table is left empty and the metadata says why
    (the forecast_is_sane check then fails: an unvalidated forecast is never passed off as tested).
    """
    spend_source = "none (no spend regressor)"
    try:
        backtest_plan = None
        if regressors is not None:
            cutoffs = backtest_cutoffs(
                history, config.horizon_days, MIN_HISTORY_DAYS, config.backtest_period_days, config.backtest_cutoffs
            )
            backtest_plan, spend_source = _plan_covering(plan, cutoffs[0] + pd.Timedelta(days=1), history["ds"].max())
        by_horizon = backtest(
            history,
            horizon_days=config.horizon_days,
            initial_days=MIN_HISTORY_DAYS,
            period_days=config.backtest_period_days,
            max_cutoffs=config.backtest_cutoffs,
            country=config.country,
            regressors=regressors,
            future_regressors="recent_mean" if backtest_plan is None else "given",
            plan=backtest_plan,
            seed=config.seed,
        )
        summary, note = by_horizon.attrs["summary"], "ok"
    except ForecastInputError as error:
        by_horizon = pd.DataFrame({"horizon_day": pd.Series(dtype="int64"), "prophet_coverage_80": pd.Series(dtype="float64")})
        summary, note = None, f"skipped: {error}"
        context.log.warning(f"forecast backtest {note}")
    conn.register("by_horizon", by_horizon.assign(fit_run_id=context.run_id))
    conn.execute(
        "CREATE OR REPLACE TABLE main.forecast_backtest AS SELECT lineage_id('forecast_backtest', fit_run_id || '|' "
        "|| horizon_day) AS lineage_id, * FROM by_horizon"
    )
    if summary is None:
        return {"backtest": note, "backtest_future_spend_source": spend_source}
    figures = summary.set_index("model")
    return {
        "backtest": note,
        "backtest_future_spend_source": spend_source,
        "backtest_summary": dg.MetadataValue.md(summary.round(4).to_markdown(index=False)),
        "backtest_by_horizon_day": dg.MetadataValue.md(by_horizon.round(4).to_markdown(index=False)),
        "backtest_mape": dg.MetadataValue.float(float(figures.loc["prophet", "mape"])),
        "backtest_mape_seasonal_naive": dg.MetadataValue.float(float(figures.loc["seasonal_naive", "mape"])),
        "backtest_coverage_80": dg.MetadataValue.float(float(figures.loc["prophet", "coverage_80"])),
        "backtest_cutoffs": dg.MetadataValue.int(int(figures.loc["prophet", "n_cutoffs"])),
        "backtest_conformal_cutoffs": dg.MetadataValue.int(int(figures.loc["prophet", "n_conformal_cutoffs"])),
    }
