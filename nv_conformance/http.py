"""The kit's only HTTP client: bounded, never follows redirects, never leaks credentials.

Everything the kit sends (API calls, token requests, discovery) goes through
:class:`GuardedClient`, so the safety rules live in one place:
- connect/read/write/pool timeouts and a total deadline per request (headers and body);
- response bodies are read in chunks and cut off at ``max_body_bytes``;
- redirects are never followed (a redirect from the API is a finding, and an
  Authorization header must never travel to another host);
- TLS verification is on unless ``insecure`` is set explicitly.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import certifi
import httpx

from . import mediatype
from .errors import ConfigError, TargetError

DEFAULT_MAX_BODY_BYTES = 1 << 20  # 1 MiB: far above any Number Verification response


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 30.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    verify_tls: bool = True
    ca_bundle: str | None = None
    insecure: bool = False
    local_address: str | None = None  # source IP to bind (e.g. a loopback alias standing in for a device)

    def verify(self) -> bool | str:
        if self.insecure:
            return False
        if self.ca_bundle:
            return self.ca_bundle
        return self.verify_tls


@dataclass
class HttpResult:
    """What came back, decoded once; ``json`` is None when the body is not JSON."""

    method: str
    url: str
    status: int
    headers: httpx.Headers
    body: bytes
    elapsed: float
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: bytes | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def media_type(self) -> str:
        return mediatype.essence(self.headers.get("content-type"))

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # a hostile body may nest [[[... 100,000 deep
            return None

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400 and "location" in self.headers


class ResponseTooLargeError(TargetError):
    pass


@lru_cache(maxsize=8)
def ssl_context(verify: bool | str) -> ssl.SSLContext:
    """One SSL context per TLS setting per process: loading the CA store takes ~60 ms and a run opens several clients."""
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        if verify is True:
            return ssl.create_default_context(cafile=certifi.where())
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError("tls.ca_bundle", f"cannot load {verify}: {getattr(exc, 'reason', None) or exc}") from None


class GuardedClient:
    """A thin wrapper over one ``httpx.Client`` with the rules above."""

    def __init__(self, settings: HttpSettings | None = None, *, transport: httpx.BaseTransport | None = None) -> None:
        """``transport`` is for tests (e.g. ``httpx.MockTransport``); by default a real one is built."""
        self.settings = settings or HttpSettings()
        self._given_transport = transport
        self._lock = threading.Lock()
        self._client = self._new_client()

    def _new_client(self) -> httpx.Client:
        s = self.settings
        transport = self._given_transport
        if transport is None and s.local_address:
            # httpx ignores the client's ``verify`` when a transport is given, so it goes here too.
            transport = httpx.HTTPTransport(local_address=s.local_address, verify=ssl_context(s.verify()), trust_env=False)
        return httpx.Client(
            timeout=httpx.Timeout(connect=s.connect_timeout, read=s.read_timeout, write=s.read_timeout, pool=s.connect_timeout),
            follow_redirects=False,
            verify=ssl_context(s.verify()),
            trust_env=False,
            transport=transport,
        )

    def _send_before(self, request: httpx.Request, deadline: float, method: str, url: str) -> httpx.Response:
        """``send`` up to the response headers, cut off at ``deadline``.

        httpx's timeouts are per socket operation: a server that trickles its status line and headers
        one byte at a time never trips them. So the send runs in a worker thread; when the deadline
        passes first, the client is closed (which closes the stalled socket under the worker) and replaced.
        """
        client = self._client
        outcome: dict[str, Any] = {}

        def send() -> None:
            try:
                outcome["response"] = client.send(request, stream=True)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                outcome["error"] = exc

        worker = threading.Thread(target=send, name="nv-http-send", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            with self._lock:
                if self._client is client:
                    self._client = self._new_client()
            client.close()
            raise TargetError(f"{method} {_origin(url)}: no response headers within {self.settings.total_timeout:g} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        content: bytes | str | None = None,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> HttpResult:
        """Send one request and read a bounded body; transport failures raise TargetError."""
        started = time.monotonic()
        deadline = started + self.settings.total_timeout
        request = self._client.build_request(method, url, headers=headers, content=content, data=data, params=params)
        try:
            response = self._send_before(request, deadline, method, url)
        except httpx.TimeoutException as exc:
            raise TargetError(f"{method} {_origin(url)}: no answer within the timeout ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise TargetError(f"{method} {_origin(url)}: {type(exc).__name__}: {_short(exc)}") from None
        try:
            body = self._read_bounded(response, deadline, method, url)
        finally:
            response.close()
        return HttpResult(
            method=method,
            url=str(request.url),
            status=response.status_code,
            headers=response.headers,
            body=body,
            elapsed=time.monotonic() - started,
            request_headers=dict(request.headers),
            request_body=request.content if request.content else None,
        )

    def _read_bounded(self, response: httpx.Response, deadline: float, method: str, url: str) -> bytes:
        limit = self.settings.max_body_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise ResponseTooLargeError(
                f"{method} {_origin(url)}: response of {declared} bytes exceeds the {limit}-byte limit"
            )
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise ResponseTooLargeError(
                        f"{method} {_origin(url)}: response body exceeds the {limit}-byte limit"
                    )
                if time.monotonic() > deadline:
                    raise TargetError(
                        f"{method} {_origin(url)}: response not complete within {self.settings.total_timeout:g} s"
                    )
                chunks.append(chunk)
        except httpx.TimeoutException:
            raise TargetError(f"{method} {_origin(url)}: response body stalled (read timeout)") from None
        except httpx.HTTPError as exc:
            raise TargetError(f"{method} {_origin(url)}: {type(exc).__name__}: {_short(exc)}") from None
        return b"".join(chunks)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> GuardedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _origin(url: str) -> str:
    """Scheme, host and path only: query strings may carry secrets."""
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode()}{parsed.path}"


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
