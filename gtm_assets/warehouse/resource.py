"""The one DuckDB connection path of the product: a cross-process writer lock, the SQL macros every
model uses (keyed PII hashing and lineage ids), and the Dagster resource built on them.

DuckDB allows one read-write process per database file. Dagster's concurrency pool (see
``dagster_home/dagster.yaml``) keeps runs launched by the daemon apart; ``warehouse_lock`` also
serialises runs started outside the daemon (the ``gtm`` CLI, tests, ``dagster asset materialize``)
so a second writer waits for the file instead of failing on DuckDB's lock.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from gtm_assets import settings
from gtm_assets.warehouse.writer_runs import LivenessLock, ensure_writer_pool, fail_dead_runs, hold_liveness

_HMAC_BLOCK_SIZE = 64
# Run tag on every run that hashed with the development key (dev mode), so no one mistakes its output.
DEV_KEY_TAG = "gtm/hmac_key"
_held_locks: dict[str, tuple[int, int]] = {}
_held_locks_guard = threading.RLock()


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """RFC 2104 inner and outer pads for HMAC-SHA256 with ``key``."""
    import hashlib

    if len(key) > _HMAC_BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_HMAC_BLOCK_SIZE, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


# HMAC-SHA256 in SQL: sha256(opad || sha256(ipad || message)). Text becomes UTF-8 bytes with
# encode(); a plain ::BLOB cast would mangle non-ASCII text and backslash sequences.
PII_HMAC_MACRO = (
    "CREATE OR REPLACE TEMP MACRO pii_hmac(v) AS CASE WHEN v IS NULL THEN NULL ELSE "
    "sha256(getvariable('gtm_hmac_opad') || unhex(sha256(getvariable('gtm_hmac_ipad') || encode(v)))) END"
)


# Lineage ids: a keyed HMAC (the PII key) over a kind tag and the row's natural key, cut to 128 bits,
# identical for dbt models and Python assets because both call this macro. Without the key an id
# cannot be recomputed from raw identifiers (an unkeyed md5 of user and session ids could), and the
# 'lineage|' prefix keeps lineage ids apart from the PII digests made with the same key.
LINEAGE_MACRO = (
    "CREATE OR REPLACE TEMP MACRO lineage_id(kind, natural_key) AS left(pii_hmac('lineage|' || kind || '|' || natural_key), 32)"
)


def prepare_connection(conn: duckdb.DuckDBPyConnection) -> None:
    """Install the session-scoped macros; the key lives only in this connection's variables."""
    inner, outer = hmac_pads(settings.hmac_key())
    conn.execute("SET VARIABLE gtm_hmac_ipad = unhex(?)", [inner.hex()])
    conn.execute("SET VARIABLE gtm_hmac_opad = unhex(?)", [outer.hex()])
    conn.execute(PII_HMAC_MACRO)
    conn.execute(LINEAGE_MACRO)


@contextmanager
def warehouse_lock(database: str | Path) -> Iterator[None]:
    """Exclusive, re-entrant (within this process) lock on ``<database>.lock``."""
    lock_path = str(Path(database).resolve()) + ".lock"
    with _held_locks_guard:
        if lock_path in _held_locks:
            fd, depth = _held_locks[lock_path]
            _held_locks[lock_path] = (fd, depth + 1)
            acquired_here = False
        else:
            acquired_here = True
    if acquired_here:
        Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocks until the other writer is done
        with _held_locks_guard:
            _held_locks[lock_path] = (fd, 1)
    try:
        yield
    finally:
        with _held_locks_guard:
            fd, depth = _held_locks[lock_path]
            if depth > 1:
                _held_locks[lock_path] = (fd, depth - 1)
            else:
                del _held_locks[lock_path]
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)


def connect_when_free(database: str, config: dict) -> duckdb.DuckDBPyConnection:
    """A read-write connection, waiting up to 2 minutes while another process has the file open."""
    deadline = time.monotonic() + 120
    while True:
        try:
            return duckdb.connect(database, config=config)
        except duckdb.IOException:
            # Another process that does not use warehouse_lock (e.g. a DuckDB shell) holds the file.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


class WarehouseUnavailable(RuntimeError):
    """The warehouse file cannot be read now (missing, or held by a writer); the message is one line."""


def open_read_only(database: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection for commands that only read (never takes the writer lock); the caller
    closes it.

    DuckDB lets no other process open a file that a writer holds: a reader waits up to
    GTM_READ_WAIT_SECONDS (10) for the writer's current step to let go (steps hold the file for one
    transaction), then raises WarehouseUnavailable saying so in one line instead of failing on the
    lock. Waiting never blocks the writer. (The dbt build writes a staged copy, so readers keep reading
    the file while dbt runs.)"""
    path = Path(database or settings.duckdb_path())
    if not path.exists():
        raise WarehouseUnavailable(f"{path}: no warehouse yet; run `gtm run` (or materialize the graph in Dagster) first")
    wait = settings.read_wait_seconds()
    deadline = time.monotonic() + wait
    while True:
        try:
            # No config at connect: a read-only connection already open in this process (a notebook, a test)
            # would refuse another configuration; the memory cap is a setting of the open database.
            conn = duckdb.connect(str(path), read_only=True)
            break
        except duckdb.IOException as error:
            if time.monotonic() < deadline:
                time.sleep(0.25)
                continue
            holder = str(error).split("(PID ")[-1].split(")")[0] if "PID" in str(error) else "another process"
            raise WarehouseUnavailable(
                f"{path} is being written right now (writer PID {holder}, waited {wait:g} s); read commands "
                "never block a run, so try again when its current step finishes"
            ) from None
    conn.execute("SET memory_limit = ?", [settings.duckdb_memory_limit()])
    return conn


@contextmanager
def read_only_connection(database: str | Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """``open_read_only`` as a context manager."""
    conn = open_read_only(database)
    try:
        yield conn
    finally:
        conn.close()


class DuckDBWarehouse(DuckDBResource):
    """The embedded DuckDB warehouse: one file, one writer at a time, macros pre-installed."""

    _liveness: LivenessLock | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Before a run writes: check the PII key (tagging the run when it is the development key), make
        the instance's one-writer pool effective, fail the runs whose process died (they would hold the
        pool forever) and mark this run alive (gtm_assets.warehouse.writer_runs)."""
        settings.hmac_key()  # outside dev mode a missing key fails the run here, before anything is written
        instance, run_id = context.instance, context.run_id
        if instance is None or run_id is None:
            return
        if settings.uses_development_key():
            instance.add_run_tags(run_id, {DEV_KEY_TAG: "development"})
            if context.log:
                context.log.warning("PII is hashed with the public development key (dev mode): set GTM_HMAC_KEY for real data")
        changed = ensure_writer_pool(instance)
        if changed and context.log:
            context.log.info(changed)
        for dead in fail_dead_runs(instance, self.database):
            if context.log:
                context.log.warning(f"run {dead} died without reporting its end: marked failed, its pool slot freed")
        self._liveness = hold_liveness(self.database, run_id)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._liveness is not None:
            self._liveness.release()
            self._liveness = None

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        config = {
            "preserve_insertion_order": True,  # row_number() OVER () = line order of a file
            "memory_limit": settings.duckdb_memory_limit(),
            **self.connection_config,
        }
        with warehouse_lock(self.database):
            conn = connect_when_free(self.database, config)
            try:
                prepare_connection(conn)
                yield conn
            finally:
                conn.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction: an asset's tables change together or not at all.

        COMMIT when the block ends, ROLLBACK when it raises; a process killed inside the block
        (SIGKILL, OOM, power loss) leaves nothing of it, because DuckDB writes a transaction to its
        log only at COMMIT. Assets that write several tables (or read what they just wrote) use this."""
        with self.get_connection() as conn:
            conn.execute("BEGIN TRANSACTION")
            try:
                yield conn
            except BaseException:
                with suppress(duckdb.Error):  # the original error is the one to report
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
