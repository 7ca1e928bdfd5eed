"""Asset checks on the budget allocation: it spends the budget, respects every guardrail, and
never recommends negative spend. Each check recomputes its condition in SQL from the stored
guardrail inputs, independently of the allocator."""

import dagster as dg

from gtm_assets.defs.resources import DUCKDB_POOL
from gtm_assets.warehouse.resource import DuckDBWarehouse

CENT = 0.01
TOLERANCE = CENT + 1e-6


def _violations(warehouse: DuckDBWarehouse, sql: str) -> list[tuple]:
    with warehouse.get_connection() as conn:
        return conn.execute(sql).fetchall()


def _result(violations: list[tuple], ok: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not violations,
        description="; ".join(str(v[0]) for v in violations[:10]) or ok,
        metadata={"violations": dg.MetadataValue.int(len(violations))},
    )


@dg.asset_check(asset="allocations", blocking=True, pool=DUCKDB_POOL)
def allocations_sum_to_budget(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    """Campaign spends sum to the total daily budget, and to each channel's spend, within one cent."""
    violations = _violations(
        warehouse,
        f"""
        SELECT printf('campaigns sum to %.2f, total budget %.2f', sum(recommended_campaign_spend), any_value(total_daily_budget))
        FROM main.allocations HAVING abs(sum(recommended_campaign_spend) - any_value(total_daily_budget)) > {TOLERANCE}
        UNION ALL
        SELECT printf('%s: campaigns sum to %.2f, channel spend %.2f', channel, sum(recommended_campaign_spend), any_value(recommended_spend))
        FROM main.allocations GROUP BY channel
        HAVING abs(sum(recommended_campaign_spend) - any_value(recommended_spend)) > {TOLERANCE}
        """,
    )
    return _result(violations, "spend sums to the total budget within one cent")


@dg.asset_check(asset="allocations", blocking=True, pool=DUCKDB_POOL)
def allocations_respect_guardrails(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    """Every channel is within its floor and ceiling, within the volatility cap of the last
    allocation, and at or above the minimum learning spend when it was spending."""
    violations = _violations(
        warehouse,
        f"""
        WITH c AS (SELECT DISTINCT channel, recommended_spend AS spend, guardrail_floor, guardrail_ceiling,
                          guardrail_min_learning, guardrail_max_change_pct, baseline_spend FROM main.allocations)
        SELECT printf('%s: %.2f below floor %.2f', channel, spend, guardrail_floor) FROM c
        WHERE spend < guardrail_floor - {TOLERANCE}
        UNION ALL SELECT printf('%s: %.2f above ceiling %.2f', channel, spend, guardrail_ceiling) FROM c
        WHERE spend > guardrail_ceiling + {TOLERANCE}
        UNION ALL SELECT printf('%s: %.2f moves more than %.0f%% from %.2f', channel, spend, 100 * guardrail_max_change_pct, baseline_spend)
        FROM c WHERE baseline_spend > 0 AND abs(spend - baseline_spend) > guardrail_max_change_pct * baseline_spend + {TOLERANCE}
        UNION ALL SELECT printf('%s: %.2f below minimum learning spend %.2f', channel, spend, guardrail_min_learning) FROM c
        WHERE baseline_spend > 0 AND spend < guardrail_min_learning - {TOLERANCE}
        """,
    )
    return _result(violations, "every guardrail holds")


@dg.asset_check(asset="allocations", blocking=True, pool=DUCKDB_POOL)
def allocations_non_negative(warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    """No negative (or missing) channel or campaign spend."""
    violations = _violations(
        warehouse,
        """
        SELECT printf('%s / %s: channel %s, campaign %s', channel, campaign, recommended_spend, recommended_campaign_spend)
        FROM main.allocations
        WHERE coalesce(recommended_spend, -1) < 0 OR coalesce(recommended_campaign_spend, -1) < 0
        """,
    )
    return _result(violations, "no negative spend")
