"""Asset check on mmm_model: the fit must not be degenerate."""

import math

import dagster as dg

from gtm_assets.defs.resources import DUCKDB_POOL
from gtm_assets.warehouse.resource import DuckDBWarehouse

R2_FLOOR = 0.25  # in-sample R² below this: the media and controls explain too little to act on
INTERVAL_COLUMNS = (
    "roi_lo",
    "roi_hi",
    "marginal_roi_lo",
    "marginal_roi_hi",
    "coefficient_lo",
    "coefficient_hi",
    "contribution_lo",
    "contribution_hi",
)


def degenerate_fit_problems(channels: list[dict], r2: float) -> list[str]:
    """Human-readable problems of a fit, each naming the channel: NaN intervals, or R² below the
    floor. (A channel the data cannot identify, e.g. one whose spend barely varies, is not a broken
    fit: the table says so per channel in ``identified`` and ``identification_reason``.)"""
    problems = []
    for row in channels:
        nan = [c for c in INTERVAL_COLUMNS if row[c] is None or math.isnan(row[c])]
        if nan:
            problems.append(f"channel {row['channel']}: NaN interval(s) {', '.join(nan)}")
    if not r2 >= R2_FLOOR:
        problems.append(f"R² {r2:.3f} is below the floor {R2_FLOOR}")
    return problems


@dg.asset_check(asset="mmm_model", blocking=True, pool=DUCKDB_POOL)
def mmm_fit_not_degenerate(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    """The media-mix fit is usable: no interval is NaN and R² is at least the floor. Fails naming the
    channel(s); blocks the budget allocation downstream. The channels the data does not identify are
    listed in the metadata with their reasons (they do not fail the check: the table says it)."""
    with warehouse.get_connection() as conn:
        channels = conn.execute("SELECT * FROM main.mmm_model ORDER BY channel").fetchdf().to_dict("records")
        r2 = conn.execute("SELECT r2 FROM main.mmm_diagnostics").fetchall()[0][0]
    problems = degenerate_fit_problems(channels, r2)
    unidentified = [
        f"- {row['channel']}: {row['identification_reason']} (fix: {row['identification_fix']})"
        for row in channels
        if not row["identified"]
    ]
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={
            "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems) or "none"),
            "not_identified": dg.MetadataValue.md("\n".join(unidentified) or "none"),
            "r2": dg.MetadataValue.float(float(r2)),
            "r2_floor": R2_FLOOR,
        },
    )
