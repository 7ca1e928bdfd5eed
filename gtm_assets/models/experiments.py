"""Creative A/B tests as Beta-Binomial experiments (numpy and scipy only).

Each variant's rate (clicks per impression, or conversions per click) gets a Beta(1 + successes,
1 + failures) posterior; its credible interval is equal-tailed, and the probability that it is the best
variant, P(best_i) = integral of f_i(x) * prod_{j != i} F_j(x) dx, is computed by quadrature on a grid
spanning every posterior (deterministic, no sampling). The stop rule declares a winner only when every
variant has at least the minimum sample and one variant's P(best) reaches the threshold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

GRID_POINTS = 2001


@dataclass(frozen=True)
class StopRule:
    min_sample: int = 1000  # trials (impressions for a click rate, clicks for a conversion rate) per variant
    p_best_threshold: float = 0.95


def probability_best(successes: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """P(each variant has the highest rate) under independent Beta(1 + s, 1 + n - s) posteriors."""
    a, b = 1.0 + successes, 1.0 + trials - successes
    lo = float(stats.beta.ppf(1e-6, a, b).min())
    hi = float(stats.beta.ppf(1 - 1e-6, a, b).max())
    x = np.linspace(lo, hi, GRID_POINTS)
    pdf = stats.beta.pdf(x[None, :], a[:, None], b[:, None])
    cdf = stats.beta.cdf(x[None, :], a[:, None], b[:, None])
    log_cdf = np.log(np.clip(cdf, 1e-300, None))
    others = np.exp(log_cdf.sum(axis=0)[None, :] - log_cdf)  # product of the other variants' CDFs
    p = np.trapezoid(pdf * others, x, axis=1)
    return p / p.sum()


def summarize(variants: pd.DataFrame, rule: StopRule, interval: float = 0.9) -> tuple[pd.DataFrame, str | None, str]:
    """``variants``: variant, successes, trials. Returns each variant's rate, interval and P(best), the
    winning variant (None while the rule does not hold) and the reason."""
    frame = variants.reset_index(drop=True).copy()
    s = frame["successes"].to_numpy(float)
    n = frame["trials"].to_numpy(float)
    if (s > n).any() or (s < 0).any():
        raise ValueError("successes must lie between 0 and the trials for every variant")
    a, b = 1.0 + s, 1.0 + n - s
    tail = (1 - interval) / 2
    frame["rate"] = np.divide(s, n, out=np.full(len(s), np.nan), where=n > 0)
    frame["rate_lo"], frame["rate_hi"] = stats.beta.ppf(tail, a, b), stats.beta.ppf(1 - tail, a, b)
    frame["p_best"] = probability_best(s, n) if len(frame) > 1 else 1.0
    short = frame.loc[frame["trials"] < rule.min_sample, "variant"].tolist()
    if short:
        return frame, None, f"collecting: variants {short} have fewer than {rule.min_sample} trials"
    top = frame["p_best"].idxmax()
    variant, p_best = frame.at[top, "variant"], float(frame.at[top, "p_best"])
    if p_best >= rule.p_best_threshold:
        return frame, variant, f"variant {variant} is best with probability {p_best:.3f}"
    return frame, None, f"no variant reaches P(best) {rule.p_best_threshold} (highest {p_best:.3f})"
