"""The warehouse side of the platform loop: the call log (every request, match keys redacted, and every
response), the objects each platform holds for us (so a publish updates instead of creating twice),
and the offline conversions already uploaded."""

from __future__ import annotations

import json
import re

from gtm_assets.outbound.platforms.base import KnownObject, PlatformCall, redact_match_keys
from gtm_assets.outbound.platforms.transport import RESPONSE_KEEP_CHARS, now_text

HEX64 = re.compile(r"\b[0-9a-f]{64}\b")
DDL = (
    "CREATE TABLE IF NOT EXISTS main.platform_calls (platform VARCHAR, operation VARCHAR, object_type VARCHAR, object_id VARCHAR, "
    "idempotency_key VARCHAR, mode VARCHAR, status VARCHAR, attempt INTEGER, attempted_at VARCHAR, http_status INTEGER, error VARCHAR, "
    "request_json VARCHAR, match_keys_redacted INTEGER, response_body VARCHAR, outbox_path VARCHAR, platform_id VARCHAR, run_id VARCHAR)",
    "CREATE TABLE IF NOT EXISTS main.platform_objects (platform VARCHAR, mode VARCHAR, object_type VARCHAR, object_id VARCHAR, "
    "platform_id VARCHAR, refs_json VARCHAR, content_sha256 VARCHAR, updated_at TIMESTAMP, run_id VARCHAR, "
    "PRIMARY KEY (platform, mode, object_type, object_id))",
    "CREATE TABLE IF NOT EXISTS main.conversion_uploads (platform VARCHAR, mode VARCHAR, event_id VARCHAR, idempotency_key VARCHAR, "
    "status VARCHAR, event_time TIMESTAMP, value DECIMAL(18, 2), uploaded_at TIMESTAMP, run_id VARCHAR)",
)


def ensure_tables(conn) -> None:
    for statement in DDL:
        conn.execute(statement)


def record_calls(conn, calls: list[PlatformCall], run_id: str) -> None:
    """One row per attempt (one row for a call that made none), match keys redacted."""
    rows = []
    for call in calls:
        request, redacted = redact_match_keys(call.request)
        request_json = json.dumps(request, sort_keys=True)
        attempts = call.attempts or [None]
        for attempt in attempts:
            body = (
                HEX64.sub("<sha256>", attempt.response_body)[:RESPONSE_KEEP_CHARS] if attempt and attempt.response_body else None
            )
            rows.append(
                (
                    call.platform,
                    call.operation,
                    call.object_type,
                    call.object_id,
                    call.idempotency_key,
                    call.mode,
                    call.status,
                    attempt.attempt if attempt else 0,
                    attempt.at if attempt else now_text(),
                    attempt.http_status if attempt else None,
                    (attempt.error if attempt else None) or call.error,
                    request_json,
                    redacted,
                    body,
                    call.outbox_path,
                    call.platform_id,
                    run_id,
                )
            )
    if rows:
        conn.executemany(f"INSERT INTO main.platform_calls VALUES ({', '.join(['?'] * 17)})", rows)


def known_objects(conn, platform: str, mode: str) -> dict[tuple[str, str], KnownObject]:
    rows = conn.execute(
        "SELECT object_type, object_id, platform_id, content_sha256, refs_json FROM main.platform_objects "
        "WHERE platform = ? AND mode = ?",
        [platform, mode],
    ).fetchall()
    return {(t, o): KnownObject(p, c, json.loads(r or "{}")) for t, o, p, c, r in rows}


def save_objects(conn, platform: str, mode: str, known: dict[tuple[str, str], KnownObject], run_id: str) -> None:
    if not known:
        return
    conn.executemany(
        "INSERT OR REPLACE INTO main.platform_objects VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?)",
        [
            (platform, mode, t, o, k.platform_id, json.dumps(k.refs, sort_keys=True), k.content_sha256, run_id)
            for (t, o), k in known.items()
        ],
    )
