"""Where things live and which secrets apply: the one place that reads the environment.

Every path is absolute and derived from one variable each, so the Dagster resources, the dbt
profile (which reads ``GTM_DUCKDB_PATH``) and the ``gtm`` CLI always agree on the same files.

| variable            | default                         | meaning                                        |
|---------------------|---------------------------------|------------------------------------------------|
| GTM_DATA_DIR        | ``<repo>/data``                 | landing zone, outbox, bundled sample data      |
| GTM_DUCKDB_PATH     | ``$GTM_DATA_DIR/gtm.duckdb``    | the embedded warehouse file                    |
| GTM_HMAC_KEY        | the development key, dev mode only | key for hashing PII (required outside dev mode) |
| GTM_ENV             | ``development``                 | any other value makes a missing key an error   |
| GTM_DUCKDB_MEMORY_LIMIT | ``1GB``                     | DuckDB memory cap (spills to disk beyond it)   |
| GTM_BRAND_GUIDE     | ``$GTM_DATA_DIR/brand_guide.yaml`` | voice, banned phrases, disclaimers, claims  |
| GTM_LLM_MODE, GTM_LLM_BASE_URL, GTM_LLM_MODEL, GTM_LLM_SPEECH_MODEL | offline | the LLM resource       |
| GTM_LLM_API_KEY     | none                            | LLM key (an ``EnvVar`` of the resource)        |
| GTM_DSP_MODE, GTM_DSP_ENDPOINT | ``dry_run``, none    | the DSP push                                   |
| GTM_DSP_API_TOKEN   | none                            | DSP bearer token (an ``EnvVar`` of the resource) |
| GTM_PLATFORMS       | ``meta,google_ads,tiktok``      | ad platforms of the loop (publish, conversions, metrics sync) |
| GTM_<P>_MODE, GTM_<P>_BASE_URL, GTM_<P>_CHANNELS | ``dry_run``, public API, see README | per platform P = META, GOOGLE_ADS, TIKTOK |
| GTM_META_AD_ACCOUNT_ID, GTM_META_PIXEL_ID, GTM_META_PAGE_ID | ``act_0``, ``0``, ``0`` | Meta account, dataset, page |
| GTM_GOOGLE_ADS_CUSTOMER_ID, GTM_GOOGLE_ADS_LOGIN_CUSTOMER_ID, GTM_GOOGLE_ADS_CONVERSION_ACTION_ID | ``0``, none, ``0`` | Google Ads |
| GTM_TIKTOK_ADVERTISER_ID, GTM_TIKTOK_PIXEL_CODE | ``0``, ``0``             | TikTok advertiser and pixel                  |
| GTM_<P>_ACCESS_TOKEN, GTM_GOOGLE_ADS_DEVELOPER_TOKEN | none               | platform credentials (``EnvVar`` of the resources) |
| GTM_ALERT_WEBHOOK_URL | none                          | loop alerts are POSTed here (else only the alerts table) |
| GTM_ALERT_WEBHOOK_TOKEN | none                        | webhook bearer token (an ``EnvVar``)           |
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_like_sql"

# Development-only key: documented in the README, never valid when GTM_ENV=production.
DEVELOPMENT_HMAC_KEY = "gtm-development-key-not-for-production"


class MissingSecretError(RuntimeError):
    """A secret that production requires is not set."""


def data_dir() -> Path:
    return Path(os.environ.get("GTM_DATA_DIR", PROJECT_ROOT / "data")).resolve()


def duckdb_path() -> Path:
    configured = os.environ.get("GTM_DUCKDB_PATH")
    return Path(configured).resolve() if configured else data_dir() / "gtm.duckdb"


def duckdb_memory_limit() -> str:
    return os.environ.get("GTM_DUCKDB_MEMORY_LIMIT", "1GB")


def read_wait_seconds() -> float:
    """How long a reading command waits for a writer's current step to let go of the file."""
    return float(os.environ.get("GTM_READ_WAIT_SECONDS", "10"))


def landing_events_dir() -> Path:
    return data_dir() / "landing" / "events"


def landing_media_dir() -> Path:
    return data_dir() / "landing" / "media"


def landing_plans_dir() -> Path:
    return data_dir() / "landing" / "plans"


def landing_sales_dir() -> Path:
    return data_dir() / "landing" / "sales"


def landing_experiments_dir() -> Path:
    return data_dir() / "landing" / "experiments"


def landing_prospects_dir() -> Path:
    return data_dir() / "landing" / "prospects"


def brand_guide_path() -> Path:
    configured = os.environ.get("GTM_BRAND_GUIDE")
    return Path(configured).resolve() if configured else data_dir() / "brand_guide.yaml"


def audio_dir() -> Path:
    return outbox_dir() / "audio"


def customers_csv() -> Path:
    return data_dir() / "marketing_campaign.csv"


def outbox_dir() -> Path:
    return data_dir() / "outbox"


# Dev mode, where the public development key may hash PII: GTM_ENV unset or development, and nothing
# that carries keyed hashes leaves the machine (the DSP and every ad platform in dry-run). The
# quickstart, the simulator worlds and the benchmarks run in it; a deployment does not.
DEV_ENVS = ("", "dev", "development")
OUTBOUND_MODE_VARIABLES = ("GTM_DSP_MODE", "GTM_META_MODE", "GTM_GOOGLE_ADS_MODE", "GTM_TIKTOK_MODE")


def development_key_refusal() -> str | None:
    """Why the development key may not be used here, or None in dev mode."""
    environment = os.environ.get("GTM_ENV", "")
    if environment.strip().lower() not in DEV_ENVS:
        return f"GTM_ENV={environment}"
    live = [
        f"{name}={os.environ[name]}"
        for name in OUTBOUND_MODE_VARIABLES
        if os.environ.get(name, "dry_run").strip().lower() != "dry_run"
    ]
    return f"{', '.join(live)} (keyed hashes leave the machine)" if live else None


def uses_development_key() -> bool:
    return not os.environ.get("GTM_HMAC_KEY")


def hmac_key() -> bytes:
    """The PII hashing key from ``GTM_HMAC_KEY``; the development key only in dev mode."""
    key = os.environ.get("GTM_HMAC_KEY", "")
    if key:
        return key.encode("utf-8")
    refusal = development_key_refusal()
    if refusal:
        raise MissingSecretError(
            f"{refusal} but GTM_HMAC_KEY is not set: refusing to hash PII with the public development key. "
            "Set GTM_HMAC_KEY to a long random secret (the development key is for GTM_ENV=development with "
            "every outbound adapter in dry_run)."
        )
    return DEVELOPMENT_HMAC_KEY.encode("utf-8")


def env(name: str, default: str = "") -> str:
    """A non-secret setting from the environment (resource configuration read at load time)."""
    return os.environ.get(name, default)


def secret(name: str):
    """A secret as a Dagster ``EnvVar`` (resolved at run time, shown by name only in the UI), or None
    when the variable is not set (the resource then runs without it: offline / dry-run / no auth)."""
    import dagster as dg

    return dg.EnvVar(name) if os.environ.get(name) else None


def secret_value(name: str) -> str | None:
    """A secret's value, for code that runs outside Dagster (the ``gtm`` commands)."""
    return os.environ.get(name) or None
