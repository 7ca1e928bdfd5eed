"""The executive report as people see it: the HTML opened in headless Chromium (screenshot, and the
page printed to PDF by Chromium), and WeasyPrint's PDF turned into PNG by pdftoppm; the key figures,
read from the tables here, must appear in the rendered text. Debian packages chromium and
poppler-utils (.ci/run installs them); without them the tests skip locally and fail in CI."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from PIL import Image

pytestmark = pytest.mark.render
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed: .ci/run must install it")
        pytest.skip(f"{tool} is not installed (Debian package; .ci/run installs it)")
    return path


@pytest.fixture(scope="module")
def report(graph_run) -> dict:
    """The executive_report materialization's metadata (paths) from the session's graph run."""
    events = [e for r in graph_run.results for e in r.get_asset_materialization_events()
              if e.asset_key.to_user_string() == "executive_report"]  # fmt: skip
    assert events, "executive_report was not materialized"
    metadata = events[-1].materialization.metadata
    pdf = metadata["pdf"].value
    return {
        "html": Path(metadata["html"].value),
        "pdf": Path(pdf) if Path(pdf).is_file() else None,
        "pdf_note": pdf,
        "url": metadata["report_url"].value,
    }


@pytest.fixture(scope="module")
def key_figures(graph_run) -> list[str]:
    """Figures the report must show, formatted here from the tables (not taken from the report code)."""
    with duckdb.connect(os.environ["GTM_DUCKDB_PATH"], read_only=True) as ro:
        figures = [f"{c} {roi:.2f} [{lo:.2f}, {hi:.2f}]"
                   for c, roi, lo, hi in ro.execute("SELECT channel, roi, roi_lo, roi_hi FROM main.mmm_model").fetchall()]  # fmt: skip
        figures.append(f"{ro.execute('SELECT sum(yhat) FROM main.forecast').fetchone()[0]:,.0f}")
        figures.append(f"{ro.execute('SELECT any_value(total_daily_budget) FROM main.allocations').fetchone()[0]:,.0f} a day")
        cohort, persona, rate = ro.execute("SELECT cohort, persona, response_rate FROM main.persona_summary "
                                           "WHERE cohort <> 'Unassigned' ORDER BY response_rate DESC LIMIT 1").fetchone()  # fmt: skip
        figures.append(f"{cohort} {persona}, {100 * rate:.1f}% accepted the last campaign")
        figures.append(ro.execute("SELECT payload_id FROM main.payload_outbox ORDER BY created_at DESC LIMIT 1").fetchone()[0])
        figures.append(ro.execute("SELECT any_value(fit_run_id) FROM main.mmm_model").fetchone()[0])
    return figures


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _not_blank(png: Path) -> None:
    image = Image.open(png).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert image.width > 500 and image.height > 500 and len(colours) > 50, (png, image.size, len(colours))


def test_report_files_are_linked_from_the_materialization(report):
    assert report["html"].is_file() and report["pdf"].is_file()
    assert report["url"] == report["html"].as_uri()
    assert report["pdf"].read_bytes()[:5] == b"%PDF-"


def test_html_renders_in_headless_chromium_with_the_key_figures(report, key_figures, tmp_path):
    chromium = _require("chromium")
    pdftotext = _require("pdftotext")
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    screenshot, printed = tmp_path / "report.png", tmp_path / "chromium.pdf"
    subprocess.run([chromium, *flags, "--window-size=1280,2400", f"--screenshot={screenshot}", report["url"]],
                   check=True, capture_output=True, timeout=180)  # fmt: skip
    _not_blank(screenshot)
    subprocess.run([chromium, *flags, "--no-pdf-header-footer", f"--print-to-pdf={printed}", report["url"]],
                   check=True, capture_output=True, timeout=180)  # fmt: skip
    text = _flat(subprocess.run([pdftotext, str(printed), "-"], check=True, capture_output=True, text=True).stdout)
    missing = [figure for figure in key_figures if figure not in text]
    assert not missing, missing


def test_pdf_renders_to_png_pages_with_the_key_figures(report, key_figures, tmp_path):
    if report["pdf"] is None:  # no Pango here: the asset wrote the HTML and said why there is no PDF
        assert "apt-get install" in report["pdf_note"]
        if os.environ.get("CI"):
            pytest.fail(f"{report['pdf_note']}: .ci/run must install WeasyPrint's libraries")
        pytest.skip(report["pdf_note"])
    pdftoppm = _require("pdftoppm")
    pdftotext = _require("pdftotext")
    subprocess.run([pdftoppm, "-r", "80", "-png", str(report["pdf"]), str(tmp_path / "page")], check=True, timeout=180)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 3
    _not_blank(pages[0])
    text = _flat(subprocess.run([pdftotext, str(report["pdf"]), "-"], check=True, capture_output=True, text=True).stdout)
    missing = [figure for figure in key_figures if figure not in text]
    assert not missing, missing
    for section in ("Executive summary", "Return on investment by channel", "Saturation and marginal return",
                    "Revenue forecast", "Budget plan: confident moves, held channels and the expected effect",
                    "What the model can vouch for", "Experiments to run next", "Personas and their briefs",
                    "Lineage of the DSP payload"):  # fmt: skip
        assert section in text, section


def test_report_names_each_tables_run_from_the_dagster_instance(graph_run):
    events = [e for r in graph_run.results for e in r.get_asset_materialization_events()
              if e.asset_key.to_user_string() == "executive_report"]  # fmt: skip
    materializations = events[-1].materialization.metadata["materializations"].value
    tables = {m["table"] for m in materializations}
    assert {"main.mmm_model", "main.forecast", "main.allocations", "main.persona_summary", "main.creative_briefs"} <= tables
    for m in materializations:
        assert m["run_id"] == graph_run.results[-1].run_id and m["time"], m
        assert m["source"].startswith("the Dagster instance of this run"), m
