"""The persona rules: life-stage cohorts by birth year x behavioural personas from each cohort's own
medians, as SQL over customer_features. The one statement of the rules: the `personas` asset and the
`gtm personas` command (an in-memory DuckDB over a CSV) both run it."""

from gtm_assets.warehouse.sql import sql_list

COHORTS = ("Young Professionals", "Mid-Career", "Established", "Legacy")
PERSONAS = ("Champions", "Premium-but-Quiet", "Deal-Responsive", "Hard-to-Convert")
UNASSIGNED = "Unassigned"

# Cohort boundaries by birth year; birth_year_in_range (customer_features) marks 1920-2005.
COHORT_SQL = """
    CASE
        WHEN NOT birth_year_in_range THEN 'Unassigned'
        WHEN year_birth >= 1988 THEN 'Young Professionals'
        WHEN year_birth >= 1976 THEN 'Mid-Career'
        WHEN year_birth >= 1965 THEN 'Established'
        ELSE 'Legacy'
    END
"""

# One row per customer with cohort and persona. Tie rule: strictly above the cohort median is
# "high"; equal to the median is "low".
CUSTOMER_PERSONAS_SQL = f"""
WITH cohorted AS (
    SELECT *,
        {COHORT_SQL} AS cohort,
        birth_year_in_range AND total_spend IS NOT NULL AND past_accept_count IS NOT NULL AS assignable
    FROM main.customer_features
),
medians AS (
    SELECT cohort, median(total_spend) AS median_spend, median(past_accept_count) AS median_accepts
    FROM cohorted WHERE assignable GROUP BY cohort
)
SELECT
    lineage_id('persona_assignment', 'customer|' || c.lineage_id) AS lineage_id,
    'customer' AS entity_type,
    c.customer_id::VARCHAR AS entity_key,
    c.lineage_id AS source_lineage_id,
    c.raw_row_id,
    c.source_file,
    c.source_file_sha256,
    c.source_row_number,
    c.customer_id,
    c.year_birth,
    c.cohort,
    CASE
        WHEN NOT c.assignable THEN 'Unassigned'
        WHEN c.total_spend > m.median_spend AND c.past_accept_count > m.median_accepts THEN 'Champions'
        WHEN c.total_spend > m.median_spend THEN 'Premium-but-Quiet'
        WHEN c.past_accept_count > m.median_accepts THEN 'Deal-Responsive'
        ELSE 'Hard-to-Convert'
    END AS persona,
    CASE
        WHEN NOT c.birth_year_in_range THEN 'year_birth_out_of_range'
        WHEN NOT c.assignable THEN 'unparseable_spend_or_acceptances'
    END AS unassigned_reason,
    c.total_spend,
    c.past_accept_count,
    m.median_spend AS cohort_median_spend,
    m.median_accepts AS cohort_median_accepts,
    c.income,
    c.income IS NULL AS income_missing,
    c.recency_days,
    c.web_purchases,
    c.catalog_purchases,
    c.store_purchases,
    c.deals_purchases,
    c.web_visits_month,
    c.response
FROM cohorted c LEFT JOIN medians m USING (cohort)
"""


def summary_sql(relation: str) -> str:
    """Per cohort x persona figures from the customer rows of ``relation`` (personas,
    or the CLI's in-memory result of CUSTOMER_PERSONAS_SQL). Mean income skips missing incomes;
    customers_with_income says how many it is based on."""
    cohort_order = sql_list((*COHORTS, UNASSIGNED))
    persona_order = sql_list((*PERSONAS, UNASSIGNED))
    return f"""
    SELECT
        lineage_id('persona_summary', cohort || '|' || persona) AS lineage_id,
        cohort,
        persona,
        count(*) AS customers,
        round(count(*) / sum(count(*)) OVER (), 4) AS share,
        sum(response)::INTEGER AS responders,
        round(avg(response), 4) AS response_rate,
        round(avg(total_spend), 2) AS mean_spend,
        round(avg(past_accept_count), 3) AS mean_engagement,
        round(avg(income), 2) AS mean_income,
        count(income) AS customers_with_income,
        round(avg(recency_days), 1) AS mean_recency_days,
        round(avg(web_purchases), 3) AS mean_web_purchases,
        round(avg(catalog_purchases), 3) AS mean_catalog_purchases,
        round(avg(store_purchases), 3) AS mean_store_purchases,
        round(avg(deals_purchases), 3) AS mean_deals_purchases,
        round(avg(web_visits_month), 3) AS mean_web_visits_month,
        list(lineage_id ORDER BY customer_id) AS assignment_lineage_ids
    FROM {relation}
    WHERE entity_type = 'customer'
    GROUP BY cohort, persona
    ORDER BY list_position({cohort_order}, cohort), list_position({persona_order}, persona)
    """
