"""Which channels a budget plan moves, and where: a plan a budget owner can bank on.

The plan maximises the revenue expected over the model's bootstrap draws (each draw's own curves,
averaged: a curve the data barely pin down counts with its uncertainty, not at its point estimate).
A channel moves only where both hold:

- the model does not flag it for a reason its draws cannot show (``FLAG_DECISIONS``): data and
  experiment disagree, its budget follows demand, its spend barely varies or moves with another
  channel's. Those keep their base spend, whatever the draws say, because the draws share the flaw;
- its move is robust: the plan beats the same plan with this channel held at its base (the others
  re-optimised) in at least ``share`` of the draws (ROBUST_SHARE by default). The least robust move
  is held and the plan re-optimised, until every remaining move is robust.

A held channel keeps its base spend (scaled with the budget when the total differs from the base's),
within its guardrails. Each channel gets a ``Decision``: ``confident`` (the model decides its spend,
which may be its base when that is its best level) or a ``hold: ...`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gtm_assets.models.allocate_curves import DrawCurves
from gtm_assets.models.allocate_optimum import optimum

ROBUST_SHARE = 0.9
MOVE_TOLERANCE = 0.5  # a channel "moves" when its plan differs from its held level by at least this much per day
CONFIDENT = "confident"
NOT_IDENTIFIED = "hold: not identified"
EXPERIMENT_DISAGREES = "hold: experiment disagrees"
CONFOUNDED = "hold: confounded by demand"
NOT_ROBUST = "hold: gain not robust"
DECISIONS = (CONFIDENT, NOT_IDENTIFIED, EXPERIMENT_DISAGREES, CONFOUNDED, NOT_ROBUST)
# Identification codes (mmm_identify) that hold a channel whatever its draws say, most serious first.
FLAG_DECISIONS = {
    "experiment_disagrees": EXPERIMENT_DISAGREES,
    "confounded_by_demand": CONFOUNDED,
    "collinear": NOT_IDENTIFIED,
    "low_variation": NOT_IDENTIFIED,
}


@dataclass(frozen=True)
class Decision:
    """What the plan does with a channel and why; ``robustness`` is the share of the model's draws
    in which its move gains (null where a flag held it)."""

    status: str
    reason: str
    robustness: float = float("nan")


def flagged(mmm_channels: pd.DataFrame, channels: list[str]) -> tuple[dict[int, Decision], set[int]]:
    """Channels held by the model's own flags (``FLAG_DECISIONS``), and every channel the model calls
    not identified (by index in ``channels``)."""
    table = mmm_channels.set_index("channel")
    held, unidentified = {}, set()
    for k, channel in enumerate(channels):
        if "identified" in table.columns and not bool(table.loc[channel, "identified"]):
            unidentified.add(k)
        codes = str(table.loc[channel, "identification_codes"] or "") if "identification_codes" in table.columns else ""
        for code, status in FLAG_DECISIONS.items():
            if code in codes.split(","):
                held[k] = Decision(status, f"the model flags it: {table.loc[channel, 'identification_reason']}")
                break
    return held, unidentified


def hold_levels(base: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: float) -> np.ndarray:
    """Each channel's spend when held: its base, scaled with the budget, within its bounds."""
    scale = total / base.sum() if base.sum() > 0 else 1.0
    return np.clip(base * scale, lower, upper)


class _Planner:
    """The draws' mean curves and the plans they give with some channels held."""

    def __init__(self, draws: DrawCurves, lower, upper, total, held_level):
        self.draws, self.lower, self.upper, self.total, self.held_level = draws, lower, upper, total, held_level
        n = len(lower)
        self.curves = [draws.mean_curve(k) for k in range(n)]
        self.slopes = [draws.mean_slope(k) for k in range(n)]

    def plan(self, fixed: list[int]) -> np.ndarray:
        lower, upper = self.lower.copy(), self.upper.copy()
        lower[fixed] = upper[fixed] = self.held_level[fixed]
        if lower.sum() > self.total + 1e-9 or upper.sum() < self.total - 1e-9:  # held levels cannot meet the total
            lower, upper = self.lower, self.upper
            free = np.setdiff1d(np.arange(len(lower)), fixed)
            if len(free) == 0:
                return _spread(self.held_level, lower, upper, self.total)
        return optimum(self.curves, self.slopes, lower, upper, self.total)

    def revenue(self, plans: np.ndarray) -> np.ndarray:
        """Daily revenue of each plan in each draw (draws x plans)."""
        return self.draws.revenue(plans).sum(axis=2)


def _spread(level: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: float) -> np.ndarray:
    """Levels moved pro rata towards the total within the bounds."""
    gap = total - level.sum()
    room = (upper - level) if gap > 0 else (level - lower)
    room = np.where(np.isfinite(room), room, total)
    return level + gap * room / room.sum() if room.sum() > 0 else level


def robust_plan(
    draws: DrawCurves,
    base: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    total: float,
    held: dict[int, Decision],
    unidentified: set[int],
    share: float = ROBUST_SHARE,
) -> tuple[np.ndarray, list[Decision]]:
    """The plan (module docstring) and every channel's decision."""
    level = hold_levels(base, lower, upper, total)
    planner = _Planner(draws, lower, upper, total, level)
    decisions = dict(held)
    while True:
        spend = planner.plan(sorted(decisions))
        moved = [k for k in range(len(base)) if k not in decisions and abs(spend[k] - level[k]) >= MOVE_TOLERANCE]
        if not moved:
            robustness = {}
            break
        alternatives = [planner.plan(sorted([*decisions, k])) for k in moved]
        revenue = planner.revenue(np.vstack([spend, *alternatives]))
        robustness = {k: float(np.mean(revenue[:, 0] > revenue[:, 1 + i])) for i, k in enumerate(moved)}
        weakest = min(robustness, key=robustness.get)
        if robustness[weakest] >= share:
            break
        status = NOT_IDENTIFIED if weakest in unidentified else NOT_ROBUST
        decisions[weakest] = Decision(
            status,
            f"moving it gains in only {robustness[weakest]:.0%} of the model's draws (a move needs {share:.0%})",
            robustness[weakest],
        )
    out = []
    for k in range(len(base)):
        if k in decisions:
            out.append(decisions[k])
        elif k in robustness:
            out.append(Decision(CONFIDENT, f"its move gains in {robustness[k]:.0%} of the model's draws", robustness[k]))
        else:
            out.append(Decision(CONFIDENT, "its base is where the model's draws put it"))
    return spend, out


def point_plan(curves, slopes, base, lower, upper, total, held: dict[int, Decision]) -> tuple[np.ndarray, list[Decision]]:
    """Without bootstrap draws: the point estimate's optimum with the flagged channels held."""
    level = hold_levels(base, lower, upper, total)
    lower, upper = lower.copy(), upper.copy()
    fixed = sorted(held)
    lower[fixed] = upper[fixed] = level[fixed]
    if lower.sum() > total + 1e-9 or upper.sum() < total - 1e-9:
        raise ValueError("the held channels' base spends cannot meet the total budget within the guardrails")
    spend = optimum(curves, slopes, lower, upper, total)
    no_draws = "the point estimate decides it (no bootstrap draws to test the move's robustness)"
    return spend, [held.get(k, Decision(CONFIDENT, no_draws)) for k in range(len(base))]
