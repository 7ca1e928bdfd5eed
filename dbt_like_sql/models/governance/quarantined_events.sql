-- Malformed raw rows, kept for inspection with a reason code. The offending value is shown only
-- for non-PII columns (ids, timestamp, revenue).
select
    raw_row_id,
    source_file,
    source_file_sha256,
    source_row_number,
    quarantine_reason,
    quarantine_column,
    case quarantine_column
        when 'event_timestamp' then event_timestamp_raw
        when 'revenue' then revenue_raw
        when 'event_id' then event_id
    end as offending_value,
    lineage_id('quarantine', raw_row_id) as lineage_id,
    now()::timestamp as processed_at
from {{ ref('stg_events') }}
where disposition = 'quarantined'
