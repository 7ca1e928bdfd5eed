"""Media response functions: carry-over (adstock), saturation, and a channel's expected and marginal
response at a constant spend.

One module for every user of a response curve: the simulator draws its worlds with these functions
(on days), the media-mix model fits them (on weeks), and the allocator and the what-if scenarios
evaluate the fitted curves. Time steps are whatever the series is in (days or weeks).

Adstock (carry-over of spend x_t into an "adstocked" level a_t):
- ``geometric``: a_t = x_t + decay * a_{t-1}; a constant spend x settles at x / (1 - decay).
- ``delayed``: a_t = sum_{l=0..max_lag} decay^((l - peak)^2) x_{t-l}, the effect peaking ``peak``
  steps after the spend; a constant spend settles at x * sum of the weights.

Saturation of an adstocked level a (0 at a = 0, tending to 1), each with its half-saturation K
(the level where it reaches 0.5):
- ``hill``: a^s / (a^s + K^s); shape s < 1 concave, s > 1 S-shaped.
- ``logistic``: (1 - e^(-lam a)) / (1 + e^(-lam a)) = tanh(lam a / 2) with lam = ln 3 / K
  (pymc-marketing's logistic saturation, reparameterised by its half-saturation); concave.
- ``michaelis_menten``: a / (a + K), a Hill curve of shape 1; concave.

A channel's response at a constant spend x is coefficient * saturation(steady-state adstock of x).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter
from scipy.special import expit

ADSTOCKS = ("geometric", "delayed")
SATURATIONS = ("hill", "logistic", "michaelis_menten")
LOG_3 = math.log(3.0)
# The delayed kernel's weights decay^((l - peak)^2) are cut where they fall below this.
DELAYED_WEIGHT_CUTOFF = 1e-6
MIN_DELAYED_DECAY = 1e-3


def geometric_adstock(x: np.ndarray, decay: float) -> np.ndarray:
    """Carry-over a_t = x_t + decay * a_{t-1}, starting from a_{-1} = 0."""
    return lfilter([1.0], [1.0, -decay], np.asarray(x, dtype=float))


def delayed_max_lag(decay: float, peak: float) -> int:
    """The last lag whose delayed weight is at least DELAYED_WEIGHT_CUTOFF."""
    log_decay = math.log(min(max(decay, MIN_DELAYED_DECAY), 1.0 - 1e-9))
    return int(math.ceil(peak + math.sqrt(math.log(DELAYED_WEIGHT_CUTOFF) / log_decay)))


def delayed_weights(decay: float, peak: float, max_lag: int | None = None) -> np.ndarray:
    """Weights decay^((l - peak)^2) for lags l = 0..max_lag (default: ``delayed_max_lag``)."""
    if max_lag is None:
        max_lag = delayed_max_lag(decay, peak)
    lags = np.arange(max_lag + 1, dtype=float)
    return np.exp((lags - peak) ** 2 * math.log(max(decay, MIN_DELAYED_DECAY)))


def delayed_adstock(x: np.ndarray, decay: float, peak: float, max_lag: int | None = None) -> np.ndarray:
    """Delayed carry-over a_t = sum_l decay^((l - peak)^2) x_{t-l} (spend before the series is 0)."""
    weights = delayed_weights(decay, peak, max_lag)
    x = np.asarray(x, dtype=float)
    return np.convolve(x, weights)[: len(x)]


def adstock(x: np.ndarray, kind: str, decay: float, peak: float = 0.0) -> np.ndarray:
    """Adstock of a spend series by ``kind`` (one of ADSTOCKS)."""
    if kind == "geometric":
        return geometric_adstock(x, decay)
    if kind == "delayed":
        return delayed_adstock(x, decay, peak)
    raise ValueError(f"unknown adstock {kind!r}; valid: {', '.join(ADSTOCKS)}")


def steady_state_multiplier(kind: str, decay: float, peak: float = 0.0) -> float:
    """Adstocked level per unit of a constant spend."""
    if kind == "geometric":
        return 1.0 / (1.0 - decay)
    if kind == "delayed":
        return float(delayed_weights(decay, peak).sum())
    raise ValueError(f"unknown adstock {kind!r}; valid: {', '.join(ADSTOCKS)}")


def hill(a: np.ndarray | float, half_saturation: float, shape: float) -> np.ndarray:
    """Hill saturation a^s / (a^s + K^s), computed stably in log space (0 at a = 0)."""
    with np.errstate(divide="ignore"):
        log_ratio = np.log(np.maximum(np.asarray(a, dtype=float), 0.0)) - np.log(half_saturation)
    return expit(shape * log_ratio)


def saturation(a: np.ndarray | float, family: str, half_saturation: float, shape: float = 1.0) -> np.ndarray:
    """Saturation of adstocked levels ``a`` by ``family`` (one of SATURATIONS); ``shape`` is Hill's."""
    a = np.asarray(a, dtype=float)
    if family == "hill":
        return hill(a, half_saturation, shape)
    if family == "michaelis_menten":
        return hill(a, half_saturation, 1.0)
    if family == "logistic":
        return np.tanh(0.5 * LOG_3 * a / half_saturation)
    raise ValueError(f"unknown saturation {family!r}; valid: {', '.join(SATURATIONS)}")


def saturation_slope(a: np.ndarray | float, family: str, half_saturation: float, shape: float = 1.0) -> np.ndarray:
    """d saturation / d a (the limit at a = 0: infinite for a Hill shape below 1, 0 above 1)."""
    a = np.asarray(a, dtype=float)
    if family == "logistic":
        rate = LOG_3 / half_saturation
        return 0.5 * rate * (1.0 - np.tanh(0.5 * rate * a) ** 2)
    s = shape if family == "hill" else 1.0
    h = hill(a, half_saturation, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = s * h * (1.0 - h) / a
    at_zero = np.inf if s < 1 else (1.0 / half_saturation if s == 1 else 0.0)
    return np.where(a > 0, slope, at_zero)


@dataclass(frozen=True)
class ChannelResponse:
    """A channel's response curve: coefficient * saturation(adstock(spend)).

    ``decay`` and ``peak`` are per time step of the series the curve was fitted on (a week for the
    MMM, a day for the simulator's truth); ``half_saturation`` is on the adstocked scale.
    """

    coefficient: float
    half_saturation: float
    shape: float = 1.0
    decay: float = 0.0
    saturation: str = "hill"
    adstock: str = "geometric"
    peak: float = 0.0

    @classmethod
    def from_row(cls, row: Mapping) -> ChannelResponse:
        """From a mapping with decay, half_saturation, shape, coefficient and optionally saturation,
        adstock and adstock_peak (a row of the mmm_model table; missing: Hill, geometric, no delay)."""

        def text(key: str, default: str) -> str:
            value = row.get(key, default) if hasattr(row, "get") else default
            return default if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)

        def number(key: str, default: float) -> float:
            value = row.get(key, default) if hasattr(row, "get") else default
            return default if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)

        return cls(
            coefficient=float(row["coefficient"]),
            half_saturation=float(row["half_saturation"]),
            shape=number("shape", 1.0),
            decay=float(row["decay"]),
            saturation=text("saturation", "hill"),
            adstock=text("adstock", "geometric"),
            peak=number("adstock_peak", 0.0),
        )

    def multiplier(self) -> float:
        return steady_state_multiplier(self.adstock, self.decay, self.peak)

    def expected(self, spend: np.ndarray | float) -> np.ndarray:
        """Steady-state response per time step at a constant spend per time step."""
        level = self.multiplier() * np.asarray(spend, dtype=float)
        return self.coefficient * saturation(level, self.saturation, self.half_saturation, self.shape)

    def marginal(self, spend: np.ndarray | float) -> np.ndarray:
        """d expected / d spend: the return of one more unit of spend at a constant spend."""
        m = self.multiplier()
        level = m * np.asarray(spend, dtype=float)
        if self.coefficient == 0:  # a curve with no effect has no slope (not 0 x the infinite slope at 0 of a concave Hill)
            return np.zeros_like(level)
        return self.coefficient * m * saturation_slope(level, self.saturation, self.half_saturation, self.shape)

    def series(self, spend: np.ndarray) -> np.ndarray:
        """Response over a spend series (carry-over from before the series is zero)."""
        level = adstock(spend, self.adstock, self.decay, self.peak)
        return self.coefficient * saturation(level, self.saturation, self.half_saturation, self.shape)


def expected_response(params_row: Mapping, weekly_spend: float) -> float:
    """Steady-state incremental response per time step of a channel at a constant spend.

    ``params_row`` is a row of the MMM's channel table (``ChannelResponse.from_row``).
    """
    return float(ChannelResponse.from_row(params_row).expected(weekly_spend))


def marginal_response(params_row: Mapping, weekly_spend: float) -> float:
    """d(expected_response)/d(spend) at a constant spend (revenue per extra unit spent)."""
    return float(ChannelResponse.from_row(params_row).marginal(weekly_spend))
