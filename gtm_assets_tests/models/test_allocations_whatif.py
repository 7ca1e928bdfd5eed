"""What-if scenarios against the simulator's true curves, the `gtm whatif` command, and the
allocations asset (checks, campaign split, the volatility cap against the trailing base)."""

import argparse
import os
import shutil

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from gtm_assets.cli import whatif as cli_whatif
from gtm_assets.models.scenarios import ScenarioError, parse_scenario, what_if
from gtm_assets_tests.models.test_allocations_truth import true_curve_table, true_daily_revenue

CURRENT = {
    "TV": 9000.0,
    "Radio": 2500.0,
    "Print": 1800.0,
    "Display": 2200.0,
    "CTV": 3500.0,
    "Search": 4500.0,
    "Social": 3200.0,
    "Email": 350.0,
}


def test_parse_scenario():
    changes = parse_scenario("cut tv by 20% and move 10% from TV to Search; increase Email by 50", list(CURRENT))
    assert [(c.source, c.amount, c.relative, c.target) for c in changes] == [
        ("TV", -0.2, True, None),
        ("TV", -0.1, True, "Search"),
        ("Email", 50.0, False, None),
    ]
    with pytest.raises(ScenarioError, match="unknown channel 'Radio2'"):
        parse_scenario("cut Radio2 by 5%", list(CURRENT))
    with pytest.raises(ScenarioError, match="cannot read 'double everything'"):
        parse_scenario("double everything", list(CURRENT))


def test_what_if_matches_true_curves(truth):
    """On the true curves the predicted change is the true change; draws equal to the truth give no
    spread."""
    mmm = true_curve_table(truth)
    draws = pd.concat([mmm.assign(draw=d) for d in range(10)])
    result = what_if(
        parse_scenario("move 10% from TV to Search", list(CURRENT)),
        mmm_channels=mmm,
        current=CURRENT,
        draws=draws,
        base="the test's base",
    )
    moved = {**CURRENT, "TV": 8100.0, "Search": 5400.0}
    expected = true_daily_revenue(truth, moved) - true_daily_revenue(truth, CURRENT)
    assert result.daily_change == pytest.approx(expected, rel=1e-6)  # the simulator's kernels are cut at a 1e-6 tail
    assert result.daily_change_lo == pytest.approx(expected, rel=1e-6) and result.daily_change_hi == pytest.approx(
        expected, rel=1e-6
    )
    assert result.channels.scenario_spend.sum() == pytest.approx(sum(CURRENT.values()))
    assert result.summary().startswith("Base: the test's base.")
    with pytest.raises(ScenarioError, match="makes Email spend negative"):
        what_if(parse_scenario("cut Email by 500", list(CURRENT)), mmm_channels=mmm, current=CURRENT)


def test_cutting_a_channel_that_is_off_this_week_cuts_its_usual_level(truth):
    """TV ran in the last four weeks but not in the last seven days: the scenario applies to its 28-day
    average, predicts the true loss of that cut, and says TV is off right now."""
    mmm = true_curve_table(truth)
    base = {**CURRENT, "TV": 6000.0}
    recent = {**CURRENT, "TV": 0.0}
    result = what_if(
        parse_scenario("cut TV by 20%", list(base)),
        mmm_channels=mmm,
        current=base,
        recent=recent,
        base="the 28-day average daily spend",
    )
    expected = true_daily_revenue(truth, {**base, "TV": 4800.0}) - true_daily_revenue(truth, base)
    assert expected < 0 and result.daily_change == pytest.approx(expected, rel=1e-6)
    assert "TV is off right now" in result.summary() and "6,000.00" in result.summary()
    assert "no interval" in result.summary()


def _cli(**kwargs) -> argparse.Namespace:
    defaults = {"scenario": "", "scale": [], "move": [], "horizon": 14, "db": None}
    return argparse.Namespace(**{**defaults, **kwargs})


def test_whatif_cli(conn, capsys):
    path = conn.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    n_draws = conn.execute("SELECT count(DISTINCT draw) FROM main.mmm_bootstrap_draws").fetchall()[0][0]
    conn.close()
    assert cli_whatif.whatif_command(_cli(scenario="cut TV by 20%", scale=["Search=10"], db=path)) == 0
    out = capsys.readouterr().out
    assert "Predicted revenue change" in out and "| TV " in out
    assert "Base: the 28-day average daily spend (" in out
    assert f"over the model's {n_draws} bootstrap draws" in out
    assert cli_whatif.whatif_command(_cli(scenario="cut Telly by 20%", db=path)) == 2
    assert "unknown channel 'Telly'" in capsys.readouterr().err
    assert cli_whatif.whatif_command(_cli(db=path)) == 2


def _materialize_allocations(database: str, config: dict) -> dg.ExecuteInProcessResult:
    from gtm_assets.defs.activation import allocation_checks
    from gtm_assets.defs.activation.allocations import allocations
    from gtm_assets.warehouse.resource import DuckDBWarehouse

    return dg.materialize(
        [
            allocations,
            allocation_checks.allocations_sum_to_budget,
            allocation_checks.allocations_respect_guardrails,
            allocation_checks.allocations_non_negative,
        ],
        resources={"warehouse": DuckDBWarehouse(database=database)},
        run_config={"ops": {"allocations": {"config": config}}},
        raise_on_error=False,
    )


def test_allocations_cap_against_the_trailing_base_across_runs(graph_run, tmp_path):
    """Two runs with a 10% cap: every channel with spend in the last 28 days stays within 10% of its
    28-day average (flighted channels off this week included), the checks pass, and the rows say the
    base, the guardrail cost and whether a channel is off right now."""
    import duckdb

    copy = str(tmp_path / "copy.duckdb")
    shutil.copy(os.environ["GTM_DUCKDB_PATH"], copy)
    first = _materialize_allocations(copy, {"method": "mmm_optimal", "max_daily_change_pct": 0.1})
    second = _materialize_allocations(copy, {"method": "uniform", "max_daily_change_pct": 0.1})
    with duckdb.connect(copy, read_only=True) as db:
        two = db.execute(
            "SELECT channel, campaign, recommended_spend, recommended_campaign_spend, baseline_spend, "
            "base_window_days, recent_7d_spend, currently_off, guardrails_hit, split_method, rationale, "
            "total_daily_budget FROM main.allocations"
        ).fetchdf()
        media = db.execute(
            "SELECT channel, sum(spend::DOUBLE) / 28 AS base FROM raw.raw_media_spend "
            "WHERE date::DATE > (SELECT max(date::DATE) FROM raw.raw_media_spend) - 28 GROUP BY 1"
        ).fetchdf()
        runs = db.execute("SELECT count(DISTINCT run_id) FROM main.allocation_history").fetchall()[0][0]
    for result in (first, second):
        assert result.success
        assert all(e.passed for e in result.get_asset_check_evaluations())
    channel = two.drop_duplicates("channel").set_index("channel")
    base = media.set_index("channel")["base"].reindex(channel.index)
    np.testing.assert_allclose(channel["baseline_spend"], base, rtol=1e-9)
    assert (channel.base_window_days == 28).all()
    spending = base > 0
    assert ((channel.recommended_spend - base).abs()[spending] <= 0.1 * base[spending] + 0.01).all()
    assert two.guardrails_hit.str.contains("volatility_cap").any()  # uniform wants bigger moves
    assert two.rationale.str.contains("vs the 28-day average daily spend").any()
    assert (channel.currently_off == ((channel.recent_7d_spend < 0.005) & (base > 0))).all()
    assert abs(two.recommended_campaign_spend.sum() - channel.total_daily_budget.iloc[0]) <= 0.01
    assert set(two.split_method) == {"thompson", "recent_share"}  # offline channels track no conversions
    metadata = first.asset_materializations_for_node("allocations")[0].metadata
    assert metadata["guardrail_cost_per_day"].value >= 0
    assert metadata["base"].value.startswith("the 28-day average daily spend")
    assert runs >= 3


def test_inverse_cpa_runs_on_channels_without_conversions(graph_run, tmp_path):
    """TV tracks no conversions: the seed's baseline method still allocates, with a note."""
    import duckdb

    copy = str(tmp_path / "copy.duckdb")
    shutil.copy(os.environ["GTM_DUCKDB_PATH"], copy)
    result = _materialize_allocations(copy, {"method": "inverse_cpa"})
    assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
    with duckdb.connect(copy, read_only=True) as db:
        tv = db.execute("SELECT DISTINCT excluded_reason, rationale FROM main.allocations WHERE channel = 'TV'").fetchall()
    assert "no tracked conversions" in tv[0][0] and "excluded from the 1/CPA split" in tv[0][1]


def test_allocations_infeasible_floors_fail_with_the_constraint(graph_run, tmp_path):
    copy = str(tmp_path / "copy.duckdb")
    shutil.copy(os.environ["GTM_DUCKDB_PATH"], copy)
    result = _materialize_allocations(
        copy,
        {
            "total_daily_budget": 1000.0,
            "floors": {"TV": 800.0, "Search": 800.0},
            "min_learning_spend": 0.0,
            "max_daily_change_pct": None,
        },
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "floors sum to 1,600.00 > total budget 1,000.00" in failure.event_specific_data.error.to_string()
