"""`gtm run`: materialize the whole graph in-process (every landing event file as its own raw_events
partition, then everything downstream) with a live progress display (cli.progress; every log line
goes to data/logs/, or to the terminal with --verbose), then print a summary: one line per failed
step, the row counts, the payload and the checks. ``materialize_graph`` is also what the tests use."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gtm_assets import settings
from gtm_assets.landing import is_event_file
from gtm_assets.warehouse.sql import first_row

if TYPE_CHECKING:
    import dagster as dg

RAW_EVENTS = "raw_events"
UNSAFE = "unsafe"
PARTITIONS = "landing_event_files"
SUMMARY_TABLES = [
    ("raw_events", "raw.raw_events"),
    ("raw_ga4_events", "raw.raw_ga4_events"),
    ("rejected_lines", "raw.rejected_lines"),
    ("raw_media_spend", "raw.raw_media_spend"),
    ("raw_media_plan", "raw.raw_media_plan"),
    ("raw_daily_sales", "raw.raw_daily_sales"),
    ("raw_lift_tests", "raw.raw_lift_tests"),
    ("raw_customers", "raw.raw_customers"),
    ("event_dispositions", "main.event_dispositions"),
    ("quarantined_events", "main.quarantined_events"),
    ("guarded_sessions", "main.guarded_sessions"),
    ("features", "main.features"),
    ("customer_features", "main.customer_features"),
    ("persona_clusters", "main.persona_clusters"),
    ("personas", "main.personas"),
    ("persona_summary", "main.persona_summary"),
    ("creative_briefs", "main.creative_briefs"),
    ("mmm_model", "main.mmm_model"),
    ("customer_ltv", "main.customer_ltv"),
    ("forecast", "main.forecast"),
    ("allocations", "main.allocations"),
    ("experiment_plan", "main.experiment_plan"),
    ("audiences", "main.audiences"),
    ("creative_library", "main.creative_library"),
    ("dsp_payload", "main.dsp_payload"),
    ("touchpoints", "main.touchpoints"),
    ("attribution", "main.attribution"),
    ("platform_metrics", "main.platform_metrics"),
]


@dataclass
class GraphRun:
    ingested_files: list[str]
    results: list[dg.ExecuteInProcessResult] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)


def _not_in_warehouse(sha256_by_name: dict[str, str]) -> list[str]:
    """Landing event files whose current version raw.landing_files does not record (all of them when
    the warehouse or the table does not exist yet)."""
    import duckdb

    from gtm_assets.warehouse.resource import WarehouseUnavailable, read_only_connection

    if not settings.duckdb_path().exists():
        return list(sha256_by_name)
    try:
        with read_only_connection() as conn:
            recorded = dict(conn.execute("SELECT source_file, sha256 FROM raw.landing_files").fetchall())
    except duckdb.CatalogException:
        return list(sha256_by_name)
    except WarehouseUnavailable:  # another writer holds the file: trust the instance's record
        return []
    return [name for name, sha in sha256_by_name.items() if recorded.get(f"landing/events/{name}") != sha]


def load_definitions() -> dg.Definitions:
    from gtm_assets.transform.project import prepare

    prepare()  # the dbt manifest the definitions are built from
    from gtm_assets.definitions import defs

    return defs


def _execute(assets, selection, instance, resources, run_config, raise_on_error, partition_key=None, progress=None):
    """One in-process run of ``selection`` (as ``dagster.materialize`` runs it), its events sent to
    ``progress`` as they happen."""
    import uuid

    import dagster as dg

    definitions = dg.Definitions(
        jobs=[dg.define_asset_job(name="gtm_run", selection=selection)], assets=assets, resources=resources
    )
    job = definitions.resolve_job_def("gtm_run")
    run_id = str(uuid.uuid4())
    if progress is not None:
        progress.total += len(job.nodes_in_topological_order)
        instance.add_event_listener(run_id, progress.listen)
    return job.execute_in_process(
        run_config=run_config, instance=instance, partition_key=partition_key, raise_on_error=raise_on_error, run_id=run_id
    )


def materialize_graph(
    instance: dg.DagsterInstance,
    *,
    resources: Mapping[str, Any] | None = None,
    run_config: Mapping[str, Any] | None = None,
    raise_on_error: bool = True,
    log_level: str = "INFO",
    progress=None,
) -> GraphRun:
    """Ingest every landing event file whose content the shared record has not seen (see
    ``landing_record``; the landing sensor uses the same record), then materialize every other
    asset and run its checks; ``progress`` (cli.progress.StepProgress) hears every step's events."""
    import dagster as dg

    from gtm_assets.defs.ingest.landing_record import files_to_ingest
    from gtm_assets.defs.jobs import EVERYTHING_AFTER_INGESTION
    from gtm_assets.landing import UnsafeFileName, check_landing_name, sha256_of_file

    loggers = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    defs = load_definitions()
    assets = list(defs.assets or []) + list(defs.asset_checks or [])
    resources = resources if resources is not None else defs.resources
    events_dir = settings.landing_events_dir()
    files = sorted(p.name for p in events_dir.iterdir() if is_event_file(p)) if events_dir.is_dir() else []
    if not files:
        raise FileNotFoundError(f"{events_dir}: no landing event files (csv, parquet, jsonl, optionally .gz)")

    def content_hash(name: str) -> str:
        try:
            check_landing_name(events_dir, name)
            return sha256_of_file(events_dir / name)
        except OSError:
            return ""  # unreadable: the asset records why
        except UnsafeFileName as error:
            print(f"landing/events: not ingested: {error}")
            return UNSAFE

    hashes = {name: content_hash(name) for name in files}
    candidates = {n: h for n, h in hashes.items() if h != UNSAFE}
    # The instance's record can outlive the warehouse (a deleted or replaced DuckDB file): a file whose
    # version the warehouse does not hold is ingested whatever the record says.
    changed = sorted(set(files_to_ingest(instance, candidates)) | set(_not_in_warehouse(candidates)))
    known = set(instance.get_dynamic_partitions(PARTITIONS))
    instance.add_dynamic_partitions(PARTITIONS, [f for f in changed if f not in known])
    run = GraphRun(ingested_files=changed)
    raw_events = dg.AssetKey(RAW_EVENTS)
    for name in changed:
        run.results.append(_execute(assets, [raw_events], instance, resources, loggers, raise_on_error, name, progress))
    run.results.append(
        _execute(
            assets,
            EVERYTHING_AFTER_INGESTION,
            instance,
            resources,
            {**loggers, **(run_config or {})},
            raise_on_error,
            None,
            progress,
        )
    )
    return run


def _run_with_progress(instance, log_path: Path) -> tuple[GraphRun, list]:
    """The graph run with the live display on the terminal and every log line in ``log_path``."""
    from rich.console import Console
    from rich.live import Live

    from gtm_assets.cli.progress import StepProgress, captured_output

    progress = StepProgress()
    with captured_output(log_path) as terminal:
        console = Console(file=terminal)
        with Live(get_renderable=progress.render, console=console, transient=True, refresh_per_second=4):
            graph = materialize_graph(instance, log_level="DEBUG", raise_on_error=False, progress=progress)
    return graph, progress.failures()


def run_command(args: argparse.Namespace) -> int:
    os.environ.setdefault("DAGSTER_HOME", str(settings.PROJECT_ROOT / "dagster_home"))
    try:
        settings.hmac_key()
    except settings.MissingSecretError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    import dagster as dg

    from gtm_assets.warehouse.resource import DuckDBWarehouse

    started = time.perf_counter()
    log_path = settings.data_dir() / "logs" / f"gtm-run-{time.strftime('%Y%m%d-%H%M%S')}.log"
    with dg.DagsterInstance.get() as instance:
        if args.verbose:
            graph, failures = materialize_graph(instance, log_level="INFO", raise_on_error=False), None
        else:
            graph, failures = _run_with_progress(instance, log_path)
    elapsed = time.perf_counter() - started
    if failures:
        for step in failures:
            print(f"FAILED {step.key}: {step.failed}")
    if not args.verbose:
        print(f"Full log: {log_path}")
    warehouse = DuckDBWarehouse(database=str(settings.duckdb_path()))
    with warehouse.get_connection() as conn:
        counts = [(name, conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]) for name, table in SUMMARY_TABLES]
        payload = first_row(
            conn.execute("SELECT payload_id, outbox_path FROM main.payload_outbox ORDER BY created_at DESC LIMIT 1")
        )
        pushed = first_row(
            conn.execute(
                "SELECT final_status FROM main.payload_pushes WHERE payload_id = ? ORDER BY attempted_at DESC LIMIT 1",
                [payload[0]],
            )
        )
    print(
        f"Materialized the gtm-assets graph in {elapsed:.1f} s ({len(graph.ingested_files)} new or changed "
        "landing event files ingested)."
    )
    print(f"DuckDB: {settings.duckdb_path()}")
    width = max(len(name) for name, _ in counts)
    for name, count in counts:
        print(f"  {name:<{width}}  {count:>10,} rows")
    print(f"Payload {payload[0]}: {payload[1]} (push: {pushed[0] if pushed else 'not pushed'}; trace it with `gtm trace`)")
    evaluations = [e for result in graph.results for e in result.get_asset_check_evaluations()]
    failed = [e for e in evaluations if not e.passed]
    print(f"Asset checks: {len(evaluations) - len(failed)} passed, {len(failed)} failed")
    for evaluation in failed:
        figures = ", ".join(
            f"{k}={v.value}"
            for k, v in evaluation.metadata.items()
            if not isinstance(v.value, (dict, list)) and "\n" not in str(v.value)
        )
        severity = "WARNING" if evaluation.severity == dg.AssetCheckSeverity.WARN else "FAILED"
        print(
            f"  {severity} {evaluation.asset_key.to_user_string()}:{evaluation.check_name} ({figures})"
            + (f": {evaluation.description}" if evaluation.description else "")
        )
    print(f"Run history: DAGSTER_HOME={os.environ['DAGSTER_HOME']} (open it with `dagster dev`).")
    if settings.uses_development_key():
        print(
            "Dev mode: PII was hashed with the public development key (runs tagged gtm/hmac_key=development); "
            "set GTM_HMAC_KEY for real data."
        )
    return 0 if graph.success else 1


def register(subparsers) -> None:
    """Add `run` to the `gtm` command line."""
    parser = subparsers.add_parser("run", help="materialize the whole graph and print a summary")
    parser.add_argument(
        "--verbose", action="store_true", help="stream every log line (Dagster, dbt, Prophet) instead of the progress display"
    )
    parser.set_defaults(handler=run_command)
