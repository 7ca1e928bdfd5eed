{#- A GA4 event parameter by key, as text or as an integer, whatever value slot (string_value,
    int_value, float_value, double_value) the export put it in. list_filter is ~10x faster than a
    correlated unnest, and no scalar subquery (it would become a join per row). The list
    functions are dispatched (macros/dialect.sql). -#}
{% macro ga4_param_text(params, key) -%}
    {{ first_element(list_map(list_where(params, "p.key = '" ~ key ~ "'"),
                              "coalesce(p.value.string_value, cast(p.value.int_value as string),
                                        cast(p.value.double_value as string), cast(p.value.float_value as string))")) }}
{%- endmacro %}

{% macro ga4_param_int(params, key) -%}
    {{ first_element(list_map(list_where(params, "p.key = '" ~ key ~ "'"),
                              "coalesce(p.value.int_value, try_cast(p.value.string_value as bigint),
                                        try_cast(p.value.double_value as bigint), try_cast(p.value.float_value as bigint))")) }}
{%- endmacro %}

{#- A raw-zone table written by the raw_events asset besides raw.raw_events (raw_ga4_events,
    landing_files, rejected_lines, ingest_failures). Models that read one also read
    source('raw', 'raw_events'), so the asset graph keeps the dependency. -#}
{% macro raw_zone(table) -%}
    raw.{{ table }}
{%- endmacro %}
