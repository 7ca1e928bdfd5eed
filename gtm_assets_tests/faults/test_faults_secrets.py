"""Secrets: with the HMAC key and every API key set to recognisable values, a whole `gtm run` (a real
process on a fresh DAGSTER_HOME) leaves none of them in its output, the instance's event log, run
metadata and compute logs, dbt's target/ and logs/, the outbox and payloads, or any text column of any
DuckDB table. The same run lands GA4 export days years before the rest: it exits 0 and the forecast
says which span it fitted. Without the key outside dev mode it stops with one line; in dev mode every run says so."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from gtm_assets import settings
from gtm_assets.warehouse.resource import DEV_KEY_TAG, hmac_pads
from gtm_assets_tests.faults.faults import REPO, make_workspace, materialize_command

pytestmark = pytest.mark.faults

GTM = str(Path(sys.executable).parent / "gtm")
SECRETS = {
    "GTM_HMAC_KEY": "hmacSECRET-4f1c9e2b7a",
    "GTM_DSP_API_TOKEN": "dspSECRET-8b2d6a0c51",
    "GTM_LLM_API_KEY": "llmSECRET-2e7f3b9d04",
    "GTM_META_ACCESS_TOKEN": "metaSECRET-6c0a8f1e93",
    "GTM_GOOGLE_ADS_ACCESS_TOKEN": "gadsSECRET-1d5b7e3a28",
    "GTM_GOOGLE_ADS_DEVELOPER_TOKEN": "gdevSECRET-9a4c2f6b17",
    "GTM_TIKTOK_ACCESS_TOKEN": "ttSECRET-3f8e1a7c65",
    "GTM_ALERT_WEBHOOK_TOKEN": "hookSECRET-7e2a9d4b30",
}


def _needles() -> list[str]:
    inner, outer = hmac_pads(SECRETS["GTM_HMAC_KEY"].encode())
    return [*SECRETS.values(), inner.hex(), outer.hex()]


def _files_with_secrets(folder: Path, needles: list[str], skip=()) -> tuple[list[str], int]:
    found, scanned = [], 0
    for path in folder.rglob("*"):
        if path.is_file() and path not in skip:
            data = path.read_bytes()
            scanned += 1
            found += [f"{path}: {n}" for n in needles if n.encode() in data]
    return found, scanned


OLD_EXPORT_DAYS = ["2020-11-01", "2020-12-15", "2021-01-31"]


@pytest.fixture(scope="module")
def secret_run(graph_run, data_dir, tmp_path_factory):
    """A whole `gtm run` from the landing files, on landing data as a real property has it: GA4 export
    files of three days years before the rest (a multi-year gap) and no sales ledger (revenue comes
    from the consented sessions, gaps included)."""
    from gtm_assets_tests.landing.test_ga4_export import write_export_days

    workspace = make_workspace(tmp_path_factory.mktemp("secrets"), data_dir)
    workspace.warehouse.unlink()  # a whole run from the landing files
    for written in ("outbox", "reports", "landing/sales"):
        shutil.rmtree(workspace.data / written, ignore_errors=True)
    write_export_days(workspace.data / "landing" / "events", OLD_EXPORT_DAYS)
    env = workspace.env(**SECRETS, GTM_LLM_MODE="offline")
    result = subprocess.run([GTM, "run"], cwd=REPO, env=env, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workspace, result


def test_a_whole_run_leaves_no_secret_anywhere(secret_run):
    workspace, result = secret_run
    needles = _needles()
    assert not [n for n in needles if n in result.stdout + result.stderr]
    # the instance: run storage, event log (materialization metadata included) and compute logs
    found, scanned = _files_with_secrets(workspace.home, needles)
    assert not found and scanned >= 2
    # dbt's artifacts, compiled SQL included
    for folder in (settings.DBT_PROJECT_DIR / "target", settings.DBT_PROJECT_DIR / "logs"):
        found, _ = _files_with_secrets(folder, needles) if folder.exists() else ([], 0)
        assert not found
    # the outbox (payloads, dry-run requests), reports and every other file the run wrote
    found, scanned = _files_with_secrets(workspace.data, needles, skip={workspace.warehouse})
    assert not found and any(workspace.data.joinpath("outbox").iterdir())
    # every text column of every table
    with duckdb.connect(str(workspace.warehouse), read_only=True) as conn:
        columns = conn.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE t.table_type = 'BASE TABLE' AND c.data_type IN ('VARCHAR', 'JSON')"
        ).fetchall()
        assert len(columns) > 100
        for schema, table, column in columns:
            hits = conn.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" WHERE ' + " OR ".join(f'contains("{column}", ?)' for _ in needles),
                needles,
            ).fetchone()[0]
            assert hits == 0, f"{schema}.{table}.{column}"


def test_gtm_run_prints_a_summary_and_logs_everything_to_a_file(secret_run):
    """The terminal gets the summary (the live display is transient): at most 60 lines, no traceback;
    the log file it names holds dbt's and Dagster's lines."""
    workspace, result = secret_run
    lines = result.stdout.splitlines()
    assert len(lines) <= 60, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    (named,) = [line.removeprefix("Full log: ") for line in lines if line.startswith("Full log: ")]
    log = Path(named).read_text()
    assert Path(named).is_relative_to(workspace.data / "logs")
    assert "dbt" in log and "STEP_SUCCESS" in log and "Materialized the gtm-assets graph" in result.stdout


def test_a_multi_year_gap_in_the_landing_data_is_forecast_on_the_latest_span(secret_run):
    """The old export days are ingested and governed like the rest; the forecast fits the latest
    unbroken span and its metadata says what it left out."""
    import dagster as dg

    workspace, _ = secret_run
    with duckdb.connect(str(workspace.warehouse), read_only=True) as conn:
        old_sessions = conn.execute(
            "SELECT count(*) FROM main.guarded_sessions WHERE session_start < DATE '2021-02-01'"
        ).fetchone()[0]
        first_day = conn.execute("SELECT min(history_first_day) FROM main.forecast").fetchone()[0]
    assert old_sessions > 0 and first_day.year >= 2024
    with dg.DagsterInstance.from_config(str(workspace.home)) as instance:
        (record,) = instance.fetch_materializations(dg.AssetKey("forecast"), limit=1).records
    span = record.asset_materialization.metadata["history_span"].value
    assert span.startswith("the latest unbroken span") and "left out 3 earlier day(s)" in span, span


def test_no_key_outside_dev_mode_is_one_clear_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "GTM_HMAC_KEY"}
    for outside in ({"GTM_ENV": "production"}, {"GTM_DSP_MODE": "http"}):
        result = subprocess.run(
            [GTM, "run"],
            cwd=REPO,
            env={**env, **outside, "GTM_DATA_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2 and result.stdout == ""
        (line,) = result.stderr.strip().splitlines()
        assert "GTM_HMAC_KEY is not set" in line and next(iter(outside)) in line


def test_dev_mode_is_written_on_every_run(graph_run, data_dir, tmp_path):
    """A run without the key in dev mode is tagged so (and its log says it); with the key it is not; a
    run outside dev mode without the key fails before writing anything."""
    workspace = make_workspace(tmp_path / "dev", data_dir)
    no_key = {k: v for k, v in workspace.env().items() if k != "GTM_HMAC_KEY"}
    command = materialize_command("raw_media_spend")
    for extra, expect in (({}, 0), ({"GTM_HMAC_KEY": "k"}, 0), ({"GTM_ENV": "production"}, 1)):
        result = subprocess.run(command, cwd=REPO, env={**no_key, **extra}, capture_output=True, text=True, timeout=300)
        assert result.returncode == expect, result.stderr[-2000:]
    with workspace.instance() as instance:
        runs = list(reversed(instance.get_runs()))
        assert [r.tags.get(DEV_KEY_TAG) for r in runs] == ["development", None, None]
        assert [r.is_success for r in runs] == [True, True, False]
        failure = " ".join(
            f"{e.user_message} {e.dagster_event.event_specific_data if e.dagster_event else ''}"
            for e in instance.all_logs(runs[2].run_id)
        )
        assert "GTM_ENV=production but GTM_HMAC_KEY is not set" in failure
