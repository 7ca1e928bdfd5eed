"""A world's expected revenue (noise-free) as a function of every channel's daily spend.

    E_t = b_t + scale_t * sum_c beta_c * s_c,t * interaction_c,t

b_t is the base (trend, seasons, weekdays, holidays and, in demand worlds, demand shocks), s_c,t the
channel's saturated carry-over of its spend (``simulate.curves``), beta_c its coefficient. Additive
worlds have scale_t = 1; multiplicative ones scale_t = b_t / BASELINE_LEVEL, so media lifts revenue
in proportion to the season. With a TV -> Search interaction, Search's term is multiplied by
(1 + g * s_TV,t): TV makes search ads work harder.

The same function gives the steady state of a constant daily spend (every channel's carry-over
settled), at a base level: the truth a budget plan is scored on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gtm_assets.simulate.curves import TrueCurve

INTERACTION = ("TV", "Search")  # (driver, driven)


@dataclass(frozen=True)
class Market:
    """The response side of a world: curves, coefficients and how they combine."""

    curves: Mapping[str, TrueCurve]
    coefficients: Mapping[str, float]
    base_level: float  # BASELINE_LEVEL: the base that multiplicative worlds' coefficients refer to
    multiplicative: bool = False
    interaction: float = 0.0

    @property
    def channels(self) -> list[str]:
        return list(self.curves)

    def _combine(self, saturated: Mapping[str, np.ndarray], base: np.ndarray, coefficients: Mapping[str, float]) -> np.ndarray:
        driver, driven = INTERACTION
        media = 0.0
        for channel, level in saturated.items():
            term = coefficients[channel] * level
            if channel == driven and self.interaction:
                term = term * (1.0 + self.interaction * saturated[driver])
            media = media + term
        scale = base / self.base_level if self.multiplicative else 1.0
        return base + scale * media

    def revenue(self, spend: Mapping[str, np.ndarray], base: np.ndarray, coefficients: Mapping[str, float] | None = None):
        """Expected revenue per day of daily spend series (per unit of market)."""
        saturated = {c: curve.series(spend[c]) for c, curve in self.curves.items()}
        return self._combine(saturated, np.asarray(base, dtype=float), coefficients or self.coefficients)

    def main_effect(self, channel: str, spend: Mapping[str, np.ndarray], base: np.ndarray) -> np.ndarray:
        """The channel's own term per unit of its coefficient (what its coefficient is calibrated on)."""
        unit = {c: (1.0 if c == channel else 0.0) for c in self.curves}
        without = {c: 0.0 for c in self.curves}
        return self.revenue(spend, base, unit) - self.revenue(spend, base, without)

    def steady_revenue(self, daily_spend: Mapping[str, float | np.ndarray], base_level: float):
        """Revenue per day at a constant daily spend per channel, carry-over settled, at a base level
        (arrays of spends broadcast against each other)."""
        saturated = {c: curve.steady(np.asarray(daily_spend.get(c, 0.0), dtype=float)) for c, curve in self.curves.items()}
        revenue = self._combine(saturated, np.asarray(base_level, dtype=float), self.coefficients)
        return float(revenue) if np.ndim(revenue) == 0 else revenue

    def steady_contribution(self, channel: str, daily_spend: Mapping[str, float], base_level: float) -> float:
        """What the channel adds at steady state: revenue with its spend minus with it at zero."""
        without = {**daily_spend, channel: 0.0}
        return self.steady_revenue(daily_spend, base_level) - self.steady_revenue(without, base_level)
