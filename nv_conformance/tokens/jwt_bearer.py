"""The RFC 7523 JWT-bearer grant as CAMARA's identity profile defines it.

The signed assertion is both the authorization grant and the client authentication:
iss = client_id, sub = ``operatortoken:<t>`` or ``tel:+E164``, aud = token endpoint,
iat/exp (at most 300 s apart), a fresh jti, and a ``scope`` claim carrying purpose + scopes.
The ``scope`` form parameter is deliberately not sent (the profile forbids it).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from ..errors import ConfigError, TokenError
from ..phone import is_e164
from ..redact import redact, register_secret
from .authserver import SERVER_SETTINGS, AuthServer, failure_line, issued_token
from .base import FRESH_KINDS, IssuedToken, TokenKind, TokenUse
from .keys import KEY_SETTINGS, SigningKey
from .kit import TesterKit
from .method import MethodContext, MethodSpec, TokenMethod, scope_value
from .settings import Section

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SETTINGS = SERVER_SETTINGS | KEY_SETTINGS | {"client_id", "subject", "purpose", "assertion_lifetime", "audience"}


def check_subject(value: str, setting: str, *, allow_ipport: bool = False) -> str:
    """``operatortoken:<t>``, ``tel:+E164`` (and ``ipport:`` for CIBA login hints); registers the secret part."""
    scheme, _, rest = value.partition(":")
    if scheme == "operatortoken" and rest:
        register_secret(rest)
        return value
    if scheme == "tel" and is_e164(rest):
        return value
    if scheme == "ipport" and allow_ipport and rest:
        return value
    forms = "operatortoken:<token>, tel:+E164" + (", ipport:<ip>[:port]" if allow_ipport else "")
    raise ConfigError(setting, f"must be one of {forms}")


class JwtBearerMethod(TokenMethod):
    name = "jwt-bearer"

    def __init__(self, section: Section, context: MethodContext) -> None:
        self.server = AuthServer(section, context.client(), allow_plain_http=context.allow_plain_http)
        self.client_id = section.string("client_id", required=True) or ""
        self.key = SigningKey.from_section(section)
        self.subject = check_subject(section.string("subject", required=True) or "", section.path("subject"))
        self.purpose = section.string("purpose")
        self.lifetime = int(section.number("assertion_lifetime", 120, minimum=10, maximum=300))
        self.audience = section.url("audience", allow_plain_http=context.allow_plain_http)

    def assertion(self, scope: str, token_endpoint: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.subject,
            "aud": self.audience or token_endpoint,
            "iat": now,
            "exp": now + self.lifetime,
            "jti": uuid.uuid4().hex,
            "scope": scope_value(self.purpose, scope),
        }
        return self.key.sign(claims)

    def fetch(self, kind: TokenKind, scope: str) -> IssuedToken:
        endpoint = self.server.endpoint("token_endpoint")
        form = {"grant_type": GRANT_TYPE, "assertion": self.assertion(scope, endpoint)}
        answer = self.server.post(endpoint, form, what="token endpoint")
        if not isinstance(answer, dict):
            raise TokenError(failure_line("token endpoint", endpoint, answer))
        return issued_token(answer, kind=kind, scope=scope, method=self.name, endpoint=endpoint, grant="jwt-bearer")

    def describe(self) -> str:
        return f"jwt-bearer (client {self.client_id}, {self.key.alg}, sub {redact(self.subject)})"


def kit_settings(kit: TesterKit, use: TokenUse) -> dict[str, Any]:
    return {**kit.server_settings(), **kit.key_settings(), "subject": kit.network_subject(use)}


METHOD = MethodSpec(
    name=JwtBearerMethod.name,
    settings=SETTINGS,
    kinds=FRESH_KINDS,
    build=JwtBearerMethod,
    kit_settings=kit_settings,
    subject_setting="subject",
)
