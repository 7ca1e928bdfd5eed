{{ config(materialized=governance_materialization(), incremental_strategy='delete+insert', unique_key='lineage_id',
          on_schema_change='append_new_columns',
          pre_hook="{{ empty_on_full_rebuild() }}") }}
-- One row per consented, well-formed session (kept rows = consented rows that are not quarantined,
-- the rule of event_dispositions; the reconciliation check proves both agree row for row). The
-- pseudonymous user id, email and IP address become keyed HMAC-SHA256 digests (pii_hmac); nothing
-- raw leaves this model. Device, country, email and IP are those of the session's first event.
-- Session source: the first event (by time) that carries a source that is not '(direct)', events
-- other than session_start / first_visit first; a gclid in the page URL without a source counts as
-- google / cpc; '(direct)' / '(none)' when no event has one. GA4's own first-touch traffic_source,
-- session_traffic_source_last_click and collected_traffic_source are kept beside it.
-- Incremental: only the sessions that the batch's rows touch are rebuilt, from all their rows.
{% set batch = governance_batch() %}
{% set incremental_batch = is_incremental() and batch.mode == 'incremental' %}

with
{% if incremental_batch %}
touched as (
    select distinct session_natural_key from {{ ref('stg_events') }}
    where {{ in_batch() }} and session_natural_key is not null
),
{% endif %}

duplicates as (
    select source_file, source_row_number from {{ ref('quarantined_events') }}
    where quarantine_reason in ('duplicate_event_id', 'duplicate_event')
),

kept as (
    select
        e.*,
        coalesce(e.source, case when e.has_gclid then 'google' end) as touch_source,
        coalesce(e.medium, case when e.has_gclid and e.source is null then 'cpc' end) as touch_medium
    from {{ ref('stg_events') }} as e
    -- the only well-formed quarantined rows are duplicates: a small build side, a plain join
    left join duplicates as d using (source_file, source_row_number)
    {% if incremental_batch %}semi join touched using (session_natural_key){% endif %}
    where e.consent_analytics and e.invalid_reason is null and d.source_file is null
),

sessions as (
    select
        session_natural_key,
        any_value(layout) as layout,
        any_value(user_pseudo_id) as user_pseudo_id,
        any_value(session_id) as session_id,
        min(event_ts) as session_start,
        max(event_ts) as session_end,
        count(*) as events,
        count(*) filter (where event_name = 'page_view') as pageviews,
        count(*) filter (where event_name = 'purchase') as purchases,
        cast(coalesce(sum(revenue), 0) as decimal(18, 2)) as revenue,
        min_by({{ struct_of({'device': 'device', 'country': 'country', 'email': 'email', 'ip': 'ip_address'}) }},
               {{ ordering_key(['event_ts', 'source_row_number']) }}) as first_event,
        min_by({{ struct_of({'source': 'touch_source', 'medium': 'touch_medium', 'campaign': 'campaign', 'term': 'term'}) }},
               {{ ordering_key(["event_name in ('session_start', 'first_visit')", 'event_ts', 'source_row_number']) }})
            filter (where touch_source is not null and touch_source <> '(direct)') as touch,
        bool_and(consent_ads) as consent_ads
    from kept
    group by session_natural_key
),

-- what only GA4 exports carry, aggregated over GA4 rows only (its own read: a second reference
-- to kept would make DuckDB store all kept rows)
ga4_kept as (
    select e.*
    from {{ ref('stg_events') }} as e
    left join duplicates as d using (source_file, source_row_number)
    {% if incremental_batch %}semi join touched using (session_natural_key){% endif %}
    where e.layout = 'ga4' and e.consent_analytics and e.invalid_reason is null and d.source_file is null
),

ga4 as (
    select
        session_natural_key,
        sum(purchase_revenue_in_usd) as revenue_in_usd,
        count(distinct transaction_id) as transactions,
        max(ga_session_number) as ga_session_number,
        min_by({{ struct_of({'source': 'first_touch_source', 'medium': 'first_touch_medium', 'campaign': 'first_touch_campaign'}) }},
               {{ ordering_key(['event_ts', 'source_row_number']) }}) filter (where first_touch_source is not null) as first_touch,
        min_by({{ struct_of({'source': 'last_click_source', 'medium': 'last_click_medium', 'campaign': 'last_click_campaign'}) }},
               {{ ordering_key(['event_ts', 'source_row_number']) }}) filter (where last_click_source is not null) as last_click,
        min_by({{ struct_of({'source': 'collected_source', 'medium': 'collected_medium', 'campaign': 'collected_campaign'}) }},
               {{ ordering_key(['event_ts', 'source_row_number']) }}) filter (where collected_source is not null) as collected
    from ga4_kept
    group by session_natural_key
),

-- keyed digests of distinct values only (a user has many sessions, an address many users' rows)
user_keys as (
    select user_pseudo_id, {{ pii_hmac('user_pseudo_id') }} as user_key
    from (select distinct user_pseudo_id from sessions) as users
),

email_hashes as (
    select email, {{ pii_hmac('email') }} as email_hash
    from (select distinct lower(trim(first_event.email)) as email from sessions where first_event.email is not null) as emails
)

select
    {{ lineage_id('session', "s.session_natural_key") }} as lineage_id,
    u.user_key,
    s.session_id,
    s.session_start,
    s.session_end,
    s.events,
    s.pageviews,
    s.purchases,
    s.revenue,
    coalesce(s.touch.source, '(direct)') as utm_source,
    coalesce(s.touch.medium, '(none)') as utm_medium,
    s.touch.campaign as utm_campaign,
    s.first_event.device as device,
    s.first_event.country as country,
    e.email_hash,
    {{ pii_hmac('s.first_event.ip') }} as ip_hash,
    s.consent_ads,
    cast(now() as timestamp) as processed_at,
    s.layout,
    s.touch.term as utm_term,
    g.ga_session_number,
    coalesce(g.transactions, 0) as transactions,
    g.revenue_in_usd,
    g.first_touch.source as first_touch_source,
    g.first_touch.medium as first_touch_medium,
    g.first_touch.campaign as first_touch_campaign,
    g.last_click.source as last_click_source,
    g.last_click.medium as last_click_medium,
    g.last_click.campaign as last_click_campaign,
    g.collected.source as collected_source,
    g.collected.medium as collected_medium,
    g.collected.campaign as collected_campaign
from sessions as s
join user_keys as u using (user_pseudo_id)
left join email_hashes as e on e.email = lower(trim(s.first_event.email))
left join ga4 as g using (session_natural_key)
