"""A brute-force optimum of a budget split, independent of the allocator's dynamic programming: every
allocation on a coarse grid is enumerated, and the best few are polished by an unrestricted local
search (SLSQP over the whole box). Used by the allocator tests as the best answer to compare with."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize


def brute_force_optimum(
    curves, lower: np.ndarray, upper: np.ndarray, total: float, steps: int = 24, polish: int = 12
) -> tuple[np.ndarray, float]:
    """(spend, revenue) maximising sum_c curves[c](x_c) with lower <= x <= upper and sum x = total."""
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    n = len(curves)
    free = total - lower.sum()
    step = free / steps
    room = np.minimum(np.floor((np.minimum(upper, total) - lower) / step + 1e-9), steps).astype(int)
    tables = [np.asarray(curve(lower[k] + step * np.arange(room[k] + 1)), float) for k, curve in enumerate(curves)]
    used = np.zeros(1, dtype=np.int32)
    value = np.zeros(1)
    picks = np.zeros((1, 0), dtype=np.int16)
    for k in range(n):
        if k == n - 1:  # the last channel takes what is left
            rest = steps - used
            ok = rest <= room[k]
            used, value, picks = used[ok], value[ok] + tables[k][rest[ok]], np.column_stack([picks[ok], rest[ok]])
            break
        options = np.arange(room[k] + 1)
        grown_used = (used[:, None] + options[None, :]).ravel()
        keep = grown_used <= steps
        value = (value[:, None] + tables[k][None, :]).ravel()[keep]
        picks = np.column_stack([np.repeat(picks, len(options), axis=0), np.tile(options, len(used))])[keep]
        used = grown_used[keep]
    best_rows = np.argsort(-value)[:polish]
    scale = max(total, 1.0)
    box = list(zip(lower / scale, np.where(np.isinf(upper), total, upper) / scale))

    def revenue(x: np.ndarray) -> float:
        return float(sum(float(np.asarray(curve(np.array([v])))[0]) for curve, v in zip(curves, x)))

    best_x, best_value = None, -np.inf
    for row in best_rows:
        start = lower + step * picks[row]
        result = minimize(
            lambda z: -revenue(z * scale) / scale,
            start / scale,
            method="SLSQP",
            bounds=box,
            constraints=[{"type": "eq", "fun": lambda z: z.sum() - total / scale}],
            options={"maxiter": 300, "ftol": 1e-12},
        )
        candidate = np.clip(result.x * scale, lower, upper)
        for x in (candidate, start):
            if abs(x.sum() - total) <= 1e-6 * scale and revenue(x) > best_value:
                best_x, best_value = x, revenue(x)
    return best_x, best_value
