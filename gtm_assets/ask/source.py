"""Where answers come from: the latest materialized tables, read through one read-only DuckDB
connection, and the Dagster run (id and time) that wrote each of them.

Every table `gtm ask` and the executive report read is named in TABLES (and nowhere else), with
the asset that writes it, so a missing table becomes "materialize <asset>".

The run that wrote a table: by default from the table itself (its run-id column; the time from
``allocation_history.allocated_at`` when that run also allocated, as `gtm run` does). With
DAGSTER_HOME set, from the Dagster instance's latest materialization event of the asset (its run id
and timestamp), cross-checked against the table's own run id.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from gtm_assets import settings

# key -> (table, asset that writes it, column holding the Dagster run id or None)
TABLES: dict[str, tuple[str, str, str | None]] = {
    "mmm": ("main.mmm_model", "mmm_model", "fit_run_id"),
    "response_curves": ("main.mmm_response_curves", "mmm_model", "fit_run_id"),
    "decomposition": ("main.mmm_decomposition", "mmm_model", "fit_run_id"),
    "diagnostics": ("main.mmm_diagnostics", "mmm_model", "fit_run_id"),
    "forecast": ("main.forecast", "forecast", "fit_run_id"),
    "forecast_backtest": ("main.forecast_backtest", "forecast", "fit_run_id"),
    "allocations": ("main.allocations", "allocations", "run_id"),
    "allocation_history": ("main.allocation_history", "allocations", "run_id"),
    "lift_tests": ("main.mmm_lift_tests", "mmm_model", "fit_run_id"),
    "experiment_plan": ("main.experiment_plan", "experiment_plan", "run_id"),
    # the personas asset's summary table (issue 15 names its assignments table `personas`)
    "persona_summary": ("main.persona_summary", "personas", None),
    "creative_briefs": ("main.creative_briefs", "creative_briefs", None),
    "dsp_payload": ("main.dsp_payload", "dsp_payload", "dagster_run_id"),
    "payload_outbox": ("main.payload_outbox", "dsp_payload", "dagster_run_id"),
    "guarded_sessions": ("main.guarded_sessions", "guarded_sessions", None),
    "customer_ltv": ("main.customer_ltv", "customer_ltv", "fit_run_id"),
    "media_spend": ("raw.raw_media_spend", "raw_media_spend", None),
}


class AskError(RuntimeError):
    """A question that cannot be answered from the warehouse; the message says what to do."""


class NotMaterialized(AskError):
    """A table an answer needs does not exist yet."""

    def __init__(self, key: str, database: Path, reason: str = ""):
        table, asset, _ = TABLES[key]
        self.asset, self.table = asset, table
        where = reason or f"{table} is not in {database}"
        super().__init__(
            f"Nothing to answer from yet: {where}. Materialize the `{asset}` asset (and what it depends on): "
            f"`gtm run`, or select {asset} in the Dagster UI and click Materialize."
        )


@dataclass
class Materialization:
    """The Dagster run that wrote a table, and how that was found out."""

    asset: str
    table: str
    run_id: str | None
    time: str | None
    source: str
    note: str | None = None

    def to_json(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        when = f" at {self.time}" if self.time else " (time not recorded)"
        run = f"run {self.run_id}" if self.run_id else "run not recorded"
        return f"{self.table}: {run}{when} [{self.source}]" + (f"; {self.note}" if self.note else "")


class Warehouse:
    """A read-only view of the DuckDB file: rows of the named tables and who wrote them."""

    def __init__(self, database: str | os.PathLike | None = None, *, connection=None, instance=None):
        """Open ``database`` read-only on first use, or read through an open ``connection`` (an
        asset's, from the warehouse resource; not closed here). ``instance``: the Dagster instance
        to read materializations from (default: the one at DAGSTER_HOME, when set)."""
        self.database = Path(database) if database else settings.duckdb_path()
        self.dagster_home = os.environ.get("DAGSTER_HOME") or None
        self._conn = connection
        self._borrowed = connection is not None
        self._instance = instance
        self._given_instance = instance is not None
        self._existing: set[str] | None = None
        self._materializations: dict[str, Materialization] = {}

    # -- connection ------------------------------------------------------------------------------
    def connection(self, needed_key: str = "mmm"):
        if self._conn is None:
            import duckdb

            from gtm_assets.warehouse.resource import WarehouseUnavailable, open_read_only

            if not self.database.exists():
                raise NotMaterialized(needed_key, self.database, f"there is no warehouse file at {self.database}")
            try:
                self._conn = open_read_only(self.database)
            except WarehouseUnavailable as error:
                raise AskError(str(error)) from None
            except duckdb.Error as error:
                raise AskError(f"cannot open {self.database} read-only: {error}") from None
        return self._conn

    def close(self) -> None:
        if self._conn is not None and not self._borrowed:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def has(self, key: str) -> bool:
        if self._existing is None:
            rows = (
                self.connection(key).execute("SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()
            )
            self._existing = {name for (name,) in rows}
        return TABLES[key][0] in self._existing

    def table(self, key: str) -> str:
        """The table's name; NotMaterialized when it does not exist."""
        self.connection(key)
        if not self.has(key):
            raise NotMaterialized(key, self.database)
        return TABLES[key][0]

    def columns(self, key: str) -> list[str]:
        return [row[0] for row in self.connection(key).execute(f"DESCRIBE {self.table(key)}").fetchall()]

    def rows(self, key: str, sql: str, params: list | None = None) -> list[dict]:
        """Rows of ``sql`` (``{table}`` is replaced by the table's name) as dicts."""
        cursor = self.connection(key).execute(sql.format(table=self.table(key)), params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # -- provenance ------------------------------------------------------------------------------
    def materialization(self, key: str) -> Materialization:
        """The run that wrote ``key``'s table (cached per asset and table)."""
        if key not in self._materializations:
            self._materializations[key] = self._find_materialization(key)
        return self._materializations[key]

    def _table_run_id(self, key: str) -> str | None:
        table, _, column = TABLES[key]
        if column is None or column not in self.columns(key):
            return None
        ids = self.connection(key).execute(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL").fetchall()
        return ids[0][0] if len(ids) == 1 else None

    def _run_time_from_tables(self, run_id: str) -> str | None:
        if not run_id or not self.has("allocation_history"):
            return None
        (when,) = (
            self.connection()
            .execute(f"SELECT max(allocated_at) FROM {TABLES['allocation_history'][0]} WHERE run_id = ?", [run_id])
            .fetchall()[0]
        )
        return f"{when:%Y-%m-%d %H:%M:%S} UTC" if when else None

    def _instance_label(self) -> str | None:
        """Which Dagster instance materializations are read from, or None (the tables only)."""
        if self._given_instance:
            return "the Dagster instance of this run"
        return f"the Dagster instance at DAGSTER_HOME={self.dagster_home}" if self.dagster_home else None

    def _find_materialization(self, key: str) -> Materialization:
        table, asset, column = TABLES[key]
        self.table(key)
        run_id = self._table_run_id(key)
        instance = self._instance_label()
        hint = "" if instance else "; set DAGSTER_HOME to read it from the Dagster instance"
        if instance:
            found = self._from_instance(asset)
            if found is not None:
                event_run, event_time = found
                if run_id and event_run != run_id:
                    note = (
                        f"{table}.{column} is run {run_id}, not {asset}'s latest materialization in {instance} "
                        f"(run {event_run}): the table was written elsewhere or a later write failed"
                    )
                    return Materialization(asset, table, run_id, None, f"table column {table}.{column}", note)
                return Materialization(asset, table, event_run, event_time,
                                       f"{instance}: latest materialization of {asset}")  # fmt: skip
        if run_id is None:
            why = f"{table} has no run-id column" if column is None else f"{table}.{column} holds no single run"
            return Materialization(asset, table, None, None, "table", why + hint)
        time = self._run_time_from_tables(run_id)
        source = f"table column {table}.{column}"
        if time:
            return Materialization(
                asset, table, run_id, time, source + "; time from allocation_history.allocated_at of the same run"
            )
        return Materialization(asset, table, run_id, None, source, "the table records no time" + hint)

    def _from_instance(self, asset: str) -> tuple[str, str] | None:
        import dagster as dg

        if self._instance is None:
            self._instance = dg.DagsterInstance.get()  # the one at DAGSTER_HOME
        event = self._instance.get_latest_materialization_event(dg.AssetKey(asset))
        if event is None:
            return None
        return event.run_id, datetime.fromtimestamp(event.timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
