-- Per-user behavioural features from guarded sessions, keyed by the hashed user key, with the
-- lineage ids of the sessions they were computed from. Recency and frequency are measured against
-- the last session in the data (as_of), not the wall clock, so a rebuild gives the same figures.
WITH as_of AS (
    SELECT max(session_start) AS as_of FROM {{ ref('guarded_sessions') }}
)

SELECT
    lineage_id('user', user_key) AS lineage_id,
    user_key,
    count(*) AS sessions,
    sum(pageviews) AS pageviews,
    sum(purchases) AS purchases,
    sum(revenue)::DECIMAL(18, 2) AS revenue,
    min(session_start) AS first_seen,
    max(session_start) AS last_seen,
    date_diff('day', max(session_start), any_value(as_of.as_of)) AS recency_days,
    -- frequency: sessions per week since the user was first seen (at least one week), so a single
    -- session long ago is rare, not "one a week"
    round(count(*) / greatest(1.0, date_diff('day', min(session_start), any_value(as_of.as_of)) / 7.0), 4)
        AS sessions_per_week,
    arg_min(utm_source, session_start) AS first_source,
    arg_min(utm_medium, session_start) AS first_medium,
    mode(utm_source) AS dominant_source,
    mode(utm_medium) AS dominant_medium,
    round(avg((device = 'desktop')::INT), 4) AS desktop_share,
    round(avg((device = 'mobile')::INT), 4) AS mobile_share,
    round(avg((device = 'tablet')::INT), 4) AS tablet_share,
    bool_or(consent_ads) AS consent_ads,
    list(lineage_id ORDER BY session_start, lineage_id) AS session_lineage_ids
FROM {{ ref('guarded_sessions') }}
CROSS JOIN as_of
GROUP BY user_key
