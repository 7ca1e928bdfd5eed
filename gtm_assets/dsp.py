"""Pushing a payload to the demand-side platform. Dry-run by default: nothing leaves the machine
unless ``mode="http"`` and an endpoint are configured. The API token is sent only in the
Authorization header and never logged or returned."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

import dagster as dg
from pydantic import Field


class DspPushError(RuntimeError):
    """The DSP refused or could not be reached."""


class DspClient(dg.ConfigurableResource):
    """Ad-platform adapter: ``dry_run`` (default) records what would be sent; ``http`` POSTs JSON."""

    mode: str = Field(default="dry_run", description="dry_run or http")
    endpoint: str = Field(default="", description="URL the payload is POSTed to in http mode")
    api_token_env: str = Field(
        default="GTM_DSP_API_TOKEN",
        description="name of the environment variable holding the bearer token (read at push time, so "
        "the token never appears in resource config, logs or metadata)",
    )
    timeout_seconds: float = 10.0

    def push(self, payload: dict) -> dict:
        if self.mode == "dry_run":
            return {"status": "dry_run", "payload_id": payload["payload_id"]}
        if self.mode != "http":
            raise ValueError(f"DspClient.mode must be 'dry_run' or 'http', not {self.mode!r}")
        if not self.endpoint:
            raise ValueError("DspClient.mode is 'http' but no endpoint is configured")
        token = os.environ.get(self.api_token_env, "")
        request = urllib.request.Request(
            self.endpoint,
            data=json.dumps(payload).encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": payload["payload_id"],
                **({"Authorization": f"Bearer {token}"} if token else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                body = response.read().decode("utf-8", errors="replace")
                return {"status": "sent", "http_status": response.status, "payload_id": payload["payload_id"], "response": body[:500]}
        except urllib.error.HTTPError as error:
            raise DspPushError(f"DSP at {self.endpoint} answered HTTP {error.code}") from None
        except urllib.error.URLError as error:
            raise DspPushError(f"DSP at {self.endpoint} unreachable: {error.reason}") from None
