{#- Which landing files this governance run has to process.

    raw.landing_files says which file versions (name, sha256) are loaded; governed_files says which
    versions governance has processed. New versions only: 'incremental' with those files, and every
    governance model reads and replaces only their rows and the sessions they touch. A version that
    was replaced, turned into a duplicate or removed from the record: 'full' (the models are rebuilt
    from all rows, as on the first run or with --full-refresh). -#}
{% macro governance_batch() %}
    {% if not execute or flags.FULL_REFRESH or not is_incremental() %}
        {{ return({'mode': 'full', 'files': []}) }}
    {% endif %}
    {% set governed = adapter.get_relation(database=target.database, schema='main', identifier='governed_files') %}
    {% set dispositions = adapter.get_relation(database=target.database, schema='main', identifier='event_outcomes') %}
    {% if governed is none or dispositions is none %}
        {{ return({'mode': 'full', 'files': []}) }}
    {% endif %}
    {% set query %}
        with current_files as (
            select source_file, sha256 from {{ raw_zone('landing_files') }} where status = 'loaded'
        )
        select 'new' as kind, source_file from current_files anti join {{ governed }} using (source_file, sha256)
        union all
        select 'stale' as kind, source_file from {{ governed }} anti join current_files using (source_file, sha256)
    {% endset %}
    {% set rows = run_query(query).rows %}
    {% set new_files = [] %}
    {% for row in rows %}
        {% if row[0] == 'stale' %}
            {{ return({'mode': 'full', 'files': []}) }}
        {% endif %}
        {% do new_files.append(row[1]) %}
    {% endfor %}
    {{ return({'mode': 'incremental', 'files': new_files}) }}
{% endmacro %}

{#- A SQL list literal of the batch's files (never empty, so `in` stays valid). -#}
{% macro batch_files_sql(batch) -%}
    ({% for f in batch.files %}'{{ f | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor %}{{ "NULL" if not batch.files }})
{%- endmacro %}

{#- Incremental models start a full rebuild by emptying themselves. -#}
{% macro empty_on_full_rebuild() -%}
    {% if is_incremental() and governance_batch().mode == 'full' %}delete from {{ this }}{% endif %}
{%- endmacro %}

{#- Restrict a relation with a source_file column to the batch (nothing in full mode). -#}
{% macro in_batch(column='source_file') -%}
    {% set batch = governance_batch() %}
    {% if is_incremental() and batch.mode == 'incremental' %}{{ column }} in {{ batch_files_sql(batch) }}{% else %}true{% endif %}
{%- endmacro %}

{#- The kept rows of every session the batch touches, found through event_outcomes' session lineage
    ids (computed once there) instead of re-deriving every earlier row's session key: a relation of
    (source_file, source_row_number), and a predicate over those two columns that bounds them per file
    (read from event_outcomes when the model runs) so the raw scans skip the rest by their zone maps. -#}
{% macro touched_session_rows() -%}
    (select source_file, source_row_number from {{ ref('event_outcomes') }}
     where disposition = 'kept' and session_lineage_id in (
         select session_lineage_id from {{ ref('event_outcomes') }}
         where {{ in_batch() }} and disposition = 'kept'))
{%- endmacro %}

{% macro touched_row_bounds(relation='') -%}
    {% set prefix = relation ~ '.' if relation else '' %}
    {% if not execute %}{{ return('true') }}{% endif %}
    {% set bounds = run_query(
        "select source_file, min(source_row_number), max(source_row_number) from "
        ~ touched_session_rows() ~ " as touched group by source_file order by source_file") %}
    {%- if bounds.rows | length == 0 %}false{% else %}({% for row in bounds.rows -%}
        ({{ prefix }}source_file = '{{ row[0] | replace("'", "''") }}' and {{ prefix }}source_row_number between {{ row[1] }} and {{ row[2] }})
        {{- " or " if not loop.last }}
    {%- endfor %}){% endif -%}
{%- endmacro %}
