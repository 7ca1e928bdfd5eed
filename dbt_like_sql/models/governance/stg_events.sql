{{ config(materialized='ephemeral') }}
-- Typed raw events with a disposition: quarantined (with a reason), dropped for consent, or kept.
-- Precedence: a malformed row is quarantined whatever its consent; among well-formed rows the first
-- occurrence of an event_id (by file, then row) is the original and later ones are duplicates.

with typed as (
    select
        raw_row_id,
        source_file,
        source_file_sha256,
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
),

checked as (
    select
        *,
        case
            when event_id is null then 'missing_id'
            when user_pseudo_id is null then 'missing_id'
            when session_id is null then 'missing_id'
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
),

deduplicated as (
    select
        *,
        case
            when invalid_reason is null
                and row_number() over (
                    partition by event_id, invalid_reason is null
                    order by source_file, source_row_number
                ) > 1
                then 'duplicate_event_id'
            else invalid_reason
        end as quarantine_reason
    from checked
)

select
    *,
    case
        when quarantine_reason = 'duplicate_event_id' then 'event_id'
        else invalid_column
    end as quarantine_column,
    case
        when quarantine_reason is not null then 'quarantined'
        when consent_analytics then 'kept'
        else 'dropped_for_consent'
    end as disposition,
    lineage_id('session', user_pseudo_id || '|' || session_id) as session_lineage_id
from deduplicated
