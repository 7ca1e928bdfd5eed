{#- Platform match-key normalisation (the platforms hash what these return with unkeyed SHA-256).
    E-mail, every platform: trimmed and lower-cased, NULL unless it looks like local@domain.tld;
    Google Ads also drops the dots of a gmail.com / googlemail.com local part.
    Phone, every platform: written with its country code (+ or 00 first: without one the country cannot be
    known and the result is NULL), separators dropped, 8 to 15 digits; Meta wants the digits alone,
    Google Ads and TikTok the E.164 form with '+'. -#}

{% macro normalized_email(column, platform) -%}
{%- set base = "nullif(lower(trim(" ~ column ~ ")), '')" -%}
{%- if platform == 'google_ads' -%}
{%- set value = "case when regexp_matches(" ~ base ~ ", '@(gmail|googlemail)\\.com$') then replace(split_part(" ~ base ~ ", '@', 1), '.', '') || '@' || split_part(" ~ base ~ ", '@', 2) else " ~ base ~ " end" -%}
{%- else -%}
{%- set value = base -%}
{%- endif -%}
case when regexp_matches({{ base }}, '^[^@\s]+@[^@\s]+\.[^@\s.]+$') then {{ value }} end
{%- endmacro %}

{% macro normalized_phone(column, platform) -%}
{%- set international = "(starts_with(trim(" ~ column ~ "), '+') or starts_with(trim(" ~ column ~ "), '00'))" -%}
{%- set digits = "regexp_replace(regexp_replace(trim(" ~ column ~ "), '^(\\+|00)', ''), '[^0-9]', '', 'g')" -%}
case when {{ international }} and length({{ digits }}) between 8 and 15 and not starts_with({{ digits }}, '0')
     then {% if platform == 'meta' %}{{ digits }}{% else %}'+' || {{ digits }}{% endif %} end
{%- endmacro %}
