"""allocations: tomorrow's daily budget per channel and campaign, within guardrails.

Design: the channel budgets come from the configured method (mmm_optimal by default, inverse_cpa
or uniform) under the guardrails, relative to each channel's trailing base (its average daily spend
over the last BASE_DAYS days, so a flighted channel that is off this week keeps its usual level as
the base); each channel's budget is then split across its campaigns by Thompson sampling on
conversions per unit of spend over the last THOMPSON_DAYS days (gtm_assets.models.bandit; channels
without tracked conversions keep their recent spend shares).
"""

from typing import Literal

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field

from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.allocate import Guardrails, InfeasibleGuardrails, allocate
from gtm_assets.models.allocate_curves import curves_from_table, daily_revenue, draw_revenue, interval
from gtm_assets.models.bandit import MIN_CAMPAIGN_SHARE, split_channel_budget
from gtm_assets.models.spend import BASE_DAYS, CAMPAIGN_STATS_SQL, channel_spend
from gtm_assets.observability import table_metadata
from gtm_assets.reads import bootstrap_draws
from gtm_assets.warehouse import DuckDBWarehouse

HISTORY_COLUMNS = "allocated_at, run_id, lineage_id, channel, campaign, method, recommended_spend, recommended_campaign_spend"


class AllocationConfig(dg.Config):
    method: Literal["mmm_optimal", "inverse_cpa", "uniform"] = Field(
        default="mmm_optimal",
        description="channel-level method: mmm_optimal (global optimum of the MMM's curves), inverse_cpa or uniform",
    )
    total_daily_budget: float | None = Field(
        default=None, gt=0, description="daily budget to allocate; empty keeps the trailing base's daily total"
    )
    max_daily_change_pct: float | None = Field(
        default=0.25,
        ge=0,
        le=10,
        description="volatility cap: largest move from the 28-day base, as a fraction (0.25 = 25%); empty turns it off",
    )
    min_learning_spend: float = Field(
        default=25.0, ge=0, description="daily minimum for a channel that is spending, so it stays out of a learning phase"
    )
    floors: dict[str, float] = Field(default={}, description='per-channel minimum daily spend, e.g. {"Search": 1000}')
    ceilings: dict[str, float] = Field(default={}, description="per-channel maximum daily spend")
    min_campaign_share: float = Field(
        default=MIN_CAMPAIGN_SHARE, ge=0, le=0.5, description="Thompson sampling: least share per campaign, so it keeps learning"
    )
    hold_unidentified: bool = Field(
        default=False,
        description="mmm_optimal: keep the channels the MMM cannot identify at their base spend instead of acting on "
        "their curves (measured over simulated worlds it gives up revenue on average; a risk choice)",
    )
    seed: int = Field(default=0, description="seed of the Thompson sampling draws")


def _pacing(conn, mmm: pd.DataFrame, draws: pd.DataFrame | None, plan: pd.DataFrame, base: dict[str, float]) -> dict:
    """Forecast revenue over its horizon without the plan (base spend) and with it.

    The forecast assumes the base spend continues; the plan adds the MMM's steady-state daily
    revenue change (plan minus base, interval over the bootstrap draws) for every horizon day.
    """
    days, status_quo = conn.execute("SELECT count(*), coalesce(sum(yhat), 0) FROM main.forecast").fetchall()[0]
    channels = plan["channel"].tolist()
    now = np.array([base[c] for c in channels])
    planned = plan["recommended_spend"].to_numpy()
    curves = curves_from_table(channels, mmm)
    change = float(daily_revenue(curves, planned).sum() - daily_revenue(curves, now).sum())
    metadata = {
        "pacing_horizon_days": dg.MetadataValue.int(int(days)),
        "forecast_horizon_revenue_without_plan": dg.MetadataValue.float(float(status_quo)),
        "forecast_horizon_revenue_with_plan": dg.MetadataValue.float(float(status_quo + change * days)),
    }
    if draws is not None and len(draws):
        per_draw = draw_revenue(draws, channels, np.vstack([now, planned])).sum(axis=2)
        lo, hi = interval(per_draw[:, 1] - per_draw[:, 0], point=change)
        metadata["plan_revenue_change_interval"] = dg.MetadataValue.json(
            {"lo": round(float(lo * days), 2), "hi": round(float(hi * days), 2)}
        )
    return metadata


@dg.asset(
    deps=["mmm_model", "forecast", "raw_media_spend"],
    group_name="activation",
    owners=[OWNER],
    kinds={"duckdb", "python", "scipy"},
    pool=DUCKDB_POOL,
)
def allocations(context: dg.AssetExecutionContext, config: AllocationConfig, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Daily budget per channel for a total budget (default: the trailing 28-day daily average) by
    the configured method (mmm_optimal, the global optimum of the fitted response curves, by
    default; inverse_cpa; uniform), within floors, ceilings, a volatility cap against each channel's
    trailing 28-day average daily spend and a minimum learning spend; each channel split across its
    campaigns by Thompson sampling on conversions per unit of spend. Rows carry the expected
    incremental revenue with its interval from the model's bootstrap draws, marginal ROI, the
    guardrails that bound, the unconstrained optimum and the revenue the guardrails cost, and a
    rationale; the metadata has the forecast pacing with and without the plan."""
    with warehouse.transaction() as conn:
        stats = conn.execute(CAMPAIGN_STATS_SQL).fetchdf()
        base, recent, cpa, window = channel_spend(stats)
        channels = list(base)
        mmm = conn.execute("SELECT * FROM main.mmm_model").fetchdf()
        draws = bootstrap_draws(conn)
        total = config.total_daily_budget if config.total_daily_budget is not None else sum(base.values())
        guardrails = Guardrails(
            total_daily_budget=total,
            floors=config.floors,
            ceilings=config.ceilings,
            max_daily_change_pct=config.max_daily_change_pct,
            min_learning_spend=config.min_learning_spend,
            base_label=window,
        )
        try:
            plan = allocate(
                config.method,
                channels=channels,
                current=base,
                guardrails=guardrails,
                mmm_channels=mmm,
                cpa=cpa,
                draws=draws,
                hold_unidentified=config.hold_unidentified,
            )
        except (InfeasibleGuardrails, ValueError) as error:  # the guardrails or config cannot be met: say which, in one line
            raise dg.Failure(description=f"allocations: {error}") from None
        campaigns = _campaign_rows(plan, stats, config)
        campaigns = campaigns.assign(
            allocated_at=pd.Timestamp.now(tz="UTC").tz_localize(None),
            run_id=context.run_id,
            total_daily_budget=round(float(total), 2),
            guardrail_floor=campaigns["channel"].map(lambda c: config.floors.get(c, 0.0)),
            guardrail_ceiling=campaigns["channel"].map(lambda c: config.ceilings.get(c, np.nan)),
            guardrail_min_learning=config.min_learning_spend,
            guardrail_max_change_pct=np.nan if config.max_daily_change_pct is None else config.max_daily_change_pct,
            baseline_spend=campaigns["channel"].map(base),
            base_window_days=BASE_DAYS,
            recent_7d_spend=campaigns["channel"].map(recent),
            currently_off=campaigns["channel"].map(lambda c: recent[c] < 0.005 and base[c] > 0),
            mmm_lineage_id=campaigns["channel"].map(dict(zip(mmm["channel"], mmm["lineage_id"]))),
        )
        conn.register("campaigns", campaigns)
        conn.execute(
            "CREATE OR REPLACE TABLE main.allocations AS SELECT lineage_id('allocation', run_id || '|' || channel "
            "|| '|' || campaign) AS lineage_id, * FROM campaigns"
        )
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS main.allocation_history AS SELECT {HISTORY_COLUMNS} FROM main.allocations LIMIT 0"
        )
        conn.execute(f"INSERT INTO main.allocation_history BY NAME SELECT {HISTORY_COLUMNS} FROM main.allocations")
        pacing = _pacing(conn, mmm, draws, plan, base)
        metadata = table_metadata(conn, "main.allocations")
    shown = plan[
        [
            "channel",
            "current_spend",
            "recommended_spend",
            "unconstrained_spend",
            "change_pct",
            "expected_incremental_revenue",
            "marginal_roi",
            "guardrails_hit",
        ]
    ]
    point, lo, hi = plan.attrs["total_revenue"]
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "method": config.method,
            "total_daily_budget": dg.MetadataValue.float(float(total)),
            "base": window,
            "plan": dg.MetadataValue.md(shown.round(3).to_markdown(index=False)),
            "expected_daily_revenue": dg.MetadataValue.json({"point": round(point, 2), "lo": round(lo, 2), "hi": round(hi, 2)}),
            "guardrail_cost_per_day": dg.MetadataValue.float(float(plan["guardrail_cost"].iloc[0])),
            "channels_excluded": dg.MetadataValue.json(
                {r.channel: r.excluded_reason for r in plan.itertuples() if r.excluded_reason}
            ),
            **pacing,
        }
    )


def _campaign_rows(plan: pd.DataFrame, stats: pd.DataFrame, config: AllocationConfig) -> pd.DataFrame:
    """One row per campaign: the channel's plan row, its Thompson split and the campaign figures."""
    frames = []
    for row in plan.itertuples(index=False):
        # The campaigns' spend shares (used where a channel tracks no conversions) are over the base window.
        own = stats[stats["channel"] == row.channel].reset_index(drop=True).assign(recent_spend=lambda f: f["base_spend"])
        split = split_channel_budget(
            row.channel, row.recommended_spend, own, min_share=config.min_campaign_share, seed=config.seed
        )
        frame = pd.DataFrame([row._asdict()] * len(split)).join(split.drop(columns="campaign"))
        frame.insert(1, "campaign", own["campaign"])
        frame["current_campaign_spend"] = own["recent_spend"].round(2)
        frame["campaign_change_pct"] = np.where(
            frame["current_campaign_spend"] > 0,
            frame["recommended_campaign_spend"] / frame["current_campaign_spend"] - 1.0,
            np.nan,
        )
        # The MMM is channel-level: a campaign's expected revenue is its share of the channel's.
        for col in ("expected_incremental_revenue", "expected_incremental_revenue_lo", "expected_incremental_revenue_hi"):
            frame[f"campaign_{col}"] = frame[col] * frame["campaign_share"]
        frame["rationale"] = frame["rationale"] + " " + frame["split_rationale"] + "."
        frame["source_media_sha256s"] = own["source_media_sha256s"]
        frames.append(frame.drop(columns="split_rationale"))
    return pd.concat(frames, ignore_index=True)
