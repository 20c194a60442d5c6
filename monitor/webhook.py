"""Webhook endpoints and one signed POST, per the Standard Webhooks specification."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from standardwebhooks import Webhook

from monitor.settings import FetchSettings, Settings

DEFAULT_ENDPOINT = "default"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where alerts go. With no URL, alerts are kept pending until one is configured."""

    name: str
    url: str | None
    secret: str | None

    def __repr__(self) -> str:  # the secret must never reach a log line
        secret = "***" if self.secret else None
        return f"Endpoint(name={self.name!r}, url={self.url!r}, secret={secret})"


@dataclass(frozen=True, slots=True)
class PostResult:
    """How one delivery attempt went."""

    ok: bool
    status_code: int | None
    error: str | None


def configured_endpoints(settings: Settings) -> tuple[Endpoint, ...]:
    """The endpoints alerts are written for; today the one of ``webhook_url``/``webhook_secret``."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    return (Endpoint(name=DEFAULT_ENDPOINT, url=settings.webhook_url, secret=secret),)


def signed_headers(endpoint: Endpoint, alert_id: str, body: str, now: datetime) -> dict[str, str]:
    """``webhook-id`` (stable across retries), ``webhook-timestamp`` (fresh each attempt) and,
    with a secret, ``webhook-signature``."""
    headers = {
        "Content-Type": "application/json",
        "webhook-id": alert_id,
        "webhook-timestamp": str(int(now.timestamp())),
    }
    if endpoint.secret:
        headers["webhook-signature"] = Webhook(endpoint.secret).sign(alert_id, now, body)
    return headers


def open_webhook_session(settings: FetchSettings) -> aiohttp.ClientSession:
    """The HTTP client for alerts. Webhook URLs are the operator's own configuration, often on
    the internal network, so they bypass the address gate that guards publishers' URLs."""
    return aiohttp.ClientSession(headers={"User-Agent": settings.user_agent}, trust_env=False)


async def post_alert(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    alert_id: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    timeout_seconds: float,
) -> PostResult:
    """POST ``payload`` to ``endpoint``; only a 2xx answer counts, redirects are not followed."""
    if endpoint.url is None:
        return PostResult(ok=False, status_code=None, error="no webhook URL configured")
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    try:
        async with session.post(
            endpoint.url,
            data=body.encode(),
            headers=signed_headers(endpoint, alert_id, body, now),
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
        ) as response:
            await response.read()
            if 200 <= response.status < 300:
                return PostResult(ok=True, status_code=response.status, error=None)
            return PostResult(
                ok=False,
                status_code=response.status,
                error=f"HTTP {response.status} {response.reason or ''}".strip(),
            )
    except TimeoutError:
        return PostResult(
            ok=False, status_code=None, error=f"timed out after {timeout_seconds:g} s"
        )
    except aiohttp.ClientError as error:
        return PostResult(ok=False, status_code=None, error=f"{type(error).__name__}: {error}")
