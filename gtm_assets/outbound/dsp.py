"""The DSP push: dry-run by default, HTTP POST when configured, idempotent and retried.

Dry run writes the exact request (method, URL, headers with the token masked, body) and sends nothing.
In ``http`` mode the payload is POSTed with ``Idempotency-Key: <payload id>``; HTTP 429 / 5xx, timeouts
and connections dropped mid-response are retried with exponential backoff (or the server's Retry-After)
and the same key (the shared transport in ``gtm_assets.outbound.platforms.transport``), so a DSP
that honours the key applies the payload once; any other 4xx is final (``rejected``, the DSP's error
body kept). Every attempt is returned for the push log. The token comes from ``EnvVar("GTM_DSP_API_TOKEN")``
and is sent only in the Authorization header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import dagster as dg
from pydantic import Field

from gtm_assets.outbound.platforms.transport import Attempt, send


@dataclass
class PushResult:
    status: Literal["dry_run", "sent", "rejected", "failed"]
    request: dict
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def final(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None


class DspClient(dg.ConfigurableResource):
    """Ad-platform push: ``dry_run`` (default) records the request; ``http`` POSTs it."""

    mode: Literal["dry_run", "http"] = Field(default="dry_run", description="dry_run (nothing leaves the machine) or http")
    endpoint: str = Field(default="", description="URL the payload is POSTed to in http mode")
    api_token: str | None = Field(
        default=None, description="bearer token; set it with EnvVar('GTM_DSP_API_TOKEN'), never as text"
    )
    timeout_seconds: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=4, ge=1, le=10, description="attempts for 429 / 5xx / timeouts / dropped connections")
    backoff_seconds: float = Field(default=0.5, ge=0, description="first retry delay; doubles each attempt")

    def request(self, body: bytes, idempotency_key: str) -> dict:
        """The exact request, as recorded in the outbox (the token masked)."""
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key}
        if self.api_token:
            headers["Authorization"] = "Bearer ***"
        return {
            "method": "POST",
            "url": self.endpoint or "(dry run: no endpoint)",
            "headers": headers,
            "body": body.decode("utf-8"),
        }

    def push(self, body: bytes, idempotency_key: str) -> PushResult:
        request = self.request(body, idempotency_key)
        if self.mode == "dry_run":
            return PushResult("dry_run", request)
        if not self.endpoint:
            raise ValueError("DSP mode is 'http' but no endpoint is configured (GTM_DSP_ENDPOINT)")
        import httpx

        headers = {k: v for k, v in request["headers"].items() if k != "Authorization"}
        if self.api_token:
            headers["Authorization"] = f"Bearer {self.api_token}"
        with httpx.Client(timeout=self.timeout_seconds) as client:
            exchange = send(
                client,
                "POST",
                self.endpoint,
                headers=headers,
                content=body,
                max_attempts=self.max_attempts,
                backoff_seconds=self.backoff_seconds,
                timeout_seconds=self.timeout_seconds,
            )
        return PushResult(exchange.status, request, exchange.attempts)
