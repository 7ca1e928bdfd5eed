"""Deterministic, seeded simulator of a marketing world with a known ground truth.

Run ``python -m gtm_assets.simulate --out DIR [--days N] [--events N] [--users N] [--seed N]
[--start-date YYYY-MM-DD] [--formats csv,parquet,jsonl.gz] [--files N]``.

World model (t = day index, c = channel, all money in currency units per day):

* Spend x_{c,t}: TV, Radio, Print and CTV run in on/off flights of whole weeks (zero when off);
  Search, Social and Display are always on (seasonal wave x AR(1) drift x a few promo bursts x
  log-normal noise); Email is small with send-day peaks. Spend is rounded to cents.
  The media plan is x_{c,t} without the daily log-normal noise (flight schedule and level; wave x
  drift x bursts; send-day level), written to landing/plans/media_plan.csv (date, channel,
  planned_spend) for the simulated days and PLAN_FUTURE_DAYS after them; its future part is drawn
  from its own seeded generator, so every other output is the same as without the plan.
* Lift tests (landing/experiments/lift_tests.csv): one per always-on channel (Search, Social,
  Display, Email), over LIFT_TEST_WEEKS whole Monday weeks at a seeded start, with the test spend,
  the measured incremental revenue = the channel's true contribution summed over the window (what a
  geo holdout of the channel would measure) + N(0, SE^2), SE = LIFT_TEST_RELATIVE_SE x the true value.
  Drawn from their own seeded generator, so every other output is the same as without them.
* Adstock (daily, geometric):   a_{c,t} = x_{c,t} + decay_c * a_{c,t-1},  a_{c,-1} = 0.
* Hill saturation:              h_c(a) = a^s_c / (a^s_c + K_c^s_c), K_c = median adstock on spend days.
* Media contribution:           m_{c,t} = beta_c * h_c(a_{c,t}); beta_c is calibrated so that the
  channel's ROI lands on a target (Search highest, Print lowest) and then rounded to cents.
* Baseline:                     b_t = L * (1 + g * t / 365.25) * w_{dow(t)}
                                      * (1 + A * cos(2 pi (doy_t - P) / 365.25)) * holiday_t
  (holiday_t = 1.5 on Black Friday, 1.3 on Cyber Monday, else 1).
* Revenue:                      R_t = max(b_t + sum_c m_{c,t} + eps_t, floor), eps_t ~ N(0, (0.05 L)^2),
  rounded to cents.
* True ROI_c = sum_t m_{c,t} / sum_t x_{c,t}; decay_weekly_equivalent = decay_c ** 7.

Event stream: the number of sessions on day t is proportional to R_t (scaled so the total event
rows come close to ``events``). A session has 1..6 events (session_start, page_views, maybe an
add_to_cart, some end with a purchase); every day has at least one purchase and R_t is split over
that day's purchases to the cent. A session's UTM touch is drawn with probabilities proportional
to (b_t, m_{TV,t}, ..., m_{Email,t}); offline channels and the baseline carry no UTMs
((direct)/(none) or google/organic). About 0.5 % of rows are malformed (missing id, unparseable
timestamp, negative or non-numeric revenue, duplicated event) and only non-purchase rows are
touched, so revenue totals stay exact. ``ground_truth.json`` records every injected count.
Event files of an earlier run (``landing/events/events_NNN_*``) are removed before writing.
"""

from __future__ import annotations

import gzip
import json
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from scipy.signal import lfilter

FORMATS = ("csv", "parquet", "jsonl", "csv.gz", "jsonl.gz")
EVENT_COLUMNS = (
    "event_id", "event_timestamp", "event_name", "user_pseudo_id", "session_id", "page_location",
    "utm_source", "utm_medium", "utm_campaign", "device", "country", "revenue", "email",
    "ip_address", "consent_analytics", "consent_ads",
)
DEFECT_KINDS = (
    "missing_id", "unparseable_timestamp", "negative_revenue", "non_numeric_revenue",
    "duplicate_event_id",
)
# Defect codes of the per-event table are 1 + the index in DEFECT_KINDS (0 = clean row).
MISSING_ID, BAD_TIMESTAMP, NEGATIVE_REVENUE, NON_NUMERIC_REVENUE = range(1, 5)
MALFORMED_SHARE = 0.005
NO_CONSENT_ANALYTICS = 0.10
NO_CONSENT_ADS = 0.25
MIN_DAYS = 28
# The media plan (landing/plans/media_plan.csv) runs this many days past the last simulated day.
PLAN_FUTURE_DAYS = 28
# Lift tests (landing/experiments/lift_tests.csv): window length and measurement noise.
LIFT_TEST_WEEKS = 8
LIFT_TEST_RELATIVE_SE = 0.10
PARQUET_ROW_GROUP = 500_000
GZIP_LEVEL = 5


@dataclass(frozen=True)
class Campaign:
    """A campaign with its funnel rates (true values, recorded in the ground truth)."""

    name: str
    share: float
    ctr: float
    conversion_rate: float
    revenue_per_conversion: float


@dataclass(frozen=True)
class Channel:
    """True media parameters of one channel and the shape of its spend plan."""

    name: str
    decay: float
    shape: float
    target_roi: float
    spend_level: float
    pattern: str  # "flighted", "always_on" or "email"
    cpm: float
    utm_medium: str | None
    utm_sources: tuple[tuple[str, float], ...]
    campaigns: tuple[Campaign, ...]


CHANNELS = (
    Channel("TV", 0.6, 2.0, 1.5, 9000.0, "flighted", 15.0, None, (), (
        Campaign("tv_brand_awareness", 0.65, 0.0, 0.020, 95.0),
        Campaign("tv_seasonal_promo", 0.35, 0.0, 0.025, 90.0))),
    Channel("Radio", 0.4, 1.6, 0.8, 2500.0, "flighted", 6.0, None, (), (
        Campaign("radio_drive_time", 0.6, 0.0, 0.015, 70.0),
        Campaign("radio_weekend", 0.4, 0.0, 0.012, 70.0))),
    Channel("Print", 0.3, 1.3, 0.5, 1800.0, "flighted", 20.0, None, (), (
        Campaign("print_magazine", 0.55, 0.0, 0.010, 110.0),
        Campaign("print_newspaper", 0.45, 0.0, 0.008, 80.0))),
    Channel("Display", 0.2, 1.4, 1.1, 2200.0, "always_on", 3.0, "display", (("gdn", 1.0),), (
        Campaign("display_prospecting", 0.6, 0.0025, 0.006, 70.0),
        Campaign("display_retargeting", 0.4, 0.0060, 0.020, 80.0))),
    Channel("CTV", 0.5, 1.8, 1.9, 3500.0, "flighted", 30.0, None, (), (
        Campaign("ctv_streaming_brand", 0.7, 0.0015, 0.018, 100.0),
        Campaign("ctv_sports", 0.3, 0.0020, 0.022, 105.0))),
    Channel("Search", 0.1, 1.2, 4.0, 4500.0, "always_on", 40.0, "cpc", (("google", 1.0),), (
        Campaign("search_brand", 0.35, 0.080, 0.090, 85.0),
        Campaign("search_generic", 0.45, 0.035, 0.035, 75.0),
        Campaign("search_competitor", 0.20, 0.025, 0.020, 70.0))),
    Channel("Social", 0.3, 1.5, 2.5, 3200.0, "always_on", 8.0, "paid_social",
            (("facebook", 0.6), ("instagram", 0.4)), (
        Campaign("social_prospecting", 0.5, 0.009, 0.015, 65.0),
        Campaign("social_retargeting", 0.3, 0.015, 0.040, 75.0),
        Campaign("social_video", 0.2, 0.005, 0.010, 60.0))),
    Channel("Email", 0.1, 1.1, 3.2, 350.0, "email", 1.5, "email", (("newsletter", 1.0),), (
        Campaign("email_newsletter", 0.50, 0.030, 0.025, 60.0),
        Campaign("email_promo", 0.35, 0.045, 0.050, 70.0),
        Campaign("email_winback", 0.15, 0.020, 0.030, 80.0))),
)

BASELINE = {
    "level": 60000.0,
    "trend_per_year": 0.08,
    "weekly_multipliers": {"Mon": 1.00, "Tue": 0.97, "Wed": 0.96, "Thu": 0.99, "Fri": 1.04,
                           "Sat": 1.12, "Sun": 1.08},
    "yearly_amplitude": 0.12,
    "yearly_peak_day_of_year": 340,
    "holiday_multipliers": {"black_friday": 1.5, "cyber_monday": 1.3},
    "noise_sd": 3000.0,
    "revenue_floor": 100.0,
}

# Session shape: P(k events) for k = 1..6, purchase chance for k >= 3 (session_start, page views,
# add_to_cart, purchase), add_to_cart-only chance for other sessions with k >= 3. Buying sessions are
# ~29 % of the log (a log of engaged sessions): consent is drawn per session, so the weekly observed
# revenue share's noise falls with the number of buying sessions a week, not with the event count.
EVENTS_PER_SESSION_P = np.array([0.14, 0.22, 0.22, 0.18, 0.14, 0.10])
PURCHASE_P = 0.45
CART_ONLY_P = 0.25
# A day's revenue is split over its purchases with Gamma(shape, 1) weights (order-value spread, CV 0.5).
ORDER_VALUE_SHAPE = 4.0
EVENT_NAMES = ("session_start", "page_view", "add_to_cart", "purchase")
SESSION_START, PAGE_VIEW, ADD_TO_CART, PURCHASE = range(4)
HOUR_WEIGHTS = np.array([2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 7, 7, 7, 8, 9, 10, 10, 9, 7, 4], float)
DEVICES = (("desktop", 0.45), ("mobile", 0.48), ("tablet", 0.07))
COUNTRIES = (("US", 0.40), ("GB", 0.12), ("DE", 0.10), ("FR", 0.08), ("CA", 0.07), ("AU", 0.05),
             ("NL", 0.05), ("ES", 0.04), ("IT", 0.04), ("SE", 0.03), ("JP", 0.02))
BROWSE_PAGES = ("/", "/collections/new-arrivals", "/collections/sale", "/collections/bestsellers",
                "/search", "/about")
PRODUCT_PAGES = tuple(f"/products/{slug}" for slug in (
    "trail-runner-2", "canvas-tote", "merino-beanie", "rain-shell-jacket", "linen-shirt",
    "wool-socks-3pack", "leather-wallet", "travel-mug", "yoga-mat", "desk-lamp", "ceramic-planter",
    "cotton-hoodie"))
PAGES = BROWSE_PAGES + PRODUCT_PAGES + ("/checkout/thank-you",)
FIRST_NAMES = ("Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Isla", "Jack",
               "Klara", "Liam", "Mia", "Noah", "Olivia", "Paul", "Quinn", "Rosa", "Sam", "Tara",
               "Umar", "Vera", "Will", "Zoe")
LAST_NAMES = ("Smith", "Jones", "Brown", "Miller", "Garcia", "Martin", "Schmidt", "Dubois", "Rossi",
              "Nielsen", "Kowalski", "Taylor", "Wilson", "Moore", "Clark", "Lewis", "Walker", "Young",
              "King", "Wright", "Lopez", "Hill", "Green", "Baker")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
IPV6_PREFIXES = ("2001", "2a02", "2600", "2a01", "2c0f", "240e")
BAD_TIMESTAMPS = ("not-a-date", "2024-13-45T99:00:00Z", "31/02/2024 25:61", "yesterday")
BAD_REVENUES = ("12,5O", "abc", "1.2.3", "twelve")


def _sql_list(values) -> str:
    """Render Python strings (or None) as a DuckDB list literal."""
    items = ("NULL" if v is None else "'" + v.replace("'", "''") + "'" for v in values)
    return "[" + ", ".join(items) + "]"


def _split_cents(totals: np.ndarray, weights: np.ndarray, groups: np.ndarray) -> np.ndarray:
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


def _adstock(spend: np.ndarray, decay: float) -> np.ndarray:
    """Geometric adstock a_t = x_t + decay * a_{t-1}."""
    return lfilter([1.0], [1.0, -decay], spend)


def _hill(adstock: np.ndarray, half_saturation: float, shape: float) -> np.ndarray:
    """Hill saturation a^s / (a^s + K^s)."""
    powered = adstock ** shape
    return powered / (powered + half_saturation ** shape)


def _channel_spend(rng: np.random.Generator, plan_rng: np.random.Generator, channel: Channel,
                   dates: pd.DatetimeIndex, plan_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Planned daily spend of one channel over ``dates`` plus ``plan_days`` future days, and the
    realised daily spend (plan x daily log-normal noise) over ``dates`` (both before rounding).

    ``rng`` draws exactly what it drew before plans were written (so realised spend is unchanged);
    the future part of the plan (flights and promo bursts after the last day) comes from ``plan_rng``.
    """
    n_days = len(dates)
    n_plan = n_days + plan_days
    level = channel.spend_level
    if channel.pattern == "flighted":
        plan = np.zeros(n_plan)
        day, active = int(rng.integers(0, 14)), True
        draw = rng
        while day < n_plan:
            if day >= n_days:
                draw = plan_rng
            weeks = int(draw.integers(2, 7)) if active else int(draw.integers(1, 6))
            if active:
                plan[day:day + 7 * weeks] = level * draw.uniform(0.6, 1.4)
            day += 7 * weeks
            active = not active
        return plan, plan[:n_days] * rng.lognormal(0.0, 0.12, n_days)
    if channel.pattern == "always_on":
        t = np.arange(n_plan)
        wave = 1.0 + 0.2 * np.sin(2 * np.pi * t / 365.25 + rng.uniform(0, 2 * np.pi))
        shocks = np.r_[rng.normal(0.0, 0.05, n_days), plan_rng.normal(0.0, 0.05, plan_days)]
        drift = np.exp(lfilter([1.0], [1.0, -0.95], shocks))
        bursts = np.ones(n_plan)
        starts = np.r_[rng.integers(0, n_days, max(1, n_days // 90)),
                       plan_rng.integers(n_days, n_plan, plan_rng.poisson(plan_days / 90))]
        for start in starts:
            bursts[start:start + 7] *= 1.6
        plan = level * wave * drift * bursts
        return plan, plan[:n_days] * rng.lognormal(0.0, 0.15, n_days)
    plan_dates = pd.date_range(dates[0], periods=n_plan, freq="D")
    plan = level * np.where(np.isin(plan_dates.day_of_week, (1, 3)), 2.0, 0.6)
    return plan, plan[:n_days] * rng.lognormal(0.0, 0.25, n_days)


def _baseline(dates: pd.DatetimeIndex) -> np.ndarray:
    """Baseline revenue b_t (trend x weekly x yearly x holidays)."""
    years = np.arange(len(dates)) / 365.25
    weekly = np.array(list(BASELINE["weekly_multipliers"].values()))[dates.day_of_week]
    yearly = 1.0 + BASELINE["yearly_amplitude"] * np.cos(
        2 * np.pi * (dates.day_of_year - BASELINE["yearly_peak_day_of_year"]) / 365.25)
    holiday = np.ones(len(dates))
    for year in sorted(set(dates.year)):
        nov_first = pd.Timestamp(year=year, month=11, day=1)
        thanksgiving = nov_first + pd.Timedelta(days=(3 - nov_first.day_of_week) % 7 + 21)
        for offset, key in ((1, "black_friday"), (4, "cyber_monday")):
            holiday[dates == thanksgiving + pd.Timedelta(days=offset)] = BASELINE["holiday_multipliers"][key]
    trend = 1.0 + BASELINE["trend_per_year"] * years
    return BASELINE["level"] * trend * weekly * yearly * holiday


def _simulate_world(rng: np.random.Generator, plan_rng: np.random.Generator,
                    dates: pd.DatetimeIndex) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Spend, contributions, baseline and revenue per day, the channel truth, and the media plan
    (date, channel, planned_spend) over the days and PLAN_FUTURE_DAYS after them."""
    daily = pd.DataFrame({"date": dates.strftime("%Y-%m-%d")})
    plan_dates = pd.date_range(dates[0], periods=len(dates) + PLAN_FUTURE_DAYS, freq="D").strftime("%Y-%m-%d")
    truth, plans = {}, []
    contributions = np.zeros(len(dates))
    for channel in CHANNELS:
        plan, realised = _channel_spend(rng, plan_rng, channel, dates, PLAN_FUTURE_DAYS)
        plans.append(pd.DataFrame({"date": plan_dates, "channel": channel.name, "planned_spend": plan}))
        spend = np.round(realised, 2)
        adstock = _adstock(spend, channel.decay)
        half_saturation = round(float(np.median(adstock[spend > 0])), 2)
        saturation = _hill(adstock, half_saturation, channel.shape)
        total_spend = round(float(spend.sum()), 2)
        coefficient = round(channel.target_roi * total_spend / float(saturation.sum()), 2)
        contribution = coefficient * saturation
        total_contribution = round(float(contribution.sum()), 2)
        truth[channel.name] = {
            "decay": channel.decay,
            "decay_weekly_equivalent": round(channel.decay ** 7, 8),
            "half_saturation": half_saturation,
            "shape": channel.shape,
            "coefficient": coefficient,
            "total_spend": total_spend,
            "total_contribution": total_contribution,
            "true_roi": round(total_contribution / total_spend, 6),
        }
        daily[f"spend_{channel.name}"] = spend
        daily[f"contrib_{channel.name}"] = contribution
        contributions += contribution
    baseline = _baseline(dates)
    noise = rng.normal(0.0, BASELINE["noise_sd"], len(dates))
    revenue = np.maximum(baseline + contributions + noise, BASELINE["revenue_floor"])
    daily["baseline"] = baseline
    daily["revenue_cents"] = np.round(revenue * 100).astype(np.int64)
    media_plan = pd.concat(plans, ignore_index=True).sort_values("date", kind="stable")
    return daily, truth, media_plan


def _lift_tests(rng: np.random.Generator, daily: pd.DataFrame) -> pd.DataFrame:
    """One lift test per channel that is never off (always-on and email): a window of whole Monday
    weeks, its spend, and the true incremental revenue over it measured with Gaussian noise."""
    dates = pd.to_datetime(daily["date"])
    mondays = np.flatnonzero((dates.dt.dayofweek == 0).to_numpy() & (np.arange(len(dates)) + 7 <= len(dates)))
    n_weeks = min(LIFT_TEST_WEEKS, len(mondays))
    rows = []
    for channel in CHANNELS:
        if channel.pattern == "flighted":
            continue
        first = mondays[rng.integers(0, len(mondays) - n_weeks + 1)]
        window = slice(first, first + 7 * n_weeks)
        true_value = float(daily[f"contrib_{channel.name}"].iloc[window].sum())
        standard_error = LIFT_TEST_RELATIVE_SE * true_value
        rows.append({
            "channel": channel.name,
            "start_date": daily["date"].iloc[first],
            "end_date": daily["date"].iloc[first + 7 * n_weeks - 1],
            "spend": float(daily[f"spend_{channel.name}"].iloc[window].sum()),
            "incremental_revenue": true_value + rng.normal(0.0, standard_error),
            "standard_error": standard_error,
        })
    return pd.DataFrame(rows)


def _simulate_media(rng: np.random.Generator, daily: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Campaign-level media rows and, per channel, the (days x campaigns) spend shares."""
    n_days = len(daily)
    frames, shares = [], {}
    for channel in CHANNELS:
        n_camp = len(channel.campaigns)
        base_shares = np.array([c.share for c in channel.campaigns])
        day_shares = rng.dirichlet(60.0 * base_shares, size=n_days)
        channel_cents = np.round(daily[f"spend_{channel.name}"].to_numpy() * 100).astype(np.int64)
        cents = _split_cents(channel_cents, day_shares.ravel(), np.repeat(np.arange(n_days), n_camp))
        shares[channel.name] = day_shares
        spend = cents / 100
        cpm = np.tile([channel.cpm] * n_camp, n_days)
        impressions = np.round(spend / cpm * 1000 * rng.lognormal(0.0, 0.08, len(spend))).astype(np.int64)
        clicks = rng.binomial(impressions, np.tile([c.ctr for c in channel.campaigns], n_days))
        conversions = rng.binomial(clicks, np.tile([c.conversion_rate for c in channel.campaigns], n_days))
        frames.append(pd.DataFrame({
            "day": np.repeat(np.arange(n_days), n_camp),
            "date": np.repeat(daily["date"].to_numpy(), n_camp),
            "channel": channel.name,
            "campaign": np.tile([c.name for c in channel.campaigns], n_days),
            "spend": spend,
            "impressions": impressions,
            "clicks": clicks,
            "conversions": conversions,
        }))
    media = pd.concat(frames, ignore_index=True).sort_values("day", kind="stable").drop(columns="day")
    return media, shares


def _utm_combos() -> tuple[list[tuple[str, str, str | None]], dict[str, int]]:
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
    direct_share = np.where(category == 0, 0.55, 0.70)
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


def _simulate_sessions(rng, daily, shares, n_sessions_target, n_users, start_epoch) -> dict:
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
    session_revenue[purchase_idx] = _split_cents(
        revenue_cents, rng.gamma(ORDER_VALUE_SHAPE, 1.0, len(purchase_idx)), day[purchase_idx])

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
        "combo": _assign_touches(rng, day, daily, shares, _utm_combos()[1]),
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


def _user_strings(con: duckdb.DuckDBPyConnection, s: dict) -> pa.Table:
    """user_pseudo_id and email per user, built in DuckDB."""
    source = pa.table({
        "client": s["user_client"], "first_seen": s["user_first_seen"], "has_email": s["user_has_email"],
        "fn": s["user_first_name"], "ln": s["user_last_name"], "num": s["user_number"],
        "dom": s["user_domain"], "style": s["user_case"],
    })
    con.register("users_src", source)
    address = (f"{_sql_list(FIRST_NAMES)}[fn + 1] || '.' || {_sql_list(LAST_NAMES)}[ln + 1] || num::VARCHAR"
               f" || '@' || {_sql_list(EMAIL_DOMAINS)}[dom + 1]")
    table = con.sql(f"""
        SELECT client::VARCHAR || '.' || first_seen::VARCHAR AS user_pseudo_id,
               CASE WHEN NOT has_email THEN NULL
                    WHEN style = 0 THEN lower({address})
                    WHEN style = 1 THEN {address}
                    ELSE upper({address}) END AS email
        FROM users_src""").to_arrow_table()
    con.unregister("users_src")
    return table


def _ip_strings(con: duckdb.DuckDBPyConnection, rng: np.random.Generator, n: int) -> pa.Array:
    """One IP address per session: ~85 % IPv4, ~15 % IPv6."""
    groups = rng.integers(0, 65536, (7, n))
    source = {"v6": rng.random(n) < 0.15, "prefix": rng.integers(0, len(IPV6_PREFIXES), n),
              "o1": rng.integers(11, 224, n), "o2": rng.integers(0, 256, n), "o3": rng.integers(0, 256, n),
              "o4": rng.integers(1, 255, n)}
    source.update({f"g{i}": groups[i] for i in range(7)})
    con.register("ip_src", pa.table(source))
    hex_groups = ", ".join(f"g{i}" for i in range(7))
    table = con.sql(f"""
        SELECT CASE WHEN v6 THEN printf('%s:%x:%x:%x:%x:%x:%x:%x', {_sql_list(IPV6_PREFIXES)}[prefix + 1], {hex_groups})
                    ELSE printf('%d.%d.%d.%d', o1, o2, o3, o4) END AS ip
        FROM ip_src""").to_arrow_table()
    con.unregister("ip_src")
    return table.column("ip").combine_chunks()


def _event_select_sql() -> str:
    """SELECT turning the numeric per-event table ``ev`` into the landing columns (all strings)."""
    combos = _utm_combos()[0]
    cents_text = "printf('%d.%02d', {0} // 100, {0} % 100)"
    return f"""
        SELECT
          CASE WHEN defect = {MISSING_ID} AND variant = 0 THEN NULL
               ELSE 'e' || lpad(seq::VARCHAR, 10, '0') END AS event_id,
          CASE WHEN defect = {BAD_TIMESTAMP} THEN {_sql_list(BAD_TIMESTAMPS)}[variant + 1]
               ELSE strftime(make_timestamp(ts_us), '%Y-%m-%dT%H:%M:%S.%fZ') END AS event_timestamp,
          {_sql_list(EVENT_NAMES)}[name + 1] AS event_name,
          CASE WHEN defect = {MISSING_ID} AND variant = 1 THEN NULL ELSE user_pseudo_id END AS user_pseudo_id,
          CASE WHEN defect = {MISSING_ID} AND variant = 2 THEN NULL ELSE session_id::VARCHAR END AS session_id,
          'https://shop.example.com' || {_sql_list(PAGES)}[page + 1] AS page_location,
          {_sql_list([c[0] for c in combos])}[combo + 1] AS utm_source,
          {_sql_list([c[1] for c in combos])}[combo + 1] AS utm_medium,
          {_sql_list([c[2] for c in combos])}[combo + 1] AS utm_campaign,
          {_sql_list([d for d, _ in DEVICES])}[device + 1] AS device,
          {_sql_list([c for c, _ in COUNTRIES])}[country + 1] AS country,
          CASE WHEN defect = {NEGATIVE_REVENUE} THEN '-' || {cents_text.format('bad_cents')}
               WHEN defect = {NON_NUMERIC_REVENUE} THEN {_sql_list(BAD_REVENUES)}[variant + 1]
               WHEN name = {PURCHASE} THEN {cents_text.format('revenue_cents')} END AS revenue,
          email,
          ip_address,
          CASE WHEN consent_analytics THEN 'true' ELSE 'false' END AS consent_analytics,
          CASE WHEN consent_ads THEN 'true' ELSE 'false' END AS consent_ads
        FROM ev"""


def _file_events(con, rng, s: dict, lo: int, hi: int, first_seq: int, users: pa.Table):
    """Numeric/arrow event table of sessions [lo, hi) with injected defects, plus its counts."""
    n_events = s["n_events"][lo:hi]
    n_sess = hi - lo
    session = np.repeat(np.arange(n_sess), n_events)
    n = len(session)
    first_event = np.cumsum(n_events) - n_events
    position = np.arange(n) - first_event[session]
    size = n_events[session]
    last = position == size - 1
    purchase = s["purchase"][lo:hi][session]
    name = np.full(n, PAGE_VIEW, np.int8)
    name[position == 0] = SESSION_START
    name[purchase & (position == size - 2)] = ADD_TO_CART
    name[purchase & last] = PURCHASE
    name[s["cart_only"][lo:hi][session] & last] = ADD_TO_CART

    gap_us = (np.clip(rng.gamma(1.5, 30.0, n), 1.0, 290.0) * 1_000_000).astype(np.int64)
    gap_us[position == 0] = 0
    elapsed = np.cumsum(gap_us)
    ts_us = s["start_us"][lo:hi][session] + elapsed - elapsed[first_event][session]

    page = rng.choice(len(BROWSE_PAGES) + len(PRODUCT_PAGES), n).astype(np.int16)
    cart = name == ADD_TO_CART
    page[cart] = len(BROWSE_PAGES) + rng.integers(0, len(PRODUCT_PAGES), cart.sum())
    page[name == PURCHASE] = len(PAGES) - 1

    order = np.argsort(ts_us, kind="stable")
    session, name, ts_us, page = session[order], name[order], ts_us[order], page[order]

    n_bad = int(round(MALFORMED_SHARE * n))
    per_kind = np.full(len(DEFECT_KINDS), n_bad // len(DEFECT_KINDS))
    per_kind[: n_bad % len(DEFECT_KINDS)] += 1
    chosen = rng.choice(np.flatnonzero(name != PURCHASE), n_bad, replace=False)
    defect = np.zeros(n, np.int8)
    bounds = np.r_[0, np.cumsum(per_kind)]
    for code in (MISSING_ID, BAD_TIMESTAMP, NEGATIVE_REVENUE, NON_NUMERIC_REVENUE):
        defect[chosen[bounds[code - 1]:bounds[code]]] = code
    # variant picks the blanked id (event, user, session) or the garbage text
    variant = np.zeros(n, np.int8)
    for code, n_variants in ((MISSING_ID, 3), (BAD_TIMESTAMP, len(BAD_TIMESTAMPS)),
                             (NON_NUMERIC_REVENUE, len(BAD_REVENUES))):
        variant[defect == code] = rng.integers(0, n_variants, per_kind[code - 1])
    bad_cents = np.zeros(n, np.int64)
    bad_cents[defect == NEGATIVE_REVENUE] = rng.integers(100, 50_000, per_kind[NEGATIVE_REVENUE - 1])
    duplicate_of = np.sort(chosen[bounds[-2]:])

    global_session = lo + session
    user = s["user"][global_session]
    consent = s["consent_analytics"][global_session]
    table = pa.table({
        "seq": first_seq + np.arange(n, dtype=np.int64),
        "ts_us": ts_us,
        "name": name,
        "user_pseudo_id": pa.DictionaryArray.from_arrays(user.astype(np.int32), users.column("user_pseudo_id")),
        "session_id": s["session_id"][global_session],
        "page": page,
        "combo": s["combo"][global_session],
        "device": s["device"][global_session],
        "country": s["user_country"][user],
        "revenue_cents": np.where(name == PURCHASE, s["revenue_cents"][global_session], 0),
        "email": pa.DictionaryArray.from_arrays(user.astype(np.int32), users.column("email")),
        "ip_address": pa.DictionaryArray.from_arrays(session.astype(np.int32), _ip_strings(con, rng, n_sess)),
        "consent_analytics": consent,
        "consent_ads": consent & s["consent_ads_given"][global_session],
        "defect": defect,
        "variant": variant,
        "bad_cents": bad_cents,
    })
    table = pa.concat_tables([table, table.take(duplicate_of)])

    kept = (defect == 0) & consent
    kept_session = np.zeros(n_sess, bool)
    kept_session[session[kept]] = True
    counts = {
        "raw_rows": n + len(duplicate_of),
        "quarantined": dict(zip(DEFECT_KINDS, (int(k) for k in per_kind))),
        "dropped_for_consent": int(((defect == 0) & ~consent).sum()),
        "kept": int(kept.sum()),
        "kept_sessions": int(kept_session.sum()),
        "kept_revenue_cents": int(s["revenue_cents"][global_session][kept & (name == PURCHASE)].sum()),
    }
    return table, counts


@contextmanager
def _open_output(path: Path):
    """Binary output stream; gzip (level GZIP_LEVEL, mtime 0 for reproducible bytes) for *.gz."""
    with path.open("wb") as raw:
        if path.name.endswith(".gz"):
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0) as packed:
                yield packed
        else:
            yield raw


def _string_bytes(array: pa.Array) -> memoryview:
    """The concatenated UTF-8 bytes of a (non-null) arrow string array."""
    offsets = np.frombuffer(array.buffers()[1], np.int32)[array.offset:array.offset + len(array) + 1]
    return memoryview(array.buffers()[2])[offsets[0]:offsets[-1]]


def _write_events(con: duckdb.DuckDBPyConnection, table: pa.Table, path: Path, fmt: str) -> None:
    """Write one event table in the given landing format (every column a string)."""
    select = _event_select_sql()
    if fmt == "parquet":
        schema = pa.schema([(c, pa.string()) for c in EVENT_COLUMNS])
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for start in range(0, max(table.num_rows, 1), PARQUET_ROW_GROUP):
                con.register("ev", table.slice(start, PARQUET_ROW_GROUP))
                writer.write_table(con.sql(select).to_arrow_table().cast(schema))
                con.unregister("ev")
        return
    con.register("ev", table)
    if fmt.startswith("jsonl"):
        lines = con.sql(f"SELECT to_json(row) || chr(10) AS line FROM ({select}) AS row").to_arrow_reader()
        with _open_output(path) as out:
            for batch in lines:
                out.write(_string_bytes(batch.column(0)))
    else:
        # DuckDB's own gzip writer is several times slower than zlib, so compress a plain copy here.
        plain = path.with_name(path.name + ".tmp") if fmt.endswith(".gz") else path
        target = plain.as_posix().replace("'", "''")
        con.execute(f"COPY ({select}) TO '{target}' (FORMAT csv, HEADER true, COMPRESSION none)")
        if plain != path:
            with plain.open("rb") as source, _open_output(path) as out:
                shutil.copyfileobj(source, out, 1 << 22)
            plain.unlink()
    con.unregister("ev")


def simulate(out_dir: Path, *, days: int = 730, events: int = 50000, users: int | None = None, seed: int = 7,
             start_date: str = "2024-01-01", formats=("csv", "parquet", "jsonl.gz"),
             n_event_files: int | None = None) -> dict:
    """Write the simulated landing files and ground truth under ``out_dir``; return the ground truth."""
    formats = tuple(formats)
    unknown = set(formats) - set(FORMATS)
    if unknown or not formats:
        raise ValueError(f"formats must be a non-empty subset of {FORMATS}, got {formats}")
    n_files = len(formats) if n_event_files is None else n_event_files
    if days < MIN_DAYS or events < 1 or not 1 <= n_files <= days:
        raise ValueError(f"need days >= {MIN_DAYS}, events >= 1 and 1 <= files <= days")
    n_users = max(1, events // 12) if users is None else users

    out_dir = Path(out_dir)
    events_dir = out_dir / "landing" / "events"
    media_dir = out_dir / "landing" / "media"
    plans_dir = out_dir / "landing" / "plans"
    experiments_dir = out_dir / "landing" / "experiments"
    for directory in (events_dir, media_dir, plans_dir, experiments_dir):
        directory.mkdir(parents=True, exist_ok=True)
    for stale in events_dir.glob("events_[0-9][0-9][0-9]_*"):  # files of an earlier run would skew the counts
        stale.unlink()

    dates = pd.date_range(start_date, periods=days, freq="D")
    start_epoch = int(dates[0].timestamp())
    daily, channel_truth, media_plan = _simulate_world(
        np.random.default_rng([seed, 0]), np.random.default_rng([seed, 4]), dates)
    media, shares = _simulate_media(np.random.default_rng([seed, 1]), daily)
    mean_events = float(EVENTS_PER_SESSION_P @ np.arange(1, 7))
    sessions_target = events / (mean_events * (1 + MALFORMED_SHARE / len(DEFECT_KINDS)))
    s = _simulate_sessions(np.random.default_rng([seed, 2]), daily, shares, sessions_target, n_users, start_epoch)

    media.to_csv(media_dir / "media_spend.csv", index=False, float_format="%.2f", lineterminator="\n")
    media_plan.to_csv(plans_dir / "media_plan.csv", index=False, float_format="%.2f", lineterminator="\n")
    _write_daily(daily, out_dir / "ground_truth_daily.csv")
    _lift_tests(np.random.default_rng([seed, 5]), daily).to_csv(
        experiments_dir / "lift_tests.csv", index=False, float_format="%.2f", lineterminator="\n")

    con = duckdb.connect(config={"memory_limit": "1GB"})
    users_table = _user_strings(con, s)
    day_chunks = np.array_split(np.arange(days), n_files)
    session_bounds = np.searchsorted(s["day"], [chunk[0] for chunk in day_chunks] + [days])
    file_names, totals, first_seq = [], [], 1
    for index, chunk in enumerate(day_chunks):
        fmt = formats[index % len(formats)]
        name = f"events_{index + 1:03d}_{daily['date'][chunk[0]]}_{daily['date'][chunk[-1]]}.{fmt}"
        rng = np.random.default_rng([seed, 3, index])
        lo, hi = session_bounds[index], session_bounds[index + 1]
        table, counts = _file_events(con, rng, s, lo, hi, first_seq, users_table)
        _write_events(con, table, events_dir / name, fmt)
        del table  # release this file's rows before the next file is built
        first_seq += int(s["n_events"][lo:hi].sum())
        file_names.append(name)
        totals.append(counts)
    con.close()

    quarantined = {kind: sum(c["quarantined"][kind] for c in totals) for kind in DEFECT_KINDS}
    truth = {
        "seed": seed,
        "options": {"days": days, "events": events, "users": n_users, "seed": seed, "start_date": start_date,
                    "formats": list(formats), "n_event_files": n_files},
        "start_date": daily["date"].iloc[0],
        "end_date": daily["date"].iloc[-1],
        "channels": channel_truth,
        "baseline": BASELINE,
        "campaigns": {ch.name: {c.name: {"conversion_rate": c.conversion_rate,
                                         "revenue_per_conversion": c.revenue_per_conversion}
                                for c in ch.campaigns} for ch in CHANNELS},
        "counts": {
            "raw_rows": sum(c["raw_rows"] for c in totals),
            "raw_rows_per_file": {name: c["raw_rows"] for name, c in zip(file_names, totals)},
            "quarantined": quarantined,
            "quarantined_total": sum(quarantined.values()),
            "dropped_for_consent": sum(c["dropped_for_consent"] for c in totals),
            "kept": sum(c["kept"] for c in totals),
            "kept_sessions": sum(c["kept_sessions"] for c in totals),
            "kept_revenue": round(sum(c["kept_revenue_cents"] for c in totals) / 100, 2),
        },
        "files": file_names,
    }
    (out_dir / "ground_truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    return truth


def _write_daily(daily: pd.DataFrame, path: Path) -> None:
    """Write ground_truth_daily.csv (date, revenue_total, baseline, contrib_*, spend_*)."""
    columns = (["date", "revenue_total", "baseline"] + [f"contrib_{c.name}" for c in CHANNELS]
               + [f"spend_{c.name}" for c in CHANNELS])
    frame = daily.assign(revenue_total=daily["revenue_cents"] / 100)[columns]
    frame.to_csv(path, index=False, float_format="%.2f", lineterminator="\n")


def weekly_truth_panel(out_dir: Path | str) -> pd.DataFrame:
    """Complete Monday-start weeks of a simulated world from ground_truth_daily.csv: week, total
    revenue (before consent drops), and per channel its spend (column = channel name) and true
    contribution (``contrib_<channel>``), aggregated in DuckDB."""
    sums = ", ".join(f'sum(spend_{c.name}) AS "{c.name}", sum(contrib_{c.name}) AS contrib_{c.name}' for c in CHANNELS)
    path = str(Path(out_dir) / "ground_truth_daily.csv").replace("'", "''")
    with duckdb.connect() as con:
        return con.execute(f"""
            SELECT date_trunc('week', date)::DATE AS week, sum(revenue_total) AS revenue, {sums}
            FROM read_csv('{path}') GROUP BY 1 HAVING count(*) = 7 ORDER BY 1""").fetchdf()


if __name__ == "__main__":
    from gtm_assets.cli.simulate import main

    raise SystemExit(main())
