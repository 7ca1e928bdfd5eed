"""Where things live and which secrets apply: the one place that reads the environment.

Every path is absolute and derived from one variable each, so the Dagster resources, the dbt
profile (which reads ``GTM_DUCKDB_PATH``) and the ``gtm`` CLI always agree on the same files.

| variable            | default                         | meaning                                        |
|---------------------|---------------------------------|------------------------------------------------|
| GTM_DATA_DIR        | ``<repo>/data``                 | landing zone, outbox, bundled sample data      |
| GTM_DUCKDB_PATH     | ``$GTM_DATA_DIR/gtm.duckdb``    | the embedded warehouse file                    |
| GTM_HMAC_KEY        | a documented development key    | key for hashing PII (required in production)   |
| GTM_ENV             | ``development``                 | ``production`` makes a missing key an error    |
| GTM_DUCKDB_MEMORY_LIMIT | ``1GB``                     | DuckDB memory cap (spills to disk beyond it)   |
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


def landing_events_dir() -> Path:
    return data_dir() / "landing" / "events"


def landing_media_dir() -> Path:
    return data_dir() / "landing" / "media"


def landing_plans_dir() -> Path:
    return data_dir() / "landing" / "plans"


def landing_experiments_dir() -> Path:
    return data_dir() / "landing" / "experiments"


def customers_csv() -> Path:
    return data_dir() / "marketing_campaign.csv"


def outbox_dir() -> Path:
    return data_dir() / "outbox"


def is_production() -> bool:
    return os.environ.get("GTM_ENV", "development").strip().lower() == "production"


def hmac_key() -> bytes:
    """The PII hashing key from ``GTM_HMAC_KEY``; the development default outside production."""
    key = os.environ.get("GTM_HMAC_KEY", "")
    if key:
        return key.encode("utf-8")
    if is_production():
        raise MissingSecretError(
            "GTM_ENV=production but GTM_HMAC_KEY is not set: refusing to hash PII with the "
            "development key. Set GTM_HMAC_KEY to a long random secret."
        )
    return DEVELOPMENT_HMAC_KEY.encode("utf-8")
