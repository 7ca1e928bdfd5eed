"""The ground truth of a simulated world: its daily file, the weekly panel built from it, and the
true response curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gtm_assets.models.response import ChannelResponse
from gtm_assets.simulate.world import CHANNELS


def write_daily(daily: pd.DataFrame, path: Path) -> None:
    """Write ground_truth_daily.csv (date, revenue_total, baseline, contrib_*, spend_*)."""
    columns = (
        ["date", "revenue_total", "baseline"] + [f"contrib_{c.name}" for c in CHANNELS] + [f"spend_{c.name}" for c in CHANNELS]
    )
    frame = daily.assign(revenue_total=daily["revenue_cents"] / 100)[columns]
    frame.to_csv(path, index=False, float_format="%.2f", lineterminator="\n")


def weekly_panel(daily: pd.DataFrame) -> pd.DataFrame:
    """Complete Monday-start weeks of a daily ground-truth frame (date, revenue_total or
    revenue_cents, spend_<c>, contrib_<c>): week, holiday (``black_friday`` / ``cyber_monday`` for
    the weeks holding them, else ``na``, as the graph's weekly panel marks them), total revenue
    (before consent drops), and per channel its spend (column = channel name) and true contribution
    (``contrib_<channel>``)."""
    frame = daily.assign(date=pd.to_datetime(daily["date"]))
    if "revenue_total" not in frame:
        frame["revenue_total"] = frame["revenue_cents"] / 100
    frame["week"] = frame["date"] - pd.to_timedelta(frame["date"].dt.dayofweek, unit="D")
    day, month, weekday = frame["date"].dt.day, frame["date"].dt.month, frame["date"].dt.dayofweek
    black_friday = (month == 11) & (weekday == 4) & day.between(23, 29)
    cyber_monday = (weekday == 0) & (((month == 11) & (day >= 26)) | ((month == 12) & (day <= 2)))
    frame["holiday"] = np.select([black_friday, cyber_monday], ["black_friday", "cyber_monday"], "")
    names = [c.name for c in CHANNELS]
    columns = ["revenue_total", *[f"spend_{c}" for c in names], *[f"contrib_{c}" for c in names]]
    grouped = frame.groupby("week")
    weekly = grouped[columns].sum()
    weekly["holiday"] = grouped["holiday"].max().replace("", "na")
    weekly = weekly[grouped.size() == 7].rename(columns={"revenue_total": "revenue", **{f"spend_{c}": c for c in names}})
    order = ["holiday", "revenue", *[col for c in names for col in (c, f"contrib_{c}")]]
    return weekly[order].reset_index()


def weekly_truth_panel(out_dir: Path | str) -> pd.DataFrame:
    """``weekly_panel`` of a simulated world's ground_truth_daily.csv."""
    return weekly_panel(pd.read_csv(Path(out_dir) / "ground_truth_daily.csv"))


def true_response(channel_truth: dict) -> ChannelResponse:
    """A channel's true daily response curve from its entry in ground_truth.json["channels"]:
    ``.expected(daily_spend)`` is the steady-state incremental revenue per day."""
    return ChannelResponse(
        coefficient=channel_truth["coefficient"],
        half_saturation=channel_truth["half_saturation"],
        shape=channel_truth["shape"],
        decay=channel_truth["decay"],
        saturation=channel_truth["saturation"],
        adstock=channel_truth["adstock"],
        peak=channel_truth["peak_days"],
    )
