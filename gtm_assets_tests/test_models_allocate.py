"""Tests for budget allocation under guardrails."""

import math

import numpy as np
import pandas as pd
import pytest

from gtm_assets.models.allocate import Guardrails, InfeasibleGuardrails, allocate
from gtm_assets.models.mmm import expected_response

# Weekly response parameters treated as the truth.
TRUE_RESPONSE = pd.DataFrame(
    {
        "channel": ["tv", "search", "social", "display"],
        "decay": [0.6, 0.1, 0.3, 0.2],
        "half_saturation": [60_000.0, 8_000.0, 15_000.0, 20_000.0],
        "shape": [2.0, 1.0, 1.5, 1.0],
        "coefficient": [150_000.0, 40_000.0, 50_000.0, 15_000.0],
    }
)
CHANNELS = TRUE_RESPONSE.channel.tolist()
CURRENT = {"tv": 5000.0, "search": 1500.0, "social": 2000.0, "display": 1500.0}
# Platform CPAs that reward cheap, low-value conversions (display) and penalise TV.
CPA = {"tv": 80.0, "search": 30.0, "social": 45.0, "display": 20.0}


def true_daily_revenue(result: pd.DataFrame) -> float:
    params = TRUE_RESPONSE.set_index("channel")
    return sum(
        expected_response(params.loc[row.channel], 7 * row.recommended_spend) / 7
        for row in result.itertuples()
    )


def run(method: str, guardrails: Guardrails) -> pd.DataFrame:
    return allocate(
        method,
        channels=CHANNELS,
        current=CURRENT,
        guardrails=guardrails,
        mmm_channels=TRUE_RESPONSE,
        cpa=CPA,
    )


def assert_within_guardrails(result: pd.DataFrame, guardrails: Guardrails) -> None:
    assert abs(result.recommended_spend.sum() - guardrails.total_daily_budget) <= 0.01
    for row in result.itertuples():
        spend = row.recommended_spend
        assert spend >= guardrails.floors.get(row.channel, 0.0) - 0.01
        assert spend <= guardrails.ceilings.get(row.channel, math.inf) + 0.01
        if row.current_spend > 0:
            assert spend >= guardrails.min_learning_spend - 0.01
            if guardrails.max_daily_change_pct is not None:
                limit = guardrails.max_daily_change_pct * row.current_spend
                assert abs(spend - row.current_spend) <= limit + 0.01


def test_mmm_optimal_beats_uniform_and_inverse_cpa():
    guardrails = Guardrails(total_daily_budget=10_000.0)
    results = {m: run(m, guardrails) for m in ("mmm_optimal", "uniform", "inverse_cpa")}
    revenue = {m: true_daily_revenue(r) for m, r in results.items()}
    assert revenue["mmm_optimal"] > revenue["uniform"] * 1.05
    assert revenue["mmm_optimal"] > revenue["inverse_cpa"] * 1.05
    optimal = results["mmm_optimal"]
    np.testing.assert_allclose(optimal.expected_incremental_revenue.sum(), revenue["mmm_optimal"])
    funded = optimal[optimal.recommended_spend > 0]
    assert funded.marginal_roi.max() / funded.marginal_roi.min() < 1.01  # optimality condition
    for result in results.values():
        assert_within_guardrails(result, guardrails)
        assert result.rationale.str.len().gt(40).all()


def test_inverse_cpa_and_uniform_shares():
    guardrails = Guardrails(total_daily_budget=10_000.0)
    inverse = run("inverse_cpa", guardrails).set_index("channel").recommended_spend
    assert inverse["display"] / inverse["tv"] == pytest.approx(CPA["tv"] / CPA["display"], rel=1e-3)
    assert run("uniform", guardrails).recommended_spend.tolist() == [2500.0] * 4


@pytest.mark.parametrize("method", ["mmm_optimal", "inverse_cpa", "uniform"])
def test_all_guardrails_hold(method):
    guardrails = Guardrails(
        total_daily_budget=9_999.99,
        floors={"display": 1_200.0},
        ceilings={"tv": 5_600.0},
        max_daily_change_pct=0.3,
        min_learning_spend=1_100.0,
    )
    result = run(method, guardrails)
    assert_within_guardrails(result, guardrails)
    assert result.recommended_spend.round(2).eq(result.recommended_spend).all()
    hits = set(",".join(result.guardrails_hit).split(",")) - {""}
    assert hits <= {"floor", "ceiling", "volatility_cap", "min_learning"}
    assert hits


def test_volatility_cap_holds_relative_to_current():
    guardrails = Guardrails(total_daily_budget=10_000.0, max_daily_change_pct=0.2)
    result = run("mmm_optimal", guardrails).set_index("channel")
    assert (result.change_pct.abs() <= 0.2 + 1e-6).all()
    assert result.loc["display", "recommended_spend"] == pytest.approx(1_200.0)
    assert "volatility_cap" in result.loc["display", "guardrails_hit"]
    assert "volatility cap of ±20%" in result.loc["display", "rationale"]
    assert true_daily_revenue(result.reset_index()) > true_daily_revenue(
        run("uniform", Guardrails(total_daily_budget=10_000.0))
    )


def test_new_channel_is_not_volatility_capped():
    current = {**CURRENT, "display": 0.0}
    result = allocate(
        "uniform",
        channels=CHANNELS,
        current=current,
        guardrails=Guardrails(total_daily_budget=10_000.0, max_daily_change_pct=0.25),
    ).set_index("channel")
    assert result.loc["display", "recommended_spend"] > 0
    assert math.isnan(result.loc["display", "change_pct"])
    assert math.isnan(result.loc["display", "expected_incremental_revenue"])


def test_infeasible_floors_are_named():
    guardrails = Guardrails(total_daily_budget=10_000.0, floors={"tv": 6_000.0, "search": 6_000.0})
    with pytest.raises(
        InfeasibleGuardrails,
        match=r"floors sum to 12,000.00 > total budget 10,000.00 \(channels: tv 6,000.00, search 6,000.00\)",
    ):
        run("uniform", guardrails)


def test_infeasible_ceilings_and_crossed_bounds_are_named():
    ceilings = {"tv": 3_000.0, "search": 2_000.0, "social": 1_000.0, "display": 1_000.0}
    with pytest.raises(InfeasibleGuardrails, match=r"ceilings sum to 7,000.00 < total budget"):
        run("uniform", Guardrails(total_daily_budget=10_000.0, ceilings=ceilings))
    crossed = Guardrails(total_daily_budget=10_000.0, floors={"tv": 6_000.0}, max_daily_change_pct=0.1)
    with pytest.raises(InfeasibleGuardrails, match=r"tv: lower bound 6,000.00 \(floor\) exceeds upper bound 5,500.00 \(volatility_cap\)"):
        run("uniform", crossed)


def test_invalid_arguments():
    guardrails = Guardrails(total_daily_budget=10_000.0)
    with pytest.raises(ValueError, match="valid methods: mmm_optimal, inverse_cpa, uniform"):
        run("greedy", guardrails)
    with pytest.raises(ValueError, match="needs mmm_channels"):
        allocate("mmm_optimal", channels=CHANNELS, current=CURRENT, guardrails=guardrails)
    with pytest.raises(ValueError, match="floors names unknown channel"):
        run("uniform", Guardrails(total_daily_budget=10_000.0, floors={"radio": 10.0}))
