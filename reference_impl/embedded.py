"""The reference provider in a background thread of the current process, for tests and `nv-conformance run`.

    with EmbeddedReference(versions=["<version>"]) as ref:
        httpx.get(ref.api_root + ref.kit["base_paths"]["<version>"] + "/verify", ...)
        ref.kit["token_endpoint"]

``versions`` names versions to serve at their base paths; every other base path serves the
version its profile marks ``reference_default`` (schemas/profiles.yaml).

Uvicorn serves the app on a free 127.0.0.1 port; the database is a temporary file
unless ``db_path`` is given (pass the same path and port again to "restart" the server), or a
PostgreSQL database when ``db_url`` is.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import uvicorn

from .app import ReferenceApp, create_app
from .behaviour import Behaviour
from .command import server_options
from .kit import build_kit
from .settings import Settings, TokenPolicyMode


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # `serve --host ::1 --port 0`
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedReference:
    def __init__(
        self,
        *,
        db_path: str | Path | None = None,
        versions: Iterable[str] = (),
        api_root_prefix: str = "",
        token_policy: TokenPolicyMode | str = TokenPolicyMode.PER_VERSION,
        fault: str | None = None,
        port: int | None = None,
        behaviour: Behaviour | None = None,
        clients_file: str | Path | None = None,
        db_url: str | None = None,
        keys_path: str | Path | None = None,
        also_at: Iterable[tuple[str, str]] = (),
        **behaviour_changes: Any,
    ) -> None:
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        if db_path is None and db_url is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="nv-reference-")
            db_path = Path(self._tempdir.name) / "reference.sqlite3"
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        base = behaviour or Behaviour()
        self.settings = Settings.serving(
            versions, db_path=Path(db_path or "unused.sqlite3"), issuer=self.base_url, api_root_prefix=api_root_prefix,
            token_policy=TokenPolicyMode(token_policy),
            behaviour=base.with_changes(**behaviour_changes) if behaviour_changes else base, fault=fault,
            clients_file=str(clients_file) if clients_file else None,
            db_url=db_url, keys_path=Path(keys_path) if keys_path else None, also_at=tuple(also_at),
        )
        self.api_root = self.settings.api_root
        self.app: ReferenceApp | None = None
        self.kit: dict[str, Any] = {}
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> EmbeddedReference:
        self.app = create_app(self.settings)
        self.kit = build_kit(self.app)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False, lifespan="off", loop="asyncio",
                                **server_options(self.settings.fault, []))
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"nv-reference:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the embedded reference provider could not start on port {self.port}")
            if time.monotonic() > deadline:
                raise RuntimeError("the embedded reference provider did not start within 10 s")
            time.sleep(0.01)
        return self

    def _run(self) -> None:
        assert self._server is not None
        asyncio.run(self._server.serve())

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.app is not None:
            self.app.store.close()
        self._server = self._thread = None
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def __enter__(self) -> EmbeddedReference:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
