"""Canonical article URLs, so the same story behind different tracking links is stored once."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import courlan


def canonical_url(url: str) -> str:
    """Normalise ``url``: lower-case host, default port and fragment dropped, trackers removed.

    courlan's non-strict mode removes tracking parameters (``utm_*``, ``fbclid``, Al Jazeera's
    ``traffic_source``…) and sorts the rest; its strict mode also drops parameters that select
    content (``?story_fbid=``), so it is not used.
    """
    try:
        normalised = courlan.normalize_url(url.strip())
    except ValueError:
        normalised = url.strip()
    parts = urlsplit(normalised)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
