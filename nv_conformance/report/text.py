"""Turning result records into safe text: everything a report shows passes through here."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..redact import redact, redact_headers, redact_json
from ..results import ExchangeRecord, ScenarioResult

# XML 1.0 forbids most control characters; a target may send anything in a body.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_BODY_CHARS = 8000


def safe(value: Any) -> str:
    """Redacted text without characters that XML/HTML cannot carry."""
    if value is None:
        return ""
    return _XML_ILLEGAL.sub("\ufffd", redact(value))


def one_line(value: Any, limit: int = 200) -> str:
    """A redacted single line, cut to ``limit`` characters (for progress lines and JUnit messages)."""
    text = " ".join(safe(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# What a reason must never lose when it is cut for a terminal: the HTTP status and the error code.
_KEEP = re.compile(r"HTTP \d{3}|OAuth error [\w.:-]+|got \d{3}(?: with code '?[\w.]+'?)?|code '?[A-Z][A-Z0-9_.]+'?"
                   r"|status \d+")


def reason_line(value: Any, limit: int | None) -> str:
    """A redacted single line; cut to ``limit`` (None: never) but never before its status and error code."""
    text = " ".join(safe(value).split())
    if limit is None or len(text) <= limit:
        return text
    keep = max((m.end() for m in _KEEP.finditer(text)), default=0)
    cut = max(limit - 1, keep)
    return text if cut >= len(text) else text[:cut] + "…"


def body_text(body: str | None) -> str:
    if not body:
        return ""
    text = safe(body)
    if len(text) > MAX_BODY_CHARS:
        text = text[:MAX_BODY_CHARS] + f"\n… ({len(text) - MAX_BODY_CHARS} more characters cut)"
    return text


def exchange_request(exchange: ExchangeRecord) -> str:
    """The request as an HTTP message (redacted again: records should already be, but a report must not rely on it)."""
    lines = [f"{safe(exchange.method)} {safe(exchange.url)}"]
    lines += [f"{safe(k)}: {safe(v)}" for k, v in redact_headers(exchange.request_headers or {}).items()]
    body = body_text(exchange.request_body)
    return "\n".join(lines) + (f"\n\n{body}" if body else "")


def exchange_response(exchange: ExchangeRecord) -> str:
    if exchange.status is None:
        return "(no response)"
    elapsed = f"  ({exchange.elapsed_ms:.0f} ms)" if exchange.elapsed_ms is not None else ""
    lines = [f"HTTP {exchange.status}{elapsed}"]
    lines += [f"{safe(k)}: {safe(v)}" for k, v in redact_headers(exchange.response_headers or {}).items()]
    body = body_text(exchange.response_body)
    return "\n".join(lines) + (f"\n\n{body}" if body else "")


_SECRET_OPTION = re.compile(r"(?i)secret|password|passphrase|private_key|assertion|access_token|operator_token")


_MASKED_PHONE = re.compile(r"^\+?\d{1,11}\*{4}$")  # what redact.mask_phone produced


def safe_options(options: dict[str, Any]) -> dict[str, Any]:
    """Declared options for a report: values of secret-looking settings hidden, the rest redacted."""
    safe_options: dict[str, Any] = {}
    for key, value in options.items():
        if _SECRET_OPTION.search(str(key)) and value not in (None, "", False):
            safe_options[str(key)] = "(redacted)"
        elif isinstance(value, str) and _MASKED_PHONE.match(value):
            safe_options[str(key)] = value  # already masked; masking again would hide which number it was
        else:
            safe_options[str(key)] = redact_json(value)
    return safe_options


def clauses_of(scenario: ScenarioResult) -> list[str]:
    """The clauses a scenario checks: declared on the scenario, else those its checks cite."""
    if scenario.clauses:
        return list(scenario.clauses)
    return list(dict.fromkeys(c.clause for c in scenario.checks if c.clause))


def location_of(scenario: ScenarioResult) -> str:
    """``file:line`` a reader can find: the kit's own features relative to the kit, others absolute.

    behave gives paths relative to the working directory (``../../work/main/features/x.feature``).
    """
    from ..resources import kit_root

    file, sep, line = scenario.location.rpartition(":")
    if not sep or not line.isdigit():
        file, line = scenario.location, ""
    if not file:
        return ""
    path = Path(os.path.normpath(Path.cwd() / file))
    try:
        shown = path.relative_to(kit_root()).as_posix()
    except ValueError:
        shown = str(path)
    return safe(f"{shown}:{line}" if line else shown)
