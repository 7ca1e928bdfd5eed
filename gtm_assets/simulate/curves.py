"""The simulator's own response curves: how a day's spend carries over and saturates in a world.

Written apart from the media-mix model's curves (``gtm_assets.models.response``) on purpose: a truth
built with the model's own code would let a model pass by mirroring its construction. Some of these
families are ones the model fits (geometric and Gaussian-delayed carry-over, Hill saturation); others
are not (a Weibull-shaped lag, exponential and log1p saturation).

Carry-over: a causal kernel w over lags 0..L applied to daily spend, level_t = sum_l w_l x_{t-l}:
- ``geometric``: w_l = decay^l (a constant spend x settles at x / (1 - decay));
- ``delayed``: w_l = decay^((l - peak)^2), the effect peaking ``peak`` days after the spend;
- ``weibull``: w_l proportional to the Weibull(shape k, scale lam) density at l + 1/2, normalised to
  sum to 1, so the effect builds up and peaks after lam ((k - 1) / k)^(1/k) days (one to three weeks
  in the out-of-family worlds) and a constant spend settles at x.
Saturation of a level a with half-saturation K (0 at a = 0):
- ``hill``: a^s / (a^s + K^s) (shape s; concave below 1, S-shaped above);
- ``exponential``: 1 - exp(-a / K) (reaches 1 - 1/e at K);
- ``log1p``: log(1 + a / K) (never saturates: each doubling of spend adds about the same).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

CARRY_OVERS = ("geometric", "delayed", "weibull")
SATURATIONS = ("hill", "exponential", "log1p")
KERNEL_TAIL = 1e-6  # lags whose weight falls below this share of the kernel's total are cut


def kernel(
    kind: str, decay: float = 0.0, peak: float = 0.0, weibull_shape: float = 2.0, weibull_scale: float = 7.0
) -> np.ndarray:
    """Carry-over weights for lags 0..L of a ``kind`` in CARRY_OVERS."""
    if kind == "geometric":
        if decay <= 0:
            return np.ones(1)
        lags = np.arange(int(math.ceil(math.log(KERNEL_TAIL) / math.log(decay))) + 1)
        return decay**lags
    if kind == "delayed":
        spread = math.sqrt(math.log(KERNEL_TAIL) / math.log(min(max(decay, 1e-3), 1 - 1e-9)))
        lags = np.arange(int(math.ceil(peak + spread)) + 1)
        return decay ** ((lags - peak) ** 2)
    if kind == "weibull":
        dist = stats.weibull_min(weibull_shape, scale=weibull_scale)
        lags = np.arange(int(math.ceil(dist.ppf(1 - KERNEL_TAIL))) + 1)
        weights = dist.pdf(lags + 0.5)
        return weights / weights.sum()
    raise ValueError(f"unknown carry-over {kind!r}; valid: {', '.join(CARRY_OVERS)}")


def weibull_scale_for_peak(shape: float, peak_days: float) -> float:
    """The Weibull scale whose density peaks at ``peak_days`` (shape > 1)."""
    return peak_days / ((shape - 1.0) / shape) ** (1.0 / shape)


def saturate(level: np.ndarray | float, family: str, half_saturation: float, shape: float = 1.0) -> np.ndarray:
    """Saturation of carried-over levels by ``family`` (SATURATIONS)."""
    a = np.maximum(np.asarray(level, dtype=float), 0.0) / half_saturation
    if family == "hill":
        with np.errstate(divide="ignore"):
            return 1.0 / (1.0 + np.exp(-shape * np.log(a)))
    if family == "exponential":
        return -np.expm1(-a)
    if family == "log1p":
        return np.log1p(a)
    raise ValueError(f"unknown saturation {family!r}; valid: {', '.join(SATURATIONS)}")


def saturation_slope(level: np.ndarray | float, family: str, half_saturation: float, shape: float = 1.0) -> np.ndarray:
    """d saturate / d level."""
    a = np.maximum(np.asarray(level, dtype=float), 0.0) / half_saturation
    if family == "hill":
        with np.errstate(divide="ignore", invalid="ignore"):
            h = 1.0 / (1.0 + np.exp(-shape * np.log(a)))
            slope = np.where(a > 0, shape * h * (1.0 - h) / np.where(a > 0, a, 1.0), 0.0 if shape > 1 else np.inf)
        return slope / half_saturation
    if family == "exponential":
        return np.exp(-a) / half_saturation
    if family == "log1p":
        return 1.0 / (1.0 + a) / half_saturation
    raise ValueError(f"unknown saturation {family!r}; valid: {', '.join(SATURATIONS)}")


@dataclass(frozen=True)
class TrueCurve:
    """One channel's true shape: carry-over kernel then saturation, before its coefficient."""

    carry_over: str
    saturation: str
    half_saturation: float
    shape: float = 1.0
    decay: float = 0.0
    peak_days: float = 0.0
    weibull_shape: float = 2.0
    weibull_scale: float = 7.0

    def weights(self) -> np.ndarray:
        return kernel(self.carry_over, self.decay, self.peak_days, self.weibull_shape, self.weibull_scale)

    def level(self, spend: np.ndarray) -> np.ndarray:
        """Carried-over level of a daily spend series (spend before the series is zero)."""
        x = np.asarray(spend, dtype=float)
        return np.convolve(x, self.weights())[: len(x)]

    def steady_level(self, daily_spend: np.ndarray | float) -> np.ndarray:
        return float(self.weights().sum()) * np.asarray(daily_spend, dtype=float)

    def series(self, spend: np.ndarray) -> np.ndarray:
        """Saturated level per day of a spend series (the response before the coefficient)."""
        return saturate(self.level(spend), self.saturation, self.half_saturation, self.shape)

    def steady(self, daily_spend: np.ndarray | float) -> np.ndarray:
        """Saturated level at a constant daily spend, once the carry-over has settled."""
        return saturate(self.steady_level(daily_spend), self.saturation, self.half_saturation, self.shape)

    def steady_slope(self, daily_spend: np.ndarray | float) -> np.ndarray:
        """d steady / d daily spend."""
        total = float(self.weights().sum())
        return total * saturation_slope(self.steady_level(daily_spend), self.saturation, self.half_saturation, self.shape)
