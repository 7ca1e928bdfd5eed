"""`gtm whatif`: predicted revenue change of a budget scenario, from the fitted media-mix model.

    gtm whatif "cut TV by 20%"
    gtm whatif "move 10% from TV to Search" --horizon 28
    gtm whatif --scale TV=-20 --move TV:Search:10

Reads main.mmm_model, its bootstrap draws (main.mmm_bootstrap_draws, for the interval) and the
spend of raw.raw_media_spend from the DuckDB file (read-only, so it works while nothing else writes).
The base is each channel's average daily spend over the last 28 days (the answer names the dates);
a channel with no spend in the last 7 days is said to be off right now.
"""

from __future__ import annotations

import argparse
import sys

from gtm_assets import settings


def register(subparsers) -> None:
    """Add `whatif` to the `gtm` command line."""
    parser = subparsers.add_parser("whatif", help="predicted revenue change of a budget scenario")
    parser.add_argument("scenario", nargs="?", default="", help='e.g. "cut TV by 20%%" or "move 10%% from TV to Search"')
    parser.add_argument(
        "--scale",
        action="append",
        default=[],
        metavar="CHANNEL=PCT",
        help="change a channel's spend by PCT percent (negative cuts), repeatable",
    )
    parser.add_argument(
        "--move", action="append", default=[], metavar="FROM:TO:PCT", help="move PCT percent of FROM's spend to TO, repeatable"
    )
    parser.add_argument("--horizon", type=int, default=14, help="days to total the change over (default 14)")
    parser.add_argument("--db", default=None, help="DuckDB file (default: GTM_DUCKDB_PATH)")
    parser.set_defaults(handler=whatif_command)


def _structured(args: argparse.Namespace) -> str:
    """The structured flags as scenario clauses."""
    clauses = []
    for item in args.scale:
        channel, _, pct = item.partition("=")
        value = float(pct.rstrip("%"))
        clauses.append(f"{'cut' if value < 0 else 'increase'} {channel} by {abs(value)}%")
    for item in args.move:
        source, target, pct = item.split(":")
        clauses.append(f"move {float(pct.rstrip('%'))}% from {source} to {target}")
    return " and ".join(clauses)


def whatif_command(args: argparse.Namespace) -> int:
    import duckdb

    from gtm_assets.models.scenarios import ScenarioError, parse_scenario, what_if
    from gtm_assets.warehouse.reads import scenario_inputs
    from gtm_assets.warehouse.resource import WarehouseUnavailable, read_only_connection

    try:
        text = " and ".join(t for t in (args.scenario, _structured(args)) if t)
    except ValueError:
        print("error: --scale takes CHANNEL=PCT and --move takes FROM:TO:PCT with numeric PCT", file=sys.stderr)
        return 2
    if not text:
        print('error: give a scenario, e.g. gtm whatif "cut TV by 20%", or --scale / --move', file=sys.stderr)
        return 2
    if args.horizon < 1:
        print(f"error: --horizon must be at least 1, got {args.horizon}", file=sys.stderr)
        return 2
    path = args.db or str(settings.duckdb_path())
    try:
        with read_only_connection(path) as conn:
            inputs = scenario_inputs(conn)
    except WarehouseUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except duckdb.Error as error:
        print(f"error: cannot read the fitted model from {path} ({error}); run `gtm run` first", file=sys.stderr)
        return 2
    try:
        result = what_if(
            parse_scenario(text, list(inputs.base)),
            mmm_channels=inputs.mmm,
            current=inputs.base,
            horizon_days=args.horizon,
            draws=inputs.draws,
            base=inputs.window,
            recent=inputs.recent,
        )
    except ScenarioError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Scenario: {text}")
    print(result.channels.round(2).to_markdown(index=False))
    print(result.summary())
    return 0
