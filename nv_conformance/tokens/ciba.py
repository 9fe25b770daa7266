"""OpenID Connect CIBA in poll mode, as CAMARA uses it.

1. POST the backchannel authentication endpoint with ``login_hint`` (``operatortoken:``,
   ``ipport:`` or ``tel:``), the scope (openid + purpose + API scope) and client authentication.
2. Poll the token endpoint with the ``auth_req_id``: wait ``interval`` between polls, add 5 s on
   ``slow_down``, keep going on ``authorization_pending``, stop at ``poll_timeout`` or when the
   request expires. The first poll also waits ``interval``: servers (the reference among them)
   count the authentication request as the previous contact and answer an early poll with slow_down.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import TokenError
from ..redact import redact, register_secret
from .authserver import (
    SERVER_SETTINGS,
    AuthServer,
    OAuthFailure,
    failure_line,
    issued_token,
    off_network_outcome,
)
from .base import FRESH_KINDS, OFF_NETWORK, IssuedToken, OffNetworkOutcome, TokenKind, TokenUse
from .clientauth import SETTINGS as CLIENT_SETTINGS
from .clientauth import ClientAuth
from .jwt_bearer import check_subject
from .keys import KEY_SETTINGS
from .kit import TesterKit
from .method import MethodContext, MethodSpec, OffNetworkCapable, TokenMethod, scope_value
from .settings import Section

GRANT_TYPE = "urn:openid:params:grant-type:ciba"
SETTINGS = SERVER_SETTINGS | KEY_SETTINGS | CLIENT_SETTINGS | {"login_hint", "purpose", "poll_timeout", "binding_message"}
DEFAULT_INTERVAL = 5
SLOW_DOWN_STEP = 5
MIN_REPOLL_SECONDS = 0.25


class CibaMethod(TokenMethod, OffNetworkCapable):
    name = "ciba"

    def __init__(self, section: Section, context: MethodContext) -> None:
        self.server = AuthServer(section, context.client(), allow_plain_http=context.allow_plain_http,
                                 needs=("token_endpoint", "backchannel_authentication_endpoint"))
        self.auth = ClientAuth(section, default_audience="issuer")
        self.login_hint = check_subject(section.string("login_hint", required=True) or "", section.path("login_hint"), allow_ipport=True)
        self.purpose = section.string("purpose")
        self.poll_timeout = section.number("poll_timeout", 60, minimum=1, maximum=600)
        self.binding_message = section.string("binding_message")
        # Replaced together in tests that prove the waiting rules without waiting.
        self.sleep = time.sleep
        self.clock = time.monotonic

    def _start(self, scope: str) -> dict[str, Any] | OAuthFailure:
        endpoint = self.server.endpoint("backchannel_authentication_endpoint")
        form = {"scope": scope_value(self.purpose, scope, openid=True), "login_hint": self.login_hint}
        if self.binding_message:
            form["binding_message"] = self.binding_message
        headers = self.auth.apply(form, self.server, endpoint)
        answer = self.server.post(endpoint, form, what="backchannel authentication endpoint", headers=headers)
        if isinstance(answer, dict):
            auth_req_id = answer.get("auth_req_id")
            if not isinstance(auth_req_id, str) or not auth_req_id:
                raise TokenError(f"backchannel authentication endpoint {endpoint}: HTTP 200 without auth_req_id")
            register_secret(auth_req_id)
        return answer

    def _poll(self, auth_req_id: str, started: dict[str, Any]) -> dict[str, Any] | OAuthFailure:
        endpoint = self.server.endpoint("token_endpoint")
        interval = _non_negative_int(started.get("interval"), DEFAULT_INTERVAL)
        lifetime = _non_negative_int(started.get("expires_in"), int(self.poll_timeout)) or int(self.poll_timeout)
        deadline = self.clock() + min(self.poll_timeout, lifetime)
        last_error = "none yet"
        polls = 0
        while True:
            # interval 0 (allowed by the spec's wording) still must not turn into a busy loop
            wait = interval if interval > 0 else (MIN_REPOLL_SECONDS if polls else 0)
            if deadline - self.clock() < wait:
                raise TokenError(
                    f"token endpoint {endpoint}: no token within {min(self.poll_timeout, lifetime):g} s "
                    f"(last answer: {last_error}, poll interval {interval} s)"
                )
            if wait:
                self.sleep(wait)
            polls += 1
            form = {"grant_type": GRANT_TYPE, "auth_req_id": auth_req_id}
            headers = self.auth.apply(form, self.server, endpoint)
            answer = self.server.post(endpoint, form, what="token endpoint", headers=headers)
            if isinstance(answer, dict):
                return answer
            if answer.error == "slow_down":
                interval += SLOW_DOWN_STEP
            elif answer.error != "authorization_pending":
                return answer
            last_error = f"HTTP {answer.status}, OAuth error {answer.error}"

    def fetch(self, kind: TokenKind, scope: str) -> IssuedToken:
        started = self._start(scope)
        if isinstance(started, OAuthFailure):
            endpoint = self.server.endpoint("backchannel_authentication_endpoint")
            raise TokenError(failure_line("backchannel authentication endpoint", endpoint, started))
        answer = self._poll(started["auth_req_id"], started)
        endpoint = self.server.endpoint("token_endpoint")
        if isinstance(answer, OAuthFailure):
            raise TokenError(failure_line("token endpoint", endpoint, answer))
        return issued_token(answer, kind=kind, scope=scope, method=self.name, endpoint=endpoint, grant="ciba")

    def attempt(self, scope: str) -> OffNetworkOutcome:
        """Ask with a login hint the network cannot resolve (e.g. ``ipport:`` of an off-network address)."""
        started = self._start(scope)
        if isinstance(started, OAuthFailure):
            return OffNetworkOutcome(False, started.error, f"backchannel authentication: HTTP {started.status}")
        return off_network_outcome(self._poll(started["auth_req_id"], started), "token endpoint issued a token")

    def describe(self) -> str:
        return f"ciba (client {self.auth.client_id}, {self.auth.method}, login_hint {redact(self.login_hint)})"


def _non_negative_int(value: Any, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return default


def kit_settings(kit: TesterKit, use: TokenUse) -> dict[str, Any]:
    """The kit's subscriber as login hint; for the off-network attempt, the kit's off-network address."""
    hint = f"ipport:{kit.off_network_ip}" if use is OFF_NETWORK and kit.off_network_ip else kit.network_subject(use)
    return {**kit.server_settings(), **kit.key_settings(), "login_hint": hint}


METHOD = MethodSpec(
    name=CibaMethod.name,
    settings=SETTINGS,
    kinds=FRESH_KINDS,
    build=CibaMethod,
    off_network=True,
    kit_settings=kit_settings,
    subject_setting="login_hint",
)
