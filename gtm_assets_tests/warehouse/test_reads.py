"""The shared reads leave the connection ready for the next statement: a property without a sales ledger
takes revenue from its sessions, and the media-mix model registers its panel right after."""

import duckdb
import pandas as pd

from gtm_assets.warehouse.reads import daily_revenue


def test_session_revenue_leaves_the_connection_usable_for_register():
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA raw")
    conn.execute("CREATE TABLE raw.raw_media_spend AS SELECT DATE '2024-01-01' + i::INTEGER AS date FROM range(3) t(i)")
    conn.execute(
        "CREATE TABLE main.guarded_sessions AS SELECT TIMESTAMP '2024-01-01' + INTERVAL (i) DAY AS session_start, "
        "10.0 * i AS revenue FROM range(3) t(i)"
    )
    conn.execute(
        "CREATE TABLE main.event_dispositions AS SELECT * FROM (VALUES ('kept'), ('kept'), ('kept'), ('dropped_for_consent')) t(disposition)"
    )
    revenue = daily_revenue(conn)
    assert revenue.source == "sessions" and revenue.consented_share == 0.75
    conn.register("daily_revenue", revenue.frame)  # DuckDB 2.0 refuses this while a fetchone() result is open
    assert conn.execute("SELECT sum(y) FROM daily_revenue").fetchall() == [(30.0,)]
    assert list(pd.to_datetime(revenue.frame["ds"]).dt.day) == [1, 2, 3]
