"""The questions a budget owner asks first: what the plan does (and for a budget of their own, what it
would do), which of the model's numbers can be trusted and why, and which experiment to run next.

Every figure is read from main.allocations, main.mmm_model, main.mmm_lift_tests or main.experiment_plan
as materialized, or computed by the allocator (``gtm_assets.models.allocate.allocate``) on main.mmm_model
and its bootstrap draws, exactly as the allocations asset calls it, for a budget the question names.
Moves the plan makes with confidence come first; channels it holds are named with the reason, so an
estimate the model does not trust is never the headline. The tables' own words (a decision's reason,
an identification reason, a test's note) are quoted as they are: “the plan says: …”.
"""

from __future__ import annotations

from gtm_assets.ask.answer import Answer, Chart, Table
from gtm_assets.ask.outlook import DEFAULT_HORIZON_DAYS, effect, horizon, what_if_on
from gtm_assets.ask.source import TABLES, AskError, Warehouse

ALLOCATE = "gtm_assets.models.allocate.allocate"
PLAN_SQL = """
SELECT channel, any_value(current_spend) AS current_spend, any_value(recommended_spend) AS recommended_spend,
       any_value(change_pct) AS change_pct, any_value(decision) AS decision, any_value(decision_reason) AS decision_reason,
       any_value(gain_robustness) AS gain_robustness, any_value(marginal_roi) AS marginal_roi,
       any_value(expected_incremental_revenue) AS expected_incremental_revenue, any_value(method) AS method,
       any_value(total_daily_budget) AS total_daily_budget, any_value(allocated_at) AS allocated_at,
       any_value(guardrail_max_change_pct) AS guardrail_max_change_pct, any_value(guardrail_min_learning) AS guardrail_min_learning,
       any_value(guardrail_floor) AS guardrail_floor, any_value(guardrail_ceiling) AS guardrail_ceiling
FROM {table} GROUP BY channel ORDER BY channel
"""


def _moves(plan: list[dict]) -> tuple[list[dict], list[dict]]:
    """The channels the plan moves with confidence (largest move first) and those it holds."""
    held = [p for p in plan if str(p["decision"] or "").startswith("hold")]
    confident = [p for p in plan if p not in held]
    moved = sorted(confident, key=lambda p: -abs(p["recommended_spend"] - p["current_spend"]))
    return moved, held


def plan_sentences(answer: Answer, plan: list[dict], money, label: str) -> str:
    """The plan in words: the confident moves first, then the held channels with their reasons.
    ``money(row, column)`` records and formats a figure."""
    moved, held = _moves(plan)
    changes = [p for p in moved if abs(p["recommended_spend"] - p["current_spend"]) >= 0.5]
    text = ""
    if changes:
        text += f"{label} moves, each gaining in most of the model's draws: " + "; ".join(
            f"{p['channel']} {money(p, 'current_spend')} → {money(p, 'recommended_spend')} a day" for p in changes
        )
        up = [p["channel"] for p in changes if p["recommended_spend"] > p["current_spend"]]
        text += f" (more budget for {', '.join(up)})." if up else "."
    else:
        text += f"{label} keeps every channel at its base: no move is robust in the model's draws."
    if held:
        text += " Held at their base (the model cannot vouch for moving them): " + "; ".join(
            f"{p['channel']} ({p['decision'].removeprefix('hold: ')})" for p in held
        )
        text += "."
        answer.notes.extend(f"{p['channel']}: {p['decision']}; the plan says: “{p['decision_reason']}”" for p in held)
    return text


def _stored_plan(wh: Warehouse) -> list[dict]:
    plan = wh.rows("allocations", PLAN_SQL)
    if not plan:
        raise AskError(f"{TABLES['allocations'][0]} is empty: materialize `allocations`")
    if plan[0]["decision"] is None:
        raise AskError("the latest allocations were not made by mmm_optimal: no decisions to explain")
    return plan


def allocation(wh: Warehouse, answer: Answer) -> None:
    """The recommended daily budget, confident moves first, held channels with their reason; for a
    budget named in the question ("how would you split 20k a day?"), the allocator's plan for it."""
    plan = _stored_plan(wh)
    answer.materializations.append(wh.materialization("allocations"))
    amounts = [a for a in answer.entities.get("amounts") or [] if a and a > 0]
    if amounts and abs(amounts[0] - plan[0]["total_daily_budget"]) > 0.5:
        plan = _plan_for_budget(wh, answer, plan, float(amounts[0]))
        source, by = f"computed by {ALLOCATE} for {amounts[0]:,.0f} a day", ALLOCATE
    else:
        source, by = f"main.allocations, {plan[0]['method']}, allocated {plan[0]['allocated_at']:%Y-%m-%d %H:%M} UTC", None
    f = answer.facts
    table = TABLES["allocations"][0]

    def money(row: dict, column: str, kind: str = "money") -> str:
        value = row[column]
        if value is None or value != value:
            return "n/a"
        label = f"{column} {row['channel']}"
        if by:
            return f.computed(label, value, kind, by=by, column=column, row={"channel": row["channel"]})
        return f.cell(label, value, kind, table=table, column=column, row={"channel": row["channel"]})

    total = sum(p["recommended_spend"] for p in plan)
    budget = (
        f.computed("total daily budget", total, "money", by=by, column="recommended_spend", row={})
        if by
        else f.cell(
            "total daily budget", plan[0]["total_daily_budget"], "money", table=table, column="total_daily_budget", row={}
        )
    )
    answer.text = f"Budget plan for {budget} a day ({source}). " + plan_sentences(answer, plan, money, "The plan")
    answer.text += " " + _expected_effect(wh, answer, plan)
    rows = sorted(plan, key=lambda p: (str(p["decision"]).startswith("hold"), -abs(p["recommended_spend"] - p["current_spend"])))
    answer.tables.append(
        Table(
            f"Budget plan by channel ({'main.allocations' if by is None else ALLOCATE})",
            ["channel", "now / day", "plan / day", "change", "decision"],
            [
                [
                    p["channel"],
                    money(p, "current_spend"),
                    money(p, "recommended_spend"),
                    money(p, "change_pct", "signed_share"),
                    p["decision"],
                ]
                for p in rows
            ],
        )
    )
    answer.chart = Chart(
        "grouped",
        {"labels": [p["channel"] for p in rows], "first": [p["current_spend"] for p in rows],
         "second": [p["recommended_spend"] for p in rows], "first_label": "now (daily)", "second_label": "plan (daily)"},
        "Daily budget: now vs plan",
    )  # fmt: skip


def _expected_effect(wh: Warehouse, answer: Answer, plan: list[dict]) -> str:
    """The plan's expected revenue change against today's spend, by the what-if function."""
    from gtm_assets.models.scenarios import Change

    current = {p["channel"]: float(p["current_spend"]) for p in plan}
    moves = [Change(p["channel"], float(p["recommended_spend"]) - current[p["channel"]], False) for p in plan
             if abs(float(p["recommended_spend"]) - current[p["channel"]]) > 1e-9]  # fmt: skip
    if not moves:
        return "The plan keeps today's spend: no change in expected revenue."
    result, _, _ = what_if_on(wh, changes=moves, current=current, horizon_days=horizon(answer) or DEFAULT_HORIZON_DAYS)
    return f"Expected effect against today's spend (what-if on the fitted model): {effect(answer, result, 'plan')}."


def _plan_for_budget(wh: Warehouse, answer: Answer, stored: list[dict], total: float) -> list[dict]:
    """The allocator's robust plan for another daily total, with the stored plan's guardrails (the
    volatility cap lifted, and said so, when it cannot reach that total)."""
    from gtm_assets.models.allocate import Guardrails, InfeasibleGuardrails, allocate
    from gtm_assets.warehouse.reads import scenario_inputs

    inputs = scenario_inputs(wh.connection("mmm"))
    answer.materializations.append(wh.materialization("mmm"))
    first = stored[0]
    cap = first["guardrail_max_change_pct"]
    guardrails = Guardrails(
        total_daily_budget=total,
        floors={p["channel"]: p["guardrail_floor"] for p in stored if p["guardrail_floor"]},
        ceilings={p["channel"]: p["guardrail_ceiling"] for p in stored if p["guardrail_ceiling"] == p["guardrail_ceiling"]
                  and p["guardrail_ceiling"] is not None},
        max_daily_change_pct=None if cap is None or cap != cap else cap,
        min_learning_spend=first["guardrail_min_learning"] or 0.0,
        base_label=inputs.window,
    )  # fmt: skip
    channels = list(inputs.base)
    try:
        frame = allocate("mmm_optimal", channels=channels, current=inputs.base, guardrails=guardrails,
                         mmm_channels=inputs.mmm, draws=inputs.draws)  # fmt: skip
    except InfeasibleGuardrails as error:
        answer.notes.append(f"With the plan's volatility cap the allocator cannot reach {total:,.0f} a day ({error}); "
                            "this plan lifts the cap and keeps the other guardrails.")  # fmt: skip
        guardrails.max_daily_change_pct = None
        try:
            frame = allocate("mmm_optimal", channels=channels, current=inputs.base, guardrails=guardrails,
                             mmm_channels=inputs.mmm, draws=inputs.draws)  # fmt: skip
        except InfeasibleGuardrails as again:
            raise AskError(f"no plan can spend {total:,.0f} a day within the guardrails: {again}") from None
    return frame.to_dict("records")


def identification(wh: Warehouse, answer: Answer) -> None:
    """Which estimates the model vouches for: per channel whether it is identified, the reason, its
    lift tests' agreement and what the plan does with it."""
    rows = wh.rows("mmm", "SELECT * FROM {table} ORDER BY identified DESC, channel")
    answer.materializations.append(wh.materialization("mmm"))
    asked = answer.entities.get("channels") or []
    shown = [r for r in rows if r["channel"] in asked] or rows
    decisions = {}
    if wh.has("allocations"):
        decisions = {p["channel"]: p for p in wh.rows("allocations", PLAN_SQL)}
    f = answer.facts
    table = TABLES["mmm"][0]

    def roi(row: dict) -> str:
        cells = [
            f.cell(f"{column} {row['channel']}", row[column], "ratio", table=table, column=column,
                   row={"channel": row["channel"]}, lineage_id=row["lineage_id"])
            for column in ("roi", "roi_lo", "roi_hi")
        ]  # fmt: skip
        return f"ROI {cells[0]} [{cells[1]}, {cells[2]}]"

    parts = []
    for row in shown:
        plan = decisions.get(row["channel"])
        action = f" The plan: {plan['decision']}." if plan and plan["decision"] else ""
        if row["identified"]:
            parts.append(
                f"{row['channel']} can be trusted ({roi(row)}; the model says: “{row['identification_reason']}”).{action}"
            )
        else:
            parts.append(
                f"{row['channel']} cannot be trusted yet (the model says: “{row['identification_reason']}”); its {roi(row)} is not "
                f"an estimate to act on. To fix, the model says: “{row['identification_fix']}”.{action}"
            )
    trusted = [r["channel"] for r in rows if r["identified"]]
    lead = (
        f"The model vouches for {len(trusted)} of {len(rows)} channels ({', '.join(trusted) or 'none'}). "
        if len(shown) > 1
        else ""
    )
    answer.text = lead + " ".join(parts)
    if wh.has("lift_tests"):
        tests = [
            t
            for t in wh.rows("lift_tests", "SELECT * FROM {table} ORDER BY channel")
            if t["channel"] in {r["channel"] for r in shown}
        ]
        lift_table = TABLES["lift_tests"][0]
        for t in tests:
            z = f.cell(f"z {t['lift_test']}", t["z"], "ratio", table=lift_table, column="z", row={"lift_test": t["lift_test"]},
                       lineage_id=t["lineage_id"])  # fmt: skip
            verdict = "agrees with the model" if t["agrees"] else "disagrees with the model"
            answer.notes.append(f"Lift test {t['lift_test']} {verdict} (z = {z}: (modelled − measured) / standard error).")
    answer.tables.append(
        Table(
            "What the model can vouch for (main.mmm_model; reasons and fixes as the table words them)",
            ["channel", "identified", "ROI", "reason", "fix", "plan"],
            [
                [
                    r["channel"],
                    str(bool(r["identified"])),
                    roi(r),
                    r["identification_reason"],
                    r["identification_fix"] or "",
                    (decisions.get(r["channel"]) or {}).get("decision") or "",
                ]
                for r in shown
            ],
            verbatim=True,
        )
    )
    answer.chart = Chart(
        "interval_bars",
        {"labels": [r["channel"] for r in shown], "values": [r["roi"] for r in shown], "lo": [r["roi_lo"] for r in shown],
         "hi": [r["roi_hi"] for r in shown], "xlabel": "ROI, 90% interval (identified channels first)", "reference": None},
        "ROI and whether the model vouches for it",
    )  # fmt: skip


def experiment(wh: Warehouse, answer: Answer) -> None:
    """The next lift tests to run (main.experiment_plan): design, length, spend and revenue at stake."""
    proposals = wh.rows("experiment_plan", "SELECT * FROM {table} ORDER BY powered DESC, wave, priority_per_day DESC")
    answer.materializations.append(wh.materialization("experiment_plan"))
    asked = answer.entities.get("channels") or []
    shown = [p for p in proposals if p["channel"] in asked] or proposals
    if not shown:
        answer.text = "No experiment is needed now: the budget plan holds no channel it could test." + (
            f" ({', '.join(asked)} is not held.)" if asked else ""
        )
        return
    f = answer.facts
    table = TABLES["experiment_plan"][0]

    def cell(p: dict, column: str, kind: str) -> str:
        return f.cell(f"{column} {p['channel']}", p[column], kind, table=table, column=column, row={"channel": p["channel"]},
                      lineage_id=p["lineage_id"])  # fmt: skip

    first = shown[0]
    if not first["powered"]:
        answer.text = (
            f"No proposed test can measure its channel well enough yet: the best, a geo holdout of {first['channel']}, "
            f"the plan says: “{first['note']}”. Each channel's case is in the table."
        )
        _experiment_table(answer, shown, cell)
        return
    text = (
        f"Run next: a geo holdout of {first['channel']} ({first['decision']}) in {cell(first, 'holdout_share', 'share')} of "
        f"the market for {first['weeks']} weeks from {first['start_date']} to {first['end_date']}: it withholds "
        f"{cell(first, 'spend_at_stake', 'money')} of spend, puts about {cell(first, 'revenue_at_risk', 'money')} of revenue at "
        f"risk and should measure its lift to a standard error of {cell(first, 'expected_standard_error', 'money')} "
        f"(expected z {cell(first, 'expected_z', 'ratio')}); the plan says: “{first['note']}”."
    )
    rest = shown[1:]
    if rest:
        text += (
            " Then: "
            + "; ".join(
                f"{p['channel']} for {p['weeks']} weeks in {cell(p, 'holdout_share', 'share')} of the market (wave {cell(p, 'wave', 'count')}, "
                f"from {p['start_date']})" + ("" if p["powered"] else ", underpowered")
                for p in rest
            )
            + "."
        )
    answer.text = text + " When a test's result lands in data/landing/experiments, the next fit uses it."
    _experiment_table(answer, shown, cell)


def _experiment_table(answer: Answer, shown: list[dict], cell) -> None:
    answer.tables.append(
        Table(
            "Proposed lift tests (main.experiment_plan)",
            ["channel", "why held", "share", "weeks", "dates", "spend at stake", "revenue at risk", "expected SE", "powered"],
            [
                [
                    p["channel"],
                    p["decision"],
                    cell(p, "holdout_share", "share"),
                    cell(p, "weeks", "count"),
                    f"{p['start_date']} – {p['end_date']}",
                    cell(p, "spend_at_stake", "money"),
                    cell(p, "revenue_at_risk", "money"),
                    cell(p, "expected_standard_error", "money"),
                    str(bool(p["powered"])),
                ]
                for p in shown
            ],
        )
    )
    answer.chart = Chart(
        "interval_bars",
        {"labels": [p["channel"] for p in shown], "values": [p["expected_lift"] for p in shown],
         "lo": [p["expected_lift_lo"] for p in shown], "hi": [p["expected_lift_hi"] for p in shown],
         "xlabel": "lift each test is expected to measure (the model's 5th-95th percentile)", "reference": None},
        "Proposed lift tests",
    )  # fmt: skip
