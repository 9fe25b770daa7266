"""Test helpers shared across the test packages: a threaded HTTP(S) server on 127.0.0.1, the relay of an
upstream answer through it, and a self-signed certificate for 127.0.0.1."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class LoopbackServer:
    """``handler`` served on a free loopback port from a daemon thread while the context is open.

    ``tls`` wraps the listening socket (the url is then https); ``on_close`` runs after the server has
    stopped (e.g. to close the upstream client a proxy forwards with)."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, host: str = "127.0.0.1",
                 tls: ssl.SSLContext | None = None, poll_interval: float = 0.05,
                 on_close: Iterable[Callable[[], object]] = ()) -> None:
        self.httpd = ThreadingHTTPServer((host, 0), handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"{'https' if tls is not None else 'http'}://{host}:{self.httpd.server_port}"
        self._on_close = list(on_close)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": poll_interval},
                                       daemon=True)

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        for close in self._on_close:
            close()


def server_tls(cert: Path, key: Path, *, client_ca: Path | None = None) -> ssl.SSLContext:
    """A server-side TLS context for ``cert``; with ``client_ca`` a client certificate it signed is required."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    if client_ca is not None:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def relay(handler: BaseHTTPRequestHandler, answer: httpx.Response, dropped: Iterable[str]) -> None:
    """Send ``answer`` (read in full) back through ``handler``, without the ``dropped`` headers (lower case);
    the body goes out with its own Content-Length."""
    skip = {name.lower() for name in dropped} | {"content-length"}
    handler.send_response(answer.status_code)
    for name, value in answer.headers.multi_items():
        if name.lower() not in skip:
            handler.send_header(name, value)
    handler.send_header("content-length", str(len(answer.content)))
    handler.end_headers()
    handler.wfile.write(answer.content)


def self_signed(folder: Path, common_name: str = "nv-conformance test CA") -> tuple[Path, Path]:
    """A self-signed CA certificate for 127.0.0.1 valid for an hour, and its key: (cert.pem, key.pem) in ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file
