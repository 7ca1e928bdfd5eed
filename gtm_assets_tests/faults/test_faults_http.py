"""The DSP push, the ad-platform adapters and the LLM client under a connection dropped after the
server read the request, a reply that hangs past the client's timeout and a storm of 503s, against a
local server on 127.0.0.1: every retry carries the same Idempotency-Key, nothing is sent again once a
2xx came back, and the final state is recorded (the push log, the platform call log, the LLM call)."""

import json
from collections import Counter
from datetime import UTC, datetime

import dagster as dg
import duckdb
import pytest

from gtm_assets.defs.activation.dsp_payload import OUTBOX_DDL, payload_push
from gtm_assets.outbound.dsp import DspClient
from gtm_assets.outbound.llm import LLMClient, LLMError
from gtm_assets.outbound.platforms.loop import upload_conversions
from gtm_assets.outbound.platforms.records import ensure_tables, record_calls
from gtm_assets.warehouse.resource import DuckDBWarehouse
from gtm_assets_tests.outbound.platform_server import platform_server
from gtm_assets_tests.outbound.test_platforms import ROOTS, make

pytestmark = pytest.mark.faults

TIMEOUT = 0.3
HANG = ("sleep", 1.0)  # answers 200, but after the client gave up
STORM = [(503, {"error": "overloaded"}, {})] * 6
FAULTS = {"dropped": [("drop",)], "hang": [HANG], "503 storm": STORM}


@pytest.fixture()
def server():
    with platform_server() as running:
        yield running


def _keys(state, prefix):
    return [r["headers"].get("Idempotency-Key") for r in state.requests if r["path"].startswith(prefix)]


def _answered_ok(state, prefix):
    return Counter(
        r["headers"].get("Idempotency-Key") for r in state.requests if r["path"].startswith(prefix) and r["outcome"] == 200
    )


# -- the DSP push, through the payload_push asset (its push log is the recorded state) ----------------
@pytest.fixture()
def warehouse(tmp_path, monkeypatch):
    monkeypatch.setenv("GTM_DATA_DIR", str(tmp_path))
    path = tmp_path / "gtm.duckdb"
    with duckdb.connect(str(path)) as conn:
        for ddl in OUTBOX_DDL:
            conn.execute(ddl)
        conn.execute(
            "INSERT INTO main.payload_outbox (payload_id, created_at, document) VALUES ('p1', now()::TIMESTAMP, '{\"lines\": []}')"
        )
    (tmp_path / "outbox").mkdir()
    return path


def _push(warehouse, url, max_attempts=4):
    dsp = DspClient(
        mode="http", endpoint=f"{url}/dsp", api_token="t", timeout_seconds=TIMEOUT, max_attempts=max_attempts, backoff_seconds=0.0
    )
    result = dg.materialize(
        [payload_push], resources={"warehouse": DuckDBWarehouse(database=str(warehouse)), "dsp": dsp}, raise_on_error=False
    )
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        log = conn.execute(
            "SELECT idempotency_key, attempt, http_status, error, final_status FROM main.payload_pushes "
            "ORDER BY attempted_at, attempt"
        ).fetchall()
    return result.success, log


@pytest.mark.parametrize("fault", ["dropped", "hang"])
def test_dsp_push_retried_once_with_the_same_key_then_never_again(server, warehouse, fault):
    url, state = server
    state.script["/dsp"] = list(FAULTS[fault])
    ok, log = _push(warehouse, url)
    assert ok
    assert _keys(state, "/dsp") == ["p1", "p1"]
    assert [(a, s) for _, a, _, _, s in log] == [(1, "sent"), (2, "sent")]
    assert log[0][3] == ("connection failed: RemoteProtocolError" if fault == "dropped" else f"timed out after {TIMEOUT:g} s")
    ok, log = _push(warehouse, url)  # the next run: the DSP already has it
    assert ok and log[-1][-1] == "already_sent" and len(state.requests) == 2


def test_dsp_push_503_storm_fails_recorded_and_the_next_run_sends_the_same_key_once(server, warehouse):
    url, state = server
    state.script["/dsp"] = list(STORM)
    ok, log = _push(warehouse, url)
    assert not ok
    assert [(a, h, s) for _, a, h, _, s in log] == [(n, 503, "failed") for n in (1, 2, 3, 4)]
    ok, log = _push(warehouse, url)  # the storm is over (2 more 503s, then 200)
    assert ok and log[-1][-1] == "sent"
    assert set(_keys(state, "/dsp")) == {"p1"} and len(state.requests) == 7
    assert _answered_ok(state, "/dsp") == {"p1": 1}


# -- the ad platforms (their call log is the recorded state) ------------------------------------------
@pytest.mark.parametrize("platform", ["meta", "google_ads", "tiktok"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_platform_calls_under_faults(server, platform, fault):
    url, state = server
    prefix = ROOTS[platform]
    state.script[prefix] = list(FAULTS[fault])
    adapter = make(platform, url, timeout_seconds=TIMEOUT, max_attempts=4)
    event = {"event_id": "ev1", "event_time": datetime(2026, 1, 2, tzinfo=UTC), "value": 10.0, "email_sha256": "a" * 64}
    (call,) = upload_conversions(adapter, [event], None)
    conn = duckdb.connect()
    ensure_tables(conn)
    record_calls(conn, [call], "run-1")
    recorded = conn.execute("SELECT DISTINCT idempotency_key, status FROM main.platform_calls").fetchall()
    keys = _keys(state, prefix)
    assert len(set(keys)) == 1 and keys[0] == call.idempotency_key
    if fault == "503 storm":
        assert call.status == "failed" and len(keys) == 4 and not _answered_ok(state, prefix)
        assert recorded == [(call.idempotency_key, "failed")]
    else:
        assert call.status == "sent" and len(keys) == 2
        assert recorded == [(call.idempotency_key, "sent")]
    assert conn.execute("SELECT count(*) FROM main.platform_calls").fetchone()[0] == len(keys)


# -- the LLM client --------------------------------------------------------------------------------
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def _completion(content: dict) -> tuple:
    return (
        200,
        {
            "id": "c1",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": json.dumps(content)}}],
        },
        {},
    )


@pytest.mark.parametrize("fault", list(FAULTS))
def test_llm_calls_under_faults(server, fault):
    url, state = server
    state.script["/v1/chat"] = [*FAULTS[fault][:4], _completion({"name": "Champions"})]
    client = LLMClient(
        mode="openai", base_url=f"{url}/v1", model="m", timeout_seconds=TIMEOUT, max_attempts=4, backoff_seconds=0.0
    )
    keys = lambda: _keys(state, "/v1/chat")  # noqa: E731
    if fault == "503 storm":
        with pytest.raises(LLMError, match="HTTP 503 .* after 4 attempts"):
            client.call_json("s", {"q": 1}, schema=SCHEMA)
        assert len(keys()) == 4 and len(set(keys())) == 1
        return
    call = client.call_json("s", {"q": 1}, schema=SCHEMA)
    assert call.data == {"name": "Champions"} and call.attempts == 2 and len(call.notes) == 1
    assert len(keys()) == 2 and len(set(keys())) == 1
