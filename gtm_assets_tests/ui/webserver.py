"""A real `dagster-webserver` on 127.0.0.1 for the front-door tests: a free port, a temporary
DAGSTER_HOME, a copy of the session's warehouse, and a clean shutdown of the whole process group."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Runs launched over GraphQL start at once as subprocesses (no daemon: no sensor or schedule fires
# during the test); the pool setting is the product's own.
INSTANCE_YAML = """
telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
concurrency:
  pools:
    granularity: run
    default_limit: 1
"""
LOCATION = "gtm_assets"
REPOSITORY = "__repository__"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dagster:
    """GraphQL over HTTP against the running webserver."""

    def __init__(self, url: str):
        self.url = url

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.loads(response.read())
        assert "errors" not in answer, answer["errors"]
        return answer["data"]

    def wait_for_run(self, run_id: str, timeout: float = 600) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.graphql(RUN_STATUS, {"runId": run_id})["runOrError"]["status"]
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                return status
            time.sleep(2)
        raise AssertionError(f"run {run_id} still not finished after {timeout} s")


RUN_STATUS = "query Status($runId: ID!) { runOrError(runId: $runId) { ... on Run { status } } }"


@contextmanager
def running_webserver(tmp_path: Path, database: str, data_dir: Path, *, dev: bool = False):
    """Start dagster-webserver for the project on a free port; yield a Dagster client; stop it.
    ``dev``: the README's `.venv/bin/dagster dev` instead, with the virtualenv not activated (its bin
    folder off PATH), as a new user types it."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    warehouse = tmp_path / "gtm.duckdb"
    shutil.copy(database, warehouse)
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "GTM_DUCKDB_PATH": str(warehouse), "GTM_DATA_DIR": str(data_dir)}
    venv_bin = Path(sys.executable).parent
    if dev:
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != venv_bin)
        env.pop("VIRTUAL_ENV", None)
        command = [str(venv_bin / "dagster"), "dev", "-h", "127.0.0.1", "-p", str(port)]
    else:
        command = [str(venv_bin / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-w", str(REPO / "workspace.yaml")]
    log = open(tmp_path / "webserver.log", "wb")
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"webserver did not start:\n{(tmp_path / 'webserver.log').read_text()[-3000:]}"
                    ) from None
                time.sleep(1)
        client = Dagster(url)
        _wait_for_location(client)
        yield client, warehouse
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _wait_for_location(client: Dagster, timeout: float = 180) -> None:
    query = """{ workspaceOrError { ... on Workspace { locationEntries { name
        locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entries = client.graphql(query)["workspaceOrError"]["locationEntries"]
        state = {e["name"]: e["locationOrLoadError"] for e in entries}
        if state.get(LOCATION) and state[LOCATION]["__typename"] == "RepositoryLocation":
            return
        if state.get(LOCATION) and state[LOCATION]["__typename"] == "PythonError":
            raise AssertionError(state[LOCATION]["message"])
        time.sleep(1)
    raise AssertionError("code location did not load")
