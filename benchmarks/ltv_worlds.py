"""Lifetime-value models against a known truth, ours beside a peer in the same run.

For every world (gtm_assets.simulate.ltv_world: the BG/NBD family and three families outside it,
several seeds each) both models are fitted on the calibration year's transactions and predict each
customer's revenue in the holdout year. Printed per world and per family (median over seeds):

* aggregate error: predicted holdout revenue of all customers / realised − 1;
* top decile: the customers the model ranks in its top tenth, their predicted / realised revenue − 1;
* Spearman: rank correlation of predicted revenue with the truth (each customer's expected holdout
  revenue given their own parameters and state, which the simulator knows);
* 90% coverage (ours): the share of customers whose realised revenue falls inside their interval.

The baseline is doing nothing clever: each customer spends in the holdout year what they spent in the
calibration year. The peer is pymc-marketing's CLV module (BetaGeoModel + GammaGammaModel, maximum a posteriori with its
default priors; the `peers` extra), given the same RFM summary.

    python benchmarks/ltv_worlds.py [--seeds 3] [--customers 4000] [--no-peer]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import pandas as pd

from gtm_assets.models import ltv
from gtm_assets.simulate.ltv_world import FAMILIES, OUT_OF_FAMILY, ltv_world


def _scores(predicted: pd.Series, world, actual: pd.Series) -> dict:
    scores = ltv.holdout_scores(predicted, actual)
    truth = world.truth["true_expected_revenue"].reindex(predicted.index)
    scores["spearman_truth"] = float(predicted.corr(truth, method="spearman"))
    return scores


def _peer(summary: pd.DataFrame, horizon: int) -> pd.Series:
    """pymc-marketing 0.19's BG/NBD and Gamma-Gamma, MAP fits, expected revenue over the horizon."""
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

    data = summary.reset_index(names="customer_id")[["customer_id", "frequency", "recency", "T", "monetary"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        purchases_model = BetaGeoModel(data=data[["customer_id", "frequency", "recency", "T"]])
        purchases_model.fit(method="map", progressbar=False)
        purchases = purchases_model.expected_purchases(future_t=horizon).mean(("chain", "draw")).to_numpy()
        repeaters = data[(data["frequency"] > 0) & (data["monetary"] > 0)].rename(columns={"monetary": "monetary_value"})
        spend_model = GammaGammaModel(data=repeaters[["customer_id", "frequency", "monetary_value"]])
        spend_model.fit(method="map", progressbar=False)
        everyone = data.assign(monetary_value=data["monetary"].fillna(0.0).clip(lower=0.0))
        spend = spend_model.expected_customer_spend(everyone[["customer_id", "frequency", "monetary_value"]])
        spend = spend.mean(("chain", "draw")).to_numpy()
    return pd.Series(purchases * spend, index=summary.index)


def run_world(family: str, seed: int, customers: int, peer: bool) -> dict:
    world = ltv_world(family, seed, customers=customers)
    horizon = (world.holdout_end - world.calibration_end).days
    summary = ltv.rfm_summary(world.transactions, world.calibration_end)
    actual = ltv.holdout_actuals(world.transactions, world.calibration_end, world.holdout_end)["actual_revenue"]
    started = time.perf_counter()
    fit = ltv.fit_ltv(summary, bootstrap=20, seed=seed)
    predicted = ltv.predict_ltv(fit, summary, horizon=horizon, seed=seed)
    ours = _scores(predicted["predicted_revenue"], world, actual)
    realised = actual.reindex(summary.index).fillna(0)
    ours["coverage"] = float(((realised >= predicted["revenue_low"]) & (realised <= predicted["revenue_high"])).mean())
    ours["seconds"] = time.perf_counter() - started
    row = {"family": family, "seed": seed, "ours": ours}
    calibration = world.transactions[world.transactions["date"] <= world.calibration_end]
    naive = calibration.groupby("customer")["value"].sum().reindex(summary.index).fillna(0.0)
    row["naive"] = _scores(naive, world, actual)
    if peer:
        started = time.perf_counter()
        row["peer"] = _scores(_peer(summary, horizon), world, actual)
        row["peer"]["seconds"] = time.perf_counter() - started
    return row


def _median(rows: list[dict], who: str, key: str) -> float:
    values = [r[who][key] for r in rows if who in r and np.isfinite(r[who][key])]
    return statistics.median(values) if values else float("nan")


def _print_table(rows: list[dict], peer: bool) -> None:
    print("\n| family | worlds | aggregate error (median, worst) | top decile error | Spearman vs truth | 90% coverage |")
    print("|---|---|---|---|---|---|")
    for family in (*FAMILIES, "all"):
        chosen = [r for r in rows if family in ("all", r["family"])]
        label = f"{family} (out of family)" if family in OUT_OF_FAMILY else family
        worst = max((r["ours"]["aggregate_error"] for r in chosen), key=abs)
        line = (
            f"| {label} | {len(chosen)} | {_median(chosen, 'ours', 'aggregate_error'):+.1%}, {worst:+.1%} | "
            f"{_median(chosen, 'ours', 'top_decile_error'):+.1%} | {_median(chosen, 'ours', 'spearman_truth'):.2f} | "
            f"{_median(chosen, 'ours', 'coverage'):.0%} |"
        )
        line += (
            f" naive: {_median(chosen, 'naive', 'aggregate_error'):+.1%}, top decile "
            f"{_median(chosen, 'naive', 'top_decile_error'):+.1%}, Spearman {_median(chosen, 'naive', 'spearman_truth'):.2f}"
        )
        if peer:
            line += (
                f" peer: {_median(chosen, 'peer', 'aggregate_error'):+.1%}, top decile "
                f"{_median(chosen, 'peer', 'top_decile_error'):+.1%}, Spearman {_median(chosen, 'peer', 'spearman_truth'):.2f}"
            )
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="worlds per family (default 3: 12 worlds)")
    parser.add_argument("--customers", type=int, default=4000)
    parser.add_argument("--no-peer", action="store_true", help="leave out pymc-marketing")
    args = parser.parse_args()
    rows = []
    for family in FAMILIES:
        for seed in range(1, args.seeds + 1):
            row = run_world(family, seed, args.customers, peer=not args.no_peer)
            rows.append(row)
            text = ", ".join(
                f"{who}: aggregate {row[who]['aggregate_error']:+.1%}, top decile {row[who]['top_decile_error']:+.1%}, "
                f"Spearman truth {row[who]['spearman_truth']:.2f} / realised {row[who]['spearman']:.2f}, "
                f"MAE {row[who]['mae']:.0f}"
                + (f", {row[who]['seconds']:.1f} s" if "seconds" in row[who] else "")
                + (f", coverage {row[who]['coverage']:.0%}" if "coverage" in row[who] else "")
                for who in ("ours", "naive", "peer")
                if who in row
            )
            print(f"{family} seed {seed}: {text}", flush=True)
    _print_table(rows, peer=not args.no_peer)


if __name__ == "__main__":
    main()
