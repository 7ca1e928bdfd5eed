"""Optional LLM for cluster names and copy variants, through any OpenAI-compatible chat API.

Offline by default: in ``mode="offline"`` nothing is imported from ``openai`` and no socket is
opened; callers get the rule-based names and the template copy. In ``mode="openai"`` the official
``openai`` client talks to ``base_url`` with ``model`` at temperature 0, with fixed prompts (the
same input always gives the same request) and a timeout. The API key is read at call time from the
environment variable named by ``api_key_env``, so it never appears in resource config, logs,
metadata, returned objects or error messages.

Every LLM answer is JSON, parsed and validated. A cluster name that fails (server error, timeout,
garbage, a duplicate name) falls back to the rule-based name with the reason recorded; copy that
fails falls back to the template generator, reason recorded. LLM copy is scored by the same
``check_compliance`` as template copy: over-length or non-compliant text is flagged, never trimmed.
"""

from __future__ import annotations

import json
import os

import dagster as dg
from pydantic import Field

from gtm_assets.models.creative import CHANNEL_LIMITS, CHANNELS, STYLES, check_compliance, generate_copy

MODES = ("offline", "openai")
NAME_MAX = 40
DESCRIPTION_MAX = 160
# Brief fields the copy prompt passes on (those present in the brief, in this order).
BRIEF_FIELDS = ("segment_name", "who_they_are", "responds_to", "offer_type", "offer_figures", "key_figures",
                "do_list", "dont_list")  # fmt: skip

NAMING_SYSTEM_PROMPT = (
    "You name customer segments for a marketing team. You get one cluster's centroid profile: each "
    "behavioural feature's mean and its z-score against the whole population. Answer with JSON only: "
    f'{{"name": "<2 to 4 words, at most {NAME_MAX} characters>", "description": "<one sentence, at most '
    f'{DESCRIPTION_MAX} characters>"}}. Name what sets the cluster apart (features with |z| >= 0.5); '
    "no people's names, no judgement words."
)
COPY_SYSTEM_PROMPT = (
    "You write marketing copy from a creative brief. Answer with JSON only: "
    '{"variants": [{"headline": "...", "body": "...", "call_to_action": "..."}, ...]}. '
    "Respect the character limits exactly, follow the brief's do and don't lists, make no claims the "
    "offer does not support, and never use superlatives such as 'guaranteed', 'risk-free' or 'best ever'."
)


class LLMError(RuntimeError):
    """The LLM could not be reached or its answer was unusable (the message never holds the key)."""


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class LLMClient(dg.ConfigurableResource):
    """Cluster naming and copy writing by an OpenAI-compatible LLM; ``offline`` (default) uses none."""

    mode: str = Field(default="offline", description="offline (rule-based names, template copy) or openai")
    base_url: str = Field(default="", description="OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1")
    model: str = Field(default="", description="model name passed to the chat completions API")
    api_key_env: str = Field(
        default="GTM_LLM_API_KEY",
        description="name of the environment variable holding the API key (read at call time, so the key "
        "never appears in resource config, logs or metadata)",
    )
    timeout_seconds: float = 30.0

    @classmethod
    def from_env(cls) -> LLMClient:
        """The client configured by GTM_LLM_MODE, GTM_LLM_BASE_URL and GTM_LLM_MODEL (offline when unset)."""
        return cls(
            mode=os.environ.get("GTM_LLM_MODE", "offline"),
            base_url=os.environ.get("GTM_LLM_BASE_URL", ""),
            model=os.environ.get("GTM_LLM_MODEL", ""),
        )

    @property
    def enabled(self) -> bool:
        """True when an LLM is configured; ValueError for an unknown mode or a half configuration."""
        if self.mode not in MODES:
            raise ValueError(f"LLM mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.mode == "offline":
            return False
        missing = [name for name, value in (("base_url", self.base_url), ("model", self.model)) if not value]
        if missing:
            verb = "are" if len(missing) > 1 else "is"
            raise ValueError(f"LLM mode is 'openai' but {' and '.join(missing)} {verb} not configured "
                             "(GTM_LLM_BASE_URL, GTM_LLM_MODEL)")
        return True

    @property
    def label(self) -> str:
        """What generates names and copy, for metadata (never the key)."""
        return f"llm {self.model} at {self.base_url}" if self.enabled else "offline (rule-based / template)"

    def complete_json(self, system: str, user: dict) -> dict:
        """One chat completion at temperature 0 whose answer must be a JSON object; raises LLMError."""
        if not self.enabled:
            raise LLMError("no LLM configured (mode is offline)")
        import openai

        key = os.environ.get(self.api_key_env, "")  # local servers often need none: a placeholder is sent
        client = openai.OpenAI(base_url=self.base_url, api_key=key or "unset", timeout=self.timeout_seconds, max_retries=0)
        failure = None
        try:
            response = client.chat.completions.create(
                model=self.model,
                temperature=0,
                response_format={"type": "json_object"},
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": json.dumps(user, sort_keys=True, default=str)},
                ],
            )
            content = response.choices[0].message.content or ""
        except openai.APIStatusError as error:
            failure = f"HTTP {error.status_code} from {self.base_url}"
        except openai.APITimeoutError:
            failure = f"timed out after {self.timeout_seconds:g} s at {self.base_url}"
        except openai.APIConnectionError:
            failure = f"could not connect to {self.base_url}"
        except (openai.OpenAIError, IndexError, AttributeError) as error:
            failure = f"unusable response from {self.base_url}: {type(error).__name__}"
        finally:
            client.close()
        if failure is None:
            try:
                answer = json.loads(content)
            except json.JSONDecodeError:
                answer = None
            if not isinstance(answer, dict):
                failure = f"answer is not a JSON object: {_short(content)!r}"
        # Raised outside the except blocks so no chained exception (with request headers) comes
        # along; a server echoing the key back does not get it into the message either.
        if failure is not None:
            raise LLMError(failure.replace(key, "***") if key else failure)
        return answer

    def name_cluster(self, profile: dict) -> dict:
        """``{"name", "description"}`` for a cluster profile (population, members, share, centroid
        means and z-scores); raises LLMError when the answer is missing or breaks the limits."""
        answer = self.complete_json(NAMING_SYSTEM_PROMPT, profile)
        name, description = answer.get("name"), answer.get("description")
        if not isinstance(name, str) or not name.strip():
            raise LLMError(f"answer has no name (keys: {sorted(answer)})")
        if not isinstance(description, str) or not description.strip():
            raise LLMError(f"answer has no description (keys: {sorted(answer)})")
        name, description = " ".join(name.split()), " ".join(description.split())
        if len(name) > NAME_MAX:
            raise LLMError(f"name longer than {NAME_MAX} characters: {name!r}")
        if len(description) > DESCRIPTION_MAX:
            raise LLMError(f"description longer than {DESCRIPTION_MAX} characters")
        return {"name": name, "description": description}

    def name_clusters(self, profiles: list[dict], rule_names: list[str]) -> list[dict]:
        """Name every cluster of one population: the LLM's name when configured and valid and unique,
        else the rule-based name. Each result has ``name``, ``naming`` ("rule_based" or "llm"),
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
                except LLMError as error:
                    result["naming_fallback_reason"] = str(error)
            results.append(result)
        return results

    def write_copy(self, brief: dict, *, channel: str, style: str, n_variants: int) -> list[dict]:
        """``n_variants`` LLM copy variants (headline, body, call_to_action), each scored by
        ``check_compliance`` as written; raises LLMError when the answer lacks usable variants."""
        if channel not in CHANNELS or style not in STYLES:
            raise ValueError(f"channel must be one of {CHANNELS} and style one of {STYLES}")
        headline_max, body_max = CHANNEL_LIMITS[channel]
        request = {
            "brief": {key: _plain(brief[key]) for key in BRIEF_FIELDS if key in brief},
            "channel": channel,
            "style": style,
            "variants": n_variants,
            "limits": {"headline_max_chars": headline_max, "body_max_chars": body_max, "call_to_action": "2 to 4 words"},
            "rules": ["the body must include opt-out text such as 'Unsubscribe anytime.'"] if channel == "email" else [],
        }
        answer = self.complete_json(COPY_SYSTEM_PROMPT, request)
        variants = answer.get("variants")
        if not isinstance(variants, list):
            raise LLMError("answer has no 'variants' list")
        fields = ("headline", "body", "call_to_action")
        usable = [v for v in variants if isinstance(v, dict) and all(isinstance(v.get(f), str) and v[f].strip() for f in fields)]
        if len(usable) < n_variants:
            raise LLMError(f"answer has {len(usable)} complete variants, asked for {n_variants}")
        return [
            {
                "variant": number,
                "channel": channel,
                "style": style,
                **{f: variant[f].strip() for f in fields},
                "compliance": check_compliance(variant["headline"].strip(), variant["body"].strip(),
                                               variant["call_to_action"].strip(), channel=channel),
            }
            for number, variant in enumerate(usable[:n_variants], start=1)
        ]

    def copy_variants(self, brief: dict, copy_request: dict, *, channel: str, style: str, n_variants: int, seed: int) -> list[dict]:
        """Copy variants for a segment: the LLM's when configured and usable, else the template
        generator's (from ``copy_request``). Each variant has ``generator`` ("template" or "llm")
        and ``generator_fallback_reason`` (why the LLM copy was not used, or None)."""
        reason = None
        if self.enabled:
            try:
                variants = self.write_copy(brief, channel=channel, style=style, n_variants=n_variants)
                return [{**v, "generator": "llm", "generator_fallback_reason": None} for v in variants]
            except LLMError as error:
                reason = str(error)
        variants = generate_copy(copy_request, channel=channel, style=style, n_variants=n_variants, seed=seed)
        return [{**v, "generator": "template", "generator_fallback_reason": reason} for v in variants]


def _plain(value):
    """A brief value as plain JSON data (DuckDB list columns arrive as numpy arrays; JSON text stays text)."""
    if isinstance(value, str | int | float | bool | dict | list) or value is None:
        return value
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
