"""The DSP adapter: dry-run by default, and the real HTTP client against a local server."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from gtm_assets.dsp import DspClient, DspPushError

PAYLOAD = {"payload_id": "abc123", "budgets": [{"channel": "TV", "daily_budget": 100.0}]}


@pytest.fixture()
def dsp_server():
    """A DSP stand-in on 127.0.0.1 that records requests; path /fail answers 500."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
            self.send_response(500 if self.path == "/fail" else 202)
            self.end_headers()
            self.wfile.write(b'{"accepted": true}')

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


def test_dry_run_sends_nothing():
    assert DspClient().push(PAYLOAD) == {"status": "dry_run", "payload_id": "abc123"}


def test_http_push_sends_payload_with_token_and_idempotency_key(dsp_server, monkeypatch):
    url, received = dsp_server
    monkeypatch.setenv("GTM_DSP_API_TOKEN", "s3cret-token")
    receipt = DspClient(mode="http", endpoint=f"{url}/payloads").push(PAYLOAD)
    assert receipt["status"] == "sent" and receipt["http_status"] == 202
    assert "s3cret-token" not in json.dumps(receipt)
    (request,) = received
    assert request["body"] == PAYLOAD
    assert request["headers"]["Authorization"] == "Bearer s3cret-token"
    assert request["headers"]["Idempotency-Key"] == "abc123"


def test_http_errors_name_the_endpoint_not_the_token(dsp_server, monkeypatch):
    url, _ = dsp_server
    monkeypatch.setenv("GTM_DSP_API_TOKEN", "s3cret-token")
    with pytest.raises(DspPushError, match="HTTP 500") as error:
        DspClient(mode="http", endpoint=f"{url}/fail").push(PAYLOAD)
    assert "s3cret-token" not in str(error.value)
    with pytest.raises(DspPushError, match="unreachable"):
        DspClient(mode="http", endpoint="http://127.0.0.1:9/nothing", timeout_seconds=2).push(PAYLOAD)
    with pytest.raises(ValueError, match="no endpoint"):
        DspClient(mode="http").push(PAYLOAD)
