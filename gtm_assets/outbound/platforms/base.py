"""The ad-platform adapter interface and what every adapter shares.

An adapter is a ``ConfigurableResource`` that turns the DSP payload into the platform's own requests
(create or update campaign -> ad set / ad group -> ad, customer-list audiences), pulls insights and
uploads offline conversions. A platform-specific subclass only builds requests and reads responses;
sending is common:

* ``dry_run`` (default): nothing leaves the machine; each exact request (credentials masked) is written
  to ``data/outbox/platforms/<platform>/`` and insights come from the local fake platform (fake.py),
  which answers in the platform's own response format from the simulator's spend in data/landing/media.
* ``http``: real calls through the shared transport (retries with backoff on 429 / 5xx honouring
  Retry-After, timeouts, dropped connections; any other 4xx final), a client-side rate limit, and an
  ``Idempotency-Key`` derived from the object and its content on every attempt. Every request (match
  keys redacted) and response is returned for the ``platform_calls`` log.
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Literal

import dagster as dg
from pydantic import Field

from gtm_assets.outbound.platforms.transport import Attempt, Pacer, now_text, send
from gtm_assets.schemas.strict_json import dumps

CREATED = "{created}"  # in a follow-up request: the platform id the previous request of its step returned
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class PlatformRequest:
    operation: str
    object_id: str
    method: str
    path: str
    body: Any = None
    params: dict | None = None


@dataclass
class PlatformCall:
    """One request and its outcome: dry_run, sent, rejected (a final 4xx or a platform error code),
    failed (retries spent) or skipped (its parent object does not exist on the platform)."""

    platform: str
    operation: str
    object_id: str
    idempotency_key: str
    mode: str
    status: str
    request: dict
    attempts: list[Attempt] = field(default_factory=list)
    response: Any = None
    error: str | None = None
    platform_id: str | None = None
    content_sha256: str | None = None
    outbox_path: str | None = None
    object_type: str | None = None


@dataclass
class KnownObject:
    platform_id: str
    content_sha256: str
    refs: dict = field(default_factory=dict)


def content_sha256(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def redact_match_keys(value: Any) -> tuple[Any, int]:
    """``value`` with every SHA-256 hex string (a match key) replaced, and how many were replaced."""
    if isinstance(value, str) and SHA256_HEX.match(value):
        return "<sha256 match key>", 1
    if isinstance(value, list):
        parts = [redact_match_keys(v) for v in value]
        return [p for p, _ in parts], sum(n for _, n in parts)
    if isinstance(value, dict):
        parts = {k: redact_match_keys(v) for k, v in value.items()}
        return {k: p for k, (p, _) in parts.items()}, sum(n for _, n in parts.values())
    return value, 0


class AdPlatform(dg.ConfigurableResource):
    """An ad platform: dry-run by default; real HTTP calls when ``mode`` is ``http``."""

    mode: Literal["dry_run", "http"] = Field(default="dry_run", description="dry_run (nothing leaves the machine) or http")
    enabled: bool = Field(default=True, description="include this platform in publishing, uploads and the metrics sync")
    base_url: str = Field(default="", description="API root; the platform's public endpoint unless overridden")
    access_token: str | None = Field(default=None, description="set it with EnvVar(...), never as text")
    channels: list[str] = Field(default=[], description="the payload's channels whose campaigns run on this platform")
    timeout_seconds: float = Field(default=20.0, gt=0)
    max_attempts: int = Field(default=4, ge=1, le=10, description="attempts for 429 / 5xx / timeouts / dropped connections")
    backoff_seconds: float = Field(default=1.0, ge=0, description="first retry delay; doubles each attempt")
    max_backoff_seconds: float = Field(default=60.0, ge=0, description="longest wait between attempts, Retry-After included")
    requests_per_second: float = Field(default=5.0, ge=0, description="client-side rate limit (0: none)")
    conversion_batch_size: int = Field(default=500, ge=1, le=1000)
    conversion_max_age_days: int = Field(default=7, ge=1, description="the platform refuses older conversion events")
    currency: str = Field(default="USD", pattern="^[A-Z]{3}$")

    platform: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    match_key_column: ClassVar[str] = ""  # the match_keys column holding this platform's e-mail hashes

    # --- what a platform adapter implements -------------------------------------------------------------
    def auth_headers(self) -> dict[str, str]:
        raise NotImplementedError

    def campaign_requests(self, campaign: dict, known: KnownObject | None) -> list[PlatformRequest]:
        raise NotImplementedError

    def ad_set_requests(
        self, ad_set: dict, campaign: dict, campaign_id: str, audience_id: str | None, known: KnownObject | None
    ) -> list[PlatformRequest]:
        raise NotImplementedError

    def ad_requests(self, ad: dict, ad_set_platform_id: str, known: KnownObject | None) -> list[PlatformRequest]:
        raise NotImplementedError

    def audience_requests(self, audience: dict, known: KnownObject | None) -> list[PlatformRequest]:
        raise NotImplementedError

    def audience_member_requests(self, audience: dict, platform_id: str, hashed_emails: list[str]) -> list[PlatformRequest]:
        raise NotImplementedError

    def insights_request(self, level: str, since: date, until: date, page: Any) -> PlatformRequest:
        raise NotImplementedError

    def parse_insights(self, level: str, response: Any) -> tuple[list[dict], Any]:
        """Rows (platform_id, name, date, spend, impressions, clicks, conversions) and the next page (None: done)."""
        raise NotImplementedError

    def render_insights(self, level: str, rows: list[dict]) -> Any:
        """The platform's response to an insights request holding ``rows`` (what the fake platform answers)."""
        raise NotImplementedError

    def conversions_request(self, events: list[dict]) -> PlatformRequest:
        raise NotImplementedError

    def created_id(self, response: Any) -> tuple[str | None, dict]:
        """The platform id a create request returned, and other references worth keeping."""
        raise NotImplementedError

    def response_error(self, response: Any) -> str | None:
        """An error the platform reports inside a 2xx answer (None: none)."""
        return None

    # --- shared ----------------------------------------------------------------------------------------
    @property
    def root(self) -> str:
        return (self.base_url or self.default_base_url).rstrip("/")

    def masked_headers(self) -> dict[str, str]:
        return {
            k: ("***" if k.lower() in {"authorization", "access-token", "developer-token"} else v)
            for k, v in self.auth_headers().items()
        }

    def idempotency_key(self, request: PlatformRequest) -> str:
        return content_sha256(
            [self.platform, request.operation, request.object_id, request.method, request.path, request.body, request.params]
        )[:32]

    @contextmanager
    def session(self, outbox: Path | None):
        """A sender for a sequence of requests: one HTTP client and one rate limit in http mode."""
        if self.mode == "http":
            import httpx

            with httpx.Client(timeout=self.timeout_seconds) as client:
                yield _Session(self, outbox, client)
        else:
            yield _Session(self, outbox, None)

    def dry_run_id(self, object_id: str) -> str:
        return f"dry-run-{object_id[:16]}"


class _Session:
    def __init__(self, adapter: AdPlatform, outbox: Path | None, client):
        self.adapter, self.outbox, self.client = adapter, outbox, client
        self.pacer = Pacer(adapter.requests_per_second)
        self.sequence = 0

    def _record_request(self, request: PlatformRequest, key: str) -> dict:
        url = request.path if request.path.startswith("http") else f"{self.adapter.root}{request.path}"
        headers = {"Content-Type": "application/json", "Idempotency-Key": key, **self.adapter.masked_headers()}
        return {"method": request.method, "url": url, "params": request.params, "headers": headers, "body": request.body}

    def call(self, request: PlatformRequest) -> PlatformCall:
        adapter = self.adapter
        key = adapter.idempotency_key(request)
        recorded = self._record_request(request, key)
        call = PlatformCall(adapter.platform, request.operation, request.object_id, key, adapter.mode, "dry_run", recorded)
        if adapter.mode == "dry_run":
            if self.outbox is not None:
                self.sequence += 1
                folder = self.outbox / "platforms" / adapter.platform
                folder.mkdir(parents=True, exist_ok=True)
                stamp = now_text().replace(":", "").replace("-", "")[:15]
                path = folder / f"{stamp}_{self.sequence:04d}_{request.operation}_{request.object_id[:16]}.json"
                path.write_text(json.dumps({"idempotency_key": key, "request": recorded}, indent=2, sort_keys=True))
                call.outbox_path = str(path)
            return call
        headers = {"Content-Type": "application/json", "Idempotency-Key": key, **adapter.auth_headers()}
        content = dumps(request.body).encode() if request.body is not None else None
        exchange = send(
            self.client,
            request.method,
            recorded["url"],
            headers=headers,
            content=content,
            params=request.params,
            max_attempts=adapter.max_attempts,
            backoff_seconds=adapter.backoff_seconds,
            max_backoff_seconds=adapter.max_backoff_seconds,
            timeout_seconds=adapter.timeout_seconds,
            pacer=self.pacer,
        )
        call.attempts, call.status = exchange.attempts, exchange.status
        try:
            call.response = json.loads(exchange.response_text) if exchange.response_text else None
        except json.JSONDecodeError:
            call.response = None
        final = exchange.final
        if exchange.status == "sent":
            platform_error = adapter.response_error(call.response)
            if platform_error:
                call.status, call.error = "rejected", platform_error
        elif final is not None:
            call.error = f"HTTP {final.http_status}: {final.response_body}" if final.http_status else final.error
        return call

    def step(
        self, object_type: str, requests: list[PlatformRequest], content: str | None = None, existing: str | None = None
    ) -> tuple[list[PlatformCall], str | None, dict]:
        """Send one object's requests in order (``existing``: its platform id when it is an update); a
        follow-up's CREATED placeholder becomes the id the step's create returned. Stops at the first
        request that does not succeed, and then returns no id."""
        calls, created, refs = [], existing, {}
        for request in requests:
            if created is not None:
                request.body = json.loads(json.dumps(request.body).replace(CREATED, created))
                request.path = request.path.replace(CREATED, created)
            call = self.call(request)
            call.content_sha256, call.object_type = content, object_type
            calls.append(call)
            if call.status == "dry_run":
                created = created or self.adapter.dry_run_id(request.object_id)
            elif call.status == "sent":
                new_id, new_refs = self.adapter.created_id(call.response)
                created = created or new_id
                refs.update(new_refs)
            else:
                return calls, None, refs
            call.platform_id = created
        return calls, created, refs
