"""Lift tests simulated as experiments: spend really differs in a window, and the lift is measured
from the simulated revenue with the world's own noise, its standard error estimated from the data.

Design (as an analyst sizes a test before running it): each tested channel's test is sized for
power with what is known before it: its planned daily spend, and the daily revenue noise estimated
from the first PRE_PERIOD_DAYS of regional history (``noise_estimate``). The smallest test (least spend
withheld) whose expected z-score at a planning ROI of PLANNING_ROI reaches TARGET_Z is chosen among
windows of 21-56 days and holdout shares of 25-50%; a channel no allowed test can measure is not
tested. Windows start on any weekday; tests run in turn, each with a clean pre-period before it.

Designs:
- ``geo_holdout``: the channel is switched off in a set of regions holding a share h of the market.
  The world's daily noise is split between the holdout and control regions (independent parts of
  variance h and 1 - h of the national one), every other channel and the baseline run in both in
  proportion. Measured lift = sum over the window of (r * control - holdout), r = the holdout/control
  revenue ratio of the PRE_PERIOD_DAYS before the window; standard error from the pre-period's daily
  spread of (holdout - r * control), for the window's length and r's own estimation error.
- ``switch_off``: the channel is off nationally; there is no control, so the counterfactual of each
  window day is the mean of the same weekday in the four weeks before the window (an interrupted time
  series). Standard error = the spread of the same estimator over PLACEBO_WINDOWS placebo windows
  before the test, where nothing was switched off (it includes the bias from trend, seasonality and
  other channels' moves).
A test's ``spend`` is the planned spend it withheld (h x the channel's plan over the window).

Experiments a planner asks for after the history (``Experiment.validate``) may run at the same time
on different channels, each in regions of its own: a test is then measured against the regions in
no holdout whose window overlaps its own, and the national noise is split over holdout, control and
the other tests' regions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gtm_assets.simulate.world import NEVER_OFF, Preset

PRE_PERIOD_DAYS = 56
COOLDOWN_DAYS = 14
PLANNING_ROI = 1.0
TARGET_Z = 2.5
# A switch-off's interrupted-time-series error is larger than a geo holdout's noise alone (trend,
# seasonality and other channels move the counterfactual); the analyst plans with this factor.
SWITCH_OFF_SE_FACTOR = 3.0
PLACEBO_WINDOWS = 12
REFERENCE_WEEKS = 4
END_MARGIN_DAYS = 7


@dataclass(frozen=True)
class Experiment:
    """A scheduled test: ``channel`` is off on days [first_day, end_day) in a share of the market."""

    channel: str
    design: str  # "geo_holdout" or "switch_off"
    first_day: int
    end_day: int
    holdout_share: float  # 1.0 for a switch-off

    @property
    def days(self) -> int:
        return self.end_day - self.first_day

    def lead_days(self) -> int:
        """Days before the window the measurement needs free of other tests."""
        if self.design == "geo_holdout":
            return PRE_PERIOD_DAYS
        return 7 * (math.ceil(self.days / 7) + PLACEBO_WINDOWS) + 7 * REFERENCE_WEEKS

    def validate(self, n_days: int, history_days: int) -> None:
        """An experiment asked for after the history: within the simulated days, after the history."""
        if self.design not in ("geo_holdout", "switch_off"):
            raise ValueError(f"{self.channel}: unknown design {self.design!r}")
        if not (history_days <= self.first_day < self.end_day <= n_days):
            raise ValueError(
                f"{self.channel}: the window {self.first_day}..{self.end_day} must lie in days {history_days}..{n_days}"
            )
        if not 0 < self.holdout_share <= 1 or (self.design == "geo_holdout" and self.holdout_share >= 1):
            raise ValueError(f"{self.channel}: holdout share {self.holdout_share} out of range")

    def overlaps(self, other: Experiment) -> bool:
        return self.first_day < other.end_day and other.first_day < self.end_day

    def share_off(self, n_days: int) -> np.ndarray:
        """Per day, the share of the market where the channel is off."""
        share = np.zeros(n_days)
        share[self.first_day : self.end_day] = self.holdout_share
        return share


def noise_estimate(rng: np.random.Generator, revenue: np.ndarray, noise: np.ndarray, noise_sd: float) -> float:
    """Daily revenue noise as an analyst estimates it from the first PRE_PERIOD_DAYS of regional
    history (an A/A comparison of two halves of the market, the regions' own noise split as in a
    geo holdout): the spread of (half A - r x half B) is the national noise x 1 for equal halves. A world
    shorter than that uses all of its days."""
    n = min(PRE_PERIOD_DAYS, len(revenue))
    days = slice(0, n)
    half = 0.5 * (revenue[days] - noise[days]) + 0.5 * noise[days] + 0.5 * noise_sd * rng.standard_normal(n)
    other = revenue[days] - half
    ratio = half.sum() / other.sum()
    return float(np.std(half - ratio * other, ddof=1))


def _size(design: str, daily_spend: float, noise: float, preset: Preset) -> tuple[int, float] | None:
    """The smallest (days, holdout share) whose expected z at PLANNING_ROI reaches TARGET_Z, or None."""
    options = []
    lengths = range(preset.test_days[0], preset.test_days[1] + 1, 7)
    shares = (1.0,) if design == "switch_off" else np.linspace(*preset.holdout_share, 3)
    for days in lengths:
        for share in shares:
            lift = PLANNING_ROI * share * daily_spend * days
            if design == "switch_off":
                se = SWITCH_OFF_SE_FACTOR * noise * math.sqrt(2 * days)
            else:
                se = noise * math.sqrt(days * share / (1 - share) * (1 + days / PRE_PERIOD_DAYS))
            if lift >= TARGET_Z * se:
                options.append((share * days, days, round(float(share), 3)))
    return min(options)[1:] if options else None


def schedule(
    rng: np.random.Generator, preset: Preset, n_days: int, planned_daily: dict[str, float], noise: float
) -> list[Experiment]:
    """Pick the channels to test, size each test (module docstring; a switch-off that cannot be
    powered becomes a geo holdout) and place them in turn, each after the previous one's cooldown and
    with its own lead; tests that do not fit in a short world are dropped."""
    n_tested = min(preset.tested_channels, len(NEVER_OFF))
    channels = [str(c) for c in rng.choice(NEVER_OFF, size=n_tested, replace=False)]
    drafts = []
    for channel in channels:
        design = "switch_off" if rng.random() < preset.switch_off_probability else "geo_holdout"
        sized = _size(design, planned_daily[channel], noise, preset)
        if sized is None and design == "switch_off":
            design, sized = "geo_holdout", _size("geo_holdout", planned_daily[channel], noise, preset)
        if sized is not None:
            drafts.append(Experiment(channel, design, 0, sized[0], sized[1]))
    while drafts:
        need = sum(d.lead_days() + d.days + COOLDOWN_DAYS for d in drafts) + END_MARGIN_DAYS
        if need <= n_days:
            break
        drafts.pop()
    if not drafts:
        return []
    gaps = rng.multinomial(n_days - need, np.ones(len(drafts) + 1) / (len(drafts) + 1))
    tests, day = [], 0
    for draft, gap in zip(drafts, gaps):
        first = day + int(gap) + draft.lead_days()
        tests.append(Experiment(draft.channel, draft.design, first, first + draft.days, draft.holdout_share))
        day = first + draft.days + COOLDOWN_DAYS
    return tests


def _geo_holdout(rng, test: Experiment, revenue, noise, noise_sd, running, held, control_share) -> tuple[float, float]:
    """Measured lift and its standard error of a geo holdout (module docstring). ``running`` and
    ``held`` are the expected revenue per unit of market with the channel running and held out;
    ``control_share`` the share of the market in no concurrent test's holdout."""
    h, c = test.holdout_share, control_share
    pre = slice(test.first_day - PRE_PERIOD_DAYS, test.first_day)
    span = slice(pre.start, test.end_day)
    n_days = span.stop - span.start
    # The national noise split into independent regional parts of variance share x noise_sd^2
    # (holdout, control, and the regions of concurrent tests), which add up to it.
    shares = np.array([h, c, max(1.0 - h - c, 0.0)])
    parts = np.sqrt(shares)[:, None] * noise_sd * rng.standard_normal((3, n_days))
    total = parts.sum(axis=0)
    holdout = h * held[span] + h * noise[span] + parts[0] - h * total
    control = c * running[span] + c * noise[span] + parts[1] - c * total
    n_pre = PRE_PERIOD_DAYS
    ratio = holdout[:n_pre].sum() / control[:n_pre].sum()
    lift = float(np.sum(ratio * control[n_pre:] - holdout[n_pre:]))
    spread = np.std(holdout[:n_pre] - ratio * control[:n_pre], ddof=1)
    standard_error = float(spread * math.sqrt(test.days * (1 + test.days / n_pre)))
    return lift, standard_error


def _control_share(test: Experiment, tests: list[Experiment]) -> float:
    """Share of the market outside every geo holdout whose window overlaps the test's window (the
    analyst compares with regions that no running test holds out)."""
    overlapping = [t for t in tests if t.design == "geo_holdout" and t.overlaps(test)]
    return 1.0 - sum(t.holdout_share for t in overlapping)


def _same_weekday_gap(revenue: np.ndarray, first: int, days: int) -> float:
    """Sum over [first, first + days) of (mean of the same weekday in the REFERENCE_WEEKS weeks
    before ``first`` - revenue)."""
    reference = revenue[first - 7 * REFERENCE_WEEKS : first].reshape(REFERENCE_WEEKS, 7).mean(axis=0)
    offsets = np.arange(days)
    return float(np.sum(reference[offsets % 7] - revenue[first + offsets]))


def _switch_off(test: Experiment, revenue) -> tuple[float, float]:
    """Measured lift and standard error of a national switch-off (module docstring)."""
    lift = _same_weekday_gap(revenue, test.first_day, test.days)
    first_shift = math.ceil(test.days / 7)
    placebos = [
        _same_weekday_gap(revenue, test.first_day - 7 * p, test.days) for p in range(first_shift, first_shift + PLACEBO_WINDOWS)
    ]
    return lift, float(np.std(placebos, ddof=1))


def measure(
    rng: np.random.Generator,
    tests: list[Experiment],
    dates: pd.DatetimeIndex,
    revenue: np.ndarray,
    noise: np.ndarray,
    noise_sd: float,
    running: np.ndarray,
    held: list[np.ndarray],
    planned: dict[str, np.ndarray],
) -> tuple[pd.DataFrame, list[dict]]:
    """The landed lift tests (channel, start_date, end_date, spend, incremental_revenue,
    standard_error) and, per test, its design and true value for the ground truth.

    ``running`` is the expected revenue per unit of market on business-as-usual spend, ``held[j]``
    the same where test j held its channel out; ``planned`` the business-as-usual plan.
    """
    rows, truth = [], []
    for test, held_out in zip(tests, held):
        window = slice(test.first_day, test.end_day)
        channel = test.channel
        if test.design == "geo_holdout":
            control = _control_share(test, tests)
            lift, standard_error = _geo_holdout(rng, test, revenue, noise, noise_sd, running, held_out, control)
        else:
            lift, standard_error = _switch_off(test, revenue)
        spend = test.holdout_share * float(planned[channel][window].sum())
        true_lift = test.holdout_share * float(np.sum(running[window] - held_out[window]))
        rows.append(
            {
                "channel": channel,
                "start_date": dates[test.first_day].strftime("%Y-%m-%d"),
                "end_date": dates[test.end_day - 1].strftime("%Y-%m-%d"),
                "spend": spend,
                "incremental_revenue": lift,
                "standard_error": standard_error,
            }
        )
        truth.append(
            {
                **rows[-1],
                "design": test.design,
                "holdout_share": test.holdout_share,
                "days": test.days,
                "true_incremental_revenue": round(true_lift, 2),
                "naive_roi": round(lift / spend, 4),
                "true_naive_roi": round(true_lift / spend, 4),
            }
        )
    frame = pd.DataFrame(rows, columns=["channel", "start_date", "end_date", "spend", "incremental_revenue", "standard_error"])
    for record in truth:
        for key in ("spend", "incremental_revenue", "standard_error"):
            record[key] = round(record[key], 2)
    return frame, truth
