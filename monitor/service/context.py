"""What every operation is given (the store, its page queries, the settings, a clock), the
errors an operation reports, and pages read by cursor."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from monitor.settings import Settings
from monitor.store.console_views import ConsoleViews
from monitor.store.facade import Store

T = TypeVar("T")
MAX_PAGE = 200


class ServiceError(Exception):
    """An operation refused; ``title`` names the kind of problem, the message says why."""

    title = "The request cannot be carried out"
    status = 400


class NotFoundError(ServiceError):
    title = "Not found"
    status = 404


class BadInputError(ServiceError):
    """The input is wrong; ``field`` names which part of it."""

    title = "Invalid input"
    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Services:
    """The collaborators of every operation, opened once by the daemon or the CLI."""

    store: Store
    views: ConsoleViews
    settings: Settings
    clock: Callable[[], datetime]

    @classmethod
    def over(cls, store: Store, settings: Settings, clock: Callable[[], datetime]) -> Services:
        return cls(store=store, views=store.console, settings=settings, clock=clock)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """Items of a listing, and the cursor of the next page (None: this is the last)."""

    items: Sequence[T]
    next_cursor: str | None


def page_size(limit: int | None, default: int) -> int:
    if limit is None:
        return default
    if not 1 <= limit <= MAX_PAGE:
        raise BadInputError("limit", f"expected a page size from 1 to {MAX_PAGE}, got {limit}")
    return limit


def encode_cursor(*key: object) -> str:
    """An opaque cursor holding a listing's last key (datetimes as ISO text)."""
    parts = [part.isoformat() if isinstance(part, datetime) else part for part in key]
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *kinds: type) -> tuple[object, ...]:
    """The key in ``cursor``, each part of the kind expected, or BadInputError."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
        if not isinstance(parts, list) or len(parts) != len(kinds):
            raise ValueError("wrong length")
        return tuple(
            datetime.fromisoformat(part) if kind is datetime else _checked(part, kind)
            for part, kind in zip(parts, kinds, strict=True)
        )
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadInputError("cursor", "not a cursor this listing gave out") from None


def _checked(part: object, kind: type) -> object:
    if type(part) is not kind:
        raise TypeError(f"expected {kind.__name__}")
    return part
