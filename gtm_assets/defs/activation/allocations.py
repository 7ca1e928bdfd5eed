"""allocations: tomorrow's daily budget per channel and campaign, within guardrails.

Design: the channel budgets come from the configured method (mmm_optimal by default, inverse_cpa
or uniform) under the guardrails; each channel's budget is then split across its campaigns by
Thompson sampling on conversions per unit of spend over the last THOMPSON_DAYS days
(gtm_assets.models.bandit; channels without tracked conversions keep their recent spend shares).
"""

import dagster as dg
import numpy as np
import pandas as pd

from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.allocate import Guardrails, allocate, revenue_interval
from gtm_assets.models.bandit import MIN_CAMPAIGN_SHARE, split_channel_budget
from gtm_assets.models.mmm import expected_response
from gtm_assets.observability import table_metadata
from gtm_assets.warehouse import DuckDBWarehouse

RECENT_DAYS = 7
THOMPSON_DAYS = 28
HISTORY_COLUMNS = "allocated_at, run_id, lineage_id, channel, campaign, method, recommended_spend, recommended_campaign_spend"

CAMPAIGN_STATS_SQL = f"""
WITH media AS (
    SELECT date::DATE AS day, channel, campaign, spend::DOUBLE AS spend,
           conversions::DOUBLE AS conversions, source_file_sha256
    FROM raw.raw_media_spend
),
last_day AS (SELECT max(day) AS day FROM media)
SELECT channel, campaign,
       sum(spend) FILTER (WHERE m.day > l.day - {RECENT_DAYS}) / {RECENT_DAYS} AS recent_spend,
       coalesce(sum(spend) FILTER (WHERE m.day > l.day - {RECENT_DAYS}), 0) AS recent_window_spend,
       coalesce(sum(conversions) FILTER (WHERE m.day > l.day - {RECENT_DAYS}), 0) AS recent_conversions,
       coalesce(sum(spend) FILTER (WHERE m.day > l.day - {THOMPSON_DAYS}), 0) AS window_spend,
       coalesce(sum(conversions) FILTER (WHERE m.day > l.day - {THOMPSON_DAYS}), 0) AS window_conversions,
       list(DISTINCT source_file_sha256 ORDER BY source_file_sha256) AS source_media_sha256s
FROM media m, last_day l
GROUP BY channel, campaign ORDER BY channel, campaign
"""


class AllocationConfig(dg.Config):
    method: str = "mmm_optimal"  # channel level: mmm_optimal, inverse_cpa or uniform
    total_daily_budget: float | None = None  # None: keep the recent daily total
    max_daily_change_pct: float | None = 0.25
    min_learning_spend: float = 25.0
    floors: dict[str, float] = {}
    ceilings: dict[str, float] = {}
    min_campaign_share: float = MIN_CAMPAIGN_SHARE
    seed: int = 0


def previous_allocation(conn) -> dict[str, float]:
    """Channel spends of the last allocation stored in main.allocation_history ({} if none)."""
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


def _pacing(conn, mmm: pd.DataFrame, plan: pd.DataFrame, current: dict[str, float]) -> dict:
    """Forecast revenue over its horizon without the plan (current spend) and with it.

    The forecast assumes today's spend continues; the plan adds the MMM's steady-state daily
    revenue change (plan minus current spend, interval from the ROI interval) for every horizon day.
    """
    days, status_quo = conn.execute("SELECT count(*), coalesce(sum(yhat), 0) FROM main.forecast").fetchall()[0]
    channels = plan["channel"].tolist()
    rows = mmm.set_index("channel").loc[channels].to_dict("records")
    now = np.array([expected_response(r, 7 * current[c]) / 7 for r, c in zip(rows, channels)])
    change = plan["expected_incremental_revenue"].to_numpy() - now
    lo, hi = revenue_interval(mmm, channels, change, plan["recommended_spend"].to_numpy() - np.array([current[c] for c in channels]))
    return {
        "pacing_horizon_days": dg.MetadataValue.int(int(days)),
        "forecast_horizon_revenue_without_plan": dg.MetadataValue.float(float(status_quo)),
        "forecast_horizon_revenue_with_plan": dg.MetadataValue.float(float(status_quo + change.sum() * days)),
        "plan_revenue_change_interval": dg.MetadataValue.json(
            {"lo": round(float(lo.sum() * days), 2), "hi": round(float(hi.sum() * days), 2)}
        ),
    }


@dg.asset(
    deps=["mmm_model", "forecast", "raw_media_spend"],
    group_name="activation",
    owners=[OWNER],
    kinds={"duckdb", "python", "scipy"},
    pool=DUCKDB_POOL,
)
def allocations(context: dg.AssetExecutionContext, config: AllocationConfig, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Daily budget per channel for a total budget by the configured method (mmm_optimal from the
    fitted response curves by default, inverse_cpa, uniform), within floors, ceilings, a day-over-day
    volatility cap against the last allocation in DuckDB and a minimum learning spend; each channel
    split across its campaigns by Thompson sampling on conversions per unit of spend. Rows carry the
    expected incremental revenue with its interval, marginal ROI, the guardrails that bound and a
    rationale; the metadata has the forecast pacing with and without the plan."""
    with warehouse.get_connection() as conn:
        stats = conn.execute(CAMPAIGN_STATS_SQL).fetchdf()
        by_channel = stats.groupby("channel").agg(
            recent_spend=("recent_spend", "sum"), spend=("recent_window_spend", "sum"), conversions=("recent_conversions", "sum")
        )
        channels = list(by_channel.index)
        current = {c: float(by_channel.loc[c, "recent_spend"]) for c in channels}
        previous = previous_allocation(conn)
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
        campaigns = _campaign_rows(plan, stats, config)
        campaigns = campaigns.assign(
            allocated_at=pd.Timestamp.now(tz="UTC").tz_localize(None),
            run_id=context.run_id,
            total_daily_budget=round(float(total), 2),
            guardrail_floor=campaigns["channel"].map(lambda c: config.floors.get(c, 0.0)),
            guardrail_ceiling=campaigns["channel"].map(lambda c: config.ceilings.get(c, np.nan)),
            guardrail_min_learning=config.min_learning_spend,
            guardrail_max_change_pct=np.nan if config.max_daily_change_pct is None else config.max_daily_change_pct,
            baseline_spend=campaigns["channel"].map(baseline),
            mmm_lineage_id=campaigns["channel"].map(dict(zip(mmm["channel"], mmm["lineage_id"]))),
        )
        conn.register("campaigns", campaigns)
        conn.execute(
            "CREATE OR REPLACE TABLE main.allocations AS SELECT lineage_id('allocation', run_id || '|' || channel "
            "|| '|' || campaign) AS lineage_id, * FROM campaigns"
        )
        conn.execute(f"CREATE TABLE IF NOT EXISTS main.allocation_history AS SELECT {HISTORY_COLUMNS} FROM main.allocations LIMIT 0")
        conn.execute(f"INSERT INTO main.allocation_history BY NAME SELECT {HISTORY_COLUMNS} FROM main.allocations")
        pacing = _pacing(conn, mmm, plan, current)
        metadata = table_metadata(conn, "main.allocations")
    shown = plan[["channel", "current_spend", "recommended_spend", "change_pct", "expected_incremental_revenue", "marginal_roi", "guardrails_hit"]]
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "method": config.method,
            "total_daily_budget": dg.MetadataValue.float(float(total)),
            "plan": dg.MetadataValue.md(shown.round(3).to_markdown(index=False)),
            **pacing,
        }
    )


def _campaign_rows(plan: pd.DataFrame, stats: pd.DataFrame, config: AllocationConfig) -> pd.DataFrame:
    """One row per campaign: the channel's plan row, its Thompson split and the campaign figures."""
    frames = []
    for row in plan.itertuples(index=False):
        own = stats[stats["channel"] == row.channel].reset_index(drop=True)
        split = split_channel_budget(row.channel, row.recommended_spend, own, min_share=config.min_campaign_share, seed=config.seed)
        frame = pd.DataFrame([row._asdict()] * len(split)).join(split.drop(columns="campaign"))
        frame.insert(1, "campaign", own["campaign"])
        frame["current_campaign_spend"] = own["recent_spend"].round(2)
        frame["campaign_change_pct"] = np.where(
            frame["current_campaign_spend"] > 0, frame["recommended_campaign_spend"] / frame["current_campaign_spend"] - 1.0, np.nan
        )
        # The MMM is channel-level: a campaign's expected revenue is its share of the channel's.
        for col in ("expected_incremental_revenue", "expected_incremental_revenue_lo", "expected_incremental_revenue_hi"):
            frame[f"campaign_{col}"] = frame[col] * frame["campaign_share"]
        frame["rationale"] = frame["rationale"] + " " + frame["split_rationale"] + "."
        frame["source_media_sha256s"] = own["source_media_sha256s"]
        frames.append(frame.drop(columns="split_rationale"))
    return pd.concat(frames, ignore_index=True)
