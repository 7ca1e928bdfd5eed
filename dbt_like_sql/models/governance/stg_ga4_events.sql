{{ config(materialized='view', schema='staging') }}
-- GA4 BigQuery export events (raw.raw_ga4_events, the export's nested columns as exported), mapped
-- to the shape every governance model reads (see stg_events and the README's GA4 mapping).
--   time: event_timestamp, microseconds since the epoch, UTC
--   client = (stream_id, user_pseudo_id); session = (client, ga_session_id): never ga_session_id
--   alone (not unique across users), never user_id (it appears mid-session)
--   parameters by key whatever the value slot; placeholders ('(not set)', '<Other>', ...) are values
--   consent: privacy_info.analytics_storage 'No' drops the event from analytics; NULL (consent mode
--   not in use) keeps it unless GTM_GA4_NULL_CONSENT=denied; ads consent only on 'Yes'

WITH params AS (
    SELECT
        source_file,
        source_file_sha256,
        source_row_number,
        ingested_at,
        event_timestamp,
        event_name,
        event_params,
        nullif(user_pseudo_id, '') AS user_pseudo_id,
        coalesce(stream_id, '') AS stream_id,
        cast({{ ga4_param_int('event_params', 'ga_session_id') }} AS STRING) AS ga_session_id,
        {{ ga4_param_int('event_params', 'ga_session_number') }} AS ga_session_number,
        {{ ga4_param_text('event_params', 'page_location') }} AS page_location,
        {{ ga4_param_text('event_params', 'source') }} AS source,
        {{ ga4_param_text('event_params', 'medium') }} AS medium,
        {{ ga4_param_text('event_params', 'campaign') }} AS campaign,
        {{ ga4_param_text('event_params', 'term') }} AS term,
        traffic_source,
        session_traffic_source_last_click.manual_campaign AS last_click,
        collected_traffic_source,
        device.category AS device,
        geo.country,
        ecommerce.purchase_revenue,
        ecommerce.purchase_revenue_in_usd,
        coalesce(ecommerce.transaction_id, {{ ga4_param_text('event_params', 'transaction_id') }}) AS transaction_id,
        privacy_info.analytics_storage,
        privacy_info.ads_storage
    FROM {{ raw_zone('raw_ga4_events') }}
),

typed AS (
    SELECT
        *,
        CASE
            WHEN analytics_storage = 'No' THEN FALSE
            WHEN
                analytics_storage IS NULL
                THEN {{ "false" if env_var('GTM_GA4_NULL_CONSENT', 'granted') == 'denied' else "true" }}
            ELSE TRUE
        END AS consent_analytics,
        coalesce(ads_storage = 'Yes', FALSE) AS consent_ads,
        {{ timestamp_from_micros('event_timestamp') }} AS event_ts,
        cast(purchase_revenue AS DECIMAL(18, 2)) AS revenue
    FROM params
)

SELECT
    source_file,
    source_file_sha256,
    source_row_number,
    ingested_at,
    'ga4' AS layout,
    cast(NULL AS STRING) AS event_id,
    user_pseudo_id,
    ga_session_id AS session_id,
    cast(event_timestamp AS STRING) AS event_timestamp_raw,
    event_ts,
    cast(purchase_revenue AS STRING) AS revenue_raw,
    revenue,
    event_name,
    page_location,
    source,
    medium,
    campaign,
    cast(NULL AS STRING) AS email,
    cast(NULL AS STRING) AS ip_address,
    device,
    country,
    consent_analytics,
    consent_ads,
    stream_id || '|' || user_pseudo_id || '|' || ga_session_id AS session_natural_key,
    -- identical events: same client, session, name, time and parameters (sorted by key); consent
    -- mode's pings without a user_pseudo_id are compared too (they are dropped, but counted once)
    stream_id || '|' || coalesce(user_pseudo_id, '') || '|' || coalesce(ga_session_id, '') || '|'
    || event_name || '|' || event_timestamp || '|' || {{ hash64('array_sort(event_params)') }} AS dedupe_key,
    event_timestamp AS event_time_us,
    CASE
        WHEN event_timestamp IS NULL THEN 'unparseable_timestamp'
        -- consent mode writes denied events without a user_pseudo_id: a consent drop, not damage
        WHEN user_pseudo_id IS NULL AND consent_analytics THEN 'missing_id'
        WHEN ga_session_id IS NULL AND consent_analytics THEN 'missing_session_id'
        WHEN revenue < 0 THEN 'negative_revenue'
    END AS invalid_reason,
    CASE
        WHEN event_timestamp IS NULL THEN 'event_timestamp'
        WHEN user_pseudo_id IS NULL AND consent_analytics THEN 'user_pseudo_id'
        WHEN ga_session_id IS NULL AND consent_analytics THEN 'ga_session_id'
        WHEN revenue < 0 THEN 'revenue'
    END AS invalid_column,
    ga_session_number,
    term,
    transaction_id,
    purchase_revenue_in_usd,
    traffic_source.source AS first_touch_source,
    traffic_source.medium AS first_touch_medium,
    traffic_source.name AS first_touch_campaign,
    last_click.source AS last_click_source,
    last_click.medium AS last_click_medium,
    last_click.campaign_name AS last_click_campaign,
    collected_traffic_source.manual_source AS collected_source,
    collected_traffic_source.manual_medium AS collected_medium,
    collected_traffic_source.manual_campaign_name AS collected_campaign,
    coalesce(collected_traffic_source.gclid IS NOT NULL OR page_location LIKE '%gclid=%', FALSE) AS has_gclid
FROM typed
