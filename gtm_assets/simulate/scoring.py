"""How good is a budget plan on a world's truth: the true optimum under the same guardrails, and the
share of the available gain a plan captures.

A plan is a constant daily spend per channel. Its true value is the world's steady-state revenue per
day (``Market.steady_revenue``) at the base level of the days before the plan. The best plan under
per-channel bounds and a fixed total is found exactly on a grid: dynamic programming over channels
(the best revenue for every number of grid steps used so far), with the two channels that interact
(TV and Search) merged into one whose table holds the best split of every number of steps between
them; then a local polish of the whole function from the grid optimum (SLSQP, kept only if better).

    gain captured = (plan - current mix) / (best plan - current mix)

1 is the optimum, 0 doing nothing, below 0 worse than doing nothing; a ratio to the optimum alone
would flatter any plan, because the current mix is usually close to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from gtm_assets.simulate.market import INTERACTION, Market

GRID_STEPS = 400


def _tables(market: Market, base_level: float, channels: Sequence[str], lower, upper, step: float, steps: int):
    """Per block of channels (one channel, or the interacting pair): its revenue for every number of
    grid steps above its lower bounds, and the split of those steps within the block."""
    baseline = market.steady_revenue({}, base_level)
    pair = [c for c in INTERACTION if c in channels] if market.interaction else []
    blocks = [[c] for c in channels if c not in pair] + ([pair] if len(pair) == 2 else [[c] for c in pair])
    index = {c: i for i, c in enumerate(channels)}
    tables = []
    for block in blocks:
        grids = []
        for c in block:
            i = index[c]
            room = int(min(steps, np.floor((upper[i] - lower[i]) / step + 1e-9)))
            grids.append(lower[i] + step * np.arange(room + 1))
        if len(block) == 1:
            values = market.steady_revenue({block[0]: grids[0]}, base_level) - baseline
            tables.append((block, values, np.arange(len(values))[:, None]))
            continue
        a, b = np.meshgrid(grids[0], grids[1], indexing="ij")
        joint = market.steady_revenue({block[0]: a, block[1]: b}, base_level) - baseline
        size = min(steps, joint.shape[0] + joint.shape[1] - 2)
        values, split = np.full(size + 1, -np.inf), np.zeros((size + 1, 2), dtype=int)
        for j in range(joint.shape[0]):
            for k in range(joint.shape[1]):
                if j + k <= size and joint[j, k] > values[j + k]:
                    values[j + k], split[j + k] = joint[j, k], (j, k)
        tables.append((block, values, split))
    return tables


def best_plan(
    market: Market, base_level: float, channels: Sequence[str], lower, upper, total: float, steps: int = GRID_STEPS
) -> tuple[np.ndarray, float]:
    """(spend, revenue per day) of the best plan with lower <= spend <= upper summing to ``total``."""
    lower, upper = np.asarray(lower, float), np.minimum(np.asarray(upper, float), total)
    free = total - lower.sum()
    if free < -1e-6 or upper.sum() < total - 1e-6:
        raise ValueError("the bounds cannot meet the total")
    step = max(free, 0.0) / steps
    spend = lower.copy()
    if free > 1e-9:
        tables = _tables(market, base_level, channels, lower, upper, step, steps)
        best, choices = np.full(steps + 1, -np.inf), []
        best[0] = 0.0
        for _, values, _ in tables:
            new, choice = np.full(steps + 1, -np.inf), np.zeros(steps + 1, dtype=int)
            for j, value in enumerate(values[: steps + 1]):
                if not np.isfinite(value):
                    continue
                candidate = np.full(steps + 1, -np.inf)
                candidate[j:] = best[: steps + 1 - j] + value
                better = candidate > new
                new[better], choice[better] = candidate[better], j
            best = new
            choices.append(choice)
        used = steps if np.isfinite(best[steps]) else int(np.flatnonzero(np.isfinite(best))[-1])
        index = {c: i for i, c in enumerate(channels)}
        for (block, _, split), choice in zip(reversed(tables), reversed(choices)):
            j = choice[used]
            for c, k in zip(block, split[j]):
                spend[index[c]] += step * k
            used -= j
        spend += (total - spend.sum()) * (upper - spend) / max((upper - spend).sum(), 1e-12)
    return _polish(market, base_level, channels, spend, lower, upper, total)


def _polish(market, base_level, channels, start, lower, upper, total) -> tuple[np.ndarray, float]:
    def revenue(x):
        return market.steady_revenue(dict(zip(channels, x)), base_level)

    scale = max(total, 1.0)
    result = minimize(
        lambda z: -revenue(z * scale) / scale,
        start / scale,
        method="SLSQP",
        bounds=list(zip(lower / scale, upper / scale)),
        constraints=[{"type": "eq", "fun": lambda z: z.sum() - total / scale}],
        options={"maxiter": 300, "ftol": 1e-12},
    )
    candidate = np.clip(result.x * scale, lower, upper)
    if abs(candidate.sum() - total) <= 1e-6 * scale and revenue(candidate) > revenue(start):
        return candidate, revenue(candidate)
    return start, revenue(start)


@dataclass(frozen=True)
class PlanScore:
    """A plan on the truth: revenue per day of the current mix, the plan and the best plan under the
    same bounds, and the share of the available gain the plan captures."""

    current: float
    plan: float
    best: float

    @property
    def available(self) -> float:
        return self.best - self.current

    @property
    def captured(self) -> float:
        """(plan - current) / (best - current); 0 when nothing can be gained."""
        return (self.plan - self.current) / self.available if self.available > 1e-9 else 0.0


def score_plan(
    market: Market,
    base_level: float,
    current: Mapping[str, float],
    plan: Mapping[str, float],
    lower: Mapping[str, float],
    upper: Mapping[str, float],
) -> PlanScore:
    """Score ``plan`` against the current mix and the true optimum within [lower, upper] at the
    current total (the plan must spend the same total)."""
    channels = list(current)
    total = float(sum(current.values()))
    best = best_plan(market, base_level, channels, [lower[c] for c in channels], [upper[c] for c in channels], total)[1]
    value = market.steady_revenue(dict(plan), base_level)
    return PlanScore(market.steady_revenue(dict(current), base_level), value, max(best, value))
