"""`gtm trace`: from a payload (or one of its lines), or one row of another asset, down to source
files and row numbers.

    gtm trace [PAYLOAD_ID] [--line N] [--format table|json|csv] [--db FILE]
    gtm trace --row ASSET:ID [--format ...]      e.g. --row customer_ltv:3fa2 (a lineage id or prefix)

PAYLOAD_ID may be a prefix; without it, the newest payload. Reads DuckDB read-only: it never blocks a
run, and says so in one line when a writer holds the file.
"""

from __future__ import annotations

import argparse
import csv
import sys

from gtm_assets.schemas.strict_json import dumps


def trace_command(args: argparse.Namespace) -> int:
    from gtm_assets.audit.lineage import TraceError, raw_rows_csv, trace_payload, trace_row
    from gtm_assets.warehouse.resource import WarehouseUnavailable, read_only_connection

    try:
        with read_only_connection(args.db) as conn:
            if args.row:
                asset, _, row_id = args.row.partition(":")
                trace = trace_row(conn, asset, row_id)
            else:
                trace = trace_payload(conn, args.payload_id, line=args.line)
            rows = raw_rows_csv(conn) if args.format == "csv" else []
    except (TraceError, WarehouseUnavailable) as error:
        print(f"gtm trace: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(dumps(trace.as_json(), indent=2))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["asset", "source_file", "source_file_sha256", "source_row_number", "raw_row_id", "status"])
        writer.writerows(rows)
    else:
        _print_table(trace)
    return 1 if trace.gone_rows else 0


def _print_table(trace) -> None:
    what = (
        f"line {trace.line} ({trace.start[0]['type']} {trace.start[0]['object_id']})"
        if trace.line
        else f"{len(trace.start)} lines"
    )
    if trace.payload_id is None:
        what = f"{trace.start[0]['asset']} row {trace.start[0]['object_id']}"
    else:
        what = f"Payload {trace.payload_id}, {what}"
    print(f"{what}: traced in {trace.seconds:.2f} s")
    print(f"\n{'step':>4}  {'asset':<20} {'ids':>10} {'gone':>6}")
    for step in trace.steps:
        print(f"{step['depth']:>4}  {step['asset']:<20} {step['ids']:>10,} {step['gone']:>6,}")
    print(f"\n{'source':<16} {'file':<52} {'sha256':<14} {'rows':>9}  row numbers")
    for source in trace.sources:
        print(
            f"{source['asset']:<16} {source['file']:<52} {source['sha256'][:12]:<14} {source['rows']:>9,}  "
            f"{source['first_row']:,}..{source['last_row']:,}"
        )
    if trace.gone_rows:
        print(f"\n{len(trace.gone_rows):,} source rows are gone from the raw zone (file removed or replaced):")
        for row in trace.gone_rows[:20]:
            print(f"  {row['asset']} {row['raw_row_id']} (was {row['file'] or 'unknown file'} row {row['row'] or '?'})")
        if len(trace.gone_rows) > 20:
            print(f"  ... and {len(trace.gone_rows) - 20:,} more (--format csv lists them all)")
    print("\nEvery row: gtm trace --format csv. The same walk in SQL: see README, 'Tracing a payload line'.")


def register(subparsers) -> None:
    """Add `trace` to the `gtm` command line."""
    parser = subparsers.add_parser(
        "trace",
        help="trace a payload (or one line) down to source files and rows",
        description="Trace a DSP payload, or one of its lines, down to source files and row numbers.",
    )
    parser.add_argument("payload_id", nargs="?", default=None, help="payload id or a prefix of it (default: the newest)")
    parser.add_argument("--line", type=int, default=None, help="trace only this payload line (1-based)")
    parser.add_argument(
        "--row", default=None, metavar="ASSET:ID", help="trace one row of an asset instead, e.g. customer_ltv:<lineage id prefix>"
    )
    parser.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table (summary), json (summary), csv (every source row)",
    )
    parser.add_argument("--db", default=None, help="DuckDB file (default: GTM_DUCKDB_PATH)")
    parser.set_defaults(handler=trace_command)
