{#- GA4 event parameters by key, whatever value slot (string_value, int_value, float_value,
    double_value) the export put them in. list_filter is ~10x faster than a correlated unnest. -#}
{% macro ga4_param_value(params, key) -%}
    list_filter({{ params }}, lambda p: p.key = '{{ key }}')[1].value
{%- endmacro %}

{% macro ga4_param_text(params, key) -%}
    (select coalesce(v.string_value, cast(v.int_value as varchar), cast(v.double_value as varchar),
                     cast(v.float_value as varchar))
     from (select {{ ga4_param_value(params, key) }} as v))
{%- endmacro %}

{% macro ga4_param_int(params, key) -%}
    (select coalesce(v.int_value, try_cast(v.string_value as bigint), try_cast(v.double_value as bigint),
                     try_cast(v.float_value as bigint))
     from (select {{ ga4_param_value(params, key) }} as v))
{%- endmacro %}

{#- A raw-zone table written by the raw_events asset besides raw.raw_events (raw_ga4_events,
    landing_files, rejected_lines, ingest_failures). Models that read one also read
    source('raw', 'raw_events'), so the asset graph keeps the dependency. -#}
{% macro raw_zone(table) -%}
    raw.{{ table }}
{%- endmacro %}
