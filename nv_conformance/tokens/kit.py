"""The reference provider's tester kit as a source of token settings.

With a kit, a method's missing settings (issuer, client, key, subject, source address) come
from it, so ``tokens: {defaults: {method: ciba}}`` is a complete config against the reference.
The ``reference`` method uses the reference server's real flows: jwt-bearer for the network
kinds, the kit's expired token, a locally forged invalid one, and an authorization-code
attempt from the kit's off-network address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..redact import register_secret
from .base import TokenKind
from .method import TokenMethod
from .remember import remember_secret

KIT_FORMAT_PREFIX = "nv-conformance-tester-kit/"
_SERVER = frozenset({"issuer", "openid_configuration_url", "token_endpoint", "authorization_endpoint",
                     "backchannel_authentication_endpoint"})
# (settings that, when configured, make the kit's values of the second set give way)
KIT_GROUPS = (
    (frozenset({"private_key_file", "private_key_env", "private_key_jwk"}),
     frozenset({"private_key_file", "private_key_env", "private_key_jwk", "signing_alg", "key_id"})),
    (_SERVER, _SERVER),
)


def register_kit_secrets(kit: Mapping[str, Any]) -> None:
    """Mask the kit's credentials wherever they appear: test-only, but a report must not teach reuse.

    A hand-edited kit may hold a number or a list where a string belongs: mask what can be masked, never crash.
    """
    client = kit.get("client") if isinstance(kit.get("client"), Mapping) else {}
    jwk = client.get("private_key_jwk") if isinstance(client.get("private_key_jwk"), Mapping) else {}
    secrets = [client.get("client_secret"), jwk.get("d")]
    subscribers = kit.get("subscribers") if isinstance(kit.get("subscribers"), list) else []
    secrets += [s.get("operator_token") for s in subscribers if isinstance(s, Mapping)]
    for secret in secrets:
        if isinstance(secret, str | int | float) and not isinstance(secret, bool):
            register_secret(str(secret))
    if isinstance(kit.get("expired_access_token"), str):
        remember_secret(kit["expired_access_token"])


@dataclass(frozen=True)
class TesterKit:
    issuer: str
    discovery_url: str
    client: dict[str, Any]
    purpose: str | None
    operator_token: str
    phone_number: str
    device_ip: str | None
    off_network_ip: str | None
    expired_access_token: str | None

    @classmethod
    def parse(cls, kit: Mapping[str, Any]) -> TesterKit:
        if not isinstance(kit, Mapping):
            raise ConfigError("kit", "must be a JSON object (a tester kit)")
        fmt = kit.get("kit_format")
        if not isinstance(fmt, str) or not fmt.startswith(KIT_FORMAT_PREFIX):
            raise ConfigError("kit.kit_format", f"not a tester kit (expected {KIT_FORMAT_PREFIX}N)")
        client = kit.get("client")
        if not isinstance(client, Mapping) or not client.get("client_id"):
            raise ConfigError("kit.client.client_id", "missing from the tester kit")
        subscribers = kit.get("subscribers")
        if not isinstance(subscribers, list) or not subscribers or not isinstance(subscribers[0], Mapping):
            raise ConfigError("kit.subscribers", "the tester kit lists no subscriber")
        first = subscribers[0]
        for field in ("operator_token", "phone_number"):
            if not isinstance(first.get(field), str) or not first[field]:
                raise ConfigError(f"kit.subscribers[0].{field}", "missing from the tester kit")
        issuer = kit.get("issuer")
        if not isinstance(issuer, str) or not issuer:
            raise ConfigError("kit.issuer", "missing from the tester kit")
        register_kit_secrets(kit)
        return cls(
            issuer=issuer,
            discovery_url=str(kit.get("openid_configuration_url") or issuer.rstrip("/") + "/.well-known/openid-configuration"),
            client=dict(client),
            purpose=kit.get("purpose") if isinstance(kit.get("purpose"), str) else None,
            operator_token=first["operator_token"],
            phone_number=first["phone_number"],
            device_ip=first.get("device_ip") if isinstance(first.get("device_ip"), str) else None,
            off_network_ip=kit.get("off_network_ip") if isinstance(kit.get("off_network_ip"), str) else None,
            expired_access_token=kit.get("expired_access_token") if isinstance(kit.get("expired_access_token"), str) else None,
        )

    def _network_subject(self, kind: TokenKind | None) -> str:
        if kind is TokenKind.NON_NETWORK:
            return f"tel:{self.phone_number}"
        return f"operatortoken:{self.operator_token}"

    def fill(self, method: str, kind: TokenKind | None, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Settings the kit can supply for ``method`` (``kind`` None = the off-network attempt).

        A group the config already sets is left alone: a configured key file replaces the kit's key
        (and its algorithm), a configured issuer or endpoint replaces the kit's discovery URL.
        """
        server = {"openid_configuration_url": self.discovery_url, "client_id": self.client["client_id"], "purpose": self.purpose}
        key = {"private_key_jwk": self.client.get("private_key_jwk"), "signing_alg": self.client.get("signing_alg")}
        values: dict[str, Any]
        if method == "jwt-bearer":
            values = {**server, **key, "subject": self._network_subject(kind)}
        elif method == "ciba":
            hint = f"ipport:{self.off_network_ip}" if kind is None and self.off_network_ip else self._network_subject(kind)
            values = {**server, **key, "login_hint": hint}
        elif method == "authorization-code":
            source = self.off_network_ip if kind is None else self.device_ip
            values = {**server, **key, "redirect_uri": self.client.get("redirect_uri"), "source_address": source}
        elif method == "static" and kind is TokenKind.EXPIRED:
            values = {"token": self.expired_access_token}
        elif method == "local":
            values = {"issuer": self.issuer}
        else:
            values = {}
        given = {k: v for k, v in (given or {}).items() if v not in (None, "")}
        for triggers, replaced in KIT_GROUPS:
            if triggers & given.keys():
                values = {name: value for name, value in values.items() if name not in replaced}
        return {name: value for name, value in values.items() if value not in (None, "")}

    def reference_method(self, kind: TokenKind | None, build: Callable[[str, str, dict[str, Any]], TokenMethod]) -> TokenMethod:
        """The reference server's real flows for ``kind`` (None = the off-network attempt)."""
        name = f"tokens.{kind.value if kind else 'off_network'}"
        if kind in (TokenKind.VALID, TokenKind.OTHER_SCOPE, TokenKind.NON_NETWORK):
            method = "jwt-bearer"
        elif kind is TokenKind.EXPIRED:
            if not self.expired_access_token:
                raise ConfigError("kit.expired_access_token", "missing from the tester kit")
            method = "static"
        elif kind is TokenKind.INVALID:
            method = "local"
        else:
            if not self.off_network_ip:
                raise ConfigError("kit.off_network_ip", "missing from the tester kit")
            method = "authorization-code"
        built = build(name, method, self.fill(method, kind))
        built.name = f"reference/{built.name}"
        return built
