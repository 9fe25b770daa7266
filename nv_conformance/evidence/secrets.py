"""Is anything in a bundle file still a secret by the kit's redaction rules (nv_conformance.redact)?

Each format is read the way its consumer reads it: a JSON string value, an HTML or XML text
node are checked decoded, so escaping can neither hide a secret nor make a masked one look bare.
Published test definitions (feature files, contracts) carry example numbers and digests, so only
credentials are looked for there.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

from ..redact import JWK_PRIVATE_MEMBERS, unredacted

TEST_DEFINITION_PREFIXES = ("features/", "contract/")


def find_secret(name: str, data: bytes) -> str | None:
    """The kind of the first unredacted secret in bundle member ``name``, or None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "undecodable bytes (not UTF-8 text)"
    if name.startswith(TEST_DEFINITION_PREFIXES):
        return unredacted(text, personal_data=False)
    if name.endswith(".json") and _holds_private_jwk(_json_or_none(text)):
        return "private JWK"
    for piece in _pieces(name, text):
        kind = unredacted(piece)
        if kind:
            return kind
    return None


def _pieces(name: str, text: str) -> Iterator[str]:
    if name.endswith(".json"):
        try:
            yield from _json_strings(json.loads(text))
        except ValueError:
            yield text
    elif name.endswith(".html"):
        parser = _TextNodes()
        parser.feed(text)
        parser.close()
        yield from parser.pieces
    elif name.endswith(".xml"):
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            yield text
            return
        for element in root.iter():
            yield from (element.text or "", element.tail or "", *element.attrib.values())
    else:
        yield text


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _holds_private_jwk(value: Any) -> bool:
    """A JWK with a private member that is not masked: its values look like any base64url string."""
    if isinstance(value, dict):
        if "kty" in value and any(value.get(m) not in (None, "(redacted)") for m in JWK_PRIVATE_MEMBERS):
            return True
        return any(_holds_private_jwk(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_private_jwk(v) for v in value)
    return False


def _json_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


# The statement's element holding the SHA-256 of results.json: a digest of a bundle file, not a hashed number.
# verify.py checks that it is exactly that digest, so nothing else can hide there.
RESULTS_DIGEST_ID = "results-sha256"


class _TextNodes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._in_digest = False

    def handle_data(self, data: str) -> None:
        if not self._in_digest:
            self.pieces.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_digest = ("id", RESULTS_DIGEST_ID) in attrs
        self.pieces.extend(v for _, v in attrs if v)

    def handle_endtag(self, tag: str) -> None:
        self._in_digest = False
