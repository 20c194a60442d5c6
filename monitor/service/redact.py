"""What an operator surface may show of a text that can carry a secret (a feed URL with an
API key, a webhook URL, an error quoting either): every page, API answer and feed goes through
``shown`` so that there is one place to redact.

The project's one redaction function is to live in ``monitor.text.redact``; until it lands this
placeholder hides URL credentials and the values of secret-looking query parameters.
"""

from __future__ import annotations

import re

_CREDENTIALS = re.compile(r"(?i)\b(https?://)[^/\s@:]+(?::[^/\s@]*)?@")
_SECRET_PARAMETER = re.compile(
    r"(?i)([?&;](?:[a-z0-9_.-]*(?:key|token|secret|password|passwd|auth|sig|signature|"
    r"session|sid|code)[a-z0-9_.-]*)=)[^&#\s\"'<>]+"
)
HIDDEN = "***"


def shown(text: str | None) -> str:
    """``text`` with the secrets it may carry replaced by ``***``."""
    if not text:
        return ""
    text = _CREDENTIALS.sub(rf"\g<1>{HIDDEN}@", text)
    return _SECRET_PARAMETER.sub(rf"\g<1>{HIDDEN}", text)
