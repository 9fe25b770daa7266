"""Every request schemathesis sends goes through the kit's own HTTP client.

schemathesis speaks ``requests``; mounting :class:`GuardedAdapter` on its sessions hands each
prepared request to :class:`~nv_conformance.http.GuardedClient`, so fuzzing gets exactly what
``run`` gets: the size cap with bounded decoding, connect/read/total timeouts, a deadline that
ends the run on time, the gateway's extra headers, mutual TLS, the proxy and the User-Agent.
A failure of the client becomes the ``requests`` exception schemathesis counts as a network error.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3._collections import HTTPHeaderDict

from ..errors import TargetError
from ..http import GuardedClient, TargetMisbehaved

# Headers the client sets itself (its User-Agent and Accept-Encoding: identity, its own framing).
_DROPPED = {"user-agent", "accept-encoding", "content-length", "host", "connection", "transfer-encoding"}


class _RawResponse:
    """The little of urllib3's response that schemathesis reads: headers (``getlist``), the HTTP version,
    and ``read1`` for a ``text/event-stream`` answer (served from the body already read, within the cap)."""

    version = 11

    def __init__(self, headers: HTTPHeaderDict, body: bytes = b"") -> None:
        self.headers = headers
        self._body = body
        self._offset = 0

    def read1(self, amount: int = -1, decode_content: bool = True) -> bytes:
        end = len(self._body) if amount is None or amount < 0 else self._offset + amount
        chunk = self._body[self._offset:end]
        self._offset += len(chunk)
        return chunk

    def close(self) -> None:
        return None


class GuardedAdapter(BaseAdapter):
    """A ``requests`` transport adapter backed by the kit's client.

    ``on_failure(error, cut_by_run)`` sees every failed request; ``cut_by_run`` is True when the run's
    deadline, not the target, may have ended it (the deadline came before ``total_timeout``).
    """

    def __init__(
        self,
        client: GuardedClient,
        *,
        deadline: Callable[[], float | None] = lambda: None,
        on_failure: Callable[[TargetError, bool], None] = lambda error, cut_by_run: None,
    ) -> None:
        super().__init__()
        self.client = client
        self.deadline = deadline
        self.on_failure = on_failure

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Mapping[str, str] | None = None) -> requests.Response:
        headers = [(name.encode("latin-1"), _wire(value)) for name, value in request.headers.items()
                   if name.lower() not in _DROPPED]
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        deadline = self.deadline()
        cut_by_run = deadline is not None and deadline < time.monotonic() + self.client.settings.total_timeout
        try:
            result = self.client.request(str(request.method), str(request.url), headers=headers,
                                         content=body,  # type: ignore[arg-type]  # schemathesis sends bytes or str
                                         deadline=deadline)
        except TargetMisbehaved as exc:
            self.on_failure(exc, cut_by_run)
            raise requests.exceptions.ContentDecodingError(str(exc), request=request) from None
        except TargetError as exc:
            self.on_failure(exc, cut_by_run)
            raise requests.exceptions.ConnectionError(str(exc), request=request) from None
        response = requests.Response()
        response.status_code = result.status
        raw_headers = HTTPHeaderDict()
        for name, value in result.headers.multi_items():
            raw_headers.add(name, value)
        response.headers = CaseInsensitiveDict(raw_headers)
        response.raw = _RawResponse(raw_headers, result.body)
        response._content = result.body
        response._content_consumed = True
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.reason = ""
        response.url = str(request.url)
        response.request = request
        response.elapsed = datetime.timedelta(seconds=result.elapsed)
        response.connection = self  # type: ignore[assignment]
        return response

    def close(self) -> None:
        return None


def _wire(value: str | bytes) -> bytes:
    """A header value as bytes the way ``requests`` sends it (latin-1): fuzzed values are not always ASCII."""
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def mount(session: requests.Session, adapter: GuardedAdapter) -> requests.Session:
    """Route all of ``session``'s requests through ``adapter`` (idempotent)."""
    if session.get_adapter("http://x") is not adapter:
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session
