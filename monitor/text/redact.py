"""The one redaction of secrets from every string that leaves the process: logs, error columns,
command-line output, HTTP answers and alert payloads.

A URL keeps its scheme, host, port and path, so an operator can still tell which feed or
endpoint a line is about; it loses its user-info, its fragment, every query value and every
path segment that looks like a token (Slack's and Discord's webhook URLs are secrets in
themselves). Free text is searched for URLs, with or without a scheme, for ``key=value`` pairs
whose key names a secret, and for Standard Webhooks secrets and bearer tokens.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MASK = "***"

_URL = re.compile(r"""\b[A-Za-z][A-Za-z0-9+.-]{1,30}://[^\s'"<>`]+""")
# A host name followed by a path, with no scheme: ``hooks.slack.com/services/T0/B0/XXXX``.
_BARE_URL = re.compile(
    r"""(?<![\w/.@-])((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?::\d{1,5})?)(/[^\s'"<>`]*)"""
)
# ``user:password@`` left in text that is no URL (``postgres:hunter2@db/monitor``).
_USERINFO = re.compile(r"""(?<![\w*])[^\s:/@'"<>`]+:[^\s/@'"<>`]+@(?=[\w\[])""")
_SECRET_PAIR = re.compile(
    r"""(?i)\b((?:[\w-]*[_-])?(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|"""
    r"""access[_-]?key|auth|signature|sig|key|credentials?))(\s*[=:]\s*)"""
    r"""(?!\*\*\*)("[^"]*"|'[^']*'|[^\s&'",;)}\]]+)"""
)
# A word every key _SECRET_PAIR masks contains (matched as it matches them): text with none of
# them holds no such pair.
_SECRET_WORD = re.compile(r"(?i)pass|pwd|secret|token|key|auth|sig|credential")
_WEBHOOK_SECRET = re.compile(r"\bwhsec_[A-Za-z0-9+/=]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_CHUNK_SEPARATORS = re.compile(r"[-_.~]")


def redact(text: str) -> str:
    """``text`` with every secret it may carry masked; text without secrets comes back as is."""
    if not text:
        return text
    # Each pattern is tried only on text holding the character it cannot match without: most
    # text (a status, a count, a time) holds none, and tables print thousands of cells.
    if "/" in text:
        text = _URL.sub(_redact_found_url, text)
        text = _BARE_URL.sub(lambda found: found.group(1) + _redact_path(found.group(2)), text)
    if "@" in text:
        text = _USERINFO.sub(MASK + "@", text)
    if ("=" in text or ":" in text) and _SECRET_WORD.search(text):
        text = _SECRET_PAIR.sub(_mask_pair, text)
    if "whsec_" in text:
        text = _WEBHOOK_SECRET.sub("whsec_" + MASK, text)
    return _BEARER.sub(lambda found: f"{found.group(1)} {MASK}", text)


def redact_url(url: str | None) -> str:
    """A URL fit to show: scheme, host, port and path, without user-info or fragment, query
    values and token-like path segments masked (``https://h/feed?api_key=***``)."""
    if not url:
        return "-"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # an unparseable URL (a bad port, a broken IPv6 literal) shows no detail
        return MASK
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    userinfo = f"{MASK}@" if "@" in parts.netloc else ""
    shown = f"{parts.scheme}://{userinfo}{host}{f':{port}' if port else ''}"
    shown += _redact_path(parts.path)
    if parts.query:
        shown += "?" + "&".join(_mask_query_pair(pair) for pair in parts.query.split("&"))
    return shown


def token_like(segment: str) -> bool:
    """Whether a path segment looks like a credential rather than a word, slug, date or id:
    a run of eight or more characters mixing letters with digits or mixing cases, or any run
    of 32 or more characters; a slug (``us-iraq-talks-2024``) or a number does not."""
    if len(segment) < 8:
        return False
    for chunk in _CHUNK_SEPARATORS.split(segment):
        if len(chunk) >= 32:
            return True
        if len(chunk) < 8:
            continue
        letters = any(c.isalpha() for c in chunk)
        digits = any(c.isdigit() for c in chunk)
        mixed_case = any(c.isupper() for c in chunk) and any(c.islower() for c in chunk)
        if (letters and digits) or mixed_case:
            return True
    return False


def _redact_found_url(found: re.Match[str]) -> str:
    """A URL found in text, without the punctuation that ends the sentence around it."""
    url = found.group(0)
    core = url.rstrip(".,;:!?)]}")
    return redact_url(core) + url[len(core) :]


def _redact_path(path: str) -> str:
    path = path.split("#", 1)[0]
    path, _, query = path.partition("?")
    shown = "/".join(MASK if token_like(segment) else segment for segment in path.split("/"))
    if query:
        shown += "?" + "&".join(_mask_query_pair(pair) for pair in query.split("&"))
    return shown


def _mask_query_pair(pair: str) -> str:
    key, equals, _value = pair.partition("=")
    if not equals:
        return MASK if token_like(key) or len(key) > 24 else key
    return f"{MASK if token_like(key) else key}={MASK}"


def _mask_pair(found: re.Match[str]) -> str:
    return f"{found.group(1)}{found.group(2)}{MASK}"
