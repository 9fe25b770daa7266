"""Access tokens: minting at the authorization server, checking at the API.

Access tokens are RS256 JWTs (RFC 9068 ``at+jwt``). The claim ``amr`` says how the
subscriber was identified; the API only serves tokens whose ``amr`` contains a
network- or SIM-based method (see docs/reference.md).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError

from .keys import SIGNING_ALG, ServerKeys

AMR_NETWORK = "network"    # identified by the mobile network from the connection (source IP / ipport)
AMR_SIM = "sim"            # identified by the SIM: a TS.43 operator token created on the device
AMR_ASSERTED = "asserted"  # the client asserted the number (tel: subject): not authenticated by the network
NETWORK_AMR = frozenset({AMR_NETWORK, AMR_SIM})
CLOCK_SKEW_SECONDS = 30


class InvalidAccessToken(Exception):
    """The token cannot be accepted; the message is safe to return to the client."""


@dataclass(frozen=True)
class TokenGrant:
    """What the authorization server decided to put into one access token."""

    subscriber_id: str
    client_id: str
    scopes: tuple[str, ...]
    amr: str
    purpose: str | None = None


class AccessTokenIssuer:
    def __init__(self, keys: ServerKeys, issuer: str, audience: str) -> None:
        self._keys = keys
        self.issuer = issuer
        self.audience = audience

    def mint(self, grant: TokenGrant, lifetime_seconds: int, now: float | None = None) -> tuple[str, dict[str, Any]]:
        issued_at = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": grant.subscriber_id,
            "client_id": grant.client_id,
            "iat": issued_at,
            "exp": issued_at + lifetime_seconds,
            "jti": secrets.token_urlsafe(18),
            "scope": " ".join(grant.scopes),
            "amr": [grant.amr],
        }
        if grant.purpose:
            claims["purpose"] = grant.purpose
        header = {"alg": SIGNING_ALG, "kid": self._keys.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, self._keys.private, algorithms=[SIGNING_ALG]), claims

    def mint_id_token(self, grant: TokenGrant, nonce: str | None, lifetime_seconds: int) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": grant.client_id, "sub": grant.subscriber_id,
            "iat": now, "exp": now + lifetime_seconds, "auth_time": now, "amr": [grant.amr],
        }
        if nonce:
            claims["nonce"] = nonce
        header = {"alg": SIGNING_ALG, "kid": self._keys.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self._keys.private, algorithms=[SIGNING_ALG])


class AccessTokenVerifier:
    """Checks signature, issuer, audience and expiry; the caller checks scope, amr and single use."""

    def __init__(self, keys: ServerKeys, issuer: str, audience: str, *, check_signature: bool = True,
                 check_expiry: bool = True, check_audience: bool = True) -> None:
        self._public = keys.public
        self._issuer = issuer
        self._audience = audience
        self._check_signature = check_signature
        self._check_expiry = check_expiry
        self._check_audience = check_audience

    def verify(self, token: str, now: float | None = None) -> dict[str, Any]:
        if token.count(".") != 2 or len(token) > 4096:
            raise InvalidAccessToken("the access token is not a JWT issued by this server")
        try:
            if self._check_signature:
                compact = jws.deserialize_compact(token, self._public, algorithms=[SIGNING_ALG])
                header, payload = compact.headers(), compact.payload
            else:
                compact = jws.extract_compact(token.encode("ascii"))
                header, payload = compact.headers(), compact.payload
            claims = json.loads(payload)
        except (JoseError, ValueError, UnicodeError, TypeError, RecursionError):
            raise InvalidAccessToken("the access token is malformed or its signature does not verify") from None
        if header.get("typ") != "at+jwt" or not isinstance(claims, dict):
            raise InvalidAccessToken("the token is not an access token")
        for name, kind in (("sub", str), ("jti", str), ("exp", int), ("iat", int), ("scope", str), ("amr", list)):
            if not isinstance(claims.get(name), kind) or isinstance(claims[name], bool):
                raise InvalidAccessToken(f"the access token lacks a valid {name} claim")
        if claims.get("iss") != self._issuer:
            raise InvalidAccessToken("the access token was issued by another server")
        if self._check_audience and claims.get("aud") != self._audience:
            raise InvalidAccessToken("the access token is not meant for this API")
        current = time.time() if now is None else now
        if self._check_expiry and claims["exp"] <= current:
            raise InvalidAccessToken("the access token has expired")
        return claims
