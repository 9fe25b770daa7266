"""The tester kit: everything a tester needs to obtain tokens from this server, as one JSON document.

Format ``nv-conformance-tester-kit/1`` (docs/interfaces.md). It holds test-only secrets
(the demo client's private key, operator tokens) by design; it is written with mode 0600.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .app import ReferenceApp
from .demo_data import (
    DEFAULT_PURPOSE,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_PATH,
    OFF_NETWORK_IP,
    demo_client_private_jwk,
)
from .oauth import Endpoints
from .scopes import api_scopes
from .tokens import AMR_SIM, TokenGrant

KIT_FORMAT = "nv-conformance-tester-kit/1"


def build_kit(app: ReferenceApp) -> dict[str, Any]:
    settings = app.settings
    e = Endpoints.of(settings)
    subscribers = app.store.subscribers()
    first = subscribers[0]
    expired, _ = app.issuer.mint(
        TokenGrant(first.id, DEMO_CLIENT_ID, tuple(sorted(api_scopes())), AMR_SIM, DEFAULT_PURPOSE),
        lifetime_seconds=settings.access_token_lifetime,
        now=_now() - 3600,
    )
    scopes = {op.operation_id: op.scopes[0] for op in _operations(app) if op.scopes}
    return {
        "kit_format": KIT_FORMAT,
        "warning": "test-only credentials for the nv-conformance reference provider",
        "issuer": e.issuer,
        "openid_configuration_url": e.discovery,
        "authorization_endpoint": e.authorization,
        "token_endpoint": e.token,
        "backchannel_authentication_endpoint": e.backchannel,
        "jwks_uri": e.jwks,
        "revocation_endpoint": e.revocation,
        "ts43_entitlement_endpoint": e.ts43,
        "api_root": settings.api_root,
        "base_paths": {version: path.removeprefix(settings.api_root_prefix)
                       for version, path in app.api.base_paths.items()},
        # what this server applies at each base path (the version's profile, or the strictest everywhere)
        "token_policies": {path.removeprefix(settings.api_root_prefix): _policy(settings.policy_for(version))
                           for version, path in app.api.base_paths.items()},
        "client": {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "signing_alg": "ES256",
            "private_key_jwk": demo_client_private_jwk(),
            "redirect_uri": settings.issuer + DEMO_REDIRECT_PATH,
        },
        "purpose": DEFAULT_PURPOSE,
        "scopes": scopes,
        "subscribers": [
            {
                "phone_number": s.phone_number,
                "device_ip": s.device_ip,
                "operator_token": app.store.seeded_operator_token(s.id),
                "imsi": s.imsi,
            }
            for s in subscribers
        ],
        "off_network_ip": OFF_NETWORK_IP,
        "expired_access_token": expired,
    }


def _policy(policy: Any) -> dict[str, Any]:
    return {"single_use": policy.single_use, "max_lifetime_seconds": policy.max_lifetime_seconds,
            "no_refresh_tokens": policy.no_refresh_tokens}


def _operations(app: ReferenceApp) -> list[Any]:
    seen: dict[str, Any] = {}
    for by_method in app.api.routes.values():
        for versioned in by_method.values():
            seen.setdefault(versioned.operation.operation_id, versioned.operation)
    return list(seen.values())


def _now() -> float:
    return time.time()


def write_kit(kit: dict[str, Any], path: str | Path) -> Path:
    """Write the kit readable by its owner only (it carries test-only private keys)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(kit, handle, indent=2)
        handle.write("\n")
    return path
