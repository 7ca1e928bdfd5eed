"""A world's days: spend, each channel's true contribution, baseline, revenue, plan and lift tests.

Per channel c and day t (money per day):
* Spend x_{c,t}: realised business-as-usual spend (spend.py) times 1 - h_{c,t}, the share of the
  market where a scheduled experiment switches the channel off (experiments.py); rounded to cents.
* Response (gtm_assets.models.response, daily): adstock (geometric with the drawn decay, or delayed
  with its peak) then Hill saturation with half-saturation K_c = the drawn multiple x the median
  adstock of business-as-usual spend on spend days and the drawn shape. Where a test holds the
  channel out, those regions' adstock runs on zero spend over the window, so the national response
  is (1 - h) * hill(adstock(bau)) + h * hill(adstock(bau off in the window)).
* Contribution m_{c,t} = beta_c * that response, beta_c set so that the channel's ROI over the
  simulated days lands on its drawn target (then rounded to cents).
* Revenue R_t = max(b_t + sum_c m_{c,t} + eps_t, floor), eps_t ~ N(0, (noise x baseline level)^2).
* True ROI_c = sum_t m_{c,t} / sum_t x_{c,t}.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gtm_assets.models.response import adstock, saturation
from gtm_assets.simulate import experiments
from gtm_assets.simulate.spend import PLAN_FUTURE_DAYS, plan_spend, realise_spend
from gtm_assets.simulate.world import (
    BASELINE_LEVEL,
    CHANNELS,
    PRESETS,
    REVENUE_FLOOR,
    WorldTruth,
    baseline,
    draw_world,
)


@dataclass
class SimulatedWorld:
    """The daily outcome of one world and what its files and ground truth are made of."""

    world: WorldTruth
    daily: pd.DataFrame  # date, revenue_cents, baseline, contrib_<c>, spend_<c>
    channels: dict[str, dict]  # per channel truth for ground_truth.json
    media_plan: pd.DataFrame  # date, channel, planned_spend (simulated days + PLAN_FUTURE_DAYS)
    lift_tests: pd.DataFrame  # the landed experiments file
    experiments: list[dict]  # per test: design, true value, naive ROI


def _weekly_cv(spend: np.ndarray) -> float:
    weeks = spend[: len(spend) // 7 * 7].reshape(-1, 7).sum(axis=1)
    return float(weeks.std() / weeks.mean()) if weeks.mean() > 0 else 0.0


def _responses(world: WorldTruth, realised: dict[str, np.ndarray], off: dict[str, np.ndarray]):
    """Per channel: national contribution, the response where it runs and where a test holds it out
    (per unit of market), and its ground truth, for realised business-as-usual spend and the share
    of the market each day where a test switches it off."""
    contributions, running, held_out, truth = {}, {}, {}, {}
    for channel in CHANNELS:
        draw = world.channels[channel.name]
        name = channel.name
        bau = np.round(realised[name], 2)
        spend = np.round(realised[name] * (1 - off[name]), 2)
        held = np.where(off[name] > 0, 0.0, bau)
        share = off[name].max()
        stock = adstock(bau, draw.adstock, draw.decay, draw.peak_days)
        half_saturation = round(draw.half_saturation_multiple * float(np.median(stock[bau > 0])), 2)
        on_bau = saturation(stock, "hill", half_saturation, draw.shape)
        on_held = saturation(adstock(held, draw.adstock, draw.decay, draw.peak_days), "hill", half_saturation, draw.shape)
        national = (1 - share) * on_bau + share * on_held
        coefficient = round(draw.target_roi * float(spend.sum()) / float(national.sum()), 2)
        contributions[name] = coefficient * national
        running[name], held_out[name] = coefficient * on_bau, coefficient * on_held
        total_spend = round(float(spend.sum()), 2)
        total_contribution = round(float(contributions[name].sum()), 2)
        truth[name] = {
            "pattern": channel.pattern,
            "adstock": draw.adstock,
            "decay": draw.decay,
            "peak_days": draw.peak_days,
            "decay_weekly_equivalent": draw.decay**7 if draw.adstock == "geometric" else None,
            "saturation": "hill",
            "half_saturation": half_saturation,
            "half_saturation_multiple": draw.half_saturation_multiple,
            "shape": draw.shape,
            "coefficient": coefficient,
            "target_roi": draw.target_roi,
            "spend_level": draw.spend_level,
            "low_variation": draw.low_variation,
            "weekly_spend_cv": round(_weekly_cv(spend), 4),
            "tested": bool(share > 0),
            "total_spend": total_spend,
            "total_contribution": total_contribution,
            "true_roi": round(total_contribution / total_spend, 6),
        }
    return contributions, running, held_out, truth


def simulate_world(seed: int, dates: pd.DatetimeIndex, preset: str = "default") -> SimulatedWorld:
    """Draw a world from the preset and simulate its days (seeded: the same arguments give the same world)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    world = draw_world(np.random.default_rng([seed, 0]), PRESETS[preset])
    n = len(dates)
    plan_dates = pd.date_range(dates[0], periods=n + PLAN_FUTURE_DAYS, freq="D")
    plans = plan_spend(np.random.default_rng([seed, 4]), world, plan_dates)
    realised = realise_spend(np.random.default_rng([seed, 6]), world, plans, n)
    base = baseline(dates, world)
    noise_sd = world.noise_relative_sd * BASELINE_LEVEL
    noise = np.random.default_rng([seed, 7]).normal(0.0, noise_sd, n)

    # The tests are sized on the history an analyst has before any of them: the first weeks' revenue.
    no_tests = {c.name: np.zeros(n) for c in CHANNELS}
    history = base + sum(_responses(world, realised, no_tests)[0].values()) + noise
    planned_daily = {c.name: float(np.mean(plans[c.name][:n])) for c in CHANNELS}
    estimate = experiments.noise_estimate(np.random.default_rng([seed, 9]), history, noise, noise_sd)
    tests = experiments.schedule(np.random.default_rng([seed, 5]), PRESETS[preset], n, planned_daily, estimate)
    off = {c.name: np.zeros(n) for c in CHANNELS}
    for test in tests:
        off[test.channel] = test.share_off(n)
    contributions, running, held_out, truth = _responses(world, realised, off)
    revenue = np.maximum(base + sum(contributions.values()) + noise, REVENUE_FLOOR)

    daily = pd.DataFrame({"date": dates.strftime("%Y-%m-%d")})
    for name in contributions:
        daily[f"spend_{name}"] = np.round(realised[name] * (1 - off[name]), 2)
        daily[f"contrib_{name}"] = contributions[name]
    daily["baseline"] = base
    daily["revenue_cents"] = np.round(revenue * 100).astype(np.int64)
    lift_tests, experiment_truth = experiments.measure(
        np.random.default_rng([seed, 8]), tests, dates, revenue, noise, noise_sd, contributions, running, held_out, plans
    )
    media_plan = pd.concat(
        [
            pd.DataFrame(
                {
                    "date": plan_dates.strftime("%Y-%m-%d"),
                    "channel": c.name,
                    "planned_spend": plans[c.name] * (1 - np.r_[off[c.name], np.zeros(PLAN_FUTURE_DAYS)]),
                }
            )
            for c in CHANNELS
        ],
        ignore_index=True,
    ).sort_values("date", kind="stable")
    return SimulatedWorld(world, daily, truth, media_plan, lift_tests, experiment_truth)
