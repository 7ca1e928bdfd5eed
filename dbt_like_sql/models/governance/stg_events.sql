{{ config(materialized='view', schema='staging') }}
-- Every landed event in one shape, whichever layout it came in (flat files or GA4 exports).
-- Models restrict it to a batch of files with in_batch() (filters reach the raw scans). A view,
-- not an ephemeral CTE: DuckDB stores a CTE that a query reads twice, 10M typed rows.
{%- set columns = [
    'source_file', 'source_file_sha256', 'source_row_number', 'ingested_at', 'layout', 'event_id',
    'user_pseudo_id', 'session_id', 'event_timestamp_raw', 'event_ts', 'revenue_raw', 'revenue',
    'event_name', 'page_location', 'source', 'medium', 'campaign', 'email', 'ip_address', 'device',
    'country', 'consent_analytics', 'consent_ads', 'session_natural_key', 'dedupe_key', 'event_time_us',
    'invalid_reason', 'invalid_column', 'ga_session_number', 'term', 'transaction_id',
    'purchase_revenue_in_usd', 'first_touch_source', 'first_touch_medium', 'first_touch_campaign',
    'last_click_source', 'last_click_medium', 'last_click_campaign', 'collected_source',
    'collected_medium', 'collected_campaign', 'has_gclid'] %}
SELECT {{ columns | join(', ') }} FROM {{ ref('stg_flat_events') }}
UNION ALL
SELECT {{ columns | join(', ') }} FROM {{ ref('stg_ga4_events') }}
