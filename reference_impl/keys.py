"""The authorization server's signing key: RS256, generated at first start and kept in the database
or, with ``serve --keys PATH``, in a file of its own (mode 0600) so the database can be shared
without handing out the key.

RS256 because the API verifies a signature on every call and RSA verification is far
cheaper than ECDSA's; keeping the key in SQLite means tokens survive a restart and
every uvicorn worker signs with the same key.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

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


class KeyFileError(Exception):
    """The key file cannot be read, written or parsed; the message never contains the key."""


def load_server_keys(store: Any, keys_path: Path | None = None) -> ServerKeys:
    text = _key_file_json(keys_path) if keys_path is not None else store.get_or_create_meta(_META_KEY, _new_key_json)
    try:
        private = RSAKey.import_key(json.loads(text))
        if not private.is_private:
            raise ValueError("a public key only")
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise KeyFileError(f"{keys_path or 'the stored signing key'} is not a private RSA JWK ({exc})") from None
    public = RSAKey.import_key(private.as_dict(private=False))
    return ServerKeys(private=private, public=public)


def _key_file_json(path: Path) -> str:
    """The key file's text; created (0600, all or nothing) when missing. Instances starting at once agree:
    each writes a complete temporary file and links it into place, and only the first link succeeds."""
    try:
        return path.read_text()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".nv-keys-", dir=path.parent)  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "w") as out:
                out.write(_new_key_json())
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(temp, path)
            except FileExistsError:
                pass  # another instance was first: use its key
        finally:
            os.unlink(temp)
        return path.read_text()
    except OSError as exc:
        raise KeyFileError(f"cannot create {path}: {exc.strerror or exc}") from None
