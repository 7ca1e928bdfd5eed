"""The ground truth of a simulated world: its daily file, the weekly panel built from it, and the
true response curves."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from gtm_assets.models.response import ChannelResponse
from gtm_assets.simulate.world import CHANNELS


def write_daily(daily: pd.DataFrame, path: Path) -> None:
    """Write ground_truth_daily.csv (date, revenue_total, baseline, contrib_*, spend_*)."""
    columns = (["date", "revenue_total", "baseline"] + [f"contrib_{c.name}" for c in CHANNELS]
               + [f"spend_{c.name}" for c in CHANNELS])
    frame = daily.assign(revenue_total=daily["revenue_cents"] / 100)[columns]
    frame.to_csv(path, index=False, float_format="%.2f", lineterminator="\n")


def weekly_truth_panel(out_dir: Path | str) -> pd.DataFrame:
    """Complete Monday-start weeks of a simulated world from ground_truth_daily.csv: week, total
    revenue (before consent drops), and per channel its spend (column = channel name) and true
    contribution (``contrib_<channel>``), aggregated in DuckDB."""
    sums = ", ".join(f'sum(spend_{c.name}) AS "{c.name}", sum(contrib_{c.name}) AS contrib_{c.name}' for c in CHANNELS)
    path = str(Path(out_dir) / "ground_truth_daily.csv").replace("'", "''")
    with duckdb.connect() as con:
        return con.execute(f"""
            SELECT date_trunc('week', date)::DATE AS week, sum(revenue_total) AS revenue, {sums}
            FROM read_csv('{path}') GROUP BY 1 HAVING count(*) = 7 ORDER BY 1""").fetchdf()


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
