-- Every raw event row exactly once, with what governance did to it. No PII.
select
    raw_row_id,
    source_file,
    source_file_sha256,
    source_row_number,
    disposition,
    quarantine_reason,
    quarantine_column,
    case when disposition = 'kept' then session_lineage_id end as session_lineage_id,
    now()::timestamp as processed_at
from {{ ref('stg_events') }}
