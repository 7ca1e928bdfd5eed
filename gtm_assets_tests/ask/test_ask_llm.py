"""`gtm ask` with an LLM configured, against a local fake OpenAI-compatible server: the LLM's reading
is used when it meets the intent schema; a schema violation, garbage or an HTTP error falls back to
the rules with the reason recorded; offline (the default) nothing is sent."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from gtm_assets.ask.engine import understand
from gtm_assets.ask.vocabulary import Vocabulary
from gtm_assets.outbound.llm import LLMClient

EMPTY = {"channels": [], "percentages": [], "amounts": [], "periods": [], "personas": [], "cohorts": []}
# A reading the rules would never give for the questions below, so a test can tell whose it is.
LLM_READING = {"intent": "forecast", "entities": {**EMPTY, "periods": [{"kind": "next", "unit": "day", "count": 3}]}}
REPLIES = {
    "good": json.dumps(LLM_READING),
    "bad_schema": json.dumps({"intent": "roi", "entities": {**EMPTY, "channels": ["Billboards"]}}),
    "garbage": "Sure! The intent is probably ROI.",
}


@pytest.fixture()
def llm_server():
    """Fake chat-completions server on 127.0.0.1; the model name picks the reply ('error' -> HTTP 500)."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append(request)
            if request["model"] == "error":
                self.send_response(500)
                self.end_headers()
                return
            reply = {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": request["model"],
                     "choices": [{"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": REPLIES[request["model"]]}}]}  # fmt: skip
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", received
    server.shutdown()
    server.server_close()


def _client(url: str, model: str) -> LLMClient:
    return LLMClient(mode="openai", base_url=url, model=model, timeout_seconds=5, backoff_seconds=0.0)


def test_llm_reading_is_used_when_it_meets_the_schema(llm_server):
    url, received = llm_server
    parsed = understand("What is the ROI of TV?", Vocabulary(), use_llm=True, client=_client(url, "good"))
    assert parsed["parser"] == "llm" and parsed["intent"] == "forecast"
    assert parsed["entities"]["periods"] == [{"kind": "next", "unit": "day", "count": 3}]
    request = json.loads(received[0]["messages"][-1]["content"])
    assert request["question"] == "What is the ROI of TV?"
    assert request["schema"]["properties"]["entities"]["properties"]["channels"]["items"]["enum"] == list(Vocabulary().channels)


@pytest.mark.parametrize("model, reason, requests", [
    ("bad_schema", "fails the schema", 2),  # asked once more with the validation error, then the rules
    ("garbage", "not JSON", 2),
    ("error", "HTTP 500", 3),  # retried with backoff, then the rules
])  # fmt: skip
def test_llm_failures_fall_back_to_the_rules_with_the_reason(llm_server, model, reason, requests):
    url, received = llm_server
    parsed = understand("What is the ROI of TV?", Vocabulary(), use_llm=True, client=_client(url, model))
    assert parsed["parser"] == "rules" and parsed["intent"] == "roi" and parsed["entities"]["channels"] == ["TV"]
    assert reason in parsed["parser_fallback_reason"]
    assert len(received) == requests


def test_offline_by_default_sends_nothing(llm_server, monkeypatch):
    _, received = llm_server
    monkeypatch.delenv("GTM_LLM_MODE", raising=False)
    parsed = understand("What is the ROI of TV?", Vocabulary())
    assert parsed["parser"] == "rules" and received == []


def test_cli_uses_the_configured_llm(llm_server, graph_run):
    url, received = llm_server
    env = {**os.environ, "GTM_LLM_MODE": "openai", "GTM_LLM_BASE_URL": url, "GTM_LLM_MODEL": "good"}
    gtm = str(Path(sys.executable).parent / "gtm")
    answer = json.loads(subprocess.run([gtm, "ask", "--json", "What is the ROI of TV?"], env=env, capture_output=True,
                                       text=True, check=True).stdout)  # fmt: skip
    assert answer["parser"] == "llm" and answer["intent"] == "forecast" and len(answer["tables"][0]["rows"]) == 3
    ruled = json.loads(subprocess.run([gtm, "ask", "--json", "--no-llm", "What is the ROI of TV?"], env=env,
                                      capture_output=True, text=True, check=True).stdout)  # fmt: skip
    assert ruled["parser"] == "rules" and ruled["intent"] == "roi" and len(received) == 1
