"""creative_briefs: one structured brief per cohort x persona and per discovered cluster, the input
the copy generator writes from (creative_library, `gtm personas --cohort ... --persona ...`)."""

import json

import dagster as dg
import pandas as pd

from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.observability import table_metadata
from gtm_assets.warehouse import DuckDBWarehouse

# What each behavioural persona responds to, and how to talk to it.
PERSONA_PLAYBOOK = {
    "Champions": {
        "responds_to": "recognition and early access: they spend above their cohort's median and have accepted past campaigns",
        "tone": "warm", "offer_type": "loyalty", "offer_figures": {"points_multiplier": 2},
        "do": ["thank them for their loyalty", "offer rewards or early access"],
        "dont": ["lead with discounts they do not need", "send them the same message as new customers"],
    },
    "Premium-but-Quiet": {
        "responds_to": "quality, range and convenience rather than promotions: high spend, no campaign history",
        "tone": "professional", "offer_type": "free_shipping", "offer_figures": {},
        "do": ["stress quality and convenience", "keep the frequency low"],
        "dont": ["use hard-sell urgency", "flood them with discount codes"],
    },
    "Deal-Responsive": {
        "responds_to": "price incentives: they accept campaigns but spend below their cohort's median",
        "tone": "playful", "offer_type": "discount", "offer_figures": {"discount_pct": 20},
        "do": ["put the offer and its value first", "give a clear end date"],
        "dont": ["hide the terms", "use premium-only language"],
    },
    "Hard-to-Convert": {
        "responds_to": "a low-commitment first step: low spend and no campaign history",
        "tone": "warm", "offer_type": "free_trial", "offer_figures": {"trial_days": 14},
        "do": ["offer one simple, low-risk next step", "keep it short and friendly"],
        "dont": ["pressure with countdowns", "send many reminders"],
    },
}

# Discovered clusters: the first rule whose trait is at least 0.5 sd from the mean (in the given
# direction) sets what the cluster responds to; the last entry is the default.
CLUSTER_RULES = [
    ("past_accept_count", 1, "recognition for their campaign history", "warm", "loyalty", {"points_multiplier": 2}),
    ("deals_purchases", 1, "price incentives", "playful", "discount", {"discount_pct": 20}),
    ("revenue", 1, "recognition of what they already spend", "warm", "loyalty", {"points_multiplier": 2}),
    ("total_spend", 1, "quality and convenience", "professional", "free_shipping", {}),
    ("recency_days", 1, "a reason to come back before they lapse", "urgent", "discount", {"discount_pct": 15}),
    ("sessions_per_week", 1, "something new on each of their frequent visits", "playful", "bundle", {}),
    (None, 0, "a low-commitment first step", "warm", "free_trial", {"trial_days": 14}),
]
TRAIT_THRESHOLD_SD = 0.5


def _customer_channels(segment: dict, population: dict) -> list[str]:
    """Email (known customers) plus the paid channels their behaviour points to."""
    channels = ["email"]
    if segment["mean_web_purchases"] >= population["mean_web_purchases"]:
        channels.append("search")
    if segment["mean_web_visits_month"] >= population["mean_web_visits_month"]:
        channels.append("social")
    if len(channels) == 1:
        channels.append("display")
    return channels


def persona_briefs(summary: pd.DataFrame) -> list[dict]:
    """A brief for every assigned cohort x persona row of persona_summary; channels compare the
    segment's web purchases and web visits with the average over all assigned customers."""
    assigned = summary[summary["persona"].isin(PERSONA_PLAYBOOK)]
    weights = assigned["customers"] / assigned["customers"].sum()
    population = {c: float((assigned[c] * weights).sum()) for c in ("mean_web_purchases", "mean_web_visits_month")}
    briefs = []
    for segment in assigned.to_dict("records"):
        play = PERSONA_PLAYBOOK[segment["persona"]]
        income = "unknown" if pd.isna(segment["mean_income"]) else f"${segment['mean_income']:,.0f}"
        figures = {
            key: segment[key]
            for key in ("customers", "share", "response_rate", "mean_spend", "mean_engagement", "mean_income",
                        "mean_recency_days", "mean_web_purchases", "mean_catalog_purchases",
                        "mean_store_purchases", "mean_deals_purchases", "mean_web_visits_month")
        }
        briefs.append(
            {
                "segment_type": "persona",
                "segment_name": f"{segment['cohort']} {segment['persona']}",
                "cohort": segment["cohort"],
                "persona": segment["persona"],
                "who_they_are": (
                    f"{segment['customers']} {segment['cohort']} customers ({segment['share']:.1%} of all): mean two-year "
                    f"spend ${segment['mean_spend']:,.0f}, {segment['mean_engagement']:.2f} past campaign acceptances, "
                    f"mean income {income}; {segment['response_rate']:.1%} answered the last campaign."
                ),
                "key_figures": figures,
                "responds_to": play["responds_to"],
                "tone": play["tone"],
                "channels": _customer_channels(segment, population),
                "offer_type": play["offer_type"],
                "offer_figures": play["offer_figures"],
                "do_list": play["do"],
                "dont_list": play["dont"],
                "persona_summary_lineage_id": segment["lineage_id"],
            }
        )
    return briefs


def cluster_brief(cluster: dict) -> dict:
    """A brief for a discovered cluster, from its standardized centroid (see CLUSTER_RULES)."""
    z = json.loads(cluster["centroid_z_json"])
    column, _, responds_to, tone, offer_type, offer_figures = next(
        rule for rule in CLUSTER_RULES if rule[0] is None or z.get(rule[0], 0.0) * rule[1] >= TRAIT_THRESHOLD_SD
    )
    if cluster["population"] == "customer":
        channels = ["email", "search" if z["web_purchases"] > 0 else "display"]
        if z["web_visits_month"] > 0:
            channels.append("social")
        consent = "only customers who opted in to email"
    else:
        channels = ["social" if z["mobile_share"] > 0 else "search", "display"]
        consent = "only users who consented to ads"
    return {
        "segment_type": "cluster",
        "segment_name": cluster["cluster_name"],
        "cluster_id": cluster["cluster_id"],
        "population": cluster["population"],
        "who_they_are": f"{cluster['members']} {cluster['population']}s ({cluster['share']:.1%}): {cluster['profile']}.",
        "key_figures": {"members": cluster["members"], "share": cluster["share"], **json.loads(cluster["centroid_json"])},
        "responds_to": responds_to + (f" (rule on {column})" if column else " (no dominant trait)"),
        "tone": tone,
        "channels": channels,
        "offer_type": offer_type,
        "offer_figures": offer_figures,
        "do_list": [f"lead with {responds_to}", f"target {consent}"],
        "dont_list": ["reuse copy written for another segment", "claim more than the offer gives"],
        "persona_cluster_lineage_id": cluster["lineage_id"],
    }


def copy_request(brief: dict) -> dict:
    """The brief as the copy generator reads it (models.creative.generate_copy): segment name,
    offer type and the offer's figures (a dict, or its JSON as stored in creative_briefs)."""
    figures = brief["offer_figures"]
    return {
        "segment_name": brief["segment_name"],
        "offer_type": brief["offer_type"],
        "key_figures": json.loads(figures) if isinstance(figures, str) else dict(figures),
    }


@dg.asset(
    deps=["personas", "persona_clusters"],
    group_name="personas",
    owners=[OWNER],
    kinds={"duckdb", "python"},
    pool=DUCKDB_POOL,
)
def creative_briefs(warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """One structured brief per cohort x persona and per discovered cluster: who they are (key
    figures), what they respond to, tone, channels, offer type and figures, do and don't, and the
    persona_summary / persona_clusters row (lineage id) the numbers come from."""
    with warehouse.get_connection() as conn:
        summary = conn.execute("SELECT * EXCLUDE (assignment_lineage_ids) FROM main.persona_summary").fetchdf()
        clusters = conn.execute("SELECT * FROM main.persona_clusters ORDER BY population, cluster_id").fetchdf()
        briefs = persona_briefs(summary) + [cluster_brief(c) for c in clusters.to_dict("records")]
        frame = pd.DataFrame(briefs)
        for column in ("key_figures", "offer_figures"):
            frame[column] = frame[column].map(lambda v: json.dumps(v))
        conn.register("brief_frame", frame)
        conn.execute(
            "CREATE OR REPLACE TABLE main.creative_briefs AS SELECT lineage_id('creative_brief', segment_type || '|' "
            "|| coalesce(persona_summary_lineage_id, persona_cluster_lineage_id)) AS lineage_id, * FROM brief_frame"
        )
        metadata = table_metadata(conn, "main.creative_briefs")
    shown = frame[["segment_type", "segment_name", "tone", "offer_type", "channels"]]
    return dg.MaterializeResult(metadata={**metadata, "briefs": dg.MetadataValue.md(shown.to_markdown(index=False))})
