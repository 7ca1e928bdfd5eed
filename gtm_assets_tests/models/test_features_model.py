"""The per-user features model on hand-built guarded sessions, answers worked out by hand (in the
comments), ties included: every engine must give the same row, so ties are broken by value."""

from datetime import datetime

import duckdb
import pandas as pd

from gtm_assets.transform.render import render_model
from gtm_assets.warehouse.resource import prepare_connection

SESSIONS = [  # lineage id, user, start, source, medium, device, pageviews, purchases, revenue, ads consent
    ("s1", "u1", datetime(2025, 1, 1, 10), "google", "cpc", "desktop", 3, 0, 0.00, False),
    ("s2", "u1", datetime(2025, 1, 1, 10), "facebook", "paid_social", "mobile", 1, 1, 20.00, True),
    ("s3", "u1", datetime(2025, 1, 8, 9), "facebook", "paid_social", "mobile", 2, 0, 0.00, False),
    ("s4", "u1", datetime(2025, 1, 15, 12), "google", "cpc", "desktop", 1, 0, 0.00, False),
    ("s5", "u2", datetime(2025, 1, 29, 8), "newsletter", "email", "tablet", 1, 1, 5.50, True),
]


def test_features_on_hand_built_sessions():
    conn = duckdb.connect()
    prepare_connection(conn)
    columns = ["lineage_id", "user_key", "session_start", "utm_source", "utm_medium", "device", "pageviews",
               "purchases", "revenue", "consent_ads"]  # fmt: skip
    conn.register("hand", pd.DataFrame(SESSIONS, columns=columns))
    conn.execute("CREATE TABLE main.guarded_sessions AS SELECT * REPLACE (revenue::DECIMAL(18, 2) AS revenue) FROM hand")
    rows = conn.execute(
        "SELECT user_key, sessions, pageviews, purchases, revenue::DOUBLE, recency_days, sessions_per_week, first_source, "
        "first_medium, dominant_source, dominant_medium, desktop_share, mobile_share, tablet_share, consent_ads, "
        f"session_lineage_ids, lineage_id FROM ({render_model('features/features.sql')}) ORDER BY user_key"
    ).fetchall()
    # u1: last seen Jan 15, the data's last session Jan 29: 14 days; first seen Jan 1, 28 days = 4 weeks
    # before Jan 29, 4 sessions: 1 a week. s1 and s2 start together: the first by lineage id is s1
    # (google / cpc). google and facebook 2 sessions each: facebook; cpc and paid_social 2 each: cpc.
    # u2: one session, on the last day: recency 0, at least one week: 1 a week.
    assert [r[:16] for r in rows] == [
        ("u1", 4, 7, 1, 20.0, 14, 1.0, "google", "cpc", "facebook", "cpc", 0.5, 0.5, 0.0, True, ["s1", "s2", "s3", "s4"]),
        ("u2", 1, 1, 1, 5.5, 0, 1.0, "newsletter", "email", "newsletter", "email", 0.0, 0.0, 1.0, True, ["s5"]),
    ]
    lineage_ids = [r[16] for r in rows]
    assert len(set(lineage_ids)) == 2 and all(len(i) == 32 and int(i, 16) >= 0 for i in lineage_ids)
