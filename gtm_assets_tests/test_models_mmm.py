"""Tests for the adstock + Hill media-mix model."""

import numpy as np
import pandas as pd
import pytest

from gtm_assets.models.mmm import (
    MMMInputError,
    expected_response,
    fit_mmm,
    geometric_adstock,
    hill,
)

# channel: (decay, half-saturation as a multiple of mean adstock, shape, true ROI)
TRUE_PARAMS = {
    "tv": (0.6, 1.2, 2.0, 1.2),
    "search": (0.1, 0.8, 1.0, 3.0),
    "social": (0.3, 1.0, 1.5, 2.0),
    "display": (0.2, 1.5, 1.0, 0.6),
}
CHANNELS = list(TRUE_PARAMS)


def _flighted(rng, n_weeks, block, p_on, low, high):
    """Spend switched on/off in blocks of weeks, uniform level while on."""
    on = (rng.random(n_weeks // block + 1) < p_on).repeat(block)[:n_weeks]
    return on * rng.uniform(low, high, n_weeks)


def make_panel(seed: int = 4, n_weeks: int = 156, noise_sd: float = 6000.0):
    """Synthetic weekly panel with known transforms; returns (panel, true ROI per channel)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_weeks)
    spend = {
        "tv": _flighted(rng, n_weeks, 4, 0.5, 20e3, 60e3),
        "search": _flighted(rng, n_weeks, 2, 0.8, 3e3, 20e3),
        "social": _flighted(rng, n_weeks, 2, 0.6, 5e3, 25e3),
        "display": _flighted(rng, n_weeks, 3, 0.5, 5e3, 25e3),
    }
    revenue = (
        200e3
        + 30e3 * t / n_weeks
        + 15e3 * np.sin(2 * np.pi * t / 52.18)
        + rng.normal(0, noise_sd, n_weeks)
    )
    true_roi = {}
    for channel, (decay, relative_k, shape, roi) in TRUE_PARAMS.items():
        adstock = geometric_adstock(spend[channel], decay)
        saturated = hill(adstock, relative_k * adstock.mean(), shape)
        revenue += roi * spend[channel].sum() / saturated.sum() * saturated
        true_roi[channel] = roi
    weeks = pd.date_range("2021-01-04", periods=n_weeks, freq="7D")
    return pd.DataFrame({"week": weeks, "revenue": revenue, **spend}), true_roi


@pytest.fixture(scope="module")
def fitted():
    panel, true_roi = make_panel()
    result = fit_mmm(
        panel, date_col="week", target_col="revenue", spend_cols=CHANNELS, n_bootstrap=50, seed=0
    )
    return panel, true_roi, result


def test_geometric_adstock_matches_recursion():
    x = np.array([1.0, 0.0, 2.0, 0.0, 0.0])
    expected, carry = [], 0.0
    for value in x:
        carry = value + 0.5 * carry
        expected.append(carry)
    np.testing.assert_allclose(geometric_adstock(x, 0.5), expected)


def test_hill_is_half_at_half_saturation():
    assert hill(3.0, 3.0, 2.0) == pytest.approx(0.5)
    assert hill(0.0, 3.0, 0.7) == 0.0


def test_recovers_true_roi(fitted):
    _, true_roi, result = fitted
    channels = result.channels.set_index("channel")
    for channel, roi in true_roi.items():
        row = channels.loc[channel]
        assert row.roi_lo <= roi <= row.roi_hi, (channel, roi, row.roi_lo, row.roi_hi)
        assert row.roi == pytest.approx(roi, rel=0.25), channel
    assert list(channels.roi.sort_values().index) == sorted(true_roi, key=true_roi.get)


def test_outputs_are_complete_and_consistent(fitted):
    panel, _, result = fitted
    channels = result.channels
    assert list(channels.channel) == CHANNELS
    interval_cols = [c for c in channels.columns if c.endswith(("_lo", "_hi"))]
    assert len(interval_cols) == 8
    assert not channels.isna().any().any()
    assert (channels.coefficient >= 0).all()
    assert channels.contribution_share.sum() == pytest.approx(1.0)
    assert channels.spend.tolist() == pytest.approx(panel[CHANNELS].sum().tolist())

    wide = result.decomposition.pivot(index="week", columns="component", values="value")
    assert set(wide.columns) == {"baseline", "actual", "fitted", *CHANNELS}
    np.testing.assert_allclose(wide[["baseline", *CHANNELS]].sum(axis=1), wide.fitted, rtol=1e-9)
    np.testing.assert_allclose(wide.actual.to_numpy(), panel.revenue.to_numpy())

    curves = result.response_curves
    for channel, curve in curves.groupby("channel"):
        assert curve.weekly_spend.iloc[0] == 0 and curve.incremental_revenue.iloc[0] == 0
        assert curve.weekly_spend.max() == pytest.approx(3 * panel[channel].max())
        assert np.all(np.diff(curve.incremental_revenue) >= -1e-9)
        row = channels.set_index("channel").loc[channel]
        assert expected_response(row, curve.weekly_spend.iloc[-1]) == pytest.approx(
            curve.incremental_revenue.iloc[-1]
        )

    diagnostics = result.diagnostics
    assert diagnostics["r2"] > 0.9
    assert 0 < diagnostics["mape_holdout"] < 0.1
    assert diagnostics["n_weeks"] == len(panel) and diagnostics["n_bootstrap"] == 50
    for key in ("nrmse", "durbin_watson", "max_vif", "decomp_rssd", "fit_seconds"):
        assert np.isfinite(diagnostics[key]), key


def _fit(panel, **kwargs):
    return fit_mmm(
        panel, date_col="week", target_col="revenue", spend_cols=CHANNELS, n_bootstrap=5, **kwargs
    )


def test_duplicated_week_is_named():
    panel, _ = make_panel()
    panel.loc[10, "week"] = panel.loc[9, "week"]
    with pytest.raises(MMMInputError, match=r"duplicated week 2021-03-08"):
        _fit(panel)


def test_irregular_week_is_named():
    panel, _ = make_panel()
    panel = panel.drop(index=20)
    with pytest.raises(MMMInputError, match=r"2021-05-17 -> 2021-05-31 is 14 days"):
        _fit(panel)


def test_missing_value_names_column_and_week():
    panel, _ = make_panel()
    panel.loc[3, "social"] = np.nan
    with pytest.raises(MMMInputError, match=r"'social'.*week 2021-01-25"):
        _fit(panel)


def test_negative_spend_names_column_and_week():
    panel, _ = make_panel()
    panel.loc[5, "search"] = -10.0
    with pytest.raises(MMMInputError, match=r"'search' has negative spend -10 in week 2021-02-08"):
        _fit(panel)


def test_constant_channel_is_named():
    panel, _ = make_panel()
    panel["display"] = 500.0
    with pytest.raises(MMMInputError, match=r"'display' has constant spend"):
        _fit(panel)


def test_too_few_weeks():
    panel, _ = make_panel(n_weeks=30)
    with pytest.raises(MMMInputError, match=r"too few weeks: 30 weeks \(22 left .*22 parameters"):
        _fit(panel)
