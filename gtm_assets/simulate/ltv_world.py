"""Customer purchase worlds with a known truth, for judging lifetime-value models.

Each customer is acquired with a first purchase during the calibration year and then buys day by day
until they leave; values are drawn per purchase. The family decides how:

* ``bgnbd`` (the model's own family): purchase rate λ ~ Gamma, after each repeat purchase the customer
  leaves with probability p ~ Beta, spend per purchase Gamma with a customer-level rate ~ Gamma.
* ``seasonal`` (outside it): the same, but every customer's rate swings ±60% over the year.
* ``aging`` (outside it): nobody leaves after a purchase; each customer's lifetime is Weibull with a
  hazard that rises with time since the first purchase.
* ``spend_follows_frequency`` (outside it): frequent buyers spend more per purchase (Gamma-Gamma
  assumes the two independent).

The truth per customer is what the simulator knows and a model cannot: the expected purchases and
revenue in the holdout year given the customer's own parameters and whether they are still active at
the calibration end (the mean of many continuations of that state), beside the one holdout the world
actually realised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

FAMILIES = ("bgnbd", "seasonal", "aging", "spend_follows_frequency")
OUT_OF_FAMILY = FAMILIES[1:]
START = pd.Timestamp("2023-01-01")


@dataclass
class LtvWorld:
    family: str
    seed: int
    transactions: pd.DataFrame  # customer, date, value (calibration and holdout)
    truth: pd.DataFrame  # per customer: true_expected_purchases, true_expected_revenue (holdout)
    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp


@dataclass
class _Customers:
    first_day: np.ndarray
    rate: np.ndarray
    dropout: np.ndarray
    lifetime: np.ndarray
    spend_shape: float
    spend_rate: np.ndarray
    phase: np.ndarray


def _draw_customers(family: str, n: int, calibration_days: int, rng) -> _Customers:
    r, alpha = rng.uniform(0.6, 1.4), rng.uniform(25, 70)
    a, b = rng.uniform(0.6, 1.4), rng.uniform(3, 9)
    rate = rng.gamma(r, 1 / alpha, n)
    dropout = rng.beta(a, b, n) if family != "aging" else np.zeros(n)
    lifetime = (
        rng.weibull(2.5, n) * rng.gamma(3.0, 180.0, n) if family == "aging" else np.full(n, np.inf)
    )  # days after the first purchase; hazard rising with time
    spend_shape, q, gamma = rng.uniform(2, 6), rng.uniform(3, 6), rng.uniform(60, 200)
    spend_rate = rng.gamma(q, 1 / gamma, n)
    if family == "spend_follows_frequency":
        spend_rate = spend_rate / np.sqrt(rate / rate.mean())  # mean spend ∝ sqrt(purchase rate)
    return _Customers(
        first_day=rng.integers(0, calibration_days - 30, n),
        rate=rate,
        dropout=dropout,
        lifetime=lifetime,
        spend_shape=spend_shape,
        spend_rate=spend_rate,
        phase=np.full(n, rng.uniform(0, 2 * np.pi)),
    )


def _daily_rate(family: str, people: _Customers, day: int, index=slice(None)) -> np.ndarray:
    rate = people.rate[index]
    if family == "seasonal":
        rate = rate * (1 + 0.6 * np.sin(2 * np.pi * day / 365 + people.phase[index]))
    return rate


def _run(family, people: _Customers, days: range, active: np.ndarray, index, rng, record=None) -> np.ndarray:
    """Advance customers ``index`` (active flags ``active``, one row per customer × path) over ``days``;
    returns purchase counts per row and appends (row, day) of each purchase to ``record``."""
    counts = np.zeros(active.shape, dtype=np.int64)
    for day in days:
        started = people.first_day[index] < day
        within_life = day - people.first_day[index] < people.lifetime[index]
        buying = active & started & within_life
        buys = buying & (rng.random(active.shape) < 1 - np.exp(-_daily_rate(family, people, day, index)))
        counts += buys
        if record is not None:
            record.append((np.flatnonzero(buys), day))
        active &= ~(buys & (rng.random(active.shape) < people.dropout[index]))
        active &= within_life | ~started
    return counts


def ltv_world(
    family: str,
    seed: int,
    *,
    customers: int = 4000,
    calibration_days: int = 365,
    holdout_days: int = 365,
    continuations: int = 100,
) -> LtvWorld:
    if family not in FAMILIES:
        raise ValueError(f"unknown LTV world family {family!r}; one of {', '.join(FAMILIES)}")
    rng = np.random.default_rng(seed)
    people = _draw_customers(family, customers, calibration_days, rng)
    everyone = np.arange(customers)
    record = [(np.flatnonzero(people.first_day == day), day) for day in range(calibration_days)]  # first purchases
    active = np.ones(customers, dtype=bool)
    _run(family, people, range(calibration_days), active, everyone, rng, record)
    state = active.copy()  # who is still a customer at the calibration end
    _run(family, people, range(calibration_days, calibration_days + holdout_days), active, everyone, rng, record)
    rows = [(c, d) for ids, d in record for c in ids]
    frame = pd.DataFrame(rows, columns=["customer", "day"])
    values = rng.gamma(people.spend_shape, 1.0, len(frame)) / people.spend_rate[frame["customer"].to_numpy()]
    transactions = pd.DataFrame(
        {
            "customer": [f"c{c:05d}" for c in frame["customer"]],
            "date": START + pd.to_timedelta(frame["day"], unit="D"),
            "value": np.round(values, 2),
        }
    ).sort_values(["date", "customer"], ignore_index=True)
    truth = _truth(family, people, state, calibration_days, holdout_days, continuations, rng)
    return LtvWorld(
        family=family,
        seed=seed,
        transactions=transactions,
        truth=truth,
        calibration_end=START + pd.Timedelta(days=calibration_days - 1),
        holdout_end=START + pd.Timedelta(days=calibration_days + holdout_days - 1),
    )


def _truth(family, people: _Customers, state: np.ndarray, calibration_days, holdout_days, continuations, rng) -> pd.DataFrame:
    """Mean holdout purchases and revenue over ``continuations`` paths from each customer's state."""
    n = len(state)
    index = np.repeat(np.arange(n), continuations)
    counts = _run(family, people, range(calibration_days, calibration_days + holdout_days), state[index].copy(), index, rng)
    expected = counts.reshape(n, continuations).mean(axis=1)
    spend = people.spend_shape / people.spend_rate
    return pd.DataFrame(
        {"true_expected_purchases": expected, "true_expected_revenue": expected * spend},
        index=pd.Index([f"c{c:05d}" for c in range(n)], name="customer"),
    )
