"""Shared fixtures: a simulated world in a temporary data dir, and the whole graph materialized
once into a temporary DuckDB file, on an ephemeral Dagster instance."""

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TEST_HMAC_KEY = "test-hmac-key-Ωμ-with-unicode"

# Point every path at a private temp dir before anything imports the definitions.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="gtm-tests-"))
os.environ["GTM_DATA_DIR"] = str(_SESSION_DIR / "data")
os.environ["GTM_DUCKDB_PATH"] = str(_SESSION_DIR / "data" / "gtm.duckdb")
os.environ["GTM_HMAC_KEY"] = TEST_HMAC_KEY
os.environ.pop("GTM_ENV", None)
os.environ.pop("DAGSTER_HOME", None)

SIM_OPTIONS = {"days": 730, "events": 100000, "seed": 11}

# Inputs that are not simulated: the brand guide and the B2B prospects file, as in the bundled data.
(_SESSION_DIR / "data" / "landing").mkdir(parents=True)
shutil.copy(REPO / "data" / "brand_guide.yaml", _SESSION_DIR / "data" / "brand_guide.yaml")
shutil.copytree(REPO / "data" / "landing" / "prospects", _SESSION_DIR / "data" / "landing" / "prospects")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


def pytest_sessionstart(session):
    from gtm_assets.transform.project import prepare

    prepare()  # the dbt manifest the definitions are built from (as `gtm run` does)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return Path(os.environ["GTM_DATA_DIR"])


@pytest.fixture(scope="session")
def truth(data_dir: Path) -> dict:
    """Simulated landing files (CSV, Parquet, gzip JSON lines) and their ground truth."""
    from gtm_assets.simulate import simulate

    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "data" / "marketing_campaign.csv", data_dir / "marketing_campaign.csv")
    return simulate(data_dir, **SIM_OPTIONS)


@pytest.fixture(scope="session")
def instance():
    import dagster as dg

    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


@pytest.fixture(scope="session")
def graph_run(truth, instance):
    """The whole graph, materialized once for the session."""
    from gtm_assets.cli.run import materialize_graph

    return materialize_graph(instance)


@pytest.fixture()
def conn(graph_run):
    from gtm_assets.warehouse.resource import DuckDBWarehouse

    with DuckDBWarehouse(database=os.environ["GTM_DUCKDB_PATH"]).get_connection() as connection:
        yield connection


def load_truth(data_dir: Path) -> dict:
    return json.loads((data_dir / "ground_truth.json").read_text())
