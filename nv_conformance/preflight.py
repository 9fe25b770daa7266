"""Pre-flight: prove the tester's own setup works before any scenario can blame the target.

An unreachable API root, a token endpoint refusing the tester's client or a wrong base path
would otherwise fail every scenario and call the target "not conformant". The pre-flight asks
five cheap questions and answers with one line naming the first (in this order) that got a "no":

1. the API root answers at all (TCP, TLS, HTTP): one request per operation, without a token;
2. discovery works, where the config uses it, and
3. one token of each configured fresh kind can be obtained (discovery is the first thing a
   token method does, so its failure names discovery);
4. the operations do not all answer 404 (a wrong ``api_root``, ``base_path`` or ``api_version``);
5. a valid token obtained just now is not refused with 401 by an operation without a request body
   (an API gateway's key missing or wrong in ``http.headers``, a token for another audience).
   A provider that truly refuses every valid token is not judged here: ``--no-preflight`` runs the
   scenarios, which then fail it.

Everything goes through the target's own HTTP client and token provider, so ``http.headers``,
client certificates and proxies apply exactly as they will in the run.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .contract import Operation
from .errors import TargetError, TokenError
from .exchange import DefectiveDefinition, scope_for
from .http import TargetMisbehaved
from .redact import redact
from .target import Target
from .tokens.base import FRESH_KINDS, IssuedToken, TokenKind


class PreflightFailed(Exception):  # noqa: N818 - the message is the one line the user sees
    """The tester's setup does not work: the message names the endpoint, status, OAuth error and a hint."""


@dataclass
class PreflightReport:
    """What the pre-flight saw (for the reports' declared options and for tests)."""

    statuses: dict[str, int] = field(default_factory=dict)  # operation id -> status without a token (0: beyond bounds)
    tokens: list[str] = field(default_factory=list)          # kinds obtained


def preflight(target: Target) -> PreflightReport:
    """Raise :class:`PreflightFailed` at the first thing that does not work; else what was seen.

    The probes and the token requests go out side by side (a CIBA token costs its poll interval,
    5 s by default; across a network every request a round trip); the answers are then judged in
    the order above, so the line shown is the first question's that failed."""
    report = PreflightReport()
    operations = list(target.contract.operations.values())
    base = target.base_url.rstrip("/")
    kinds = [k for k in TokenKind if k in FRESH_KINDS and target.tokens.supports(k)]
    with ThreadPoolExecutor(max_workers=len(operations) + len(kinds), thread_name_prefix="nv-preflight") as pool:
        probes = {op.operation_id: pool.submit(_probe, target, base, op) for op in operations}
        asked = {kind: pool.submit(target.tokens.get, kind, _scope(target, kind)) for kind in kinds}
    for operation_id, probe in probes.items():
        report.statuses[operation_id] = probe.result()
    tokens: dict[TokenKind, IssuedToken] = {}
    for kind, future in asked.items():
        try:
            tokens[kind] = future.result()
        except TokenError as exc:
            raise PreflightFailed(f"no {kind.value} access token: {redact(exc)}") from None
        report.tokens.append(kind.value)
    if report.statuses and all(status == 404 for status in report.statuses.values()):
        where = redact(base)
        raise PreflightFailed(f"every operation answered 404 at {where}: check api_root, base_path or api_version "
                              f"(API {target.api_version} is served at {target.profile.base_path} by default)")
    _valid_token_accepted(target, base, tokens.get(TokenKind.VALID))
    return report


def _probe(target: Target, base: str, operation: Operation) -> int:
    """The status an operation answers without a token (0: an answer beyond the kit's bounds)."""
    try:
        result = target.client.request(operation.method.upper(), base + operation.path,
                                       headers=_probe_headers(operation))
    except TargetMisbehaved:  # it answered, beyond the kit's bounds: the target's failure, for the scenarios
        return 0
    except TargetError as exc:
        raise PreflightFailed(f"the API root does not answer: {redact(exc)} (check api_root, the network, "
                              "TLS settings and http.proxy)") from None
    return result.status


def _valid_token_accepted(target: Target, base: str, token: IssuedToken | None) -> None:
    operation = _operation_without_body(target)
    if operation is None or token is None:
        return
    url = base + operation.path
    method = operation.method.upper()
    try:
        result = target.client.request(method, url, headers={"authorization": f"Bearer {token.access_token}"})
    except TargetError:  # bounds broken or the connection dropped: the scenarios show it as the target's
        return
    if result.status == 401:
        document = result.json
        code = document.get("code") if isinstance(document, dict) else None
        code = f" ({redact(code)})" if isinstance(code, str) and code else ""  # a gateway's own body has none
        raise PreflightFailed(
            f"{method} {redact(url)} answered HTTP 401{code} to a valid access token obtained just now: check "
            "http.headers (an API gateway's key), the token settings (audience, scope) and api_version "
            "(--no-preflight runs the scenarios anyway)")


def _probe_headers(operation: Operation) -> dict[str, str]:
    # No token, an empty JSON body header: any routed endpoint answers 400/401/403, an unrouted one 404.
    return {"content-type": "application/json"} if operation.has_request_body else {}


def _operation_without_body(target: Target) -> Operation | None:
    return next((op for op in target.contract.operations.values() if not op.has_request_body), None)


def _scope(target: Target, kind: TokenKind) -> str:
    """The scope a scenario's token of ``kind`` carries (exchange.scope_for) for the operation without a
    request body (the valid token is sent to it), else the first; a contract with no other operation's
    scope gets that operation's own (the run then finds the defect)."""
    operation = _operation_without_body(target) or next(iter(target.contract.operations.values()))
    try:
        return scope_for(target.contract, operation.operation_id, kind)
    except DefectiveDefinition:
        return scope_for(target.contract, operation.operation_id, TokenKind.VALID)
