"""The Number Verification API (POST /verify, GET /device-phone-number) for every served version.

Requests are validated with the project's contract (schemas/): the request body schema,
the x-correlator pattern and the allowed error codes all come from
``nv_conformance.contract.Contract``; what differs between versions beyond the schema
comes from ``nv_conformance.profiles``. No version string is compared here.

Order of checks on each call: x-correlator (400) -> access token (401) -> scope (403)
-> body (400) -> network-based authentication (403) -> single use (401) -> answer.
A token is consumed only by the call that gets the answer, so a malformed request does
not burn it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nv_conformance import mediatype
from nv_conformance.contract import Contract, Operation
from nv_conformance.phone import sha256_hex
from nv_conformance.profiles import TokenPolicy, VersionProfile, get_profile
from nv_conformance.redact import redact

from .asgi_util import (
    BodyTooLarge,
    ClientGone,
    Receive,
    Scope,
    Send,
    camara_error_body,
    header,
    read_body,
    send_json,
)
from .behaviour import Behaviour
from .stores import StateStore
from .tokens import CLOCK_SKEW_SECONDS, NETWORK_AMR, AccessTokenVerifier, InvalidAccessToken
from .validation import BodyValidator

CODE_INVALID_ARGUMENT = "INVALID_ARGUMENT"
CODE_UNAUTHENTICATED = "UNAUTHENTICATED"
CODE_PERMISSION_DENIED = "PERMISSION_DENIED"
CODE_NOT_NETWORK = "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK"
CODE_NOT_FOUND = "NOT_FOUND"                   # Commonalities generic 404
CODE_METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"  # Commonalities generic 405
_WWW_AUTHENTICATE = (b"www-authenticate", b'Bearer realm="number-verification", error="invalid_token"')


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


Answer = Callable[[dict[str, Any], Any], dict[str, Any]]  # (token claims, request body) -> 200 body


@dataclass(frozen=True)
class VersionedOperation:
    """One operation of one served version, with what the contract says about it."""

    profile: VersionProfile
    contract: Contract
    operation: Operation
    body_validator: BodyValidator | None
    token_policy: TokenPolicy  # the rules applied to this version's tokens (its profile's, or the strictest)
    answer: Answer             # what a call that passed every check gets (chosen by the contract's 200 schema)


def _check_codes(op: VersionedOperation) -> None:
    """Fail at start-up, not at request time, if the contract does not allow a code this API sends."""
    needed = {400: [CODE_INVALID_ARGUMENT], 401: [CODE_UNAUTHENTICATED],
              403: [CODE_PERMISSION_DENIED, CODE_NOT_NETWORK]}
    for status, codes in needed.items():
        allowed = op.contract.allowed_error_codes(op.operation.operation_id, status)
        for code in codes:
            if allowed is not None and code not in allowed:
                raise RuntimeError(
                    f"contract {op.contract.source} does not allow {status} {code} for {op.operation.operation_id}"
                )


class NumberVerificationApi:
    """Raw ASGI app serving the NV operations of every version under ``prefix``."""

    def __init__(self, *, versions: tuple[str, ...], prefix: str, store: StateStore, verifier: AccessTokenVerifier,
                 behaviour: Behaviour, issued_token_lifetime: int,
                 policy_for: Callable[[str], TokenPolicy] | None = None,
                 also_at: tuple[tuple[str, str], ...] = ()) -> None:
        """``also_at``: (version, base path) pairs served besides the versions' own base paths (a release
        candidate's ``/number-verification/v2rc2``)."""
        self._store = store
        self._issued_token_lifetime = issued_token_lifetime
        self._verifier = verifier
        self._behaviour = behaviour
        self.routes: dict[str, dict[str, VersionedOperation]] = {}
        self.base_paths: dict[str, str] = {}
        unknown: set[str] = set()
        for version in versions:
            profile = get_profile(version)
            self.base_paths[profile.version] = prefix + profile.base_path
            self._add_routes(profile, prefix + profile.base_path, policy_for, unknown)
        for version, base_path in also_at:
            self._add_routes(get_profile(version), prefix + base_path, policy_for, unknown)
        self._bases = (*self.base_paths.values(), *(prefix + base_path for _, base_path in also_at))
        if unknown:  # a contract with an operation this server cannot answer must fail at start, not per request
            raise RuntimeError(f"no handler for contract operation(s): {', '.join(sorted(unknown))}")

    def _add_routes(self, profile: VersionProfile, base: str, policy_for: Callable[[str], TokenPolicy] | None,
                    unknown: set[str]) -> None:
        contract = Contract.for_version(profile.version)
        for operation in contract.operations.values():
            answer = self._answer_for(contract, operation)
            if answer is None:
                unknown.add(operation.operation_id)
                continue
            pointer = contract.request_body_pointer(operation.operation_id)
            validator = BodyValidator(contract, pointer, operation_id=operation.operation_id,
                                      strict=profile.demands("request_body_strictness")) if pointer else None
            versioned = VersionedOperation(
                profile, contract, operation, validator,
                policy_for(profile.version) if policy_for else profile.token_policy, answer,
            )
            _check_codes(versioned)
            self.routes.setdefault(base + operation.path, {})[operation.method] = versioned

    def _answer_for(self, contract: Contract, operation: Operation) -> Answer | None:
        """The answer an operation gets is chosen by what its contract's 200 schema requires, not by its id."""
        answers: dict[str, Answer] = {"devicePhoneNumberVerified": self._verify, "devicePhoneNumber": self._share}
        required = contract.required_response_properties(operation.operation_id, 200)
        chosen = [answer for name, answer in answers.items() if name in required]
        return chosen[0] if len(chosen) == 1 else None

    def operation_at(self, path: str, method: str) -> VersionedOperation | None:
        """The contract operation served at ``method path`` (None: no such route)."""
        return (self.routes.get(path) or {}).get(method)

    def handles(self, path: str) -> bool:
        """True for paths under one of the served base paths (unknown ones there get the API's 404)."""
        return any(path == base or path.startswith(base + "/") for base in self._bases)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        by_method = self.routes.get(scope["path"])
        correlator_raw = header(scope, b"x-correlator")
        if correlator_raw is not None:  # surrounding whitespace is no part of a field value (RFC 9110 5.5);
            correlator_raw = correlator_raw.strip(b" \t")  # uvicorn's h11 drops it, its httptools keeps it
        if by_method is None:
            await self._error(send, ApiError(404, CODE_NOT_FOUND, "no such resource"), correlator_raw, None)
            return
        op = by_method.get(scope["method"])
        if op is None:
            allow = ", ".join(sorted(by_method)).encode()
            any_op = next(iter(by_method.values()))
            error = ApiError(405, CODE_METHOD_NOT_ALLOWED, f"method {scope['method']} is not allowed here")
            await self._error(send, error, correlator_raw, any_op, [(b"allow", allow)])
            return
        try:
            claims = await self._authorise(scope, receive, op, correlator_raw)
            body = await self._body(scope, receive, op)
            self._check_network_auth(claims)
            await self._consume(claims, op)
            payload = op.answer(claims, body)
        except ApiError as error:
            extra = [_WWW_AUTHENTICATE] if error.status == 401 and self._behaviour.www_authenticate_header else []
            await self._error(send, error, correlator_raw, op, extra)
            return
        except ClientGone:
            return
        await send_json(send, 200, json.dumps(payload).encode(), self._correlator_header(correlator_raw, op))

    # -- steps ----------------------------------------------------------------------------
    async def _authorise(self, scope: Scope, receive: Receive, op: VersionedOperation,
                         correlator_raw: bytes | None) -> dict[str, Any]:
        if correlator_raw is not None and self._behaviour.validate_x_correlator \
                and op.profile.invalid_x_correlator_is_400 and not self._correlator_valid(correlator_raw, op):
            raise ApiError(400, CODE_INVALID_ARGUMENT, "the x-correlator header does not match its pattern")
        authorization = header(scope, b"authorization")
        if authorization is None:
            raise ApiError(401, CODE_UNAUTHENTICATED, "an access token is required (Authorization: Bearer ...)")
        scheme, _, token = authorization.decode("latin-1").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, CODE_UNAUTHENTICATED, "the Authorization header must be 'Bearer <access token>'")
        try:
            claims = self._verifier.verify(token)
        except InvalidAccessToken as exc:
            raise ApiError(401, CODE_UNAUTHENTICATED, str(exc)) from None
        if self._behaviour.check_expiry:  # the key may leak: a token must also look like one this server issues
            if self._behaviour.check_lifetime and claims["exp"] - claims["iat"] > self._max_lifetime(op):
                raise ApiError(401, CODE_UNAUTHENTICATED, "the access token's lifetime (exp - iat) exceeds "
                               f"{self._max_lifetime(op)} s")
            if claims["iat"] > time.time() + CLOCK_SKEW_SECONDS:
                raise ApiError(401, CODE_UNAUTHENTICATED, "the access token's iat is in the future")
        if self._behaviour.check_scope:
            granted = set(claims["scope"].split())
            if not set(op.operation.scopes) <= granted:
                raise ApiError(403, CODE_PERMISSION_DENIED,
                               f"the access token lacks the scope {' '.join(op.operation.scopes)}")
        return claims

    def _max_lifetime(self, op: VersionedOperation) -> int:
        """The version's cap where its policy sets one, else the lifetime this server issues (a longer token
        is forged). A token is not bound to a version (docs/reference.md), so the cap holds where it is used:
        at a version with a cap, a longer token is refused whoever issued it."""
        cap = op.token_policy.max_lifetime_seconds
        return cap if cap is not None else self._issued_token_lifetime

    async def _body(self, scope: Scope, receive: Receive, op: VersionedOperation) -> Any:
        try:
            raw = await read_body(scope, receive, self._behaviour.max_body_bytes)
        except BodyTooLarge:
            raise ApiError(400, CODE_INVALID_ARGUMENT,
                           f"the request body exceeds {self._behaviour.max_body_bytes} bytes") from None
        if op.body_validator is None:
            return None
        if not raw.strip():
            if not self._behaviour.validate_body:
                return {}
            raise ApiError(400, CODE_INVALID_ARGUMENT, "a JSON request body is required")
        if self._behaviour.validate_body and not mediatype.is_json(header(scope, b"content-type"), absent_is_json=True):
            raise ApiError(400, CODE_INVALID_ARGUMENT, "the request body must be application/json")
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise ApiError(400, CODE_INVALID_ARGUMENT, "the request body is not valid JSON") from None
        if self._behaviour.validate_body:
            errors = op.body_validator.errors(body)
            if errors:
                raise ApiError(400, CODE_INVALID_ARGUMENT, "invalid request body: " + redact(errors[0])[:300])
        return body

    def _check_network_auth(self, claims: dict[str, Any]) -> None:
        if self._behaviour.require_network_auth and not NETWORK_AMR.intersection(claims["amr"]):
            raise ApiError(403, CODE_NOT_NETWORK,
                           "the access token was not obtained by network-based or SIM-based authentication")

    async def _consume(self, claims: dict[str, Any], op: VersionedOperation) -> None:
        """Record the token's jti; a second use anywhere (other worker or instance, before a restart) is refused.

        Only where the version's token policy demands single use: elsewhere a token may be
        used again until it expires. The store's async insert never blocks the event loop while it
        waits for the database.
        """
        if not (self._behaviour.single_use and op.token_policy.single_use):
            return
        first_use = await self._store.consume_access_token_async(claims["jti"], claims["exp"])
        if not first_use:
            raise ApiError(401, CODE_UNAUTHENTICATED, "the access token has already been used or was revoked")

    # -- operations ---------------------------------------------------------------------
    def _subscriber_number(self, claims: dict[str, Any]) -> str:
        subscriber = self._store.subscriber_by_id(claims["sub"])
        if subscriber is None:
            raise ApiError(401, CODE_UNAUTHENTICATED, "the access token's subscriber is unknown")
        return subscriber.phone_number

    def _verify(self, claims: dict[str, Any], body: Any) -> dict[str, Any]:
        number = self._subscriber_number(claims)
        body = body if isinstance(body, dict) else {}
        if isinstance(body.get("phoneNumber"), str):
            return {"devicePhoneNumberVerified": body["phoneNumber"] == number}
        given = body.get("hashedPhoneNumber")
        expected = sha256_hex(number)
        if not isinstance(given, str):
            return {"devicePhoneNumberVerified": False}
        if self._behaviour.hashed_case_insensitive:
            given = given.lower()
        return {"devicePhoneNumberVerified": given == expected}

    def _share(self, claims: dict[str, Any], body: Any) -> dict[str, Any]:
        return {"devicePhoneNumber": self._subscriber_number(claims)}

    # -- responses ------------------------------------------------------------------------
    def _correlator_valid(self, raw: bytes, op: VersionedOperation) -> bool:
        try:
            value = raw.decode("ascii")
        except UnicodeDecodeError:
            return False
        return op.contract.x_correlator_is_valid(value)

    def _correlator_header(self, raw: bytes | None, op: VersionedOperation | None) -> list[tuple[bytes, bytes]]:
        """Echo a non-empty x-correlator that the version's pattern accepts (an invalid one would break the
        response header's schema); with no operation (404) any printable value is echoed."""
        if not raw or not self._behaviour.echo_x_correlator:
            return []
        if op is not None and not self._correlator_valid(raw, op):
            return []
        return [(b"x-correlator", raw)]

    async def _error(self, send: Send, error: ApiError, correlator_raw: bytes | None,
                     op: VersionedOperation | None, extra: list[tuple[bytes, bytes]] | None = None) -> None:
        headers = [*(extra or []), *self._correlator_header(correlator_raw, op)]
        await send_json(send, error.status, camara_error_body(error.status, error.code, error.message), headers)
