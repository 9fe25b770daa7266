"""The reference provider's tester kit as a source of token settings.

With a kit, a method's missing settings (issuer, client, key, subject, source address) come
from it, so ``tokens: {defaults: {method: ciba}}`` is a complete config against the reference.
Each method declares what it takes from the kit (its ``kit_settings``); the ``reference`` method
(reference.py) runs the reference server's real flows with the kit's values alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from ..errors import ConfigError
from ..redact import register_secret
from .base import TokenKind, TokenUse
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
    client = _mapping(kit.get("client"))
    jwk = _mapping(client.get("private_key_jwk"))
    secrets = [client.get("client_secret"), jwk.get("d")]
    listed = kit.get("subscribers")
    subscribers = listed if isinstance(listed, list) else []
    secrets += [s.get("operator_token") for s in subscribers if isinstance(s, Mapping)]
    for secret in secrets:
        if isinstance(secret, str | int | float) and not isinstance(secret, bool):
            register_secret(str(secret))
    if isinstance(kit.get("expired_access_token"), str):
        remember_secret(kit["expired_access_token"])


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


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

    def server_settings(self) -> dict[str, Any]:
        """Where the reference's authorization server is and who the kit's client is."""
        return {"openid_configuration_url": self.discovery_url, "client_id": self.client["client_id"], "purpose": self.purpose}

    def key_settings(self) -> dict[str, Any]:
        """The kit client's signing key."""
        return {"private_key_jwk": self.client.get("private_key_jwk"), "signing_alg": self.client.get("signing_alg")}

    def network_subject(self, use: TokenUse) -> str:
        """The kit subscriber as a subject: ``tel:`` for a non-network token, its operator token otherwise."""
        if use is TokenKind.NON_NETWORK:
            return f"tel:{self.phone_number}"
        return f"operatortoken:{self.operator_token}"

    def fill(self, values_for: KitFill, use: TokenUse, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The settings ``values_for`` (a method's own kit filler) takes from the kit, minus what ``given`` overrides.

        A group the config already sets is left alone: a configured key file replaces the kit's key
        (and its algorithm), a configured issuer or endpoint replaces the kit's discovery URL.
        """
        values = values_for(self, use)
        given = {k: v for k, v in (given or {}).items() if v not in (None, "")}
        for triggers, replaced in KIT_GROUPS:
            if triggers & given.keys():
                values = {name: value for name, value in values.items() if name not in replaced}
        return {name: value for name, value in values.items() if value not in (None, "")}


# How a method takes its settings from a tester kit, for one use (declared by each method module).
KitFill: TypeAlias = Callable[[TesterKit, TokenUse], dict[str, Any]]


def no_kit_settings(kit: TesterKit, use: TokenUse) -> dict[str, Any]:
    """For methods the kit has nothing to give to (e.g. command)."""
    return {}
