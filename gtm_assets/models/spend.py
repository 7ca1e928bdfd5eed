"""Spend per channel and campaign as the allocator, `gtm whatif` and `gtm ask` all see it: the SQL over
raw_media_spend and the per-channel figures drawn from its rows. One definition, so a scenario answered
on the command line and the allocation the graph writes start from the same base.

Windows end on the last day of media data: RECENT_DAYS for "spending right now", BASE_DAYS for the
trailing base (the volatility cap's base, the what-if base and the CPA window) and THOMPSON_DAYS for the
campaign split.
"""

from __future__ import annotations

import pandas as pd

RECENT_DAYS = 7
BASE_DAYS = 28  # the volatility cap's base and the CPA window: the trailing average daily spend
THOMPSON_DAYS = 28

CAMPAIGN_STATS_SQL = f"""
WITH media AS (
    SELECT date::DATE AS day, channel, campaign, spend::DOUBLE AS spend,
           conversions::DOUBLE AS conversions, source_file_sha256
    FROM raw.raw_media_spend
),
last_day AS (SELECT max(day) AS day FROM media)
SELECT channel, campaign,
       coalesce(sum(spend) FILTER (WHERE m.day > l.day - {RECENT_DAYS}), 0) / {RECENT_DAYS} AS recent_spend,
       coalesce(sum(spend) FILTER (WHERE m.day > l.day - {BASE_DAYS}), 0) / {BASE_DAYS} AS base_spend,
       coalesce(sum(spend) FILTER (WHERE m.day > l.day - {BASE_DAYS}), 0) AS base_window_spend,
       coalesce(sum(conversions) FILTER (WHERE m.day > l.day - {BASE_DAYS}), 0) AS base_conversions,
       (l.day - {BASE_DAYS - 1})::VARCHAR AS base_first_day, l.day::VARCHAR AS base_last_day,
       coalesce(sum(spend) FILTER (WHERE m.day > l.day - {THOMPSON_DAYS}), 0) AS window_spend,
       coalesce(sum(conversions) FILTER (WHERE m.day > l.day - {THOMPSON_DAYS}), 0) AS window_conversions,
       list(DISTINCT source_file_sha256 ORDER BY source_file_sha256) AS source_media_sha256s
FROM media m, last_day l
GROUP BY channel, campaign, l.day ORDER BY channel, campaign
"""


def channel_spend(stats: pd.DataFrame) -> tuple[dict[str, float], dict[str, float], dict[str, float], str]:
    """Per channel from CAMPAIGN_STATS_SQL rows: the trailing base (average daily spend over the last
    BASE_DAYS days), the last RECENT_DAYS days' average, the CPA over the base window (NaN without
    conversions), and the base window in words."""
    by_channel = stats.groupby("channel").agg(
        base=("base_spend", "sum"),
        recent=("recent_spend", "sum"),
        spend=("base_window_spend", "sum"),
        conversions=("base_conversions", "sum"),
    )
    base = by_channel["base"].astype(float).to_dict()
    recent = by_channel["recent"].astype(float).to_dict()
    cpa = (by_channel["spend"] / by_channel["conversions"].where(by_channel["conversions"] > 0)).astype(float).to_dict()
    window = f"the {BASE_DAYS}-day average daily spend ({stats['base_first_day'].iloc[0]} to {stats['base_last_day'].iloc[0]})"
    return base, recent, cpa, window
