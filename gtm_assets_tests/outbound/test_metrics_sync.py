"""The metrics sync against a local platform server: upserts never duplicate, a late correction overwrites,
spend reconciles with raw_media_spend within the tolerance, a stale sync fails the freshness check, and the
loop's alerts (overspend, stale sync) reach the notifier once per event; the webhook notifier's outcomes."""

import json

import dagster as dg
import duckdb
import pytest

from gtm_assets.defs.activation.loop_alerts import metrics_within_recent_range, spend_within_allocation
from gtm_assets.defs.measurement.platform_metrics import platform_metrics, platform_spend_reconciles, platform_sync_is_fresh
from gtm_assets.outbound.notifier import Alert, AlertNotifier
from gtm_assets.outbound.platforms.google_ads import GoogleAdsAdapter
from gtm_assets.outbound.platforms.meta import MetaAdsAdapter
from gtm_assets.outbound.platforms.tiktok import TikTokAdsAdapter
from gtm_assets.warehouse.resource import DuckDBWarehouse
from gtm_assets_tests.outbound.platform_server import platform_server

MEDIA = [("2026-01-01", 101.25), ("2026-01-02", 99.00), ("2026-01-03", 150.00)]


def insights(days: list[tuple[str, float]]) -> dict:
    return {
        "data": [
            {
                "campaign_id": "238",
                "campaign_name": "social_video",
                "date_start": d,
                "date_stop": d,
                "spend": f"{s:.2f}",
                "impressions": "1000",
                "clicks": "20",
                "actions": [{"action_type": "purchase", "value": "2"}],
            }
            for d, s in days
        ],
        "paging": {},
    }


@pytest.fixture()
def warehouse(tmp_path):
    path = tmp_path / "sync.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA raw")
        conn.execute("CREATE TABLE raw.raw_media_spend (date VARCHAR, channel VARCHAR, campaign VARCHAR, spend VARCHAR)")
        conn.executemany(
            "INSERT INTO raw.raw_media_spend VALUES (?, 'Social', 'social_video', ?)", [(d, f"{s:.2f}") for d, s in MEDIA]
        )
        conn.execute(
            "CREATE TABLE main.allocation_history AS SELECT TIMESTAMP '2025-12-31 18:00' AS allocated_at, 'Social' AS channel, "
            "'social_video' AS campaign, 120.0 AS recommended_campaign_spend"
        )
    return DuckDBWarehouse(database=str(path))


def sync(warehouse, url: str, instance):
    resources = {
        "warehouse": warehouse,
        "notifier": AlertNotifier(),
        "meta_ads": MetaAdsAdapter(
            mode="http",
            base_url=f"{url}/v21.0",
            access_token="t",
            channels=["Social"],
            backoff_seconds=0,
            max_attempts=1,
            ad_account_id="act_1",
        ),
        "google_ads": GoogleAdsAdapter(enabled=False),
        "tiktok_ads": TikTokAdsAdapter(enabled=False),
    }
    result = dg.materialize(
        [
            platform_metrics,
            platform_spend_reconciles,
            platform_sync_is_fresh,
            spend_within_allocation,
            metrics_within_recent_range,
        ],
        resources=resources,
        instance=instance,
        raise_on_error=False,
        run_config={"ops": {"platform_metrics": {"config": {"days": 400}}}},
    )
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_repeated_syncs_upsert_corrections_overwrite_and_alerts_fire_once(warehouse):
    with platform_server() as (url, state), dg.DagsterInstance.ephemeral() as instance:
        # first sync: the platform has not settled 2 January yet (90.00 of 99.00)
        state.script["/v21.0"] = [(200, insights([MEDIA[0], ("2026-01-02", 90.00)]), {}), (200, {"data": []}, {})]
        checks = sync(warehouse, url, instance)
        assert checks["platform_spend_reconciles"] is False  # 9.00 off, tolerance 1.00 + 2% of 99.00
        with warehouse.get_connection() as conn:
            outside = conn.execute(
                "SELECT date::VARCHAR, difference::DOUBLE FROM main.platform_spend_reconciliation "
                "WHERE NOT within_tolerance ORDER BY date"
            ).fetchall()
        assert outside == [("2026-01-02", -9.0), ("2026-01-03", -150.0)]

        # second sync: the late correction and a new day, which overspends its 120.00 budget by more than 10%
        state.script["/v21.0"] = [(200, insights(MEDIA), {}), (200, {"data": []}, {})]
        checks = sync(warehouse, url, instance)
        assert checks["platform_spend_reconciles"] and checks["platform_sync_is_fresh"] and checks["metrics_within_recent_range"]
        assert checks["spend_within_allocation"] is False
        with warehouse.get_connection() as conn:
            rows = conn.execute(
                "SELECT date::VARCHAR, spend::DOUBLE, revisions, channel FROM main.platform_metrics ORDER BY date"
            ).fetchall()
            assert rows == [
                ("2026-01-01", 101.25, 0, "Social"),
                ("2026-01-02", 99.0, 1, "Social"),
                ("2026-01-03", 150.0, 0, "Social"),
            ]
            assert (
                conn.execute("SELECT corrected_rows FROM main.platform_syncs ORDER BY synced_at DESC LIMIT 1").fetchone()[0] == 1
            )
            # make the last successful sync two hours old
            conn.execute("UPDATE main.platform_syncs SET synced_at = synced_at - INTERVAL 2 HOUR")

        # third and fourth sync: the platform refuses; the sync is stale, each event is alerted once
        for _ in range(2):
            state.script["/v21.0"] = [(400, {"error": {"message": "Invalid OAuth access token"}}, {})]
            checks = sync(warehouse, url, instance)
            assert checks["platform_sync_is_fresh"] is False and checks["spend_within_allocation"] is False
        with warehouse.get_connection() as conn:
            alerts = conn.execute("SELECT rule, subject, event_key, delivery_status FROM main.alerts ORDER BY rule").fetchall()
            statuses = conn.execute("SELECT status FROM main.platform_syncs ORDER BY synced_at").fetchall()
        assert next((r, s, e) for r, s, e, _ in alerts) == ("budget_overspend", "meta/social_video", "2026-01-03")
        assert [r for r, *_ in alerts] == ["budget_overspend", "stale_sync"] and {d for *_, d in alerts} == {"recorded"}
        assert [s for (s,) in statuses] == ["ok", "ok", "failed", "failed"]


def test_webhook_notifier_delivers_each_alert_once_and_retries_a_failed_delivery():
    conn = duckdb.connect()
    alert = Alert("stale_sync", "meta", "2026-01-03 10:00:00", "meta: no successful metrics sync since 10:00")
    with platform_server() as (url, state):
        notifier = AlertNotifier(
            webhook_url=f"{url}/hooks/alerts", webhook_token="hook-s3cret", backoff_seconds=0, max_attempts=2
        )
        state.script["/hooks"] = [(503, {"error": "down"}, {}), (503, {"error": "down"}, {})]
        assert notifier.notify(conn, [alert], "run-1") == []  # not delivered: it will be tried again
        assert notifier.notify(conn, [alert, alert], "run-2") == [alert]
        assert notifier.notify(conn, [alert], "run-3") == []
        posted = [r for r in state.requests if r["path"] == "/hooks/alerts"]
        assert len(posted) == 3 and posted[-1]["body"]["alert_id"] == alert.alert_id
        assert posted[-1]["headers"]["Authorization"] == "Bearer hook-s3cret"
    rows = conn.execute(
        "SELECT delivery, delivery_status, http_status, details_json FROM main.alerts ORDER BY raised_at"
    ).fetchall()
    assert [(d, s, h) for d, s, h, _ in rows] == [("webhook", "failed", 503), ("webhook", "delivered", 200)]
    assert "hook-s3cret" not in json.dumps(rows)


def test_a_platform_answer_that_cannot_be_read_fails_that_platform_only(warehouse):
    with platform_server() as (url, state), dg.DagsterInstance.ephemeral() as instance:
        state.script["/v21.0"] = [(200, {"data": [{"campaign_name": "social_video"}]}, {})]  # no id, no date
        state.script["/v18"] = [
            (
                200,
                [
                    {
                        "results": [
                            {
                                "campaign": {"id": "9", "name": "social_video"},
                                "segments": {"date": "2026-01-01"},
                                "metrics": {"costMicros": "101250000", "impressions": "10", "clicks": "1", "conversions": 1.0},
                            }
                        ]
                    }
                ],
                {},
            ),
            (200, [], {}),
        ]
        resources = {
            "warehouse": warehouse,
            "notifier": AlertNotifier(),
            "meta_ads": MetaAdsAdapter(
                mode="http", base_url=f"{url}/v21.0", channels=["Social"], backoff_seconds=0, max_attempts=1
            ),
            "google_ads": GoogleAdsAdapter(
                mode="http", base_url=f"{url}/v18", channels=["Social"], backoff_seconds=0, max_attempts=1
            ),
            "tiktok_ads": TikTokAdsAdapter(enabled=False),
        }
        result = dg.materialize(
            [platform_metrics],
            resources=resources,
            instance=instance,
            run_config={"ops": {"platform_metrics": {"config": {"days": 400}}}},
        )
        assert result.success
    with warehouse.get_connection() as conn:
        syncs = dict(conn.execute("SELECT platform, status FROM main.platform_syncs").fetchall())
        rows = conn.execute("SELECT platform, campaign, spend::DOUBLE FROM main.platform_metrics").fetchall()
        error = conn.execute("SELECT error FROM main.platform_syncs WHERE platform = 'meta'").fetchone()[0]
    assert syncs == {"meta": "failed", "google_ads": "ok"} and rows == [("google_ads", "social_video", 101.25)]
    assert error.startswith("KeyError")
