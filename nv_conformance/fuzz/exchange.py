"""One fuzzed request and its answer, in the plain shape the CAMARA checks read.

The checks never see schemathesis objects: the runner converts each response into a
:class:`FuzzExchange`, so the checks stay plain functions that a unit test can feed directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .. import mediatype
from ..inputs import nested_too_deep

_NO_JSON = object()


_OWS = " \t"


def _lower_headers(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> dict[str, str]:
    """Header names lower-cased; list values (schemathesis keeps every occurrence) joined like HTTP does.

    Values lose surrounding spaces and tabs: they are not part of a field value (RFC 9110 section 5.5),
    so a server that strips them sees ``abc`` when ``x-correlator: abc `` is sent, a valid value.
    """
    if headers is None:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in items:
        if isinstance(value, list | tuple):
            value = ", ".join(_text(v).strip(_OWS) for v in value)
        out[_text(name).lower()] = _text(value).strip(_OWS)
    return out


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


@dataclass(frozen=True)
class FuzzExchange:
    """What was sent and what came back; header names are lower-case."""

    operation_id: str
    operation_method: str  # the method the contract declares for the operation
    method: str            # the method actually sent (schemathesis also probes undeclared ones)
    url: str
    request_headers: Mapping[str, str]
    request_body: bytes | None
    status: int
    response_headers: Mapping[str, str]
    response_body: bytes
    elapsed_s: float = 0.0
    probe: str = ""        # e.g. "no-token" for requests the kit sends on its own
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # per-exchange results of the checks

    @classmethod
    def build(
        cls,
        *,
        operation_id: str,
        operation_method: str,
        method: str,
        url: str,
        request_headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None,
        request_body: bytes | str | None,
        status: int,
        response_headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None,
        response_body: bytes | None,
        elapsed_s: float = 0.0,
        probe: str = "",
    ) -> FuzzExchange:
        if isinstance(request_body, str):
            request_body = request_body.encode("utf-8")
        return cls(
            operation_id=operation_id,
            operation_method=operation_method.upper(),
            method=method.upper(),
            url=url,
            request_headers=_lower_headers(request_headers),
            request_body=request_body or None,
            status=status,
            response_headers=_lower_headers(response_headers),
            response_body=response_body or b"",
            elapsed_s=elapsed_s,
            probe=probe,
        )

    # -- derived facts the checks share ----------------------------------------------
    @property
    def declared_method(self) -> bool:
        return self.method == self.operation_method

    @property
    def authorization(self) -> str | None:
        return self.request_headers.get("authorization")

    @property
    def request_media_type(self) -> str:
        return mediatype.essence(self.request_headers.get("content-type"))

    @property
    def response_media_type(self) -> str:
        return mediatype.essence(self.response_headers.get("content-type"))

    @cached_property
    def request_json(self) -> Any:
        """The request body parsed as JSON, or the module's ``_NO_JSON`` marker."""
        if self.request_body is None:
            return _NO_JSON
        return _parse_json(self.request_body)

    @cached_property
    def response_json(self) -> Any:
        return _parse_json(self.response_body)


def _parse_json(raw: bytes) -> Any:
    """``raw`` as JSON, or ``_NO_JSON``; nesting too deep for the parser counts as not JSON (RecursionError)."""
    if nested_too_deep(raw):
        return _NO_JSON
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return _NO_JSON


def has_json(value: Any) -> bool:
    return value is not _NO_JSON
