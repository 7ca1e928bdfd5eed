"""The structured intent every parser fills (rules or LLM): one JSON Schema for both.

``intent_schema(vocabulary)`` pins channel, persona and cohort names to the warehouse's own, so an
LLM answer naming a channel that does not exist fails validation and the rules take over.
"""

from __future__ import annotations

INTENTS = {
    "roi": "ROI of channels, with 90% intervals (e.g. 'What is the ROI of TV vs Search?')",
    "saturation": "which channels are saturated: saturation and marginal ROI ('Which channels are saturated?')",
    "contribution": "how much revenue each channel contributes ('Which channels drive revenue?')",
    "drivers": "what drove revenue in a period vs the one before ('What drove Q4?', 'Why did revenue drop last month?')",
    "scenario": "budget what-if scenarios ('What happens if we cut Social by 20%?', 'Move 10% from TV to Search')",
    "forecast": "revenue forecast with 80%/95% intervals ('What will revenue be over the next two weeks?')",
    "persona": "personas and cohorts: response, spend, their briefs ('Which persona responds best to email?')",
    "allocation": "the budget plan: confident moves first, held channels with the reason; for a budget you name, the plan for "
    "it ('Which channel should get more budget?', 'Where should the next dollar go?', 'How would you split 20k a day?')",
    "identification": "which of the model's numbers can be trusted, and why ('Is the TV estimate reliable?')",
    "experiment": "which lift test to run next, for how long, and what it puts at risk ('Which experiment should we run next?')",
    "customer_value": "what a customer is worth: predicted lifetime value, the most valuable customers ('Who are our most "
    "valuable customers?', 'What is a customer worth?')",
    "summary": "the executive summary ('Give me the executive summary')",
}
UNKNOWN = "unknown"
PERIOD_KINDS = ("quarter", "month", "year", "previous", "trailing", "this", "next")
PERIOD_UNITS = ("day", "week", "month", "quarter", "year")


def intent_schema(channels: list[str], personas: list[str], cohorts: list[str]) -> dict:
    """JSON Schema (draft 2020-12) of a parsed question for these channel, persona and cohort names."""
    channel = {"type": "string", "enum": list(channels)}
    signed = {"type": "number"}
    change = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"channel": channel, "from": channel, "to": channel, "percent": signed, "amount": signed},
        "oneOf": [{"required": ["channel"], "not": {"anyOf": [{"required": ["from"]}, {"required": ["to"]}]}},
                  {"required": ["from", "to"], "not": {"required": ["channel"]}}],
        "anyOf": [{"required": ["percent"]}, {"required": ["amount"]}],
    }  # fmt: skip
    period = {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind"],
        "properties": {
            "kind": {"enum": list(PERIOD_KINDS)},
            "quarter": {"type": "integer", "minimum": 1, "maximum": 4},
            "month": {"type": "integer", "minimum": 1, "maximum": 12},
            "year": {"type": ["integer", "null"], "minimum": 1900, "maximum": 2200},
            "unit": {"enum": list(PERIOD_UNITS)},
            "count": {"type": "integer", "minimum": 1, "maximum": 3660},
        },
        "allOf": [
            {"if": {"properties": {"kind": {"const": "quarter"}}}, "then": {"required": ["quarter", "year"]}},
            {"if": {"properties": {"kind": {"const": "month"}}}, "then": {"required": ["month", "year"]}},
            {"if": {"properties": {"kind": {"const": "year"}}}, "then": {"required": ["year"]}},
            {"if": {"properties": {"kind": {"enum": ["previous", "trailing", "next"]}}}, "then": {"required": ["unit", "count"]}},
            {"if": {"properties": {"kind": {"const": "this"}}}, "then": {"required": ["unit"]}},
        ],
    }
    names = lambda values: {"type": "array", "items": {"type": "string", "enum": list(values)}}  # noqa: E731
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "required": ["intent", "entities"],
        "properties": {
            "intent": {"enum": [*INTENTS, UNKNOWN]},
            "entities": {
                "type": "object",
                "additionalProperties": False,
                "required": ["channels", "percentages", "amounts", "periods", "personas", "cohorts"],
                "properties": {
                    "channels": {"type": "array", "items": channel},
                    "percentages": {"type": "array", "items": {"type": "number"}},
                    "amounts": {"type": "array", "items": {"type": "number"}},
                    "periods": {"type": "array", "items": period},
                    "personas": names(personas),
                    "cohorts": names(cohorts),
                    "purchase_channels": names(["web", "catalog", "store", "deals"]),
                    "changes": {"type": "array", "items": change},
                    "compare": {"enum": ["previous", "year"]},
                },
            },
        },
    }


def empty_entities() -> dict:
    return {"channels": [], "percentages": [], "amounts": [], "periods": [], "personas": [], "cohorts": [],
            "purchase_channels": [], "changes": [], "compare": "previous"}  # fmt: skip
