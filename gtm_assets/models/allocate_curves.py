"""Daily response curves of channels from the fitted media-mix model's tables: the point estimate
(mmm_model rows) and every bootstrap draw (mmm_bootstrap_draws rows), so that revenue intervals of
a budget come from the model's own draws, not from rescaling a point figure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gtm_assets.models.response import ChannelResponse

CURVE_COLUMNS = ["decay", "half_saturation", "shape", "coefficient"]
INTERVAL_PERCENTILES = (5.0, 95.0)
DEFAULT_STEP_DAYS = 7  # tables without time_step_days hold weekly curves


@dataclass(frozen=True)
class DailyCurve:
    """A fitted curve read per day: revenue per day at a constant daily spend."""

    response: ChannelResponse
    step_days: int

    @classmethod
    def from_row(cls, row: Mapping) -> DailyCurve:
        step = row.get("time_step_days", DEFAULT_STEP_DAYS) if hasattr(row, "get") else DEFAULT_STEP_DAYS
        step = DEFAULT_STEP_DAYS if step is None or pd.isna(step) else int(step)
        return cls(ChannelResponse.from_row(row), step)

    def revenue(self, daily_spend: np.ndarray | float) -> np.ndarray:
        return self.response.expected(np.asarray(daily_spend, dtype=float) * self.step_days) / self.step_days

    def marginal(self, daily_spend: np.ndarray | float) -> np.ndarray:
        return self.response.marginal(np.asarray(daily_spend, dtype=float) * self.step_days)


def curves_from_table(channels: list[str], mmm_channels: pd.DataFrame) -> list[DailyCurve]:
    """Point-estimate curves per channel from an MMM channel table (mmm_model rows)."""
    missing_cols = [c for c in ["channel", *CURVE_COLUMNS] if c not in mmm_channels.columns]
    if missing_cols:
        raise ValueError(f"mmm_channels lacks column(s): {', '.join(missing_cols)}")
    table = mmm_channels.set_index("channel")
    missing = [c for c in channels if c not in table.index]
    if missing:
        raise ValueError(f"mmm_channels has no parameters for: {', '.join(missing)}")
    return [DailyCurve.from_row(table.loc[c]) for c in channels]


def daily_revenue(curves: list[DailyCurve], spend: np.ndarray) -> np.ndarray:
    """Expected steady-state incremental revenue per day for daily spends, per channel."""
    return np.array([float(curve.revenue(x)) for curve, x in zip(curves, spend)])


def marginal_roi(curves: list[DailyCurve], spend: np.ndarray) -> np.ndarray:
    """Extra revenue per extra unit of daily spend at the given daily spends, per channel."""
    return np.array([float(curve.marginal(x)) for curve, x in zip(curves, spend)])


class DrawCurves:
    """Every bootstrap draw's daily curve per channel (mmm_bootstrap_draws rows)."""

    def __init__(self, draws: pd.DataFrame, channels: list[str]):
        missing = sorted(set(channels) - set(draws["channel"]))
        if missing:
            raise ValueError(f"bootstrap draws have no rows for: {', '.join(missing)}")
        ids = sorted(draws["draw"].unique())
        by_channel = {c: frame.set_index("draw").loc[ids] for c, frame in draws.groupby("channel")}
        self.channels = list(channels)
        self.curves = [[DailyCurve.from_row(row) for _, row in by_channel[c].iterrows()] for c in self.channels]
        self.n_draws = len(ids)

    def revenue(self, spends: np.ndarray) -> np.ndarray:
        """Daily revenue per draw, scenario and channel (draws x scenarios x channels) at each row of
        ``spends`` (scenarios x channels)."""
        spends = np.atleast_2d(np.asarray(spends, dtype=float))
        out = np.zeros((self.n_draws, spends.shape[0], len(self.channels)))
        for k, curves in enumerate(self.curves):
            for i, curve in enumerate(curves):
                out[i, :, k] = curve.revenue(spends[:, k])
        return out


def draw_revenue(draws: pd.DataFrame, channels: list[str], spends: np.ndarray) -> np.ndarray:
    """Daily revenue of every bootstrap draw (draws x scenarios x channels) at each row of
    ``spends`` (scenarios x channels): the draw's own curve per channel."""
    return DrawCurves(draws, channels).revenue(spends)


def interval(values: np.ndarray, point=None) -> tuple[np.ndarray, np.ndarray]:
    """The 90% percentile interval of draws (along the first axis), widened to include ``point``
    when given (a bootstrap whose draws sit on one side of the estimate says the estimate is biased
    that way; the interval then still holds the figure it is reported with, as the MMM's do)."""
    lo, hi = np.percentile(values, INTERVAL_PERCENTILES, axis=0)
    if point is not None:
        lo, hi = np.minimum(lo, point), np.maximum(hi, point)
    return lo, hi
