"""Webhook endpoints and one signed POST, per the Standard Webhooks specification."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from standardwebhooks import Webhook

from monitor.deliver.formats import Format, render
from monitor.deliver.settings import DEFAULT_DIGEST, DEFAULT_WEBHOOK, WebhookSettings
from monitor.records import Level
from monitor.text.redact import redact, redact_url

# Statuses whose Retry-After says when the receiver can take the alert again.
RETRY_AFTER_STATUSES = frozenset({429, 502, 503, 504})
# A response body is read only to free the connection; a receiver's essay is not kept.
_MAX_RESPONSE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where alerts go. With no URL, alerts are kept pending until one is configured."""

    name: str
    url: str | None
    secrets: tuple[str, ...] = ()
    format: Format = "json"
    topics: frozenset[str] = frozenset()  # empty: every topic
    min_level: Level = "alert"
    digest: str = DEFAULT_DIGEST
    timezone: str = "UTC"
    story_updates: bool = False

    def __repr__(self) -> str:  # secrets, and URLs that hold tokens, must never reach a log
        url, secrets = redact_url(self.url), len(self.secrets)
        return f"Endpoint(name={self.name!r}, url={url!r}, secrets={secrets})"

    def wants(self, topic: str) -> bool:
        """Whether this endpoint takes alerts of ``topic``."""
        return not self.topics or topic in self.topics

    @property
    def takes_digest(self) -> bool:
        return self.min_level == "digest" and self.url is not None


@dataclass(frozen=True, slots=True)
class PostResult:
    """How one delivery attempt went."""

    ok: bool
    status_code: int | None
    error: str | None
    retry_after: str | None = None
    duration_ms: int = 0

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver says this endpoint no longer exists."""
        return self.status_code == 410


def configured_endpoints(webhooks: Sequence[WebhookSettings]) -> tuple[Endpoint, ...]:
    """The configured endpoints; with none, the endpoint "default" with no URL, whose alerts
    wait in the outbox until a URL is configured."""
    endpoints = tuple(
        Endpoint(
            name=webhook.name,
            url=webhook.url,
            secrets=tuple(secret.get_secret_value() for secret in webhook.secrets),
            format=webhook.format,
            topics=frozenset(webhook.topics),
            min_level=webhook.min_level,
            digest=webhook.digest,
            timezone=webhook.timezone,
            story_updates=webhook.story_updates,
        )
        for webhook in webhooks
    )
    return endpoints or (Endpoint(name=DEFAULT_WEBHOOK, url=None),)


def signed_headers(endpoint: Endpoint, alert_id: str, body: str, now: datetime) -> dict[str, str]:
    """``webhook-id`` (stable across retries), ``webhook-timestamp`` (fresh each attempt) and,
    with secrets, ``webhook-signature``: one ``v1,…`` signature per secret, space-separated, so
    a receiver holding either the old or the new secret accepts it during a rotation."""
    headers = {
        "Content-Type": "application/json",
        "webhook-id": alert_id,
        "webhook-timestamp": str(int(now.timestamp())),
    }
    if endpoint.secrets:
        headers["webhook-signature"] = " ".join(
            Webhook(secret).sign(alert_id, now, body) for secret in endpoint.secrets
        )
    return headers


def open_webhook_session(user_agent: str) -> aiohttp.ClientSession:
    """The HTTP client for alerts. Webhook URLs are the operator's own configuration, often on
    the internal network, so they bypass the address gate that guards publishers' URLs."""
    return aiohttp.ClientSession(headers={"User-Agent": user_agent}, trust_env=False)


async def post_alert(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    alert_id: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    timeout_seconds: float,
) -> PostResult:
    """POST ``payload``, rendered in the endpoint's format; only a 2xx answer counts, and
    redirects are not followed (a 3xx is a failure)."""
    if endpoint.url is None:
        return PostResult(ok=False, status_code=None, error="no webhook URL configured")
    body = json.dumps(render(payload, endpoint.format), ensure_ascii=False, separators=(",", ":"))
    started = time.perf_counter()
    try:
        async with session.post(
            endpoint.url,
            data=body.encode(),
            headers=signed_headers(endpoint, alert_id, body, now),
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
        ) as response:
            await response.content.read(_MAX_RESPONSE)
            duration = int((time.perf_counter() - started) * 1000)
            if 200 <= response.status < 300:
                return PostResult(True, response.status, None, duration_ms=duration)
            retry_after = (
                response.headers.get("Retry-After")
                if response.status in RETRY_AFTER_STATUSES
                else None
            )
            return PostResult(
                ok=False,
                status_code=response.status,
                error=f"HTTP {response.status} {response.reason or ''}".strip(),
                retry_after=retry_after,
                duration_ms=duration,
            )
    except TimeoutError:
        return PostResult(False, None, f"timed out after {timeout_seconds:g} s")
    except aiohttp.ClientError as error:
        return PostResult(False, None, delivery_error(error, endpoint.url))


def delivery_error(error: BaseException, url: str | None) -> str:
    """What went wrong with a POST, fit to store and print: aiohttp's text names the full
    request URL, which for Slack and Discord is the secret itself."""
    if isinstance(error, aiohttp.ClientResponseError):
        text = f"bad response: {error.status}, {error.message}"
    else:
        text = f"{type(error).__name__}: {error}"
    return redact(text.replace(url, redact_url(url)) if url else text)
