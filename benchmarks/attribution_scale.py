"""How attribution scales with the number of journeys: the seven models on synthetic touchpoints of
N journeys (random paths of 1-8 touches over 8 channels and 24 campaigns, 40% converting), against a
baseline measured in the same run: one aggregate scan of the same table (count, sum of values per
channel). Prints seconds, journeys per second and the ratio to the baseline.

    python benchmarks/attribution_scale.py [--journeys 10000,100000,1000000] [--order 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import duckdb
import numpy as np
import pandas as pd

from gtm_assets.defs.measurement.attribution import AttributionConfig, attribution_credits
from gtm_assets.warehouse.resource import prepare_connection

CHANNELS = ["Direct", "Organic Search", "Search", "Social", "Display", "Email", "Referral", "Other"]


def synthetic_touchpoints(n_journeys: int, seed: int = 0) -> duckdb.DuckDBPyConnection:
    rng = np.random.default_rng(seed)
    length = rng.integers(1, 9, n_journeys)
    journey = np.repeat(np.arange(n_journeys), length)
    first = np.cumsum(length) - length
    order = np.arange(len(journey)) - first[journey] + 1
    channel = rng.integers(0, len(CHANNELS), len(journey))
    converted = (rng.random(n_journeys) < 0.4)[journey]
    value = np.round(rng.gamma(4, 20, n_journeys), 2)[journey] * converted
    frame = pd.DataFrame(
        {
            "journey_id": journey.astype(str),
            "touch_order": order,
            "touches_in_journey": length[journey],
            "channel": np.array(CHANNELS)[channel],
            "campaign": [f"c{c}_{k}" for c, k in zip(channel, rng.integers(0, 3, len(journey)))],
            "days_before_end": (length[journey] - order) * rng.random(len(journey)) * 5,
            "converted": converted,
            "conversion_value": value,
            "converted_at": pd.Timestamp("2026-01-01"),
            "user_key": journey.astype(str),
            "consent_ads": True,
            "lookback_days": 30,
        }
    )
    conn = duckdb.connect()
    prepare_connection(conn)
    conn.register("frame", frame)
    conn.execute(
        "CREATE TABLE main.touchpoints AS SELECT * REPLACE (conversion_value::DECIMAL(18, 2) AS conversion_value) FROM frame"
    )
    conn.unregister("frame")
    return conn


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", default="10000,100000,1000000")
    parser.add_argument("--order", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    config = AttributionConfig(markov_order=args.order)
    print(f"{'journeys':>10} {'touches':>10} {'baseline s':>11} {'attribution s':>14} {'journeys/s':>12} {'ratio':>7}")
    for n in [int(x) for x in args.journeys.split(",")]:
        conn = synthetic_touchpoints(n)
        touches = conn.execute("SELECT count(*) FROM main.touchpoints").fetchone()[0]
        baseline, _ = _best(
            lambda: conn.execute(  # noqa: B023 - called inside this iteration"SELECT channel, count(*), sum(conversion_value) FROM main.touchpoints "
                "GROUP BY 1"
            ).fetchall(),
            args.repeat,
        )
        best, _ = _best(lambda: attribution_credits(conn, config), args.repeat)  # noqa: B023
        print(f"{n:>10,} {touches:>10,} {baseline:>11.3f} {best:>14.3f} {n / best:>12,.0f} {best / baseline:>7.1f}")


if __name__ == "__main__":
    main()
