"""Tests for budget allocation under guardrails: the optimum against a brute-force optimum, the
guardrails, the cost of the guardrails, inverse-CPA without conversions, intervals from draws."""

import math

import numpy as np
import pandas as pd
import pytest

from gtm_assets.models.allocate import Guardrails, InfeasibleGuardrails, allocate
from gtm_assets.models.allocate_curves import curves_from_table
from gtm_assets.models.response import expected_response
from gtm_assets.simulate import CHANNELS as SIM_CHANNELS
from gtm_assets.simulate import simulate_world
from gtm_assets_tests.models.brute_force import brute_force_optimum

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
    return sum(expected_response(params.loc[row.channel], 7 * row.recommended_spend) / 7 for row in result.itertuples())


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


def _bounds(guardrails: Guardrails, current: dict, channels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The guardrails' per-channel bounds, written out independently of the allocator."""
    cap = guardrails.max_daily_change_pct
    lower, upper = [], []
    for c in channels:
        base = current.get(c, 0.0)
        lo = max(
            guardrails.floors.get(c, 0.0),
            guardrails.min_learning_spend if base > 0 else 0.0,
            base * (1 - cap) if cap is not None else 0.0,
        )
        hi = min(guardrails.ceilings.get(c, math.inf), base * (1 + cap) if cap is not None else math.inf)
        lower.append(lo)
        upper.append(hi)
    return np.array(lower), np.array(upper)


def _optimum_gap(table: pd.DataFrame, channels: list[str], current: dict, guardrails: Guardrails, steps=24):
    """(allocator's revenue, brute-force optimum's revenue) on the table's curves under the guardrails."""
    curves = curves_from_table(channels, table)
    plan = allocate("mmm_optimal", channels=channels, current=current, guardrails=guardrails, mmm_channels=table)
    got = sum(float(c.revenue(x)) for c, x in zip(curves, plan.recommended_spend))
    lower, upper = _bounds(guardrails, current, channels)
    _, best = brute_force_optimum([c.revenue for c in curves], lower, upper, guardrails.total_daily_budget, steps=steps)
    return got, best


@pytest.mark.parametrize(
    "guardrails",
    [
        Guardrails(total_daily_budget=10_000.0),
        Guardrails(total_daily_budget=4_000.0),
        Guardrails(
            total_daily_budget=9_999.99,
            floors={"display": 1_200.0},
            ceilings={"tv": 5_600.0},
            max_daily_change_pct=0.3,
            min_learning_spend=1_100.0,
        ),
    ],
)
def test_mmm_optimal_reaches_the_brute_force_optimum(guardrails):
    got, best = _optimum_gap(TRUE_RESPONSE, CHANNELS, CURRENT, guardrails, steps=60)
    assert got >= best * (1 - 0.005) and got <= best * (1 + 0.005), (got, best)


def test_s_curves_need_the_global_search():
    """Steep S-curves: spending the budget on one or two channels beats spreading it; an equal split
    and a local search from it are far from the optimum, the allocator is not."""
    table = pd.DataFrame(
        {
            "channel": ["a", "b", "c", "d"],
            "time_step_days": 1,
            "decay": 0.0,
            "shape": [4.0, 3.5, 3.0, 3.8],
            "half_saturation": [3_000.0, 4_000.0, 2_500.0, 6_000.0],
            "coefficient": [9_000.0, 11_000.0, 6_000.0, 15_000.0],
        }
    )
    channels = list(table.channel)
    guardrails = Guardrails(total_daily_budget=8_000.0)
    got, best = _optimum_gap(table, channels, {}, guardrails, steps=80)
    assert got >= best * 0.995
    curves = curves_from_table(channels, table)
    equal = sum(float(c.revenue(2_000.0)) for c in curves)
    assert equal < 0.8 * best


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_mmm_optimal_reaches_the_optimum_on_simulated_worlds(seed):
    """Each world's true daily curves (Hill, concave or S-shaped, with carry-over) as the model table;
    the budget is the world's last 28 days' average, with and without a 25% volatility cap."""
    world = simulate_world(seed, pd.date_range("2024-01-01", periods=730, freq="D"), "hard" if seed == 4 else "default")
    names = [c.name for c in SIM_CHANNELS]
    table = pd.DataFrame(
        [
            {
                "channel": c,
                "time_step_days": 1,
                "adstock": world.channels[c]["adstock"],
                "decay": world.channels[c]["decay"],
                "adstock_peak": world.channels[c]["peak_days"],
                "saturation": "hill",
                "half_saturation": world.channels[c]["half_saturation"],
                "shape": world.channels[c]["shape"],
                "coefficient": world.channels[c]["coefficient"],
            }
            for c in names
        ]
    )
    base = {c: float(world.daily[f"spend_{c}"].tail(28).mean()) for c in names}
    total = round(sum(base.values()), 2)
    for cap in (None, 0.25):
        guardrails = Guardrails(total_daily_budget=total, max_daily_change_pct=cap)
        got, best = _optimum_gap(table, names, base, guardrails, steps=20)
        assert got >= best * (1 - 0.005), (seed, cap, got, best)


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


def test_volatility_cap_holds_relative_to_the_base_and_its_cost_is_reported():
    guardrails = Guardrails(total_daily_budget=10_000.0, max_daily_change_pct=0.2, base_label="the 28-day average")
    result = run("mmm_optimal", guardrails).set_index("channel")
    assert (result.change_pct.abs() <= 0.2 + 1e-6).all()
    assert result.loc["display", "recommended_spend"] == pytest.approx(1_200.0)
    assert "volatility_cap" in result.loc["display", "guardrails_hit"]
    assert "volatility cap of ±20% vs the 28-day average" in result.loc["display", "rationale"]
    free = run("mmm_optimal", Guardrails(total_daily_budget=10_000.0)).set_index("channel")
    # The unconstrained optimum is reported on the capped plan, and the cost is the revenue it gives up.
    np.testing.assert_allclose(result.unconstrained_spend, free.recommended_spend, atol=0.02)
    cost = true_daily_revenue(free.reset_index()) - true_daily_revenue(result.reset_index())
    assert cost > 0 and result.guardrail_cost.iloc[0] == pytest.approx(cost, rel=1e-3, abs=0.05)
    assert free.guardrail_cost.iloc[0] == pytest.approx(0.0, abs=0.05)


def test_a_flighted_channel_off_this_week_comes_back_against_its_trailing_base():
    """TV is off this week but ran in the last four weeks: with its 28-day average as the base, the cap
    lets it return (within ±25% of that average) instead of keeping it at zero for good."""
    base = {**CURRENT, "tv": 4_000.0}  # the trailing average; TV's last 7 days were 0
    guardrails = Guardrails(total_daily_budget=10_000.0, max_daily_change_pct=0.25)
    result = allocate(
        "mmm_optimal", channels=CHANNELS, current=base, guardrails=guardrails, mmm_channels=TRUE_RESPONSE
    ).set_index("channel")
    assert 3_000.0 - 0.01 <= result.loc["tv", "recommended_spend"] <= 5_000.0 + 0.01
    assert result.loc["tv", "recommended_spend"] > 0


def test_inverse_cpa_excludes_channels_without_conversions_with_a_note():
    cpa = {**CPA, "tv": math.nan, "display": 0.0}
    result = allocate(
        "inverse_cpa",
        channels=CHANNELS,
        current=CURRENT,
        guardrails=Guardrails(total_daily_budget=10_000.0, min_learning_spend=100.0),
        mmm_channels=TRUE_RESPONSE,
        cpa=cpa,
    ).set_index("channel")
    assert result.loc["tv", "recommended_spend"] == pytest.approx(100.0)  # its lower bound
    assert "excluded from the 1/CPA split" in result.loc["tv", "excluded_reason"]
    assert "excluded from the 1/CPA split" in result.loc["tv", "rationale"]
    assert result.loc["search", "recommended_spend"] / result.loc["social", "recommended_spend"] == pytest.approx(
        CPA["social"] / CPA["search"], rel=1e-3
    )
    assert result.recommended_spend.sum() == pytest.approx(10_000.0, abs=0.01)
    with pytest.raises(ValueError, match="at least one channel with a positive, finite CPA"):
        allocate(
            "inverse_cpa",
            channels=CHANNELS,
            current=CURRENT,
            guardrails=Guardrails(total_daily_budget=1_000.0),
            cpa={c: math.nan for c in CHANNELS},
        )


def _draws(multipliers: np.ndarray) -> pd.DataFrame:
    """Bootstrap draws whose coefficients are the true ones times each multiplier (same shapes)."""
    rows = []
    for draw, m in enumerate(multipliers):
        for row in TRUE_RESPONSE.itertuples():
            rows.append(
                {
                    "draw": draw,
                    "channel": row.channel,
                    "decay": row.decay,
                    "half_saturation": row.half_saturation,
                    "shape": row.shape,
                    "coefficient": row.coefficient * m,
                }
            )
    return pd.DataFrame(rows)


def test_revenue_intervals_come_from_the_draws():
    """Draws equal to the point estimate give a zero-width interval whatever roi_lo/roi_hi say (no
    rescaling); draws with coefficients 0.8..1.2 x the point give the revenue x their 5th and 95th
    percentiles, per channel and in total."""
    guardrails = Guardrails(total_daily_budget=10_000.0)
    table = TRUE_RESPONSE.assign(roi=1.0, roi_lo=0.5, roi_hi=2.0)
    same = allocate(
        "mmm_optimal", channels=CHANNELS, current=CURRENT, guardrails=guardrails, mmm_channels=table, draws=_draws(np.ones(20))
    )
    np.testing.assert_allclose(same.expected_incremental_revenue_lo, same.expected_incremental_revenue)
    np.testing.assert_allclose(same.expected_incremental_revenue_hi, same.expected_incremental_revenue)
    multipliers = np.linspace(0.8, 1.2, 41)
    spread = allocate(
        "mmm_optimal", channels=CHANNELS, current=CURRENT, guardrails=guardrails, mmm_channels=table, draws=_draws(multipliers)
    )
    lo, hi = np.percentile(multipliers, [5, 95])
    np.testing.assert_allclose(spread.expected_incremental_revenue_lo, lo * spread.expected_incremental_revenue, rtol=1e-9)
    np.testing.assert_allclose(spread.expected_incremental_revenue_hi, hi * spread.expected_incremental_revenue, rtol=1e-9)
    point, total_lo, total_hi = spread.attrs["total_revenue"]
    assert (total_lo, total_hi) == pytest.approx((lo * point, hi * point))


def test_a_dormant_channel_stays_off_under_the_volatility_cap_and_may_start_without_it():
    """A channel with no spend over the whole base window is dormant: the volatility cap keeps it at
    zero (restarting it is a media-plan decision); without the cap it may start at any level."""
    current = {**CURRENT, "display": 0.0}
    capped = allocate(
        "uniform",
        channels=CHANNELS,
        current=current,
        guardrails=Guardrails(total_daily_budget=sum(current.values()), max_daily_change_pct=0.25),
    ).set_index("channel")
    assert capped.loc["display", "recommended_spend"] == 0
    free = allocate("uniform", channels=CHANNELS, current=current, guardrails=Guardrails(total_daily_budget=10_000.0)).set_index(
        "channel"
    )
    assert free.loc["display", "recommended_spend"] > 0
    assert math.isnan(free.loc["display", "change_pct"])
    assert math.isnan(free.loc["display", "expected_incremental_revenue"])


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
    with pytest.raises(
        InfeasibleGuardrails, match=r"tv: lower bound 6,000.00 \(floor\) exceeds upper bound 5,500.00 \(volatility_cap\)"
    ):
        run("uniform", crossed)


def test_invalid_arguments():
    guardrails = Guardrails(total_daily_budget=10_000.0)
    with pytest.raises(ValueError, match="valid methods: mmm_optimal, inverse_cpa, uniform"):
        run("greedy", guardrails)
    with pytest.raises(ValueError, match="needs mmm_channels"):
        allocate("mmm_optimal", channels=CHANNELS, current=CURRENT, guardrails=guardrails)
    with pytest.raises(ValueError, match="floors names unknown channel"):
        run("uniform", Guardrails(total_daily_budget=10_000.0, floors={"radio": 10.0}))


# Four channels with (nearly) straight response curves, so each one's marginal ROI is its slope, and
# draws that disagree on some of them: the robust plan moves only what the draws agree on.
LINEAR = ["a", "b", "c", "d"]
LINEAR_BASE = dict.fromkeys(LINEAR, 1000.0)
SLOPES = {"a": 3.0, "b": 0.5, "c": 1.6, "d": 1.4}
HALF_SATURATION = 1e7  # far above any spend: the curves are straight where the plan looks


def _linear_table(codes: dict[str, str] | None = None, moves_with: dict[str, str] | None = None) -> pd.DataFrame:
    codes, moves_with = codes or {}, moves_with or {}
    return pd.DataFrame(
        {
            "channel": LINEAR,
            "time_step_days": 1,
            "saturation": "michaelis_menten",
            "decay": 0.0,
            "half_saturation": HALF_SATURATION,
            "shape": 1.0,
            "coefficient": [SLOPES[c] * HALF_SATURATION for c in LINEAR],
            "identified": [not codes.get(c) for c in LINEAR],
            "identification_codes": [codes.get(c, "") for c in LINEAR],
            "identification_reason": [codes.get(c) or "identified by the data" for c in LINEAR],
            "moves_with": [moves_with.get(c, "") for c in LINEAR],
        }
    )


def _linear_draws(n: int = 40, c_wins_every: int = 2) -> pd.DataFrame:
    """a always the best and b the worst; c and d trade places: d is ahead in one draw of every
    ``c_wins_every`` (half of them by default)."""
    rows = []
    for draw in range(n):
        swing = -0.6 if draw % c_wins_every == 0 else 0.6
        slopes = {"a": 3.0, "b": 0.5, "c": 1.6 + swing, "d": 1.4 - swing}
        for c in LINEAR:
            rows.append(
                {"draw": draw, "channel": c, "time_step_days": 1, "saturation": "michaelis_menten", "decay": 0.0,
                 "half_saturation": HALF_SATURATION, "shape": 1.0, "coefficient": slopes[c] * HALF_SATURATION}
            )  # fmt: skip
    return pd.DataFrame(rows)


def _robust(table: pd.DataFrame, draws: pd.DataFrame | None = None) -> pd.DataFrame:
    guardrails = Guardrails(total_daily_budget=4000.0, max_daily_change_pct=0.25)
    draws = _linear_draws() if draws is None else draws
    return allocate(
        "mmm_optimal", channels=LINEAR, current=LINEAR_BASE, guardrails=guardrails, mmm_channels=table, draws=draws
    ).set_index("channel")


def test_the_plan_moves_only_what_the_draws_agree_on():
    """a beats b in every draw: money moves from b to a up to the cap. c beats d on average but only
    in half the draws: the point of view of the mean would move money from d to c; the robust plan
    holds c at its base and says why; d's base is then its best level."""
    plan = _robust(_linear_table())
    assert plan.loc["a", "recommended_spend"] == pytest.approx(1250.0)
    assert plan.loc["b", "recommended_spend"] == pytest.approx(750.0)
    assert plan.loc[["c", "d"], "recommended_spend"].tolist() == pytest.approx([1000.0, 1000.0])
    assert plan.loc["a", "decision"] == plan.loc["b", "decision"] == "confident"
    assert plan.loc["a", "gain_robustness"] == 1.0
    assert plan.loc["c", "decision"] == "hold: gain not robust"
    assert plan.loc["c", "gain_robustness"] == pytest.approx(0.5)
    assert "50% of the model's draws" in plan.loc["c", "decision_reason"]
    assert plan.attrs["gain_robustness"] == 1.0
    # Without the robustness requirement the mean of the draws would have moved c and d as well.
    loose = allocate(
        "mmm_optimal", channels=LINEAR, current=LINEAR_BASE,
        guardrails=Guardrails(total_daily_budget=4000.0, max_daily_change_pct=0.25),
        mmm_channels=_linear_table(), draws=_linear_draws(), robust_share=0.5,
    ).set_index("channel")  # fmt: skip
    assert loose.loc["c", "recommended_spend"] == pytest.approx(1250.0)


def test_a_flagged_channel_needs_more_of_its_draws_to_move():
    """c beats d in 80% of the draws: enough to move it (70%) unless the model flags it: its lift test
    disagrees with the model, or its budget follows demand, a bias the bootstrap shares, and then it
    needs 90% and holds, saying which flag; a (every draw) moves flag or not."""
    draws = _linear_draws(c_wins_every=5)
    plain = _robust(_linear_table(), draws)
    assert plain.loc["c", "recommended_spend"] == pytest.approx(1250.0)
    assert plain.loc["c", "gain_robustness"] == pytest.approx(0.8)
    flagged = _robust(_linear_table(codes={"a": "experiment_disagrees", "c": "experiment_disagrees"}), draws)
    assert flagged.loc["c", "recommended_spend"] == pytest.approx(1000.0)
    assert flagged.loc["c", "decision"] == "hold: experiment disagrees"
    assert "80% of the model's draws (a move needs 90%)" in flagged.loc["c", "decision_reason"]
    assert "the model flags it: experiment_disagrees" in flagged.loc["c", "decision_reason"]
    assert flagged.loc["a", "recommended_spend"] == pytest.approx(1250.0) and flagged.loc["a", "decision"] == "confident"
    demand = _robust(_linear_table(codes={"c": "confounded_by_demand"}), draws).loc["c"]
    assert (demand["decision"], demand["recommended_spend"]) == ("hold: confounded by demand", pytest.approx(1000.0))


def test_channels_that_move_together_move_as_one_block():
    """c and d flight together (collinear): the model cannot split them, so they move by the same
    share or not at all; together they are no better than a, so the block funds a when b cannot."""
    table = _linear_table(codes={"c": "collinear", "d": "collinear"}, moves_with={"c": "d", "d": "c"})
    plan = _robust(table)
    assert plan.loc["c", "recommended_spend"] / 1000.0 == pytest.approx(plan.loc["d", "recommended_spend"] / 1000.0)
    assert "as one block" in plan.loc["c", "decision_reason"]
    assert plan.loc["c", "decision"] == plan.loc["d", "decision"]
    assert plan.recommended_spend.sum() == pytest.approx(4000.0, abs=0.01)
