"""Structured logging: readable on a terminal, JSON lines in containers and pipes; every line,
ours or a library's, redacted on its way out."""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO, cast

import structlog

from monitor.text.redact import redact

LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written, not when logging was configured."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def redact_event(
    _logger: object, _method: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """A structlog processor masking secrets in every value of a line, tracebacks included."""
    return {key: _redacted(value) for key, value in event.items()}


def _redacted(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (list, tuple)):
        return [_redacted(item) for item in value]
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, BaseException):
        return redact(f"{type(value).__name__}: {value}")
    return value


class RedactingFormatter(logging.Formatter):
    """The standard library's lines (APScheduler, Alembic, aiohttp), redacted like ours."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(
    log_format: Literal["auto", "console", "json"] = "auto", level: str = "info"
) -> None:
    """Route structlog to stderr; ``auto`` picks console on a TTY and JSON otherwise."""
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # Tracebacks become text before redaction, on a terminal too: an exception's message
            # may quote a URL with its token.
            structlog.processors.format_exc_info,
            redact_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LOG_LEVELS[level]),
        # cast: structlog only calls write() and flush(), which _CurrentStderr provides.
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=False,
    )
    # Libraries that log through the standard library (APScheduler, Alembic) stay quiet but visible.
    # (Like logging.basicConfig, this leaves a root logger that already has handlers alone.)
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(cast(TextIO, _CurrentStderr()))
        handler.setFormatter(RedactingFormatter("%(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
