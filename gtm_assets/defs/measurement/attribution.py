"""attribution: seven multi-touch models on the journeys of touchpoints, with exact sums, next to the
media-mix model."""

import dagster as dg
import pandas as pd
from pydantic import Field

from gtm_assets.charts.assets import attribution_chart
from gtm_assets.defs.governance.checks import no_pii_check
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.attribution import (
    CONVERSION,
    NULL,
    START,
    STATE_SEPARATOR,
    exact_credits,
    markov_removal_effects,
    shapley_set_credits,
    split_by_campaign,
)
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

MODELS = ("last_touch", "first_touch", "linear", "time_decay", "position_based", "markov", "shapley")
RULE_BASED = MODELS[:5]

# Per-touch weights of the five rule-based models, for converted journeys, summed per channel and
# campaign. Time decay: 2^(-days before the conversion / half-life), normalised within the journey.
# Position based: first and last touch 40% each, the middle 20% split evenly (one touch: 100%, two: 50/50).
RULE_BASED_SQL = """
WITH t AS (
    SELECT journey_id, touch_order, touches_in_journey AS n, channel, campaign, days_before_end,
           conversion_value::DOUBLE AS value
    FROM main.touchpoints WHERE converted
),
weighted AS (
    SELECT channel, campaign, value,
           (touch_order = n)::DOUBLE AS last_touch,
           (touch_order = 1)::DOUBLE AS first_touch,
           1.0 / n AS linear,
           pow(0.5, days_before_end / $half_life) / sum(pow(0.5, days_before_end / $half_life)) OVER (PARTITION BY journey_id)
               AS time_decay,
           CASE WHEN n = 1 THEN 1.0 WHEN n = 2 THEN 0.5 WHEN touch_order IN (1, n) THEN $edge
                ELSE (1.0 - 2 * $edge) / (n - 2) END AS position_based
    FROM t
)
SELECT model, channel, campaign, sum(weight) AS conversions, sum(weight * value) AS revenue
FROM (UNPIVOT weighted ON last_touch, first_touch, linear, time_decay, position_based INTO NAME model VALUE weight)
GROUP BY ALL
"""
# Transitions of the order-k chain: a state is the last k channels of the path so far.
TRANSITIONS_SQL = """
WITH s AS (
    SELECT journey_id, touch_order, converted,
           array_to_string(list(channel) OVER (PARTITION BY journey_id ORDER BY touch_order
                                               ROWS BETWEEN {preceding} PRECEDING AND CURRENT ROW), '{sep}') AS state
    FROM main.touchpoints
),
steps AS (
    SELECT '{start}' AS from_state, state AS to_state FROM s WHERE touch_order = 1
    UNION ALL
    SELECT state, coalesce(lead(state) OVER (PARTITION BY journey_id ORDER BY touch_order),
                           CASE WHEN converted THEN '{conversion}' ELSE '{null}' END)
    FROM s
)
SELECT from_state, to_state, count(*) AS n FROM steps GROUP BY ALL
"""
CHANNEL_SETS_SQL = """
WITH j AS (
    SELECT journey_id, list_sort(list(DISTINCT channel)) AS channels, bool_or(converted) AS converted,
           max(conversion_value)::DOUBLE AS value
    FROM main.touchpoints GROUP BY journey_id
)
SELECT channels, count(*) AS journeys, count(*) FILTER (WHERE converted) AS conversions,
       coalesce(sum(value) FILTER (WHERE converted), 0) AS revenue
FROM j GROUP BY channels
"""
TOTALS_SQL = """
SELECT count(DISTINCT journey_id) FILTER (WHERE converted),
       coalesce(sum(conversion_value) FILTER (WHERE converted AND touch_order = 1), 0)::DECIMAL(18, 2),
       count(DISTINCT journey_id), min(converted_at)::DATE, max(converted_at)::DATE,
       count(DISTINCT user_key) FILTER (WHERE converted AND NOT consent_ads)
FROM main.touchpoints
"""

# The column schema shown in the Dagster UI. One row per model, channel and campaign; revenue is that of the
# converted journeys in main.touchpoints (users without ads consent included, in aggregate).
COLUMN_DESCRIPTIONS = {
    "lineage_id": "Keyed lineage id of the row: lineage_id('attribution', attributed_run_id | model | channel | campaign).",
    "model": "Attribution model: last_touch, first_touch, linear, time_decay, position_based, markov or shapley.",
    "channel": (
        "Channel of the touches (touchpoints: raw_media_spend's channel for the UTM campaign, else by UTM medium; or Direct)."
    ),
    "campaign": (
        "UTM campaign of the touches, (not set) if none; markov and shapley split a channel's credit by the linear model's."
    ),
    "credited_conversions": (
        "Conversions credited to the channel and campaign; a model's rows sum exactly to the conversions, to 1/10,000."
    ),
    "credited_revenue": (
        "Revenue credited to the channel and campaign; a model's rows sum exactly to the converted journeys' revenue."
    ),
    "half_life_days": (
        "Time decay's half-life (config): a touch this many days before the conversion counts half; same on every row."
    ),
    "markov_order": "Order of the Markov chain (config): a state is the last k channels of the path; same on every row.",
    "lookback_days": (
        "Lookback of touchpoints (dbt var attribution_lookback_days): only touches this many days before a conversion count."
    ),
    "attributed_run_id": "Dagster run id of the attribution materialization.",
    "attributed_at": "When the table was written (now() during the run, without time zone).",
}


class AttributionConfig(dg.Config):
    half_life_days: float = Field(
        default=7.0, gt=0, description="time decay: a touch this many days before the conversion counts half"
    )
    position_edge_share: float = Field(
        default=0.4, ge=0, le=0.5, description="position based: share of the first and of the last touch"
    )
    markov_order: int = Field(default=1, ge=1, le=4, description="Markov chain order: a state is the last k channels")


def attribution_credits(conn, config: AttributionConfig) -> tuple[pd.DataFrame, dict]:
    """Every model's credits per channel and campaign (credited_conversions to 1/10,000, credited_revenue
    to the cent, each summing exactly to the totals), and the totals and the Markov removal effects."""
    total_conversions, total_revenue, journeys, first_day, last_day, non_consented = conn.execute(TOTALS_SQL).fetchall()[0]
    total_cents = int(round(total_revenue * 100))
    rule_based = conn.execute(RULE_BASED_SQL, {"half_life": config.half_life_days, "edge": config.position_edge_share}).fetchdf()
    linear = rule_based[rule_based["model"] == "linear"].drop(columns="model")

    transitions = conn.execute(
        TRANSITIONS_SQL.format(
            preceding=config.markov_order - 1, sep=STATE_SEPARATOR, start=START, conversion=CONVERSION, null=NULL
        )
    ).fetchdf()
    p_conversion, effects = markov_removal_effects(transitions)
    markov_share = pd.Series(effects, dtype=float)
    markov_share = markov_share / markov_share.sum() if markov_share.sum() > 0 else markov_share
    markov = pd.DataFrame(
        {
            "channel": markov_share.index,
            "conversions": markov_share.to_numpy() * total_conversions,
            "revenue": markov_share.to_numpy() * float(total_revenue),
        }
    )

    sets = conn.execute(CHANNEL_SETS_SQL).fetchdf()
    shapley = shapley_set_credits(sets)

    frames = []
    for model in MODELS:
        if model == "markov":
            credits = split_by_campaign(markov, linear)
        elif model == "shapley":
            credits = split_by_campaign(shapley, linear)
        else:
            credits = rule_based[rule_based["model"] == model].drop(columns="model")
        if total_conversions:
            frames.append(exact_credits(credits, int(total_conversions), total_cents).assign(model=model))
    table = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["channel", "campaign", "conversion_units", "revenue_cents", "model"])
    )
    table = table.assign(credited_conversions=table["conversion_units"] / 10_000, credited_revenue=table["revenue_cents"] / 100)
    summary = {
        "total_conversions": int(total_conversions),
        "total_revenue": float(total_revenue),
        "journeys": int(journeys),
        "first_conversion_day": first_day,
        "last_conversion_day": last_day,
        "converting_users_without_ads_consent": int(non_consented),
        "markov_conversion_probability": p_conversion,
        "markov_removal_effects": effects,
    }
    return table, summary


def model_channel_shares(table: pd.DataFrame) -> pd.DataFrame:
    """Share of credited revenue per channel (rows) under each model (columns)."""
    by_channel = table.groupby(["model", "channel"])["revenue_cents"].sum().unstack("model").fillna(0)
    return (by_channel / by_channel.sum()).reindex(columns=list(MODELS))


def mmm_revenue_shares(conn) -> pd.Series:
    """The media-mix model's contribution per channel as a share of the revenue it was fitted on."""
    exists = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'mmm_decomposition'").fetchall()[0][
        0
    ]
    if not exists:
        return pd.Series(dtype=float)
    rows = conn.execute(
        "SELECT d.component, sum(d.value) / (SELECT sum(value) FROM main.mmm_decomposition WHERE component = 'actual') "
        "FROM main.mmm_decomposition d JOIN main.mmm_model m ON m.channel = d.component GROUP BY 1"
    ).fetchall()
    return pd.Series(dict(rows), dtype=float)


def comparison(shares: pd.DataFrame, mmm: pd.Series) -> pd.DataFrame:
    """The channel x model share table with the MMM's contribution shares beside it."""
    table = shares.copy()
    table["mmm_model"] = mmm.reindex(table.index)
    return table


@dg.asset(
    deps=["touchpoints", "mmm_model"],
    group_name="measurement",
    owners=[OWNER],
    kinds={"duckdb", "sql", "numpy"},
    pool=DUCKDB_POOL,
)
def attribution(context: dg.AssetExecutionContext, config: AttributionConfig, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Credited conversions and revenue per channel and campaign under seven models: last touch, first
    touch, linear, time decay (half-life from config), position based (40/20/40), Markov chain removal
    effect (order from config) and Shapley values over channel sets. Each model's credits sum exactly to
    the conversions (to 1/10,000) and revenue (to the cent) of the converted journeys. Users without ads
    consent count here, in aggregates only. Metadata: each channel's share under each model next to the
    MMM's contribution. (How the models fare against a causal truth: gtm_assets.simulate.journeys and
    benchmarks/attribution_truth.py.)"""
    with warehouse.transaction() as conn:
        table, summary = attribution_credits(conn, config)
        conn.register(
            "credits",
            table.assign(
                attributed_run_id=context.run_id, half_life_days=config.half_life_days, markov_order=config.markov_order
            ),
        )
        conn.execute(
            "CREATE OR REPLACE TABLE main.attribution AS SELECT lineage_id('attribution', attributed_run_id || '|' || model || '|' "
            "|| channel || '|' || campaign) AS lineage_id, model, channel, campaign, "
            "credited_conversions::DECIMAL(18, 4) AS credited_conversions, credited_revenue::DECIMAL(18, 2) AS credited_revenue, "
            "half_life_days, markov_order, (SELECT max(lookback_days) FROM main.touchpoints) AS lookback_days, attributed_run_id, "
            "now()::TIMESTAMP AS attributed_at FROM credits ORDER BY model, channel, campaign"
        )
        shares = model_channel_shares(table)
        compared = comparison(shares, mmm_revenue_shares(conn))
        long = (
            compared.rename_axis("channel").reset_index().melt(id_vars="channel", var_name="source", value_name="revenue_share")
        )
        conn.register("shares", long.dropna())
        conn.execute(
            "CREATE OR REPLACE TABLE main.attribution_channel_shares AS SELECT source, channel, revenue_share FROM shares"
        )
        sums = conn.execute(
            "SELECT model, sum(credited_conversions), sum(credited_revenue) FROM main.attribution GROUP BY 1"
        ).fetchall()
        metadata = table_metadata(conn, "main.attribution", descriptions=COLUMN_DESCRIPTIONS)
    exact = all(float(c) == summary["total_conversions"] and float(r) == round(summary["total_revenue"], 2) for _, c, r in sums)
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "total_conversions": summary["total_conversions"],
            "total_revenue": dg.MetadataValue.float(summary["total_revenue"]),
            "journeys": summary["journeys"],
            "credits_sum_exactly": exact,
            "converting_users_without_ads_consent": summary["converting_users_without_ads_consent"],
            "markov_removal_effects": dg.MetadataValue.json(
                {k: round(v, 4) for k, v in summary["markov_removal_effects"].items()}
            ),
            "channel_shares": dg.MetadataValue.md(
                compared.round(4).rename_axis("channel").reset_index().to_markdown(index=False)
            ),
            **attribution_chart(compared),
        }
    )


attribution_outputs_have_no_pii = [
    no_pii_check("touchpoints", ["main.touchpoints"]),
    no_pii_check("attribution", ["main.attribution", "main.attribution_channel_shares"]),
]
