-- RESTRICTED. The keys ad platforms match users by: unkeyed SHA-256 of the e-mail (and phone, when the
-- raw events carry one) normalised by each platform's rules (macros/match_keys.sql). Unlike every other
-- digest in the warehouse these are not keyed: anyone holding an e-mail address can recompute one, so
-- they live in their own schema (restricted), are never previewed or traced, and only the upload step
-- (gtm_assets/defs/activation/platform_uploads.py) reads them, to send consented users to a platform.
-- Only users whose latest session consented to ads get a row (a later withdrawal wins, as in audiences),
-- only addresses seen on rows that carried ads consent are used, and an address that any other user
-- without that consent has used is left out: the same address is the same person, and a refusal wins. user_key is the same keyed
-- pii_hmac(user_pseudo_id) as guarded_sessions.user_key.

{% set raw_relation = source('raw', 'raw_events') %}
{% set raw_columns = adapter.get_columns_in_relation(raw_relation) | map(attribute='name') | map('lower') | list
    if execute else [] %}
{% set has_phone = 'phone' in raw_columns %}

WITH consented_users AS (
    SELECT user_key
    FROM {{ ref('guarded_sessions') }}
    GROUP BY user_key
    HAVING arg_max(consent_ads, (session_start, lineage_id))
),

consented_rows AS (
    SELECT
        pii_hmac(nullif(trim(user_pseudo_id), '')) AS user_key,
        email{% if has_phone %},
        phone{% endif %}
    FROM {{ source('raw', 'raw_events') }}
    WHERE
        nullif(trim(user_pseudo_id), '') IS NOT NULL
        AND coalesce(lower(trim(consent_ads)) IN ('true', '1', 'yes', 'granted'), FALSE)
),

refused_addresses AS (
    SELECT DISTINCT {{ normalized_email('email', 'meta') }} AS email
    FROM {{ source('raw', 'raw_events') }}
    WHERE
        coalesce(pii_hmac(nullif(trim(user_pseudo_id), '')) NOT IN (SELECT user_key FROM consented_users), TRUE)
        AND {{ normalized_email('email', 'meta') }} IS NOT NULL
),

-- A user's most frequent address (ties: the greater one), so one user has one key per platform.
emails AS (
    SELECT
        user_key,
        arg_max(email, (n, email)) AS email
    FROM (
        SELECT
            user_key,
            {{ normalized_email('email', 'meta') }} AS email,
            count(*) AS n
        FROM consented_rows
        GROUP BY ALL
    )
    WHERE email IS NOT NULL AND email NOT IN (SELECT email FROM refused_addresses)
    GROUP BY user_key
){% if has_phone %},

phones as (
    select user_key, arg_max(phone, (n, phone)) as phone
    from (
        select user_key, trim(phone) as phone, count(*) as n
        from consented_rows where {{ normalized_phone('phone', 'meta') }} is not null group by all
    )
    group by user_key
){% endif %}

SELECT
    lineage_id('match_key', u.user_key) AS lineage_id,
    u.user_key,
    sha256({{ normalized_email('e.email', 'meta') }}) AS email_sha256_meta,
    sha256({{ normalized_email('e.email', 'google_ads') }}) AS email_sha256_google_ads,
    sha256({{ normalized_email('e.email', 'tiktok') }}) AS email_sha256_tiktok,
    {%- if has_phone %}
    sha256({{ normalized_phone('p.phone', 'meta') }}) as phone_sha256_meta,
    sha256({{ normalized_phone('p.phone', 'google_ads') }}) as phone_sha256_google_ads,
    sha256({{ normalized_phone('p.phone', 'tiktok') }}) as phone_sha256_tiktok,
{%- endif %}
    now()::TIMESTAMP AS keyed_at
FROM consented_users AS u
LEFT JOIN emails AS e USING (user_key)
{%- if has_phone %}
left join phones as p using (user_key)
{%- endif %}
WHERE e.email IS NOT NULL{% if has_phone %} or p.phone is not null{% endif %}
