"""Landing files as files: content hashes, which names are safe to ingest, and the temporary safe
alias through which DuckDB reads a file whatever characters its name holds."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

EVENT_FILE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz")
# Characters Dagster refuses in a partition key, and control characters no file name needs.
_FORBIDDEN = {"/", "\\", "\0"} | {chr(c) for c in range(32)} | {chr(127)}


class UnsafeFileName(ValueError):
    """A landing file name that must not be ingested (it could escape the folder or is unusable)."""


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def event_suffix(name: str) -> str | None:
    """The recognised suffix of an event file name (longest match), or None."""
    matches = [s for s in EVENT_FILE_SUFFIXES if name.lower().endswith(s)]
    return max(matches, key=len) if matches else None


def is_event_file(path: Path) -> bool:
    """A regular, non-hidden file with an event file suffix (markers such as ``x.done`` are not)."""
    return path.is_file() and not path.name.startswith(".") and event_suffix(path.name) is not None


def check_landing_name(folder: Path, name: str) -> Path:
    """The path of ``name`` inside ``folder``; raises ``UnsafeFileName`` for a name that is not one
    plain entry of the folder (path separators, '..', control characters, a link leading outside).

    Quotes, glob characters and spaces are allowed: SQL only ever sees a quoted alias, never the name."""
    if not name or name in (".", "..") or any(ch in _FORBIDDEN for ch in name) or "..." in name:
        raise UnsafeFileName(f"{name!r}: not a plain file name (path separators, '..', '...' or control characters)")
    path = folder / name
    try:
        inside = path.resolve().parent == folder.resolve()
    except OSError as error:
        raise UnsafeFileName(f"{name!r}: cannot be resolved: {error}") from error
    if not inside:
        raise UnsafeFileName(f"{name!r}: resolves outside {folder}")
    return path


@contextmanager
def safe_alias(path: Path) -> Iterator[Path]:
    """A symlink to ``path`` named ``landing<suffix>`` in a private temporary folder: DuckDB expands
    globs and parses quotes in paths, so it is only ever given this name."""
    suffix = event_suffix(path.name) or path.suffix
    with tempfile.TemporaryDirectory(prefix="gtm-landing-") as folder:
        alias = Path(folder) / f"landing{suffix}"
        os.symlink(path.resolve(), alias)
        yield alias
