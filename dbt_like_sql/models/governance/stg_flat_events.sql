{{ config(materialized='view', schema='staging') }}
-- Events of the flat landing layout (raw.raw_events, all text as landed), typed, in the shape
-- every governance model reads (see stg_events). Invalid rows carry the reason and column.

WITH typed AS (
    SELECT
        source_file,
        source_file_sha256,
        source_row_number,
        ingested_at,
        'flat' AS layout,
        nullif(trim(event_id), '') AS event_id,
        nullif(trim(user_pseudo_id), '') AS user_pseudo_id,
        nullif(trim(session_id), '') AS session_id,
        event_timestamp AS event_timestamp_raw,
        {{ parse_utc_timestamp('event_timestamp') }} AS event_ts,
        revenue AS revenue_raw,
        try_cast(nullif(trim(revenue), '') AS DECIMAL(18, 2)) AS revenue,
        event_name,
        page_location,
        utm_source AS source,
        utm_medium AS medium,
        utm_campaign AS campaign,
        email,
        ip_address,
        device,
        country,
        coalesce(lower(trim(consent_analytics)) IN ('true', '1', 'yes', 'granted'), FALSE) AS consent_analytics,
        coalesce(lower(trim(consent_ads)) IN ('true', '1', 'yes', 'granted'), FALSE) AS consent_ads
    FROM {{ source('raw', 'raw_events') }}
)

SELECT
    *,
    -- || propagates NULL: a missing id never yields a key (concat() would skip it)
    user_pseudo_id || '|' || session_id AS session_natural_key,
    event_id AS dedupe_key,
    cast(NULL AS BIGINT) AS event_time_us,
    CASE
        WHEN event_id IS NULL OR user_pseudo_id IS NULL OR session_id IS NULL THEN 'missing_id'
        WHEN event_ts IS NULL THEN 'unparseable_timestamp'
        WHEN nullif(trim(revenue_raw), '') IS NOT NULL AND revenue IS NULL THEN 'non_numeric_revenue'
        WHEN revenue < 0 THEN 'negative_revenue'
    END AS invalid_reason,
    CASE
        WHEN event_id IS NULL THEN 'event_id'
        WHEN user_pseudo_id IS NULL THEN 'user_pseudo_id'
        WHEN session_id IS NULL THEN 'session_id'
        WHEN event_ts IS NULL THEN 'event_timestamp'
        WHEN nullif(trim(revenue_raw), '') IS NOT NULL AND revenue IS NULL THEN 'revenue'
        WHEN revenue < 0 THEN 'revenue'
    END AS invalid_column,
    -- what only GA4 exports carry
    cast(NULL AS BIGINT) AS ga_session_number,
    cast(NULL AS STRING) AS term,
    cast(NULL AS STRING) AS transaction_id,
    cast(NULL AS DOUBLE) AS purchase_revenue_in_usd,
    cast(NULL AS STRING) AS first_touch_source,
    cast(NULL AS STRING) AS first_touch_medium,
    cast(NULL AS STRING) AS first_touch_campaign,
    cast(NULL AS STRING) AS last_click_source,
    cast(NULL AS STRING) AS last_click_medium,
    cast(NULL AS STRING) AS last_click_campaign,
    cast(NULL AS STRING) AS collected_source,
    cast(NULL AS STRING) AS collected_medium,
    cast(NULL AS STRING) AS collected_campaign,
    coalesce(page_location LIKE '%gclid=%', FALSE) AS has_gclid
FROM typed
