"""Google Ads API (REST, v18): budgets and campaigns, ad groups, responsive search and display ads,
Customer Match user lists (offline user data jobs), GAQL insights, and enhanced conversions for leads
(click conversion uploads matched by the hashed e-mail, order id for de-duplication)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from gtm_assets.outbound.platforms.base import CREATED, AdPlatform, PlatformRequest

CHANNEL_TYPES = {"Search": "SEARCH", "Display": "DISPLAY"}
AD_GROUP_TYPES = {"SEARCH": "SEARCH_STANDARD", "DISPLAY": "DISPLAY_STANDARD"}
MICROS = 1_000_000
CAMPAIGN_QUERY = (
    "SELECT campaign.id, campaign.name, segments.date, metrics.cost_micros, metrics.impressions, "
    "metrics.clicks, metrics.conversions FROM campaign WHERE segments.date BETWEEN '{since}' AND '{until}'"
)
AD_QUERY = (
    "SELECT ad_group_ad.ad.id, ad_group_ad.ad.name, segments.date, metrics.cost_micros, metrics.impressions, "
    "metrics.clicks, metrics.conversions FROM ad_group_ad WHERE segments.date BETWEEN '{since}' AND '{until}'"
)


def _day(text: str) -> str:
    return text.replace("-", "")


class GoogleAdsAdapter(AdPlatform):
    """Google Ads search and display campaigns; offline conversions as enhanced conversions for leads."""

    customer_id: str = Field(default="0", description="Google Ads customer id, digits only")
    login_customer_id: str = Field(default="", description="manager account id, when access goes through one")
    developer_token: str | None = Field(default=None, description="set it with EnvVar(...), never as text")
    conversion_action_id: str = Field(default="0", description="the conversion action uploads are recorded against")
    landing_page: str = Field(default="https://shop.example.com/", description="final URL of the ads")
    conversion_max_age_days: int = Field(default=90, ge=1, description="Google accepts click conversions up to 90 days old")

    platform = "google_ads"
    default_base_url = "https://googleads.googleapis.com/v18"
    match_key_column = "email_sha256_google_ads"

    @property
    def customer(self) -> str:
        return f"customers/{self.customer_id}"

    def auth_headers(self) -> dict[str, str]:
        headers = {}
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        if self.developer_token:
            headers["developer-token"] = self.developer_token
        if self.login_customer_id:
            headers["login-customer-id"] = self.login_customer_id
        return headers

    def _mutate(self, operation: str, object_id: str, resource: str, body: dict, known, fields: str) -> PlatformRequest:
        if known:
            op = {"update": {"resourceName": known.platform_id, **body}, "updateMask": fields}
            return PlatformRequest(
                f"update_{operation}", object_id, "POST", f"/{self.customer}/{resource}:mutate", {"operations": [op]}
            )
        return PlatformRequest(
            f"create_{operation}", object_id, "POST", f"/{self.customer}/{resource}:mutate", {"operations": [{"create": body}]}
        )

    def campaign_requests(self, campaign, known):
        budget = {"amountMicros": str(int(round(campaign["daily_budget"] * MICROS)))}
        flight = {"startDate": _day(campaign["flight"]["start_date"]), "endDate": _day(campaign["flight"]["end_date"])}
        if known:
            return [
                PlatformRequest(
                    "update_campaign_budget",
                    campaign["campaign_id"],
                    "POST",
                    f"/{self.customer}/campaignBudgets:mutate",
                    {
                        "operations": [
                            {"update": {"resourceName": known.refs.get("budget"), **budget}, "updateMask": "amountMicros"}
                        ]
                    },
                ),
                self._mutate(
                    "campaign",
                    campaign["campaign_id"],
                    "campaigns",
                    {"name": campaign["name"], **flight},
                    known,
                    "name,startDate,endDate",
                ),
            ]
        temp_budget, temp_campaign = f"{self.customer}/campaignBudgets/-1", f"{self.customer}/campaigns/-2"
        channel_type = CHANNEL_TYPES.get(campaign["channel"], "DISPLAY")
        operations = [
            {
                "campaignBudgetOperation": {
                    "create": {
                        "resourceName": temp_budget,
                        "name": f"gtm-{campaign['campaign_id']}",
                        "deliveryMethod": "STANDARD",
                        "explicitlyShared": False,
                        **budget,
                    }
                }
            },
            {
                "campaignOperation": {
                    "create": {
                        "resourceName": temp_campaign,
                        "name": campaign["name"],
                        "status": "PAUSED",
                        "advertisingChannelType": channel_type,
                        "campaignBudget": temp_budget,
                        "maximizeConversions": {},
                        **flight,
                    }
                }
            },
        ]
        return [
            PlatformRequest(
                "create_campaign",
                campaign["campaign_id"],
                "POST",
                f"/{self.customer}/googleAds:mutate",
                {"mutateOperations": operations},
            )
        ]

    def ad_set_requests(self, ad_set, campaign, campaign_id, audience_id, known):
        body = {
            "name": ad_set["ad_set_id"],
            "campaign": campaign_id,
            "status": "PAUSED",
            "type": AD_GROUP_TYPES[CHANNEL_TYPES.get(campaign["channel"], "DISPLAY")],
        }
        if known:
            return [self._mutate("ad_set", ad_set["ad_set_id"], "adGroups", {"name": body["name"]}, known, "name")]
        requests = [self._mutate("ad_set", ad_set["ad_set_id"], "adGroups", body, None, "")]
        if audience_id:
            requests.append(
                PlatformRequest(
                    "target_audience",
                    ad_set["ad_set_id"],
                    "POST",
                    f"/{self.customer}/adGroupCriteria:mutate",
                    {"operations": [{"create": {"adGroup": CREATED, "userList": {"userList": audience_id}}}]},
                )
            )
        return requests

    def ad_requests(self, ad, ad_set_platform_id, known):
        copy = ad["copy"]
        if ad["format"] == "search_rsa":
            creative = {
                "responsiveSearchAd": {
                    "headlines": [{"text": h} for h in copy["headlines"]],
                    "descriptions": [{"text": d} for d in copy["descriptions"]],
                }
            }
        else:
            creative = {
                "responsiveDisplayAd": {
                    "headlines": [{"text": copy.get("short_headline", "")}],
                    "longHeadline": {"text": copy.get("long_headline", "")},
                    "descriptions": [{"text": copy.get("description", "")}],
                }
            }
        if known:  # ad content is immutable on Google Ads: an update can only rename or pause
            return [self._mutate("ad", ad["ad_id"], "adGroupAds", {"status": "PAUSED"}, known, "status")]
        body = {
            "adGroup": ad_set_platform_id,
            "status": "PAUSED",
            "ad": {"name": f"gtm-{ad['creative_id']}", "finalUrls": [self.landing_page], **creative},
        }
        return [self._mutate("ad", ad["ad_id"], "adGroupAds", body, None, "")]

    def audience_requests(self, audience, known):
        body = {
            "name": f"gtm-{audience['audience_id']}",
            "description": audience["rule"][:200],
            "membershipLifeSpan": 540,
            "crmBasedUserList": {"uploadKeyType": "CONTACT_INFO", "dataSourceType": "FIRST_PARTY"},
        }
        if known:
            return [
                self._mutate(
                    "audience", audience["audience_id"], "userLists", {"description": body["description"]}, known, "description"
                )
            ]
        return [self._mutate("audience", audience["audience_id"], "userLists", body, None, "")]

    def audience_member_requests(self, audience, platform_id, hashed_emails):
        object_id = audience["audience_id"]
        job = {"job": {"type": "CUSTOMER_MATCH_USER_LIST", "customerMatchUserListMetadata": {"userList": platform_id}}}
        operations = [{"create": {"userIdentifiers": [{"hashedEmail": h}]}} for h in hashed_emails]
        return [
            PlatformRequest("create_audience_job", object_id, "POST", f"/{self.customer}/offlineUserDataJobs:create", job),
            PlatformRequest(
                "add_audience_members",
                object_id,
                "POST",
                f"/{CREATED}:addOperations",
                {"operations": [{"remove_all": True}] + operations, "enablePartialFailure": True},
            ),
            PlatformRequest("run_audience_job", object_id, "POST", f"/{CREATED}:run", {}),
        ]

    def insights_request(self, level, since: date, until: date, page: Any) -> PlatformRequest:
        query = (CAMPAIGN_QUERY if level == "campaign" else AD_QUERY).format(since=since.isoformat(), until=until.isoformat())
        return PlatformRequest(
            f"{level}_insights", self.customer_id, "POST", f"/{self.customer}/googleAds:searchStream", {"query": query}
        )

    def parse_insights(self, level, response):
        rows = []
        for batch in response or []:
            for result in batch.get("results", []):
                entity = result["campaign"] if level == "campaign" else result["adGroupAd"]["ad"]
                metrics = result.get("metrics", {})
                rows.append(
                    {
                        "platform_id": str(entity["id"]),
                        "name": entity["name"],
                        "date": result["segments"]["date"],
                        "spend": int(metrics.get("costMicros", 0)) / MICROS,
                        "impressions": int(metrics.get("impressions", 0)),
                        "clicks": int(metrics.get("clicks", 0)),
                        "conversions": float(metrics.get("conversions", 0)),
                    }
                )
        return rows, None

    def render_insights(self, level, rows):
        key = "campaign" if level == "campaign" else "adGroupAd"
        results = []
        for r in rows:
            entity = {"id": r["platform_id"], "name": r["name"]}
            results.append(
                {
                    key: entity if level == "campaign" else {"ad": entity},
                    "segments": {"date": str(r["date"])},
                    "metrics": {
                        "costMicros": str(int(round(r["spend"] * MICROS))),
                        "impressions": str(r["impressions"]),
                        "clicks": str(r["clicks"]),
                        "conversions": float(r["conversions"]),
                    },
                }
            )
        return [{"results": results}]

    def conversions_request(self, events):
        action = f"{self.customer}/conversionActions/{self.conversion_action_id}"
        conversions = [
            {
                "conversionAction": action,
                "conversionDateTime": e["event_time"].strftime("%Y-%m-%d %H:%M:%S+00:00"),
                "conversionValue": e["value"],
                "currencyCode": self.currency,
                "orderId": e["event_id"],
                "userIdentifiers": [{"hashedEmail": e["email_sha256"]}],
            }
            for e in events
        ]
        return PlatformRequest(
            "upload_conversions",
            events[0]["event_id"],
            "POST",
            f"/{self.customer}:uploadClickConversions",
            {"conversions": conversions, "partialFailure": True},
        )

    def created_id(self, response):
        response = response or {}
        if "mutateOperationResponses" in response:
            results = response["mutateOperationResponses"]
            budget = next((r["campaignBudgetResult"]["resourceName"] for r in results if "campaignBudgetResult" in r), None)
            campaign = next((r["campaignResult"]["resourceName"] for r in results if "campaignResult" in r), None)
            return campaign, {"budget": budget} if budget else {}
        if response.get("results"):
            return response["results"][0].get("resourceName"), {}
        return response.get("resourceName"), {}

    def response_error(self, response):
        failure = (response or {}).get("partialFailureError") if isinstance(response, dict) else None
        return f"partial failure: {failure.get('message', failure)}" if failure else None
