"""Token methods that need no authorization server: a literal token, and a locally forged one."""

from __future__ import annotations

import time
import uuid
from typing import Any

from .base import IssuedToken, TokenKind, TokenUse
from .keys import SigningKey
from .kit import TesterKit
from .method import MethodContext, MethodSpec, TokenMethod
from .remember import remember_secret
from .settings import Section

STATIC_SETTINGS = frozenset({"token"})
LOCAL_SETTINGS = frozenset({"issuer"})


class StaticMethod(TokenMethod):
    """A literal token from the config (usually ``${ENV}``), e.g. an expired token the CSP handed over."""

    name = "static"

    def __init__(self, section: Section) -> None:
        self.token = (section.string("token", required=True) or "").strip()
        remember_secret(self.token)

    def fetch(self, kind: TokenKind, scope: str) -> IssuedToken:
        return IssuedToken(access_token=self.token, kind=kind, scope=scope, method=self.name)


class LocalInvalidMethod(TokenMethod):
    """A well-formed JWT signed with a key made on the spot: no target can have issued it.

    It looks like a real access token (issuer, audience, scope, unexpired), so a target that
    accepts it is not checking signatures, which is what the invalid-token scenarios probe.
    """

    name = "local"

    def __init__(self, section: Section | None = None) -> None:
        self.issuer = (section.string("issuer") if section else None) or "https://nv-conformance.invalid"
        self.key = SigningKey.generate()

    def fetch(self, kind: TokenKind, scope: str) -> IssuedToken:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": uuid.uuid4().hex,
            "aud": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
            "scope": scope,
        }
        token = self.key.sign(claims, typ="at+jwt")
        remember_secret(token)
        return IssuedToken(access_token=token, kind=kind, scope=scope, expires_in=300, method=self.name)

    def describe(self) -> str:
        return "local (a JWT signed with a throw-away key)"


def _static(section: Section, context: MethodContext) -> TokenMethod:
    return StaticMethod(section)


def _static_kit_settings(kit: TesterKit, use: TokenUse) -> dict[str, Any]:
    """The kit's expired token is the one literal token it holds."""
    return {"token": kit.expired_access_token} if use is TokenKind.EXPIRED else {}


def _local(section: Section, context: MethodContext) -> TokenMethod:
    return LocalInvalidMethod(section)


def _local_kit_settings(kit: TesterKit, use: TokenUse) -> dict[str, Any]:
    return {"issuer": kit.issuer}


STATIC = MethodSpec(
    name=StaticMethod.name, settings=STATIC_SETTINGS, kinds=frozenset(TokenKind), build=_static, kit_settings=_static_kit_settings
)
LOCAL = MethodSpec(
    name=LocalInvalidMethod.name,
    settings=LOCAL_SETTINGS,
    kinds=frozenset({TokenKind.INVALID}),
    build=_local,
    kit_settings=_local_kit_settings,
    fallback_for=frozenset({TokenKind.INVALID}),
)
