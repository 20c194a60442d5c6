"""What an operator surface may show of a text that can carry a secret (a feed URL with an
API key, a webhook URL, an error quoting either): every page, API answer and feed goes through
``shown``, the project's one redaction function (``monitor.text.redact``) for optional text."""

from __future__ import annotations

from monitor.text.redact import redact


def shown(text: str | None) -> str:
    """``text`` with the secrets it may carry masked; "" for none."""
    return redact(text) if text else ""
