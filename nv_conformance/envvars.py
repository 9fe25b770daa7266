"""``${NAME}`` in settings, replaced from the environment: the one way secrets reach a config."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from .errors import ConfigError
from .redact import register_secret

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(value: str, setting: str, *, on_value: Callable[[str], None] | None = None) -> str:
    """Replace each ``${NAME}``; a missing variable is a ConfigError naming ``setting``.

    ``on_value`` sees every substituted value (e.g. to register it as a secret for redaction).
    """

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(setting, f"environment variable {name} is not set")
        resolved = os.environ[name]
        if on_value is not None:
            on_value(resolved)
        return resolved

    return _ENV_REF.sub(lookup, value)


MAX_ENV_SECRET_BYTES = 1 << 20


def secret_from_env(name: str, setting: str) -> str:
    """The value of the environment variable ``name`` that ``setting`` names (a key, a passphrase), registered
    for redaction; a name that is no variable name, an unset or an oversized variable is a ConfigError."""
    if not name or not name.replace("_", "a").isalnum() or name[0].isdigit():
        raise ConfigError(setting, "must be the name of an environment variable")
    value = os.environ.get(name)
    if value is None:
        raise ConfigError(setting, f"environment variable {name} is not set")
    if len(value) > MAX_ENV_SECRET_BYTES:
        raise ConfigError(setting, f"environment variable {name} is larger than 1 MiB")
    register_secret(value.strip())
    return value
