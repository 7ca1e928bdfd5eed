"""allocations: tomorrow's daily budget per channel and campaign, within guardrails.

Design: the channel budgets come from the configured method (mmm_optimal by default, inverse_cpa
or uniform) under the guardrails, relative to each channel's trailing base (its average daily spend
over the last BASE_DAYS days, so a flighted channel that is off this week keeps its usual level as
the base); each channel's budget is then split across its campaigns by Thompson sampling on
conversions per unit of spend over the last THOMPSON_DAYS days (gtm_assets.models.bandit; channels
without tracked conversions keep their recent spend shares).
"""

import math
from typing import Literal

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field

from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.allocate import Guardrails, InfeasibleGuardrails, allocate
from gtm_assets.models.allocate_curves import curves_from_table, daily_revenue, draw_revenue, interval
from gtm_assets.models.allocate_robust import ROBUST_SHARE
from gtm_assets.models.bandit import MIN_CAMPAIGN_SHARE, split_channel_budget
from gtm_assets.models.spend import BASE_DAYS, CAMPAIGN_STATS_SQL, channel_spend
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.reads import bootstrap_draws
from gtm_assets.warehouse.resource import DuckDBWarehouse

HISTORY_COLUMNS = "allocated_at, run_id, lineage_id, channel, campaign, method, recommended_spend, recommended_campaign_spend"
# The column schema shown in the Dagster UI. Channel-level figures repeat on each of the channel's campaign rows;
# money is in the spend's currency, revenue in the MMM's units (revenue of consented sessions).
COLUMN_DESCRIPTIONS = {
    "lineage_id": "Keyed lineage id of the row: lineage_id('allocation', run_id | channel | campaign).",
    "channel": "Media channel.",
    "campaign": "Campaign within the channel (one row per campaign).",
    "current_spend": "The channel's trailing base: its average daily spend over the last 28 days of media data.",
    "recommended_spend": (
        "Recommended daily budget for the whole channel, within its guardrails, rounded to cents; the channels sum to "
        "total_daily_budget."
    ),
    "change_pct": "recommended_spend / current_spend - 1, as a fraction (0.25 = +25%); null where current_spend is 0.",
    "expected_incremental_revenue": "The MMM's steady-state incremental revenue per day from the channel at recommended_spend.",
    "expected_incremental_revenue_lo": (
        "Lower bound of the 90% interval of expected_incremental_revenue over the MMM's bootstrap draws (5th percentile, widened "
        "to hold the point)."
    ),
    "expected_incremental_revenue_hi": (
        "Upper bound of the 90% interval of expected_incremental_revenue over the MMM's bootstrap draws (95th percentile, "
        "widened to hold the point)."
    ),
    "marginal_roi": "The MMM's extra revenue per day per extra unit of daily spend on the channel, at recommended_spend.",
    "method": "Channel-level allocation method: mmm_optimal, inverse_cpa or uniform.",
    "decision": (
        "mmm_optimal: confident (the model decides the channel's spend) or why it holds its base: hold: not identified, "
        "hold: experiment disagrees, hold: confounded by demand, hold: gain not robust; null for the other methods."
    ),
    "decision_reason": "Why: the model's flag, or the share of its bootstrap draws in which the channel's move gains.",
    "gain_robustness": (
        "Share (0-1) of the model's bootstrap draws in which this channel's move beats holding it (the others re-optimised); "
        "a move needs robust_share. Null where a flag held it."
    ),
    "guardrails_hit": (
        "Guardrails that bind the channel at recommended_spend, comma-separated (floor, ceiling, volatility_cap, min_learning); "
        "empty if none."
    ),
    "rationale": "Plain-English reason for the channel's budget and for this campaign's share of it.",
    "unconstrained_spend": (
        "The MMM's optimal daily spend for the channel under the total budget alone, without the guardrails; null unless method "
        "is mmm_optimal."
    ),
    "guardrail_cost": (
        "Expected revenue per day the guardrails give up against the unconstrained optimum (same on every row); null unless "
        "method is mmm_optimal."
    ),
    "excluded_reason": ("Why inverse_cpa left the channel out of its split (no tracked conversions); empty otherwise."),
    "campaign_share": "Share (0-1) of the channel's recommended_spend given to this campaign.",
    "p_best": (
        "Thompson sampling: posterior probability (0-1) that this campaign has the channel's highest conversions per unit of "
        "spend; null for recent_share."
    ),
    "conversions_per_spend": (
        "Posterior mean conversions per unit of spend over the last 28 days (Gamma-Poisson, prior at the channel's pooled rate); "
        "null for recent_share."
    ),
    "conversions_per_spend_lo": (
        "Lower bound of the 90% posterior interval of conversions_per_spend (5th percentile); null for recent_share."
    ),
    "conversions_per_spend_hi": (
        "Upper bound of the 90% posterior interval of conversions_per_spend (95th percentile); null for recent_share."
    ),
    "split_method": (
        "How the channel's budget was split across campaigns: thompson (on tracked conversions) or recent_share (their 28-day "
        "spend shares)."
    ),
    "recommended_campaign_spend": (
        "Recommended daily budget for this campaign: recommended_spend x campaign_share, in cents that sum exactly to the "
        "channel's."
    ),
    "current_campaign_spend": "The campaign's average daily spend over the last 28 days of media data, rounded to cents.",
    "campaign_change_pct": (
        "recommended_campaign_spend / current_campaign_spend - 1, as a fraction; null where current_campaign_spend is 0."
    ),
    "campaign_expected_incremental_revenue": (
        "expected_incremental_revenue x campaign_share: the campaign's part of the channel's daily revenue (the MMM is "
        "channel-level)."
    ),
    "campaign_expected_incremental_revenue_lo": (
        "expected_incremental_revenue_lo x campaign_share (lower bound of the campaign's 90% interval)."
    ),
    "campaign_expected_incremental_revenue_hi": (
        "expected_incremental_revenue_hi x campaign_share (upper bound of the campaign's 90% interval)."
    ),
    "source_media_sha256s": "sha256 of each raw_media_spend landing file with rows of this campaign.",
    "allocated_at": "When the allocation was written (UTC, stored without a time zone).",
    "run_id": "Dagster run id that wrote the allocation.",
    "total_daily_budget": (
        "Daily budget allocated across all channels (config, else the 28-day average daily total), rounded to cents."
    ),
    "guardrail_floor": "Configured minimum daily spend for the channel; 0 when none is set.",
    "guardrail_ceiling": "Configured maximum daily spend for the channel; null when none is set.",
    "guardrail_min_learning": (
        "Configured minimum daily spend for every channel with a positive base, so it stays out of a learning phase."
    ),
    "guardrail_max_change_pct": (
        "Volatility cap: largest move from the channel's 28-day base, as a fraction (0.25 = 25% up or down); null when off."
    ),
    "baseline_spend": "The channel's average daily spend over the last 28 days of media data (the base; equals current_spend).",
    "base_window_days": "Days in the trailing base window of current_spend and baseline_spend (28).",
    "recent_7d_spend": "The channel's average daily spend over the last 7 days of media data.",
    "currently_off": "True when the channel has a positive 28-day base but no spend in the last 7 days (e.g. between flights).",
    "value_basis": (
        "What revenue was optimised (config): first_purchase_revenue (the MMM's revenue) or predicted_ltv (each channel's "
        "revenue weighted by the predicted lifetime value of the customers it brings, customer_ltv)."
    ),
    "mmm_lineage_id": "lineage_id of the mmm_model row (the channel's response curve) the plan was computed from.",
}


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
    robust_share: float = Field(
        default=ROBUST_SHARE,
        ge=0.5,
        le=1.0,
        description="mmm_optimal: share of the model's bootstrap draws in which a channel's move must gain, else it holds "
        "its base (0.7: measured over simulated worlds in benchmarks/mmm_worlds.py; a flagged channel needs 0.9)",
    )
    seed: int = Field(default=0, description="seed of the Thompson sampling draws")
    value_basis: Literal["first_purchase_revenue", "predicted_ltv"] = Field(
        default="first_purchase_revenue",
        description="what a channel's revenue is worth: the revenue the media-mix model measures (first_purchase_revenue), "
        "or that revenue weighted by the predicted lifetime value of the customers the channel brings (predicted_ltv: "
        "customer_ltv)",
    )


# Per channel, what its customers are worth beyond the purchase that converted them: over every customer
# whose first conversion (touchpoints) came through the channel, (first conversion value + predicted LTV)
# / first conversion value. Channels without such customers keep 1.
LTV_MULTIPLIERS_SQL = """
WITH first_conversions AS (
    SELECT user_key, arg_min(channel, (converted_at, session_lineage_id)) AS channel,
           arg_min(conversion_value, (converted_at, session_lineage_id))::DOUBLE AS value
    FROM main.touchpoints WHERE is_conversion_touch GROUP BY user_key
)
SELECT f.channel, (sum(f.value) + sum(coalesce(l.predicted_ltv, 0))) / sum(f.value) AS multiplier, count(*) AS customers
FROM first_conversions f LEFT JOIN main.customer_ltv l USING (user_key)
GROUP BY f.channel HAVING sum(f.value) > 0
"""


def ltv_multipliers(conn, channels: list[str]) -> dict[str, float]:
    """The LTV weight of each channel's revenue (LTV_MULTIPLIERS_SQL), 1.0 for channels without data."""
    found = {channel: float(m) for channel, m, _ in conn.execute(LTV_MULTIPLIERS_SQL).fetchall()}
    return {channel: found.get(channel, 1.0) for channel in channels}


def _value_weighted(table: pd.DataFrame | None, multipliers: dict[str, float]) -> pd.DataFrame | None:
    """Response curves (mmm_model or bootstrap-draw rows) with each channel's coefficient scaled."""
    if table is None:
        return None
    return table.assign(coefficient=table["coefficient"] * table["channel"].map(multipliers).fillna(1.0))


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
    deps=["mmm_model", "forecast", "raw_media_spend", "customer_ltv", "touchpoints"],
    group_name="activation",
    owners=[OWNER],
    kinds={"duckdb", "python", "scipy"},
    pool=DUCKDB_POOL,
)
def allocations(context: dg.AssetExecutionContext, config: AllocationConfig, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Daily budget per channel for a total budget (default: the trailing 28-day daily average) by
    the configured method (mmm_optimal by default: the global optimum of the fitted response curves,
    moving a channel only where the move gains in most of the model's bootstrap draws, each row
    saying confident or why it holds; inverse_cpa; uniform), within floors, ceilings, a volatility cap against each channel's trailing 28-day
    average daily spend and a minimum learning spend; each channel split across its campaigns by
    Thompson sampling on conversions per unit of spend. Rows carry the expected
    incremental revenue with its interval from the model's bootstrap draws, marginal ROI, the
    guardrails that bound, the unconstrained optimum and the revenue the guardrails cost, and a
    rationale; the metadata has the forecast pacing with and without the plan. With `value_basis:
    predicted_ltv` each channel's revenue is weighted by what its customers are predicted to be worth."""
    with warehouse.transaction() as conn:
        stats = conn.execute(CAMPAIGN_STATS_SQL).fetchdf()
        base, recent, cpa, window = channel_spend(stats)
        channels = list(base)
        mmm = conn.execute("SELECT * FROM main.mmm_model").fetchdf()
        draws = bootstrap_draws(conn)
        multipliers = ltv_multipliers(conn, channels) if config.value_basis == "predicted_ltv" else {}
        if multipliers:
            mmm, draws = _value_weighted(mmm, multipliers), _value_weighted(draws, multipliers)
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
                robust_share=config.robust_share,
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
            value_basis=config.value_basis,
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
        metadata = table_metadata(conn, "main.allocations", descriptions=COLUMN_DESCRIPTIONS)
    shown = plan[
        [
            "channel",
            "current_spend",
            "recommended_spend",
            "unconstrained_spend",
            "change_pct",
            "expected_incremental_revenue",
            "marginal_roi",
            "decision",
            "guardrails_hit",
        ]
    ]
    point, lo, hi = plan.attrs["total_revenue"]
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "method": config.method,
            "value_basis": config.value_basis,
            **(
                {"ltv_multipliers": dg.MetadataValue.json({c: round(m, 4) for c, m in multipliers.items()})}
                if multipliers
                else {}
            ),
            "total_daily_budget": dg.MetadataValue.float(float(total)),
            "base": window,
            "plan": dg.MetadataValue.md(shown.round(3).to_markdown(index=False)),
            "expected_daily_revenue": dg.MetadataValue.json({"point": round(point, 2), "lo": round(lo, 2), "hi": round(hi, 2)}),
            "guardrail_cost_per_day": dg.MetadataValue.float(float(plan["guardrail_cost"].iloc[0])),
            "channels_excluded": dg.MetadataValue.json(
                {r.channel: r.excluded_reason for r in plan.itertuples() if r.excluded_reason}
            ),
            "decisions": dg.MetadataValue.json(
                {r.channel: f"{r.decision}: {r.decision_reason}" for r in plan.itertuples() if r.decision}
            ),
            **_robustness(plan.attrs["gain_robustness"]),
            **pacing,
        }
    )


def _robustness(share: float) -> dict:
    """The share of the model's draws in which the whole plan beats keeping the base (mmm_optimal with draws)."""
    return {} if math.isnan(share) else {"plan_beats_base_share": dg.MetadataValue.float(float(share))}


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
