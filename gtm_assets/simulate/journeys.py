"""Journeys where touches cause conversions by a known amount: the truth multi-touch attribution is
judged on.

The session simulator draws each session's channel in proportion to the channels' contributions,
whether or not it converts, so any attribution model is unbiased there by construction: it cannot
serve as a truth. Here every touch has a causal effect, and who gets touched depends on who would
convert anyway, as in the wild:

- each user has a baseline chance to convert, ``p0`` (Beta-distributed: most users are cold, a few
  are in the market);
- a channel reaches a user with probability ``reach x (1 + intent x (p0 / mean p0 - 1))``: an
  ``intent``-seeking channel (search, retargeting, e-mail to customers) reaches users who were likely
  to convert anyway, an awareness channel reaches everyone alike;
- a reached user gets 1-3 touches of the channel, at ``timing`` (0 = early in the 30-day window,
  1 = just before its end) plus noise;
- the user converts at the end of the window with probability 1 - (1 - p0) x prod over touches of
  (1 - ``lift`` of the touch's channel).

True incremental conversions of a channel: sum over users of P(convert with every touch) - P(convert
without the channel's touches), exact and in expectation: what switching the channel off would lose.
``counterfactual_conversions`` replays the same users, touches and random numbers with a channel
switched off, a check of that truth that does not use its formula.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from gtm_assets.warehouse.resource import prepare_connection

WINDOW_DAYS = 30
END = pd.Timestamp("2025-03-01")


@dataclass(frozen=True)
class JourneyChannel:
    name: str
    reach: float  # share of an average user reached
    intent: float  # 0: reaches everyone alike; 1: reach proportional to the chance to convert anyway
    timing: float  # 0 early in the window .. 1 just before its end
    lift: float  # causal lift of one touch: the chance of not converting is multiplied by 1 - lift


CHANNELS = (
    JourneyChannel("Video", reach=0.45, intent=0.0, timing=0.15, lift=0.045),
    JourneyChannel("Social", reach=0.35, intent=0.3, timing=0.45, lift=0.020),
    JourneyChannel("Display", reach=0.40, intent=0.6, timing=0.70, lift=0.006),
    JourneyChannel("Search", reach=0.25, intent=1.5, timing=0.90, lift=0.012),
)


@dataclass
class JourneyWorld:
    """Users' baseline chances, their touches (user, channel, day, uniform draw), outcomes and truth."""

    p0: np.ndarray
    touches: pd.DataFrame  # user, channel, day (before the window's end), touch_order
    converted: np.ndarray
    conversion_draw: np.ndarray  # the uniform number each user's outcome was drawn with
    channels: tuple[JourneyChannel, ...]

    def probability(self, without: str | None = None) -> np.ndarray:
        """Each user's chance to convert with every touch, or without one channel's touches."""
        lifts = {c.name: c.lift for c in self.channels}
        kept = self.touches if without is None else self.touches[self.touches["channel"] != without]
        log_stay = np.log1p(-kept["channel"].map(lifts).to_numpy())
        stay = np.exp(np.bincount(kept["user"], weights=log_stay, minlength=len(self.p0)))
        return 1.0 - (1.0 - self.p0) * stay

    def true_incremental(self) -> pd.Series:
        """Expected conversions each channel adds (what switching it off would lose)."""
        everything = self.probability().sum()
        return pd.Series({c.name: everything - self.probability(without=c.name).sum() for c in self.channels})

    def counterfactual_conversions(self, without: str) -> int:
        """Conversions of the same users with the same random numbers, the channel switched off."""
        return int((self.conversion_draw < self.probability(without=without)).sum())

    def touchpoints(self) -> pd.DataFrame:
        """The journeys of users with at least one touch, in the layout of main.touchpoints."""
        t = self.touches.sort_values(["user", "day", "channel"], ascending=[True, False, True]).copy()
        t["touch_order"] = t.groupby("user").cumcount() + 1
        t["touches_in_journey"] = t.groupby("user")["user"].transform("size")
        converted = self.converted[t["user"].to_numpy()]
        return pd.DataFrame(
            {
                "journey_id": "j" + t["user"].astype(str),
                "touch_order": t["touch_order"],
                "touches_in_journey": t["touches_in_journey"],
                "channel": t["channel"],
                "campaign": t["channel"].str.lower(),
                "touched_at": END - pd.to_timedelta(t["day"], unit="D"),
                "converted": converted,
                "conversion_value": np.where(converted, 100.0, 0.0),
                "converted_at": pd.Series(np.where(converted, END, pd.NaT), index=t.index),
                "days_before_end": t["day"].astype(float),
                "user_key": "u" + t["user"].astype(str),
                "consent_ads": True,
                "lookback_days": WINDOW_DAYS,
            }
        ).reset_index(drop=True)


def touchpoints_connection(world: JourneyWorld) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse holding the world's journeys as main.touchpoints, ready for attribution."""
    conn = duckdb.connect()
    prepare_connection(conn)
    conn.register("journeys", world.touchpoints())
    conn.execute(
        "CREATE TABLE main.touchpoints AS SELECT * REPLACE (conversion_value::DECIMAL(18, 2) AS conversion_value) FROM journeys"
    )
    return conn


def simulate_journeys(seed: int, users: int = 100_000, channels: tuple[JourneyChannel, ...] = CHANNELS) -> JourneyWorld:
    """Draw a journey world (module docstring)."""
    rng = np.random.default_rng([seed, 20])
    p0 = rng.beta(0.6, 12.0, users)
    relative = p0 / p0.mean() - 1.0
    rows = []
    for channel in channels:
        reach = np.clip(channel.reach * (1.0 + channel.intent * relative), 0.0, 1.0)
        reached = np.flatnonzero(rng.random(users) < reach)
        count = rng.integers(1, 4, len(reached))
        user = np.repeat(reached, count)
        position = np.clip(channel.timing + rng.normal(0.0, 0.15, len(user)), 0.0, 1.0)
        rows.append(
            pd.DataFrame({"user": user, "channel": channel.name, "day": np.round((1.0 - position) * (WINDOW_DAYS - 1), 3)})
        )
    touches = pd.concat(rows, ignore_index=True)
    world = JourneyWorld(p0, touches, np.zeros(users, dtype=bool), rng.random(users), channels)
    world.converted = world.conversion_draw < world.probability()
    return world
