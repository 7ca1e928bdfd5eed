"""The ground truth of a simulated world: its daily file, the weekly panel built from it, and the
true response curves and market read back from ground_truth.json."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gtm_assets.simulate.curves import TrueCurve
from gtm_assets.simulate.market import Market
from gtm_assets.simulate.world import BASELINE_LEVEL, CHANNELS


def write_daily(daily: pd.DataFrame, path: Path) -> None:
    """Write ground_truth_daily.csv (date, revenue_total, baseline, organic_sessions, contrib_*, spend_*)."""
    columns = (
        ["date", "revenue_total", "baseline", "organic_sessions"]
        + [f"contrib_{c.name}" for c in CHANNELS]
        + [f"spend_{c.name}" for c in CHANNELS]
    )
    frame = daily.assign(revenue_total=daily["revenue_cents"] / 100)[columns]
    frame.to_csv(path, index=False, float_format="%.2f", lineterminator="\n")


def daily_sales(daily: pd.DataFrame, sessions: dict) -> pd.DataFrame:
    """The order system's daily ledger: date, orders (every purchase, consented or not) and revenue
    (to the cent, the day's total)."""
    orders = np.bincount(sessions["day"][sessions["purchase"]], minlength=len(daily))
    cents = daily["revenue_cents"].to_numpy()
    return pd.DataFrame({"date": daily["date"], "orders": orders, "revenue": [f"{c // 100}.{c % 100:02d}" for c in cents]})


def weekly_panel(daily: pd.DataFrame) -> pd.DataFrame:
    """Complete Monday-start weeks of a daily ground-truth frame (date, revenue_total or
    revenue_cents, organic_sessions, spend_<c>, contrib_<c>): week, holiday (``black_friday`` /
    ``cyber_monday`` for the weeks holding them, else ``na``, as the graph's weekly panel marks them),
    total revenue (before consent drops), organic sessions (the demand signal), and per channel its
    spend (column = channel name) and true contribution (``contrib_<channel>``)."""
    frame = daily.assign(date=pd.to_datetime(daily["date"]))
    if "revenue_total" not in frame:
        frame["revenue_total"] = frame["revenue_cents"] / 100
    frame["week"] = frame["date"] - pd.to_timedelta(frame["date"].dt.dayofweek, unit="D")
    day, month, weekday = frame["date"].dt.day, frame["date"].dt.month, frame["date"].dt.dayofweek
    black_friday = (month == 11) & (weekday == 4) & day.between(23, 29)
    cyber_monday = (weekday == 0) & (((month == 11) & (day >= 26)) | ((month == 12) & (day <= 2)))
    frame["holiday"] = np.select([black_friday, cyber_monday], ["black_friday", "cyber_monday"], "")
    names = [c.name for c in CHANNELS]
    columns = ["revenue_total", "organic_sessions", *[f"spend_{c}" for c in names], *[f"contrib_{c}" for c in names]]
    grouped = frame.groupby("week")
    weekly = grouped[columns].sum()
    weekly["holiday"] = grouped["holiday"].max().replace("", "na")
    weekly = weekly[grouped.size() == 7].rename(columns={"revenue_total": "revenue", **{f"spend_{c}": c for c in names}})
    order = ["holiday", "revenue", "organic_sessions", *[col for c in names for col in (c, f"contrib_{c}")]]
    return weekly[order].reset_index()


def weekly_truth_panel(out_dir: Path | str) -> pd.DataFrame:
    """``weekly_panel`` of a simulated world's ground_truth_daily.csv."""
    return weekly_panel(pd.read_csv(Path(out_dir) / "ground_truth_daily.csv"))


def true_curve(channel_truth: dict) -> TrueCurve:
    """A channel's true shape from its entry in ground_truth.json["channels"]."""
    return TrueCurve(
        carry_over=channel_truth["adstock"],
        saturation=channel_truth["saturation"],
        half_saturation=channel_truth["half_saturation"],
        shape=channel_truth["shape"],
        decay=channel_truth["decay"],
        peak_days=channel_truth["peak_days"],
        weibull_shape=channel_truth.get("weibull_shape", 0.0),
        weibull_scale=channel_truth.get("weibull_scale", 0.0),
    )


@dataclass(frozen=True)
class TrueResponse:
    """A channel's own true daily response: coefficient x its curve (additive worlds' contribution)."""

    coefficient: float
    curve: TrueCurve

    def expected(self, daily_spend):
        """Steady-state incremental revenue per day at a constant daily spend."""
        return self.coefficient * self.curve.steady(daily_spend)

    def marginal(self, daily_spend):
        """d expected / d daily spend."""
        return self.coefficient * self.curve.steady_slope(daily_spend)

    def series(self, spend: np.ndarray) -> np.ndarray:
        """Response per day over a spend series (carry-over from before the series is zero)."""
        return self.coefficient * self.curve.series(spend)


def true_response(channel_truth: dict) -> TrueResponse:
    """A channel's own true daily response curve from its entry in ground_truth.json["channels"]:
    ``.expected(daily_spend)`` is the steady-state incremental revenue per day (in multiplicative or
    interaction worlds the whole picture is ``true_market``)."""
    return TrueResponse(channel_truth["coefficient"], true_curve(channel_truth))


def true_market(truth: dict) -> Market:
    """The world's market (every curve, coefficient and how they combine) from ground_truth.json."""
    world = truth["world"]
    return Market(
        curves={name: true_curve(facts) for name, facts in truth["channels"].items()},
        coefficients={name: facts["coefficient"] for name, facts in truth["channels"].items()},
        base_level=BASELINE_LEVEL,
        multiplicative=world.get("revenue_form", "additive") == "multiplicative",
        interaction=world.get("tv_search_interaction", 0.0),
    )
