"""personas: the seed's life-stage cohorts x behavioural personas, the personas table (assignments) for every
customer and web user (with their discovered cluster), persona_summary, and the response analysis.

The persona rules themselves are in gtm_assets/models/personas.py (the `gtm personas` command runs the
same SQL on a CSV)."""

import dagster as dg
import pandas as pd
from scipy.stats import chi2_contingency

from gtm_assets.charts.assets import persona_response_chart
from gtm_assets.charts.metadata import figure_metadata
from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.models.personas import CUSTOMER_PERSONAS_SQL, UNASSIGNED, summary_sql
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

# Every customer (cohort, persona, cluster) and every web user (cluster only: no birth year or
# campaign history), each with the lineage of its source rows.
ASSIGNMENTS_SQL = f"""
CREATE OR REPLACE TABLE main.personas AS
WITH customers AS ({CUSTOMER_PERSONAS_SQL}),
users AS (
    SELECT
        lineage_id('persona_assignment', 'user|' || lineage_id) AS lineage_id,
        'user' AS entity_type,
        user_key AS entity_key,
        lineage_id AS source_lineage_id,
        session_lineage_ids
    FROM main.features
)
SELECT a.*, m.cluster_id, k.cluster_name, m.persona_cluster_lineage_id
FROM (SELECT * FROM customers UNION ALL BY NAME SELECT * FROM users) a
LEFT JOIN main.persona_cluster_members m USING (entity_type, source_lineage_id)
LEFT JOIN main.persona_clusters k USING (cluster_id)
ORDER BY a.entity_type, a.customer_id, a.entity_key
"""


def _chi_square(table: pd.DataFrame) -> dict:
    """Chi-square test of independence on a (groups x [responders, non-responders]) table."""
    statistic, p_value, dof, _ = chi2_contingency(table.to_numpy())
    return {"chi2": round(float(statistic), 3), "dof": int(dof), "p_value": float(f"{p_value:.3g}")}


def response_analysis(summary: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Response rate by cohort against by persona within cohort, with chi-square tests: cohort x
    response, cohort-persona segment x response, and persona x response inside each cohort."""
    assigned = summary[summary["persona"] != UNASSIGNED].assign(non_responders=lambda d: d["customers"] - d["responders"])
    by_cohort = assigned.groupby("cohort", sort=False)[["customers", "responders", "non_responders"]].sum()
    rows = []
    for cohort, totals in by_cohort.iterrows():
        rows.append(
            {
                "cohort": cohort,
                "persona": "(whole cohort)",
                "customers": int(totals["customers"]),
                "response_rate": round(totals["responders"] / totals["customers"], 4),
            }
        )
        for segment in assigned[assigned["cohort"] == cohort].itertuples():
            rows.append(
                {
                    "cohort": cohort,
                    "persona": segment.persona,
                    "customers": int(segment.customers),
                    "response_rate": float(segment.response_rate),
                }
            )
    tests = {
        "cohort_vs_response": _chi_square(by_cohort[["responders", "non_responders"]]),
        "segment_vs_response": _chi_square(assigned[["responders", "non_responders"]]),
        "persona_vs_response_within_cohort": {
            cohort: _chi_square(group[["responders", "non_responders"]])
            for cohort, group in assigned.groupby("cohort", sort=False)
        },
    }
    return pd.DataFrame(rows), tests


COLUMN_DESCRIPTIONS = {
    "entity_type": "customer (a row of the customer table) or user (a consented GA4 web user).",
    "entity_key": "The customer id, or the web user's keyed user_key.",
    "source_lineage_id": "Lineage id of the row the persona was computed from (customer_features or features).",
    "customer_id": "Customer id (customers only).",
    "year_birth": "Year of birth (customers only).",
    "unassigned_reason": "Why the entity has no persona (birth year out of range, unparseable spend or acceptances).",
    "total_spend": "Two-year spend over all product categories.",
    "past_accept_count": "Offers accepted in the five past campaigns.",
    "cohort_median_spend": "Median total_spend of the entity's cohort (the persona rule's spend threshold).",
    "cohort_median_accepts": "Median past_accept_count of the cohort (the rule's engagement threshold).",
    "income": "Yearly household income.",
    "income_missing": "True when the customer table has no income.",
    "recency_days": "Days since the last purchase (customers) or the last session (web users).",
    "web_purchases": "Purchases through the website.",
    "catalog_purchases": "Purchases from a catalogue.",
    "store_purchases": "Purchases in stores.",
    "deals_purchases": "Purchases made with a discount.",
    "web_visits_month": "Website visits in the last month.",
    "response": "1 if the customer accepted the last campaign's offer.",
    "session_lineage_ids": "Lineage ids of the web user's guarded sessions (web users only).",
}


@dg.asset(
    deps=["customer_features", "features", "persona_clusters"],
    group_name="personas",
    owners=[OWNER],
    kinds={"duckdb", "python"},
    pool=DUCKDB_POOL,
)
def personas(warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Life-stage cohorts by birth year (Young Professionals 1988+, Mid-Career 1976-87, Established
    1965-75, Legacy before 1965) x behavioural personas from each cohort's own medians of total spend
    and past campaign acceptances. Tie rule: a value strictly above the cohort median is "high"; a
    value equal to the median is "low". Birth years outside 1920-2005 are 'Unassigned' and counted;
    missing incomes are kept and counted. Writes personas (one row per customer and web user with
    cohort, persona, discovered cluster and source lineage) and persona_summary (size, share, response
    rate, spend, engagement, income), and shows response rate by cohort against by persona."""
    with warehouse.transaction() as conn:
        conn.execute(ASSIGNMENTS_SQL)
        conn.execute(f"CREATE OR REPLACE TABLE main.persona_summary AS {summary_sql('main.personas')}")
        metadata = table_metadata(conn, "main.personas", descriptions=COLUMN_DESCRIPTIONS)
        # Only customer rows come from a file (web users come from sessions: session_lineage_ids).
        customers_only = table_metadata(conn, "main.personas", where="entity_type = 'customer'")
        metadata["source_files"] = customers_only["source_files"]
        summary = conn.execute("SELECT * EXCLUDE (assignment_lineage_ids) FROM main.persona_summary").fetchdf()
        counts = conn.execute(
            "SELECT count(*) FILTER (entity_type = 'customer'), count(*) FILTER (entity_type = 'user'), "
            "count(*) FILTER (unassigned_reason = 'year_birth_out_of_range'), "
            "count(*) FILTER (unassigned_reason = 'unparseable_spend_or_acceptances'), "
            "count(*) FILTER (income_missing) FROM main.personas"
        ).fetchall()[0]
    table, tests = response_analysis(summary)
    shown = summary[["cohort", "persona", "customers", "share", "response_rate", "mean_spend", "mean_engagement", "mean_income"]]
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "persona_summary": dg.MetadataValue.md(shown.to_markdown(index=False)),
            "customers": dg.MetadataValue.int(int(counts[0])),
            "web_users": dg.MetadataValue.int(int(counts[1])),
            "unassigned_birth_year_out_of_range": dg.MetadataValue.int(int(counts[2])),
            "unassigned_unparseable_spend": dg.MetadataValue.int(int(counts[3])),
            "customers_missing_income": dg.MetadataValue.int(int(counts[4])),
            "response_by_cohort_and_persona": dg.MetadataValue.md(table.to_markdown(index=False)),
            "response_chi_square": dg.MetadataValue.json(tests),
            **figure_metadata(persona_response_chart(table, tests), "persona_response_rates"),
        }
    )
