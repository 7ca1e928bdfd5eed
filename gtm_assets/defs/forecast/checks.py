"""Asset checks on the revenue forecast."""

import dagster as dg

from gtm_assets.defs.resources import DUCKDB_POOL
from gtm_assets.warehouse.resource import DuckDBWarehouse

MIN_BACKTEST_COVERAGE_80 = 0.60


@dg.asset_check(asset="forecast", pool=DUCKDB_POOL)
def forecast_is_sane(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    """No NaN or negative value in the forecast, and the backtest's 80% interval covered at least
    60% of the actuals (a forecast without a backtest fails too)."""
    with warehouse.get_connection() as conn:
        bad_rows = conn.execute(
            """
            SELECT count(*) FROM main.forecast
            WHERE NOT (isfinite(yhat) AND isfinite(yhat_lower_80) AND isfinite(yhat_upper_80)
                       AND isfinite(yhat_lower_95) AND isfinite(yhat_upper_95))
               OR least(yhat, yhat_lower_80, yhat_upper_80, yhat_lower_95, yhat_upper_95) < 0
               OR yhat IS NULL OR yhat_lower_80 IS NULL OR yhat_upper_80 IS NULL
               OR yhat_lower_95 IS NULL OR yhat_upper_95 IS NULL
            """
        ).fetchall()[0][0]
        coverage = conn.execute("SELECT avg(prophet_coverage_80) FROM main.forecast_backtest").fetchall()[0][0]
    problems = []
    if bad_rows:
        problems.append(f"{bad_rows} forecast row(s) with a NaN, missing or negative value")
    if coverage is None:
        problems.append("no backtest (history too short for one cutoff)")
    elif coverage < MIN_BACKTEST_COVERAGE_80:
        problems.append(f"backtest 80% interval coverage {coverage:.1%} < {MIN_BACKTEST_COVERAGE_80:.0%}")
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems) or "forecast finite and non-negative; backtest coverage ok",
        metadata={
            "bad_rows": dg.MetadataValue.int(int(bad_rows)),
            "backtest_coverage_80": dg.MetadataValue.float(float("nan") if coverage is None else float(coverage)),
        },
    )
