"""Is a channel's ROI identified by the data? Said out loud, with a code, the reason and what would fix it.

A channel is marked not identified when any of these holds (each adds its code, reason and fix):
- ``wide_interval``: its 90% ROI interval is wider than +-100% of its ROI (half-width > |ROI|);
- ``low_variation``: its weekly spend barely varies (coefficient of variation below MIN_SPEND_CV);
- ``collinear``: its weekly spend is collinear with the other channels' and the seasonal regressors
  (R² above MAX_COLLINEARITY_R2, i.e. a variance inflation factor above 4), naming the channel it moves with;
- ``no_zero_anchor``: its spend never drops near zero (its lowest week is above ZERO_ANCHOR_SHARE of
  its median week), so its ROI, which counts from zero spend, extrapolates the fitted curve below
  anything observed;
- ``experiment_disagrees``: a lift test of the channel and the model's prediction of that test's own
  counterfactual (its window, its withheld spend, carry-over included) are more than
  MAX_LIFT_DISAGREEMENT standard errors apart: data and experiment disagree, and both figures are named;
- ``confounded_by_demand``: its weekly spend follows demand. Of the spend's new variation each week
  (what its own previous week and the calendar do not predict), last week's revenue and the demand
  signal (this and last week's, when given) explain more than MAX_DEMAND_R2 (a partial R²): the
  budget is set from sales, so the data cannot tell the channel's effect from the demand that set it.

A lift test that measured the channel precisely (standard error within MAX_LIFT_RELATIVE_SE of the
larger of the measured and the modelled lift) and agrees with the model calibrates the channel: an
experiment is not fooled by collinear, flat, never-zero or demand-following spend, so those four
reasons do not apply to it, and it no longer counts as a partner in the others' collinearity (its
effect is pinned, so a channel that only moved with it can be told apart).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_RELATIVE_HALF_WIDTH = 1.0
MIN_SPEND_CV = 0.1
MAX_COLLINEARITY_R2 = 0.75
ZERO_ANCHOR_SHARE = 0.1
MAX_LIFT_RELATIVE_SE = 0.5
MAX_LIFT_DISAGREEMENT = 2.0
MAX_DEMAND_R2 = 0.3
MIN_PARTNER_CORRELATION = 0.7  # a collinear channel "moves with" its partner when their weekly spends correlate this much
CODES = ("wide_interval", "low_variation", "collinear", "no_zero_anchor", "experiment_disagrees", "confounded_by_demand")


def collinearity(
    spend: np.ndarray, base: np.ndarray, pinned: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per channel: R² of its weekly spend on the other channels' spend (leaving out the ``pinned``
    ones, whose effect a lift test fixes) and the base regressors, and the index of the other channel
    its spend correlates with most (-1 when there is none) with that correlation."""
    _n_weeks, n_channels = spend.shape
    pinned = np.zeros(n_channels, dtype=bool) if pinned is None else pinned
    r2, strength = np.zeros(n_channels), np.zeros(n_channels)
    partner = np.full(n_channels, -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(spend.T).reshape(n_channels, n_channels)
    for c in range(n_channels):
        competing = ~pinned
        competing[c] = False
        r2[c] = _r2(spend[:, c], np.column_stack([base, spend[:, competing]]))
        if competing.any():
            row = np.where(competing, np.abs(np.nan_to_num(corr[c])), -1.0)
            partner[c] = int(np.argmax(row))
            strength[c] = row[partner[c]]
    return r2, partner, strength


def _r2(target: np.ndarray, design: np.ndarray) -> float:
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    resid = target - design @ coef
    total = np.sum((target - target.mean()) ** 2)
    return float(1.0 - resid @ resid / total) if total > 0 else 0.0


def _residual_sum(target: np.ndarray, design: np.ndarray) -> float:
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    resid = target - design @ coef
    return float(resid @ resid)


def demand_dependence(spend: np.ndarray, calendar: np.ndarray, revenue: np.ndarray, demand: np.ndarray | None) -> np.ndarray:
    """Per channel: partial R² of last week's revenue and the demand signal (this and last week's)
    for the channel's weekly spend, beyond the calendar and the spend's own previous week."""
    signals = [revenue[:-1]] + ([] if demand is None else [demand[1:], demand[:-1]])
    out = np.zeros(spend.shape[1])
    for c in range(spend.shape[1]):
        target = spend[1:, c]
        known = np.column_stack([calendar[1:], spend[:-1, c]])
        before = _residual_sum(target, known)
        after = _residual_sum(target, np.column_stack([known, *signals]))
        out[c] = (before - after) / before if before > 0 else 0.0
    return out


def lift_agreement(labels, test_channel, measured, standard_error, modelled, names) -> pd.DataFrame:
    """One row per lift test: its channel and window, the measured and the modelled lift of its own
    counterfactual, their gap in standard errors (z) and whether they agree (|z| <= MAX_LIFT_DISAGREEMENT)."""
    z = (modelled - measured) / standard_error
    return pd.DataFrame(
        {
            "lift_test": list(labels),
            "channel": [names[c] for c in test_channel],
            "measured_lift": measured,
            "standard_error": standard_error,
            "modelled_lift": modelled,
            "z": z,
            "agrees": np.abs(z) <= MAX_LIFT_DISAGREEMENT,
            "informative": standard_error <= MAX_LIFT_RELATIVE_SE * np.maximum(np.abs(measured), np.abs(modelled)),
        }
    )


def identification(
    channels: pd.DataFrame,
    spend: np.ndarray,
    base: np.ndarray,
    tests: pd.DataFrame,
    demand_r2: np.ndarray | None = None,
) -> pd.DataFrame:
    """``identified``, ``identification_codes``, ``identification_reason`` and ``identification_fix``
    per channel, with ``spend_collinearity_r2``, ``moves_with`` (the channel a collinear channel's
    spend moves with, when their weekly spends correlate at least MIN_PARTNER_CORRELATION), ``demand_r2``
    and ``lift_test_z`` (the z of the channel's test furthest from the model; null without a test).

    ``channels`` has channel, roi, roi_lo, roi_hi and spend_cv in panel order; ``tests`` is
    ``lift_agreement``'s table; ``demand_r2`` is ``demand_dependence`` (zeros when not given).
    """
    names = channels["channel"].tolist()
    calibrated = np.array([bool((tests["channel"].eq(n) & tests["informative"] & tests["agrees"]).any()) for n in names])
    r2, partner, strength = collinearity(spend, base, calibrated)
    demand_r2 = np.zeros(len(names)) if demand_r2 is None else demand_r2
    median = np.median(spend, axis=0)
    lowest = spend.min(axis=0)
    rows = []
    for c, row in enumerate(channels.itertuples(index=False)):
        own = tests[tests["channel"] == names[c]]
        found: dict[str, tuple[str, str]] = {}
        half_width = (row.roi_hi - row.roi_lo) / 2
        if not half_width <= MAX_RELATIVE_HALF_WIDTH * abs(row.roi):
            found["wide_interval"] = (
                f"its 90% ROI interval [{row.roi_lo:.2f}, {row.roi_hi:.2f}] is wider than ±100% of its ROI {row.roi:.2f}",
                "more weeks with varied spend or a lift test",
            )
        if row.spend_cv < MIN_SPEND_CV and not calibrated[c]:
            found["low_variation"] = (
                f"its weekly spend barely varies (CV {row.spend_cv:.2f})",
                "vary its spend (pulse it, or pause it for a few weeks)",
            )
        if r2[c] > MAX_COLLINEARITY_R2 and not calibrated[c]:
            other = names[partner[c]] if partner[c] >= 0 else "the seasonal terms"
            found["collinear"] = (
                f"its spend moves with {other} and the rest of the plan (R² {r2[c]:.2f})",
                f"flight it at other times than {other}, or run a lift test on one of them",
            )
        if lowest[c] > ZERO_ANCHOR_SHARE * median[c] and not calibrated[c]:
            found["no_zero_anchor"] = (
                f"its spend never drops below {lowest[c] / median[c]:.0%} of a typical week, so its ROI "
                "extrapolates the curve to zero spend, and no lift test measured it to within half its size",
                "run a lift test (a geo holdout) or pause it for a few weeks",
            )
        clashes = own[~own["agrees"]]
        if len(clashes):
            worst = clashes.loc[clashes["z"].abs().idxmax()]
            found["experiment_disagrees"] = (
                f"data and experiment disagree: its lift test {worst.lift_test} measured {worst.measured_lift:,.0f} ± "
                f"{worst.standard_error:,.0f} where the model predicts {worst.modelled_lift:,.0f} ({worst.z:+.1f} standard errors)",
                "repeat the lift test, or check the spend data for the channel",
            )
        if demand_r2[c] > MAX_DEMAND_R2 and not calibrated[c]:
            found["confounded_by_demand"] = (
                f"its spend follows demand (last week's revenue and the demand signal explain {demand_r2[c]:.0%} of its "
                "week-to-week changes), so the data cannot tell its effect from the demand that set its budget",
                "run a lift test (a geo holdout): an experiment is not confounded by the budget rule",
            )
        rows.append(
            {
                "identified": not found,
                "identification_codes": ",".join(found),
                "identification_reason": "; ".join(reason for reason, _ in found.values())
                or ("calibrated by its lift test" if calibrated[c] else "identified by the data"),
                "identification_fix": "; ".join(dict.fromkeys(fix for _, fix in found.values())),
                "spend_collinearity_r2": float(r2[c]),
                "moves_with": names[partner[c]] if "collinear" in found and strength[c] >= MIN_PARTNER_CORRELATION else "",
                "demand_r2": float(demand_r2[c]),
                "lift_test_z": float(own.loc[own["z"].abs().idxmax(), "z"]) if len(own) else np.nan,
            }
        )
    return pd.DataFrame(rows, index=channels.index)
