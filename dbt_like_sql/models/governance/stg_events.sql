{{ config(materialized='view') }}
-- Every landed event in one shape, whichever layout it came in (flat files or GA4 exports).
-- Models restrict it to a batch of files with in_batch() (filters reach the raw scans). A view,
-- not an ephemeral CTE: DuckDB stores a CTE that a query reads twice, 10M typed rows.
select
    *,
    null::bigint as ga_session_number,
    null::varchar as term,
    null::varchar as transaction_id,
    null::double as purchase_revenue_in_usd,
    null::varchar as first_touch_source,
    null::varchar as first_touch_medium,
    null::varchar as first_touch_campaign,
    null::varchar as last_click_source,
    null::varchar as last_click_medium,
    null::varchar as last_click_campaign,
    null::varchar as collected_source,
    null::varchar as collected_medium,
    null::varchar as collected_campaign,
    coalesce(page_location like '%gclid=%', false) as has_gclid
from {{ ref('stg_flat_events') }}
union all by name
select * from {{ ref('stg_ga4_events') }}
