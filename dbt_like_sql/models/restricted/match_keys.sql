-- RESTRICTED. The keys ad platforms match users by: unkeyed SHA-256 of the e-mail (and phone, when the
-- raw events carry one) normalised by each platform's rules (macros/match_keys.sql). Unlike every other
-- digest in the warehouse these are not keyed: anyone holding an e-mail address can recompute one, so
-- they live in their own schema (restricted), are never previewed or traced, and only the upload step
-- (gtm_assets/defs/activation/platform_uploads.py) reads them, to send consented users to a platform.
-- Only users whose latest session consented to ads get a row (a later withdrawal wins, as in audiences),
-- only addresses seen on rows that carried ads consent are used, and an address that any other user
-- without that consent has used is left out: the same address is the same person, and a refusal wins. user_key is the same keyed
-- pii_hmac(user_pseudo_id) as guarded_sessions.user_key.

{% set raw_columns = adapter.get_columns_in_relation(source('raw', 'raw_events')) | map(attribute='name') | map('lower') | list if execute else [] %}
{% set has_phone = 'phone' in raw_columns %}

with consented_users as (
    select user_key
    from {{ ref('guarded_sessions') }}
    group by user_key
    having arg_max(consent_ads, (session_start, lineage_id))
),

consented_rows as (
    select
        pii_hmac(nullif(trim(user_pseudo_id), '')) as user_key,
        email{% if has_phone %},
        phone{% endif %}
    from {{ source('raw', 'raw_events') }}
    where nullif(trim(user_pseudo_id), '') is not null
      and coalesce(lower(trim(consent_ads)) in ('true', '1', 'yes', 'granted'), false)
),

refused_addresses as (
    select distinct {{ normalized_email('email', 'meta') }} as email
    from {{ source('raw', 'raw_events') }}
    where coalesce(pii_hmac(nullif(trim(user_pseudo_id), '')) not in (select user_key from consented_users), true)
      and {{ normalized_email('email', 'meta') }} is not null
),

-- A user's most frequent address (ties: the greater one), so one user has one key per platform.
emails as (
    select user_key, arg_max(email, (n, email)) as email
    from (
        select user_key, {{ normalized_email('email', 'meta') }} as email, count(*) as n
        from consented_rows group by all
    )
    where email is not null and email not in (select email from refused_addresses)
    group by user_key
){% if has_phone %},

phones as (
    select user_key, arg_max(phone, (n, phone)) as phone
    from (
        select user_key, trim(phone) as phone, count(*) as n
        from consented_rows where {{ normalized_phone('phone', 'meta') }} is not null group by all
    )
    group by user_key
){% endif %}

select
    lineage_id('match_key', u.user_key) as lineage_id,
    u.user_key,
    sha256({{ normalized_email('e.email', 'meta') }}) as email_sha256_meta,
    sha256({{ normalized_email('e.email', 'google_ads') }}) as email_sha256_google_ads,
    sha256({{ normalized_email('e.email', 'tiktok') }}) as email_sha256_tiktok,
{%- if has_phone %}
    sha256({{ normalized_phone('p.phone', 'meta') }}) as phone_sha256_meta,
    sha256({{ normalized_phone('p.phone', 'google_ads') }}) as phone_sha256_google_ads,
    sha256({{ normalized_phone('p.phone', 'tiktok') }}) as phone_sha256_tiktok,
{%- endif %}
    now()::timestamp as keyed_at
from consented_users as u
left join emails as e using (user_key)
{%- if has_phone %}
left join phones as p using (user_key)
{%- endif %}
where e.email is not null{% if has_phone %} or p.phone is not null{% endif %}
