"""The media-mix model against the simulator's ground truth.

The session's world (conftest: seed 11, default preset) draws its own ROIs, curves, carry-overs and
experiments; the model is not told any of it. On total revenue (before consent drops) the true ROI
is the simulator's: total contribution / total spend. The graph's asset sees consented revenue only:
its true ROI is the simulator's ROI x the observed revenue share. Coverage over many worlds is
measured by benchmarks/mmm_worlds.py, not here.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from gtm_assets.defs.measurement.mmm_checks import INTERVAL_COLUMNS, R2_FLOOR, degenerate_fit_problems
from gtm_assets.models.mmm import MMMInputError, fit_mmm
from gtm_assets.simulate import NEVER_OFF, weekly_truth_panel

N_BOOTSTRAP = 30


def _inputs(truth, data_dir):
    names = list(truth["channels"])
    daily = pd.read_csv(data_dir / "ground_truth_daily.csv")
    daily = daily.rename(columns={f"spend_{c}": c for c in names})[["date", *names]]
    tests = pd.read_csv(data_dir / "landing" / "experiments" / "lift_tests.csv")
    return weekly_truth_panel(data_dir), daily, tests, names


def _fit(panel, names, **kwargs):
    return fit_mmm(panel, date_col="week", target_col="revenue", spend_cols=names, event_cols=["holiday"], **kwargs)


@pytest.fixture(scope="module")
def truth_fit(truth, data_dir):
    panel, daily, tests, names = _inputs(truth, data_dir)
    result = _fit(panel, names, n_bootstrap=N_BOOTSTRAP, seed=0, lift_tests=tests, daily_spend=daily)
    table = result.channels.set_index("channel")
    table["true_roi"] = [truth["channels"][c]["true_roi"] for c in table.index]
    table["error"] = (table["roi"] / table["true_roi"] - 1).abs()
    table["covered"] = (table["roi_lo"] <= table["true_roi"]) & (table["true_roi"] <= table["roi_hi"])
    return result, table


def test_roi_recovers_truth_on_total_revenue(truth_fit, truth):
    """Intervals cover the truth for at least 6 of 8 channels (calibrated 90% intervals do with
    probability 0.96); channels called identified are each within 30% of their true ROI, their
    median error is at most 15%, and their ranking follows the truth's."""
    result, table = truth_fit
    assert table["covered"].sum() >= 6, table[["roi", "roi_lo", "roi_hi", "true_roi"]]
    identified = table[table["identified"]]
    assert len(identified) >= 4, table["identification_reason"]
    assert identified["error"].max() <= 0.30, identified[["roi", "true_roi", "error"]]
    assert identified["error"].median() <= 0.15
    assert spearmanr(identified["roi"], identified["true_roi"]).statistic >= 0.8
    assert result.diagnostics["r2"] > 0.95
    # Flighted channels (whole weeks off) that do not move with another channel are identified.
    for channel, facts in truth["channels"].items():
        if facts["pattern"] == "flighted" and table.loc[channel, "spend_collinearity_r2"] <= 0.75:
            assert table.loc[channel, "identified"], (channel, table.loc[channel, "identification_reason"])


def test_always_on_channels_are_reported_as_the_data_allows(truth_fit, truth):
    """Never-off channels: identified only with a lift test and then close to the truth; otherwise
    flagged with the reason and a fix that names a lift test; a channel whose spend the world kept
    nearly flat is flagged as barely varying."""
    _, table = truth_fit
    for channel in NEVER_OFF:
        row, facts = table.loc[channel], truth["channels"][channel]
        if row["identified"]:
            assert row["lift_tests"] >= 1, channel
            assert row["covered"] or row["error"] <= 0.30, (channel, row["roi"], facts["true_roi"])
        else:
            assert "lift test" in row["identification_fix"] or "vary its spend" in row["identification_fix"], channel
        assert math.isnan(row["lift_test_roi"]) == (row["lift_tests"] == 0)
        if facts["weekly_spend_cv"] < 0.09:
            assert not row["identified"] and "barely varies" in row["identification_reason"], channel


def test_without_lift_tests_always_on_channels_are_identified_only_by_a_switch_off(truth, data_dir):
    """Their ROI counts from zero spend: without the experiments' measurements only a channel that
    really went to zero (a national switch-off left its weeks in the data) can be identified, and
    then within 30% of the truth; the others are flagged with the extrapolation or flat-spend reason."""
    panel, daily, _, names = _inputs(truth, data_dir)
    table = _fit(panel, names, n_bootstrap=5, seed=0, daily_spend=daily, holdout_weeks=0).channels.set_index("channel")
    switched_off = {t["channel"] for t in truth["experiments"] if t["design"] == "switch_off"}
    for channel in NEVER_OFF:
        row = table.loc[channel]
        if channel in switched_off and row["identified"]:
            assert row["roi"] == pytest.approx(truth["channels"][channel]["true_roi"], rel=0.30), channel
            continue
        assert not row["identified"], channel
        assert (
            "extrapolates the curve to zero spend" in row["identification_reason"]
            or "barely varies" in row["identification_reason"]
        ), channel


def test_bad_lift_test_is_named(truth, data_dir):
    panel, daily, tests, names = _inputs(truth, data_dir)
    unknown = tests.assign(channel=tests["channel"].where(tests.index != 0, "Podcast"))
    with pytest.raises(MMMInputError, match=r"lift test 1 \(Podcast, .*channel is not one of spend_cols"):
        _fit(panel, names, n_bootstrap=1, lift_tests=unknown, daily_spend=daily)
    with pytest.raises(MMMInputError, match="standard_error > 0"):
        _fit(panel, names, n_bootstrap=1, lift_tests=tests.assign(standard_error=0.0), daily_spend=daily)


def test_asset_outputs_and_check(graph_run, conn, truth):
    channels = conn.execute("SELECT * FROM main.mmm_model ORDER BY channel").fetchdf()
    assert sorted(channels["channel"]) == sorted(truth["channels"])
    assert channels["lineage_id"].is_unique
    interval_cols = [c for c in channels.columns if c.endswith(("_lo", "_hi"))]
    assert np.isfinite(channels[interval_cols].to_numpy(dtype=float)).all()
    assert channels["contribution_share"].sum() == pytest.approx(1.0)
    assert set(channels["time_step_days"]) == {1}  # the graph saturates spend day by day
    assert channels["identification_reason"].str.len().gt(0).all()
    draws = conn.execute("SELECT * FROM main.mmm_bootstrap_draws").fetchdf()
    diagnostics = conn.execute("SELECT * FROM main.mmm_diagnostics").fetchdf().iloc[0]
    assert len(draws) == diagnostics["n_bootstrap"] * len(channels)
    assert set(draws["mmm_lineage_id"]) == set(channels["lineage_id"])
    assert diagnostics["r2"] >= R2_FLOOR
    for key in ("mape_holdout", "nrmse", "durbin_watson", "max_vif", "decomp_rssd"):
        assert np.isfinite(diagnostics[key]), key
    assert json.loads(diagnostics["selection_scores"]).keys() == set(channels["channel"])
    lift_rows = conn.execute("SELECT channel FROM raw.raw_lift_tests").fetchdf()
    assert sorted(lift_rows["channel"]) == sorted(t["channel"] for t in truth["experiments"])
    assert diagnostics["n_lift_tests"] == len(lift_rows)
    holiday_weeks = conn.execute(
        "SELECT count(DISTINCT week) FROM main.mmm_decomposition WHERE component = 'holiday' AND value <> 0"
    ).fetchall()[0][0]
    assert holiday_weeks == 4  # Black Friday and Cyber Monday weeks of two years
    materialization = next(
        e.materialization
        for r in graph_run.results
        for e in r.get_asset_materialization_events()
        if e.materialization.asset_key.to_user_string() == "mmm_model"
    )
    assert "identification_reason" in materialization.metadata["identification"].value
    evaluations = [
        e for r in graph_run.results for e in r.get_asset_check_evaluations() if e.check_name == "mmm_fit_not_degenerate"
    ]
    assert len(evaluations) == 1 and evaluations[0].passed


def test_asset_roi_covers_the_truth_on_the_sales_ledger(graph_run, conn, truth, data_dir):
    """The product path: the simulated world lands its order system's daily sales (all orders, consented
    or not), so the asset models them and its ROI is the simulator's true ROI. The intervals of
    identified channels cover the truth for all but one at most and their median error is at most 20%;
    flighted ones (identified by their on/off weeks) are covered for at least 3 of 4."""
    materialization = next(
        e.materialization
        for r in graph_run.results
        for e in r.get_asset_materialization_events()
        if e.materialization.asset_key.to_user_string() == "mmm_model"
    )
    assert materialization.metadata["revenue_source"].value.startswith("sales ledger (raw_daily_sales)")
    assert materialization.metadata["lift_test_scale"].value == 1.0
    table = conn.execute("SELECT * FROM main.mmm_model").fetchdf().set_index("channel")
    true_roi = pd.Series({c: truth["channels"][c]["true_roi"] for c in table.index})
    error = (table["roi"] / true_roi - 1).abs()
    covers = (table["roi_lo"] <= true_roi) & (true_roi <= table["roi_hi"])
    identified = table["identified"]
    assert identified.sum() >= 2
    assert covers[identified].sum() >= identified.sum() - 1, pd.DataFrame({"roi": table["roi"], "truth": true_roi})
    assert error[identified].median() <= 0.20
    flighted = [c for c in table.index if truth["channels"][c]["pattern"] == "flighted"]
    covered = [table.loc[c, "roi_lo"] <= true_roi[c] <= table.loc[c, "roi_hi"] for c in flighted]
    assert sum(covered) >= len(flighted) - 1, dict(zip(flighted, covered))


def test_degenerate_fit_is_named():
    good = {
        "channel": "TV",
        "spend_cv": 0.8,
        **dict.fromkeys(INTERVAL_COLUMNS, 1.0),
    }
    flat = {**good, "channel": "Radio", "spend_cv": 0.01}  # not identified, but not a broken fit
    assert degenerate_fit_problems([good, flat], r2=0.9) == []
    broken = {**good, "channel": "Print", "roi_hi": float("nan")}
    problems = degenerate_fit_problems([good, flat, broken], r2=0.1)
    assert any("Print" in p and "roi_hi" in p for p in problems)
    assert any("below the floor" in p for p in problems)


def test_event_column_without_events_is_named(truth, data_dir):
    panel, _, _, names = _inputs(truth, data_dir)
    with pytest.raises(MMMInputError, match="event column 'promo' marks no week"):
        fit_mmm(
            panel.assign(promo="na"), date_col="week", target_col="revenue", spend_cols=names, event_cols=["promo"], n_bootstrap=1
        )


def _run_cli(argv: list[str]) -> int:
    import argparse

    from gtm_assets.cli.mmm import register

    parser = argparse.ArgumentParser(prog="gtm")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_cli_fits_a_csv_with_lift_tests_and_rejects_bad_input(truth, data_dir, tmp_path, capsys):
    panel, _, tests, names = _inputs(truth, data_dir)
    panel = panel.drop(columns=[f"contrib_{c}" for c in names])
    good, bad, lift = tmp_path / "panel.csv", tmp_path / "bad.csv", tmp_path / "lift.csv"
    panel.to_csv(good, index=False)
    panel.assign(TV=panel["TV"].where(panel.index != 5, -3.0)).to_csv(bad, index=False)
    tests.to_csv(lift, index=False)
    common = [
        "mmm",
        "fit",
        "--date-col",
        "week",
        "--target-col",
        "revenue",
        "--event-cols",
        "holiday",
        "--spend-cols",
        ",".join(names),
        "--bootstrap",
        "3",
    ]
    assert _run_cli([*common, "--csv", str(good), "--lift-tests", str(lift), "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert [c["channel"] for c in output["channels"]] == names
    assert output["diagnostics"]["n_lift_tests"] == len(tests)
    assert {v["channel"] for v in output["identification"]} == set(names)
    assert output["diagnostics"]["r2"] > 0.9
    assert _run_cli([*common, "--csv", str(good), "--lift-tests", str(lift)]) == 0
    printed = capsys.readouterr().out
    assert all(f"{c}: " in printed for c in names) and "NOT identified" in printed
    assert _run_cli([*common, "--csv", str(bad)]) == 2
    error = capsys.readouterr().err
    assert "'TV' has negative spend -3" in error and str(panel["week"][5].date()) in error
    tests.drop(columns="spend").to_csv(lift, index=False)
    assert _run_cli([*common, "--csv", str(good), "--lift-tests", str(lift)]) == 2
    assert "lift_tests lacks column(s): spend" in capsys.readouterr().err
