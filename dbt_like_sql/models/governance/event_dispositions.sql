{{ config(materialized='view') }}
-- Every raw event row exactly once with its governance outcome (event_outcomes) and its raw_row_id
-- (source_file:row, the raw zone's id), computed when read instead of stored for 10M rows.
SELECT
    source_file || ':' || source_row_number AS raw_row_id,
    *
FROM {{ ref('event_outcomes') }}
