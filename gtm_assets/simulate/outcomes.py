"""A world's days: spend, each channel's true contribution, baseline, revenue, plan and lift tests.

Per channel c and day t (money per day):
* Business-as-usual spend: the plan times shocks realised after it (spend.py). A channel whose budget
  follows demand (demand worlds) has each week's budget set from the revenue of the week before,
  r = last week's revenue / the history's mean: Search at its typical level x r^SEARCH_ELASTICITY (the
  budget owner chases demand), Display at its typical level x r (a commission on sales); both with
  daily log-normal delivery noise (DEMAND_SPEND_NOISE) and no pacing drift of their own.
* National spend x_{c,t}: business as usual times 1 - h_{c,t}, the share of the market where a lift
  test switches the channel off (experiments.py); rounded to cents.
* Expected revenue per unit of market, ``market.Market``: the base b_t (trend, seasons, weekdays,
  holidays, demand shocks) plus every channel's coefficient x its saturated carry-over (curves.py),
  scaled by the season in multiplicative worlds, Search's boosted by TV in interaction worlds. A
  channel's half-saturation is its drawn multiple x the median carry-over level of its
  business-as-usual spend on spend days; its coefficient is set so that its own term returns its
  drawn target ROI over the history days.
* A test holds channel j out in a share h_j of the market over its window, so national expected
  revenue is E(business as usual) + sum_j h_j (E(j off in its window) - E(business as usual)); tests
  running at the same time use disjoint regions.
* Revenue R_t = max(national expected revenue + eps_t, floor); eps_t Gaussian, independent or AR(1).
* True contribution of c on day t: national expected revenue minus the same with c's spend at zero
  everywhere (every other channel's spend unchanged; the noise cancels). True ROI_c = its sum over the
  days / c's spend. In additive worlds without interaction this is the channel's own term; otherwise
  it also carries what the channel does to others (TV's boost of Search).
* Organic sessions per day: Poisson around b_t / REVENUE_PER_ORGANIC_SESSION, with a small daily
  wobble: the demand signal a web property has (offline media's visits arrive as direct traffic).

``history_days`` (default: every day) is what a model is given first: the world's own tests are
scheduled in it and the coefficients calibrated on it, so the days after it can hold experiments a
planner asks for (``extra_experiments``) without changing a single day before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gtm_assets.simulate import experiments
from gtm_assets.simulate.curves import TrueCurve
from gtm_assets.simulate.market import Market
from gtm_assets.simulate.spend import PLAN_FUTURE_DAYS, plan_spend, realise_spend
from gtm_assets.simulate.world import (
    BASELINE_LEVEL,
    CHANNELS,
    PRESETS,
    REVENUE_FLOOR,
    WorldTruth,
    baseline,
    daily_noise,
    demand_multiplier,
    draw_world,
)

REVENUE_PER_ORGANIC_SESSION = 6.0
ORGANIC_WOBBLE = 0.03  # daily log-normal spread of organic sessions around demand
PLAN_SCORING_DAYS = 28
SEARCH_ELASTICITY = 1.5
DEMAND_SPEND_NOISE = 0.1  # a plan's steady state is scored at the mean base of the last days before it


@dataclass
class SimulatedWorld:
    """The daily outcome of one world and what its files and ground truth are made of."""

    world: WorldTruth
    daily: pd.DataFrame  # date, revenue_cents, baseline, organic_sessions, contrib_<c>, spend_<c>
    channels: dict[str, dict]  # per channel truth for ground_truth.json
    media_plan: pd.DataFrame  # date, channel, planned_spend (simulated days + PLAN_FUTURE_DAYS)
    lift_tests: pd.DataFrame  # the landed experiments file
    experiments: list[dict]  # per test: design, true value, naive ROI
    market: Market
    history_days: int

    def scoring_base(self, day: int | None = None) -> float:
        """Mean base over the PLAN_SCORING_DAYS before ``day`` (default: the last simulated day + 1)."""
        end = len(self.daily) if day is None else day
        return float(self.daily["baseline"].iloc[max(end - PLAN_SCORING_DAYS, 0) : end].mean())

    def truth_before(self, day: int) -> dict[str, dict]:
        """Per channel: spend, true contribution and true ROI over the days before ``day``."""
        first = self.daily.iloc[:day]
        out = {}
        for name in self.channels:
            spend, contribution = float(first[f"spend_{name}"].sum()), float(first[f"contrib_{name}"].sum())
            out[name] = {"spend": spend, "contribution": contribution, "true_roi": contribution / spend if spend else 0.0}
        return out


def _curves(world: WorldTruth, bau: dict[str, np.ndarray]) -> dict[str, TrueCurve]:
    """Each channel's curve, its half-saturation at the drawn multiple of its typical level."""
    curves = {}
    for channel in CHANNELS:
        draw = world.channels[channel.name]
        level = draw.curve(1.0).level(bau[channel.name])
        on = bau[channel.name] > 0
        curves[channel.name] = draw.curve(round(draw.half_saturation_multiple * float(np.median(level[on])), 2))
    return curves


def _held(spend: dict[str, np.ndarray], test: experiments.Experiment) -> dict[str, np.ndarray]:
    """Business-as-usual spend with the test's channel off in its window (what its regions saw)."""
    off = spend[test.channel].copy()
    off[test.first_day : test.end_day] = 0.0
    return {**spend, test.channel: off}


def _national(market, bau, base, tests, coefficients=None) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Expected revenue per unit of market on business-as-usual spend, where each test held its
    channel out, and nationally (the tests' regions weighted by their shares)."""
    running = market.revenue(bau, base, coefficients)
    held = [market.revenue(_held(bau, t), base, coefficients) for t in tests]
    national = running + sum((t.holdout_share * (h - running) for t, h in zip(tests, held)), np.zeros_like(running))
    return running, held, national


def _calibrate(world: WorldTruth, curves, bau, base, tests, history: int) -> Market:
    """The market with each channel's coefficient set so that its own term, nationally over the
    history days, returns its drawn target ROI on its national spend."""
    unit = Market(
        curves, dict.fromkeys(curves, 1.0), BASELINE_LEVEL, world.revenue_form == "multiplicative", world.tv_search_interaction
    )
    coefficients = {}
    for name in curves:
        own = {c: (1.0 if c == name else 0.0) for c in curves}
        nothing = dict.fromkeys(curves, 0.0)
        term = _national(unit, bau, base, tests, own)[2] - _national(unit, bau, base, tests, nothing)[2]
        spend = bau[name] * (1.0 - _share_off(tests, name, len(base)))
        coefficients[name] = round(
            world.channels[name].target_roi * float(spend[:history].sum()) / float(term[:history].sum()), 2
        )
    return Market(curves, coefficients, BASELINE_LEVEL, unit.multiplicative, unit.interaction)


def _share_off(tests, channel: str, n: int) -> np.ndarray:
    share = np.zeros(n)
    for test in tests:
        if test.channel == channel:
            share += test.share_off(n)
    return share


def _follow_demand(rng, world, market, bau, plans, base, noise, tests, history):
    """Business-as-usual spend and plan once budgets that follow demand are set week by week from
    the revenue of the week before (module docstring); other channels are unchanged."""
    rules = {name: draw.demand_rule for name, draw in world.channels.items() if draw.demand_rule}
    if not rules:
        return bau, plans
    n = len(base)
    mean_revenue = float(np.mean((_national(market, bau, base, tests)[2] + noise)[:history]))
    shocks = {name: rng.lognormal(0.0, DEMAND_SPEND_NOISE, n) for name in rules}
    bau, plans = dict(bau), dict(plans)
    for name in rules:
        plans[name] = plans[name].copy()
    for start in range(7, n, 7):
        last_week = (_national(market, {c: v[:start] for c, v in bau.items()}, base[:start], tests)[2] + noise[:start])[-7:]
        ratio = float(last_week.mean()) / mean_revenue
        days = slice(start, min(start + 7, n))
        for name, rule in rules.items():
            elasticity = SEARCH_ELASTICITY if rule == "last_week_revenue" else 1.0
            budget = np.full(days.stop - days.start, world.channels[name].spend_level * ratio**elasticity)
            plans[name][days] = budget
            bau[name] = bau[name].copy()
            bau[name][days] = budget * shocks[name][days]
    return bau, plans


def _contributions(market, bau, base, tests) -> dict[str, np.ndarray]:
    """Per channel and day: national expected revenue minus the same with the channel at zero."""
    national = _national(market, bau, base, tests)[2]
    out = {}
    for name in market.channels:
        without = {**bau, name: np.zeros_like(bau[name])}
        out[name] = national - _national(market, without, base, tests)[2]
    return out


def _channel_truth(world, market, spend, contributions, tests) -> dict[str, dict]:
    truth = {}
    for channel in CHANNELS:
        name, draw, curve = channel.name, world.channels[channel.name], market.curves[channel.name]
        total_spend = round(float(spend[name].sum()), 2)
        total_contribution = round(float(contributions[name].sum()), 2)
        truth[name] = {
            "pattern": channel.pattern,
            "adstock": draw.adstock,
            "decay": draw.decay,
            "peak_days": draw.peak_days,
            "weibull_shape": draw.weibull_shape,
            "weibull_scale": draw.weibull_scale,
            "decay_weekly_equivalent": draw.decay**7 if draw.adstock == "geometric" else None,
            "saturation": draw.saturation,
            "half_saturation": curve.half_saturation,
            "half_saturation_multiple": draw.half_saturation_multiple,
            "shape": draw.shape,
            "coefficient": market.coefficients[name],
            "target_roi": draw.target_roi,
            "spend_level": draw.spend_level,
            "low_variation": draw.low_variation,
            "demand_rule": draw.demand_rule,
            "weekly_spend_cv": round(_weekly_cv(spend[name]), 4),
            "tested": any(t.channel == name for t in tests),
            "total_spend": total_spend,
            "total_contribution": total_contribution,
            "true_roi": round(total_contribution / total_spend, 6) if total_spend else 0.0,
        }
    return truth


def _weekly_cv(spend: np.ndarray) -> float:
    weeks = spend[: len(spend) // 7 * 7].reshape(-1, 7).sum(axis=1)
    return float(weeks.std() / weeks.mean()) if weeks.mean() > 0 else 0.0


def _organic_sessions(rng: np.random.Generator, base: np.ndarray) -> np.ndarray:
    expected = base / REVENUE_PER_ORGANIC_SESSION * rng.lognormal(0.0, ORGANIC_WOBBLE, len(base))
    return rng.poisson(expected)


def _schedule(seed, world, market, bau, base, noise, plans, history) -> list[experiments.Experiment]:
    """The world's own tests, sized on the history an analyst has before any of them (the first
    weeks' revenue) and placed within the history days."""
    before_tests = market.revenue(bau, base) + noise
    estimate = experiments.noise_estimate(
        np.random.default_rng([seed, 9]), before_tests, noise, world.noise_relative_sd * BASELINE_LEVEL
    )
    planned_daily = {c.name: float(np.mean(plans[c.name][:history])) for c in CHANNELS}
    return experiments.schedule(np.random.default_rng([seed, 5]), PRESETS[world.preset], history, planned_daily, estimate)


def simulate_world(
    seed: int,
    dates: pd.DatetimeIndex,
    preset: str = "default",
    *,
    history_days: int | None = None,
    extra_experiments: Sequence[experiments.Experiment] = (),
) -> SimulatedWorld:
    """Draw a world from the preset and simulate its days (seeded: the same arguments give the same
    world; the days before ``history_days`` do not depend on ``extra_experiments``)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    world = draw_world(np.random.default_rng([seed, 0]), PRESETS[preset], np.random.default_rng([seed, 10]))
    n = len(dates)
    history = n if history_days is None else int(history_days)
    if not 0 < history <= n:
        raise ValueError(f"history_days must be in 1..{n}, got {history}")
    plan_dates = pd.date_range(dates[0], periods=n + PLAN_FUTURE_DAYS, freq="D")
    plans = plan_spend(np.random.default_rng([seed, 4]), world, plan_dates)
    realised = realise_spend(np.random.default_rng([seed, 6]), world, plans, n)
    base = baseline(dates, world) * demand_multiplier(np.random.default_rng([seed, 11]), n, world)
    noise = daily_noise(np.random.default_rng([seed, 7]), n, world)
    curves = _curves(world, realised)

    market = _calibrate(world, curves, realised, base, [], history)
    own = _schedule(seed, world, market, realised, base, noise, plans, history)
    market = _calibrate(world, curves, realised, base, own, history)
    for test in extra_experiments:
        test.validate(n, history)
    concurrent = [sum(t.holdout_share for t in extra_experiments if t.overlaps(test)) for test in extra_experiments]
    if concurrent and max(concurrent) >= 1:
        raise ValueError("experiments running at the same time hold out the whole market: no region is left as control")
    tests = [*own, *extra_experiments]
    bau, plans = _follow_demand(np.random.default_rng([seed, 13]), world, market, realised, plans, base, noise, tests, history)
    running, held, national = _national(market, bau, base, tests)
    revenue = np.maximum(national + noise, REVENUE_FLOOR)
    spend = {c.name: np.round(bau[c.name] * (1 - _share_off(tests, c.name, n)), 2) for c in CHANNELS}
    contributions = _contributions(market, bau, base, tests)

    daily = pd.DataFrame({"date": dates.strftime("%Y-%m-%d")})
    for name in contributions:
        daily[f"spend_{name}"] = spend[name]
        daily[f"contrib_{name}"] = contributions[name]
    daily["baseline"] = base
    daily["organic_sessions"] = _organic_sessions(np.random.default_rng([seed, 12]), base)
    daily["revenue_cents"] = np.round(revenue * 100).astype(np.int64)
    lift_tests, experiment_truth = experiments.measure(
        np.random.default_rng([seed, 8]),
        tests,
        dates,
        revenue,
        noise,
        world.noise_relative_sd * BASELINE_LEVEL,
        running,
        held,
        plans,
    )
    media_plan = pd.concat(
        [
            pd.DataFrame(
                {
                    "date": plan_dates.strftime("%Y-%m-%d"),
                    "channel": c.name,
                    "planned_spend": plans[c.name] * (1 - np.r_[_share_off(tests, c.name, n), np.zeros(PLAN_FUTURE_DAYS)]),
                }
            )
            for c in CHANNELS
        ],
        ignore_index=True,
    ).sort_values("date", kind="stable")
    truth = _channel_truth(world, market, spend, contributions, tests)
    return SimulatedWorld(world, daily, truth, media_plan, lift_tests, experiment_truth, market, history)
