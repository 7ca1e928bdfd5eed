"""`gtm mmm fit`: fit the media-mix model on any weekly CSV ("bring your own data").

gtm mmm fit --csv FILE --date-col COL --target-col COL --spend-cols A,B [--control-cols C,D]
            [--event-cols E] [--demand-col D] [--lift-tests FILE] [--daily-spend FILE] [--bootstrap N]
            [--holdout-weeks N] [--json]
"""

from __future__ import annotations

import argparse
import sys

from gtm_assets.schemas.strict_json import dumps

CHANNEL_COLUMNS = [
    "channel",
    "roi",
    "roi_lo",
    "roi_hi",
    "lift_test_roi",
    "marginal_roi",
    "adstock",
    "saturation",
    "decay",
    "half_saturation",
    "shape",
    "contribution_share",
    "spend_share",
    "saturation_pct",
    "identified",
]
VERDICT_COLUMNS = ["channel", "identified", "identification_codes", "identification_reason", "identification_fix"]
TEST_COLUMNS = ["lift_test", "measured_lift", "standard_error", "modelled_lift", "z", "agrees"]


def _names(text: str | None) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def _read(path: str, what: str):
    import pandas as pd

    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as error:
        print(f"error: cannot read {what} {path}: {error}", file=sys.stderr)
        return None


def _fit(args: argparse.Namespace) -> int:
    from gtm_assets.models.mmm import MMMInputError, fit_mmm

    panel = _read(args.csv, "the panel")
    lift_tests = _read(args.lift_tests, "the lift tests") if args.lift_tests else None
    daily = _read(args.daily_spend, "the daily spend") if args.daily_spend else None
    if panel is None or (args.lift_tests and lift_tests is None) or (args.daily_spend and daily is None):
        return 2
    try:
        result = fit_mmm(
            panel,
            date_col=args.date_col,
            target_col=args.target_col,
            spend_cols=_names(args.spend_cols),
            control_cols=_names(args.control_cols),
            event_cols=_names(args.event_cols),
            demand_col=args.demand_col,
            n_bootstrap=args.bootstrap,
            holdout_weeks=args.holdout_weeks,
            seed=args.seed,
            lift_tests=lift_tests,
            daily_spend=daily,
        )
    except MMMInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    channels = result.channels[CHANNEL_COLUMNS]
    if args.json:
        verdicts = result.channels[VERDICT_COLUMNS].to_dict("records")
        print(
            dumps(
                {
                    "channels": channels.to_dict("records"),
                    "identification": verdicts,
                    "lift_tests": result.lift_tests.to_dict("records"),
                    "diagnostics": result.diagnostics,
                },
                indent=2,
                default=float,
            )
        )
        return 0
    print(channels.to_markdown(index=False, floatfmt=".3f"))
    print()
    if len(result.lift_tests):
        print("Lift tests: the model's lift for each test's own counterfactual against the measured one (|z| > 2: they disagree)")
        print(result.lift_tests[TEST_COLUMNS].to_markdown(index=False, floatfmt=".2f"))
        print()
    for row in result.channels.itertuples():
        verdict = (
            "identified" if row.identified else f"NOT identified: {row.identification_reason}; fix: {row.identification_fix}"
        )
        print(f"{row.channel}: {verdict}")
    print()
    print(
        " ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in result.diagnostics.items()
            if not isinstance(v, dict)
        )
    )
    return 0


def register(subparsers) -> None:
    """Add `mmm fit` to the `gtm` command's subparsers."""
    mmm = subparsers.add_parser("mmm", help="media-mix model on your own weekly CSV")
    commands = mmm.add_subparsers(dest="mmm_command", required=True)
    fit = commands.add_parser("fit", help="fit the media-mix model on a weekly CSV and print ROI per channel")
    fit.add_argument("--csv", required=True, help="weekly CSV, one row per week")
    fit.add_argument("--date-col", required=True, help="week column (dates 7 days apart)")
    fit.add_argument("--target-col", required=True, help="revenue (or KPI) column")
    fit.add_argument("--spend-cols", required=True, help="comma-separated spend columns, one per channel")
    fit.add_argument("--control-cols", default="", help="comma-separated numeric control columns")
    fit.add_argument("--event-cols", default="", help="comma-separated event columns (blank/na/0 = no event)")
    fit.add_argument(
        "--demand-col",
        default=None,
        help="a weekly demand signal (e.g. organic search sessions): a control, and the test of which channels' budgets follow demand",
    )
    fit.add_argument(
        "--lift-tests",
        default=None,
        metavar="FILE",
        help="lift tests CSV: channel, start_date, end_date, spend (withheld), incremental_revenue, "
        "standard_error, in the target's units",
    )
    fit.add_argument(
        "--daily-spend",
        default=None,
        metavar="FILE",
        help="daily spend CSV (date + the spend columns) to saturate spend day by day",
    )
    fit.add_argument("--bootstrap", type=int, default=100, help="bootstrap refits for intervals (default 100)")
    fit.add_argument("--holdout-weeks", type=int, default=8, help="last weeks held out for MAPE (default 8)")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--json", action="store_true", help="print JSON instead of a table")
    fit.set_defaults(handler=_fit)
