"""Tests for the Prophet revenue forecast, backtest and fan chart."""

import io

import numpy as np
import pandas as pd
import pytest

from gtm_assets.charts.assets import fan_chart_png
from gtm_assets.models.forecast import (
    ForecastInputError,
    backtest,
    forecast_revenue,
    latest_span,
)

N_HISTORY = 548
HORIZON = 14


def make_series(n_days: int = N_HISTORY, horizon: int = HORIZON, seed: int = 0):
    """Trend + weekly seasonality + noise; returns (history, true mean over the horizon)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_days + horizon)
    mean = 1000 + 2.0 * t + 150 * np.sin(2 * np.pi * t / 7) + 60 * np.cos(2 * np.pi * t / 7)
    y = mean + rng.normal(0, 40, len(t))
    ds = pd.date_range("2023-01-01", periods=len(t), freq="D")
    history = pd.DataFrame({"ds": ds[:n_days], "y": y[:n_days]})
    return history, mean[n_days:]


@pytest.fixture(scope="module")
def series():
    return make_series()


@pytest.fixture(scope="module")
def forecast(series):
    history, _ = series
    return forecast_revenue(history, horizon_days=HORIZON, seed=0)


def test_forecast_shape_and_intervals(series, forecast):
    history, true_mean = series
    assert list(forecast.columns) == [
        "ds", "yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95",
    ]  # fmt: skip
    assert len(forecast) == HORIZON
    assert not forecast.isna().any().any()
    assert forecast.ds.iloc[0] == history.ds.iloc[-1] + pd.Timedelta(days=1)
    assert (forecast.yhat_lower_95 <= forecast.yhat_lower_80).all()
    assert (forecast.yhat_lower_80 <= forecast.yhat_upper_80).all()
    assert (forecast.yhat_upper_80 <= forecast.yhat_upper_95).all()
    width_80 = forecast.yhat_upper_80 - forecast.yhat_lower_80
    width_95 = forecast.yhat_upper_95 - forecast.yhat_lower_95
    assert (width_95 > width_80).all()
    inside_95 = (forecast.yhat_lower_95 <= true_mean) & (true_mean <= forecast.yhat_upper_95)
    assert inside_95.sum() >= 12
    assert np.mean(np.abs(forecast.yhat - true_mean) / true_mean) < 0.03


def test_forecast_is_deterministic(series, forecast):
    history, _ = series
    pd.testing.assert_frame_equal(forecast_revenue(history, horizon_days=HORIZON, seed=0), forecast)


def test_forecast_is_clipped_at_zero():
    rng = np.random.default_rng(1)
    ds = pd.date_range("2024-01-01", periods=70, freq="D")
    y = np.where(rng.random(70) < 0.7, 0.0, rng.uniform(0, 5, 70))
    result = forecast_revenue(pd.DataFrame({"ds": ds, "y": y}), horizon_days=7)
    assert (result.drop(columns="ds") >= 0).all().all()


def test_regressors_are_used_and_checked():
    history, _ = make_series(n_days=120)
    dates = pd.date_range(history.ds.iloc[0], periods=120 + HORIZON, freq="D")
    promo = pd.DataFrame({"ds": dates, "promo": (dates.dayofweek == 2).astype(float)})
    history = history.assign(y=history.y + 300 * promo.promo.iloc[:120].to_numpy())
    result = forecast_revenue(history, horizon_days=HORIZON, regressors=promo, future_regressors="given")
    on_promo = result.ds.dt.dayofweek == 2
    assert result.yhat[on_promo].mean() > result.yhat[~on_promo].mean() + 150
    # Planned from the last week instead (promo = 1/7 every day), promo days lose most of the lift.
    planned = forecast_revenue(history, horizon_days=HORIZON, regressors=promo.iloc[:120])
    assert (result.yhat - planned.yhat)[on_promo].mean() > 150
    with pytest.raises(ForecastInputError, match=r"regressor 'promo' has no value for"):
        forecast_revenue(history, horizon_days=HORIZON, regressors=promo.iloc[:125], future_regressors="given")
    with pytest.raises(ForecastInputError, match=r"future_regressors must be one of recent_mean, given"):
        forecast_revenue(history, horizon_days=HORIZON, regressors=promo, future_regressors="realised")


def test_intervals_are_conformal_with_enough_history(series, forecast):
    assert forecast.attrs["interval_method"] == "conformal"
    # 56 + 2 x 14 days: too few earlier origins to calibrate on, so Prophet's own intervals.
    short, _ = make_series(n_days=56 + 2 * HORIZON)
    assert forecast_revenue(short, horizon_days=HORIZON).attrs["interval_method"] == "prophet_samples"


def test_short_history_is_rejected():
    history, _ = make_series(n_days=50)
    with pytest.raises(ForecastInputError, match=r"50 days; at least 56"):
        forecast_revenue(history)


def test_gap_names_first_missing_date():
    history, _ = make_series(n_days=100)
    history = history.drop(index=[40, 41, 70])
    with pytest.raises(ForecastInputError, match=r"3 missing date\(s\); first missing date is 2023-02-10"):
        forecast_revenue(history)


def test_a_history_with_gaps_is_forecast_from_its_latest_unbroken_span():
    """Three days of an export years earlier beside a long recent history: the forecast fits the recent
    days (forecast_revenue alone still refuses the gap, naming it) and says what it left out."""
    history, _ = make_series(n_days=120)
    early = history.iloc[:3].assign(ds=pd.date_range("2020-06-01", periods=3))
    with_gap = pd.concat([early, history.iloc[10:]], ignore_index=True)
    span, note = latest_span(with_gap)
    assert span["ds"].tolist() == history["ds"].iloc[10:].tolist()
    assert "left out 3 earlier day(s)" in note and "the last from 2020-06-04" in note
    assert len(forecast_revenue(span)) == HORIZON
    assert latest_span(history)[0] is history and latest_span(history)[1].startswith("every day from")


def test_negative_revenue_names_date():
    history, _ = make_series(n_days=100)
    history.loc[10, "y"] = -5.0
    with pytest.raises(ForecastInputError, match=r"negative \(-5.0\) on 2023-01-11"):
        forecast_revenue(history)


def test_backtest_beats_seasonal_naive(series):
    history, _ = series
    result = backtest(history, horizon_days=HORIZON, initial_days=365, period_days=28)
    assert result.horizon_day.tolist() == list(range(1, HORIZON + 1))
    for col in ("prophet_coverage_80", "naive_coverage_80"):
        assert result[col].between(0, 1).all()
    assert not result.isna().any().any()
    summary = result.attrs["summary"].set_index("model")
    assert set(summary.columns) >= {"mape", "smape", "mase", "coverage_80"}
    assert summary.loc["prophet", "n_cutoffs"] >= 5
    assert summary.loc["prophet", "mape"] < summary.loc["seasonal_naive", "mape"]
    assert summary.loc["prophet", "mase"] < summary.loc["seasonal_naive", "mase"]
    assert summary.loc["prophet", "coverage_80"] > 0.5


def test_fan_chart_png(series, forecast, tmp_path):
    history, _ = series
    buffer = io.BytesIO()
    png = fan_chart_png(history, forecast, buffer)
    assert png.startswith(b"\x89PNG") and buffer.getvalue() == png
    path = tmp_path / "fan.png"
    assert fan_chart_png(history, forecast, path) == png
    assert path.read_bytes() == png
