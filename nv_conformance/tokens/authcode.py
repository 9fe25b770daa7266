"""OIDC authorization code flow with ``prompt=none``, as a device on the mobile network runs it.

The request leaves from ``source_address`` (the device's address; a loopback alias against the
reference), so the operator can identify the subscriber from the connection. The kit follows
the redirect chain itself, one hop at a time, only while it stays on the authorization server's
host, and stops when a Location points at the registered ``redirect_uri``, without requesting
it: the code (or error) is read from that URL. PKCE (S256) is used when the server announces it.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from ..errors import ConfigError, TargetError, TokenError
from ..redact import redact, register_secret
from .authserver import (
    SERVER_SETTINGS,
    AuthServer,
    OAuthFailure,
    failure_line,
    issued_token,
    off_network_outcome,
)
from .base import OFF_NETWORK, IssuedToken, OffNetworkOutcome, TokenKind, TokenUse
from .clientauth import SETTINGS as CLIENT_SETTINGS
from .clientauth import ClientAuth
from .keys import KEY_SETTINGS
from .kit import TesterKit
from .method import MethodContext, MethodSpec, OffNetworkCapable, TokenMethod, scope_value
from .settings import Section, check_url

SETTINGS = SERVER_SETTINGS | KEY_SETTINGS | CLIENT_SETTINGS | {"redirect_uri", "source_address", "purpose", "pkce", "max_redirects"}


class AuthorizationCodeMethod(TokenMethod, OffNetworkCapable):
    name = "authorization-code"

    def __init__(self, section: Section, context: MethodContext) -> None:
        self.source_address = section.string("source_address")
        if self.source_address:
            try:
                ipaddress.ip_address(self.source_address)
            except ValueError:
                raise ConfigError(section.path("source_address"), "must be an IP address of this machine") from None
        # Authorization requests leave from the device address; the code exchange is server-to-server.
        self.browser = context.client(self.source_address)
        self.server = AuthServer(section, context.client(), allow_plain_http=context.allow_plain_http,
                                 needs=("token_endpoint", "authorization_endpoint"))
        self.auth = ClientAuth(section, default_audience="token_endpoint")
        self.redirect_uri = section.url("redirect_uri", allow_plain_http=True, required=True) or ""
        self.purpose = section.string("purpose")
        self.pkce = section.choice("pkce", ("auto", "S256", "none"), "auto")
        self.max_redirects = int(section.number("max_redirects", 10, minimum=1, maximum=30))
        self.allow_plain_http = context.allow_plain_http

    def _authorize(self, scope: str) -> tuple[Landing, str | None]:
        """Run the front channel; returns the callback and the PKCE verifier used (if any)."""
        endpoint = self.server.endpoint("authorization_endpoint")
        state = secrets.token_urlsafe(16)
        params = {
            "response_type": "code",
            "client_id": self.auth.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope_value(self.purpose, scope, openid=True),
            "state": state,
            "nonce": secrets.token_urlsafe(16),
            "prompt": "none",
        }
        verifier = None
        if self.pkce == "S256" or (self.pkce == "auto" and self.server.supports_pkce_s256()):
            verifier = secrets.token_urlsafe(48)
            register_secret(verifier)
            params["code_challenge"] = _s256(verifier)
            params["code_challenge_method"] = "S256"
        url = endpoint + ("&" if urlsplit(endpoint).query else "?") + urlencode(params)
        landing = self._follow(url, urlsplit(endpoint).hostname or "")
        if landing.state != state and (landing.code is not None or landing.state is not None):
            raise TokenError(f"authorization endpoint {endpoint}: the redirect carries a wrong state (possible injection)")
        return landing, verifier

    def _follow(self, url: str, server_host: str) -> Landing:
        endpoint = _origin(url)
        for _hop in range(self.max_redirects + 1):
            try:
                result = self.browser.request("GET", url, headers=self.server.headers_for(url, {"accept": "text/html,application/json"}))
            except TargetError as exc:
                hint = ""
                if self.source_address and "Cannot assign requested address" in str(exc):
                    hint = f" (source_address {self.source_address} is not an address of this machine)"
                raise TokenError(f"authorization request failed: {redact(exc)}{hint}") from None
            if not result.is_redirect:
                body = result.json
                if result.status >= 400 and isinstance(body, dict) and isinstance(body.get("error"), str):
                    return Landing(None, _code(body["error"]), _text(body.get("error_description")), None, status=result.status)
                raise TokenError(
                    f"authorization endpoint {endpoint}: HTTP {result.status} instead of a redirect to the "
                    f"redirect_uri (prompt=none must not show a page)"
                )
            location = urljoin(url, result.headers["location"])
            if _same_target(location, self.redirect_uri):
                return Landing.from_callback(location, status=result.status)
            parts = urlsplit(location)
            if (parts.hostname or "") != server_host:
                raise TokenError(
                    f"authorization endpoint {endpoint}: redirect to another host "
                    f"({_code(parts.hostname or '?')}) not followed"
                )
            try:
                check_url(location, "redirect", allow_plain_http=self.allow_plain_http)
            except ConfigError as exc:
                raise TokenError(f"authorization endpoint {endpoint}: redirect {exc.problem}") from None
            url = location
            endpoint = _origin(url)
        raise TokenError(f"authorization endpoint: more than {self.max_redirects} redirects")

    def _exchange(self, code: str, verifier: str | None) -> dict | OAuthFailure:
        endpoint = self.server.endpoint("token_endpoint")
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        if verifier:
            form["code_verifier"] = verifier
        headers = self.auth.apply(form, self.server, endpoint)
        return self.server.post(endpoint, form, what="token endpoint", headers=headers)

    def fetch(self, kind: TokenKind, scope: str) -> IssuedToken:
        callback, verifier = self._authorize(scope)
        if callback.code is None:
            endpoint = self.server.endpoint("authorization_endpoint")
            detail = f": {callback.description}" if callback.description else ""
            raise TokenError(f"authorization endpoint {endpoint}: OAuth error {callback.error}{detail}")
        answer = self._exchange(callback.code, verifier)
        endpoint = self.server.endpoint("token_endpoint")
        if isinstance(answer, OAuthFailure):
            raise TokenError(failure_line("token endpoint", endpoint, answer))
        return issued_token(answer, kind=kind, scope=scope, method=self.name, endpoint=endpoint, grant="authorization-code")

    def attempt(self, scope: str) -> OffNetworkOutcome:
        """Run the flow from an address the network does not know; the server should refuse."""
        callback, verifier = self._authorize(scope)
        if callback.code is None:
            return OffNetworkOutcome(False, callback.error, callback.description)
        return off_network_outcome(self._exchange(callback.code, verifier),
                                   "the authorization server issued a code and a token")

    def describe(self) -> str:
        source = f" from {self.source_address}" if self.source_address else ""
        return f"authorization-code (client {self.auth.client_id}, prompt=none{source}, pkce {self.pkce})"


@dataclass
class Landing:
    """Where the redirect walk ended: the code or OAuth error sent back to the redirect_uri."""

    code: str | None
    error: str | None
    description: str
    state: str | None
    status: int = 302

    @classmethod
    def from_callback(cls, location: str, *, status: int) -> Landing:
        parts = urlsplit(location)
        params = parse_qs(parts.query) or parse_qs(parts.fragment)
        code = _first(params, "code")
        if code:
            register_secret(code)
        error = _first(params, "error")
        if not code and not error:
            error = "no_code"
        return cls(code, _code(error) if error else None, _text(_first(params, "error_description") or ""),
                   _first(params, "state"), status=status)


def _first(params: dict[str, list[str]], name: str) -> str | None:
    """The first value of a query parameter (parse_qs drops empty ones), None when absent."""
    values = params.get(name)
    return values[0] if values else None


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _same_target(location: str, redirect_uri: str) -> bool:
    a, b = urlsplit(location), urlsplit(redirect_uri)
    return (a.scheme, (a.hostname or "").lower(), a.port, a.path or "/") == (b.scheme, (b.hostname or "").lower(), b.port, b.path or "/")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _code(value: object) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in redact(str(value)))
    return text[:60]


def _text(value: object) -> str:
    if not isinstance(value, str):
        return ""
    return " ".join(redact(value).split())[:160]


def kit_settings(kit: TesterKit, use: TokenUse) -> dict[str, Any]:
    """The kit's client; requests leave from the subscriber's device address (off-network: the kit's unknown one)."""
    source = kit.off_network_ip if use is OFF_NETWORK else kit.device_ip
    return {**kit.server_settings(), **kit.key_settings(), "redirect_uri": kit.client.get("redirect_uri"), "source_address": source}


METHOD = MethodSpec(
    name=AuthorizationCodeMethod.name,
    settings=SETTINGS,
    kinds=frozenset({TokenKind.VALID, TokenKind.OTHER_SCOPE}),
    build=AuthorizationCodeMethod,
    off_network=True,
    kit_settings=kit_settings,
    cannot={TokenKind.NON_NETWORK: (
        "authorization-code with prompt=none always authenticates by the network; a non_network token needs "
        "another method, e.g. jwt-bearer or ciba with a tel: subject"
    )},
)
