"""Paths typed on the command line, checked before a command starts anything: one clear line per problem."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError


def existing_file(value: str, option: str) -> Path:
    """``value`` as an absolute path to a file that exists."""
    path = Path(value).expanduser()
    if not path.exists():
        raise ConfigError(option, f"file not found: {value}")
    if not path.is_file():
        raise ConfigError(option, f"not a file: {value}")
    return path.resolve()


def writable_dir(value: str, option: str) -> Path:
    """``value`` created if need be: a run whose reports cannot be written must not start (and then claim them)."""
    path = Path(value).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(option, f"cannot create {value}: {exc.strerror or type(exc).__name__}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(option, f"not writable: {value}")
    return path


def features_path(value: str, option: str = "--features") -> Path:
    """A ``.feature`` file, or a directory holding at least one."""
    path = Path(value).expanduser().resolve()
    if not path.exists():
        raise ConfigError(option, f"not found: {value}")
    if path.is_file():
        if path.suffix != ".feature":
            raise ConfigError(option, f"not a .feature file: {value}")
        return path
    if not any(path.rglob("*.feature")):
        raise ConfigError(option, f"no .feature files in {value}")
    return path
