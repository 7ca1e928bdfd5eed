-- Per-user behavioural features from guarded sessions, keyed by the hashed user key, with the
-- lineage ids of the sessions they were computed from. Recency and frequency are measured against
-- the last session in the data (as_of), not the wall clock, so a rebuild gives the same figures.
-- Ties are broken by value, so every engine gives the same row: the first session by (start,
-- lineage id); the dominant source/medium is the most frequent, the alphabetically first of equals.
WITH as_of AS (
    SELECT max(session_start) AS as_of FROM {{ ref('guarded_sessions') }}
),

source_counts AS (
    SELECT
        user_key,
        utm_source,
        count(*) AS sessions
    FROM {{ ref('guarded_sessions') }}
    GROUP BY user_key, utm_source
),

medium_counts AS (
    SELECT
        user_key,
        utm_medium,
        count(*) AS sessions
    FROM {{ ref('guarded_sessions') }}
    GROUP BY user_key, utm_medium
),

dominant AS (
    SELECT
        s.user_key,
        s.dominant_source,
        m.dominant_medium
    FROM (
        SELECT
            user_key,
            min_by(utm_source, {{ ordering_key(['-sessions', 'utm_source']) }}) AS dominant_source
        FROM source_counts
        GROUP BY user_key
    ) AS s
    INNER JOIN (
        SELECT
            user_key,
            min_by(utm_medium, {{ ordering_key(['-sessions', 'utm_medium']) }}) AS dominant_medium
        FROM medium_counts
        GROUP BY user_key
    ) AS m ON s.user_key = m.user_key
),

per_user AS (
    SELECT
        g.user_key,
        count(*) AS sessions,
        sum(g.pageviews) AS pageviews,
        sum(g.purchases) AS purchases,
        cast(sum(g.revenue) AS DECIMAL(18, 2)) AS revenue,
        min(g.session_start) AS first_seen,
        max(g.session_start) AS last_seen,
        {{ days_between('max(g.session_start)', 'any_value(a.as_of)') }} AS recency_days,
        -- frequency: sessions per week since the user was first seen (at least one week), so a single
        -- session long ago is rare, not "one a week"
        cast(round(
            count(*) / greatest(1.0, cast({{ days_between('min(g.session_start)', 'any_value(a.as_of)') }} AS DOUBLE) / 7.0),
            4
        ) AS DOUBLE) AS sessions_per_week,
        min_by(g.utm_source, {{ ordering_key(['g.session_start', 'g.lineage_id']) }}) AS first_source,
        min_by(g.utm_medium, {{ ordering_key(['g.session_start', 'g.lineage_id']) }}) AS first_medium,
        round(avg(cast(g.device = 'desktop' AS INT)), 4) AS desktop_share,
        round(avg(cast(g.device = 'mobile' AS INT)), 4) AS mobile_share,
        round(avg(cast(g.device = 'tablet' AS INT)), 4) AS tablet_share,
        bool_or(g.consent_ads) AS consent_ads,
        {{ ordered_list('g.lineage_id', ['g.session_start', 'g.lineage_id']) }} AS session_lineage_ids
    FROM {{ ref('guarded_sessions') }} AS g
    CROSS JOIN as_of AS a
    GROUP BY g.user_key
)

SELECT
    {{ lineage_id('user', 'p.user_key') }} AS lineage_id,
    p.user_key,
    p.sessions,
    p.pageviews,
    p.purchases,
    p.revenue,
    p.first_seen,
    p.last_seen,
    p.recency_days,
    p.sessions_per_week,
    p.first_source,
    p.first_medium,
    d.dominant_source,
    d.dominant_medium,
    p.desktop_share,
    p.mobile_share,
    p.tablet_share,
    p.consent_ads,
    p.session_lineage_ids
FROM per_user AS p
INNER JOIN dominant AS d ON p.user_key = d.user_key
