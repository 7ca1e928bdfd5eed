-- One row per marketing touch (a guarded session) of a user's journey, for attribution.
-- Channel: the channel raw_media_spend books the UTM campaign under; otherwise by UTM medium (cpc ->
-- Search, paid_social -> Social, display -> Display, email -> Email, organic -> Organic Search,
-- referral -> Referral, anything else -> Other). Direct rule: a (direct)/(none) session (or one without
-- a source) is a touch of channel 'Direct'. It stays in the path: typed-in visits, bookmarks and untagged
-- links are part of how people buy, Markov and Shapley measure them like any channel, and dropping them
-- would hand their conversions to whatever tagged touch came earlier.
-- Journeys: a user's sessions up to and including a conversion (a session with a purchase) form one
-- journey; the next session starts the next one. A touch counts toward the conversion only within
-- var('attribution_lookback_days') (default 30) before it; older touches of the same stretch form a
-- journey of their own that did not convert ('expired'), and the sessions after a user's last conversion
-- form an open journey that has not converted (yet). Users without ads consent are included: they count in
-- aggregate credits; their keys never reach an audience or an upload.

{% set lookback_days = var('attribution_lookback_days') | int %}

WITH campaign_channels AS (
    SELECT
        campaign,
        min(channel) AS channel
    FROM {{ source('raw', 'raw_media_spend') }}
    WHERE nullif(trim(campaign), '') IS NOT NULL
    GROUP BY campaign
),

sessions AS (
    SELECT
        s.lineage_id AS session_lineage_id,
        s.user_key,
        s.session_id,
        s.session_start,
        s.purchases > 0 AS is_conversion,
        s.revenue,
        s.consent_ads,
        CASE
            WHEN s.utm_source IS NULL OR s.utm_source = '(direct)' OR coalesce(s.utm_medium, '(none)') IN ('(none)', '(not set)')
                THEN 'Direct'
            WHEN c.channel IS NOT NULL THEN c.channel
            WHEN lower(s.utm_medium) = 'organic' THEN 'Organic Search'
            WHEN lower(s.utm_medium) IN ('cpc', 'ppc', 'paid_search', 'paidsearch') THEN 'Search'
            WHEN lower(s.utm_medium) IN ('paid_social', 'paidsocial', 'social_paid') THEN 'Social'
            WHEN lower(s.utm_medium) IN ('display', 'banner', 'cpm') THEN 'Display'
            WHEN lower(s.utm_medium) = 'email' THEN 'Email'
            WHEN lower(s.utm_medium) = 'referral' THEN 'Referral'
            ELSE 'Other'
        END AS channel,
        coalesce(nullif(trim(s.utm_campaign), ''), '(not set)') AS campaign
    FROM {{ ref('guarded_sessions') }} AS s
    LEFT JOIN campaign_channels AS c ON s.utm_campaign = c.campaign
),

numbered AS (
    SELECT
        *,
        1 + coalesce(sum(cast(is_conversion AS INT)) OVER (
            PARTITION BY user_key ORDER BY session_start, session_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ), 0) AS conversion_seq
    FROM sessions
),

stretches AS (
    SELECT
        user_key,
        conversion_seq,
        max(session_start) FILTER (WHERE is_conversion) AS converted_at,
        cast(coalesce(sum(revenue) FILTER (WHERE is_conversion), 0) AS DECIMAL(18, 2)) AS conversion_value
    FROM numbered
    GROUP BY user_key, conversion_seq
),

assigned AS (
    SELECT
        n.*,
        s.converted_at,
        s.conversion_value,
        CASE
            WHEN s.converted_at IS NULL THEN 'open'
            WHEN n.session_start >= s.converted_at - INTERVAL '{{ lookback_days }}' DAY THEN 'converted'
            ELSE 'expired'
        END AS journey_part
    FROM numbered AS n
    INNER JOIN stretches AS s USING (user_key, conversion_seq)
),

journeys AS (
    SELECT
        *,
        {{ lineage_id('journey', "user_key || '|' || cast(conversion_seq AS STRING) || '|' || journey_part") }} AS journey_id,
        journey_part = 'converted' AS converted
    FROM assigned
)

SELECT
    {{ lineage_id('touchpoint', 'session_lineage_id') }} AS lineage_id,
    journey_id,
    row_number() OVER (PARTITION BY journey_id ORDER BY session_start, session_id) AS touch_order,
    count(*) OVER (PARTITION BY journey_id) AS touches_in_journey,
    channel,
    campaign,
    session_start AS touched_at,
    converted,
    cast(CASE WHEN converted THEN conversion_value ELSE 0 END AS DECIMAL(18, 2)) AS conversion_value,
    CASE WHEN converted THEN converted_at END AS converted_at,
    -- Days from this touch to the journey's end (its conversion, or its last touch): time decay's clock.
    {{ seconds_between(
        'session_start',
        'CASE WHEN converted THEN converted_at ELSE max(session_start) OVER (PARTITION BY journey_id) END'
    ) }} / 86400.0 AS days_before_end,
    is_conversion AND converted AS is_conversion_touch,
    journey_part,
    conversion_seq,
    session_lineage_id,
    user_key,
    consent_ads,
    {{ lookback_days }} AS lookback_days
FROM journeys
