"""One scenario's HTTP conversation: the request being set up, lazy sending, redacted records.

"When the request ... is sent" only records the intent; the request goes out when the first
response assertion needs it. So set-up sentences written after the When step (older CAMARA
files do that) still apply, and several When/Then blocks can follow each other. Tokens are
fetched per send, by *kind*, because CAMARA Number Verification tokens are single-use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from .contract import Contract, ContractError
from .errors import TokenError
from .http import GuardedClient, HttpResult
from .redact import redact, redact_headers
from .results import ExchangeRecord
from .tokens.base import FRESH_KINDS, IssuedToken, TokenKind, TokenProvider, unsupported_reason


class SkipScenario(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The target did not provide an input this scenario needs (the message says which)."""


class NotApplicable(SkipScenario):
    """The scenario checks a rule the version (profile) or contract under test does not have.

    Skipped and *not mandatory*: it cannot make a run "partial".
    """


class TesterSideError(Exception):  # noqa: N818 - a control-flow signal
    """The tester's side or the environment failed (a token that cannot be obtained, no answer at all):
    the scenario is an error, which says nothing about the target's conformance."""


class DefectiveDefinition(Exception):  # noqa: N818
    """The test definition itself is broken, so no verdict is possible (the message says how)."""


# -- the request being set up --------------------------------------------------------------------

class AuthMode(StrEnum):
    """How the Authorization header of a send is made."""

    TOKEN = "token"        # a fresh token of the spec's kind
    REMOVED = "removed"    # no header
    LITERAL = "literal"    # a value from the feature
    TAMPERED = "tampered"  # a valid token whose signature bytes were altered
    REUSE = "reuse"        # the token of the previous send, to test single use


@dataclass
class AuthSpec:
    """What goes into the Authorization header, decided at send time."""

    mode: AuthMode = AuthMode.REMOVED
    kind: TokenKind | None = None
    literal: str = ""
    scheme: str = "Bearer"

    def describe(self) -> str:
        if self.mode is AuthMode.TOKEN and self.kind is not None:
            extra = "" if self.scheme == "Bearer" else f" with scheme {self.scheme}"
            return f"<{self.kind.value} access token{extra}>"
        return {AuthMode.REMOVED: "(no Authorization header)", AuthMode.LITERAL: "<literal value from the feature>",
                AuthMode.TAMPERED: "<valid access token with altered signature>",
                AuthMode.REUSE: "<the access token already used by the previous request>"}.get(self.mode, self.mode.value)


class BodyState(StrEnum):
    DEFAULT = "default"  # a compliant stand-in, built at send time
    JSON = "json"        # a JSON value the scenario set or edited
    RAW = "raw"          # exact text (invalid JSON included)
    ABSENT = "absent"    # no body


class Body:
    """The request body the scenario has set up (see :class:`BodyState`)."""

    def __init__(self) -> None:
        self.state = BodyState.ABSENT
        self.value: Any = None
        self.raw: str = ""
        self._default: Callable[[], Any] | None = None

    def set_default(self, factory: Callable[[], Any]) -> None:
        """A compliant body built at send time (so a scenario that never sends it needs no test data)."""
        self.state, self.value, self._default = BodyState.DEFAULT, None, factory

    def set_json(self, value: Any) -> None:
        self.state, self.value = BodyState.JSON, value

    def set_raw(self, text: str) -> None:
        """Exactly ``text`` is sent (invalid JSON included); property edits start from its JSON value."""
        self.state, self.raw = BodyState.RAW, text
        try:
            self.value = json.loads(text)
        except ValueError:
            self.value = None

    def set_absent(self) -> None:
        self.state, self.value, self.raw = BodyState.ABSENT, None, ""

    def editable(self) -> Any:
        """The JSON value to edit property by property.

        A default body is a stand-in used only when the scenario says nothing else about the
        body, so the scenario's first property sentence starts from an empty object: otherwise
        "set the hashedPhoneNumber" on top of a default phoneNumber body would send both.
        """
        if self.state is BodyState.RAW and isinstance(self.value, dict | list):
            self.state = BodyState.JSON
        elif self.state is not BodyState.JSON or not isinstance(self.value, dict | list):
            self.state, self.value = BodyState.JSON, {}
        return self.value

    def current(self) -> Any:
        """The JSON value that would be sent now (the default resolved), None when there is none."""
        if self.state is BodyState.DEFAULT and self._default is not None:
            return self._default()
        return self.value

    def content(self) -> bytes | None:
        if self.state is BodyState.ABSENT:
            return None
        if self.state is BodyState.RAW:
            return self.raw.encode("utf-8")
        return json.dumps(self.current()).encode("utf-8")


@dataclass
class RequestDraft:
    """The request as the scenario has set it up so far."""

    operation_id: str | None = None
    base_url: str | None = None
    resource_path: str | None = None  # "the resource is "/verify"" (older files): picks the operation with the method
    headers: list[tuple[str, str]] = field(default_factory=list)
    query: dict[str, str] = field(default_factory=dict)
    path_params: dict[str, str] = field(default_factory=dict)
    auth: AuthSpec = field(default_factory=AuthSpec)
    body: Body = field(default_factory=Body)

    def set_header(self, name: str, value: str) -> None:
        if name.lower() == "authorization":
            self.auth = AuthSpec(mode=AuthMode.LITERAL, literal=value)
            return
        self.remove_header(name)
        self.headers.append((name, value))

    def remove_header(self, name: str) -> None:
        if name.lower() == "authorization":
            self.auth = AuthSpec(mode=AuthMode.REMOVED)
            return
        self.headers = [(n, v) for n, v in self.headers if n.lower() != name.lower()]

    def header(self, name: str) -> str | None:
        if name.lower() == "authorization":
            return None
        return next((v for n, v in self.headers if n.lower() == name.lower()), None)


# -- tokens -------------------------------------------------------------------------------------

def scope_for(contract: Contract, operation_id: str, kind: TokenKind) -> str:
    """The scope a token of ``kind`` must carry for ``operation_id``.

    ``other_scope`` carries a scope of another operation and none of this one's.
    """
    op = contract.operation(operation_id)
    if kind != TokenKind.OTHER_SCOPE:
        return " ".join(op.scopes)
    for other in contract.operations.values():
        others = [s for s in other.scopes if s not in op.scopes]
        if other.operation_id != operation_id and others:
            return " ".join(others)
    raise DefectiveDefinition(f"the contract has no operation with a scope other than {operation_id}'s")


def obtain_token(tokens: TokenProvider, kind: TokenKind, scope: str) -> IssuedToken:
    """A fresh token of ``kind``; SkipScenario when the target provides no way to get one."""
    if not tokens.supports(kind):
        raise SkipScenario(unsupported_reason(tokens, kind))
    try:
        return tokens.get(kind, scope)
    except TokenError as exc:
        raise TesterSideError(f"could not obtain a {kind.value} access token: {redact(exc)}") from None


def tamper_signature(token: str) -> str:
    """``token`` altered so that it cannot be valid, whatever its format.

    A JWS gets one byte of its signature flipped: well-formed, but the signature is wrong. Any
    other token (an opaque handle the API introspects) gets one character in its middle changed
    within the same character class: the result looks like a token but was never issued, so a
    correct API refuses it just the same. The checker never needs to know the token's format.
    """
    parts = token.split(".")
    if len(parts) == 3 and parts[2]:
        padded = parts[2] + "=" * (-len(parts[2]) % 4)
        try:
            signature = bytearray(base64.urlsafe_b64decode(padded))
        except ValueError:
            signature = bytearray()
        if signature:
            signature[len(signature) // 2] ^= 0x01
            parts[2] = base64.urlsafe_b64encode(bytes(signature)).decode("ascii").rstrip("=")
            return ".".join(parts)
    return _alter_one_character(token)


def _alter_one_character(token: str) -> str:
    """The token with the alphanumeric character nearest its middle replaced by the next one of its class."""
    positions = sorted((i for i, c in enumerate(token) if c.isascii() and c.isalnum()),
                       key=lambda i: abs(i - len(token) // 2))
    if not positions:
        raise SkipScenario("the target's valid tokens have no character the kit can alter")
    i = positions[0]
    c = token[i]
    for alphabet in ("0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        if c in alphabet:
            c = alphabet[(alphabet.index(c) + 1) % len(alphabet)]
            break
    return token[:i] + c + token[i + 1:]


# -- the conversation ---------------------------------------------------------------------------

@dataclass
class Sent:
    """One request that went out and what came back (the token itself is kept only in memory)."""

    result: HttpResult
    record: ExchangeRecord
    operation_id: str
    token: str | None = field(default=None, repr=False)
    json_checked: bool = False  # the "body is JSON" verdict is recorded once per response


# Token methods whose tokens come from the tester, not from the target's authorization server.
TESTER_TOKEN_SOURCES = frozenset({"static", "command"})


class SentTokens:
    """Which fresh-kind tokens a run has sent already (SHA-256 digests only; shared by its scenarios).

    A method that hands out the same token again (``static``, a ``command`` that caches) makes the
    kit send a token twice; a target that refuses the second use with 401 is within its rights.
    """

    def __init__(self) -> None:
        self._seen: set[bytes] = set()
        self._lock = threading.Lock()

    def sent_before(self, token: str) -> bool:
        """Record ``token`` as sent; whether it had been sent before."""
        digest = hashlib.sha256(token.encode("utf-8", "replace")).digest()
        with self._lock:
            seen = digest in self._seen
            self._seen.add(digest)
        return seen


class Conversation:
    """The request being set up plus everything already sent in this scenario."""

    def __init__(self, *, client: GuardedClient, contract: Contract, tokens: TokenProvider | None, base_url: str,
                 sent_tokens: SentTokens | None = None) -> None:
        self.client = client
        self.contract = contract
        self.tokens = tokens
        self.sent_tokens = sent_tokens
        self._issued_by = ""  # the token method of the last token obtained for a send
        self.default_base_url = base_url.rstrip("/")
        self.draft = RequestDraft()
        self.pending = False
        self.sent: list[Sent] = []

    # -- sending ---------------------------------------------------------------------------------
    def request_sent(self, operation_id: str) -> None:
        """The When step: remember the intent; a request still pending from an earlier When goes first."""
        if self.pending:
            self._send()
        try:
            self.contract.operation(operation_id)
        except ContractError as exc:
            raise DefectiveDefinition(str(exc)) from None
        self.draft.operation_id = operation_id
        self.pending = True

    def request_sent_by_method(self, method: str, path: str | None = None) -> None:
        """Older CAMARA files name a method and a resource path, not an operationId: look the operation up."""
        path = path or self.draft.resource_path
        if not path:
            raise DefectiveDefinition(f'"{method}" request sent without a resource path, so the operation is unknown')
        op = self.contract.operation_for(method, path)
        if op is None:
            raise DefectiveDefinition(f"the contract has no operation {method.upper()} {path}")
        self.request_sent(op.operation_id)

    def resend_with_same_token(self) -> None:
        """Send the last request again with the very token it used (single-use tokens must now fail)."""
        if self.pending:
            self._send()
        if not self.sent or self.sent[-1].token is None:
            raise DefectiveDefinition("'sent again with the same access token' needs an earlier request that carried a token")
        self.draft.auth = AuthSpec(mode=AuthMode.REUSE)
        self.pending = True

    def response(self) -> Sent:
        """The response the assertions are about, sending the pending request first."""
        if self.pending:
            self._send()
        if not self.sent:
            raise DefectiveDefinition(
                "the scenario has no When step: no request is ever sent, so there is no response to check"
            )
        return self.sent[-1]

    def _send(self) -> Sent:
        self.pending = False
        draft = self.draft
        assert draft.operation_id is not None
        op = self.contract.operation(draft.operation_id)
        path = op.path
        for name, value in draft.path_params.items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        url = (draft.base_url or self.default_base_url).rstrip("/") + path
        headers = list(draft.headers)
        token = self._authorization(draft, op.operation_id)
        if token is not None:
            headers.append(("Authorization", token[0]))
        # A Background's default body is a stand-in for operations that take one; a GET gets none.
        content = None if draft.body.state is BodyState.DEFAULT and not op.has_request_body else draft.body.content()
        resent = self._resent_by_the_kit(draft, token[1] if token else None, self._issued_by)
        result = self.client.request(op.method, url, headers=headers, content=content, params=draft.query or None)
        record = exchange_record(result, draft.auth.describe(), self.client.added_header_names(url, headers))
        sent = Sent(result=result, record=record, operation_id=op.operation_id, token=token[1] if token else None)
        self.sent.append(sent)
        if resent is not None and result.status == 401:
            raise TesterSideError(
                f"the {resent.value} token was one the kit had sent before in this run (method {self._issued_by} gave the "
                "same token again) and the target refused it with 401, as it may refuse a used token: this says nothing "
                f"about the target; give tokens.{resent.value} a method that fetches a fresh token per request "
                "(jwt-bearer, ciba, authorization-code or command)")
        return sent

    def _resent_by_the_kit(self, draft: RequestDraft, raw: str | None, method: str) -> TokenKind | None:
        """The kind of a fresh token about to go out a second time (not on purpose, as REUSE does), else None.

        Only a token of the tester's own source counts: one the target's authorization server issued
        twice is the target's doing, and its refusal stays the target's failure.
        """
        kind = draft.auth.kind or TokenKind.VALID
        if (raw is None or method not in TESTER_TOKEN_SOURCES or self.sent_tokens is None or draft.auth.mode is not AuthMode.TOKEN or kind not in FRESH_KINDS
                or draft.auth.scheme.lower() != "bearer"):  # another scheme is meant to get 401 whatever the token
            return None
        return kind if self.sent_tokens.sent_before(raw) else None

    def _authorization(self, draft: RequestDraft, operation_id: str) -> tuple[str, str | None] | None:
        """(header value, raw token) for this send, or None for no header."""
        auth = draft.auth
        if auth.mode is AuthMode.REMOVED:
            return None
        if auth.mode is AuthMode.LITERAL:
            return auth.literal, None
        if auth.mode is AuthMode.REUSE:
            previous = next((s.token for s in reversed(self.sent) if s.token), None)
            return f"Bearer {previous}", previous
        if self.tokens is None:
            raise SkipScenario("no token provider is configured for this target")
        kind = TokenKind.VALID if auth.mode is AuthMode.TAMPERED else (auth.kind or TokenKind.VALID)
        issued = obtain_token(self.tokens, kind, scope_for(self.contract, operation_id, kind))
        self._issued_by = issued.method
        raw = tamper_signature(issued.access_token) if auth.mode is AuthMode.TAMPERED else issued.access_token
        return f"{auth.scheme} {raw}", raw


# -- records ------------------------------------------------------------------------------------

_PLAIN_SCHEME = re.compile(r"[A-Za-z0-9._~+/-]+")  # safe between double quotes in a shell
_SKIPPED_HEADERS = frozenset({"host", "content-length", "accept-encoding", "connection", "user-agent", "accept"})


def header_variable(name: str) -> str:
    """The shell variable a reproduction names for a secret header's value: ``X-API-Key`` -> ``X_API_KEY``."""
    variable = re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_") or "HEADER"
    return variable if not variable[0].isdigit() else "H_" + variable


def curl_command(method: str, url: str, headers: list[tuple[str, str]] | dict[str, str], body: bytes | None,
                 token_note: str, *, secret_headers: Iterable[str] = ()) -> str:
    """A curl command that repeats the request; the token is ``$ACCESS_TOKEN``, everything is redacted.

    Phone numbers in the body are masked too, so the command reproduces the request's shape; the
    reader puts the number back from the test data. A header named in ``secret_headers`` (the
    gateway's ``http.headers``) is sent as a shell variable (``-H "X-API-Key: $X_API_KEY"``) and the
    comment says which setting's value to put there: the value itself is never written.
    """
    items = headers.items() if isinstance(headers, dict) else headers
    secret = {name.lower(): name for name in secret_headers}
    parts = ["curl", "-sS", "-i", "-X", method, shlex.quote(redact(url))]
    uses_token = False
    variables: list[str] = []
    for name, value in items:
        if name.lower() in _SKIPPED_HEADERS:
            continue
        if name.lower() in secret:
            name = secret[name.lower()]  # as configured (a sent request's headers may be lower case)
            variable = header_variable(name)
            if _PLAIN_SCHEME.fullmatch(name):
                parts += ["-H", f'"{name}: ${variable}"']
            else:
                parts += ["-H", shlex.quote(redact(f"{name}: ")) + f'"${variable}"']
            variables.append(f"{variable} to the value of http.headers {name}")
            continue
        if name.lower() == "authorization":
            scheme = value.split(" ", 1)[0] if " " in value.strip() else "Bearer"
            if _PLAIN_SCHEME.fullmatch(scheme):
                parts += ["-H", f'"{name}: {scheme} $ACCESS_TOKEN"']
            else:  # a scheme from a feature literal could hold $(...) or quotes: quote it, expand only the token
                parts += ["-H", shlex.quote(redact(f"{name}: {scheme} ")) + '"$ACCESS_TOKEN"']
            uses_token = True
            continue
        parts += ["-H", shlex.quote(f"{name}: {redact(value)}")]
    placeholders: list[str] = []
    if body is not None:
        quoted, placeholders = _body_argument(body.decode("utf-8", errors="replace"))
        parts += ["--data-raw", quoted]
    command = " ".join(parts)
    notes = ([f"ACCESS_TOKEN set to {token_note}"] if uses_token else []) + variables + placeholders
    if notes:
        command += "   # with " + "; ".join(notes)
    return command


# A number or hash the report must mask becomes a shell variable, so the command runs once it is set.
_NUMBER_FIELD = re.compile(r'"(phoneNumber|hashedPhoneNumber)"(\s*:\s*)"([^"\\]*)"')
_PLACEHOLDERS = {"phoneNumber": "PHONE_NUMBER", "hashedPhoneNumber": "HASHED_PHONE_NUMBER"}


def _body_argument(text: str) -> tuple[str, list[str]]:
    """The body as one shell word: masked numbers as ``"$PHONE_NUMBER"``/``"$HASHED_PHONE_NUMBER"``, the rest
    redacted and quoted. Returns the word and a note per placeholder saying which value to put there."""
    pieces: list[str] = []
    notes: dict[str, str] = {}
    at = 0
    for match in _NUMBER_FIELD.finditer(text):
        value = match.group(3)
        masked = redact(value)
        if masked == value:  # nothing secret (an invalid or placeholder value): kept as sent
            continue
        variable = _PLACEHOLDERS[match.group(1)]
        pieces.append(shlex.quote(redact(text[at:match.start(3)])))
        pieces.append(f'"${variable}"')
        if variable == "PHONE_NUMBER":
            notes.setdefault(variable, f"PHONE_NUMBER set to the number sent (masked here: {masked})")
        else:
            notes.setdefault(variable, "HASHED_PHONE_NUMBER set to the SHA-256 hex of the number sent")
        at = match.end(3)
    pieces.append(shlex.quote(redact(text[at:])))
    return "".join(p for p in pieces if p != "''") or "''", list(notes.values())


MAX_BODY_RECORDED = 16 * 1024  # a report shows the start of a body; a hostile 50 MB body is not redacted in full


def _shown(body: bytes) -> str:
    text = body[:MAX_BODY_RECORDED].decode("utf-8", errors="replace")
    return text if len(body) <= MAX_BODY_RECORDED else f"{text}… ({len(body)} bytes in all)"


def exchange_record(result: HttpResult, auth_description: str, secret_headers: tuple[str, ...] = ()) -> ExchangeRecord:
    """The redacted, reproducible record of one exchange (``secret_headers``: the gateway's, as shell variables)."""
    request_headers = redact_headers(result.request_headers)
    return ExchangeRecord(
        method=result.method,
        url=redact(result.url),
        request_headers=request_headers,
        request_body=redact(result.request_body.decode("utf-8", errors="replace")) if result.request_body else None,
        status=result.status,
        response_headers=redact_headers(dict(result.headers)),
        response_body=redact(_shown(result.body)) if result.body else None,
        elapsed_ms=round(result.elapsed * 1000, 1),
        reproduce=curl_command(result.method, result.url, result.request_headers, result.request_body,
                               auth_description.strip("<>"), secret_headers=secret_headers),
    )

