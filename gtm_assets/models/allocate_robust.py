"""Which channels a budget plan moves, and where: a plan a budget owner can bank on.

The plan maximises the model's point estimate of revenue (the fitted curves), and moves a channel
only where the move is robust: the plan beats the same plan with this channel held at its base (the
others re-optimised) in at least ``share`` of the model's bootstrap draws (ROBUST_SHARE by default),
each draw judged on its own curves. The least robust move is held and the plan re-optimised, until
every remaining move is robust. A channel the model flags for a reason its draws share
(``FLAG_DECISIONS``: data and experiment disagree, its budget follows demand) must be robust in
FLAGGED_SHARE of the draws, since the bootstrap cannot see that bias. Channels whose spends move
together (``moves_with``: TV and CTV flighted in the same weeks) can only be told apart jointly, so
they move as one block, in proportion to their bases, or not at all.

Why the point estimate and not the draws' mean, and these thresholds: measured over 30 simulated
worlds in five families (benchmarks/mmm_worlds.py), the point estimate's marginal ROI at today's
spend is closer to the truth than the draws' mean (median error 0.45 vs 0.58), and the draws are
about calibrated (the truth lies in their 10-90% band 75% of the time); a plan on the draws' mean
captured a median 55% of the available gain against 84% on the point estimate with the same rule,
and holding every flagged channel outright cost more than it saved (67% against 84%).

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

ROBUST_SHARE = 0.7
FLAGGED_SHARE = 0.9
MOVE_TOLERANCE = 0.5  # a channel "moves" when its plan differs from its held level by at least this much per day
CONFIDENT = "confident"
NOT_IDENTIFIED = "hold: not identified"
EXPERIMENT_DISAGREES = "hold: experiment disagrees"
CONFOUNDED = "hold: confounded by demand"
NOT_ROBUST = "hold: gain not robust"
DECISIONS = (CONFIDENT, NOT_IDENTIFIED, EXPERIMENT_DISAGREES, CONFOUNDED, NOT_ROBUST)
# Identification codes (mmm_identify) whose bias the bootstrap draws share, most serious first: such a
# channel's move must be robust in FLAGGED_SHARE of the draws, and when held it says why.
FLAG_DECISIONS = {
    "experiment_disagrees": EXPERIMENT_DISAGREES,
    "confounded_by_demand": CONFOUNDED,
}


@dataclass(frozen=True)
class Decision:
    """What the plan does with a channel and why; ``robustness`` is the share of the model's draws
    in which its move gains (null where a flag held it)."""

    status: str
    reason: str
    robustness: float = float("nan")


@dataclass(frozen=True)
class Flags:
    """The model's verdicts as the planner uses them (channels by index): held outright (a collinear
    channel with no partner to move with), flagged (needs FLAGGED_SHARE; the status it holds with),
    not identified, and blocks of channels that move together."""

    held: dict[int, Decision]
    flagged: dict[int, Decision]
    unidentified: set[int]
    blocks: list[list[int]]  # each block with at least two members


def _codes(table: pd.DataFrame, channel: str) -> list[str]:
    if "identification_codes" not in table.columns:
        return []
    return [c for c in str(table.loc[channel, "identification_codes"] or "").split(",") if c]


def flagged(mmm_channels: pd.DataFrame, channels: list[str], base: np.ndarray) -> Flags:
    """The model's verdicts (``Flags``) from its channel table (identification columns, when present)."""
    table = mmm_channels.set_index("channel")
    index = {c: k for k, c in enumerate(channels)}
    held, flags, unidentified, links = {}, {}, set(), []
    for k, channel in enumerate(channels):
        if "identified" in table.columns and not bool(table.loc[channel, "identified"]):
            unidentified.add(k)
        codes = _codes(table, channel)
        reason = f"the model flags it: {table.loc[channel, 'identification_reason']}" if codes else ""
        for code, status in FLAG_DECISIONS.items():
            if code in codes:
                flags[k] = Decision(status, reason)
                break
        if "collinear" in codes:
            partner = str(table.loc[channel, "moves_with"] or "") if "moves_with" in table.columns else ""
            if partner in index and base[k] > 0 and base[index[partner]] > 0:
                links.append((k, index[partner]))
            else:
                held[k] = Decision(NOT_IDENTIFIED, reason)
    blocks = _connected(links)
    for block in blocks:  # a block with a held member cannot move
        if any(k in held for k in block):
            for k in block:
                held.setdefault(
                    k, Decision(NOT_IDENTIFIED, f"the model flags it: {table.loc[channels[k], 'identification_reason']}")
                )
    return Flags(held, flags, unidentified, [b for b in blocks if not any(k in held for k in b)])


def _connected(links: list[tuple[int, int]]) -> list[list[int]]:
    groups: list[set[int]] = []
    for a, b in links:
        touching = [g for g in groups if a in g or b in g]
        merged = {a, b}.union(*touching)
        groups = [g for g in groups if g not in touching] + [merged]
    return [sorted(g) for g in groups]


def hold_levels(base: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: float) -> np.ndarray:
    """Each channel's spend when held: its base, scaled with the budget, within its bounds."""
    scale = total / base.sum() if base.sum() > 0 else 1.0
    return np.clip(base * scale, lower, upper)


@dataclass(frozen=True)
class _Unit:
    """Channels that move as one, each with its share of the unit's spend."""

    members: np.ndarray
    weights: np.ndarray


def _units(n: int, blocks: list[list[int]], base: np.ndarray) -> list[_Unit]:
    grouped = {k for block in blocks for k in block}
    units = [_Unit(np.array(b), base[b] / base[b].sum()) for b in blocks]
    return units + [_Unit(np.array([k]), np.ones(1)) for k in range(n) if k not in grouped]


class _Planner:
    """Plans over units (single channels and blocks) from per-channel curves."""

    def __init__(self, curves, slopes, units: list[_Unit], lower, upper, total, level):
        self.units, self.total, self.n = units, total, len(lower)
        self.curves = [self._sum(curves, u) for u in units]
        self.slopes = [self._slope(slopes, u) for u in units]
        self.lower = np.array([np.max(lower[u.members] / u.weights) for u in units])
        self.upper = np.array([np.min(upper[u.members] / u.weights) for u in units])
        self.level = np.array([level[u.members].sum() for u in units])

    @staticmethod
    def _sum(curves, unit):
        return lambda s: sum(curves[m](np.asarray(s) * w) for m, w in zip(unit.members, unit.weights))

    @staticmethod
    def _slope(slopes, unit):
        return lambda s: sum(w * slopes[m](np.asarray(s) * w) for m, w in zip(unit.members, unit.weights))

    def plan(self, fixed: list[int]) -> np.ndarray:
        """Spend per channel with the ``fixed`` units at their held level, the rest optimised."""
        lower, upper = self.lower.copy(), self.upper.copy()
        lower[fixed] = upper[fixed] = self.level[fixed]
        if lower.sum() > self.total + 1e-9 or upper.sum() < self.total - 1e-9:  # held levels cannot meet the total
            lower, upper = self.lower, self.upper
            if len(fixed) == len(self.units):
                return self.to_channels(_spread(self.level, lower, upper, self.total))
        return self.to_channels(optimum(self.curves, self.slopes, lower, upper, self.total))

    def to_channels(self, unit_spend: np.ndarray) -> np.ndarray:
        spend = np.zeros(self.n)
        for unit, s in zip(self.units, unit_spend):
            spend[unit.members] = s * unit.weights
        return spend


def _spread(level: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: float) -> np.ndarray:
    """Levels moved pro rata towards the total within the bounds."""
    gap = total - level.sum()
    room = (upper - level) if gap > 0 else (level - lower)
    room = np.where(np.isfinite(room), room, total)
    return level + gap * room / room.sum() if room.sum() > 0 else level


def _block_note(unit: _Unit, names: list[str] | None, k: int) -> str:
    if len(unit.members) < 2 or names is None:
        return ""
    others = [names[m] for m in unit.members if m != k]
    return f"; it moves with {', '.join(others)} as one block, in proportion to their bases (the model can only tell their joint effect)"


def robust_plan(
    curves,
    slopes,
    draws: DrawCurves,
    base: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    total: float,
    flags: Flags,
    share: float = ROBUST_SHARE,
    names: list[str] | None = None,
) -> tuple[np.ndarray, list[Decision]]:
    """The plan (module docstring) on ``curves`` (daily revenue and slope per channel: the point
    estimate) tested on ``draws``, and every channel's decision."""
    level = hold_levels(base, lower, upper, total)
    units = _units(len(base), flags.blocks, base)
    planner = _Planner(curves, slopes, units, lower, upper, total, level)
    fixed = {u: flags.held[int(unit.members[0])] for u, unit in enumerate(units) if int(unit.members[0]) in flags.held}
    needed = {u: max([share] + [FLAGGED_SHARE for m in unit.members if int(m) in flags.flagged]) for u, unit in enumerate(units)}
    while True:
        spend = planner.plan(sorted(fixed))
        moved = [
            u
            for u, unit in enumerate(units)
            if u not in fixed and np.abs(spend[unit.members] - level[unit.members]).max() >= MOVE_TOLERANCE
        ]
        robustness = {}
        if not moved:
            break
        revenue = draws.revenue(np.vstack([spend, *[planner.plan(sorted([*fixed, u])) for u in moved]])).sum(axis=2)
        robustness = {u: float(np.mean(revenue[:, 0] > revenue[:, 1 + i])) for i, u in enumerate(moved)}
        weakest = min(robustness, key=lambda u: robustness[u] - needed[u])
        if robustness[weakest] >= needed[weakest]:
            break
        fixed[weakest] = _held(units[weakest], flags, robustness[weakest], needed[weakest])
    decisions: list[Decision] = [None] * len(base)
    for u, unit in enumerate(units):
        for k in unit.members:
            note = _block_note(unit, names, int(k))
            if u in fixed:
                d = fixed[u]
                decisions[k] = Decision(d.status, d.reason + (note if d.status == NOT_IDENTIFIED and note else ""), d.robustness)
            elif u in robustness:
                decisions[k] = Decision(
                    CONFIDENT, f"its move gains in {robustness[u]:.0%} of the model's draws{note}", robustness[u]
                )
            else:
                decisions[k] = Decision(CONFIDENT, f"its base is its best level on the model's curves{note}")
    return spend, decisions


def _held(unit: _Unit, flags: Flags, robustness: float, needed: float) -> Decision:
    """Why a unit whose move is not robust enough holds: its flag, not identified, or not robust."""
    why = f"moving it gains in only {robustness:.0%} of the model's draws (a move needs {needed:.0%})"
    members = [int(m) for m in unit.members]
    flag = next((flags.flagged[m] for m in members if m in flags.flagged), None)
    if flag is not None:
        return Decision(flag.status, f"{why}; {flag.reason}", robustness)
    status = NOT_IDENTIFIED if any(m in flags.unidentified for m in members) else NOT_ROBUST
    return Decision(status, why, robustness)


def point_plan(curves, slopes, base, lower, upper, total, flags: Flags) -> tuple[np.ndarray, list[Decision]]:
    """Without bootstrap draws nothing can be tested: the point estimate's optimum with every
    flagged channel held, and the blocks moved as one."""
    level = hold_levels(base, lower, upper, total)
    units = _units(len(base), flags.blocks, base)
    planner = _Planner(curves, slopes, units, lower, upper, total, level)
    held = {**flags.flagged, **flags.held}
    fixed = [u for u, unit in enumerate(units) if int(unit.members[0]) in held]
    spend = planner.plan(fixed)
    no_draws = "the point estimate decides it (no bootstrap draws to test the move's robustness)"
    return spend, [held.get(k, Decision(CONFIDENT, no_draws)) for k in range(len(base))]
