{{ config(materialized=governance_materialization(), incremental_strategy='delete+insert', unique_key='lineage_id',
          on_schema_change='append_new_columns',
          pre_hook="{{ empty_on_full_rebuild() }}") }}
-- depends_on: {{ ref('event_outcomes') }} (the sessions an incremental batch touches)
-- One row per consented, well-formed session (kept rows = consented rows that are not quarantined,
-- the rule of event_dispositions; the reconciliation check proves both agree row for row). The
-- pseudonymous user id, email and IP address become keyed HMAC-SHA256 digests (pii_hmac); nothing
-- raw leaves this model. Device, country, email and IP are those of the session's first event.
-- Session source: the first event (by time) that carries a source that is not '(direct)', events
-- other than session_start / first_visit first; a gclid in the page URL without a source counts as
-- google / cpc; '(direct)' / '(none)' when no event has one. GA4's own first-touch traffic_source,
-- session_traffic_source_last_click and collected_traffic_source are kept beside it.
-- Incremental: only the sessions that the batch's kept rows touch are rebuilt, from all their rows
-- (found through event_outcomes' session ids, see touched_session_rows).
{% set batch = governance_batch() %}
{% set incremental_batch = is_incremental() and batch.mode == 'incremental' %}

WITH
{% if incremental_batch %}
touched_rows as {{ touched_session_rows() }},
{% endif %}

duplicates AS (
    SELECT
        source_file,
        source_row_number
    FROM {{ ref('quarantined_events') }}
    WHERE quarantine_reason IN ('duplicate_event_id', 'duplicate_event')
),

kept AS (
    SELECT
        e.*,
        coalesce(e.source, CASE WHEN e.has_gclid THEN 'google' END) AS touch_source,
        coalesce(e.medium, CASE WHEN e.has_gclid AND e.source IS NULL THEN 'cpc' END) AS touch_medium
    FROM {{ ref('stg_events') }} AS e
    -- the only well-formed quarantined rows are duplicates: a small build side, a plain join
    LEFT JOIN duplicates AS d USING (source_file, source_row_number)
    {% if incremental_batch %}semi join touched_rows using (source_file, source_row_number){% endif %}
    WHERE e.consent_analytics AND e.invalid_reason IS NULL AND d.source_file IS NULL
    {% if incremental_batch %}AND {{ touched_row_bounds('e') }}{% endif %}
),

sessions AS (
    SELECT
        session_natural_key,
        any_value(layout) AS layout,
        any_value(user_pseudo_id) AS user_pseudo_id,
        any_value(session_id) AS session_id,
        min(event_ts) AS session_start,
        max(event_ts) AS session_end,
        count(*) AS events,
        count(*) FILTER (WHERE event_name = 'page_view') AS pageviews,
        count(*) FILTER (WHERE event_name = 'purchase') AS purchases,
        cast(coalesce(sum(revenue), 0) AS DECIMAL(18, 2)) AS revenue,
        min_by(
            {{ struct_of({'device': 'device', 'country': 'country', 'email': 'email', 'ip': 'ip_address'}) }},
            {{ event_order() }}
        ) AS first_event,
        min_by(
            {{ struct_of({'source': 'touch_source', 'medium': 'touch_medium', 'campaign': 'campaign', 'term': 'term'}) }},
            {{ event_order("event_name in ('session_start', 'first_visit')") }}
        )
        FILTER (WHERE touch_source IS NOT NULL AND touch_source <> '(direct)') AS touch,
        bool_and(consent_ads) AS consent_ads
    FROM kept
    GROUP BY session_natural_key
),

-- what only GA4 exports carry, aggregated over GA4 rows only (its own read: a second reference
-- to kept would make DuckDB store all kept rows)
ga4_kept AS (
    SELECT e.*
    FROM {{ ref('stg_events') }} AS e
    LEFT JOIN duplicates AS d USING (source_file, source_row_number)
    {% if incremental_batch %}semi join touched_rows using (source_file, source_row_number){% endif %}
    WHERE e.layout = 'ga4' AND e.consent_analytics AND e.invalid_reason IS NULL AND d.source_file IS NULL
    {% if incremental_batch %}AND {{ touched_row_bounds('e') }}{% endif %}
),

ga4 AS (
    SELECT
        session_natural_key,
        sum(purchase_revenue_in_usd) AS revenue_in_usd,
        count(DISTINCT transaction_id) AS transactions,
        max(ga_session_number) AS ga_session_number,
        min_by(
            {{ struct_of({'source': 'first_touch_source', 'medium': 'first_touch_medium', 'campaign': 'first_touch_campaign'}) }},
            {{ event_order() }}
        ) FILTER (WHERE first_touch_source IS NOT NULL
        ) AS first_touch,
        min_by(
            {{ struct_of({'source': 'last_click_source', 'medium': 'last_click_medium', 'campaign': 'last_click_campaign'}) }},
            {{ event_order() }}
        ) FILTER (WHERE last_click_source IS NOT NULL
        ) AS last_click,
        min_by(
            {{ struct_of({'source': 'collected_source', 'medium': 'collected_medium', 'campaign': 'collected_campaign'}) }},
            {{ event_order() }}
        ) FILTER (WHERE collected_source IS NOT NULL
        ) AS collected
    FROM ga4_kept
    GROUP BY session_natural_key
),

-- keyed digests of distinct values only (a user has many sessions, an address many users' rows)
user_keys AS (
    SELECT
        user_pseudo_id,
        {{ pii_hmac('user_pseudo_id') }} AS user_key
    FROM (SELECT DISTINCT user_pseudo_id FROM sessions) AS users
),

email_hashes AS (
    SELECT
        email,
        {{ pii_hmac('email') }} AS email_hash
    FROM (
        SELECT DISTINCT lower(trim(first_event.email)) AS email FROM sessions
        WHERE first_event.email IS NOT NULL
    ) AS emails
)

SELECT
    {{ lineage_id('session', "s.session_natural_key") }} AS lineage_id,
    u.user_key,
    s.session_id,
    s.session_start,
    s.session_end,
    s.events,
    s.pageviews,
    s.purchases,
    s.revenue,
    coalesce(s.touch.source, '(direct)') AS utm_source,
    coalesce(s.touch.medium, '(none)') AS utm_medium,
    s.touch.campaign AS utm_campaign,
    s.first_event.device,
    s.first_event.country,
    e.email_hash,
    {{ pii_hmac('s.first_event.ip') }} AS ip_hash,
    s.consent_ads,
    cast(now() AS TIMESTAMP) AS processed_at,
    s.layout,
    s.touch.term AS utm_term,
    g.ga_session_number,
    coalesce(g.transactions, 0) AS transactions,
    g.revenue_in_usd,
    g.first_touch.source AS first_touch_source,
    g.first_touch.medium AS first_touch_medium,
    g.first_touch.campaign AS first_touch_campaign,
    g.last_click.source AS last_click_source,
    g.last_click.medium AS last_click_medium,
    g.last_click.campaign AS last_click_campaign,
    g.collected.source AS collected_source,
    g.collected.medium AS collected_medium,
    g.collected.campaign AS collected_campaign
FROM sessions AS s
INNER JOIN user_keys AS u USING (user_pseudo_id)
LEFT JOIN email_hashes AS e ON e.email = lower(trim(s.first_event.email))
LEFT JOIN ga4 AS g USING (session_natural_key)
