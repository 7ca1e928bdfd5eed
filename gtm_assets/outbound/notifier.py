"""Alerts out of the platform loop: a webhook when configured, otherwise only the ``alerts`` table.

Every alert has an id derived from its rule, subject and event (say, the day a budget was overspent),
so an event is announced once however often the checks run: an id already delivered (or recorded, in
table mode) is never sent again; a webhook that failed is tried again at the next evaluation. The
webhook goes through the shared transport (retries, backoff, Retry-After); its token is an EnvVar."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import dagster as dg
from pydantic import Field

from gtm_assets.outbound.platforms.transport import send
from gtm_assets.schemas.strict_json import dumps

ALERTS_DDL = (
    "CREATE TABLE IF NOT EXISTS main.alerts (alert_id VARCHAR, rule VARCHAR, subject VARCHAR, event_key VARCHAR, severity VARCHAR, "
    "message VARCHAR, details_json VARCHAR, raised_at TIMESTAMP, delivery VARCHAR, delivery_status VARCHAR, http_status INTEGER, "
    "run_id VARCHAR)"
)
DONE = ("delivered", "recorded")


@dataclass
class Alert:
    rule: str
    subject: str
    event_key: str
    message: str
    severity: str = "warning"
    details: dict | None = None

    @property
    def alert_id(self) -> str:
        return hashlib.sha256(f"{self.rule}|{self.subject}|{self.event_key}".encode()).hexdigest()[:32]


class AlertNotifier(dg.ConfigurableResource):
    """Sends each new alert once: to the webhook when ``webhook_url`` is set, always into main.alerts."""

    webhook_url: str = Field(default="", description="POST target for alerts (e.g. a chat incoming webhook); empty: table only")
    webhook_token: str | None = Field(default=None, description="bearer token of the webhook; set it with EnvVar(...)")
    timeout_seconds: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0)

    def notify(self, conn, alerts: list[Alert], run_id: str) -> list[Alert]:
        """Announce the alerts not announced before; returns those it announced now."""
        conn.execute(ALERTS_DDL)
        done = {r[0] for r in conn.execute(f"SELECT alert_id FROM main.alerts WHERE delivery_status IN {DONE}").fetchall()}
        fresh = list({a.alert_id: a for a in alerts if a.alert_id not in done}.values())
        announced = []
        for alert in fresh:
            delivery, status, http_status = "table", "recorded", None
            if self.webhook_url:
                delivery, status, http_status = "webhook", *self._post(alert)
            conn.execute(
                "INSERT INTO main.alerts VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?)",
                [
                    alert.alert_id,
                    alert.rule,
                    alert.subject,
                    alert.event_key,
                    alert.severity,
                    alert.message,
                    json.dumps(alert.details or {}, sort_keys=True, default=str),
                    delivery,
                    status,
                    http_status,
                    run_id,
                ],
            )
            if status in DONE:
                announced.append(alert)
        return announced

    def _post(self, alert: Alert) -> tuple[str, int | None]:
        import httpx

        body = dumps(
            {
                "alert_id": alert.alert_id,
                "rule": alert.rule,
                "subject": alert.subject,
                "severity": alert.severity,
                "text": alert.message,
                "details": alert.details or {},
            },
            default=str,
        ).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": alert.alert_id}
        if self.webhook_token:
            headers["Authorization"] = f"Bearer {self.webhook_token}"
        with httpx.Client(timeout=self.timeout_seconds) as client:
            exchange = send(
                client,
                "POST",
                self.webhook_url,
                headers=headers,
                content=body,
                max_attempts=self.max_attempts,
                backoff_seconds=self.backoff_seconds,
                timeout_seconds=self.timeout_seconds,
            )
        final = exchange.final
        return ("delivered" if exchange.status == "sent" else exchange.status), (final.http_status if final else None)
