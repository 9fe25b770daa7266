"""Client authentication at the token and backchannel endpoints.

CAMARA asks for private_key_jwt (a signed client assertion, fresh jti per request);
client_secret_basic/_post are offered for authorization servers that only support those.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

from ..errors import ConfigError
from ..redact import register_secret
from .authserver import AuthServer
from .keys import SigningKey, client_assertion
from .settings import Section

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
AUTH_METHODS = ("private_key_jwt", "client_secret_basic", "client_secret_post")
SETTINGS = frozenset({"client_id", "client_auth", "client_secret", "assertion_audience"})
KEY_SOURCES = ("private_key_file", "private_key_env", "private_key_jwk")


class ClientAuth:
    def __init__(self, section: Section, *, default_audience: str) -> None:
        self.client_id = section.string("client_id", required=True) or ""
        has_key = any(section.has(k) for k in KEY_SOURCES)
        default = "private_key_jwt" if has_key or not section.has("client_secret") else "client_secret_basic"
        self.method = section.choice("client_auth", AUTH_METHODS, default)
        self.key: SigningKey | None = None
        self.secret: str | None = None
        if self.method == "private_key_jwt":
            self.key = SigningKey.from_section(section)
        else:
            self.secret = section.string("client_secret", required=True)
            register_secret(self.secret)
        self.audience = section.string("assertion_audience") or default_audience
        if self.audience not in ("issuer", "token_endpoint", "endpoint") and not self.audience.startswith(("https://", "http://")):
            raise ConfigError(section.path("assertion_audience"), "must be issuer, token_endpoint, endpoint or a URL")

    def apply(self, form: dict[str, str], server: AuthServer, endpoint: str) -> dict[str, str]:
        """Add credentials to ``form`` (in place); returns extra headers (Basic auth)."""
        if self.key is not None:
            form["client_id"] = self.client_id
            form["client_assertion_type"] = ASSERTION_TYPE
            form["client_assertion"] = client_assertion(self.key, self.client_id, self._audience(server, endpoint))
            return {}
        secret = self.secret or ""
        if self.method == "client_secret_post":
            form["client_id"] = self.client_id
            form["client_secret"] = secret
            return {}
        pair = f"{quote(self.client_id, safe='')}:{quote(secret, safe='')}".encode()
        encoded = base64.b64encode(pair).decode()
        register_secret(encoded)
        return {"authorization": f"Basic {encoded}"}

    def _audience(self, server: AuthServer, endpoint: str) -> str:
        if self.audience == "issuer":
            return server.issuer_id or server.endpoint("token_endpoint")
        if self.audience == "token_endpoint":
            return server.endpoint("token_endpoint")
        if self.audience == "endpoint":
            return endpoint
        return self.audience
