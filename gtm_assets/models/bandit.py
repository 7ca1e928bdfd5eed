"""Thompson sampling for splitting one channel's daily budget across its campaigns.

Model: campaign k converts at an unknown rate of lambda_k conversions per unit of spend, its
conversions over a window are Poisson(lambda_k * spend_k), and lambda_k has a Gamma prior centred
on the channel's pooled rate (shape ``PRIOR_CONVERSIONS``, i.e. worth one conversion), so the
posterior is Gamma(PRIOR_CONVERSIONS + conversions_k, PRIOR_CONVERSIONS / pooled_rate + spend_k).
Thompson sampling funds each campaign in proportion to its posterior probability of being the
best (highest conversions per unit of spend), estimated from seeded posterior draws. Every
campaign keeps ``min_share`` of the budget so that it keeps learning; the rest follows that
probability, so a confident posterior concentrates the budget and an uncertain one spreads it.
Channels without any tracked conversion (offline media) carry no signal: their budget follows the
campaigns' recent spend shares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PRIOR_CONVERSIONS = 1.0
N_DRAWS = 4000
MIN_CAMPAIGN_SHARE = 0.05
INTERVAL = (5.0, 95.0)
SPLIT_COLUMNS = [
    "campaign", "campaign_share", "p_best", "conversions_per_spend", "conversions_per_spend_lo",
    "conversions_per_spend_hi", "split_method", "split_rationale",
]  # fmt: skip


def thompson_shares(
    spend: np.ndarray,
    conversions: np.ndarray,
    *,
    min_share: float = MIN_CAMPAIGN_SHARE,
    n_draws: int = N_DRAWS,
    seed: int = 0,
) -> pd.DataFrame:
    """Budget shares, P(best) and the posterior conversions-per-spend (mean, 90% interval).

    ``spend`` and ``conversions`` are per campaign over the same window; at least one conversion
    in total is required (otherwise there is nothing to learn from).
    """
    spend, conversions = np.asarray(spend, float), np.asarray(conversions, float)
    if conversions.sum() <= 0 or spend.sum() <= 0:
        raise ValueError("Thompson sampling needs spend and at least one conversion")
    pooled_rate = conversions.sum() / spend.sum()
    shape = PRIOR_CONVERSIONS + conversions
    rate = PRIOR_CONVERSIONS / pooled_rate + spend
    draws = np.random.default_rng(seed).gamma(shape, 1.0 / rate, size=(n_draws, len(spend)))
    p_best = np.bincount(draws.argmax(axis=1), minlength=len(spend)) / n_draws
    floor = min(min_share, 1.0 / len(spend))
    lo, hi = np.percentile(draws, INTERVAL, axis=0)
    return pd.DataFrame(
        {
            "campaign_share": floor + (1.0 - floor * len(spend)) * p_best,
            "p_best": p_best,
            "conversions_per_spend": shape / rate,
            "conversions_per_spend_lo": lo,
            "conversions_per_spend_hi": hi,
        }
    )


def split_cents(total: float, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` (rounded to cents) by ``shares`` so the parts sum to it exactly."""
    total_cents = round(total * 100)
    parts = np.floor(total_cents * shares / shares.sum()).astype(int)
    parts[np.argmax(shares)] += total_cents - parts.sum()
    return parts / 100


def split_channel_budget(
    channel: str, budget: float, campaigns: pd.DataFrame, *, min_share: float = MIN_CAMPAIGN_SHARE, seed: int = 0
) -> pd.DataFrame:
    """Split one channel's daily budget across its campaigns.

    ``campaigns`` has campaign, recent_spend (daily), window_spend and window_conversions (the
    Thompson window). Returns ``SPLIT_COLUMNS`` plus recommended_campaign_spend (cents summing
    exactly to the cent-rounded budget), with a rationale per campaign.
    """
    frame = campaigns.reset_index(drop=True)
    if frame["window_conversions"].sum() > 0 and frame["window_spend"].sum() > 0:
        split = thompson_shares(frame["window_spend"], frame["window_conversions"], min_share=min_share, seed=seed)
        split["split_method"] = "thompson"
        split["split_rationale"] = [
            f"Thompson sampling gives {row.campaign} a {p:.0%} chance of being {channel}'s best campaign "
            f"({rate * 100:.3f} conversions per 100 spent, 90% interval {lo * 100:.3f}-{hi * 100:.3f}, from "
            f"{conv:,.0f} conversions on {spent:,.2f} spent), so it gets {share:.1%} of the channel budget"
            f" (at least {min(min_share, 1 / len(frame)):.0%} to keep learning)"
            for row, p, rate, lo, hi, conv, spent, share in zip(
                frame.itertuples(),
                split["p_best"],
                split["conversions_per_spend"],
                split["conversions_per_spend_lo"],
                split["conversions_per_spend_hi"],
                frame["window_conversions"],
                frame["window_spend"],
                split["campaign_share"],
            )
        ]
    else:
        recent = frame["recent_spend"].to_numpy(float)
        share = recent / recent.sum() if recent.sum() > 0 else np.full(len(frame), 1.0 / len(frame))
        split = pd.DataFrame(
            {
                "campaign_share": share,
                "p_best": np.nan,
                "conversions_per_spend": np.nan,
                "conversions_per_spend_lo": np.nan,
                "conversions_per_spend_hi": np.nan,
            }
        )
        split["split_method"] = "recent_share"
        split["split_rationale"] = [
            f"{channel} has no tracked conversions to learn from, so {c} keeps its recent spend share of {s:.1%}"
            for c, s in zip(frame["campaign"], share)
        ]
    split.insert(0, "campaign", frame["campaign"])
    split["recommended_campaign_spend"] = split_cents(budget, split["campaign_share"].to_numpy())
    return split[[*SPLIT_COLUMNS, "recommended_campaign_spend"]]
