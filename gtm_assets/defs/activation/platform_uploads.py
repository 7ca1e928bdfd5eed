"""The upload step: platform_campaigns (the payload as campaigns, ad sets, ads and customer-list audiences
on each platform) and offline_conversions. This module is the only reader of restricted.match_keys: the
platforms' unkeyed e-mail hashes are joined to consented users here, at the moment they are sent, and
nowhere else (the call log stores requests with every match key redacted)."""

import json
from typing import Literal

import dagster as dg
from pydantic import Field

from gtm_assets import settings
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.outbound.platforms.base import AdPlatform
from gtm_assets.outbound.platforms.google_ads import GoogleAdsAdapter
from gtm_assets.outbound.platforms.loop import AUDIENCE_KIND_WITH_LIST, publish_payload, upload_conversions
from gtm_assets.outbound.platforms.meta import MetaAdsAdapter
from gtm_assets.outbound.platforms.records import ensure_tables, known_objects, record_calls, save_objects
from gtm_assets.outbound.platforms.tiktok import TikTokAdsAdapter
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

FAILED = ("rejected", "failed", "skipped")
# Conversions a platform may receive: the conversion session had ads consent, and the user is in
# match_keys (their latest session consented to ads and they have an address), not yet uploaded to this
# platform in this mode, and not older than the platform accepts (counted back from the newest conversion).
CONVERSIONS_SQL = """
SELECT t.session_lineage_id AS event_id, t.converted_at AS event_time, {value} AS value,
       m.{column} AS email_sha256
FROM main.touchpoints t
JOIN restricted.match_keys m USING (user_key)
LEFT JOIN main.customer_ltv l USING (user_key)
WHERE t.is_conversion_touch AND t.consent_ads AND m.{column} IS NOT NULL
  AND t.converted_at >= (SELECT max(converted_at) FROM main.touchpoints) - to_days($max_age)
  AND NOT EXISTS (SELECT 1 FROM main.conversion_uploads u WHERE u.platform = $platform AND u.mode = $mode
                  AND u.event_id = t.session_lineage_id AND u.status IN ('sent', 'dry_run'))
ORDER BY t.converted_at, t.session_lineage_id
"""


# The value sent with a conversion (value-based bidding): the conversion's own revenue, or the
# customer's predicted lifetime value (customer_ltv; the conversion's revenue when the customer has none).
CONVERSION_VALUES = {
    "conversion": "t.conversion_value::DOUBLE",
    "predicted_ltv": "coalesce(l.predicted_ltv, t.conversion_value::DOUBLE)",
}


class OfflineConversionsConfig(dg.Config):
    value: Literal["conversion", "predicted_ltv"] = Field(
        default="conversion",
        description="value sent with each conversion: its revenue, or the customer's predicted lifetime value "
        "(customer_ltv) for value-based bidding",
    )


def enabled_adapters(*adapters: AdPlatform) -> list[AdPlatform]:
    return [a for a in adapters if a.enabled]


def running_adapters(*adapters: AdPlatform) -> list[AdPlatform]:
    """Enabled platforms that run some of our channels: the only ones campaigns and conversions go to."""
    return [a for a in enabled_adapters(*adapters) if a.channels]


def audience_match_keys(conn, payload: dict, column: str) -> dict[str, list[str]]:
    """Audience id -> the platform's e-mail hashes of its members (the payload lists consented members only;
    match_keys holds consented users only)."""
    keys = {}
    for audience in payload["audiences"]:
        if audience["kind"] != AUDIENCE_KIND_WITH_LIST or not audience["member_keys"]:
            continue
        rows = conn.execute(
            f"SELECT {column} FROM restricted.match_keys WHERE {column} IS NOT NULL AND list_contains(?, user_key) ORDER BY 1",
            [audience["member_keys"]],
        ).fetchall()
        keys[audience["audience_id"]] = [r[0] for r in rows]
    return keys


def _summary(calls) -> dict:
    summary: dict = {}
    for call in calls:
        summary.setdefault(call.platform, {}).setdefault(call.status, 0)
        summary[call.platform][call.status] += 1
    return summary


def _raise_on_failures(calls, what: str) -> None:
    bad = [c for c in calls if c.status in FAILED]
    if bad:
        shown = "; ".join(f"{c.platform} {c.operation} {c.object_id[:12]}: {c.status} ({c.error})" for c in bad[:5])
        raise dg.Failure(
            description=f"{len(bad)} {what} call(s) did not succeed: {shown}",
            metadata={"calls_by_status": dg.MetadataValue.json(_summary(calls))},
        )


OBJECT_COLUMNS = {
    "platform": "Ad platform (meta, google_ads, tiktok).",
    "mode": "dry_run or http: objects of a dry run are kept apart from real ones.",
    "object_type": "campaign, ad_set (ad group), ad or audience.",
    "object_id": "Our id of the object (from the payload).",
    "platform_id": "The platform's id of the object (a dry-run placeholder in dry_run mode).",
    "refs_json": "Ids of the objects this one hangs under (JSON).",
    "content_sha256": "sha256 of the content last sent: unchanged content is not sent again.",
    "updated_at": "When the object was last created or updated (UTC).",
    "run_id": "Dagster run id that last wrote the object.",
}
UPLOAD_COLUMNS = {
    "platform": "Ad platform the conversion went to.",
    "mode": "dry_run or http.",
    "event_id": "Event id sent (the conversion session's lineage id): the platform de-duplicates on it.",
    "idempotency_key": "Key of the request that carried the event.",
    "status": "Outcome of that request (dry_run, sent, rejected, failed).",
    "event_time": "When the conversion happened (UTC).",
    "value": "Conversion value sent.",
    "uploaded_at": "When it was uploaded (UTC).",
    "run_id": "Dagster run id of the upload.",
}


@dg.asset(
    deps=["dsp_payload", "match_keys"],
    group_name="activation",
    owners=[OWNER],
    kinds={"duckdb", "python"},
    pool=DUCKDB_POOL,
)
def platform_campaigns(
    context: dg.AssetExecutionContext,
    warehouse: DuckDBWarehouse,
    meta_ads: MetaAdsAdapter,
    google_ads: GoogleAdsAdapter,
    tiktok_ads: TikTokAdsAdapter,
) -> dg.MaterializeResult:
    """The newest payload on each enabled platform (its channels only): customer-list audiences (the
    platform's e-mail hashes of consented members), then campaign -> ad set / ad group -> ad, each created
    when new, updated when its content changed and left alone when unchanged (platform_objects). Dry-run
    by default: the exact requests go to data/outbox/platforms/<platform>/. Every call and response is in
    platform_calls (match keys redacted); a rejected or failed call fails this asset after all platforms ran."""
    calls = []
    with warehouse.get_connection() as conn:
        ensure_tables(conn)
        payload_id, document = conn.execute(
            "SELECT payload_id, document FROM main.payload_outbox ORDER BY created_at DESC LIMIT 1"
        ).fetchall()[0]
        payload = json.loads(document)
        for adapter in running_adapters(meta_ads, google_ads, tiktok_ads):
            known = known_objects(conn, adapter.platform, adapter.mode)
            emails = audience_match_keys(conn, payload, adapter.match_key_column)
            published = publish_payload(adapter, payload, emails, known, settings.outbox_dir())
            record_calls(conn, published, context.run_id)
            save_objects(conn, adapter.platform, adapter.mode, known, context.run_id)
            calls += published
        objects = conn.execute(
            "SELECT platform, mode, object_type, count(*) FROM main.platform_objects GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        metadata = table_metadata(conn, "main.platform_objects", descriptions=OBJECT_COLUMNS)
    _raise_on_failures(calls, "publishing")
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "payload_id": payload_id,
            "calls_by_status": dg.MetadataValue.json(_summary(calls)),
            "objects_on_platforms": dg.MetadataValue.json({f"{p}/{m}/{t}": int(n) for p, m, t, n in objects}),
            "outbox": dg.MetadataValue.path(str(settings.outbox_dir() / "platforms")),
        }
    )


@dg.asset(
    deps=["touchpoints", "match_keys", "customer_ltv"],
    group_name="activation",
    owners=[OWNER],
    kinds={"duckdb", "python"},
    pool=DUCKDB_POOL,
)
def offline_conversions(
    context: dg.AssetExecutionContext,
    config: OfflineConversionsConfig,
    warehouse: DuckDBWarehouse,
    meta_ads: MetaAdsAdapter,
    google_ads: GoogleAdsAdapter,
    tiktok_ads: TikTokAdsAdapter,
) -> dg.MaterializeResult:
    """Upload conversions to each enabled platform (Meta Conversions API, Google Ads enhanced conversions
    for leads, TikTok Events API) with the conversion session's lineage id as event id, so the platform
    de-duplicates a repeated upload. Only conversions of sessions with ads consent by users whose latest
    session consented; users without consent still count in attribution, in aggregate. Each event goes to
    a platform once (conversion_uploads) and only within the platform's age limit. The value sent is the
    conversion's revenue, or with `value: predicted_ltv` the customer's predicted lifetime value."""
    calls, counts = [], {}
    with warehouse.get_connection() as conn:
        ensure_tables(conn)
        total, consented = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE consent_ads AND user_key IN (SELECT user_key FROM restricted.match_keys)) "
            "FROM main.touchpoints WHERE is_conversion_touch"
        ).fetchall()[0]
        for adapter in running_adapters(meta_ads, google_ads, tiktok_ads):
            events = (
                conn.execute(
                    CONVERSIONS_SQL.format(column=adapter.match_key_column, value=CONVERSION_VALUES[config.value]),
                    {"max_age": adapter.conversion_max_age_days, "platform": adapter.platform, "mode": adapter.mode},
                )
                .fetchdf()
                .to_dict("records")
            )
            uploaded = upload_conversions(adapter, events, settings.outbox_dir())
            record_calls(conn, uploaded, context.run_id)
            size = adapter.conversion_batch_size
            rows = [
                (
                    adapter.platform,
                    adapter.mode,
                    e["event_id"],
                    call.idempotency_key,
                    call.status,
                    e["event_time"],
                    e["value"],
                    context.run_id,
                )
                for i, call in enumerate(uploaded)
                for e in events[i * size : (i + 1) * size]
            ]
            if rows:
                conn.executemany("INSERT INTO main.conversion_uploads VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?)", rows)
            counts[adapter.platform] = {"events": len(events), "requests": len(uploaded)}
            calls += uploaded
        metadata = table_metadata(conn, "main.conversion_uploads", descriptions=UPLOAD_COLUMNS)
    _raise_on_failures(calls, "conversion upload")
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "conversions": int(total),
            "eligible_with_ads_consent_and_match_key": int(consented),
            "not_uploaded_without_consent_or_key": int(total - consented),
            "uploaded_by_platform": dg.MetadataValue.json(counts),
            "calls_by_status": dg.MetadataValue.json(_summary(calls)),
            "conversion_value_basis": config.value,
        }
    )
