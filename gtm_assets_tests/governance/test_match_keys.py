"""Match keys: each platform's normalisation rules, unkeyed SHA-256 of consented users only, read only by
the upload step; users without ads consent never reach an audience, an upload or the outbox."""

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from gtm_assets.transform.render import render_macro

PACKAGE = Path(__file__).resolve().parents[2] / "gtm_assets"


@pytest.mark.parametrize(
    ("raw", "meta", "google"),
    [
        ("  Anna.Smith1@Example.COM ", "anna.smith1@example.com", "anna.smith1@example.com"),
        ("John.Doe@GMAIL.com", "john.doe@gmail.com", "johndoe@gmail.com"),
        ("j.o.e@googlemail.com", "j.o.e@googlemail.com", "joe@googlemail.com"),
        ("not-an-email", None, None),
        ("two@@example.com", None, None),
        ("", None, None),
    ],
)
def test_email_normalisation_per_platform(raw, meta, google):
    conn = duckdb.connect()
    sql = ", ".join(render_macro(f"normalized_email('x', '{p}')") for p in ("meta", "google_ads", "tiktok"))
    got = conn.execute(f"SELECT {sql} FROM (SELECT ? AS x)", [raw]).fetchone()
    assert got == (meta, google, meta)


@pytest.mark.parametrize(
    ("raw", "meta", "e164"),
    [
        ("+44 20 7946 0958", "442079460958", "+442079460958"),
        ("0044 (20) 7946-0958", "442079460958", "+442079460958"),
        ("+1 555-010-9999", "15550109999", "+15550109999"),
        ("020 7946 0958", None, None),  # no country code: unknown country
        ("+44 12", None, None),
    ],
)
def test_phone_normalisation_per_platform(raw, meta, e164):
    conn = duckdb.connect()
    sql = ", ".join(render_macro(f"normalized_phone('x', '{p}')") for p in ("meta", "google_ads", "tiktok"))
    assert conn.execute(f"SELECT {sql} FROM (SELECT ? AS x)", [raw]).fetchone() == (meta, e164, e164)


def test_only_the_upload_step_reads_the_restricted_schema():
    readers = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if "restricted.match_keys" in p.read_text())
    assert readers == ["defs/activation/platform_uploads.py", "defs/restricted/match_keys.py"]
    # match_keys.py names the table for its no-PII check and its size; it never selects its values
    assert "SELECT *" not in (PACKAGE / "defs/restricted/match_keys.py").read_text()


def _hash_of(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def test_match_keys_are_unkeyed_hashes_of_consented_users_only(conn):
    rows = conn.execute(
        "WITH latest AS (SELECT user_key, arg_max(consent_ads, (session_start, lineage_id)) AS consent FROM main.guarded_sessions "
        "GROUP BY user_key) SELECT m.user_key, m.email_sha256_meta, l.consent FROM restricted.match_keys m LEFT JOIN latest l USING (user_key)"
    ).fetchall()
    assert rows and all(consent for *_, consent in rows)
    # recompute the hashes from the raw rows, in Python, for the users the warehouse keyed
    raw = conn.execute(
        "SELECT DISTINCT pii_hmac(trim(user_pseudo_id)), email FROM raw.raw_events WHERE email IS NOT NULL "
        "AND lower(trim(consent_ads)) = 'true'"
    ).fetchall()
    expected = {}
    for user_key, email in raw:
        expected.setdefault(user_key, set()).add(_hash_of(email))
    assert all(meta in expected[user_key] for user_key, meta, _ in rows)


def test_users_without_ads_consent_never_reach_an_audience_an_upload_or_the_outbox(conn, data_dir):
    refused = conn.execute(
        "WITH latest AS (SELECT user_key, arg_max(consent_ads, (session_start, lineage_id)) AS consent FROM main.guarded_sessions "
        "GROUP BY user_key) SELECT DISTINCT r.email FROM raw.raw_events r JOIN latest l ON l.user_key = pii_hmac(trim(r.user_pseudo_id)) "
        "WHERE NOT l.consent AND r.email IS NOT NULL"
    ).fetchall()
    refused_hashes = {_hash_of(e) for (e,) in refused}
    refused_keys = {
        k
        for (k,) in conn.execute(
            "SELECT user_key FROM main.guarded_sessions GROUP BY user_key HAVING NOT arg_max(consent_ads, (session_start, lineage_id))"
        ).fetchall()
    }
    assert refused_hashes and refused_keys
    outbox = [json.loads(p.read_text()) for p in (data_dir / "outbox" / "platforms").rglob("*.json")]
    assert outbox, "the dry run wrote no platform requests"
    sent = {value for document in outbox for value in _strings(document)}
    assert any(len(v) == 64 for v in sent)  # match keys were sent ...
    assert not sent & refused_hashes  # ... but none of a user without ads consent
    members = {k for (k,) in conn.execute("SELECT member_key FROM main.audience_members WHERE consented").fetchall()}
    assert not members & refused_keys
    uploaded = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE NOT t.consent_ads OR t.user_key IN (SELECT unnest(?))) "
        "FROM main.conversion_uploads u JOIN main.touchpoints t ON t.session_lineage_id = u.event_id",
        [sorted(refused_keys)],
    ).fetchone()
    assert uploaded[0] > 0 and uploaded[1] == 0
    # yet their conversions are in the attribution totals
    converted_refused = conn.execute(
        "SELECT count(*) FROM main.touchpoints WHERE is_conversion_touch AND user_key IN (SELECT unnest(?))",
        [sorted(refused_keys)],
    ).fetchone()[0]
    total = conn.execute("SELECT sum(credited_conversions) FROM main.attribution WHERE model = 'linear'").fetchone()[0]
    assert (
        converted_refused > 0
        and total == conn.execute("SELECT count(*) FROM main.touchpoints WHERE is_conversion_touch").fetchone()[0]
    )


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
