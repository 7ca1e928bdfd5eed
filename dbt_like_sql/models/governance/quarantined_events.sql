{{ config(materialized=governance_materialization(), incremental_strategy='delete+insert', unique_key='source_file',
          on_schema_change='append_new_columns',
          pre_hook="{{ empty_on_full_rebuild() }}") }}
-- Malformed raw rows, kept for inspection with a reason code. The offending value is shown only
-- for non-PII columns (ids, timestamp, revenue). Damaged lines the reader could not parse at all
-- are in raw.rejected_lines (file, row number, reason).
select
    d.raw_row_id,
    d.source_file,
    d.source_row_number,
    d.layout,
    d.quarantine_reason,
    d.quarantine_column,
    case d.quarantine_column
        when 'event_timestamp' then e.event_timestamp_raw
        when 'revenue' then e.revenue_raw
        when 'event_id' then e.event_id
        when 'ga_session_id' then e.session_id
    end as offending_value,
    {{ lineage_id('quarantine', "d.raw_row_id") }} as lineage_id,
    cast(now() as timestamp) as processed_at
from (select * from {{ ref('event_dispositions') }} where disposition = 'quarantined' and {{ in_batch('source_file') }}) as d
join (select * from {{ ref('stg_events') }} where {{ in_batch() }}) as e using (source_file, source_row_number)
