"""Multi-touch attribution against a causal truth: each model's share of conversions per channel next to
what switching the channel off would lose, on journey worlds where touches cause conversions by a known
amount and intent-seeking channels reach users who would convert anyway (gtm_assets.simulate.journeys).

    python benchmarks/attribution_truth.py [--worlds 5] [--users 100000]

Prints, per world and on average: each model's channel shares, the true incremental shares, and each
model's mean absolute error in share points.
"""

from __future__ import annotations

import argparse

import pandas as pd

from gtm_assets.defs.measurement.attribution import AttributionConfig, attribution_credits
from gtm_assets.simulate.journeys import simulate_journeys, touchpoints_connection


def shares_of(seed: int, users: int) -> pd.DataFrame:
    world = simulate_journeys(seed, users=users)
    table, _ = attribution_credits(touchpoints_connection(world), AttributionConfig())
    credited = table.groupby(["model", "channel"])["credited_conversions"].sum().unstack()
    shares = credited.div(credited.sum(axis=1), axis=0)
    truth = world.true_incremental()
    shares.loc["causal truth"] = truth / truth.sum()
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=5)
    parser.add_argument("--users", type=int, default=100_000)
    args = parser.parse_args()
    frames = [shares_of(seed, args.users) for seed in range(1, args.worlds + 1)]
    mean = sum(frames) / len(frames)
    errors = [(f.drop(index="causal truth") - f.loc["causal truth"]).abs().mean(axis=1) for f in frames]
    mean["mean abs. error (pp)"] = 100 * (sum(errors) / len(errors))
    mean.loc["causal truth", "mean abs. error (pp)"] = 0.0
    print(f"== channel shares of conversions, mean of {args.worlds} worlds of {args.users:,} users")
    print(mean.round(3).to_markdown(floatfmt=".3f"))


if __name__ == "__main__":
    main()
