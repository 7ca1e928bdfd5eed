{{ config(materialized='view') }}
-- GA4 BigQuery export events (raw.raw_ga4_events, the export's nested columns as exported), mapped
-- to the shape every governance model reads (see stg_events and the README's GA4 mapping).
--   time: event_timestamp, microseconds since the epoch, UTC
--   client = (stream_id, user_pseudo_id); session = (client, ga_session_id): never ga_session_id
--   alone (not unique across users), never user_id (it appears mid-session)
--   parameters by key whatever the value slot; placeholders ('(not set)', '<Other>', ...) are values
--   consent: privacy_info.analytics_storage 'No' drops the event from analytics; NULL (consent mode
--   not in use) keeps it unless GTM_GA4_NULL_CONSENT=denied; ads consent only on 'Yes'

with params as (
    select
        source_file,
        source_file_sha256,
        source_row_number,
        ingested_at,
        event_timestamp,
        event_name,
        event_params,
        nullif(user_pseudo_id, '') as user_pseudo_id,
        coalesce(stream_id, '') as stream_id,
        cast({{ ga4_param_int('event_params', 'ga_session_id') }} as string) as ga_session_id,
        {{ ga4_param_int('event_params', 'ga_session_number') }} as ga_session_number,
        {{ ga4_param_text('event_params', 'page_location') }} as page_location,
        {{ ga4_param_text('event_params', 'source') }} as source,
        {{ ga4_param_text('event_params', 'medium') }} as medium,
        {{ ga4_param_text('event_params', 'campaign') }} as campaign,
        {{ ga4_param_text('event_params', 'term') }} as term,
        traffic_source,
        session_traffic_source_last_click.manual_campaign as last_click,
        collected_traffic_source,
        device.category as device,
        geo.country as country,
        ecommerce.purchase_revenue as purchase_revenue,
        ecommerce.purchase_revenue_in_usd as purchase_revenue_in_usd,
        coalesce(ecommerce.transaction_id, {{ ga4_param_text('event_params', 'transaction_id') }}) as transaction_id,
        privacy_info.analytics_storage as analytics_storage,
        privacy_info.ads_storage as ads_storage
    from {{ raw_zone('raw_ga4_events') }}
),

typed as (
    select
        *,
        case
            when analytics_storage = 'No' then false
            when analytics_storage is null then {{ "false" if env_var('GTM_GA4_NULL_CONSENT', 'granted') == 'denied' else "true" }}
            else true
        end as consent_analytics,
        coalesce(ads_storage = 'Yes', false) as consent_ads,
        {{ timestamp_from_micros('event_timestamp') }} as event_ts,
        cast(purchase_revenue as decimal(18, 2)) as revenue
    from params
)

select
    source_file,
    source_file_sha256,
    source_row_number,
    ingested_at,
    'ga4' as layout,
    cast(null as string) as event_id,
    user_pseudo_id,
    ga_session_id as session_id,
    cast(event_timestamp as string) as event_timestamp_raw,
    event_ts,
    cast(purchase_revenue as string) as revenue_raw,
    revenue,
    event_name,
    page_location,
    source,
    medium,
    campaign,
    cast(null as string) as email,
    cast(null as string) as ip_address,
    device,
    country,
    consent_analytics,
    consent_ads,
    stream_id || '|' || user_pseudo_id || '|' || ga_session_id as session_natural_key,
    -- identical events: same client, session, name, time and parameters (sorted by key); consent
    -- mode's pings without a user_pseudo_id are compared too (they are dropped, but counted once)
    stream_id || '|' || coalesce(user_pseudo_id, '') || '|' || coalesce(ga_session_id, '') || '|'
        || event_name || '|' || event_timestamp || '|' || {{ hash64('array_sort(event_params)') }} as dedupe_key,
    event_timestamp as event_time_us,
    case
        when event_timestamp is null then 'unparseable_timestamp'
        -- consent mode writes denied events without a user_pseudo_id: a consent drop, not damage
        when user_pseudo_id is null and consent_analytics then 'missing_id'
        when ga_session_id is null and consent_analytics then 'missing_session_id'
        when revenue < 0 then 'negative_revenue'
    end as invalid_reason,
    case
        when event_timestamp is null then 'event_timestamp'
        when user_pseudo_id is null and consent_analytics then 'user_pseudo_id'
        when ga_session_id is null and consent_analytics then 'ga_session_id'
        when revenue < 0 then 'revenue'
    end as invalid_column,
    ga_session_number,
    term,
    transaction_id,
    purchase_revenue_in_usd,
    traffic_source.source as first_touch_source,
    traffic_source.medium as first_touch_medium,
    traffic_source.name as first_touch_campaign,
    last_click.source as last_click_source,
    last_click.medium as last_click_medium,
    last_click.campaign_name as last_click_campaign,
    collected_traffic_source.manual_source as collected_source,
    collected_traffic_source.manual_medium as collected_medium,
    collected_traffic_source.manual_campaign_name as collected_campaign,
    coalesce(collected_traffic_source.gclid is not null or page_location like '%gclid=%', false) as has_gclid
from typed
