"""The `gtm` command line.

    gtm run                 materialize the whole graph on the landing data into DuckDB, print a summary
    gtm simulate [options]  write a simulated world (see `gtm simulate --help`)
    gtm personas ...        cohort x persona table, or one segment's brief and copy (cli_personas)
    gtm mmm fit ...         fit the media-mix model on any weekly CSV (cli_mmm)
    gtm whatif ...          budget what-if scenarios on the fitted model (cli_allocate)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from gtm_assets import settings

SUMMARY_TABLES = [
    ("raw_events", "raw.raw_events"),
    ("raw_media_spend", "raw.raw_media_spend"),
    ("raw_media_plan", "raw.raw_media_plan"),
    ("raw_lift_tests", "raw.raw_lift_tests"),
    ("raw_customers", "raw.raw_customers"),
    ("event_dispositions", "main.event_dispositions"),
    ("quarantined_events", "main.quarantined_events"),
    ("guarded_sessions", "main.guarded_sessions"),
    ("features", "main.features"),
    ("customer_features", "main.customer_features"),
    ("persona_clusters", "main.persona_clusters"),
    ("persona_assignments", "main.persona_assignments"),
    ("persona_summary", "main.persona_summary"),
    ("creative_briefs", "main.creative_briefs"),
    ("mmm_model", "main.mmm_model"),
    ("forecast", "main.forecast"),
    ("allocations", "main.allocations"),
    ("creative_library", "main.creative_library"),
    ("dsp_payload", "main.dsp_payload"),
]


def _run(_: argparse.Namespace) -> int:
    os.environ.setdefault("DAGSTER_HOME", str(settings.PROJECT_ROOT / "dagster_home"))
    os.environ.setdefault("GTM_DUCKDB_PATH", str(settings.duckdb_path()))
    import dagster as dg

    from gtm_assets.runner import materialize_graph
    from gtm_assets.warehouse import DuckDBWarehouse

    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        graph = materialize_graph(instance, log_level="WARNING")
    elapsed = time.perf_counter() - started
    warehouse = DuckDBWarehouse(database=os.environ["GTM_DUCKDB_PATH"])
    with warehouse.get_connection() as conn:
        counts = [(name, conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]) for name, table in SUMMARY_TABLES]
        payload = conn.execute("SELECT any_value(payload_id), any_value(outbox_path) FROM main.dsp_payload").fetchone()
    print(f"Materialized the gtm-assets graph in {elapsed:.1f} s ({len(graph.ingested_files)} landing event files).")
    print(f"DuckDB: {os.environ['GTM_DUCKDB_PATH']}")
    width = max(len(name) for name, _ in counts)
    for name, count in counts:
        print(f"  {name:<{width}}  {count:>10,} rows")
    print(f"Payload {payload[0]}: {payload[1]}")
    evaluations = [e for result in graph.results for e in result.get_asset_check_evaluations()]
    failed = [e for e in evaluations if not e.passed]
    print(f"Asset checks: {len(evaluations) - len(failed)} passed, {len(failed)} failed")
    for evaluation in failed:
        figures = ", ".join(f"{k}={v.value}" for k, v in evaluation.metadata.items() if not isinstance(v.value, (dict, list)))
        print(f"  FAILED {evaluation.asset_key.to_user_string()}:{evaluation.check_name} ({figures})")
    print(f"Run history: DAGSTER_HOME={os.environ['DAGSTER_HOME']} (open it with `dagster dev`).")
    return 0 if graph.success else 1


def _simulate(args: argparse.Namespace) -> int:
    from gtm_assets.simulate import main as simulate_main

    return simulate_main(args.rest) or 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gtm", description="gtm-assets: go-to-market analytics on Dagster + DuckDB")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="materialize the whole graph and print a summary").set_defaults(handler=_run)
    simulate = commands.add_parser("simulate", help="write a simulated world", add_help=False)
    simulate.add_argument("rest", nargs=argparse.REMAINDER)
    simulate.set_defaults(handler=_simulate)
    from gtm_assets import cli_allocate, cli_mmm, cli_personas

    for module in (cli_personas, cli_mmm, cli_allocate):
        module.register(commands)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
