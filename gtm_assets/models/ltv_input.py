"""A user's own transaction log for the LTV model: read, checked row by row, bad rows quarantined.

Rows are numbered from 1 after the header line. A row is quarantined (kept out of the fit, with its row,
column and reason) when its customer id is empty, its date does not parse or lies after the as-of day,
its value is not a number or is negative (a refund or a correction: it is not netted against a purchase
it cannot be linked to), or it repeats an earlier row (the same transaction id when one is given,
otherwise the same customer, date and value). Kept and quarantined rows add up to the file's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


class LtvInputError(ValueError):
    """The file cannot be used at all (unreadable, a named column missing, no usable row)."""


@dataclass
class TransactionLog:
    transactions: pd.DataFrame  # customer, date, value, row
    quarantined: pd.DataFrame  # row, column, value, reason
    rows: int


def _quarantine(frame: pd.DataFrame, mask: pd.Series, column: str, reason: str, out: list) -> pd.DataFrame:
    bad = frame[mask]
    out += [{"row": int(r), "column": column, "value": str(v), "reason": reason} for r, v in zip(bad["row"], bad[column])]
    return frame[~mask]


def read_transactions(
    path: str, *, customer_col: str, date_col: str, value_col: str, id_col: str | None = None, as_of: pd.Timestamp | None = None
) -> TransactionLog:
    """The usable transactions of a CSV and the quarantined rows (see the module docstring)."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as error:
        raise LtvInputError(f"{path}: cannot read the file: {error}") from error
    wanted = [c for c in (customer_col, date_col, value_col, id_col) if c]
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise LtvInputError(f"{path}: no column {', '.join(missing)} (columns: {', '.join(raw.columns)})")
    frame = raw[wanted].copy()
    frame.insert(0, "row", range(1, len(frame) + 1))
    as_of = (as_of or pd.Timestamp.now()).normalize()
    quarantined: list[dict] = []
    frame = _quarantine(frame, frame[customer_col].str.strip() == "", customer_col, "missing customer id", quarantined)
    dates = pd.to_datetime(frame[date_col].str.strip(), errors="coerce", format="mixed")
    frame = _quarantine(frame, dates.isna(), date_col, "unparseable date", quarantined)
    dates = dates[frame.index]
    frame = _quarantine(frame, dates.dt.normalize() > as_of, date_col, f"date after {as_of.date()} (in the future)", quarantined)
    values = pd.to_numeric(frame[value_col].str.strip(), errors="coerce")
    frame = _quarantine(frame, values.isna(), value_col, "value is not a number", quarantined)
    values = values[frame.index]
    frame = _quarantine(frame, values < 0, value_col, "negative value (refund or correction, not netted)", quarantined)
    keys = [id_col] if id_col else [customer_col, date_col, value_col]
    repeated = frame.duplicated(subset=keys, keep="first")
    first_rows = frame.drop_duplicates(subset=keys).set_index(keys)["row"]
    for index in frame.index[repeated]:
        original = first_rows.loc[tuple(frame.loc[index, keys])] if len(keys) > 1 else first_rows.loc[frame.loc[index, keys[0]]]
        quarantined.append(
            {"row": int(frame.loc[index, "row"]), "column": keys[0], "value": str(frame.loc[index, keys[0]]),
             "reason": f"duplicate transaction of row {int(original)}"}
        )  # fmt: skip
    frame = frame[~repeated]
    transactions = pd.DataFrame(
        {
            "customer": frame[customer_col].str.strip(),
            "date": pd.to_datetime(frame[date_col].str.strip(), format="mixed"),
            "value": pd.to_numeric(frame[value_col].str.strip()),
            "row": frame["row"],
        }
    ).reset_index(drop=True)
    if transactions.empty:
        raise LtvInputError(f"{path}: no usable transaction ({len(quarantined)} rows quarantined)")
    quarantine = pd.DataFrame(quarantined, columns=["row", "column", "value", "reason"]).sort_values("row", ignore_index=True)
    return TransactionLog(transactions, quarantine, rows=len(raw))
