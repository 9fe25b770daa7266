"""What each step sentence does, as plain functions of the scenario state.

Step functions in ``steps/`` only parse their sentence and call one function here; sentences
that mean the same call the same function. Everything here is importable and unit-tested
without behave.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from .. import checks, values
from ..contract import Contract, ContractError, PointerNotFoundError, normalise_pointer
from ..exchange import (
    AuthMode,
    AuthSpec,
    DefectiveDefinition,
    NotApplicable,
    Sent,
    SkipScenario,
    obtain_token,
    scope_for,
)
from ..phone import sha256_hex
from ..profiles import ADVISORY_RULES
from ..results import CheckRecord
from ..tokens.base import IssuedToken, TokenKind, TokenProvider, off_network_unsupported_reason
from . import rules
from .session import ScenarioState

# -- test data ----------------------------------------------------------------------------------

def subscriber_number(state: ScenarioState) -> str:
    """The number the kit's valid tokens identify (``test_data.phone_number``)."""
    number = state.session.test_data.phone_number
    if not number:
        raise SkipScenario("the target config gives no test_data.phone_number (the number the valid tokens identify)")
    return number


def other_number(state: ScenarioState) -> str:
    """A valid number that is not the subscriber's (``test_data.other_phone_number``)."""
    number = state.session.test_data.other_phone_number
    if not number:
        raise SkipScenario("the target config gives no test_data.other_phone_number "
                           "(a valid number different from the one the token identifies)")
    return number


def phone_value(state: ScenarioState, which: str, *, hashed: bool = False, upper: bool = False) -> str:
    """``which`` is ``subscriber`` or ``other``; optionally the SHA-256 hex of the number."""
    number = subscriber_number(state) if which == "subscriber" else other_number(state)
    if not hashed:
        return number
    digest = sha256_hex(number)
    return digest.upper() if upper else digest


def require_subscriber(state: ScenarioState) -> None:
    """Descriptive set-up: the target must have told us which number its tokens identify."""
    subscriber_number(state)


# -- where the request goes ---------------------------------------------------------------------

def use_environment(state: ScenarioState, name: str) -> None:
    """``an environment at "apiRoot"``: the API root always comes from the target config."""


def use_resource(state: ScenarioState, path: str) -> None:
    """``the resource "/number-verification/v2" as base url``.

    The feature's base path is used as written, unless the target config pins ``base_path``
    (a CSP that serves the API elsewhere): then the config wins.
    """
    session = state.session
    if session.base_path_explicit:
        return
    state.conversation.draft.base_url = session.api_root.rstrip("/") + "/" + path.strip().strip("/")


def use_version_base_path(state: ScenarioState) -> None:
    """Our own features: the base path of the API version under test (from the target/profile)."""
    state.conversation.draft.base_url = None


def set_path_parameter(state: ScenarioState, name: str, value: str) -> None:
    state.conversation.draft.path_params[name] = value


def set_query_parameter(state: ScenarioState, name: str, value: str) -> None:
    state.conversation.draft.query[name] = value


# -- headers -------------------------------------------------------------------------------------

def set_header(state: ScenarioState, name: str, value: str) -> None:
    state.conversation.draft.set_header(name, value)


def set_headers(state: ScenarioState, rows: Iterable[tuple[str, str]]) -> None:
    for name, value in rows:
        set_header(state, name, value)


def remove_header(state: ScenarioState, name: str) -> None:
    state.conversation.draft.remove_header(name)


def _schema_pointer(state: ScenarioState, pointer: str) -> str:
    """``pointer`` checked against the contract in use; a pointer naming nothing is a test defect."""
    try:
        state.session.contract.resolve(pointer)
    except PointerNotFoundError:
        raise DefectiveDefinition(
            f'the schema pointer "{pointer}" names nothing in the contract in use ({_contract_name(state.session.contract)})'
        ) from None
    return pointer


def _contract_name(contract: Contract) -> str:
    return f"{contract.source}, version {contract.version}"


def set_header_compliant(state: ScenarioState, name: str, pointer: str) -> None:
    """A fresh value that the schema at ``pointer`` accepts (a UUID fits every x-correlator pattern)."""
    _schema_pointer(state, pointer)
    for value in (str(uuid.uuid4()), uuid.uuid4().hex, "nv-conformance"):
        if not state.session.contract.errors_at(pointer, value):
            set_header(state, name, value)
            return
    raise DefectiveDefinition(f'the kit cannot make a value that complies with the schema at "{pointer}"')


_NONCOMPLIANT_TEXT = ("not valid: spaces & #hash!", "x" * 300, "\u00e4\u00f6\u00fc-invalid", "")


def set_header_noncompliant(state: ScenarioState, name: str, pointer: str) -> None:
    """A value the schema at ``pointer`` rejects; NotApplicable when it rejects no string (any value allowed)."""
    _schema_pointer(state, pointer)
    for value in _NONCOMPLIANT_TEXT:
        if value.isascii() and state.session.contract.errors_at(pointer, value):
            set_header(state, name, value)
            return
    raise NotApplicable(f'the schema at "{pointer}" accepts any header text, so no value can break it')


def _max_length(state: ScenarioState, pointer: str) -> int:
    """The schema's ``maxLength``; NotApplicable where the contract in use sets none."""
    _schema_pointer(state, pointer)
    limit = state.session.contract.max_length_at(pointer)
    if limit is None:
        raise NotApplicable(f'the contract in use ({state.session.contract.version}) gives the schema at "{pointer}" '
                            "no maximum length")
    state.clauses.append(f"contract:#{normalise_pointer(pointer)} (maxLength: {limit})")
    return limit


def use_token_without_scope(state: ScenarioState, scope: str) -> None:
    """``... an access token that does not include scope "<scope>"``: the other operation's token, which lacks it.

    The scope must be one the API defines; which operation the request goes to is known only at send time,
    so the token kind is the one that carries another operation's scope and none of this one's.
    """
    known = {s for op in state.session.contract.operations.values() for s in op.scopes}
    if scope not in known:
        raise DefectiveDefinition(f'the scope "{scope}" is not a scope of any operation of the API ({", ".join(sorted(known))})')
    state.token_without_scope = scope
    use_token(state, TokenKind.OTHER_SCOPE)


def set_header_too_long(state: ScenarioState, name: str, pointer: str) -> None:
    """A header value one character longer than the schema's ``maxLength`` (characters the pattern allows)."""
    set_header(state, name, "a" * (_max_length(state, pointer) + 1))


def set_body_property_too_long(state: ScenarioState, path: str, pointer: str) -> None:
    """One character over the schema's ``maxLength``: a '+' and digits for a phone number, else hex digits,
    so the value differs from a valid one in its length alone as far as the character set goes."""
    limit = _max_length(state, pointer)
    example = state.session.contract.deref(state.session.contract.resolve(pointer)).get("example")
    value = "+" + "4" * limit if isinstance(example, str) and example.startswith("+") else "a" * (limit + 1)
    set_body_property(state, path, value)


# -- tokens in the request ------------------------------------------------------------------------

def use_token(state: ScenarioState, kind: TokenKind, scheme: str = "Bearer") -> None:
    """The Authorization header will carry a fresh token of ``kind`` (fetched at send time)."""
    state.conversation.draft.auth = AuthSpec(mode=AuthMode.TOKEN, kind=kind, scheme=scheme)


def use_tampered_token(state: ScenarioState) -> None:
    state.conversation.draft.auth = AuthSpec(mode=AuthMode.TAMPERED)


# -- body ----------------------------------------------------------------------------------------

def body_default_compliant(state: ScenarioState) -> None:
    """A body compliant with the operation's schema, used unless the scenario sets the body itself."""
    state.conversation.draft.body.set_default(lambda: {"phoneNumber": subscriber_number(state)})


def body_compliant_at(state: ScenarioState, pointer: str) -> None:
    """``the request body is compliant with the schema at "..."`` (also "set by default to ..."): the kit's
    compliant body, which must indeed comply with that schema (else the sentence names the wrong schema)."""
    _schema_pointer(state, pointer)
    body = {"phoneNumber": subscriber_number(state)}
    errors = state.session.contract.errors_at(pointer, body)
    if errors:
        raise DefectiveDefinition(f'the schema at "{pointer}" is not the request body\'s: a valid request body breaks it '
                                  f"({errors[0]})")
    state.conversation.draft.body.set_json(body)


_NONCOMPLIANT_BODIES: tuple[Any, ...] = ({}, [], "text", {"phoneNumber": 12345678}, None)


def body_noncompliant_at(state: ScenarioState, pointer: str) -> None:
    """``the request body is included but is not compliant with the schema at "..."``: the first of a fixed list
    of JSON bodies the schema rejects (repeatable runs)."""
    _schema_pointer(state, pointer)
    for candidate in _NONCOMPLIANT_BODIES:
        if state.session.contract.errors_at(pointer, candidate):
            state.conversation.draft.body.set_json(candidate)
            return
    raise DefectiveDefinition(f'the kit found no request body that breaks the schema at "{pointer}"')


def body_valid(state: ScenarioState) -> None:
    """``the request body is set to a valid request body``: the subscriber's own number."""
    state.conversation.draft.body.set_json({"phoneNumber": subscriber_number(state)})


def body_text(state: ScenarioState, text: str) -> None:
    """The body is exactly ``text`` (a docstring or a quoted value), valid JSON or not."""
    state.conversation.draft.body.set_raw(text)


def body_absent(state: ScenarioState) -> None:
    state.conversation.draft.body.set_absent()


def set_body_property(state: ScenarioState, path: str, value: Any) -> None:
    body = state.conversation.draft.body
    try:
        body.set_json(values.set_path(body.editable(), path, value))
    except values.PathError as exc:
        raise DefectiveDefinition(str(exc)) from None
    state.last_body_path = path


def set_body_property_literal(state: ScenarioState, path: str, text: str) -> None:
    """``... is set to "x"`` / ``... is set to: 123``: JSON literal when bare, text when quoted."""
    set_body_property(state, path, values.parse_literal(text))


def set_body_property_number(state: ScenarioState, path: str, which: str, *, hashed: bool = False,
                             upper: bool = False, pointer: str | None = None) -> None:
    """A phone number (plain or hashed) from the test data; with ``pointer``, the form that schema accepts."""
    if pointer is None:
        set_body_property(state, path, phone_value(state, which, hashed=hashed, upper=upper))
        return
    _schema_pointer(state, pointer)
    candidates = [phone_value(state, which, hashed=hashed, upper=upper)]
    if not hashed:
        candidates.append(phone_value(state, which, hashed=True))
    for candidate in candidates:
        if not state.session.contract.errors_at(pointer, candidate):
            set_body_property(state, path, candidate)
            return
    raise DefectiveDefinition(f'no form of the test phone number complies with the schema at "{pointer}"')


def body_property_complies(state: ScenarioState, path: str | None, pointer: str) -> None:
    """Set-up precondition: the value already in the body (``path``, or the last one set) fits ``pointer``."""
    _schema_pointer(state, pointer)
    path = path or getattr(state, "last_body_path", None)
    if not path:
        raise DefectiveDefinition("'the same phone number' refers to no request body property set before")
    value = values.first(state.conversation.draft.body.current(), path)
    errors = ["absent"] if values.is_missing(value) else state.session.contract.errors_at(pointer, value)
    if errors:
        raise DefectiveDefinition(f'the request body property "{path}" does not comply with "{pointer}" as the '
                                  f"scenario assumes: {'; '.join(errors)}")


_NONCOMPLIANT_VALUES: tuple[Any, ...] = ("12345678", "+0123456789", "+12345678901234567890", "+44 7700 900123",
                                         "not-a-number", "", 12345678, True, None)


def set_body_property_noncompliant(state: ScenarioState, path: str, pointer: str) -> None:
    """A value the schema at ``pointer`` rejects (the first of a fixed list, so runs are repeatable)."""
    _schema_pointer(state, pointer)
    for candidate in _NONCOMPLIANT_VALUES:
        if state.session.contract.errors_at(pointer, candidate):
            set_body_property(state, path, candidate)
            return
    raise DefectiveDefinition(f'the kit found no value that breaks the schema at "{pointer}"')


def remove_body_properties(state: ScenarioState, paths: Iterable[str]) -> None:
    """``the request body does not contain ...``: make it so."""
    body = state.conversation.draft.body
    current = body.current()
    if not isinstance(current, dict | list):
        return
    body.set_json(current)
    for path in paths:
        try:
            values.delete_path(current, path)
        except values.PathError as exc:
            raise DefectiveDefinition(str(exc)) from None


def body_property_subscriber_in_body(state: ScenarioState) -> None:
    """``a valid phone number identified by the token and provided in the request body``."""
    state.conversation.draft.body.set_json({"phoneNumber": subscriber_number(state)})


# -- sending -------------------------------------------------------------------------------------

def request_sent(state: ScenarioState, operation_id: str) -> None:
    state.conversation.request_sent(operation_id)
    lacking = state.token_without_scope
    if lacking and lacking not in state.session.contract.operation(operation_id).scopes:
        raise DefectiveDefinition(f'the token is to lack the scope "{lacking}", which {operation_id} does not need: '
                                  "a correct API answers it normally, so the scenario cannot expect a refusal")


def set_resource_path(state: ScenarioState, path: str) -> None:
    """Older files: ``the resource is "/verify"`` names the operation path below the base url."""
    state.conversation.draft.resource_path = "/" + path.strip().lstrip("/")


def request_sent_by_method(state: ScenarioState, method: str) -> None:
    """Older files: ``When the HTTPS "POST" request is sent`` (the operation comes from the resource path)."""
    state.conversation.request_sent_by_method(method)


def resend_with_same_token(state: ScenarioState) -> None:
    """Where single use is only advised (a later version's rule), what the reuse gets is a warning."""
    if "single_use" in state.advisory_rules:
        state.advisory_from_now = True
    state.conversation.resend_with_same_token()


def _sent(state: ScenarioState) -> Sent:
    return state.conversation.response()


# -- clauses -------------------------------------------------------------------------------------

def response_clause(contract: Contract, operation_id: str, status: int) -> str:
    """Where the contract documents ``status`` for the operation, e.g. ``contract:#/components/responses/Generic401``."""
    pointer = contract.response_pointer(operation_id, status)
    if pointer is None:
        return f"contract:#{contract.operation(operation_id).pointer}/responses (status {status} not documented)"
    return f"contract:#{pointer}"


def _header_clause(state: ScenarioState, name: str) -> str:
    if name.lower() == "x-correlator":
        return f"Commonalities {state.session.profile.commonalities} x-correlator"
    return "CAMARA API Testing Guidelines: response header"


# -- response assertions -------------------------------------------------------------------------

def expect_status(state: ScenarioState, status: int) -> CheckRecord | None:
    sent = _sent(state)
    clause = response_clause(state.session.contract, sent.operation_id, status)
    return state.check(checks.status_code(sent.result, status, clause))


def expect_header(state: ScenarioState, name: str, value: str) -> CheckRecord | None:
    sent = _sent(state)
    clause = response_clause(state.session.contract, sent.operation_id, sent.result.status)
    return state.check(checks.header_is(sent.result, name, value, clause))


def expect_header_exists(state: ScenarioState, name: str, present: bool = True) -> CheckRecord | None:
    sent = _sent(state)
    return state.check(checks.header_present(sent.result, name, present, _header_clause(state, name)))


def expect_header_echo(state: ScenarioState, response_name: str, request_name: str) -> CheckRecord | None:
    sent = _sent(state)
    return state.check(checks.header_echoes(sent.result, response_name, request_name,
                                            _header_clause(state, response_name)))


def expect_schema_at(state: ScenarioState, pointer: str) -> CheckRecord | None:
    sent = _sent(state)
    _schema_pointer(state, pointer)
    state.check(checks.body_is_json(sent.result, f"contract:#{normalise_pointer(pointer)}"))
    return state.check(checks.complies_with_schema(state.session.contract, pointer, sent.result.json,
                                                   "response body", f"contract:#{normalise_pointer(pointer)}"))


def expect_schema_for_operation(state: ScenarioState) -> CheckRecord | None:
    """The contract's schema for the status; for a 4xx also the ErrorInfo shape and an allowed code (the
    fuzzer's ``error_body`` judges the same two with the same functions)."""
    sent = _sent(state)
    record = state.check(checks.response_complies(state.session.contract, sent.operation_id, sent.result))
    if 400 <= sent.result.status < 500:
        state.check(checks.error_body_shape(sent.result.status, sent.result.json))
    state.check(checks.error_code_allowed(state.session.contract, sent.operation_id, sent.result))
    return record


def _body(state: ScenarioState) -> tuple[Sent, Any]:
    """The response's JSON body; checked to be JSON once per response (a failure is a finding)."""
    sent = _sent(state)
    if not sent.json_checked:
        sent.json_checked = True
        state.check(checks.body_is_json(sent.result, _property_clause(state, sent)))
    return sent, sent.result.json


def _property_clause(state: ScenarioState, sent: Sent) -> str:
    pointer = None
    try:
        pointer = state.session.contract.response_schema_pointer(sent.operation_id, sent.result.status)
    except ContractError:
        pass
    return state.clause(f"contract:#{pointer}" if pointer else "feature file assertion")


def expect_property_exists(state: ScenarioState, path: str) -> CheckRecord | None:
    sent, body = _body(state)
    return state.check(checks.property_exists(body, path, _property_clause(state, sent)))


def expect_property_absent(state: ScenarioState, path: str) -> CheckRecord | None:
    sent, body = _body(state)
    return state.check(checks.property_absent(body, path, _property_clause(state, sent)))


def expect_property_value(state: ScenarioState, path: str, text: str) -> CheckRecord | None:
    """``is "x"`` / ``is 401`` / ``== true``: quoted values also match the same value unquoted."""
    sent, body = _body(state)
    raw, quoted = values.unquote(text)
    expected = raw if quoted else values.parse_literal(raw)
    record = checks.property_equals(body, path, expected, _property_clause(state, sent), quoted=quoted)
    if not record.passed and _is_wording_check(path, quoted):
        actual = values.first(body, path)
        if isinstance(actual, str) and actual.strip():
            raise DefectiveDefinition(
                f'the scenario asserts the exact wording of "{path}" ({text}); CAMARA leaves the wording of the '
                "message to the implementation (only its presence is required), so this assertion cannot decide conformance")
    return state.check(record)


def _is_wording_check(path: str, quoted: bool) -> bool:
    return quoted and values.segments(path)[-1:] == ["message"]


def expect_property_text(state: ScenarioState, path: str) -> CheckRecord | None:
    sent, body = _body(state)
    return state.check(checks.property_is_text(body, path, _property_clause(state, sent)))


def expect_property_is_number(state: ScenarioState, path: str, which: str, *, hashed: bool = False) -> CheckRecord | None:
    """``the response property "$.devicePhoneNumber" is equal to the phone number associated with the access token``."""
    sent, body = _body(state)
    expected = phone_value(state, which, hashed=hashed)
    label = "the phone number the access token identifies" if which == "subscriber" else "the other test number"
    return state.check(checks.property_equals(body, path, expected, state.clause("user story: share the token's number"),
                                              expected_label=label))


def expect_property_only_if(state: ScenarioState, path: str, other: str, other_value: str | None = None) -> CheckRecord | None:
    """``... only exists if property "{other}" exists`` (or ``is "{value}"``)."""
    sent, body = _body(state)
    if other_value is None:
        condition = values.exists(body, other)
        wording = f'property "{other}" exists'
    else:
        raw, quoted = values.unquote(other_value)
        found = values.first(body, other)
        condition = not values.is_missing(found) and values.same_value(
            found, raw if quoted else values.parse_literal(raw), expected_was_quoted=quoted)
        wording = f'property "{other}" is {other_value}'
    return state.check(checks.property_only_if(body, path, condition, wording, _property_clause(state, sent)))


def expect_property_one_of(state: ScenarioState, path: str, texts: list[str]) -> CheckRecord | None:
    """``the response property "$.code" is "X" OR "Y"``."""
    sent, body = _body(state)
    parsed = [values.unquote(t) for t in texts]
    expected = [raw if quoted else values.parse_literal(raw) for raw, quoted in parsed]
    return state.check(checks.property_one_of(body, path, expected, _property_clause(state, sent),
                                              quoted=all(q for _, q in parsed)))


def expect_property_rule(state: ScenarioState, path: str, condition: str) -> CheckRecord | None:
    """``the response property "..." matches the rule: <condition>`` (rules.py says which conditions the kit knows)."""
    rule = rules.parse_rule(condition)  # DefectiveDefinition before anything is sent: the file is at fault
    sent, body = _body(state)
    found = values.first(body, path)
    holds, shown = rule.holds(rules.MISSING if values.is_missing(found) else found)
    return state.check(checks.property_rule(path, rule.text, holds, shown, _property_clause(state, sent)))


def not_applicable_to_this_api(state: ScenarioState, what: str, why: str) -> None:
    """A template sentence about something Number Verification does not have (array bodies, a request quota)."""
    raise NotApplicable(f"{what}: not applicable to the Number Verification API ({why})")


# -- profile and contract gates ------------------------------------------------------------------

def require_invalid_x_correlator_400(state: ScenarioState) -> None:
    profile = state.session.profile
    if not profile.invalid_x_correlator_is_400:
        raise NotApplicable(f"API {profile.version} (Commonalities {profile.commonalities}) does not require 400 "
                            "for an invalid x-correlator")
    state.clauses.append(profile.clause("x_correlator", f"Commonalities {profile.commonalities} x-correlator"))


def require_request_body_strictness(state: ScenarioState) -> None:
    """NotApplicable unless the version rejects undeclared request body properties (profile data)."""
    profile = state.session.profile
    if not profile.demands("request_body_strictness"):
        raise NotApplicable(f"API {profile.version} does not state request body strictness (undeclared properties "
                            "get 400)")
    state.clauses.append(profile.clause("request_body_strictness", "request body strictness"))


_POLICY_RULES = {"single_use": ("single_use", "single-use tokens"),
                 "refresh_tokens": ("no_refresh_tokens", "that no refresh tokens are issued"),
                 "max_lifetime": ("max_lifetime", "a limit on the access token lifetime")}


def require_token_policy(state: ScenarioState, rule: str) -> None:
    """``rule``: ``single_use``, ``refresh_tokens`` or ``max_lifetime``.

    Mandatory where the version demands it or the target declares ``token_policy: strict``; a warning
    (advisory) where a later version demands it; not applicable only where no version has the rule.
    """
    session = state.session
    profile = session.profile
    profile_rule, wording = _POLICY_RULES[rule]
    if profile.demands(profile_rule):
        clause = profile.clause(rule)
    elif session.strict_token_policy and profile_rule in ADVISORY_RULES:
        clause = f"{profile.rule_clause(profile_rule, rule)}; declared by the target (token_policy: strict)"
    elif profile.advises(profile_rule):
        state.advisory_rules.add(rule)
        clause = f"{profile.rule_clause(profile_rule, rule)}; advisory at {profile.version}"
        state.advisory_clause = clause
    else:
        raise NotApplicable(f"API {profile.version} does not require {wording}")
    if clause:
        state.clauses.append(clause)


def require_contract_pattern(state: ScenarioState, operation_id: str, path: str) -> None:
    """NotApplicable unless the contract gives the request body property at ``path`` a pattern."""
    contract = state.session.contract
    try:
        pointer = contract.request_body_pointer(operation_id)
    except ContractError as exc:
        raise DefectiveDefinition(str(exc)) from None
    if pointer is None:
        raise NotApplicable(f"{operation_id} has no request body in the contract in use")
    schema = contract.request_property_schema(operation_id, [str(part) for part in values.segments(path)]) or {}
    if not schema.get("pattern"):
        raise NotApplicable(f'the contract in use ({contract.version}) gives "{path}" no pattern')


# -- token policy and off-network --------------------------------------------------------------------

def obtain_valid_token(state: ScenarioState, operation_id: str) -> None:
    session = state.session
    if session.tokens is None:
        raise SkipScenario("no token provider is configured for this target")
    try:
        scope = scope_for(session.contract, operation_id, TokenKind.VALID)
    except ContractError as exc:
        raise DefectiveDefinition(str(exc)) from None
    state.issued = obtain_token(session.tokens, TokenKind.VALID, scope)


def _issued(state: ScenarioState) -> IssuedToken:
    if state.issued is None:
        raise DefectiveDefinition("no access token was obtained earlier in the scenario")
    return state.issued


def _token_response_of(state: ScenarioState) -> IssuedToken:
    """The issued token, when it came with a token response; else the check is not applicable (never passed)."""
    issued = _issued(state)
    if not issued.from_token_response:
        raise NotApplicable(f"the {issued.kind.value} token came from method {issued.method or 'unknown'} without a "
                            "token response: there is no token response to inspect")
    return issued


def expect_no_refresh_token(state: ScenarioState) -> CheckRecord | None:
    """ICM: the JWT-bearer flow never returns refresh tokens (every version); other flows where the version
    forbids them (else a warning)."""
    issued = _token_response_of(state)
    profile = state.session.profile
    if issued.grant == "jwt-bearer" and profile.demands("jwt_bearer_no_refresh_tokens"):
        state.mandatory_rule_checked = True
        clause = profile.clause("jwt_bearer_refresh_tokens", "CAMARA ICM (grant type JWT-bearer): MUST NOT return refresh tokens")
        return state.check(checks.no_refresh_token(issued, clause))
    return state.check(checks.no_refresh_token(issued, state.clause("token policy: no refresh tokens")),
                       rule="refresh_tokens")


def expect_lifetime_at_most(state: ScenarioState, seconds: int) -> CheckRecord | None:
    issued = _token_response_of(state)
    return state.check(checks.lifetime_at_most(issued, seconds, state.clause("token policy: lifetime")),
                       rule="max_lifetime")


def expect_lifetime_within_policy(state: ScenarioState) -> CheckRecord | None:
    """The limit is the version's (``token_policy.max_lifetime_seconds``), not a number in the feature file;
    where the version only advises a limit, that of the version demanding it (a warning when exceeded)."""
    profile = state.session.profile
    source = profile.rule_source("max_lifetime") if "max_lifetime" in state.advisory_rules else profile
    limit = source.token_policy.max_lifetime_seconds if source is not None else None
    if limit is None:
        raise NotApplicable(f"API {profile.version} does not require {_POLICY_RULES['max_lifetime'][1]}")
    return expect_lifetime_at_most(state, limit)


def require_off_network(state: ScenarioState) -> TokenProvider:
    tokens = state.session.tokens
    if tokens is None:
        raise SkipScenario("no token provider is configured for this target")
    reason = off_network_unsupported_reason(tokens)
    if reason:
        raise SkipScenario(reason)
    return tokens


def request_off_network_token(state: ScenarioState, operation_id: str) -> None:
    tokens = require_off_network(state)
    scope = scope_for(state.session.contract, operation_id, TokenKind.VALID)
    state.off_network = tokens.try_off_network(scope)


def expect_no_token_off_network(state: ScenarioState) -> CheckRecord | None:
    if state.off_network is None:
        raise DefectiveDefinition("no token was requested from an off-network connection earlier in the scenario")
    clause = state.clause("CAMARA Security and Interoperability Profile: network-based authentication")
    return state.check(checks.no_token_off_network(state.off_network, clause))


def expect_off_network_error(state: ScenarioState) -> CheckRecord | None:
    if state.off_network is None:
        raise DefectiveDefinition("no token was requested from an off-network connection earlier in the scenario")
    clause = state.clause("RFC 6749 section 5.2 / OIDC error response")
    return state.check(checks.off_network_error_given(state.off_network, clause))


def expect_code_allowed(state: ScenarioState, path: str) -> CheckRecord | None:
    """``$.code`` is one of the codes the contract lists for this operation and status."""
    sent, body = _body(state)
    contract = state.session.contract
    allowed = contract.allowed_error_codes(sent.operation_id, sent.result.status)
    if not allowed:
        raise DefectiveDefinition(f"the contract lists no error codes for {sent.operation_id} status {sent.result.status}")
    actual = values.first(body, path)
    pointer = contract.response_schema_pointer(sent.operation_id, sent.result.status)
    return state.check(checks.code_allowed(
        actual, allowed, f'response property "{path}" is a code the contract allows for {sent.result.status}',
        f"contract:#{pointer}"))


def expect_header_complies(state: ScenarioState, name: str, pointer: str, *, required: bool = True) -> CheckRecord | None:
    """The response header's value validates against the schema at ``pointer`` (absent is fine unless required)."""
    sent = _sent(state)
    _schema_pointer(state, pointer)
    return state.check(checks.header_complies(state.session.contract, pointer, sent.result.headers.get(name), name,
                                              f"contract:#{normalise_pointer(pointer)}", required=required))
