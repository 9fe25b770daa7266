"""The authorization server's signing key: RS256, generated at first start and kept in the database.

RS256 because the API verifies a signature on every call and RSA verification is far
cheaper than ECDSA's; keeping the key in SQLite means tokens survive a restart and
every uvicorn worker signs with the same key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import RSAKey

from .store import Store

SIGNING_ALG = "RS256"
_META_KEY = "signing_key_rs256"


@dataclass(frozen=True)
class ServerKeys:
    private: RSAKey
    public: RSAKey

    @property
    def kid(self) -> str:
        return str(self.private.kid)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public.as_dict(private=False)]}


def _new_key_json() -> str:
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": SIGNING_ALG}, auto_kid=True)
    return json.dumps(key.as_dict(private=True))


def load_server_keys(store: Store) -> ServerKeys:
    data = json.loads(store.get_or_create_meta(_META_KEY, _new_key_json))
    private = RSAKey.import_key(data)
    public = RSAKey.import_key(private.as_dict(private=False))
    return ServerKeys(private=private, public=public)
