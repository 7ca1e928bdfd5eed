"""experiment_results: every ad set's creative variants as an A/B test on the synced ad metrics."""

from typing import Literal

import dagster as dg
import pandas as pd
from pydantic import Field

from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.experiments import StopRule, summarize
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

METRICS = {"ctr": ("clicks", "impressions"), "cvr": ("conversions", "clicks")}
VARIANTS_SQL = """
SELECT c.ad_set_id, any_value(c.channel) AS channel, any_value(c.campaign) AS campaign, c.creative_id, any_value(c.variant) AS variant,
       coalesce(sum(m.impressions), 0) AS impressions, coalesce(sum(m.clicks), 0) AS clicks,
       coalesce(round(sum(m.conversions)), 0) AS conversions, min(m.date) AS first_day, max(m.date) AS last_day
FROM main.creative_library c
LEFT JOIN main.platform_ad_metrics m ON m.creative_id = c.creative_id
WHERE c.status <> 'blocked'
GROUP BY c.ad_set_id, c.creative_id
ORDER BY c.ad_set_id, variant
"""


class ExperimentConfig(dg.Config):
    metric: Literal["ctr", "cvr"] = Field(default="ctr", description="ctr: clicks per impression; cvr: conversions per click")
    min_sample: int = Field(default=1000, ge=1, description="trials every variant needs before a winner can be declared")
    p_best_threshold: float = Field(
        default=0.95, gt=0.5, lt=1, description="stop rule: declare the variant whose P(best) reaches this"
    )
    interval: float = Field(default=0.9, gt=0, lt=1, description="credible interval of each rate")


def experiment_table(variants: pd.DataFrame, config: ExperimentConfig) -> pd.DataFrame:
    """One row per variant with its rate, interval, P(best), the experiment's status and winner."""
    successes, trials = METRICS[config.metric]
    rule = StopRule(min_sample=config.min_sample, p_best_threshold=config.p_best_threshold)
    frames = []
    for _ad_set_id, group in variants.groupby("ad_set_id", sort=False):  # one small test per ad set
        summary, winner, reason = summarize(group.assign(successes=group[successes], trials=group[trials]), rule, config.interval)
        status = "winner" if winner is not None else ("collecting" if reason.startswith("collecting") else "running")
        frames.append(
            summary.assign(status=status, reason=reason, is_winner=summary["variant"] == winner if winner is not None else False)
        )
    columns = [
        "ad_set_id",
        "channel",
        "campaign",
        "creative_id",
        "variant",
        "impressions",
        "clicks",
        "conversions",
        "successes",
        "trials",
        "rate",
        "rate_lo",
        "rate_hi",
        "p_best",
        "status",
        "is_winner",
        "reason",
        "first_day",
        "last_day",
    ]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


COLUMN_DESCRIPTIONS = {
    "ad_set_id": "Ad set whose creative variants are tested against each other.",
    "creative_id": "Creative of the variant.",
    "variant": "Variant label within the ad set.",
    "successes": "Successes of the metric (clicks for a click rate, conversions for a conversion rate).",
    "trials": "Trials of the metric (impressions for a click rate, clicks for a conversion rate).",
    "rate": "successes / trials.",
    "rate_lo": "Lower end of the rate's credible interval (config interval, 90% by default; Beta(1 + successes, 1 + failures)).",
    "rate_hi": "Upper end of the rate's credible interval.",
    "p_best": "Posterior probability that this variant has the highest rate.",
    "status": "winner, running or collecting (below the minimum sample).",
    "is_winner": "True for the variant declared the winner.",
    "reason": "Why the test stands where it does, in words.",
    "first_day": "First day of metrics in the test.",
    "last_day": "Last day of metrics in the test.",
    "metric": "The rate compared (click rate or conversion rate).",
    "min_sample": "Trials every variant needs before a winner can be declared.",
    "p_best_threshold": "p_best a variant needs to be declared the winner.",
    "evaluated_at": "When the test was evaluated (UTC).",
}


@dg.asset(
    deps=["platform_metrics", "creative_library"],
    group_name="measurement",
    owners=[OWNER],
    kinds={"duckdb", "python", "scipy"},
    pool=DUCKDB_POOL,
)
def experiment_results(config: ExperimentConfig, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Each ad set's creative variants as an A/B test on the synced ad metrics (platform_ad_metrics): every
    variant's rate (click or conversion rate, from config) with a Beta-Binomial credible interval and its
    probability of being best; a winner only when every variant has the minimum sample and one variant's
    P(best) reaches the threshold (status winner, running or collecting)."""
    with warehouse.get_connection() as conn:
        table = experiment_table(conn.execute(VARIANTS_SQL).fetchdf(), config)
        conn.register(
            "results", table.assign(metric=config.metric, min_sample=config.min_sample, p_best_threshold=config.p_best_threshold)
        )
        conn.execute(
            "CREATE OR REPLACE TABLE main.experiment_results AS SELECT lineage_id('experiment_variant', ad_set_id || '|' || "
            "creative_id) AS lineage_id, *, now()::TIMESTAMP AS evaluated_at FROM results"
        )
        metadata = table_metadata(conn, "main.experiment_results", descriptions=COLUMN_DESCRIPTIONS)
    statuses = table.drop_duplicates("ad_set_id")["status"].value_counts().to_dict() if len(table) else {}
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "experiments": int(table["ad_set_id"].nunique()) if len(table) else 0,
            "experiments_by_status": dg.MetadataValue.json({k: int(v) for k, v in statuses.items()}),
            "metric": config.metric,
        }
    )
