"""The experiment planner: for every channel the budget plan holds, the lift test that would let the
next fit decide it, sized by a power analysis from the model's own noise and draws.

Design: a geo holdout (the channel off in a share h of the market, the rest as control) over w weeks.
Its measured lift is sum over the window of (r x control - holdout), r the holdout/control ratio of
the PRE_PERIOD_DAYS before it. With daily revenue noise sigma split over regions in proportion to
their share, (holdout - r x control) has variance h sigma^2 / (1 - h) a day, so over d = 7w days

    SE = sigma x sqrt(d h / (1 - h) x (1 + d / PRE_PERIOD_DAYS)) x sqrt((1 + rho) / (1 - rho))

(the last factor for sums of errors with lag-1 autocorrelation rho; the middle one for r's own
estimation error). sigma is what earlier geo holdouts met, as their standard errors imply it
(``lift_test_daily_noise`` of the MMM's diagnostics): measured on the property's own regional revenue,
the noise a new test faces. Without an earlier holdout it is the MMM's weekly residual SD / sqrt(7)
with the autocorrelation factor: what the model could not explain, so a misfit makes tests larger,
not smaller. The lift a test would measure is h x d x the channel's
revenue per day at its base spend (each bootstrap draw's own curve: the median is the expected lift,
the 5th-95th percentiles are reported, so the risk that the channel is weaker than expected is in
view). The smallest test (least share x weeks, i.e. least revenue put at risk) whose expected lift
reaches TARGET_Z standard errors is proposed, among WEEKS x SHARES; a channel no such test can
measure gets the largest one and says how far it falls short. (Planning on the lift at break-even
instead left most held channels of the benchmark's worlds with no test that could reach it.)

Tests run together in disjoint regions: they are packed into waves from the next Monday, each wave
holding out at most MAX_WAVE_SHARE of the market. Revenue at risk is the lift the test gives up
(the median draw's, and its 95th percentile); spend at stake the spend withheld: the media plan's for
the channel over the window when a plan is given (a flighted channel off in those weeks is flagged:
the test moves to its next flight within the plan), else its base. A dormant channel (no base spend)
is not tested. Powered tests come first.
Priority: the revenue the decision is worth per day, the channel's guardrail move (max_change x its
base) x the spread of its marginal ROI over the draws (95th - 5th percentile).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from gtm_assets.models.allocate_curves import DrawCurves

PRE_PERIOD_DAYS = 56
WEEKS = (2, 3, 4, 6, 8)
SHARES = (0.1, 0.2, 0.3, 0.4, 0.5)
TARGET_Z = 3.0
MAX_WAVE_SHARE = 0.8
PLAN_COLUMNS = [
    "channel", "decision", "design", "holdout_share", "weeks", "start_date", "end_date", "wave",
    "base_daily_spend", "planned_spend_in_window", "spend_at_stake", "expected_lift", "expected_lift_lo", "expected_lift_hi",
    "expected_standard_error", "expected_z", "revenue_at_risk", "revenue_at_risk_hi", "priority_per_day", "powered", "note",
]  # fmt: skip


def standard_error(daily_noise: float, days: int, share: float, autocorrelation: float = 0.0) -> float:
    """The geo holdout's standard error (module docstring)."""
    rho = min(max(autocorrelation, 0.0), 0.95)
    return daily_noise * math.sqrt(days * share / (1 - share) * (1 + days / PRE_PERIOD_DAYS) * (1 + rho) / (1 - rho))


def _design(lift_per_day: float, daily_noise: float, autocorrelation: float) -> tuple[int, float, float, bool]:
    """(weeks, share, expected SE, powered): the smallest design reaching TARGET_Z, else the largest."""
    options = sorted(((share * weeks, weeks, share) for weeks in WEEKS for share in SHARES), key=lambda o: o[0])
    for _, weeks, share in options:
        se = standard_error(daily_noise, 7 * weeks, share, autocorrelation)
        if share * 7 * weeks * lift_per_day >= TARGET_Z * se:
            return weeks, share, se, True
    weeks, share = max(WEEKS), max(SHARES)
    return weeks, share, standard_error(daily_noise, 7 * weeks, share, autocorrelation), False


def _with_media_plan(row: dict, media_plan: pd.DataFrame | None) -> None:
    """The spend the test's window would withhold by the media plan. A flighted channel the plan does
    not run in those weeks moves to its next flight within the plan (from the first Monday the plan
    spends at least half its base over the test's length); with none, the test cannot measure it. A
    window beyond the plan keeps the base."""
    days = 7 * row["weeks"]
    own = None if media_plan is None else media_plan[media_plan["channel"] == row["channel"]]
    if own is None or own.empty or pd.to_datetime(own["date"]).max() < pd.Timestamp(row["end_date"]):
        row["planned_spend_in_window"] = float("nan")
        return
    daily = own.assign(date=pd.to_datetime(own["date"])).groupby("date")["planned_spend"].sum()
    needed = 0.5 * row["base_daily_spend"] * days
    start = pd.Timestamp(row["start_date"])
    for monday in pd.date_range(start, daily.index.max() - pd.Timedelta(days=days - 1), freq="7D"):
        planned = float(daily[monday : monday + pd.Timedelta(days=days - 1)].sum())
        if planned >= needed:
            if monday != start:
                row["note"] += f"; moved to {monday.date()}, the media plan's next flight of it"
                row["start_date"], row["end_date"] = monday.date(), (monday + pd.Timedelta(days=days - 1)).date()
            row["planned_spend_in_window"] = planned
            row["spend_at_stake"] = row["holdout_share"] * planned
            return
    row["planned_spend_in_window"] = float(daily[start : pd.Timestamp(row["end_date"])].sum())
    row["spend_at_stake"] = row["holdout_share"] * row["planned_spend_in_window"]
    row["powered"] = False
    row["note"] = (
        f"the media plan has no flight of it long enough for a {row['weeks']}-week test before {daily.index.max().date()}: "
        "plan the test with its next flight"
    )


def _waves(rows: list[dict], start: pd.Timestamp) -> None:
    """Pack the tests, most valuable first, into waves of at most MAX_WAVE_SHARE of the market."""
    wave, used, wave_start, wave_end = 1, 0.0, start, start
    for row in sorted(rows, key=lambda r: -r["priority_per_day"]):
        if used + row["holdout_share"] > MAX_WAVE_SHARE + 1e-9:
            wave, used, wave_start = wave + 1, 0.0, wave_end + pd.Timedelta(days=7)
        row["wave"] = wave
        row["start_date"] = wave_start.date()
        row["end_date"] = (wave_start + pd.Timedelta(days=7 * row["weeks"] - 1)).date()
        wave_end = max(wave_end, pd.Timestamp(row["end_date"]) + pd.Timedelta(days=1))
        used += row["holdout_share"]


def plan_experiments(
    allocation: pd.DataFrame,
    draws: pd.DataFrame,
    weekly_noise_sd: float,
    autocorrelation: float,
    first_day: pd.Timestamp,
    max_change: float = 0.25,
    revenue_scale: float = 1.0,
    media_plan: pd.DataFrame | None = None,
    daily_noise: float | None = None,
) -> pd.DataFrame:
    """One proposed test per held channel of ``allocation`` (rows with channel, decision,
    current_spend), from the model's bootstrap ``draws`` and noise; tests start on the first Monday
    on or after ``first_day``. ``revenue_scale`` turns the model's revenue units into the test's
    (e.g. 1 / the consented share when the model sees consented revenue only); ``media_plan`` (date,
    channel, planned_spend) gives the spend each window would withhold; ``daily_noise`` (in the
    model's revenue units) is the noise earlier holdouts met, used instead of the model's residuals."""
    held = allocation[allocation["decision"].astype(str).str.startswith("hold") & (allocation["current_spend"] > 0)]
    held = held.drop_duplicates("channel")
    if held.empty:
        return pd.DataFrame(columns=PLAN_COLUMNS)
    channels = held["channel"].tolist()
    base = held["current_spend"].to_numpy(float)
    surface = DrawCurves(draws, channels)
    lift_per_day = (surface.revenue(base[None, :]) - surface.revenue(np.zeros((1, len(channels)))))[:, 0, :] * revenue_scale
    slope = np.array([[float(curve.marginal(x)) for curve in curves] for curves, x in zip(surface.curves, base)]).T
    if daily_noise is None:
        daily_noise = weekly_noise_sd * revenue_scale / math.sqrt(7)
    else:
        daily_noise, autocorrelation = daily_noise * revenue_scale, 0.0
    rows = []
    for k, row in enumerate(held.itertuples(index=False)):
        median = float(np.median(lift_per_day[:, k]))
        lo, hi = np.percentile(lift_per_day[:, k], [5, 95])
        weeks, share, se, powered = _design(max(median, 1e-9), daily_noise, autocorrelation)
        days = 7 * weeks
        expected = share * days * median
        spread = float(np.subtract(*np.percentile(slope[:, k], [95, 5])))
        rows.append(
            {
                "channel": row.channel,
                "decision": row.decision,
                "design": "geo_holdout",
                "holdout_share": share,
                "weeks": weeks,
                "base_daily_spend": float(base[k]),
                "spend_at_stake": share * days * float(base[k]),
                "expected_lift": expected,
                "expected_lift_lo": share * days * float(lo),
                "expected_lift_hi": share * days * float(hi),
                "expected_standard_error": se,
                "expected_z": expected / se if se > 0 else math.inf,
                "revenue_at_risk": expected,
                "revenue_at_risk_hi": share * days * float(hi),
                "priority_per_day": max_change * float(base[k]) * spread * revenue_scale,
                "powered": powered,
                "note": (
                    f"a {weeks}-week holdout in {share:.0%} of the market measures the lift the model expects to "
                    f"{TARGET_Z:.0f} standard errors"
                    if powered
                    else f"underpowered: even {weeks} weeks in {share:.0%} of the market expect only {expected / se:.1f} "
                    "standard errors; a national switch-off or a larger market share would be needed"
                ),
            }
        )
    monday = pd.Timestamp(first_day).normalize()
    _waves(rows, monday + pd.Timedelta(days=(7 - monday.dayofweek) % 7))
    for row in rows:
        _with_media_plan(row, media_plan)
    return (
        pd.DataFrame(rows)[PLAN_COLUMNS].sort_values(["wave", "priority_per_day"], ascending=[True, False]).reset_index(drop=True)
    )
