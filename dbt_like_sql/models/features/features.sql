-- Per-user behavioural features from guarded sessions, keyed by the hashed user key, with the
-- lineage ids of the sessions they were computed from. Recency and frequency are measured against
-- the last session in the data (as_of), not the wall clock, so a rebuild gives the same figures.
with as_of as (
    select max(session_start) as as_of from {{ ref('guarded_sessions') }}
)

select
    lineage_id('user', user_key) as lineage_id,
    user_key,
    count(*) as sessions,
    sum(pageviews) as pageviews,
    sum(purchases) as purchases,
    sum(revenue)::decimal(18, 2) as revenue,
    min(session_start) as first_seen,
    max(session_start) as last_seen,
    date_diff('day', max(session_start), any_value(as_of.as_of)) as recency_days,
    -- frequency: sessions per week since the user was first seen (at least one week), so a single
    -- session long ago is rare, not "one a week"
    round(count(*) / greatest(1.0, date_diff('day', min(session_start), any_value(as_of.as_of)) / 7.0), 4)
        as sessions_per_week,
    arg_min(utm_source, session_start) as first_source,
    arg_min(utm_medium, session_start) as first_medium,
    mode(utm_source) as dominant_source,
    mode(utm_medium) as dominant_medium,
    round(avg((device = 'desktop')::int), 4) as desktop_share,
    round(avg((device = 'mobile')::int), 4) as mobile_share,
    round(avg((device = 'tablet')::int), 4) as tablet_share,
    bool_or(consent_ads) as consent_ads,
    list(lineage_id order by session_start, lineage_id) as session_lineage_ids
from {{ ref('guarded_sessions') }}
cross join as_of
group by user_key
