"""Reading files a user names in a config or on the command line, bounded against hostile input.

A setting may point at ``/dev/zero``, a FIFO nobody writes to, a 10 GB log file, or a YAML
"billion laughs" of 1.6 KB: every one must end in one ``ConfigError`` line within a second,
never a hang, a MemoryError or a RecursionError traceback. So:
- only regular files are read (opened non-blocking, so a FIFO cannot hang the open), up to a cap;
- YAML is composed without aliases (``*name``: their expansion is what explodes) and to a bounded
  nesting depth; JSON nested too deep for the parser is refused the same way.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError

from .errors import ConfigError

MAX_SETTINGS_FILE_BYTES = 1 << 20   # a target config, key, certificate, tester kit
MAX_SPEC_FILE_BYTES = 16 << 20      # an OpenAPI document with every CAMARA common schema inlined stays far below
MAX_NESTING_DEPTH = 100             # the kit's own contracts nest about 15 levels deep


def check_regular_file(path: Path, setting: str) -> None:
    """ConfigError unless ``path`` names a regular file (a directory, device or FIFO is refused by name)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(setting, f"file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(setting, f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(setting, f"not a regular file: {path}")


def read_regular_file(path: str | Path, setting: str, *, max_bytes: int = MAX_SETTINGS_FILE_BYTES) -> bytes:
    """The bytes of ``path``: a regular file of at most ``max_bytes``; anything else is one ConfigError."""
    path = Path(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ConfigError(setting, f"file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(setting, f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(setting, f"not a regular file: {path}")
        if info.st_size > max_bytes:
            raise ConfigError(setting, f"{path} is larger than {_size(max_bytes)}")
        os.set_blocking(descriptor, True)
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(setting, f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    finally:
        os.close(descriptor)
    if len(data) > max_bytes:  # grew while being read
        raise ConfigError(setting, f"{path} is larger than {_size(max_bytes)}")
    return data


def read_text_file(path: str | Path, setting: str, *, max_bytes: int = MAX_SETTINGS_FILE_BYTES) -> str:
    try:
        return read_regular_file(path, setting, max_bytes=max_bytes).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(setting, f"{path} is not UTF-8 text") from None


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases and with a nesting bound (both checked while composing)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise ComposerError(None, None, "aliases (*name) are not allowed", mark)
        self._depth += 1
        try:
            if self._depth > MAX_NESTING_DEPTH:
                raise ComposerError(None, None, f"nested deeper than {MAX_NESTING_DEPTH} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(text: str) -> Any:
    """``text`` parsed like ``yaml.safe_load``, refusing aliases and deep nesting (raises ``yaml.YAMLError``)."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except RecursionError:
        raise ComposerError(None, None, f"nested deeper than {MAX_NESTING_DEPTH} levels", None) from None
    finally:
        loader.dispose()


def load_json(text: str | bytes) -> Any:
    """``json.loads`` with deep nesting reported as ``ValueError`` instead of a RecursionError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deep to parse") from None


_JSON_PARSER_DEPTH = 1000  # json's C scanner gives up (RecursionError) near the interpreter's recursion limit
_PREFIX_SCANNED = 64 * 1024


def nested_too_deep(raw: bytes) -> bool:
    """True when a large body opens more brackets than the JSON parser can follow before closing any.

    Only bodies over 1 MiB are scanned (64 KiB of them): this spares decoding a 50 MB ``[[[[...`` into a
    50 MB string just to have the parser give up. Brackets inside strings are skipped.
    """
    if len(raw) <= 1 << 20:
        return False
    depth = 0
    in_string = escaped = False
    for byte in raw[:_PREFIX_SCANNED]:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > _JSON_PARSER_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def yaml_problem(exc: yaml.YAMLError) -> str:
    """`` (line L, column C): problem`` for one error line."""
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    return f"{where}: {getattr(exc, 'problem', None) or 'syntax error'}"


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit} bytes"
