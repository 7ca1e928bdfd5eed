"""`gtm simulate` (also `python -m gtm_assets.simulate`): write a seeded simulated world with its
ground truth (gtm_assets.simulate.simulate)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--days", type=int, default=730, help="number of days (default 730)")
    parser.add_argument("--events", type=int, default=50000, help="approximate number of event rows (default 50000)")
    parser.add_argument("--users", type=int, default=None, help="user pool size (default events/12)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--preset",
        default="default",
        help="world preset: default; hard (collinear flights, a low-variation channel, correlated spend, more "
        "noise, fewer lift tests); or outside the media-mix model's family: shapes (Weibull lags, exponential "
        "and log1p saturation), multiplicative (revenue multiplicative in a seasonal base), demand (budgets "
        "that follow demand); the seed draws the world's truth",
    )
    parser.add_argument("--start-date", default="2024-01-01", help="first simulated day (default 2024-01-01)")
    parser.add_argument(
        "--formats",
        default="csv,parquet,jsonl.gz",
        help="comma list of event file formats from csv, parquet, jsonl, csv.gz, jsonl.gz; "
        "event files rotate through them (default csv,parquet,jsonl.gz)",
    )
    parser.add_argument("--files", type=int, default=None, help="number of event files (default: number of formats)")
    parser.add_argument(
        "--format",
        dest="layout",
        default="flat",
        choices=("flat", "ga4-parquet", "ga4-json"),
        help="event file layout: flat (the product's own columns, in --formats), or the GA4 BigQuery "
        "export: ga4-parquet (nested Parquet as bq extract writes it) or ga4-json "
        "(newline-delimited JSON, INT64 as strings, gzip); default flat",
    )


def simulate_command(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from gtm_assets.simulate import simulate

    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("simulating the world and its sessions", total=None)

            def written(done: int, total: int, name: str) -> None:
                progress.update(task, total=total, completed=done, description=f"event files ({name})")

            truth = _simulate(simulate, args, written)
    except ValueError as error:
        print(f"gtm simulate: {error}")
        return 2
    return _report(args, truth)


def _simulate(simulate, args: argparse.Namespace, written) -> dict:
    return simulate(
        args.out,
        days=args.days,
        events=args.events,
        users=args.users,
        seed=args.seed,
        start_date=args.start_date,
        formats=tuple(f.strip() for f in args.formats.split(",")),
        n_event_files=args.files,
        preset=args.preset,
        on_file_written=written,
    )


def _report(args: argparse.Namespace, truth: dict) -> int:
    """The GA4 export when asked for, and one line on what was written."""
    if args.layout != "flat":
        from gtm_assets.simulate.ga4_export import write_ga4_export

        export = write_ga4_export(args.out, args.layout)
        size = sum((args.out / "landing" / "events" / name).stat().st_size for name in export["files"])
        print(
            f"Wrote {len(export['files'])} GA4 export files ({args.layout}; {', '.join(export['files'])}; "
            f"{size / 1e6:.2f} MB) with {export['raw_rows']:,} events: {export['kept_events']:,} kept in "
            f"{export['sessions']:,} sessions, purchase revenue {export['purchase_revenue']:,.2f}, "
            f"{export['dropped_for_consent']:,} without analytics consent, {export['duplicate_events']:,} "
            f"duplicated; truth in {args.out / 'ga4_export_truth.json'}."
        )
        return 0
    counts = truth["counts"]
    event_bytes = sum((args.out / "landing" / "events" / name).stat().st_size for name in truth["files"])
    other_bytes = sum(
        (args.out / name).stat().st_size
        for name in (
            "landing/media/media_spend.csv",
            "landing/plans/media_plan.csv",
            "landing/experiments/lift_tests.csv",
            "landing/sales/daily_sales.csv",
            "ground_truth.json",
            "ground_truth_daily.csv",
        )
    )
    print(
        f"Wrote {len(truth['files'])} event files ({', '.join(truth['files'])}; {event_bytes / 1e6:.2f} MB) "
        f"with {counts['raw_rows']:,} raw rows ({counts['quarantined_total']:,} malformed, "
        f"{counts['dropped_for_consent']:,} without analytics consent, {counts['kept']:,} kept in "
        f"{counts['kept_sessions']:,} sessions, kept revenue {counts['kept_revenue']:,.2f}) for "
        f"{truth['start_date']}..{truth['end_date']} ({truth['preset']} world, seed {truth['seed']}), plus media_spend.csv, media_plan.csv, daily_sales.csv, lift_tests.csv, "
        f"ground_truth.json and ground_truth_daily.csv; {(event_bytes + other_bytes) / 1e6:.2f} MB in total under {args.out}."
    )
    return 0


def register(subparsers) -> None:
    """Add `simulate` to the `gtm` command line."""
    parser = subparsers.add_parser(
        "simulate",
        help="write a simulated world with its ground truth",
        description="Simulate a seeded marketing world with known ground truth.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=simulate_command)


def main(argv: list[str] | None = None) -> int:
    """`python -m gtm_assets.simulate`: the same as `gtm simulate`."""
    parser = argparse.ArgumentParser(
        prog="python -m gtm_assets.simulate", description="Simulate a seeded marketing world with known ground truth."
    )
    add_arguments(parser)
    return simulate_command(parser.parse_args(argv))
