"""The executive summary: the headline figures of every other answer in a few sentences.

``sections`` answers the budget plan, the experiments to run, ROI, saturation, forecast and personas
once; the summary quotes their figures (so it shows nothing they do not) and the executive report
lays the same answers out in full. It leads with the plan's confident moves and the channels the
model vouches for; an estimate the model flags is named as such, never as the headline. A section
whose asset is not materialized is left out with a note saying which asset to materialize; with none
at all, the first such error is raised.
"""

from __future__ import annotations

from gtm_assets.ask import audience, decisions, measurement, outlook
from gtm_assets.ask.answer import Answer, Chart
from gtm_assets.ask.schema import empty_entities
from gtm_assets.ask.source import TABLES, NotMaterialized, Warehouse

SECTIONS = {
    "allocation": decisions.allocation,
    "experiment": decisions.experiment,
    "roi": measurement.roi,
    "saturation": measurement.saturation,
    "forecast": outlook.forecast,
    "persona": audience.persona,
}


def sections(wh: Warehouse, answerers: dict | None = None) -> tuple[dict[str, Answer], list[NotMaterialized]]:
    """Each section's answer to its default question, and the sections that could not be answered."""
    answers, missing = {}, []
    for name, answerer in (answerers or SECTIONS).items():
        answer = Answer("", name, empty_entities(), "")
        try:
            answerer(wh, answer)
        except NotMaterialized as error:
            missing.append(error)
            continue
        answers[name] = answer
    if not answers and missing:
        raise missing[0]
    return answers, missing


def summary(wh: Warehouse, answer: Answer, *, parts: dict[str, Answer] | None = None, missing=()) -> None:
    """A few sentences with the headline figures of each section (answered here unless ``parts`` are
    given), every figure as in its section."""
    if parts is None:
        parts, missing = sections(wh)
    for error in missing:
        answer.notes.append(f"Left out: {error}")
    f = answer.facts
    sentences = []
    for part in parts.values():
        f.merge(part.facts)
        for m in part.materializations:
            if all(m.table != seen.table for seen in answer.materializations):
                answer.materializations.append(m)

    def show(label: str) -> str:
        return f.get(label).display

    if "allocation" in parts:
        sentences.append(_plan_sentence(parts["allocation"], show))
    if "experiment" in parts and parts["experiment"].tables:
        sentences.append(parts["experiment"].text.split(". ")[0] + ".")
    if "roi" in parts:
        sentences.append(_roi_sentence(wh, f, parts["roi"], show))
    if "saturation" in parts:
        sentences.append(_saturation_sentence(wh, parts["saturation"], show))
    if "forecast" in parts:
        data = parts["forecast"].chart.data
        sentences.append(f"Revenue forecast for the next {len(data['ds'])} days ({data['ds'][0]} to {data['ds'][-1]}): "
                         f"{show('forecast total')}.")  # fmt: skip
    if "persona" in parts:
        cohort, persona = parts["persona"].chart.data["segments"][0]
        sentences.append(
            f"Best-responding segment: {cohort} {persona}, {show(f'response_rate {cohort} {persona}')} "
            "accepted the last campaign."
        )
    answer.text = " ".join(sentences)
    answer.chart = Chart("summary", {name: part.chart for name, part in parts.items() if part.chart}, "Executive summary")


def _plan_sentence(part: Answer, show) -> str:
    """The budget plan's confident moves, largest first, and how many channels it holds."""
    rows = part.tables[0].rows
    moves = [r for r in rows if r[4] == "confident" and r[1] != r[2]]
    held = [r[0] for r in rows if str(r[4]).startswith("hold")]
    sentence = f"Budget plan for {show('total daily budget')} a day: "
    sentence += (
        "; ".join(f"{r[0]} {show(f'current_spend {r[0]}')} → {show(f'recommended_spend {r[0]}')}" for r in moves[:3])
        if moves
        else "no move is robust, every channel keeps its base"
    )
    if held:
        sentence += f"; held at their base: {', '.join(held)}"
    try:
        sentence += (f"; expected effect {show('plan daily_change')} a day (90% interval {show('plan daily_change_lo')} "
                     f"to {show('plan daily_change_hi')})")  # fmt: skip
    except KeyError:
        pass
    return sentence + "."


def _identified(wh: Warehouse) -> set[str]:
    return {r["channel"] for r in wh.rows("mmm", "SELECT channel, identified FROM {table}") if r["identified"]}


def _saturation_sentence(wh: Warehouse, part: Answer, show) -> str:
    """The most saturated channel and those past break-even at the margin, among the identified ones."""
    data = part.chart.data
    trusted = _identified(wh)
    pairs = [(c, m) for c, m in zip(data["labels"], data["values"], strict=True) if c in trusted]
    if not pairs:
        return "Saturation: no channel's curve is identified well enough to say."
    past = [c for c, m in pairs if m < 1.0]
    top = pairs[0][0]
    return f"Most saturated of the identified channels: {top} at {show(f'saturation {top}')}; " + (
        f"past break-even at the margin: {', '.join(past)}."
        if past
        else "their next unit of spend still returns more than it costs."
    )


def _roi_sentence(wh: Warehouse, f, part: Answer, show) -> str:
    """The model's fit and the best and weakest ROI among the channels it identifies; the others are
    named as not identified."""
    diagnostics = wh.rows("diagnostics", "SELECT * FROM {table}") if wh.has("diagnostics") else []
    model = "Media-mix model"
    if diagnostics:
        d = diagnostics[0]
        table = TABLES["diagnostics"][0]
        r2 = f.cell("R²", d["r2"], "ratio", table=table, column="r2", row={"fit_run_id": d["fit_run_id"]})
        model += f" (R² {r2}"
        if d.get("mape_holdout") is not None:
            mape = f.cell("holdout MAPE", d["mape_holdout"], "share", table=table, column="mape_holdout",
                          row={"fit_run_id": d["fit_run_id"]})  # fmt: skip
            model += f", holdout error {mape}"
        model += ")"
    labels = part.chart.data["labels"]
    identified = _identified(wh)
    trusted = [c for c in labels if c in identified]
    flagged = [c for c in labels if c not in trusted]
    if not trusted:
        return f"{model}: no channel's ROI is identified by the data yet ({', '.join(flagged)}); see the experiments to run."
    best, worst = trusted[0], trusted[-1]
    sentence = f"{model}: among the channels it identifies, best ROI {best} {show(f'ROI {best}')} [{show(f'ROI {best} low')}, {show(f'ROI {best} high')}]"
    if worst != best:
        sentence += f", weakest {worst} {show(f'ROI {worst}')} [{show(f'ROI {worst} low')}, {show(f'ROI {worst} high')}]"
    sentence += " (90% intervals)"
    if flagged:
        sentence += f"; not identified, so not estimates to act on: {', '.join(flagged)}"
    return sentence + "."
