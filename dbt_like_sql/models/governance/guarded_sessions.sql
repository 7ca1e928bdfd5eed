-- One row per consented, well-formed session. Email, IP address and the pseudonymous user id are
-- replaced by keyed HMAC-SHA256 digests (pii_hmac); nothing raw leaves this model. Source, medium,
-- campaign, device, country, email and IP are those of the session's first event.
-- Kept rows = consented rows that are not quarantined (the same rule as event_dispositions; the
-- reconciliation check proves both agree row for row).

with kept as (
    select e.*
    from {{ ref('stg_events_typed') }} as e
    anti join {{ ref('quarantined_events') }} as q using (raw_row_id)
    where e.consent_analytics
),

sessions as (
    select
        user_pseudo_id,
        session_id,
        min(event_ts) as session_start,
        max(event_ts) as session_end,
        count(*) as events,
        count(*) filter (where event_name = 'page_view') as pageviews,
        count(*) filter (where event_name = 'purchase') as purchases,
        coalesce(sum(revenue), 0)::decimal(18, 2) as revenue,
        arg_min(
            {'utm_source': utm_source, 'utm_medium': utm_medium, 'utm_campaign': utm_campaign,
             'device': device, 'country': country, 'email': lower(trim(email)), 'ip': ip_address},
            (event_ts, source_file, source_row_number)
        ) as first_event,
        bool_and(consent_ads) as consent_ads
    from kept
    group by user_pseudo_id, session_id
)

select
    lineage_id('session', user_pseudo_id || '|' || session_id) as lineage_id,
    pii_hmac(user_pseudo_id) as user_key,
    session_id,
    session_start,
    session_end,
    events,
    pageviews,
    purchases,
    revenue,
    first_event.utm_source as utm_source,
    first_event.utm_medium as utm_medium,
    first_event.utm_campaign as utm_campaign,
    first_event.device as device,
    first_event.country as country,
    pii_hmac(first_event.email) as email_hash,
    pii_hmac(first_event.ip) as ip_hash,
    consent_ads,
    now()::timestamp as processed_at
from sessions
