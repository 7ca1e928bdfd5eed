{{ config(materialized='view') }}
-- Events of the flat landing layout (raw.raw_events, all text as landed), typed, in the shape
-- every governance model reads (see stg_events). Invalid rows carry the reason and column.

with typed as (
    select
        source_file,
        source_file_sha256,
        source_row_number,
        ingested_at,
        'flat' as layout,
        nullif(trim(event_id), '') as event_id,
        nullif(trim(user_pseudo_id), '') as user_pseudo_id,
        nullif(trim(session_id), '') as session_id,
        event_timestamp as event_timestamp_raw,
        {{ parse_utc_timestamp('event_timestamp') }} as event_ts,
        revenue as revenue_raw,
        try_cast(nullif(trim(revenue), '') as decimal(18, 2)) as revenue,
        event_name,
        page_location,
        utm_source as source,
        utm_medium as medium,
        utm_campaign as campaign,
        email,
        ip_address,
        device,
        country,
        coalesce(lower(trim(consent_analytics)) in ('true', '1', 'yes', 'granted'), false) as consent_analytics,
        coalesce(lower(trim(consent_ads)) in ('true', '1', 'yes', 'granted'), false) as consent_ads
    from {{ source('raw', 'raw_events') }}
)

select
    *,
    -- || propagates NULL: a missing id never yields a key (concat() would skip it)
    user_pseudo_id || '|' || session_id as session_natural_key,
    event_id as dedupe_key,
    cast(null as bigint) as event_time_us,
    case
        when event_id is null or user_pseudo_id is null or session_id is null then 'missing_id'
        when event_ts is null then 'unparseable_timestamp'
        when nullif(trim(revenue_raw), '') is not null and revenue is null then 'non_numeric_revenue'
        when revenue < 0 then 'negative_revenue'
    end as invalid_reason,
    case
        when event_id is null then 'event_id'
        when user_pseudo_id is null then 'user_pseudo_id'
        when session_id is null then 'session_id'
        when event_ts is null then 'event_timestamp'
        when nullif(trim(revenue_raw), '') is not null and revenue is null then 'revenue'
        when revenue < 0 then 'revenue'
    end as invalid_column,
    -- what only GA4 exports carry
    cast(null as bigint) as ga_session_number,
    cast(null as string) as term,
    cast(null as string) as transaction_id,
    cast(null as double) as purchase_revenue_in_usd,
    cast(null as string) as first_touch_source,
    cast(null as string) as first_touch_medium,
    cast(null as string) as first_touch_campaign,
    cast(null as string) as last_click_source,
    cast(null as string) as last_click_medium,
    cast(null as string) as last_click_campaign,
    cast(null as string) as collected_source,
    cast(null as string) as collected_medium,
    cast(null as string) as collected_campaign,
    coalesce(page_location like '%gclid=%', false) as has_gclid
from typed
