"""The `gtm` command line: one module per command group, each thin over functions the assets use too.

    gtm run                 materialize the whole graph on the landing data into DuckDB, print a summary
    gtm simulate [options]  write a simulated world with its ground truth
    gtm personas ...        cohort x persona table, or one segment's brief and copy
    gtm mmm fit ...         fit the media-mix model on any weekly CSV
    gtm whatif ...          budget what-if scenarios on the fitted model
    gtm trace [PAYLOAD_ID]  trace a payload (or one line) down to source files and row numbers
    gtm approve CREATIVE_ID approve an amber creative so it can ship
    gtm show WHAT           the latest personas, creatives, allocations or payloads (read-only)

Heavy libraries are imported inside the handlers, so `gtm --help` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys

from gtm_assets.cli import approve, ask, ltv, mmm, personas, report, run, show, simulate, trace, whatif

COMMAND_GROUPS = (run, simulate, personas, mmm, ltv, whatif, trace, approve, show, ask, report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gtm", description="gtm-assets: go-to-market analytics on Dagster + DuckDB")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_GROUPS:
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:
        # Piped into `head` or the like: end quietly, as any Unix command does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
