"""The one HTTP layer for calls that leave the machine: explicit timeouts, exponential backoff on
HTTP 429 / 5xx, timeouts and dropped connections (a 429's or 503's Retry-After wins when it asks for
longer), any other 4xx final, every attempt kept. Callers send the same idempotency key on every
retry, so a server that honours it applies a request once."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

RESPONSE_KEEP_CHARS = 2000
RETRY_STATUSES = (429, 500, 502, 503, 504)


@dataclass
class Attempt:
    attempt: int
    at: str
    http_status: int | None
    error: str | None
    response_body: str | None


@dataclass
class Exchange:
    """The outcome of one request: ``sent`` (2xx), ``rejected`` (a final 4xx), ``failed`` (retries spent)."""

    status: Literal["sent", "rejected", "failed"]
    attempts: list[Attempt] = field(default_factory=list)
    response_text: str | None = None

    @property
    def final(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


class Pacer:
    """Client-side rate limit: at most ``per_second`` requests a second (0: no limit)."""

    def __init__(self, per_second: float):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.last = float("-inf")

    def wait(self) -> None:
        delay = self.last + self.interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.last = time.monotonic()


def send(
    client,
    method: str,
    url: str,
    *,
    headers: dict,
    content: bytes | None = None,
    params: dict | None = None,
    max_attempts: int,
    backoff_seconds: float,
    max_backoff_seconds: float = 60.0,
    timeout_seconds: float,
    pacer: Pacer | None = None,
) -> Exchange:
    """Send one request through ``client`` (an ``httpx.Client``) with retries; never raises for HTTP or
    transport errors: the outcome and every attempt are in the returned Exchange."""
    import httpx

    exchange = Exchange("failed")
    for attempt in range(1, max_attempts + 1):
        wait = backoff_seconds * 2 ** (attempt - 1)
        if pacer:
            pacer.wait()
        try:
            response = client.request(method, url, content=content, params=params, headers=headers)
            text = response.text
            exchange.attempts.append(Attempt(attempt, now_text(), response.status_code, None, text[:RESPONSE_KEEP_CHARS]))
            exchange.response_text = text
            if response.is_success:
                exchange.status = "sent"
                return exchange
            if response.status_code not in RETRY_STATUSES:
                exchange.status = "rejected"
                return exchange
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            if asked is not None:
                wait = max(wait, asked)
        except httpx.TimeoutException:
            exchange.attempts.append(Attempt(attempt, now_text(), None, f"timed out after {timeout_seconds:g} s", None))
        except httpx.TransportError as error:
            exchange.attempts.append(Attempt(attempt, now_text(), None, f"connection failed: {type(error).__name__}", None))
        if attempt < max_attempts:
            time.sleep(min(wait, max_backoff_seconds))
    return exchange
