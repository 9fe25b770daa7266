"""Catalogue of deliberately faulty (and benign) variants of the reference provider.

Each variant is data: a name, a one-line description of what a real implementation would
get wrong, and how it is produced from the correct reference:
- ``overrides``: flags of the typed :class:`~reference_impl.behaviour.Behaviour` switchboard;
- ``middleware``: a small raw-ASGI wrapper that rewrites requests or responses of the
  Number Verification API (the calls the reference routes to a contract operation, named by its
  operation id: :func:`annotate_operations`) for what no flag covers;
  a few also rewrite the variant's own authorization server (opaque tokens, ``token_type``).
``breaks`` says which version rule a faulty variant breaks, so the versions it applies to are
read from the profiles (schemas/profiles.yaml) and contracts: a rule of the profile
(:data:`nv_conformance.profiles.RULES`, e.g. ``single_use``) or a predicate of the profile;
``None`` means a rule every version has;
``server_http`` asks for uvicorn's h11 server when the bug must reach the wire byte for byte.

Select one with ``EmbeddedReference(fault=NAME)`` or ``nv-conformance serve --fault NAME``.
``create_app`` applies both parts. The kit's self-test runs every *faulty* variant and expects a
finding, and every *benign* one (``benign=True``: a legal variation) and expects none.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from nv_conformance.contract import Contract, ContractError
from nv_conformance.phone import sha256_hex
from nv_conformance.profiles import ADVISORY_RULES, RULES, VersionProfile, get_profile, versions

from .api import NumberVerificationApi
from .asgi_util import Message, Receive, Scope, Send, camara_error_body, header, send_json
from .behaviour import CORRECT, Behaviour
from .demo_data import DEMO_SUBSCRIBERS

Asgi = Callable[[Scope, Receive, Send], Any]
Middleware = Callable[[Asgi], Asgi]


@dataclass(frozen=True)
class Fault:
    """One variant: what is wrong (or legally different) and how it is produced."""

    name: str
    description: str
    overrides: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    middleware: Middleware | None = None
    benign: bool = False  # a legal variation: a conformance tool must NOT report it
    server_http: str | None = None  # uvicorn HTTP implementation the variant needs ("h11" keeps header-name case)
    breaks: str | Callable[[VersionProfile], bool] | None = None  # the version rule it breaks (None: one of every version)

    def __post_init__(self) -> None:
        if isinstance(self.breaks, str) and self.breaks not in RULES:
            raise ValueError(f"fault {self.name}: unknown profile rule {self.breaks!r}")

    def applies_to(self, version: str) -> bool:
        """Whether the rule this variant breaks is one of ``version``'s (a benign variant: always)."""
        if self.breaks is None:
            return True
        profile = get_profile(version)
        return profile.demands(self.breaks) if isinstance(self.breaks, str) else self.breaks(profile)

    def versions(self) -> tuple[str, ...]:
        """The API versions whose rules this variant breaks."""
        return tuple(v for v in versions() if self.applies_to(v))

    def warning_versions(self) -> tuple[str, ...]:
        """The API versions that only advise the rule this variant breaks: there it must draw a warning."""
        if self.benign or not isinstance(self.breaks, str) or self.breaks not in ADVISORY_RULES:
            return ()
        return tuple(v for v in versions() if get_profile(v).advises(self.breaks))


def _contract_forbids(status: int, code: str) -> Callable[[VersionProfile], bool]:
    """The rule "``code`` is not an allowed ``status`` code" holds where some operation's contract says so."""
    def forbids(profile: VersionProfile) -> bool:
        contract = Contract.for_version(profile.version)
        for op in contract.operations:
            allowed = contract.allowed_error_codes(op, status)
            if allowed is not None and code not in allowed:
                return True
        return False
    forbids.__name__ = f"contract_forbids_{status}_{code}"
    return forbids


def _contract_limits_length(pointer: str) -> Callable[[VersionProfile], bool]:
    """The rule "values longer than the schema's maxLength get 400" holds where the contract sets that maxLength."""
    def limits(profile: VersionProfile) -> bool:
        try:
            return Contract.for_version(profile.version).max_length_at(pointer) is not None
        except ContractError:
            return False
    limits.__name__ = f"contract_limits_length_{pointer.rsplit('/', 1)[-1]}"
    return limits


# -- helpers for the middlewares ----------------------------------------------------------
# The operations the middlewares target, by the contract's operation ids (the paths are the contract's).
VERIFY = "phoneNumberVerify"
SHARE = "phoneNumberShare"
_API_KEY = "nv_conformance.api"              # scope extension: the call is under one of the API's base paths
_OPERATION_KEY = "nv_conformance.operation"  # scope extension: the contract operation id it routes to (or None)
_CONTRACT_KEY = "nv_conformance.contract"    # scope extension: the contract of the version served there (or None)


def annotate_operations(api: NumberVerificationApi, app: Asgi) -> Asgi:
    """Tell the variant's middlewares (``app``) what the reference's own routing says of each call: whether
    it is an API call and which contract operation it reaches, so they target operations, not paths."""

    async def annotated(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http" and api.handles(scope["path"]):
            op = api.operation_at(scope["path"], scope["method"])
            scope = {**scope, _API_KEY: True, _OPERATION_KEY: op.operation.operation_id if op else None,
                     _CONTRACT_KEY: op.contract if op else None}
        await app(scope, receive, send)

    return annotated


def _is_nv_call(scope: Scope) -> bool:
    return scope.get("type") == "http" and bool(scope.get(_API_KEY))


def _is_verify_post(scope: Scope) -> bool:
    return _operation(scope) == VERIFY


def _operation(scope: Scope) -> str | None:
    """The contract operation id the call routes to; None for anything else (404, 405, the token server)."""
    return scope.get(_OPERATION_KEY) if _is_nv_call(scope) else None


async def _read_all(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields ``body`` once, then defers to the real one (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_content_length(scope: Scope, length: int) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
    headers.append((b"content-length", str(length).encode()))
    return {**scope, "headers": headers}


def _correlator(scope: Scope) -> list[tuple[bytes, bytes]]:
    value = header(scope, b"x-correlator")
    return [(b"x-correlator", value)] if value else []


# -- the middlewares ----------------------------------------------------------------------
def crash_on_malformed_json(app: Asgi) -> Asgi:
    """POST /verify with a body that is not JSON -> 500 (the parser's exception escapes)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_verify_post(scope):
            await app(scope, receive, send)
            return
        body = await _read_all(receive)
        if body.strip():
            try:
                json.loads(body)
            except (ValueError, RecursionError):
                await send_json(send, 500, camara_error_body(500, "INTERNAL", "unexpected error"), _correlator(scope))
                return
        await app(scope, _replay(body, receive), send)

    return middleware


def any_media_type_json_body(app: Asgi) -> Asgi:
    """A POST body that parses as JSON is read as JSON whatever its Content-Type says (text/plain too)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if not (_is_nv_call(scope) and scope["method"] == "POST"):
            await app(scope, receive, send)
            return
        body = await _read_all(receive)
        try:
            json.loads(body)
        except (ValueError, RecursionError, UnicodeDecodeError):
            await app(scope, _replay(body, receive), send)
            return
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"] + [(b"content-type", b"application/json")]
        await app({**scope, "headers": headers}, _replay(body, receive), send)

    return middleware


def answer_without_token(app: Asgi) -> Asgi:
    """A call without any Authorization header is answered 200 as if from the first subscriber."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        operation = _operation(scope)
        if operation is None or header(scope, b"authorization") is not None:
            await app(scope, receive, send)
            return
        await _read_all(receive)
        number = DEMO_SUBSCRIBERS[0].phone_number
        payload = {"devicePhoneNumberVerified": True} if operation == VERIFY else {"devicePhoneNumber": number}
        await send_json(send, 200, json.dumps(payload).encode(), _correlator(scope))

    return middleware


# -- rewriting whole responses and requests --------------------------------------------------
@dataclass
class Reply:
    """A buffered response a middleware may edit before it goes out (Content-Length is fixed afterwards)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()

    def header(self, name: bytes) -> bytes | None:
        return next((v for k, v in self.headers if k.lower() == name), None)

    def set_header(self, name: bytes, value: bytes) -> None:
        self.remove_header(name.lower())
        self.headers.append((name, value))

    def remove_header(self, name: bytes) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name]


ReplyEdit = Callable[[Scope, Reply], None]


def rewrite_responses(edit: ReplyEdit, *, nv_only: bool = True) -> Middleware:
    """A middleware that buffers each response (of the NV API unless ``nv_only`` is False) and lets ``edit`` change it."""

    def wrap(app: Asgi) -> Asgi:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope.get("type") != "http" or (nv_only and not _is_nv_call(scope)):
                await app(scope, receive, send)
                return
            start: Message | None = None
            chunks: list[bytes] = []

            async def capturing_send(message: Message) -> None:
                nonlocal start
                if message["type"] == "http.response.start":
                    start = message
                    return
                if message["type"] != "http.response.body" or start is None:
                    await send(message)
                    return
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                reply = Reply(start["status"], list(start.get("headers", [])), b"".join(chunks))
                edit(scope, reply)
                headers = [(k, v) for k, v in reply.headers if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(reply.body)).encode()))
                await send({"type": "http.response.start", "status": reply.status, "headers": headers})
                await send({"type": "http.response.body", "body": reply.body, "more_body": False})

            await app(scope, receive, capturing_send)

        return middleware

    return wrap


BodyEdit = Callable[[Any], Any]


def rewrite_verify_body(edit: BodyEdit) -> Middleware:
    """A middleware that hands the JSON body of POST /verify to ``edit`` (which returns the body to pass on)."""

    def wrap(app: Asgi) -> Asgi:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if not _is_verify_post(scope):
                await app(scope, receive, send)
                return
            body = await _read_all(receive)
            try:
                data = json.loads(body)
            except (ValueError, RecursionError):
                await app(scope, _replay(body, receive), send)
                return
            edited = edit(data)
            if edited is not data:
                body = json.dumps(edited).encode()
                scope = _with_content_length(scope, len(body))
            await app(scope, _replay(body, receive), send)

        return middleware

    return wrap


def _undeclared(scope: Scope, data: Any) -> list[str]:
    """JSON pointers of the properties of a POST /verify body that the contract served there does not declare."""
    contract = scope.get(_CONTRACT_KEY)
    if not isinstance(data, dict) or contract is None:
        return []
    return contract.undeclared_request_properties(VERIFY, data)


def ignore_undeclared_properties(app: Asgi) -> Asgi:
    """POST /verify drops the properties the contract does not declare and answers the rest (a lenient parser)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        def drop_undeclared(data: Any) -> Any:
            undeclared = _undeclared(scope, data)
            kept = {k: v for k, v in data.items() if f"$.{k}" not in undeclared} if undeclared else {}
            return kept if kept else data  # an unknown property alone still leaves nothing to verify: 400 as before

        await rewrite_verify_body(drop_undeclared)(app)(scope, receive, send)

    return middleware


def reword_undeclared_property_errors(app: Asgi) -> Asgi:
    """POST /verify with an undeclared property: the 400 keeps status and code, its message is the provider's own."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        undeclared: list[str] = []

        def note_undeclared(data: Any) -> Any:
            undeclared.extend(_undeclared(scope, data))
            return data

        def reword(scope: Scope, reply: Reply) -> None:
            error = reply.json()
            if undeclared and reply.status == 400 and isinstance(error, dict):
                reply.set_json({**error, "message": f"Unrecognized field {undeclared[0].removeprefix('$.')!r}"})

        await rewrite_verify_body(note_undeclared)(rewrite_responses(reword)(app))(scope, receive, send)

    return middleware


def _truncate_long_number(data: Any) -> Any:
    """A provider that stores numbers in a 16-character column cuts longer ones instead of refusing them."""
    if isinstance(data, dict) and isinstance(data.get("phoneNumber"), str) and len(data["phoneNumber"]) > 16:
        return {**data, "phoneNumber": data["phoneNumber"][:16]}
    return data


def _request_had_correlator(scope: Scope) -> bool:
    return bool(header(scope, b"x-correlator"))


# -- edits of responses (one bug each) ---------------------------------------------------------
def _when(status_test: Callable[[int], bool], operation: str | None, change: Callable[[Any], Any]) -> ReplyEdit:
    """Edit the JSON body of responses whose status passes ``status_test`` (of ``operation``, or of any)."""

    def edit(scope: Scope, reply: Reply) -> None:
        if not status_test(reply.status) or (operation is not None and _operation(scope) != operation):
            return
        data = reply.json()
        if isinstance(data, dict):
            reply.set_json(change(dict(data)))

    return edit


def _is_error(status: int) -> bool:
    return status >= 400


def _set(**values: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda data: {**data, **values}


def _other_subscriber(number: Any) -> Any:
    numbers = [s.phone_number for s in DEMO_SUBSCRIBERS]
    if number in numbers:
        return numbers[(numbers.index(number) + 1) % len(numbers)]
    return number


def _error_code_swap(old: str, new: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda data: {**data, "code": new} if data.get("code") == old else data


def _status_401_as_403(scope: Scope, reply: Reply) -> None:
    if reply.status == 401:
        reply.status = 403
        reply.remove_header(b"www-authenticate")
        reply.set_json({"status": 403, "code": "PERMISSION_DENIED", "message": "access denied"})


def _fail_open(scope: Scope, reply: Reply) -> None:
    """Token validation errors let the call through as the first subscriber (the API gateway fails open)."""
    authorization = header(scope, b"authorization") or b""
    if reply.status != 401 or not authorization.lower().startswith(b"bearer "):
        return
    reply.status = 200
    reply.remove_header(b"www-authenticate")
    number = DEMO_SUBSCRIBERS[0].phone_number
    reply.set_json({"devicePhoneNumberVerified": True} if _operation(scope) == VERIFY else {"devicePhoneNumber": number})


def _html_errors(scope: Scope, reply: Reply) -> None:
    if reply.status >= 400:
        reply.set_header(b"content-type", b"text/html; charset=utf-8")
        reply.body = (f"<html><head><title>{reply.status}</title></head><body><h1>Error {reply.status}</h1>"
                      "<p>The request could not be processed.</p></body></html>").encode()


def _media_type(value: bytes) -> ReplyEdit:
    def edit(scope: Scope, reply: Reply) -> None:
        if reply.header(b"content-type") is not None:
            reply.set_header(b"content-type", value)

    return edit


def _correlator_altered(scope: Scope, reply: Reply) -> None:
    if reply.header(b"x-correlator") is not None:
        reply.set_header(b"x-correlator", str(uuid.uuid4()).encode())


def _correlator_only_on_success(scope: Scope, reply: Reply) -> None:
    if reply.status >= 400:
        reply.remove_header(b"x-correlator")


def _verify_strings(data: dict[str, Any]) -> dict[str, Any]:
    value = data.get("devicePhoneNumberVerified")
    return {**data, "devicePhoneNumberVerified": json.dumps(value)} if isinstance(value, bool) else data


def _verify_renamed(data: dict[str, Any]) -> dict[str, Any]:
    if "devicePhoneNumberVerified" not in data:
        return data
    rest = {k: v for k, v in data.items() if k != "devicePhoneNumberVerified"}
    return {**rest, "verified": data["devicePhoneNumberVerified"]}


# -- edits of requests (one bug each) ------------------------------------------------------------
_DIGITS_ONLY = re.compile(r"^[1-9][0-9]{4,14}$")


def _number_with_plus(data: Any) -> Any:
    """phoneNumber "447700900001" is normalised to "+447700900001" instead of being refused."""
    if isinstance(data, dict) and isinstance(data.get("phoneNumber"), str) and _DIGITS_ONLY.match(data["phoneNumber"]):
        return {**data, "phoneNumber": "+" + data["phoneNumber"]}
    return data


def _drop_hash_when_both(data: Any) -> Any:
    """Both properties: the hash is silently ignored instead of the request being refused."""
    if isinstance(data, dict) and "phoneNumber" in data and "hashedPhoneNumber" in data:
        return {k: v for k, v in data.items() if k != "hashedPhoneNumber"}
    return data


_NO_NUMBER = "+10000000000"  # what a lenient parser ends up comparing when the body names no number


def _empty_object_as_no_match(data: Any) -> Any:
    return {"phoneNumber": _NO_NUMBER} if data == {} else data


def _hash_without_plus(data: Any) -> Any:
    """The provider hashes its numbers without the leading '+': the correct hash no longer matches."""
    if not (isinstance(data, dict) and isinstance(data.get("hashedPhoneNumber"), str)):
        return data
    given = data["hashedPhoneNumber"].lower()
    for subscriber in DEMO_SUBSCRIBERS:
        number = subscriber.phone_number
        if given == sha256_hex(number.lstrip("+")):
            return {**data, "hashedPhoneNumber": sha256_hex(number)}   # the wrong hash matches
        if given == sha256_hex(number):
            return {**data, "hashedPhoneNumber": sha256_hex(number + "#")}  # the right one does not
    return data


# -- benign: opaque access tokens -----------------------------------------------------------------
OPAQUE_PREFIX = "nvo_"


def _to_opaque(jwt_token: str) -> str:
    return OPAQUE_PREFIX + base64.urlsafe_b64encode(zlib.compress(jwt_token.encode())).decode().rstrip("=")


def _from_opaque(token: str) -> str | None:
    if not token.startswith(OPAQUE_PREFIX):
        return None
    text = token[len(OPAQUE_PREFIX):]
    try:
        return zlib.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))).decode("ascii")
    except (ValueError, zlib.error, UnicodeDecodeError):
        return None


def opaque_access_tokens(app: Asgi) -> Asgi:
    """The authorization server hands out opaque handles; the API resolves them (as introspection would).

    Stateless (the handle encodes the JWT the reference would have issued), so several workers agree.
    A handle that does not resolve is passed on unchanged, and the API refuses it like any unknown token.
    """
    issue = rewrite_responses(_opaque_token_response, nv_only=False)(app)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        authorization = header(scope, b"authorization") if scope.get("type") == "http" else None
        if authorization and _is_nv_call(scope):
            scheme, _, token = authorization.decode("latin-1").partition(" ")
            resolved = _from_opaque(token.strip())
            if resolved is not None:
                headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
                headers.append((b"authorization", f"{scheme} {resolved}".encode("latin-1")))
                scope = {**scope, "headers": headers}
        await issue(scope, receive, send)

    return middleware


def _opaque_token_response(scope: Scope, reply: Reply) -> None:
    if scope.get("path", "").rstrip("/").endswith("/token") and reply.status == 200:
        data = reply.json()
        if isinstance(data, dict) and isinstance(data.get("access_token"), str):
            reply.set_json({**data, "access_token": _to_opaque(data["access_token"])})


def _lowercase_token_type(scope: Scope, reply: Reply) -> None:
    if scope.get("path", "").rstrip("/").endswith("/token") and reply.status == 200:
        data = reply.json()
        if isinstance(data, dict) and data.get("token_type") == "Bearer":
            reply.set_json({**data, "token_type": "bearer"})


_MIXED_CASE = {b"content-type": b"Content-Type", b"x-correlator": b"X-Correlator", b"cache-control": b"Cache-Control",
               b"www-authenticate": b"WWW-Authenticate", b"allow": b"Allow"}


def _header_case(scope: Scope, reply: Reply) -> None:
    reply.headers = [(_MIXED_CASE.get(k.lower(), k.upper()), v) for k, v in reply.headers]


_OTHER_WORDING = {400: "Your request could not be understood: please check the body and headers.",
                  401: "Please sign in again: your credentials were not accepted.",
                  403: "This application may not perform the operation with these credentials."}


def _other_wording(data: dict[str, Any]) -> dict[str, Any]:
    if "message" not in data:
        return data
    status = data.get("status")
    wording = _OTHER_WORDING.get(status) if isinstance(status, int) else None
    return {**data, "message": wording or "Something went wrong."}


def _extra_property(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "cspReference": "NV-7f3a-demo"}


def _connection_close(scope: Scope, reply: Reply) -> None:
    reply.set_header(b"connection", b"close")


def _generate_correlator(scope: Scope, reply: Reply) -> None:
    if not _request_had_correlator(scope):
        reply.set_header(b"x-correlator", str(uuid.uuid4()).encode())


# -- the catalogue ------------------------------------------------------------------------
def _flags(**changes: Any) -> Mapping[str, Any]:
    return MappingProxyType(changes)


def _responses(edit: ReplyEdit, *, nv_only: bool = True) -> Middleware:
    return rewrite_responses(edit, nv_only=nv_only)


_CATALOGUE: tuple[Fault, ...] = (
    # -- faulty: request handling ------------------------------------------------------
    Fault(
        "malformed-json-500",
        "POST /verify answers a body that is not JSON with 500 instead of 400 INVALID_ARGUMENT",
        middleware=crash_on_malformed_json,
    ),
    Fault(
        "number-without-plus-200",
        "POST /verify accepts a phoneNumber without the leading '+' (200) instead of 400 INVALID_ARGUMENT",
        middleware=rewrite_verify_body(_number_with_plus),
    ),
    Fault(
        "both-properties-accepted",
        "POST /verify with both phoneNumber and hashedPhoneNumber ignores the hash (200) instead of 400",
        middleware=rewrite_verify_body(_drop_hash_when_both),
    ),
    Fault(
        "empty-object-accepted",
        "POST /verify with {} answers 200 devicePhoneNumberVerified=false instead of 400 INVALID_ARGUMENT",
        middleware=rewrite_verify_body(_empty_object_as_no_match),
    ),
    Fault(
        "body-not-validated",
        "POST /verify bodies are not checked against the schema (wrong types, bad patterns, unknown properties pass)",
        overrides=_flags(validate_body=False),
    ),
    Fault(
        "unknown-property-accepted",
        "POST /verify ignores request body properties the contract does not declare (200) instead of 400 "
        "INVALID_ARGUMENT (request body strictness)",
        middleware=ignore_undeclared_properties,
        breaks="request_body_strictness",
    ),
    Fault(
        "phone-number-over-16-accepted",
        "POST /verify cuts a phoneNumber longer than 16 characters to 16 and answers (200) instead of 400 "
        "INVALID_ARGUMENT (PhoneNumber maxLength)",
        middleware=rewrite_verify_body(_truncate_long_number),
        breaks=_contract_limits_length("#/components/schemas/PhoneNumber"),
    ),
    Fault(
        "invalid-x-correlator-accepted",
        "an x-correlator that breaks the pattern is accepted instead of 400 INVALID_ARGUMENT (Commonalities 0.6)",
        overrides=_flags(validate_x_correlator=False),
        breaks="invalid_x_correlator_is_400",
    ),
    # -- faulty: x-correlator and media type -------------------------------------------
    Fault(
        "x-correlator-not-echoed",
        "responses never carry the request's x-correlator",
        overrides=_flags(echo_x_correlator=False),
    ),
    Fault(
        "x-correlator-altered",
        "responses carry a new x-correlator of the gateway's own instead of the request's",
        middleware=_responses(_correlator_altered),
    ),
    Fault(
        "x-correlator-missing-on-errors",
        "error responses (4xx) drop the request's x-correlator; only successes echo it",
        middleware=_responses(_correlator_only_on_success),
    ),
    Fault(
        "media-type-not-json",
        "responses are labelled Content-Type: text/plain although the body is JSON",
        middleware=_responses(_media_type(b"text/plain; charset=utf-8")),
    ),
    Fault(
        "html-error-pages",
        "errors are answered with the web server's HTML error page instead of a CAMARA JSON error body",
        middleware=_responses(_html_errors),
    ),
    # -- faulty: results ---------------------------------------------------------------
    Fault(
        "verify-always-true",
        "POST /verify answers devicePhoneNumberVerified=true whatever number is sent",
        middleware=_responses(_when(lambda s: s == 200, VERIFY, _set(devicePhoneNumberVerified=True))),
    ),
    Fault(
        "verify-always-false",
        "POST /verify answers devicePhoneNumberVerified=false even for the subscriber's own number",
        middleware=_responses(_when(lambda s: s == 200, VERIFY, _set(devicePhoneNumberVerified=False))),
    ),
    Fault(
        "hashed-case-sensitive",
        "hashedPhoneNumber is compared case-sensitively: an upper-case hex hash of the right number is 'false'",
        overrides=_flags(hashed_case_insensitive=False),
    ),
    Fault(
        "hash-without-plus",
        "the provider hashes its numbers without the leading '+': the correct SHA-256 hash does not match",
        middleware=rewrite_verify_body(_hash_without_plus),
    ),
    Fault(
        "share-number-without-plus",
        "GET /device-phone-number returns the number without the leading '+' (447700900001)",
        middleware=_responses(_when(lambda s: s == 200, SHARE,
                                    lambda d: {**d, "devicePhoneNumber": str(d.get("devicePhoneNumber", "")).lstrip("+")})),
    ),
    Fault(
        "share-other-subscriber",
        "GET /device-phone-number returns another subscriber's number (a wrong lookup)",
        middleware=_responses(_when(lambda s: s == 200, SHARE,
                                    lambda d: {**d, "devicePhoneNumber": _other_subscriber(d.get("devicePhoneNumber"))})),
    ),
    Fault(
        "boolean-as-string",
        "POST /verify answers devicePhoneNumberVerified as the string \"true\"/\"false\" instead of a JSON boolean",
        middleware=_responses(_when(lambda s: s == 200, VERIFY, _verify_strings)),
    ),
    Fault(
        "verify-result-missing",
        "POST /verify answers {\"verified\": ...}: the required property devicePhoneNumberVerified is missing",
        middleware=_responses(_when(lambda s: s == 200, VERIFY, _verify_renamed)),
    ),
    # -- faulty: access tokens at the API ----------------------------------------------
    Fault(
        "no-token-200",
        "a call without any access token is answered 200 (for the first subscriber)",
        middleware=answer_without_token,
    ),
    Fault(
        "invalid-token-fails-open",
        "when a bearer token fails validation the gateway lets the call through (200) as the first subscriber",
        middleware=_responses(_fail_open),
    ),
    Fault(
        "signature-not-checked",
        "access tokens are decoded without verifying their signature (a tampered token is accepted)",
        overrides=_flags(check_signature=False),
    ),
    Fault(
        "expired-token-accepted",
        "the API does not check the access token's expiry",
        overrides=_flags(check_expiry=False),
    ),
    Fault(
        "scope-not-checked",
        "the API does not check the access token's scope (a token for the other operation works)",
        overrides=_flags(check_scope=False),
    ),
    Fault(
        "non-network-token-accepted",
        "tokens not obtained by network- or SIM-based authentication (tel: subject) are served",
        overrides=_flags(require_network_auth=False),
    ),
    Fault(
        "tokens-reusable",
        "an access token keeps working after its first successful call (where the version demands single use)",
        overrides=_flags(single_use=False),
        breaks="single_use",
    ),
    # -- faulty: the authorization server ----------------------------------------------
    Fault(
        "long-lived-tokens",
        "the authorization server issues access tokens that live 3600 s (beyond the version's lifetime limit); "
        "the API serves them (it checks expiry, not lifetime)",
        overrides=_flags(token_lifetime_seconds=3600, check_lifetime=False),
        breaks="max_lifetime",
    ),
    Fault(
        "refresh-tokens-issued",
        "the authorization server issues refresh tokens with Number Verification scopes from every flow "
        "(JWT-bearer, too: ICM forbids that at every version)",
        overrides=_flags(issue_refresh_tokens=True),
        breaks="jwt_bearer_no_refresh_tokens",
    ),
    Fault(
        "off-network-token-issued",
        "the authorization server issues a network-based token to a connection the mobile network does not know",
        overrides=_flags(identify_by_source_ip=False),
    ),
    # -- faulty: error responses -------------------------------------------------------
    Fault(
        "wrong-401-code",
        "401 bodies carry code UNAUTHORIZED instead of UNAUTHENTICATED",
        middleware=_responses(_when(lambda s: s == 401, None, _set(code="UNAUTHORIZED"))),
    ),
    Fault(
        "authentication-required-code",
        "401 bodies carry AUTHENTICATION_REQUIRED, an older code that later contracts no longer allow",
        middleware=_responses(_when(lambda s: s == 401, None, _error_code_swap("UNAUTHENTICATED", "AUTHENTICATION_REQUIRED"))),
        breaks=_contract_forbids(401, "AUTHENTICATION_REQUIRED"),
    ),
    Fault(
        "unauthenticated-as-403",
        "missing or invalid credentials are answered 403 PERMISSION_DENIED instead of 401 UNAUTHENTICATED",
        middleware=_responses(_status_401_as_403),
    ),
    Fault(
        "wrong-400-code",
        "400 bodies carry code BAD_REQUEST instead of INVALID_ARGUMENT",
        middleware=_responses(_when(lambda s: s == 400, None, _error_code_swap("INVALID_ARGUMENT", "BAD_REQUEST"))),
    ),
    Fault(
        "wrong-403-code",
        "a token not from network-based authentication gets 403 PERMISSION_DENIED instead of "
        "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK",
        middleware=_responses(_when(lambda s: s == 403, None, _error_code_swap(
            "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK", "PERMISSION_DENIED"))),
    ),
    Fault(
        "error-body-status-differs",
        "error bodies always say \"status\": 400 whatever the HTTP status (401, 403)",
        middleware=_responses(_when(_is_error, None, _set(status=400))),
    ),
    Fault(
        "error-status-as-string",
        "error bodies carry the status as a string (\"401\") instead of an integer",
        middleware=_responses(_when(_is_error, None, lambda d: {**d, "status": str(d.get("status"))})),
    ),
    Fault(
        "error-message-missing",
        "error bodies carry status and code but no message",
        middleware=_responses(_when(_is_error, None, lambda d: {k: v for k, v in d.items() if k != "message"})),
    ),
    # -- benign: legal liberties a correct checker must accept ---------------------------
    Fault(
        "json-charset",
        "Content-Type: application/json; charset=utf-8 (a media type parameter)",
        middleware=_responses(_media_type(b"application/json; charset=utf-8")),
        benign=True,
    ),
    Fault(
        "extra-response-property",
        "200 bodies carry an extra undocumented property (cspReference); the schemas allow additional properties",
        middleware=_responses(_when(lambda s: s == 200, None, _extra_property)),
        benign=True,
    ),
    Fault(
        "header-names-case",
        "response header names in other case (X-Correlator, Content-Type); HTTP header names are case-insensitive",
        middleware=_responses(_header_case, nv_only=False),
        benign=True,
        server_http="h11",  # uvicorn's httptools writer lower-cases header names; h11 sends them as given
    ),
    Fault(
        "other-message-wording",
        "error messages worded differently; CAMARA leaves the wording of message free",
        middleware=_responses(_when(_is_error, None, _other_wording)),
        benign=True,
    ),
    Fault(
        "unknown-property-other-wording",
        "an undeclared request body property gets 400 INVALID_ARGUMENT with the provider's own message "
        "(\"Unrecognized field ...\"); the wording of message is free",
        middleware=reword_undeclared_property_errors,
        benign=True,
    ),
    Fault(
        "connection-close",
        "every response carries Connection: close (no keep-alive)",
        middleware=_responses(_connection_close, nv_only=False),
        benign=True,
    ),
    Fault(
        "opaque-access-tokens",
        "the authorization server issues opaque (non-JWT) access tokens and the API resolves them (introspection)",
        middleware=opaque_access_tokens,
        benign=True,
    ),
    Fault(
        "x-correlator-generated",
        "a request without x-correlator gets a response with an x-correlator generated by the provider",
        middleware=_responses(_generate_correlator),
        benign=True,
    ),
    Fault(
        "any-media-type-json-body",
        "a request body that is JSON is read as JSON whatever its Content-Type (text/plain answered 200); "
        "the contract documents application/json, but no CAMARA text makes accepting other media types a violation",
        middleware=any_media_type_json_body,
        benign=True,
    ),
    Fault(
        "token-type-lowercase",
        "the token response says token_type \"bearer\" (RFC 6749 section 5.1: case-insensitive)",
        middleware=_responses(_lowercase_token_type, nv_only=False),
        benign=True,
    ),
)
FAULTS: Mapping[str, Fault] = MappingProxyType({fault.name: fault for fault in _CATALOGUE})


def get_fault(name: str) -> Fault:
    """The variant called ``name``; KeyError (listing the known names) when there is none."""
    try:
        return FAULTS[name]
    except KeyError:
        raise KeyError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}") from None


def faulty_names() -> list[str]:
    return [f.name for f in _CATALOGUE if not f.benign]


def benign_names() -> list[str]:
    return [f.name for f in _CATALOGUE if f.benign]


def behaviour_for(name: str, base: Behaviour = CORRECT) -> Behaviour:
    """``base`` with the variant's flag overrides applied."""
    fault = get_fault(name)
    return base.with_changes(**fault.overrides) if fault.overrides else base


def wrap_app(name: str, app: Asgi, api: NumberVerificationApi) -> Asgi:
    """``app`` wrapped in the variant's middleware (unchanged when it has none), which learns from ``api``'s
    routing which operation each call reaches."""
    fault = get_fault(name)
    return annotate_operations(api, fault.middleware(app)) if fault.middleware is not None else app
