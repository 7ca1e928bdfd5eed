{{ config(materialized=governance_materialization(), incremental_strategy='delete+insert', unique_key='source_file',
          on_schema_change='append_new_columns',
          pre_hook="{{ empty_on_full_rebuild() }}") }}
-- Every raw event row exactly once, with what governance did to it (event_dispositions is this plus
-- raw_row_id). No PII.
-- Precedence: a malformed row is quarantined whatever its consent. Among well-formed rows, identical
-- events (flat layout: the same event_id; GA4: the same client, session, name, timestamp and
-- parameters sorted by key) are loaded once: the first by (ingested_at, source_file,
-- source_row_number) is the original, later ones are quarantined as duplicates (the daily and
-- intraday GA4 exports of a day overlap; late corrections re-deliver days). Well-formed rows without
-- analytics consent are dropped.
-- Incremental: only the files of the current batch are classified (see governance_batch); their
-- events are compared with the earlier rows (GA4: those of the batch's time span only).
-- The CTEs are not materialized: re-reading the raw columns is cheaper than storing 10M typed rows.
{% set batch_mode = is_incremental() and governance_batch().mode == 'incremental' %}

with batch as {{ cte_inlined() }} (
    select source_file, source_file_sha256, source_row_number, ingested_at, layout, session_natural_key,
           consent_analytics, invalid_reason, invalid_column, event_time_us,
           case when invalid_reason is null then dedupe_key end as dedupe_key
    from {{ ref('stg_events') }}
    where {{ in_batch() }}
),

-- candidates by a 64-bit hash (cheaper to group than the text); the window below compares the
-- keys themselves, so a hash collision cannot make a duplicate
repeated as (
    select {{ hash64('dedupe_key') }} as dedupe_hash from batch where dedupe_key is not null
    group by dedupe_hash having count(*) > 1
),

duplicates as (
    select source_file, source_row_number
    from (
        select source_file, source_row_number,
               row_number() over (partition by dedupe_key order by ingested_at, source_file, source_row_number)
                   as occurrence
        from batch semi join repeated on {{ hash64('batch.dedupe_key') }} = repeated.dedupe_hash
    )
    where occurrence > 1
    {% if batch_mode %}
    union
    -- already governed earlier: the earlier row is the original
    select source_file, source_row_number from batch
    semi join (
        select dedupe_key from {{ ref('stg_events') }}
        where not ({{ in_batch() }}) and invalid_reason is null
          and (layout = 'flat' or event_time_us between (select min(event_time_us) from batch)
                                                     and (select max(event_time_us) from batch))
    ) using (dedupe_key)
    {% endif %}
),

classified as {{ cte_inlined() }} (
    select
        batch.*,
        case
            when duplicates.source_file is not null
                then case layout when 'ga4' then 'duplicate_event' else 'duplicate_event_id' end
            else invalid_reason
        end as quarantine_reason,
        case when duplicates.source_file is not null
            then case layout when 'ga4' then 'event' else 'event_id' end
            else invalid_column
        end as quarantine_column
    from batch
    left join duplicates using (source_file, source_row_number)
),

-- one keyed HMAC per session, not per row
session_lineage as (
    select session_natural_key, {{ lineage_id('session', "session_natural_key") }} as session_lineage_id
    from (select distinct session_natural_key from classified
          where quarantine_reason is null and consent_analytics)
)

select
    source_file,
    source_file_sha256,
    source_row_number,
    layout,
    case
        when quarantine_reason is not null then 'quarantined'
        when consent_analytics then 'kept'
        else 'dropped_for_consent'
    end as disposition,
    quarantine_reason,
    quarantine_column,
    case when quarantine_reason is null and consent_analytics then session_lineage.session_lineage_id end
        as session_lineage_id,
    cast(now() as timestamp) as processed_at
from classified
left join session_lineage using (session_natural_key)
