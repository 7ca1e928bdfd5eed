{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='lineage_id',
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

kept as (
    select
        e.*,
        coalesce(e.source, case when e.has_gclid then 'google' end) as touch_source,
        coalesce(e.medium, case when e.has_gclid and e.source is null then 'cpc' end) as touch_medium
    from {{ ref('stg_events') }} as e
    anti join {{ ref('quarantined_events') }} as q using (source_file, source_row_number)
    {% if incremental_batch %}semi join touched using (session_natural_key){% endif %}
    where e.consent_analytics and e.invalid_reason is null
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
        coalesce(sum(revenue), 0)::decimal(18, 2) as revenue,
        sum(purchase_revenue_in_usd) as revenue_in_usd,
        count(distinct transaction_id) as transactions,
        max(ga_session_number) as ga_session_number,
        arg_min({'device': device, 'country': country, 'email': email, 'ip': ip_address},
                (event_ts, source_row_number)) as first_event,
        arg_min({'source': touch_source, 'medium': touch_medium, 'campaign': campaign, 'term': term},
                (event_name in ('session_start', 'first_visit'), event_ts, source_row_number))
            filter (where touch_source is not null and touch_source <> '(direct)') as touch,
        arg_min({'source': first_touch_source, 'medium': first_touch_medium, 'campaign': first_touch_campaign},
                (event_ts, source_row_number)) filter (where first_touch_source is not null) as first_touch,
        arg_min({'source': last_click_source, 'medium': last_click_medium, 'campaign': last_click_campaign},
                (event_ts, source_row_number)) filter (where last_click_source is not null) as last_click,
        arg_min({'source': collected_source, 'medium': collected_medium, 'campaign': collected_campaign},
                (event_ts, source_row_number)) filter (where collected_source is not null) as collected,
        bool_and(consent_ads) as consent_ads
    from kept
    group by session_natural_key
)

select
    lineage_id('session', session_natural_key) as lineage_id,
    pii_hmac(user_pseudo_id) as user_key,
    session_id,
    session_start,
    session_end,
    events,
    pageviews,
    purchases,
    revenue,
    coalesce(touch.source, '(direct)') as utm_source,
    coalesce(touch.medium, '(none)') as utm_medium,
    touch.campaign as utm_campaign,
    first_event.device as device,
    first_event.country as country,
    pii_hmac(lower(trim(first_event.email))) as email_hash,
    pii_hmac(first_event.ip) as ip_hash,
    consent_ads,
    now()::timestamp as processed_at,
    layout,
    touch.term as utm_term,
    ga_session_number,
    transactions,
    revenue_in_usd,
    first_touch.source as first_touch_source,
    first_touch.medium as first_touch_medium,
    first_touch.campaign as first_touch_campaign,
    last_click.source as last_click_source,
    last_click.medium as last_click_medium,
    last_click.campaign as last_click_campaign,
    collected.source as collected_source,
    collected.medium as collected_medium,
    collected.campaign as collected_campaign
from sessions
