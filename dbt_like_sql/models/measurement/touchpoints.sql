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

with campaign_channels as (
    select campaign, min(channel) as channel
    from {{ source('raw', 'raw_media_spend') }}
    where nullif(trim(campaign), '') is not null
    group by campaign
),

sessions as (
    select
        s.lineage_id as session_lineage_id,
        s.user_key,
        s.session_id,
        s.session_start,
        s.purchases > 0 as is_conversion,
        s.revenue,
        s.consent_ads,
        case
            when s.utm_source is null or s.utm_source = '(direct)' or coalesce(s.utm_medium, '(none)') in ('(none)', '(not set)')
                then 'Direct'
            when c.channel is not null then c.channel
            when lower(s.utm_medium) = 'organic' then 'Organic Search'
            when lower(s.utm_medium) in ('cpc', 'ppc', 'paid_search', 'paidsearch') then 'Search'
            when lower(s.utm_medium) in ('paid_social', 'paidsocial', 'social_paid') then 'Social'
            when lower(s.utm_medium) in ('display', 'banner', 'cpm') then 'Display'
            when lower(s.utm_medium) = 'email' then 'Email'
            when lower(s.utm_medium) = 'referral' then 'Referral'
            else 'Other'
        end as channel,
        coalesce(nullif(trim(s.utm_campaign), ''), '(not set)') as campaign
    from {{ ref('guarded_sessions') }} as s
    left join campaign_channels as c on c.campaign = s.utm_campaign
),

numbered as (
    select
        *,
        1 + coalesce(sum(is_conversion::int) over (
            partition by user_key order by session_start, session_id
            rows between unbounded preceding and 1 preceding
        ), 0) as conversion_seq
    from sessions
),

stretches as (
    select
        user_key,
        conversion_seq,
        max(session_start) filter (where is_conversion) as converted_at,
        coalesce(sum(revenue) filter (where is_conversion), 0)::decimal(18, 2) as conversion_value
    from numbered
    group by user_key, conversion_seq
),

assigned as (
    select
        n.*,
        s.converted_at,
        s.conversion_value,
        case
            when s.converted_at is null then 'open'
            when n.session_start >= s.converted_at - to_days({{ lookback_days }}) then 'converted'
            else 'expired'
        end as journey_part
    from numbered as n
    join stretches as s using (user_key, conversion_seq)
),

journeys as (
    select
        *,
        lineage_id('journey', user_key || '|' || conversion_seq::varchar || '|' || journey_part) as journey_id,
        journey_part = 'converted' as converted
    from assigned
)

select
    lineage_id('touchpoint', session_lineage_id) as lineage_id,
    journey_id,
    row_number() over (partition by journey_id order by session_start, session_id) as touch_order,
    count(*) over (partition by journey_id) as touches_in_journey,
    channel,
    campaign,
    session_start as touched_at,
    converted,
    case when converted then conversion_value else 0 end::decimal(18, 2) as conversion_value,
    case when converted then converted_at end as converted_at,
    -- Days from this touch to the journey's end (its conversion, or its last touch): time decay's clock.
    date_diff('second', session_start,
              case when converted then converted_at else max(session_start) over (partition by journey_id) end
    ) / 86400.0 as days_before_end,
    is_conversion and converted as is_conversion_touch,
    journey_part,
    conversion_seq,
    session_lineage_id,
    user_key,
    consent_ads,
    {{ lookback_days }} as lookback_days
from journeys
