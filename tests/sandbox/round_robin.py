"""A tiny HTTP round-robin proxy on loopback: request after request alternates between the backends.

It stands in for the load balancer of a sandbox deployment. The upstream connection leaves
from the client's own loopback address, so the simulated mobile network still sees the
device's source IP (the reference identifies subscribers by it).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import httpx
import uvicorn

from reference_impl.embedded import free_port

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


class RoundRobinProxy:
    def __init__(self, backends: list[str], port: int | None = None) -> None:
        self.backends = backends
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.sent = dict.fromkeys(backends, 0)
        self._next = itertools.cycle(backends)
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def _client(self, source_ip: str) -> httpx.AsyncClient:
        client = self._clients.get(source_ip)
        if client is None:
            transport = httpx.AsyncHTTPTransport(local_address=source_ip)
            client = self._clients[source_ip] = httpx.AsyncClient(transport=transport, timeout=30)
        return client

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        backend = next(self._next)
        self.sent[backend] += 1
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
                   if k.decode("latin-1").lower() not in _HOP_BY_HOP]
        headers.append(("host", f"127.0.0.1:{self.port}"))
        target = backend + scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        source_ip = scope["client"][0] if scope.get("client") else "127.0.0.1"
        try:
            response = await self._client(source_ip).request(scope["method"], target, headers=headers, content=body)
        except httpx.TransportError:
            await send({"type": "http.response.start", "status": 502, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.multi_items()
               if k.lower() not in _HOP_BY_HOP]
        await send({"type": "http.response.start", "status": response.status_code, "headers": out})
        await send({"type": "http.response.body", "body": response.content})

    def start(self) -> RoundRobinProxy:
        config = uvicorn.Config(self, host="127.0.0.1", port=self.port, log_level="warning", access_log=False,
                                lifespan="off", loop="asyncio", http="h11")
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the round-robin proxy did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> RoundRobinProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
