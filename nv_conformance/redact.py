"""The only place that decides what may be printed: tokens, keys, operator tokens, phone numbers.

Reports, logs and terminal output pass every string through :func:`redact`. Known secrets
(static tokens, client secrets, operator tokens from a config) are registered with
:func:`register_secret` and masked wherever they appear, whatever their shape.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", re.S)
# A compact JWS/JWT from its first "eyJ" on. Tried once per run of base64url characters (the group keeps
# what precedes "eyJ" in the run): a plain "eyJ[...]*\." retried at every "eyJ" of a hostile 1 MiB body
# like "eyJeyJeyJ..." is quadratic (minutes per redact call). Later "eyJ"s of a run cannot match if the
# first one does not: their segments end at the same character.
_JWT = re.compile(r"(?<![A-Za-z0-9_-])((?:(?!eyJ)[A-Za-z0-9_-])*+)eyJ[A-Za-z0-9_-]*+\.[A-Za-z0-9_-]*+(\.[A-Za-z0-9_-]*+)?")
# A shell placeholder such as "$ACCESS_TOKEN" in a reproducing curl command is not a secret: keep it.
# Not a credential after "Bearer": a shell placeholder ($ACCESS_TOKEN), an auth-param of a challenge
# (realm="...", error="..."), or prose ("the Bearer scheme").
_BEARER = re.compile(
    r"(?i)(?<![\w-])(bearer)\s+(?!\(redacted\)|(?-i:\$\{?[A-Z_][A-Z0-9_]*\}?)(?![^\s\"',;])"
    r"|[A-Za-z][\w-]*=\"|(?:scheme|token|tokens|authentication|auth|header)\b(?![^\s\"',;]))[^\s\"',;]+"
)
_OPERATOR_TOKEN = re.compile(r"(?i)(operatortoken:)(?!\(redacted\))[^\s\"'&,;]+")
_FORM_SECRET = re.compile(
    r"(?i)\b(assertion|client_assertion|client_secret|access_token|refresh_token|id_token|auth_req_id)"
    r"([\"']?\s*[=:]\s*[\"']?)(?!\(redacted\))[^\s\"'&,;}]+"
)
_QUERY_CODE = re.compile(r"([?&]code=)[^&\s\"']+")  # authorization codes in redirect URLs, not CAMARA error codes
_PHONE = re.compile(r"((?<![\w+])\+|%2B|(?<![\w+])tel:\+?)(\d{5,15})(?!\d)")  # %2B may follow %3A (tel%3A%2B...)
_SHA256_HEX = re.compile(r"(?<![0-9a-fA-F])([0-9a-fA-F]{6})[0-9a-fA-F]{58}(?![0-9a-fA-F])")

JWK_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k", "oth"})
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

_lock = threading.Lock()
_secrets: set[str] = set()
_secrets_by_length: tuple[str, ...] = ()  # longest first; rebuilt only when a secret is added


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears from now on (values shorter than 6 characters are ignored)."""
    global _secrets_by_length
    if value and len(value) >= 6:
        with _lock:
            if value not in _secrets:
                _secrets.add(value)
                _secrets_by_length = tuple(sorted(_secrets, key=len, reverse=True))


def mask_phone(number: str) -> str:
    """``+447700900123`` -> ``+44770090****``: enough to tell numbers apart, not enough to dial."""
    digits = number.lstrip("+")
    keep = max(len(digits) - 4, 0)
    return ("+" if number.startswith("+") else "") + digits[:keep] + "*" * (len(digits) - keep)


def _phone(match: re.Match[str]) -> str:
    prefix, digits = match.group(1), match.group(2)
    rest = match.string[match.end():match.end() + 5]
    if len(digits) <= 11 and rest[:4] == "****" and rest[4:5] not in tuple("*0123456789"):
        return match.group(0)  # already masked by mask_phone: redact(redact(x)) == redact(x)
    keep = max(len(digits) - 4, 0)
    return prefix + digits[:keep] + "****"


def redact(text: Any) -> str:
    """``text`` as a string with every secret and phone number masked."""
    out = text if isinstance(text, str) else str(text)
    if len(out) < 6:  # shorter than any secret, phone number or token pattern
        return out
    for secret in _secrets_by_length:  # a run registers hundreds (every signed JWT); reports redact thousands of strings
        if secret in out:
            out = out.replace(secret, "(redacted)")
    for _kind, pattern, replacement in _RULES:
        out = pattern.sub(replacement, out)
    return out


# In the order redact applies them: (what it masks, pattern, replacement). Credentials first, then personal data.
_RULES: tuple[tuple[str, re.Pattern[str], Any], ...] = (
    ("private key", _PEM, "(private key redacted)"),
    ("JWT", _JWT, lambda m: f"{m.group(1)}eyJ…(redacted)"),
    ("bearer token", _BEARER, lambda m: f"{m.group(1)} (redacted)"),
    ("operator token", _OPERATOR_TOKEN, lambda m: f"{m.group(1)}(redacted)"),
    ("credential", _FORM_SECRET, lambda m: f"{m.group(1)}{m.group(2)}(redacted)"),
    ("authorization code", _QUERY_CODE, lambda m: f"{m.group(1)}(redacted)"),
    ("hashed phone number", _SHA256_HEX, lambda m: f"{m.group(1)}…(sha256)"),
    ("phone number", _PHONE, _phone),
)
_PERSONAL_DATA = frozenset({"hashed phone number", "phone number"})


def unredacted(text: str, *, personal_data: bool = True) -> str | None:
    """What :func:`redact` would still mask in ``text`` (``"phone number"``, ``"JWT"``...), or None if nothing.

    Checks text that claims to be redacted already (a bundle's reports). ``personal_data=False``
    looks for credentials only: published test definitions carry example numbers and digests.
    """
    if len(text) < 6:
        return None
    for secret in _secrets_by_length:
        if secret in text:
            return "registered secret"
    for kind, pattern, replacement in _RULES:
        if not personal_data and kind in _PERSONAL_DATA:
            continue
        if pattern.sub(replacement, text) != text:
            return kind
    return None


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers safe to print: credentials replaced, everything else redacted as text."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    safe: dict[str, str] = {}
    for name, value in items:
        if name.lower() in SENSITIVE_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            safe[name] = f"{scheme} (redacted)".strip()
        else:
            safe[name] = redact(value)
    return safe


def redact_json(value: Any) -> Any:
    """A deep copy of a JSON-like value with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        if "kty" in value:  # a JWK: its private members are secrets whatever they look like
            return {redact(str(k)): "(redacted)" if k in JWK_PRIVATE_MEMBERS else redact_json(v) for k, v in value.items()}
        return {redact(str(k)): redact_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_json(v) for v in value]
    return value
