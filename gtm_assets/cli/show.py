"""`gtm show personas|creatives|allocations|experiments|payloads [--json] [--limit N]`: the latest
materialized rows, read without SQL.

Reads DuckDB read-only, so it never blocks a running job; while a writer holds the file it says so in
one line (exit 2) instead of failing on DuckDB's lock.
"""

from __future__ import annotations

import argparse
import sys

from gtm_assets.schemas.strict_json import dumps

# what -> (title, SQL over the warehouse, the asset that writes it)
VIEWS = {
    "personas": (
        "Personas: cohort x persona segments",
        "SELECT cohort, persona, customers, share, responders, response_rate, mean_spend, mean_engagement, mean_income "
        "FROM main.persona_summary ORDER BY customers DESC",
        "personas",
    ),
    "creatives": (
        "Creatives: ads per campaign and audience, with their compliance light",
        "SELECT creative_id, channel, campaign, audience_key, format, variant, traffic_light, status, generator, "
        "compliance_score, left(copy_text, 80) AS copy FROM main.creative_library ORDER BY channel, campaign, audience_key, variant",
        "creative_library",
    ),
    "allocations": (
        "Allocations: recommended daily budget per campaign",
        "SELECT channel, campaign, recommended_campaign_spend AS daily_budget, recommended_spend AS channel_budget, "
        "decision, method, guardrails_hit, round(expected_incremental_revenue, 2) AS expected_channel_revenue, run_id "
        "FROM main.allocations ORDER BY channel, campaign",
        "allocations",
    ),
    "experiments": (
        "Experiments: the lift test that would decide each channel the budget plan holds",
        "SELECT channel, decision, design, holdout_share, weeks, start_date, end_date, wave, round(spend_at_stake, 2) AS "
        "spend_at_stake, round(revenue_at_risk, 2) AS revenue_at_risk, round(expected_standard_error, 2) AS expected_se, "
        "round(expected_z, 2) AS expected_z, powered, note FROM main.experiment_plan ORDER BY powered DESC, wave, "
        "priority_per_day DESC",
        "experiment_plan",
    ),
    "payloads": (
        "Payloads: every document in the outbox, newest first, with its last push",
        "SELECT o.payload_id, o.created_at, o.dagster_run_id, o.size_bytes, "
        "(SELECT count(*) FROM main.dsp_payload l WHERE l.payload_id = o.payload_id) AS lines, "
        "(SELECT arg_max(final_status, attempted_at) FROM main.payload_pushes p WHERE p.payload_id = o.payload_id) AS push "
        "FROM main.payload_outbox o ORDER BY o.created_at DESC",
        "dsp_payload",
    ),
}


def show_command(args: argparse.Namespace) -> int:
    import duckdb

    from gtm_assets.warehouse.resource import WarehouseUnavailable, read_only_connection

    title, sql, asset = VIEWS[args.what]
    try:
        with read_only_connection(args.db) as conn:
            cursor = conn.execute(f"{sql} LIMIT {int(args.limit)}")
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
    except WarehouseUnavailable as error:
        print(f"gtm show: {error}", file=sys.stderr)
        return 2
    except duckdb.CatalogException:
        print(f"gtm show: nothing to show yet: materialize `{asset}` (gtm run, or in the Dagster UI)", file=sys.stderr)
        return 2
    if args.json:
        print(dumps([dict(zip(columns, row)) for row in rows], indent=2, default=str))
        return 0
    from rich.console import Console
    from rich.table import Table

    def text(value) -> str:
        return "" if value is None else f"{value:,.2f}" if isinstance(value, float) else str(value)

    # a column with one value in every row (the plan's run id, its method) is said once, under the table
    same = [i for i in range(len(columns)) if len(rows) > 1 and len({row[i] for row in rows}) == 1]
    caption = ", ".join(f"{columns[i]} {text(rows[0][i])}" for i in same)
    table = Table(title=title, caption=f"every row: {caption}" if same else None)
    shown = [i for i in range(len(columns)) if i not in same]
    for i in shown:
        table.add_column(columns[i], overflow="fold")
    for row in rows:
        table.add_row(*[text(row[i]) for i in shown])
    Console().print(table)
    return 0


def register(subparsers) -> None:
    """Add `show` to the `gtm` command line."""
    parser = subparsers.add_parser(
        "show",
        help="print the latest personas, creatives, allocations or payloads",
        description="Print the latest materialized rows (read-only; never blocks a run).",
    )
    parser.add_argument("what", choices=sorted(VIEWS), help="which table to show")
    parser.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    parser.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50)")
    parser.add_argument("--db", default=None, help="DuckDB file (default: GTM_DUCKDB_PATH)")
    parser.set_defaults(handler=show_command)
