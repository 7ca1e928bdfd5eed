"""The MMM's media features: each channel's adstock + saturation, with their derivatives with
respect to the transform parameters, and the weak priors on those parameters.

Features are computed at the finest resolution the spend is known at (a time step of a day when
daily spend is given, else a week) and summed into the panel's weeks, so flights that start or stop
mid-week and short bursts are saturated as they were spent, not as a weekly average.

A channel's ``ChannelSpec`` names its adstock (geometric or delayed, gtm_assets.models.response) and
its saturation family (Hill, logistic, Michaelis-Menten). Its parameters, each searched on [0, 1]
and mapped linearly onto its box (``BOUNDS``, per time step): decay; for delayed adstock the peak lag;
the log of the half-saturation relative to the channel's mean spend per step with spend (``log_k``);
for Hill the log of the shape. The adstock fed to the saturation is divided by the kernel's
steady-state multiplier and by that mean spend, so a constant spend x has level x / mean spend
whatever the decay.

Regularization (weak, and the same for every data set; nothing here knows how a simulator builds its
worlds): the boxes below, and Gaussian priors log_k ~ N(0, LOG_K_PRIOR_SD) (half-saturated somewhere
around typical spend, within a factor e per standard deviation) and log shape ~ N(0, LOG_SHAPE_PRIOR_SD)
(centred on the Michaelis-Menten curve, neither concave nor S-shaped). Decay and peak are flat in
their boxes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter
from scipy.special import expit

from gtm_assets.models.response import DELAYED_WEIGHT_CUTOFF, LOG_3, ChannelResponse

# Boxes per time step (days per step -> parameter -> bounds). The weekly and daily boxes allow the
# same carry-over (a geometric half-life of up to about 6.6 weeks; a delayed peak up to 4 weeks: TV and video
# campaigns can build their effect over weeks).
BOUNDS = {
    7: {"geometric_decay": (0.0, 0.9), "delayed_decay": (0.05, 0.9), "peak": (0.0, 4.0)},
    1: {"geometric_decay": (0.0, 0.9 ** (1 / 7)), "delayed_decay": (0.05, 0.95), "peak": (0.0, 28.0)},
}
RELATIVE_K_BOUNDS = (0.05, 20.0)  # half-saturation / mean spend per step with spend
SHAPE_BOUNDS = (0.5, 4.0)
LOG_K_PRIOR_SD = 1.0
LOG_SHAPE_PRIOR_SD = 0.5


def delayed_lags(step_days: int) -> int:
    """Lags of the delayed kernel: enough for the largest peak and decay in the step's box."""
    box = BOUNDS[step_days]
    return int(math.ceil(box["peak"][1] + math.sqrt(math.log(DELAYED_WEIGHT_CUTOFF) / math.log(box["delayed_decay"][1]))))


@dataclass(frozen=True)
class ChannelSpec:
    """How one channel's spend becomes its media feature."""

    adstock: str = "geometric"
    saturation: str = "hill"

    def params(self) -> list[str]:
        names = ["decay"] + (["peak"] if self.adstock == "delayed" else []) + ["log_k"]
        return names + (["log_shape"] if self.saturation == "hill" else [])

    @property
    def n_params(self) -> int:
        return len(self.params())

    def label(self) -> str:
        return f"{self.adstock} + {self.saturation}"


def _causal_convolve(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """sum_l weights[l] * x[t - l] per column of ``x`` (steps x series), zero before the start."""
    n = x.shape[0]
    return np.column_stack([np.convolve(column, weights)[:n] for column in x.T])


def _bounds(spec: ChannelSpec, name: str, step_days: int) -> tuple[float, float]:
    if name == "decay":
        return BOUNDS[step_days][f"{spec.adstock}_decay"]
    if name == "peak":
        return BOUNDS[step_days]["peak"]
    if name == "log_k":
        return math.log(RELATIVE_K_BOUNDS[0]), math.log(RELATIVE_K_BOUNDS[1])
    return math.log(SHAPE_BOUNDS[0]), math.log(SHAPE_BOUNDS[1])


class Transforms:
    """Media features of every channel for a vector of unit-cube parameters (``specs`` in order).

    ``spend`` is per time step of ``step_days`` days (1 or 7); its first ``warmup`` steps come before
    the panel (they only feed the adstock), the rest are the panel's weeks (7 / step_days steps each).
    """

    def __init__(self, spend: np.ndarray, specs: list[ChannelSpec], step_days: int = 7, warmup: int = 0):
        if step_days not in BOUNDS:
            raise ValueError(f"step_days must be one of {sorted(BOUNDS)}, got {step_days}")
        self.spend = spend
        self.specs = list(specs)
        self.step_days, self.warmup = step_days, warmup
        self.steps_per_week = 7 // step_days
        self.n_weeks = (spend.shape[0] - warmup) // self.steps_per_week
        self.n_channels = spend.shape[1]
        panel_spend = spend[warmup:]
        self.scale = np.array([s[s > 0].mean() for s in panel_spend.T])
        self.lags = delayed_lags(step_days)
        sizes = [spec.n_params for spec in self.specs]
        self.offsets = np.r_[0, np.cumsum(sizes)].astype(int)
        self.n_params = int(self.offsets[-1])
        bounds = [_bounds(spec, n, step_days) for spec in self.specs for n in spec.params()]
        self.lower = np.array([lo for lo, _ in bounds])
        self.width = np.array([hi - lo for lo, hi in bounds])
        self.param_channel = np.repeat(np.arange(self.n_channels), sizes)

    def to_weeks(self, values: np.ndarray) -> np.ndarray:
        """Sum per-step values (steps first) into the panel's weeks, dropping the warm-up steps."""
        panel = values[self.warmup :]
        return panel.reshape(self.n_weeks, self.steps_per_week, *panel.shape[1:]).sum(axis=1)

    def channel_params(self, theta: np.ndarray, c: int) -> dict[str, float]:
        """Natural parameters of channel ``c``."""
        spec = self.specs[c]
        lo, hi = self.offsets[c], self.offsets[c + 1]
        values = self.lower[lo:hi] + np.clip(theta[lo:hi], 0.0, 1.0) * self.width[lo:hi]
        params = dict(zip(spec.params(), values))
        params.setdefault("peak", 0.0)
        params.setdefault("log_shape", 0.0)
        return params

    def response(self, theta: np.ndarray, c: int, coefficient: float) -> ChannelResponse:
        """Channel ``c``'s fitted curve per week on the spend scale (gtm_assets.models.response)."""
        spec, p = self.specs[c], self.channel_params(theta, c)
        curve = ChannelResponse(coefficient, 1.0, math.exp(p["log_shape"]), p["decay"], spec.saturation, spec.adstock, p["peak"])
        half_saturation = math.exp(p["log_k"]) * self.scale[c] * curve.multiplier()
        return ChannelResponse(coefficient, half_saturation, curve.shape, curve.decay, spec.saturation, spec.adstock, curve.peak)

    def _adstock(self, x: np.ndarray, spec: ChannelSpec, p: dict, derivatives: bool):
        """Normalised adstock levels of spend series ``x`` (weeks x series; adstock / steady-state
        multiplier) and d log(level) / d (decay[, peak]) (weeks x series x params) where positive."""
        if spec.adstock == "geometric":
            d = p["decay"]
            stock = lfilter([1.0], [1.0, -d], x, axis=0)
            level = (1.0 - d) * stock
            if not derivatives:
                return level, None
            lagged = np.vstack([np.zeros((1, x.shape[1])), stock[:-1]])
            d_stock = lfilter([1.0], [1.0, -d], lagged, axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                d_log = d_stock / stock - 1.0 / (1.0 - d)
            return level, d_log[:, :, None]
        d, peak = max(p["decay"], 1e-9), p["peak"]
        lags = np.arange(self.lags + 1, dtype=float)
        log_d = math.log(d)
        weights = np.exp((lags - peak) ** 2 * log_d)
        total = weights.sum()
        stock = _causal_convolve(x, weights)
        level = stock / total
        if not derivatives:
            return level, None
        d_weights = (weights * (lags - peak) ** 2 / d, -2.0 * weights * (lags - peak) * log_d)
        with np.errstate(divide="ignore", invalid="ignore"):
            d_log = np.stack([_causal_convolve(x, dw) / stock - dw.sum() / total for dw in d_weights], axis=2)
        return level, d_log

    def channel_feature(self, x: np.ndarray, c: int, theta: np.ndarray, derivatives: bool = False):
        """Features of channel ``c`` for spend series ``x`` (weeks x series) and, if asked, their
        derivatives with respect to the channel's unit-cube parameters (weeks x series x params)."""
        spec, p = self.specs[c], self.channel_params(theta, c)
        level, d_log_level = self._adstock(x, spec, p, derivatives)
        level = level / self.scale[c]
        positive = level > 0
        with np.errstate(divide="ignore"):
            log_level = np.where(positive, np.log(np.where(positive, level, 1.0)), -np.inf)
        log_k, shape = p["log_k"], math.exp(p["log_shape"]) if spec.saturation == "hill" else 1.0
        if spec.saturation == "logistic":
            u = 0.5 * LOG_3 * np.exp(log_level - log_k)
            feature = np.tanh(u)
            slope = (1.0 - feature**2) * u  # d feature / d log level
        else:
            feature = expit(shape * (log_level - log_k))
            slope = shape * feature * (1.0 - feature)
        if not derivatives:
            return feature
        widths = self.width[self.offsets[c] : self.offsets[c + 1]]
        jac = np.zeros((*x.shape, spec.n_params))
        n_adstock = d_log_level.shape[2]
        jac[:, :, :n_adstock] = np.where(positive[:, :, None], slope[:, :, None] * np.nan_to_num(d_log_level), 0.0)
        jac[:, :, n_adstock] = -slope  # log_k
        if spec.saturation == "hill":
            log_ratio = np.where(positive, log_level - log_k, 0.0)
            jac[:, :, n_adstock + 1] = np.where(positive, slope * log_ratio, 0.0)
        return feature, jac * widths

    def prior_terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Parameter index, prior SD and prior centre (natural units) of each Gaussian prior."""
        index, sd = [], []
        for c, spec in enumerate(self.specs):
            for k, name in enumerate(spec.params()):
                if name in ("log_k", "log_shape"):
                    index.append(self.offsets[c] + k)
                    sd.append(LOG_K_PRIOR_SD if name == "log_k" else LOG_SHAPE_PRIOR_SD)
        return np.array(index, dtype=int), np.array(sd), np.zeros(len(index))

    def prior_residuals(self, theta: np.ndarray, shift: np.ndarray) -> np.ndarray:
        """Standardised deviations from the prior centres, shifted by ``shift`` SDs (bootstrap)."""
        index, sd, centre = self.prior_terms()
        natural = self.lower[index] + np.clip(theta[index], 0.0, 1.0) * self.width[index]
        return (natural - centre) / sd - shift

    def prior_jacobian(self) -> np.ndarray:
        index, sd, _ = self.prior_terms()
        jac = np.zeros((len(index), self.n_params))
        jac[np.arange(len(index)), index] = self.width[index] / sd
        return jac

    def prior_centre(self) -> np.ndarray:
        """Unit-cube start at the prior centres (decay mid-box, peak a week after the spend)."""
        theta = np.full(self.n_params, 0.5)
        for c, spec in enumerate(self.specs):
            for k, name in enumerate(spec.params()):
                i = self.offsets[c] + k
                if name in ("log_k", "log_shape"):
                    theta[i] = -self.lower[i] / self.width[i]
                elif name == "peak":
                    theta[i] = (7.0 / self.step_days - self.lower[i]) / self.width[i]
        return theta

    def convert(self, theta: np.ndarray, other: Transforms) -> np.ndarray:
        """``theta`` of ``other`` (the same channels, other specs) mapped onto this layout: shared
        parameters keep their natural values; new ones start at their prior centre."""
        out = self.prior_centre()
        for c, spec in enumerate(self.specs):
            source = other.channel_params(theta, c)
            for k, name in enumerate(spec.params()):
                if name in other.specs[c].params():
                    i = self.offsets[c] + k
                    value = source[name]
                    out[i] = float(np.clip((value - self.lower[i]) / self.width[i], 0.0, 1.0))
        return out
