"""platform_metrics: the 15-minute metrics sync from every enabled ad platform (offline: the local fake
platform fed by the simulator's spend), upserted so a repeated sync never duplicates a row and a late
correction overwrites; reconciled with raw_media_spend; a freshness check on the last successful sync."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pandas as pd
from pydantic import Field

from gtm_assets.defs.activation.platform_uploads import enabled_adapters
from gtm_assets.defs.governance.checks import no_pii_check
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.outbound.notifier import Alert, AlertNotifier
from gtm_assets.outbound.platforms.google_ads import GoogleAdsAdapter
from gtm_assets.outbound.platforms.loop import fetch_insights, insights_window_end
from gtm_assets.outbound.platforms.meta import MetaAdsAdapter
from gtm_assets.outbound.platforms.records import ensure_tables, record_calls
from gtm_assets.outbound.platforms.tiktok import TikTokAdsAdapter
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

SYNC_MAX_AGE = timedelta(hours=1)
AD_NAME_PREFIX = "gtm-"  # platform_campaigns names every ad gtm-<creative id>
METRICS_DDL = (
    "CREATE TABLE IF NOT EXISTS main.platform_metrics (platform VARCHAR, campaign VARCHAR, date DATE, channel VARCHAR, "
    "platform_campaign_id VARCHAR, spend DECIMAL(18, 2), impressions BIGINT, clicks BIGINT, conversions DOUBLE, "
    "first_synced_at TIMESTAMP, synced_at TIMESTAMP, revisions INTEGER, sync_run_id VARCHAR, lineage_id VARCHAR, "
    "PRIMARY KEY (platform, campaign, date))",
    "CREATE TABLE IF NOT EXISTS main.platform_ad_metrics (platform VARCHAR, ad_name VARCHAR, date DATE, creative_id VARCHAR, "
    "platform_ad_id VARCHAR, spend DECIMAL(18, 2), impressions BIGINT, clicks BIGINT, conversions DOUBLE, synced_at TIMESTAMP, "
    "sync_run_id VARCHAR, PRIMARY KEY (platform, ad_name, date))",
    "CREATE TABLE IF NOT EXISTS main.platform_syncs (platform VARCHAR, mode VARCHAR, sync_run_id VARCHAR, synced_at TIMESTAMP, "
    "status VARCHAR, window_start DATE, window_end DATE, campaign_rows INTEGER, ad_rows INTEGER, corrected_rows INTEGER, error VARCHAR)",
)
# Upsert by (platform, campaign, date): a new day is inserted, a known one overwritten (a late correction),
# counting the revisions that changed a value.
UPSERT_CAMPAIGNS_SQL = """
INSERT INTO main.platform_metrics
SELECT $platform, name, date::DATE, (SELECT min(channel) FROM raw.raw_media_spend m WHERE m.campaign = name),
       any_value(platform_id), sum(spend)::DECIMAL(18, 2), sum(impressions), sum(clicks), sum(conversions),
       $now, $now, 0, $run_id, lineage_id('platform_metric', $platform || '|' || name || '|' || date)
FROM rows GROUP BY name, date
ON CONFLICT (platform, campaign, date) DO UPDATE SET
    revisions = revisions + CASE WHEN spend IS DISTINCT FROM excluded.spend OR impressions IS DISTINCT FROM excluded.impressions
                                   OR clicks IS DISTINCT FROM excluded.clicks OR conversions IS DISTINCT FROM excluded.conversions
                                 THEN 1 ELSE 0 END,
    spend = excluded.spend, impressions = excluded.impressions, clicks = excluded.clicks, conversions = excluded.conversions,
    platform_campaign_id = excluded.platform_campaign_id, channel = excluded.channel, synced_at = excluded.synced_at,
    sync_run_id = excluded.sync_run_id
"""
CORRECTIONS_SQL = """
SELECT count(*) FROM main.platform_metrics p JOIN (SELECT name, date::DATE AS date, sum(spend)::DECIMAL(18, 2) AS spend,
    sum(impressions) AS impressions, sum(clicks) AS clicks, sum(conversions) AS conversions FROM rows GROUP BY ALL) r
  ON p.platform = $platform AND p.campaign = r.name AND p.date = r.date
WHERE p.spend IS DISTINCT FROM r.spend OR p.impressions IS DISTINCT FROM r.impressions OR p.clicks IS DISTINCT FROM r.clicks
   OR p.conversions IS DISTINCT FROM r.conversions
"""
UPSERT_ADS_SQL = """
INSERT OR REPLACE INTO main.platform_ad_metrics
SELECT $platform, name, date::DATE, CASE WHEN starts_with(name, $prefix) THEN substr(name, length($prefix) + 1) END,
       any_value(platform_id), sum(spend)::DECIMAL(18, 2), sum(impressions), sum(clicks), sum(conversions), $now, $run_id
FROM rows GROUP BY name, date
"""
# Platform spend against raw_media_spend, per campaign and day, over the synced window and the channels the
# enabled platforms run; a day missing on either side counts as 0 there.
RECONCILE_SQL = """
CREATE OR REPLACE TABLE main.platform_spend_reconciliation AS
WITH platform AS (
    SELECT campaign, date, sum(spend) AS spend FROM main.platform_metrics
    WHERE date BETWEEN $since AND $until AND list_contains($platforms, platform) GROUP BY ALL
),
media AS (
    SELECT campaign, date::DATE AS date, min(channel) AS channel, sum(spend::DECIMAL(18, 2)) AS spend FROM raw.raw_media_spend
    WHERE date::DATE BETWEEN $since AND $until AND list_contains($channels, channel) GROUP BY ALL
)
SELECT campaign, date, m.channel, coalesce(p.spend, 0)::DECIMAL(18, 2) AS platform_spend,
       coalesce(m.spend, 0)::DECIMAL(18, 2) AS media_spend, (coalesce(p.spend, 0) - coalesce(m.spend, 0))::DECIMAL(18, 2) AS difference,
       abs(coalesce(p.spend, 0) - coalesce(m.spend, 0)) <= $abs + $pct * abs(coalesce(m.spend, 0)) AS within_tolerance,
       $pct AS tolerance_pct, $abs AS tolerance_abs, now()::TIMESTAMP AS checked_at
FROM platform p FULL JOIN media m USING (campaign, date)
ORDER BY within_tolerance, abs(difference) DESC, campaign, date
"""


class PlatformSyncConfig(dg.Config):
    days: int = Field(
        default=60, ge=1, le=400, description="days of insights asked for on every sync (late corrections land in them)"
    )
    tolerance_pct: float = Field(default=0.02, ge=0, description="reconciliation: allowed difference as a share of media spend")
    tolerance_abs: float = Field(
        default=1.00, ge=0, description="reconciliation: allowed absolute difference per campaign and day"
    )


def sync_platform(conn, adapter, days: int, run_id: str, now: datetime) -> dict:
    """Pull campaign and ad insights of one platform into the warehouse; returns the platform_syncs row."""
    end = insights_window_end(adapter)
    row = {
        "platform": adapter.platform,
        "mode": adapter.mode,
        "sync_run_id": run_id,
        "synced_at": now,
        "status": "ok",
        "window_start": None,
        "window_end": end,
        "campaign_rows": 0,
        "ad_rows": 0,
        "corrected_rows": 0,
        "error": None,
    }
    if end is None:
        row["status"] = "no_data"
        return row
    since = end - timedelta(days=days - 1)
    row["window_start"] = since
    params = {"platform": adapter.platform, "now": now, "run_id": run_id}
    for level in ("campaign", "ad"):
        rows, calls = fetch_insights(adapter, level, since, end)
        record_calls(conn, calls, run_id)
        failed = [c for c in calls if c.status not in ("sent", "offline_fake")]
        if failed:
            row.update(status="failed", error=f"{level} insights: {failed[-1].status} ({failed[-1].error})")
            return row
        if not rows:
            continue
        conn.register("rows", pd.DataFrame(rows))
        if level == "campaign":
            row["corrected_rows"] = int(conn.execute(CORRECTIONS_SQL, {"platform": adapter.platform}).fetchall()[0][0])
            conn.execute(UPSERT_CAMPAIGNS_SQL, params)
            row["campaign_rows"] = len(rows)
        else:
            conn.execute(UPSERT_ADS_SQL, {**params, "prefix": AD_NAME_PREFIX})
            row["ad_rows"] = len(rows)
        conn.unregister("rows")
    return row


COLUMN_DESCRIPTIONS = {
    "platform": "Ad platform the metrics were read from (meta, google_ads, tiktok).",
    "platform_campaign_id": "The platform's id of the campaign.",
    "first_synced_at": "When this campaign-day was first read (UTC).",
    "synced_at": "When it was last read (UTC): platforms restate recent days.",
    "revisions": "Times the platform's figures for this campaign-day changed.",
    "sync_run_id": "Dagster run id of the sync that last wrote the row.",
}


@dg.asset(
    deps=["raw_media_spend"],
    group_name="measurement",
    owners=[OWNER],
    kinds={"duckdb", "python"},
    pool=DUCKDB_POOL,
    # Dagster's own freshness state in the UI, evaluated even when the sync job stops running.
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=SYNC_MAX_AGE, warn_window=timedelta(minutes=30)),
)
def platform_metrics(
    context: dg.AssetExecutionContext,
    config: PlatformSyncConfig,
    warehouse: DuckDBWarehouse,
    meta_ads: MetaAdsAdapter,
    google_ads: GoogleAdsAdapter,
    tiktok_ads: TikTokAdsAdapter,
) -> dg.MaterializeResult:
    """Spend, impressions, clicks and conversions per campaign and day (and per ad, for the A/B tests) from
    every enabled platform, upserted by (platform, campaign, date): repeated syncs never duplicate a row
    and a late correction overwrites the earlier value (revisions counts the changes). Offline, each
    platform is the local fake fed by data/landing/media. A platform that fails is recorded in
    platform_syncs and does not stop the others. Platform spend is reconciled with raw_media_spend per
    campaign and day within the configured tolerance (platform_spend_reconciliation)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    adapters = enabled_adapters(meta_ads, google_ads, tiktok_ads)
    syncs = []
    with warehouse.get_connection() as conn:
        ensure_tables(conn)
        for ddl in METRICS_DDL:
            conn.execute(ddl)
        for adapter in adapters:  # one platform's bad answer never stops the others
            conn.execute("BEGIN TRANSACTION")
            try:
                syncs.append(sync_platform(conn, adapter, config.days, context.run_id, now))
                conn.execute("COMMIT")
            except Exception as error:
                conn.execute("ROLLBACK")
                syncs.append(
                    {
                        "platform": adapter.platform,
                        "mode": adapter.mode,
                        "sync_run_id": context.run_id,
                        "synced_at": now,
                        "status": "failed",
                        "window_start": None,
                        "window_end": None,
                        "campaign_rows": 0,
                        "ad_rows": 0,
                        "corrected_rows": 0,
                        "error": f"{type(error).__name__}: {str(error)[:500]}",
                    }
                )
        conn.executemany(
            "INSERT INTO main.platform_syncs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [tuple(s.values()) for s in syncs]
        )
        windows = [s for s in syncs if s["window_start"] is not None]
        since = min((s["window_start"] for s in windows), default=now.date())
        until = max((s["window_end"] for s in windows), default=now.date())
        conn.execute(
            RECONCILE_SQL,
            {
                "since": since,
                "until": until,
                "platforms": [a.platform for a in adapters],
                "channels": sorted({c for a in adapters for c in a.channels}),
                "pct": config.tolerance_pct,
                "abs": config.tolerance_abs,
            },
        )
        outside = conn.execute(
            "SELECT campaign, date, platform_spend, media_spend, difference FROM main.platform_spend_reconciliation "
            "WHERE NOT within_tolerance LIMIT 20"
        ).fetchdf()
        compared = conn.execute(
            "SELECT count(*), sum(platform_spend), sum(media_spend) FROM main.platform_spend_reconciliation"
        ).fetchall()[0]
        metadata = table_metadata(conn, "main.platform_metrics", descriptions=COLUMN_DESCRIPTIONS)
    for sync in syncs:
        if sync["status"] == "failed":
            context.log.warning(f"{sync['platform']} sync failed: {sync['error']}")
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "syncs": dg.MetadataValue.md(pd.DataFrame(syncs).drop(columns=["sync_run_id"]).to_markdown(index=False)),
            "reconciled_campaign_days": int(compared[0]),
            "platform_spend": dg.MetadataValue.float(float(compared[1] or 0)),
            "media_spend": dg.MetadataValue.float(float(compared[2] or 0)),
            "differences_outside_tolerance": dg.MetadataValue.md(outside.to_markdown(index=False) if len(outside) else "none"),
            "tolerance": f"{config.tolerance_abs:.2f} + {config.tolerance_pct:.1%} of media spend",
        }
    )


@dg.asset_check(asset=platform_metrics, pool=DUCKDB_POOL)
def platform_spend_reconciles(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    """Every campaign-day of platform spend matches raw_media_spend within the sync's tolerance."""
    with warehouse.get_connection() as conn:
        total, outside, worst = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT within_tolerance), max(abs(difference)) "
            "FROM main.platform_spend_reconciliation"
        ).fetchall()[0]
    return dg.AssetCheckResult(
        passed=outside == 0,
        metadata={"campaign_days": int(total), "outside_tolerance": int(outside), "largest_difference": float(worst or 0)},
    )


@dg.asset_check(asset=platform_metrics, pool=DUCKDB_POOL)
def platform_sync_is_fresh(
    context: dg.AssetCheckExecutionContext,
    warehouse: DuckDBWarehouse,
    notifier: AlertNotifier,
    meta_ads: MetaAdsAdapter,
    google_ads: GoogleAdsAdapter,
    tiktok_ads: TikTokAdsAdapter,
) -> dg.AssetCheckResult:
    """Every enabled platform's last successful sync is at most an hour old; a stale one is alerted once
    per last-success time through the notifier."""
    now = datetime.now(UTC).replace(tzinfo=None)
    platforms = [a.platform for a in enabled_adapters(meta_ads, google_ads, tiktok_ads)]
    with warehouse.get_connection() as conn:
        last = dict(
            conn.execute(
                "SELECT platform, max(synced_at) FROM main.platform_syncs WHERE status IN ('ok', 'no_data') GROUP BY 1"
            ).fetchall()
        )
        stale = {p: last.get(p) for p in platforms if last.get(p) is None or now - last[p] > SYNC_MAX_AGE}
        notifier.notify(
            conn,
            [
                Alert(
                    "stale_sync",
                    platform,
                    str(at),
                    f"{platform}: no successful metrics sync since {at or 'ever'}",
                    details={"max_age_minutes": SYNC_MAX_AGE.total_seconds() / 60},
                )
                for platform, at in stale.items()
            ],
            context.run.run_id,
        )
    return dg.AssetCheckResult(
        passed=not stale,
        metadata={
            "last_successful_sync": dg.MetadataValue.json({p: str(last.get(p)) for p in platforms}),
            "stale": dg.MetadataValue.json(sorted(stale)),
        },
    )


platform_outputs_have_no_pii = [
    no_pii_check("platform_metrics", ["main.platform_metrics", "main.platform_ad_metrics", "main.platform_spend_reconciliation"]),
    no_pii_check("platform_campaigns", ["main.platform_calls", "main.platform_objects"]),
    no_pii_check("offline_conversions", ["main.conversion_uploads"]),
]
