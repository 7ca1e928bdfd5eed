"""Deterministic, seeded simulator of marketing worlds with a known ground truth.

Run ``gtm simulate --out DIR [--days N] [--events N] [--users N] [--seed N] [--preset default|hard]
[--start-date YYYY-MM-DD] [--formats csv,parquet,jsonl.gz] [--files N]`` (``python -m
gtm_assets.simulate`` is the same).

Modules: ``world`` (channels, presets and the per-seed draw of a world's truth), ``curves`` (the
simulator's own carry-over and saturation families, written apart from the model's), ``market``
(expected revenue from every channel's spend: additive or multiplicative, with interactions),
``spend`` (the media plan fixed at plan time and the spend realised after it), ``experiments`` (lift
tests as geo holdouts or switch-offs, measured from simulated revenue), ``outcomes`` (the days:
spend that may follow demand, contributions, revenue, organic sessions), ``scoring`` (the true
optimum of a budget and the share of the available gain a plan captures), ``sessions`` (media rows
and sessions), ``events`` (event rows with injected defects, the landing formats), ``truth``
(ground-truth files, weekly panel, true curves and market), ``simulator`` (``simulate()``, which
writes it all).
"""

from gtm_assets.simulate.events import DEFECT_KINDS, EVENT_COLUMNS, FORMATS
from gtm_assets.simulate.experiments import Experiment
from gtm_assets.simulate.outcomes import SimulatedWorld, simulate_world
from gtm_assets.simulate.scoring import PlanScore, best_plan, score_plan
from gtm_assets.simulate.sessions import NO_CONSENT_ADS, NO_CONSENT_ANALYTICS
from gtm_assets.simulate.simulator import MIN_DAYS, simulate
from gtm_assets.simulate.spend import PLAN_FUTURE_DAYS
from gtm_assets.simulate.truth import true_market, true_response, weekly_panel, weekly_truth_panel
from gtm_assets.simulate.world import CHANNELS, IN_FAMILY_PRESETS, NEVER_OFF, PRESETS, Campaign, Channel

__all__ = [
    "CHANNELS",
    "DEFECT_KINDS",
    "EVENT_COLUMNS",
    "FORMATS",
    "IN_FAMILY_PRESETS",
    "MIN_DAYS",
    "NEVER_OFF",
    "NO_CONSENT_ADS",
    "NO_CONSENT_ANALYTICS",
    "PLAN_FUTURE_DAYS",
    "PRESETS",
    "Campaign",
    "Channel",
    "Experiment",
    "PlanScore",
    "SimulatedWorld",
    "best_plan",
    "score_plan",
    "simulate",
    "simulate_world",
    "true_market",
    "true_response",
    "weekly_panel",
    "weekly_truth_panel",
]
