"""Onboarded API consumers (``serve --clients clients.yaml``): registration file, validation, lookup.

An operator registers each application before it may ask for tokens: its client id, redirect
URIs, how it authenticates and which scopes and purposes it may ask for. The file is checked as
a whole at start-up and every problem is reported on its own line. Registrations live in memory
(every worker reads the file); the demo client stays in the database as before.

    clients:
      - client_id: shop-backend
        redirect_uris: [https://shop.example/callback]
        authentication: {method: private_key_jwt, public_key_file: ./shop.pub.pem}
        scopes: [number-verification:verify]
        purposes: [dpv:FraudPreventionAndDetection]
      - client_id: kiosk
        redirect_uris: [http://127.0.0.1/cb]
        authentication: {method: client_secret_basic, secret_env: KIOSK_CLIENT_SECRET}
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from nv_conformance.errors import KitError

from .demo_data import DEMO_CLIENT_ID
from .records import Client
from .scopes import api_scopes
from .stores import StateStore

AUTH_METHODS = ("private_key_jwt", "client_secret_basic", "client_secret_post")
KEY_SOURCES = ("jwks", "jwks_file", "public_key_file", "jwks_uri")


class ClientsFileError(KitError):
    """The registration file has problems; the message lists each on its own line."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.problems = problems
        lines = [f"{path}: {problem}" for problem in problems]
        super().__init__(f"config: --clients: {len(problems)} problem(s)\n" + "\n".join(lines))


@dataclass(frozen=True)
class Registration:
    client: Client
    auth_method: str                      # the one method this client authenticates with
    scopes: frozenset[str] | None         # None: every Number Verification scope
    purposes: frozenset[str] | None       # None: any purpose


def load_clients(path: str | Path) -> dict[str, Registration]:
    """Read and check the file; raises ClientsFileError listing every problem."""
    shown = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ClientsFileError(shown, [f"cannot read the file: {exc.strerror or exc}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ClientsFileError(shown, [f"not valid YAML{where}"]) from None
    entries = data.get("clients") if isinstance(data, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise ClientsFileError(shown, ["clients: must be a non-empty list of client registrations"])
    problems: list[str] = []
    found: dict[str, Registration] = {}
    base = Path(path).resolve().parent
    for index, entry in enumerate(entries):
        where = f"clients[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: must be a mapping")
            continue
        registration = _registration(entry, where, base, problems)
        if registration is None:
            continue
        client_id = registration.client.client_id
        if client_id in found or client_id == DEMO_CLIENT_ID:
            problems.append(f"{where}.client_id: {client_id!r} is already registered")
            continue
        found[client_id] = registration
    if problems:
        raise ClientsFileError(shown, problems)
    return found


def _registration(entry: Mapping[str, Any], where: str, base: Path, problems: list[str]) -> Registration | None:
    before = len(problems)
    unknown = sorted(set(entry) - {"client_id", "redirect_uris", "authentication", "scopes", "purposes"})
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
    client_id = entry.get("client_id")
    if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > 200:
        problems.append(f"{where}.client_id: must be a non-empty string")
        client_id = ""
    redirect_uris = _redirect_uris(entry.get("redirect_uris"), f"{where}.redirect_uris", problems)
    auth = entry.get("authentication")
    jwks: dict[str, Any] = {"keys": []}
    method, secret = "", None
    if not isinstance(auth, Mapping):
        problems.append(f"{where}.authentication: must be a mapping with a method ({', '.join(AUTH_METHODS)})")
    else:
        method, secret, jwks = _authentication(auth, f"{where}.authentication", base, problems)
    scopes = _names(entry.get("scopes"), f"{where}.scopes", problems, allowed=api_scopes())
    purposes = _names(entry.get("purposes"), f"{where}.purposes", problems, prefix="dpv:")
    if len(problems) > before:
        return None
    return Registration(Client(client_id, secret, jwks, redirect_uris), method, scopes, purposes)


def _redirect_uris(value: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        problems.append(f"{where}: must be a non-empty list of absolute URIs")
        return ()
    uris = []
    for i, uri in enumerate(value):
        if not isinstance(uri, str) or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in uri):
            problems.append(f"{where}[{i}]: must be a URI without spaces or control characters")
            continue
        try:
            parts = urlsplit(uri)
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            problems.append(f"{where}[{i}]: not a valid URI")
            continue
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.fragment or "#" in uri or not parts.hostname or parts.username or parts.password:
            problems.append(f"{where}[{i}]: needs a host and no fragment or user information (RFC 6749 3.1.2)")
        elif parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            problems.append(f"{where}[{i}]: must be https (http only for loopback, RFC 8252 7.3)")
        else:
            uris.append(uri)
    return tuple(uris)


def _authentication(auth: Mapping[str, Any], where: str, base: Path,
                    problems: list[str]) -> tuple[str, str | None, dict[str, Any]]:
    method = auth.get("method")
    if method not in AUTH_METHODS:
        problems.append(f"{where}.method: must be one of {', '.join(AUTH_METHODS)}")
        return "", None, {"keys": []}
    if method == "private_key_jwt":
        unknown = sorted(set(auth) - {"method", *KEY_SOURCES})
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
        given = [name for name in KEY_SOURCES if name in auth]
        if len(given) != 1:
            problems.append(f"{where}: private_key_jwt needs exactly one of {', '.join(KEY_SOURCES)}")
            return method, None, {"keys": []}
        jwks = _jwks(given[0], auth[given[0]], f"{where}.{given[0]}", base, problems)
        return method, None, jwks
    unknown = sorted(set(auth) - {"method", "secret_env"})
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(map(str, unknown))} (the secret comes from secret_env)")
    name = auth.get("secret_env")
    if not isinstance(name, str) or not name:
        problems.append(f"{where}.secret_env: name the environment variable that holds the client secret")
        return method, None, {"keys": []}
    secret = os.environ.get(name)
    if not secret:
        problems.append(f"{where}.secret_env: the environment variable {name} is not set or empty")
        return method, None, {"keys": []}
    if len(secret) < 16:
        problems.append(f"{where}.secret_env: the secret in {name} is shorter than 16 characters")
    return method, secret, {"keys": []}


def _jwks(source: str, value: Any, where: str, base: Path, problems: list[str]) -> dict[str, Any]:
    from joserfc.errors import JoseError
    from joserfc.jwk import ECKey, KeySet, RSAKey

    try:
        if source == "jwks":
            document = value
        elif source == "jwks_file":
            document = json.loads((base / str(value)).read_text(encoding="utf-8"))
        elif source == "public_key_file":
            pem = (base / str(value)).read_bytes()
            key = None
            for kind in (ECKey, RSAKey):
                try:
                    key = kind.import_key(pem)
                    break
                except (JoseError, ValueError, TypeError):
                    continue
            if key is None:
                problems.append(f"{where}: not an EC or RSA public key in PEM")
                return {"keys": []}
            if key.is_private:
                problems.append(f"{where}: holds a private key; register the public key only")
                return {"keys": []}
            jwk = key.as_dict(private=False)
            jwk.setdefault("kid", key.thumbprint())
            document = {"keys": [jwk]}
        else:
            document = _fetch_jwks(str(value))
    except OSError as exc:
        problems.append(f"{where}: cannot read {value}: {getattr(exc, 'strerror', None) or exc}")
        return {"keys": []}
    except ValueError as exc:
        problems.append(f"{where}: {str(exc)[:120]}")
        return {"keys": []}
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list) or not document["keys"]:
        problems.append(f"{where}: must be a JWKS ({{\"keys\": [...]}}) with at least one key")
        return {"keys": []}
    if any(isinstance(k, Mapping) and "d" in k for k in document["keys"]):
        problems.append(f"{where}: holds a private key; register the public keys only")
        return {"keys": []}
    try:
        KeySet.import_key_set({"keys": list(document["keys"])})
    except (JoseError, ValueError, TypeError, KeyError):
        problems.append(f"{where}: the JWKS cannot be read as signing keys")
        return {"keys": []}
    return dict(document)


def _fetch_jwks(uri: str) -> Any:
    """The client's published JWKS, fetched once at start-up (restart the server after a key rotation)."""
    import httpx

    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL")
    try:
        response = httpx.get(uri, timeout=5, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise ValueError(f"cannot fetch {uri}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise ValueError(f"{uri} answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise ValueError(f"{uri} did not return JSON") from None


def _names(value: Any, where: str, problems: list[str], *, allowed: frozenset[str] | None = None,
           prefix: str | None = None) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: must be a non-empty list of strings (leave it out to allow all)")
        return None
    for name in value:
        if allowed is not None and name not in allowed:
            problems.append(f"{where}: {name[:80]!r} is not a Number Verification scope ({', '.join(sorted(allowed))})")
        if prefix is not None and not name.startswith(prefix):
            problems.append(f"{where}: {name[:80]!r} is not a purpose ({prefix}...)")
    return frozenset(value)


class ClientDirectory:
    """Who may ask for tokens: onboarded registrations first, then the store (the demo client)."""

    def __init__(self, store: StateStore, registrations: Mapping[str, Registration] | None = None,
                 demo_redirect_uri: str | None = None) -> None:
        self._store = store
        self._registrations = dict(registrations or {})
        self._demo_redirect_uri = demo_redirect_uri

    def client(self, client_id: str) -> Client | None:
        """The demo client also accepts the issuer's own callback (https, or a public name)."""
        registration = self._registrations.get(client_id)
        if registration is not None:
            return registration.client
        found = self._store.client(client_id)
        if found is not None and client_id == DEMO_CLIENT_ID and self._demo_redirect_uri \
                and self._demo_redirect_uri not in found.redirect_uris:
            found = replace(found, redirect_uris=(*found.redirect_uris, self._demo_redirect_uri))
        return found

    def registration(self, client_id: str) -> Registration | None:
        return self._registrations.get(client_id)

    def auth_method_allowed(self, client_id: str, method: str) -> bool:
        """A registered client uses its one method; the demo client may use private_key_jwt or Basic."""
        registration = self._registrations.get(client_id)
        if registration is None:
            return method in ("private_key_jwt", "client_secret_basic")
        return registration.auth_method == method

    def scope_problem(self, client_id: str, scopes: tuple[str, ...], purpose: str | None) -> str | None:
        """Why this client may not have these scopes / this purpose (None: it may)."""
        registration = self._registrations.get(client_id)
        if registration is None:
            return None
        if registration.scopes is not None and not set(scopes) <= registration.scopes:
            return "the client is not registered for scope " + " ".join(sorted(set(scopes) - registration.scopes))
        if registration.purposes is not None and purpose not in registration.purposes:
            return "the client is not registered for this purpose"
        return None
