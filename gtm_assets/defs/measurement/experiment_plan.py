"""experiment_plan: the lift test that would let the next fit decide each channel the budget plan holds."""

import dagster as dg
import pandas as pd

from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.experiment_plan import plan_experiments
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.reads import bootstrap_draws, daily_revenue
from gtm_assets.warehouse.resource import DuckDBWarehouse

# Money is in the spend's currency; revenue is all users' revenue, the units a lift test measures (the model's revenue,
# divided by the consented share when the model sees consented sessions only).
COLUMN_DESCRIPTIONS = {
    "lineage_id": "Keyed lineage id of the row: lineage_id('experiment_plan', run_id | channel).",
    "channel": "The channel the budget plan holds.",
    "decision": "Why allocations holds it (hold: not identified, experiment disagrees, confounded by demand, gain not robust).",
    "design": "geo_holdout: the channel off in a share of the market (its regions), the rest as control.",
    "holdout_share": "Share (0-1) of the market where the channel is switched off.",
    "weeks": "Length of the test in weeks.",
    "start_date": "Proposed first day (a Monday); tests of one wave run at the same time in disjoint regions.",
    "end_date": "Proposed last day.",
    "wave": "Tests of a wave hold out at most 80% of the market together; a later wave starts a week after the previous ends.",
    "base_daily_spend": "The channel's trailing 28-day average daily spend (its base in allocations).",
    "planned_spend_in_window": "raw_media_plan's spend on the channel over the window (null without a plan).",
    "spend_at_stake": "Spend the test withholds: holdout_share x the planned spend over the window (or x the base).",
    "expected_lift": "Revenue the test is expected to measure: the median bootstrap draw's revenue of the channel at its base.",
    "expected_lift_lo": "5th percentile of the expected lift over the model's bootstrap draws.",
    "expected_lift_hi": "95th percentile of the expected lift over the model's bootstrap draws.",
    "expected_standard_error": (
        "Standard error the test would reach (power analysis from the model's residual noise and autocorrelation)."
    ),
    "expected_z": ("expected_lift / expected_standard_error; the smallest design reaching 3 is proposed."),
    "revenue_at_risk": "Revenue the holdout regions give up over the test (the median draw's).",
    "revenue_at_risk_hi": "The same at the 95th percentile of the draws.",
    "priority_per_day": (
        "What deciding the channel is worth per day: its guardrail move (25% of its base) x the spread of its marginal ROI "
        "over the draws (95th - 5th percentile), in revenue."
    ),
    "powered": "False when no design up to 8 weeks in 50% of the market reaches 3 standard errors, or the plan barely spends.",
    "note": "The proposal in words, or why it falls short.",
    "run_id": "Dagster run id that wrote the plan.",
    "mmm_lineage_id": "lineage_id of the mmm_model row (the channel's curve) the power analysis used.",
    "allocation_lineage_ids": "lineage_ids of the allocations rows (the channel's campaigns) whose decision it serves.",
}


@dg.asset(
    deps=["allocations", "mmm_model", "raw_media_plan", "raw_daily_sales", "event_dispositions"],
    group_name="measurement",
    owners=[OWNER],
    kinds={"duckdb", "python"},
    pool=DUCKDB_POOL,
)
def experiment_plan(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """For every channel the budget plan holds, the lift test that would let the next fit decide it:
    a geo holdout sized by a power analysis from the model's noise and bootstrap draws (the smallest
    share x weeks reaching 3 standard errors at the median estimate), with its dates (waves of tests
    in disjoint regions), spend at stake, expected lift and standard error, and revenue at risk.
    When the results land in data/landing/experiments, raw_lift_tests ingests them and the next
    mmm_model fit uses them."""
    with warehouse.transaction() as conn:
        allocation = conn.execute(
            "SELECT channel, any_value(decision) AS decision, any_value(current_spend) AS current_spend, "
            "list(lineage_id ORDER BY campaign) AS allocation_lineage_ids FROM main.allocations GROUP BY channel ORDER BY channel"
        ).fetchdf()
        mmm = conn.execute("SELECT channel, lineage_id FROM main.mmm_model").fetchdf()
        noise, autocorrelation, test_noise = conn.execute(
            "SELECT noise_sd, residual_autocorrelation, lift_test_daily_noise FROM main.mmm_diagnostics"
        ).fetchall()[0]
        share = daily_revenue(conn).consented_share
        last_day = conn.execute("SELECT max(date::DATE) FROM raw.raw_media_spend").fetchall()[0][0]
        media_plan = conn.execute(
            "SELECT date::DATE AS date, channel, planned_spend::DOUBLE AS planned_spend FROM raw.raw_media_plan"
        ).fetchdf()
        proposals = plan_experiments(
            allocation,
            bootstrap_draws(conn),
            float(noise),
            float(autocorrelation),
            pd.Timestamp(last_day) + pd.Timedelta(days=1),
            revenue_scale=1.0 / share,
            media_plan=media_plan if len(media_plan) else None,
            daily_noise=None if test_noise is None or test_noise != test_noise else float(test_noise),
        )
        table = proposals.assign(
            run_id=context.run_id,
            mmm_lineage_id=proposals["channel"].map(dict(zip(mmm["channel"], mmm["lineage_id"]))),
            allocation_lineage_ids=proposals["channel"].map(
                dict(zip(allocation["channel"], allocation["allocation_lineage_ids"]))
            ),
        )
        conn.register("proposals", table)
        conn.execute(
            "CREATE OR REPLACE TABLE main.experiment_plan AS SELECT lineage_id('experiment_plan', run_id || '|' || channel) "
            "AS lineage_id, * FROM proposals"
        )
        metadata = table_metadata(conn, "main.experiment_plan", descriptions=COLUMN_DESCRIPTIONS)
    shown = proposals[["channel", "decision", "holdout_share", "weeks", "start_date", "expected_z", "revenue_at_risk", "powered"]]
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "proposed_tests": dg.MetadataValue.md(
                shown.round(2).to_markdown(index=False) if len(shown) else "none: no channel is held"
            ),
            "consented_share": dg.MetadataValue.float(share),
        }
    )
