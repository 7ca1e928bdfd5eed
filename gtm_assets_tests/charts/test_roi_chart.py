"""The ROI chart stays readable when an unidentified channel's interval is huge."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd

from gtm_assets.charts.assets import roi_chart


def test_one_wide_unidentified_interval_does_not_set_the_axis():
    table = pd.DataFrame(
        {
            "channel": ["TV", "CTV", "Radio", "Print"],
            "roi": [2.0, 8.4, 2.7, 1.05],
            "roi_lo": [1.5, 1.56, 2.4, 0.79],
            "roi_hi": [2.5, 123.0, 2.9, 1.74],
            "identified": [True, False, True, True],
        }
    )
    ax = roi_chart(table).axes[0]
    left, right = ax.get_xlim()
    assert left == 0 and 8.4 < right < 12  # every estimate on the axis, the 123 off it
    assert any("123.0" in text.get_text() for text in ax.texts)  # the clipped end is written beside it
    colours = {bar.get_y(): bar.get_facecolor()[:3] for bar in ax.patches}
    assert len(set(colours.values())) == 2  # identified and not identified differ
