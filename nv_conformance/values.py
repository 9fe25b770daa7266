"""Values as feature files write them: quoted or bare literals, JSONPath, media types, hashed numbers.

CAMARA feature files are written by many hands: ``is 401`` and ``is "401"``, ``== true``,
``"$.a.b"`` and ``"$['a']"`` all occur. This module turns that text into Python values once,
so step functions and checks never parse strings themselves.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonpath

from . import mediatype

_MISSING = object()


class PathError(ValueError):
    """A JSONPath the kit cannot use (malformed, or not a plain property path where one is needed)."""


def unquote(text: str) -> tuple[str, bool]:
    """``'"x"'`` -> (``x``, True); ``x`` -> (``x``, False). Surrounding blanks are ignored."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1], True
    return text, False


def parse_literal(text: str) -> Any:
    """A bare value as JSON would read it (``401``, ``true``, ``null``, ``{"a": 1}``), else the text itself.

    A quoted value stays a string: ``"401"`` is the text 401 (callers that compare it with a number
    decide how lenient to be, see :func:`same_value`).
    """
    raw, quoted = unquote(text)
    if quoted:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_int(text: str) -> int:
    """``401`` or ``"401"`` -> 401; anything else raises ValueError naming the text."""
    raw, _ = unquote(text)
    if not re.fullmatch(r"\d+", raw):
        raise ValueError(f"{text!r} is not a whole number")
    return int(raw)


def same_value(actual: Any, expected: Any, *, expected_was_quoted: bool = False) -> bool:
    """JSON equality, except that a quoted expectation also matches the same value written unquoted.

    ``$.status is "401"`` in a feature file means the number 401: feature authors quote freely,
    and failing an implementation for that would judge the test, not the implementation.
    Booleans never equal numbers (JSON keeps them apart even though Python does not).
    """
    if json_equal(actual, expected):
        return True
    if expected_was_quoted and isinstance(expected, str) and not isinstance(actual, str):
        return json.dumps(actual) == expected
    return False


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it, at every depth: ``1 == 1.0``, but ``true != 1`` and ``[true] != [1]``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def show(value: Any) -> str:
    """A value as a feature file would write it (JSON), for messages."""
    if value is _MISSING:
        return "(absent)"
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


# -- JSONPath (reading through python-jsonpath, writing through plain segments) -----------------

def find(document: Any, path: str) -> list[Any]:
    """Every value ``path`` selects in ``document`` (empty when nothing matches)."""
    try:
        return jsonpath.findall(_normalise_path(path), document)
    except jsonpath.JSONPathError as exc:
        raise PathError(f"not a valid JSONPath: {path!r} ({exc})") from None


def exists(document: Any, path: str) -> bool:
    return bool(find(document, path))


def first(document: Any, path: str) -> Any:
    """The first value ``path`` selects, or the module's MISSING marker (see :func:`is_missing`)."""
    found = find(document, path)
    return found[0] if found else _MISSING


def is_missing(value: Any) -> bool:
    return value is _MISSING


_SEGMENT = re.compile(r"""\.(?P<name>[A-Za-z_$@][\w$@-]*)|\[(?P<index>\d+)\]|\[(?P<q>["'])(?P<key>.*?)(?P=q)\]""")


def _normalise_path(path: str) -> str:
    path = path.strip()
    if not path.startswith("$"):
        path = "$." + path.lstrip(".")
    return path


def segments(path: str) -> list[str | int]:
    """``$.a[0]['b c']`` -> ``['a', 0, 'b c']``; only plain property/index paths can be written to."""
    path = _normalise_path(path)
    rest = path[1:]
    out: list[str | int] = []
    pos = 0
    while pos < len(rest):
        m = _SEGMENT.match(rest, pos)
        if not m:
            raise PathError(f"{path!r} is not a plain property path (like $.a.b or $.a[0]); cannot set a value there")
        if m.group("name") is not None:
            out.append(m.group("name"))
        elif m.group("index") is not None:
            out.append(int(m.group("index")))
        else:
            out.append(m.group("key"))
        pos = m.end()
    return out


MAX_INDEX_GAP = 10_000  # how many nulls set_path may add to reach an index


def set_path(document: Any, path: str, value: Any) -> Any:
    """``document`` with ``value`` written at ``path`` (missing objects/lists created); returns the new root."""
    parts = segments(path)
    if not parts:
        return value
    root = document if isinstance(document, dict | list) else ({} if isinstance(parts[0], str) else [])
    node: Any = root
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt = None if last else parts[i + 1]
        if isinstance(part, int):
            if not isinstance(node, list):
                raise PathError(f"{path!r}: index [{part}] used on a non-list")
            if part > len(node) + MAX_INDEX_GAP:  # [100000000000] would fill memory with nulls
                raise PathError(f"{path!r}: index [{part}] is more than {MAX_INDEX_GAP} past the end of the list")
            while len(node) <= part:
                node.append(None)
            if last:
                node[part] = value
            else:
                if not isinstance(node[part], dict | list):
                    node[part] = {} if isinstance(nxt, str) else []
                node = node[part]
        else:
            if not isinstance(node, dict):
                raise PathError(f"{path!r}: property {part!r} used on a non-object")
            if last:
                node[part] = value
            else:
                if not isinstance(node.get(part), dict | list):
                    node[part] = {} if isinstance(nxt, str) else []
                node = node[part]
    return root


def delete_path(document: Any, path: str) -> bool:
    """Remove the value at ``path``; True when something was removed."""
    parts = segments(path)
    if not parts:
        return False
    node: Any = document
    for part in parts[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    last = parts[-1]
    if isinstance(node, dict) and isinstance(last, str) and last in node:
        del node[last]
        return True
    if isinstance(node, list) and isinstance(last, int) and last < len(node):
        del node[last]
        return True
    return False


# -- HTTP-ish values ----------------------------------------------------------------------------

def media_type(value: str | None) -> str:
    """``application/json; charset=utf-8`` -> ``application/json`` (parameters dropped, lower case)."""
    return mediatype.essence(value)


