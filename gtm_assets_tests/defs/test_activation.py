"""Activation an auditor can sign off, on the graph materialized from a simulated world: creatives for
every funded campaign, nothing red or unapproved or labelled in the payload, a payload that validates,
consented audiences only, keyed lineage ids, an idempotent push, and `gtm trace` down to the exact lines
of the landing files."""

import gzip
import hashlib
import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from gtm_assets.audit.lineage import trace_payload
from gtm_assets.defs.activation.dsp_payload import PayloadSchemaError, validate_payload
from gtm_assets.warehouse.resource import DuckDBWarehouse


def _newest_payload(conn) -> dict:
    return json.loads(conn.execute("SELECT document FROM main.payload_outbox ORDER BY created_at DESC LIMIT 1").fetchone()[0])


def _labels(conn) -> set[str]:
    rows = conn.execute(
        "SELECT cohort FROM main.persona_summary UNION SELECT persona FROM main.persona_summary "
        "UNION SELECT cluster_name FROM main.persona_clusters UNION SELECT rule_based_name FROM main.persona_clusters "
        "UNION SELECT segment_name FROM main.creative_briefs"
    ).fetchall()
    return {r[0] for r in rows if r[0] and r[0] != "Unassigned"}


def test_every_funded_campaign_has_ab_ads_in_its_channels_format(conn):
    payload = _newest_payload(conn)
    funded = conn.execute(
        "SELECT DISTINCT channel, campaign FROM main.allocations WHERE recommended_campaign_spend > 0"
    ).fetchall()
    in_payload = {(c["channel"], c["name"]): c for c in payload["campaigns"]}
    assert funded and set(funded) <= set(in_payload)
    formats = {"Search": "search_rsa", "Social": "social", "Display": "display", "Email": "email", "TV": "spoken",
               "CTV": "spoken", "Radio": "spoken", "Print": "print"}  # fmt: skip
    budgets = dict(conn.execute("SELECT channel || '|' || campaign, recommended_campaign_spend FROM main.allocations").fetchall())
    for channel, name in funded:
        campaign = in_payload[(channel, name)]
        assert abs(campaign["daily_budget"] - budgets[f"{channel}|{name}"]) < 0.005
        assert abs(sum(s["daily_budget"] for s in campaign["ad_sets"]) - campaign["daily_budget"]) < 0.005
        for ad_set in campaign["ad_sets"]:
            assert len(ad_set["ads"]) >= 2 and {ad["format"] for ad in ad_set["ads"]} == {formats[channel]}
    cold = [c for c in payload["campaigns"] if c["name"] == "b2b_cold_outreach"]
    assert cold and {a["format"] for s in cold[0]["ad_sets"] for a in s["ads"]} == {"cold_email"}


def test_no_red_unapproved_amber_or_internal_label_reaches_the_payload(conn):
    payload = _newest_payload(conn)
    ads = [ad for c in payload["campaigns"] for s in c["ad_sets"] for ad in s["ads"]]
    assert ads and {ad["compliance"]["traffic_light"] for ad in ads} <= {"green", "amber"}
    assert all(ad["compliance"]["approved_by"] for ad in ads if ad["compliance"]["traffic_light"] == "amber")
    text = json.dumps(payload).lower()
    labels = _labels(conn)
    assert len(labels) > 20
    assert [label for label in labels if label.lower() in text] == []
    library = conn.execute("SELECT copy_text FROM main.creative_library").fetchall()
    assert [label for label in labels for (copy,) in library if label.lower() in copy.lower()] == []


def test_the_payload_validates_and_the_schema_rejects_what_a_dsp_could_not_act_on(conn):
    payload = _newest_payload(conn)
    validate_payload(payload)
    broken = json.loads(json.dumps(payload))
    broken["campaigns"][0]["ad_sets"][0]["ads"] = broken["campaigns"][0]["ad_sets"][0]["ads"][:1]
    with pytest.raises(PayloadSchemaError, match="ads"):
        validate_payload(broken)
    unapproved = json.loads(json.dumps(payload))
    unapproved["campaigns"][0]["ad_sets"][0]["ads"][0]["compliance"] = {
        "traffic_light": "amber",
        "score": 0.9,
        "approved_by": None,
    }
    with pytest.raises(PayloadSchemaError, match="approved_by"):
        validate_payload(unapproved)
    del unapproved["audiences"]
    with pytest.raises(PayloadSchemaError, match="audiences"):
        validate_payload(unapproved)


def test_audiences_hold_only_users_whose_latest_session_consented_to_ads(conn, data_dir):
    payload = _newest_payload(conn)
    members = {k for a in payload["audiences"] if a["kind"] == "user_cluster" for k in a["member_keys"]}
    assert len(members) > 500
    # Independently of the governance SQL: each raw user's consent on their latest well-formed session,
    # hashed with the key as the product does.
    from gtm_assets.warehouse.resource import prepare_connection

    with duckdb.connect() as scratch:
        prepare_connection(scratch)
        scratch.execute(
            "CREATE TABLE events AS SELECT event_id, user_pseudo_id, session_id, consent_ads, consent_analytics, "
            "event_timestamp, revenue "
            f"FROM (SELECT * FROM read_csv('{data_dir}/landing/events/*.csv', all_varchar=true) "
            f"UNION ALL BY NAME SELECT * FROM read_parquet('{data_dir}/landing/events/*.parquet') "
            f"UNION ALL BY NAME SELECT * FROM read_json('{data_dir}/landing/events/*.jsonl.gz', format='newline_delimited', "
            "columns={event_id: 'VARCHAR', user_pseudo_id: 'VARCHAR', session_id: 'VARCHAR', consent_ads: 'VARCHAR', "
            "consent_analytics: 'VARCHAR', event_timestamp: 'VARCHAR', revenue: 'VARCHAR'}))"
        )
        # Well-formed rows only (ids present, a timestamp, no bad revenue): malformed rows never reach a session.
        consented = {
            r[0]
            for r in scratch.execute(
                "SELECT pii_hmac(user_pseudo_id) FROM (SELECT user_pseudo_id, session_id, bool_and(consent_ads::BOOLEAN) AS ads, "
                "min(try_cast(event_timestamp AS TIMESTAMPTZ)) AS started FROM events WHERE consent_analytics::BOOLEAN "
                "AND user_pseudo_id IS NOT NULL AND session_id IS NOT NULL AND event_id IS NOT NULL "
                "AND try_cast(event_timestamp AS TIMESTAMPTZ) IS NOT NULL "
                "AND (nullif(trim(revenue), '') IS NULL OR try_cast(revenue AS DECIMAL(18, 2)) >= 0) GROUP BY ALL) "
                "GROUP BY user_pseudo_id HAVING arg_max(ads, started)"
            ).fetchall()
        }
    assert members <= consented
    excluded = conn.execute("SELECT sum(excluded_without_consent) FROM main.audiences WHERE kind = 'user_cluster'").fetchone()[0]
    assert excluded > 0  # some cluster members were left out for lack of consent


def test_lineage_ids_are_keyed_so_raw_identifiers_do_not_reproduce_them(conn):
    stored = {r[0] for r in conn.execute("SELECT lineage_id FROM main.guarded_sessions").fetchall()}
    unkeyed = {
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT md5('session|' || trim(user_pseudo_id) || '|' || trim(session_id)) FROM raw.raw_events "
            "WHERE user_pseudo_id IS NOT NULL AND session_id IS NOT NULL"
        ).fetchall()
    }
    assert len(stored) > 1000 and len(unkeyed) > 1000
    assert stored.isdisjoint(unkeyed)


def _line_in_file(data_dir: Path, file: str, row: int) -> dict:
    """The raw record at 1-based data row ``row`` of a landing file, read without DuckDB."""
    path = data_dir / file
    if path.name.endswith(".parquet"):
        table = pq.read_table(path)
        return {k: v[0] for k, v in table.slice(row - 1, 1).to_pydict().items()}
    if path.name.endswith(".jsonl.gz"):
        with gzip.open(path, "rt") as handle:
            for number, text in enumerate(handle, start=1):
                if number == row:
                    return json.loads(text)
    import csv

    with open(path, newline="") as handle:
        for number, record in enumerate(csv.DictReader(handle), start=1):
            if number == row:
                return record
    raise AssertionError(f"{file} has no row {row}")


def test_trace_of_an_audience_line_reaches_consented_raw_rows_at_the_exact_file_lines(conn, data_dir):
    payload_id = _newest_payload(conn)["payload_id"]
    line = conn.execute(
        "SELECT p.line_number FROM main.dsp_payload p JOIN main.audiences a ON a.audience_id = p.object_id "
        "WHERE p.payload_id = ? AND a.kind = 'user_cluster' ORDER BY a.members LIMIT 1",
        [payload_id],
    ).fetchone()[0]
    trace = trace_payload(conn, payload_id, line=line)
    assert [s["asset"] for s in trace.steps][:2] == ["dsp_payload", "audiences"] and not trace.gone_rows
    rows = conn.execute(
        "SELECT t.raw_row_id, t.source_file, t.source_file_sha256, t.source_row_number, r.event_id, r.consent_ads, "
        "r.user_pseudo_id FROM trace_raw t JOIN raw.raw_events r USING (raw_row_id) WHERE t.asset = 'raw_events'"
    ).fetchdf()
    assert len(rows) > 100
    for file, sha in rows[["source_file", "source_file_sha256"]].drop_duplicates().itertuples(index=False):
        assert hashlib.sha256((data_dir / file).read_bytes()).hexdigest() == sha
    for record in rows.sample(25, random_state=1).itertuples():
        on_disk = _line_in_file(data_dir, record.source_file, record.source_row_number)
        assert on_disk["event_id"] == record.event_id
    # Every member of the audience reaches at least one raw row with ads consent.
    member_rows = conn.execute(
        "SELECT m.member_key, bool_or(r.consent_ads = 'true') FROM main.audience_members m "
        "JOIN main.features f ON f.lineage_id = m.source_lineage_id, unnest(f.session_lineage_ids) s(session) "
        "JOIN main.session_raw_rows b ON b.session_lineage_id = s.session JOIN raw.raw_events r USING (raw_row_id) "
        "WHERE m.consented AND m.audience_id = (SELECT object_id FROM main.dsp_payload WHERE payload_id = ? AND line_number = ?) "
        "GROUP BY m.member_key",
        [payload_id, line],
    ).fetchall()
    assert member_rows and all(ok for _, ok in member_rows)


def test_a_removed_raw_file_makes_trace_name_the_rows_that_are_gone(graph_run, tmp_path, capsys):
    from gtm_assets.cli import main

    copy = tmp_path / "gone.duckdb"
    shutil.copy(os.environ["GTM_DUCKDB_PATH"], copy)
    with duckdb.connect(str(copy)) as db:
        removed = db.execute("SELECT min(source_file) FROM raw.raw_events").fetchone()[0]
        db.execute("DELETE FROM raw.raw_events WHERE source_file = ?", [removed])
    assert main(["trace", "--db", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "source rows are gone from the raw zone" in out and removed in out
    assert main(["trace", "--db", str(copy), "--format", "json"]) == 1
    gone = json.loads(capsys.readouterr().out)["gone_rows"]
    assert gone and {g["file"] for g in gone} == {removed} and all(g["row"] for g in gone)
    assert main(["trace", "nosuchpayload", "--db", str(copy)]) == 2
    assert "no such payload" in capsys.readouterr().err


def test_trace_csv_lists_every_source_row(graph_run, capsys):
    from gtm_assets.cli import main

    assert main(["trace", "--line", "1", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "asset,source_file,source_file_sha256,source_row_number,raw_row_id,status" and len(lines) > 10
    assert all(line.endswith(",present") for line in lines[1:])


def test_spoken_scripts_have_audio_when_a_tts_backend_exists(conn):
    rows = conn.execute(
        "SELECT audio_backend, audio_15s_path, audio_15s_seconds, audio_30s_seconds, audio_note FROM main.creative_library "
        "WHERE format = 'spoken' AND status = 'ready'"
    ).fetchall()
    assert rows
    if shutil.which("espeak-ng"):
        for backend, path, short, long, _ in rows:
            assert backend == "espeak-ng" and Path(path).stat().st_size > 1000
            assert 5 < short < 20 and 15 < long < 40 and long > short
    else:
        assert not os.environ.get("CI"), "espeak-ng is not installed: .ci/run must install it"
        assert all(r[0] == "none" and "no text-to-speech backend" in r[4] for r in rows)


class _FakeLLM:
    """A local OpenAI-compatible server whose first variant of every ad set is red (a banned phrase)."""

    def __enter__(self):
        from gtm_assets_tests.outbound.test_llm import _copy_answer

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                user = json.loads(request["messages"][1]["content"])
                content = (
                    _copy_answer(request, request["model"])
                    if "format" in user
                    else json.dumps({"name": f"Cluster {user['members']}", "description": "A cluster."})
                )
                body = json.dumps(
                    {
                        "id": "c",
                        "object": "chat.completion",
                        "created": 0,
                        "model": request["model"],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
                        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}/v1"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _activation(database: str, llm, dsp=None):
    from gtm_assets.defs.activation import creative_checks
    from gtm_assets.defs.activation.creative_library import creative_library
    from gtm_assets.defs.activation.dsp_payload import dsp_payload, payload_push
    from gtm_assets.outbound.dsp import DspClient

    return dg.materialize(
        [
            creative_library,
            dsp_payload,
            payload_push,
            creative_checks.shippable_creatives_pass_compliance,
            creative_checks.every_funded_campaign_has_ads,
            creative_checks.payload_ships_only_shippable_creatives,
        ],
        resources={"warehouse": DuckDBWarehouse(database=database), "llm": llm, "dsp": dsp or DspClient()},
        run_config={"ops": {"creative_library": {"config": {"channels": ["Social", "Search"], "synthesize_audio": False}}}},
        raise_on_error=False,
    )


@pytest.mark.parametrize("behaviour", ["red", "amber"])
def test_injected_red_or_amber_llm_copy_never_ships_until_approved(graph_run, tmp_path, behaviour, capsys):
    from gtm_assets.cli import main
    from gtm_assets.outbound.llm import LLMClient

    copy = str(tmp_path / "llm.duckdb")
    shutil.copy(os.environ["GTM_DUCKDB_PATH"], copy)
    with _FakeLLM() as url:
        llm = LLMClient(mode="openai", base_url=url, model=behaviour, backoff_seconds=0.0)
        result = _activation(copy, llm)
    assert result.success
    with duckdb.connect(copy, read_only=True) as db:
        flagged = db.execute(
            "SELECT creative_id, status, traffic_light FROM main.creative_library WHERE generator = 'llm' AND traffic_light <> 'green' "
            "ORDER BY traffic_light = ? DESC",
            [behaviour],
        ).fetchall()
        shipped = {
            r[0]
            for r in db.execute(
                "SELECT object_id FROM main.dsp_payload WHERE line_type = 'ad' AND payload_id = "
                "(SELECT payload_id FROM main.payload_outbox ORDER BY created_at DESC LIMIT 1)"
            ).fetchall()
        }
        per_set = db.execute("SELECT min(shippable_ads) FROM main.ad_sets").fetchone()[0]
    assert flagged and flagged[0][2] == behaviour
    assert all(status == {"red": "blocked", "amber": "needs_approval"}[light] for _, status, light in flagged)
    assert shipped and not shipped & {f[0] for f in flagged} and per_set >= 2
    creative_id = flagged[0][0]
    if behaviour == "red":
        assert main(["approve", creative_id, "--by", "auditor", "--db", copy]) == 2
        assert "red and cannot be approved" in capsys.readouterr().err
        return
    assert main(["approve", creative_id, "--by", "Dana (legal)", "--note", "range claim substantiated", "--db", copy]) == 0
    from gtm_assets.defs.activation.dsp_payload import dsp_payload

    again = dg.materialize([dsp_payload], resources={"warehouse": DuckDBWarehouse(database=copy)})
    assert again.success
    with duckdb.connect(copy, read_only=True) as db:
        document = _newest_payload(db)
    approved = [ad for c in document["campaigns"] for s in c["ad_sets"] for ad in s["ads"] if ad["creative_id"] == creative_id]
    assert approved and approved[0]["compliance"] == {
        "traffic_light": "amber",
        "score": approved[0]["compliance"]["score"],
        "approved_by": "Dana (legal)",
    }


def test_push_is_idempotent_and_a_rejection_fails_the_asset_with_the_dsp_error(graph_run, tmp_path):
    from gtm_assets.defs.activation.dsp_payload import payload_push
    from gtm_assets.outbound.dsp import DspClient
    from gtm_assets_tests.outbound.test_dsp import running_dsp_server

    copy = str(tmp_path / "push.duckdb")
    shutil.copy(os.environ["GTM_DUCKDB_PATH"], copy)
    with running_dsp_server() as (url, received, _):
        push = DspClient(mode="http", endpoint=f"{url}/500-once", api_token="t0ken", backoff_seconds=0.0)
        resources = {"warehouse": DuckDBWarehouse(database=copy), "dsp": push}
        first = dg.materialize([payload_push], resources=resources)
        assert first.success and len(received) == 2 and len({r["key"] for r in received}) == 1
        second = dg.materialize([payload_push], resources=resources)
        assert second.success and len(received) == 2  # nothing new is sent
        statuses = [
            m.materialization.metadata["push_status"].value for r in (first, second) for m in r.get_asset_materialization_events()
        ]
        assert statuses == ["sent", "already_sent"]
        with duckdb.connect(copy) as db:
            db.execute("DELETE FROM main.payload_pushes")
        rejected = dg.materialize(
            [payload_push],
            raise_on_error=False,
            resources={
                "warehouse": DuckDBWarehouse(database=copy),
                "dsp": DspClient(mode="http", endpoint=f"{url}/400", backoff_seconds=0.0),
            },
        )
        assert not rejected.success
        failure = next(e for e in rejected.all_events if e.event_type_value == "STEP_FAILURE")
        assert "rejected after 1 attempt(s): HTTP 400" in str(failure) and "daily_budget must be positive" in str(failure)
        with duckdb.connect(copy, read_only=True) as db:
            assert db.execute("SELECT final_status, http_status FROM main.payload_pushes").fetchall() == [("rejected", 400)]


def test_the_docs_sql_for_auditors_returns_the_rows_gtm_trace_returns(conn):
    from gtm_assets_tests.conftest import REPO

    page = (REPO / "docs" / "governance.md").read_text()
    sql = page.split("Tracing a payload line in SQL", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
    payload_id = _newest_payload(conn)["payload_id"]
    line = conn.execute(
        "SELECT min(p.line_number) FROM main.dsp_payload p JOIN main.creative_library c ON c.creative_id = p.object_id "
        "WHERE p.payload_id = ? AND p.line_type = 'ad' AND c.audience_kind = 'user_cluster'",
        [payload_id],
    ).fetchone()[0]
    from_sql = conn.execute(sql, {"payload_id": payload_id, "line": line}).fetchall()
    trace_payload(conn, payload_id, line=line)
    from_trace = conn.execute(
        "SELECT source_file, source_file_sha256, source_row_number FROM trace_raw WHERE asset = 'raw_events' ORDER BY 1, 3"
    ).fetchall()
    assert len(from_sql) > 100 and from_sql == from_trace


def test_trace_says_in_one_line_when_a_writer_holds_the_file(graph_run, tmp_path):
    import subprocess
    import sys
    import time

    copy = tmp_path / "busy.duckdb"
    shutil.copy(os.environ["GTM_DUCKDB_PATH"], copy)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(60)",
            str(copy),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        started = time.perf_counter()
        gtm = str(Path(sys.executable).parent / "gtm")
        busy = subprocess.run([gtm, "trace", "--db", str(copy)], capture_output=True, text=True)
        assert busy.returncode == 2 and time.perf_counter() - started < 30
        assert busy.stderr.count("\n") == 1 and "is being written right now (writer PID" in busy.stderr
    finally:
        holder.kill()
        holder.wait()


def test_generate_creatives_for_one_audience_keeps_every_other_audiences_copy(graph_run, tmp_path):
    from gtm_assets.defs.activation.creative_library import creative_library
    from gtm_assets.outbound.llm import LLMClient

    copy = str(tmp_path / "one-audience.duckdb")
    shutil.copy(os.environ["GTM_DUCKDB_PATH"], copy)
    query = "SELECT audience_key, creative_id, content_sha256 FROM main.creative_library ORDER BY ALL"
    with duckdb.connect(copy, read_only=True) as db:
        before = db.execute(query).fetchdf()
    target = "user_cluster:user-1"
    assert target in set(before["audience_key"])

    def run(audiences: list[str]):
        return dg.materialize(
            [creative_library], resources={"warehouse": DuckDBWarehouse(database=copy), "llm": LLMClient()},
            run_config={"ops": {"creative_library": {"config": {"audiences": audiences, "seed": 11, "synthesize_audio": False}}}},
            raise_on_error=False,
        )  # fmt: skip

    assert run([target]).success
    with duckdb.connect(copy, read_only=True) as db:
        after = db.execute(query).fetchdf()
    others_before, others_after = (frame[frame["audience_key"] != target].reset_index(drop=True) for frame in (before, after))
    pd.testing.assert_frame_equal(others_before, others_after)
    rewritten = after[after["audience_key"] == target]
    assert len(rewritten) >= 2 and set(rewritten["content_sha256"]) != set(
        before[before["audience_key"] == target]["content_sha256"]
    )
    failed = run(["user_cluster:nobody"])
    assert not failed.success
    message = failed.get_step_failure_events()[0].event_specific_data.error.message
    assert "unknown audiences ['user_cluster:nobody']" in message


def test_rewriting_one_channel_after_persona_discovery_rewrites_the_stale_ones_too(graph_run, tmp_path):
    """Briefs replaced since the library was written (as discover_personas does): a Social-only rewrite
    would keep ads whose brief is gone, so every channel is rewritten and the metadata says why."""
    from gtm_assets.defs.activation import creative_checks
    from gtm_assets.defs.activation.creative_library import creative_library
    from gtm_assets.outbound.llm import LLMClient

    copy = str(tmp_path / "rediscovered.duckdb")
    shutil.copy(os.environ["GTM_DUCKDB_PATH"], copy)
    with duckdb.connect(copy) as db:
        db.execute("UPDATE main.creative_briefs SET lineage_id = lineage_id || '-v2'")
    result = dg.materialize(
        [creative_library, creative_checks.shippable_creatives_pass_compliance, creative_checks.every_funded_campaign_has_ads],
        resources={"warehouse": DuckDBWarehouse(database=copy), "llm": LLMClient()},
        run_config={"ops": {"creative_library": {"config": {"channels": ["Social"], "synthesize_audio": False}}}},
    )
    assert result.success
    scope = result.asset_materializations_for_node("creative_library")[0].metadata["scope"].value
    assert scope.startswith("rewrote every channel instead of ['Social']") and "Display" in scope
    with duckdb.connect(copy, read_only=True) as db:
        orphans = db.execute(
            "SELECT count(*) FROM main.creative_library WHERE brief_lineage_id IS NOT NULL AND "
            "brief_lineage_id NOT IN (SELECT lineage_id FROM main.creative_briefs)"
        ).fetchone()[0]
    assert orphans == 0


def test_gtm_show_says_once_what_every_row_shares(graph_run, capsys):
    """`gtm show allocations`: the plan's run id and method, the same on every row, are said once under
    the table instead of filling a column; `--json` keeps them on every record."""
    import argparse

    from gtm_assets.cli.show import show_command

    args = argparse.Namespace(what="allocations", json=False, limit=50, db=os.environ["GTM_DUCKDB_PATH"])
    assert show_command(args) == 0
    table = capsys.readouterr().out
    args.json = True
    assert show_command(args) == 0
    records = json.loads(capsys.readouterr().out)
    (run_id,) = {r["run_id"] for r in records}
    (method,) = {r["method"] for r in records}
    assert len(records) > 1 and table.count(run_id) == 1 and f"every row: method {method}, run_id {run_id}" in table
