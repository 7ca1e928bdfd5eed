"""Event files into the raw zone, one file at a time, without ever stopping on bad input.

A landing event file is either the product's flat event layout (``EVENT_COLUMNS``, as the simulator
writes it) or a GA4 BigQuery export (``ga4_schema``); which one is decided by its columns. Every
outcome is recorded in ``raw.landing_files`` (one row per file name: sha256, status, counts):

* ``loaded``: its rows are in ``raw.raw_events`` (flat) or ``raw.raw_ga4_events`` (GA4), replacing
  the rows of an earlier version of the same name in one transaction; lines the reader could not
  parse (wrong column count, invalid UTF-8, unterminated quote, not a JSON object, a value that does
  not cast to the export's type) are in ``raw.rejected_lines`` with their row number and reason.
* ``duplicate``: the same bytes (sha256) are already loaded under another name; nothing is loaded.
* ``failed``: the file cannot be read at all (or its name is unsafe, or its columns fit neither
  layout); one line naming the file and reason goes to ``raw.ingest_failures`` and earlier rows of
  that name stay as they were.
* an unchanged file (same name, same sha256 as recorded) is not read again.

Row numbers: ``source_row_number`` is the 1-based data record of the file (CSV: the header is not
counted and a quoted newline stays inside its record; JSON lines: the line; JSON array: the element;
Parquet: the file row + 1). Loaded and rejected rows of a file together cover 1..records exactly.
``raw_row_id`` = ``source_file || ':' || source_row_number``, a virtual column: unique per file name and
row whatever the content, stable across runs.
"""

from __future__ import annotations

import csv
import gzip
import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from gtm_assets.landing.files import UnsafeFileName, check_landing_name, event_suffix, safe_alias, sha256_of_file
from gtm_assets.landing.ga4_schema import (
    GA4_COLUMN_TYPES,
    GA4_COLUMNS,
    GA4_JSON_STRUCTURE,
    GA4_REQUIRED_COLUMNS,
    GA4_TYPED_SCALARS,
)
from gtm_assets.landing.tables import LandingFileError
from gtm_assets.warehouse.sql import first_row, sql_string

EVENT_COLUMNS = (
    "event_id",
    "event_timestamp",
    "event_name",
    "user_pseudo_id",
    "session_id",
    "page_location",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "device",
    "country",
    "revenue",
    "email",
    "ip_address",
    "consent_analytics",
    "consent_ads",
)
RAW_TABLES = {"flat": "raw.raw_events", "ga4": "raw.raw_ga4_events"}
REJECTED_LINE_TEXT_CHARS = 2000
_LINEAGE_DDL = (
    "source_file VARCHAR NOT NULL, source_file_sha256 VARCHAR NOT NULL, source_row_number BIGINT NOT NULL, "
    "ingested_at TIMESTAMP NOT NULL, "
    "raw_row_id VARCHAR GENERATED ALWAYS AS (source_file || ':' || CAST(source_row_number AS VARCHAR)) VIRTUAL"
)
_LINEAGE_INSERT = ("source_file", "source_file_sha256", "source_row_number", "ingested_at")


@dataclass(frozen=True)
class IngestOutcome:
    """What ingesting one landing file did."""

    source_file: str
    sha256: str | None
    status: str  # loaded | duplicate | failed
    unchanged: bool = False  # the same name and sha256 were already recorded: nothing was read
    layout: str | None = None  # flat | ga4
    rows: int = 0
    rejected_lines: int = 0
    duplicate_of: str | None = None
    message: str = ""
    still_landed: bool = True  # False: the file left the landing folder; the rows ingested from it are kept

    def summary(self) -> str:
        again = " (unchanged since the last attempt)" if self.unchanged else ""
        if self.status == "failed":
            return f"{self.source_file}: not ingested{again}: {self.message}"
        if not self.still_landed:
            return f"{self.source_file}: {self.message}"
        if self.status == "duplicate":
            return f"{self.source_file}: duplicate delivery of {self.duplicate_of} (same sha256), not loaded{again}"
        return f"{self.source_file}: ingested{again}: {self.rows} rows ({self.layout} layout)" + (
            f", {self.rejected_lines} damaged lines quarantined" if self.rejected_lines else ""
        )


def ensure_landing_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the raw event tables and the ingestion record (replacing a pre-record layout)."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS raw")
    has_record = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = 'landing_files'"
    ).fetchall()[0][0]
    if not has_record:  # raw_events of an older layout (hash-prefixed raw_row_id): re-ingested from scratch
        conn.execute("DROP TABLE IF EXISTS raw.raw_events")
    flat_ddl = ", ".join(f'"{c}" VARCHAR' for c in EVENT_COLUMNS)
    ga4_ddl = ", ".join(f'"{c}" {GA4_COLUMN_TYPES[c]}' for c in GA4_COLUMNS)
    conn.execute(f"CREATE TABLE IF NOT EXISTS raw.raw_events ({flat_ddl}, {_LINEAGE_DDL})")
    conn.execute(f"CREATE TABLE IF NOT EXISTS raw.raw_ga4_events ({ga4_ddl}, {_LINEAGE_DDL})")
    conn.execute(
        """CREATE TABLE IF NOT EXISTS raw.landing_files (
            source_file VARCHAR PRIMARY KEY, sha256 VARCHAR, size_bytes BIGINT, status VARCHAR NOT NULL,
            layout VARCHAR, file_format VARCHAR, rows_loaded BIGINT NOT NULL, lines_rejected BIGINT NOT NULL,
            duplicate_of VARCHAR, message VARCHAR, ingested_at TIMESTAMP NOT NULL)"""
    )
    conn.execute(
        """CREATE TABLE IF NOT EXISTS raw.ingest_failures (
            source_file VARCHAR NOT NULL, sha256 VARCHAR, error VARCHAR NOT NULL, failed_at TIMESTAMP NOT NULL)"""
    )
    conn.execute(
        """CREATE TABLE IF NOT EXISTS raw.rejected_lines (
            source_file VARCHAR NOT NULL, source_file_sha256 VARCHAR NOT NULL, source_row_number BIGINT NOT NULL,
            error_type VARCHAR NOT NULL, message VARCHAR NOT NULL, line_text VARCHAR, rejected_at TIMESTAMP NOT NULL)"""
    )


def _one_line(error: BaseException | str) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:500]


def _open_bytes(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _csv_header(path: Path) -> list[str]:
    with _open_bytes(path) as handle:
        first = handle.readline(1 << 20)
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LandingFileError(f"header line is not UTF-8 ({error.reason} at byte {error.start})") from error
    if not text.strip():
        raise LandingFileError("empty file (no header line)")
    return next(csv.reader([text]))


def _json_shape(path: Path) -> tuple[str, list[str]]:
    """('array' | 'lines', keys of the first objects)."""
    with _open_bytes(path) as handle:
        head = handle.read(1 << 16).decode("utf-8-sig", errors="replace")
    stripped = head.lstrip()
    if not stripped:
        raise LandingFileError("empty file")
    if stripped.startswith("["):
        decoder, position = json.JSONDecoder(), stripped.index("[") + 1
        keys: list[str] = []
        try:
            while position < len(stripped) and len(keys) < 200:
                while position < len(stripped) and stripped[position] in " \t\r\n,":
                    position += 1
                item, position = decoder.raw_decode(stripped, position)
                keys += [k for k in item if k not in keys] if isinstance(item, dict) else []
        except ValueError:
            pass  # the sample ends inside an element; what was read decides the layout
        return "array", keys
    keys = []
    for line in head.splitlines()[:50]:
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            keys += [k for k in item if k not in keys]
    return "lines", keys


def _layout(columns: list[str]) -> str:
    if all(c in columns for c in GA4_REQUIRED_COLUMNS):
        return "ga4"
    if all(c in columns for c in EVENT_COLUMNS):
        return "flat"
    missing_flat = [c for c in EVENT_COLUMNS if c not in columns]
    missing_ga4 = [c for c in GA4_REQUIRED_COLUMNS if c not in columns]
    closest, missing = ("GA4 export", missing_ga4) if len(missing_ga4) < len(missing_flat) else ("flat event", missing_flat)
    raise LandingFileError(
        f"columns fit neither layout: missing required column(s) {', '.join(missing)} of the {closest} layout"
        f" (found: {', '.join(columns[:30]) or 'none'})"
    )


class _Load:
    """One file's load inside the caller's transaction: rows into the raw table, damaged lines into
    raw.rejected_lines, row numbers exact."""

    def __init__(self, conn, alias: Path, name: str, source_file: str, sha256: str, ingested_at: datetime):
        self.conn, self.alias, self.name = conn, alias, name
        self.source_file, self.sha256, self.ingested_at = source_file, sha256, ingested_at
        self.suffix = event_suffix(name) or ""
        self.tag = uuid.uuid4().hex[:12]

    # -- readers -------------------------------------------------------------------------------
    def _rejects_options(self) -> str:
        return f", store_rejects = true, rejects_table = 'gtm_rejects_{self.tag}', rejects_scan = 'gtm_reject_scans_{self.tag}'"

    def _drop(self, *tables: str) -> None:
        """Drop scratch tables; after a failed statement the transaction is aborted and its rollback
        removes them, so a refusal here must not hide the original error."""
        for table in tables:
            try:
                self.conn.execute(f"DROP TABLE IF EXISTS {table}_{self.tag}")
            except duckdb.TransactionException:
                return

    def _drop_rejects(self) -> None:
        self._drop("gtm_rejects", "gtm_reject_scans")

    def _line_reader(self, *, store_rejects: bool) -> str:
        """Each physical line as one text value (JSON lines), in file order."""
        options = self._rejects_options() if store_rejects else ", ignore_errors = true"
        return (
            f"read_csv({sql_string(str(self.alias))}, columns = {{'line': 'VARCHAR'}}, auto_detect = false, "
            f"header = false, delim = '\x01', quote = '', escape = '', strict_mode = false{options})"
        )

    def run(self) -> tuple[str, str, int, int]:
        """(layout, file_format, rows loaded, lines rejected)."""
        if self.suffix == ".parquet":
            return self._parquet()
        if self.suffix in (".csv", ".csv.gz"):
            return self._csv()
        return self._json()

    def _insert(self, layout: str, select_sql: str) -> None:
        columns = EVENT_COLUMNS if layout == "flat" else GA4_COLUMNS
        target = ", ".join(f'"{c}"' for c in columns + _LINEAGE_INSERT)
        self.conn.execute(f"INSERT INTO {RAW_TABLES[layout]} ({target}) {select_sql}")

    def _lineage_select(self, row_number: str) -> str:
        return (
            f"{sql_string(self.source_file)}, {sql_string(self.sha256)}, {row_number}, "
            f"TIMESTAMP {sql_string(self.ingested_at.isoformat(sep=' '))}"
        )

    def _count(self, layout: str) -> int:
        return self.conn.execute(
            f"SELECT count(*) FROM {RAW_TABLES[layout]} WHERE source_file = ?", [self.source_file]
        ).fetchall()[0][0]

    # -- Parquet -------------------------------------------------------------------------------
    def _parquet(self):
        reader = f"read_parquet({sql_string(str(self.alias))}, file_row_number = true)"
        present = {r[0]: r[1] for r in self.conn.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
        layout = _layout(list(present))
        if layout == "flat":
            values = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in EVENT_COLUMNS)
        else:
            values = ", ".join(
                f'CAST("{c}" AS {GA4_COLUMN_TYPES[c]})' if c in present else f"CAST(NULL AS {GA4_COLUMN_TYPES[c]})"
                for c in GA4_COLUMNS
            )
        self._insert(layout, f"SELECT {values}, {self._lineage_select('file_row_number + 1')} FROM {reader}")
        return layout, "parquet", self._count(layout), 0

    # -- CSV -----------------------------------------------------------------------------------
    def _csv(self):
        header = _csv_header(self.alias)
        layout = _layout(header)
        if layout != "flat":
            raise LandingFileError("a GA4 export cannot be CSV (nested columns): export Parquet or JSON")
        if len(set(header)) != len(header):
            raise LandingFileError(f"duplicate column names in the header: {', '.join(header)}")
        columns = "{" + ", ".join(f"{sql_string(c)}: 'VARCHAR'" for c in header) + "}"
        reader = (
            f"read_csv({sql_string(str(self.alias))}, columns = {columns}, auto_detect = false, header = true, "
            f"delim = ',', quote = '\"', escape = '\"', strict_mode = true{self._rejects_options()})"
        )
        values = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
        try:
            self._insert(layout, f"SELECT {values}, {self._lineage_select('row_number() OVER ()')} FROM {reader}")
            rejected = self._reader_rejects(RAW_TABLES[layout], first_data_line=2)
        finally:
            self._drop_rejects()
        return layout, "csv", self._count(layout), rejected

    def _collect_reader_rejects(self, *, first_data_line: int) -> int:
        """The records the reader rejected (and dropped), one row each, in ``gtm_rejected_<tag>``."""
        self.conn.execute(
            f"""
            CREATE TEMP TABLE gtm_rejected_{self.tag} AS
            SELECT line - {first_data_line - 1} AS record, string_agg(DISTINCT error_type, ', ') AS error_type,
                   arg_min(error_message, CASE error_type WHEN 'INVALID ENCODING' THEN 0 ELSE 1 END) AS message,
                   any_value(csv_line) AS line_text
            FROM gtm_rejects_{self.tag} GROUP BY line
            """
        )
        return self.conn.execute(f"SELECT count(*) FROM gtm_rejected_{self.tag}").fetchall()[0][0]

    def _gaps(self) -> str:
        """For the reader's k-th surviving row, its record is k + #{rejected r_j : r_j - j < k} (r_j
        ascending, j from 1): an ASOF join on ``k > gap`` finds that count as ``n``."""
        return (
            f"(SELECT gap, max(j) AS n FROM (SELECT record - row_number() OVER (ORDER BY record) AS gap, "
            f"row_number() OVER (ORDER BY record) AS j FROM gtm_rejected_{self.tag}) GROUP BY gap)"
        )

    def _renumber(self, table: str) -> None:
        self.conn.execute(
            f"""
            UPDATE {table} AS t SET source_row_number = t.source_row_number + shift.n
            FROM (
                SELECT k.source_row_number AS k, g.n
                FROM (SELECT source_row_number FROM {table} WHERE source_file = ?) AS k
                ASOF JOIN {self._gaps()} AS g ON k.source_row_number > g.gap
            ) AS shift
            WHERE t.source_file = ? AND t.source_row_number = shift.k
            """,
            [self.source_file, self.source_file],
        )

    def _store_reader_rejects(self) -> None:
        self.conn.execute(
            f"""
            INSERT INTO raw.rejected_lines
            SELECT ?, ?, record, error_type, message,
                   left(ltrim(line_text, chr(10) || chr(13)), {REJECTED_LINE_TEXT_CHARS}), ?
            FROM gtm_rejected_{self.tag}
            """,
            [self.source_file, self.sha256, self.ingested_at],
        )

    def _reader_rejects(self, table: str, *, first_data_line: int) -> int:
        """Record what the reader rejected and put the loaded rows on their true record numbers."""
        try:
            rejected = self._collect_reader_rejects(first_data_line=first_data_line)
            if rejected:
                self._renumber(table)
                self._store_reader_rejects()
            return rejected
        finally:
            self._drop("gtm_rejected")

    # -- JSON (lines or one array) -------------------------------------------------------------
    def _json(self):
        kind, keys = _json_shape(self.alias)
        layout = _layout(keys)
        table = RAW_TABLES[layout]
        structure = GA4_JSON_STRUCTURE if layout == "ga4" else json.dumps({c: "VARCHAR" for c in EVENT_COLUMNS})
        columns = GA4_COLUMNS if layout == "ga4" else EVENT_COLUMNS
        # A value that does not cast to its column's type becomes NULL in json_transform: the same
        # fields read as text find it.
        typed = GA4_TYPED_SCALARS if layout == "ga4" else ()
        text_structure = json.dumps({c: "VARCHAR" for c in typed})
        cast_failure = (
            (
                "list_filter(["
                + ", ".join(
                    f'CASE WHEN rec."{c}" IS NULL AND txt."{c}" IS NOT NULL THEN {sql_string(c + " = ")} || txt."{c}" END'
                    for c in typed
                )
                + "], lambda v: v IS NOT NULL)[1]"
            )
            if typed
            else "NULL"
        )

        def parsed(store_rejects: bool) -> str:
            if kind == "array":
                source = (
                    f"SELECT CAST(json AS VARCHAR) AS line, row_number() OVER () AS seq "
                    f"FROM read_json_objects({sql_string(str(self.alias))}, format = 'array')"
                )
            else:
                source = f"SELECT line, row_number() OVER () AS seq FROM {self._line_reader(store_rejects=store_rejects)}"
            text = f"try(json_transform(line, {sql_string(text_structure)}))" if typed else "NULL"
            return f"""
                SELECT seq, line, rec, CASE
                    WHEN line IS NULL OR trim(line) = '' THEN 'empty line'
                    WHEN NOT starts_with(ltrim(line), '{{') OR rec IS NULL THEN 'not a JSON object'
                    ELSE {cast_failure} END AS problem
                FROM (SELECT seq, line, try(json_transform(line, {sql_string(structure)})) AS rec, {text} AS txt
                      FROM ({source}))"""

        values = ", ".join(f'rec."{c}"' for c in columns)
        try:
            self._insert(layout, f"SELECT {values}, {self._lineage_select('seq')} FROM ({parsed(True)}) WHERE problem IS NULL")
            if kind == "lines":
                reader_rejected = self._collect_reader_rejects(first_data_line=1)
            else:
                self.conn.execute(f"CREATE TEMP TABLE gtm_rejected_{self.tag} (record BIGINT)")
                reader_rejected = 0
            if reader_rejected:
                self._renumber(table)
                self._store_reader_rejects()
            # Lines that were read but are not rows: a second pass (the reader drops the same
            # undecodable lines, so the same ASOF shift gives their true numbers).
            self.conn.execute(
                f"""
                INSERT INTO raw.rejected_lines
                SELECT ?, ?, p.seq + coalesce(g.n, 0),
                       CASE WHEN p.problem = 'empty line' THEN 'EMPTY LINE'
                            WHEN p.problem = 'not a JSON object' THEN 'INVALID JSON' ELSE 'CAST ERROR' END,
                       CASE WHEN p.problem LIKE '% = %' THEN 'value does not cast to the export type: ' || p.problem
                            ELSE p.problem END,
                       left(p.line, {REJECTED_LINE_TEXT_CHARS}), ?
                FROM (SELECT seq, line, problem FROM ({parsed(False)}) WHERE problem IS NOT NULL) AS p
                ASOF LEFT JOIN {self._gaps()} AS g ON p.seq > g.gap
                """,
                [self.source_file, self.sha256, self.ingested_at],
            )
        finally:
            self._drop("gtm_rejected")
            self._drop_rejects()
        rejected = self.conn.execute(
            "SELECT count(*) FROM raw.rejected_lines WHERE source_file = ?", [self.source_file]
        ).fetchall()[0][0]
        return layout, ("jsonl" if kind == "lines" else "json"), self._count(layout), rejected


def _record(
    conn,
    *,
    source_file,
    sha256,
    size,
    status,
    layout=None,
    file_format=None,
    rows=0,
    rejected=0,
    duplicate_of=None,
    message=None,
    at,
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO raw.landing_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [source_file, sha256, size, status, layout, file_format, rows, rejected, duplicate_of, message, at],
    )


def _delete_file_rows(conn, source_file: str) -> None:
    for table in (*RAW_TABLES.values(), "raw.rejected_lines"):
        conn.execute(f"DELETE FROM {table} WHERE source_file = ?", [source_file])


def _fail(conn, source_file: str, sha256: str | None, size: int | None, message: str, at: datetime) -> IngestOutcome:
    conn.execute("INSERT INTO raw.ingest_failures VALUES (?, ?, ?, ?)", [source_file, sha256, message, at])
    previous = first_row(conn.execute("SELECT rows_loaded, layout FROM raw.landing_files WHERE source_file = ?", [source_file]))
    _record(
        conn,
        source_file=source_file,
        sha256=sha256,
        size=size,
        status="failed",
        layout=previous[1] if previous else None,
        rows=previous[0] if previous else 0,
        message=message,
        at=at,
    )
    return IngestOutcome(source_file, sha256, "failed", message=message)


def _known_version(conn, source_file: str) -> IngestOutcome | None:
    """What the ingestion record holds for ``source_file``, as an unchanged outcome (None if never seen)."""
    known = first_row(
        conn.execute(
            "SELECT sha256, status, layout, rows_loaded, lines_rejected, duplicate_of, message "
            "FROM raw.landing_files WHERE source_file = ?",
            [source_file],
        )
    )
    if known is None:
        return None
    sha256, status, layout, rows, rejected, duplicate_of, message = known
    return IngestOutcome(source_file, sha256, status, True, layout, rows, rejected, duplicate_of, message or "")


def _vanished(conn, source_file: str, at: datetime) -> IngestOutcome:
    """A file gone from the landing folder (a retention policy, a manual delete). Policy: the warehouse
    keeps what it ingested from the file, unchanged, until a new version under the same name replaces it,
    so nothing downstream changes; a file that was never loaded fails as not found."""
    known = _known_version(conn, source_file)
    if known is None or known.status == "failed":
        return _fail(conn, source_file, None, None, "file not found", at)
    message = (
        f"file no longer in the landing folder: the {known.rows:,} rows ingested from it (sha256 "
        f"{known.sha256[:12]}) are kept until a new version under this name replaces them"
    )
    return replace(known, still_landed=False, message=message)


def ingest_event_file(
    conn: duckdb.DuckDBPyConnection,
    folder: Path,
    name: str,
    *,
    source_prefix: str = "landing/events",
    ingested_at: datetime | None = None,
) -> IngestOutcome:
    """Ingest landing file ``folder/name`` (see the module docstring); never raises for bad input."""
    at = ingested_at or datetime.now(UTC).replace(tzinfo=None)
    source_file = f"{source_prefix}/{name}"
    ensure_landing_tables(conn)
    try:
        path = check_landing_name(folder, name)
        if not path.is_file():
            return _vanished(conn, source_file, at)
        size = path.stat().st_size
        sha256 = sha256_of_file(path)
    except (UnsafeFileName, OSError) as error:
        return _fail(conn, source_file, None, None, _one_line(error), at)

    known = _known_version(conn, source_file)
    if known and known.sha256 == sha256:
        return known
    original = first_row(
        conn.execute(
            "SELECT source_file FROM raw.landing_files WHERE sha256 = ? AND status = 'loaded' AND source_file <> ? "
            "ORDER BY ingested_at, source_file LIMIT 1",
            [sha256, source_file],
        )
    )
    if original:
        conn.execute("BEGIN TRANSACTION")
        _delete_file_rows(conn, source_file)
        _record(
            conn,
            source_file=source_file,
            sha256=sha256,
            size=size,
            status="duplicate",
            duplicate_of=original[0],
            message=f"same content (sha256) as {original[0]}",
            at=at,
        )
        conn.execute("COMMIT")
        return IngestOutcome(source_file, sha256, "duplicate", duplicate_of=original[0])

    with safe_alias(path) as alias:
        conn.execute("BEGIN TRANSACTION")
        try:
            _delete_file_rows(conn, source_file)
            layout, file_format, rows, rejected = _Load(conn, alias, name, source_file, sha256, at).run()
            message = "header only, no data rows" if rows == 0 and rejected == 0 else None
            _record(
                conn,
                source_file=source_file,
                sha256=sha256,
                size=size,
                status="loaded",
                layout=layout,
                file_format=file_format,
                rows=rows,
                rejected=rejected,
                message=message,
                at=at,
            )
            conn.execute("COMMIT")
        except (duckdb.Error, LandingFileError, OSError, UnicodeError, ValueError) as error:
            conn.execute("ROLLBACK")
            return _fail(conn, source_file, sha256, size, _one_line(error).replace(str(alias), name), at)
    return IngestOutcome(source_file, sha256, "loaded", layout=layout, rows=rows, rejected_lines=rejected)
