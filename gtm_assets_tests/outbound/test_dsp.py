"""The DSP push against a local HTTP server that the test starts: success, 500 then success, 400 with an
error body, a connection dropped mid-response and a slow reply, each with a defined outcome; the same
Idempotency-Key on every retry; dry-run sends nothing and records the exact request."""

import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gtm_assets.outbound.dsp import DspClient

TOKEN = "dsp-token-s3cret-456"
BODY = json.dumps({"payload_id": "a" * 32, "campaigns": []}).encode()


@contextmanager
def running_dsp_server():
    """Paths choose the behaviour: /ok, /500-once, /500, /400, /drop-once, /slow. Every request is recorded;
    `applied` holds the idempotency keys the DSP acted on (a retried key is applied once)."""
    received, applied, counts = [], set(), {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            key = self.headers.get("Idempotency-Key")
            received.append({"path": self.path, "key": key, "authorization": self.headers.get("Authorization"), "body": body})
            counts[self.path] = calls = counts.get(self.path, 0) + 1
            if self.path == "/drop-once" and calls == 1:
                applied.add(key)  # the DSP applied it, then the connection dropped before the answer
                self.wfile.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"par')
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if self.path == "/slow":
                time.sleep(0.6)
            status = {"/500": 500, "/400": 400}.get(self.path, 500 if self.path == "/500-once" and calls == 1 else 200)
            if status == 200:
                duplicate = key in applied
                applied.add(key)
                answer = {"accepted": True, "duplicate": duplicate}
            else:
                answer = {"error": "daily_budget must be positive" if status == 400 else "internal error"}
            data = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", received, applied
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def dsp_server():
    with running_dsp_server() as running:
        yield running


def _client(url: str, **overrides) -> DspClient:
    return DspClient(mode="http", endpoint=url, api_token=TOKEN, **{"backoff_seconds": 0.0, "timeout_seconds": 5.0, **overrides})


def test_dry_run_sends_nothing_and_records_the_exact_request(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("dry run opened a connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    result = DspClient(api_token=TOKEN).push(BODY, idempotency_key="a" * 32)
    assert result.status == "dry_run" and result.attempts == []
    assert result.request["headers"] == {
        "Content-Type": "application/json",
        "Idempotency-Key": "a" * 32,
        "Authorization": "Bearer ***",
    }
    assert result.request["body"] == BODY.decode() and TOKEN not in json.dumps(result.request)


def test_success_sends_the_token_and_the_idempotency_key(dsp_server):
    url, received, _ = dsp_server
    result = _client(f"{url}/ok").push(BODY, idempotency_key="k1")
    assert result.status == "sent" and [a.http_status for a in result.attempts] == [200]
    assert received == [{"path": "/ok", "key": "k1", "authorization": f"Bearer {TOKEN}", "body": BODY}]
    assert TOKEN not in json.dumps(result.request)


def test_500_then_success_retries_with_the_same_key(dsp_server):
    url, received, applied = dsp_server
    result = _client(f"{url}/500-once").push(BODY, idempotency_key="k2")
    assert result.status == "sent" and [a.http_status for a in result.attempts] == [500, 200]
    assert [r["key"] for r in received] == ["k2", "k2"] and applied == {"k2"}


def test_400_is_final_and_keeps_the_error_body(dsp_server):
    url, received, _ = dsp_server
    result = _client(f"{url}/400").push(BODY, idempotency_key="k3")
    assert result.status == "rejected" and len(received) == 1
    assert result.final.http_status == 400 and "daily_budget must be positive" in result.final.response_body


def test_a_connection_dropped_mid_response_is_retried_and_applied_once(dsp_server):
    url, received, applied = dsp_server
    result = _client(f"{url}/drop-once").push(BODY, idempotency_key="k4")
    assert result.status == "sent"
    assert result.attempts[0].http_status is None and "connection failed" in result.attempts[0].error
    assert [r["key"] for r in received] == ["k4", "k4"] and applied == {"k4"}
    assert json.loads(result.final.response_body) == {"accepted": True, "duplicate": True}


def test_persistent_errors_and_timeouts_end_failed_after_the_attempts(dsp_server):
    url, _received, _ = dsp_server
    failed = _client(f"{url}/500", max_attempts=3).push(BODY, idempotency_key="k5")
    assert failed.status == "failed" and [a.http_status for a in failed.attempts] == [500, 500, 500]
    slow = _client(f"{url}/slow", max_attempts=2, timeout_seconds=0.2).push(BODY, idempotency_key="k6")
    assert slow.status == "failed" and all("timed out" in a.error for a in slow.attempts)


def test_http_mode_needs_an_endpoint():
    with pytest.raises(ValueError, match="no endpoint is configured"):
        DspClient(mode="http").push(BODY, idempotency_key="k")
