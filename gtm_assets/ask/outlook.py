"""Answers about what comes next: the revenue forecast and budget what-if scenarios.

The forecast is read from main.forecast as materialized. Scenarios (and the budget plan's effect
against today's spend, ``gtm_assets.ask.decisions``) are computed by the allocator's what-if
function, ``gtm_assets.models.scenarios.what_if``, called in ``what_if_on`` exactly as `gtm whatif`
calls it, so both give the same figures.
"""

from __future__ import annotations

from gtm_assets.ask import periods
from gtm_assets.ask.answer import Answer, Chart, Table
from gtm_assets.ask.source import TABLES, AskError, Warehouse

WHAT_IF = "gtm_assets.models.scenarios.what_if"
DEFAULT_HORIZON_DAYS = 14  # `gtm whatif`'s default
HISTORY_DAYS_SHOWN = 56


def horizon(answer: Answer) -> int | None:
    ahead = [p for p in answer.entities.get("periods") or [] if p["kind"] == "next"]
    return periods.horizon_days(ahead[0]) if ahead else None


def forecast(wh: Warehouse, answer: Answer) -> None:
    """The forecast's daily revenue with its 80% and 95% intervals over the days asked for."""
    rows = wh.rows("forecast", "SELECT * FROM {table} ORDER BY ds")
    if not rows:
        raise AskError(f"{TABLES['forecast'][0]} is empty: materialize `forecast`")
    answer.materializations.append(wh.materialization("forecast"))
    asked = horizon(answer)
    shown = rows[: asked or len(rows)]
    if asked and asked > len(rows):
        answer.notes.append(f"The forecast covers {len(rows)} days (to {rows[-1]['ds']}); asked for {asked}.")
    table = TABLES["forecast"][0]
    f = answer.facts

    def cell(row: dict, column: str) -> str:
        return f.cell(f"{column} {row['ds']}", row[column], "money", table=table, column=column,
                      row={"ds": str(row["ds"])}, lineage_id=row["lineage_id"])  # fmt: skip

    total = f.aggregate("forecast total", sum(r["yhat"] for r in shown), "money", table=table, column="yhat",
                        rows={"ds_from": str(shown[0]["ds"]), "ds_to": str(shown[-1]["ds"])}, how="sum")  # fmt: skip
    first, last = shown[0], shown[-1]
    answer.text = (
        f"Revenue forecast for {shown[0]['ds']} to {shown[-1]['ds']} ({len(shown)} days, Prophet, from data up to "
        f"{first['history_last_day']}): {total} in total (the sum of the daily forecasts). Daily forecasts with 80% "
        f"and 95% intervals: {first['ds']} {cell(first, 'yhat')} (80%: {cell(first, 'yhat_lower_80')} – "
        f"{cell(first, 'yhat_upper_80')}; 95%: {cell(first, 'yhat_lower_95')} – {cell(first, 'yhat_upper_95')})"
    )
    if last is not first:
        answer.text += (f", up to {last['ds']} {cell(last, 'yhat')} (80%: {cell(last, 'yhat_lower_80')} – "
                        f"{cell(last, 'yhat_upper_80')}; 95%: {cell(last, 'yhat_lower_95')} – {cell(last, 'yhat_upper_95')})")  # fmt: skip
    answer.text += ". The forecast table holds daily intervals only, so the total is shown without one."
    answer.tables.append(Table("Daily revenue forecast (main.forecast)", ["day", "forecast", "80% interval", "95% interval"], [
        [str(r["ds"]), cell(r, "yhat"), f"{cell(r, 'yhat_lower_80')} – {cell(r, 'yhat_upper_80')}",
         f"{cell(r, 'yhat_lower_95')} – {cell(r, 'yhat_upper_95')}"] for r in shown
    ]))  # fmt: skip
    history = []
    if wh.has("guarded_sessions"):
        history = wh.rows("guarded_sessions", f"""
            SELECT session_start::DATE AS ds, sum(revenue)::DOUBLE AS y FROM {{table}}
            WHERE session_start::DATE > ?::DATE - INTERVAL {HISTORY_DAYS_SHOWN} DAY GROUP BY 1 ORDER BY 1
        """, [first["history_last_day"]])  # fmt: skip
    answer.chart = Chart("fan", {
        "history_ds": [r["ds"] for r in history], "history_y": [r["y"] for r in history],
        "ds": [r["ds"] for r in shown], "yhat": [r["yhat"] for r in shown],
        "lo80": [r["yhat_lower_80"] for r in shown], "hi80": [r["yhat_upper_80"] for r in shown],
        "lo95": [r["yhat_lower_95"] for r in shown], "hi95": [r["yhat_upper_95"] for r in shown],
    }, "Revenue forecast with 80% and 95% intervals")  # fmt: skip


def scenario_text(changes: list[dict]) -> str:
    """Parsed spend changes as the what-if function's scenario language ("cut TV by 20%")."""
    clauses = []
    for change in changes:
        unit = "%" if "percent" in change else ""
        value = change.get("percent", change.get("amount"))
        if "from" in change:
            clauses.append(f"move {abs(value):g}{unit} from {change['from']} to {change['to']}")
        else:
            clauses.append(f"{'cut' if value < 0 else 'increase'} {change['channel']} by {abs(value):g}{unit}")
    return " and ".join(clauses)


def what_if_on(wh: Warehouse, scenario: str | None = None, *, changes=None, current: dict | None = None,
               horizon_days: int = DEFAULT_HORIZON_DAYS):  # fmt: skip
    """Run the allocator's what-if function the way `gtm whatif` does (gtm_assets.warehouse.reads.scenario_inputs:
    main.mmm_model, its bootstrap draws for the interval, and each channel's trailing base daily spend),
    unless ``current`` is given. Returns (WhatIf result, the spend used as the base, a sentence naming it).

    The one place that calls the what-if function: when its base or signature changes, adapt here."""
    from gtm_assets.models.scenarios import ScenarioError, parse_scenario, what_if
    from gtm_assets.warehouse.reads import scenario_inputs

    wh.table("media_spend")
    inputs = scenario_inputs(wh.connection("mmm"))
    base, window = (current, "the current daily spend the caller gave") if current is not None else (inputs.base, inputs.window)
    try:
        parsed = changes if changes is not None else parse_scenario(scenario, list(base))
        result = what_if(
            parsed,
            mmm_channels=inputs.mmm,
            current=base,
            horizon_days=horizon_days,
            draws=inputs.draws,
            base=window,
            recent=inputs.recent,
        )
    except ScenarioError as error:
        raise AskError(f"cannot run that scenario: {error}") from None
    return result, base, window


def _what_if_table(answer: Answer, result, title: str) -> None:
    """Every column of the what-if result table (numbers recorded as computed by the what-if function)."""
    frame = result.channels
    rows = []
    for record in frame.to_dict("records"):
        cells = []
        for column in frame.columns:
            value = record[column]
            if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
                cells.append(answer.facts.computed(f"what-if {column} {record['channel']}", value, "money2", by=WHAT_IF,
                                                   column=column, row={"channel": record["channel"]}))  # fmt: skip
            else:
                cells.append("" if value is None or value != value else str(value))
        rows.append(cells)
    answer.tables.append(Table(title, [str(c).replace("_", " ") for c in frame.columns], rows))


def effect(answer: Answer, result, label: str) -> str:
    """The what-if's daily and horizon revenue change, with intervals, as a sentence."""
    f, days = answer.facts, result.horizon_days

    def figure(name: str, value: float) -> str:
        return f.computed(f"{label} {name}", value, "signed_money2", by=WHAT_IF, column=name, row={"scenario": label})

    daily = (figure("daily_change", result.daily_change), figure("daily_change_lo", result.daily_change_lo),
             figure("daily_change_hi", result.daily_change_hi))  # fmt: skip
    total = tuple(
        f.computed(f"{label} {name} x {days} days", value * days, "signed_money2", by=f"{WHAT_IF} ({name} x horizon days)",
                   column=name, row={"scenario": label, "horizon_days": days})
        for name, value in (("daily_change", result.daily_change), ("daily_change_lo", result.daily_change_lo),
                            ("daily_change_hi", result.daily_change_hi))
    )  # fmt: skip
    return (f"{daily[0]} revenue per day (90% interval {daily[1]} to {daily[2]}); over {days} days {total[0]} "
            f"({total[1]} to {total[2]})")  # fmt: skip


def scenario(wh: Warehouse, answer: Answer) -> None:
    """A budget scenario's predicted revenue change, from the what-if function on the fitted model."""
    changes = answer.entities.get("changes") or []
    if not changes:
        raise AskError("say what to change, e.g. 'cut Social by 20%', 'increase Search by 500' or 'move 10% from TV to Search'")
    text = scenario_text(changes)
    days = horizon(answer) or DEFAULT_HORIZON_DAYS
    answer.materializations.append(wh.materialization("mmm"))
    result, current, base = what_if_on(wh, text, horizon_days=days)
    relative = [c.get("channel") or c.get("from") for c in changes if "percent" in c]
    off = [c for c in dict.fromkeys(relative) if current.get(c, 0.0) <= 0.0]
    answer.text = f'Scenario "{text}" against {base}: predicted {effect(answer, result, "scenario")}.'
    if off:
        answer.text += (f" {', '.join(off)} {'is' if len(off) == 1 else 'are'} currently off (no spend in that window), "
                        "so a percentage of it changes nothing: give an amount per day instead.")  # fmt: skip
    answer.notes.append(
        f'Computed by {WHAT_IF} on {TABLES["mmm"][0]} (the same call as `gtm whatif "{text}"`), which says: {result.summary()}'
    )
    _what_if_table(answer, result, f"Scenario by channel ({WHAT_IF})")
    frame = result.channels
    answer.chart = Chart("changes", {"labels": list(frame["channel"]), "values": list(frame["revenue_change"]),
                                     "lo": list(frame["revenue_change_lo"]), "hi": list(frame["revenue_change_hi"]),
                                     "xlabel": "predicted daily revenue change (90% interval)"},
                         f"Scenario: {text}")  # fmt: skip
