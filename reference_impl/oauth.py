"""The authorization server: OIDC discovery, JWKS, /authorize, /token, CIBA and a TS.43 entitlement stub.

Flows (CAMARA Security and Interoperability Profile):
- authorization code with prompt=none: the subscriber is the one whose device owns the
  TCP source address of the /authorize request;
- CIBA poll mode with login_hint operatortoken:/ipport:/tel:;
- JWT-bearer grant (RFC 7523) with sub operatortoken:/tel:.
Client authentication: private_key_jwt, client_secret_basic or client_secret_post (onboarded clients,
reference_impl/clients.py). Errors are RFC 6749 JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from nv_conformance import mediatype

from .asgi_util import BodyTooLarge, ClientGone, read_body
from .assertions import CLIENT_SIGNING_ALGS, ClientJwtError, is_numeric_date, verify_client_jwt
from .clients import ClientDirectory
from .keys import SIGNING_ALG
from .records import AuthCode, CibaRequest, Client, Subscriber
from .scopes import ScopeError, api_scopes, parse_scope
from .settings import Settings
from .stores import StateStore
from .tokens import (
    AMR_ASSERTED,
    AMR_NETWORK,
    AMR_SIM,
    AccessTokenIssuer,
    AccessTokenVerifier,
    InvalidAccessToken,
    TokenGrant,
)

GRANT_AUTHORIZATION_CODE = "authorization_code"
GRANT_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GRANT_CIBA = "urn:openid:params:grant-type:ciba"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CODE_LIFETIME_SECONDS = 60
OPERATOR_TOKEN_LIFETIME_SECONDS = 3600
ID_TOKEN_LIFETIME_SECONDS = 300


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def response(self) -> JSONResponse:
        headers = {"Cache-Control": "no-store"}
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="token"'
        return JSONResponse({"error": self.error, "error_description": self.description},
                            status_code=self.status, headers=headers)


@dataclass(frozen=True)
class Endpoints:
    issuer: str
    device_url: str | None = None  # where devices reach the network-facing endpoints, when not at the issuer

    @classmethod
    def of(cls, settings: Settings) -> Endpoints:
        return cls(settings.issuer, settings.device_url)

    @property
    def authorization(self) -> str:
        return (self.device_url or self.issuer) + "/authorize"

    @property
    def token(self) -> str:
        return self.issuer + "/token"

    @property
    def backchannel(self) -> str:
        return self.issuer + "/bc-authorize"

    @property
    def jwks(self) -> str:
        return self.issuer + "/jwks"

    @property
    def revocation(self) -> str:
        return self.issuer + "/revoke"

    @property
    def ts43(self) -> str:
        return (self.device_url or self.issuer) + "/ts43/entitlement"

    @property
    def discovery(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"


def redirect_uri_registered(client: Client, redirect_uri: str) -> bool:
    """Exact match, except that loopback redirect URIs match on any port (RFC 8252 section 7.3).

    Only the port may differ: never a fragment (RFC 6749 section 3.1.2; the code would land in it),
    user information or a port that is no port. Control characters and spaces are refused first:
    urlsplit silently drops TAB and LF (WHATWG), so a URI with them inside would compare equal to a
    registered one that it is not; the comparison itself is byte for byte.
    """
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in redirect_uri):
        return False
    try:
        given = urlsplit(redirect_uri)
        given.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return False
    if "#" in redirect_uri or given.username is not None or given.password is not None:
        return False
    if redirect_uri in client.redirect_uris:
        return True
    if given.hostname not in ("127.0.0.1", "localhost", "::1") or given.scheme != "http" or given.port is None:
        return False
    start = len("http://")
    without_port = redirect_uri[:start] + given.netloc.rsplit(":", 1)[0] + redirect_uri[start + len(given.netloc):]
    return without_port in client.redirect_uris


class AuthorizationServer:
    def __init__(self, settings: Settings, store: StateStore, issuer: AccessTokenIssuer, jwks: dict[str, Any],
                 verifier: AccessTokenVerifier | None = None, clients: ClientDirectory | None = None) -> None:
        self.settings = settings
        self.clients = clients or ClientDirectory(store)
        self.verifier = verifier
        self.behaviour = settings.behaviour
        self.store = store
        self.issuer = issuer
        self.jwks_document = jwks
        self.endpoints = Endpoints.of(settings)

    def routes(self) -> list[Route]:
        return [
            Route("/.well-known/openid-configuration", self.discovery, methods=["GET"]),
            Route("/jwks", self.jwks, methods=["GET"]),
            Route("/authorize", self.authorize, methods=["GET"]),
            Route("/token", self.token, methods=["POST"]),
            Route("/bc-authorize", self.bc_authorize, methods=["POST"]),
            Route("/revoke", self.revoke, methods=["POST"]),
            Route("/ts43/entitlement", self.ts43_entitlement, methods=["POST"]),
            Route("/demo-callback", self.demo_callback, methods=["GET"]),
        ]

    # -- metadata -------------------------------------------------------------------------
    async def discovery(self, request: Request) -> Response:
        e = self.endpoints
        return JSONResponse({
            "issuer": e.issuer,
            "authorization_endpoint": e.authorization,
            "token_endpoint": e.token,
            "backchannel_authentication_endpoint": e.backchannel,
            "jwks_uri": e.jwks,
            "revocation_endpoint": e.revocation,
            "revocation_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic", "client_secret_post"],
            "ts43_entitlement_endpoint": e.ts43,
            "grant_types_supported": [GRANT_AUTHORIZATION_CODE, GRANT_JWT_BEARER, GRANT_CIBA],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "prompt_values_supported": ["none"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic", "client_secret_post"],
            "token_endpoint_auth_signing_alg_values_supported": list(CLIENT_SIGNING_ALGS),
            "backchannel_token_delivery_modes_supported": ["poll"],
            "backchannel_user_code_parameter_supported": False,
            "backchannel_authentication_request_signing_alg_values_supported": list(CLIENT_SIGNING_ALGS),
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": [SIGNING_ALG],
            "scopes_supported": ["openid", *sorted(api_scopes())],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "jti", "scope", "amr", "client_id", "purpose"],
            "authorization_response_iss_parameter_supported": True,
        })

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(self.jwks_document)

    async def demo_callback(self, request: Request) -> Response:
        """Where the demo client's browser would land; the code stays in the URL, never in the page."""
        if "error" in request.query_params:
            return PlainTextResponse(f"authorization failed: {request.query_params['error'][:80]}\n", status_code=200)
        return PlainTextResponse("authorization response received\n")

    # -- helpers ------------------------------------------------------------------------------
    async def _form(self, request: Request) -> dict[str, str]:
        try:
            raw = await read_body(request.scope, request.receive, self.behaviour.max_body_bytes)
        except BodyTooLarge:
            raise OAuthError("invalid_request", f"the body exceeds {self.behaviour.max_body_bytes} bytes") from None
        if not raw:
            return {}
        content_type = mediatype.essence(request.headers.get("content-type"))
        if content_type != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
        try:
            parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except (UnicodeDecodeError, ValueError):
            raise OAuthError("invalid_request", "the body is not valid form data") from None
        form: dict[str, str] = {}
        for name, values in parsed.items():
            if len(values) > 1:
                raise OAuthError("invalid_request", f"parameter {name[:40]!r} is repeated")
            form[name] = values[0]
        return form

    def _authenticate_client(self, request: Request, form: dict[str, str], audience: str) -> Client:
        """private_key_jwt (client_assertion) or client_secret_basic; anything else is invalid_client."""
        assertion = form.get("client_assertion")
        authorization = request.headers.get("authorization")
        if assertion is not None:
            if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
                raise OAuthError("invalid_client", "unsupported client_assertion_type", 401)
            try:
                verified = verify_client_jwt(
                    assertion, store=self.store,
                    audiences={self.endpoints.token, self.endpoints.issuer, audience},
                    expected_client_id=form.get("client_id"),
                    max_lifetime_seconds=self.behaviour.max_client_assertion_lifetime_seconds,
                    reject_reused_jti=True, error_code="invalid_client", clients=self.clients,
                )
            except ClientJwtError as exc:
                raise OAuthError("invalid_client", exc.description, 401) from None
            if verified.claims.get("sub") != verified.client.client_id:
                raise OAuthError("invalid_client", "the client assertion's sub must be the client_id", 401)
            self._check_auth_method(verified.client, "private_key_jwt")
            return verified.client
        if "client_secret" in form:  # client_secret_post (RFC 6749 2.3.1)
            if authorization:
                raise OAuthError("invalid_request", "use one client authentication method, not two")
            return self._client_by_secret(form.get("client_id", ""), form["client_secret"], "client_secret_post")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, ValueError):  # ValueError: non-ASCII characters in the credentials
                raise OAuthError("invalid_client", "malformed Basic credentials", 401) from None
            client_id, sep, secret = decoded.partition(":")
            if not sep:
                raise OAuthError("invalid_client", "malformed Basic credentials", 401)
            return self._client_by_secret(unquote_plus(client_id), unquote_plus(secret), "client_secret_basic")
        raise OAuthError("invalid_client", "client authentication is required (private_key_jwt, client_secret_basic "
                         "or client_secret_post)", 401)

    def _client_by_secret(self, client_id: str, secret: str, method: str) -> Client:
        client = self.clients.client(client_id)
        if client is None or not client.client_secret or not hmac.compare_digest(
            client.client_secret.encode(), secret.encode("utf-8", "surrogateescape")
        ):
            raise OAuthError("invalid_client", "unknown client or wrong secret", 401)
        self._check_auth_method(client, method)
        return client

    def _check_auth_method(self, client: Client, method: str) -> None:
        if not self.clients.auth_method_allowed(client.client_id, method):
            raise OAuthError("invalid_client", f"the client is not registered for {method}", 401)

    def _check_client_scope(self, client_id: str, requested: Any) -> None:
        problem = self.clients.scope_problem(client_id, requested.api_scopes, requested.purpose)
        if problem:
            raise OAuthError("invalid_scope", problem)

    def _token_response(self, grant: TokenGrant, *, openid: bool = False, nonce: str | None = None,
                        code: str | None = None) -> JSONResponse:
        lifetime = self.settings.access_token_lifetime
        access_token, claims = self.issuer.mint(grant, lifetime)
        if code is not None:
            self.store.record_code_token(code, claims["jti"], float(claims["exp"]))
        body: dict[str, Any] = {
            "access_token": access_token, "token_type": "Bearer", "expires_in": lifetime,
            "scope": " ".join(grant.scopes),
        }
        if openid:
            body["id_token"] = self.issuer.mint_id_token(grant, nonce, ID_TOKEN_LIFETIME_SECONDS)
        if self.behaviour.issue_refresh_tokens:
            body["refresh_token"] = secrets.token_urlsafe(32)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    # -- /token ----------------------------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        try:
            form = await self._form(request)
            grant_type = form.get("grant_type")
            if grant_type == GRANT_JWT_BEARER:
                return self._jwt_bearer(request, form)
            if grant_type == GRANT_AUTHORIZATION_CODE:
                return self._authorization_code(request, form)
            if grant_type == GRANT_CIBA:
                return self._ciba_poll(request, form)
            if not grant_type:
                raise OAuthError("invalid_request", "grant_type is required")
            raise OAuthError("unsupported_grant_type", f"grant_type {grant_type[:80]!r} is not supported")
        except OAuthError as exc:
            return exc.response()
        except ClientGone:
            return Response(status_code=400)

    def _jwt_bearer(self, request: Request, form: dict[str, str]) -> Response:
        if "scope" in form and self.behaviour.reject_scope_parameter_with_jwt_bearer:
            raise OAuthError("invalid_request", "the scope parameter must not be sent with the JWT-bearer grant; "
                             "put the scope in the assertion")
        assertion = form.get("assertion")
        if not assertion:
            raise OAuthError("invalid_request", "assertion is required")
        try:
            verified = verify_client_jwt(
                assertion, store=self.store, audiences={self.endpoints.token},
                expected_client_id=None,
                max_lifetime_seconds=self.behaviour.max_assertion_lifetime_seconds,
                reject_reused_jti=self.behaviour.reject_reused_assertion_jti, error_code="invalid_grant",
                clients=self.clients,
            )
        except ClientJwtError as exc:
            raise OAuthError(exc.error, exc.description, 401 if exc.error == "invalid_client" else 400) from None
        claims = verified.claims
        if "scope" not in claims or not isinstance(claims["scope"], str):
            raise OAuthError("invalid_grant", "the assertion lacks the scope claim")
        try:
            requested = parse_scope(claims["scope"])
        except ScopeError as exc:
            raise OAuthError("invalid_scope", str(exc)) from None
        self._check_client_scope(verified.client.client_id, requested)
        subject = claims["sub"]
        if not isinstance(subject, str):
            raise OAuthError("invalid_grant", "the assertion's sub must be a string")
        subscriber, amr = self._subject(subject, allow_ipport=False)
        grant = TokenGrant(subscriber.id, verified.client.client_id, requested.api_scopes, amr, requested.purpose)
        return self._token_response(grant)

    def _subject(self, hint: str, *, allow_ipport: bool) -> tuple[Subscriber, str]:
        """The subscriber a login_hint / assertion sub names, and how it was identified (amr)."""
        kind, _, value = hint.partition(":")
        kind = kind.lower()
        subscriber: Subscriber | None = None
        if kind == "operatortoken" and value:
            subscriber, amr = self.store.subscriber_by_operator_token(value, time.time()), AMR_SIM
        elif kind == "tel" and value:
            subscriber, amr = self.store.subscriber_by_number(value), AMR_ASSERTED
        elif kind == "ipport" and value and allow_ipport:
            ip = _ip_of_ipport(value)
            if ip is None:
                raise OAuthError("invalid_request", "login_hint ipport: must be <IPv4>[:port] or [<IPv6>][:port]")
            subscriber, amr = self.store.subscriber_by_ip(ip), AMR_NETWORK
        else:
            allowed = "operatortoken:, ipport: or tel:" if allow_ipport else "operatortoken: or tel:"
            raise OAuthError("invalid_request" if allow_ipport else "invalid_grant",
                             f"the subject must be {allowed}<value>")
        if subscriber is None:
            raise OAuthError("unknown_user_id" if allow_ipport else "invalid_grant",
                             "the mobile network does not know this subscriber")
        return subscriber, amr

    # -- authorization code ---------------------------------------------------------------------------
    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        client = self.clients.client(q.get("client_id", ""))
        if client is None:
            return OAuthError("invalid_request", "unknown client_id").response()
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri or (self.behaviour.check_redirect_uri and not redirect_uri_registered(client, redirect_uri)):
            return OAuthError("invalid_request", "redirect_uri is missing or not registered for this client").response()

        def back(**params: str) -> Response:
            state = q.get("state")
            if state is not None:
                params["state"] = state
            params["iss"] = self.endpoints.issuer
            separator = "&" if urlsplit(redirect_uri).query else "?"
            return RedirectResponse(redirect_uri + separator + urlencode(params), status_code=302,
                                    headers={"Cache-Control": "no-store"})

        if q.get("response_type") != "code":
            return back(error="unsupported_response_type", error_description="only response_type=code is supported")
        try:
            requested = parse_scope(q.get("scope"))
        except ScopeError as exc:
            return back(error="invalid_scope", error_description=str(exc))
        try:
            self._check_client_scope(client.client_id, requested)
        except OAuthError as exc:
            return back(error=exc.error, error_description=exc.description)
        challenge = q.get("code_challenge")
        if challenge is not None and q.get("code_challenge_method", "plain") != "S256":
            return back(error="invalid_request", error_description="code_challenge_method must be S256")
        peer = request.client.host if request.client else ""
        subscriber = self.store.subscriber_by_ip(peer)
        if subscriber is None and not self.behaviour.identify_by_source_ip:
            subscriber = self.store.subscribers()[0]
        if subscriber is None:
            error = "login_required" if q.get("prompt") == "none" else "access_denied"
            return back(error=error, error_description="the connection is not on the mobile network; "
                        "network-based authentication is impossible")
        code = secrets.token_urlsafe(32)
        self.store.add_code(code, AuthCode(
            client_id=client.client_id, redirect_uri=redirect_uri, subscriber_id=subscriber.id,
            scope=" ".join((*requested.api_scopes, *(("openid",) if requested.openid else ()))),
            purpose=requested.purpose, nonce=q.get("nonce"), code_challenge=challenge,
            expires_at=time.time() + CODE_LIFETIME_SECONDS,
        ))
        return back(code=code)

    def _authorization_code(self, request: Request, form: dict[str, str]) -> Response:
        client = self._authenticate_client(request, form, self.endpoints.token)
        code = form.get("code")
        if not code:
            raise OAuthError("invalid_request", "code is required")
        data = self.store.take_code(code, single_use=self.behaviour.single_use_codes)
        if data is None:
            self.store.revoke_tokens_of_code(code)  # a replay: whoever holds the first token loses it too
        if data is None or data.client_id != client.client_id or data.expires_at <= time.time():
            raise OAuthError("invalid_grant", "the code is unknown, expired, already used or not this client's")
        if form.get("redirect_uri") != data.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri differs from the one in the authorization request")
        if data.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not hmac.compare_digest(digest, data.code_challenge):
                raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        elif "code_verifier" in form:  # PKCE downgrade (RFC 9700 section 2.1.1): no challenge was sent
            raise OAuthError("invalid_grant", "code_verifier sent, but the authorization request had no code_challenge")
        scopes = data.scope.split()
        grant = TokenGrant(data.subscriber_id, client.client_id, tuple(s for s in scopes if s != "openid"),
                           AMR_NETWORK, data.purpose)
        return self._token_response(grant, openid="openid" in scopes, nonce=data.nonce, code=code)

    # -- CIBA ------------------------------------------------------------------------------------------
    async def bc_authorize(self, request: Request) -> Response:
        try:
            form = await self._form(request)
            client = self._authenticate_client(request, form, self.endpoints.backchannel)
            params = self._signed_request(form["request"], client) if "request" in form else form
            try:
                requested = parse_scope(params.get("scope"))
            except ScopeError as exc:
                raise OAuthError("invalid_scope", str(exc)) from None
            self._check_client_scope(client.client_id, requested)
            if not requested.openid:
                raise OAuthError("invalid_scope", "a CIBA authentication request must include the openid scope "
                                 "(CIBA core 7.1)")
            hint = params.get("login_hint")
            if not hint:
                raise OAuthError("invalid_request", "login_hint is required (operatortoken:, ipport: or tel:)")
            subscriber, amr = self._subject(hint, allow_ipport=True)
            now = time.time()
            b = self.behaviour
            auth_req_id = secrets.token_urlsafe(32)
            scope = " ".join((*requested.api_scopes, *(("openid",) if requested.openid else ())))
            self.store.add_ciba_request(CibaRequest(
                auth_req_id=auth_req_id, client_id=client.client_id, subscriber_id=subscriber.id, scope=scope,
                purpose=requested.purpose, amr=amr, ready_at=now + b.ciba_auth_delay_seconds,
                expires_at=now + b.ciba_request_lifetime_seconds, next_poll_at=now + b.ciba_interval_seconds,
                interval=b.ciba_interval_seconds, done=False,
            ))
            return JSONResponse({"auth_req_id": auth_req_id, "expires_in": b.ciba_request_lifetime_seconds,
                                 "interval": b.ciba_interval_seconds}, headers={"Cache-Control": "no-store"})
        except OAuthError as exc:
            return exc.response()
        except ClientGone:
            return Response(status_code=400)

    def _signed_request(self, request_jwt: str, client: Client) -> dict[str, str]:
        """CIBA signed authentication request (CIBA core 7.1.1): the parameters are claims of a JWT signed by
        the client, with aud = issuer, iss = client_id, exp, iat, nbf and a fresh jti."""
        try:
            verified = verify_client_jwt(
                request_jwt, store=self.store, audiences={self.endpoints.issuer, self.endpoints.backchannel},
                expected_client_id=client.client_id, max_lifetime_seconds=3600, reject_reused_jti=True,
                error_code="invalid_request", required_claims=("iss", "aud", "exp", "iat", "nbf", "jti"),
                clients=self.clients,
            )
        except ClientJwtError as exc:
            raise OAuthError("invalid_request", "signed authentication request: " + exc.description) from None
        nbf = verified.claims["nbf"]
        if not is_numeric_date(nbf):
            raise OAuthError("invalid_request", "signed authentication request: nbf must be a number")
        if nbf > time.time() + 30:
            raise OAuthError("invalid_request", "signed authentication request: nbf is in the future")
        return {k: v for k, v in verified.claims.items() if isinstance(v, str)}

    def _ciba_poll(self, request: Request, form: dict[str, str]) -> Response:
        client = self._authenticate_client(request, form, self.endpoints.token)
        auth_req_id = form.get("auth_req_id")
        if not auth_req_id:
            raise OAuthError("invalid_request", "auth_req_id is required")
        req = self.store.ciba_request(auth_req_id)
        if req is None or req.client_id != client.client_id or req.done:
            raise OAuthError("invalid_grant", "auth_req_id is unknown, not this client's or already redeemed")
        now = time.time()
        if now >= req.expires_at:
            raise OAuthError("expired_token", "the authentication request has expired")
        tolerance = 0.05  # a poll sent exactly `interval` seconds later must not be punished for jitter
        if now + tolerance < req.next_poll_at:
            interval = req.interval + self.behaviour.ciba_slow_down_increment
            self.store.update_ciba_poll(auth_req_id, now + interval, interval)
            raise OAuthError("slow_down", f"poll at most every {interval} s")
        self.store.update_ciba_poll(auth_req_id, now + req.interval, req.interval)
        if now < req.ready_at:
            raise OAuthError("authorization_pending", "the subscriber has not been authenticated yet")
        if not self.store.finish_ciba_request(auth_req_id):
            raise OAuthError("invalid_grant", "auth_req_id has already been redeemed")
        scopes = req.scope.split()
        grant = TokenGrant(req.subscriber_id, client.client_id, tuple(s for s in scopes if s != "openid"),
                           req.amr, req.purpose)
        return self._token_response(grant, openid="openid" in scopes)

    # -- revocation (RFC 7009) ---------------------------------------------------------------------------
    async def revoke(self, request: Request) -> Response:
        """Revoke an access token issued to the authenticated client: it is marked used, so the API refuses
        it. As RFC 7009 asks, an unknown, invalid or already-expired token also gets 200."""
        try:
            form = await self._form(request)
            client = self._authenticate_client(request, form, self.endpoints.revocation)
            token = form.get("token")
            if not token:
                raise OAuthError("invalid_request", "token is required")
        except OAuthError as exc:
            return exc.response()
        except ClientGone:
            return Response(status_code=400)
        if self.verifier is not None:
            try:
                claims = self.verifier.verify(token, now=0.0)  # expiry does not matter for revocation
            except InvalidAccessToken:
                claims = None
            if claims is not None and claims.get("client_id") == client.client_id:
                self.store.consume_access_token(claims["jti"], float(claims["exp"]))
        return Response(status_code=200, headers={"Cache-Control": "no-store"})

    # -- TS.43 -------------------------------------------------------------------------------------------
    async def ts43_entitlement(self, request: Request) -> Response:
        """Simulated TS.43 AcquireTemporaryToken: a device (by source IP) or a test SIM (by IMSI) gets a
        fresh operator token for the Number Verification operation."""
        try:
            form = await self._form(request)
        except OAuthError as exc:
            return exc.response()
        except ClientGone:
            return Response(status_code=400)
        if form.get("operation", "AcquireTemporaryToken") != "AcquireTemporaryToken":
            return JSONResponse({"error": "invalid_request", "error_description": "only operation="
                                 "AcquireTemporaryToken is supported"}, status_code=400)
        imsi = form.get("imsi")
        if imsi:
            subscriber = self.store.subscriber_by_imsi(imsi)
        else:
            subscriber = self.store.subscriber_by_ip(request.client.host if request.client else "")
        if subscriber is None:
            return JSONResponse({"error": "access_denied", "error_description": "unknown SIM: send the test "
                                 "SIM's imsi or call from a device address on the mobile network"}, status_code=403)
        token = secrets.token_urlsafe(24)
        expires_at = time.time() + OPERATOR_TOKEN_LIFETIME_SECONDS
        self.store.add_operator_token(token, subscriber.id, expires_at)
        return JSONResponse({
            "OperationResult": 1,
            "TemporaryToken": token,
            "TemporaryTokenExpiry": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at)),
            "OperationTargets": ["number-verification"],
        }, headers={"Cache-Control": "no-store"})


def _ip_of_ipport(value: str) -> str | None:
    """``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]`` or ``[::1]:5678`` -> the address; None if malformed."""
    if value.startswith("["):
        end = value.find("]")
        host, rest = value[1:end], value[end + 1:]
        if end < 0 or (rest and not (rest.startswith(":") and _is_port(rest[1:]))):
            return None
    else:
        host, separator, port = value.partition(":")
        if separator and not _is_port(port):
            return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _is_port(text: str) -> bool:
    return len(text) <= 5 and text.isascii() and text.isdigit() and int(text) <= 65535
