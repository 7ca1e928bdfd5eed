"""The optional LLM path against a local fake OpenAI-compatible server: cluster names, compliance-
scored copy, fallbacks with reasons, the key only in the Authorization header, offline = no socket."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from gtm_assets.llm import LLMClient, LLMError
from gtm_assets.models.creative import CHANNEL_LIMITS

API_KEY = "sk-test-s3cret-key-123"
PROFILE = {
    "population": "customer",
    "members": 500,
    "share": 0.25,
    "centroid_means": {"total_spend": 1450.0, "deals_purchases": 1.2},
    "centroid_z": {"total_spend": 1.4, "deals_purchases": -0.8},
}
BRIEF = {
    "segment_name": "Mid-Career Champions",
    "who_they_are": "120 customers, mean spend $1,200",
    "responds_to": "recognition",
    "offer_type": "loyalty",
    "offer_figures": {"points_multiplier": 2},
    "do_list": ["thank them"],
    "dont_list": ["lead with discounts"],
}


def _answer(request: dict, behaviour: str) -> str:
    """The assistant message for a chat request, derived from its user message."""
    user = json.loads(request["messages"][-1]["content"])
    if behaviour == "garbage":
        return "Sure! Here is a name: Big Spenders"
    if "centroid_z" in user:  # naming request: name the strongest trait of the centroid
        trait = max(user["centroid_z"], key=lambda c: abs(user["centroid_z"][c]))
        direction = "High" if user["centroid_z"][trait] > 0 else "Low"
        name = f"{direction} {trait.replace('_', ' ').title()}" if behaviour != "long_name" else "x" * 60
        return json.dumps({"name": name, "description": f"{user['members']} {user['population']}s led by {trait}."})
    brief, limit = user["brief"], user["limits"]["headline_max_chars"]
    opt_out = " Unsubscribe anytime." if user["channel"] == "email" else ""
    variants = [
        {"headline": f"Thanks, {brief['segment_name']}"[:limit], "body": f"Double points this month.{opt_out}",
         "call_to_action": "See my points"},
        {"headline": "Guaranteed rewards for you", "body": "The best ever points offer, just for you.",
         "call_to_action": "Join now"},
        {"headline": "A headline that is far longer than any channel allows", "body": "Short body." + opt_out,
         "call_to_action": "Go"},
    ]
    return json.dumps({"variants": variants[: user["variants"]]})


@pytest.fixture()
def llm_server():
    """Fake OpenAI-compatible server: POST /v1/chat/completions; the model name selects a behaviour
    ('ok', 'garbage', 'long_name', 'error' -> HTTP 500). Records every request."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"path": self.path, "authorization": self.headers.get("Authorization"), "body": request})
            if self.path != "/v1/chat/completions" or request["model"] == "error":
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b'{"error": {"message": "boom"}}')
                return
            reply = {
                "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": request["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": _answer(request, request["model"])}}],
            }  # fmt: skip
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1", received
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("GTM_LLM_API_KEY", API_KEY)


def _client(url: str, behaviour: str = "ok") -> LLMClient:
    return LLMClient(mode="openai", base_url=url, model=behaviour, timeout_seconds=5)


def test_cluster_naming_by_llm_with_deterministic_request(llm_server):
    url, received = llm_server
    names = _client(url).name_clusters([PROFILE, {**PROFILE, "centroid_z": {"deals_purchases": 1.1}}],
                                       ["Big Spenders", "Deal Seekers"])
    assert [n["name"] for n in names] == ["High Total Spend", "High Deals Purchases"]
    assert all(n["naming"] == "llm" and n["naming_fallback_reason"] is None for n in names)
    assert names[0]["llm_description"] == "500 customers led by total_spend."
    first = received[0]
    assert first["path"] == "/v1/chat/completions"
    assert first["authorization"] == f"Bearer {API_KEY}"
    assert first["body"]["temperature"] == 0
    # The same profile gives byte-identical prompts.
    _client(url).name_clusters([PROFILE], ["Big Spenders"])
    assert received[-1]["body"]["messages"] == first["body"]["messages"]
    assert API_KEY not in json.dumps(names)


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [("error", "HTTP 500"), ("garbage", "not a JSON object"), ("long_name", "longer than 40")],
)
def test_naming_falls_back_to_rule_based_with_reason(llm_server, behaviour, reason):
    url, _ = llm_server
    (named,) = _client(url, behaviour).name_clusters([PROFILE], ["Big Spenders"])
    assert named["name"] == "Big Spenders" and named["naming"] == "rule_based"
    assert reason in named["naming_fallback_reason"]
    assert API_KEY not in json.dumps(named)


def test_duplicate_llm_name_falls_back(llm_server):
    url, _ = llm_server
    first, second = _client(url).name_clusters([PROFILE, PROFILE], ["Big Spenders", "Big Spenders 2"])
    assert first["naming"] == "llm" and second["name"] == "Big Spenders 2"
    assert "already used" in second["naming_fallback_reason"]


def test_unreachable_server_falls_back():
    (named,) = LLMClient(mode="openai", base_url="http://127.0.0.1:9/v1", model="ok", timeout_seconds=2).name_clusters(
        [PROFILE], ["Big Spenders"]
    )
    assert named["naming"] == "rule_based" and "could not connect" in named["naming_fallback_reason"]


def test_llm_copy_is_compliance_scored_and_flagged_not_trimmed(llm_server):
    url, received = llm_server
    variants = _client(url).copy_variants(BRIEF, {"segment_name": "x"}, channel="email", style="warm", n_variants=3, seed=0)
    assert [v["generator"] for v in variants] == ["llm"] * 3
    clean, banned, too_long = variants
    assert clean["compliance"] == {"score": 1.0, "failed_rules": []}
    assert {"banned_phrase:guaranteed", "banned_phrase:best ever", "missing_opt_out"} <= set(banned["compliance"]["failed_rules"])
    assert banned["compliance"]["score"] < 0.5
    headline_max = CHANNEL_LIMITS["email"][0]
    assert len(too_long["headline"]) > headline_max  # kept as written, flagged
    assert f"headline_too_long:{len(too_long['headline'])}>{headline_max}" in too_long["compliance"]["failed_rules"]
    request = json.loads(received[0]["body"]["messages"][-1]["content"])
    assert request["brief"]["segment_name"] == "Mid-Career Champions" and request["limits"]["headline_max_chars"] == 40
    assert API_KEY not in json.dumps(variants)


def test_copy_falls_back_to_template_with_reason(llm_server):
    url, _ = llm_server
    request = {"segment_name": "Mid-Career Champions", "offer_type": "loyalty", "key_figures": {"points_multiplier": 2}}
    variants = _client(url, "garbage").copy_variants(BRIEF, request, channel="email", style="warm", n_variants=2, seed=0)
    assert [v["generator"] for v in variants] == ["template"] * 2
    assert "not a JSON object" in variants[0]["generator_fallback_reason"]
    assert all(v["compliance"]["score"] == 1.0 for v in variants)
    # Fewer variants than asked is an error, not a silent shortfall.
    with pytest.raises(LLMError, match="asked for 4"):
        _client(url).write_copy(BRIEF, channel="email", style="warm", n_variants=4)


def test_errors_never_carry_the_key(llm_server):
    url, _ = llm_server
    with pytest.raises(LLMError) as caught:
        _client(url, "error").name_cluster(PROFILE)
    error, chain = caught.value, []
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert chain == [caught.value]  # no chained openai/httpx exception holding the request
    assert API_KEY not in repr(caught.value) and API_KEY not in str(caught.value)
    assert API_KEY not in _client(url).model_dump_json() and API_KEY not in _client(url).label


def test_offline_mode_never_opens_a_socket(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("offline mode opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    client = LLMClient(base_url="http://127.0.0.1:9/v1", model="ok")
    assert not client.enabled
    (named,) = client.name_clusters([PROFILE], ["Big Spenders"])
    assert named == {"name": "Big Spenders", "naming": "rule_based", "llm_description": None, "naming_fallback_reason": None}
    request = {"segment_name": "Mid-Career Champions", "offer_type": "loyalty", "key_figures": {"points_multiplier": 2}}
    variants = client.copy_variants(BRIEF, request, channel="search", style="playful", n_variants=2, seed=0)
    assert {v["generator"] for v in variants} == {"template"} and variants[0]["generator_fallback_reason"] is None


def test_configuration_errors_are_explicit(monkeypatch):
    with pytest.raises(ValueError, match="base_url and model"):
        LLMClient(mode="openai").enabled
    with pytest.raises(ValueError, match="offline, openai"):
        LLMClient(mode="gpt").enabled
    monkeypatch.setenv("GTM_LLM_MODE", "openai")
    monkeypatch.setenv("GTM_LLM_BASE_URL", "http://127.0.0.1:1/v1")
    monkeypatch.setenv("GTM_LLM_MODEL", "m")
    assert LLMClient.from_env().enabled
    monkeypatch.delenv("GTM_LLM_MODE")
    assert not LLMClient.from_env().enabled


def test_cli_uses_the_llm_only_when_configured(llm_server, monkeypatch, capsys):
    from gtm_assets_tests.test_cli_personas import CSV, gtm

    url, received = llm_server
    segment = ["--csv", str(CSV), "--cohort", "Mid-Career", "--persona", "Champions", "--variants", "2"]
    monkeypatch.setenv("GTM_LLM_MODE", "openai")
    monkeypatch.setenv("GTM_LLM_BASE_URL", url)
    monkeypatch.setenv("GTM_LLM_MODEL", "ok")
    assert gtm(*segment) == 0
    out = capsys.readouterr().out
    assert "Copy (email, warm, llm generator)" in out and "Thanks, Mid-Career Champions" in out
    assert "banned_phrase:guaranteed" in out  # the second canned variant is flagged, as written
    assert json.loads(received[-1]["body"]["messages"][-1]["content"])["brief"]["responds_to"].startswith("recognition")
    sent = len(received)
    assert gtm(*segment, "--no-llm") == 0
    assert "template generator" in capsys.readouterr().out and len(received) == sent
    monkeypatch.delenv("GTM_LLM_MODEL")
    assert gtm(*segment) == 2
    assert "model is not configured" in capsys.readouterr().err


def test_assets_record_llm_names_and_copy(graph_run, llm_server, tmp_path):
    import os
    import shutil

    import dagster as dg
    import duckdb

    from gtm_assets.defs.activation.creative_library import creative_library
    from gtm_assets.defs.personas.persona_clusters import persona_clusters
    from gtm_assets.warehouse import DuckDBWarehouse

    url, _ = llm_server
    copy = str(tmp_path / "copy.duckdb")
    shutil.copy(os.environ["GTM_DUCKDB_PATH"], copy)
    result = dg.materialize(
        [persona_clusters, creative_library],
        resources={"warehouse": DuckDBWarehouse(database=copy), "llm": _client(url)},
        run_config={"ops": {"persona_clusters": {"config": {"n_bootstrap": 2}}}},
    )
    assert result.success
    with duckdb.connect(copy, read_only=True) as db:
        clusters = db.execute(
            "SELECT population, cluster_name, rule_based_name, naming, llm_description, naming_fallback_reason "
            "FROM main.persona_clusters"
        ).fetchdf()
        library = db.execute("SELECT generator, headline, compliance_failures FROM main.creative_library").fetchdf()
    named = clusters[clusters["naming"] == "llm"]
    # The fake LLM names a cluster by its strongest trait, so two clusters sharing one fall back, with the reason.
    assert len(named) >= 2 and named["llm_description"].notna().all()
    assert not clusters.duplicated(["population", "cluster_name"]).any()
    fallback = clusters[clusters["naming"] == "rule_based"]
    assert (fallback["cluster_name"] == fallback["rule_based_name"]).all()
    assert fallback["naming_fallback_reason"].str.contains("already used").all()
    assert set(library["generator"]) == {"llm"}
    flagged = library[library["headline"] == "Guaranteed rewards for you"]
    assert len(flagged) and all("banned_phrase:guaranteed" in list(f) for f in flagged["compliance_failures"])
