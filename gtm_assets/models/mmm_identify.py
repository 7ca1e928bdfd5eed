"""Is a channel's ROI identified by the data? Said out loud, with the reason and what would fix it.

A channel is marked not identified when any of these holds (each adds its reason and its fix):
- its 90% ROI interval is wider than +-100% of its ROI (half-width > |ROI|);
- its weekly spend barely varies (coefficient of variation below MIN_SPEND_CV);
- its weekly spend is collinear with the other channels' and the seasonal regressors (R² above
  MAX_COLLINEARITY_R2, i.e. a variance inflation factor above 4), naming the channel it moves with;
- its spend never drops near zero (its lowest week is above ZERO_ANCHOR_SHARE of its median week),
  so its ROI, which counts from zero spend, extrapolates the fitted curve below anything observed,
  and no lift test measured it with a standard error below MAX_LIFT_RELATIVE_SE of the measured lift;
- a lift test of the channel disagrees with the fitted model by more than MAX_LIFT_DISAGREEMENT
  standard errors (the data and the experiment tell different stories; the model is wrong about it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_RELATIVE_HALF_WIDTH = 1.0
MIN_SPEND_CV = 0.1
MAX_COLLINEARITY_R2 = 0.75
ZERO_ANCHOR_SHARE = 0.1
MAX_LIFT_RELATIVE_SE = 0.5
MAX_LIFT_DISAGREEMENT = 2.5


def collinearity(spend: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel: R² of its weekly spend on the other channels' spend and the base regressors,
    and the index of the other channel its spend correlates with most (-1 with one channel)."""
    _n_weeks, n_channels = spend.shape
    r2 = np.zeros(n_channels)
    partner = np.full(n_channels, -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(spend.T).reshape(n_channels, n_channels)
    for c in range(n_channels):
        others = np.column_stack([base, np.delete(spend, c, axis=1)])
        target = spend[:, c]
        coef, *_ = np.linalg.lstsq(others, target, rcond=None)
        resid = target - others @ coef
        r2[c] = 1.0 - resid @ resid / np.sum((target - target.mean()) ** 2)
        if n_channels > 1:
            row = np.abs(np.nan_to_num(corr[c]))
            row[c] = -1.0
            partner[c] = int(np.argmax(row))
    return r2, partner


def identification(
    channels: pd.DataFrame,
    spend: np.ndarray,
    base: np.ndarray,
    test_channel: np.ndarray,
    measured: np.ndarray,
    standard_error: np.ndarray,
    modelled: np.ndarray,
) -> pd.DataFrame:
    """``identified``, ``identification_reason`` and ``identification_fix`` per channel.

    ``channels`` has channel, roi, roi_lo, roi_hi and spend_cv in panel order; the lift tests are
    given by their channel index, measured lift, standard error and the fitted model's lift.
    """
    names = channels["channel"].tolist()
    informative = np.bincount(test_channel[standard_error <= MAX_LIFT_RELATIVE_SE * np.abs(measured)], minlength=len(names))
    disagreement = np.abs(modelled - measured) / standard_error
    r2, partner = collinearity(spend, base)
    median = np.median(spend, axis=0)
    lowest = spend.min(axis=0)
    rows = []
    for c, row in enumerate(channels.itertuples(index=False)):
        reasons, fixes = [], []
        half_width = (row.roi_hi - row.roi_lo) / 2
        if not half_width <= MAX_RELATIVE_HALF_WIDTH * abs(row.roi):
            reasons.append(
                f"its 90% ROI interval [{row.roi_lo:.2f}, {row.roi_hi:.2f}] is wider than ±100% of its ROI {row.roi:.2f}"
            )
            fixes.append("more weeks with varied spend or a lift test")
        if row.spend_cv < MIN_SPEND_CV:
            reasons.append(f"its weekly spend barely varies (CV {row.spend_cv:.2f})")
            fixes.append("vary its spend (pulse it, or pause it for a few weeks)")
        if r2[c] > MAX_COLLINEARITY_R2:
            other = names[partner[c]] if partner[c] >= 0 else "the seasonal terms"
            reasons.append(f"its spend moves with {other} and the rest of the plan (R² {r2[c]:.2f})")
            fixes.append(f"flight it at other times than {other}, or run a lift test on one of them")
        if lowest[c] > ZERO_ANCHOR_SHARE * median[c] and informative[c] == 0:
            reasons.append(
                f"its spend never drops below {lowest[c] / median[c]:.0%} of a typical week, so its ROI "
                "extrapolates the curve to zero spend, and no lift test measured it to within half its size"
            )
            fixes.append("run a lift test (a geo holdout) or pause it for a few weeks")
        own = np.flatnonzero((test_channel == c) & (disagreement > MAX_LIFT_DISAGREEMENT))
        if len(own):
            j = own[np.argmax(disagreement[own])]
            reasons.append(
                f"its lift test measured {measured[j]:,.0f} ± {standard_error[j]:,.0f} where the model predicts "
                f"{modelled[j]:,.0f} ({disagreement[j]:.1f} standard errors apart)"
            )
            fixes.append("repeat the lift test, or check the spend data for the channel")
        rows.append(
            {
                "identified": not reasons,
                "identification_reason": "; ".join(reasons) if reasons else "identified by the data",
                "identification_fix": "; ".join(dict.fromkeys(fixes)),
                "spend_collinearity_r2": float(r2[c]),
            }
        )
    return pd.DataFrame(rows, index=channels.index)
