"""The kit's one check library: plain functions that judge one exchange and return a record citing its clause.

The scenarios (``bdd/actions.py``) and the fuzzer (``fuzz/checks.py``) both call these
functions, so a rule is judged by one piece of code. Each function only judges; recording the
verdict and failing the scenario is the caller's job (:func:`enforce` raises :class:`CheckFailed`,
which the step glue turns into behave's failure). Every message says what was expected, what
came back, and is redacted.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from typing import Any, TypeGuard

from . import values
from .contract import Contract
from .http import HttpResult
from .redact import redact
from .results import CheckRecord
from .tokens.base import IssuedToken, OffNetworkOutcome


class CheckFailed(Exception):
    """A check did not hold (a finding about the target); the message names what, why and the clause."""


class AdvisoryRuleBroken(Exception):  # noqa: N818 - a control-flow signal
    """An advisory check did not hold: the scenario ends here as a warning (what follows would judge an answer
    the advisory rule already found wanting)."""


def enforce(record: CheckRecord) -> CheckRecord:
    """Raise CheckFailed with the record's message when the check failed (AdvisoryRuleBroken if advisory)."""
    if record.advisory and not record.passed:
        raise AdvisoryRuleBroken(f"{record.description}: {record.detail} [clause: {record.clause}]")
    if not record.passed:
        raise CheckFailed(f"{record.description}: {record.detail} [clause: {record.clause}]")
    return record


def _record(description: str, clause: str, passed: bool, detail: str) -> CheckRecord:
    """A failure's message is redacted here (it is printed and reported); a check that held is not, since the
    fuzzer drops it and a scenario redacts every record it keeps (``ScenarioState.check``): the fuzzer judges
    thousands of exchanges a second and redaction is the costliest part of a check that holds."""
    if passed:
        return CheckRecord(description=description, clause=clause, passed=True, detail=detail)
    return CheckRecord(description=redact(description), clause=clause, passed=False, detail=redact(detail))


def _body_snippet(result: HttpResult) -> str:
    text = result.text.strip()
    return (text[:300] + "…") if len(text) > 300 else (text or "(empty body)")


# -- status and headers --------------------------------------------------------------------------

def status_code(result: HttpResult, expected: int, clause: str) -> CheckRecord:
    ok = result.status == expected
    detail = f"expected {expected}, got {result.status}"
    if not ok:
        detail += f"; body: {_body_snippet(result)}"
    return _record(f"response status code is {expected}", clause, ok, detail)


def header_is(result: HttpResult, name: str, expected: str, clause: str) -> CheckRecord:
    """Header ``name`` (any case) equals ``expected``; media types are compared without parameters."""
    actual = result.headers.get(name)
    if name.lower() == "content-type" or "/" in expected:
        ok = actual is not None and values.media_type(actual) == values.media_type(expected)
        how = " (media type, parameters ignored)"
    else:
        ok = actual == expected
        how = ""
    shown = "(absent)" if actual is None else repr(actual)
    return _record(f'response header "{name}" is "{expected}"', clause, ok, f"expected {expected!r}{how}, got {shown}")


def header_echoes(result: HttpResult, response_name: str, request_name: str, clause: str) -> CheckRecord:
    """The response header carries the value the request header had (absent in both also holds)."""
    sent = next((v for n, v in result.request_headers.items() if n.lower() == request_name.lower()), None)
    return value_echoed(sent, result.headers.get(response_name), clause, response_name=response_name,
                        request_name=request_name)


def value_echoed(sent: str | None, got: str | None, clause: str, *, response_name: str = "x-correlator",
                 request_name: str = "x-correlator") -> CheckRecord:
    """A non-empty request header value comes back unchanged in the response header (x-correlator echo)."""
    if not sent:
        # Without a (non-empty) request value the response may carry any valid value or none.
        ok, detail = True, f"request carried no {request_name}; response value {got!r} is allowed"
    elif got is None:
        ok, detail = False, f"{response_name} not echoed: expected {sent!r} (from the request), got (absent)"
    else:
        ok = got == sent
        detail = f"expected {sent!r} (from the request), got {got!r}" if ok else \
            f"{response_name} echoed with a different value: expected {sent!r} (from the request), got {got!r}"
    return _record(f'response header "{response_name}" has the value of request header "{request_name}"',
                   clause, ok, detail)


def header_present(result: HttpResult, name: str, present: bool, clause: str) -> CheckRecord:
    """Header ``name`` (any case) exists (``present``) or does not."""
    got = result.headers.get(name)
    return _record(f'response header "{name}" {"exists" if present else "does not exist"}', clause,
                   (got is not None) == present, "present" if got is not None else "absent")


def header_complies(contract: Contract, pointer: str, value: str | None, name: str, clause: str, *,
                    required: bool = True) -> CheckRecord:
    """The header's value validates against the schema at ``pointer``; absent holds unless ``required``."""
    if value is None:
        return _record(f'response header "{name}" complies with the schema at {pointer}', clause, not required,
                       "absent")
    return complies_with_schema(contract, pointer, value, f'response header "{name}"', clause)


# -- schemas -------------------------------------------------------------------------------------

def complies_with_schema(contract: Contract, pointer: str, instance: Any, what: str, clause: str) -> CheckRecord:
    """``instance`` validates against the schema at ``pointer``; PointerNotFoundError propagates (a test defect)."""
    errors = contract.errors_at(pointer, instance)
    detail = "valid" if not errors else "; ".join(errors[:5]) + (f" (+{len(errors) - 5} more)" if len(errors) > 5 else "")
    return _record(f"{what} complies with the schema at #{pointer.lstrip('#')}", clause, not errors, detail)


def body_is_json(result: HttpResult, clause: str) -> CheckRecord:
    ok = result.json is not None or result.body.strip() == b"null"
    return _record("response body is JSON", clause, ok, "parsed" if ok else f"got {_body_snippet(result)}")


def response_complies(contract: Contract, operation_id: str, result: HttpResult) -> CheckRecord:
    """The body validates against the contract's schema for this operation and status code."""
    is_json = result.json is not None or result.body.strip() == b"null"
    return body_complies(contract, operation_id, result.status, result.json if is_json else None,
                         is_json=is_json, shown=_body_snippet(result))


def body_complies(contract: Contract, operation_id: str, status: int, body: Any, *, is_json: bool,
                  shown: str = "") -> CheckRecord:
    """The status is documented for the operation and the (parsed) body matches its schema."""
    pointer = contract.response_schema_pointer(operation_id, status)
    clause = f"contract:#{pointer}" if pointer else f"contract:#{contract.operation(operation_id).pointer}/responses"
    if pointer is None:
        return _record(f"response status {status} is documented for {operation_id}", clause, False,
                       f"the contract documents {contract.documented_statuses(operation_id)} only")
    if not is_json:
        return _record("response body is JSON", clause, False, f"got {shown or 'a body that is not JSON'}")
    return complies_with_schema(contract, pointer, body, "response body", clause)


ERROR_SHAPE_CLAUSE = "Commonalities ErrorInfo: an error body is {status, code, message}, status the HTTP status"
_ERROR_MEMBERS = (("status", int), ("code", str), ("message", str))


def error_body_problems(status: int, body: Any) -> list[str]:
    """What keeps ``body`` (parsed JSON, or None) of an error response from being a CAMARA ``ErrorInfo``:
    an object whose integer ``status`` is the HTTP status, with a string ``code`` and a string ``message``."""
    if not isinstance(body, Mapping):
        return [f"{status} body is not a JSON object"]
    problems = []
    for name, kind in _ERROR_MEMBERS:
        value = body.get(name)
        if name not in body:
            problems.append(f"{status} body lacks '{name}'")
        elif not isinstance(value, kind) or isinstance(value, bool):
            problems.append(f"{status} body '{name}' is not a{'n integer' if kind is int else ' string'}")
    if isinstance(body.get("status"), int) and not isinstance(body["status"], bool) and body["status"] != status:
        problems.append(f"body status {body['status']} differs from the HTTP status {status}")
    return problems


def error_body_shape(status: int, body: Any, clause: str = ERROR_SHAPE_CLAUSE) -> CheckRecord:
    """The error body is ``{status, code, message}`` with the HTTP status (see :func:`error_body_problems`)."""
    problems = error_body_problems(status, body)
    return _record("error body is {status, code, message} with the HTTP status", clause, not problems,
                   "; ".join(problems) if problems else "valid")


def error_code_allowed(contract: Contract, operation_id: str, result: HttpResult) -> CheckRecord | None:
    """The ``code`` is one the contract allows for this status; None when the contract lists none."""
    return error_code_in_contract(contract, operation_id, result.status, result.json)


def error_code_in_contract(contract: Contract, operation_id: str, status: int, body: Any) -> CheckRecord | None:
    """The body's ``code`` is one the contract allows for ``status``; None when the contract lists none."""
    allowed = contract.allowed_error_codes(operation_id, status)
    if not allowed:
        return None
    body = body if isinstance(body, Mapping) else {}
    pointer = contract.response_schema_pointer(operation_id, status)
    return code_allowed(body.get("code"), allowed, f"error code is one the contract allows for {status}",
                        f"contract:#{pointer}")


def code_allowed(actual: Any, allowed: frozenset[str], description: str, clause: str) -> CheckRecord:
    """``actual`` (any JSON value a target sent, absent included) is one of the ``allowed`` code strings."""
    ok = isinstance(actual, str) and actual in allowed
    return _record(description, clause, ok, f"allowed {sorted(allowed)}, got {values.show(actual)}")


# -- properties ----------------------------------------------------------------------------------

def property_exists(body: Any, path: str, clause: str) -> CheckRecord:
    found = values.exists(body, path)
    return _record(f'response property "{path}" exists', clause, found,
                   "present" if found else f"absent; body: {values.show(body)[:300]}")


def property_absent(body: Any, path: str, clause: str) -> CheckRecord:
    found = values.first(body, path)
    ok = values.is_missing(found)
    return _record(f'response property "{path}" does not exist', clause, ok,
                   "absent" if ok else f"present with value {values.show(found)}")


def property_equals(body: Any, path: str, expected: Any, clause: str, *, quoted: bool = False,
                    expected_label: str | None = None) -> CheckRecord:
    actual = values.first(body, path)
    ok = not values.is_missing(actual) and values.same_value(actual, expected, expected_was_quoted=quoted)
    label = expected_label or values.show(expected)
    return _record(f'response property "{path}" is {label}', clause, ok,
                   f"expected {values.show(expected)}, got {values.show(actual)}")


def property_one_of(body: Any, path: str, expected: list[Any], clause: str, *, quoted: bool = True) -> CheckRecord:
    """``the response property "$.code" is "X" OR "Y"``: the value is one of ``expected``."""
    actual = values.first(body, path)
    ok = not values.is_missing(actual) and any(values.same_value(actual, e, expected_was_quoted=quoted) for e in expected)
    shown = " or ".join(values.show(e) for e in expected)
    return _record(f'response property "{path}" is {shown}', clause, ok, f"expected {shown}, got {values.show(actual)}")


def property_rule(path: str, rule_text: str, holds: bool, found: str, clause: str) -> CheckRecord:
    """``the response property "..." matches the rule: <condition>``; the condition was evaluated by the caller."""
    return _record(f'response property "{path}" matches the rule: {rule_text}', clause, holds,
                   f"{'holds' if holds else 'does not hold'} for {found}")


def property_is_text(body: Any, path: str, clause: str) -> CheckRecord:
    """A user-friendly text: a non-empty string (its wording is free, so nothing more is asked)."""
    actual = values.first(body, path)
    ok = isinstance(actual, str) and bool(actual.strip())
    return _record(f'response property "{path}" contains a user friendly text', clause, ok,
                   "non-empty text" if ok else f"expected a non-empty string, got {values.show(actual)}")


def property_only_if(body: Any, path: str, condition: bool, condition_text: str, clause: str) -> CheckRecord:
    """Property ``path`` is present only when ``condition`` (described by ``condition_text``) holds."""
    present = values.exists(body, path)
    return _record(f'response property "{path}" only exists if {condition_text}', clause, condition or not present,
                   f"{path} {'present' if present else 'absent'}; condition {'holds' if condition else 'does not hold'}")


# -- tokens --------------------------------------------------------------------------------------

def no_refresh_token(issued: IssuedToken, clause: str) -> CheckRecord:
    return _record("no refresh token is issued with the access token", clause, not issued.refresh_token_issued,
                   "token response had no refresh_token" if not issued.refresh_token_issued
                   else "token response carried a refresh_token")


def token_lifetime(issued: IssuedToken) -> tuple[int | None, str]:
    """Seconds the token lives, from ``expires_in`` or else the JWT's ``exp - iat`` (not verified)."""
    if issued.expires_in is not None:
        return int(issued.expires_in), "expires_in"
    parts = issued.access_token.split(".")
    if len(parts) == 3:
        try:
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except ValueError:
            claims = None
        # The payload is whatever the target issued: a JSON array, a string or an infinite exp says nothing.
        if isinstance(claims, dict):
            exp, iat = claims.get("exp"), claims.get("iat")
            if _is_finite_number(exp) and _is_finite_number(iat):
                return int(exp - iat), "JWT exp - iat"
    return None, "neither expires_in nor JWT exp/iat"


def _is_finite_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def lifetime_at_most(issued: IssuedToken, max_seconds: int, clause: str) -> CheckRecord:
    lifetime, source = token_lifetime(issued)
    ok = lifetime is not None and 0 < lifetime <= max_seconds
    shown = f"{lifetime} s ({source})" if lifetime is not None else f"unknown ({source})"
    return _record(f"access token lifetime is at most {max_seconds} s", clause, ok,
                   f"expected <= {max_seconds} s, got {shown}")


def no_token_off_network(outcome: OffNetworkOutcome, clause: str) -> CheckRecord:
    ok = not outcome.token_issued
    detail = (f"no token; OAuth error {outcome.error!r}" if ok
              else "an access token was issued to a connection the network cannot identify")
    if outcome.detail:
        detail += f" ({outcome.detail})"
    return _record("no network-based access token is issued off the mobile network", clause, ok, detail)


def off_network_error_given(outcome: OffNetworkOutcome, clause: str) -> CheckRecord:
    ok = bool(outcome.error)
    return _record("the refusal carries an OAuth error code", clause, ok,
                   f"error {outcome.error!r}" if ok else "no OAuth error code in the refusal")

