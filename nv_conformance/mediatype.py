"""Media types as HTTP means them: the one place a Content-Type value is parsed.

``application/json; charset=utf-8`` names the media type ``application/json`` (RFC 9110 section
8.3.1: type and subtype are case-insensitive, parameters are not part of the type).
"""

from __future__ import annotations

JSON = "application/json"


def essence(value: str | bytes | None) -> str:
    """The media type without parameters, lower case; ``""`` for no value."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return (value or "").split(";", 1)[0].strip().lower()


def is_json(value: str | bytes | None, *, absent_is_json: bool = False) -> bool:
    """``application/json`` or a ``+json`` type; ``absent_is_json``: no Content-Type at all counts as JSON."""
    media_type = essence(value)
    if not media_type:
        return absent_is_json
    return media_type == JSON or media_type.endswith("+json")
