"""Periods in a question ("Q4", "last month", "November 2025", "the next two weeks") as normalized
period objects, and their resolution to dates against the data (never against the wall clock:
"last month" is the last complete month the warehouse has).

Period objects (the ``periods`` entity), one of:
    {"kind": "quarter", "quarter": 1..4, "year": int | None}
    {"kind": "month", "month": 1..12, "year": int | None}
    {"kind": "year", "year": int}
    {"kind": "previous", "unit": "week" | "month" | "quarter" | "year", "count": 1}   last month
    {"kind": "trailing", "unit": "day" | "week" | "month" | ..., "count": n}        last 8 weeks
    {"kind": "this", "unit": "week" | "month" | "quarter" | "year"}                  this quarter, YTD
    {"kind": "next", "unit": "day" | "week" | "month", "count": n}                  next two weeks
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": None}
_YEAR = r"(?:\s*(?:of\s+|in\s+)?'?(20\d{2}|\d{2})\b)?"
_QUARTER = re.compile(rf"\bq([1-4])\b{_YEAR}")
_QUARTER_WORDS = re.compile(rf"\b(first|1st|second|2nd|third|3rd|fourth|4th)[\s-]+quarter\b{_YEAR}")
_MONTH = re.compile(r"\b(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b(?:\s+(?:of\s+)?(20\d{2}))?")
_PAST = re.compile(r"\b(?:last|past|previous|prior|preceding)\s+(?:(\d+)\s+)?(day|week|month|quarter|year)s?\b")
_THIS = re.compile(r"\b(?:this|current)\s+(week|month|quarter|year)\b|\b(year[\s-]to[\s-]date|ytd)\b")
_NEXT = re.compile(r"\b(?:next|coming|upcoming|following)\s+(?:(\d+)\s+)?(day|week|month|fortnight)s?\b")
_TOMORROW = re.compile(r"\btomorrow\b")
_YEAR_ALONE = re.compile(r"\b(20\d{2})\b")
# "vs last year", "year over year": a comparison, not a period of its own.
COMPARE_YEAR = re.compile(
    r"\b(?:vs\.?|versus|compared\s+(?:to|with)|against|than)\s+(?:the\s+)?(?:same\s+\w+\s+)?(?:last|previous|prior)\s+year\b"
    r"|\byear[\s-](?:over|on)[\s-]year\b|\byoy\b|\ba\s+year\s+(?:ago|earlier)\b"
)


def _year(text: str | None) -> int | None:
    if not text:
        return None
    value = int(text)
    return value + 2000 if value < 100 else value


def extract(text: str) -> tuple[list[dict], str | None, str]:
    """(periods in order of mention, "year" when a year-over-year comparison is asked for else None,
    the text with the matched periods blanked so their numbers are not read as amounts)."""
    found: list[tuple[int, dict]] = []
    compare = None

    def take(match: re.Match, period: dict | None) -> str:
        if period is not None:
            found.append((match.start(), period))
        return " " * (match.end() - match.start())

    def blank(pattern: re.Pattern, make) -> None:
        nonlocal text
        text = pattern.sub(lambda m: take(m, make(m)), text)

    if COMPARE_YEAR.search(text):
        compare = "year"
        blank(COMPARE_YEAR, lambda m: None)
    blank(_QUARTER, lambda m: {"kind": "quarter", "quarter": int(m.group(1)), "year": _year(m.group(2))})
    blank(_QUARTER_WORDS, lambda m: {"kind": "quarter", "quarter": ORDINALS[m.group(1)], "year": _year(m.group(2))})
    blank(_NEXT, _next)
    blank(_TOMORROW, lambda m: {"kind": "next", "unit": "day", "count": 1})
    blank(
        _PAST,
        lambda m: (
            {"kind": "trailing", "unit": m.group(2), "count": int(m.group(1))}
            if m.group(1)
            else {"kind": "previous", "unit": m.group(2), "count": 1}
        ),
    )
    blank(_THIS, lambda m: {"kind": "this", "unit": m.group(1) or "year"})
    blank(_MONTH, _month)
    blank(_YEAR_ALONE, lambda m: {"kind": "year", "year": int(m.group(1))})
    return [period for _, period in sorted(found, key=lambda item: item[0])], compare, text


def _next(match: re.Match) -> dict:
    count = int(match.group(1) or 1)
    unit = match.group(2)
    if unit == "fortnight":
        return {"kind": "next", "unit": "week", "count": 2 * count}
    return {"kind": "next", "unit": unit, "count": count}


def _month(match: re.Match) -> dict | None:
    name, year = match.group(1), match.group(2)
    if name == "may" and not year:  # "may" is also a verb: only with a year ("May 2025")
        return None
    if name in {"mar", "jun", "jan", "dec", "oct", "nov", "aug", "sep", "feb", "apr", "jul"} and not year:
        # bare three-letter abbreviations only count when they stand alone as a month
        prefix = match.string[max(0, match.start() - 7) : match.start()]
        if not re.search(r"\b(?:in|during|of|for|since)\s*$", prefix):
            return None
    return {"kind": "month", "month": MONTHS[name], "year": _year(year)}


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def resolve(period: dict, first: date, last: date) -> tuple[date, date, str]:
    """(start, end inclusive, label) of a past period, against data that runs from ``first`` to
    ``last``. A quarter, month or year without a year is the latest one the data reaches; "last
    month" is the last calendar month that ends on or before ``last``."""
    kind = period["kind"]
    if kind == "quarter":
        quarter, year = period["quarter"], period.get("year")
        if year is None:
            year = last.year if date(last.year, 3 * quarter - 2, 1) <= last else last.year - 1
        start = date(year, 3 * quarter - 2, 1)
        return start, _add_months(start, 3) - timedelta(days=1), f"Q{quarter} {year}"
    if kind == "month":
        month, year = period["month"], period.get("year")
        if year is None:
            year = last.year if date(last.year, month, 1) <= last else last.year - 1
        start = date(year, month, 1)
        return start, _add_months(start, 1) - timedelta(days=1), f"{calendar.month_name[month]} {year}"
    if kind == "year":
        return date(period["year"], 1, 1), date(period["year"], 12, 31), str(period["year"])
    unit, count = period.get("unit"), int(period.get("count") or 1)
    if kind == "this":
        start = {"week": last - timedelta(days=last.weekday()), "month": last.replace(day=1),
                 "quarter": _quarter_start(last), "year": date(last.year, 1, 1)}[unit]  # fmt: skip
        return start, last, f"this {unit} to date"
    if kind == "previous":
        if unit == "week":
            end = last - timedelta(days=last.weekday() + 1) if last.weekday() != 6 else last
            return end - timedelta(days=6), end, f"the week of {end - timedelta(days=6)}"
        step = {"month": 1, "quarter": 3, "year": 12}[unit]
        current = {"month": last.replace(day=1), "quarter": _quarter_start(last), "year": date(last.year, 1, 1)}[unit]
        end = last if _add_months(current, step) - timedelta(days=1) == last else current - timedelta(days=1)
        start = _add_months(end.replace(day=1), 1 - step)
        label = {"month": f"{calendar.month_name[start.month]} {start.year}", "quarter": f"Q{(start.month + 2) // 3} {start.year}",
                 "year": str(start.year)}[unit]  # fmt: skip
        return start, end, label
    if kind == "trailing":
        days = {"day": 1, "week": 7, "month": 30, "quarter": 91, "year": 365}[unit] * count
        start = last - timedelta(days=days - 1)
        return start, last, f"the last {count} {unit}{'s' if count > 1 else ''}"
    raise ValueError(f"not a past period: {period}")


def horizon_days(period: dict) -> int:
    """Days ahead asked for by a "next" period."""
    return {"day": 1, "week": 7, "month": 30}[period["unit"]] * int(period.get("count") or 1)


def shift(start: date, end: date, compare: str | None) -> tuple[date, date]:
    """The period to compare with: the same dates a year earlier, or the equally long period just before."""
    if compare == "year":
        return _year_earlier(start), _year_earlier(end)
    length = end - start
    return start - length - timedelta(days=1), start - timedelta(days=1)


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)
