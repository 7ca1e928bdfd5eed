"""Answers about personas and cohorts, from the personas asset's summary (main.persona_summary) and
the creative briefs (main.creative_briefs).

The customer table records one response (accepted the last campaign) and purchases by where they
were made (web, catalog, store, deals), not a response per media channel. So "which persona responds
best to email" ranks the segments whose brief recommends e-mail by that response rate, and says so.
"""

from __future__ import annotations

from gtm_assets.ask.answer import Answer, Chart, Table
from gtm_assets.ask.source import TABLES, AskError, Warehouse

UNASSIGNED = "Unassigned"
PURCHASE_COLUMNS = {"web": "mean_web_purchases", "catalog": "mean_catalog_purchases", "store": "mean_store_purchases",
                    "deals": "mean_deals_purchases"}  # fmt: skip
SHOWN = 3


def segments(wh: Warehouse) -> list[dict]:
    """Every cohort x persona row of the summary except the unassigned customers."""
    rows = wh.rows("persona_summary", "SELECT * FROM {table} WHERE cohort <> ? ORDER BY response_rate DESC, cohort, persona",
                   [UNASSIGNED])  # fmt: skip
    if not rows:
        raise AskError(f"{TABLES['persona_summary'][0]} is empty: materialize `personas`")
    return rows


def briefs(wh: Warehouse) -> dict[tuple[str, str], dict]:
    """The persona briefs by (cohort, persona); empty when creative_briefs is not materialized."""
    if not wh.has("creative_briefs"):
        return {}
    rows = wh.rows("creative_briefs", "SELECT * FROM {table} WHERE segment_type = 'persona'")
    return {(r["cohort"], r["persona"]): r for r in rows}


def _figures(answer: Answer, row: dict, *columns: tuple[str, str]) -> dict[str, str]:
    table = TABLES["persona_summary"][0]
    where = {"cohort": row["cohort"], "persona": row["persona"]}
    return {column: answer.facts.cell(f"{column} {row['cohort']} {row['persona']}", row[column], kind, table=table,
                                      column=column, row=where, lineage_id=row["lineage_id"])
            for column, kind in columns}  # fmt: skip


def _describe(answer: Answer, row: dict, key: str, key_kind: str) -> str:
    figures = _figures(answer, row, (key, key_kind), ("customers", "count"), ("responders", "count"))
    extra = (
        "" if key == "response_rate" else f", response rate {_figures(answer, row, ('response_rate', 'share'))['response_rate']}"
    )
    return (f"{row['cohort']} {row['persona']} {figures[key]} ({figures['customers']} customers, "
            f"{figures['responders']} responders{extra})")  # fmt: skip


def persona(wh: Warehouse, answer: Answer, *, shown: int | None = SHOWN) -> None:
    """Rank or describe segments: by response rate among those whose brief recommends a media channel,
    by purchases where a purchase channel is named, or the personas and cohorts asked about (the top
    ``shown`` of a ranking; None: all)."""
    rows = segments(wh)
    answer.materializations.append(wh.materialization("persona_summary"))
    by_segment = briefs(wh)
    if by_segment:
        answer.materializations.append(wh.materialization("creative_briefs"))
    entities = answer.entities
    personas, cohorts = entities.get("personas") or [], entities.get("cohorts") or []
    chosen = [r for r in rows if (not personas or r["persona"] in personas) and (not cohorts or r["cohort"] in cohorts)]
    if (personas or cohorts) and not chosen:
        raise AskError(f"no segment matches {', '.join(personas + cohorts)}; segments: "
                       + ", ".join(f"{r['cohort']} {r['persona']}" for r in rows))  # fmt: skip
    key, key_kind, key_label = "response_rate", "share", "response rate (share who accepted the last campaign)"
    purchase = entities.get("purchase_channels") or []
    channel = (entities.get("channels") or [None])[0]
    if purchase:
        key, key_kind = PURCHASE_COLUMNS[purchase[0]], "ratio"
        key_label = f"mean {purchase[0]} purchases per customer (two years)"
        chosen = sorted(chosen, key=lambda r: -r[key])
    intro = f"Segments ranked by {key_label}"
    if channel and not purchase:
        recommending = [r for r in chosen if channel.lower() in [c.lower() for c in _channels(by_segment, r)]]
        if recommending:
            intro = (f"The customer data records one campaign response, not a response per channel; among the segments "
                     f"whose brief recommends {channel}, ranked by {key_label}")  # fmt: skip
            chosen = recommending
        else:
            intro = f"No brief recommends {channel}; all segments ranked by {key_label}"
    if personas or cohorts:
        intro = f"{', '.join(personas + cohorts)}: {key_label}"
    top = chosen if personas or cohorts else chosen[:shown]
    text = f"{intro}: " + "; ".join(_describe(answer, r, key, key_kind) for r in top) + "."
    best = top[0]
    brief = by_segment.get((best["cohort"], best["persona"]))
    if brief:
        text += (f" Brief for {best['cohort']} {best['persona']}: responds to {brief['responds_to']}; tone {brief['tone']}, "
                 f"offer {brief['offer_type']}, channels {', '.join(_channels(by_segment, best))}.")  # fmt: skip
    answer.text = text
    columns = (("customers", "count"), ("share", "share"), ("response_rate", "share"), ("mean_spend", "money"),
               ("mean_income", "money"), (key, key_kind))  # fmt: skip
    columns = tuple(dict(columns).items())
    answer.tables.append(Table("Segments (main.persona_summary)", ["cohort", "persona", *[c for c, _ in columns]],
                               [[r["cohort"], r["persona"], *_figures(answer, r, *columns).values()] for r in top]))  # fmt: skip
    shown_briefs = [by_segment[(r["cohort"], r["persona"])] for r in top if (r["cohort"], r["persona"]) in by_segment]
    if shown_briefs:
        answer.tables.append(Table("Briefs (main.creative_briefs)", ["segment", "responds to", "tone", "offer", "channels", "do", "don't"], [
            [b["segment_name"], b["responds_to"], b["tone"], b["offer_type"], ", ".join(_list(b["channels"])),
             "; ".join(_list(b["do_list"])), "; ".join(_list(b["dont_list"]))] for b in shown_briefs
        ], verbatim=True))  # fmt: skip
    answer.chart = Chart("bars", {"labels": [f"{r['cohort']} {r['persona']}" for r in rows],
                                  "values": [r[key] for r in rows],
                                  "highlight": [f"{r['cohort']} {r['persona']}" for r in top],
                                  "segments": [(r["cohort"], r["persona"]) for r in top],
                                  "xlabel": key_label, "share": key_kind == "share"},
                         f"Segments by {key_label}")  # fmt: skip


def _list(value) -> list[str]:
    return [str(v) for v in (value if value is not None else [])]


def _channels(by_segment: dict, row: dict) -> list[str]:
    brief = by_segment.get((row["cohort"], row["persona"]))
    return _list(brief["channels"]) if brief else []
