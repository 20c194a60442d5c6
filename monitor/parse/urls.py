"""Canonical article URLs, so the same story behind different tracking links is stored once."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Tracking parameters news sites add to feed links that courlan's list does not know:
# Webtrekk (heise: wt_mc), AT Internet (at_*), NYT (smid), Guardian (CMP), MSN (ocid), cmpid.
_MORE_TRACKERS = re.compile(r"^(?:wt_|at_|__)|^(?:cmpid|ocid|smid|cmp|ito|spm)$", re.IGNORECASE)


def canonical_url(url: str) -> str:
    """Normalise ``url``: lower-case host, default port and fragment dropped, trackers removed.

    courlan's non-strict mode removes tracking parameters (``utm_*``, ``fbclid``, Al Jazeera's
    ``traffic_source``…) and sorts the rest; its strict mode also drops parameters that select
    content (``?story_fbid=``), so it is not used.
    """
    import courlan  # here: it loads urllib3 and its lists, which only new entries need

    try:
        normalised = courlan.normalize_url(url.strip())
    except ValueError:
        normalised = url.strip()
    try:
        parts = urlsplit(normalised)
    except ValueError:  # a broken IPv6 literal: kept as written, it still identifies the link
        return normalised
    query = urlencode(
        [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if not _MORE_TRACKERS.search(key)
        ]
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))


def outlet(url: str) -> str | None:
    """The outlet that published ``url``: its registrable domain by the Public Suffix List
    (``feeds.nbcnews.com`` and ``www.nbcnews.com`` are both ``nbcnews.com``; ``bbc.co.uk``
    stays whole), else its host name. None for an address or no host: an IP address does not
    name a publisher."""
    import courlan

    try:
        domain = courlan.extract_domain(url)
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None
    if domain:
        return domain.lower()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.removeprefix("www.") or None
    return None
