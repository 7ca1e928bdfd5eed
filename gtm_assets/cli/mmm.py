"""`gtm mmm fit`: fit the media-mix model on any weekly CSV ("bring your own data").

    gtm mmm fit --csv FILE --date-col COL --target-col COL --spend-cols A,B [--control-cols C,D]
                [--event-cols E] [--bootstrap N] [--holdout-weeks N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys

CHANNEL_COLUMNS = ["channel", "roi", "roi_lo", "roi_hi", "marginal_roi", "decay", "half_saturation", "shape",
                   "contribution_share", "spend_share", "saturation_pct"]


def _names(text: str | None) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def _fit(args: argparse.Namespace) -> int:
    import pandas as pd

    from gtm_assets.models.mmm import MMMInputError, fit_mmm

    try:
        panel = pd.read_csv(args.csv)
    except (OSError, ValueError) as error:
        print(f"error: cannot read {args.csv}: {error}", file=sys.stderr)
        return 2
    try:
        result = fit_mmm(
            panel,
            date_col=args.date_col,
            target_col=args.target_col,
            spend_cols=_names(args.spend_cols),
            control_cols=_names(args.control_cols),
            event_cols=_names(args.event_cols),
            n_bootstrap=args.bootstrap,
            holdout_weeks=args.holdout_weeks,
            seed=args.seed,
        )
    except MMMInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    channels = result.channels[CHANNEL_COLUMNS]
    if args.json:
        print(json.dumps({"channels": channels.to_dict("records"), "diagnostics": result.diagnostics}, indent=2))
        return 0
    print(channels.to_markdown(index=False, floatfmt=".3f"))
    print()
    print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in result.diagnostics.items()))
    return 0


def register(subparsers) -> None:
    """Add `mmm fit` to the `gtm` command's subparsers."""
    mmm = subparsers.add_parser("mmm", help="media-mix model on your own weekly CSV")
    commands = mmm.add_subparsers(dest="mmm_command", required=True)
    fit = commands.add_parser("fit", help="fit adstock + Hill MMM on a weekly CSV and print ROI per channel")
    fit.add_argument("--csv", required=True, help="weekly CSV, one row per week")
    fit.add_argument("--date-col", required=True, help="week column (dates 7 days apart)")
    fit.add_argument("--target-col", required=True, help="revenue (or KPI) column")
    fit.add_argument("--spend-cols", required=True, help="comma-separated spend columns, one per channel")
    fit.add_argument("--control-cols", default="", help="comma-separated numeric control columns")
    fit.add_argument("--event-cols", default="", help="comma-separated event columns (blank/na/0 = no event)")
    fit.add_argument("--bootstrap", type=int, default=100, help="bootstrap refits for intervals (default 100)")
    fit.add_argument("--holdout-weeks", type=int, default=8, help="last weeks held out for MAPE (default 8)")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--json", action="store_true", help="print JSON instead of a table")
    fit.set_defaults(handler=_fit)
