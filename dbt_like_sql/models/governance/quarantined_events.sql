-- Malformed raw rows, kept for inspection with a reason code. The offending value is shown only
-- for non-PII columns (ids, timestamp, revenue).
select
    d.raw_row_id,
    d.source_file,
    d.source_row_number,
    d.quarantine_reason,
    d.quarantine_column,
    case d.quarantine_column
        when 'event_timestamp' then e.event_timestamp_raw
        when 'revenue' then e.revenue_raw
        when 'event_id' then e.event_id
    end as offending_value,
    lineage_id('quarantine', d.raw_row_id) as lineage_id,
    now()::timestamp as processed_at
from {{ ref('event_dispositions') }} as d
join {{ ref('stg_events_typed') }} as e using (raw_row_id)
where d.disposition = 'quarantined'
