"""Daily budget allocation across channels under guardrails.

Methods: ``mmm_optimal`` maximises the MMM's expected steady-state incremental revenue per day
(the global optimum under the guardrails, robust to S-shaped curves: exact dynamic programming over
a spend grid, then a local polish, ``allocate_optimum``) and moves a channel only where the move
is robust in the model's bootstrap draws (``allocate_robust``: every row says
``confident`` or why it holds); ``inverse_cpa`` splits the budget in proportion to 1/CPA and
``uniform`` splits it equally; the last two are then fitted into the guardrail bounds. Every method
returns spends that respect each channel's bounds and sum to the total budget within one cent.
Expected revenue intervals come from the model's bootstrap draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from gtm_assets.models.allocate_curves import (
    DrawCurves,
    curves_from_table,
    daily_revenue,
    interval,
    marginal_roi,
)
from gtm_assets.models.allocate_robust import CONFIDENT, ROBUST_SHARE, Decision, flagged, point_plan, robust_plan

METHODS = ("mmm_optimal", "inverse_cpa", "uniform")
CENT = 0.01
BIND_TOLERANCE = CENT + 1e-6  # a bound "binds" when the cent-rounded spend is within a cent of it
OUTPUT_COLUMNS = [
    "channel", "current_spend", "recommended_spend", "change_pct",
    "expected_incremental_revenue", "expected_incremental_revenue_lo", "expected_incremental_revenue_hi",
    "marginal_roi", "method", "decision", "decision_reason", "gain_robustness", "guardrails_hit", "rationale",
    "unconstrained_spend", "guardrail_cost", "excluded_reason",
]  # fmt: skip


class InfeasibleGuardrails(ValueError):
    """No allocation can satisfy the guardrails and the total budget at once."""


@dataclass
class Guardrails:
    """Budget guardrails; money amounts are daily spend in the budget's currency.

    ``max_daily_change_pct`` is a fraction (0.25 = at most 25% up or down from the base spend, the
    ``current`` figure given to ``allocate``; ``base_label`` says what that is, e.g. "the 28-day
    average") and applies to every channel: a channel whose base is zero (dormant over the whole
    window, e.g. TV between flight plans) stays at zero, since restarting it is a media-plan decision,
    not a daily move; ``None`` turns the cap off, and then a dormant channel may start at any level
    (a floor starts it at that level). ``min_learning_spend`` (one amount for every channel, or a
    per-channel dict) applies only to channels with a positive base, so they keep enough budget to
    stay out of a platform learning phase.
    """

    total_daily_budget: float
    floors: dict[str, float] = field(default_factory=dict)
    ceilings: dict[str, float] = field(default_factory=dict)
    max_daily_change_pct: float | None = None
    min_learning_spend: float | dict[str, float] = 0.0
    base_label: str = "current spend"


# ----------------------------------------------------------------------------------------------
# Bounds
# ----------------------------------------------------------------------------------------------

_LOWER_SOURCES = {
    "floor": "floors",
    "min_learning": "minimum learning spends",
    "volatility_cap": "volatility-cap minimums",
}
_UPPER_SOURCES = {"ceiling": "ceilings", "volatility_cap": "volatility-cap maximums"}


def _bounds(channels: list[str], current: dict[str, float], guardrails: Guardrails) -> pd.DataFrame:
    """Per-channel bound components and the effective lower/upper bounds (the volatility cap and
    the learning spend apply as ``Guardrails`` says)."""
    cap = guardrails.max_daily_change_pct
    rows = []
    for channel in channels:
        spend = current[channel]
        learning = guardrails.min_learning_spend
        if isinstance(learning, Mapping):
            learning = learning.get(channel, 0.0)
        capped = cap is not None
        rows.append(
            {
                "channel": channel,
                "floor": guardrails.floors.get(channel, 0.0),
                "min_learning": learning if spend > 0 else 0.0,
                "cap_low": spend * (1 - cap) if capped else 0.0,
                "ceiling": guardrails.ceilings.get(channel, math.inf),
                "cap_high": spend * (1 + cap) if capped else math.inf,
            }
        )
    bounds = pd.DataFrame(rows).set_index("channel")
    bounds["lower"] = bounds[["floor", "min_learning", "cap_low"]].max(axis=1)
    bounds["upper"] = bounds[["ceiling", "cap_high"]].min(axis=1)
    bounds["lower_source"] = bounds[["floor", "min_learning", "cap_low"]].idxmax(axis=1).replace({"cap_low": "volatility_cap"})
    bounds["upper_source"] = bounds[["ceiling", "cap_high"]].idxmin(axis=1).replace({"cap_high": "volatility_cap"})
    return bounds


def guardrail_bounds(channels: list[str], current: dict[str, float], guardrails: Guardrails) -> tuple[dict, dict]:
    """Each channel's lower and upper daily spend under the guardrails (``current`` is the base)."""
    bounds = _bounds(list(channels), {c: float(current.get(c, 0.0)) for c in channels}, guardrails)
    return bounds["lower"].to_dict(), bounds["upper"].to_dict()


def _bound_sum_error(bounds: pd.DataFrame, side: str, relation: str, total: float) -> InfeasibleGuardrails:
    """Error naming which guardrails make the lower or upper bounds miss the total budget."""
    labels = _LOWER_SOURCES if side == "lower" else _UPPER_SOURCES
    binding = bounds[bounds[side] > 0]
    sources = list(dict.fromkeys(binding[f"{side}_source"]))
    if len(sources) == 1:
        label = labels[sources[0]]
        listed = ", ".join(f"{c} {v:,.2f}" for c, v in binding[side].items())
    else:
        label = f"{side} bounds ({', '.join(labels[s] for s in sources)})"
        listed = ", ".join(f"{c} {r[side]:,.2f} [{r[f'{side}_source']}]" for c, r in binding.iterrows())
    return InfeasibleGuardrails(
        f"{label} sum to {bounds[side].sum():,.2f} {relation} total budget {total:,.2f} (channels: {listed})"
    )


def _check_feasible(bounds: pd.DataFrame, total: float) -> None:
    """Raise ``InfeasibleGuardrails`` naming the constraint and figures that cannot be met."""
    crossed = bounds[bounds["lower"] > bounds["upper"] + 1e-9]
    if not crossed.empty:
        channel, row = next(iter(crossed.iterrows()))
        raise InfeasibleGuardrails(
            f"channel {channel}: lower bound {row['lower']:,.2f} ({row['lower_source']}) exceeds "
            f"upper bound {row['upper']:,.2f} ({row['upper_source']})"
        )
    if bounds["lower"].sum() > total + 1e-9:
        raise _bound_sum_error(bounds, "lower", ">", total)
    if bounds["upper"].sum() < total - 1e-9:
        raise _bound_sum_error(bounds, "upper", "<", total)


def _fit_to_bounds(weights: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: float) -> np.ndarray:
    """Scale non-negative weights by one factor s so that sum(clip(s * w, lower, upper)) = total.

    Channels inside their bounds keep their relative weights; the others sit at a bound. A tiny
    weight is added everywhere so zero-weight channels can absorb budget if nothing else can.
    """
    weights = weights + 1e-12 * max(weights.sum(), 1.0)

    def excess(scale: float) -> float:
        return float(np.clip(scale * weights, lower, upper).sum() - total)

    if excess(0.0) >= 0:
        return lower.copy()
    if upper.sum() <= total:
        return upper.copy()
    high = total / max(weights.sum(), 1e-12)
    while excess(high) < 0:
        high *= 2.0
    return np.clip(brentq(excess, 0.0, high, xtol=1e-12, rtol=1e-15) * weights, lower, upper)


def _round_to_cents(spend: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: float) -> np.ndarray:
    """Round to cents inside the bounds; put the rounding remainder on the largest row with room."""
    low_cents = np.ceil(np.round(lower / CENT, 6)) * CENT
    high_cents = np.floor(np.round(np.minimum(upper, 1e15) / CENT, 6)) * CENT
    rounded = np.clip(np.round(spend, 2), low_cents, high_cents)
    remainder = round(round(total, 2) - rounded.sum(), 2)
    for i in np.argsort(-rounded, kind="stable"):
        if abs(remainder) < CENT / 2:
            break
        room = high_cents[i] - rounded[i] if remainder > 0 else low_cents[i] - rounded[i]
        step = min(remainder, room) if remainder > 0 else max(remainder, room)
        rounded[i] = round(rounded[i] + step, 2)
        remainder = round(remainder - step, 2)
    return rounded


# ----------------------------------------------------------------------------------------------
# Methods
# ----------------------------------------------------------------------------------------------


def _cpa_weights(channels: list[str], cpa: Mapping[str, float]) -> tuple[np.ndarray, dict[str, str]]:
    """1/CPA per channel; channels whose CPA is missing, zero, negative or not finite (no tracked
    conversions, or no spend, in the CPA window) get weight 0 and a note: they are excluded from the
    1/CPA split and kept at their lower bound."""
    weights, excluded = [], {}
    for channel in channels:
        value = cpa.get(channel, math.nan)
        if value is None or not 0 < value < math.inf:
            weights.append(0.0)
            excluded[channel] = "no tracked conversions (CPA undefined): excluded from the 1/CPA split"
        else:
            weights.append(1.0 / value)
    if not any(weights):
        raise ValueError("inverse_cpa needs at least one channel with a positive, finite CPA; none has one")
    return np.array(weights), excluded


# ----------------------------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------------------------


def _guardrails_hit(bounds: pd.DataFrame, channel: str, spend: float, guardrails: Guardrails) -> list[str]:
    """Names of the guardrails that bind for a channel at its recommended (cent-rounded) spend."""
    row = bounds.loc[channel]

    def near(a: float, b: float) -> bool:
        return abs(a - b) <= BIND_TOLERANCE

    at_lower, at_upper = near(spend, row["lower"]), near(spend, row["upper"])
    hits = []
    if at_lower and channel in guardrails.floors and near(row["floor"], row["lower"]):
        hits.append("floor")
    if at_upper and channel in guardrails.ceilings and near(row["ceiling"], row["upper"]):
        hits.append("ceiling")
    if (at_lower and row["cap_low"] > 0 and near(row["cap_low"], row["lower"])) or (
        at_upper and near(row["cap_high"], row["upper"])
    ):
        hits.append("volatility_cap")
    if at_lower and row["min_learning"] > 0 and near(row["min_learning"], row["lower"]):
        hits.append("min_learning")
    return hits


def _move(row: dict) -> str:
    """The recommended change in words, e.g. 'Increase tv from 5,000.00 to 6,000.00 per day (+20.0%)'."""
    channel, current, recommended = row["channel"], row["current_spend"], row["recommended_spend"]
    if recommended < CENT:
        return f"Stop {channel} (was {current:,.2f} per day)" if current > 0 else f"Keep {channel} off"
    if current == 0:
        return f"Start {channel} at {recommended:,.2f} per day"
    if abs(recommended - current) < CENT:
        return f"Keep {channel} at {recommended:,.2f} per day"
    verb = "Increase" if recommended > current else "Decrease"
    return f"{verb} {channel} from {current:,.2f} to {recommended:,.2f} per day ({row['change_pct']:+.1%})"


def _mmm_reason(row: dict, held: bool, free: bool, common_marginal_roi: float) -> str:
    """Why the MMM optimum puts this spend here (``held``: a guardrail binds; ``free``: no bound)."""
    if row["recommended_spend"] < CENT and not held:
        elsewhere = f"the {common_marginal_roi:.2f}" if math.isfinite(common_marginal_roi) else "what is"
        return (
            f"no spend level earns it more than {elsewhere} marginal ROI of the channels that get budget "
            f"(its marginal ROI at zero spend is {row['marginal_roi']:.2f})"
        )
    reason = (
        f"the MMM expects {row['expected_incremental_revenue']:,.2f} incremental revenue per day "
        f"at a marginal ROI of {row['marginal_roi']:.2f}"
    )
    return reason + ", where the unconstrained channels' marginal ROIs meet" if free else reason


def _rationale(row: dict, reason: str, hits: list[str], guardrails: Guardrails) -> str:
    """One readable sentence: the move, the method's reason and the binding guardrails."""
    channel = row["channel"]
    limits = {
        "floor": f"floor of {guardrails.floors.get(channel, 0.0):,.2f}",
        "ceiling": f"ceiling of {guardrails.ceilings.get(channel, math.inf):,.2f}",
        "volatility_cap": f"volatility cap of ±{(guardrails.max_daily_change_pct or 0):.0%} vs {guardrails.base_label}",
        "min_learning": "minimum learning spend",
    }
    held = f"; held at the {' and '.join(limits[h] for h in hits)}" if hits else ""
    return f"{_move(row)}: {reason}{held}."


# ----------------------------------------------------------------------------------------------
# Plans
# ----------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """A method's spend per channel (before rounding) and what it says about each channel."""

    spend: np.ndarray
    decisions: list[Decision] | None = None
    unconstrained: np.ndarray | None = None
    guardrail_cost: float = math.nan
    excluded: dict[str, str] = field(default_factory=dict)
    target_share: np.ndarray | None = None
    robustness: float = math.nan  # share of draws in which the whole plan beats the base


def _mmm_plan(channels, current, bounds, total, mmm_channels, curves, draws, share) -> _Plan:
    """``mmm_optimal``: the point estimate's plan with every move tested on the draws (or, without
    draws, its optimum with the flagged channels held), and the unconstrained optimum of the point
    estimate (flagged channels held)."""
    base = np.array([current[c] for c in channels])
    lower, upper = bounds["lower"].to_numpy(), bounds["upper"].to_numpy()
    flags = flagged(mmm_channels, channels, base)
    free_lower, free_upper = np.zeros(len(channels)), np.full(len(channels), total)
    revenue, slopes = [c.revenue for c in curves], [c.marginal for c in curves]
    unconstrained = point_plan(revenue, slopes, base, free_lower, free_upper, total, flags)[0]
    if draws is not None and len(draws):
        surface = DrawCurves(draws, channels)
        spend, decisions = robust_plan(revenue, slopes, surface, base, lower, upper, total, flags, share, channels)
        per_draw = surface.revenue(np.vstack([spend, base])).sum(axis=2)
        robustness = float(np.mean(per_draw[:, 0] > per_draw[:, 1]))
    else:
        spend, decisions = point_plan(revenue, slopes, base, lower, upper, total, flags)
        robustness = math.nan
    cost = float(daily_revenue(curves, unconstrained).sum() - daily_revenue(curves, spend).sum())
    return _Plan(spend, decisions, unconstrained, max(cost, 0.0), robustness=robustness)


def _split_plan(method, channels, bounds, total, cpa) -> _Plan:
    """``inverse_cpa`` or ``uniform``: weights fitted into the bounds."""
    excluded = {}
    if method == "inverse_cpa":
        if cpa is None:
            raise ValueError("method 'inverse_cpa' needs cpa")
        weights, excluded = _cpa_weights(channels, cpa)
    else:
        weights = np.ones(len(channels))
    spend = _fit_to_bounds(weights, bounds["lower"].to_numpy(), bounds["upper"].to_numpy(), total)
    return _Plan(spend, excluded=excluded, target_share=weights / weights.sum())


def _check_arguments(method, channels, current, guardrails) -> tuple[list[str], dict[str, float], float]:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid methods: {', '.join(METHODS)}")
    channels = list(channels)
    if not channels or len(set(channels)) != len(channels):
        raise ValueError("channels must be a non-empty list of distinct names")
    total = float(guardrails.total_daily_budget)
    if not total > 0:
        raise ValueError(f"total_daily_budget must be positive, got {total}")
    for name, mapping in (("current", current), ("floors", guardrails.floors), ("ceilings", guardrails.ceilings)):
        unknown = sorted(set(mapping) - set(channels))
        if unknown:
            raise ValueError(f"{name} names unknown channel(s): {', '.join(unknown)}")
    current = {c: float(current.get(c, 0.0)) for c in channels}
    negative = [c for c, v in current.items() if v < 0]
    if negative:
        raise ValueError(f"current spend is negative for: {', '.join(negative)}")
    return channels, current, total


def _reason(method, row, plan: _Plan, i, hits, free_i, common_marginal_roi, cpa, total) -> str:
    """The method's reason for one channel's spend."""
    channel = row["channel"]
    if plan.target_share is None:
        decision = plan.decisions[i]
        if decision.status != CONFIDENT:
            return f"{decision.status}: {decision.reason}"
        return _mmm_reason(row, bool(hits), free_i, common_marginal_roi)
    if channel in plan.excluded:
        return plan.excluded[channel] + " (kept at its lower bound)"
    basis = f"1/CPA weighting (CPA {cpa[channel]:,.2f})" if method == "inverse_cpa" else "an equal split"
    reason = f"{basis} targets {plan.target_share[i]:.1%} of the budget"
    spend = row["recommended_spend"]
    if abs(spend / total - plan.target_share[i]) >= 0.0005:
        reason += f", {spend / total:.1%} after fitting the guardrails"
    return reason


# ----------------------------------------------------------------------------------------------
# Public entry point
# ----------------------------------------------------------------------------------------------


def allocate(
    method: str,
    *,
    channels: list[str],
    current: dict[str, float],
    guardrails: Guardrails,
    mmm_channels: pd.DataFrame | None = None,
    cpa: dict[str, float] | None = None,
    draws: pd.DataFrame | None = None,
    robust_share: float = ROBUST_SHARE,
) -> pd.DataFrame:
    """Recommend daily spend per channel with one of ``METHODS`` under the guardrails.

    ``current`` is each channel's base daily spend (missing = 0): the figure the volatility cap and
    ``change_pct`` are relative to (the asset passes the trailing 28-day average). ``mmm_channels``
    (mmm_model rows: curve parameters, with ``time_step_days``; weekly when absent; with the
    identification columns when present) is required for ``mmm_optimal`` and, when given, also fills
    expected revenue and marginal ROI for the other methods; ``draws`` (mmm_bootstrap_draws rows)
    gives each channel's 90% revenue interval from the model's bootstrap draws at the recommended
    spend (NaN without draws) and, for ``mmm_optimal``, the draws its moves are tested on
    (``allocate_robust``; a move must gain in ``robust_share`` of them).
    ``decision`` (``confident`` or ``hold: ...``), ``decision_reason`` and ``gain_robustness`` say
    what ``mmm_optimal`` did with each channel and why. ``cpa`` is required for ``inverse_cpa``;
    channels without a usable CPA are excluded from its split with a note in ``excluded_reason``.
    ``unconstrained_spend`` is the model's optimum under the total budget alone (flagged channels
    held the same way) and ``guardrail_cost`` the daily revenue the guardrails give up against it (the
    same figure on every row). ``change_pct`` is a fraction (NaN where the base is 0).
    ``result.attrs`` has ``total_revenue`` (point, lo, hi over the draws) and ``gain_robustness``
    (the share of draws in which the whole plan beats the base). Raises ``InfeasibleGuardrails``
    when the bounds cannot meet the total budget.
    """
    channels, current, total = _check_arguments(method, channels, current, guardrails)
    bounds = _bounds(channels, current, guardrails)
    _check_feasible(bounds, total)
    lower, upper = bounds["lower"].to_numpy(), bounds["upper"].to_numpy()
    curves = curves_from_table(channels, mmm_channels) if mmm_channels is not None else None
    if method == "mmm_optimal":
        if curves is None:
            raise ValueError("method 'mmm_optimal' needs mmm_channels")
        plan = _mmm_plan(channels, current, bounds, total, mmm_channels, curves, draws, robust_share)
    else:
        plan = _split_plan(method, channels, bounds, total, cpa)
    spend = _round_to_cents(plan.spend, lower, upper, total)
    return _table(method, channels, current, guardrails, bounds, curves, draws, plan, spend, cpa, total)


def _table(method, channels, current, guardrails, bounds, curves, draws, plan: _Plan, spend, cpa, total) -> pd.DataFrame:
    """The output rows (OUTPUT_COLUMNS) with revenue, intervals, decisions and rationales."""
    lower, upper = bounds["lower"].to_numpy(), bounds["upper"].to_numpy()
    if curves is not None:
        revenue, marginal = daily_revenue(curves, spend), marginal_roi(curves, spend)
    else:
        revenue = marginal = np.full(len(channels), np.nan)
    revenue_lo = revenue_hi = np.full(len(channels), np.nan)
    total_lo = total_hi = math.nan
    if draws is not None and len(draws):
        per_draw = DrawCurves(draws, channels).revenue(spend[None, :])[:, 0, :]
        revenue_lo, revenue_hi = interval(per_draw, point=revenue)
        total_lo, total_hi = interval(per_draw.sum(axis=1), point=float(np.sum(revenue)))
    free = (spend > lower + BIND_TOLERANCE) & (spend < upper - BIND_TOLERANCE)
    common_marginal_roi = float(np.mean(marginal[free])) if free.any() else math.nan
    unconstrained = plan.unconstrained if plan.unconstrained is not None else np.full(len(channels), np.nan)
    rows = []
    for i, channel in enumerate(channels):
        decision = plan.decisions[i] if plan.decisions else None
        row = {
            "channel": channel,
            "current_spend": current[channel],
            "recommended_spend": float(spend[i]),
            "change_pct": spend[i] / current[channel] - 1.0 if current[channel] > 0 else math.nan,
            "expected_incremental_revenue": float(revenue[i]),
            "expected_incremental_revenue_lo": float(revenue_lo[i]),
            "expected_incremental_revenue_hi": float(revenue_hi[i]),
            "marginal_roi": float(marginal[i]),
            "method": method,
            "decision": decision.status if decision else None,
            "decision_reason": decision.reason if decision else None,
            "gain_robustness": decision.robustness if decision else math.nan,
        }
        hits = _guardrails_hit(bounds, channel, spend[i], guardrails)
        reason = _reason(method, row, plan, i, hits, free[i], common_marginal_roi, cpa, total)
        row["guardrails_hit"] = ",".join(hits)
        row["rationale"] = _rationale(row, reason, hits, guardrails)
        row["unconstrained_spend"] = float(unconstrained[i])
        row["guardrail_cost"] = plan.guardrail_cost
        row["excluded_reason"] = plan.excluded.get(channel, "")
        rows.append(row)
    result = pd.DataFrame(rows, columns=OUTPUT_COLUMNS)
    result.attrs["total_revenue"] = (
        float(np.nansum(revenue)) if curves is not None else math.nan,
        float(total_lo),
        float(total_hi),
    )
    result.attrs["gain_robustness"] = plan.robustness
    return result
