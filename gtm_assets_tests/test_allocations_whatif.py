"""What-if scenarios against the simulator's true curves, the `gtm whatif` command, and the
allocations asset (checks, campaign split, volatility cap across two consecutive runs)."""

import argparse
import os
import shutil

import dagster as dg
import pandas as pd
import pytest

from gtm_assets.cli import whatif as cli_whatif
from gtm_assets.models.scenarios import ScenarioError, parse_scenario, what_if
from gtm_assets_tests.test_allocations_truth import true_daily_revenue, true_weekly_params

CURRENT = {"TV": 9000.0, "Radio": 2500.0, "Print": 1800.0, "Display": 2200.0, "CTV": 3500.0,
           "Search": 4500.0, "Social": 3200.0, "Email": 350.0}


def test_parse_scenario():
    changes = parse_scenario("cut tv by 20% and move 10% from TV to Search; increase Email by 50", list(CURRENT))
    assert [(c.source, c.amount, c.relative, c.target) for c in changes] == [
        ("TV", -0.2, True, None), ("TV", -0.1, True, "Search"), ("Email", 50.0, False, None)]
    with pytest.raises(ScenarioError, match="unknown channel 'Radio2'"):
        parse_scenario("cut Radio2 by 5%", list(CURRENT))
    with pytest.raises(ScenarioError, match="cannot read 'double everything'"):
        parse_scenario("double everything", list(CURRENT))


def test_what_if_matches_true_curves(truth):
    mmm = true_weekly_params(truth).assign(roi=1.0, roi_lo=0.8, roi_hi=1.3)
    result = what_if(parse_scenario("move 10% from TV to Search", list(CURRENT)), mmm_channels=mmm, current=CURRENT)
    moved = {**CURRENT, "TV": 8100.0, "Search": 5400.0}
    expected = true_daily_revenue(truth, moved) - true_daily_revenue(truth, CURRENT)
    assert result.daily_change == pytest.approx(expected, rel=1e-9)
    assert result.daily_change_lo <= result.daily_change <= result.daily_change_hi
    assert result.channels.scenario_spend.sum() == pytest.approx(sum(CURRENT.values()))
    with pytest.raises(ScenarioError, match="makes Email spend negative"):
        what_if(parse_scenario("cut Email by 500", list(CURRENT)), mmm_channels=mmm, current=CURRENT)


def _cli(**kwargs) -> argparse.Namespace:
    defaults = {"scenario": "", "scale": [], "move": [], "horizon": 14, "db": None}
    return argparse.Namespace(**{**defaults, **kwargs})


def test_whatif_cli(conn, capsys):
    path = conn.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    conn.close()
    assert cli_whatif.whatif_command(_cli(scenario="cut TV by 20%", scale=["Search=10"], db=path)) == 0
    out = capsys.readouterr().out
    assert "Predicted revenue change" in out and "| TV " in out
    assert cli_whatif.whatif_command(_cli(scenario="cut Telly by 20%", db=path)) == 2
    assert "unknown channel 'Telly'" in capsys.readouterr().err
    assert cli_whatif.whatif_command(_cli(db=path)) == 2


def _materialize_allocations(database: str, config: dict) -> dg.ExecuteInProcessResult:
    from gtm_assets.defs.activation import allocation_checks
    from gtm_assets.defs.activation.allocations import allocations
    from gtm_assets.warehouse import DuckDBWarehouse

    return dg.materialize(
        [allocations, allocation_checks.allocations_sum_to_budget, allocation_checks.allocations_respect_guardrails,
         allocation_checks.allocations_non_negative],
        resources={"warehouse": DuckDBWarehouse(database=database)},
        run_config={"ops": {"allocations": {"config": config}}},
        raise_on_error=False,
    )


def test_allocations_volatility_cap_across_two_runs(graph_run, tmp_path):
    import duckdb

    copy = str(tmp_path / "copy.duckdb")
    shutil.copy(os.environ["GTM_DUCKDB_PATH"], copy)
    first = _materialize_allocations(copy, {"method": "mmm_optimal", "max_daily_change_pct": 0.1})
    with duckdb.connect(copy, read_only=True) as db:
        one = db.execute("SELECT DISTINCT channel, recommended_spend, total_daily_budget FROM main.allocations").fetchdf()
    second = _materialize_allocations(copy, {"method": "uniform", "max_daily_change_pct": 0.1})
    with duckdb.connect(copy, read_only=True) as db:
        two = db.execute("SELECT channel, campaign, recommended_spend, recommended_campaign_spend, guardrails_hit, "
                         "split_method, rationale FROM main.allocations").fetchdf()
        runs = db.execute("SELECT count(DISTINCT run_id) FROM main.allocation_history").fetchall()[0][0]
    for result in (first, second):
        assert result.success
        assert all(e.passed for e in result.get_asset_check_evaluations())
    channel_two = two.drop_duplicates("channel").set_index("channel").recommended_spend
    before = one.set_index("channel").recommended_spend.reindex(channel_two.index)
    spending = before > 0  # the cap applies to channels that spend; a stopped channel may restart
    assert spending.sum() >= 5
    assert ((channel_two - before).abs()[spending] <= 0.1 * before[spending] + 0.01).all()
    assert two.guardrails_hit.str.contains("volatility_cap").any()  # uniform wants bigger moves
    assert abs(two.recommended_campaign_spend.sum() - one.total_daily_budget.iloc[0]) <= 0.01
    assert set(two.split_method) == {"thompson", "recent_share"}  # offline channels track no conversions
    assert runs >= 3


def test_allocations_infeasible_floors_fail_with_the_constraint(graph_run, tmp_path):
    copy = str(tmp_path / "copy.duckdb")
    shutil.copy(os.environ["GTM_DUCKDB_PATH"], copy)
    result = _materialize_allocations(copy, {"total_daily_budget": 1000.0, "floors": {"TV": 800.0, "Search": 800.0}, "min_learning_spend": 0.0,
                                             "max_daily_change_pct": None})
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "floors sum to 1,600.00 > total budget 1,000.00" in failure.event_specific_data.error.to_string()
