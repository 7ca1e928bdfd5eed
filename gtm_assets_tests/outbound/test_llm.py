"""The LLM resource against a local OpenAI-compatible server that the test starts: good JSON, malformed
JSON, JSON failing the schema, 429, 500, a slow reply and a wrong key each end in a defined outcome
(retry, offline fallback with a recorded reason, or a clear failure); token usage is recorded; the key
only travels in the Authorization header; offline mode opens no socket."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gtm_assets.models.creative import FORMATS, RED, CopyBrief, load_brand_guide, write_offline
from gtm_assets.outbound.copywriting import write_ad_set_copy
from gtm_assets.outbound.llm import LLMClient, LLMConfigurationError, LLMError
from gtm_assets_tests.conftest import REPO

API_KEY = "sk-test-s3cret-key-123"
GUIDE = load_brand_guide(REPO / "data" / "brand_guide.yaml")
PROFILE = {
    "population": "customer",
    "members": 500,
    "share": 0.25,
    "centroid_means": {"total_spend": 1450.0, "deals_purchases": 1.2},
    "centroid_z": {"total_spend": 1.4, "deals_purchases": -0.8},
}
BRIEF = CopyBrief(
    audience="500 customers who spend above average",
    responds_to="recognition",
    tone="warm",
    offer_type="loyalty",
    offer_figures={"points_multiplier": 2},
)
SCHEMA = {"type": "object", "required": ["x"], "properties": {"x": {"type": "integer"}}}
USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}


def _copy_answer(request: dict, behaviour: str) -> str:
    """Variants of the requested format: the LLM's own wording (a marker word added to the first text field),
    with a banned phrase ('red') or a superlative ('amber') in the first variant when asked."""
    user = json.loads(request["messages"][1]["content"])
    fmt = FORMATS[user["format"]["name"]]
    brief = CopyBrief(
        **{k: v for k, v in user["brief"].items() if k in ("audience", "responds_to", "tone", "offer_type", "offer_figures")},
        role=user["brief"].get("reader_role"),
    )
    variants = write_offline(brief, fmt, GUIDE, n_variants=user["variants"], seed=41)["variants"]
    first = fmt.fields[0].name
    for i, variant in enumerate(variants):
        marker = {"red": "Guaranteed fresh.", "amber": "Our best range."}.get(behaviour) if i == 0 else None
        if marker and fmt.fields[0].count is None:
            variant[first] = f"{marker} {variant[first]}"
        elif marker:
            variant[first][0] = marker[:30].rstrip(".")
    return json.dumps({"variants": variants})


def _answer(request: dict, behaviour: str, calls: int) -> str:
    if behaviour == "garbage" or (behaviour == "garbage_once" and calls == 1):
        return "Sure! Here is a name: Big Spenders"
    if behaviour == "schema":
        return json.dumps({"variants": [{"wrong": 1}], "name": 7})
    user = json.loads(request["messages"][1]["content"])
    if "centroid_z" in user:
        trait = max(user["centroid_z"], key=lambda c: abs(user["centroid_z"][c]))
        name = f"{'High' if user['centroid_z'][trait] > 0 else 'Low'} {trait.replace('_', ' ').title()}"
        if behaviour == "long_name":
            name = "x" * 60
        return json.dumps({"name": name, "description": f"{user['members']} {user['population']}s led by {trait}."})
    if "format" in user:
        return _copy_answer(request, behaviour)
    return json.dumps({"x": 1})


@pytest.fixture()
def llm_server():
    """Fake OpenAI-compatible server; the model name selects a behaviour. Records every request."""
    received, counts = [], {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"path": self.path, "authorization": self.headers.get("Authorization"), "body": request})
            model = request.get("model", "")
            counts[model] = calls = counts.get(model, 0) + 1
            status, headers = 200, {}
            if model == "unauthorized":
                status = 401
            elif model == "500" or (model == "500_once" and calls == 1):
                status = 500
            elif model == "429_once" and calls == 1:
                status, headers = 429, {"Retry-After": "0"}
            elif model == "slow":
                time.sleep(1.0)
            if status != 200:
                # A server that echoes the key back: it must still never reach an error message.
                body = json.dumps({"error": {"message": f"boom for key {API_KEY}"}}).encode()
            else:
                reply = {
                    "id": "c1",
                    "object": "chat.completion",
                    "created": 0,
                    "model": model,
                    "usage": USAGE,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": _answer(request, model, calls)},
                        }
                    ],
                }
                body = json.dumps(reply).encode()
            try:
                self.send_response(status)
                for key, value in {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1", received
    server.shutdown()
    server.server_close()


def _client(url: str, behaviour: str = "ok", **overrides) -> LLMClient:
    options = {"timeout_seconds": 5.0, "max_attempts": 3, "backoff_seconds": 0.0, **overrides}
    return LLMClient(mode="openai", base_url=url, model=behaviour, api_key=API_KEY, **options)


def test_good_json_is_validated_and_its_usage_recorded(llm_server):
    url, received = llm_server
    call = _client(url).call_json("system", {"q": 1}, schema=SCHEMA, name="probe")
    assert call.data == {"x": 1} and call.attempts == 1
    assert (call.prompt_tokens, call.completion_tokens, call.total_tokens) == (11, 7, 18) and call.latency_seconds > 0
    sent = received[0]
    assert sent["authorization"] == f"Bearer {API_KEY}" and sent["body"]["temperature"] == 0
    assert sent["body"]["response_format"] == {"type": "json_schema", "json_schema": {"name": "probe", "schema": SCHEMA}}


def test_malformed_json_is_asked_again_once_then_fails(llm_server):
    url, received = llm_server
    call = _client(url, "garbage_once").call_json("s", {"q": 1}, schema=SCHEMA)
    assert call.data == {"x": 1} and call.attempts == 2 and "not JSON" in call.notes[0]
    assert "rejected" in received[-1]["body"]["messages"][-1]["content"]
    with pytest.raises(LLMError, match="answer is not JSON"):
        _client(url, "garbage").call_json("s", {"q": 1}, schema=SCHEMA)


def test_json_failing_the_schema_fails_with_the_validation_error(llm_server):
    url, _ = llm_server
    with pytest.raises(LLMError, match="fails the schema"):
        _client(url, "schema").call_json("s", {"q": 1}, schema=SCHEMA)


def test_429_and_500_are_retried_with_backoff_and_then_give_up(llm_server):
    url, received = llm_server
    assert _client(url, "429_once").call_json("s", {}, schema=SCHEMA).attempts == 2
    assert _client(url, "500_once").call_json("s", {}, schema=SCHEMA).attempts == 2
    before = len(received)
    started = time.perf_counter()
    with pytest.raises(LLMError, match="HTTP 500 .* after 3 attempts"):
        _client(url, "500", backoff_seconds=0.1).call_json("s", {}, schema=SCHEMA)
    assert len(received) - before == 3
    assert time.perf_counter() - started >= 0.3  # 0.1 + 0.2 s of exponential backoff


def test_a_slow_reply_times_out_and_is_retried(llm_server):
    url, received = llm_server
    before = len(received)
    with pytest.raises(LLMError, match="timed out .* after 2 attempts"):
        _client(url, "slow", timeout_seconds=0.3, max_attempts=2).call_json("s", {}, schema=SCHEMA)
    time.sleep(1.0)  # let the server finish its sleeping handlers
    assert len(received) - before == 2


def test_a_wrong_key_is_a_clear_failure_not_a_fallback(llm_server):
    url, _ = llm_server
    with pytest.raises(LLMConfigurationError, match="HTTP 401 .* check GTM_LLM_API_KEY") as caught:
        write_ad_set_copy(_client(url, "unauthorized"), BRIEF, FORMATS["email"], GUIDE, n_variants=2, seed=0, internal_labels=())
    assert API_KEY not in str(caught.value)


def test_errors_never_carry_the_key(llm_server):
    url, _ = llm_server
    with pytest.raises(LLMError) as caught:
        _client(url, "500", max_attempts=1).name_cluster(PROFILE)
    error, chain = caught.value, []
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert chain == [caught.value]  # no chained openai/httpx exception holding the request
    assert API_KEY not in repr(caught.value) and API_KEY not in str(caught.value) and API_KEY not in _client(url).label


def test_llm_copy_is_checked_and_red_variants_are_kept_blocked_and_replaced(llm_server):
    url, received = llm_server
    written = write_ad_set_copy(
        _client(url, "red"), BRIEF, FORMATS["social"], GUIDE, n_variants=2, seed=0, internal_labels=("Champions",)
    )
    generators = [(v.generator, v.compliance.light) for v in written.variants]
    assert generators == [("llm", RED), ("llm", "green"), ("offline", "green")]
    assert any("banned_phrase" in r for r in written.variants[0].compliance.reasons)
    assert "not green" in written.variants[2].fallback_reason
    assert written.calls[0].total_tokens == 18
    request = json.loads(received[-1]["body"]["messages"][1]["content"])
    assert (
        request["brand_guide"]["required_disclaimers"] == ["Terms apply."]
        and "guaranteed" in request["brand_guide"]["banned_phrases"]
    )
    assert request["format"]["fields"][0] == {"name": "primary_text", "max_characters": 125}
    assert "Champions" not in json.dumps(request)  # the prompt carries no segment label


@pytest.mark.parametrize(("behaviour", "reason"), [("garbage", "not JSON"), ("schema", "fails the schema"), ("500", "HTTP 500")])
def test_unusable_answers_fall_back_to_the_offline_copywriter_with_the_reason(llm_server, behaviour, reason):
    url, _ = llm_server
    written = write_ad_set_copy(_client(url, behaviour), BRIEF, FORMATS["email"], GUIDE, n_variants=2, seed=0, internal_labels=())
    assert [v.generator for v in written.variants] == ["offline", "offline"]
    assert all(reason in v.fallback_reason and v.compliance.light == "green" for v in written.variants)
    assert written.failures and reason in written.failures[0]


def test_cluster_naming_by_llm_with_deterministic_request(llm_server):
    url, received = llm_server
    names = _client(url).name_clusters(
        [PROFILE, {**PROFILE, "centroid_z": {"deals_purchases": 1.1}}], ["Big Spenders", "Deal Seekers"]
    )
    assert [n["name"] for n in names] == ["High Total Spend", "High Deals Purchases"]
    assert all(n["naming"] == "llm" and n["naming_fallback_reason"] is None for n in names)
    _client(url).name_clusters([PROFILE], ["Big Spenders"])
    assert received[-1]["body"]["messages"] == received[0]["body"]["messages"]  # byte-identical prompts


@pytest.mark.parametrize(("behaviour", "reason"), [("500", "HTTP 500"), ("garbage", "not JSON"), ("long_name", "longer than 40")])
def test_naming_falls_back_to_rule_based_with_reason(llm_server, behaviour, reason):
    url, _ = llm_server
    (named,) = _client(url, behaviour).name_clusters([PROFILE], ["Big Spenders"])
    assert named["name"] == "Big Spenders" and named["naming"] == "rule_based"
    assert reason in named["naming_fallback_reason"] and API_KEY not in json.dumps(named)


def test_duplicate_llm_name_falls_back(llm_server):
    url, _ = llm_server
    first, second = _client(url).name_clusters([PROFILE, PROFILE], ["Big Spenders", "Big Spenders 2"])
    assert first["naming"] == "llm" and second["name"] == "Big Spenders 2" and "already used" in second["naming_fallback_reason"]


def test_unreachable_server_falls_back_after_retries():
    client = LLMClient(mode="openai", base_url="http://127.0.0.1:9/v1", model="ok", timeout_seconds=2, backoff_seconds=0.0)
    (named,) = client.name_clusters([PROFILE], ["Big Spenders"])
    assert named["naming"] == "rule_based" and "connection failed" in named["naming_fallback_reason"]


def test_offline_mode_never_opens_a_socket(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("offline mode opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    client = LLMClient(base_url="http://127.0.0.1:9/v1", model="ok")
    assert not client.enabled
    (named,) = client.name_clusters([PROFILE], ["Big Spenders"])
    assert named == {"name": "Big Spenders", "naming": "rule_based", "llm_description": None, "naming_fallback_reason": None}
    written = write_ad_set_copy(client, BRIEF, FORMATS["search_rsa"], GUIDE, n_variants=2, seed=0, internal_labels=())
    assert {v.generator for v in written.variants} == {"offline"} and written.variants[0].fallback_reason is None


def test_configuration_errors_are_explicit(monkeypatch):
    from gtm_assets.outbound.llm import llm_from_settings

    with pytest.raises(LLMConfigurationError, match="base_url and model"):
        _ = LLMClient(mode="openai").enabled
    with pytest.raises(ValueError):
        LLMClient(mode="gpt")
    monkeypatch.setenv("GTM_LLM_MODE", "openai")
    monkeypatch.setenv("GTM_LLM_BASE_URL", "http://127.0.0.1:1/v1")
    monkeypatch.setenv("GTM_LLM_MODEL", "m")
    monkeypatch.setenv("GTM_LLM_API_KEY", API_KEY)
    client = llm_from_settings(inside_dagster=False)
    assert client.enabled and client.api_key == API_KEY
    assert llm_from_settings().api_key == "GTM_LLM_API_KEY"  # inside Dagster: an EnvVar, resolved at run time
    monkeypatch.delenv("GTM_LLM_MODE")
    assert not llm_from_settings(inside_dagster=False).enabled


def test_cli_uses_the_llm_only_when_configured(llm_server, monkeypatch, capsys):
    from gtm_assets_tests.cli.test_cli_personas import CSV, gtm

    url, received = llm_server
    segment = ["--csv", str(CSV), "--cohort", "Mid-Career", "--persona", "Champions", "--variants", "2"]
    monkeypatch.setenv("GTM_LLM_MODE", "openai")
    monkeypatch.setenv("GTM_LLM_BASE_URL", url)
    monkeypatch.setenv("GTM_LLM_MODEL", "red")
    assert gtm(*segment) == 0
    captured = capsys.readouterr()
    assert "llm generator, compliance red" in captured.out and "banned_phrase" in captured.out
    assert "offline copywriter instead" in captured.err  # the red variant is replaced, with the reason
    assert json.loads(received[-1]["body"]["messages"][1]["content"])["brief"]["responds_to"].startswith("recognition")
    sent = len(received)
    assert gtm(*segment, "--no-llm") == 0
    assert "offline generator" in capsys.readouterr().out and len(received) == sent
    monkeypatch.delenv("GTM_LLM_MODEL")
    assert gtm(*segment) == 2


def test_spoken_scripts_use_the_speech_model_when_one_is_configured(tmp_path):
    import io
    import wave

    from gtm_assets.outbound.tts import synthesize

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1), wav.setsampwidth(2), wav.setframerate(8000)
        wav.writeframes(b"\0\0" * 8000 * 3)  # three seconds of silence
    audio, requests = buffer.getvalue(), []

    class Speech(BaseHTTPRequestHandler):
        def do_POST(self):
            requests.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(audio)))
            self.end_headers()
            self.wfile.write(audio)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Speech)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        llm = _client(f"http://127.0.0.1:{server.server_port}/v1", speech_model="tts-1")
        result = synthesize("Twenty percent off trail runners.", tmp_path / "spot.wav", llm)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.backend, result.duration_seconds) == ("openai_speech", 3.0)
    assert requests[0][0] == "/v1/audio/speech" and requests[0][1]["input"] == "Twenty percent off trail runners."
