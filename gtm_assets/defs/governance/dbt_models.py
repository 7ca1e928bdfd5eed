"""The dbt project in dbt_like_sql/ as assets: governance (guarded_sessions and its accounting
tables) and features. dbt tests become asset checks (error severity blocks downstream), model
checksums become code versions, and every model's materialization gets the standard metadata."""

import fcntl
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from gtm_assets import settings
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.transform.column_lineage import column_lineage_metadata
from gtm_assets.transform.project import dbt_project, keep_partial_parse, prepare_if_dev, staging_path
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse, connect_when_free, warehouse_lock
from gtm_assets.warehouse.sql import sql_identifier

# `dagster dev` builds a missing or stale manifest itself; everything else calls dbt_project.prepare() first.
prepare_if_dev()


class GtmDbtTranslator(DagsterDbtTranslator):
    """Asset keys are bare model/source names, so dbt sources meet the Python ingestion assets."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        declared = dbt_resource_props.get("meta", {}).get("dagster", {}).get("asset_key")
        return dg.AssetKey(declared) if declared else dg.AssetKey(dbt_resource_props["name"])

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        """Governance and features run once after new raw data, whatever started the ingestion
        (the sensor, `gtm run`, a partition re-ingested from the UI): eager waits while upstream
        runs are in progress, so a batch of files is governed once."""
        if dbt_resource_props["resource_type"] == "source":
            return None
        return dg.AutomationCondition.eager()

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "ingest"
        return dbt_resource_props["fqn"][1]  # the folder under models/: governance, features

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return [OWNER]

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project) -> dg.AssetCheckSpec | None:
        """A dbt test as an asset check, described in words (the test's own description when it has one)."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=dbt_test_description(manifest["nodes"][unique_id]))


def dbt_test_description(test: Mapping[str, Any]) -> str:
    """What a generic dbt test asserts, from its name and arguments."""
    if test.get("description"):
        return test["description"]
    meta = test.get("test_metadata") or {}
    kwargs = meta.get("kwargs", {})
    column = kwargs.get("column_name", "")
    kind = meta.get("name", test.get("name", "test"))
    if kind == "not_null":
        return f"dbt test: {column} is never null."
    if kind == "unique":
        return f"dbt test: {column} is unique (no two rows share a value)."
    if kind == "accepted_values":
        return f"dbt test: {column} takes only the values {', '.join(map(str, kwargs.get('values', [])))}."
    if kind == "relationships":
        return f"dbt test: every {column} exists in {kwargs.get('to', '')}.{kwargs.get('field', '')}."
    return f"dbt test {kind}" + (f" on {column}" if column else "") + "."


@contextmanager
def _dbt_points_at(database: str) -> Iterator[None]:
    """dbt's profile reads GTM_DUCKDB_PATH; make it name the resource's file for this invocation."""
    previous = os.environ.get("GTM_DUCKDB_PATH")
    os.environ["GTM_DUCKDB_PATH"] = str(Path(database).resolve())
    try:
        yield
    finally:
        if previous is None:
            del os.environ["GTM_DUCKDB_PATH"]
        else:
            os.environ["GTM_DUCKDB_PATH"] = previous


def _prune_invocation_targets(keep: int) -> None:
    """dagster-dbt writes each invocation's artifacts to target/<name>-<id>/; keep the newest few."""
    runs = sorted(
        (p for p in (settings.DBT_PROJECT_DIR / "target").glob("gtm_dbt_models-*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
    )
    for stale in runs[:-keep]:
        shutil.rmtree(stale, ignore_errors=True)


def _checkpointed(path: Path) -> None:
    """Fold the file's write-ahead log into it, so the file alone holds every committed change."""
    with connect_when_free(str(path), {}) as conn:
        conn.execute("CHECKPOINT")
    if Path(f"{path}.wal").exists():
        raise RuntimeError(f"{path}.wal still exists after CHECKPOINT: the file is not self-contained")


def _discard(staging: Path) -> None:
    for leftover in (staging, Path(f"{staging}.wal")):
        leftover.unlink(missing_ok=True)


def stage_warehouse(database: str | Path) -> Path:
    """A copy of the warehouse for dbt to build in (the caller holds the writer lock). A copy left by
    a build that died is replaced, its log first: replayed onto a fresh copy it would corrupt it."""
    database, staging = Path(database).resolve(), staging_path(database)
    _discard(staging)
    staging.parent.mkdir(exist_ok=True)
    if database.exists():
        _checkpointed(database)
        shutil.copyfile(database, staging)
    return staging


def drop_moved_views(staging: Path) -> None:
    """Drop the views a model has moved out of `main` (the staging views now live in `staging`): an older
    warehouse still holds them in `main`, where they would expose what the move hides."""
    if not staging.exists():
        return
    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    moved = {
        n.get("alias") or n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] != "main"
    }
    with duckdb.connect(str(staging)) as conn:
        views = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'VIEW'"
        ).fetchall()
        for (name,) in views:
            if name in moved:
                conn.execute(f"DROP VIEW main.{sql_identifier(name)}")


# A governed file version that is no longer the loaded one (replaced, turned duplicate, removed from the
# record): the governance_batch macro then rebuilds the governance models from every row.
STALE_VERSIONS_SQL = """
SELECT count(*) FROM main.governed_files g
ANTI JOIN (SELECT source_file, sha256 FROM raw.landing_files WHERE status = 'loaded') c USING (source_file, sha256)
"""


def needs_full_refresh(staging: Path) -> bool:
    """True when this build rebuilds the governance models from every row over tables that exist (a
    governed version went stale, or governed_files is gone). dbt's incremental materialization would
    stage the whole result in a temporary table first, which at 50M events does not fit DuckDB's memory
    limit; `--full-refresh` builds each table with one CREATE TABLE AS instead (as a first build does)."""
    if not staging.exists():
        return False
    with duckdb.connect(str(staging), read_only=True) as conn:
        tables = {name for (name,) in conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
        ).fetchall()}  # fmt: skip
        if "main.event_outcomes" not in tables or "raw.landing_files" not in tables:
            return False
        if "main.governed_files" not in tables:
            return True
        return conn.execute(STALE_VERSIONS_SQL).fetchall()[0][0] > 0


class PublishRefused(RuntimeError):
    """The built copy cannot replace the warehouse without losing someone's writes."""


def _open_here(database: Path) -> list[str]:
    """This process's file descriptors on ``database`` (or its log): a DuckDB connection still open here."""
    targets = {str(database), f"{database}.wal"}
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}") in targets:
                found.append(fd)
    return found


def publish_warehouse(staging: Path, database: str | Path) -> None:
    """Swap the built copy in with one rename (atomic on POSIX): readers and a crash see the whole
    build or none of it.

    A rename is only safe when nobody writes the old file any more: a DuckDB connection open on it
    keeps its inode, and whatever it wrote after the rename would vanish with that inode. So the swap
    is refused (PublishRefused; the build fails, the warehouse keeps its previous tables) while this
    process has the file open (DuckDB would hand a new connect() the cached, old database) or another
    process holds DuckDB's write lock on it; and a read lock is held across the rename, so no process
    can open the old file for writing in between. Readers of the old file keep a consistent snapshot."""
    database = Path(database).resolve()
    _checkpointed(staging)
    with open(staging, "rb") as built:
        os.fsync(built.fileno())
    if not database.exists():
        os.replace(staging, database)
    else:
        mine = _open_here(database)
        if mine:
            raise PublishRefused(f"{database} is still open in this process (fd {', '.join(mine)}): not replacing it")
        guard = os.open(database, os.O_RDONLY)
        try:
            try:  # conflicts only with a writer's lock (DuckDB locks the whole file with fcntl)
                fcntl.lockf(guard, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                raise PublishRefused(f"another process has {database} open for writing: not replacing it") from None
            os.replace(staging, database)
        finally:
            os.close(guard)
    directory = os.open(database.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power loss
    finally:
        os.close(directory)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=GtmDbtTranslator(),
    exclude="path:models/restricted",  # built and described without previews by defs/restricted/match_keys.py
    pool=DUCKDB_POOL,
)
def gtm_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: DuckDBWarehouse):
    """Run `dbt build` for the selected models on a staged copy of the warehouse and swap it in only
    when every model and blocking test passed, then describe each built table from DuckDB.

    dbt-duckdb commits each model on its own; building on a copy makes the whole build one unit: a
    run killed or failed mid-build leaves every table as it was, and a rerun starts from there."""
    with warehouse_lock(warehouse.database):
        staging = stage_warehouse(warehouse.database)
        drop_moved_views(staging)
        full_refresh = ["--full-refresh"] if needs_full_refresh(staging) else []
        with _dbt_points_at(str(staging)):
            invocation = dbt.cli(["build", *full_refresh], context=context, raise_on_error=False)
            events = []
            for event in invocation.stream():
                if isinstance(event, dg.Output):  # progress in the run's log; published only at the end
                    context.log.info(f"{event.output_name}: built in the staging copy")
                events.append(event)
        built = invocation.is_successful()
        try:
            if built:
                publish_warehouse(staging, warehouse.database)
                keep_partial_parse(invocation.target_path)
        finally:
            _discard(staging)  # gone already when it was published
        with warehouse.get_connection() as conn:
            for event in events:
                if isinstance(event, dg.Output):
                    if not built:
                        continue  # built on the discarded copy: the warehouse keeps the previous table
                    unique_id = event.metadata["unique_id"].value
                    node = invocation.manifest["nodes"][unique_id]
                    table = f"{node['schema']}.{node.get('alias') or node['name']}"
                    lineage = column_lineage_metadata(conn, invocation, unique_id)
                    documented = {
                        name: column["description"]
                        for name, column in invocation.manifest["nodes"][unique_id]["columns"].items()
                        if column.get("description")
                    }
                    described = table_metadata(conn, table, descriptions=documented)
                    event = event.with_metadata({**event.metadata, **described, **lineage})
                yield event
    _prune_invocation_targets(keep=5)
    if not built:
        raise dg.Failure(
            description="dbt build failed: nothing was published, every governance table keeps its previous version",
            metadata={"dbt_errors": dg.MetadataValue.md((invocation.get_error() and str(invocation.get_error())) or "")},
        )
