"""Backtest honesty (planned regressors, no leak of realised spend), cutoffs and the asset's output."""

import numpy as np
import pandas as pd
import pytest

from gtm_assets.models.forecast import ForecastInputError, backtest, forecast_revenue, planned_regressors


def spend_driven(n_days: int = 140, jump_days: int = 14):
    """Revenue = 10 x spend + noise; spend doubles for the last ``jump_days`` days."""
    rng = np.random.default_rng(0)
    ds = pd.date_range("2024-01-01", periods=n_days, freq="D")
    spend = np.where(np.arange(n_days) >= n_days - jump_days, 200.0, 100.0) + rng.normal(0, 5, n_days)
    return pd.DataFrame({"ds": ds, "y": 10 * spend + rng.normal(0, 20, n_days)}), pd.DataFrame({"ds": ds, "spend": spend})


def test_planned_regressors_use_the_last_week_mean():
    _, spend = spend_driven()
    planned = planned_regressors(spend, 5)
    assert len(planned) == len(spend) + 5
    assert planned.spend.iloc[-5:].tolist() == pytest.approx([spend.spend.iloc[-7:].mean()] * 5)


def test_backtest_does_not_see_realised_future_spend():
    history, spend = spend_driven()
    result = backtest(history, horizon_days=14, initial_days=56, period_days=28, max_cutoffs=1, regressors=spend)
    rows = result.attrs["forecasts"]
    assert rows.cutoff.nunique() == 1 and rows.cutoff.iloc[0] == history.ds.iloc[-15]
    # The plan (spend 100) is honest, the realised spend doubled: the forecast must miss by about half.
    assert result.attrs["summary"].set_index("model").loc["prophet", "mape"] > 0.35


def test_backtest_forecast_equals_a_forecast_made_at_the_cutoff():
    # Point and conformal intervals use nothing after the cutoff: the same as forecasting from the
    # history truncated there.
    history, spend = spend_driven(n_days=200, jump_days=14)
    result = backtest(history, horizon_days=14, initial_days=56, period_days=28, max_cutoffs=2, regressors=spend)
    rows = result.attrs["forecasts"]
    cutoff = rows.cutoff.max()
    assert set(rows.interval_method) == {"conformal"}
    truncated = history[history.ds <= cutoff]
    direct = forecast_revenue(truncated, horizon_days=14, regressors=spend[spend.ds <= cutoff])
    columns = ["yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95"]
    at_cutoff = rows[rows.cutoff == cutoff].reset_index(drop=True)
    pd.testing.assert_frame_equal(at_cutoff[columns], direct[columns], rtol=1e-9)


def test_backtest_reports_both_interval_levels_on_the_latest_cutoffs():
    history, _ = spend_driven(n_days=200, jump_days=0)
    result = backtest(history, horizon_days=7, initial_days=56, period_days=14, max_cutoffs=3)
    assert result.horizon_day.tolist() == list(range(1, 8))
    assert set(result.n_forecasts) == {3}
    assert (result.prophet_coverage_95 >= result.prophet_coverage_80).all()
    assert result.attrs["forecasts"].cutoff.max() == history.ds.iloc[-8]
    with pytest.raises(ForecastInputError, match=r"initial_days \+ horizon_days = 207 days of history, got 200"):
        backtest(history, horizon_days=7, initial_days=200)


def test_forecast_asset_tables_and_check(graph_run, conn):
    forecast = conn.execute("SELECT * FROM main.forecast").fetchdf()
    assert len(forecast) == 14 and (forecast.yhat >= 0).all()
    by_horizon = conn.execute("SELECT * FROM main.forecast_backtest ORDER BY horizon_day").fetchdf()
    assert by_horizon.horizon_day.tolist() == list(range(1, 15))
    assert set(by_horizon.n_forecasts) == {6}
    materialization = next(
        e.materialization
        for r in graph_run.results
        for e in r.get_asset_materialization_events()
        if e.materialization.asset_key.to_user_string() == "forecast"
    )
    metadata = materialization.metadata
    assert {"backtest_summary", "backtest_by_horizon_day", "forecast_fan_chart"} <= set(metadata)
    assert metadata["backtest_coverage_80"].value == pytest.approx(by_horizon.prophet_coverage_80.mean())
    # Against the actual revenue of the backtest days: the forecast beats the same-weekday naive
    # forecast, and its 80% intervals cover at least 60% of the actual days (so the check passes).
    assert metadata["backtest_mape"].value < metadata["backtest_mape_seasonal_naive"].value
    assert metadata["backtest_coverage_80"].value >= 0.6
    check = next(e for r in graph_run.results for e in r.get_asset_check_evaluations() if e.check_name == "forecast_is_sane")
    assert check.passed
    # The simulated world lands a media plan covering the horizon: it supplies the horizon's spend.
    assert metadata["future_spend_source"].value.startswith("media plan (raw_media_plan")
    assert metadata["backtest_future_spend_source"].value.startswith("media plan (raw_media_plan")


def test_the_plan_the_backtest_reads_is_not_the_realised_spend(conn):
    """The plan was fixed before the spend happened: over the backtest's days it differs from the
    realised total spend day by day by the later shocks (a few percent at least), not by rounding."""
    days = (
        conn.execute("""
        SELECT p.date::DATE AS day, sum(p.planned_spend::DOUBLE) AS planned, any_value(m.spend) AS realised
        FROM raw.raw_media_plan p
        JOIN (SELECT date::DATE AS day, sum(spend::DOUBLE) AS spend FROM raw.raw_media_spend GROUP BY 1) m
          ON m.day = p.date::DATE
        GROUP BY 1 ORDER BY 1""")
        .fetchdf()
        .tail(6 * 28)
    )
    gap = (np.log(days["realised"] / days["planned"])).abs()
    assert gap.median() > 0.02


def test_backtest_uses_the_media_plan_for_the_horizon():
    # The realised spend doubles after the cutoff; a plan fixed in advance says so (plus noise-free
    # levels), so the forecast with the plan catches the jump that the recent mean misses.
    history, spend = spend_driven()
    plan = spend.assign(spend=np.where(spend.ds > history.ds.iloc[-15], 200.0, 100.0))
    with_plan = backtest(
        history,
        horizon_days=14,
        initial_days=56,
        period_days=28,
        max_cutoffs=1,
        regressors=spend,
        future_regressors="given",
        plan=plan,
    )
    without = backtest(history, horizon_days=14, initial_days=56, period_days=28, max_cutoffs=1, regressors=spend)
    mape_with = with_plan.attrs["summary"].set_index("model").loc["prophet", "mape"]
    assert mape_with < 0.1 < 0.35 < without.attrs["summary"].set_index("model").loc["prophet", "mape"]
    with pytest.raises(ForecastInputError, match="regressor 'spend' has no value for"):
        forecast_revenue(history, horizon_days=14, regressors=spend, future_regressors="given", plan=plan)


def test_plan_is_used_only_when_it_covers_the_horizon():
    from gtm_assets.defs.forecast.forecast import _plan_covering

    days = pd.date_range("2024-03-01", periods=10, freq="D")
    plan = pd.DataFrame({"ds": days, "total_spend": 1.0})
    used, note = _plan_covering(plan, days[2], days[-1])
    assert used is plan and note.startswith("media plan")
    used, note = _plan_covering(plan.drop(index=5), days[2], days[-1])
    assert used is None and note == "recent mean of the last 7 days (media plan lacks 2024-03-06 (1 days))"
    used, note = _plan_covering(plan.iloc[:0], days[2], days[-1])
    assert used is None and note == "recent mean of the last 7 days (no media plan)"
