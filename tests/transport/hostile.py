"""Small hostile HTTP servers on loopback: each answers every request in one abusive way.

Raw sockets, not http.server: the point is to send what a well-behaved server never would
(a 10 MB header, a body that never ends, a status line one byte at a time).
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable
from functools import cache

JSON = b"content-type: application/json\r\n"


@cache
def _zeros_member() -> bytes:
    """One gzip member holding 16 MiB of zeros (about 16 KB)."""
    return gzip.compress(b"\0" * (16 << 20), compresslevel=9)


@cache
def stacked_gzip_body() -> bytes:
    """``Content-Encoding: gzip, gzip``: about 3.5 KB that inflate to 2 GiB (the inner layer is 128 gzip members)."""
    return gzip.compress(_zeros_member() * 128, compresslevel=9)


@cache
def gzip_bomb_body() -> bytes:
    """``Content-Encoding: gzip``: 1 GiB of zeros in about 1 MB (64 members; a gzip stream may have several)."""
    return _zeros_member() * 64


def _stacked_gzip(conn: socket.socket) -> None:
    body = stacked_gzip_body()
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + JSON + b"content-encoding: gzip, gzip\r\n"
                 + f"content-length: {len(body)}\r\n\r\n".encode() + body)


def _gzip_bomb(conn: socket.socket) -> None:
    body = gzip_bomb_body()
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + JSON + b"content-encoding: gzip\r\n"
                 + f"content-length: {len(body)}\r\n\r\n".encode() + body)


def _encoded(encoding: bytes) -> Callable[[socket.socket], None]:
    """A body under an encoding the kit asked not to get and does not decode (bytes that are no valid stream:
    the kit must refuse the encoding, not try it)."""
    def send(conn: socket.socket) -> None:
        body = b"\x1b\xff\xff\xff" * 1024
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + JSON + b"content-encoding: " + encoding + b"\r\n"
                     + f"content-length: {len(body)}\r\n\r\n".encode() + body)

    return send


def _endless_chunked(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + JSON + b"transfer-encoding: chunked\r\n\r\n")
    chunk = b"[" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    while True:
        conn.sendall(frame)


def _trickle(conn: socket.socket, data: bytes, interval: float) -> None:
    for i in range(len(data)):
        conn.sendall(data[i:i + 1])
        time.sleep(interval)


def _trickled_headers(conn: socket.socket) -> None:
    _trickle(conn, b"HTTP/1.1 200 OK\r\n" + JSON + b"x-slow: " + b"a" * 100000, 0.05)


def _trickled_body(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + JSON + b"content-length: 100000\r\n\r\n")
    _trickle(conn, b"[" * 100000, 0.05)


def _nested_json(conn: socket.socket) -> None:
    size = 50 << 20
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + JSON + f"content-length: {size}\r\n\r\n".encode())
    block = b"[" * (1 << 20)
    for _ in range(size >> 20):
        conn.sendall(block)


def _huge_header(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + JSON + b"x-huge: " + b"a" * (10 << 20) + b"\r\ncontent-length: 2\r\n\r\n{}")


BEHAVIOURS: dict[str, Callable[[socket.socket], None]] = {
    "stacked-gzip": _stacked_gzip,
    "gzip-bomb": _gzip_bomb,
    "endless-chunked": _endless_chunked,
    "trickled-headers": _trickled_headers,
    "trickled-body": _trickled_body,
    "nested-json-50mb": _nested_json,
    "header-10mb": _huge_header,
    "brotli": _encoded(b"br"),
    "zstd-under-gzip": _encoded(b"gzip, zstd"),
}


def _read_request(conn: socket.socket) -> bool:
    data = b""
    while b"\r\n\r\n" not in data:
        part = conn.recv(65536)
        if not part:
            return False
        data += part
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(rest) < length:
        part = conn.recv(65536)
        if not part:
            break
        rest += part
    return True


class HostileServer:
    """Answers every request on 127.0.0.1 with ``behaviour``; one thread per connection, all daemons."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = BEHAVIOURS[behaviour]
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        self._stop = threading.Event()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn:
                while not self._stop.is_set() and _read_request(conn):
                    self.behaviour(conn)
        except OSError:
            pass

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def __enter__(self) -> HostileServer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.listener.close()


if __name__ == "__main__":  # python -m tests.transport.hostile stacked-gzip: serve until interrupted
    import sys

    with HostileServer(sys.argv[1]) as server:
        print(server.url, flush=True)
        threading.Event().wait()
