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

WITH batch AS {{ cte_inlined() }} (
    SELECT
        source_file,
        source_file_sha256,
        source_row_number,
        ingested_at,
        layout,
        session_natural_key,
        consent_analytics,
        invalid_reason,
        invalid_column,
        event_time_us,
        CASE WHEN invalid_reason IS NULL THEN dedupe_key END AS dedupe_key
    FROM {{ ref('stg_events') }}
    WHERE {{ in_batch() }}
),

-- candidates by a 64-bit hash of the keys of every batch row, well-formed or not: a superset of the
-- repeated well-formed keys, found without typing the rows (the window below compares the keys of
-- well-formed rows themselves, so neither a malformed row nor a hash collision can make a duplicate)
repeated AS (
    SELECT {{ hash64('dedupe_key') }} AS dedupe_hash FROM {{ ref('stg_events') }}
    WHERE {{ in_batch() }} AND dedupe_key IS NOT NULL
    GROUP BY dedupe_hash
    HAVING count(*) > 1
),

duplicates AS (
    SELECT
        source_file,
        source_row_number
    FROM (
        SELECT
            source_file,
            source_row_number,
            row_number() OVER (PARTITION BY dedupe_key ORDER BY ingested_at, source_file, source_row_number)
                AS occurrence
        FROM batch SEMI JOIN repeated ON {{ hash64('batch.dedupe_key') }} = repeated.dedupe_hash
    )
    WHERE occurrence > 1
    {% if batch_mode %}
    union
    -- already governed earlier: the earlier row is the original. Earlier rows with a key of the batch
    -- are found on the key alone; they count when governance found them well-formed (their outcome in
    -- this table), so no earlier row is typed again
    select source_file, source_row_number from batch
    semi join (
        select earlier.dedupe_key
        from (
            select source_file, source_row_number, dedupe_key from {{ ref('stg_events') }}
            where not ({{ in_batch() }})
              and (layout = 'flat' or event_time_us between (select min(event_time_us) from batch)
                                                         and (select max(event_time_us) from batch))
              and dedupe_key in (select dedupe_key from batch where dedupe_key is not null)
        ) as earlier
        semi join (
            select source_file, source_row_number from {{ this }}
            where quarantine_reason is null or quarantine_reason in ('duplicate_event_id', 'duplicate_event')
        ) as well_formed using (source_file, source_row_number)
    ) using (dedupe_key)
    {% endif %}
),

classified AS {{ cte_inlined() }} (
    SELECT
        batch.*,
        CASE
            WHEN duplicates.source_file IS NOT NULL
                THEN CASE layout WHEN 'ga4' THEN 'duplicate_event' ELSE 'duplicate_event_id' END
            ELSE invalid_reason
        END AS quarantine_reason,
        CASE
            WHEN duplicates.source_file IS NOT NULL
                THEN CASE layout WHEN 'ga4' THEN 'event' ELSE 'event_id' END
            ELSE invalid_column
        END AS quarantine_column
    FROM batch
    LEFT JOIN duplicates USING (source_file, source_row_number)
),

-- one keyed HMAC per session, not per row
session_lineage AS (
    SELECT
        session_natural_key,
        {{ lineage_id('session', "session_natural_key") }} AS session_lineage_id
    FROM (
        SELECT DISTINCT session_natural_key FROM classified
        WHERE quarantine_reason IS NULL AND consent_analytics
    ) AS kept_sessions
)

SELECT
    source_file,
    source_file_sha256,
    source_row_number,
    layout,
    CASE
        WHEN quarantine_reason IS NOT NULL THEN 'quarantined'
        WHEN consent_analytics THEN 'kept'
        ELSE 'dropped_for_consent'
    END AS disposition,
    quarantine_reason,
    quarantine_column,
    CASE WHEN quarantine_reason IS NULL AND consent_analytics THEN session_lineage.session_lineage_id END
        AS session_lineage_id,
    cast(now() AS TIMESTAMP) AS processed_at
FROM classified
LEFT JOIN session_lineage USING (session_natural_key)
