{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='source_file',
          pre_hook="{{ empty_on_full_rebuild() }}") }}
-- Every raw event row exactly once, with what governance did to it. No PII.
-- Precedence: a malformed row is quarantined whatever its consent. Among well-formed rows, identical
-- events (flat layout: the same event_id; GA4: the same client, session, name, timestamp and
-- parameters) are loaded once: the first by (ingested_at, source_file, source_row_number) is the
-- original, later ones are quarantined as duplicates (the daily and intraday GA4 exports of a day
-- overlap; late corrections re-deliver days). Well-formed rows without analytics consent are dropped.
-- Incremental: only the files of the current batch are read (see governance_batch).

with batch as (
    select source_file, source_file_sha256, source_row_number, ingested_at, layout, session_natural_key,
           consent_analytics, invalid_reason, invalid_column,
           -- 128-bit fingerprint of the de-duplication key of a well-formed row
           case when invalid_reason is null then md5_number(dedupe_key) end as event_fingerprint
    from {{ ref('stg_events') }}
    where {{ in_batch() }}
),

repeated as (
    select event_fingerprint from batch where event_fingerprint is not null
    group by event_fingerprint having count(*) > 1
),

duplicates as (
    select source_file, source_row_number
    from (
        select source_file, source_row_number,
               row_number() over (partition by event_fingerprint
                                  order by ingested_at, source_file, source_row_number) as occurrence
        from batch semi join repeated using (event_fingerprint)
    )
    where occurrence > 1
    {% if is_incremental() and governance_batch().mode == 'incremental' %}
    union
    -- already governed earlier: the earlier row is the original
    select source_file, source_row_number from batch
    semi join (select event_fingerprint from {{ this }} where event_fingerprint is not null) using (event_fingerprint)
    {% endif %}
),

classified as (
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
    select session_natural_key, lineage_id('session', session_natural_key) as session_lineage_id
    from (select distinct session_natural_key from classified
          where quarantine_reason is null and consent_analytics)
)

select
    source_file || ':' || source_row_number as raw_row_id,
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
    event_fingerprint,
    now()::timestamp as processed_at
from classified
left join session_lineage using (session_natural_key)
