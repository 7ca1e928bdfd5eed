{{ config(materialized=governance_materialization(), incremental_strategy='delete+insert', unique_key='source_file',
          on_schema_change='append_new_columns',
          pre_hook="{{ empty_on_full_rebuild() }}") }}
-- depends_on: {{ source('raw', 'raw_events') }}
-- The items of kept GA4 events (purchases, carts, item views), one row per item, child of the event's
-- raw row and of its session. Prices and revenue as exported (currency of the property and USD).
SELECT
    e.source_file || ':' || e.source_row_number AS raw_row_id,
    e.source_file,
    e.source_row_number,
    d.session_lineage_id,
    e.event_name,
    e.transaction_id,
    e.item_index,
    e.item.item_id,
    e.item.item_name,
    e.item.item_brand,
    e.item.item_variant,
    e.item.item_category,
    e.item.price,
    e.item.price_in_usd,
    e.item.quantity,
    e.item.item_revenue,
    e.item.item_revenue_in_usd,
    e.item.coupon,
    {{ lineage_id('ga4_item', "e.source_file || ':' || e.source_row_number || '|' || e.item_index") }} AS lineage_id,
    cast(now() AS TIMESTAMP) AS processed_at
FROM (
    SELECT
        source_file, source_row_number, event_name, ecommerce.transaction_id,
        {{ unnest_with_position('items', 'item', 'item_index') }}
    FROM {{ raw_zone('raw_ga4_events') }}
    WHERE {{ in_batch() }}
) AS e
INNER JOIN {{ ref('event_dispositions') }} AS d USING (source_file, source_row_number)
WHERE d.disposition = 'kept'
