"""Decisions against a truth the model did not help make: simulated worlds inside and outside its
family (multiplicative revenue with a TV -> Search interaction, AR(1) noise, budgets that follow
demand), scored on the worlds' own steady state. A plan is judged by the share of the available gain
it captures under the guardrails (1 = the true optimum, 0 = keeping today's mix); lift tests are
measured by the simulator with noise and standard errors estimated from its data; the experiments
the planner asks for are run by the simulator after the history, without changing a day of it.

The figures over many worlds are benchmarks/mmm_worlds.py's; these tests pin cases that show each
rule at work, and that the allocator before it (the point estimate's optimum, no robustness) failed.
"""

import numpy as np
import pandas as pd
import pytest

from gtm_assets.models.allocate import Guardrails, allocate, guardrail_bounds
from gtm_assets.simulate import CHANNELS, Experiment, score_plan, simulate_world, true_market
from gtm_assets_tests.simulate.world_fits import fit_world, planned_experiments

pytestmark = pytest.mark.truth  # model fits on many worlds: .ci/run runs them as their own step
NAMES = [c.name for c in CHANNELS]
START = pd.Timestamp("2024-01-01")
HISTORY = 730
BOOTSTRAP = 20
GUARDRAILS = {"max_daily_change_pct": 0.25, "min_learning_spend": 25.0}


def _fit(world, seed: int, days: int = HISTORY, lift_tests: pd.DataFrame | None = None):
    return fit_world(world, days, bootstrap=BOOTSTRAP, seed=seed, lift_tests=lift_tests)


def _score(world, channels: pd.DataFrame, draws, days: int = HISTORY):
    """(the plan, its score on the truth) at the end of ``days``, under the default guardrails."""
    base = {c: float(world.daily[f"spend_{c}"].iloc[days - 28 : days].mean()) for c in NAMES}
    guardrails = Guardrails(total_daily_budget=sum(base.values()), **GUARDRAILS)
    plan = allocate("mmm_optimal", channels=NAMES, current=base, guardrails=guardrails, mmm_channels=channels, draws=draws)
    lower, upper = guardrail_bounds(NAMES, base, guardrails)
    spend = dict(zip(plan.channel, plan.recommended_spend))
    return plan, score_plan(world.market, world.scoring_base(days), base, spend, lower, upper)


@pytest.fixture(scope="module")
def risky_worlds():
    """Two worlds where acting on the point estimate alone loses money: a multiplicative world with a
    TV -> Search interaction and AR(1) noise, and a hard world (collinear flights, correlated spend)."""
    out = {}
    for preset, seed in (("multiplicative", 5), ("hard", 4)):
        world = simulate_world(seed, pd.date_range(START, periods=HISTORY, freq="D"), preset)
        out[preset] = (world, _fit(world, seed))
    return out


def test_the_plan_never_loses_where_the_point_estimate_does(risky_worlds):
    """The allocator before this rule (the point estimate's optimum under the same guardrails) loses
    money against today's mix on both worlds; the robust plan captures part of the available gain on
    both (every move it makes gains in most of the model's draws)."""
    for preset, (world, result) in risky_worlds.items():
        bare = result.channels.drop(columns=["identified", "identification_codes", "moves_with"])
        _, before = _score(world, bare, None)
        plan, now = _score(world, result.channels, result.draws)
        assert before.captured < -0.01, (preset, before)
        assert now.captured > 0.1, (preset, now, plan[["channel", "decision", "decision_reason"]])
        assert plan["decision"].isin(["confident", "hold: not identified", "hold: gain not robust",
                                      "hold: experiment disagrees", "hold: confounded by demand"]).all()  # fmt: skip
        moved = plan[plan["decision"] == "confident"]
        assert (moved["gain_robustness"].dropna() >= 0.7).all()


@pytest.fixture(scope="module")
def demand_world():
    """Search budgeted from last week's revenue and Display as a share of it, with persistent demand
    shocks; the fit is given none of their lift tests."""
    world = simulate_world(2, pd.date_range(START, periods=HISTORY, freq="D"), "demand")
    untested = world.lift_tests[~world.lift_tests["channel"].isin(["Search", "Display"])]
    return world, _fit(world, 2, lift_tests=untested)


def test_budgets_that_follow_demand_are_flagged_and_held(demand_world):
    world, result = demand_world
    table = result.channels.set_index("channel")
    driven = [c for c, facts in world.channels.items() if facts["demand_rule"]]
    assert sorted(driven) == ["Display", "Search"]
    for channel in driven:
        assert "confounded_by_demand" in table.loc[channel, "identification_codes"], table.loc[channel, "identification_reason"]
        assert table.loc[channel, "demand_r2"] > 0.3
        assert "its spend follows demand" in table.loc[channel, "identification_reason"]
    planned = [c for c in NAMES if c not in driven]
    assert table.loc[planned, "demand_r2"].max() < 0.3  # planned budgets are not mistaken for demand-driven ones
    plan, score = _score(world, result.channels, result.draws)
    decisions = plan.set_index("channel")["decision"]
    assert set(decisions[driven]) == {"hold: confounded by demand"}
    assert score.captured > 0.0


def test_a_world_without_demand_following_budgets_flags_none():
    world = simulate_world(3, pd.date_range(START, periods=HISTORY, freq="D"), "default")
    table = _fit(world, 3).channels
    assert not table["identification_codes"].str.contains("confounded_by_demand").any(), table[["channel", "demand_r2"]]


@pytest.fixture(scope="module")
def tested_world():
    """A default world with the simulator's own geo holdouts of Display, Search and Social, and a TV
    holdout in 30% of the market over three weeks of a TV flight after the history."""
    dates = pd.date_range(START, periods=HISTORY + 140, freq="D")
    plan = simulate_world(3, dates, "default", history_days=HISTORY).media_plan
    tv = plan[plan["channel"] == "TV"]["planned_spend"].to_numpy()[HISTORY:]
    first = HISTORY + int(np.flatnonzero(tv > 0)[0])
    world = simulate_world(
        3, dates, "default", history_days=HISTORY, extra_experiments=[Experiment("TV", "geo_holdout", first, first + 21, 0.3)]
    )
    assert sorted(world.lift_tests["channel"]) == ["Display", "Search", "Social", "TV"]
    return world


def test_every_lift_test_agrees_with_the_model_or_its_channel_is_flagged(tested_world):
    """As measured, each test agrees with the model's lift for its own counterfactual (|z| <= 2)."""
    result = _fit(tested_world, 3, HISTORY + 140)
    tests = result.lift_tests
    assert len(tests) == 4 and tests["agrees"].all(), tests
    assert np.allclose(tests["z"], (tests["modelled_lift"] - tests["measured_lift"]) / tests["standard_error"])
    assert not result.channels["identification_codes"].str.contains("experiment_disagrees").any()


def test_a_test_the_data_contradict_flags_its_channel_with_both_figures(tested_world):
    """The TV test moved up by 5 of its standard errors: TV's flights pin its curve, the model cannot
    follow, and TV is flagged with both figures; the plan then moves TV only if 90% of the draws say so."""
    tests = tested_world.lift_tests.copy()
    tv = tests.index[tests["channel"] == "TV"][0]
    tests.loc[tv, "incremental_revenue"] += 5 * tests.loc[tv, "standard_error"]
    result = _fit(tested_world, 3, HISTORY + 140, lift_tests=tests)
    row = result.channels.set_index("channel").loc["TV"]
    measured, standard_error = tests.loc[tv, "incremental_revenue"], tests.loc[tv, "standard_error"]
    assert "experiment_disagrees" in row["identification_codes"] and row["lift_test_z"] < -2
    assert f"data and experiment disagree: its lift test TV {tests.loc[tv, 'start_date']}" in row["identification_reason"]
    assert f"measured {measured:,.0f} ± {standard_error:,.0f} where the model predicts" in row["identification_reason"]
    test_row = result.lift_tests.set_index("channel").loc["TV"]
    assert not test_row["agrees"] and test_row["z"] == pytest.approx(row["lift_test_z"])
    plan, _ = _score(tested_world, result.channels, result.draws, HISTORY + 140)
    tv_plan = plan.set_index("channel").loc["TV"]
    assert tv_plan["decision"] == "hold: experiment disagrees" or tv_plan["gain_robustness"] >= 0.9, tv_plan


def test_the_planned_experiment_reaches_its_precision_and_identifies_the_channel():
    """The planner sizes a geo holdout for a channel the plan holds; the simulator runs it after the
    history (the history is unchanged), measuring its lift with noise. Its standard error is within a
    factor 2 of the planner's, and on the refit the test agrees with the model and calibrates the
    channel."""
    dates = pd.date_range(START, periods=HISTORY + 140, freq="D")
    first = simulate_world(6, dates, "default", history_days=HISTORY)
    result = _fit(first, 6)
    plan, _ = _score(first, result.channels, result.draws)
    proposals = planned_experiments(first, plan, result, HISTORY)
    powered = proposals[proposals["powered"]]
    assert len(powered), proposals
    test = powered.iloc[0]
    first_day = (pd.Timestamp(test["start_date"]) - START).days
    experiment = Experiment(
        test["channel"], "geo_holdout", first_day, first_day + 7 * int(test["weeks"]), float(test["holdout_share"])
    )
    second = simulate_world(6, dates, "default", history_days=HISTORY, extra_experiments=[experiment])
    pd.testing.assert_frame_equal(first.daily.iloc[:HISTORY], second.daily.iloc[:HISTORY])
    measured = second.lift_tests.iloc[-1]
    assert measured["channel"] == test["channel"]
    assert 0.5 < measured["standard_error"] / test["expected_standard_error"] < 2.0
    refit = _fit(second, 6, HISTORY + 140)
    row = refit.lift_tests.iloc[-1]
    assert row["channel"] == test["channel"] and row["agrees"] and row["informative"], row
    verdict = refit.channels.set_index("channel").loc[test["channel"]]
    assert not {"collinear", "low_variation", "no_zero_anchor", "confounded_by_demand"} & set(
        verdict["identification_codes"].split(",")
    )


def test_the_session_world_plan_captures_the_available_gain(graph_run, conn, truth):
    """The graph as the product runs it (the session's default world, seed 11, its sales ledger): the
    allocations asset's plan under its default guardrails captures at least half of the gain the
    guardrails allow, scored on the simulator's own curves."""
    plan = conn.execute(
        "SELECT channel, any_value(current_spend) AS base, any_value(recommended_spend) AS spend FROM main.allocations GROUP BY 1"
    ).fetchdf()
    base = dict(zip(plan["channel"], plan["base"]))
    guardrails = Guardrails(total_daily_budget=sum(base.values()), **GUARDRAILS)
    lower, upper = guardrail_bounds(list(base), base, guardrails)
    score = score_plan(
        true_market(truth), truth["scoring"]["base_level"], base, dict(zip(plan["channel"], plan["spend"])), lower, upper
    )
    assert score.available > 0
    assert score.captured >= 0.5, score
