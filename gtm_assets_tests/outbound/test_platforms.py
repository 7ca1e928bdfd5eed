"""The three platform adapters against a local server on 127.0.0.1 that the test starts: success (and the
campaign -> ad set -> ad chain of platform ids), 429 with Retry-After then success, 500 then success, 400 with
an error body, a timeout, each a defined outcome; insights parsed from each platform's own response format;
offline conversions with event ids; dry-run sends nothing and writes the exact requests to the outbox."""

import json
import socket
import time
from datetime import UTC, date, datetime

import pytest

from gtm_assets.outbound.platforms.base import KnownObject
from gtm_assets.outbound.platforms.google_ads import GoogleAdsAdapter
from gtm_assets.outbound.platforms.loop import fetch_insights, publish_payload, upload_conversions
from gtm_assets.outbound.platforms.meta import MetaAdsAdapter
from gtm_assets.outbound.platforms.tiktok import TikTokAdsAdapter
from gtm_assets_tests.outbound.platform_server import platform_server

TOKEN = "platform-token-s3cret-789"
ROOTS = {"meta": "/v21.0", "google_ads": "/v18", "tiktok": "/open_api/v1.3"}
HASH_A, HASH_B = "a" * 64, "b" * 64


def make(platform: str, url: str = "", **overrides):
    cls = {"meta": MetaAdsAdapter, "google_ads": GoogleAdsAdapter, "tiktok": TikTokAdsAdapter}[platform]
    extra = {
        "meta": {"ad_account_id": "act_1", "pixel_id": "77"},
        "google_ads": {"customer_id": "1", "developer_token": "dev-s3cret"},
        "tiktok": {"advertiser_id": "5", "pixel_code": "PX"},
    }[platform]
    mode = {"mode": "http", "base_url": f"{url}{ROOTS[platform]}"} if url else {}
    settings = {
        "access_token": TOKEN,
        "channels": ["Search" if platform == "google_ads" else "Social"],
        "backoff_seconds": 0.0,
        "timeout_seconds": 2.0,
        "requests_per_second": 0,
        **mode,
        **extra,
        **overrides,
    }
    return cls(**settings)


def payload(channel: str, budget: float = 120.0) -> dict:
    ads = [
        {
            "ad_id": f"{i}" * 32,
            "creative_id": f"{i}" * 32,
            "format": "search_rsa" if channel == "Search" else "social",
            "variant": i,
            "compliance": {"traffic_light": "green", "score": 1.0, "approved_by": None},
            "audio": None,
            "copy": (
                {"headlines": ["Fresh picks"] * 15, "descriptions": ["Shop the new season."] * 4}
                if channel == "Search"
                else {"primary_text": "New season, new picks.", "headline": "Shop now", "call_to_action": "Shop now"}
            ),
        }
        for i in (1, 2)
    ]
    return {
        "campaigns": [
            {
                "campaign_id": "c" * 32,
                "name": "spring_sale",
                "channel": channel,
                "objective": "conversions",
                "daily_budget": budget,
                "flight": {"start_date": "2026-03-01", "end_date": "2026-03-07"},
                "budget_source": "allocations",
                "ad_sets": [
                    {
                        "ad_set_id": "e" * 32,
                        "audience_id": "f" * 32,
                        "daily_budget": budget,
                        "budget_share": 1.0,
                        "bid_strategy": "lowest_cost",
                        "ads": ads,
                    }
                ],
            }
        ],
        "audiences": [
            {
                "audience_id": "f" * 32,
                "kind": "user_cluster",
                "rule": "cluster 1",
                "size": 2,
                "key_type": "hmac_sha256_user_key",
                "member_keys": ["1" * 64, "2" * 64],
            }
        ],
    }


@pytest.fixture()
def server():
    with platform_server() as running:
        yield running


@pytest.mark.parametrize("platform", ["meta", "google_ads", "tiktok"])
def test_publish_creates_the_chain_then_updates_only_what_changed(server, platform):
    url, state = server
    adapter = make(platform, url)
    known: dict = {}
    calls = publish_payload(adapter, payload(adapter.channels[0]), {"f" * 32: [HASH_A, HASH_B]}, known, None)
    assert {c.status for c in calls} == {"sent"}
    kinds = [c.object_type for c in calls]
    assert kinds.index("audience") < kinds.index("campaign") < kinds.index("ad_set") < kinds.index("ad")
    assert len([c for c in calls if c.object_type == "ad"]) == 2
    # credentials go only in headers, and the recorded requests mask them
    for request in state.requests:
        assert TOKEN in json.dumps(request["headers"])
        assert request["headers"]["Idempotency-Key"]
    assert all(TOKEN not in json.dumps(c.request) for c in calls)
    # the ad set references the campaign's platform id, the ads the ad set's, the ad set the audience's
    by_type = {c.object_type: c for c in calls}
    ad_set_body = json.dumps(
        [r["body"] for r in state.requests if r["path"].endswith(("/adsets", "adGroups:mutate", "/adgroup/create/"))]
    )
    assert by_type["campaign"].platform_id in ad_set_body
    ad_body = json.dumps([r["body"] for r in state.requests if r["path"].endswith(("/ads", "adGroupAds:mutate", "/ad/create/"))])
    assert by_type["ad_set"].platform_id in ad_body
    members = json.dumps(
        [r["body"] for r in state.requests if "ddOperations" in r["path"] or r["path"].endswith(("/users", "/mapping/"))]
    )
    assert HASH_A in members and HASH_B in members

    sent = len(state.requests)
    assert publish_payload(adapter, payload(adapter.channels[0]), {"f" * 32: [HASH_A, HASH_B]}, known, None) == []
    assert len(state.requests) == sent  # nothing changed: nothing sent
    again = publish_payload(adapter, payload(adapter.channels[0], budget=150.0), {"f" * 32: [HASH_A, HASH_B]}, known, None)
    assert sorted({c.operation.split("_")[0] for c in again}) == ["update"]
    assert {c.object_type for c in again} == {"campaign", "ad_set"} and all(c.status == "sent" for c in again)


@pytest.mark.parametrize("platform", ["meta", "google_ads", "tiktok"])
def test_429_with_retry_after_then_success_waits_and_keeps_the_key(server, platform):
    url, state = server
    prefix = ROOTS[platform]
    state.script[prefix] = [(429, {"error": {"message": "User request limit reached"}}, {"Retry-After": "1"})]
    started = time.monotonic()
    calls = publish_payload(make(platform, url), payload(make(platform).channels[0]), {}, {}, None)
    first = calls[0]
    assert first.status == "sent" and [a.http_status for a in first.attempts] == [429, 200]
    assert time.monotonic() - started >= 1.0  # Retry-After honoured (the configured backoff is 0)
    assert state.requests[0]["headers"]["Idempotency-Key"] == state.requests[1]["headers"]["Idempotency-Key"]
    assert state.requests[1]["at"] - state.requests[0]["at"] >= 1.0


@pytest.mark.parametrize("platform", ["meta", "google_ads", "tiktok"])
def test_500_then_success_is_retried(server, platform):
    url, state = server
    state.script[ROOTS[platform]] = [(500, {"error": "internal"}, {})]
    calls = publish_payload(make(platform, url), payload(make(platform).channels[0]), {}, {}, None)
    assert calls[0].status == "sent" and [a.http_status for a in calls[0].attempts] == [500, 200]


@pytest.mark.parametrize("platform", ["meta", "google_ads", "tiktok"])
def test_400_is_final_keeps_the_error_body_and_skips_the_children(server, platform):
    url, state = server
    message = "Invalid parameter: daily_budget below the minimum"
    state.script[ROOTS[platform]] = [(400, {"error": {"message": message, "code": 100}}, {})]
    adapter = make(platform, url)
    body = payload(adapter.channels[0])
    body["audiences"] = []
    calls = publish_payload(adapter, body, {}, {}, None)
    campaign = calls[0]
    assert campaign.status == "rejected" and len(campaign.attempts) == 1 and message in campaign.error
    assert {c.status for c in calls[1:]} == {"skipped"} and len(state.requests) == 1


@pytest.mark.parametrize("platform", ["meta", "google_ads", "tiktok"])
def test_a_timeout_fails_after_the_configured_attempts(server, platform):
    url, state = server
    state.script[ROOTS[platform]] = [("sleep", 0.8)] * 3
    adapter = make(platform, url, timeout_seconds=0.3, max_attempts=3)
    calls = upload_conversions(
        adapter,
        [{"event_id": "ev1", "event_time": datetime(2026, 1, 2, tzinfo=UTC), "value": 10.0, "email_sha256": HASH_A}],
        None,
    )
    assert len(calls) == 1 and calls[0].status == "failed"
    assert [a.error for a in calls[0].attempts] == ["timed out after 0.3 s"] * 3


def test_tiktok_error_code_inside_a_200_is_a_rejection(server):
    url, state = server
    state.script["/open_api"] = [(200, {"code": 40002, "message": "budget is too low"}, {})]
    calls = publish_payload(make("tiktok", url), payload("Social"), {}, {}, None)
    assert calls[0].status == "rejected" and "40002" in calls[0].error


def test_conversions_carry_event_ids_and_hashed_emails_in_each_platforms_shape(server):
    url, state = server
    events = [
        {"event_id": f"ev{i}", "event_time": datetime(2026, 1, 2, 10, 0, tzinfo=UTC), "value": 12.5, "email_sha256": HASH_A}
        for i in range(5)
    ]
    for platform in ("meta", "google_ads", "tiktok"):
        calls = upload_conversions(make(platform, url, conversion_batch_size=2), events, None)
        assert [c.status for c in calls] == ["sent"] * 3  # batches of 2, 2, 1
    meta, google, tiktok = (state.requests[0]["body"], state.requests[3]["body"], state.requests[6]["body"])
    assert meta["data"][0] == {
        "event_name": "Purchase",
        "event_time": 1767348000,
        "event_id": "ev0",
        "action_source": "website",
        "user_data": {"em": [HASH_A]},
        "custom_data": {"value": 12.5, "currency": "USD"},
    }
    assert state.requests[0]["path"] == "/v21.0/77/events"
    assert google["conversions"][0]["orderId"] == "ev0" and google["conversions"][0]["userIdentifiers"] == [
        {"hashedEmail": HASH_A}
    ]
    assert google["conversions"][0]["conversionDateTime"] == "2026-01-02 10:00:00+00:00" and google["partialFailure"] is True
    assert tiktok["data"][0]["event_id"] == "ev0" and tiktok["data"][0]["user"] == {"email": HASH_A}
    assert tiktok["event_source_id"] == "PX"


# Answers written from each platform's documented insights response (not produced by the adapters).
META_PAGE_1 = {
    "data": [
        {
            "campaign_id": "238",
            "campaign_name": "social_video",
            "date_start": "2026-01-01",
            "date_stop": "2026-01-01",
            "spend": "101.25",
            "impressions": "12000",
            "clicks": "140",
            "actions": [{"action_type": "link_click", "value": "150"}, {"action_type": "purchase", "value": "4"}],
        }
    ],
    "paging": {"next": "{url}/v21.0/act_1/insights?after=MQZDZD"},
}
META_PAGE_2 = {
    "data": [
        {
            "campaign_id": "238",
            "campaign_name": "social_video",
            "date_start": "2026-01-02",
            "date_stop": "2026-01-02",
            "spend": "99.00",
            "impressions": "11000",
            "clicks": "120",
        }
    ],
    "paging": {},
}
GOOGLE_STREAM = [
    {
        "results": [
            {
                "campaign": {"resourceName": "customers/1/campaigns/9", "id": "9", "name": "search_brand"},
                "segments": {"date": "2026-01-01"},
                "metrics": {"costMicros": "250500000", "impressions": "3000", "clicks": "210", "conversions": 17.0},
            }
        ],
        "fieldMask": "campaign.id,campaign.name,segments.date,metrics.costMicros",
    }
]
TIKTOK_REPORT = {
    "code": 0,
    "message": "OK",
    "data": {
        "list": [
            {
                "dimensions": {"campaign_id": "171", "stat_time_day": "2026-01-01 00:00:00"},
                "metrics": {
                    "campaign_name": "social_video",
                    "spend": "55.10",
                    "impressions": "9000",
                    "clicks": "80",
                    "conversion": "3",
                },
            }
        ],
        "page_info": {"page": 1, "page_size": 1000, "total_number": 1, "total_page": 1},
    },
}


def test_insights_are_read_from_each_platforms_response_format(server):
    url, state = server
    state.script["/v21.0"] = [(200, json.loads(json.dumps(META_PAGE_1).replace("{url}", url)), {}), (200, META_PAGE_2, {})]
    state.script["/v18"] = [(200, GOOGLE_STREAM, {})]
    state.script["/open_api"] = [(200, TIKTOK_REPORT, {})]
    window = (date(2026, 1, 1), date(2026, 1, 2))
    meta, calls = fetch_insights(make("meta", url), "campaign", *window)
    assert len(calls) == 2 and state.requests[1]["query"] == {"after": ["MQZDZD"]}  # followed paging.next
    assert meta == [
        {
            "platform_id": "238",
            "name": "social_video",
            "date": "2026-01-01",
            "spend": 101.25,
            "impressions": 12000,
            "clicks": 140,
            "conversions": 4.0,
        },
        {
            "platform_id": "238",
            "name": "social_video",
            "date": "2026-01-02",
            "spend": 99.0,
            "impressions": 11000,
            "clicks": 120,
            "conversions": 0.0,
        },
    ]
    assert json.loads(state.requests[0]["query"]["time_range"][0]) == {"since": "2026-01-01", "until": "2026-01-02"}
    google, _ = fetch_insights(make("google_ads", url), "campaign", *window)
    assert google == [
        {
            "platform_id": "9",
            "name": "search_brand",
            "date": "2026-01-01",
            "spend": 250.5,
            "impressions": 3000,
            "clicks": 210,
            "conversions": 17.0,
        }
    ]
    assert "BETWEEN '2026-01-01' AND '2026-01-02'" in state.requests[2]["body"]["query"]
    tiktok, _ = fetch_insights(make("tiktok", url), "campaign", *window)
    assert tiktok == [
        {
            "platform_id": "171",
            "name": "social_video",
            "date": "2026-01-01",
            "spend": 55.1,
            "impressions": 9000,
            "clicks": 80,
            "conversions": 3.0,
        }
    ]


def test_dry_run_sends_nothing_and_writes_the_exact_requests(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("dry run opened a connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    known: dict[tuple[str, str], KnownObject] = {}
    calls = publish_payload(make("meta"), payload("Social"), {"f" * 32: [HASH_A]}, known, tmp_path)
    assert {c.status for c in calls} == {"dry_run"} and len(calls) == 6  # audience, members, campaign, ad set, two ads
    files = sorted((tmp_path / "platforms" / "meta").glob("*.json"))
    assert len(files) == 6
    written = [json.loads(f.read_text()) for f in files]
    assert written[0]["request"]["url"] == "https://graph.facebook.com/v21.0/act_1/customaudiences"
    assert written[0]["request"]["headers"]["Authorization"] == "***" and TOKEN not in "".join(f.read_text() for f in files)
    assert written[1]["request"]["body"] == {"payload": {"schema": ["EMAIL_SHA256"], "data": [[HASH_A]]}}
    campaign = written[2]["request"]["body"]
    assert campaign["name"] == "spring_sale" and campaign["status"] == "PAUSED"
    assert written[3]["request"]["body"]["campaign_id"] == known[("campaign", "c" * 32)].platform_id
    assert written[3]["request"]["body"]["daily_budget"] == 12000  # minor units
