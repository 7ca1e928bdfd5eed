"""What-if budget scenarios on the media-mix model: "cut TV by 20%", "move 10% from TV to Search".

A scenario changes each channel's base daily spend: the trailing average over a window (the caller
says which; `gtm whatif` uses the last 28 days), so that a flighted channel that happens to be off
this week still has the level it is usually run at. The predicted revenue change is the MMM's
steady-state daily response at the new spend minus at the base (``allocate_curves``); its 90%
interval is the spread of the same difference over the model's bootstrap draws, each draw with its
own curves, summed over channels within each draw. The answer names the window and says which
channels are off right now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gtm_assets.models.allocate_curves import curves_from_table, daily_revenue, draw_revenue, interval

_NUMBER = r"(\d+(?:\.\d+)?)\s*(%?)"
_SCALE = re.compile(rf"^(cut|reduce|decrease|lower|increase|raise|boost|grow)\s+(.+?)\s+by\s+{_NUMBER}$", re.I)
_MOVE = re.compile(rf"^(?:move|shift)\s+{_NUMBER}\s+from\s+(.+?)\s+to\s+(.+?)$", re.I)
_DOWN = {"cut", "reduce", "decrease", "lower"}


class ScenarioError(ValueError):
    """A scenario that cannot be parsed or applied."""


@dataclass(frozen=True)
class Change:
    """One spend change: ``amount`` of ``source``'s spend (a fraction when ``relative``) goes to
    ``target`` (None: added to or, when negative, removed from the budget)."""

    source: str
    amount: float
    relative: bool
    target: str | None = None


@dataclass
class WhatIf:
    """Per-channel spends and revenue, the total daily and horizon revenue change, what the base
    spend is, and notes (channels off right now, where the interval comes from)."""

    channels: pd.DataFrame
    daily_change: float
    daily_change_lo: float
    daily_change_hi: float
    horizon_days: int
    base: str = "current daily spend"
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        days = self.horizon_days
        interval = (
            f" (90% interval {self.daily_change_lo:+,.2f} to {self.daily_change_hi:+,.2f})"
            if np.isfinite(self.daily_change_lo)
            else " (no interval: the model has no bootstrap draws)"
        )
        horizon = f"{self.daily_change * days:+,.2f}"
        if np.isfinite(self.daily_change_lo):
            horizon += f" ({self.daily_change_lo * days:+,.2f} to {self.daily_change_hi * days:+,.2f})"
        lines = [
            f"Base: {self.base}.",
            *self.notes,
            f"Predicted revenue change {self.daily_change:+,.2f} per day{interval}; over {days} days {horizon}.",
        ]
        return "\n".join(lines)


def _channel(name: str, channels: list[str]) -> str:
    matches = [c for c in channels if c.lower() == name.strip().lower()]
    if not matches:
        raise ScenarioError(f"unknown channel {name.strip()!r}; channels: {', '.join(channels)}")
    return matches[0]


def parse_scenario(text: str, channels: list[str]) -> list[Change]:
    """Parse clauses joined by "and", "," or ";": "cut TV by 20%", "increase Search by 500",
    "move 10% from TV to Search". Percentages are of the channel's current spend."""
    changes = []
    for clause in re.split(r"\s*(?:;|,|\band\b)\s*", text.strip()):
        if not clause:
            continue
        if scale := _SCALE.match(clause):
            verb, name, number, percent = scale.groups()
            amount = float(number) / (100 if percent else 1) * (-1 if verb.lower() in _DOWN else 1)
            changes.append(Change(_channel(name, channels), amount, bool(percent)))
        elif move := _MOVE.match(clause):
            number, percent, source, target = move.groups()
            amount = -float(number) / (100 if percent else 1)
            changes.append(Change(_channel(source, channels), amount, bool(percent), _channel(target, channels)))
        else:
            raise ScenarioError(
                f"cannot read {clause!r}; say e.g. 'cut TV by 20%', 'increase Search by 500' or 'move 10% from TV to Search'"
            )
    if not changes:
        raise ScenarioError("empty scenario")
    return changes


def what_if(
    changes: list[Change],
    *,
    mmm_channels: pd.DataFrame,
    current: dict[str, float],
    horizon_days: int = 14,
    draws: pd.DataFrame | None = None,
    base: str = "current daily spend",
    recent: dict[str, float] | None = None,
) -> WhatIf:
    """Apply ``changes`` to the base daily spend ``current`` and predict the revenue change.

    ``base`` says in words what ``current`` is (e.g. "the 28-day average daily spend, 2025-12-03 to
    2025-12-30"); ``recent`` (daily spend over the last days, optional) lets the answer say which
    channels are off right now; ``draws`` (the model's bootstrap draws, mmm_bootstrap_draws rows)
    give the 90% interval. A percentage change applies to the base, so cutting a channel that is off
    this week still cuts its usual level, and the answer says so.
    """
    channels = list(current)
    spend = pd.Series(current, dtype=float)
    new = spend.copy()
    for change in changes:
        delta = change.amount * spend[change.source] if change.relative else change.amount
        new[change.source] += delta
        if change.target is not None:
            new[change.target] -= delta
    negative = new[new < -1e-9]
    if not negative.empty:
        raise ScenarioError(f"scenario makes {negative.index[0]} spend negative ({negative.iloc[0]:,.2f} per day)")
    new = new.clip(lower=0.0)
    curves = curves_from_table(channels, mmm_channels)
    before, after = daily_revenue(curves, spend.to_numpy()), daily_revenue(curves, new.to_numpy())
    lo = hi = np.full(len(channels), np.nan)
    total_lo = total_hi = float("nan")
    notes = []
    if draws is not None and len(draws):
        per_draw = draw_revenue(draws, channels, np.vstack([spend.to_numpy(), new.to_numpy()]))
        change = per_draw[:, 1, :] - per_draw[:, 0, :]
        lo, hi = interval(change, point=after - before)
        total_lo, total_hi = interval(change.sum(axis=1), point=float(np.sum(after - before)))
        notes.append(f"Interval: the 5th to 95th percentile over the model's {len(change)} bootstrap draws.")
    touched = {c.source for c in changes} | {c.target for c in changes if c.target is not None}
    for channel in channels:
        if recent is not None and recent.get(channel, 0.0) < 0.005 and spend[channel] > 0:
            touched_note = " and the scenario changes that level" if channel in touched else ""
            notes.append(
                f"{channel} is off right now (no spend in the recent days); its base is {spend[channel]:,.2f} "
                f"per day{touched_note}."
            )
        elif spend[channel] == 0 and channel in touched:
            notes.append(f"{channel} has no spend in the base window, so a percentage change of it changes nothing.")
    table = pd.DataFrame(
        {
            "channel": channels,
            "base_spend": spend.to_numpy(),
            "scenario_spend": new.to_numpy(),
            "revenue_change": after - before,
            "revenue_change_lo": lo,
            "revenue_change_hi": hi,
        }
    )
    return WhatIf(table, float(np.sum(after - before)), float(total_lo), float(total_hi), horizon_days, base, notes)
