"""The API consumer's signing key: loaded once from a file, an environment variable or a JWK.

Signing is done by joserfc; this module only picks the key, checks that the algorithm fits it
(ES256 needs P-256, RS256/PS256 need RSA >= 2048 bits) and registers the key material as a secret.
"""

from __future__ import annotations

import json
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

from joserfc import jwk, jwt

from ..envvars import secret_from_env
from ..errors import ConfigError
from ..inputs import read_regular_file
from ..redact import register_secret
from .settings import Section

SIGNING_ALGS = ("ES256", "RS256", "PS256")
KEY_SETTINGS = frozenset({"private_key_file", "private_key_env", "private_key_jwk", "signing_alg", "key_id"})


class SigningKey:
    """A private key plus the JWS algorithm and key id used for every JWT the kit signs."""

    def __init__(self, key: jwk.ECKey | jwk.RSAKey, alg: str, kid: str | None) -> None:
        self.key = key
        self.alg = alg
        self.kid = kid

    @classmethod
    def from_section(cls, section: Section) -> SigningKey:
        """Read ``private_key_file`` | ``private_key_env`` | ``private_key_jwk``, ``signing_alg``, ``key_id``."""
        sources = [k for k in ("private_key_file", "private_key_env", "private_key_jwk") if section.has(k)]
        if not sources:
            raise ConfigError(section.path("private_key_file"), "required (or private_key_env / private_key_jwk)")
        if len(sources) > 1:
            raise ConfigError(section.path(sources[1]), f"give only one of private_key_file, private_key_env, private_key_jwk (also set: {sources[0]})")
        source = sources[0]
        setting = section.path(source)
        if source == "private_key_file":
            path = Path(section.string(source) or "").expanduser()
            try:
                material: Any = read_regular_file(path, setting)  # not /dev/zero, not a FIFO, at most 1 MiB
            except ConfigError as exc:
                raise ConfigError(setting, f"cannot read key file: {exc.problem}") from None
        elif source == "private_key_env":
            material = secret_from_env(section.string(source) or "", setting).encode()
        else:
            material = section.raw(source)
            if isinstance(material, str):
                material = material.encode()
        key = _import_private_key(material, setting)
        alg = section.string("signing_alg") or _default_alg(key)
        if alg not in SIGNING_ALGS:
            raise ConfigError(section.path("signing_alg"), f"must be one of {', '.join(SIGNING_ALGS)}")
        _check_alg_fits(key, alg, section.path("signing_alg"))
        announced = key.as_dict(private=False).get("kid")
        kid = section.string("key_id") or (announced if isinstance(announced, str) else None)
        return cls(key, alg, kid)

    @classmethod
    def generate(cls) -> SigningKey:
        """A throw-away key: tokens signed with it cannot have been issued by any target."""
        return cls(jwk.ECKey.generate_key("P-256", private=True), "ES256", uuid.uuid4().hex[:16])

    def sign(self, claims: dict[str, Any], *, typ: str | None = "JWT") -> str:
        header: dict[str, Any] = {"alg": self.alg}
        if typ:
            header["typ"] = typ
        if self.kid:
            header["kid"] = self.kid
        return jwt.encode(header, claims, self.key, algorithms=[self.alg])  # JWT-shaped: redact() masks it


def client_assertion(key: SigningKey, client_id: str, audience: str, *, lifetime: int = 60) -> str:
    """A private_key_jwt client assertion (OIDC Core 9 / RFC 7523 section 3): fresh jti, short life."""
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + lifetime, "jti": uuid.uuid4().hex}
    return key.sign(claims)


def _import_private_key(material: Any, setting: str) -> jwk.ECKey | jwk.RSAKey:
    if isinstance(material, bytes) and material.lstrip().startswith(b"{"):
        try:
            material = json.loads(material)
        except ValueError:
            raise ConfigError(setting, "looks like JSON but is not a valid JWK") from None
    if isinstance(material, dict):
        for field in ("d", "p", "q", "dp", "dq", "qi"):
            register_secret(str(material.get(field) or ""))
        key_types: tuple[str, ...] = (str(material.get("kty", "")),)
    elif isinstance(material, bytes):
        register_secret(material.decode("utf-8", "replace").strip())
        key_types = ("EC", "RSA")
    else:
        raise ConfigError(setting, "must be a PEM private key or a JWK object")
    for key_type in key_types:
        if key_type not in ("EC", "RSA"):
            raise ConfigError(setting, "key type must be EC (P-256) or RSA")
        try:
            with warnings.catch_warnings():  # joserfc warns on small RSA keys; _check_alg_fits refuses them
                warnings.simplefilter("ignore")
                key = jwk.import_key(material, "EC") if key_type == "EC" else jwk.import_key(material, "RSA")
        except Exception:  # noqa: BLE001 - joserfc/cryptography raise many types for unreadable keys
            continue
        if not key.is_private:
            raise ConfigError(setting, "is a public key; the kit needs the client's private key")
        return key
    raise ConfigError(setting, "not a readable EC or RSA private key (PEM or JWK)")


def _default_alg(key: jwk.ECKey | jwk.RSAKey) -> str:
    return "ES256" if isinstance(key, jwk.ECKey) else "RS256"


def _check_alg_fits(key: jwk.ECKey | jwk.RSAKey, alg: str, setting: str) -> None:
    if alg == "ES256":
        if not isinstance(key, jwk.ECKey) or key.as_dict(private=False).get("crv") != "P-256":
            raise ConfigError(setting, "ES256 needs an EC P-256 key")
    else:
        if not isinstance(key, jwk.RSAKey):
            raise ConfigError(setting, f"{alg} needs an RSA key")
        if key.raw_value.key_size < 2048:
            raise ConfigError(setting, f"{alg} needs an RSA key of at least 2048 bits")
