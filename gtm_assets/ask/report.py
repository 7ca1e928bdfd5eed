"""The executive report: the executive summary, ROI with intervals, saturation, the forecast fan
chart, the recommended allocation and its expected effect, every persona with its brief, and the
lineage block of the DSP payload, as one self-contained HTML file (charts inlined as PNG) and a PDF
rendered from it by WeasyPrint.

Every section is the answer `gtm ask` gives to that question, so the report and the command line
never disagree. Used by the `executive_report` asset and by `gtm report`.
"""

from __future__ import annotations

import base64
import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from gtm_assets import settings
from gtm_assets.ask import audience, decisions, measurement, outlook
from gtm_assets.ask.answer import Answer
from gtm_assets.ask.schema import empty_entities
from gtm_assets.ask.source import TABLES, Warehouse
from gtm_assets.ask.summary import sections, summary
from gtm_assets.schemas.strict_json import dumps

TEMPLATE = "executive_report.html.j2"
PDF_SYSTEM_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"
REPORT_NAME = "executive_report"
SECTIONS = {
    "allocation": ("Budget plan: confident moves, held channels and the expected effect", decisions.allocation),
    "identification": ("What the model can vouch for", decisions.identification),
    "experiment": ("Experiments to run next", decisions.experiment),
    "roi": ("Return on investment by channel (identified channels are the ones to act on)", measurement.roi),
    "saturation": ("Saturation and marginal return", measurement.saturation),
    "forecast": ("Revenue forecast", outlook.forecast),
    "persona": ("Personas and their briefs", partial(audience.persona, shown=None)),
}


def report_dir() -> Path:
    return settings.data_dir() / "reports"


@dataclass
class Report:
    """What a report build wrote, and what it was built from."""

    html: Path
    pdf: Path | None
    summary: Answer
    sections: dict[str, Answer]
    lineage: dict | None
    notes: list[str] = field(default_factory=list)
    pdf_error: str | None = None  # why the PDF was not written (the HTML always is)

    @property
    def materializations(self) -> list:
        seen = {}
        for answer in [self.summary, *self.sections.values()]:
            for m in answer.materializations:
                seen.setdefault(m.table, m)
        return list(seen.values())


def payload_lineage(wh: Warehouse) -> dict | None:
    """The newest DSP payload the report describes: its id, run and line counts from main.dsp_payload,
    and from its document (main.payload_outbox) the lineage block's per-asset data and code versions
    and the source files with their sha256s."""
    if not wh.has("dsp_payload") or not wh.has("payload_outbox"):
        return None
    outbox = wh.rows(
        "payload_outbox", "SELECT payload_id, dagster_run_id, outbox_path, document FROM {table} ORDER BY created_at DESC LIMIT 1"
    )
    if not outbox:
        return None
    newest = outbox[0]
    counts = {}
    for row in wh.rows("dsp_payload", "SELECT line_type FROM {table} WHERE payload_id = ?", [newest["payload_id"]]):
        counts[row["line_type"]] = counts.get(row["line_type"], 0) + 1
    lineage = json.loads(newest["document"]).get("lineage") or {}
    return {
        "payload_id": newest["payload_id"],
        "dagster_run_id": newest["dagster_run_id"],
        "outbox_path": newest["outbox_path"],
        "lines": counts,
        "lineage": lineage.get("assets"),
        "source_files": [{**f, "source_file": f["file"]} for f in lineage.get("source_files", [])],
    }


def _png(answer: Answer, directory: Path) -> str | None:
    """The answer's chart as a data URI (drawn into ``directory``)."""
    from gtm_assets.charts.answers import render

    if answer.chart is None:
        return None
    path = render(answer.chart, directory / f"{answer.intent}.png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _lineage_rows(block) -> tuple[list[str], list[list[str]]] | None:
    """A lineage block as table columns and rows when it is a mapping of records (or a list of
    records); None when it has another shape (then it is shown as JSON)."""
    records = None
    if isinstance(block, dict) and block and all(isinstance(v, dict) for v in block.values()):
        records = [{"asset": k, **v} for k, v in block.items()]
    elif isinstance(block, list) and block and all(isinstance(v, dict) for v in block):
        records = block
    if records is None:
        return None
    columns = list(dict.fromkeys(k for r in records for k in r))
    show = lambda v: v if isinstance(v, str) else dumps(v, default=str)  # noqa: E731
    return columns, [[show(r.get(c, "")) for c in columns] for r in records]


def render_html(report: Report, charts: dict[str, str | None], generated_at: str) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("gtm_assets.ask", "templates"), autoescape=select_autoescape(["html", "j2"]))
    lineage = report.lineage
    return env.get_template(TEMPLATE).render(
        generated_at=generated_at,
        summary=report.summary,
        summary_chart=charts.get("summary"),
        sections=[(name, SECTIONS[name][0], answer, charts.get(name)) for name, answer in report.sections.items()],
        lineage=lineage,
        lineage_table=_lineage_rows(lineage.get("lineage")) if lineage and lineage.get("lineage") else None,
        lineage_json=dumps(lineage.get("lineage"), indent=2, default=str) if lineage and lineage.get("lineage") else None,
        materializations=report.materializations,
        notes=report.notes,
    )


def build_report(wh: Warehouse, out_dir: Path, *, pdf: bool = True) -> Report:
    """Write ``executive_report.html`` (and ``.pdf``) into ``out_dir`` from the warehouse's tables."""
    out_dir.mkdir(parents=True, exist_ok=True)
    answers, missing = sections(wh, {name: answerer for name, (_, answerer) in SECTIONS.items()})
    head = Answer("executive summary", "summary", empty_entities(), "")
    summary(wh, head, parts=answers, missing=missing)
    notes = list(head.notes)
    lineage = payload_lineage(wh)
    if lineage is None:
        notes.append(f"No DSP payload yet ({TABLES['dsp_payload'][0]}): materialize `dsp_payload` for its lineage block.")
    elif lineage["lineage"] is None:
        notes.append(f"Payload {lineage['payload_id']} has no lineage block; its source files are listed instead.")
    report = Report(out_dir / f"{REPORT_NAME}.html", None, head, answers, lineage, notes)
    with tempfile.TemporaryDirectory(prefix="gtm-report-") as scratch:
        charts = {name: _png(answer, Path(scratch)) for name, answer in answers.items()}
        charts["summary"] = _png(head, Path(scratch))
    generated_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    html = render_html(report, charts, generated_at)
    report.html.write_text(html, encoding="utf-8")
    if pdf:
        try:
            from weasyprint import HTML
        except OSError as error:  # WeasyPrint loads Pango at import time
            # The HTML report stands on its own: a machine without Pango gets it and a note, not a failure.
            report.pdf_error = (
                f"PDF not written: WeasyPrint cannot load its system libraries ({str(error).splitlines()[0]}); "
                f"install them (Debian: apt-get install {PDF_SYSTEM_PACKAGES})"
            )
            report.notes.append(report.pdf_error)
            return report
        report.pdf = out_dir / f"{REPORT_NAME}.pdf"
        HTML(string=html, base_url=str(out_dir)).write_pdf(report.pdf)
    return report
