"""audiences: who each ad set may reach, as lists of keyed-hash member keys with consent only."""

import dagster as dg

from gtm_assets.defs.resources import DUCKDB_POOL, OWNER
from gtm_assets.warehouse.observability import table_metadata
from gtm_assets.warehouse.resource import DuckDBWarehouse

# Ads consent is the user's consent on their most recent session: a later withdrawal wins over an
# earlier grant. Prospects are reached only with e-mail consent recorded as true/yes/1.
AUDIENCE_MEMBERS_SQL = """
CREATE OR REPLACE TABLE main.audience_members AS
WITH latest_consent AS (
    SELECT user_key, arg_max(consent_ads, (session_start, lineage_id)) AS consent_ads
    FROM main.guarded_sessions GROUP BY user_key
),
users AS (
    SELECT lineage_id('audience', 'user_cluster|' || m.cluster_id) AS audience_id, f.user_key AS member_key,
           f.lineage_id AS source_lineage_id, 'features' AS source_asset, coalesce(l.consent_ads, false) AS consented
    FROM main.persona_cluster_members m
    JOIN main.features f ON f.lineage_id = m.source_lineage_id
    LEFT JOIN latest_consent l USING (user_key)
    WHERE m.entity_type = 'user'
),
high_value AS (
    SELECT lineage_id('audience', 'high_value') AS audience_id, c.user_key AS member_key, c.lineage_id AS source_lineage_id,
           'customer_ltv' AS source_asset, coalesce(l.consent_ads, false) AS consented
    FROM main.customer_ltv c LEFT JOIN latest_consent l USING (user_key)
    WHERE c.value_decile = 10
),
prospects AS (
    SELECT lineage_id('audience', 'b2b_role|' || lower(trim(role))) AS audience_id,
           pii_hmac(lower(trim(email))) AS member_key, raw_row_id AS source_lineage_id, 'raw_prospects' AS source_asset,
           coalesce(lower(trim(consent_email)) IN ('true', 'yes', '1'), false) AS consented
    FROM raw.raw_prospects
    WHERE nullif(trim(email), '') IS NOT NULL
)
SELECT * FROM users UNION ALL SELECT * FROM high_value UNION ALL SELECT * FROM prospects
"""

AUDIENCES_SQL = """
CREATE OR REPLACE TABLE main.audiences AS
WITH counts AS (
    SELECT audience_id, count(*) FILTER (WHERE consented) AS members, count(*) FILTER (WHERE NOT consented) AS excluded
    FROM main.audience_members GROUP BY audience_id
),
defined AS (
    SELECT lineage_id('audience', 'user_cluster|' || cluster_id) AS audience_id, 'user_cluster:' || cluster_id AS audience_key,
           'user_cluster' AS kind, cluster_id, lineage_id AS persona_cluster_lineage_id, NULL AS role,
           'web users of discovered cluster ' || cluster_id || ' (k-means on behaviour) whose latest session consented to ads'
               AS rule,
           'hmac_sha256_user_key' AS key_type
    FROM main.persona_clusters WHERE population = 'user'
    UNION ALL
    SELECT lineage_id('audience', 'b2b_role|' || role), 'b2b_role:' || role, 'b2b_role', NULL, NULL, role,
           'B2B prospects whose role is ' || role || ' and who consented to e-mail', 'hmac_sha256_email'
    FROM (SELECT DISTINCT lower(trim(role)) AS role FROM raw.raw_prospects WHERE nullif(trim(role), '') IS NOT NULL)
    UNION ALL
    SELECT lineage_id('audience', 'high_value'), 'high_value', 'high_value', NULL, NULL, NULL,
           'customers in the top tenth by predicted lifetime value (customer_ltv) whose latest session consented to ads',
           'hmac_sha256_user_key'
    UNION ALL
    SELECT lineage_id('audience', 'broadcast'), 'broadcast', 'broadcast', NULL, NULL, NULL,
           'broadcast: everyone the spot reaches, no user-level targeting and no user list', 'none'
)
SELECT d.*, coalesce(c.members, 0) AS members, coalesce(c.excluded, 0) AS excluded_without_consent
FROM defined d LEFT JOIN counts c USING (audience_id)
ORDER BY kind, audience_key
"""

# The column schema shown in the Dagster UI. Members and exclusions count the rows of audience_members.
COLUMN_DESCRIPTIONS = {
    "audience_id": (
        "Keyed lineage id of the audience: lineage_id('audience', 'user_cluster|' cluster_id, 'b2b_role|' role, 'high_value' "
        "or 'broadcast')."
    ),
    "audience_key": "Readable name of the audience: user_cluster:<cluster_id>, b2b_role:<role>, high_value or broadcast.",
    "kind": (
        "user_cluster (a discovered web-user cluster), b2b_role (B2B prospects by role), high_value (top tenth by "
        "predicted lifetime value) or broadcast (no user list)."
    ),
    "cluster_id": "The persona_clusters cluster (population user) of a user_cluster audience; null otherwise.",
    "persona_cluster_lineage_id": (
        "Lineage id of the cluster's persona_clusters row (keyed from cluster_id); null unless user_cluster."
    ),
    "role": "Prospects' role from raw_prospects, trimmed and lower-cased, of a b2b_role audience; null otherwise.",
    "rule": "Plain-English rule of who is in the audience, consent included.",
    "key_type": (
        "Member keys, HMACs with the PII key: hmac_sha256_user_key (of the user pseudo id), hmac_sha256_email (of the "
        "e-mail) or none."
    ),
    "members": (
        "Consented members: users whose latest session consented to ads, or prospects with e-mail consent; 0 for broadcast."
    ),
    "excluded_without_consent": (
        "Candidates left out for lack of consent (latest session without ads consent, or no e-mail consent)."
    ),
}


@dg.asset(
    deps=["persona_clusters", "features", "customer_ltv", "raw_prospects"],
    group_name="activation",
    owners=[OWNER],
    kinds={"duckdb", "sql"},
    pool=DUCKDB_POOL,
)
def audiences(warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """Audiences an ad set can target: each discovered web-user cluster (members = hashed user keys
    of users whose latest session consented to ads), high-value customers (the top tenth by predicted
    lifetime value, consented to ads), B2B prospects by role (hashed e-mails with e-mail
    consent), and broadcast (no list). Writes audiences (rule, size, how many were left out for lack of
    consent) and audience_members (every candidate with its consent flag and source lineage id; only
    consented members ever leave the warehouse)."""
    with warehouse.transaction() as conn:
        conn.execute(AUDIENCE_MEMBERS_SQL)
        conn.execute(AUDIENCES_SQL)
        metadata = table_metadata(conn, "main.audiences", descriptions=COLUMN_DESCRIPTIONS)
        sizes = conn.execute("SELECT audience_key, members, excluded_without_consent FROM main.audiences").fetchall()
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "audience_sizes": dg.MetadataValue.json(
                {k: {"members": int(m), "excluded_without_consent": int(e)} for k, m, e in sizes}
            ),
        }
    )
