"""Decisions a budget owner can bank on, measured against the truth over many simulated worlds: the
media-mix model's ROIs and flags, its lift-test agreement, the budget plan's share of the available
gain, and the same after one round of the experiments the planner asks for; pymc-marketing as the
peer on a few worlds of each family, in the same run.

Families: ``default`` and ``hard`` (the model's own curve families), and three outside them:
``shapes`` (Weibull-shaped lags, exponential and log1p saturation, AR(1) noise), ``multiplicative``
(revenue multiplicative in the seasonal base, a TV -> Search interaction, AR(1) noise) and
``demand`` (persistent demand shocks; Search budgeted from last week's revenue, Display as a share of
it). Each world is drawn by the simulator with its own seed.

Per world, round 1: the model sees what the product sees over the first 730 days (weekly revenue,
daily spend, organic sessions as the demand signal, the world's own lift tests), and is scored on
the true ROI over those days (the counterfactual: revenue with the spend minus with the channel at
zero). The plan under the default guardrails (the trailing 28-day base, total kept, +-25%, minimum
learning spend 25) is scored on the world's true steady state: the share of the available gain it
captures, (plan - current mix) / (true guardrailed optimum - current mix). The planner proposes a
test for every held channel. Round 2 (closed loop): the simulator runs those tests in the 20 weeks
after the history (the days before are unchanged), the model is refitted on everything, and the new
plan is scored the same way at the new base.

    pip install -e '.[peers]'          # for the peer
    python benchmarks/mmm_worlds.py [--per-family 6] [--bootstrap 50] [--peer-worlds 3] [--jobs 2]

Goals (issue 20): identified channels' median |ROI error| <= 15% and 90% coverage in 80-95% in every
family; gain captured median >= 70%, >= -1% in 95% of worlds; after one round of experiments median
>= 85%; every lift test agrees with the model (|z| <= 2) or its channel is flagged.
"""

from __future__ import annotations

import argparse
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from gtm_assets.models.allocate import Guardrails, allocate, guardrail_bounds
from gtm_assets.simulate import CHANNELS, Experiment, score_plan, simulate_world
from gtm_assets_tests.simulate.world_fits import fit_world, planned_experiments, world_inputs

FAMILIES = ("default", "hard", "shapes", "multiplicative", "demand")
HISTORY_DAYS = 730
EXTENSION_DAYS = 140
BASE_DAYS = 28
MAX_CHANGE = 0.25
LEARNING_SPEND = 25.0
BUNDLED_SEED = 7
NAMES = [c.name for c in CHANNELS]
START = pd.Timestamp("2024-01-01")


def _fit(sim, days: int, bootstrap: int, seed: int):
    return fit_world(sim, days, bootstrap=bootstrap, seed=seed)


def _plan(sim, result, days: int):
    """The product's plan at the end of ``days`` and its score on the truth."""
    recent = sim.daily.iloc[days - BASE_DAYS : days]
    base = {c: float(recent[f"spend_{c}"].mean()) for c in NAMES}
    guardrails = Guardrails(
        total_daily_budget=sum(base.values()), max_daily_change_pct=MAX_CHANGE, min_learning_spend=LEARNING_SPEND
    )
    plan = allocate(
        "mmm_optimal", channels=NAMES, current=base, guardrails=guardrails, mmm_channels=result.channels, draws=result.draws
    )
    lower, upper = guardrail_bounds(NAMES, base, guardrails)
    score = score_plan(sim.market, sim.scoring_base(days), base, dict(zip(plan.channel, plan.recommended_spend)), lower, upper)
    return plan, score


def _scored_channels(sim, result, days: int) -> pd.DataFrame:
    truth = sim.truth_before(days)
    table = result.channels.set_index("channel")
    true_roi = pd.Series({c: truth[c]["true_roi"] for c in table.index})
    return pd.DataFrame(
        {
            "true_roi": true_roi,
            "roi": table["roi"],
            "roi_lo": table["roi_lo"],
            "roi_hi": table["roi_hi"],
            "abs_error": (table["roi"] / true_roi - 1).abs(),
            "covered": (table["roi_lo"] <= true_roi) & (true_roi <= table["roi_hi"]),
            "identified": table["identified"],
            "codes": table["identification_codes"],
        }
    )


def _experiments(sim, plan, result, days: int) -> tuple[list[Experiment], pd.DataFrame]:
    """The planner's tests for the held channels, as the simulator's experiments after the history
    (those whose window the media plan spends in)."""
    proposed = planned_experiments(sim, plan, result, days, MAX_CHANGE)
    out = []
    for row in proposed.itertuples():
        if row.spend_at_stake <= 0 or row.planned_spend_in_window < 0.5 * row.base_daily_spend * 7 * row.weeks:
            continue
        first = (pd.Timestamp(row.start_date) - START).days
        end = (pd.Timestamp(row.end_date) - START).days + 1
        if end <= days + EXTENSION_DAYS - BASE_DAYS:  # the new base must not hold a test
            out.append(Experiment(row.channel, "geo_holdout", first, end, float(row.holdout_share)))
    return out, proposed


def run_world(job: tuple[int, str, int]) -> dict:
    """Both rounds on one world: scored channels, lift tests, plans and their scores."""
    seed, family, bootstrap = job
    dates = pd.date_range(START, periods=HISTORY_DAYS + EXTENSION_DAYS, freq="D")
    started = time.perf_counter()
    first = simulate_world(seed, dates, family, history_days=HISTORY_DAYS)
    result = _fit(first, HISTORY_DAYS, bootstrap, seed)
    plan, score = _plan(first, result, HISTORY_DAYS)
    experiments, proposed = _experiments(first, plan, result, HISTORY_DAYS)
    second = simulate_world(seed, dates, family, history_days=HISTORY_DAYS, extra_experiments=experiments)
    refit = _fit(second, HISTORY_DAYS + EXTENSION_DAYS, bootstrap, seed)
    _, score2 = _plan(second, refit, HISTORY_DAYS + EXTENSION_DAYS)
    flagged = set(result.channels.loc[result.channels["identification_codes"].str.contains("experiment_disagrees"), "channel"])
    tests = result.lift_tests.assign(flagged=result.lift_tests["channel"].isin(flagged))
    return {
        "seed": seed,
        "family": family,
        "channels": _scored_channels(first, result, HISTORY_DAYS).assign(world=seed, family=family),
        "tests": tests.assign(world=seed, family=family),
        "plan": plan.assign(world=seed, family=family),
        "score": score,
        "score_after": score2,
        "experiments": len(experiments),
        "proposed": len(proposed),
        "seconds": time.perf_counter() - started,
        "diagnostics": result.diagnostics,
    }


def _pymc(sim, seed: int, draws: int, tune: int, chains: int) -> tuple[pd.DataFrame, float]:
    """pymc-marketing (geometric adstock + logistic saturation, its lift-test calibration) on round 1."""
    from pymc_marketing.mmm import GeometricAdstock, LogisticSaturation
    from pymc_marketing.mmm.multidimensional import MMM

    panel, _, lift_tests = world_inputs(sim, HISTORY_DAYS)
    # pymc-marketing refuses a lift test whose measured lift has the wrong sign (NonMonotonicError),
    # which noisy tests of weak channels do; it gets the others (ours takes every test).
    lift_tests = lift_tests[lift_tests["incremental_revenue"] > 0].reset_index(drop=True)
    data = panel[["week", *NAMES, "organic_sessions"]].assign(trend=np.arange(len(panel)) / (len(panel) - 1))
    model = MMM(
        date_column="week",
        channel_columns=NAMES,
        target_column="revenue",
        adstock=GeometricAdstock(l_max=8),
        saturation=LogisticSaturation(),
        control_columns=["trend", "organic_sessions"],
        yearly_seasonality=2,
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.build_model(data, panel["revenue"])
        if len(lift_tests):
            weeks = (pd.to_datetime(lift_tests["end_date"]) - pd.to_datetime(lift_tests["start_date"])).dt.days.add(1) / 7
            levels = [
                panel.loc[panel["week"].between(pd.Timestamp(s) - pd.Timedelta(days=6), pd.Timestamp(e)), c].mean()
                for c, s, e in zip(lift_tests["channel"], lift_tests["start_date"], lift_tests["end_date"])
            ]
            per_week_withheld = lift_tests["spend"] / weeks
            model.add_lift_test_measurements(
                pd.DataFrame(
                    {
                        "channel": lift_tests["channel"],
                        "x": np.asarray(levels) + per_week_withheld,
                        "delta_x": -per_week_withheld,
                        "delta_y": -lift_tests["incremental_revenue"] / weeks,
                        "sigma": lift_tests["standard_error"] / weeks,
                    }
                )
            )
        model.fit(
            data, panel["revenue"], chains=chains, draws=draws, tune=tune, cores=chains, random_seed=seed, progressbar=False
        )
    posterior = model.idata.posterior["channel_contribution"]
    scale = float(model.idata.constant_data["target_scale"])
    roi = posterior.sum(dim="date") * scale / panel[NAMES].sum().to_numpy()
    samples = roi.stack(sample=("chain", "draw")).transpose("sample", "channel").to_numpy()
    truth = sim.truth_before(HISTORY_DAYS)
    true_roi = np.array([truth[c]["true_roi"] for c in NAMES])
    order = [list(roi.channel.values).index(c) for c in NAMES]
    samples = samples[:, order]
    lo, hi = np.percentile(samples, [5, 95], axis=0)
    table = pd.DataFrame(
        {
            "true_roi": true_roi,
            "roi": samples.mean(axis=0),
            "abs_error": np.abs(samples.mean(axis=0) / true_roi - 1),
            "covered": (lo <= true_roi) & (true_roi <= hi),
        },
        index=NAMES,
    )
    return table, time.perf_counter() - started


def _family_table(results: list[dict]) -> pd.DataFrame:
    rows = []
    for family in FAMILIES:
        own = [r for r in results if r["family"] == family]
        if not own:
            continue
        channels = pd.concat([r["channels"] for r in own])
        identified = channels[channels["identified"]]
        tests = pd.concat([r["tests"] for r in own])
        captured = np.array([r["score"].captured for r in own])
        after = np.array([r["score_after"].captured for r in own])
        rows.append(
            {
                "family": family,
                "worlds": len(own),
                "identified": f"{len(identified)}/{len(channels)}",
                "median_err_identified": identified["abs_error"].median(),
                "coverage_identified": identified["covered"].mean(),
                "median_err_all": channels["abs_error"].median(),
                "lift_tests": len(tests),
                "lift_agree": tests["agrees"].mean() if len(tests) else np.nan,
                "lift_agree_or_flagged": (tests["agrees"] | tests["flagged"]).mean() if len(tests) else np.nan,
                "gain_median": np.median(captured),
                "gain_p10": np.percentile(captured, 10),
                "gain_ge_-1%": np.mean(captured >= -0.01),
                "after_tests_median": np.median(after),
                "after_tests_p10": np.percentile(after, 10),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-family", type=int, default=6, help="worlds per family (seeds 1..N; default also seed 7)")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--bootstrap", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2, help="worlds fitted at once (processes)")
    parser.add_argument("--peer-worlds", type=int, default=3, help="worlds per family the peer also fits (0: no peer)")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--csv", type=Path, help="write every channel-world row here")
    parser.add_argument(
        "--peer-only",
        action="store_true",
        help="fit only the peer on the first --peer-worlds worlds of each family (our figures on the same "
        "worlds come from a full run)",
    )
    args = parser.parse_args()
    if args.peer_only:
        _peer_only(args.families.split(","), args)
        return

    families = args.families.split(",")
    jobs = [(seed, family, args.bootstrap) for family in families for seed in range(1, args.per_family + 1)]
    if "default" in families and args.per_family < BUNDLED_SEED:
        jobs.append((BUNDLED_SEED, "default", args.bootstrap))
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = []
        for result in pool.map(run_world, jobs):
            results.append(result)
            s, a = result["score"], result["score_after"]
            held = result["plan"]["decision"].str.startswith("hold").sum()
            print(
                f"world {result['seed']:>2} {result['family']:<14} gain captured {s.captured:+.0%} (of {s.available:,.0f}/day), "
                f"after {result['experiments']} tests {a.captured:+.0%}; {held} of {len(NAMES)} held; "
                f"{result['seconds']:.0f} s",
                flush=True,
            )
    print(f"\n== {len(results)} worlds in {time.perf_counter() - started:.0f} s (round 1 and the closed loop)")
    table = _family_table(results)
    print(table.to_markdown(index=False, floatfmt=".2f"))
    everything = pd.concat([r["channels"] for r in results])
    identified = everything[everything["identified"]]
    captured = np.array([r["score"].captured for r in results])
    after = np.array([r["score_after"].captured for r in results])
    print(
        f"\nall worlds: identified median |ROI error| {identified['abs_error'].median():.1%}, coverage "
        f"{identified['covered'].mean():.0%}; gain captured median {np.median(captured):.0%}, p10 "
        f"{np.percentile(captured, 10):.0%}, >= -1% in {np.mean(captured >= -0.01):.0%} of worlds; after one round "
        f"of experiments median {np.median(after):.0%}"
    )
    decisions = pd.concat([r["plan"] for r in results])["decision"].value_counts()
    print("decisions:", ", ".join(f"{k} {v}" for k, v in decisions.items()))
    bundled = [r for r in results if r["seed"] == BUNDLED_SEED and r["family"] == "default"]
    if bundled:
        b = bundled[0]
        print(
            f"default world seed {BUNDLED_SEED} (the bundled sample's world, total revenue): gain captured "
            f"{b['score'].captured:.0%} of {b['score'].available:,.0f}/day; after experiments {b['score_after'].captured:.0%}"
        )
    if args.csv:
        everything.to_csv(args.csv)
    if args.peer_worlds:
        _peer(results, families, args)


def _peer(results, families, args) -> None:
    rows = []
    for family in families:
        for seed in range(1, args.peer_worlds + 1):
            ours = next(r for r in results if r["seed"] == seed and r["family"] == family)
            sim = simulate_world(
                seed, pd.date_range(START, periods=HISTORY_DAYS + EXTENSION_DAYS, freq="D"), family, history_days=HISTORY_DAYS
            )
            peer, seconds = _pymc(sim, seed, args.draws, args.tune, args.chains)
            print(
                f"pymc-marketing world {seed} {family}: median |ROI error| {peer['abs_error'].median():.0%}, "
                f"90% coverage {peer['covered'].mean():.0%}; ours (all channels) "
                f"{ours['channels']['abs_error'].median():.0%}, {ours['channels']['covered'].mean():.0%}; {seconds:.0f} s",
                flush=True,
            )
            rows.append({"family": family, "model": "pymc-marketing", "frame": peer, "seconds": seconds})
            rows.append(
                {"family": family, "model": "gtm-assets (all)", "frame": ours["channels"], "seconds": ours["seconds"] / 2}
            )
            rows.append(
                {"family": family, "model": "gtm-assets (identified)", "frame": ours["channels"][ours["channels"]["identified"]]}
            )
    summary = []
    for (family, model), group in pd.DataFrame(rows).groupby(["family", "model"], sort=False):
        frame = pd.concat(list(group["frame"]))
        summary.append(
            {
                "family": family,
                "model": model,
                "channel_worlds": len(frame),
                "median_abs_error": frame["abs_error"].median(),
                "coverage_90": frame["covered"].mean(),
                "seconds_per_fit": group["seconds"].mean(),
            }
        )
    print(f"\n== peer on the first {args.peer_worlds} worlds of each family (round 1)")
    print(pd.DataFrame(summary).to_markdown(index=False, floatfmt=".2f"))


def _peer_only(families, args) -> None:
    summary = []
    for family in families:
        frames, seconds = [], []
        for seed in range(1, args.peer_worlds + 1):
            sim = simulate_world(
                seed, pd.date_range(START, periods=HISTORY_DAYS + EXTENSION_DAYS, freq="D"), family, history_days=HISTORY_DAYS
            )
            peer, took = _pymc(sim, seed, args.draws, args.tune, args.chains)
            print(f"pymc-marketing world {seed} {family}: median |ROI error| {peer['abs_error'].median():.0%}, "
                  f"90% coverage {peer['covered'].mean():.0%}; {took:.0f} s", flush=True)  # fmt: skip
            frames.append(peer)
            seconds.append(took)
        frame = pd.concat(frames)
        summary.append({"family": family, "channel_worlds": len(frame), "median_abs_error": frame["abs_error"].median(),
                        "coverage_90": frame["covered"].mean(), "seconds_per_fit": np.mean(seconds)})  # fmt: skip
    print(f"\n== pymc-marketing on the first {args.peer_worlds} worlds of each family (round 1)")
    print(pd.DataFrame(summary).to_markdown(index=False, floatfmt=".2f"))


if __name__ == "__main__":
    main()
