"""``simulate()``: write a simulated world's landing files and its ground truth."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from gtm_assets.simulate.events import DEFECT_KINDS, FORMATS, MALFORMED_SHARE, file_events, user_strings, write_events
from gtm_assets.simulate.outcomes import simulate_world
from gtm_assets.simulate.sessions import EVENTS_PER_SESSION_P, simulate_media, simulate_sessions
from gtm_assets.simulate.spend import PLAN_FUTURE_DAYS
from gtm_assets.simulate.truth import daily_sales, write_daily
from gtm_assets.simulate.world import BASELINE_LEVEL, CHANNELS, HOLIDAY_MULTIPLIERS, PRESETS, REVENUE_FLOOR, WEEKLY_MULTIPLIERS

MIN_DAYS = 28


def simulate(
    out_dir: Path,
    *,
    days: int = 730,
    events: int = 50000,
    users: int | None = None,
    seed: int = 7,
    start_date: str = "2024-01-01",
    formats=("csv", "parquet", "jsonl.gz"),
    n_event_files: int | None = None,
    preset: str = "default",
    on_file_written: Callable[[int, int, str], None] | None = None,
) -> dict:
    """Write the simulated landing files and ground truth under ``out_dir``; return the ground truth.

    Writes landing/events/events_NNN_<first>_<last>.<format> (event files of an earlier run are
    removed first), landing/media/media_spend.csv, landing/plans/media_plan.csv,
    landing/experiments/lift_tests.csv, landing/sales/daily_sales.csv (the order system's ledger: every
    order and all revenue, consented or not), ground_truth_daily.csv and ground_truth.json. The world is
    drawn from ``preset`` (``PRESETS``) with ``seed``.
    """
    formats = tuple(formats)
    unknown = set(formats) - set(FORMATS)
    if unknown or not formats:
        raise ValueError(f"formats must be a non-empty subset of {FORMATS}, got {formats}")
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    n_files = len(formats) if n_event_files is None else n_event_files
    if days < MIN_DAYS or events < 1 or not 1 <= n_files <= days:
        raise ValueError(f"need days >= {MIN_DAYS}, events >= 1 and 1 <= files <= days")
    n_users = max(1, events // 12) if users is None else users

    out_dir = Path(out_dir)
    events_dir = out_dir / "landing" / "events"
    media_dir = out_dir / "landing" / "media"
    plans_dir = out_dir / "landing" / "plans"
    experiments_dir = out_dir / "landing" / "experiments"
    sales_dir = out_dir / "landing" / "sales"
    for directory in (events_dir, media_dir, plans_dir, experiments_dir, sales_dir):
        directory.mkdir(parents=True, exist_ok=True)
    for stale in events_dir.glob("events_[0-9][0-9][0-9]_*"):  # files of an earlier run would skew the counts
        stale.unlink()

    dates = pd.date_range(start_date, periods=days, freq="D")
    start_epoch = int(dates[0].timestamp())
    world = simulate_world(seed, dates, preset)
    daily = world.daily
    media, shares = simulate_media(np.random.default_rng([seed, 1]), daily)
    mean_events = float(EVENTS_PER_SESSION_P @ np.arange(1, 7))
    sessions_target = events / (mean_events * (1 + MALFORMED_SHARE / len(DEFECT_KINDS)))
    s = simulate_sessions(np.random.default_rng([seed, 2]), daily, shares, sessions_target, n_users, start_epoch)

    media.to_csv(media_dir / "media_spend.csv", index=False, float_format="%.2f", lineterminator="\n")
    world.media_plan.to_csv(plans_dir / "media_plan.csv", index=False, float_format="%.2f", lineterminator="\n")
    write_daily(daily, out_dir / "ground_truth_daily.csv")
    world.lift_tests.to_csv(experiments_dir / "lift_tests.csv", index=False, float_format="%.2f", lineterminator="\n")
    daily_sales(daily, s).to_csv(sales_dir / "daily_sales.csv", index=False, lineterminator="\n")

    con = duckdb.connect(config={"memory_limit": "1GB"})
    users_table = user_strings(con, s)
    day_chunks = np.array_split(np.arange(days), n_files)
    session_bounds = np.searchsorted(s["day"], [chunk[0] for chunk in day_chunks] + [days])
    file_names, totals, first_seq = [], [], 1
    for index, chunk in enumerate(day_chunks):
        fmt = formats[index % len(formats)]
        name = f"events_{index + 1:03d}_{daily['date'][chunk[0]]}_{daily['date'][chunk[-1]]}.{fmt}"
        rng = np.random.default_rng([seed, 3, index])
        lo, hi = session_bounds[index], session_bounds[index + 1]
        table, counts = file_events(con, rng, s, lo, hi, first_seq, users_table)
        write_events(con, table, events_dir / name, fmt)
        del table  # release this file's rows before the next file is built
        first_seq += int(s["n_events"][lo:hi].sum())
        file_names.append(name)
        totals.append(counts)
        if on_file_written:
            on_file_written(index + 1, n_files, name)
    con.close()

    quarantined = {kind: sum(c["quarantined"][kind] for c in totals) for kind in DEFECT_KINDS}
    truth = {
        "seed": seed,
        "preset": preset,
        "options": {
            "days": days,
            "events": events,
            "users": n_users,
            "seed": seed,
            "start_date": start_date,
            "formats": list(formats),
            "n_event_files": n_files,
            "preset": preset,
        },
        "start_date": daily["date"].iloc[0],
        "end_date": daily["date"].iloc[-1],
        "world": world.world.summary(),
        "channels": world.channels,
        "experiments": world.experiments,
        "scoring": {
            "base_level": round(world.scoring_base(), 2),
            "how": "a plan of constant daily spend is scored on the world's steady state at the mean base "
            "of the last 28 days (simulate.market.Market.steady_revenue; true_market reads it back)",
        },
        "media_plan": {
            "future_days": PLAN_FUTURE_DAYS,
            "how": "fixed at plan time (flights, levels, waves, quarterly steps, promo weeks, "
            "experiments); realised spend = plan x independent later shocks",
        },
        "baseline": {
            "level": BASELINE_LEVEL,
            "trend_per_year": world.world.trend_per_year,
            "weekly_multipliers": WEEKLY_MULTIPLIERS,
            "yearly_amplitude": world.world.yearly_amplitude,
            "yearly_peak_day_of_year": world.world.yearly_peak_day_of_year,
            "holiday_multipliers": HOLIDAY_MULTIPLIERS,
            "noise_sd": world.world.summary()["noise_sd"],
            "revenue_floor": REVENUE_FLOOR,
        },
        "campaigns": {
            ch.name: {
                c.name: {"conversion_rate": c.conversion_rate, "revenue_per_conversion": c.revenue_per_conversion}
                for c in ch.campaigns
            }
            for ch in CHANNELS
        },
        "counts": {
            "raw_rows": sum(c["raw_rows"] for c in totals),
            "raw_rows_per_file": {name: c["raw_rows"] for name, c in zip(file_names, totals)},
            "quarantined": quarantined,
            "quarantined_total": sum(quarantined.values()),
            "dropped_for_consent": sum(c["dropped_for_consent"] for c in totals),
            "kept": sum(c["kept"] for c in totals),
            "kept_sessions": sum(c["kept_sessions"] for c in totals),
            "kept_revenue": round(sum(c["kept_revenue_cents"] for c in totals) / 100, 2),
        },
        "files": file_names,
    }
    (out_dir / "ground_truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    return truth
