"""Registering issued tokens as secrets without slowing every later redact() call.

redact() masks every compact JWT by its shape already, while each registered secret costs every
later redact() call one more scan (3000 registered tokens made one redact() take ~40 ms). So
JWT-shaped values are left to the shape rule and only opaque ones are registered.
"""

from __future__ import annotations

import re

from ..redact import register_secret

# Same shape as redact's JWT rule: whatever fully matches it is masked wherever it appears.
_COMPACT_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)?")


def remember_secret(value: str | None) -> None:
    """Make sure ``value`` never appears in output: by shape (JWTs) or by registration (anything else)."""
    if value and not _COMPACT_JWT.fullmatch(value):
        register_secret(value)
