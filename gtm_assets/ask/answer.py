"""An answer and the provenance of every number in it.

Answer text and table cells never format a bare float: each figure goes through ``Facts``, which
records the value as read (with the table, column and row it came from, or the function that
computed it from table values) and returns the string shown. So ``--json`` can list every number
with its origin, and a test can check each against the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FORMATS = {
    "money": "{:,.0f}",
    "money2": "{:,.2f}",
    "signed_money": "{:+,.0f}",
    "signed_money2": "{:+,.2f}",
    "ratio": "{:.2f}",
    "count": "{:,.0f}",
    "percent": "{:.1f}%",  # a value already in percent (saturation_pct)
    "signed_percent": "{:+.1f}%",
}


def display(value: float, kind: str) -> str:
    """``value`` as shown to people; ``share`` kinds are fractions shown as percentages."""
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "signed_share":
        return f"{100 * value:+.1f}%"
    return FORMATS[kind].format(value)


@dataclass
class Number:
    """One figure of an answer: its value, how it is shown, and where it came from."""

    label: str
    value: float
    display: str
    column: str
    row: dict
    table: str | None = None
    lineage_id: str | None = None
    aggregate: str | None = None  # "sum" / "mean" over the rows matched by ``row``
    computed_by: str | None = None  # the function that computed it from table values

    def to_json(self) -> dict:
        data = {"label": self.label, "value": self.value, "display": self.display, "table": self.table,
                "column": self.column, "row": self.row}  # fmt: skip
        for key in ("lineage_id", "aggregate", "computed_by"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


class Facts:
    """Collects the numbers of one answer; each method returns the string to show."""

    def __init__(self) -> None:
        self.numbers: list[Number] = []

    def _add(self, number: Number) -> str:
        if all(n.to_json() != number.to_json() for n in self.numbers):
            self.numbers.append(number)
        return number.display

    def get(self, label: str) -> Number:
        """The number recorded under ``label`` (KeyError when there is none)."""
        for number in self.numbers:
            if number.label == label:
                return number
        raise KeyError(label)

    def merge(self, other: Facts) -> None:
        for number in other.numbers:
            self._add(number)

    def cell(self, label: str, value, kind: str, *, table: str, column: str, row: dict, lineage_id: str | None = None) -> str:
        """A value read from one row of a table."""
        return self._add(Number(label, float(value), display(float(value), kind), column, row, table, lineage_id))

    def aggregate(self, label: str, value, kind: str, *, table: str, column: str, rows: dict, how: str) -> str:
        """A sum or mean (``how``) of a column over the rows matched by ``rows``."""
        return self._add(Number(label, float(value), display(float(value), kind), column, rows, table, aggregate=how))

    def computed(self, label: str, value, kind: str, *, by: str, column: str, row: dict) -> str:
        """A value computed by ``by`` (e.g. the what-if function) from table values."""
        return self._add(Number(label, float(value), display(float(value), kind), column, row, computed_by=by))


@dataclass
class Table:
    """A table of an answer, with every cell already a display string."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    verbatim: bool = False  # cells are text copied as-is from a table (e.g. a creative brief)

    def to_json(self) -> dict:
        return {"title": self.title, "columns": self.columns, "rows": self.rows, "verbatim": self.verbatim}


@dataclass
class Chart:
    """What to draw (``kind`` names a function of gtm_assets.ask.charts) and the data, all from tables."""

    kind: str
    data: dict
    title: str


@dataclass
class Answer:
    """The answer to one question."""

    question: str
    intent: str
    entities: dict
    text: str
    facts: Facts = field(default_factory=Facts)
    tables: list[Table] = field(default_factory=list)
    chart: Chart | None = None
    chart_path: str | None = None
    materializations: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    parser: str = "rules"
    parser_fallback_reason: str | None = None

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "intent": self.intent,
            "entities": self.entities,
            "parser": self.parser,
            "parser_fallback_reason": self.parser_fallback_reason,
            "answer": self.text,
            "notes": self.notes,
            "numbers": [n.to_json() for n in self.facts.numbers],
            "tables": [t.to_json() for t in self.tables],
            "chart": self.chart_path,
            "materialization": [m.to_json() for m in self.materializations],
        }
