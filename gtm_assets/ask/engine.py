"""`gtm ask` end to end: read the question (rules, or the LLM when configured, falling back to the
rules), answer it from the warehouse, draw its chart."""

from __future__ import annotations

from gtm_assets.ask import audience, customers, decisions, measurement, outlook, summary
from gtm_assets.ask.answer import Answer
from gtm_assets.ask.llm_intent import llm_configured, llm_parse
from gtm_assets.ask.parser import parse
from gtm_assets.ask.schema import INTENTS, UNKNOWN, empty_entities
from gtm_assets.ask.source import Warehouse
from gtm_assets.ask.vocabulary import Vocabulary

ANSWERERS = {
    "roi": measurement.roi,
    "saturation": measurement.saturation,
    "contribution": measurement.contribution,
    "drivers": measurement.drivers,
    "scenario": outlook.scenario,
    "forecast": outlook.forecast,
    "persona": audience.persona,
    "allocation": decisions.allocation,
    "identification": decisions.identification,
    "experiment": decisions.experiment,
    "customer_value": customers.customer_value,
    "summary": summary.summary,
}


def capabilities() -> str:
    """What `gtm ask` can answer, one line per intent."""
    return "I can answer questions about:\n" + "\n".join(f"  - {description}" for description in INTENTS.values())


def vocabulary(wh: Warehouse) -> Vocabulary:
    """The default vocabulary narrowed to the channels, personas and cohorts the warehouse has."""
    channels = [r["channel"] for r in wh.rows("mmm", "SELECT channel FROM {table} ORDER BY channel")] if wh.has("mmm") else []
    personas, cohorts = [], []
    if wh.has("persona_summary"):
        rows = wh.rows("persona_summary", "SELECT DISTINCT cohort, persona FROM {table} WHERE cohort <> ?", [audience.UNASSIGNED])
        personas = sorted({r["persona"] for r in rows})
        cohorts = sorted({r["cohort"] for r in rows})
    return Vocabulary.from_names(channels=channels, personas=personas, cohorts=cohorts)


def understand(question: str, words: Vocabulary, *, use_llm: bool | None = None, client=None) -> dict:
    """The structured intent: the LLM's when one is configured (or ``use_llm``) and its answer is
    valid, else the rules'. ``parser_fallback_reason`` says why the LLM's was not used."""
    rules = parse(question, words)
    if not (llm_configured() if use_llm is None else use_llm):
        return rules
    try:
        parsed = llm_parse(question, list(words.channels), list(words.personas), list(words.cohorts), client=client)
    except Exception as error:
        return {**rules, "parser_fallback_reason": f"{type(error).__name__}: {error}"[:300]}
    return {"intent": parsed["intent"], "entities": {**empty_entities(), **parsed["entities"]}, "parser": "llm"}


def ask(question: str, wh: Warehouse, *, use_llm: bool | None = None, client=None, chart: bool = True) -> Answer:
    """Answer ``question`` from the warehouse; raises AskError (NotMaterialized when a table is missing)."""
    from gtm_assets.charts.answers import chart_path, render

    words = vocabulary(wh) if wh.database.exists() else Vocabulary()
    parsed = understand(question, words, use_llm=use_llm, client=client)
    answer = Answer(question, parsed["intent"], parsed["entities"], "", parser=parsed["parser"],
                    parser_fallback_reason=parsed.get("parser_fallback_reason"))  # fmt: skip
    if answer.intent == UNKNOWN:
        answer.text = "I cannot answer that from the warehouse. " + capabilities()
        return answer
    ANSWERERS[answer.intent](wh, answer)
    if chart and answer.chart is not None:
        key = {"question": question.strip().lower(), "entities": answer.entities}
        answer.chart_path = str(render(answer.chart, chart_path(answer.intent, key)))
    return answer
