"""Quoting for SQL the product builds as text (DDL, COPY targets, IN lists): the one place that escapes
a value or a name. Values that can be bound are bound as parameters instead."""

from collections.abc import Iterable


def sql_string(value: str) -> str:
    """A SQL string literal for ``value``."""
    return "'" + value.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A quoted SQL identifier (column, table or struct field name)."""
    return '"' + name.replace('"', '""') + '"'


def sql_list(values: Iterable[str | None]) -> str:
    """A SQL list literal of strings, e.g. ``['a', NULL]``."""
    return "[" + ", ".join("NULL" if v is None else sql_string(v) for v in values) + "]"


def first_row(result) -> tuple | None:
    """The first row of an executed query (None if it has none), read to its end: DuckDB 2.0 keeps a
    result read with fetchone() open, and the connection then refuses register() until it is finished."""
    rows = result.fetchall()
    return rows[0] if rows else None
