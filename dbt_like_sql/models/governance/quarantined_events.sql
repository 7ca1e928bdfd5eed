{{ config(materialized=governance_materialization(), incremental_strategy='delete+insert', unique_key='source_file',
          on_schema_change='append_new_columns',
          pre_hook="{{ empty_on_full_rebuild() }}") }}
-- Malformed raw rows, kept for inspection with a reason code. The offending value is shown only
-- for non-PII columns (ids, timestamp, revenue). Damaged lines the reader could not parse at all
-- are in raw.rejected_lines (file, row number, reason).
SELECT
    d.raw_row_id,
    d.source_file,
    d.source_row_number,
    d.layout,
    d.quarantine_reason,
    d.quarantine_column,
    CASE d.quarantine_column
        WHEN 'event_timestamp' THEN e.event_timestamp_raw
        WHEN 'revenue' THEN e.revenue_raw
        WHEN 'event_id' THEN e.event_id
        WHEN 'ga_session_id' THEN e.session_id
    END AS offending_value,
    {{ lineage_id('quarantine', "d.raw_row_id") }} AS lineage_id,
    cast(now() AS TIMESTAMP) AS processed_at
FROM (
    SELECT * FROM {{ ref('event_dispositions') }}
    WHERE disposition = 'quarantined' AND {{ in_batch('source_file') }}
) AS d
INNER JOIN (SELECT * FROM {{ ref('stg_events') }} WHERE {{ in_batch() }}) AS e USING (source_file, source_row_number)
