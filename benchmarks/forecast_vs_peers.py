"""Forecast benchmark: Prophet (as configured in gtm_assets) vs seasonal naive vs statsforecast's
AutoETS on two years of simulated daily revenue, on the same rolling-origin cutoffs.

    python benchmarks/forecast_vs_peers.py [--days 730] [--cutoffs 12] [--horizon 14] [--seed 7]

Needs the `peers` extra (statsforecast). Prints MAPE, MASE (scaled by the in-sample lag-7 naive
MAE up to each cutoff), 80% interval coverage and wall time per model as a Markdown table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gtm_assets.models.forecast import backtest
from gtm_assets.simulate import simulate


def autoets(history: pd.DataFrame, cutoffs: list[pd.Timestamp], horizon: int) -> pd.DataFrame:
    """AutoETS (weekly season) refitted at every cutoff, with its 80% interval."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    frames = []
    for cutoff in cutoffs:
        train = history[history.ds <= cutoff].assign(unique_id="revenue")
        model = StatsForecast(models=[AutoETS(season_length=7)], freq="D")
        predicted = model.forecast(df=train, h=horizon, level=[80])
        frames.append(predicted.assign(cutoff=cutoff))
    out = pd.concat(frames, ignore_index=True).rename(
        columns={"AutoETS": "yhat", "AutoETS-lo-80": "lo", "AutoETS-hi-80": "hi"}
    )
    return out.merge(history, on="ds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--cutoffs", type=int, default=12)
    parser.add_argument("--horizon", type=int, default=14)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        simulate(Path(tmp), days=args.days, events=2000, seed=args.seed, formats=("csv",))
        daily = pd.read_csv(Path(tmp) / "ground_truth_daily.csv", parse_dates=["date"])
    history = pd.DataFrame({"ds": daily.date, "y": daily.revenue_total})

    started = time.perf_counter()
    result = backtest(history, horizon_days=args.horizon, initial_days=56, max_cutoffs=args.cutoffs)
    prophet_seconds = time.perf_counter() - started
    rows = result.attrs["forecasts"]
    cutoffs = sorted(rows.cutoff.unique())
    scale = rows.groupby("cutoff")["scale"].first()

    started = time.perf_counter()
    ets = autoets(history, cutoffs, args.horizon)
    ets_seconds = time.perf_counter() - started

    def figures(name, y, yhat, lo, hi, cutoff, seconds):
        return {
            "model": name,
            "MAPE": float(np.mean(np.abs(y - yhat) / y)),
            "MASE": float(np.mean(np.abs(y - yhat) / cutoff.map(scale))),
            "coverage_80": float(np.mean((y >= lo) & (y <= hi))),
            "wall_s": seconds,
        }

    table = pd.DataFrame([
        figures("Prophet (gtm_assets)", rows.y, rows.yhat, rows.yhat_lower_80, rows.yhat_upper_80, rows.cutoff, prophet_seconds),
        figures("seasonal naive", rows.y, rows.naive, rows.naive_lower_80, rows.naive_upper_80, rows.cutoff, float("nan")),
        figures("AutoETS (statsforecast)", ets.y, ets.yhat, ets.lo, ets.hi, ets.cutoff, ets_seconds),
    ])
    print(f"{args.days} days of simulated revenue (seed {args.seed}), {len(cutoffs)} cutoffs every 28 days, "
          f"horizon {args.horizon} days ({len(rows)} forecasts per model); seasonal naive is computed inside the "
          "Prophet backtest (its time is included there).")
    print(table.round(3).to_markdown(index=False))
    print(f"Prophet MASE relative to seasonal naive: {table.MASE[0] / table.MASE[1]:.3f}; "
          f"Prophet MAPE relative to AutoETS: {table.MAPE[0] / table.MAPE[2]:.3f}")


if __name__ == "__main__":
    main()
