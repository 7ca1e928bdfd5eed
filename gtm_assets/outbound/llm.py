"""The LLM resource: cluster names and creative copy through any OpenAI-compatible chat API, offline by
default.

In ``mode="offline"`` nothing is imported from ``openai`` and no socket is opened: callers use the
rule-based names and the offline copywriter. In ``mode="openai"`` the official ``openai`` client talks
to ``base_url`` with ``model`` at temperature 0 and fixed prompts (the same input gives the same
request). Answers are structured JSON: the request carries the JSON schema (``response_format``
``json_schema``) and the answer is validated against it with ``jsonschema``.

Outcomes, each defined:
- HTTP 429, 5xx, a timeout or a dropped connection: retried up to ``max_attempts`` times with
  exponential backoff (``backoff_seconds`` x 2^k, or the server's Retry-After, at most 30 s), then
  ``LLMError``;
- an answer that is not JSON or fails the schema: asked once more with the validation error, then
  ``LLMError``;
- HTTP 401 / 403 / 404 (wrong key, model or URL): ``LLMConfigurationError``, a clear failure, because
  falling back would hide a misconfiguration;
- every other HTTP error: ``LLMError``.
Callers turn ``LLMError`` into the offline fallback with the reason recorded. Every call returns its
token usage, latency and attempts (``LLMCall``) for the materialization metadata. The API key comes from
``EnvVar("GTM_LLM_API_KEY")``, is sent only as the Bearer header and is scrubbed from every message.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Literal

import dagster as dg
from pydantic import Field

NAME_MAX = 40
DESCRIPTION_MAX = 160
RETRY_AFTER_MAX_SECONDS = 30.0
NAMING_SCHEMA = {
    "type": "object",
    "required": ["name", "description"],
    "properties": {"name": {"type": "string", "minLength": 1}, "description": {"type": "string", "minLength": 1}},
}
NAMING_SYSTEM_PROMPT = (
    "You name customer segments for a marketing team. You get one cluster's centroid profile: each "
    "behavioural feature's mean and its z-score against the whole population. Answer with JSON only: "
    f'{{"name": "<2 to 4 words, at most {NAME_MAX} characters>", "description": "<one sentence, at most '
    f'{DESCRIPTION_MAX} characters>"}}. Name what sets the cluster apart (features with |z| >= 0.5); '
    "no people's names, no judgement words."
)


class LLMError(RuntimeError):
    """The LLM could not give a usable answer; callers fall back offline (the message never holds the key)."""


class LLMConfigurationError(LLMError):
    """The LLM is misconfigured (wrong key, model or URL): a clear failure, never a silent fallback."""


def request_key(model: str, messages: list[dict]) -> str:
    """The Idempotency-Key of a chat request: the same on every retry of the same question (a re-ask after
    a malformed answer is a new question, so a new key); a gateway that honours it answers, and bills, once."""
    return hashlib.sha256(json.dumps([model, messages], sort_keys=True).encode("utf-8")).hexdigest()


@dataclass
class LLMCall:
    """One structured call: the validated answer and what it cost."""

    data: dict
    model: str
    latency_seconds: float
    attempts: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def usage_metadata(calls: list[LLMCall], failures: list[str]) -> dict:
    """Token usage, latency and attempts over a materialization's LLM calls (totals and one row per
    call), for its metadata."""
    latencies = sorted(c.latency_seconds for c in calls)
    per_call = "\n".join(
        f"| {n} | {c.model} | {c.prompt_tokens} | {c.completion_tokens} | {c.latency_seconds:.2f} | {c.attempts} |"
        for n, c in enumerate(calls[:100], start=1)
    )
    return {
        "llm_calls_table": (
            "| call | model | prompt tokens | completion tokens | latency s | attempts |\n|---|---|---|---|---|---|\n" + per_call
        )
        if calls
        else None,
        "llm_calls": len(calls),
        "llm_failed_calls": len(failures),
        "llm_prompt_tokens": sum(c.prompt_tokens for c in calls),
        "llm_completion_tokens": sum(c.completion_tokens for c in calls),
        "llm_total_tokens": sum(c.total_tokens for c in calls),
        "llm_attempts": sum(c.attempts for c in calls),
        "llm_latency_seconds_median": round(latencies[len(latencies) // 2], 3) if latencies else None,
        "llm_latency_seconds_max": round(latencies[-1], 3) if latencies else None,
        "llm_failure_reasons": sorted(set(failures))[:20],
    }


class LLMClient(dg.ConfigurableResource):
    """OpenAI-compatible LLM for cluster names and creative copy; ``offline`` (default) uses none."""

    mode: Literal["offline", "openai"] = Field(
        default="offline", description="offline (rule-based names, offline copywriter) or openai"
    )
    base_url: str = Field(default="", description="OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1")
    model: str = Field(default="", description="chat model name")
    api_key: str | None = Field(default=None, description="API key; set it with EnvVar('GTM_LLM_API_KEY'), never as text")
    speech_model: str = Field(default="", description="speech model for spoken scripts (OpenAI /audio/speech); empty = none")
    speech_voice: str = Field(default="alloy", description="voice for the speech model")
    timeout_seconds: float = Field(default=30.0, gt=0, description="per-request timeout")
    max_attempts: int = Field(default=3, ge=1, le=10, description="attempts for 429 / 5xx / timeouts / dropped connections")
    backoff_seconds: float = Field(default=1.0, ge=0, description="first retry delay; doubles each attempt")

    @property
    def enabled(self) -> bool:
        """True when an LLM is configured; LLMConfigurationError for a half configuration."""
        if self.mode == "offline":
            return False
        missing = [name for name, value in (("base_url", self.base_url), ("model", self.model)) if not value]
        if missing:
            verb = "are" if len(missing) > 1 else "is"
            raise LLMConfigurationError(
                f"LLM mode is 'openai' but {' and '.join(missing)} {verb} not configured (GTM_LLM_BASE_URL, GTM_LLM_MODEL)"
            )
        return True

    @property
    def label(self) -> str:
        """What generates names and copy, for metadata (never the key)."""
        return f"llm {self.model} at {self.base_url}" if self.enabled else "offline (rule-based names, offline copywriter)"

    def _scrub(self, text: str) -> str:
        return text.replace(self.api_key, "***") if self.api_key else text

    def _client(self):
        import openai

        # Local servers often need no key: a placeholder is sent then.
        return openai.OpenAI(base_url=self.base_url, api_key=self.api_key or "unset", timeout=self.timeout_seconds, max_retries=0)

    def _delay(self, attempt: int, error) -> float:
        response = getattr(error, "response", None)
        header = response.headers.get("retry-after") if response is not None else None
        try:
            if header is not None:
                return min(float(header), RETRY_AFTER_MAX_SECONDS)
        except ValueError:
            pass
        return self.backoff_seconds * 2 ** (attempt - 1)

    def call_json(self, system: str, user: dict, *, schema: dict, name: str = "answer") -> LLMCall:
        """One structured chat completion validated against ``schema`` (see the module docstring for
        retries and outcomes)."""
        if not self.enabled:
            raise LLMError("no LLM configured (mode is offline)")
        import jsonschema
        import openai

        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": json.dumps(user, sort_keys=True, default=str)},
        ]
        response_format = {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
        started, attempts, notes = time.perf_counter(), 0, []
        prompt_tokens = completion_tokens = 0
        reasked = False
        client = self._client()
        try:
            while True:
                attempts += 1
                failure = None
                try:
                    response = client.chat.completions.create(
                        model=self.model,
                        temperature=0,
                        response_format=response_format,
                        messages=messages,
                        extra_headers={"Idempotency-Key": request_key(self.model, messages)},
                    )
                except (
                    openai.RateLimitError,
                    openai.InternalServerError,
                    openai.APITimeoutError,
                    openai.APIConnectionError,
                ) as error:
                    status = getattr(error, "status_code", None)
                    what = (
                        f"HTTP {status}"
                        if status
                        else ("timed out" if isinstance(error, openai.APITimeoutError) else "connection failed")
                    )
                    if attempts >= self.max_attempts:
                        failure = f"{what} from {self.base_url} after {attempts} attempts"
                    else:
                        notes.append(f"attempt {attempts}: {what}; retrying")
                        time.sleep(self._delay(attempts, error))
                        continue
                except openai.APIStatusError as error:
                    if error.status_code in (401, 403, 404):
                        raise LLMConfigurationError(
                            self._scrub(
                                f"HTTP {error.status_code} from {self.base_url}: check GTM_LLM_API_KEY, GTM_LLM_MODEL and GTM_LLM_BASE_URL"
                            )
                        ) from None
                    failure = f"HTTP {error.status_code} from {self.base_url}"
                except (openai.OpenAIError, ValueError) as error:
                    failure = f"unusable response from {self.base_url}: {type(error).__name__}"
                if failure is not None:
                    raise LLMError(self._scrub(failure))
                usage = getattr(response, "usage", None)
                prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
                completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
                try:
                    content = response.choices[0].message.content or ""
                except (IndexError, AttributeError):
                    content = ""
                problem = None
                try:
                    answer = json.loads(content)
                    jsonschema.validate(answer, schema)
                except json.JSONDecodeError:
                    problem = f"answer is not JSON: {_short(content)!r}"
                except jsonschema.ValidationError as error:
                    problem = f"answer fails the schema: {_short(error.message)}"
                if problem is None:
                    return LLMCall(
                        answer, self.model, time.perf_counter() - started, attempts, prompt_tokens, completion_tokens, notes
                    )
                if reasked:
                    raise LLMError(self._scrub(problem))
                reasked = True
                notes.append(f"attempt {attempts}: {problem}; asked again")
                messages = [*messages, {"role": "assistant", "content": content},
                            {"role": "user", "content": f"That answer was rejected ({problem}). Answer again with JSON "
                                                        "matching the schema exactly."}]  # fmt: skip
        finally:
            client.close()

    def complete_json(self, system: str, user: dict, schema: dict | None = None) -> dict:
        """The validated JSON object of one call (any object when no schema is given)."""
        return self.call_json(system, user, schema=schema or {"type": "object"}).data

    def name_cluster(self, profile: dict) -> dict:
        """``{"name", "description"}`` for a cluster profile; LLMError when the answer breaks the limits."""
        answer = self.call_json(NAMING_SYSTEM_PROMPT, profile, schema=NAMING_SCHEMA, name="cluster_name").data
        name, description = " ".join(answer["name"].split()), " ".join(answer["description"].split())
        if len(name) > NAME_MAX:
            raise LLMError(f"name longer than {NAME_MAX} characters: {name!r}")
        if len(description) > DESCRIPTION_MAX:
            raise LLMError(f"description longer than {DESCRIPTION_MAX} characters")
        return {"name": name, "description": description}

    def name_clusters(self, profiles: list[dict], rule_names: list[str]) -> list[dict]:
        """Name every cluster of one population: the LLM's name when configured, valid and unique, else
        the rule-based name. Each result has ``name``, ``naming`` ("rule_based" or "llm"),
        ``llm_description`` and ``naming_fallback_reason`` (why the LLM name was not used, or None)."""
        results = []
        for position, (profile, rule_name) in enumerate(zip(profiles, rule_names, strict=True)):
            result = {"name": rule_name, "naming": "rule_based", "llm_description": None, "naming_fallback_reason": None}
            if self.enabled:
                taken = {r["name"] for r in results} | set(rule_names[position + 1 :])
                try:
                    answer = self.name_cluster(profile)
                    if answer["name"] in taken:
                        raise LLMError(f"name {answer['name']!r} is already used by another cluster")
                    result.update(name=answer["name"], naming="llm", llm_description=answer["description"])
                except LLMConfigurationError:
                    raise
                except LLMError as error:
                    result["naming_fallback_reason"] = str(error)
            results.append(result)
        return results

    def speech(self, text: str) -> bytes:
        """WAV audio of ``text`` from the OpenAI-compatible /audio/speech endpoint (``speech_model``)."""
        if not self.enabled or not self.speech_model:
            raise LLMError("no speech model configured")
        import openai

        client = self._client()
        try:
            response = client.audio.speech.create(
                model=self.speech_model, voice=self.speech_voice, input=text, response_format="wav"
            )
            return response.read()
        except openai.OpenAIError as error:
            raise LLMError(self._scrub(f"speech failed at {self.base_url}: {type(error).__name__}")) from None
        finally:
            client.close()


def llm_from_settings(*, inside_dagster: bool = True) -> LLMClient:
    """The LLM configured by GTM_LLM_MODE, GTM_LLM_BASE_URL, GTM_LLM_MODEL, GTM_LLM_SPEECH_MODEL and
    GTM_LLM_API_KEY (offline when unset). Inside Dagster the key is an ``EnvVar`` (resolved at run time,
    shown by name only); the ``gtm`` commands get its value."""
    from gtm_assets import settings

    return LLMClient(
        mode=settings.env("GTM_LLM_MODE", "offline"),
        base_url=settings.env("GTM_LLM_BASE_URL"),
        model=settings.env("GTM_LLM_MODEL"),
        speech_model=settings.env("GTM_LLM_SPEECH_MODEL"),
        api_key=settings.secret("GTM_LLM_API_KEY") if inside_dagster else settings.secret_value("GTM_LLM_API_KEY"),
    )
