{{ config(materialized='view') }}
-- Bridge from each guarded session to the raw rows (file, file sha256, row number) it was built from.
SELECT
    session_lineage_id,
    raw_row_id,
    source_file,
    source_file_sha256,
    source_row_number
FROM {{ ref('event_dispositions') }}
WHERE disposition = 'kept'
