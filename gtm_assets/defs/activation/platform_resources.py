"""The ad-platform adapters and the alert notifier as resources, configured from the environment
(settings.py lists the variables). Every platform is in dry-run mode unless its GTM_<P>_MODE is http."""

import dagster as dg

from gtm_assets import settings
from gtm_assets.outbound.notifier import AlertNotifier
from gtm_assets.outbound.platforms.google_ads import GoogleAdsAdapter
from gtm_assets.outbound.platforms.meta import MetaAdsAdapter
from gtm_assets.outbound.platforms.tiktok import TikTokAdsAdapter

PLATFORM_RESOURCES = {"meta": "meta_ads", "google_ads": "google_ads", "tiktok": "tiktok_ads"}
# Which of the payload's channels run on which platform (GTM_<P>_CHANNELS overrides): the simulated
# world's paid social is Facebook and Instagram, its search and display are Google's.
DEFAULT_CHANNELS = {"meta": "Social", "google_ads": "Search,Display", "tiktok": ""}


def _common(platform: str) -> dict:
    prefix = f"GTM_{platform.upper()}"
    enabled = [p.strip() for p in settings.env("GTM_PLATFORMS", ",".join(PLATFORM_RESOURCES)).split(",") if p.strip()]
    return {
        "mode": settings.env(f"{prefix}_MODE", "dry_run"),
        "enabled": platform in enabled,
        "base_url": settings.env(f"{prefix}_BASE_URL"),
        "access_token": settings.secret(f"{prefix}_ACCESS_TOKEN"),
        "channels": [c.strip() for c in settings.env(f"{prefix}_CHANNELS", DEFAULT_CHANNELS[platform]).split(",") if c.strip()],
    }


@dg.definitions
def platform_resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "meta_ads": MetaAdsAdapter(
                **_common("meta"),
                ad_account_id=settings.env("GTM_META_AD_ACCOUNT_ID", "act_0"),
                pixel_id=settings.env("GTM_META_PIXEL_ID", "0"),
                page_id=settings.env("GTM_META_PAGE_ID", "0"),
            ),
            "google_ads": GoogleAdsAdapter(
                **_common("google_ads"),
                customer_id=settings.env("GTM_GOOGLE_ADS_CUSTOMER_ID", "0"),
                login_customer_id=settings.env("GTM_GOOGLE_ADS_LOGIN_CUSTOMER_ID"),
                developer_token=settings.secret("GTM_GOOGLE_ADS_DEVELOPER_TOKEN"),
                conversion_action_id=settings.env("GTM_GOOGLE_ADS_CONVERSION_ACTION_ID", "0"),
            ),
            "tiktok_ads": TikTokAdsAdapter(
                **_common("tiktok"),
                advertiser_id=settings.env("GTM_TIKTOK_ADVERTISER_ID", "0"),
                pixel_code=settings.env("GTM_TIKTOK_PIXEL_CODE", "0"),
            ),
            "notifier": AlertNotifier(
                webhook_url=settings.env("GTM_ALERT_WEBHOOK_URL"), webhook_token=settings.secret("GTM_ALERT_WEBHOOK_TOKEN")
            ),
        }
    )
