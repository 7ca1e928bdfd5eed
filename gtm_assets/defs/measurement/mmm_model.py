"""mmm_model: media-mix model on the weekly revenue panel and daily spend, with lift tests."""

import dagster as dg
import pandas as pd

from gtm_assets.charts.assets import mmm_charts
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.mmm import fit_mmm
from gtm_assets.schemas.strict_json import clean, dumps
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.reads import daily_revenue
from gtm_assets.warehouse.resource import DuckDBWarehouse

# Complete weeks only (Monday-start, seven days of media data), revenue from the daily revenue the models use
# (gtm_assets.warehouse.reads.daily_revenue: the sales ledger, else consented sessions), organic sessions from guarded sessions,
# spend and impressions from raw_media_spend, and a holiday event column: the week of Black Friday (Friday after the
# fourth Thursday of November, i.e. the Friday on the 23rd-29th) and the week of Cyber Monday (the Monday after it,
# 26 Nov - 2 Dec).
WEEKLY_PANEL_SQL = """
WITH media AS (
    SELECT date::DATE AS day, channel, spend::DECIMAL(18, 2) AS spend, impressions::DOUBLE AS impressions
    FROM raw.raw_media_spend
),
days AS (SELECT DISTINCT day FROM media),
full_weeks AS (
    SELECT date_trunc('week', day)::DATE AS week,
           coalesce(max(CASE WHEN month(day) = 11 AND dayofweek(day) = 5 AND day(day) BETWEEN 23 AND 29
                             THEN 'black_friday'
                             WHEN dayofweek(day) = 1 AND ((month(day) = 11 AND day(day) >= 26)
                                                          OR (month(day) = 12 AND day(day) <= 2))
                             THEN 'cyber_monday' END), 'na') AS holiday
    FROM days GROUP BY 1 HAVING count(*) = 7
),
spend AS (
    SELECT date_trunc('week', day)::DATE AS week, channel, sum(spend)::DOUBLE AS spend,
           sum(impressions)::DOUBLE AS impressions
    FROM media GROUP BY 1, 2
),
revenue AS (
    SELECT date_trunc('week', ds)::DATE AS week, sum(y)::DOUBLE AS revenue FROM daily_revenue GROUP BY 1
),
organic AS (
    SELECT date_trunc('week', session_start)::DATE AS week, count(*)::DOUBLE AS organic_sessions
    FROM main.guarded_sessions WHERE utm_medium = 'organic' GROUP BY 1
)
SELECT w.week, w.holiday, s.channel, s.spend, s.impressions, coalesce(r.revenue, 0) AS revenue,
       coalesce(o.organic_sessions, 0) AS organic_sessions
FROM full_weeks w JOIN spend s USING (week) LEFT JOIN revenue r USING (week) LEFT JOIN organic o USING (week)
ORDER BY w.week, s.channel
"""
# The demand signal: consented organic search sessions a week rise with demand, not with paid media
# (offline media's visits arrive as direct traffic). Below this many a week on average it is too
# noisy to use, and the model goes without it.
MIN_ORGANIC_SESSIONS_PER_WEEK = 20
# Daily spend per channel over every day with media data: the model saturates spend day by day.
DAILY_SPEND_SQL = """
SELECT date::DATE AS date, channel, sum(spend::DECIMAL(18, 2))::DOUBLE AS spend
FROM raw.raw_media_spend GROUP BY 1, 2 ORDER BY 1, 2
"""
# Lift tests in the model's terms (LIFT_TEST_COLUMNS of gtm_assets.models.mmm), from raw_lift_tests. An experiment
# measures incremental revenue of ALL users: in the sales ledger's units as it is; when the model sees the revenue of
# consented sessions only, both figures are scaled by the consented share of well-formed event rows (a count: no value
# of a non-consented row is used).
LIFT_TESTS_SQL = """
SELECT channel, start_date::DATE AS start_date, end_date::DATE AS end_date, spend::DECIMAL(18, 2)::DOUBLE AS spend,
       incremental_revenue::DECIMAL(18, 2)::DOUBLE AS incremental_revenue,
       standard_error::DECIMAL(18, 2)::DOUBLE AS standard_error, raw_row_id
FROM raw.raw_lift_tests ORDER BY source_file, source_row_number
"""
HOLIDAY_COLUMNS = ["holiday"]  # the panel's event regressors
# The column schema shown in the Dagster UI. A time step is time_step_days days; revenue is the model's target: the
# sales ledger's when landed, else that of consented sessions (metadata revenue_source says which).
COLUMN_DESCRIPTIONS = {
    "lineage_id": "Keyed lineage id of the row: lineage_id('mmm_channel', fit_run_id | channel).",
    "channel": "Media channel (one row per channel).",
    "time_step_days": (
        "Days per time step of decay, adstock_peak, half_saturation and coefficient (1: the curves are fitted on daily spend)."
    ),
    "adstock": (
        "Carry-over family chosen by time-ordered validation: geometric, or delayed (the effect peaks adstock_peak steps after "
        "the spend)."
    ),
    "saturation": "Saturation family chosen by time-ordered validation: hill, logistic or michaelis_menten.",
    "decay": (
        "Carry-over per time step: geometric keeps this fraction of the adstock each step; delayed weights lag l by "
        "decay^((l-peak)^2)."
    ),
    "adstock_peak": "Delayed adstock: the lag, in time steps, at which a unit of spend has its largest effect; 0 for geometric.",
    "half_saturation": (
        "Adstocked spend level per time step at which the saturation reaches half, i.e. the response is half of coefficient."
    ),
    "shape": "Hill shape (below 1 concave, above 1 S-shaped); 1 for michaelis_menten, null for logistic.",
    "coefficient": "Incremental revenue per time step at full saturation: the ceiling of the channel's response curve.",
    "coefficient_lo": (
        "Lower bound of the 90% bootstrap interval of coefficient (5th percentile of the refits, widened to hold the point)."
    ),
    "coefficient_hi": (
        "Upper bound of the 90% bootstrap interval of coefficient (95th percentile of the refits, widened to hold the point)."
    ),
    "roi": "Incremental revenue per unit of spend over the panel weeks (contribution / spend), in the model's revenue.",
    "roi_lo": "Lower bound of the 90% bootstrap interval of roi (5th percentile of the refits, widened to hold the point).",
    "roi_hi": "Upper bound of the 90% bootstrap interval of roi (95th percentile of the refits, widened to hold the point).",
    "marginal_roi": (
        "Extra revenue per extra unit of spend at the channel's average spend per time step over the panel, at steady state."
    ),
    "marginal_roi_lo": (
        "Lower bound of the 90% bootstrap interval of marginal_roi (5th percentile of the refits, widened to hold the point)."
    ),
    "marginal_roi_hi": (
        "Upper bound of the 90% bootstrap interval of marginal_roi (95th percentile of the refits, widened to hold the point)."
    ),
    "contribution": "Incremental revenue the model attributes to the channel, summed over the panel weeks.",
    "contribution_lo": (
        "Lower bound of the 90% bootstrap interval of contribution (5th percentile of the refits, widened to hold the point)."
    ),
    "contribution_hi": (
        "Upper bound of the 90% bootstrap interval of contribution (95th percentile of the refits, widened to hold the point)."
    ),
    "contribution_share": (
        "The channel's share (0-1) of the summed contribution of all channels (media only, not of total revenue)."
    ),
    "spend": "Total spend of the channel over the panel weeks.",
    "spend_share": "The channel's share (0-1) of total media spend over the panel weeks.",
    "spend_cv": "Coefficient of variation (standard deviation / mean) of the channel's weekly spend over the panel.",
    "saturation_pct": (
        "Saturation in percent (0-100) at the steady state of the channel's average spend per time step: the response / "
        "coefficient."
    ),
    "identified": (
        "True when every identifiability check passes (interval width, spend variation, collinearity, zero-spend anchor, "
        "lift-test agreement)."
    ),
    "identification_codes": (
        "Codes of the reasons the ROI is not identified, comma-separated: wide_interval, low_variation, collinear, "
        "no_zero_anchor, experiment_disagrees, confounded_by_demand; empty when identified."
    ),
    "identification_reason": (
        "Why the ROI is not identified (reasons joined by '; '), or 'identified by the data' / 'calibrated by its lift test'."
    ),
    "identification_fix": (
        "What would identify it (e.g. a lift test, pausing or pulsing spend), joined by '; '; empty when identified."
    ),
    "spend_collinearity_r2": (
        "R² of the channel's weekly spend on the other channels' spend and the trend, seasonal and holiday regressors; above "
        "0.75 it is not identified."
    ),
    "moves_with": (
        "For a collinear channel: the channel its weekly spend moves with (correlation at least 0.7); the budget plan moves "
        "them as one block. Empty otherwise."
    ),
    "demand_r2": (
        "Share (0-1) of the channel's week-to-week spend changes that last week's revenue and the demand signal explain "
        "(a partial R²); above 0.3 its budget follows demand and it is flagged confounded_by_demand unless a lift test "
        "calibrates it."
    ),
    "lift_test_z": (
        "(modelled - measured) / standard error of the channel's lift test furthest from the model, for the test's own "
        "counterfactual; beyond ±2 data and experiment disagree. Null without a test."
    ),
    "lift_tests": "Number of lift tests of the channel used in the fit (those within the modelled days).",
    "lift_test_spend": "Total spend withheld by those lift tests.",
    "lift_test_revenue": (
        "Total incremental revenue those lift tests measured, in the model's revenue units (scaled by the consented share of "
        "event rows when the model sees consented sessions only)."
    ),
    "lift_test_roi": "Naive measured ROI of the lift tests, lift_test_revenue / lift_test_spend; null without a test.",
    "impressions": "Total impressions of the channel over the panel weeks.",
    "fit_run_id": "Dagster run id of the fit.",
    "panel_first_week": "Start (Monday) of the first complete week of the panel, as text.",
    "panel_last_week": "Start (Monday) of the last complete week of the panel, as text.",
    "source_media_sha256s": "sha256 of every raw_media_spend landing file (all channels) the fit read.",
}


class MMMConfig(dg.Config):
    n_bootstrap: int = 50  # bootstrap refits (each re-optimises everything; `gtm mmm fit` defaults to 100)
    holdout_weeks: int = 8
    seed: int = 0


def daily_spend(conn, panel: pd.DataFrame, channels: list[str]) -> pd.DataFrame:
    """Daily spend per channel (date + one column per channel, 0 where a channel has no row) from
    the first media day to the panel's last Sunday."""
    long = conn.execute(DAILY_SPEND_SQL).fetchdf()
    wide = long.pivot_table(index="date", columns="channel", values="spend", aggfunc="sum", fill_value=0.0)
    days = pd.date_range(wide.index.min(), pd.Timestamp(panel["week"].max()) + pd.Timedelta(days=6), freq="D")
    wide = wide.reindex(index=days, columns=channels, fill_value=0.0)
    return wide.rename_axis("date").reset_index()


def usable_lift_tests(tests: pd.DataFrame, first_day: pd.Timestamp, last_day: pd.Timestamp) -> tuple[pd.DataFrame, list[str]]:
    """The tests whose window lies within the modelled days, and a note per test left out."""
    start, end = pd.to_datetime(tests["start_date"]), pd.to_datetime(tests["end_date"])
    inside = (start >= first_day) & (end <= last_day)
    skipped = [
        f"{row.raw_row_id} ({row.channel}, {row.start_date}..{row.end_date}): outside the modelled days "
        f"{first_day.date()}..{last_day.date()}"
        for row in tests[~inside].itertuples()
    ]
    return tests[inside].reset_index(drop=True), skipped


def weekly_panel(conn, revenue: pd.DataFrame) -> tuple[pd.DataFrame, list[str], pd.Series]:
    """Wide weekly panel (week, holiday, revenue, organic_sessions, one spend column per channel)
    from the daily ``revenue`` (ds, y), the channels, and total impressions per channel."""
    conn.register("daily_revenue", revenue)
    long = conn.execute(WEEKLY_PANEL_SQL).fetchdf()
    wide = long.pivot_table(
        index=["week", "holiday", "revenue", "organic_sessions"], columns="channel", values="spend", fill_value=0.0
    )
    channels = [str(c) for c in wide.columns]
    impressions = long.groupby("channel")["impressions"].sum()
    return wide.reset_index().rename_axis(columns=None), channels, impressions


def demand_signal(panel: pd.DataFrame) -> tuple[str | None, str]:
    """The panel's demand column for the model, or None, with the reason in words."""
    organic = panel["organic_sessions"]
    if organic.mean() < MIN_ORGANIC_SESSIONS_PER_WEEK or organic.std() == 0:
        return None, (
            f"none: {organic.mean():.1f} consented organic sessions a week on average (needs {MIN_ORGANIC_SESSIONS_PER_WEEK}), "
            "so budgets that follow demand are diagnosed from last week's revenue alone"
        )
    return "organic_sessions", f"consented organic search sessions a week ({organic.mean():,.0f} on average)"


def write_fit_tables(conn, result, panel: pd.DataFrame, impressions: pd.Series, lift_tests: pd.DataFrame, fit_id: str) -> None:
    """mmm_model, mmm_response_curves, mmm_decomposition, mmm_bootstrap_draws, mmm_lift_tests and
    mmm_diagnostics of one fit, each row with its lineage id and the fit's run id."""
    media_files = conn.execute(
        "SELECT list(DISTINCT source_file_sha256 ORDER BY source_file_sha256) FROM raw.raw_media_spend"
    ).fetchall()[0][0]
    weeks = (str(panel["week"].min()), str(panel["week"].max()))
    channel_table = result.channels.assign(
        impressions=result.channels["channel"].map(impressions).astype(float),
        fit_run_id=fit_id,
        panel_first_week=weeks[0],
        panel_last_week=weeks[1],
        source_media_sha256s=[media_files] * len(result.channels),
    )
    conn.register("channel_table", channel_table)
    conn.execute(
        "CREATE OR REPLACE TABLE main.mmm_model AS SELECT lineage_id('mmm_channel', fit_run_id || '|' || "
        "channel) AS lineage_id, * FROM channel_table"
    )
    conn.register("curves", result.response_curves.assign(fit_run_id=fit_id))
    conn.execute(
        "CREATE OR REPLACE TABLE main.mmm_response_curves AS SELECT lineage_id('mmm_curve', fit_run_id || '|' "
        "|| channel || '|' || weekly_spend::VARCHAR) AS lineage_id, lineage_id('mmm_channel', fit_run_id || "
        "'|' || channel) AS mmm_lineage_id, * FROM curves"
    )
    conn.register("decomposition", result.decomposition.assign(fit_run_id=fit_id))
    conn.execute(
        "CREATE OR REPLACE TABLE main.mmm_decomposition AS SELECT lineage_id('mmm_decomposition', fit_run_id "
        "|| '|' || week::VARCHAR || '|' || component) AS lineage_id, * FROM decomposition"
    )
    conn.register("draws", result.draws.assign(fit_run_id=fit_id))
    conn.execute(
        "CREATE OR REPLACE TABLE main.mmm_bootstrap_draws AS SELECT lineage_id('mmm_draw', fit_run_id || '|' || "
        "draw::VARCHAR || '|' || channel) AS lineage_id, lineage_id('mmm_channel', fit_run_id || '|' || channel) "
        "AS mmm_lineage_id, * FROM draws"
    )
    tests = result.lift_tests.assign(raw_row_id=lift_tests["raw_row_id"].to_numpy(), fit_run_id=fit_id)
    conn.register("lift_table", tests)
    conn.execute(
        "CREATE OR REPLACE TABLE main.mmm_lift_tests AS SELECT lineage_id('mmm_lift_test', fit_run_id || '|' || "
        "raw_row_id) AS lineage_id, raw_row_id, * EXCLUDE (raw_row_id) FROM lift_table"
    )
    scalar = {k: v for k, v in result.diagnostics.items() if not isinstance(v, dict)}
    diagnostics = pd.DataFrame(
        [
            {
                **scalar,
                "selection_scores": dumps(result.diagnostics["selection_scores"]),
                "fit_run_id": fit_id,
                "source_media_sha256s": media_files,
            }
        ]
    )
    conn.register("diagnostics", diagnostics)
    conn.execute(
        "CREATE OR REPLACE TABLE main.mmm_diagnostics AS SELECT lineage_id('mmm_diagnostics', fit_run_id) "
        "AS lineage_id, * FROM diagnostics"
    )


@dg.asset(
    deps=["guarded_sessions", "event_dispositions", "raw_media_spend", "raw_daily_sales", "raw_lift_tests"],
    group_name="measurement",
    owners=[OWNER],
    kinds={"duckdb", "python", "scipy"},
    pool=DUCKDB_POOL,
)
def mmm_model(context: dg.AssetExecutionContext, config: MMMConfig, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Media-mix model on weekly revenue (the sales ledger when landed, else consented sessions;
    trend, yearly seasonality, holiday weeks and organic sessions as the demand signal) with spend
    saturated day by day: per channel an adstock (geometric or delayed) and a saturation family
    (Hill, logistic, Michaelis-Menten) chosen by time-ordered validation, fitted by variable
    projection with weak generic priors and non-negative media coefficients; block-bootstrap
    intervals (block length from the residuals' autocorrelation) that re-optimise everything and
    redraw the family choice. Lift tests from raw_lift_tests are likelihood terms on their channels'
    curves over each test's window: each test's z-score is reported, and a channel whose test the
    model disagrees with is flagged. Every channel gets an identifiability verdict with
    its reason and what would fix it, including budgets that follow demand. Writes mmm_model (one row
    per channel), mmm_bootstrap_draws (each draw's curve per channel), mmm_response_curves,
    mmm_decomposition, mmm_diagnostics and mmm_lift_tests (each test's z-score)."""
    with warehouse.transaction() as conn:
        revenue = daily_revenue(conn)
        panel, channels, impressions = weekly_panel(conn, revenue.frame)
        daily = daily_spend(conn, panel, channels)
        tests = conn.execute(LIFT_TESTS_SQL).fetchdf()
        tests[["incremental_revenue", "standard_error"]] *= revenue.consented_share
        lift_tests, skipped_tests = usable_lift_tests(tests, daily["date"].min(), daily["date"].max())
        demand_col, demand_note = demand_signal(panel)
        result = fit_mmm(
            panel,
            date_col="week",
            target_col="revenue",
            spend_cols=channels,
            event_cols=HOLIDAY_COLUMNS,
            demand_col=demand_col,
            n_bootstrap=config.n_bootstrap,
            holdout_weeks=config.holdout_weeks,
            seed=config.seed,
            lift_tests=lift_tests,
            daily_spend=daily,
        )
        write_fit_tables(conn, result, panel, impressions, lift_tests, context.run_id)
        metadata = table_metadata(conn, "main.mmm_model", descriptions=COLUMN_DESCRIPTIONS)
    shown = result.channels[
        [
            "channel",
            "adstock",
            "saturation",
            "roi",
            "roi_lo",
            "roi_hi",
            "lift_test_roi",
            "marginal_roi",
            "contribution_share",
            "identified",
        ]
    ]
    verdicts = result.channels[["channel", "identified", "identification_reason", "identification_fix"]]
    test_table = result.lift_tests[["lift_test", "measured_lift", "standard_error", "modelled_lift", "z", "agrees"]]
    rounded = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.diagnostics.items()}
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "channels": dg.MetadataValue.md(shown.round(3).to_markdown(index=False)),
            "diagnostics": dg.MetadataValue.json(clean(rounded)),
            "r2": dg.MetadataValue.float(float(result.diagnostics["r2"])),
            "weeks": dg.MetadataValue.int(len(panel)),
            "lift_tests_used": dg.MetadataValue.int(len(lift_tests)),
            "lift_test_raw_row_ids": dg.MetadataValue.json(lift_tests["raw_row_id"].tolist()),
            "lift_tests_skipped": dg.MetadataValue.json(skipped_tests),
            "identified_channels": dg.MetadataValue.int(int(result.channels["identified"].sum())),
            "identification": dg.MetadataValue.md(verdicts.to_markdown(index=False)),
            "lift_test_agreement": dg.MetadataValue.md(
                test_table.round(2).to_markdown(index=False) if len(test_table) else "no lift tests"
            ),
            "demand_signal": demand_note,
            "revenue_source": revenue.note,
            "lift_test_scale": dg.MetadataValue.float(revenue.consented_share),
            **mmm_charts(panel, channels, result),
        }
    )
