"""Multi-touch attribution on aggregated paths (numpy only; no Dagster, no DuckDB).

The row-level work (journeys, per-touch weights, transition counts, channel sets) happens in SQL; this
module gets aggregates whose size depends on the number of distinct channels and states, never on
the number of journeys:

* ``markov_removal_effects``: an absorbing Markov chain over channel states (order k: the last k
  channels of a path), solved exactly with one linear system per removed channel, instead of
  simulating paths. Removal effect of c = 1 - P(conversion | every state containing c leads to the null
  state) / P(conversion).
* ``shapley_set_credits``: Shapley values over channel sets. The worth of a coalition S is the
  conversion rate of the journeys whose set of distinct channels is exactly S (0 when unseen). For each
  converting set T the game restricted to T's subsets gives each channel its Shapley value; a negative
  value (the channel's journeys convert worse than those without it) gets no credit, and T's
  conversions and revenue are split by the remaining values.
* ``largest_remainder``: integer units (cents, 1/10,000 conversions) that sum exactly to a total.
"""

from __future__ import annotations

from math import factorial

import numpy as np
import pandas as pd

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
STATE_SEPARATOR = "\x1f"  # joins the channels of a higher-order state
MAX_SHAPLEY_CHANNELS = 16


def largest_remainder(values, total_units: int) -> np.ndarray:
    """Integers that sum to ``total_units``, proportional to non-negative ``values`` (Hamilton's method):
    each part is the floor of its exact quota, and the units left over go to the largest remainders
    (ties: the earlier position)."""
    weights = np.clip(np.asarray(values, dtype=float), 0.0, None)
    if total_units == 0:
        return np.zeros(len(weights), dtype=np.int64)
    if len(weights) == 0 or weights.sum() <= 0:
        raise ValueError(f"cannot split {total_units} units over {len(weights)} parts without positive weight")
    quotas = weights / weights.sum() * total_units
    parts = np.floor(quotas).astype(np.int64)
    left = int(total_units - parts.sum())
    if left:
        # Remainders equal up to float noise are ties, settled by position.
        order = np.argsort(-np.round(quotas - parts, 9), kind="stable")
        parts[order[:left]] += 1
    return parts


def _state_channels(state: str) -> set[str]:
    return set(state.split(STATE_SEPARATOR))


def markov_removal_effects(transitions: pd.DataFrame) -> tuple[float, dict[str, float]]:
    """(P(conversion) from the start state, removal effect per channel) of the absorbing chain given by
    ``transitions`` (from_state, to_state, n): n journeys went from one state to the next. States are
    START, CONVERSION, NULL and channel states (channels joined by STATE_SEPARATOR for order > 1)."""
    counts = transitions.groupby(["from_state", "to_state"], as_index=False)["n"].sum()
    transient = sorted(set(counts["from_state"]) | (set(counts["to_state"]) - {CONVERSION, NULL}))
    if START not in transient:
        return 0.0, {}
    index = {state: i for i, state in enumerate(transient)}
    size = len(transient)
    q = np.zeros((size, size))
    to_conversion = np.zeros(size)
    out = counts.groupby("from_state")["n"].transform("sum").to_numpy(dtype=float)
    probability = counts["n"].to_numpy(dtype=float) / out
    rows = counts["from_state"].map(index).to_numpy()
    is_conversion = (counts["to_state"] == CONVERSION).to_numpy()
    is_transient = ~counts["to_state"].isin([CONVERSION, NULL]).to_numpy()
    np.add.at(to_conversion, rows[is_conversion], probability[is_conversion])
    cols = counts["to_state"][is_transient].map(index).to_numpy()
    np.add.at(q, (rows[is_transient], cols), probability[is_transient])

    def conversion_probability(removed: np.ndarray) -> float:
        # A removed state leads straight to the null state: its row of Q and its conversion chance are 0.
        keep = ~removed
        system = np.eye(size) - q * keep[:, None]
        return float(np.linalg.solve(system, to_conversion * keep)[index[START]])

    full = conversion_probability(np.zeros(size, dtype=bool))
    channels = sorted({c for s in transient if s != START for c in _state_channels(s)})
    effects = {}
    for channel in channels:
        removed = np.array([s != START and channel in _state_channels(s) for s in transient])
        effects[channel] = 0.0 if full <= 0 else max(0.0, 1.0 - conversion_probability(removed) / full)
    return full, effects


def shapley_set_credits(channel_sets: pd.DataFrame) -> pd.DataFrame:
    """Credited conversions and revenue per channel from ``channel_sets`` (channels: a sequence of the
    journey's distinct channels, journeys, conversions, revenue), one row per distinct set."""
    frame = channel_sets[channel_sets["journeys"] > 0].reset_index(drop=True)
    channels = sorted({c for s in frame["channels"] for c in s})
    if len(channels) > MAX_SHAPLEY_CHANNELS:
        raise ValueError(
            f"Shapley attribution over {len(channels)} channels (at most {MAX_SHAPLEY_CHANNELS}): "
            "map rare channels to 'Other' first"
        )
    n = len(channels)
    bit = {c: 1 << i for i, c in enumerate(channels)}
    masks = np.array([sum(bit[c] for c in set(s)) for s in frame["channels"]], dtype=np.int64)
    journeys = np.bincount(masks, weights=frame["journeys"].to_numpy(float), minlength=1 << n)
    conversions = np.bincount(masks, weights=frame["conversions"].to_numpy(float), minlength=1 << n)
    revenue = np.bincount(masks, weights=frame["revenue"].to_numpy(float), minlength=1 << n)
    worth = np.divide(conversions, journeys, out=np.zeros_like(conversions), where=journeys > 0)
    worth[0] = 0.0

    converting = np.flatnonzero(conversions > 0)
    credited = np.zeros((2, n))
    if len(converting) == 0:
        return pd.DataFrame({"channel": channels, "conversions": credited[0], "revenue": credited[1]})
    subsets = np.arange(1 << n, dtype=np.int64)
    sizes = np.array([bin(m).count("1") for m in range(1 << n)])
    weight = np.array(
        [[factorial(s) * factorial(t - s - 1) / factorial(t) if s < t else 0.0 for s in range(n + 1)] for t in range(n + 1)]
    )
    chunk = max(1, (1 << 22) // (1 << n))
    for start in range(0, len(converting), chunk):
        sets = converting[start : start + chunk]
        inside = (subsets[None, :] & ~sets[:, None]) == 0  # S is a subset of T
        values = np.zeros((len(sets), n))
        for i, channel in enumerate(channels):
            b = bit[channel]
            pair = inside & ((subsets[None, :] & b) == 0) & ((sets[:, None] & b) != 0)
            gain = worth[subsets | b] - worth[subsets]
            w = weight[sizes[sets]][:, sizes]  # w[T, |S|] for every pair
            values[:, i] = (pair * w * gain[None, :]).sum(axis=1)
        positive = np.clip(values, 0.0, None)
        shares = positive / positive.sum(axis=1, keepdims=True)
        credited[0] += (shares * conversions[sets][:, None]).sum(axis=0)
        credited[1] += (shares * revenue[sets][:, None]).sum(axis=0)
    return pd.DataFrame({"channel": channels, "conversions": credited[0], "revenue": credited[1]})


def split_by_campaign(channel_credit: pd.DataFrame, campaign_weights: pd.DataFrame) -> pd.DataFrame:
    """Spread channel-level credits (channel, conversions, revenue) over each channel's campaigns in
    proportion to ``campaign_weights`` (channel, campaign, conversions, revenue: the linear model's
    credits), so channel-level models report campaigns too. Revenue follows the conversion weights
    where a channel's campaigns earned no revenue, and an equal split where they earned nothing."""
    merged = campaign_weights.merge(channel_credit, on="channel", suffixes=("_weight", ""))
    count = merged.groupby("channel")["campaign"].transform("count").to_numpy(float)
    fallback = np.full(len(merged), np.nan)
    for column in ("conversions", "revenue"):
        weight = merged[f"{column}_weight"].to_numpy(float)
        total = merged.groupby("channel")[f"{column}_weight"].transform("sum").to_numpy(float)
        share = np.where(total > 0, weight / np.where(total > 0, total, 1.0), np.nan)
        share = np.where(np.isnan(share), fallback, share)
        share = np.where(np.isnan(share), 1.0 / count, share)
        fallback = share
        merged[column] = merged[column] * share
    return merged[["channel", "campaign", "conversions", "revenue"]]


def exact_credits(credits: pd.DataFrame, total_conversions: int, total_revenue_cents: int) -> pd.DataFrame:
    """One model's float credits (channel, campaign, conversions, revenue) rounded so they sum to the
    total conversions (to 1/10,000) and the total revenue (to the cent) exactly."""
    frame = credits.sort_values(["channel", "campaign"]).reset_index(drop=True)
    frame["conversion_units"] = largest_remainder(frame["conversions"], total_conversions * 10_000)
    frame["revenue_cents"] = largest_remainder(frame["revenue"], total_revenue_cents)
    return frame[["channel", "campaign", "conversion_units", "revenue_cents"]]
