"""Creative briefs: what each cohort x persona segment and each discovered cluster responds to, how to
talk to it and on which channels, from its summary figures. Pure rules, no Dagster or DuckDB: the
creative_briefs asset, the creative library and `gtm personas` all read them from here."""

from __future__ import annotations

import json

import pandas as pd

# What each behavioural persona responds to, and how to talk to it.
PERSONA_PLAYBOOK = {
    "Champions": {
        "responds_to": "recognition and early access: they spend above their cohort's median and have accepted past campaigns",
        "tone": "warm",
        "offer_type": "loyalty",
        "offer_figures": {"points_multiplier": 2},
        "do": ["thank them for their loyalty", "offer rewards or early access"],
        "dont": ["lead with discounts they do not need", "send them the same message as new customers"],
    },
    "Premium-but-Quiet": {
        "responds_to": "quality, range and convenience rather than promotions: high spend, no campaign history",
        "tone": "professional",
        "offer_type": "free_shipping",
        "offer_figures": {},
        "do": ["stress quality and convenience", "keep the frequency low"],
        "dont": ["use hard-sell urgency", "flood them with discount codes"],
    },
    "Deal-Responsive": {
        "responds_to": "price incentives: they accept campaigns but spend below their cohort's median",
        "tone": "playful",
        "offer_type": "discount",
        "offer_figures": {"discount_pct": 20},
        "do": ["put the offer and its value first", "give a clear end date"],
        "dont": ["hide the terms", "use premium-only language"],
    },
    "Hard-to-Convert": {
        "responds_to": "a low-commitment first step: low spend and no campaign history",
        "tone": "warm",
        "offer_type": "free_trial",
        "offer_figures": {"trial_days": 14},
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
            for key in (
                "customers",
                "share",
                "response_rate",
                "mean_spend",
                "mean_engagement",
                "mean_income",
                "mean_recency_days",
                "mean_web_purchases",
                "mean_catalog_purchases",
                "mean_store_purchases",
                "mean_deals_purchases",
                "mean_web_visits_month",
            )
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
                # The same without the segment's label: what copy prompts see (copy never names a segment).
                "audience_description": (
                    f"{segment['customers']} existing customers: mean two-year spend ${segment['mean_spend']:,.0f}, "
                    f"{segment['mean_engagement']:.2f} past campaign acceptances, mean income {income}."
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
        "audience_description": f"{cluster['members']} {cluster['population']}s: {cluster['profile']}.",
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


def copy_brief(brief: dict, *, objective: str = "conversion"):
    """The brief as the copywriters read it (models.creative.CopyBrief): no segment label, only the
    label-free audience description, what they respond to, tone, offer and the do / don't lists. Works
    on a brief dict or a creative_briefs row (offer figures as JSON text, lists as arrays)."""
    from gtm_assets.models.creative import CopyBrief

    figures = brief["offer_figures"]
    return CopyBrief(
        audience=brief["audience_description"],
        responds_to=brief["responds_to"],
        tone=brief["tone"],
        offer_type=brief["offer_type"],
        offer_figures=json.loads(figures) if isinstance(figures, str) else dict(figures),
        objective=objective,
        do=tuple(brief["do_list"]),
        dont=tuple(brief["dont_list"]),
    )
