"""personas: the seed's life-stage cohorts x behavioural personas on the real customer table."""

import dagster as dg

from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.observability import table_metadata
from gtm_assets.warehouse import DuckDBWarehouse

# Cohort boundaries by birth year, and the plausible birth-year range (outside it: unassigned).
COHORTS_SQL = """
    CASE
        WHEN year_birth >= 1988 THEN 'Young Professionals'
        WHEN year_birth >= 1976 THEN 'Mid-Career'
        WHEN year_birth >= 1965 THEN 'Established'
        ELSE 'Legacy'
    END
"""
PLAUSIBLE_BIRTH_YEARS = (1920, 2005)

PERSONAS_SQL = f"""
CREATE OR REPLACE TABLE main.personas AS
WITH customers AS (
    SELECT *,
        year_birth BETWEEN {PLAUSIBLE_BIRTH_YEARS[0]} AND {PLAUSIBLE_BIRTH_YEARS[1]}
            AND total_spend IS NOT NULL AND past_accept_count IS NOT NULL AS assignable
    FROM main.customer_features
),
cohorted AS (
    SELECT *, CASE WHEN assignable THEN {COHORTS_SQL} END AS cohort FROM customers
),
medians AS (
    SELECT cohort, median(total_spend) AS median_spend, median(past_accept_count) AS median_accepts
    FROM cohorted WHERE assignable GROUP BY cohort
)
SELECT
    lineage_id('persona_assignment', c.lineage_id) AS lineage_id,
    c.lineage_id AS customer_lineage_id,
    c.raw_row_id,
    c.source_file,
    c.source_row_number,
    c.customer_id,
    c.year_birth,
    coalesce(c.cohort, 'Unassigned') AS cohort,
    CASE
        WHEN NOT c.assignable THEN 'Unassigned'
        WHEN c.total_spend > m.median_spend AND c.past_accept_count > m.median_accepts THEN 'Champions'
        WHEN c.total_spend > m.median_spend THEN 'Premium-but-Quiet'
        WHEN c.past_accept_count > m.median_accepts THEN 'Deal-Responsive'
        ELSE 'Hard-to-Convert'
    END AS persona,
    CASE WHEN NOT c.assignable THEN 'birth year outside '
        || '{PLAUSIBLE_BIRTH_YEARS[0]}-{PLAUSIBLE_BIRTH_YEARS[1]} or spend/acceptances unparseable' END
        AS unassigned_reason,
    c.total_spend,
    c.past_accept_count,
    m.median_spend AS cohort_median_spend,
    m.median_accepts AS cohort_median_accepts,
    c.income,
    c.response
FROM cohorted c LEFT JOIN medians m USING (cohort)
"""

SUMMARY_SQL = """
CREATE OR REPLACE TABLE main.persona_summary AS
SELECT
    lineage_id('persona_summary', cohort || '|' || persona) AS lineage_id,
    cohort,
    persona,
    count(*) AS customers,
    round(count(*) / sum(count(*)) OVER (), 4) AS share,
    round(avg(response), 4) AS response_rate,
    round(avg(total_spend), 2) AS mean_spend,
    round(avg(past_accept_count), 3) AS mean_past_accepts,
    round(avg(income), 2) AS mean_income,
    list(lineage_id ORDER BY customer_id) AS assignment_lineage_ids
FROM main.personas
GROUP BY cohort, persona
ORDER BY cohort, persona
"""


@dg.asset(
    deps=["customer_features"],
    group_name="personas",
    owners=[OWNER],
    kinds={"duckdb", "python"},
    pool=DUCKDB_POOL,
)
def personas(warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Life-stage cohorts by birth year (Young Professionals 1988+, Mid-Career 1976-87, Established
    1965-75, Legacy before 1965) x behavioural personas from each cohort's own medians of total spend
    and past campaign acceptances. Tie rule: a value strictly above the cohort median is "high"; a
    value equal to the median is "low". Customers with an implausible birth year are 'Unassigned'
    and counted. Also writes persona_summary (size, share, response rate, spend, income)."""
    with warehouse.get_connection() as conn:
        conn.execute(PERSONAS_SQL)
        conn.execute(SUMMARY_SQL)
        metadata = table_metadata(conn, "main.personas")
        summary = conn.execute(
            "SELECT cohort, persona, customers, share, response_rate, mean_spend FROM main.persona_summary"
        ).fetchdf()
        unassigned = conn.execute("SELECT count(*) FROM main.personas WHERE persona = 'Unassigned'").fetchone()[0]
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "persona_summary": dg.MetadataValue.md(summary.to_markdown(index=False)),
            "unassigned_customers": dg.MetadataValue.int(int(unassigned)),
        }
    )
