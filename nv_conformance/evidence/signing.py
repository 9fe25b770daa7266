"""The tester's signing key and the manifest's JWS (joserfc): ES256 on P-256, or Ed25519 (RFC 9864's EdDSA).

A private key never leaves this module except into the signature it makes: the bundle holds
only the public JWK and its RFC 7638 thumbprint, by which a reviewer pins the tester.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey

from ..errors import ConfigError

SIGN_KEY_ENV = "NV_CONFORMANCE_SIGN_KEY"  # path of the tester's PEM private key when --sign-key is not given
ALGORITHMS = ("ES256", "Ed25519")
JWS_TYPE = "nv-conformance-manifest+jws"


class SignatureInvalid(Exception):
    """The JWS does not verify, or is not one."""


@dataclass(frozen=True)
class SigningKey:
    key: ECKey | OKPKey
    alg: str
    generated: bool = False  # made for this bundle: the reviewer can only pin it from what was printed

    @property
    def thumbprint(self) -> str:
        return self.key.thumbprint()

    def public_jwk(self) -> dict[str, Any]:
        jwk = dict(self.key.as_dict(private=False))
        jwk["kid"] = self.thumbprint
        jwk["alg"] = self.alg
        return jwk


def generate_key() -> SigningKey:
    return SigningKey(ECKey.generate_key("P-256"), "ES256", generated=True)


def load_signing_key(path: str | None, option: str = "--sign-key") -> SigningKey:
    """The key from ``path`` (or ``$NV_CONFORMANCE_SIGN_KEY``); a fresh one when neither is given."""
    if not path and os.environ.get(SIGN_KEY_ENV):
        path, option = os.environ[SIGN_KEY_ENV], SIGN_KEY_ENV
    if not path:
        return generate_key()
    data = _read(path, option)
    try:
        private = load_pem_private_key(data, password=None)
    except TypeError:
        raise ConfigError(option, "the key is encrypted; give an unencrypted PEM private key") from None
    except ValueError:
        raise ConfigError(option, f"{path} is not a PEM private key (EC P-256 or Ed25519)") from None
    if isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(private.curve, ec.SECP256R1):
        return SigningKey(ECKey.import_key(data), "ES256")
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return SigningKey(OKPKey.import_key(data), "Ed25519")
    raise ConfigError(option, "unsupported key type: use an EC P-256 (ES256) or Ed25519 key")


def load_public_key(path: str, option: str = "--public-key") -> ECKey | OKPKey:
    data = _read(path, option)
    try:
        public = load_pem_public_key(data)
    except ValueError:
        try:  # a private key file works as well: only its public half is used
            return load_signing_key(path, option).key
        except ConfigError:
            raise ConfigError(option, f"{path} is not a PEM public key (EC P-256 or Ed25519)") from None
    if isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
        return ECKey.import_key(data)
    if isinstance(public, ed25519.Ed25519PublicKey):
        return OKPKey.import_key(data)
    raise ConfigError(option, "unsupported key type: use an EC P-256 (ES256) or Ed25519 key")


def public_key_from_jwk(jwk: Any) -> ECKey | OKPKey:
    """The bundled signer key; raises ``SignatureInvalid`` for anything but a public P-256 or Ed25519 JWK."""
    if not isinstance(jwk, dict):
        raise SignatureInvalid("not a JWK object")
    if set(jwk) & {"d", "p", "q", "dp", "dq", "qi", "k"}:
        raise SignatureInvalid("holds private key material")
    try:
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            return ECKey.import_key(jwk)
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            return OKPKey.import_key(jwk)
    except (JoseError, ValueError, TypeError) as exc:
        raise SignatureInvalid(f"not a usable public key ({exc})") from None
    raise SignatureInvalid("not an EC P-256 or Ed25519 public key")


def sign(payload: bytes, key: SigningKey) -> str:
    header = {"alg": key.alg, "typ": JWS_TYPE, "kid": key.thumbprint}
    return jws.serialize_compact(header, payload, key.key, algorithms=[key.alg])


def verify(token: str, key: ECKey | OKPKey) -> bytes:
    """The signed payload; ``SignatureInvalid`` when ``token`` is not a JWS that ``key`` made."""
    try:
        signature = jws.deserialize_compact(token.strip(), key, algorithms=list(ALGORITHMS))
    except (JoseError, ValueError, TypeError, UnicodeError) as exc:
        raise SignatureInvalid(str(exc) or type(exc).__name__) from None
    if signature.headers().get("typ") != JWS_TYPE:
        raise SignatureInvalid(f"typ is not {JWS_TYPE}")
    return signature.payload


def _read(path: str, option: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except FileNotFoundError:
        raise ConfigError(option, f"file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(option, f"cannot read {path}: {exc.strerror or exc}") from None
