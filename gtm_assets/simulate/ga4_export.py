"""Write a simulated world in the GA4 BigQuery export shape (``gtm simulate --format ga4-parquet`` /
``ga4-json``), so the product is tested on the files real users land.

Input: the simulator's standard output (its landing event files and ``ground_truth.json``). Output:
one GA4 export file per simulator event file (``events_<first day>_<last day>.parquet``, nested
columns as ``bq extract`` writes them, or ``.json.gz``: newline-delimited JSON with INT64 values as
strings, as BigQuery's JSON export writes them), replacing the flat files, and
``ga4_export_truth.json`` with the counts the product must find.

Mapping of a simulated event: event_timestamp = its time in microseconds (UTC), event_date its
YYYYMMDD; client = (stream_id '1000000001', user_pseudo_id); ``ga_session_id`` (int_value) = the
simulated session id, ``ga_session_number`` = the session's rank among the user's sessions;
``page_location`` (string_value), and the session's touch as ``source`` / ``medium`` / ``campaign``
parameters (absent for direct sessions, like GA4); ``traffic_source`` = the user's first session's
touch; purchases carry ``ecommerce.purchase_revenue`` (and ``_in_usd``), a ``transaction_id`` and one
item; consent: ``privacy_info.analytics_storage`` / ``ads_storage`` 'Yes' or 'No', and an event
without analytics consent has no user_pseudo_id (consent mode's cookieless ping). GA4 exports carry
no email or IP address. The simulator's malformed rows of the flat layout (text timestamps, text
revenue, missing event ids) have no GA4 counterpart and are not written; its duplicated events are
(identical events, which the product must load once). Truth: kept events, sessions and revenue and
the consent drops are the simulator's own counts; duplicates = its duplicated events.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from gtm_assets.landing.ga4_schema import GA4_COLUMN_TYPES, GA4_COLUMNS
from gtm_assets.warehouse.sql import sql_string

GA4_FORMATS = {"ga4-parquet": ".parquet", "ga4-json": ".json.gz"}
STREAM_ID = "1000000001"

_FLAT_EVENTS = """
    SELECT *, row_number() OVER () AS seq FROM {reader}
"""

# Well-formed simulated rows (the flat layout's malformed rows have no GA4 counterpart).
_GA4_ROWS = """
WITH flat AS (
    SELECT *,
           try_strptime(event_timestamp, '%Y-%m-%dT%H:%M:%S.%fZ') AS ts,
           try_cast(revenue AS DECIMAL(18, 2)) AS revenue_value,
           consent_analytics = 'true' AS analytics,
           consent_ads = 'true' AS ads
    FROM ({flat})
    WHERE event_id IS NOT NULL AND user_pseudo_id IS NOT NULL AND session_id IS NOT NULL
      AND try_strptime(event_timestamp, '%Y-%m-%dT%H:%M:%S.%fZ') IS NOT NULL
      AND (revenue IS NULL OR coalesce(try_cast(revenue AS DECIMAL(18, 2)) >= 0, false))
),
sessions AS (
    SELECT user_pseudo_id, session_id,
           row_number() OVER (PARTITION BY user_pseudo_id ORDER BY session_id::BIGINT) AS session_number,
           first_value({{'source': utm_source, 'medium': utm_medium, 'name': utm_campaign}})
               OVER (PARTITION BY user_pseudo_id ORDER BY session_id::BIGINT) AS first_touch
    FROM (SELECT DISTINCT user_pseudo_id, session_id, utm_source, utm_medium, utm_campaign FROM all_flat)
)
SELECT
    strftime(ts, '%Y%m%d') AS event_date,
    epoch_us(ts) AS event_timestamp,
    event_name,
    list_concat(
        [{{'key': 'ga_session_id', 'value': {{'string_value': NULL, 'int_value': session_id::BIGINT, 'float_value': NULL, 'double_value': NULL}}}},
         {{'key': 'ga_session_number', 'value': {{'string_value': NULL, 'int_value': s.session_number, 'float_value': NULL, 'double_value': NULL}}}},
         {{'key': 'page_location', 'value': {{'string_value': page_location, 'int_value': NULL, 'float_value': NULL, 'double_value': NULL}}}}],
        CASE WHEN utm_source <> '(direct)' THEN
            [{{'key': 'source', 'value': {{'string_value': utm_source, 'int_value': NULL, 'float_value': NULL, 'double_value': NULL}}}},
             {{'key': 'medium', 'value': {{'string_value': utm_medium, 'int_value': NULL, 'float_value': NULL, 'double_value': NULL}}}}]
            ELSE [] END,
        CASE WHEN utm_campaign IS NOT NULL THEN
            [{{'key': 'campaign', 'value': {{'string_value': utm_campaign, 'int_value': NULL, 'float_value': NULL, 'double_value': NULL}}}}]
            ELSE [] END,
        CASE WHEN event_name = 'purchase' THEN
            [{{'key': 'value', 'value': {{'string_value': NULL, 'int_value': NULL, 'float_value': NULL, 'double_value': revenue_value::DOUBLE}}}}]
            ELSE [] END
    ) AS event_params,
    CASE WHEN analytics THEN user_pseudo_id END AS user_pseudo_id,
    {{'analytics_storage': CASE WHEN analytics THEN 'Yes' ELSE 'No' END,
      'ads_storage': CASE WHEN ads THEN 'Yes' ELSE 'No' END, 'uses_transient_token': 'No'}} AS privacy_info,
    {{'category': device}} AS device,
    {{'country': country}} AS geo,
    s.first_touch AS traffic_source,
    '{stream_id}' AS stream_id,
    'WEB' AS platform,
    CASE WHEN event_name = 'purchase' THEN
        {{'total_item_quantity': 1, 'purchase_revenue_in_usd': revenue_value::DOUBLE, 'purchase_revenue': revenue_value::DOUBLE,
          'unique_items': 1, 'transaction_id': 'T' || event_id}} END AS ecommerce,
    CASE WHEN event_name = 'purchase' THEN
        [{{'item_id': 'SKU-' || md5(page_location)[:6], 'item_name': page_location, 'price': revenue_value::DOUBLE,
           'price_in_usd': revenue_value::DOUBLE, 'quantity': 1, 'item_revenue': revenue_value::DOUBLE,
           'item_revenue_in_usd': revenue_value::DOUBLE}}] ELSE [] END AS items
FROM flat
JOIN sessions AS s USING (user_pseudo_id, session_id)
ORDER BY seq
"""


def _reader(path: Path) -> str:
    quoted = sql_string(str(path))
    if path.name.endswith(".parquet"):
        return f"read_parquet({quoted})"
    if ".jsonl" in path.name:
        return (
            f"read_json({quoted}, format = 'newline_delimited', columns = {{"
            + ", ".join(f"'{c}': 'VARCHAR'" for c in _flat_columns())
            + "})"
        )
    return f"read_csv({quoted}, all_varchar = true, header = true)"


def _flat_columns() -> tuple[str, ...]:
    from gtm_assets.landing.events import EVENT_COLUMNS

    return EVENT_COLUMNS


def _full_schema_select(select_sql: str, *, int64_as_text: bool) -> str:
    """Every column of the export schema, in its order and type (absent ones NULL); for JSON, INT64
    values become strings as in BigQuery's JSON export."""
    columns = []
    for name in GA4_COLUMNS:
        kind = GA4_COLUMN_TYPES[name]
        columns.append(f'CAST(t."{name}" AS {kind}) AS "{name}"' if name in _WRITTEN else f'CAST(NULL AS {kind}) AS "{name}"')
    body = f"SELECT {', '.join(columns)} FROM ({select_sql}) AS t"
    if not int64_as_text:
        return body
    as_text = [
        f'CAST("{n}" AS {GA4_COLUMN_TYPES[n].replace("BIGINT", "VARCHAR")}) AS "{n}"' for n in GA4_COLUMNS if n in _WRITTEN
    ]
    return f"SELECT {', '.join(as_text)} FROM ({body})"


_WRITTEN = (
    "event_date",
    "event_timestamp",
    "event_name",
    "event_params",
    "user_pseudo_id",
    "privacy_info",
    "device",
    "geo",
    "traffic_source",
    "stream_id",
    "platform",
    "ecommerce",
    "items",
)


def write_ga4_export(out_dir: Path, fmt: str) -> dict:
    """Turn the simulator's landing event files under ``out_dir`` into GA4 export files (see the
    module docstring); return the export's truth, also written to ``ga4_export_truth.json``."""
    if fmt not in GA4_FORMATS:
        raise ValueError(f"format must be one of {', '.join(GA4_FORMATS)}, got {fmt!r}")
    out_dir = Path(out_dir)
    truth = json.loads((out_dir / "ground_truth.json").read_text())
    events_dir = out_dir / "landing" / "events"
    flat_files = [events_dir / name for name in truth["files"]]
    con = duckdb.connect(config={"memory_limit": "1GB", "preserve_insertion_order": True})
    # sessions' first touch and numbers need every file's sessions
    con.execute(
        "CREATE TEMP TABLE all_flat AS "
        + " UNION ALL ".join(
            f"SELECT user_pseudo_id, session_id, utm_source, utm_medium, utm_campaign FROM {_reader(p)} "
            "WHERE user_pseudo_id IS NOT NULL AND session_id IS NOT NULL AND try_cast(session_id AS BIGINT) IS NOT NULL"
            for p in flat_files
        )
    )
    written, rows_per_file = [], {}
    for path in flat_files:
        select = _GA4_ROWS.format(flat=_FLAT_EVENTS.format(reader=_reader(path)), stream_id=STREAM_ID)
        first, last = path.name.split("_")[2:4]
        target = events_dir / f"events_{first.replace('-', '')}_{last.split('.')[0].replace('-', '')}{GA4_FORMATS[fmt]}"
        if fmt == "ga4-parquet":
            options = "FORMAT parquet, COMPRESSION zstd"
        else:
            options = "FORMAT json, COMPRESSION gzip"
        query = _full_schema_select(select, int64_as_text=fmt == "ga4-json")
        con.execute(f"COPY ({query}) TO {sql_string(str(target))} ({options})")
        rows_per_file[target.name] = con.execute(f"SELECT count(*) FROM ({select})").fetchall()[0][0]
        written.append(target.name)
        path.unlink()
    con.close()
    counts = truth["counts"]
    export_truth = {
        "format": fmt,
        "files": written,
        "rows_per_file": rows_per_file,
        "raw_rows": sum(rows_per_file.values()),
        "kept_events": counts["kept"],
        "sessions": counts["kept_sessions"],
        "purchase_revenue": counts["kept_revenue"],
        "dropped_for_consent": counts["dropped_for_consent"],
        "duplicate_events": counts["quarantined"]["duplicate_event_id"],
        "not_written_flat_layout_defects": counts["quarantined_total"] - counts["quarantined"]["duplicate_event_id"],
    }
    (out_dir / "ga4_export_truth.json").write_text(json.dumps(export_truth, indent=2, sort_keys=True) + "\n")
    return export_truth
