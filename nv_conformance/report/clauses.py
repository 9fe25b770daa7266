"""Clause labels a reader understands: ``contract:#/paths/~1verify/post/responses/200`` is
"POST /verify 200 response, contract <version>", with the JSON pointer kept beside it for whoever checks."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CONTRACT = re.compile(r"^contract:(#/\S*)(?:\s+(.*))?$")


@dataclass(frozen=True)
class ClauseLabel:
    text: str          # what a reviewer reads
    pointer: str = ""  # the contract pointer it was derived from ("" for prose clauses)


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def clause_label(clause: str, contract: str) -> ClauseLabel:
    """``contract`` names the contract the pointers refer to (the API version, or a --spec file)."""
    match = _CONTRACT.match(clause.strip())
    if not match:
        return ClauseLabel(clause)
    pointer, note = match.group(1), (match.group(2) or "").strip()
    if note.startswith("(") and note.endswith(")"):
        note = note[1:-1]
    tokens = [_unescape(t) for t in pointer[2:].split("/")] if len(pointer) > 2 else []
    subject = _subject(tokens)
    if subject is None:
        return ClauseLabel(clause)
    text = f"{subject}{f' ({note})' if note else ''}, contract {contract}"
    return ClauseLabel(text, pointer)


def _subject(tokens: list[str]) -> str | None:
    if len(tokens) >= 3 and tokens[0] == "paths":
        path, method, rest = tokens[1], tokens[2].upper(), tokens[3:]
        operation = f"{method} {path}"
        if not rest:
            return operation
        if rest[0] == "responses" and len(rest) >= 2:
            return f"{operation} {rest[1]} response{_content(rest[2:])}"
        if rest[0] == "requestBody":
            return f"{operation} request body{_content(rest[1:])}"
        if rest[0] == "security":
            return f"{operation} security requirement"
        if rest[0] == "parameters":
            return f"{operation} parameters"
        return f"{operation} {' '.join(rest)}"
    if len(tokens) >= 3 and tokens[0] == "components":
        kind, name, rest = tokens[1], tokens[2], tokens[3:]
        noun = {"responses": "response", "schemas": "schema", "parameters": "parameter", "headers": "header",
                "securitySchemes": "security scheme", "requestBodies": "request body"}.get(kind, kind)
        return f"{name} {noun}{_content(rest)}"
    return None


def _content(rest: list[str]) -> str:
    """``content/application/json/schema`` -> " body schema (application/json)"; other tails spelled out."""
    if not rest:
        return ""
    if rest[0] == "content" and len(rest) >= 2:
        tail = " ".join(rest[2:])
        return f" body {tail} ({rest[1]})".replace("  ", " ") if tail else f" body ({rest[1]})"
    if rest[0] == "headers" and len(rest) >= 2:
        return f" header {rest[1]}"
    return " " + " ".join(rest)


def contract_name(api_version: str, spec: object) -> str:
    """What "contract X" says: the version, or the --spec file the pointers refer to."""
    text = str(spec or "")
    if text and not text.startswith("kit contract"):
        return text.rsplit("/", 1)[-1]
    return api_version
