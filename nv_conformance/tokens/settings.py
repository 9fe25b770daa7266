"""Typed, validated access to one method's settings, so every mistake names its exact setting.

A method reads its settings through :class:`Section`; each getter raises
``ConfigError("tokens.<kind>.<setting>", problem)``. ``${NAME}`` is replaced from the
environment here too, so the token layer works the same when called without the config loader.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..envvars import expand_env
from ..errors import ConfigError


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, setting: str, *, allow_plain_http: bool) -> str:
    """An absolute http(s) URL; plain http only to loopback unless TLS checks were switched off on purpose."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(setting, "must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise ConfigError(setting, "must not carry credentials in the URL")
    if parts.scheme == "http" and not (allow_plain_http or is_loopback_host(parts.hostname)):
        raise ConfigError(setting, "plain http is only allowed to loopback hosts (use https, or tls.insecure: true)")
    return url


class Section:
    """The merged settings of one token kind (``defaults`` + the kind's own), read with checks."""

    def __init__(self, prefix: str, values: Mapping[str, Any], allowed: frozenset[str]) -> None:
        self.prefix = prefix
        self.values = dict(values)
        unknown = sorted(set(self.values) - allowed - {"method"})
        if unknown:
            raise ConfigError(f"{prefix}.{unknown[0]}", f"unknown setting for this method (known: {', '.join(sorted(allowed))})")

    def path(self, key: str) -> str:
        return f"{self.prefix}.{key}"

    def has(self, key: str) -> bool:
        return self.values.get(key) not in (None, "")

    def raw(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.values.get(key)
        if value is None or value == "":
            if required:
                raise ConfigError(self.path(key), "required")
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ConfigError(self.path(key), "must be a string")
        return expand_env(str(value), self.path(key))

    def number(self, key: str, default: float, *, minimum: float, maximum: float) -> float:
        value = self.values.get(key, default)
        if isinstance(value, str):
            value = expand_env(value, self.path(key))
            try:
                value = float(value)
            except ValueError:
                raise ConfigError(self.path(key), "must be a number") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(self.path(key), "must be a number")
        if not minimum <= value <= maximum:
            raise ConfigError(self.path(key), f"must be between {minimum:g} and {maximum:g}")
        return float(value)

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.string(key, default) or default
        if value not in options:
            raise ConfigError(self.path(key), f"must be one of {', '.join(options)}")
        return value

    def url(self, key: str, *, allow_plain_http: bool, required: bool = False) -> str | None:
        value = self.string(key, required=required)
        return check_url(value, self.path(key), allow_plain_http=allow_plain_http) if value else None

    def string_list(self, key: str, *, required: bool = False) -> list[str]:
        value = self.values.get(key)
        if value is None:
            if required:
                raise ConfigError(self.path(key), "required")
            return []
        if not isinstance(value, list) or not value or not all(isinstance(v, str | int | float) for v in value):
            raise ConfigError(self.path(key), "must be a non-empty list of strings")
        return [expand_env(str(v), f"{self.path(key)}[{i}]") for i, v in enumerate(value)]

    def mapping(self, key: str) -> dict[str, Any] | None:
        value = self.values.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise ConfigError(self.path(key), "must be a mapping")
        return dict(value)
