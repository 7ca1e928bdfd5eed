"""Daily revenue forecast with Prophet and a rolling-origin backtest (its fan chart: gtm_assets.charts.assets)."""

from __future__ import annotations

import logging
from contextlib import contextmanager

import numpy as np
import pandas as pd

# Prophet logs an error at import when plotly (not needed here) is absent.
logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)

from prophet import Prophet  # noqa: E402
from prophet.diagnostics import generate_cutoffs  # noqa: E402

MIN_HISTORY_DAYS = 56
# Future values of a regressor (e.g. total media spend) are the mean of its last week: the plan
# is assumed to keep today's level, never the realised future values.
PLANNED_REGRESSOR_DAYS = 7
# How horizon values of regressors are obtained at a forecast origin: "recent_mean" (the last
# week's mean, always known at the origin) or "given" (read from ``plan``, a media plan fixed in
# advance, or without one from ``regressors``; honest only when those values are known at the origin).
FUTURE_REGRESSOR_MODES = ("recent_mean", "given")
YEARLY_MIN_HISTORY_DAYS = 365
# Chosen on the benchmark's earlier cutoffs (benchmarks/forecast_vs_peers.py): a stiff trend so that
# media flights are not read as trend changes, and a smooth yearly cycle (3 Fourier pairs, not 10)
# because the yearly pattern is learnt from one or two years of history.
CHANGEPOINT_PRIOR_SCALE = 0.001
YEARLY_FOURIER_ORDER = 3
# Intervals are conformal: empirical quantiles of the forecast errors of the CALIBRATION_ORIGINS
# origins just before the forecast origin (spaced one horizon apart, so their targets are known at
# the origin). With fewer than MIN_CALIBRATION_ORIGINS of them (short history) Prophet's own
# posterior predictive intervals are used instead, and the result says so.
CALIBRATION_ORIGINS = 6
MIN_CALIBRATION_ORIGINS = 3
UNCERTAINTY_SAMPLES = 1000
INTERVAL_QUANTILES = [0.025, 0.10, 0.90, 0.975]


def _conformal_levels(n_errors: int) -> list[float]:
    """Split-conformal finite-sample levels for INTERVAL_QUANTILES: a tail of mass a uses the
    floor((n+1)a)/n (lower) or ceil((n+1)(1-a))/n (upper) empirical quantile, so that with n
    exchangeable calibration errors each interval covers at least its nominal level."""
    levels = []
    for q in INTERVAL_QUANTILES:
        if q < 0.5:
            levels.append(max(0.0, np.floor((n_errors + 1) * q) / n_errors))
        else:
            levels.append(min(1.0, np.ceil((n_errors + 1) * q) / n_errors))
    return levels


FORECAST_COLUMNS = [
    "ds", "yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95",
]  # fmt: skip


class ForecastInputError(ValueError):
    """The daily history cannot be forecast."""


class _UnrecoveredErrorsOnly(logging.Filter):
    """Errors only, and not the L-BFGS failure Prophet recovers from by refitting with Newton (if Newton
    fails too, Prophet raises, so nothing is lost)."""

    RECOVERED = ("Chain [1] error", "Falling back to Newton")

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR and not any(text in record.getMessage() for text in self.RECOVERED)


@contextmanager
def _quiet_prophet():
    """Drop Prophet's and cmdstanpy's info and warning records (one per fit) while inside."""
    loggers = [logging.getLogger(name) for name in ("prophet", "cmdstanpy")]
    quiet = _UnrecoveredErrorsOnly()
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
        raise ForecastInputError(f"daily history has {len(gaps)} missing date(s); first missing date is {gaps[0].date()}")
    history["y"] = pd.to_numeric(history["y"], errors="coerce").astype(float)
    bad = history["y"].isna() | (history["y"] < 0)
    if bad.any():
        row = history.loc[bad].iloc[0]
        raise ForecastInputError(f"column 'y' is missing or negative ({row['y']}) on {row['ds'].date()}")
    if len(history) < MIN_HISTORY_DAYS:
        raise ForecastInputError(f"daily history has {len(history)} days; at least {MIN_HISTORY_DAYS} are required")
    return history


def latest_span(daily: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The days of a daily (ds, y) history after its last gap (all of them when there is none), and
    what was left out in words. A forecast and its backtest need consecutive days; real landing data
    has gaps (an export of a few days years before the rest, a missing month), so the model fits the
    latest unbroken span instead of refusing the whole history."""
    days = pd.to_datetime(daily["ds"]).sort_values(kind="stable").reset_index(drop=True)
    if days.empty:
        return daily, "no days"
    steps = days.diff().dt.days
    breaks = steps.index[steps > 1]
    if len(breaks) == 0:
        return daily, f"every day from {days.iloc[0].date()} to {days.iloc[-1].date()}"
    first = days.iloc[breaks[-1]]
    span = daily[pd.to_datetime(daily["ds"]) >= first]
    missing = int(steps[breaks].sum() - len(breaks))
    return span, (
        f"the latest unbroken span, {first.date()} to {days.iloc[-1].date()} ({len(span)} days); left out "
        f"{len(daily) - len(span)} earlier day(s) before {missing} missing day(s) in {len(breaks)} gap(s), the last "
        f"from {(days.iloc[breaks[-1] - 1] + pd.Timedelta(days=1)).date()} to {(first - pd.Timedelta(days=1)).date()}"
    )


def _merge_regressors(frame: pd.DataFrame, regressors: pd.DataFrame) -> pd.DataFrame:
    """Attach regressor columns by date; every date in ``frame`` needs a complete row."""
    values = regressors.assign(ds=pd.to_datetime(regressors["ds"]))
    merged = frame.merge(values, on="ds", how="left")
    for col in values.columns.drop("ds"):
        absent = merged[col].isna()
        if absent.any():
            raise ForecastInputError(f"regressor '{col}' has no value for {merged.loc[absent, 'ds'].iloc[0].date()}")
    return merged


def _new_model(history_days: int, country: str, regressor_names: list[str], samples: bool) -> Prophet:
    """Prophet with a stiff trend, weekly seasonality, smooth yearly seasonality once a year of
    history exists, and country holidays; posterior predictive samples only when ``samples``."""
    model = Prophet(
        weekly_seasonality=True,
        yearly_seasonality=YEARLY_FOURIER_ORDER if history_days >= YEARLY_MIN_HISTORY_DAYS else False,
        daily_seasonality=False,
        changepoint_prior_scale=CHANGEPOINT_PRIOR_SCALE,
        interval_width=0.80,
        uncertainty_samples=UNCERTAINTY_SAMPLES if samples else 0,
    )
    model.add_country_holidays(country_name=country)
    for name in regressor_names:
        model.add_regressor(name)
    return model


def planned_regressors(regressors: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """Extend a regressor history (ds + value columns) by ``horizon_days`` planned rows.

    A planned value is the mean of the last ``PLANNED_REGRESSOR_DAYS`` days of history: the
    forecast assumes the current level continues, because the realised future values are unknown
    when the forecast is made. The backtest uses the same rule at every cutoff.
    """
    history = regressors.assign(ds=pd.to_datetime(regressors["ds"])).sort_values("ds")
    planned = history.drop(columns="ds").tail(PLANNED_REGRESSOR_DAYS).mean()
    future = pd.DataFrame({"ds": pd.date_range(history["ds"].iloc[-1] + pd.Timedelta(days=1), periods=horizon_days)})
    for name, value in planned.items():
        future[name] = value
    return pd.concat([history, future], ignore_index=True)


class _Forecaster:
    """Fits at forecast origins of one history, each origin at most once (the backtest's cutoffs
    share calibration origins), and forecasts with conformal intervals."""

    def __init__(self, history, regressors, horizon_days, country, future_regressors, seed, plan=None):
        if horizon_days < 1:
            raise ForecastInputError(f"horizon_days must be >= 1, got {horizon_days}")
        if future_regressors not in FUTURE_REGRESSOR_MODES:
            raise ForecastInputError(
                f"future_regressors must be one of {', '.join(FUTURE_REGRESSOR_MODES)}, got {future_regressors!r}"
            )
        self.history = history
        self.names = [] if regressors is None else [c for c in regressors.columns if c != "ds"]
        if self.names:
            self.regressors = regressors.assign(ds=pd.to_datetime(regressors["ds"]))
            self.history = _merge_regressors(history, self.regressors)
            self.plan = self.regressors if plan is None else plan.assign(ds=pd.to_datetime(plan["ds"]))
        self.horizon_days, self.country, self.mode, self.seed = horizon_days, country, future_regressors, seed
        self.points: dict[pd.Timestamp, pd.DataFrame] = {}

    def _future(self, train: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
        future = pd.DataFrame({"ds": pd.date_range(origin + pd.Timedelta(days=1), periods=self.horizon_days)})
        if not self.names:
            return future
        if self.mode == "recent_mean":
            planned = planned_regressors(train[["ds", *self.names]], self.horizon_days)
            return future.merge(planned, on="ds", how="left")
        return _merge_regressors(future, self.plan[["ds", *self.names]])

    def _fit(self, origin: pd.Timestamp, samples: bool) -> tuple[pd.DataFrame, np.ndarray | None]:
        """Point forecast (ds, yhat) from ``origin``, and Prophet's predictive samples if asked."""
        train = self.history[self.history["ds"] <= origin]
        future = self._future(train, origin)
        with _quiet_prophet():
            model = _new_model(len(train), self.country, self.names, samples)
            model.fit(train, seed=self.seed)
            point = future[["ds"]].assign(yhat=model.predict(future)["yhat"].to_numpy())
            drawn = None
            if samples:
                np.random.seed(self.seed)
                drawn = model.predictive_samples(future)["yhat"]
        return point, drawn

    def _point(self, origin: pd.Timestamp) -> pd.DataFrame:
        if origin not in self.points:
            self.points[origin] = self._fit(origin, samples=False)[0]
        return self.points[origin]

    def calibration_errors(self, origin: pd.Timestamp) -> np.ndarray | None:
        """Errors (actual - forecast) of the calibration origins before ``origin``, or None."""
        first_day = self.history["ds"].iloc[0]
        origins = [origin - pd.Timedelta(days=self.horizon_days * k) for k in range(1, CALIBRATION_ORIGINS + 1)]
        origins = [o for o in origins if (o - first_day).days + 1 >= MIN_HISTORY_DAYS]
        if len(origins) < MIN_CALIBRATION_ORIGINS:
            return None
        actual = self.history.set_index("ds")["y"]
        return np.concatenate([(actual.loc[p["ds"]].to_numpy() - p["yhat"].to_numpy()) for p in map(self._point, origins)])

    def forecast(self, origin: pd.Timestamp) -> pd.DataFrame:
        """Point forecast and 80%/95% intervals from ``origin``, clipped at 0 (attrs: interval_method)."""
        errors = self.calibration_errors(origin)
        if errors is None:
            point, drawn = self._fit(origin, samples=True)
            bands = np.quantile(drawn, INTERVAL_QUANTILES, axis=1)
            method = "prophet_samples"
        else:
            point = self._point(origin)
            bands = point["yhat"].to_numpy() + np.quantile(errors, _conformal_levels(len(errors)))[:, None]
            method = "conformal"
        lower_95, lower_80, upper_80, upper_95 = bands
        result = pd.DataFrame(
            {
                "ds": point["ds"].to_numpy(),
                "yhat": point["yhat"].to_numpy(),
                "yhat_lower_80": lower_80,
                "yhat_upper_80": upper_80,
                "yhat_lower_95": lower_95,
                "yhat_upper_95": upper_95,
            }
        )
        value_cols = FORECAST_COLUMNS[1:]
        result[value_cols] = result[value_cols].clip(lower=0.0)
        result.attrs["interval_method"] = method
        return result


def forecast_revenue(
    daily: pd.DataFrame,
    *,
    horizon_days: int = 14,
    country: str = "US",
    regressors: pd.DataFrame | None = None,
    future_regressors: str = "recent_mean",
    plan: pd.DataFrame | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Forecast the next ``horizon_days`` of daily revenue with 80% and 95% intervals.

    ``daily`` has columns ds, y with one row per day and no gaps. ``regressors`` (optional) has ds
    plus one column per regressor covering the history; with ``future_regressors="recent_mean"``
    the horizon values are the last week's mean (``planned_regressors``), with ``"given"`` they are
    read from ``plan`` (ds plus the same columns: a media plan, which must cover the horizon) or,
    without a plan, from ``regressors`` (which must then cover the horizon). Yearly seasonality
    is used only with at least a year of history. Intervals are conformal (see
    ``CALIBRATION_ORIGINS``); with too short a history for that they are quantiles of Prophet's
    posterior predictive samples (seeded); ``result.attrs["interval_method"]`` says which. Revenue
    cannot be negative, so the point forecast and interval bounds are clipped at 0.
    Raises ``ForecastInputError`` for unusable input (fewer than ``MIN_HISTORY_DAYS`` days,
    missing dates, negative revenue, regressor values missing for a date).
    """
    history = _validate_daily(daily)
    forecaster = _Forecaster(history, regressors, horizon_days, country, future_regressors, seed, plan)
    return forecaster.forecast(history["ds"].iloc[-1])


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
    """Same-weekday-last-observed forecast, 80%/95% intervals and MASE scale per backtest row.

    For target date d and cutoff c the forecast is y on the latest date on or before c with d's
    weekday (lag 7 * ceil((d - c) / 7) days). Its intervals add the empirical quantiles of that
    lag's errors over the history up to c. The MASE scale is the lag-7 in-sample MAE up to c.
    """
    lags = 7 * np.ceil(cv["horizon_day"] / 7).astype(int)
    naive = series.reindex(cv["ds"] - pd.to_timedelta(lags, unit="D")).to_numpy()
    error_bands, scales = {}, {}
    for cutoff, lag in set(zip(cv["cutoff"], lags)):
        train = series.loc[:cutoff]
        error_bands[cutoff, lag] = np.quantile((train - train.shift(lag)).dropna(), [0.025, 0.10, 0.90, 0.975])
        scales[cutoff] = (train - train.shift(7)).abs().mean()
    bands = np.array([error_bands[key] for key in zip(cv["cutoff"], lags)])
    return pd.DataFrame(
        {
            "naive": naive,
            "naive_lower_95": naive + bands[:, 0],
            "naive_lower_80": naive + bands[:, 1],
            "naive_upper_80": naive + bands[:, 2],
            "naive_upper_95": naive + bands[:, 3],
            "scale": cv["cutoff"].map(scales).to_numpy(),
        },
        index=cv.index,
    )


def backtest_cutoffs(
    history: pd.DataFrame, horizon_days: int, initial_days: int, period_days: int, max_cutoffs: int | None
) -> list[pd.Timestamp]:
    """Prophet's rolling-origin cutoffs (``generate_cutoffs``), keeping the latest ``max_cutoffs``."""
    if initial_days + horizon_days > len(history):
        raise ForecastInputError(
            f"backtest needs initial_days + horizon_days = {initial_days + horizon_days} days of history, got {len(history)}"
        )
    cutoffs = generate_cutoffs(
        history,
        pd.Timedelta(days=horizon_days),
        pd.Timedelta(days=initial_days - 1),
        pd.Timedelta(days=period_days),
    )
    return cutoffs[-max_cutoffs:] if max_cutoffs else cutoffs


def backtest(
    daily: pd.DataFrame,
    *,
    horizon_days: int = 14,
    initial_days: int = 365,
    period_days: int = 28,
    max_cutoffs: int | None = None,
    country: str = "US",
    regressors: pd.DataFrame | None = None,
    future_regressors: str = "recent_mean",
    plan: pd.DataFrame | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Rolling-origin backtest of the forecast against a seasonal-naive baseline.

    Cutoffs come from Prophet's ``generate_cutoffs`` (every ``period_days`` back from the end,
    with at least ``initial_days`` of training data; only the latest ``max_cutoffs`` when given).
    At each cutoff the forecast is made exactly as ``forecast_revenue`` makes it, from data up to
    the cutoff only: the conformal intervals use errors of origins whose targets are on or before
    the cutoff, and with ``future_regressors="recent_mean"`` the regressors' horizon values are
    planned from the history as of the cutoff, so realised future spend never leaks in. With
    ``"given"`` they are read from ``plan`` (or ``regressors`` without one): a media plan that was
    fixed before the cutoff, e.g. a flight schedule booked weeks ahead, is honest there, since its
    values after the cutoff were known at the cutoff; realised spend passed as the plan is not. Training
    always uses ``regressors`` (realised values) up to the cutoff. Returns one
    row per horizon day with MAPE, sMAPE and 80%/95% coverage for Prophet and for the
    same-weekday seasonal naive. The overall figures (MAPE, sMAPE, MASE, coverage, one row per
    model) are in ``result.attrs["summary"]``; the row-level forecasts in ``result.attrs["forecasts"]``.
    """
    history = _validate_daily(daily)
    forecaster = _Forecaster(history, regressors, horizon_days, country, future_regressors, seed, plan)
    cutoffs = backtest_cutoffs(forecaster.history, horizon_days, initial_days, period_days, max_cutoffs)
    frames = []
    for cutoff in cutoffs:
        predicted = forecaster.forecast(cutoff)
        frames.append(predicted.assign(cutoff=cutoff, interval_method=predicted.attrs["interval_method"]))
    cv = pd.concat(frames, ignore_index=True).merge(history[["ds", "y"]], on="ds")
    cv["horizon_day"] = (cv["ds"] - cv["cutoff"]).dt.days
    cv = cv.join(_seasonal_naive(cv, history.set_index("ds")["y"]))

    for prefix, point, lower, upper in (
        ("prophet", "yhat", "yhat_lower", "yhat_upper"),
        ("naive", "naive", "naive_lower", "naive_upper"),
    ):
        cv[f"{prefix}_ape"] = _ape(cv["y"], cv[point])
        cv[f"{prefix}_sape"] = _sape(cv["y"], cv[point])
        cv[f"{prefix}_scaled"] = (cv["y"] - cv[point]).abs() / cv["scale"]
        for level in (80, 95):
            cv[f"{prefix}_covered_{level}"] = cv["y"].between(cv[f"{lower}_{level}"], cv[f"{upper}_{level}"])

    by_horizon = (
        cv.groupby("horizon_day")
        .agg(
            n_forecasts=("y", "size"),
            prophet_mape=("prophet_ape", "mean"),
            prophet_smape=("prophet_sape", "mean"),
            prophet_coverage_80=("prophet_covered_80", "mean"),
            prophet_coverage_95=("prophet_covered_95", "mean"),
            naive_mape=("naive_ape", "mean"),
            naive_smape=("naive_sape", "mean"),
            naive_coverage_80=("naive_covered_80", "mean"),
            naive_coverage_95=("naive_covered_95", "mean"),
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
                "coverage_80": cv[f"{prefix}_covered_80"].mean(),
                "coverage_95": cv[f"{prefix}_covered_95"].mean(),
                "n_forecasts": len(cv),
                "n_cutoffs": cv["cutoff"].nunique(),
                "n_conformal_cutoffs": cv.loc[cv["interval_method"] == "conformal", "cutoff"].nunique(),
            }
            for name, prefix in (("prophet", "prophet"), ("seasonal_naive", "naive"))
        ]
    )
    by_horizon.attrs["forecasts"] = cv
    return by_horizon
