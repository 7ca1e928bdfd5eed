"""customer_ltv on the session's simulated world: one row per customer with a governed purchase, every
row traced to its purchase sessions and their raw event rows, the high_value audience built from it."""

from gtm_assets.audit.lineage import trace_row


def test_one_row_per_purchasing_customer_with_its_purchase_sessions(conn):
    customers = conn.execute("SELECT count(DISTINCT user_key) FROM main.guarded_sessions WHERE purchases > 0").fetchall()[0][0]
    rows, sessions, revenue = conn.execute(
        "SELECT count(*), sum(len(purchase_session_lineage_ids)), sum(observed_revenue) FROM main.customer_ltv"
    ).fetchall()[0]
    assert rows == customers > 100
    expected_sessions, expected_revenue = conn.execute(
        "SELECT count(*), sum(revenue) FROM main.guarded_sessions WHERE purchases > 0"
    ).fetchall()[0]
    assert (sessions, revenue) == (expected_sessions, expected_revenue)
    mismatched = conn.execute(
        """SELECT count(*) FROM (SELECT user_key, unnest(purchase_session_lineage_ids) AS session FROM main.customer_ltv) c
           LEFT JOIN main.guarded_sessions g ON g.lineage_id = c.session
           WHERE g.user_key IS DISTINCT FROM c.user_key OR NOT g.purchases > 0"""
    ).fetchall()[0][0]
    assert mismatched == 0
    bad = conn.execute(
        "SELECT count(*) FROM main.customer_ltv WHERE NOT (probability_alive BETWEEN 0 AND 1) OR ltv_low > ltv_high "
        "OR predicted_ltv < 0 OR value_decile NOT BETWEEN 1 AND 10 OR purchase_days <> repeat_purchases + 1"
    ).fetchall()[0][0]
    assert bad == 0


def test_an_ltv_row_traces_to_the_raw_rows_of_its_purchases(conn):
    lineage_id, user_key = conn.execute(
        "SELECT lineage_id, user_key FROM main.customer_ltv ORDER BY predicted_ltv DESC LIMIT 1"
    ).fetchall()[0]
    trace = trace_row(conn, "customer_ltv", lineage_id[:12])
    reached = sum(source["rows"] for source in trace.sources if source["asset"] == "raw_events")
    expected = conn.execute(
        "SELECT count(*) FROM main.session_raw_rows b JOIN main.guarded_sessions g ON g.lineage_id = b.session_lineage_id "
        "WHERE g.user_key = ? AND g.purchases > 0",
        [user_key],
    ).fetchall()[0][0]
    assert reached == expected > 0
    assert not trace.gone_rows
    edges = conn.execute(
        "SELECT count(*) FROM main.lineage_edges WHERE child_asset = 'customer_ltv' AND child_id = ?", [lineage_id]
    ).fetchall()[0][0]
    assert (
        edges
        == conn.execute(
            "SELECT len(purchase_session_lineage_ids) FROM main.customer_ltv WHERE lineage_id = ?", [lineage_id]
        ).fetchall()[0][0]
    )


def test_high_value_audience_is_the_consented_top_decile(conn):
    members, outside = conn.execute(
        """SELECT count(*), count(*) FILTER (WHERE c.value_decile <> 10 OR c.value_decile IS NULL)
           FROM main.audience_members m LEFT JOIN main.customer_ltv c ON c.lineage_id = m.source_lineage_id
           WHERE m.source_asset = 'customer_ltv' AND m.consented"""
    ).fetchall()[0]
    top = conn.execute("SELECT count(*) FROM main.customer_ltv WHERE value_decile = 10").fetchall()[0][0]
    assert outside == 0 and 0 < members <= top
    size = conn.execute("SELECT members FROM main.audiences WHERE audience_key = 'high_value'").fetchall()[0][0]
    assert size == members
