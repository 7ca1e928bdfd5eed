"""Tests for the media-mix model and its response functions."""

import numpy as np
import pandas as pd
import pytest

from gtm_assets.models.mmm import MMMInputError, fit_mmm
from gtm_assets.models.mmm_identify import identification, lift_agreement
from gtm_assets.models.response import (
    ChannelResponse,
    delayed_adstock,
    expected_response,
    geometric_adstock,
    hill,
    saturation,
    steady_state_multiplier,
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
    revenue = 200e3 + 30e3 * t / n_weeks + 15e3 * np.sin(2 * np.pi * t / 52.18) + rng.normal(0, noise_sd, n_weeks)
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
    result = fit_mmm(panel, date_col="week", target_col="revenue", spend_cols=CHANNELS, n_bootstrap=30, seed=0)
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


@pytest.mark.parametrize("family", ["hill", "logistic", "michaelis_menten"])
def test_every_saturation_is_half_at_half_saturation_and_saturates(family):
    assert saturation(4.0, family, 4.0, 1.7) == pytest.approx(0.5)
    assert saturation(0.0, family, 4.0, 1.7) == 0.0
    assert saturation(4000.0, family, 4.0, 1.7) > 0.99


def test_delayed_adstock_peaks_after_the_spend_and_settles_at_its_multiplier():
    pulse = np.zeros(30)
    pulse[0] = 1.0
    response = delayed_adstock(pulse, decay=0.5, peak=4.0)
    assert int(np.argmax(response)) == 4
    constant = delayed_adstock(np.ones(80), decay=0.5, peak=4.0)
    assert constant[-1] == pytest.approx(steady_state_multiplier("delayed", 0.5, 4.0), rel=1e-6)
    assert geometric_adstock(np.ones(400), 0.8)[-1] == pytest.approx(steady_state_multiplier("geometric", 0.8), rel=1e-9)


@pytest.mark.parametrize(("family", "shape"), [("hill", 0.7), ("hill", 2.5), ("logistic", 1.0), ("michaelis_menten", 1.0)])
@pytest.mark.parametrize("adstock", ["geometric", "delayed"])
def test_marginal_response_is_the_slope_of_the_expected_response(family, shape, adstock):
    curve = ChannelResponse(
        coefficient=5000.0, half_saturation=900.0, shape=shape, decay=0.4, saturation=family, adstock=adstock, peak=1.5
    )
    for spend in (50.0, 400.0, 2500.0):
        step = spend * 1e-6
        numeric = (curve.expected(spend + step) - curve.expected(spend - step)) / (2 * step)
        assert curve.marginal(spend) == pytest.approx(numeric, rel=1e-5)
    row = {
        "coefficient": 5000.0,
        "half_saturation": 900.0,
        "shape": shape,
        "decay": 0.4,
        "saturation": family,
        "adstock": adstock,
        "adstock_peak": 1.5,
    }
    assert expected_response(row, 400.0) == pytest.approx(float(curve.expected(400.0)))


def test_recovers_true_roi(fitted):
    """A weekly world of the model's own form, with on/off spend: every channel identified, within
    25% of its true ROI, and the ranking right; at least three of the four intervals cover."""
    _, true_roi, result = fitted
    channels = result.channels.set_index("channel")
    covered = 0
    for channel, roi in true_roi.items():
        row = channels.loc[channel]
        covered += row.roi_lo <= roi <= row.roi_hi
        assert row.roi == pytest.approx(roi, rel=0.25), channel
        assert row.identified, (channel, row.identification_reason)
    assert covered >= 3
    assert list(channels.roi.sort_values().index) == sorted(true_roi, key=true_roi.get)
    assert result.diagnostics["family_selection"] == "time-ordered validation"
    assert set(result.channels.saturation) <= {"hill", "logistic", "michaelis_menten"}


def test_outputs_are_complete_and_consistent(fitted):
    panel, _, result = fitted
    channels = result.channels
    assert list(channels.channel) == CHANNELS
    interval_cols = [c for c in channels.columns if c.endswith(("_lo", "_hi"))]
    assert len(interval_cols) == 8
    assert not channels[interval_cols].isna().any().any()
    for name in ("roi", "marginal_roi", "coefficient", "contribution"):
        assert (channels[f"{name}_lo"] <= channels[name] + 1e-9).all() and (channels[name] <= channels[f"{name}_hi"] + 1e-9).all()
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
        assert expected_response(row, curve.weekly_spend.iloc[-1]) == pytest.approx(curve.incremental_revenue.iloc[-1])
    draws = result.draws
    assert draws["draw"].nunique() == 30 and len(draws) == 30 * len(CHANNELS)
    # Each draw's ROI is its own curve's: the interval is the spread of the draws' ROIs.
    for channel, own in draws.groupby("channel"):
        lo, hi = np.percentile(own["roi"], [5, 95])
        row = channels.set_index("channel").loc[channel]
        assert row.roi_lo == pytest.approx(min(lo, row.roi)) and row.roi_hi == pytest.approx(max(hi, row.roi))

    diagnostics = result.diagnostics
    assert diagnostics["r2"] > 0.9
    assert 0 < diagnostics["mape_holdout"] < 0.1
    assert diagnostics["n_weeks"] == len(panel) and diagnostics["n_bootstrap"] == 30
    for key in ("nrmse", "durbin_watson", "max_vif", "decomp_rssd", "fit_seconds"):
        assert np.isfinite(diagnostics[key]), key


def _fit(panel, **kwargs):
    return fit_mmm(panel, date_col="week", target_col="revenue", spend_cols=CHANNELS, n_bootstrap=5, **kwargs)


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
    with pytest.raises(MMMInputError, match=r"too few weeks: 30 weeks \(22 left .*26 parameters"):
        _fit(panel)


def _lift(**overrides) -> pd.DataFrame:
    row = {
        "channel": "search",
        "start_date": "2021-06-09",
        "end_date": "2021-07-06",
        "spend": 20000.0,
        "incremental_revenue": 50000.0,
        "standard_error": 8000.0,
    }
    return pd.DataFrame([{**row, **overrides}])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"channel": "podcast"}, r"lift test 1 \(podcast, .*channel is not one of spend_cols"),
        ({"standard_error": 0.0}, r"standard_error > 0"),
        ({"spend": -5.0}, r"spend > 0"),
        ({"start_date": "2020-12-01"}, r"window runs outside the modelled days \(2021-01-04\.\.2023-12-31\)"),
        ({"end_date": "2021-05-01"}, r"start <= end"),
    ],
)
def test_bad_lift_test_is_named(overrides, message):
    panel, _ = make_panel()
    with pytest.raises(MMMInputError, match=message):
        _fit(panel, lift_tests=_lift(**overrides), specs=[("geometric", "hill")] * 4)
    with pytest.raises(MMMInputError, match="lift_tests lacks column"):
        _fit(panel, lift_tests=_lift().drop(columns="spend"))


def test_daily_spend_must_add_up_to_the_panel():
    panel, _ = make_panel()
    days = pd.date_range(panel.week.iloc[0], periods=7 * len(panel), freq="D")
    daily = pd.DataFrame({"date": days, **{c: np.repeat(panel[c].to_numpy() / 7, 7) for c in CHANNELS}})
    daily.loc[10, "tv"] += 500.0
    with pytest.raises(MMMInputError, match=r"daily_spend of 'tv' sums to .* in week 2021-01-11, the panel says"):
        _fit(panel, daily_spend=daily, specs=[("geometric", "hill")] * 4)
    with pytest.raises(MMMInputError, match=r"daily_spend has no row for 2021-01-08"):
        _fit(panel, daily_spend=daily.drop(index=4), specs=[("geometric", "hill")] * 4)


def test_identification_names_each_reason_and_its_fix():
    """Four channels, each with one defect: too wide an interval, hardly varying spend, spend that
    moves with another channel, spend never near zero without a lift test; a fifth is clean."""
    rng = np.random.default_rng(0)
    n = 104
    flights = np.repeat(rng.random(n // 4 + 1) < 0.5, 4)[:n] * 100.0
    spend = np.column_stack(
        [
            flights,  # a: clean on/off spend...
            np.repeat(rng.random(n // 4 + 1) < 0.5, 4)[:n] * rng.uniform(50, 150, n),  # b: ...but a wide interval
            100 + rng.normal(0, 2, n),  # c: barely varies (and never near zero)
            flights * rng.uniform(0.9, 1.1, n),  # d: moves with a
            100 * rng.uniform(0.6, 1.4, n),  # e: never near zero, no lift test
        ]
    )
    table = pd.DataFrame(
        {
            "channel": list("abcde"),
            "roi": [2.0, 1.0, 1.0, 1.0, 1.0],
            "roi_lo": [1.8, 0.0, 0.9, 0.9, 0.9],
            "roi_hi": [2.2, 3.5, 1.1, 1.1, 1.1],
            "spend_cv": spend.std(axis=0) / spend.mean(axis=0),
        }
    )
    base = np.column_stack([np.ones(n), np.arange(n) / n])
    names = table.channel.tolist()

    def tests(measured: float, standard_error: float, modelled: float):
        return lift_agreement(
            ["e test"], np.array([4]), np.array([measured]), np.array([standard_error]), np.array([modelled]), names
        )

    none = lift_agreement([], np.array([], dtype=int), np.array([]), np.array([]), np.array([]), names)
    verdict = identification(table, spend, base, none).set_index(table.channel)
    assert not verdict.identified[["b", "c", "d", "e"]].any() and not verdict.loc["a", "identified"]
    assert "moves with d" in verdict.loc["a", "identification_reason"]
    assert "wider than ±100%" in verdict.loc["b", "identification_reason"]
    assert "barely varies" in verdict.loc["c", "identification_reason"]
    assert "moves with a" in verdict.loc["d", "identification_reason"]
    assert "extrapolates the curve to zero spend" in verdict.loc["e", "identification_reason"]
    assert "lift test" in verdict.loc["e", "identification_fix"]
    assert verdict.loc["e", "identification_codes"] == "no_zero_anchor"
    assert verdict.loc["c", "identification_codes"].split(",") == ["low_variation", "no_zero_anchor"]
    # A precise lift test of e that agrees with the model calibrates it; one that disagrees by more
    # than two standard errors is flagged with both figures.
    agree = identification(table, spend, base, tests(1000.0, 100.0, 1050.0))
    assert agree.loc[4, "identified"] and agree.loc[4, "identification_reason"] == "calibrated by its lift test"
    clash = identification(table, spend, base, tests(1000.0, 100.0, 1600.0))
    assert clash.loc[4, "identification_codes"] == "no_zero_anchor,experiment_disagrees"
    assert "data and experiment disagree" in clash.loc[4, "identification_reason"]
    assert "measured 1,000 ± 100 where the model predicts 1,600 (+6.0 standard errors)" in clash.loc[4, "identification_reason"]
    assert clash.loc[4, "lift_test_z"] == pytest.approx(6.0)
    # A calibrated channel no longer counts as the partner of the channel that moves with it.
    partner = identification(table, spend, base, lift_agreement(["d test"], np.array([3]), np.array([500.0]), np.array([50.0]),
                                                                np.array([520.0]), names)).set_index(table.channel)  # fmt: skip
    assert (
        "collinear" not in partner.loc["a", "identification_codes"]
        and "collinear" not in partner.loc["d", "identification_codes"]
    )
