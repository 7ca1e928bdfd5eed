"""What-if budget scenarios on the media-mix model: "cut TV by 20%", "move 10% from TV to Search".

A scenario changes today's daily spend per channel; the predicted revenue change is the MMM's
steady-state daily response at the new spend minus at today's (``allocate.daily_revenue``), with
an interval from the model's bootstrap ROI interval (``allocate.revenue_interval``; channel
intervals are added, which treats their errors as moving together, a conservative bound).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gtm_assets.models.allocate import daily_revenue, mmm_params, revenue_interval

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
    """Per-channel spends and revenue, and the total daily and horizon revenue change."""

    channels: pd.DataFrame
    daily_change: float
    daily_change_lo: float
    daily_change_hi: float
    horizon_days: int

    def summary(self) -> str:
        days = self.horizon_days
        return (
            f"Predicted revenue change {self.daily_change:+,.2f} per day (90% interval "
            f"{self.daily_change_lo:+,.2f} to {self.daily_change_hi:+,.2f}); over {days} days "
            f"{self.daily_change * days:+,.2f} ({self.daily_change_lo * days:+,.2f} to {self.daily_change_hi * days:+,.2f})."
        )


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
    changes: list[Change], *, mmm_channels: pd.DataFrame, current: dict[str, float], horizon_days: int = 14
) -> WhatIf:
    """Apply ``changes`` to ``current`` daily spend and predict the revenue change with an interval."""
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
    params = mmm_params(channels, mmm_channels)
    before, after = daily_revenue(params, spend.to_numpy()), daily_revenue(params, new.to_numpy())
    lo, hi = revenue_interval(mmm_channels, channels, after - before, (new - spend).to_numpy())
    table = pd.DataFrame(
        {
            "channel": channels,
            "current_spend": spend.to_numpy(),
            "scenario_spend": new.to_numpy(),
            "revenue_change": after - before,
            "revenue_change_lo": lo,
            "revenue_change_hi": hi,
        }
    )
    return WhatIf(table, float(np.sum(after - before)), float(np.sum(lo)), float(np.sum(hi)), horizon_days)
