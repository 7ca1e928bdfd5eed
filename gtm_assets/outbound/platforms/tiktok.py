"""TikTok API for Business (v1.3): campaigns, ad groups, ads, custom audiences (segments), integrated
reports, and the Events API for offline conversions. TikTok answers HTTP 200 with a ``code``: anything
but 0 is a final error, kept with its message."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pydantic import Field

from gtm_assets.outbound.platforms.base import AdPlatform, PlatformRequest

OBJECTIVES = {
    "conversions": "WEB_CONVERSIONS",
    "awareness": "REACH",
    "retention": "ENGAGEMENT",
    "lead_generation": "LEAD_GENERATION",
}
METRICS = ["spend", "impressions", "clicks", "conversion"]
PAGE_SIZE = 1000


class TikTokAdsAdapter(AdPlatform):
    """TikTok ads; offline conversions through the Events API."""

    advertiser_id: str = Field(default="0")
    pixel_code: str = Field(default="0", description="the pixel (event source) conversions are sent to")

    platform = "tiktok"
    default_base_url = "https://business-api.tiktok.com/open_api/v1.3"
    match_key_column = "email_sha256_tiktok"

    def auth_headers(self) -> dict[str, str]:
        return {"Access-Token": self.access_token} if self.access_token else {}

    def _write(self, kind: str, object_id: str, known, body: dict, id_field: str) -> PlatformRequest:
        path = {"campaign": "campaign", "ad_set": "adgroup", "ad": "ad"}[kind]
        if known:
            return PlatformRequest(
                f"update_{kind}",
                object_id,
                "POST",
                f"/{path}/update/",
                {"advertiser_id": self.advertiser_id, id_field: known.platform_id, **body},
            )
        return PlatformRequest(
            f"create_{kind}", object_id, "POST", f"/{path}/create/", {"advertiser_id": self.advertiser_id, **body}
        )

    def campaign_requests(self, campaign, known):
        body = {"campaign_name": campaign["name"], "operation_status": "DISABLE", "budget_mode": "BUDGET_MODE_INFINITE"}
        if not known:
            body["objective_type"] = OBJECTIVES.get(campaign["objective"], "WEB_CONVERSIONS")
        return [self._write("campaign", campaign["campaign_id"], known, body, "campaign_id")]

    def ad_set_requests(self, ad_set, campaign, campaign_id, audience_id, known):
        body = {
            "adgroup_name": ad_set["ad_set_id"],
            "budget_mode": "BUDGET_MODE_DAY",
            "budget": round(ad_set["daily_budget"], 2),
            "schedule_type": "SCHEDULE_START_END",
            "schedule_start_time": f"{campaign['flight']['start_date']} 00:00:00",
            "schedule_end_time": f"{campaign['flight']['end_date']} 23:59:59",
            "audience_ids": [audience_id] if audience_id else [],
            "operation_status": "DISABLE",
        }
        if not known:
            body.update(
                {
                    "campaign_id": campaign_id,
                    "placement_type": "PLACEMENT_TYPE_AUTOMATIC",
                    "optimization_goal": "CONVERT",
                    "billing_event": "OCPM",
                    "pixel_id": self.pixel_code,
                }
            )
        return [self._write("ad_set", ad_set["ad_set_id"], known, body, "adgroup_id")]

    def ad_requests(self, ad, ad_set_platform_id, known):
        copy = ad["copy"]
        text = copy.get("primary_text") or next((v for v in copy.values() if isinstance(v, str)), "")
        creative = {
            "ad_name": f"gtm-{ad['creative_id']}",
            "ad_text": text,
            "call_to_action": "SHOP_NOW",
            "ad_format": "SINGLE_VIDEO",
        }
        body = {"adgroup_id": ad_set_platform_id, "creatives": [creative]}
        return [self._write("ad", ad["ad_id"], known, body, "ad_id")]

    def audience_requests(self, audience, known):
        body = {"advertiser_id": self.advertiser_id, "custom_audience_name": f"gtm-{audience['audience_id']}"}
        if known:
            return [
                PlatformRequest(
                    "update_audience",
                    audience["audience_id"],
                    "POST",
                    "/segment/audience/",
                    {**body, "action": "update", "audience_id": known.platform_id},
                )
            ]
        return [
            PlatformRequest(
                "create_audience", audience["audience_id"], "POST", "/segment/audience/", {**body, "action": "create"}
            )
        ]

    def audience_member_requests(self, audience, platform_id, hashed_emails):
        body = {
            "advertiser_id": self.advertiser_id,
            "action": "add",
            "id_schema": ["EMAIL_SHA256"],
            "audience_ids": [platform_id],
            "batch_data": [[{"id": h, "audience_ids": [platform_id]}] for h in hashed_emails],
        }
        return [PlatformRequest("add_audience_members", audience["audience_id"], "POST", "/segment/mapping/", body)]

    def insights_request(self, level, since: date, until: date, page: Any) -> PlatformRequest:
        id_field = "campaign_id" if level == "campaign" else "ad_id"
        params = {
            "advertiser_id": self.advertiser_id,
            "report_type": "BASIC",
            "data_level": "AUCTION_CAMPAIGN" if level == "campaign" else "AUCTION_AD",
            "dimensions": json.dumps([id_field, "stat_time_day"]),
            "metrics": json.dumps([f"{level}_name", *METRICS]),
            "start_date": since.isoformat(),
            "end_date": until.isoformat(),
            "page": page or 1,
            "page_size": PAGE_SIZE,
        }
        return PlatformRequest(f"{level}_insights", self.advertiser_id, "GET", "/report/integrated/get/", params=params)

    def parse_insights(self, level, response):
        data = (response or {}).get("data") or {}
        rows = []
        for item in data.get("list", []):
            dims, metrics = item["dimensions"], item["metrics"]
            rows.append(
                {
                    "platform_id": str(dims[f"{level}_id"]),
                    "name": metrics[f"{level}_name"],
                    "date": dims["stat_time_day"][:10],
                    "spend": float(metrics.get("spend", 0)),
                    "impressions": int(float(metrics.get("impressions", 0))),
                    "clicks": int(float(metrics.get("clicks", 0))),
                    "conversions": float(metrics.get("conversion", 0)),
                }
            )
        info = data.get("page_info") or {}
        page, total = int(info.get("page", 1)), int(info.get("total_page", 1))
        return rows, (page + 1 if page < total else None)

    def render_insights(self, level, rows):
        items = [
            {
                "dimensions": {f"{level}_id": r["platform_id"], "stat_time_day": f"{r['date']} 00:00:00"},
                "metrics": {
                    f"{level}_name": r["name"],
                    "spend": f"{r['spend']:.2f}",
                    "impressions": str(r["impressions"]),
                    "clicks": str(r["clicks"]),
                    "conversion": str(r["conversions"]),
                },
            }
            for r in rows
        ]
        return {
            "code": 0,
            "message": "OK",
            "data": {
                "list": items,
                "page_info": {"page": 1, "page_size": PAGE_SIZE, "total_number": len(items), "total_page": 1},
            },
        }

    def conversions_request(self, events):
        data = [
            {
                "event": "CompletePayment",
                "event_time": int(e["event_time"].timestamp()),
                "event_id": e["event_id"],
                "user": {"email": e["email_sha256"]},
                "properties": {"value": e["value"], "currency": self.currency},
            }
            for e in events
        ]
        return PlatformRequest(
            "upload_conversions",
            events[0]["event_id"],
            "POST",
            "/event/track/",
            {"event_source": "web", "event_source_id": self.pixel_code, "data": data},
        )

    def created_id(self, response):
        data = (response or {}).get("data") or {}
        for key in ("campaign_id", "adgroup_id", "audience_id"):
            if data.get(key):
                return str(data[key]), {}
        ad_ids = data.get("ad_ids") or []
        return (str(ad_ids[0]) if ad_ids else None), {}

    def response_error(self, response):
        if isinstance(response, dict) and response.get("code", 0) != 0:
            return f"TikTok code {response['code']}: {response.get('message', '')}"
        return None
