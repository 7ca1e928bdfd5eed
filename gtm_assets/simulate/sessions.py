"""Campaign-level media rows and the sessions of a simulated world.

Media rows: each channel's daily spend is split over its campaigns (Dirichlet shares around the
campaigns' nominal shares, to the cent), with impressions from the CPM and clicks and conversions
drawn from the campaigns' true funnel rates.

Sessions: the number of sessions on day t is proportional to R_t (scaled so the total event rows
come close to the requested count). A session has 1..6 events (session_start, page_views, maybe an
add_to_cart, some end with a purchase); every day has at least one purchase and R_t is split over
that day's purchases to the cent. A session's UTM touch is drawn with probabilities proportional to
(b_t, m_{TV,t}, ..., m_{Email,t}); offline channels and the baseline carry no UTMs: the baseline's
visits (demand) arrive as google/organic or (direct)/(none), offline media's as (direct)/(none)
only, so organic sessions rise with demand and not with TV. Consent is drawn per session.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gtm_assets.simulate.world import CHANNELS

NO_CONSENT_ANALYTICS = 0.10
NO_CONSENT_ADS = 0.25
# Session shape: P(k events) for k = 1..6, purchase chance for k >= 3 (session_start, page views,
# add_to_cart, purchase), add_to_cart-only chance for other sessions with k >= 3. Buying sessions are
# ~29 % of the log (a log of engaged sessions): consent is drawn per session, so the weekly observed
# revenue share's noise falls with the number of buying sessions a week, not with the event count.
EVENTS_PER_SESSION_P = np.array([0.14, 0.22, 0.22, 0.18, 0.14, 0.10])
PURCHASE_P = 0.45
CART_ONLY_P = 0.25
# A day's revenue is split over its purchases with Gamma(shape, 1) weights (order-value spread, CV 0.5).
ORDER_VALUE_SHAPE = 4.0
HOUR_WEIGHTS = np.array([2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 7, 7, 7, 8, 9, 10, 10, 9, 7, 4], float)
DEVICES = (("desktop", 0.45), ("mobile", 0.48), ("tablet", 0.07))
COUNTRIES = (
    ("US", 0.40),
    ("GB", 0.12),
    ("DE", 0.10),
    ("FR", 0.08),
    ("CA", 0.07),
    ("AU", 0.05),
    ("NL", 0.05),
    ("ES", 0.04),
    ("IT", 0.04),
    ("SE", 0.03),
    ("JP", 0.02),
)
BROWSE_PAGES = ("/", "/collections/new-arrivals", "/collections/sale", "/collections/bestsellers", "/search", "/about")
PRODUCT_PAGES = tuple(
    f"/products/{slug}"
    for slug in (
        "trail-runner-2",
        "canvas-tote",
        "merino-beanie",
        "rain-shell-jacket",
        "linen-shirt",
        "wool-socks-3pack",
        "leather-wallet",
        "travel-mug",
        "yoga-mat",
        "desk-lamp",
        "ceramic-planter",
        "cotton-hoodie",
    )
)
FIRST_NAMES = (
    "Anna",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Felix",
    "Grace",
    "Hugo",
    "Isla",
    "Jack",
    "Klara",
    "Liam",
    "Mia",
    "Noah",
    "Olivia",
    "Paul",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Zoe",
)
LAST_NAMES = (
    "Smith",
    "Jones",
    "Brown",
    "Miller",
    "Garcia",
    "Martin",
    "Schmidt",
    "Dubois",
    "Rossi",
    "Nielsen",
    "Kowalski",
    "Taylor",
    "Wilson",
    "Moore",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "King",
    "Wright",
    "Lopez",
    "Hill",
    "Green",
    "Baker",
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
BASELINE_DIRECT_SHARE = 0.55  # the rest of the baseline's visits are organic search


def split_cents(totals: np.ndarray, weights: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Split integer cent totals over items by weight; parts of a group sum to its total exactly.

    ``groups`` is sorted (items of a group are contiguous) and every group has an item; the
    rounding remainder goes to the first item of each group.
    """
    weight_sums = np.bincount(groups, weights=weights, minlength=len(totals))
    parts = np.floor(totals[groups] * (weights / weight_sums[groups])).astype(np.int64)
    allocated = np.bincount(groups, weights=parts, minlength=len(totals)).astype(np.int64)
    first_items = np.searchsorted(groups, np.arange(len(totals)))
    parts[first_items] += totals - allocated
    return parts


def simulate_media(rng: np.random.Generator, daily: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Campaign-level media rows and, per channel, the (days x campaigns) spend shares."""
    n_days = len(daily)
    frames, shares = [], {}
    for channel in CHANNELS:
        n_camp = len(channel.campaigns)
        base_shares = np.array([c.share for c in channel.campaigns])
        day_shares = rng.dirichlet(60.0 * base_shares, size=n_days)
        channel_cents = np.round(daily[f"spend_{channel.name}"].to_numpy() * 100).astype(np.int64)
        cents = split_cents(channel_cents, day_shares.ravel(), np.repeat(np.arange(n_days), n_camp))
        shares[channel.name] = day_shares
        spend = cents / 100
        cpm = np.tile([channel.cpm] * n_camp, n_days)
        impressions = np.round(spend / cpm * 1000 * rng.lognormal(0.0, 0.08, len(spend))).astype(np.int64)
        clicks = rng.binomial(impressions, np.tile([c.ctr for c in channel.campaigns], n_days))
        conversions = rng.binomial(clicks, np.tile([c.conversion_rate for c in channel.campaigns], n_days))
        frames.append(
            pd.DataFrame(
                {
                    "day": np.repeat(np.arange(n_days), n_camp),
                    "date": np.repeat(daily["date"].to_numpy(), n_camp),
                    "channel": channel.name,
                    "campaign": np.tile([c.name for c in channel.campaigns], n_days),
                    "spend": spend,
                    "impressions": impressions,
                    "clicks": clicks,
                    "conversions": conversions,
                }
            )
        )
    media = pd.concat(frames, ignore_index=True).sort_values("day", kind="stable").drop(columns="day")
    return media, shares


def utm_combos() -> tuple[list[tuple[str, str, str | None]], dict[str, int]]:
    """All (source, medium, campaign) touches; first combo index of each UTM-carrying channel."""
    combos = [("(direct)", "(none)", None), ("google", "organic", None)]
    first_index = {}
    for channel in CHANNELS:
        if channel.utm_medium is None:
            continue
        first_index[channel.name] = len(combos)
        for campaign in channel.campaigns:
            combos.extend((source, channel.utm_medium, campaign.name) for source, _ in channel.utm_sources)
    return combos, first_index


def _assign_touches(rng, day, daily, shares, first_index) -> np.ndarray:
    """Draw each session's UTM combo from that day's baseline and media contribution shares."""
    drivers = daily[["baseline"] + [f"contrib_{c.name}" for c in CHANNELS]].to_numpy()
    cumulative = np.cumsum(drivers / drivers.sum(axis=1, keepdims=True), axis=1)
    draw = rng.random(len(day))
    category = np.minimum((draw[:, None] > cumulative[day]).sum(axis=1), len(CHANNELS))
    direct_share = np.where(category == 0, BASELINE_DIRECT_SHARE, 1.0)
    combo = np.where(rng.random(len(day)) < direct_share, 0, 1).astype(np.int16)
    for index, channel in enumerate(CHANNELS, start=1):
        if channel.name not in first_index:
            continue
        members = np.flatnonzero(category == index)
        campaign_cum = np.cumsum(shares[channel.name], axis=1)[day[members]]
        campaign = (rng.random(len(members))[:, None] > campaign_cum[:, :-1]).sum(axis=1)
        source_cum = np.cumsum([w for _, w in channel.utm_sources])[:-1]
        source = np.searchsorted(source_cum, rng.random(len(members)), side="right")
        combo[members] = first_index[channel.name] + campaign * len(channel.utm_sources) + source
    return combo


def simulate_sessions(rng, daily, shares, n_sessions_target, n_users, start_epoch) -> dict:
    """Session-level arrays (sorted by day) and user-level arrays."""
    n_days = len(daily)
    revenue_cents = daily["revenue_cents"].to_numpy()
    per_day = np.maximum(1, np.round(n_sessions_target * revenue_cents / revenue_cents.sum())).astype(np.int64)
    day = np.repeat(np.arange(n_days), per_day)
    first_of_day = np.cumsum(per_day) - per_day
    n = len(day)
    n_events = rng.choice(np.arange(1, 7), n, p=EVENTS_PER_SESSION_P)
    purchase = (n_events >= 3) & (rng.random(n) < PURCHASE_P)
    no_purchase_day = np.bincount(day, weights=purchase, minlength=n_days) == 0
    forced = first_of_day[no_purchase_day]
    n_events[forced] = np.maximum(n_events[forced], 3)
    purchase[forced] = True
    cart_only = ~purchase & (n_events >= 3) & (rng.random(n) < CART_ONLY_P)

    hour = rng.choice(24, n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    # Hour 23 only uses its first half so that a session (at most ~25 minutes) ends on its own day.
    second = hour * 3600 + np.floor(rng.random(n) * np.where(hour == 23, 1800, 3600)).astype(np.int64)
    session_id = start_epoch + day * 86400 + second
    activity = np.minimum(rng.pareto(1.8, n_users) + 1.0, 100.0)
    user = rng.choice(n_users, n, p=activity / activity.sum())
    while True:  # ga_session_id must be unique per user: shift same-second collisions by one second
        order = np.lexsort((session_id, user))
        clash = (user[order][1:] == user[order][:-1]) & (session_id[order][1:] <= session_id[order][:-1])
        if not clash.any():
            break
        session_id[order[1:][clash]] += 1
    start_us = session_id * 1_000_000 + rng.integers(0, 1_000_000, n)

    purchase_idx = np.flatnonzero(purchase)
    session_revenue = np.zeros(n, np.int64)
    session_revenue[purchase_idx] = split_cents(
        revenue_cents, rng.gamma(ORDER_VALUE_SHAPE, 1.0, len(purchase_idx)), day[purchase_idx]
    )

    first_seen = np.full(n_users, start_epoch, np.int64)
    users_sorted = user[order]
    is_first = np.r_[True, users_sorted[1:] != users_sorted[:-1]]
    first_seen[users_sorted[is_first]] = session_id[order][is_first]

    return {
        "day": day,
        "n_events": n_events,
        "purchase": purchase,
        "cart_only": cart_only,
        "session_id": session_id,
        "start_us": start_us,
        "user": user,
        "revenue_cents": session_revenue,
        "device": rng.choice(len(DEVICES), n, p=[w for _, w in DEVICES]).astype(np.int8),
        "consent_analytics": rng.random(n) >= NO_CONSENT_ANALYTICS,
        # Ads consent is only given with analytics consent: 0.10 + 0.90 * 1/6 = 25 % without it.
        "consent_ads_given": rng.random(n) >= (NO_CONSENT_ADS - NO_CONSENT_ANALYTICS) / (1 - NO_CONSENT_ANALYTICS),
        "combo": _assign_touches(rng, day, daily, shares, utm_combos()[1]),
        "user_first_seen": first_seen,
        "user_client": rng.choice(2_000_000_000, n_users, replace=False) + 100_000_000,
        "user_country": rng.choice(len(COUNTRIES), n_users, p=[w for _, w in COUNTRIES]).astype(np.int8),
        "user_has_email": rng.random(n_users) < 0.70,
        "user_first_name": rng.integers(0, len(FIRST_NAMES), n_users),
        "user_last_name": rng.integers(0, len(LAST_NAMES), n_users),
        "user_number": rng.integers(1, 1000, n_users),
        "user_domain": rng.choice(len(EMAIL_DOMAINS), n_users, p=[0.8, 0.1, 0.1]),
        "user_case": rng.choice(3, n_users, p=[0.85, 0.10, 0.05]),
    }
