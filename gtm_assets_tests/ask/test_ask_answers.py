"""`gtm ask` on the materialized simulated graph: every intent answered with a chart, every number
equal to the table cell (or SQL aggregate) it names, every figure in the text one of those numbers,
scenarios equal to `gtm whatif`, the allocation's effect equal to the allocations asset's own pacing
figures, the run of each materialization named, and clear messages when nothing is materialized."""

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from gtm_assets.ask.engine import ask
from gtm_assets.ask.source import Warehouse

QUESTIONS = {
    "roi": "What is the ROI of TV vs Search?",
    "saturation": "Which channels are saturated?",
    "contribution": "Which channels drive revenue?",
    "drivers": "What drove Q4?",
    "scenario": "What happens if we cut Social by 20%?",
    "forecast": "What will revenue be over the next 7 days?",
    "persona": "Which persona responds best to email?",
    "allocation": "What budget allocation do you recommend?",
    "identification": "Is the TV estimate reliable?",
    "experiment": "Which experiment should we run next?",
    "customer_value": "What is a customer worth?",
    "summary": "Give me the executive summary",
}
EXTRA = [
    "Why did revenue drop last month?",
    "what drove q4 vs last year",
    "Move 10% from TV to Search",
    "increase search by $500 a day",
    "Tell me about the Mid-Career Champions",
    "Which customers buy the most online?",
    "is serach saturated",
    "Which channel should get more budget next month?",
    "Where should the next dollar go?",
    "How would you split 20k a day?",
]
GTM = [str(Path(sys.executable).parent / "gtm")]
WHATIF_LINE = re.compile(r"Predicted revenue change ([+-][\d,.]+) per day \(90% interval ([+-][\d,.]+) to ([+-][\d,.]+)\)")
NUMERIC = re.compile(r"[+-]?\d+(?:,\d{3})*(?:\.\d+)?%?")
SCRUB = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?"  # dates and times
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # run ids
    r"|\b[0-9a-f]{12}\b"  # keyed ids shown by their first 12 hex characters (customers)
    r"|\bQ[1-4] \d{4}\b|\b(?:January|February|March|April|May|June|July|August|September|October|November|December) \d{4}\b"
    r"|\b\d+ (?:days|weeks)\b"  # counts of days and weeks
    r"|\b(?:80|90|95)%(?= interval| and (?:80|90|95)%|:|\))|(?<=and )(?:80|90|95)%(?= interval)|\b100%(?= =)"  # interval levels
    r"|the (?:model|plan) says: “[^”]*”"  # a table's own text, quoted as it is (identification or decision reasons)
    r"|\b\d+-day\b|\b5th to 95th percentile\b|\b\d+ bootstrap draws\b"  # how a figure was computed, not a figure
)


@pytest.fixture(scope="module")
def answers(graph_run):
    with Warehouse() as wh:
        return {q: ask(q, wh).to_json() for q in [*QUESTIONS.values(), *EXTRA]}


@pytest.fixture(scope="module")
def ro(graph_run):
    connection = duckdb.connect(os.environ["GTM_DUCKDB_PATH"], read_only=True)
    yield connection
    connection.close()


def _where(row: dict) -> tuple[str, list]:
    clauses, params = [], []
    for key, value in row.items():
        if key == "week_from":
            clauses.append("week::DATE >= ?::DATE")
        elif key == "week_to":
            clauses.append("week::DATE <= ?::DATE")
        elif key == "ds_from":
            clauses.append("ds >= ?::DATE")
        elif key == "ds_to":
            clauses.append("ds <= ?::DATE")
        elif key == "ds":
            clauses.append("ds = ?::DATE")
        else:
            clauses.append(f'"{key}" = ?')
        params.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _table_value(ro, number: dict) -> float:
    where, params = _where(number["row"])
    if number.get("aggregate"):
        function = {"sum": "sum", "mean": "avg", "count": "count"}[number["aggregate"]]
        return ro.execute(f'SELECT {function}("{number["column"]}") FROM {number["table"]}{where}', params).fetchone()[0]
    values = ro.execute(f'SELECT DISTINCT "{number["column"]}" FROM {number["table"]}{where}', params).fetchall()
    assert len(values) == 1, f"{number} matches {len(values)} distinct values"
    return values[0][0]


def _check_numbers(ro, answer: dict) -> None:
    for number in answer["numbers"]:
        if number["table"] is None:
            continue  # computed by a function: checked per intent below
        actual = _table_value(ro, number)
        assert math.isclose(number["value"], actual, rel_tol=1e-9, abs_tol=1e-9), (number, actual)
        if number.get("lineage_id"):
            (found,) = ro.execute(
                f"SELECT count(*) FROM {number['table']} WHERE lineage_id = ?", [number["lineage_id"]]
            ).fetchone()
            assert found >= 1, number


def _unexplained_figures(answer: dict) -> list[str]:
    """Figures in the answer's text and tables that are none of its recorded numbers."""
    allowed = {n["display"] for n in answer["numbers"]}
    allowed |= {f"{v:g}" for v in answer["entities"]["percentages"]} | {f"{v:g}%" for v in answer["entities"]["percentages"]}
    allowed |= {f"{v:g}" for v in answer["entities"]["amounts"]}
    texts = [answer["answer"], *answer["notes"]]
    texts += [cell for table in answer["tables"] if not table["verbatim"] for row in table["rows"] for cell in row]
    stray = []
    for text in texts:
        for token in NUMERIC.findall(SCRUB.sub(" ", text)):
            if token not in allowed and token.lstrip("+") not in allowed and f"+{token}" not in allowed:
                stray.append(token)
    return stray


def test_every_intent_is_answered_with_numbers_from_the_tables_and_a_chart(answers, ro):
    for intent, question in QUESTIONS.items():
        answer = answers[question]
        assert answer["intent"] == intent, (question, answer["intent"])
        assert answer["numbers"], question
        assert answer["chart"] and open(answer["chart"], "rb").read(8) == b"\x89PNG\r\n\x1a\n", question
        assert os.path.getsize(answer["chart"]) > 10_000, question
        _check_numbers(ro, answer)
        assert _unexplained_figures(answer) == [], (question, answer["answer"])
    for question in EXTRA:
        _check_numbers(ro, answers[question])
        assert _unexplained_figures(answers[question]) == [], (question, answers[question]["answer"])


def test_answers_name_the_run_and_time_of_the_materialization(answers, graph_run, ro):
    run_id = graph_run.results[-1].run_id
    (fit_run,) = ro.execute("SELECT DISTINCT fit_run_id FROM main.mmm_model").fetchone()
    assert fit_run == run_id
    for intent in ("roi", "saturation", "contribution", "drivers", "forecast", "allocation"):
        for materialization in answers[QUESTIONS[intent]]["materialization"]:
            assert materialization["run_id"] == run_id and materialization["time"], (intent, materialization)
            assert "table column" in materialization["source"]


def test_roi_is_read_with_its_intervals_and_compared_honestly(answers, ro):
    answer = answers[QUESTIONS["roi"]]
    rows = {
        c: (roi, lo, hi) for c, roi, lo, hi in ro.execute("SELECT channel, roi, roi_lo, roi_hi FROM main.mmm_model").fetchall()
    }
    for channel in ("TV", "Search"):
        roi, lo, hi = rows[channel]
        assert f"{channel} {roi:.2f} [{lo:.2f}, {hi:.2f}]" in answer["answer"]
    high, low = sorted(("TV", "Search"), key=lambda c: -rows[c][0])
    separated = rows[high][1] > rows[low][2]
    assert ("do not overlap" in answer["answer"]) == separated
    assert [r[0] for r in answer["tables"][0]["rows"]] == [high, low]


def test_saturation_names_exactly_the_channels_past_break_even(answers, ro):
    text = answers[QUESTIONS["saturation"]]["answer"]
    past = sorted(c for (c,) in ro.execute("SELECT channel FROM main.mmm_model WHERE marginal_roi < 1").fetchall())
    named = re.search(r"Past break-even at the margin[^:]*: ([^.]*)\.", text)
    if past:
        assert sorted(re.sub(r" \(.*?\)", "", n) for n in named.group(1).split(", ")) == past
    else:
        assert named is None


def test_drivers_of_q4_cover_the_latest_q4_weeks(answers, ro):
    answer = answers[QUESTIONS["drivers"]]
    (last_week,) = ro.execute("SELECT max(week)::DATE FROM main.mmm_decomposition").fetchone()
    year = last_week.year if last_week.month >= 10 else last_week.year - 1
    first, last = ro.execute(
        "SELECT min(week)::DATE, max(week)::DATE FROM main.mmm_decomposition WHERE week::DATE BETWEEN ? AND ?",
        [f"{year}-10-01", f"{year}-12-31"],
    ).fetchone()
    assert f"Q4 {year} (weeks starting {first} to {last})" in answer["answer"]
    numbers = {n["label"]: n["value"] for n in answer["numbers"]}
    assert math.isclose(
        numbers["actual change per week"], numbers["actual weekly mean (now)"] - numbers["actual weekly mean (before)"]
    )
    year_on_year = answers["what drove q4 vs last year"]["answer"]
    assert "the same weeks a year earlier" in year_on_year


def _gtm_whatif(scenario: str) -> tuple[float, float, float]:
    out = subprocess.run([*GTM, "whatif", scenario], capture_output=True, text=True, check=True).stdout
    return tuple(float(v.replace(",", "")) for v in WHATIF_LINE.search(out).groups())


@pytest.mark.parametrize("question, scenario", [
    ("What happens if we cut Social by 20%?", "cut Social by 20%"),
    ("Move 10% from TV to Search", "move 10% from TV to Search"),
    ("increase search by $500 a day", "increase Search by 500"),
])  # fmt: skip
def test_scenarios_equal_gtm_whatif(answers, question, scenario):
    numbers = {n["label"]: n["value"] for n in answers[question]["numbers"]}
    expected = _gtm_whatif(scenario)
    got = (numbers["scenario daily_change"], numbers["scenario daily_change_lo"], numbers["scenario daily_change_hi"])
    assert all(math.isclose(round(g, 2), e, abs_tol=0.006) for g, e in zip(got, expected, strict=True)), (got, expected)
    assert f'"{scenario}"' in answers[question]["answer"]


def test_forecast_covers_the_days_asked_with_intervals(answers, ro):
    answer = answers[QUESTIONS["forecast"]]
    rows = ro.execute("SELECT yhat, yhat_lower_80, yhat_upper_80 FROM main.forecast ORDER BY ds LIMIT 7").fetchall()
    assert len(answer["tables"][0]["rows"]) == 7
    total = next(n for n in answer["numbers"] if n["label"] == "forecast total")
    assert math.isclose(total["value"], sum(r[0] for r in rows))
    assert f"{rows[0][1]:,.0f} – {rows[0][2]:,.0f}" in answer["answer"]


def test_persona_for_email_is_the_best_responder_among_email_briefs(answers, ro):
    answer = answers[QUESTIONS["persona"]]
    cohort, persona, rate = ro.execute("""
        SELECT s.cohort, s.persona, s.response_rate FROM main.persona_summary s
        JOIN main.creative_briefs b ON b.segment_type = 'persona' AND b.cohort = s.cohort AND b.persona = s.persona
        WHERE list_contains(b.channels, 'email') ORDER BY s.response_rate DESC LIMIT 1
    """).fetchone()  # fmt: skip
    assert (
        f"ranked by response rate (share who accepted the last campaign): {cohort} {persona} {100 * rate:.1f}%"
        in answer["answer"]
    )
    named = answers["Tell me about the Mid-Career Champions"]
    assert named["intent"] == "persona" and [r[:2] for r in named["tables"][0]["rows"]] == [["Mid-Career", "Champions"]]
    online = answers["Which customers buy the most online?"]
    (top,) = ro.execute("SELECT cohort || ' ' || persona FROM main.persona_summary WHERE cohort <> 'Unassigned' "
                        "ORDER BY mean_web_purchases DESC LIMIT 1").fetchone()  # fmt: skip
    assert " ".join(online["tables"][0]["rows"][0][:2]) == top


def test_allocation_effect_equals_the_allocations_assets_own_pacing(answers, graph_run):
    events = [e for r in graph_run.results for e in r.get_asset_materialization_events()
              if e.asset_key.to_user_string() == "allocations"]  # fmt: skip
    metadata = events[-1].materialization.metadata
    days = metadata["pacing_horizon_days"].value
    change = metadata["forecast_horizon_revenue_with_plan"].value - metadata["forecast_horizon_revenue_without_plan"].value
    interval = metadata["plan_revenue_change_interval"].value
    numbers = {n["label"]: n["value"] for n in answers[QUESTIONS["allocation"]]["numbers"]}
    assert math.isclose(numbers[f"plan daily_change x {days} days"], change, rel_tol=1e-6, abs_tol=0.01)
    assert math.isclose(numbers[f"plan daily_change_lo x {days} days"], interval["lo"], abs_tol=0.006)
    assert math.isclose(numbers[f"plan daily_change_hi x {days} days"], interval["hi"], abs_tol=0.006)


def test_summary_quotes_the_best_roi_and_the_forecast(answers, ro):
    text = answers[QUESTIONS["summary"]]["answer"]
    channel, roi = ro.execute("SELECT channel, roi FROM main.mmm_model ORDER BY roi DESC LIMIT 1").fetchone()
    assert f"best ROI {channel} {roi:.2f}" in text
    (total,) = ro.execute("SELECT sum(yhat) FROM main.forecast").fetchone()
    assert f"{total:,.0f}" in text


def test_unanswerable_question_lists_what_it_can_answer(graph_run):
    with Warehouse() as wh:
        answer = ask("What's the weather in Paris?", wh)
    assert answer.intent == "unknown" and not answer.facts.numbers and answer.chart_path is None
    assert "I can answer questions about" in answer.text and "forecast" in answer.text


def test_cli_json_has_the_documented_fields(graph_run):
    out = subprocess.run([*GTM, "ask", "--json", "What is the ROI of Search?"], capture_output=True, text=True, check=True).stdout
    answer = json.loads(out)
    assert set(answer) >= {"intent", "entities", "answer", "numbers", "chart", "materialization"}
    assert set(answer["entities"]) >= {"channels", "percentages", "amounts", "periods", "personas"}
    assert answer["entities"]["channels"] == ["Search"] and os.path.exists(answer["chart"])
    assert all({"table", "column", "row", "value"} <= set(n) for n in answer["numbers"])
    assert answer["materialization"][0]["run_id"] and answer["materialization"][0]["time"]


def test_interactive_mode_answers_until_quit(graph_run):
    result = subprocess.run([*GTM, "ask"], input="help\nroi of tv\n\nquit\nroi of search\n", capture_output=True,
                            text=True, check=True, env={**os.environ, "COLUMNS": "120"})  # fmt: skip
    assert "I can answer questions about" in result.stdout
    assert "ROI (incremental revenue per unit of spend" in result.stdout
    assert result.stdout.count("Chart:") == 1  # the question after `quit` is not answered


def test_nothing_materialized_names_the_asset(tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    result = subprocess.run([*GTM, "ask", "--db", str(empty), "roi of tv"], capture_output=True, text=True)
    assert result.returncode == 2 and "Materialize the `mmm_model` asset" in result.stdout.replace("\n", " ")
    partial = tmp_path / "partial.duckdb"
    with duckdb.connect(str(partial)) as connection:
        connection.execute("CREATE TABLE main.mmm_model AS SELECT 'TV' AS channel")
    result = subprocess.run([*GTM, "ask", "--json", "--db", str(partial), "forecast revenue"], capture_output=True, text=True)
    assert result.returncode == 2 and json.loads(result.stdout)["asset_to_materialize"] == "forecast"
    missing = subprocess.run([*GTM, "ask", "--db", str(tmp_path / "none.duckdb"), "which persona responds best"],
                             capture_output=True, text=True)  # fmt: skip
    assert missing.returncode == 2 and "no warehouse file" in missing.stdout.replace("\n", " ")


def test_a_table_written_by_another_run_than_the_instance_knows_is_reported(graph_run):
    class OtherInstance:  # an instance whose latest mmm_model materialization is another run
        def get_latest_materialization_event(self, key):
            return SimpleNamespace(run_id="another-run", timestamp=0.0)

    with Warehouse(instance=OtherInstance()) as wh:
        materialization = wh.materialization("mmm")
    assert materialization.run_id == graph_run.results[-1].run_id and materialization.time is None
    assert "not mmm_model's latest materialization" in materialization.note and "another-run" in materialization.note
