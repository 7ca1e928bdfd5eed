"""The media-mix model on many simulated worlds with known truth, on Robyn's demo data, and against
pymc-marketing as the peer on a few of the same worlds, in one run.

Each world is drawn by the simulator from its preset (``default`` or ``hard``) with its own seed:
its own ROIs, saturation points, shapes, carry-overs (some delayed), correlated and low-variation
channels, noise level and lift tests (geo holdouts or switch-offs measured from simulated revenue).
The model sees what the product sees: the weekly panel of total revenue and spend (complete Monday
weeks, holiday weeks marked), the daily spend, and the lift-test file. True ROI = total true contribution / total spend.

Printed, per channel and world: true ROI, estimate, 90% interval, |ROAS error|, whether the interval
covers, the interval's width relative to the truth, and the identification verdict. Then the goals'
figures: median |ROAS error| over identified channel-worlds (goal <= 15%) and over all; coverage of
the 90% intervals over all channel-worlds (goal 80-95%); median relative width; the default world's
per-channel errors (goal: every channel within 10%). The peer (pymc-marketing 0.19, geometric adstock
+ logistic saturation, its lift-test calibration where a world has tests, 2 chains) on the first
``--peer-worlds`` worlds, scored the same way. Robyn's demo data (no published truth): estimates,
intervals, verdicts and fit figures.

    pip install -e '.[peers]'          # for the peer
    python benchmarks/mmm_worlds.py [--worlds 20] [--hard-every 4] [--bootstrap 100] [--peer-worlds 3]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from gtm_assets.models.mmm import fit_mmm
from gtm_assets.simulate import CHANNELS, simulate_world, weekly_panel

ROBYN_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "robyn_dt_simulated_weekly.csv"
ROBYN_SPEND = ["tv_S", "ooh_S", "print_S", "facebook_S", "search_S"]
DEFAULT_WORLD_SEED = 7
DAYS = 730


def world(seed: int, preset: str):
    """A simulated world, its weekly panel (with the holiday weeks marked) and its daily spend."""
    simulated = simulate_world(seed, pd.date_range("2024-01-01", periods=DAYS, freq="D"), preset)
    names = [c.name for c in CHANNELS]
    daily = simulated.daily.rename(columns={f"spend_{c}": c for c in names})[["date", *names]]
    return simulated, weekly_panel(simulated.daily), daily


def _ours(panel: pd.DataFrame, daily: pd.DataFrame, lift_tests: pd.DataFrame, bootstrap: int, seed: int):
    names = [c.name for c in CHANNELS]
    started = time.perf_counter()
    result = fit_mmm(
        panel,
        date_col="week",
        target_col="revenue",
        spend_cols=names,
        event_cols=["holiday"],
        n_bootstrap=bootstrap,
        seed=seed,
        lift_tests=lift_tests,
        daily_spend=daily,
    )
    table = result.channels.set_index("channel")
    return table, time.perf_counter() - started


def _score(table: pd.DataFrame, truth: dict) -> pd.DataFrame:
    true_roi = pd.Series({c: truth[c]["true_roi"] for c in table.index})
    return pd.DataFrame(
        {
            "true_roi": true_roi,
            "roi": table["roi"],
            "roi_lo": table["roi_lo"],
            "roi_hi": table["roi_hi"],
            "abs_error": (table["roi"] / true_roi - 1).abs(),
            "covered": (table["roi_lo"] <= true_roi) & (true_roi <= table["roi_hi"]),
            "width": (table["roi_hi"] - table["roi_lo"]) / true_roi,
            "identified": table.get("identified", True),
            "tested": pd.Series({c: truth[c]["tested"] for c in table.index}),
        }
    )


def _pymc(panel: pd.DataFrame, lift_tests: pd.DataFrame, seed: int, draws: int, tune: int, chains: int):
    from pymc_marketing.mmm import GeometricAdstock, LogisticSaturation
    from pymc_marketing.mmm.multidimensional import MMM

    names = [c.name for c in CHANNELS]
    data = panel[["week", *names]].assign(trend=np.arange(len(panel)) / (len(panel) - 1))
    model = MMM(
        date_column="week",
        channel_columns=names,
        target_column="revenue",
        adstock=GeometricAdstock(l_max=8),
        saturation=LogisticSaturation(),
        control_columns=["trend"],
        yearly_seasonality=2,
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.build_model(data, panel["revenue"])
        if len(lift_tests):
            # pymc-marketing's lift-test likelihood: x = spend before, delta_x = the change the test made.
            weeks = (pd.to_datetime(lift_tests["end_date"]) - pd.to_datetime(lift_tests["start_date"])).dt.days.add(1) / 7
            levels = [
                panel.loc[panel["week"].between(pd.Timestamp(s) - pd.Timedelta(days=6), pd.Timestamp(e)), c].mean()
                for c, s, e in zip(lift_tests["channel"], lift_tests["start_date"], lift_tests["end_date"])
            ]
            per_week_withheld = lift_tests["spend"] / weeks
            calibration = pd.DataFrame(
                {
                    "channel": lift_tests["channel"],
                    "x": np.asarray(levels) + per_week_withheld,
                    "delta_x": -per_week_withheld,
                    "delta_y": -lift_tests["incremental_revenue"] / weeks,
                    "sigma": lift_tests["standard_error"] / weeks,
                }
            )
            model.add_lift_test_measurements(calibration)
        model.fit(
            data, panel["revenue"], chains=chains, draws=draws, tune=tune, cores=chains, random_seed=seed, progressbar=False
        )
    elapsed = time.perf_counter() - started
    posterior = model.idata.posterior["channel_contribution"]
    scale = float(model.idata.constant_data["target_scale"])
    roi = posterior.sum(dim="date") * scale / panel[names].sum().to_numpy()
    samples = roi.stack(sample=("chain", "draw")).transpose("sample", "channel").to_numpy()
    table = pd.DataFrame(
        {"roi": samples.mean(axis=0), "roi_lo": np.percentile(samples, 5, axis=0), "roi_hi": np.percentile(samples, 95, axis=0)},
        index=[str(c) for c in roi.channel.values],
    )
    return table.loc[names], elapsed


def _robyn(path: Path, bootstrap: int) -> None:
    panel = pd.read_csv(path)
    started = time.perf_counter()
    result = fit_mmm(
        panel,
        date_col="DATE",
        target_col="revenue",
        spend_cols=ROBYN_SPEND,
        control_cols=["competitor_sales_B"],
        event_cols=["events"],
        n_bootstrap=bootstrap,
        seed=0,
    )
    elapsed = time.perf_counter() - started
    shown = result.channels[
        ["channel", "adstock", "saturation", "roi", "roi_lo", "roi_hi", "identified", "identification_reason"]
    ]
    print(f"\n== Robyn's demo data ({len(panel)} weeks; no published truth), fit {elapsed:.1f} s")
    print(shown.to_markdown(index=False, floatfmt=".2f"))
    d = result.diagnostics
    print(f"R² {d['r2']:.3f}, holdout MAPE {d['mape_holdout']:.3f}, DECOMP.RSSD {d['decomp_rssd']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=20, help="simulated worlds (seeds 1..N, and the default world's seed 7)")
    parser.add_argument("--hard-every", type=int, default=4, help="every k-th world uses the hard preset (0: none)")
    parser.add_argument("--bootstrap", type=int, default=100)
    parser.add_argument("--peer-worlds", type=int, default=3, help="worlds the peer also fits (0: no peer)")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--robyn-csv", type=Path, default=ROBYN_CSV, help="Robyn's demo data (skipped if absent)")
    args = parser.parse_args()

    seeds = list(range(1, args.worlds + 1))
    if DEFAULT_WORLD_SEED not in seeds:
        seeds.append(DEFAULT_WORLD_SEED)
    rows, timings, peer_rows = [], [], []
    for index, seed in enumerate(seeds):
        preset = "hard" if args.hard_every and (index + 1) % args.hard_every == 0 and seed != DEFAULT_WORLD_SEED else "default"
        simulated, panel, daily = world(seed, preset)
        table, elapsed = _ours(panel, daily, simulated.lift_tests, args.bootstrap, seed)
        timings.append(elapsed)
        scored = _score(table, simulated.channels).assign(world=seed, preset=preset, model="gtm-assets")
        scored["reason"] = table["identification_reason"]
        rows.append(scored)
        print(f"\n== world {seed} ({preset}, {len(panel)} weeks, {len(simulated.lift_tests)} lift tests), fit {elapsed:.1f} s")
        print(scored.drop(columns=["world", "preset", "model"]).to_markdown(floatfmt=".2f"))
        if index < args.peer_worlds:
            peer, peer_seconds = _pymc(panel, simulated.lift_tests, seed, args.draws, args.tune, args.chains)
            peer_scored = _score(peer, simulated.channels).assign(
                world=seed, preset=preset, model="pymc-marketing", seconds=peer_seconds
            )
            peer_rows.append(pd.concat([scored.assign(seconds=elapsed), peer_scored]))
            print(f"-- pymc-marketing on world {seed}: fit {peer_seconds:.1f} s")
            print(peer_scored.drop(columns=["world", "preset", "model"]).to_markdown(floatfmt=".2f"))

    frame = pd.concat(rows)
    identified = frame[frame["identified"]]
    print("\n== summary over", len(seeds), "worlds,", len(frame), "channel-worlds")
    summary = pd.DataFrame(
        [
            {
                "channels": "identified",
                "n": len(identified),
                "median_abs_error": identified["abs_error"].median(),
                "coverage_90": identified["covered"].mean(),
                "median_width": identified["width"].median(),
            },
            {
                "channels": "not identified",
                "n": len(frame) - len(identified),
                "median_abs_error": frame.loc[~frame["identified"], "abs_error"].median(),
                "coverage_90": frame.loc[~frame["identified"], "covered"].mean(),
                "median_width": frame.loc[~frame["identified"], "width"].median(),
            },
            {
                "channels": "all",
                "n": len(frame),
                "median_abs_error": frame["abs_error"].median(),
                "coverage_90": frame["covered"].mean(),
                "median_width": frame["width"].median(),
            },
        ]
    )
    print(summary.to_markdown(index=False, floatfmt=".3f"))
    by_preset = frame.groupby(["preset", "identified"]).agg(
        n=("abs_error", "size"),
        median_abs_error=("abs_error", "median"),
        coverage_90=("covered", "mean"),
        median_width=("width", "median"),
    )
    print(by_preset.to_markdown(floatfmt=".3f"))
    default = frame[frame["world"] == DEFAULT_WORLD_SEED]
    print(
        f"\ndefault world (seed {DEFAULT_WORLD_SEED}): {int((default['abs_error'] <= 0.10).sum())} of {len(default)} "
        f"channels within 10% (goal: all); median fit {np.median(timings):.1f} s"
    )
    if peer_rows:
        peers = pd.concat(peer_rows)
        print("\n== peer comparison on the same worlds")
        print(
            peers.groupby("model")
            .agg(
                n=("abs_error", "size"),
                median_abs_error=("abs_error", "median"),
                coverage_90=("covered", "mean"),
                median_width=("width", "median"),
                seconds=("seconds", "mean"),
            )
            .to_markdown(floatfmt=".3f")
        )
    if args.robyn_csv.exists():
        _robyn(args.robyn_csv, args.bootstrap)
    else:
        print(f"\nRobyn's demo data not found at {args.robyn_csv}: skipped")


if __name__ == "__main__":
    main()
