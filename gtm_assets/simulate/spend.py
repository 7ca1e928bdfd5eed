"""Media spend: the plan, decided at plan time, and the spend that is realised after it.

The plan (landing/plans/media_plan.csv) is written before the future happens: flight schedules and
flight levels for TV, Radio, Print and CTV; for the always-on channels a level with a seasonal wave,
quarterly budget steps and promo weeks booked in advance; Email's send-day pattern; and the
scheduled experiments (a geo holdout plans a share of the national spend away, a switch-off all of
it). Realised spend is the plan times shocks drawn afterwards and independently of it: per-flight
delivery for flighted channels, a persistent AR(1) pacing drift (its shocks partly shared by the
always-on channels, which makes them correlated) and daily log-normal noise. A forecast that reads
the plan therefore never sees realised spend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from gtm_assets.simulate.world import CHANNELS, WorldTruth

# The media plan runs this many days past the last simulated day.
PLAN_FUTURE_DAYS = 28
DRIFT_PERSISTENCE = 0.95
QUARTER_DAYS = 91


def _flights(rng: np.random.Generator, n_days: int) -> list[tuple[int, int]]:
    """On-flights as (first day, end day) of whole weeks: 2-6 weeks on, 1-5 weeks off."""
    day, active, flights = int(rng.integers(0, 14)), True, []
    while day < n_days:
        weeks = int(rng.integers(2, 7)) if active else int(rng.integers(1, 6))
        if active:
            flights.append((day, min(day + 7 * weeks, n_days)))
        day += 7 * weeks
        active = not active
    return flights


def plan_spend(rng: np.random.Generator, world: WorldTruth, dates: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Business-as-usual planned daily spend per channel over ``dates`` (experiments not yet applied)."""
    n = len(dates)
    t = np.arange(n)
    shared_quarters = rng.standard_normal(n // QUARTER_DAYS + 1)
    rho = world.always_on_correlation
    tv_flights = None
    plans = {}
    for channel in CHANNELS:
        truth = world.channels[channel.name]
        level = truth.spend_level
        if channel.pattern == "flighted":
            flights = tv_flights if channel.name == "CTV" and world.ctv_with_tv and tv_flights else _flights(rng, n)
            if channel.name == "TV":
                tv_flights = flights
            plan = np.zeros(n)
            for first, end in flights:
                plan[first:end] = level * rng.uniform(0.6, 1.4)
        elif channel.pattern == "always_on":
            amplitude = 0.02 if truth.low_variation else rng.uniform(0.05, 0.25)
            wave = 1.0 + amplitude * np.sin(2 * np.pi * t / 365.25 + rng.uniform(0, 2 * np.pi))
            step_sd = 0.02 if truth.low_variation else 0.12
            own = rng.standard_normal(len(shared_quarters))
            quarters = np.exp(step_sd * (np.sqrt(rho) * shared_quarters + np.sqrt(1 - rho) * own))
            bursts = np.ones(n)
            if not truth.low_variation:
                for start in rng.integers(0, n, max(1, n // 90)):
                    bursts[start : start + 7] *= 1.5
            plan = level * wave * quarters[t // QUARTER_DAYS] * bursts
        else:
            plan = level * np.where(np.isin(dates.day_of_week, (1, 3)), 2.0, 0.6)
        plans[channel.name] = plan
    return plans


def realise_spend(
    rng: np.random.Generator, world: WorldTruth, plans: dict[str, np.ndarray], n_days: int
) -> dict[str, np.ndarray]:
    """Business-as-usual realised daily spend over the first ``n_days`` of the plan: plan x shocks
    drawn after the plan was fixed (before rounding and before experiments)."""
    rho = world.always_on_correlation
    shared = rng.standard_normal(n_days)
    realised = {}
    for channel in CHANNELS:
        truth = world.channels[channel.name]
        plan = plans[channel.name][:n_days]
        if channel.pattern == "flighted":
            delivery = np.ones(n_days)
            on = plan > 0
            starts = np.flatnonzero(on & ~np.r_[False, on[:-1]])
            ends = np.flatnonzero(on & ~np.r_[on[1:], False]) + 1
            for first, end in zip(starts, ends):
                delivery[first:end] = rng.lognormal(0.0, 0.06)
            realised[channel.name] = plan * delivery * rng.lognormal(0.0, 0.12, n_days)
            continue
        if channel.pattern == "always_on":
            shock_sd, daily_sd = (0.008, 0.04) if truth.low_variation else (0.04, 0.12)
            shocks = shock_sd * (np.sqrt(rho) * shared + np.sqrt(1 - rho) * rng.standard_normal(n_days))
        else:
            shock_sd, daily_sd = 0.02, 0.25
            shocks = shock_sd * rng.standard_normal(n_days)
        drift = np.exp(lfilter([1.0], [1.0, -DRIFT_PERSISTENCE], shocks))
        realised[channel.name] = plan * drift * rng.lognormal(0.0, daily_sd, n_days)
    return realised
