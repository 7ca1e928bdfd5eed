"""The GA4 BigQuery export schema (``events_YYYYMMDD`` / ``events_intraday_YYYYMMDD``), as Google
publishes it, in DuckDB types: INT64 -> BIGINT, FLOAT64 -> DOUBLE, BOOL -> BOOLEAN, RECORD -> STRUCT,
REPEATED RECORD -> STRUCT[].

``raw.raw_ga4_events`` has exactly these columns (plus the lineage columns), whatever the file
held: a column or nested field an older export lacks is NULL, so every dbt model reads one shape.
"""

from __future__ import annotations

import json

from gtm_assets.warehouse.sql import sql_identifier

# A field is (name, type): type is a DuckDB scalar type name, a list of fields (STRUCT) or a
# one-element tuple holding a list of fields (a repeated STRUCT, i.e. a list of structs).
PARAM_VALUE = [("string_value", "VARCHAR"), ("int_value", "BIGINT"), ("float_value", "DOUBLE"), ("double_value", "DOUBLE")]
PARAMS = ([("key", "VARCHAR"), ("value", PARAM_VALUE)],)
USER_PROPERTIES = ([("key", "VARCHAR"), ("value", PARAM_VALUE + [("set_timestamp_micros", "BIGINT")])],)
_MANUAL_CAMPAIGN = [
    (f, "VARCHAR")
    for f in (
        "campaign_id",
        "campaign_name",
        "source",
        "medium",
        "term",
        "content",
        "source_platform",
        "creative_format",
        "marketing_tactic",
    )
]

GA4_EXPORT_SCHEMA: list[tuple[str, object]] = [
    ("event_date", "VARCHAR"),
    ("event_timestamp", "BIGINT"),
    ("event_name", "VARCHAR"),
    ("event_params", PARAMS),
    ("event_previous_timestamp", "BIGINT"),
    ("event_value_in_usd", "DOUBLE"),
    ("event_bundle_sequence_id", "BIGINT"),
    ("event_server_timestamp_offset", "BIGINT"),
    ("user_id", "VARCHAR"),
    ("user_pseudo_id", "VARCHAR"),
    ("privacy_info", [("analytics_storage", "VARCHAR"), ("ads_storage", "VARCHAR"), ("uses_transient_token", "VARCHAR")]),
    ("user_properties", USER_PROPERTIES),
    ("user_first_touch_timestamp", "BIGINT"),
    ("user_ltv", [("revenue", "DOUBLE"), ("currency", "VARCHAR")]),
    (
        "device",
        [
            ("category", "VARCHAR"),
            ("mobile_brand_name", "VARCHAR"),
            ("mobile_model_name", "VARCHAR"),
            ("mobile_marketing_name", "VARCHAR"),
            ("mobile_os_hardware_model", "VARCHAR"),
            ("operating_system", "VARCHAR"),
            ("operating_system_version", "VARCHAR"),
            ("vendor_id", "VARCHAR"),
            ("advertising_id", "VARCHAR"),
            ("language", "VARCHAR"),
            ("is_limited_ad_tracking", "VARCHAR"),
            ("time_zone_offset_seconds", "BIGINT"),
            ("browser", "VARCHAR"),
            ("browser_version", "VARCHAR"),
            ("web_info", [("browser", "VARCHAR"), ("browser_version", "VARCHAR"), ("hostname", "VARCHAR")]),
        ],
    ),
    ("geo", [(f, "VARCHAR") for f in ("city", "country", "continent", "region", "sub_continent", "metro")]),
    ("app_info", [(f, "VARCHAR") for f in ("id", "version", "install_store", "firebase_app_id", "install_source")]),
    ("traffic_source", [("name", "VARCHAR"), ("medium", "VARCHAR"), ("source", "VARCHAR")]),
    ("stream_id", "VARCHAR"),
    ("platform", "VARCHAR"),
    ("event_dimensions", [("hostname", "VARCHAR")]),
    (
        "ecommerce",
        [
            ("total_item_quantity", "BIGINT"),
            ("purchase_revenue_in_usd", "DOUBLE"),
            ("purchase_revenue", "DOUBLE"),
            ("refund_value_in_usd", "DOUBLE"),
            ("refund_value", "DOUBLE"),
            ("shipping_value_in_usd", "DOUBLE"),
            ("shipping_value", "DOUBLE"),
            ("tax_value_in_usd", "DOUBLE"),
            ("tax_value", "DOUBLE"),
            ("unique_items", "BIGINT"),
            ("transaction_id", "VARCHAR"),
        ],
    ),
    (
        "items",
        (
            [
                ("item_id", "VARCHAR"),
                ("item_name", "VARCHAR"),
                ("item_brand", "VARCHAR"),
                ("item_variant", "VARCHAR"),
                ("item_category", "VARCHAR"),
                ("item_category2", "VARCHAR"),
                ("item_category3", "VARCHAR"),
                ("item_category4", "VARCHAR"),
                ("item_category5", "VARCHAR"),
                ("price_in_usd", "DOUBLE"),
                ("price", "DOUBLE"),
                ("quantity", "BIGINT"),
                ("item_revenue_in_usd", "DOUBLE"),
                ("item_revenue", "DOUBLE"),
                ("item_refund_in_usd", "DOUBLE"),
                ("item_refund", "DOUBLE"),
                ("coupon", "VARCHAR"),
                ("affiliation", "VARCHAR"),
                ("location_id", "VARCHAR"),
                ("item_list_id", "VARCHAR"),
                ("item_list_name", "VARCHAR"),
                ("item_list_index", "VARCHAR"),
                ("promotion_id", "VARCHAR"),
                ("promotion_name", "VARCHAR"),
                ("creative_name", "VARCHAR"),
                ("creative_slot", "VARCHAR"),
                ("item_params", PARAMS),
            ],
        ),
    ),
    (
        "collected_traffic_source",
        [
            (f, "VARCHAR")
            for f in (
                "manual_campaign_id",
                "manual_campaign_name",
                "manual_source",
                "manual_medium",
                "manual_term",
                "manual_content",
                "manual_source_platform",
                "manual_creative_format",
                "manual_marketing_tactic",
                "gclid",
                "dclid",
                "srsltid",
            )
        ],
    ),
    ("is_active_user", "BOOLEAN"),
    ("batch_event_index", "BIGINT"),
    ("batch_page_id", "BIGINT"),
    ("batch_ordering_id", "BIGINT"),
    (
        "session_traffic_source_last_click",
        [
            ("manual_campaign", _MANUAL_CAMPAIGN),
            (
                "google_ads_campaign",
                [
                    (f, "VARCHAR")
                    for f in ("customer_id", "account_name", "campaign_id", "campaign_name", "ad_group_id", "ad_group_name")
                ],
            ),
            (
                "cross_channel_campaign",
                [
                    (f, "VARCHAR")
                    for f in (
                        "campaign_id",
                        "campaign_name",
                        "source",
                        "medium",
                        "source_platform",
                        "default_channel_group",
                        "primary_channel_group",
                    )
                ],
            ),
            (
                "sa360_campaign",
                [
                    (f, "VARCHAR")
                    for f in (
                        "campaign_id",
                        "campaign_name",
                        "source",
                        "medium",
                        "ad_group_id",
                        "ad_group_name",
                        "creative_format",
                        "engine_account_name",
                        "engine_account_type",
                        "manager_account_name",
                    )
                ],
            ),
            (
                "cm360_campaign",
                [
                    (f, "VARCHAR")
                    for f in (
                        "campaign_id",
                        "campaign_name",
                        "source",
                        "medium",
                        "account_id",
                        "account_name",
                        "advertiser_id",
                        "advertiser_name",
                        "creative_id",
                        "creative_format",
                        "creative_name",
                        "creative_type",
                        "creative_type_id",
                        "creative_version",
                        "placement_id",
                        "placement_cost_structure",
                        "placement_name",
                        "rendering_id",
                        "site_id",
                        "site_name",
                    )
                ],
            ),
            (
                "dv360_campaign",
                [
                    (f, "VARCHAR")
                    for f in (
                        "campaign_id",
                        "campaign_name",
                        "source",
                        "medium",
                        "advertiser_id",
                        "advertiser_name",
                        "creative_id",
                        "creative_format",
                        "creative_name",
                        "exchange_id",
                        "exchange_name",
                        "insertion_order_id",
                        "insertion_order_name",
                        "line_item_id",
                        "line_item_name",
                        "partner_id",
                        "partner_name",
                    )
                ],
            ),
        ],
    ),
    (
        "publisher",
        [
            ("ad_revenue_in_usd", "DOUBLE"),
            ("ad_format", "VARCHAR"),
            ("page_location", "VARCHAR"),
            ("ad_source_name", "VARCHAR"),
            ("ad_unit_id", "VARCHAR"),
        ],
    ),
]

GA4_COLUMNS = tuple(name for name, _ in GA4_EXPORT_SCHEMA)
# A file is a GA4 export when it has these columns (every export since 2019 has them).
GA4_REQUIRED_COLUMNS = ("event_date", "event_timestamp", "event_name", "event_params", "user_pseudo_id")
# Top-level scalar columns that are not text: a value that does not cast to them damages the line.
GA4_TYPED_SCALARS = tuple(name for name, kind in GA4_EXPORT_SCHEMA if kind in ("BIGINT", "DOUBLE", "BOOLEAN"))


def duckdb_type(kind) -> str:
    """The DuckDB type of a schema entry."""
    if isinstance(kind, str):
        return kind
    if isinstance(kind, tuple):
        return duckdb_type(kind[0]) + "[]"
    return "STRUCT(" + ", ".join(f"{sql_identifier(name)} {duckdb_type(sub)}" for name, sub in kind) + ")"


def json_structure(kind) -> object:
    """The structure argument of DuckDB's ``json_transform`` for a schema entry."""
    if isinstance(kind, str):
        return kind
    if isinstance(kind, tuple):
        return [json_structure(kind[0])]
    return {name: json_structure(sub) for name, sub in kind}


GA4_COLUMN_TYPES = {name: duckdb_type(kind) for name, kind in GA4_EXPORT_SCHEMA}
GA4_JSON_STRUCTURE = json.dumps({name: json_structure(kind) for name, kind in GA4_EXPORT_SCHEMA})


# What the export's top-level fields hold (BigQuery's GA4 export schema), for the raw table's column schema.
GA4_COLUMN_DESCRIPTIONS = {
    "event_date": "Date of the event in the property's time zone (YYYYMMDD).",
    "event_timestamp": "Time of the event in microseconds since the epoch (UTC).",
    "event_name": "Name of the event.",
    "event_params": "The event's parameters: a list of {key, value {string_value, int_value, float_value, double_value}}.",
    "event_previous_timestamp": "Time the event was previously logged, in microseconds (UTC).",
    "event_value_in_usd": "The event's value parameter in USD.",
    "event_bundle_sequence_id": "Sequence id of the bundle the event was uploaded in.",
    "event_server_timestamp_offset": "Offset between collection and upload time, in microseconds.",
    "user_id": "The user id the site set (raw zone only).",
    "user_pseudo_id": "Pseudonymous client id (raw zone only; hashed into user_key downstream).",
    "privacy_info": "Consent state: analytics_storage, ads_storage, uses_transient_token.",
    "user_properties": "User properties: a list of {key, value}.",
    "user_first_touch_timestamp": "Time the user first opened the app or visited the site, in microseconds.",
    "user_ltv": "Lifetime value of the user: revenue and currency.",
    "device": "Device fields: category, operating system, browser, language, ...",
    "geo": "Geography from the IP address: continent, country, region, city, ...",
    "app_info": "App fields (app streams only).",
    "traffic_source": "The user's first-touch source, medium and campaign name.",
    "stream_id": "Data stream id.",
    "platform": "Stream platform: WEB, IOS or ANDROID.",
    "event_dimensions": "Event dimensions (hostname).",
    "ecommerce": "Ecommerce fields of the event: purchase revenue, transaction id, totals.",
    "items": "Items of the event: a list of item records (id, name, price, quantity, revenue, ...).",
    "collected_traffic_source": "Traffic source collected with the event: manual UTM fields and click ids (gclid).",
    "is_active_user": "Whether the user was active on that day.",
    "batch_event_index": "Order of the event within its batch.",
    "batch_page_id": "Sequential id of the page within the batch.",
    "batch_ordering_id": "Sequence number of the batch.",
    "session_traffic_source_last_click": "The session's last-click traffic source, across Google products.",
    "publisher": "Ad revenue fields from publisher integrations.",
}
