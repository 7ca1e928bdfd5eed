"""The Dagster webserver as the product's front door, for real: a `dagster-webserver` on 127.0.0.1
answers the docs' GraphQL examples (the blocks are read from docs/ui-and-api.md and run as they are), runs
launched over GraphQL with typed config succeed or fail with the guardrail's message, bad config is
refused before anything runs, and headless Chromium shows the asset graph and an asset's row count."""

import os
import re
import shutil

import pytest

from gtm_assets_tests.conftest import REPO
from gtm_assets_tests.ui.webserver import LOCATION, REPOSITORY, running_webserver

pytestmark = pytest.mark.webserver
CHAIN = ("raw_events", "guarded_sessions", "features", "personas", "mmm_model", "forecast", "allocations",
         "creative_library", "dsp_payload")  # fmt: skip
ARTIFACTS = REPO / "test-artifacts"


def docs_graphql() -> dict[str, str]:
    """The docs' GraphQL examples (docs/ui-and-api.md) by their name (the first line of each block: `# name`)."""
    text = (REPO / "docs" / "ui-and-api.md").read_text()
    blocks = re.findall(r"```graphql\n# (\w+)\n(.*?)```", text, flags=re.S)
    return {name: body for name, body in blocks}


@pytest.fixture(scope="module")
def dagster(graph_run, data_dir, tmp_path_factory):
    with running_webserver(tmp_path_factory.mktemp("front-door"), os.environ["GTM_DUCKDB_PATH"], data_dir) as running:
        yield running


def _launch(dagster, job: str, run_config: dict) -> dict:
    selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": job}
    return dagster.graphql(docs_graphql()["launch_run"], {"selector": selector, "runConfig": run_config})["launchRun"]


def _failure_messages(client, run_id: str) -> list[str]:
    events = client.graphql(docs_graphql()["run_failure"], {"runId": run_id})["logsForRun"]["events"]
    failures = [e for e in events if e["__typename"] == "ExecutionStepFailureEvent"]
    return [(e["failureMetadata"] or {}).get("description") or e["error"]["message"] for e in failures]


def _assert_succeeds(client, run_id: str) -> None:
    status = client.wait_for_run(run_id)
    assert status == "SUCCESS", (status, _failure_messages(client, run_id))


def test_every_stage_is_listed_with_its_group_and_description(dagster):
    client, _ = dagster
    nodes = {"/".join(n["assetKey"]["path"]): n for n in client.graphql(docs_graphql()["asset_nodes"])["assetNodes"]}
    for stage in CHAIN:
        assert stage in nodes, stage
        assert nodes[stage]["groupName"] and len(nodes[stage]["description"]) > 40, stage
    selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    jobs = {j["name"] for j in client.graphql(docs_graphql()["jobs"], {"selector": selector})["repositoryOrError"]["jobs"]}
    assert {"discover_personas", "generate_creatives", "optimize_budget", "push_payload", "ingest_landing"} <= jobs


@pytest.fixture(scope="module")
def personas_run(dagster) -> str:
    """One discover_personas run launched over GraphQL with typed config, as the README shows."""
    client, _ = dagster
    launched = _launch(client, "discover_personas", {"ops": {"persona_clusters": {"config": {"n_bootstrap": 3, "max_k": 5}}}})
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    _assert_succeeds(client, run_id)
    return run_id


def test_discover_personas_runs_with_config_and_reports_its_row_count(dagster, personas_run):
    client, warehouse = dagster
    materialization = client.graphql(docs_graphql()["latest_materialization"], {"path": ["personas"]})
    latest = materialization["assetOrError"]["assetMaterializations"][0]
    counts = {e["label"]: e.get("intValue") for e in latest["metadataEntries"]}
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as db:
        assert counts["dagster/row_count"] == db.execute("SELECT count(*) FROM main.personas").fetchone()[0] > 2000
    assert latest["runId"] == personas_run


def test_bad_config_is_refused_before_anything_runs(dagster):
    client, _ = dagster
    refused = _launch(client, "optimize_budget", {"ops": {"allocations": {"config": {"method": "mmm_optimel"}}}})
    assert refused["__typename"] == "RunConfigValidationInvalid"
    assert any("mmm_optimel" in e["message"] for e in refused["errors"])


def test_optimize_budget_with_infeasible_guardrails_fails_with_the_guardrails_message(dagster):
    client, _ = dagster
    launched = _launch(
        client,
        "optimize_budget",
        {
            "ops": {
                "allocations": {
                    "config": {
                        "total_daily_budget": 1000.0,
                        "max_daily_change_pct": None,
                        "floors": {"Search": 1500.0, "Social": 700.0},
                    }
                }
            }
        },
    )
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    assert client.wait_for_run(run_id) == "FAILURE"
    messages = _failure_messages(client, run_id)
    assert any("sum to 2,350.00 > total budget 1,000.00" in m and "Search 1,500.00 [floor]" in m for m in messages), messages


def test_generate_creatives_push_payload_and_ingest_landing_run_over_graphql(dagster, data_dir):
    client, warehouse = dagster
    import duckdb

    launched = _launch(
        client,
        "generate_creatives",
        {"ops": {"creative_library": {"config": {"channels": ["Social"], "synthesize_audio": False}}}},
    )
    assert launched["__typename"] == "LaunchRunSuccess", launched
    _assert_succeeds(client, launched["run"]["runId"])
    launched = _launch(client, "push_payload", {})
    assert launched["__typename"] == "LaunchRunSuccess", launched
    push_run = launched["run"]["runId"]
    _assert_succeeds(client, push_run)
    with duckdb.connect(str(warehouse), read_only=True) as db:  # the payload this run built, pushed dry-run
        payload_id, run_id = db.execute(
            "SELECT payload_id, dagster_run_id FROM main.payload_outbox ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        modes = {m for (m,) in db.execute("SELECT mode FROM main.payload_pushes WHERE payload_id = ?", [payload_id]).fetchall()}
    assert run_id == push_run and modes == {"dry_run"}
    # one landing file, registered and ingested the way the sensor does it: unchanged, so no row moves
    name = sorted(p.name for p in (data_dir / "landing" / "events").iterdir())[0]
    repository = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    added = client.graphql(docs_graphql()["add_partition"], {"selector": repository, "name": "landing_event_files", "key": name})
    assert added["addDynamicPartition"]["__typename"] == "AddDynamicPartitionSuccess", added
    with duckdb.connect(str(warehouse), read_only=True) as db:
        rows_before = db.execute("SELECT count(*) FROM raw.raw_events").fetchone()[0]
    launched = client.graphql(
        docs_graphql()["launch_partition"], {"selector": {**repository, "jobName": "ingest_landing"}, "partition": name}
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    _assert_succeeds(client, launched["run"]["runId"])
    with duckdb.connect(str(warehouse), read_only=True) as db:
        assert db.execute("SELECT count(*) FROM raw.raw_events").fetchone()[0] == rows_before > 0


def _dismiss_welcome(page) -> None:
    """A fresh instance greets the first visit with a newsletter dialog; skip it like a user would."""
    from playwright.sync_api import TimeoutError as NoDialog

    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=5_000)
    except NoDialog:
        return
    skip.click()


def test_the_asset_graph_and_an_asset_page_render_in_headless_chromium(dagster, personas_run):
    from playwright.sync_api import sync_playwright

    client, _ = dagster
    launched = _launch(client, "optimize_budget", {})  # the plan's page as a budget owner opens it after a run
    assert launched["__typename"] == "LaunchRunSuccess", launched
    _assert_succeeds(client, launched["run"]["runId"])
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run must install it")
        pytest.skip("chromium is not installed (Debian package; .ci/run installs it)")
    groups = {"/".join(n["assetKey"]["path"]): n["groupName"]
              for n in client.graphql(docs_graphql()["asset_nodes"])["assetNodes"]}  # fmt: skip
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{client.url}/asset-groups", wait_until="networkidle", timeout=120_000)
            page.wait_for_selector("text=Global asset lineage", timeout=60_000)
            _dismiss_welcome(page)
            page.screenshot(path=str(ARTIFACTS / "asset_groups.png"))
            text = page.inner_text("body")
            assert all(group in text for group in set(groups.values())), text[:500]
            shown = set()
            for group in sorted({groups[stage] for stage in CHAIN}):
                page.goto(f"{client.url}/locations/{LOCATION}/asset-groups/{group}", wait_until="networkidle",
                          timeout=120_000)  # fmt: skip
                page.wait_for_selector(f"text={group}", timeout=60_000)
                page.screenshot(path=str(ARTIFACTS / f"asset_group_{group}.png"))
                shown |= {stage for stage in CHAIN if stage in page.inner_text("body")}
            assert shown == set(CHAIN), set(CHAIN) - shown
            page.goto(f"{client.url}/assets/personas", wait_until="networkidle", timeout=120_000)
            page.wait_for_selector("text=Row count", timeout=60_000)
            _dismiss_welcome(page)
            page.screenshot(path=str(ARTIFACTS / "asset_personas.png"))
            body = page.inner_text("body")
            assert "Never materialized" not in body
            assert re.search(r"\b[2-9],?\d{3}\b", body), "the row count is shown"
            assert "Life-stage cohort by birth year" in body, "the columns are described"
            page.goto(f"{client.url}/assets/allocations", wait_until="networkidle", timeout=120_000)
            page.wait_for_selector("text=Row count", timeout=60_000)
            _dismiss_welcome(page)
            page.get_by_text("plan_beats_base_share").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "asset_allocations.png"))
            body = page.inner_text("body")
            assert "decisions" in body and "plan_beats_base_share" in body, body[:1000]
        finally:
            browser.close()
    assert (ARTIFACTS / "asset_group_governance.png").stat().st_size > 10_000


def test_the_readmes_dagster_dev_loads_every_asset_without_an_activated_virtualenv(graph_run, data_dir, tmp_path):
    """`.venv/bin/dagster dev` as the README types it, from a clone whose folder is not named after the
    code location, with a stale dbt manifest: the UI lists every asset, and the log has neither a dbt
    that is not on PATH nor the code-location-name warning."""
    from gtm_assets.definitions import defs
    from gtm_assets.transform.project import dbt_project

    os.utime(dbt_project.manifest_path, (0, 0))  # stale: `dagster dev` rebuilds it (target/ is a build output)
    with running_webserver(tmp_path, os.environ["GTM_DUCKDB_PATH"], data_dir, dev=True) as (client, _):
        nodes = client.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"]
    log = (tmp_path / "webserver.log").read_text(errors="replace")
    expected = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"/".join(n["assetKey"]["path"]) for n in nodes} == expected
    assert "not found on PATH" not in log and "does not match the name" not in log, log[-3000:]


def test_a_deleted_landing_file_reingested_from_the_ui_succeeds_and_keeps_its_rows(dagster, data_dir, tmp_path):
    """The landing folder's retention deletes a file; its partition is launched again (as "Materialize
    all → all partitions" does): the run succeeds, the rows stay and the ingestion record still says
    loaded, so the blocking reconciliation downstream has nothing to disagree with."""
    import duckdb

    client, warehouse = dagster
    events = data_dir / "landing" / "events"
    name = sorted(p.name for p in events.iterdir())[-1]
    repository = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    added = client.graphql(docs_graphql()["add_partition"], {"selector": repository, "name": "landing_event_files", "key": name})
    assert added["addDynamicPartition"]["__typename"] == "AddDynamicPartitionSuccess", added
    query = "SELECT status, rows_loaded, (SELECT count(*) FROM raw.raw_events) FROM raw.landing_files WHERE source_file = ?"
    with duckdb.connect(str(warehouse), read_only=True) as db:
        before = db.execute(query, [f"landing/events/{name}"]).fetchone()
    moved = shutil.move(events / name, tmp_path / name)
    try:
        launched = client.graphql(
            docs_graphql()["launch_partition"], {"selector": {**repository, "jobName": "ingest_landing"}, "partition": name}
        )["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        _assert_succeeds(client, launched["run"]["runId"])
    finally:
        shutil.move(moved, events / name)
    with duckdb.connect(str(warehouse), read_only=True) as db:
        assert db.execute(query, [f"landing/events/{name}"]).fetchone() == before
    assert before[0] == "loaded" and before[1] > 0
