-- One row per consented, well-formed session. Email, IP address and the pseudonymous user id are
-- replaced by keyed HMAC-SHA256 digests (pii_hmac); nothing raw leaves this model.
select
    lineage_id('session', user_pseudo_id || '|' || session_id) as lineage_id,
    pii_hmac(user_pseudo_id) as user_key,
    session_id,
    min(event_ts) as session_start,
    max(event_ts) as session_end,
    count(*) as events,
    count(*) filter (where event_name = 'page_view') as pageviews,
    count(*) filter (where event_name = 'purchase') as purchases,
    coalesce(sum(revenue), 0)::decimal(18, 2) as revenue,
    arg_min(utm_source, event_ts) as utm_source,
    arg_min(utm_medium, event_ts) as utm_medium,
    arg_min(utm_campaign, event_ts) as utm_campaign,
    arg_min(device, event_ts) as device,
    arg_min(country, event_ts) as country,
    pii_hmac(arg_min(lower(trim(email)), event_ts)) as email_hash,
    pii_hmac(arg_min(ip_address, event_ts)) as ip_hash,
    bool_and(consent_ads) as consent_ads,
    list(distinct source_file_sha256 order by source_file_sha256) as source_file_sha256s,
    now()::timestamp as processed_at
from {{ ref('stg_events') }}
where disposition = 'kept'
group by user_pseudo_id, session_id
