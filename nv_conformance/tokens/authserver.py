"""The target's authorization server as the kit sees it: endpoints (explicit or from discovery)
and the token endpoint's answers turned into an IssuedToken or one clear TokenError line.

Every failure message names the endpoint (no query string), the HTTP status and the OAuth error
code, and passes through redact(): a hostile server that echoes our assertion back gets it masked.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, TargetError, TokenError
from ..http import GuardedClient, HttpResult, origin_of, parse_headers
from ..redact import redact
from .base import IssuedToken, OffNetworkOutcome, TokenKind
from .remember import remember_secret
from .settings import Section, check_url

SERVER_SETTINGS = frozenset(
    {"issuer", "openid_configuration_url", "token_endpoint", "authorization_endpoint", "backchannel_authentication_endpoint",
     "headers"}
)
FORM = {"content-type": "application/x-www-form-urlencoded", "accept": "application/json"}


@dataclass
class OAuthFailure:
    """An OAuth error answer (RFC 6749 5.2) kept apart from transport failures: some flows expect it."""

    status: int
    error: str
    description: str


class AuthServer:
    """Endpoints of one authorization server; discovery runs once, on first use (not at config time)."""

    def __init__(self, section: Section, http: GuardedClient, *, allow_plain_http: bool, needs: tuple[str, ...] = ("token_endpoint",)) -> None:
        self.http = http
        self.allow_plain_http = allow_plain_http
        self.setting_prefix = section.prefix
        self.issuer = section.url("issuer", allow_plain_http=allow_plain_http)
        self.discovery_url = section.url("openid_configuration_url", allow_plain_http=allow_plain_http)
        if not self.discovery_url and self.issuer:
            self.discovery_url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        self._explicit = {
            name: section.url(name, allow_plain_http=allow_plain_http)
            for name in ("token_endpoint", "authorization_endpoint", "backchannel_authentication_endpoint")
        }
        # Extra headers (e.g. a gateway key) go only to the origins of the URLs configured here:
        # an endpoint that discovery puts on another host never sees them.
        self.extra_headers = parse_headers(section.mapping("headers"), section.path("headers"))
        configured = [self.issuer, self.discovery_url, *self._explicit.values()]
        self.header_origins = {origin_of(url) for url in configured if url}
        self._metadata: dict[str, Any] | None = None
        self._lock = threading.Lock()
        if not self.discovery_url:
            for name in needs:  # without discovery every endpoint the method uses must be given
                if self._explicit[name]:
                    continue
                if name == "token_endpoint":
                    raise ConfigError(section.path("issuer"), "required (or openid_configuration_url, or token_endpoint)")
                raise ConfigError(section.path(name), "required (or issuer / openid_configuration_url for discovery)")

    @property
    def metadata(self) -> dict[str, Any]:
        """The discovery document ({} when every endpoint is given explicitly)."""
        with self._lock:
            if self._metadata is None:
                self._metadata = self._discover() if self.discovery_url else {}
            return self._metadata

    def endpoint(self, name: str) -> str:
        """An endpoint URL: the explicit setting wins over discovery."""
        explicit = self._explicit.get(name)
        if explicit:
            return explicit
        if not self.discovery_url:
            raise ConfigError(f"{self.setting_prefix}.{name}", "required (or issuer / openid_configuration_url for discovery)")
        value = self.metadata.get(name)
        if not isinstance(value, str) or not value:
            raise TokenError(f"discovery {self.discovery_url}: the document has no {name}")
        try:
            return check_url(value, name, allow_plain_http=self.allow_plain_http)
        except ConfigError as exc:
            raise TokenError(f"discovery {self.discovery_url}: {name} {exc.problem}") from None

    @property
    def issuer_id(self) -> str | None:
        """The issuer identifier (configured or discovered), e.g. for assertion audiences."""
        if self.issuer:
            return self.issuer
        value = self.metadata.get("issuer") if self.discovery_url else None
        return value if isinstance(value, str) and value else None

    def supports_pkce_s256(self) -> bool | None:
        """True/False when discovery says so, None when the server did not say."""
        methods = self.metadata.get("code_challenge_methods_supported") if self.discovery_url else None
        if methods is None:
            return None
        return isinstance(methods, list) and "S256" in methods

    def _discover(self) -> dict[str, Any]:
        url = self.discovery_url or ""
        try:
            result = self.http.request("GET", url, headers=self.headers_for(url, {"accept": "application/json"}))
        except TargetError as exc:
            raise TokenError(f"discovery failed: {redact(exc)}") from None
        if result.status != 200:
            raise TokenError(f"discovery {url}: HTTP {result.status}{' (redirect not followed)' if result.is_redirect else ''}")
        document = result.json
        if not isinstance(document, dict):
            raise TokenError(f"discovery {url}: HTTP 200 but the body is not a JSON object ({_describe_body(result)})")
        announced = document.get("issuer")
        if self.issuer and isinstance(announced, str) and announced.rstrip("/") != self.issuer.rstrip("/"):
            raise TokenError(f"discovery {url}: issuer {announced!r} does not match the configured issuer {self.issuer!r}")
        return document

    def headers_for(self, url: str, headers: dict[str, str]) -> dict[str, str]:
        """``headers`` plus the configured extra headers when ``url`` is on a configured origin."""
        if not self.extra_headers or origin_of(url) not in self.header_origins:
            return headers
        own = {name.lower() for name in headers}
        return {**{name: value for name, value in self.extra_headers if name.lower() not in own}, **headers}

    def post(self, endpoint: str, form: dict[str, str], *, what: str, headers: dict[str, str] | None = None) -> dict[str, Any] | OAuthFailure:
        """POST a form; a JSON object on 200, an OAuthFailure on a JSON OAuth error, else TokenError."""
        try:
            result = self.http.request("POST", endpoint, data=form, headers=self.headers_for(endpoint, {**FORM, **(headers or {})}))
        except TargetError as exc:
            raise TokenError(f"{what} failed: {redact(exc)}") from None
        body = result.json
        if result.status == 200 and isinstance(body, dict):
            return body
        if result.is_redirect:
            raise TokenError(f"{what} {endpoint}: HTTP {result.status} redirect (not followed)")
        if result.status >= 400 and isinstance(body, dict) and isinstance(body.get("error"), str):
            return OAuthFailure(result.status, _safe_code(body["error"]), _safe_text(body.get("error_description")))
        raise TokenError(f"{what} {endpoint}: HTTP {result.status}, no OAuth JSON answer ({_describe_body(result)})")


def issued_token(body: dict[str, Any], *, kind: TokenKind, scope: str, method: str, endpoint: str,
                 grant: str = "") -> IssuedToken:
    """Check a successful token response (RFC 6749 5.1) and keep what the token-policy scenarios need."""
    token = body.get("access_token")
    if not isinstance(token, str) or not token.strip():
        raise TokenError(f"token endpoint {endpoint}: HTTP 200 but no access_token in the JSON answer")
    remember_secret(token)
    for other in ("refresh_token", "id_token"):
        if isinstance(body.get(other), str):
            remember_secret(body[other])
    token_type = body.get("token_type")
    if isinstance(token_type, str) and token_type.lower() != "bearer":
        raise TokenError(f"token endpoint {endpoint}: token_type {_safe_code(token_type)!r} is not Bearer")
    expires_in = body.get("expires_in")
    if isinstance(expires_in, str) and expires_in.isdigit():
        expires_in = int(expires_in)
    if not isinstance(expires_in, int) or isinstance(expires_in, bool):
        expires_in = None
    granted = body.get("scope")
    return IssuedToken(
        access_token=token,
        kind=kind,
        scope=granted if isinstance(granted, str) and granted else scope,
        expires_in=expires_in,
        refresh_token_issued=bool(body.get("refresh_token")),
        method=method,
        from_token_response=True,
        grant=grant or method,
    )


def off_network_outcome(answer: dict[str, Any] | OAuthFailure, issued: str) -> OffNetworkOutcome:
    """What the token endpoint's ``answer`` to an off-network attempt means: refused (its OAuth error), or a token
    issued (remembered as a secret; ``issued`` says how it came about)."""
    if isinstance(answer, OAuthFailure):
        return OffNetworkOutcome(False, answer.error, f"token endpoint: HTTP {answer.status}")
    token = answer.get("access_token")
    if isinstance(token, str):
        remember_secret(token)
    return OffNetworkOutcome(bool(token), None, issued)


def failure_line(what: str, endpoint: str, failure: OAuthFailure) -> str:
    detail = f": {failure.description}" if failure.description else ""
    return f"{what} {endpoint}: HTTP {failure.status}, OAuth error {failure.error}{detail}"


def _safe_code(value: Any) -> str:
    """An OAuth error code as printable, bounded text (hostile servers send anything)."""
    text = redact(str(value))
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text[:60]


def _safe_text(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    text = " ".join(redact(value).split())
    return text[:160] + ("…" if len(text) > 160 else "")


def _describe_body(result: HttpResult) -> str:
    media = result.media_type or "no content-type"
    return f"{_safe_code(media)}, {len(result.body)} bytes"
