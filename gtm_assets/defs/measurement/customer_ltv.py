"""customer_ltv: what each customer is predicted to buy and spend over the next year, from the governed
purchases (BG/NBD + Gamma-Gamma, gtm_assets.models.ltv), with a calibration-holdout check."""

import dagster as dg
import pandas as pd
from pydantic import Field

from gtm_assets.charts.assets import ltv_holdout_chart
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models import ltv
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

# A purchase is a governed session with at least one purchase event: its day and its revenue (a day's
# sessions of one customer are one transaction, as BTYD models count them).
PURCHASES_SQL = """
SELECT user_key AS customer, session_start::DATE AS date, revenue::DOUBLE AS value, lineage_id
FROM main.guarded_sessions WHERE purchases > 0
"""
# What never becomes a transaction, counted: purchase events governance quarantined for a missing id or
# a negative revenue (a refund is not netted against a purchase it cannot be linked to), and customers
# with sessions but no purchase.
EXCLUDED_SQL = """
SELECT
    count(*) FILTER (WHERE q.quarantine_reason = 'missing_id'),
    count(*) FILTER (WHERE q.quarantine_reason = 'negative_revenue')
FROM main.quarantined_events AS q
JOIN staging.stg_events AS e USING (source_file, source_row_number)
WHERE e.event_name = 'purchase' AND q.quarantine_reason IN ('missing_id', 'negative_revenue')
"""
NEVER_BOUGHT_SQL = """
SELECT count(DISTINCT user_key) FROM main.guarded_sessions
WHERE user_key NOT IN (SELECT user_key FROM main.guarded_sessions WHERE purchases > 0)
"""

COLUMN_DESCRIPTIONS = {
    "lineage_id": "Keyed lineage id of the customer's row: lineage_id('customer_ltv', user_key).",
    "user_key": "Keyed HMAC of the customer's pseudonymous user id (guarded_sessions.user_key).",
    "first_purchase": "Day of the customer's first purchase.",
    "purchase_days": "Days with a purchase up to the fit's end (a day's purchases count once).",
    "repeat_purchases": "Purchase days after the first (BG/NBD's frequency).",
    "recency_days": "Days from the first to the last purchase.",
    "age_days": "Days from the first purchase to the fit's end (BG/NBD's T).",
    "observed_revenue": "Revenue of all the customer's purchases up to the fit's end.",
    "probability_alive": "Probability the customer is still buying (has not left) at the fit's end.",
    "expected_purchases": "Expected purchase days over the horizon.",
    "expected_value_per_purchase": "Expected value of one future purchase (Gamma-Gamma; the population mean without repeats).",
    "predicted_ltv": "Expected revenue over the horizon: expected_purchases × expected_value_per_purchase.",
    "ltv_low": "5% end of the 90% predictive interval of the revenue the customer realises over the horizon.",
    "ltv_high": "95% end of the 90% predictive interval of the revenue the customer realises over the horizon.",
    "purchases_low": "5% end of the 90% predictive interval of the customer's purchase days over the horizon.",
    "purchases_high": "95% end of the 90% predictive interval of the customer's purchase days over the horizon.",
    "value_decile": "Decile of predicted_ltv among customers (10 = the most valuable tenth).",
    "horizon_days": "Prediction horizon in days (config).",
    "purchase_session_lineage_ids": "Lineage ids of the guarded sessions with the customer's purchases (the LTV lineage).",
    "fit_run_id": "Dagster run id of the materialization that fitted the model.",
    "fitted_at": "When the table was written (now() during the run, without time zone).",
}


class CustomerLtvConfig(dg.Config):
    horizon_days: int = Field(default=ltv.DEFAULT_HORIZON_DAYS, ge=7, le=1825, description="prediction horizon in days")
    holdout_days: int = Field(
        default=180, ge=14, le=730, description="calibration-holdout check: the model refitted without the last N days"
    )
    bootstrap: int = Field(default=30, ge=0, le=200, description="customer-bootstrap refits behind the intervals")


def fit_customer_ltv(purchases: pd.DataFrame, config: CustomerLtvConfig) -> tuple[pd.DataFrame, dict]:
    """Per customer the RFM summary and predictions (fitted on every purchase), and the calibration-
    holdout check: the model refitted without the last ``holdout_days`` predicting them."""
    end = pd.Timestamp(purchases["date"].max())
    summary = ltv.rfm_summary(purchases, end)
    fit = ltv.fit_ltv(summary, bootstrap=config.bootstrap)
    predicted = ltv.predict_ltv(fit, summary, horizon=config.horizon_days)
    table = summary.join(predicted.rename(columns={"predicted_revenue": "predicted_ltv"}))
    observed = purchases.groupby("customer")["value"].sum()
    table["observed_revenue"] = observed.reindex(table.index)
    table["value_decile"] = ltv.value_deciles(table["predicted_ltv"])
    check = holdout_check(purchases, end, config.holdout_days)
    check["fit"] = {
        "bgnbd": {name: float(value) for name, value in vars(fit.purchases).items()},
        "gamma_gamma": {name: float(value) for name, value in vars(fit.spend).items()},
        "bootstrap_refits": len(fit.draws),
    }
    check["fit_end"] = str(end.date())
    return table, check


def holdout_check(purchases: pd.DataFrame, end: pd.Timestamp, holdout_days: int) -> dict:
    """Refit on the purchases before the last ``holdout_days`` and score the prediction of those days."""
    calibration_end = end - pd.Timedelta(days=holdout_days)
    summary = ltv.rfm_summary(purchases, calibration_end)
    fit = ltv.fit_ltv(summary, bootstrap=0)
    predicted = ltv.predict_ltv(fit, summary, horizon=holdout_days, sims=50)
    actual = ltv.holdout_actuals(purchases, calibration_end, end)
    buckets = ltv.frequency_buckets(summary, predicted["expected_purchases"], actual["actual_purchases"])
    return {
        "calibration_end": str(calibration_end.date()),
        "holdout_days": holdout_days,
        "scores": ltv.holdout_scores(predicted["predicted_revenue"], actual["actual_revenue"]),
        "frequency_buckets": buckets,
    }


@dg.asset(
    deps=["guarded_sessions", "quarantined_events"],
    group_name="measurement",
    owners=[OWNER],
    kinds={"duckdb", "scipy"},
    pool=DUCKDB_POOL,
)
def customer_ltv(
    context: dg.AssetExecutionContext, config: CustomerLtvConfig, warehouse: DuckDBWarehouse
) -> dg.MaterializeResult:
    """Predicted customer lifetime value: for every customer with a governed purchase, the probability
    they are still buying, the purchases and revenue expected over the horizon (365 days by default) and
    90% predictive intervals, from a BG/NBD purchase model and a Gamma-Gamma spend model. Metadata: the
    calibration-holdout check (the model refitted without the last 180 days, predicted vs actual purchases
    per repeat-purchase bucket, aggregate error, Spearman) and what was left out and why."""
    with warehouse.transaction() as conn:
        purchases = conn.execute(PURCHASES_SQL).fetchdf()
        if purchases.empty:
            raise dg.Failure(description="customer_ltv: guarded_sessions has no purchase sessions to model")
        table, check = fit_customer_ltv(purchases, config)
        sessions = purchases.groupby("customer")["lineage_id"].agg(list)
        rows = table.assign(
            purchase_session_lineage_ids=sessions.reindex(table.index),
            horizon_days=config.horizon_days,
            fit_run_id=context.run_id,
        )
        conn.register("ltv_rows", rows.rename_axis("user_key").reset_index())
        conn.execute(
            "CREATE OR REPLACE TABLE main.customer_ltv AS SELECT lineage_id('customer_ltv', user_key) AS lineage_id, user_key, "
            "first_purchase::DATE AS first_purchase, (frequency + 1)::INTEGER AS purchase_days, "
            'frequency::INTEGER AS repeat_purchases, recency::INTEGER AS recency_days, "T"::INTEGER AS age_days, '
            "observed_revenue::DECIMAL(18, 2) AS observed_revenue, probability_alive, expected_purchases, "
            "expected_value_per_purchase, predicted_ltv, revenue_low AS ltv_low, revenue_high AS ltv_high, "
            "purchases_low, purchases_high, value_decile::INTEGER AS value_decile, horizon_days, "
            "purchase_session_lineage_ids, fit_run_id, now()::TIMESTAMP AS fitted_at FROM ltv_rows ORDER BY predicted_ltv DESC, user_key"
        )
        missing_id, refunds = conn.execute(EXCLUDED_SQL).fetchall()[0]
        never_bought = conn.execute(NEVER_BOUGHT_SQL).fetchall()[0][0]
        metadata = table_metadata(conn, "main.customer_ltv", descriptions=COLUMN_DESCRIPTIONS)
    buckets = check.pop("frequency_buckets")
    context.log.info(f"customer_ltv: {len(table):,} customers; holdout check {check['scores']}")
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "customers": len(table),
            "one_purchase_customers": int((table["frequency"] == 0).sum()),
            "customers_who_never_bought": int(never_bought),
            "purchases_without_user_id_quarantined": int(missing_id),
            "refunds_quarantined": int(refunds),
            "handling": dg.MetadataValue.md(
                "A customer's purchases on one day are one transaction. One-purchase customers are modelled (no "
                "repeat yet: the population's spend). Customers who never bought have no row. Purchase events "
                "without a user id, and negative revenues (refunds: not netted against a purchase they cannot be "
                "linked to), are quarantined by governance and counted here."
            ),
            "predicted_revenue_total": dg.MetadataValue.float(float(table["predicted_ltv"].sum())),
            "holdout_check": dg.MetadataValue.json(check),
            "holdout_by_repeat_purchases": dg.MetadataValue.md(buckets.round(3).to_markdown()),
            **ltv_holdout_chart(buckets),
        }
    )
