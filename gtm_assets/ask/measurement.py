"""Answers from the media-mix model's tables: ROI, saturation, contribution, and what drove a period.

Each function fills an ``Answer`` from main.mmm_model / main.mmm_decomposition as materialized; no
figure is re-estimated. Intervals are the model's 90% bootstrap intervals (the ``*_lo``/``*_hi``
columns). When the model says a channel is not identified (``identified`` /
``identification_reason`` columns, where the table has them) the answer says so next to its figures.
"""

from __future__ import annotations

from datetime import date, timedelta

from gtm_assets.ask import periods
from gtm_assets.ask.answer import Answer, Chart, Table
from gtm_assets.ask.source import TABLES, AskError, Warehouse

INTERVAL = "90% interval"
DEFAULT_DRIVER_PERIOD = {"kind": "trailing", "unit": "week", "count": 13}
NOT_COMPONENTS = ("actual", "fitted")


def model_rows(wh: Warehouse, answer: Answer, order: str) -> list[dict]:
    """The model's channel rows (those asked about, else all), ordered by ``order`` descending;
    channels asked about that the model does not have are named in the notes."""
    rows = wh.rows("mmm", f"SELECT * FROM {{table}} ORDER BY {order} DESC, channel")
    answer.materializations.append(wh.materialization("mmm"))
    asked = answer.entities.get("channels") or []
    missing = [c for c in asked if c not in {r["channel"] for r in rows}]
    if missing:
        answer.notes.append(
            f"The model has no channel {', '.join(missing)}; its channels: {', '.join(r['channel'] for r in rows)}."
        )
    chosen = [r for r in rows if r["channel"] in asked]
    return chosen or rows


def identification(row: dict) -> str | None:
    """The model's own warning that a channel's figures are not identified, when it gives one."""
    if "identified" in row and row["identified"] is not None and not bool(row["identified"]):
        reason = row.get("identification_reason")
        # The reason is the model's own text (main.mmm_model.identification_reason), quoted as it is.
        return f"{row['channel']} is not identified by the data" + (f" (the model says: “{reason}”)" if reason else "")
    return None


def _window(row: dict) -> str:
    return f"weeks {str(row['panel_first_week'])[:10]} to {str(row['panel_last_week'])[:10]}"


def _interval(answer: Answer, row: dict, column: str, label: str, kind: str = "ratio") -> tuple[str, str, str]:
    table = TABLES["mmm"][0]
    where = {"channel": row["channel"]}
    f = answer.facts
    return (
        f.cell(label, row[column], kind, table=table, column=column, row=where, lineage_id=row["lineage_id"]),
        f.cell(
            f"{label} low", row[f"{column}_lo"], kind, table=table, column=f"{column}_lo", row=where, lineage_id=row["lineage_id"]
        ),
        f.cell(
            f"{label} high",
            row[f"{column}_hi"],
            kind,
            table=table,
            column=f"{column}_hi",
            row=where,
            lineage_id=row["lineage_id"],
        ),
    )


def _warnings(answer: Answer, rows: list[dict]) -> list[str]:
    """The channels the model does not identify (their reasons go to the notes)."""
    unidentified = [r["channel"] for r in rows if identification(r)]
    answer.notes.extend(w for w in (identification(r) for r in rows) if w)
    return [f"not identified by the data: {', '.join(unidentified)} (reasons in the notes)"] if unidentified else []


def roi(wh: Warehouse, answer: Answer) -> None:
    """ROI per channel with its interval; two channels are compared by whether their intervals overlap."""
    rows = model_rows(wh, answer, "roi")
    cells = {r["channel"]: _interval(answer, r, "roi", f"ROI {r['channel']}") for r in rows}
    margins = {r["channel"]: _interval(answer, r, "marginal_roi", f"marginal ROI {r['channel']}") for r in rows}
    parts = [f"{c} {v} [{lo}, {hi}]" for c, (v, lo, hi) in cells.items()]
    text = (f"ROI (incremental revenue per unit of spend, {INTERVAL}) from the media-mix model over "
            f"{_window(rows[0])}: " + "; ".join(parts) + ".")  # fmt: skip
    if len(rows) >= 2:
        first, second = rows[0], rows[1]
        if first["roi_lo"] > second["roi_hi"]:
            text += f" {first['channel']} returns more per unit than {second['channel']}: their intervals do not overlap."
        else:
            text += (f" The intervals of {first['channel']} and {second['channel']} overlap, so the data cannot rank "
                     "them with confidence.")  # fmt: skip
    warnings = _warnings(answer, rows)
    if warnings:
        text += " Caution: " + "; ".join(warnings) + "."
    answer.text = text
    columns = ["channel", "ROI", INTERVAL, "marginal ROI", f"marginal {INTERVAL}"]
    table_rows = [[c, v, f"{lo} – {hi}", margins[c][0], f"{margins[c][1]} – {margins[c][2]}"] for c, (v, lo, hi) in cells.items()]
    if any("identified" in r for r in rows):
        columns.append("identified")
        table_rows = [tr + [str(r.get("identified"))] for tr, r in zip(table_rows, rows, strict=True)]
    answer.tables.append(Table("ROI by channel (main.mmm_model)", columns, table_rows))
    answer.chart = Chart("interval_bars", {
        "labels": [r["channel"] for r in rows], "values": [r["roi"] for r in rows],
        "lo": [r["roi_lo"] for r in rows], "hi": [r["roi_hi"] for r in rows],
        "xlabel": f"ROI (incremental revenue per unit of spend), {INTERVAL}", "reference": None,
    }, "ROI by channel")  # fmt: skip


def saturation(wh: Warehouse, answer: Answer) -> None:
    """Saturation and marginal ROI per channel, most saturated first; channels whose next unit of
    spend returns less than it costs are named."""
    rows = model_rows(wh, answer, "saturation_pct")
    table = TABLES["mmm"][0]
    f = answer.facts
    sat = {r["channel"]: f.cell(f"saturation {r['channel']}", r["saturation_pct"], "percent", table=table,
                                column="saturation_pct", row={"channel": r["channel"]}, lineage_id=r["lineage_id"])
           for r in rows}  # fmt: skip
    margins = {r["channel"]: _interval(answer, r, "marginal_roi", f"marginal ROI {r['channel']}") for r in rows}
    parts = [f"{c} {sat[c]} (marginal ROI {m[0]} [{m[1]}, {m[2]}])" for c, m in margins.items()]
    text = ("Saturation is how far up its response curve a channel's average spend sits (100% = the most it can "
            f"deliver); marginal ROI is the revenue from the next unit of spend ({INTERVAL}). Most saturated first: "
            + "; ".join(parts) + ".")  # fmt: skip
    below = [r for r in rows if r["marginal_roi"] < 1.0]
    if below:
        names = ", ".join(f"{r['channel']}" + (" (whole interval below break-even)" if r["marginal_roi_hi"] < 1.0 else "")
                          for r in below)  # fmt: skip
        text += f" Past break-even at the margin (the next unit returns less than it costs): {names}."
    else:
        text += " Every channel's next unit of spend still returns more than it costs (marginal ROI above break-even)."
    warnings = _warnings(answer, rows)
    if warnings:
        text += " Caution: " + "; ".join(warnings) + "."
    answer.text = text
    answer.tables.append(Table("Saturation and marginal ROI (main.mmm_model)", ["channel", "saturation", "marginal ROI", INTERVAL],
                               [[c, sat[c], m[0], f"{m[1]} – {m[2]}"] for c, m in margins.items()]))  # fmt: skip
    answer.chart = Chart("saturation", {
        "labels": [r["channel"] for r in rows], "saturation": [r["saturation_pct"] for r in rows],
        "values": [r["marginal_roi"] for r in rows], "lo": [r["marginal_roi_lo"] for r in rows],
        "hi": [r["marginal_roi_hi"] for r in rows],
    }, "Saturation and marginal ROI")  # fmt: skip


def contribution(wh: Warehouse, answer: Answer) -> None:
    """Each channel's modelled incremental revenue with its interval, and its share of the media
    contribution against its share of spend."""
    rows = model_rows(wh, answer, "contribution")
    table = TABLES["mmm"][0]
    f = answer.facts
    parts, table_rows = [], []
    for r in rows:
        where = {"channel": r["channel"]}
        value, lo, hi = _interval(answer, r, "contribution", f"contribution {r['channel']}", "money")
        share = f.cell(f"contribution share {r['channel']}", r["contribution_share"], "share", table=table,
                       column="contribution_share", row=where, lineage_id=r["lineage_id"])  # fmt: skip
        spend = f.cell(f"spend share {r['channel']}", r["spend_share"], "share", table=table, column="spend_share",
                       row=where, lineage_id=r["lineage_id"])  # fmt: skip
        parts.append(f"{r['channel']} {value} [{lo}, {hi}], {share} of media contribution from {spend} of spend")
        table_rows.append([r["channel"], value, f"{lo} – {hi}", share, spend])
    answer.text = (f"Incremental revenue each channel brought in over {_window(rows[0])} ({INTERVAL}), largest first: "
                   + "; ".join(parts) + ".")  # fmt: skip
    warnings = _warnings(answer, rows)
    if warnings:
        answer.text += " Caution: " + "; ".join(warnings) + "."
    answer.tables.append(Table("Contribution by channel (main.mmm_model)",
                               ["channel", "contribution", INTERVAL, "share of media contribution", "share of spend"],
                               table_rows))  # fmt: skip
    answer.chart = Chart("share_pairs", {
        "labels": [r["channel"] for r in rows], "first": [r["spend_share"] for r in rows],
        "second": [r["contribution_share"] for r in rows], "first_label": "share of spend",
        "second_label": "share of media contribution",
    }, "Share of spend vs share of media contribution")  # fmt: skip


def _weeks(wh: Warehouse) -> list[date]:
    rows = wh.rows("decomposition", "SELECT DISTINCT week::DATE AS week FROM {table} ORDER BY week")
    return [r["week"] for r in rows]


def drivers(wh: Warehouse, answer: Answer) -> None:
    """What moved revenue in a period against the period before (or a year before): the change in
    weekly actual revenue and in each of the model's components (baseline, holiday, channels)."""
    weeks = _weeks(wh)
    if not weeks:
        raise AskError(f"{TABLES['decomposition'][0]} has no weeks; materialize `mmm_model`")
    answer.materializations.append(wh.materialization("decomposition"))
    first, last = weeks[0], weeks[-1] + timedelta(days=6)
    past = [p for p in answer.entities.get("periods") or [] if p["kind"] != "next"]
    period = past[0] if past else DEFAULT_DRIVER_PERIOD
    if not past:
        answer.notes.append("No period named: the last 13 weeks of the model's data.")
    start, end, label = periods.resolve(period, first, last)
    compare = answer.entities.get("compare") or "previous"
    before_start, before_end = periods.shift(start, end, compare)
    now = [w for w in weeks if start <= w <= end]
    before = [w for w in weeks if before_start <= w <= before_end]
    if not now:
        raise AskError(f"{label} is outside the model's weeks ({weeks[0]} to {weeks[-1]}): ask about a period inside them")
    table = TABLES["decomposition"][0]
    sums = wh.rows("decomposition", """
        SELECT component,
               avg(value) FILTER (WHERE week::DATE BETWEEN ? AND ?) AS now_mean,
               sum(value) FILTER (WHERE week::DATE BETWEEN ? AND ?) AS now_total,
               avg(value) FILTER (WHERE week::DATE BETWEEN ? AND ?) AS before_mean
        FROM {table} GROUP BY component ORDER BY component
    """, [now[0], now[-1], now[0], now[-1], before[0] if before else now[0], before[-1] if before else now[0]])  # fmt: skip
    by_component = {r["component"]: r for r in sums}
    f = answer.facts
    now_rows = {"week_from": str(now[0]), "week_to": str(now[-1])}
    before_rows = {"week_from": str(before[0]), "week_to": str(before[-1])} if before else None

    def mean(component: str, which: str) -> str:
        rows = now_rows if which == "now" else before_rows
        return f.aggregate(f"{component} weekly mean ({which})", by_component[component][f"{which}_mean"], "money",
                           table=table, column="value", rows={"component": component, **rows}, how="mean")  # fmt: skip

    total = f.aggregate("actual revenue (period total)", by_component["actual"]["now_total"], "money", table=table,
                        column="value", rows={"component": "actual", **now_rows}, how="sum")  # fmt: skip
    span = f"weeks starting {now[0]} to {now[-1]}"
    text = f"Revenue in {label} ({span}): {total} in total, {mean('actual', 'now')} a week"
    if not before:
        answer.text = text + ". The model has no earlier weeks to compare with."
        answer.tables.append(Table(f"Weekly means in {label} (main.mmm_decomposition)", ["component", "per week"],
                                   [[c, mean(c, "now")] for c in by_component if c not in NOT_COMPONENTS]))  # fmt: skip
        return
    against = "the same weeks a year earlier" if compare == "year" else "the period before"
    changes = {c: r["now_mean"] - r["before_mean"] for c, r in by_component.items()}

    def change(component: str) -> str:
        return f.computed(f"{component} change per week", changes[component], "signed_money",
                          by="difference of the two weekly means", column="value", row={"component": component})  # fmt: skip

    text += (f", against {mean('actual', 'before')} a week in {against} (weeks starting {before[0]} to {before[-1]}): "
             f"{change('actual')} a week.")  # fmt: skip
    movers = sorted((c for c in changes if c not in NOT_COMPONENTS), key=lambda c: -abs(changes[c]))
    text += " What moved, per week, largest first: " + ", ".join(f"{c} {change(c)}" for c in movers[:5]) + "."
    text += (f" The model's fitted revenue moved {change('fitted')} a week; the rest of the actual change is what the "
             "model does not explain.")  # fmt: skip
    answer.text = text
    answer.tables.append(
        Table(
            f"Weekly means by component: {label} vs {against} (main.mmm_decomposition)",
            ["component", f"{label} per week", "before per week", "change per week"],
            [[c, mean(c, "now"), mean(c, "before"), change(c)] for c in [*movers, "fitted", "actual"]],
        )
    )
    answer.chart = Chart("changes", {"labels": movers, "values": [changes[c] for c in movers],
                                     "xlabel": f"change in weekly revenue, {label} vs {against}"},
                         f"What drove {label}")  # fmt: skip
