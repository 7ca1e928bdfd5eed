"""The rule-based question reader: intent and entities on 134 phrasings (paraphrases, typos, mixed
case, several entities), the shared JSON Schema, typo correction that leaves ordinary words alone,
and period resolution against the data's dates."""

import subprocess
import sys
from datetime import date

import jsonschema
import pytest

from gtm_assets.ask import periods
from gtm_assets.ask.parser import parse
from gtm_assets.ask.schema import intent_schema
from gtm_assets.ask.vocabulary import CHANNEL_SYNONYMS, COHORT_SYNONYMS, PERSONA_SYNONYMS, Vocabulary

from .ask_phrasings import MORE_PHRASINGS, PHRASINGS

ALL = PHRASINGS + MORE_PHRASINGS
UNORDERED = {"channels", "personas", "cohorts", "purchase_channels"}


def _mismatches(question: str, intent: str, expected: dict) -> list[str]:
    parsed = parse(question)
    problems = [] if parsed["intent"] == intent else [f"intent {parsed['intent']!r} != {intent!r}"]
    for key, want in expected.items():
        got = parsed["entities"].get(key)
        same = set(got) == set(want) if key in UNORDERED else got == want
        if not same:
            problems.append(f"{key} {got!r} != {want!r}")
    return problems


def test_phrasings_are_read_correctly_above_95_percent():
    assert len(ALL) >= 60
    failures = {q: p for q, intent, expected in ALL if (p := _mismatches(q, intent, expected))}
    accuracy = 1 - len(failures) / len(ALL)
    print(f"phrasing accuracy {accuracy:.1%} ({len(ALL) - len(failures)}/{len(ALL)})")
    assert accuracy > 0.95, failures


def test_every_intent_is_covered_by_the_phrasings():
    from gtm_assets.ask.schema import INTENTS

    assert {intent for _, intent, _ in ALL} == {*INTENTS, "unknown"}


def test_rule_output_is_valid_against_the_schema_the_llm_must_meet():
    validator = jsonschema.Draft202012Validator(
        intent_schema(list(CHANNEL_SYNONYMS), list(PERSONA_SYNONYMS), list(COHORT_SYNONYMS))
    )
    for question, _, _ in ALL:
        parsed = parse(question)
        validator.validate({"intent": parsed["intent"], "entities": parsed["entities"]})


def test_schema_rejects_unknown_channels_and_malformed_changes():
    schema = intent_schema(["TV", "Search"], ["Champions"], ["Legacy"])
    base = {"channels": [], "percentages": [], "amounts": [], "periods": [], "personas": [], "cohorts": []}
    bad = [
        {"intent": "roi", "entities": {**base, "channels": ["Radio"]}},
        {"intent": "nonsense", "entities": base},
        {"intent": "scenario", "entities": {**base, "changes": [{"channel": "TV"}]}},  # no magnitude
        {"intent": "scenario", "entities": {**base, "changes": [{"from": "TV", "percent": 5}]}},  # no target
        {"intent": "drivers", "entities": {**base, "periods": [{"kind": "quarter", "quarter": 5, "year": None}]}},
    ]
    for answer in bad:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(answer, schema)


@pytest.mark.parametrize(
    "question",
    ["What is the ratio of spend to revenue?", "Where is our location data?", "I have a question about audit logs",
     "Tell me a story", "Make a point about production"],
)  # fmt: skip
def test_ordinary_words_near_keywords_are_not_read_as_channels(question):
    assert parse(question)["entities"]["channels"] == []


def test_warehouse_names_extend_the_vocabulary():
    words = Vocabulary.from_names(channels=["TV", "Podcast Network"], personas=["Champions"], cohorts=["Legacy"])
    parsed = parse("roi of podcast network vs television", words)
    assert parsed["intent"] == "roi" and set(parsed["entities"]["channels"]) == {"TV", "Podcast Network"}


def test_period_resolution_uses_the_data_not_the_clock():
    first, last = date(2024, 1, 1), date(2025, 12, 28)
    assert periods.resolve({"kind": "quarter", "quarter": 4, "year": None}, first, last)[:2] == (
        date(2025, 10, 1),
        date(2025, 12, 31),
    )
    # a quarter the latest year has not reached yet is last year's
    assert periods.resolve({"kind": "quarter", "quarter": 4, "year": None}, first, date(2025, 6, 30))[:2] == (
        date(2024, 10, 1), date(2024, 12, 31))  # fmt: skip
    # "last month" is the last complete month: December is not over on the 28th
    assert periods.resolve({"kind": "previous", "unit": "month", "count": 1}, first, last)[:2] == (
        date(2025, 11, 1),
        date(2025, 11, 30),
    )
    assert periods.resolve({"kind": "previous", "unit": "month", "count": 1}, first, date(2025, 11, 30))[:2] == (
        date(2025, 11, 1), date(2025, 11, 30))  # fmt: skip
    assert periods.resolve({"kind": "trailing", "unit": "week", "count": 8}, first, last)[:2] == (date(2025, 11, 3), last)
    assert periods.shift(date(2025, 10, 1), date(2025, 12, 31), "year") == (date(2024, 10, 1), date(2024, 12, 31))
    assert periods.shift(date(2025, 10, 1), date(2025, 12, 31), None) == (date(2025, 7, 1), date(2025, 9, 30))


def test_rules_path_imports_no_heavy_library():
    # (duckdb comes with the `gtm` entry point itself: gtm_assets.cli.run imports gtm_assets.landing)
    code = (
        "import sys; from gtm_assets.cli import build_parser; from gtm_assets.ask.engine import understand; "
        "from gtm_assets.ask.vocabulary import Vocabulary; understand('what if we cut tv by 20%', Vocabulary(), use_llm=False); "
        "heavy = [m for m in ('pandas', 'dagster', 'matplotlib', 'numpy', 'openai', 'jsonschema') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"imported on the rules path: {out}"
