"""Client-signed JWTs: JWT-bearer grant assertions (RFC 7523) and private_key_jwt client assertions.

Both are signed with a key from the client's registered JWKS and checked with joserfc;
a jti is accepted once per client (replay protection stored in SQLite).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, TypeGuard

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .records import Client
from .stores import StateStore

CLIENT_SIGNING_ALGS = ("ES256", "RS256")
CLOCK_SKEW_SECONDS = 30
MAX_NUMERIC_DATE = 253402300799  # 9999-12-31T23:59:59Z


class ClientJwtError(Exception):
    """The assertion is unacceptable; ``error`` is the OAuth error code to answer with."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class VerifiedAssertion:
    client: Client
    claims: dict[str, Any]


def is_numeric_date(value: Any) -> TypeGuard[int | float]:
    """A JSON number that is a real point in time (RFC 7519 NumericDate).

    Python's json module reads ``NaN`` and ``Infinity``, and ``true`` is an int: every comparison
    with NaN is False, so such a claim would slip past each time check. An integer like 10**400 is
    no point in time either (and overflows float arithmetic): the range ends with the year 9999.
    """
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= MAX_NUMERIC_DATE


def unverified_issuer(token: str) -> str | None:
    """The ``iss`` claim before verification: needed to find whose key verifies it."""
    try:
        claims = json.loads(jws.extract_compact(token.encode("ascii")).payload)
    except (JoseError, ValueError, UnicodeError, TypeError, RecursionError):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None


def verify_client_jwt(
    token: str,
    *,
    store: StateStore,
    audiences: set[str],
    expected_client_id: str | None,
    max_lifetime_seconds: int | None,
    reject_reused_jti: bool,
    error_code: str,
    required_claims: tuple[str, ...] = ("iss", "sub", "aud", "exp", "iat", "jti"),
    clients: Any = None,
) -> VerifiedAssertion:
    """Verify a JWT signed by a registered client. ``error_code`` is invalid_grant or invalid_client."""
    issuer = unverified_issuer(token)
    if issuer is None:
        raise ClientJwtError(error_code, "the assertion is not a signed JWT with an iss claim")
    if expected_client_id is not None and issuer != expected_client_id:
        raise ClientJwtError(error_code, "the assertion's iss is not the authenticated client")
    client = (clients or store).client(issuer)  # clients: a ClientDirectory (onboarded + demo)
    if client is None:
        raise ClientJwtError(error_code if error_code != "invalid_grant" else "invalid_client",
                              "the assertion's issuer is not a registered client")
    try:
        decoded = jwt.decode(token, KeySet.import_key_set({"keys": client.jwks.get("keys", [])}), algorithms=list(CLIENT_SIGNING_ALGS))
    except (JoseError, ValueError, TypeError, RecursionError):
        raise ClientJwtError(error_code, "the assertion's signature does not verify with the client's keys") from None
    claims = dict(decoded.claims)
    now = time.time()
    for name in required_claims:
        if name not in claims:
            raise ClientJwtError(error_code, f"the assertion lacks the {name} claim")
    aud = claims["aud"]
    if isinstance(aud, str):
        aud_values = {aud}
    elif isinstance(aud, list) and all(isinstance(value, str) for value in aud):
        aud_values = set(aud)
    else:
        raise ClientJwtError(error_code, "the assertion's aud must be a string or a list of strings")
    if not aud_values & audiences:
        raise ClientJwtError(error_code, "the assertion's aud is not this server's token endpoint")
    exp, iat = claims.get("exp"), claims.get("iat", claims.get("exp"))
    if not is_numeric_date(exp) or not is_numeric_date(iat):
        raise ClientJwtError(error_code, "the assertion's exp and iat must be numbers")
    if exp <= now - CLOCK_SKEW_SECONDS:
        raise ClientJwtError(error_code, "the assertion has expired")
    if iat > now + CLOCK_SKEW_SECONDS:
        raise ClientJwtError(error_code, "the assertion's iat is in the future")
    if max_lifetime_seconds is not None:
        if exp - iat > max_lifetime_seconds:
            raise ClientJwtError(error_code, f"the assertion's exp - iat exceeds {max_lifetime_seconds} s")
        if exp > now + max_lifetime_seconds + CLOCK_SKEW_SECONDS:
            raise ClientJwtError(error_code, f"the assertion's exp is more than {max_lifetime_seconds} s ahead")
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise ClientJwtError(error_code, "the assertion's jti must be a non-empty string")
    if reject_reused_jti and not store.consume_assertion_jti(client.client_id, claims["jti"], float(exp)):
        raise ClientJwtError(error_code, "the assertion's jti has been used before")
    return VerifiedAssertion(client, claims)
