"""With an LLM configured, the LLM reads the question into the same structured intent as the rules,
validated against the same JSON Schema; any failure (no answer, garbage, a schema violation) falls
back to the rules with the reason recorded.

``llm_parse`` is the one call to the LLM client: adapt it when the client's interface changes.
"""

from __future__ import annotations

import json

from gtm_assets.ask.schema import INTENTS, intent_schema

SYSTEM_PROMPT = (
    "You read a marketing analytics question into a structured intent. Answer with one JSON object only, "
    "valid against the JSON Schema you are given: the intent (one of the listed intents, or 'unknown' when "
    "none fits) and the entities it names. Use only the channel, persona and cohort names in the schema's "
    "enums (map synonyms and misspellings to them). Percentages and amounts are the numbers as written. "
    "Spend changes: {'channel': C, 'percent': -20} cuts C by 20%; {'from': A, 'to': B, 'percent': 10} moves "
    "10% of A's spend to B; 'amount' is money per day. Periods: quarter/month/year (year null when not "
    "said), previous (last month), trailing (last 8 weeks), this (this quarter), next (next two weeks)."
)
ENABLED_MODES = {"openai"}


def llm_configured() -> bool:
    """True when GTM_LLM_MODE asks for an LLM (checked without importing the client)."""
    from gtm_assets import settings

    return settings.env("GTM_LLM_MODE", "offline").strip().lower() in ENABLED_MODES


def llm_parse(question: str, channels: list[str], personas: list[str], cohorts: list[str], client=None) -> dict:
    """The LLM's structured intent for ``question``, validated by the client against the intent schema
    (the client retries transport errors and asks once more after a malformed answer); raises the
    client's LLMError with the reason when no valid answer comes."""
    if client is None:
        from gtm_assets.outbound.llm import llm_from_settings

        client = llm_from_settings(inside_dagster=False)
    schema = intent_schema(channels, personas, cohorts)
    request = {"question": question, "intents": INTENTS, "schema": schema}
    return json.loads(json.dumps(client.call_json(SYSTEM_PROMPT, request, schema=schema, name="intent").data))
