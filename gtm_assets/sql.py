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
