"""Collects check verdicts during a fuzz run: counts per (check, operation), one example per finding.

Failures are deduplicated by (check, operation); of the failing requests the shortest reproduction
is kept (hypothesis shrinks failing cases, so the last ones tend to be the simplest).
Everything stored is redacted: the token becomes ``$ACCESS_TOKEN``, phone numbers are masked.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from ..exchange import curl_command as engine_curl_command
from ..redact import redact, redact_headers
from ..results import ExchangeRecord
from .exchange import FuzzExchange

TOKEN_PLACEHOLDER = "$ACCESS_TOKEN"
_SKIP_CURL_HEADERS = {
    "content-length", "host", "connection", "accept-encoding", "user-agent", "accept", "x-schemathesis-testcaseid",
}
MAX_BODY_SHOWN = 4000


def curl_command(ex: FuzzExchange, gateway_headers: tuple[str, ...] = ()) -> str:
    """A curl command that repeats the request (the engine's builder): token as ``$ACCESS_TOKEN``, all redacted.

    The kit's client adds the gateway's ``http.headers`` when it sends (schemathesis never sees them):
    they are added here as shell variables, so the command reaches the gateway as the fuzzer did."""
    headers = [(_header_case(name), value) for name, value in ex.request_headers.items() if name not in _SKIP_CURL_HEADERS]
    sent = {name.lower() for name, _ in headers}
    headers += [(name, "") for name in gateway_headers if name.lower() not in sent]
    return engine_curl_command(ex.method, ex.url, headers, ex.request_body, token_note="a fresh access token",
                               secret_headers=gateway_headers)


def _header_case(name: str) -> str:
    return name if name.startswith("x-") else "-".join(p.capitalize() for p in name.split("-"))


def exchange_record(ex: FuzzExchange, gateway_headers: tuple[str, ...] = ()) -> ExchangeRecord:
    """The exchange as the report model stores it (redacted, with the reproducing command)."""
    headers = redact_headers(ex.request_headers)
    if "authorization" in headers:
        headers["authorization"] = f"Bearer {TOKEN_PLACEHOLDER}"
    body = ex.request_body[:MAX_BODY_SHOWN].decode("utf-8", errors="backslashreplace") if ex.request_body is not None else None
    response_body = ex.response_body[:MAX_BODY_SHOWN].decode("utf-8", errors="backslashreplace")  # not all of a 50 MB body
    return ExchangeRecord(
        method=ex.method,
        url=redact(ex.url),
        request_headers=headers,
        request_body=redact(body[:MAX_BODY_SHOWN]) if body is not None else None,
        status=ex.status,
        response_headers=redact_headers(ex.response_headers),
        response_body=redact(response_body[:MAX_BODY_SHOWN]),
        elapsed_ms=round(ex.elapsed_s * 1000, 1),
        reproduce=curl_command(ex, gateway_headers),
    )


@dataclass
class Finding:
    """One (check, operation) that failed: how often, and the simplest request that shows it."""

    check: str
    operation_id: str
    problem: str
    example: ExchangeRecord
    occurrences: int = 1
    advisory: bool = False  # of an advisory check: a warning, not a finding


@dataclass
class FindingsCollector:
    """Thread-safe tally of check results; the runner feeds it, the report reads it."""

    applied: Counter[tuple[str, str]] = field(default_factory=Counter)
    failed: Counter[tuple[str, str]] = field(default_factory=Counter)
    findings: dict[tuple[str, str], Finding] = field(default_factory=dict)  # warnings (advisory checks) too
    gateway_headers: tuple[str, ...] = ()  # names of the http.headers the client adds (values never stored)
    advisory_checks: frozenset[str] = frozenset()  # checks whose failures are warnings
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, check: str, ex: FuzzExchange, problems: list[str] | None) -> bool:
        """Count one result; True when it is a new (check, operation) finding."""
        if problems is None:
            return False
        key = (check, ex.operation_id)
        with self._lock:
            self.applied[key] += 1
            if not problems:
                return False
            self.failed[key] += 1
            current = self.findings.get(key)
            if current is not None:
                current.occurrences += 1
                if len(curl_command(ex, self.gateway_headers)) >= len(current.example.reproduce):
                    return False
        record = exchange_record(ex, self.gateway_headers)
        with self._lock:
            current = self.findings.get(key)
            if current is None:
                self.findings[key] = Finding(check, ex.operation_id, redact("; ".join(problems)), record,
                                             advisory=check in self.advisory_checks)
                return check not in self.advisory_checks
            if len(record.reproduce) < len(current.example.reproduce):
                current.problem = redact("; ".join(problems))
                current.example = record
        return False

    @property
    def finding_count(self) -> int:
        """Distinct findings (warnings not counted)."""
        with self._lock:
            return sum(1 for f in self.findings.values() if not f.advisory)

    def sorted_findings(self) -> list[Finding]:
        """The findings, warnings left out (see :meth:`sorted_warnings`)."""
        with self._lock:
            return sorted((f for f in self.findings.values() if not f.advisory), key=lambda f: (f.check, f.operation_id))

    def sorted_warnings(self) -> list[Finding]:
        with self._lock:
            return sorted((f for f in self.findings.values() if f.advisory), key=lambda f: (f.check, f.operation_id))
