"""Meta Marketing API (Graph API v21.0): campaigns, ad sets, ads, custom audiences, insights and the
Conversions API."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pydantic import Field

from gtm_assets.outbound.platforms.base import AdPlatform, KnownObject, PlatformRequest

OBJECTIVES = {
    "conversions": "OUTCOME_SALES",
    "awareness": "OUTCOME_AWARENESS",
    "retention": "OUTCOME_ENGAGEMENT",
    "lead_generation": "OUTCOME_LEADS",
}
PURCHASE_ACTIONS = ("purchase", "offsite_conversion.fb_pixel_purchase")


def _cents(amount: float) -> int:
    return int(round(amount * 100))


class MetaAdsAdapter(AdPlatform):
    """Meta (Facebook and Instagram) ads through the Marketing API; offline conversions through the Conversions API."""

    ad_account_id: str = Field(default="act_0", description="act_<ad account id>")
    pixel_id: str = Field(default="0", description="the dataset (pixel) offline conversions are sent to")
    page_id: str = Field(default="0", description="the Facebook page ads run as")

    platform = "meta"
    default_base_url = "https://graph.facebook.com/v21.0"
    match_key_column = "email_sha256_meta"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}

    def _write(self, operation: str, object_id: str, known: KnownObject | None, create_path: str, body: dict) -> PlatformRequest:
        if known:
            return PlatformRequest(f"update_{operation}", object_id, "POST", f"/{known.platform_id}", body)
        return PlatformRequest(f"create_{operation}", object_id, "POST", create_path, body)

    def campaign_requests(self, campaign, known):
        body = {
            "name": campaign["name"],
            "objective": OBJECTIVES.get(campaign["objective"], "OUTCOME_SALES"),
            "status": "PAUSED",
            "special_ad_categories": [],
            "buying_type": "AUCTION",
        }
        return [self._write("campaign", campaign["campaign_id"], known, f"/{self.ad_account_id}/campaigns", body)]

    def ad_set_requests(self, ad_set, campaign, campaign_id, audience_id, known):
        targeting = {"custom_audiences": [{"id": audience_id}]} if audience_id else {"geo_locations": {"countries": ["US"]}}
        body = {
            "name": ad_set["ad_set_id"],
            "campaign_id": campaign_id,
            "daily_budget": _cents(ad_set["daily_budget"]),
            "billing_event": "IMPRESSIONS",
            "optimization_goal": "OFFSITE_CONVERSIONS",
            "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
            "start_time": campaign["flight"]["start_date"],
            "end_time": campaign["flight"]["end_date"],
            "targeting": targeting,
            "promoted_object": {"pixel_id": self.pixel_id, "custom_event_type": "PURCHASE"},
            "status": "PAUSED",
        }
        return [self._write("ad_set", ad_set["ad_set_id"], known, f"/{self.ad_account_id}/adsets", body)]

    def ad_requests(self, ad, ad_set_platform_id, known):
        copy = ad["copy"]
        texts = [v for v in copy.values() if isinstance(v, str)]
        link_data = {
            "message": copy.get("primary_text") or (texts[0] if texts else ""),
            "name": copy.get("headline") or copy.get("short_headline") or "",
            "call_to_action": {"type": "SHOP_NOW"},
        }
        body = {
            "name": f"gtm-{ad['creative_id']}",
            "adset_id": ad_set_platform_id,
            "status": "PAUSED",
            "creative": {"object_story_spec": {"page_id": self.page_id, "link_data": link_data}},
        }
        return [self._write("ad", ad["ad_id"], known, f"/{self.ad_account_id}/ads", body)]

    def audience_requests(self, audience, known):
        body = {
            "name": f"gtm-{audience['audience_id']}",
            "subtype": "CUSTOM",
            "description": audience["rule"][:100],
            "customer_file_source": "USER_PROVIDED_ONLY",
        }
        return [self._write("audience", audience["audience_id"], known, f"/{self.ad_account_id}/customaudiences", body)]

    def audience_member_requests(self, audience, platform_id, hashed_emails):
        body = {"payload": {"schema": ["EMAIL_SHA256"], "data": [[h] for h in hashed_emails]}}
        return [PlatformRequest("add_audience_members", audience["audience_id"], "POST", f"/{platform_id}/users", body)]

    def insights_request(self, level, since: date, until: date, page: Any) -> PlatformRequest:
        if page:
            return PlatformRequest(f"{level}_insights", self.ad_account_id, "GET", page)
        fields = "campaign_id,campaign_name,spend,impressions,clicks,actions" + (",ad_id,ad_name" if level == "ad" else "")
        params = {
            "level": level,
            "time_increment": 1,
            "fields": fields,
            "limit": 500,
            "time_range": json.dumps({"since": since.isoformat(), "until": until.isoformat()}),
        }
        return PlatformRequest(f"{level}_insights", self.ad_account_id, "GET", f"/{self.ad_account_id}/insights", params=params)

    def parse_insights(self, level, response):
        rows = []
        for item in response.get("data", []):
            actions = {a.get("action_type"): float(a.get("value", 0)) for a in item.get("actions") or []}
            rows.append(
                {
                    "platform_id": item[f"{level}_id"],
                    "name": item[f"{level}_name"],
                    "date": item["date_start"],
                    "spend": float(item.get("spend", 0)),
                    "impressions": int(item.get("impressions", 0)),
                    "clicks": int(item.get("clicks", 0)),
                    "conversions": next((actions[a] for a in PURCHASE_ACTIONS if a in actions), 0.0),
                }
            )
        return rows, (response.get("paging") or {}).get("next")

    def render_insights(self, level, rows):
        return {
            "data": [
                {
                    f"{level}_id": r["platform_id"],
                    f"{level}_name": r["name"],
                    "date_start": str(r["date"]),
                    "date_stop": str(r["date"]),
                    "spend": f"{r['spend']:.2f}",
                    "impressions": str(r["impressions"]),
                    "clicks": str(r["clicks"]),
                    "actions": [{"action_type": "purchase", "value": str(r["conversions"])}],
                }
                for r in rows
            ],
            "paging": {},
        }

    def conversions_request(self, events):
        data = [
            {
                "event_name": "Purchase",
                "event_time": int(e["event_time"].timestamp()),
                "event_id": e["event_id"],
                "action_source": "website",
                "user_data": {"em": [e["email_sha256"]]},
                "custom_data": {"value": e["value"], "currency": self.currency},
            }
            for e in events
        ]
        return PlatformRequest("upload_conversions", events[0]["event_id"], "POST", f"/{self.pixel_id}/events", {"data": data})

    def created_id(self, response):
        return (response or {}).get("id"), {}
