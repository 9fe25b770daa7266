"""Fixtures for the reference provider's tests: a live embedded server and a demo client that gets tokens."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from reference_impl.embedded import EmbeddedReference

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CIBA = "urn:openid:params:grant-type:ciba"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
VERIFY = "number-verification:verify"
SHARE = "number-verification:device-phone-number:read"
PURPOSE = "dpv:FraudPreventionAndDetection"


class DemoClient:
    """The seeded demo client, speaking to a live reference provider over real HTTP."""

    def __init__(self, kit: dict[str, Any]) -> None:
        self.kit = kit
        self.client_id = kit["client"]["client_id"]
        self.key = ECKey.import_key(kit["client"]["private_key_jwk"])
        self.http = httpx.Client(timeout=10)

    # -- JWTs the client signs ------------------------------------------------------------
    def sign(self, claims: dict[str, Any], key: Any = None) -> str:
        key = key or self.key
        return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)

    def assertion_claims(self, sub: str, scope: str | None = f"{PURPOSE} {VERIFY}", **overrides: Any) -> dict:
        now = int(time.time())
        claims = {"iss": self.client_id, "sub": sub, "aud": self.kit["token_endpoint"], "iat": now,
                  "exp": now + 120, "jti": str(uuid.uuid4())}
        if scope is not None:
            claims["scope"] = scope
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def client_assertion(self, audience: str | None = None) -> dict[str, str]:
        now = int(time.time())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": audience or self.kit["token_endpoint"],
                  "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
        return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": self.sign(claims)}

    # -- token endpoint --------------------------------------------------------------------
    def jwt_bearer(self, claims: dict[str, Any], extra: dict[str, str] | None = None) -> httpx.Response:
        form = {"grant_type": JWT_BEARER, "assertion": self.sign(claims), **(extra or {})}
        return self.http.post(self.kit["token_endpoint"], data=form)

    def token(self, subject: str | None = None, scope: str = VERIFY) -> str:
        """A fresh access token via the JWT-bearer grant (default: SIM-based, subscriber 0)."""
        subject = subject or "operatortoken:" + self.kit["subscribers"][0]["operator_token"]
        response = self.jwt_bearer(self.assertion_claims(subject, f"{PURPOSE} {scope}"))
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def basic_auth(self) -> tuple[str, str]:
        return (self.client_id, self.kit["client"]["client_secret"])

    # -- authorization code ----------------------------------------------------------------
    def authorize_from(self, source_ip: str, **params: str) -> httpx.Response:
        """GET /authorize from a given loopback alias: the simulated network sees that source address."""
        query = {"response_type": "code", "client_id": self.client_id,
                 "redirect_uri": self.kit["client"]["redirect_uri"], "scope": f"openid {PURPOSE} {VERIFY}",
                 "prompt": "none", "state": secrets.token_hex(8), **params}
        transport = httpx.HTTPTransport(local_address=source_ip)
        with httpx.Client(transport=transport, timeout=10) as device:
            return device.get(self.kit["authorization_endpoint"], params=query)

    @staticmethod
    def redirect_params(response: httpx.Response) -> dict[str, str]:
        assert response.status_code == 302, response.text
        return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}

    def exchange_code(self, code: str, redirect_uri: str | None = None, **extra: str) -> httpx.Response:
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri or self.kit["client"]["redirect_uri"], **extra,
                **self.client_assertion()}
        return self.http.post(self.kit["token_endpoint"], data=form)

    @staticmethod
    def pkce_pair() -> tuple[str, str]:
        verifier = secrets.token_urlsafe(40)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        return verifier, challenge

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="package")
def reference() -> Iterator[EmbeddedReference]:
    with EmbeddedReference() as ref:
        yield ref


@pytest.fixture(scope="package")
def client(reference: EmbeddedReference) -> Iterator[DemoClient]:
    demo = DemoClient(reference.kit)
    yield demo
    demo.close()


@pytest.fixture(scope="package")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c
