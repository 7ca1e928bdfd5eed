"""Side by side on simulated worlds with known truth: gtm-assets' MMM against pymc-marketing's MMM.

For each seed the simulator writes a two-year world; the weekly panel is total revenue and spend per
channel (``simulate.weekly_truth_panel``), and the true ROI is the simulator's (total contribution /
total spend). Both models get the same panel: adstock + saturation per channel, yearly Fourier
seasonality (order 2) and a linear trend. Prints, per model and data set, the ROI absolute percentage
error per channel, the 90% interval coverage and the fit wall time, then the speed ratio.

    pip install -e '.[peers]'
    python benchmarks/mmm_vs_peers.py [--seeds 11,7] [--draws 500] [--tune 500] [--chains 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

from gtm_assets.models.mmm import fit_mmm
from gtm_assets.simulate import simulate, weekly_truth_panel


def _ours(panel: pd.DataFrame, channels: list[str], seed: int) -> tuple[pd.DataFrame, float]:
    started = time.perf_counter()
    result = fit_mmm(panel, date_col="week", target_col="revenue", spend_cols=channels, n_bootstrap=100, seed=seed)
    elapsed = time.perf_counter() - started
    return result.channels.set_index("channel")[["roi", "roi_lo", "roi_hi"]], elapsed


def _pymc(panel: pd.DataFrame, channels: list[str], seed: int, draws: int, tune: int, chains: int):
    from pymc_marketing.mmm import GeometricAdstock, LogisticSaturation
    from pymc_marketing.mmm.multidimensional import MMM

    data = panel[["week", *channels]].assign(trend=np.arange(len(panel)) / (len(panel) - 1))
    model = MMM(
        date_column="week",
        channel_columns=channels,
        target_column="revenue",
        adstock=GeometricAdstock(l_max=4),
        saturation=LogisticSaturation(),
        control_columns=["trend"],
        yearly_seasonality=2,
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(data, panel["revenue"], chains=chains, draws=draws, tune=tune, cores=chains,
                  random_seed=seed, progressbar=False)
    elapsed = time.perf_counter() - started
    posterior = model.idata.posterior["channel_contribution"]  # target scaled by its max
    scale = float(model.idata.constant_data["target_scale"])
    roi = posterior.sum(dim="date") * scale / panel[channels].sum().to_numpy()
    draws_roi = roi.stack(sample=("chain", "draw")).transpose("sample", "channel").to_numpy()
    table = pd.DataFrame(
        {"roi": draws_roi.mean(axis=0), "roi_lo": np.percentile(draws_roi, 5, axis=0),
         "roi_hi": np.percentile(draws_roi, 95, axis=0)},
        index=[str(c) for c in roi.channel.values],
    ).loc[channels]
    return table, elapsed


def _score(table: pd.DataFrame, true_roi: pd.Series) -> pd.DataFrame:
    return table.assign(
        true_roi=true_roi,
        ape_pct=100 * (table["roi"] / true_roi - 1).abs(),
        covered=(table["roi_lo"] <= true_roi) & (true_roi <= table["roi_hi"]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="11,7")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    args = parser.parse_args()
    summary = []
    for seed in (int(s) for s in args.seeds.split(",")):
        with tempfile.TemporaryDirectory() as out:
            truth = simulate(out, days=730, events=2000, seed=seed, formats=("csv",))
            panel = weekly_truth_panel(out)
        channels = list(truth["channels"])
        true_roi = pd.Series({c: truth["channels"][c]["true_roi"] for c in channels})
        fits = {"gtm-assets": _ours(panel, channels, seed),
                "pymc-marketing": _pymc(panel, channels, seed, args.draws, args.tune, args.chains)}
        for name, (table, elapsed) in fits.items():
            scored = _score(table, true_roi)
            print(f"\n== seed {seed}, {len(panel)} weeks: {name} (fit {elapsed:.1f} s)")
            print(scored.round(3).to_string())
            summary.append({"seed": seed, "model": name, "median_ape_pct": scored["ape_pct"].median(),
                            "mean_ape_pct": scored["ape_pct"].mean(), "coverage_90": scored["covered"].mean(),
                            "fit_seconds": elapsed})
    frame = pd.DataFrame(summary)
    print("\n== summary")
    print(frame.round(3).to_string(index=False))
    times = frame.groupby("model")["fit_seconds"].sum()
    print(f"\nspeed ratio (pymc-marketing / gtm-assets fit time): {times['pymc-marketing'] / times['gtm-assets']:.1f}x")


if __name__ == "__main__":
    main()
