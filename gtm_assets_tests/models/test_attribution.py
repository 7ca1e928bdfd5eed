"""Attribution on hand-built journeys with answers worked out by hand (the arithmetic is in the comments),
the touchpoints model's journey rules on hand-built sessions, and exact sums on the simulated world."""

from datetime import datetime, timedelta
from fractions import Fraction as F

import duckdb
import numpy as np
import pandas as pd
import pytest

from gtm_assets.defs.measurement.attribution import AttributionConfig, attribution_credits
from gtm_assets.models.attribution import largest_remainder, markov_removal_effects, shapley_set_credits
from gtm_assets.transform.render import render_model
from gtm_assets.warehouse.resource import prepare_connection

END = datetime(2025, 3, 1, 12, 0)
# (channels with days before the journey's end, converted, value). Channel X has campaign "x".
JOURNEYS = [
    ([("A", 7), ("B", 0)], True, 100.00),  # J1
    ([("A", 3), ("C", 0)], False, 0.0),  # J2
    ([("B", 0)], True, 50.00),  # J3
    ([("C", 14), ("B", 7), ("A", 0)], True, 30.00),  # J4
]


def touchpoints_of(journeys) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    prepare_connection(conn)
    rows = []
    for j, (touches, converted, value) in enumerate(journeys, start=1):
        for order, (channel, days) in enumerate(touches, start=1):
            rows.append(
                {
                    "journey_id": f"j{j}",
                    "touch_order": order,
                    "touches_in_journey": len(touches),
                    "channel": channel,
                    "campaign": channel.lower(),
                    "touched_at": END - timedelta(days=days),
                    "converted": converted,
                    "conversion_value": value if converted else 0.0,
                    "converted_at": END if converted else None,
                    "days_before_end": float(days),
                    "user_key": f"u{j}",
                    "consent_ads": j != 3,
                    "lookback_days": 30,
                }
            )
    frame = pd.DataFrame(rows)
    conn.register("hand", frame)
    conn.execute(
        "CREATE TABLE main.touchpoints AS SELECT * REPLACE (conversion_value::DECIMAL(18, 2) AS conversion_value) FROM hand"
    )
    return conn


def credits_by_model(table: pd.DataFrame) -> dict:
    return {
        model: {row.channel: (row.credited_conversions, row.credited_revenue) for row in group.itertuples()}
        for model, group in table.groupby("model")
    }


@pytest.fixture(scope="module")
def hand_credits():
    table, summary = attribution_credits(touchpoints_of(JOURNEYS), AttributionConfig(half_life_days=7))
    return credits_by_model(table), summary


def test_markov_removal_effects_on_three_channels_worked_by_hand(hand_credits):
    # Transitions: start->A 2, start->B 1, start->C 1; A->B, A->C, A->conv (1/3 each); B->conv 2/3, B->A 1/3;
    # C->null 1/2, C->B 1/2. Conversion probabilities p_A = (p_B + p_C + 1)/3, p_B = 2/3 + p_A/3, p_C = p_B/2
    # give p_B = 14/15, p_A = 4/5, p_C = 7/15 and P(start) = 1/2*4/5 + 1/4*14/15 + 1/4*7/15 = 3/4.
    # Without A: p_B = 2/3, p_C = 1/3, P = 1/4 -> effect 2/3. Without B: p_A = 1/3, P = 1/6 -> 7/9.
    # Without C: p_A = 5/8, p_B = 7/8, P = 17/32 -> 7/24.
    _, summary = hand_credits
    assert summary["markov_conversion_probability"] == pytest.approx(0.75, abs=1e-12)
    effects = summary["markov_removal_effects"]
    assert effects == pytest.approx({"A": 2 / 3, "B": 7 / 9, "C": 7 / 24}, abs=1e-12)


def test_every_model_matches_the_hand_worked_credits(hand_credits):
    credits, _ = hand_credits
    expected = {
        # J1 -> B, J3 -> B, J4 -> A
        "last_touch": {"A": (1, 30.00), "B": (2, 150.00), "C": (0, 0.00)},
        # J1 -> A, J3 -> B, J4 -> C
        "first_touch": {"A": (1, 100.00), "B": (1, 50.00), "C": (1, 30.00)},
        # J1 1/2 each, J3 B, J4 1/3 each: A 5/6, B 11/6, C 1/6 (units 8333.3 x3: the spare unit goes to A, first
        # in order among equal remainders); revenue A 50+10, B 50+50+10, C 10
        "linear": {"A": (0.8334, 60.00), "B": (1.8333, 110.00), "C": (0.3333, 10.00)},
        # J1 two touches: 50/50; J4 three touches: C 0.4, B 0.2, A 0.4 -> A 0.9, B 1.7, C 0.4;
        # revenue A 50+12, B 50+50+6, C 12
        "position_based": {"A": (0.9, 62.00), "B": (1.7, 106.00), "C": (0.4, 12.00)},
        # half-life 7 days: J1 A 7 days (1/2) vs B (1) -> 1/3, 2/3; J4 C 14 days (1/4), B (1/2), A (1) -> 1/7, 2/7, 4/7.
        # Conversions A 1/3+4/7 = 0.904761.., B 2/3+1+2/7 = 1.952380.., C 1/7: units 9047.6, 19523.8, 1428.6, two spare
        # units to the largest remainders B then A. Revenue A 100/3 + 120/7 = 50.476.., B 200/3 + 50 + 60/7 =
        # 125.238.., C 30/7 = 4.2857..: cents 5047.6, 12523.8, 428.6, spare cents to B then A.
        "time_decay": {"A": (0.9048, 50.48), "B": (1.9524, 125.24), "C": (0.1428, 4.28)},
        # Removal effects 2/3 : 7/9 : 7/24 = 48 : 56 : 21 (of 125): 3 conversions and 180.00 split exactly.
        "markov": {"A": (1.152, 69.12), "B": (1.344, 80.64), "C": (0.504, 30.24)},
        # Worth = conversion rate of a channel set: v(B) = v(AB) = v(ABC) = 1, v(AC) = 0, unseen sets 0.
        # {B}: all to B. {A,B}: phi_A = 1/2*0 + 1/2*(1-1) = 0, phi_B = 1. {A,B,C}: phi_A = 1/3*(v(ABC)-v(BC)) = 1/3,
        # phi_B = 1/3*1 + 1/6*1 + 1/3*1 = 5/6, phi_C = 1/6*(v(BC)-v(B)) = -1/6 -> no credit; A 2/7, B 5/7 of J4.
        # A 2/7 = 0.2857, B 2 + 5/7 = 2.7143; revenue A 30*2/7 = 8.57, B 150 + 21.43 = 171.43.
        "shapley": {"A": (0.2857, 8.57), "B": (2.7143, 171.43), "C": (0, 0.00)},
    }
    for model, channels in expected.items():
        for channel, (conversions, revenue) in channels.items():
            got = credits[model][channel]
            assert got == (pytest.approx(conversions, abs=1e-9), pytest.approx(revenue, abs=1e-9)), (model, channel, got)


def test_credits_sum_exactly_for_every_model(hand_credits):
    credits, summary = hand_credits
    assert summary["total_conversions"] == 3 and summary["total_revenue"] == 180.00
    for model, channels in credits.items():
        assert round(sum(c for c, _ in channels.values()) * 10_000) == 30_000, model
        assert round(sum(r for _, r in channels.values()) * 100) == 18_000, model


def test_second_order_markov_worked_by_hand():
    # States are the last two channels. J1: A, AB -> conv; J2: A, AC -> null; J3: B -> conv; J4: C, CB, BA -> conv.
    # P = 1/2*(1/2*1 + 1/2*0) + 1/4 + 1/4 = 3/4. Without A (A, AB, AC, BA gone): only J3 -> 1/4, effect 2/3.
    # Without B every converting state is gone: effect 1. Without C: 1/2*1/2 + 1/4 = 1/2, effect 1/3.
    table, summary = attribution_credits(touchpoints_of(JOURNEYS), AttributionConfig(markov_order=2))
    assert summary["markov_removal_effects"] == pytest.approx({"A": 2 / 3, "B": 1.0, "C": 1 / 3}, abs=1e-12)
    markov = credits_by_model(table)["markov"]  # shares 2 : 3 : 1
    assert markov == {"A": (1.0, 60.0), "B": (1.5, 90.0), "C": (0.5, 30.0)}


def test_largest_remainder_is_exact_and_fair():
    parts = largest_remainder([1, 1, 1], 100)
    assert parts.tolist() == [34, 33, 33] and parts.sum() == 100
    rng = np.random.default_rng(3)
    for _ in range(200):
        weights = rng.random(rng.integers(1, 30)) ** 3
        total = int(rng.integers(0, 10**9))
        parts = largest_remainder(weights, total)
        quotas = weights / weights.sum() * total
        assert parts.sum() == total and np.all(np.abs(parts - quotas) < 1)


def test_markov_on_a_chain_without_conversions_and_shapley_on_unseen_sets():
    transitions = pd.DataFrame({"from_state": ["(start)", "A"], "to_state": ["A", "(null)"], "n": [5, 5]})
    assert markov_removal_effects(transitions) == (0.0, {"A": 0.0})
    sets = pd.DataFrame({"channels": [["A"], ["A", "B"]], "journeys": [4, 2], "conversions": [1, 2], "revenue": [10.0, 30.0]})
    # v(A) = 1/4, v(AB) = 1, v(B) unseen = 0: in {A,B} phi_A = 1/2*1/4 + 1/2*1 = 5/8, phi_B = 1/2*0 + 1/2*3/4 = 3/8.
    credits = shapley_set_credits(sets).set_index("channel")
    assert credits.loc["A", "conversions"] == pytest.approx(1 + 2 * F(5, 8))
    assert credits.loc["B", "revenue"] == pytest.approx(30 * 3 / 8)


# --- touchpoints: the dbt model's journey rules on hand-built sessions -------------------------------------------

SESSIONS = [  # user, day, utm (source, medium, campaign), purchases, revenue, ads consent
    ("u1", 0, ("google", "cpc", "search_brand"), 0, 0.00, True),
    ("u1", 10, ("(direct)", "(none)", None), 0, 0.00, True),
    ("u1", 45, ("facebook", "paid_social", "social_video"), 1, 80.00, True),
    ("u1", 50, ("newsletter", "email", "email_promo"), 0, 0.00, True),
    ("u1", 52, ("google", "organic", None), 1, 20.00, True),
    ("u1", 60, ("gdn", "display", "untracked_campaign"), 0, 0.00, True),
    ("u2", 5, ("google", "cpc", None), 1, 10.00, False),
    ("u2", 5.5, ("tiktok", "paid_social", "spring"), 1, 5.00, False),
]


def test_touchpoints_cut_journeys_at_conversions_and_by_the_lookback():
    conn = duckdb.connect()
    prepare_connection(conn)
    conn.execute("CREATE SCHEMA raw")
    conn.execute(
        "CREATE TABLE raw.raw_media_spend AS SELECT * FROM (VALUES ('Search', 'search_brand'), "
        "('Social', 'social_video'), ('Email', 'email_promo')) t(channel, campaign)"
    )
    start = datetime(2025, 1, 1)
    frame = pd.DataFrame(
        [
            {
                "lineage_id": f"s{i}",
                "user_key": user,
                "session_id": str(i),
                "session_start": start + timedelta(days=day),
                "purchases": purchases,
                "revenue": revenue,
                "utm_source": utm[0],
                "utm_medium": utm[1],
                "utm_campaign": utm[2],
                "consent_ads": consent,
            }
            for i, (user, day, utm, purchases, revenue, consent) in enumerate(SESSIONS)
        ]
    )
    conn.register("hand", frame)
    conn.execute("CREATE TABLE main.guarded_sessions AS SELECT * REPLACE (revenue::DECIMAL(18, 2) AS revenue) FROM hand")
    rows = conn.execute(
        f"SELECT session_lineage_id, journey_part, touch_order, touches_in_journey, channel, campaign, "
        f"converted, conversion_value::DOUBLE, conversion_seq FROM ({render_model('measurement/touchpoints.sql')}) "
        "ORDER BY session_lineage_id"
    ).fetchall()
    got = {r[0]: r[1:] for r in rows}
    assert got == {
        # days 0 and 10 are 45 and 35 days before the day-45 conversion: outside the 30-day lookback
        "s0": ("expired", 1, 2, "Search", "search_brand", False, 0.0, 1),
        "s1": ("expired", 2, 2, "Direct", "(not set)", False, 0.0, 1),
        "s2": ("converted", 1, 1, "Social", "social_video", True, 80.0, 1),
        "s3": ("converted", 1, 2, "Email", "email_promo", True, 20.0, 2),
        "s4": ("converted", 2, 2, "Organic Search", "(not set)", True, 20.0, 2),
        "s5": ("open", 1, 1, "Display", "untracked_campaign", False, 0.0, 3),  # medium rule: campaign unknown to media
        "s6": ("converted", 1, 1, "Search", "(not set)", True, 10.0, 1),
        "s7": ("converted", 1, 1, "Social", "spring", True, 5.0, 2),
    }
    journeys = conn.execute(f"SELECT count(DISTINCT journey_id) FROM ({render_model('measurement/touchpoints.sql')})").fetchone()[
        0
    ]
    assert journeys == 6
    wider = conn.execute(
        f"SELECT journey_part FROM ({render_model('measurement/touchpoints.sql', variables={'attribution_lookback_days': 60})}) "
        "WHERE session_lineage_id = 's0'"
    ).fetchone()[0]
    assert wider == "converted"


# --- the simulated world --------------------------------------------------------------------------------------------


def test_attribution_on_the_graph_sums_exactly_and_counts_users_without_ads_consent(conn):
    conversions, revenue = conn.execute(
        "SELECT count(*) FILTER (WHERE purchases > 0), sum(revenue) FILTER (WHERE purchases > 0) FROM main.guarded_sessions"
    ).fetchone()
    without_consent = conn.execute(
        "SELECT count(*) FROM main.guarded_sessions WHERE purchases > 0 AND NOT consent_ads"
    ).fetchone()[0]
    assert without_consent > 0
    sums = conn.execute(
        "SELECT model, sum(credited_conversions), sum(credited_revenue) FROM main.attribution GROUP BY 1"
    ).fetchall()
    assert sorted(m for m, *_ in sums) == sorted(
        ["last_touch", "first_touch", "linear", "time_decay", "position_based", "markov", "shapley"]
    )
    for model, credited_conversions, credited_revenue in sums:
        assert credited_conversions == conversions and credited_revenue == revenue, model
    # every converted journey ends in its conversion session, and no touch is outside the lookback
    bad = conn.execute(
        "SELECT count(*) FROM main.touchpoints WHERE converted AND ((touch_order = touches_in_journey) <> is_conversion_touch "
        "OR touched_at < converted_at - to_days(lookback_days))"
    ).fetchone()[0]
    assert bad == 0


def test_every_touch_of_the_graph_is_one_guarded_session(conn):
    sessions, touches, linked = conn.execute(
        "SELECT (SELECT count(*) FROM main.guarded_sessions), (SELECT count(*) FROM main.touchpoints), "
        "(SELECT count(*) FROM main.touchpoints t JOIN main.guarded_sessions s ON s.lineage_id = t.session_lineage_id)"
    ).fetchone()
    assert touches == linked == sessions > 1000
