"""The local fake platform of offline mode: it answers an insights request in the platform's own response
format (the adapter's ``render_insights``) from the simulator's spend in data/landing/media, so the
metrics sync runs the same parsing code offline as against the real API. Values that do not parse are
left out, as a platform never reports them. It reports campaigns only: the landing files have no ads."""

from __future__ import annotations

import hashlib
from datetime import date

import duckdb

from gtm_assets import settings

MEDIA_SQL = """
SELECT try_cast(date AS DATE) AS day, campaign, try_cast(spend AS DECIMAL(18, 2))::DOUBLE AS spend,
       try_cast(impressions AS BIGINT) AS impressions, try_cast(clicks AS BIGINT) AS clicks,
       try_cast(conversions AS DOUBLE) AS conversions
FROM read_csv(?, all_varchar = true, header = true, union_by_name = true)
WHERE list_contains(?, channel) AND day IS NOT NULL AND spend IS NOT NULL
"""


def _media_files() -> list[str]:
    folder = settings.landing_media_dir()
    return sorted(str(p) for p in folder.glob("*.csv")) if folder.is_dir() else []


def fake_campaign_id(platform: str, campaign: str) -> str:
    return str(int(hashlib.sha256(f"{platform}|{campaign}".encode()).hexdigest()[:12], 16))


def window_end(channels: list[str]) -> date | None:
    """The fake platform's today: the last day of spend for these channels."""
    files = _media_files()
    if not files or not channels:
        return None
    with duckdb.connect() as conn:
        return conn.execute(f"SELECT max(day) FROM ({MEDIA_SQL})", [files, channels]).fetchall()[0][0]


def insights_response(adapter, level: str, since: date, until: date):
    """What the platform would answer for campaign (or ad) insights between ``since`` and ``until``."""
    files = _media_files()
    rows = []
    if level == "campaign" and files and adapter.channels:
        with duckdb.connect() as conn:
            found = conn.execute(
                f"SELECT * FROM ({MEDIA_SQL}) WHERE day BETWEEN ? AND ? ORDER BY day, campaign",
                [files, adapter.channels, since, until],
            ).fetchall()
        rows = [
            {
                "platform_id": fake_campaign_id(adapter.platform, campaign),
                "name": campaign,
                "date": day,
                "spend": spend,
                "impressions": impressions or 0,
                "clicks": clicks or 0,
                "conversions": conversions or 0.0,
            }
            for day, campaign, spend, impressions, clicks, conversions in found
        ]
    return adapter.render_insights(level, rows)
