"""JSON that strict parsers accept: NaN and ±Infinity become null.

Python's json module writes NaN and Infinity by default; RFC 8259 has no such tokens and strict
parsers (JavaScript's JSON.parse, Go's encoding/json, jq) reject the whole document. Every JSON
document the product writes for someone else (command output, payloads, reports, asset metadata)
goes through ``dumps`` or ``clean``. (No NumPy or pandas import here: the commands stay quick to start.)
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

MISSING_TYPES = ("NaTType", "NAType")  # pandas' missing-value scalars


def clean(value: Any) -> Any:
    """``value`` with NaN/±Infinity (Python or NumPy floats, pandas' NA and NaT) replaced by None and
    NumPy scalars and arrays turned into Python ones, recursively through dicts, lists and tuples."""
    if isinstance(value, dict):
        return {key: clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean(item) for item in value]
    if type(value).__name__ in MISSING_TYPES:
        return None
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return clean(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def dumps(value: Any, **kwargs) -> str:
    """``json.dumps`` of ``clean(value)``, refusing anything that is still not strict JSON."""
    return json.dumps(clean(value), allow_nan=False, **kwargs)
