"""Daily revenue forecast with Prophet, a rolling-origin backtest and a fan chart."""

from __future__ import annotations

import io
import logging
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Prophet logs an error at import when plotly (not needed here) is absent.
logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)

from prophet import Prophet  # noqa: E402
from prophet.diagnostics import cross_validation  # noqa: E402

MIN_HISTORY_DAYS = 56
YEARLY_MIN_HISTORY_DAYS = 365
UNCERTAINTY_SAMPLES = 1000
FAN_CHART_HISTORY_DAYS = 90
FORECAST_COLUMNS = [
    "ds", "yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95",
]  # fmt: skip


class ForecastInputError(ValueError):
    """The daily history cannot be forecast."""


class _ErrorsOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


@contextmanager
def _quiet_prophet():
    """Drop Prophet's and cmdstanpy's info and warning records (one per fit) while inside."""
    loggers = [logging.getLogger(name) for name in ("prophet", "cmdstanpy")]
    quiet = _ErrorsOnly()
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)


def _validate_daily(daily: pd.DataFrame) -> pd.DataFrame:
    """Check a daily (ds, y) history; return it sorted with datetime ds and float y."""
    missing = [c for c in ("ds", "y") if c not in daily.columns]
    if missing:
        raise ForecastInputError(f"daily history lacks column(s): {', '.join(missing)}")
    history = daily[["ds", "y"]].copy()
    history["ds"] = pd.to_datetime(history["ds"], errors="coerce")
    if history["ds"].isna().any():
        row = history.index[history["ds"].isna()][0]
        raise ForecastInputError(f"column 'ds' has a missing or unparseable date at row {row}")
    history = history.sort_values("ds", kind="stable").reset_index(drop=True)
    duplicated = history.loc[history["ds"].duplicated(), "ds"]
    if not duplicated.empty:
        raise ForecastInputError(f"duplicated date {duplicated.iloc[0].date()} in column 'ds'")
    full_range = pd.date_range(history["ds"].iloc[0], history["ds"].iloc[-1], freq="D")
    gaps = full_range.difference(history["ds"])
    if len(gaps):
        raise ForecastInputError(
            f"daily history has {len(gaps)} missing date(s); first missing date is {gaps[0].date()}"
        )
    history["y"] = pd.to_numeric(history["y"], errors="coerce").astype(float)
    bad = history["y"].isna() | (history["y"] < 0)
    if bad.any():
        row = history.loc[bad].iloc[0]
        raise ForecastInputError(f"column 'y' is missing or negative ({row['y']}) on {row['ds'].date()}")
    if len(history) < MIN_HISTORY_DAYS:
        raise ForecastInputError(
            f"daily history has {len(history)} days; at least {MIN_HISTORY_DAYS} are required"
        )
    return history


def _merge_regressors(frame: pd.DataFrame, regressors: pd.DataFrame) -> pd.DataFrame:
    """Attach regressor columns by date; every date in ``frame`` needs a complete row."""
    values = regressors.assign(ds=pd.to_datetime(regressors["ds"]))
    merged = frame.merge(values, on="ds", how="left")
    for col in values.columns.drop("ds"):
        absent = merged[col].isna()
        if absent.any():
            raise ForecastInputError(
                f"regressor '{col}' has no value for {merged.loc[absent, 'ds'].iloc[0].date()}"
            )
    return merged


def _new_model(history_days: int, country: str, regressor_names: list[str]) -> Prophet:
    """Prophet with weekly seasonality, yearly seasonality once a year of history exists, holidays."""
    model = Prophet(
        weekly_seasonality=True,
        yearly_seasonality=history_days >= YEARLY_MIN_HISTORY_DAYS,
        daily_seasonality=False,
        interval_width=0.80,
        uncertainty_samples=UNCERTAINTY_SAMPLES,
    )
    model.add_country_holidays(country_name=country)
    for name in regressor_names:
        model.add_regressor(name)
    return model


def forecast_revenue(
    daily: pd.DataFrame,
    *,
    horizon_days: int = 14,
    country: str = "US",
    regressors: pd.DataFrame | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Forecast the next ``horizon_days`` of daily revenue with 80% and 95% intervals.

    ``daily`` has columns ds, y with one row per day and no gaps. ``regressors`` (optional) has ds
    plus one column per regressor, covering the history and the horizon. Yearly seasonality is
    used only with at least a year of history. Intervals are quantiles of one fit's posterior
    predictive samples (seeded). Revenue cannot be negative, so the point forecast and interval
    bounds are clipped at 0. Raises ``ForecastInputError`` for unusable input.
    """
    if horizon_days < 1:
        raise ForecastInputError(f"horizon_days must be >= 1, got {horizon_days}")
    history = _validate_daily(daily)
    future = pd.DataFrame(
        {"ds": pd.date_range(history["ds"].iloc[-1] + pd.Timedelta(days=1), periods=horizon_days)}
    )
    regressor_names = []
    if regressors is not None:
        regressor_names = [c for c in regressors.columns if c != "ds"]
        history = _merge_regressors(history, regressors)
        future = _merge_regressors(future, regressors)

    with _quiet_prophet():
        model = _new_model(len(history), country, regressor_names)
        model.fit(history, seed=seed)
        np.random.seed(seed)
        samples = model.predictive_samples(future)["yhat"]
        point = model.predict(future)["yhat"].to_numpy()
    lower_95, lower_80, upper_80, upper_95 = np.quantile(samples, [0.025, 0.10, 0.90, 0.975], axis=1)
    result = pd.DataFrame(
        {
            "ds": future["ds"],
            "yhat": point,
            "yhat_lower_80": lower_80,
            "yhat_upper_80": upper_80,
            "yhat_lower_95": lower_95,
            "yhat_upper_95": upper_95,
        }
    )
    value_cols = FORECAST_COLUMNS[1:]
    result[value_cols] = result[value_cols].clip(lower=0.0)
    return result


# ----------------------------------------------------------------------------------------------
# Backtest
# ----------------------------------------------------------------------------------------------


def _ape(actual: pd.Series, predicted: pd.Series) -> pd.Series:
    """Absolute percentage error; undefined (NaN, skipped by means) where the actual is 0."""
    return (actual - predicted).abs() / actual.where(actual != 0)


def _sape(actual: pd.Series, predicted: pd.Series) -> pd.Series:
    """Symmetric absolute percentage error, 0 when actual and forecast are both 0."""
    denominator = actual.abs() + predicted.abs()
    return (2 * (actual - predicted).abs() / denominator.where(denominator != 0)).fillna(0.0)


def _seasonal_naive(cv: pd.DataFrame, series: pd.Series) -> pd.DataFrame:
    """Same-weekday-last-observed forecast, 80% interval and MASE scale for each backtest row.

    For target date d and cutoff c the forecast is y on the latest date on or before c with d's
    weekday (lag 7 * ceil((d - c) / 7) days). Its 80% interval adds the 10th/90th percentiles of
    that lag's errors over the history up to c. The MASE scale is the lag-7 in-sample MAE up to c.
    """
    lags = 7 * np.ceil(cv["horizon_day"] / 7).astype(int)
    naive = series.reindex(cv["ds"] - pd.to_timedelta(lags, unit="D")).to_numpy()
    error_bands, scales = {}, {}
    for cutoff, lag in set(zip(cv["cutoff"], lags)):
        train = series.loc[:cutoff]
        error_bands[cutoff, lag] = np.quantile((train - train.shift(lag)).dropna(), [0.10, 0.90])
        scales[cutoff] = (train - train.shift(7)).abs().mean()
    bands = np.array([error_bands[key] for key in zip(cv["cutoff"], lags)])
    return pd.DataFrame(
        {
            "naive": naive,
            "naive_lower": naive + bands[:, 0],
            "naive_upper": naive + bands[:, 1],
            "scale": cv["cutoff"].map(scales).to_numpy(),
        },
        index=cv.index,
    )


def backtest(
    daily: pd.DataFrame,
    *,
    horizon_days: int = 14,
    initial_days: int = 365,
    period_days: int = 28,
    country: str = "US",
) -> pd.DataFrame:
    """Rolling-origin backtest of the forecast against a seasonal-naive baseline.

    Uses ``prophet.diagnostics.cross_validation`` (sequential) with the same model setup as
    ``forecast_revenue`` (80% intervals, clipped at 0). Returns one row per horizon day with MAPE,
    sMAPE and 80% coverage for Prophet and for the same-weekday seasonal naive. The overall
    figures (MAPE, sMAPE, MASE, coverage_80, one row per model) are in ``result.attrs["summary"]``.
    """
    history = _validate_daily(daily)
    if initial_days + horizon_days > len(history):
        raise ForecastInputError(
            f"backtest needs initial_days + horizon_days = {initial_days + horizon_days} days "
            f"of history, got {len(history)}"
        )
    with _quiet_prophet():
        model = _new_model(len(history), country, [])
        model.fit(history, seed=0)
        np.random.seed(0)
        cv = cross_validation(
            model,
            horizon=f"{horizon_days} days",
            period=f"{period_days} days",
            initial=f"{initial_days} days",
            parallel=None,
            disable_tqdm=True,
        )
    cv[["yhat", "yhat_lower", "yhat_upper"]] = cv[["yhat", "yhat_lower", "yhat_upper"]].clip(lower=0.0)
    cv["horizon_day"] = (cv["ds"] - cv["cutoff"]).dt.days
    cv = cv.join(_seasonal_naive(cv, history.set_index("ds")["y"]))

    cv["prophet_ape"] = _ape(cv["y"], cv["yhat"])
    cv["prophet_sape"] = _sape(cv["y"], cv["yhat"])
    cv["prophet_covered"] = cv["y"].between(cv["yhat_lower"], cv["yhat_upper"])
    cv["prophet_scaled"] = (cv["y"] - cv["yhat"]).abs() / cv["scale"]
    cv["naive_ape"] = _ape(cv["y"], cv["naive"])
    cv["naive_sape"] = _sape(cv["y"], cv["naive"])
    cv["naive_covered"] = cv["y"].between(cv["naive_lower"], cv["naive_upper"])
    cv["naive_scaled"] = (cv["y"] - cv["naive"]).abs() / cv["scale"]

    by_horizon = (
        cv.groupby("horizon_day")
        .agg(
            n_forecasts=("y", "size"),
            prophet_mape=("prophet_ape", "mean"),
            prophet_smape=("prophet_sape", "mean"),
            prophet_coverage_80=("prophet_covered", "mean"),
            naive_mape=("naive_ape", "mean"),
            naive_smape=("naive_sape", "mean"),
            naive_coverage_80=("naive_covered", "mean"),
        )
        .reset_index()
    )
    by_horizon.attrs["summary"] = pd.DataFrame(
        [
            {
                "model": name,
                "mape": cv[f"{prefix}_ape"].mean(),
                "smape": cv[f"{prefix}_sape"].mean(),
                "mase": cv[f"{prefix}_scaled"].mean(),
                "coverage_80": cv[f"{prefix}_covered"].mean(),
                "n_forecasts": len(cv),
                "n_cutoffs": cv["cutoff"].nunique(),
            }
            for name, prefix in (("prophet", "prophet"), ("seasonal_naive", "naive"))
        ]
    )
    return by_horizon


# ----------------------------------------------------------------------------------------------
# Chart
# ----------------------------------------------------------------------------------------------


def fan_chart_png(
    history: pd.DataFrame, forecast: pd.DataFrame, path_or_buffer=None
) -> bytes:
    """Fan chart of the last 90 days of history and the forecast with 80%/95% bands, as PNG.

    ``history`` has ds, y; ``forecast`` is the output of ``forecast_revenue``. The PNG bytes are
    returned and, when ``path_or_buffer`` is a path or a writable binary file object, written there.
    """
    recent = history.assign(ds=pd.to_datetime(history["ds"])).sort_values("ds")
    recent = recent[recent["ds"] > recent["ds"].iloc[-1] - pd.Timedelta(days=FAN_CHART_HISTORY_DAYS)]
    ds = pd.to_datetime(forecast["ds"])

    figure = Figure(figsize=(10, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(recent["ds"], recent["y"], color="black", linewidth=1.2, label="actual")
    axes.fill_between(
        ds, forecast["yhat_lower_95"], forecast["yhat_upper_95"], color="tab:blue", alpha=0.18,
        label="95% interval",
    )
    axes.fill_between(
        ds, forecast["yhat_lower_80"], forecast["yhat_upper_80"], color="tab:blue", alpha=0.35,
        label="80% interval",
    )
    axes.plot(ds, forecast["yhat"], color="tab:blue", linewidth=1.8, label="forecast")
    axes.axvline(recent["ds"].iloc[-1], color="grey", linestyle=":", linewidth=1)
    axes.set_title("Daily revenue: history and forecast")
    axes.set_ylabel("revenue")
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    png = buffer.getvalue()
    if hasattr(path_or_buffer, "write"):
        path_or_buffer.write(png)
    elif path_or_buffer is not None:
        Path(path_or_buffer).write_bytes(png)
    return png
