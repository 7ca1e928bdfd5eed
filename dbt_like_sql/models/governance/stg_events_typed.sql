{{ config(materialized='ephemeral') }}
-- Raw events with typed values and the reason a row is malformed (NULL when it is well formed).
-- No window functions here: the duplicate check lives in event_dispositions.

with typed as (
    select
        raw_row_id,
        source_file,
        source_row_number,
        nullif(trim(event_id), '') as event_id,
        nullif(trim(user_pseudo_id), '') as user_pseudo_id,
        nullif(trim(session_id), '') as session_id,
        event_timestamp as event_timestamp_raw,
        timezone('UTC', try_cast(event_timestamp as timestamptz)) as event_ts,
        revenue as revenue_raw,
        try_cast(nullif(trim(revenue), '') as decimal(18, 2)) as revenue,
        event_name,
        utm_source,
        utm_medium,
        utm_campaign,
        device,
        country,
        email,
        ip_address,
        coalesce(lower(trim(consent_analytics)) in ('true', '1', 'yes', 'granted'), false) as consent_analytics,
        coalesce(lower(trim(consent_ads)) in ('true', '1', 'yes', 'granted'), false) as consent_ads
    from {{ source('raw', 'raw_events') }}
)

select
    *,
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
    end as invalid_column
from typed
