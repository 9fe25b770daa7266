"""The kit's only HTTP client: bounded, never follows redirects, never leaks credentials.

Everything the kit sends (API calls, token requests, discovery) goes through
:class:`GuardedClient`, so the safety rules live in one place:
- connect/read/write/pool timeouts and a total deadline per request (headers and body);
- response bodies are read in chunks and cut off at ``max_body_bytes``;
- redirects are never followed (a redirect from the API is a finding, and an
  Authorization header must never travel to another host);
- TLS verification is on unless ``insecure`` is set explicitly; a client certificate (mTLS) when configured;
- extra headers (an API gateway's key) go only to the origin they were configured for;
- no proxy unless one is configured (``proxy``), environment proxies only with ``trust_env``
  (and never ``.netrc`` credentials);
- ``Accept-Encoding: identity`` is asked for; a body compressed anyway is decoded incrementally
  (stacked encodings too) under the same ``max_body_bytes`` cap, so a gzip bomb costs nothing.
"""

from __future__ import annotations

import io
import json
import os
import ssl
import tempfile
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import certifi
import httpx

from . import __version__, mediatype
from .envvars import expand_env
from .errors import ConfigError, TargetError
from .inputs import nested_too_deep
from .redact import register_secret

DEFAULT_MAX_BODY_BYTES = 1 << 20  # 1 MiB: far above any Number Verification response
DEFAULT_USER_AGENT = f"nv-conformance/{__version__}"
DEFAULT_MAX_CONCURRENCY = 8  # token requests in flight at once when a run works concurrently (http.max_concurrency)
MAX_CONCURRENCY = 64
_DECODE_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ClientCertificate:
    """A TLS client certificate (mTLS): PEM certificate file, key from a file or PEM text, optional passphrase."""

    cert_file: str
    key_file: str | None = None
    key_pem: str | None = field(default=None, repr=False)  # the key itself, e.g. read from an environment variable
    password: str | None = field(default=None, repr=False)


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
    user_agent: str = DEFAULT_USER_AGENT
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # sent only to ``headers_origin``
    headers_origin: str | None = None   # scheme://host:port the extra headers belong to
    client_cert: ClientCertificate | None = None
    proxy: str | None = field(default=None, repr=False)  # may carry proxy credentials
    trust_env: bool = False             # HTTP(S)_PROXY / NO_PROXY from the environment
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY  # token requests in flight at once (a concurrent run's RequestGate)

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
        if nested_too_deep(self.body):
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # a hostile body may nest [[[... 100,000 deep
            return None

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400 and "location" in self.headers


class TargetMisbehaved(TargetError):
    """The answer broke the kit's bounds or HTTP itself (too large, too slow, undecodable): the target's failure."""


class ResponseTooLargeError(TargetMisbehaved):
    pass


class TargetTooSlow(TargetMisbehaved):
    """The answer did not complete before the deadline (a server trickling bytes never trips a read timeout)."""


@lru_cache(maxsize=8)
def ssl_context(verify: bool | str, client_cert: ClientCertificate | None = None) -> ssl.SSLContext:
    """One SSL context per TLS setting per process: loading the CA store takes ~60 ms and a run opens several clients."""
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        try:
            if verify is True:
                context = ssl.create_default_context(cafile=certifi.where())
            elif os.path.isdir(verify):
                context = ssl.create_default_context(capath=verify)
            else:
                context = ssl.create_default_context(cafile=verify)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError("tls.ca_bundle", f"cannot load {verify}: {getattr(exc, 'reason', None) or exc}") from None
    if client_cert is not None:
        _load_client_cert(context, client_cert)
    return context


def _load_client_cert(context: ssl.SSLContext, cert: ClientCertificate) -> None:
    """Load the certificate and key; a key given as text goes through a private temporary file (ssl needs a path).

    The passphrase is always given as a callable: without one, OpenSSL would prompt on the terminal.
    """

    def password() -> str:
        return cert.password or ""

    try:
        if cert.key_pem is None:
            context.load_cert_chain(cert.cert_file, cert.key_file, password=password)
            return
        with tempfile.TemporaryDirectory(prefix="nv-mtls-") as folder:
            key_path = os.path.join(folder, "key.pem")
            descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii", errors="replace") as handle:
                handle.write(cert.key_pem)
            context.load_cert_chain(cert.cert_file, key_path, password=password)
    except ssl.SSLError as exc:
        raise ConfigError("tls.client_cert", f"cannot load the client certificate and key: {_tls_problem(exc, cert)}") from None
    except OSError as exc:
        raise ConfigError("tls.client_cert", f"cannot read the client certificate or key: {exc.strerror or exc}") from None


def _tls_problem(exc: ssl.SSLError, cert: ClientCertificate) -> str:
    if exc.reason == "KEY_VALUES_MISMATCH":
        return "the key does not belong to the certificate"
    key_text = cert.key_pem
    if key_text is None and cert.key_file:
        try:
            with open(cert.key_file, encoding="ascii", errors="replace") as handle:
                key_text = handle.read(1 << 20)
        except OSError:
            key_text = ""
    if key_text and ("ENCRYPTED" in key_text or "Proc-Type: 4,ENCRYPTED" in key_text):
        return "the key is encrypted and the passphrase is wrong or missing (tls.client_key_password_env)"
    return "not a PEM certificate with a matching PEM private key"


def origin_of(url: str) -> str:
    """``scheme://host:port`` with the default port made explicit: what extra headers are bound to."""
    parsed = httpx.URL(url)
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme, 0)
    return f"{parsed.scheme}://{parsed.host.lower()}:{port}"


class Pace:
    """At most ``rate`` request starts per second, across every client that shares it (``--rate``)."""

    def __init__(self, rate: float, *, clock: Any = time.monotonic, sleep: Any = time.sleep) -> None:
        self.rate = rate
        self._lock = threading.Lock()
        self._next_start = 0.0
        self._clock = clock
        self._sleep = sleep

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next_start)
            self._next_start = start + 1.0 / self.rate
        if start > now:
            self._sleep(start - now)


class RequestGate:
    """What a concurrent run may send at once through the clients sharing this gate: at most
    ``limit`` requests in flight, started at the shared ``pace`` when one is given. A client
    waiting out a CIBA interval is not in flight: it holds no slot."""

    def __init__(self, limit: int, pace: Pace | None = None) -> None:
        self.limit = limit
        self.pace = pace
        self._slots = threading.BoundedSemaphore(limit)

    def __enter__(self) -> RequestGate:
        self._slots.acquire()
        if self.pace is not None:
            self.pace.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        self._slots.release()


class GuardedClient:
    """A thin wrapper over one ``httpx.Client`` with the rules above."""

    gate: RequestGate | None = None  # set for a concurrent run (bdd/parallel.py); None: no bound beyond the caller's

    def __init__(self, settings: HttpSettings | None = None, *, transport: httpx.BaseTransport | None = None) -> None:
        """``transport`` is for tests (e.g. ``httpx.MockTransport``); by default a real one is built."""
        self.settings = settings or HttpSettings()
        self._given_transport = transport
        self._lock = threading.Lock()
        self._client = self._new_client()

    def _new_client(self) -> httpx.Client:
        s = self.settings
        context = ssl_context(s.verify(), s.client_cert)

        def transport(proxy: str | None = None) -> httpx.HTTPTransport:
            # httpx ignores the client's ``verify`` when a transport is given, so it goes here too.
            return httpx.HTTPTransport(local_address=s.local_address, verify=context, proxy=proxy, trust_env=False)

        default = self._given_transport or transport(s.proxy)
        mounts: dict[str, httpx.BaseTransport | None] = {}
        if self._given_transport is None and s.proxy is None and s.trust_env:
            # Proxies decided per URL (NO_PROXY); httpx's own trust_env would also send .netrc credentials.
            from httpx._utils import get_environment_proxies  # the same HTTP(S)_PROXY/NO_PROXY rules as curl

            mounts = {pattern: transport(proxy) if proxy else None for pattern, proxy in get_environment_proxies().items()}
        return httpx.Client(
            timeout=httpx.Timeout(connect=s.connect_timeout, read=s.read_timeout, write=s.read_timeout, pool=s.connect_timeout),
            follow_redirects=False,
            verify=context,
            trust_env=False,
            transport=default,
            mounts=mounts or None,
            headers={"user-agent": s.user_agent, "accept-encoding": "identity", "accept": "*/*"},
        )


    def _send_before(self, request: httpx.Request, deadline: float, method: str, url: str, started: float) -> httpx.Response:
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
            raise TargetTooSlow(f"{method} {_origin(url)}: no complete response headers within {_seconds(deadline, started)} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | list[tuple[str, str]] | list[tuple[bytes, bytes]] | None = None,
        content: bytes | str | None = None,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        deadline: float | None = None,
    ) -> HttpResult:
        """Send one request and read a bounded body; transport failures raise TargetError.

        ``deadline`` (``time.monotonic()``) can only shorten ``total_timeout``, e.g. to end a fuzz run on time.
        """
        if self.gate is None:
            return self._request(method, url, headers, content, data, params, deadline)
        with self.gate:  # the timeouts count from the send, not from the wait for a slot
            return self._request(method, url, headers, content, data, params, deadline)

    def _request(self, method: str, url: str, headers: Any, content: bytes | str | None, data: dict[str, str] | None,
                 params: dict[str, str] | None, deadline: float | None) -> HttpResult:
        started = time.monotonic()
        deadline = min(started + self.settings.total_timeout, deadline or float("inf"))
        request = self._client.build_request(
            method, url, headers=self._headers_for(url, headers), content=content, data=data, params=params
        )
        try:
            response = self._send_before(request, deadline, method, url, started)
        except httpx.TimeoutException as exc:
            raise TargetError(f"{method} {_origin(url)}: no answer within the timeout ({type(exc).__name__})") from None
        except httpx.RemoteProtocolError as exc:
            problem = _protocol_problem(exc)
            error = TargetMisbehaved if "exceed" in problem else TargetError  # a dropped connection is not a bound
            raise error(f"{method} {_origin(url)}: {problem}") from None
        except httpx.HTTPError as exc:
            raise TargetError(f"{method} {_origin(url)}: {type(exc).__name__}: {_short(exc)}") from None
        try:
            body = self._read_bounded(response, deadline, method, url, started)
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

    def _extra_headers(self, url: str, own: Iterable[str]) -> list[tuple[str, str]]:
        """The configured extra headers a request to ``url`` gets: only on their origin (they are secrets),
        and not those the caller sets itself (``own``: the names it sets)."""
        s = self.settings
        if not s.headers or s.headers_origin is None or origin_of(url) != s.headers_origin:
            return []
        taken = {name.lower() for name in own}
        return [(name, value) for name, value in s.headers if name.lower() not in taken]

    def added_header_names(self, url: str, headers: list[tuple[str, str]]) -> tuple[str, ...]:
        """Names of the configured extra headers a request to ``url`` with ``headers`` gets."""
        return tuple(name for name, _ in self._extra_headers(url, (name for name, _ in headers)))

    def _headers_for(
        self, url: str, headers: dict[str, str] | list[tuple[str, str]] | list[tuple[bytes, bytes]] | None
    ) -> httpx.Headers | dict[str, str] | list[tuple[str, str]] | list[tuple[bytes, bytes]] | None:
        """The configured extra headers when ``url`` is on their origin (the caller's own headers win)."""
        if not self.settings.headers:  # the usual case: nothing to add, nothing to copy
            return headers
        given = httpx.Headers(headers or {})
        extra = self._extra_headers(url, given)
        if not extra:
            return headers
        # raw bytes: a fuzzed value need not be ASCII
        return httpx.Headers([*((name.encode("ascii"), value.encode("ascii")) for name, value in extra), *given.raw])

    def _read_bounded(self, response: httpx.Response, deadline: float, method: str, url: str, started: float) -> bytes:
        limit = self.settings.max_body_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise ResponseTooLargeError(
                f"{method} {_origin(url)}: response of {declared} bytes exceeds the {limit}-byte limit"
            )
        already_read = hasattr(response, "_content")  # e.g. a test transport handing out one Response twice
        encodings = [] if already_read else response.headers.get_list("content-encoding", split_commas=True)
        decoder = BoundedDecoder(encodings, limit)
        if decoder.unsupported:
            raise TargetMisbehaved(
                f"{method} {_origin(url)}: Content-Encoding {', '.join(decoder.unsupported)} refused: the kit asked "
                "for Accept-Encoding: identity and decodes only gzip and deflate sent anyway"
            )
        body = io.BytesIO()  # getvalue() hands over its buffer: no second copy of a large body
        size = 0
        try:
            for raw in ([response.content] if already_read else response.iter_raw()):
                for chunk in decoder.feed(raw):
                    size += len(chunk)
                    if size > limit:
                        raise ResponseTooLargeError(f"{method} {_origin(url)}: response body exceeds the {limit}-byte limit")
                    body.write(chunk)
                if time.monotonic() > deadline:
                    raise TargetTooSlow(
                        f"{method} {_origin(url)}: response body not complete within {_seconds(deadline, started)} s"
                    )
        except httpx.TimeoutException:
            raise TargetMisbehaved(f"{method} {_origin(url)}: response body stalled (read timeout)") from None
        except httpx.HTTPError as exc:
            raise TargetError(f"{method} {_origin(url)}: {type(exc).__name__}: {_short(exc)}") from None
        except DecodingLimitError:
            raise ResponseTooLargeError(f"{method} {_origin(url)}: response body exceeds the {limit}-byte limit") from None
        except zlib.error as exc:
            raise TargetMisbehaved(f"{method} {_origin(url)}: response body is not valid {decoder.describe()}: {exc}") from None
        return body.getvalue()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> GuardedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_RESERVED_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "te", "upgrade", "trailer"}


def parse_headers(value: Any, setting: str) -> tuple[tuple[str, str], ...]:
    """Extra request headers (e.g. an API gateway's key): names are tokens, values are secrets (redacted)."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise ConfigError(setting, "must be a mapping of header name to value")
    headers = []
    for name, item in value.items():
        name = str(name)
        if not name or not all(c.isalnum() or c in "!#$%&'*+-.^_`|~" for c in name):
            raise ConfigError(f"{setting}.{name}", "not a valid header name")
        if name.lower() in _RESERVED_HEADERS:
            raise ConfigError(f"{setting}.{name}", "is set by the HTTP client itself")
        if name.lower() in ("authorization", "proxy-authorization"):
            raise ConfigError(f"{setting}.{name}", "carries the kit's own credentials (the access token, client "
                                                   "authentication, proxy URL credentials); give a gateway key another header")
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ConfigError(f"{setting}.{name}", f"must be a string, got {type(item).__name__}")
        text = header_value(expand_env(str(item), f"{setting}.{name}", on_value=register_secret), f"{setting}.{name}")
        register_secret(text)
        headers.append((name, text))
    return tuple(headers)


def header_value(value: Any, setting: str) -> str:
    """One line of ASCII: a CR or LF would split the request (header injection)."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(setting, "must be a non-empty string")
    text = value.strip()
    if any(c in text for c in "\r\n\0") or not text.isascii():
        raise ConfigError(setting, "must be one line of ASCII text")
    return text


def _origin(url: str) -> str:
    """Scheme, host and path only: query strings may carry secrets."""
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode()}{parsed.path}"


def _seconds(deadline: float, started: float) -> str:
    return f"{max(deadline - started, 0):.3g}"


def _protocol_problem(exc: Exception) -> str:
    text = _short(exc)
    if "buffer" in text.lower() and "too long" in text.lower():  # h11's bound on the status line and headers
        return "response headers exceed the 100 KiB limit"
    return f"RemoteProtocolError: {text}"


class DecodingLimitError(Exception):
    """An intermediate layer of a stacked Content-Encoding grew beyond what the limit allows."""


_DECODED_ENCODINGS = ("gzip", "x-gzip", "deflate")


class BoundedDecoder:
    """Undoes ``Content-Encoding`` (gzip, deflate, stacked) in bounded steps.

    ``zlib``'s ``max_length`` keeps every step to 64 KiB of output, so a 3 KB body that inflates to
    2 GiB costs at most one step beyond the cap; an intermediate layer (e.g. the outer ``gzip`` of
    ``gzip, gzip``) may grow to twice the limit, no more. Other encodings (br, zstd, compress) are
    listed in ``unsupported``, and the client refuses such a response as the target's failure: the kit
    asked for ``identity``, and it decodes none it cannot bound with the standard library.
    """

    def __init__(self, encodings: list[str], limit: int) -> None:
        known = [e.strip().lower() for e in encodings if e.strip()]
        self.unsupported = [e for e in known if e not in _DECODED_ENCODINGS and e != "identity"]
        self.layers = [_Inflater(e) for e in reversed(known) if e in _DECODED_ENCODINGS]
        self.intermediate_limit = 2 * limit + _DECODE_CHUNK

    def describe(self) -> str:
        return ", ".join(layer.encoding for layer in reversed(self.layers)) or "identity"

    def feed(self, data: bytes) -> Iterator[bytes]:
        pieces: Iterator[bytes] = iter((data,))
        for depth, layer in enumerate(self.layers):
            pieces = layer.stream(pieces, None if depth == len(self.layers) - 1 else self.intermediate_limit)
        yield from pieces


class _Inflater:
    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.produced = 0
        self._new()

    def _new(self) -> None:
        self.zlib = zlib.decompressobj(16 + zlib.MAX_WBITS if self.encoding != "deflate" else zlib.MAX_WBITS)
        self._started = False

    def stream(self, pieces: Iterator[bytes], limit: int | None) -> Iterator[bytes]:
        for piece in pieces:
            for out in self._inflate(piece):
                self.produced += len(out)
                if limit is not None and self.produced > limit:
                    raise DecodingLimitError
                yield out

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        while True:
            if self.zlib.eof:
                rest = self.zlib.unused_data + data
                if not rest.strip(b"\0"):
                    return  # nothing, or padding, after the last gzip member
                self._new()  # another gzip member follows
                data = rest
            try:
                out = self.zlib.decompress(data, _DECODE_CHUNK)
            except zlib.error:
                if self.encoding == "deflate" and not self._started:  # "deflate" sent raw, without the zlib wrapper
                    self.zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._started = True
                    continue
                raise
            self._started = True
            data = self.zlib.unconsumed_tail
            if out:
                yield out
            if self.zlib.eof:
                data = b""
                continue
            if not data and len(out) < _DECODE_CHUNK:
                return


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
