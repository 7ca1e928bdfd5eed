{#- What differs between the engines the models run on (DuckDB, the default target; Spark through
    dbt-spark, the `spark` target). Each is one dispatched macro: the models stay one copy. -#}

{#- Keyed HMAC-SHA256 of a text value, lowercase hex; NULL stays NULL. The key never appears in SQL:
    DuckDB: the session macro pii_hmac(v) that warehouse.prepare_connection installs (pads in session
    variables). Spark has no keyed hash, so the same RFC 2104 construction is written out,
    sha2(opad || unhex(sha2(ipad || utf8(v)))), with the pads (hex, derived from GTM_HMAC_KEY in
    Python: gtm_assets.transform.spark_engine) substituted by Spark from its session configuration
    (spark.gtm.hmac_ipad / _opad), so compiled SQL only holds ${...} references.
    Both give the digest of Python's hmac.new(key, value.encode(), 'sha256') (tested). -#}
{% macro pii_hmac(value) -%}
    {{ return(adapter.dispatch('pii_hmac')(value)) }}
{%- endmacro %}

{% macro default__pii_hmac(value) -%}
    pii_hmac({{ value }})
{%- endmacro %}

{% macro spark__pii_hmac(value) -%}
    sha2(concat(unhex('${spark.gtm.hmac_opad}'),
                unhex(sha2(concat(unhex('${spark.gtm.hmac_ipad}'), encode({{ value }}, 'UTF-8')), 256))), 256)
{%- endmacro %}

{#- Lineage id of a row: keyed HMAC over 'lineage|<kind>|<natural key>', first 128 bits (32 hex).
    DuckDB: the lineage_id session macro of warehouse.py (shared with the Python assets). -#}
{% macro lineage_id(kind, natural_key) -%}
    {{ return(adapter.dispatch('lineage_id')(kind, natural_key)) }}
{%- endmacro %}

{% macro default__lineage_id(kind, natural_key) -%}
    lineage_id('{{ kind }}', {{ natural_key }})
{%- endmacro %}

{% macro spark__lineage_id(kind, natural_key) -%}
    left({{ spark__pii_hmac("'lineage|" ~ kind ~ "|' || " ~ natural_key) }}, 32)
{%- endmacro %}

{#- A struct value from an ordered mapping {field name: expression}. -#}
{% macro struct_of(fields) -%}
    {{ return(adapter.dispatch('struct_of')(fields)) }}
{%- endmacro %}

{% macro default__struct_of(fields) -%}
    { {%- for name, expression in fields.items() %}'{{ name }}': {{ expression }}{{ ", " if not loop.last }}{% endfor -%} }
{%- endmacro %}

{% macro spark__struct_of(fields) -%}
    named_struct({%- for name, expression in fields.items() %}'{{ name }}', {{ expression }}{{ ", " if not loop.last }}{% endfor -%})
{%- endmacro %}

{#- An ordering key of several expressions, compared left to right (for min_by). -#}
{% macro ordering_key(expressions) -%}
    {{ return(adapter.dispatch('ordering_key')(expressions)) }}
{%- endmacro %}

{% macro default__ordering_key(expressions) -%}
    ({{ expressions | join(', ') }})
{%- endmacro %}

{% macro spark__ordering_key(expressions) -%}
    struct({{ expressions | join(', ') }})
{%- endmacro %}

{#- The order of events in a session, for min_by: (priority, event_ts, source_row_number) compared
    left to right, priority optional (a boolean: false first, then true, then NULL, as DuckDB orders
    a struct). DuckDB: one HUGEINT, rank * 2^104 + epoch microseconds * 2^40 + row number, the same
    order as the struct (row numbers < 2^40, |microseconds| < 2^62) and about half the aggregation
    cost of a struct key over millions of sessions. Spark: the struct. -#}
{% macro event_order(priority=none) -%}
    {{ return(adapter.dispatch('event_order')(priority)) }}
{%- endmacro %}

{% macro default__event_order(priority) -%}
    ({% if priority %}CASE WHEN {{ priority }} THEN 1 WHEN ({{ priority }}) IS NULL THEN 2 ELSE 0 END::HUGEINT
     * 20282409603651670423947251286016::HUGEINT + {% endif -%}
     epoch_us(event_ts)::HUGEINT * 1099511627776 + source_row_number)
{%- endmacro %}

{% macro spark__event_order(priority) -%}
    {{ spark__ordering_key(([priority] if priority else []) + ['event_ts', 'source_row_number']) }}
{%- endmacro %}

{#- A 64-bit hash of a value (candidates for duplicates are confirmed on the value itself). Spark's
    hash() is only 32 bits: millions of rows would collide. -#}
{% macro hash64(value) -%}
    {{ return(adapter.dispatch('hash64')(value)) }}
{%- endmacro %}

{% macro default__hash64(value) -%}
    hash({{ value }})
{%- endmacro %}

{% macro spark__hash64(value) -%}
    xxhash64({{ value }})
{%- endmacro %}

{#- A UTC timestamp from integer microseconds since the epoch (GA4's event_timestamp). -#}
{% macro timestamp_from_micros(value) -%}
    {{ return(adapter.dispatch('timestamp_from_micros')(value)) }}
{%- endmacro %}

{% macro default__timestamp_from_micros(value) -%}
    make_timestamp({{ value }})
{%- endmacro %}

{% macro spark__timestamp_from_micros(value) -%}
    timestamp_micros({{ value }})
{%- endmacro %}

{#- A UTC timestamp from ISO-8601 text (the flat layout's event_timestamp), NULL when it does not
    parse. DuckDB: the landing format first (fast path), then any ISO form with or without an offset.
    Spark (session time zone UTC, set by the profile): its ISO-8601 cast, which takes the same forms. -#}
{% macro parse_utc_timestamp(value) -%}
    {{ return(adapter.dispatch('parse_utc_timestamp')(value)) }}
{%- endmacro %}

{% macro default__parse_utc_timestamp(value) -%}
    coalesce(try_strptime({{ value }}, '%Y-%m-%dT%H:%M:%S.%fZ'),
             timezone('UTC', try_cast({{ value }} as timestamptz)))
{%- endmacro %}

{% macro spark__parse_utc_timestamp(value) -%}
    try_cast({{ value }} as timestamp)
{%- endmacro %}

{#- `not materialized` for a CTE read more than once (DuckDB would otherwise store it); Spark never
    stores CTEs. -#}
{% macro cte_inlined() -%}
    {{ return(adapter.dispatch('cte_inlined')()) }}
{%- endmacro %}

{% macro default__cte_inlined() -%}
    not materialized
{%- endmacro %}

{% macro spark__cte_inlined() -%}
{%- endmacro %}

{#- One output row per element of a list, with the element and its 1-based position, as select-list
    items. -#}
{% macro unnest_with_position(list, element, position) -%}
    {{ return(adapter.dispatch('unnest_with_position')(list, element, position)) }}
{%- endmacro %}

{% macro default__unnest_with_position(list, element, position) -%}
    unnest({{ list }}) as {{ element }}, generate_subscripts({{ list }}, 1) as {{ position }}
{%- endmacro %}

{% macro spark__unnest_with_position(list, element, position) -%}
    inline(transform({{ list }}, (x, i) -> named_struct('{{ element }}', x, '{{ position }}', i + 1)))
{%- endmacro %}

{#- The first element of a list, NULL when the list is empty or NULL. -#}
{% macro first_element(list) -%}
    {{ return(adapter.dispatch('first_element')(list)) }}
{%- endmacro %}

{% macro default__first_element(list) -%}
    ({{ list }})[1]
{%- endmacro %}

{% macro spark__first_element(list) -%}
    try_element_at({{ list }}, 1)
{%- endmacro %}

{#- Keep the elements of a list for which a condition on `p` holds / map each element `p`. -#}
{% macro list_where(list, condition) -%}
    {{ return(adapter.dispatch('list_where')(list, condition)) }}
{%- endmacro %}

{% macro default__list_where(list, condition) -%}
    list_filter({{ list }}, lambda p: {{ condition }})
{%- endmacro %}

{% macro spark__list_where(list, condition) -%}
    filter({{ list }}, p -> {{ condition }})
{%- endmacro %}

{% macro list_map(list, expression) -%}
    {{ return(adapter.dispatch('list_map')(list, expression)) }}
{%- endmacro %}

{% macro default__list_map(list, expression) -%}
    list_transform({{ list }}, lambda p: {{ expression }})
{%- endmacro %}

{% macro spark__list_map(list, expression) -%}
    transform({{ list }}, p -> {{ expression }})
{%- endmacro %}

{#- How the incremental governance models are built: incremental on DuckDB (delete+insert by file or
    session, see governance_batch); full rebuilds on Spark, whose tables have no delete+insert
    (dbt-spark's incremental strategies need Delta, Iceberg or Hudi). -#}
{% macro governance_materialization() -%}
    {{ return(adapter.dispatch('governance_materialization')()) }}
{%- endmacro %}

{% macro default__governance_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__governance_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{#- Before a run (on-run-start). Spark: check that the HMAC pads reached the session, then register
    the raw zone (Parquet written by the ingestion, GTM_SPARK_RAW_ZONE) as the raw.* tables. -#}
{% macro prepare_engine() -%}
    {{ return(adapter.dispatch('prepare_engine')()) }}
{%- endmacro %}

{% macro default__prepare_engine() -%}
    select 1
{%- endmacro %}

{% macro spark__prepare_engine() -%}
    {% if execute %}
        {% do run_query("select assert_true(length('${spark.gtm.hmac_ipad}') = 128 and length('${spark.gtm.hmac_opad}') = 128, "
                        ~ "'the HMAC pads are not in the Spark session: run dbt on Spark through gtm_assets.transform.spark_engine, which derives them from GTM_HMAC_KEY')") %}
        {% set raw_zone = env_var('GTM_SPARK_RAW_ZONE', '') %}
        {% if raw_zone %}
            {% do run_query('create database if not exists raw') %}
            {% for table in env_var('GTM_SPARK_RAW_TABLES').split(',') %}
                {% do run_query('drop table if exists raw.' ~ table) %}
                {% do run_query("create table raw." ~ table ~ " using parquet location '" ~ raw_zone ~ "/" ~ table ~ "'") %}
            {% endfor %}
        {% endif %}
    {% endif %}
    select 1
{%- endmacro %}

{#- Whole days from one timestamp's date to another's (the day boundaries crossed). -#}
{% macro days_between(start, end) -%}
    {{ return(adapter.dispatch('days_between')(start, end)) }}
{%- endmacro %}

{% macro default__days_between(start, end) -%}
    date_diff('day', {{ start }}, {{ end }})
{%- endmacro %}

{% macro spark__days_between(start, end) -%}
    datediff({{ end }}, {{ start }})
{%- endmacro %}

{#- Seconds elapsed from one timestamp to another, to the microsecond (a DOUBLE; not the second
    boundaries crossed, which DuckDB's date_diff counts and Spark's timestampdiff does not). -#}
{% macro seconds_between(start, end) -%}
    {{ return(adapter.dispatch('seconds_between')(start, end)) }}
{%- endmacro %}

{% macro default__seconds_between(start, end) -%}
    cast(epoch_us({{ end }}) - epoch_us({{ start }}) AS DOUBLE) / 1000000.0
{%- endmacro %}

{% macro spark__seconds_between(start, end) -%}
    cast(unix_micros({{ end }}) - unix_micros({{ start }}) AS DOUBLE) / 1000000.0
{%- endmacro %}

{#- An aggregate: the group's values as a list ordered by the expressions in `order_by`. -#}
{% macro ordered_list(value, order_by) -%}
    {{ return(adapter.dispatch('ordered_list')(value, order_by)) }}
{%- endmacro %}

{% macro default__ordered_list(value, order_by) -%}
    list({{ value }} ORDER BY {{ order_by | join(', ') }})
{%- endmacro %}

{% macro spark__ordered_list(value, order_by) -%}
    transform(
        array_sort(collect_list(named_struct({%- for key in order_by %}'k{{ loop.index }}', {{ key }}, {% endfor -%} 'v', {{ value }}))),
        x -> x.v
    )
{%- endmacro %}

{#- A DATE from dd-mm-yyyy text (the customer file's Dt_Customer), NULL when it does not parse. -#}
{% macro date_from_day_month_year(value) -%}
    {{ return(adapter.dispatch('date_from_day_month_year')(value)) }}
{%- endmacro %}

{% macro default__date_from_day_month_year(value) -%}
    cast(try_strptime({{ value }}, '%d-%m-%Y') AS DATE)
{%- endmacro %}

{% macro spark__date_from_day_month_year(value) -%}
    cast(try_to_timestamp({{ value }}, 'dd-MM-yyyy') AS DATE)
{%- endmacro %}
