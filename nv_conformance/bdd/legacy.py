"""The older CAMARA vocabulary (the official feature files of the first two major versions), as plain functions of the scenario state.

Those files name the request by method and resource (``When the HTTPS "GET" request is sent``
after ``the resource is "/device-phone-number"``), write test data as ``NUMBERVERIFY_*``
placeholders, describe tokens by their scopes and authentication method, and put set-up
sentences after the When step. The request goes out lazily (see exchange.py), so those
late sentences still apply; this module turns each sentence into the same engine calls the
current vocabulary uses, and reports a *defective* test definition (never a failure of the
implementation) when the file asks for something that cannot give a meaningful verdict:
a base path or an operation the API does not have, a request body on a GET, an undefined
placeholder, a token that mixes two faults.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ..contract import Operation, PointerNotFoundError
from ..exchange import AuthMode, AuthSpec, BodyState, DefectiveDefinition, SkipScenario
from ..tokens.base import TokenKind
from . import actions
from .session import ScenarioState

# Placeholder -> (which test number, hashed?). The files' "Testing assets" name devices with these SIMs;
# the target config names the numbers (test_data.phone_number: the number the valid tokens identify).
PLACEHOLDERS: dict[str, tuple[str, bool]] = {
    "NUMBERVERIFY_SHARE_PHONENUMBER1": ("subscriber", False),
    "NUMBERVERIFY_SHARE_PHONENUMBER2": ("other", False),
    "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER1": ("subscriber", False),
    "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER2": ("other", False),
    "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER_HASHED1": ("subscriber", True),
    "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER_HASHED2": ("other", True),
}


@dataclass
class LegacyState:
    """What the older sentences said so far in one scenario (the draft request holds the rest)."""

    resource: str | None = None          # "the resource is ..." (a path relative to the base url)
    kind: TokenKind | None = None        # the token's kind once a sentence decided it
    scope_in: str | None = None          # "one of the scopes associated with the access token is ..."
    scope_out: str | None = None         # "none of the scopes associated with the access token is ..."


def legacy(state: ScenarioState) -> LegacyState:
    found = getattr(state, "legacy", None)
    if found is None:
        found = LegacyState()
        state.legacy = found  # type: ignore[attr-defined]
    return found


# -- placeholders and test data ------------------------------------------------------------------

def placeholder(state: ScenarioState, name: str) -> str:
    """The test value a ``NUMBERVERIFY_*`` placeholder stands for; an unknown one is a defect of the file."""
    if name not in PLACEHOLDERS:
        known = ", ".join(sorted(PLACEHOLDERS))
        raise DefectiveDefinition(f"the placeholder {name} is not defined by the testing assets of CAMARA's feature "
                                  f"files (they define {known}), so the value the scenario means is unknown")
    which, hashed = PLACEHOLDERS[name]
    return actions.phone_value(state, which, hashed=hashed)


def placeholder_is_subscriber(state: ScenarioState, name: str, what: str) -> None:
    """``name`` must be the number the valid tokens identify (the connection's / the token's subscriber)."""
    value = placeholder(state, name)
    if value != actions.subscriber_number(state):
        raise SkipScenario(f"{what} {name}, but the target's valid tokens identify test_data.phone_number: "
                           "the kit cannot make a token for another subscriber")


def placeholder_complies(state: ScenarioState, name: str, schema: str) -> None:
    """Set-up precondition: the test number behind ``name`` fits the contract's schema ``schema``."""
    pointer = _schema(state, schema)
    value = placeholder(state, name)
    errors = state.session.contract.errors_at(pointer, value)
    if errors:
        raise SkipScenario(f"the target's test number for {name} does not comply with {schema}: {errors[0]}")


def placeholders_differ(state: ScenarioState, first: str, second: str) -> None:
    if placeholder(state, first) == placeholder(state, second):
        raise SkipScenario(f"{first} and {second} must be different numbers: set test_data.phone_number and "
                           "test_data.other_phone_number to different numbers")


def _schema(state: ScenarioState, name: str) -> str:
    pointer = f"#/components/schemas/{name}"
    try:
        state.session.contract.resolve(pointer)
    except PointerNotFoundError:
        raise DefectiveDefinition(f"the schema {name} does not exist in the contract in use "
                                  f"({state.session.contract.version})") from None
    return pointer


# -- headers and bodies --------------------------------------------------------------------------

def header_uuid(state: ScenarioState, name: str) -> None:
    actions.set_header(state, name, str(uuid.uuid4()))


def body_compliant_with(state: ScenarioState, schema: str) -> None:
    """Background: a compliant body stands in until a scenario sets one (operations without a body send none)."""
    _schema(state, schema)
    actions.body_default_compliant(state)


def response_compliant_with(state: ScenarioState, schema: str) -> None:
    """Background sentence naming the success schema; each scenario asserts its own response schema, so the
    sentence only has to name a schema that exists (it cannot hold for the error responses the file expects)."""
    _schema(state, schema)


def body_field(state: ScenarioState, field: str, value: str) -> None:
    """``the request body has the field phoneNumber with a value of NUMBERVERIFY_...``."""
    _refuse_body_on_bodyless_operation(state)
    actual = placeholder(state, value) if value.startswith("NUMBERVERIFY_") else value
    actions.set_body_property(state, f"$.{field}", actual)


def body_without_fields(state: ScenarioState, fields: list[str]) -> None:
    _refuse_body_on_bodyless_operation(state)
    body = state.conversation.draft.body
    current = body.current()
    if isinstance(current, dict):
        body.set_json({k: v for k, v in current.items() if k not in fields})


def _operation(state: ScenarioState) -> Operation | None:
    operation_id = state.conversation.draft.operation_id
    return state.session.contract.operation(operation_id) if operation_id else None


def _refuse_body_on_bodyless_operation(state: ScenarioState) -> None:
    op = _operation(state)
    if op is not None and not op.has_request_body:
        raise DefectiveDefinition(f"the scenario puts a request body on {op.method} {op.path}, which takes none "
                                  f"({op.operation_id} has no requestBody in the contract)")


# -- where the request goes and how it is sent -------------------------------------------------------

def use_base_url(state: ScenarioState) -> None:
    """``they use the base url``: the one the Background named (checked when the request is sent)."""


def resource(state: ScenarioState, path: str) -> None:
    legacy(state).resource = path.strip()


def send(state: ScenarioState, method: str) -> None:
    """``When the HTTPS "POST" request is sent``: the operation is the contract's (method, resource)."""
    method = method.upper()
    contract = state.session.contract
    path = legacy(state).resource
    if path is None:
        candidates = [op for op in contract.operations.values() if op.method == method]
        if len(candidates) != 1:
            raise DefectiveDefinition(f"the scenario names no resource, and {method} is the method of "
                                      f"{len(candidates)} operations of the API")
        op = candidates[0]
        state.clauses.append(f"kit inference: the scenario names no resource; {op.method} {op.path} is the "
                             f"API's only {method} operation")
    else:
        found = contract.operation_for(method, path)
        if found is None:
            defined = ", ".join(f"{o.method} {o.path}" for o in contract.operations.values())
            raise DefectiveDefinition(f'the scenario sends {method} to "{path}", which the API does not define '
                                      f"(it defines {defined})")
        op = found
    _check_base_path(state)
    body = state.conversation.draft.body
    if not op.has_request_body:
        if body.state is BodyState.DEFAULT:
            body.set_absent()
        elif body.state is not BodyState.ABSENT:
            raise DefectiveDefinition(f"the scenario puts a request body on {op.method} {op.path}, which takes none")
    actions.request_sent(state, op.operation_id)
    _settle_token(state)


def _check_base_path(state: ScenarioState) -> None:
    """The base url the file named must be the API's base path (unless the target config pins its own)."""
    session = state.session
    named = state.conversation.draft.base_url
    if named is None or session.base_path_explicit:
        return
    if named.rstrip("/") != session.base_url.rstrip("/"):
        path = named[len(session.api_root.rstrip("/")):] if named.startswith(session.api_root.rstrip("/")) else named
        raise DefectiveDefinition(
            f'the base path "{path}" does not exist: API {session.api_version} is served at '
            f'"{session.profile.base_path}" (the OpenAPI servers url), so the request could only get 404')


# -- tokens --------------------------------------------------------------------------------------

def scope_claim(state: ScenarioState, quantifier: str, scope: str) -> None:
    """``one of`` / ``none of the scopes associated with the access token is <scope>``."""
    known = {s for op in state.session.contract.operations.values() for s in op.scopes}
    if scope not in known:
        raise DefectiveDefinition(f"the scope {scope} is not a scope of any operation of the API "
                                  f"({', '.join(sorted(known))})")
    if quantifier == "none":
        legacy(state).scope_out = scope
    else:
        legacy(state).scope_in = scope
    _settle_token(state)


def token_kind(state: ScenarioState, kind: TokenKind) -> None:
    """A sentence about the token itself (expired, not from network authentication)."""
    legacy(state).kind = kind
    _settle_token(state)


def acquired_valid_token(state: ScenarioState, name: str) -> None:
    """``they acquired a valid access token associated with X through ... flow``: the target's valid token.

    How the token is obtained is the target config's business (tokens.valid); X must be its subscriber.
    """
    placeholder_is_subscriber(state, name, "the token is to identify")
    if state.conversation.draft.auth.mode is AuthMode.REMOVED:
        actions.use_token(state, TokenKind.VALID)


def connection_from(state: ScenarioState, name: str) -> None:
    """The connection's device is the token's subscriber: network-based authentication happened at token time."""
    placeholder_is_subscriber(state, name, "the connection is to come from the device of")


def token_without_number(state: ScenarioState) -> None:
    raise SkipScenario("the kit has no token kind that is not associated with a phone number (tokens: valid, "
                       "other_scope, non_network, expired, invalid)")


def _settle_token(state: ScenarioState) -> None:
    """Once the operation is known, turn the scope and kind sentences into the token the request will carry."""
    op = _operation(state)
    draft = state.conversation.draft
    info = legacy(state)
    if info.kind is None:
        if draft.auth.mode is not AuthMode.TOKEN or draft.auth.kind is None:
            return  # no token sentence (the Authorization header was removed or set literally)
        info.kind = draft.auth.kind
    if op is None:
        return
    kind = info.kind
    wrong_scope = bool((info.scope_in and info.scope_in not in op.scopes)
                       or (info.scope_out and info.scope_out in op.scopes))
    if wrong_scope and kind is TokenKind.VALID:
        kind = TokenKind.OTHER_SCOPE
    elif wrong_scope and kind is TokenKind.NON_NETWORK:
        carried = info.scope_in or f"no {info.scope_out}"
        raise DefectiveDefinition(
            f"the token would carry {carried} (not the scope of {op.method} {op.path}) and also not come from "
            "network-based authentication: two faults at once, so a correct API may refuse it for either "
            "(403 PERMISSION_DENIED for the scope) and the expected error code cannot decide conformance")
    draft.auth = AuthSpec(mode=AuthMode.TOKEN, kind=kind, scheme=draft.auth.scheme if draft.auth.mode is AuthMode.TOKEN else "Bearer")


# -- response -------------------------------------------------------------------------------------

def expect_property_placeholder(state: ScenarioState, path: str, name: str) -> None:
    """``the response property "$.devicePhoneNumber" is set to NUMBERVERIFY_SHARE_PHONENUMBER1``."""
    if name not in PLACEHOLDERS:
        placeholder(state, name)  # raises the defect
    which, hashed = PLACEHOLDERS[name]
    actions.expect_property_is_number(state, path, which, hashed=hashed)
