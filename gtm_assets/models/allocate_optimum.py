"""The global optimum of a budget split over response curves, under per-channel bounds.

maximise sum_c r_c(x_c)  subject to  lower_c <= x_c <= upper_c,  sum_c x_c = total.

The curves may be S-shaped, so the problem is not concave and a local optimiser can stop with a
channel stuck at zero spend, where an S-curve's marginal return is zero. Exact dynamic programming
over a spend grid finds the best grid point whatever the curves' shapes: the budget above the lower
bounds is cut into GRID_STEPS equal steps, and channel by channel the best revenue of every possible
number of steps used so far is kept. The grid optimum is then polished by a local optimiser in the
box of one grid step around it (SLSQP; the polish only ever keeps an improvement), which moves it to
the continuous optimum of that basin. Revenue lost to the grid before polishing is at most the
largest marginal return times one step per channel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import minimize

GRID_STEPS = 2000

Curve = Callable[[np.ndarray], np.ndarray]  # daily spend -> daily revenue (vectorised)


def grid_optimum(
    curves: Sequence[Curve], lower: np.ndarray, upper: np.ndarray, total: float, steps: int = GRID_STEPS
) -> np.ndarray:
    """The best allocation on the grid lower + k * (total - sum(lower)) / steps (exact DP)."""
    free = total - lower.sum()
    if free <= 0:
        return lower.copy()
    step = free / steps
    best = np.full(steps + 1, -np.inf)
    best[0] = 0.0
    choices = []
    for curve, lo, hi in zip(curves, lower, upper):
        room = int(min(steps, np.floor((hi - lo) / step + 1e-9)))
        values = np.asarray(curve(lo + step * np.arange(room + 1)), dtype=float)
        new = np.full(steps + 1, -np.inf)
        choice = np.zeros(steps + 1, dtype=int)
        for j, value in enumerate(values):
            candidate = np.full(steps + 1, -np.inf)
            candidate[j:] = best[: steps + 1 - j] + value
            better = candidate > new
            new[better] = candidate[better]
            choice[better] = j
        best = new
        choices.append(choice)
    # Every grid step must be placed; if the upper bounds cannot take them all on the grid, place as
    # many as they can (the polish spends the rest).
    used = steps if np.isfinite(best[steps]) else int(np.flatnonzero(np.isfinite(best))[-1])
    allocation = np.zeros(len(curves), dtype=int)
    for k in range(len(curves) - 1, -1, -1):
        allocation[k] = choices[k][used]
        used -= allocation[k]
    spend = lower + step * allocation
    leftover = total - spend.sum()
    if leftover > 0:  # the upper bounds are off the grid: spread the rest over the room left
        room = upper - spend
        share = np.isinf(room).astype(float) if np.isinf(room).any() else room
        spend += leftover * share / share.sum()
    return spend


def polish(
    curves: Sequence[Curve],
    slopes: Sequence[Curve],
    start: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    total: float,
    radius: float,
) -> np.ndarray:
    """Local continuous optimum within ``radius`` of ``start`` (and the bounds), summing to ``total``;
    ``start`` itself when the local search does not improve on it."""
    box_lo = np.maximum(lower, start - radius)
    box_hi = np.minimum(upper, start + radius)
    scale = max(total, 1.0)

    def revenue(x: np.ndarray) -> float:
        return float(sum(float(np.asarray(curve(np.array([v])))[0]) for curve, v in zip(curves, x)))

    def objective(z: np.ndarray) -> float:
        return -revenue(z * scale) / scale

    def gradient(z: np.ndarray) -> np.ndarray:
        return -np.array([float(np.asarray(slope(np.array([v * scale])))[0]) for slope, v in zip(slopes, z)])

    feasible = np.clip(start, box_lo, box_hi)
    result = minimize(
        objective,
        feasible / scale,
        jac=lambda z: np.nan_to_num(gradient(z), posinf=1e6),
        method="SLSQP",
        bounds=list(zip(box_lo / scale, np.where(np.isinf(box_hi), None, box_hi / scale))),
        constraints=[{"type": "eq", "fun": lambda z: z.sum() - total / scale, "jac": np.ones_like}],
        options={"maxiter": 200, "ftol": 1e-12},
    )
    candidate = np.clip(result.x * scale, lower, upper)
    candidate += (total - candidate.sum()) / len(candidate)  # tiny equality drift
    if np.all(candidate >= lower - 1e-6) and np.all(candidate <= upper + 1e-6) and revenue(candidate) > revenue(start):
        return candidate
    return start


def optimum(curves: Sequence[Curve], slopes: Sequence[Curve], lower: np.ndarray, upper: np.ndarray, total: float) -> np.ndarray:
    """The global optimum (module docstring): exact grid DP, then a local polish."""
    grid = grid_optimum(curves, lower, upper, total)
    step = (total - lower.sum()) / GRID_STEPS
    return polish(curves, slopes, grid, lower, upper, total, radius=2 * step)
