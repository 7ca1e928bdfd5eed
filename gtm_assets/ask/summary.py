"""The executive summary: the headline figures of every other answer in a few sentences.

``sections`` answers ROI, saturation, forecast, allocation and personas once; the summary quotes
their figures (so it shows nothing they do not) and the executive report lays the same answers out
in full. A section whose asset is not materialized is left out with a note saying which asset to
materialize; with none at all, the first such error is raised.
"""

from __future__ import annotations

from gtm_assets.ask import audience, measurement, outlook
from gtm_assets.ask.answer import Answer, Chart
from gtm_assets.ask.schema import empty_entities
from gtm_assets.ask.source import TABLES, NotMaterialized, Warehouse

SECTIONS = {
    "roi": measurement.roi,
    "saturation": measurement.saturation,
    "forecast": outlook.forecast,
    "allocation": outlook.allocation,
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

    if "roi" in parts:
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
        chart = parts["roi"].chart.data
        best, worst = chart["labels"][0], chart["labels"][-1]
        sentences.append(f"{model}: best ROI {best} {show(f'ROI {best}')} [{show(f'ROI {best} low')}, "
                         f"{show(f'ROI {best} high')}], weakest {worst} {show(f'ROI {worst}')} "
                         f"[{show(f'ROI {worst} low')}, {show(f'ROI {worst} high')}] (90% intervals).")  # fmt: skip
    if "saturation" in parts:
        data = parts["saturation"].chart.data
        past = [c for c, m in zip(data["labels"], data["values"], strict=True) if m < 1.0]
        top = data["labels"][0]
        sentences.append(f"Most saturated: {top} at {show(f'saturation {top}')}; "
                         + (f"past break-even at the margin: {', '.join(past)}." if past
                            else "every channel's next unit of spend still returns more than it costs."))  # fmt: skip
    if "forecast" in parts:
        data = parts["forecast"].chart.data
        sentences.append(f"Revenue forecast for the next {len(data['ds'])} days ({data['ds'][0]} to {data['ds'][-1]}): "
                         f"{show('forecast total')}.")  # fmt: skip
    if "allocation" in parts:
        data = parts["allocation"].chart.data
        deltas = {c: r - n for c, n, r in zip(data["labels"], data["first"], data["second"], strict=True)}
        up, down = max(deltas, key=deltas.get), min(deltas, key=deltas.get)
        sentence = f"Recommended allocation: {show('total daily budget')} a day"
        if deltas[up] > 0:
            sentence += f"; largest increase {up} to {show(f'recommended_spend {up}')} from {show(f'current_spend {up}')}"
        if deltas[down] < 0:
            sentence += f"; largest cut {down} to {show(f'recommended_spend {down}')} from {show(f'current_spend {down}')}"
        try:
            sentence += (f"; expected effect {show('plan daily_change')} a day (90% interval {show('plan daily_change_lo')} "
                         f"to {show('plan daily_change_hi')})")  # fmt: skip
        except KeyError:
            pass
        sentences.append(sentence + ".")
    if "persona" in parts:
        cohort, persona = parts["persona"].chart.data["segments"][0]
        sentences.append(
            f"Best-responding segment: {cohort} {persona}, {show(f'response_rate {cohort} {persona}')} "
            "accepted the last campaign."
        )
    answer.text = " ".join(sentences)
    answer.chart = Chart("summary", {name: part.chart for name, part in parts.items() if part.chart}, "Executive summary")
