"""The allocator's LTV value basis: each channel's revenue weighted by what the customers it first
converted are predicted to be worth, on hand-made tables whose answer is known."""

import duckdb
import pandas as pd
import pytest

from gtm_assets.defs.activation.allocations import _value_weighted, ltv_multipliers


def test_multiplier_is_first_conversion_value_plus_predicted_ltv_over_first_conversion_value():
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA IF NOT EXISTS main")
    conn.execute(
        """CREATE TABLE main.touchpoints AS SELECT * FROM (VALUES
           ('u1', 'Search', TIMESTAMP '2024-01-01', 's1', 100.0, true),
           ('u1', 'Social', TIMESTAMP '2024-02-01', 's2', 50.0, true),   -- u1's second conversion: not its first
           ('u2', 'Search', TIMESTAMP '2024-01-05', 's3', 100.0, true),
           ('u3', 'Social', TIMESTAMP '2024-01-07', 's4', 40.0, true),
           ('u4', 'Social', TIMESTAMP '2024-01-08', 's5', 10.0, false))  -- not a conversion touch
           AS t(user_key, channel, converted_at, session_lineage_id, conversion_value, is_conversion_touch)"""
    )
    conn.execute(
        "CREATE TABLE main.customer_ltv AS SELECT * FROM (VALUES ('u1', 300.0), ('u3', 20.0)) AS t(user_key, predicted_ltv)"
    )
    multipliers = ltv_multipliers(conn, ["Search", "Social", "TV"])
    assert multipliers["Search"] == pytest.approx((100 + 100 + 300) / 200)  # u2 has no LTV row: counts 0
    assert multipliers["Social"] == pytest.approx((40 + 20) / 40)
    assert multipliers["TV"] == 1.0  # no tracked conversions
    curves = pd.DataFrame({"channel": ["Search", "TV"], "coefficient": [2.0, 3.0]})
    assert _value_weighted(curves, multipliers)["coefficient"].tolist() == pytest.approx([5.0, 3.0])
