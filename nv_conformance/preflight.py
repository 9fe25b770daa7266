"""Pre-flight: prove the tester's own setup works before any scenario can blame the target.

An unreachable API root, a token endpoint refusing the tester's client or a wrong base path
would otherwise fail every scenario and call the target "not conformant". The pre-flight asks
four cheap questions in order and stops at the first "no" with one line naming what failed:

1. the API root answers at all (TCP, TLS, HTTP): one request per operation, without a token;
2. discovery works, where the config uses it, and
3. one token of each configured fresh kind can be obtained (discovery is the first thing a
   token method does, so its failure names discovery);
4. the operations do not all answer 404 (a wrong ``api_root``, ``base_path`` or ``api_version``).

Everything goes through the target's own HTTP client and token provider, so ``http.headers``,
client certificates and proxies apply exactly as they will in the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .contract import Operation
from .errors import TargetError, TokenError
from .exchange import DefectiveDefinition, scope_for
from .http import TargetMisbehaved
from .redact import redact
from .target import Target
from .tokens.base import FRESH_KINDS, TokenKind


class PreflightFailed(Exception):  # noqa: N818 - the message is the one line the user sees
    """The tester's setup does not work: the message names the endpoint, status, OAuth error and a hint."""


@dataclass
class PreflightReport:
    """What the pre-flight saw (for the reports' declared options and for tests)."""

    statuses: dict[str, int] = field(default_factory=dict)  # operation id -> status without a token (0: beyond bounds)
    tokens: list[str] = field(default_factory=list)          # kinds obtained


def preflight(target: Target) -> PreflightReport:
    """Raise :class:`PreflightFailed` at the first thing that does not work; else what was seen."""
    report = PreflightReport()
    operations = list(target.contract.operations.values())
    base = target.base_url.rstrip("/")
    for operation in operations:
        url = base + operation.path
        try:
            result = target.client.request(operation.method.upper(), url, headers=_probe_headers(operation))
        except TargetMisbehaved:  # it answered, beyond the kit's bounds: the target's failure, for the scenarios
            report.statuses[operation.operation_id] = 0
            continue
        except TargetError as exc:
            raise PreflightFailed(f"the API root does not answer: {redact(exc)} (check api_root, the network, "
                                  "TLS settings and http.proxy)") from None
        report.statuses[operation.operation_id] = result.status
    for kind in sorted(FRESH_KINDS, key=lambda k: list(TokenKind).index(k)):
        if not target.tokens.supports(kind):
            continue
        scope = _scope(target, kind)
        try:
            target.tokens.get(kind, scope)
        except TokenError as exc:
            raise PreflightFailed(f"no {kind.value} access token: {redact(exc)}") from None
        report.tokens.append(kind.value)
    if report.statuses and all(status == 404 for status in report.statuses.values()):
        where = redact(base)
        raise PreflightFailed(f"every operation answered 404 at {where}: check api_root, base_path or api_version "
                              f"(API {target.api_version} is served at {target.profile.base_path} by default)")
    return report


def _probe_headers(operation: Operation) -> dict[str, str]:
    # No token, an empty JSON body header: any routed endpoint answers 400/401/403, an unrouted one 404.
    return {"content-type": "application/json"} if operation.has_request_body else {}


def _scope(target: Target, kind: TokenKind) -> str:
    """The scope a scenario's token of ``kind`` carries for the first operation (exchange.scope_for); a
    contract with no other operation's scope gets that operation's own (the run then finds the defect)."""
    first = next(iter(target.contract.operations))
    try:
        return scope_for(target.contract, first, kind)
    except DefectiveDefinition:
        return scope_for(target.contract, first, TokenKind.VALID)
