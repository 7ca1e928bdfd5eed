"""The whole graph launched from the front door (dagster-webserver, GraphQL: what the UI's buttons
send) against `gtm run`, on the bundled sample, measured in the same run.

    python benchmarks/front_door.py

Both start from an empty warehouse and a fresh Dagster instance. The front door registers every
landing file as a partition, launches one `ingest_landing` run per file (what the landing sensor
does), then one `everything_after_ingestion` run, each run a subprocess of the webserver with the
in-process executor, and waits for each. Prints wall seconds and the ratio to `gtm run`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gtm_assets_tests.ui.webserver import LOCATION, REPOSITORY, running_webserver  # noqa: E402

ADD_PARTITION = """mutation Add($selector: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $selector, partitionsDefName: $name, partitionKey: $key) {
    __typename ... on PythonError { message } } }"""
LAUNCH = """mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""


def cli_seconds(tmp: Path, data_dir: Path) -> float:
    env = {**os.environ, "GTM_DUCKDB_PATH": str(tmp / "cli.duckdb"), "GTM_DATA_DIR": str(data_dir),
           "DAGSTER_HOME": str(tmp / "cli_home")}  # fmt: skip
    (tmp / "cli_home").mkdir()
    start = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "gtm"), "run"], env=env, cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - start


def front_door_seconds(tmp: Path, data_dir: Path) -> tuple[float, int]:
    empty = tmp / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    files = sorted(p.name for p in (data_dir / "landing" / "events").iterdir() if p.is_file())
    repository = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    with running_webserver(tmp / "ui", str(empty), data_dir) as (client, _):
        start = time.perf_counter()
        for name in files:
            client.graphql(ADD_PARTITION, {"selector": repository, "name": "landing_event_files", "key": name})
        runs = []
        for name in files:
            params = {"selector": {**repository, "jobName": "ingest_landing"},
                      "executionMetadata": {"tags": [{"key": "dagster/partition", "value": name}]}}  # fmt: skip
            launched = client.graphql(LAUNCH, {"params": params})["launchRun"]
            assert launched["__typename"] == "LaunchRunSuccess", launched
            runs.append(launched["run"]["runId"])
        for run_id in runs:
            assert client.wait_for_run(run_id, timeout=1800) == "SUCCESS", run_id
        launched = client.graphql(LAUNCH, {"params": {"selector": {**repository, "jobName": "everything_after_ingestion"}}})
        assert launched["launchRun"]["__typename"] == "LaunchRunSuccess", launched
        assert client.wait_for_run(launched["launchRun"]["run"]["runId"], timeout=1800) == "SUCCESS"
        return time.perf_counter() - start, len(files) + 1


def main() -> None:
    data_dir = Path(os.environ.get("GTM_DATA_DIR", REPO / "data"))
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        (tmp / "ui").mkdir()
        cli = cli_seconds(tmp, data_dir)
        ui, runs = front_door_seconds(tmp, data_dir)
    print(f"{'path':<44}{'wall s':>9}{'x gtm run':>11}")
    print(f"{'gtm run (one process)':<44}{cli:>9.1f}{1.0:>11.2f}")
    print(f"{f'front door: {runs} runs over GraphQL':<44}{ui:>9.1f}{ui / cli:>11.2f}")


if __name__ == "__main__":
    main()
