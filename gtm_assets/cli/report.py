"""`gtm report`: build the executive report (HTML and PDF) from the latest materialized tables.

    gtm report                    # data/reports/executive_report.html and .pdf
    gtm report --out DIR --no-pdf

The same builder as the `executive_report` asset, reading the DuckDB file read-only.
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Add `report` to the `gtm` command line."""
    parser = subparsers.add_parser("report", help="build the executive report (HTML + PDF) from the latest tables")
    parser.add_argument("--out", default=None, help="output directory (default: $GTM_DATA_DIR/reports)")
    parser.add_argument("--db", default=None, help="DuckDB file (default: GTM_DUCKDB_PATH)")
    parser.add_argument("--no-pdf", action="store_true", help="write the HTML only")
    parser.set_defaults(handler=report_command)


def report_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gtm_assets.ask.report import build_report, report_dir
    from gtm_assets.ask.source import AskError, Warehouse

    out = Path(args.out) if args.out else report_dir()
    try:
        with Warehouse(args.db) as wh:
            report = build_report(wh, out, pdf=not args.no_pdf)
    except AskError as error:
        print(f"error: {error}")
        return 2
    print(f"HTML: {report.html}")
    if report.pdf:
        print(f"PDF:  {report.pdf}")
    for note in report.notes:
        print(f"note: {note}")
    return 1 if report.pdf_error else 0
