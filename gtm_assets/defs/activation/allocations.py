"""allocations: tomorrow's daily budget per channel and campaign, within guardrails."""

import dagster as dg
import pandas as pd

from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.allocate import Guardrails, allocate
from gtm_assets.models.mmm import expected_response
from gtm_assets.observability import table_metadata
from gtm_assets.warehouse import DuckDBWarehouse

RECENT_DAYS = 7

CURRENT_SPEND_SQL = f"""
WITH media AS (
    SELECT date::DATE AS day, channel, campaign, spend::DOUBLE AS spend,
           conversions::DOUBLE AS conversions, source_file_sha256
    FROM raw.raw_media_spend
),
recent AS (SELECT * FROM media WHERE day > (SELECT max(day) FROM media) - {RECENT_DAYS})
SELECT channel, campaign, sum(spend) / {RECENT_DAYS} AS daily_spend, sum(conversions) AS conversions,
       sum(spend) AS spend, list(DISTINCT source_file_sha256) AS source_sha256s
FROM recent GROUP BY channel, campaign ORDER BY channel, campaign
"""


class AllocationConfig(dg.Config):
    method: str = "mmm_optimal"
    total_daily_budget: float | None = None  # None: keep the recent daily total
    max_daily_change_pct: float | None = 0.25
    min_learning_spend: float = 25.0
    floors: dict[str, float] = {}
    ceilings: dict[str, float] = {}


def _previous_allocation(conn) -> dict[str, float]:
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = 'allocation_history'"
    ).fetchall()[0][0]
    if not exists:
        return {}
    rows = conn.execute(
        """
        SELECT channel, sum(recommended_campaign_spend) FROM main.allocation_history
        WHERE allocated_at = (SELECT max(allocated_at) FROM main.allocation_history)
        GROUP BY channel
        """
    ).fetchall()
    return {channel: float(spend) for channel, spend in rows}


@dg.asset(
    deps=["mmm_model", "forecast", "raw_media_spend"],
    group_name="activation",
    owners=[OWNER],
    kinds={"duckdb", "python", "scipy"},
    pool=DUCKDB_POOL,
)
def allocations(context: dg.AssetExecutionContext, config: AllocationConfig, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Daily budget per channel (split across campaigns by their recent spend share) for a total
    budget, by the configured method (mmm_optimal from the fitted response curves by default), within
    floors, ceilings, a day-over-day volatility cap against the last allocation in DuckDB, and a
    minimum learning spend. Each row records the guardrails that bound and a rationale."""
    with warehouse.get_connection() as conn:
        recent = conn.execute(CURRENT_SPEND_SQL).fetchdf()
        by_channel = recent.groupby("channel").agg(daily_spend=("daily_spend", "sum"), spend=("spend", "sum"), conversions=("conversions", "sum"))
        channels = list(by_channel.index)
        current = {c: float(by_channel.loc[c, "daily_spend"]) for c in channels}
        previous = _previous_allocation(conn)
        baseline = {c: previous.get(c, current[c]) for c in channels}
        cpa = {c: float(by_channel.loc[c, "spend"] / max(by_channel.loc[c, "conversions"], 1.0)) for c in channels}
        mmm = conn.execute("SELECT * FROM main.mmm_model").fetchdf()
        total = config.total_daily_budget if config.total_daily_budget is not None else sum(current.values())
        guardrails = Guardrails(
            total_daily_budget=total,
            floors=config.floors,
            ceilings=config.ceilings,
            max_daily_change_pct=config.max_daily_change_pct,
            min_learning_spend=config.min_learning_spend,
        )
        plan = allocate(config.method, channels=channels, current=baseline, guardrails=guardrails, mmm_channels=mmm, cpa=cpa)
        horizon = conn.execute("SELECT count(*), coalesce(sum(yhat), 0) FROM main.forecast").fetchall()[0]
        mmm_lineage = dict(zip(mmm["channel"], mmm["lineage_id"]))
        campaigns = _split_by_campaign(plan, recent)
        campaigns = campaigns.assign(
            allocated_at=pd.Timestamp.now(tz="UTC").tz_localize(None),
            run_id=context.run_id,
            mmm_lineage_id=campaigns["channel"].map(mmm_lineage),
        )
        conn.register("campaigns", campaigns)
        conn.execute(
            "CREATE OR REPLACE TABLE main.allocations AS SELECT lineage_id('allocation', run_id || '|' || channel "
            "|| '|' || campaign) AS lineage_id, * FROM campaigns"
        )
        conn.execute("CREATE TABLE IF NOT EXISTS main.allocation_history AS SELECT * FROM main.allocations LIMIT 0")
        conn.execute("INSERT INTO main.allocation_history SELECT * FROM main.allocations")
        metadata = table_metadata(conn, "main.allocations")
    horizon_days, horizon_revenue = int(horizon[0]), float(horizon[1])
    # Response curves are weekly: a daily budget x 7 is the weekly spend they take.
    status_quo_per_day = sum(expected_response(row, baseline[row["channel"]] * 7) / 7 for row in mmm.to_dict("records"))
    uplift_per_day = float(plan["expected_incremental_revenue"].sum() - status_quo_per_day)
    shown = plan[["channel", "current_spend", "recommended_spend", "change_pct", "marginal_roi", "guardrails_hit"]]
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "method": config.method,
            "total_daily_budget": dg.MetadataValue.float(float(total)),
            "plan": dg.MetadataValue.md(shown.round(3).to_markdown(index=False)),
            "forecast_horizon_revenue_status_quo": dg.MetadataValue.float(horizon_revenue),
            "forecast_horizon_revenue_with_plan": dg.MetadataValue.float(horizon_revenue + uplift_per_day * horizon_days),
        }
    )


def _split_by_campaign(plan: pd.DataFrame, recent: pd.DataFrame) -> pd.DataFrame:
    """Campaign rows: each channel's recommendation split by the campaigns' recent spend share."""
    merged = recent.merge(plan, on="channel", how="inner")
    channel_spend = merged.groupby("channel")["daily_spend"].transform("sum")
    share = (merged["daily_spend"] / channel_spend).where(channel_spend > 0, 1.0 / merged.groupby("channel")["campaign"].transform("count"))
    merged["campaign_share"] = share
    merged["current_campaign_spend"] = merged["daily_spend"].round(2)
    merged["recommended_campaign_spend"] = (merged["recommended_spend"] * share).round(2)
    # Put each channel's rounding remainder on its largest campaign so channels still sum exactly.
    remainder = merged["recommended_spend"].round(2) - merged.groupby("channel")["recommended_campaign_spend"].transform("sum")
    largest = merged.groupby("channel")["campaign_share"].transform("max") == merged["campaign_share"]
    first_largest = largest & ~merged.loc[largest].duplicated("channel").reindex(merged.index, fill_value=True)
    merged.loc[first_largest, "recommended_campaign_spend"] += remainder[first_largest]
    return merged.drop(columns=["daily_spend", "spend", "conversions"]).rename(columns={"source_sha256s": "source_media_sha256s"})
