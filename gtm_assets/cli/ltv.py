"""`gtm ltv`: predicted customer lifetime value on your own transaction log.

gtm ltv --csv FILE --customer-col C --date-col C --value-col C [--id-col C]
        [--calibration-end DATE [--holdout-end DATE]] [--horizon-days N] [--json]

Without --calibration-end the model is fitted on every transaction and each customer's value over the
horizon is printed. With it, the model is fitted on the transactions up to that day and judged on the
ones after it (up to --holdout-end, default the last date), customer by customer, the way BTYD models
are judged on public logs such as CDNOW: the aggregate error (predicted / actual − 1), the per-customer
mean absolute error and the rank correlation.
"""

from __future__ import annotations

import argparse
import sys

from gtm_assets.schemas.strict_json import dumps

SHOWN_QUARANTINE_LINES = 20


def _report_quarantine(log, path: str) -> None:
    for item in log.quarantined.head(SHOWN_QUARANTINE_LINES).itertuples():
        print(f"{path}: row {item.row}, column {item.column}: {item.reason} ({item.value!r}); quarantined", file=sys.stderr)
    if len(log.quarantined) > SHOWN_QUARANTINE_LINES:
        print(
            f"{path}: ... {len(log.quarantined) - SHOWN_QUARANTINE_LINES} more rows quarantined (--json lists all)",
            file=sys.stderr,
        )


def _ltv(args: argparse.Namespace) -> int:
    import pandas as pd

    from gtm_assets.models import ltv
    from gtm_assets.models.ltv_input import LtvInputError, read_transactions

    holdout_end = pd.Timestamp(args.holdout_end) if args.holdout_end else None
    try:
        log = read_transactions(
            args.csv, customer_col=args.customer_col, date_col=args.date_col, value_col=args.value_col,
            id_col=args.id_col, as_of=holdout_end,
        )  # fmt: skip
    except LtvInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    _report_quarantine(log, args.csv)
    transactions = log.transactions
    calibration_end = pd.Timestamp(args.calibration_end) if args.calibration_end else transactions["date"].max().normalize()
    holdout_end = holdout_end or transactions["date"].max().normalize()
    summary = ltv.rfm_summary(transactions, calibration_end)
    horizon = (holdout_end - calibration_end).days if args.calibration_end else args.horizon_days
    if args.calibration_end and horizon <= 0:
        print(
            f"error: --holdout-end {holdout_end.date()} is not after --calibration-end {calibration_end.date()}", file=sys.stderr
        )
        return 2
    try:
        fit = ltv.fit_ltv(summary, bootstrap=args.bootstrap)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    predicted = ltv.predict_ltv(fit, summary, horizon=horizon)
    table = summary[["frequency", "recency", "T"]].join(predicted).rename_axis("customer")
    result = {
        "transactions": len(transactions),
        "rows": log.rows,
        "quarantined": log.quarantined.to_dict("records"),
        "customers": len(summary),
        "calibration_end": str(calibration_end.date()),
        "horizon_days": horizon,
        "fit": {"bgnbd": vars(fit.purchases), "gamma_gamma": vars(fit.spend)},
    }
    if args.calibration_end:
        actual = ltv.holdout_actuals(transactions, calibration_end, holdout_end).reindex(table.index).fillna(0)
        table = table.join(actual)
        result["holdout_end"] = str(holdout_end.date())
        result["summary"] = ltv.holdout_scores(table["predicted_revenue"], table["actual_revenue"])
    if args.json:
        result["table"] = table.reset_index().to_dict("records")
        print(dumps(result, indent=2, default=float))
        return 0
    shown = table.sort_values("predicted_revenue", ascending=False).head(args.top)
    print(shown.to_markdown(floatfmt=".2f"))
    print(
        f"\n{len(summary):,} customers from {len(transactions):,} transactions ({len(log.quarantined):,} of {log.rows:,} rows "
        f"quarantined); fitted up to {calibration_end.date()}, horizon {horizon} days; the top {len(shown)} by predicted revenue."
    )
    if "summary" in result:
        s = result["summary"]
        print(
            f"holdout to {holdout_end.date()}: aggregate error {s['aggregate_error']:+.1%} (predicted / actual − 1), "
            f"MAE {s['mae']:.2f} per customer, Spearman {s['spearman']:.3f}, top decile {s['top_decile_error']:+.1%}"
        )
    return 0


def register(subparsers) -> None:
    """Add `ltv` to the `gtm` command's subparsers."""
    parser = subparsers.add_parser("ltv", help="predicted customer lifetime value on your own transaction CSV")
    parser.add_argument("--csv", required=True, help="transaction log, one row per purchase")
    parser.add_argument("--customer-col", required=True, help="customer id column")
    parser.add_argument("--date-col", required=True, help="purchase date column")
    parser.add_argument("--value-col", required=True, help="purchase value column")
    parser.add_argument("--id-col", default=None, help="transaction id column (duplicates by id; default: identical rows)")
    parser.add_argument("--calibration-end", default=None, help="fit on transactions up to this day, judge on the rest")
    parser.add_argument("--holdout-end", default=None, help="last day of the holdout (default: the last date in the file)")
    parser.add_argument(
        "--horizon-days", type=int, default=365, help="prediction horizon without --calibration-end (default 365)"
    )
    parser.add_argument("--bootstrap", type=int, default=30, help="customer-bootstrap refits behind the intervals (default 30)")
    parser.add_argument("--top", type=int, default=20, help="customers printed in the table (default 20)")
    parser.add_argument("--json", action="store_true", help="print JSON (every customer) instead of a table")
    parser.set_defaults(handler=_ltv)
