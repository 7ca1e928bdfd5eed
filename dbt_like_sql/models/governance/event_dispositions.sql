-- Every raw event row exactly once, with what governance did to it. No PII.
-- Precedence: a malformed row is quarantined whatever its consent. Among well-formed rows, the
-- first occurrence of an event_id (by source file, then row number) is the original and later
-- ones are quarantined as duplicates. Well-formed rows without analytics consent are dropped.

with checked as (
    select raw_row_id, source_file, source_row_number, event_id, user_pseudo_id, session_id,
           consent_analytics, invalid_reason, invalid_column
    from {{ ref('stg_events_typed') }}
),

repeated_ids as (
    select event_id from checked where invalid_reason is null
    group by event_id having count(*) > 1
),

duplicates as (
    select raw_row_id
    from (
        select raw_row_id,
               row_number() over (partition by event_id order by source_file, source_row_number) as occurrence
        from checked
        where invalid_reason is null and event_id in (select event_id from repeated_ids)
    )
    where occurrence > 1
),

classified as (
    select
        checked.*,
        case when duplicates.raw_row_id is not null then 'duplicate_event_id' else invalid_reason end
            as quarantine_reason,
        case when duplicates.raw_row_id is not null then 'event_id' else invalid_column end
            as quarantine_column
    from checked
    left join duplicates using (raw_row_id)
)

select
    raw_row_id,
    source_file,
    source_row_number,
    case
        when quarantine_reason is not null then 'quarantined'
        when consent_analytics then 'kept'
        else 'dropped_for_consent'
    end as disposition,
    quarantine_reason,
    quarantine_column,
    case when quarantine_reason is null and consent_analytics
        then lineage_id('session', user_pseudo_id || '|' || session_id)
    end as session_lineage_id,
    now()::timestamp as processed_at
from classified
