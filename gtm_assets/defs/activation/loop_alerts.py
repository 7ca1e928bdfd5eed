"""Alerts on the platform loop, as asset checks: budget overspend against the allocations, metric anomalies
and compliance violations in live ads (the stale-sync alert is platform_metrics' freshness check). Each
violation goes through the notifier, which announces an event once however often the checks run."""

import json

import dagster as dg
import numpy as np

from gtm_assets import settings
from gtm_assets.defs.activation.creative_library import internal_labels
from gtm_assets.defs.resources import DUCKDB_POOL
from gtm_assets.models.creative import FORMATS, RED, check_creative, load_brand_guide
from gtm_assets.outbound.notifier import Alert, AlertNotifier
from gtm_assets.warehouse.resource import DuckDBWarehouse

OVERSPEND_TOLERANCE = 0.10  # spend may exceed the day's allocated budget by 10% (platforms pace within a day)
# Robust z-score (median and 1.4826 x MAD of the previous RECENT_DAYS) beyond which a day's conversions or
# CPA is an anomaly. Measured on the simulator's two years of Search, Display and Social: 0.24% of the
# 4,212 channel-days exceed 6 (0.7% exceed 5), mostly real promotion bursts.
ANOMALY_Z = 6.0
RECENT_DAYS = 28

# Spend on a day is governed by the latest allocation made before that day.
OVERSPEND_SQL = """
SELECT p.platform, p.campaign, p.date, p.spend::DOUBLE AS spend, a.recommended_campaign_spend AS budget, a.allocated_at
FROM main.platform_metrics p
ASOF JOIN (SELECT campaign, allocated_at, allocated_at::DATE + 1 AS effective, recommended_campaign_spend
           FROM main.allocation_history) a
  ON a.campaign = p.campaign AND p.date >= a.effective
WHERE p.spend > a.recommended_campaign_spend * (1 + $tolerance) + 0.01
ORDER BY p.date, p.campaign
"""
DAILY_CHANNEL_SQL = """
SELECT channel, date, sum(spend)::DOUBLE AS spend, sum(conversions) AS conversions
FROM main.platform_metrics WHERE channel IS NOT NULL GROUP BY ALL ORDER BY channel, date
"""


def robust_z(history: np.ndarray, value: float) -> float | None:
    history = history[~np.isnan(history)]
    if len(history) < RECENT_DAYS // 2 or np.isnan(value):
        return None
    median = float(np.median(history))
    spread = 1.4826 * float(np.median(np.abs(history - median)))
    return None if spread == 0 else (value - median) / spread


def _table_exists(conn, name: str) -> bool:
    return bool(conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()[0][0])


@dg.asset_check(asset="platform_metrics", pool=DUCKDB_POOL)
def spend_within_allocation(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, notifier: AlertNotifier
) -> dg.AssetCheckResult:
    """No campaign's platform spend on a day exceeds the budget the allocation in force gave it by more
    than the tolerance; each overspent campaign-day is alerted once."""
    with warehouse.get_connection() as conn:
        over = (
            conn.execute(OVERSPEND_SQL, {"tolerance": OVERSPEND_TOLERANCE}).fetchdf()
            if _table_exists(conn, "allocation_history")
            else None
        )
        alerts = (
            []
            if over is None
            else [
                Alert(
                    "budget_overspend",
                    f"{r.platform}/{r.campaign}",
                    str(r.date.date() if hasattr(r.date, "date") else r.date),
                    f"{r.campaign} on {r.platform} spent {r.spend:,.2f} on {r.date:%Y-%m-%d}, above its allocated {r.budget:,.2f} "
                    f"(+{OVERSPEND_TOLERANCE:.0%} tolerance)",
                    "critical",
                    {"spend": r.spend, "budget": r.budget},
                )
                for r in over.itertuples()
            ]
        )
        announced = notifier.notify(conn, alerts, context.run.run_id)
    return dg.AssetCheckResult(
        passed=not alerts,
        metadata={"overspent_campaign_days": len(alerts), "newly_alerted": len(announced), "tolerance": OVERSPEND_TOLERANCE},
    )


@dg.asset_check(asset="platform_metrics", pool=DUCKDB_POOL)
def metrics_within_recent_range(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, notifier: AlertNotifier
) -> dg.AssetCheckResult:
    """Each channel's conversions and CPA on its latest synced day lie within its recent range (robust
    z-score against the previous 28 days at most 6); an anomaly is alerted once per channel, metric and day."""
    with warehouse.get_connection() as conn:
        daily = conn.execute(DAILY_CHANNEL_SQL).fetchdf()
        alerts, scores = [], {}
        for channel, group in daily.groupby("channel"):
            conversions = group["conversions"].to_numpy(float)
            cpa = np.divide(group["spend"].to_numpy(float), conversions, out=np.full(len(group), np.nan), where=conversions > 0)
            day = group["date"].iloc[-1]
            for metric, values in (("conversions", conversions), ("cpa", cpa)):
                z = robust_z(values[-RECENT_DAYS - 1 : -1], values[-1])
                scores[f"{channel}:{metric}"] = None if z is None else round(z, 2)
                if z is not None and abs(z) > ANOMALY_Z:
                    alerts.append(
                        Alert(
                            "metric_anomaly",
                            f"{channel}/{metric}",
                            str(day),
                            f"{channel} {metric} on {day:%Y-%m-%d} is {values[-1]:,.2f}, {z:+.1f} robust SDs from "
                            f"its last {RECENT_DAYS} days",
                            details={"z": z, "value": values[-1]},
                        )
                    )
        announced = notifier.notify(conn, alerts, context.run.run_id)
    return dg.AssetCheckResult(
        passed=not alerts,
        metadata={"robust_z": dg.MetadataValue.json(scores), "anomalies": len(alerts), "newly_alerted": len(announced)},
    )


@dg.asset_check(asset="platform_campaigns", pool=DUCKDB_POOL)
def live_ads_pass_compliance(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, notifier: AlertNotifier
) -> dg.AssetCheckResult:
    """Every ad on a platform (platform_objects) passes the current brand guide's compliance check again:
    a guide that changed after an ad went live can turn it red; each such ad is alerted once per guide."""
    guide = load_brand_guide(settings.brand_guide_path())
    with warehouse.get_connection() as conn:
        labels = internal_labels(conn)
        ads = conn.execute(
            "SELECT o.platform, o.mode, o.object_id, o.platform_id, c.format, c.copy_json, b.offer_figures "
            "FROM main.platform_objects o JOIN main.creative_library c ON c.creative_id = o.object_id "
            "LEFT JOIN main.creative_briefs b ON b.lineage_id = c.brief_lineage_id WHERE o.object_type = 'ad'"
        ).fetchall()
        alerts = []
        for platform, mode, ad_id, platform_id, fmt, copy_json, figures in ads:
            result = check_creative(
                json.loads(copy_json),
                FORMATS[fmt],
                guide=guide,
                offer_figures=json.loads(figures) if figures else None,
                internal_labels=labels,
            )
            if result.light == RED:
                alerts.append(
                    Alert(
                        "live_ad_compliance",
                        f"{platform}/{ad_id}",
                        guide.sha256,
                        f"live ad {platform_id} on {platform} ({mode}) fails compliance: {'; '.join(result.reasons)}",
                        "critical",
                        {"reasons": result.reasons},
                    )
                )
        announced = notifier.notify(conn, alerts, context.run.run_id)
    return dg.AssetCheckResult(
        passed=not alerts, metadata={"live_ads_checked": len(ads), "violations": len(alerts), "newly_alerted": len(announced)}
    )
