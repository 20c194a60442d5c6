"""Webhook endpoints as configuration: ``[[webhooks]]`` tables, validated."""

from __future__ import annotations

import base64
import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from monitor.deliver.formats import Format
from monitor.records import Level
from monitor.triggers import schedule_trigger

WEBHOOK_SECRET_PREFIX = "whsec_"
DEFAULT_DIGEST = "daily 08:00"
# The endpoint that ``webhook_url`` and ``webhook_secret`` configure.
DEFAULT_WEBHOOK = "default"


def http_url(value: str) -> str:
    """An http(s) URL with a host, or ValueError."""
    if not re.match(r"^https?://[^\s/?#]+", value, flags=re.IGNORECASE):
        raise ValueError("expected an http:// or https:// URL")
    return value


HttpUrlText = Annotated[str, AfterValidator(http_url)]


def schedule(value: str) -> str:
    """``daily HH:MM``, ``hourly`` or ``cron …`` (see ``triggers``), or ValueError."""
    schedule_trigger(value, "UTC")
    return value


ScheduleText = Annotated[str, AfterValidator(schedule)]


def standard_webhooks_secret(value: SecretStr) -> SecretStr:
    """A ``whsec_<base64>`` secret, as Standard Webhooks defines it, or ValueError."""
    raw = value.get_secret_value()
    if not raw.startswith(WEBHOOK_SECRET_PREFIX):
        raise ValueError(f"expected a secret of the form {WEBHOOK_SECRET_PREFIX}<base64>")
    try:
        decoded = base64.b64decode(raw.removeprefix(WEBHOOK_SECRET_PREFIX), validate=True)
    except ValueError:
        raise ValueError(f"expected base64 after {WEBHOOK_SECRET_PREFIX} in the secret") from None
    if not decoded:
        raise ValueError("the secret is empty")
    return value


WebhookSecret = Annotated[SecretStr, AfterValidator(standard_webhooks_secret)]


class WebhookSettings(BaseModel):
    """One endpoint alerts are POSTed to, with its own delivery state."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)
    url: HttpUrlText
    # The first secret signs; during a rotation list the new one first and the old one after,
    # and every attempt carries a signature by each.
    secrets: tuple[WebhookSecret, ...] = ()
    format: Format = "json"
    topics: tuple[str, ...] = ()  # empty: every topic
    min_level: Level = "alert"
    digest: ScheduleText = DEFAULT_DIGEST
    timezone: str = "UTC"
    # Also a ``story.updated`` event when an alerted story gains more outlets, or when a story
    # first seen at digest level turns alert-level.
    story_updates: bool = False

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as UTC or Europe/Kyiv") from None
        return value


class DeliverySettings(BaseModel):
    """The ``[delivery]`` section: how pending alerts are sent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tick_seconds: float = Field(default=10, gt=0)
    timeout_seconds: float = Field(default=15, gt=0)
    batch_size: int = Field(default=50, ge=1)
    # After the first, immediate attempt: the Standard Webhooks example schedule.
    retry_seconds: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
    # A sender holds the alerts it claimed this long; if it dies they are sent again after.
    lease_seconds: float = Field(default=60, gt=0)
    concurrency: int = Field(default=4, ge=1)  # POSTs at once per endpoint

    @model_validator(mode="after")
    def _lease_outlasts_a_post(self) -> DeliverySettings:
        if self.lease_seconds <= self.timeout_seconds:
            raise ValueError(
                f"lease_seconds ({self.lease_seconds:g}) must be longer than timeout_seconds "
                f"({self.timeout_seconds:g}), or a slow receiver's alerts would be sent twice"
            )
        return self

    def claim_size(self) -> int:
        """How many alerts a sender claims at once: at most ``batch_size``, and no more than it
        can send before its lease ends even if every POST runs into the timeout."""
        rounds = max(1, int(self.lease_seconds // self.timeout_seconds))
        return max(1, min(self.batch_size, rounds * self.concurrency))
