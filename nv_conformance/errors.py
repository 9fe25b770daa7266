"""Errors the CLI turns into one clear line instead of a traceback."""

from __future__ import annotations


class KitError(Exception):
    """Base of every error that ends a command with a one-line message."""


class ConfigError(KitError):
    """A setting is missing or wrong; the message names the setting."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"config: {setting}: {problem}")


class TargetError(KitError):
    """The target (API or authorization server) answered in a way that stops the run."""


class TokenError(TargetError):
    """A token could not be obtained; the message names endpoint, HTTP status and OAuth error."""
