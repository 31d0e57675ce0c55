"""Secrets out of messages: what an error, a log line or a response may show of a setting.

Two settings hold secrets: `admin_token` and the password in the `icecast` URL. Every
message that quotes a setting's value goes through `value`; a URL through `url`.
"""

from __future__ import annotations

import re

SECRET_FIELDS = {"admin_token"}
HIDDEN = "***"
# scheme://user:password@host → scheme://user:***@host (the user may be empty)
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s]*):(?P<password>[^@\s]*)@")


def url(text: str) -> str:
    """`text` with the password of every URL in it replaced by ***."""
    return _USERINFO.sub(lambda m: f"{m['head']}:{HIDDEN}@", str(text))


def value(field: str, raw) -> str:
    """How a message may quote setting `field`'s value `raw` (a repr)."""
    if field in SECRET_FIELDS:
        return HIDDEN
    return repr(url(raw)) if isinstance(raw, str) else repr(raw)
