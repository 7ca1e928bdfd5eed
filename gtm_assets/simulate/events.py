"""Event files of a simulated world: one row per GA4-style event, in the landing formats.

About 0.5 % of rows are malformed (missing id, unparseable timestamp, negative or non-numeric
revenue, duplicated event) and only non-purchase rows are touched, so revenue totals stay exact;
the counts of every injected defect go to the ground truth. Every column is written as a string.
"""

from __future__ import annotations

import gzip
import shutil
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from gtm_assets.landing.events import EVENT_COLUMNS  # the flat landing layout the simulator writes
from gtm_assets.simulate.sessions import (
    BROWSE_PAGES,
    COUNTRIES,
    DEVICES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    PRODUCT_PAGES,
    utm_combos,
)
from gtm_assets.warehouse.sql import sql_list, sql_string

FORMATS = ("csv", "parquet", "jsonl", "csv.gz", "jsonl.gz")
DEFECT_KINDS = (
    "missing_id",
    "unparseable_timestamp",
    "negative_revenue",
    "non_numeric_revenue",
    "duplicate_event_id",
)
# Defect codes of the per-event table are 1 + the index in DEFECT_KINDS (0 = clean row).
MISSING_ID, BAD_TIMESTAMP, NEGATIVE_REVENUE, NON_NUMERIC_REVENUE = range(1, 5)
MALFORMED_SHARE = 0.005
PARQUET_ROW_GROUP = 500_000
GZIP_LEVEL = 5
EVENT_NAMES = ("session_start", "page_view", "add_to_cart", "purchase")
SESSION_START, PAGE_VIEW, ADD_TO_CART, PURCHASE = range(4)
PAGES = BROWSE_PAGES + PRODUCT_PAGES + ("/checkout/thank-you",)
IPV6_PREFIXES = ("2001", "2a02", "2600", "2a01", "2c0f", "240e")
BAD_TIMESTAMPS = ("not-a-date", "2024-13-45T99:00:00Z", "31/02/2024 25:61", "yesterday")
BAD_REVENUES = ("12,5O", "abc", "1.2.3", "twelve")


def user_strings(con: duckdb.DuckDBPyConnection, s: dict) -> pa.Table:
    """user_pseudo_id and email per user, built in DuckDB."""
    source = pa.table(
        {
            "client": s["user_client"],
            "first_seen": s["user_first_seen"],
            "has_email": s["user_has_email"],
            "fn": s["user_first_name"],
            "ln": s["user_last_name"],
            "num": s["user_number"],
            "dom": s["user_domain"],
            "style": s["user_case"],
        }
    )
    con.register("users_src", source)
    address = (
        f"{sql_list(FIRST_NAMES)}[fn + 1] || '.' || {sql_list(LAST_NAMES)}[ln + 1] || num::VARCHAR"
        f" || '@' || {sql_list(EMAIL_DOMAINS)}[dom + 1]"
    )
    table = con.sql(f"""
        SELECT client::VARCHAR || '.' || first_seen::VARCHAR AS user_pseudo_id,
               CASE WHEN NOT has_email THEN NULL
                    WHEN style = 0 THEN lower({address})
                    WHEN style = 1 THEN {address}
                    ELSE upper({address}) END AS email
        FROM users_src""").to_arrow_table()
    con.unregister("users_src")
    return table


def _ip_strings(con: duckdb.DuckDBPyConnection, rng: np.random.Generator, n: int) -> pa.Array:
    """One IP address per session: ~85 % IPv4, ~15 % IPv6."""
    groups = rng.integers(0, 65536, (7, n))
    source = {
        "v6": rng.random(n) < 0.15,
        "prefix": rng.integers(0, len(IPV6_PREFIXES), n),
        "o1": rng.integers(11, 224, n),
        "o2": rng.integers(0, 256, n),
        "o3": rng.integers(0, 256, n),
        "o4": rng.integers(1, 255, n),
    }
    source.update({f"g{i}": groups[i] for i in range(7)})
    con.register("ip_src", pa.table(source))
    hex_groups = ", ".join(f"g{i}" for i in range(7))
    table = con.sql(f"""
        SELECT CASE WHEN v6 THEN printf('%s:%x:%x:%x:%x:%x:%x:%x', {sql_list(IPV6_PREFIXES)}[prefix + 1], {hex_groups})
                    ELSE printf('%d.%d.%d.%d', o1, o2, o3, o4) END AS ip
        FROM ip_src""").to_arrow_table()
    con.unregister("ip_src")
    return table.column("ip").combine_chunks()


def _event_select_sql() -> str:
    """SELECT turning the numeric per-event table ``ev`` into the landing columns (all strings)."""
    combos = utm_combos()[0]
    cents_text = "printf('%d.%02d', {0} // 100, {0} % 100)"
    return f"""
        SELECT
          CASE WHEN defect = {MISSING_ID} AND variant = 0 THEN NULL
               ELSE 'e' || lpad(seq::VARCHAR, 10, '0') END AS event_id,
          CASE WHEN defect = {BAD_TIMESTAMP} THEN {sql_list(BAD_TIMESTAMPS)}[variant + 1]
               ELSE strftime(make_timestamp(ts_us), '%Y-%m-%dT%H:%M:%S.%fZ') END AS event_timestamp,
          {sql_list(EVENT_NAMES)}[name + 1] AS event_name,
          CASE WHEN defect = {MISSING_ID} AND variant = 1 THEN NULL ELSE user_pseudo_id END AS user_pseudo_id,
          CASE WHEN defect = {MISSING_ID} AND variant = 2 THEN NULL ELSE session_id::VARCHAR END AS session_id,
          'https://shop.example.com' || {sql_list(PAGES)}[page + 1] AS page_location,
          {sql_list([c[0] for c in combos])}[combo + 1] AS utm_source,
          {sql_list([c[1] for c in combos])}[combo + 1] AS utm_medium,
          {sql_list([c[2] for c in combos])}[combo + 1] AS utm_campaign,
          {sql_list([d for d, _ in DEVICES])}[device + 1] AS device,
          {sql_list([c for c, _ in COUNTRIES])}[country + 1] AS country,
          CASE WHEN defect = {NEGATIVE_REVENUE} THEN '-' || {cents_text.format("bad_cents")}
               WHEN defect = {NON_NUMERIC_REVENUE} THEN {sql_list(BAD_REVENUES)}[variant + 1]
               WHEN name = {PURCHASE} THEN {cents_text.format("revenue_cents")} END AS revenue,
          email,
          ip_address,
          CASE WHEN consent_analytics THEN 'true' ELSE 'false' END AS consent_analytics,
          CASE WHEN consent_ads THEN 'true' ELSE 'false' END AS consent_ads
        FROM ev"""


def file_events(con, rng, s: dict, lo: int, hi: int, first_seq: int, users: pa.Table):
    """Numeric/arrow event table of sessions [lo, hi) with injected defects, plus its counts."""
    n_events = s["n_events"][lo:hi]
    n_sess = hi - lo
    session = np.repeat(np.arange(n_sess), n_events)
    n = len(session)
    first_event = np.cumsum(n_events) - n_events
    position = np.arange(n) - first_event[session]
    size = n_events[session]
    last = position == size - 1
    purchase = s["purchase"][lo:hi][session]
    name = np.full(n, PAGE_VIEW, np.int8)
    name[position == 0] = SESSION_START
    name[purchase & (position == size - 2)] = ADD_TO_CART
    name[purchase & last] = PURCHASE
    name[s["cart_only"][lo:hi][session] & last] = ADD_TO_CART

    gap_us = (np.clip(rng.gamma(1.5, 30.0, n), 1.0, 290.0) * 1_000_000).astype(np.int64)
    gap_us[position == 0] = 0
    elapsed = np.cumsum(gap_us)
    ts_us = s["start_us"][lo:hi][session] + elapsed - elapsed[first_event][session]

    page = rng.choice(len(BROWSE_PAGES) + len(PRODUCT_PAGES), n).astype(np.int16)
    cart = name == ADD_TO_CART
    page[cart] = len(BROWSE_PAGES) + rng.integers(0, len(PRODUCT_PAGES), cart.sum())
    page[name == PURCHASE] = len(PAGES) - 1

    order = np.argsort(ts_us, kind="stable")
    session, name, ts_us, page = session[order], name[order], ts_us[order], page[order]

    n_bad = int(round(MALFORMED_SHARE * n))
    per_kind = np.full(len(DEFECT_KINDS), n_bad // len(DEFECT_KINDS))
    per_kind[: n_bad % len(DEFECT_KINDS)] += 1
    chosen = rng.choice(np.flatnonzero(name != PURCHASE), n_bad, replace=False)
    defect = np.zeros(n, np.int8)
    bounds = np.r_[0, np.cumsum(per_kind)]
    for code in (MISSING_ID, BAD_TIMESTAMP, NEGATIVE_REVENUE, NON_NUMERIC_REVENUE):
        defect[chosen[bounds[code - 1] : bounds[code]]] = code
    # variant picks the blanked id (event, user, session) or the garbage text
    variant = np.zeros(n, np.int8)
    for code, n_variants in ((MISSING_ID, 3), (BAD_TIMESTAMP, len(BAD_TIMESTAMPS)), (NON_NUMERIC_REVENUE, len(BAD_REVENUES))):
        variant[defect == code] = rng.integers(0, n_variants, per_kind[code - 1])
    bad_cents = np.zeros(n, np.int64)
    bad_cents[defect == NEGATIVE_REVENUE] = rng.integers(100, 50_000, per_kind[NEGATIVE_REVENUE - 1])
    duplicate_of = np.sort(chosen[bounds[-2] :])

    global_session = lo + session
    user = s["user"][global_session]
    consent = s["consent_analytics"][global_session]
    table = pa.table(
        {
            "seq": first_seq + np.arange(n, dtype=np.int64),
            "ts_us": ts_us,
            "name": name,
            "user_pseudo_id": pa.DictionaryArray.from_arrays(user.astype(np.int32), users.column("user_pseudo_id")),
            "session_id": s["session_id"][global_session],
            "page": page,
            "combo": s["combo"][global_session],
            "device": s["device"][global_session],
            "country": s["user_country"][user],
            "revenue_cents": np.where(name == PURCHASE, s["revenue_cents"][global_session], 0),
            "email": pa.DictionaryArray.from_arrays(user.astype(np.int32), users.column("email")),
            "ip_address": pa.DictionaryArray.from_arrays(session.astype(np.int32), _ip_strings(con, rng, n_sess)),
            "consent_analytics": consent,
            "consent_ads": consent & s["consent_ads_given"][global_session],
            "defect": defect,
            "variant": variant,
            "bad_cents": bad_cents,
        }
    )
    table = pa.concat_tables([table, table.take(duplicate_of)])

    kept = (defect == 0) & consent
    kept_session = np.zeros(n_sess, bool)
    kept_session[session[kept]] = True
    counts = {
        "raw_rows": n + len(duplicate_of),
        "quarantined": dict(zip(DEFECT_KINDS, (int(k) for k in per_kind))),
        "dropped_for_consent": int(((defect == 0) & ~consent).sum()),
        "kept": int(kept.sum()),
        "kept_sessions": int(kept_session.sum()),
        "kept_revenue_cents": int(s["revenue_cents"][global_session][kept & (name == PURCHASE)].sum()),
    }
    return table, counts


@contextmanager
def _open_output(path: Path):
    """Binary output stream; gzip (level GZIP_LEVEL, mtime 0 for reproducible bytes) for *.gz."""
    with path.open("wb") as raw:
        if path.name.endswith(".gz"):
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0) as packed:
                yield packed
        else:
            yield raw


def _string_bytes(array: pa.Array) -> memoryview:
    """The concatenated UTF-8 bytes of a (non-null) arrow string array."""
    offsets = np.frombuffer(array.buffers()[1], np.int32)[array.offset : array.offset + len(array) + 1]
    return memoryview(array.buffers()[2])[offsets[0] : offsets[-1]]


def write_events(con: duckdb.DuckDBPyConnection, table: pa.Table, path: Path, fmt: str) -> None:
    """Write one event table in the given landing format (every column a string)."""
    select = _event_select_sql()
    if fmt == "parquet":
        schema = pa.schema([(c, pa.string()) for c in EVENT_COLUMNS])
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for start in range(0, max(table.num_rows, 1), PARQUET_ROW_GROUP):
                con.register("ev", table.slice(start, PARQUET_ROW_GROUP))
                writer.write_table(con.sql(select).to_arrow_table().cast(schema))
                con.unregister("ev")
        return
    con.register("ev", table)
    if fmt.startswith("jsonl"):
        lines = con.sql(f"SELECT to_json(row) || chr(10) AS line FROM ({select}) AS row").to_arrow_reader()
        with _open_output(path) as out:
            for batch in lines:
                out.write(_string_bytes(batch.column(0)))
    else:
        # DuckDB's own gzip writer is several times slower than zlib, so compress a plain copy here.
        plain = path.with_name(path.name + ".tmp") if fmt.endswith(".gz") else path
        con.execute(f"COPY ({select}) TO {sql_string(plain.as_posix())} (FORMAT csv, HEADER true, COMPRESSION none)")
        if plain != path:
            with plain.open("rb") as source, _open_output(path) as out:
                shutil.copyfileobj(source, out, 1 << 22)
            plain.unlink()
    con.unregister("ev")
