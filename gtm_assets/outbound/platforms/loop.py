"""What every adapter does with the platform: publish the payload (create or update campaign -> ad set
-> ad, and customer-list audiences), pull insights, upload offline conversions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from gtm_assets.outbound.platforms import fake
from gtm_assets.outbound.platforms.base import AdPlatform, KnownObject, PlatformCall, content_sha256

MAX_INSIGHT_PAGES = 200
AUDIENCE_KIND_WITH_LIST = "user_cluster"  # broadcast has no list; B2B roles are e-mailed by us, never uploaded


def _skipped(adapter: AdPlatform, object_type: str, object_id: str, why: str) -> PlatformCall:
    return PlatformCall(
        adapter.platform, f"create_{object_type}", object_id, "", adapter.mode, "skipped", {}, error=why, object_type=object_type
    )


def publish_payload(
    adapter: AdPlatform,
    payload: dict,
    audience_emails: dict[str, list[str]],
    known: dict[tuple[str, str], KnownObject],
    outbox: Path | None,
) -> list[PlatformCall]:
    """Create what is new, update what changed, leave what is unchanged, for the payload's campaigns on
    this adapter's channels. ``known``: (object type, our id) -> what an earlier publish created.
    ``audience_emails``: audience id -> the platform's match keys of its consented members."""
    campaigns = [c for c in payload["campaigns"] if c["channel"] in adapter.channels]
    audiences = {a["audience_id"]: a for a in payload["audiences"]}
    calls: list[PlatformCall] = []

    def upsert(session, object_type: str, object_id: str, body: dict, build) -> str | None:
        content = content_sha256(body)
        seen = known.get((object_type, object_id))
        if seen and seen.content_sha256 == content:
            return seen.platform_id
        step_calls, platform_id, refs = session.step(object_type, build(seen), content, seen.platform_id if seen else None)
        for call in step_calls:
            call.object_id = object_id
        calls.extend(step_calls)
        if platform_id:
            known[(object_type, object_id)] = KnownObject(platform_id, content, {**(seen.refs if seen else {}), **refs})
        return platform_id

    with adapter.session(outbox) as session:
        audience_ids = {}
        for audience_id in sorted({s["audience_id"] for c in campaigns for s in c["ad_sets"]}):
            audience = audiences.get(audience_id)
            if audience is None or audience["kind"] != AUDIENCE_KIND_WITH_LIST:
                continue
            head = {k: audience[k] for k in ("audience_id", "kind", "rule")}
            platform_id = upsert(
                session, "audience", audience_id, head, lambda seen, a=audience: adapter.audience_requests(a, seen)
            )
            if platform_id is None:
                continue
            emails = sorted(audience_emails.get(audience_id, []))
            upsert(
                session,
                "audience_members",
                audience_id,
                {"members": emails},
                lambda seen, a=audience, p=platform_id, e=emails: adapter.audience_member_requests(a, p, e),
            )
            audience_ids[audience_id] = platform_id
        for campaign in campaigns:
            head = {k: v for k, v in campaign.items() if k != "ad_sets"}
            campaign_pid = upsert(
                session, "campaign", campaign["campaign_id"], head, lambda seen, c=campaign: adapter.campaign_requests(c, seen)
            )
            for ad_set in campaign["ad_sets"]:
                if campaign_pid is None:
                    calls.append(_skipped(adapter, "ad_set", ad_set["ad_set_id"], "its campaign was not created"))
                    continue
                set_head = {
                    **{k: v for k, v in ad_set.items() if k != "ads"},
                    "flight": campaign["flight"],
                    "platform_audience": audience_ids.get(ad_set["audience_id"]),
                }
                ad_set_pid = upsert(
                    session,
                    "ad_set",
                    ad_set["ad_set_id"],
                    set_head,
                    lambda seen, s=ad_set, c=campaign, p=campaign_pid: adapter.ad_set_requests(
                        s, c, p, audience_ids.get(s["audience_id"]), seen
                    ),
                )
                for ad in ad_set["ads"]:
                    if ad_set_pid is None:
                        calls.append(_skipped(adapter, "ad", ad["ad_id"], "its ad set was not created"))
                        continue
                    upsert(
                        session,
                        "ad",
                        ad["ad_id"],
                        {**ad, "ad_set": ad_set_pid},
                        lambda seen, a=ad, p=ad_set_pid: adapter.ad_requests(a, p, seen),
                    )
    return calls


def insights_window_end(adapter: AdPlatform) -> date | None:
    """The last day to ask for: today (UTC) on the platform, the last day of spend on the fake."""
    return datetime.now(UTC).date() if adapter.mode == "http" else fake.window_end(adapter.channels)


def fetch_insights(adapter: AdPlatform, level: str, since: date, until: date) -> tuple[list[dict], list[PlatformCall]]:
    """Insights rows of ``level`` (campaign or ad) per day, every page; offline, from the fake platform."""
    rows, calls, page = [], [], None
    with adapter.session(None) as session:
        for _ in range(MAX_INSIGHT_PAGES):
            call = session.call(adapter.insights_request(level, since, until, page))
            call.object_type = f"{level}_insights"
            if adapter.mode == "dry_run":
                call.status, call.response = "offline_fake", fake.insights_response(adapter, level, since, until)
            calls.append(call)
            if call.status not in ("sent", "offline_fake"):
                break
            got, page = adapter.parse_insights(level, call.response)
            rows.extend(got)
            if page is None:
                break
    return rows, calls


def upload_conversions(adapter: AdPlatform, events: list[dict], outbox: Path | None) -> list[PlatformCall]:
    """Offline conversions in batches; each event carries its event id, for the platform's de-duplication."""
    calls = []
    with adapter.session(outbox) as session:
        for start in range(0, len(events), adapter.conversion_batch_size):
            batch = events[start : start + adapter.conversion_batch_size]
            call = session.call(adapter.conversions_request(batch))
            call.object_type = "conversions"
            calls.append(call)
    return calls
