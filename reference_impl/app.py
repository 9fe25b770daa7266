"""Composition root: ``create_app(settings)`` wires store, keys, API and authorization server into one ASGI app.

The NV API is raw ASGI (its hot path is measured); the authorization server is a
Starlette app. A dispatcher sends paths under the API's base paths to the API and
everything else to Starlette, whose 404/405 answers use the CAMARA error shape too.
A last-resort guard turns any unexpected exception into a CAMARA 500 body.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, replace

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import logs
from .api import CODE_METHOD_NOT_ALLOWED, CODE_NOT_FOUND, NumberVerificationApi
from .asgi_util import ASGIApp, Message, Receive, Scope, Send, camara_error_body, send_json
from .clients import ClientDirectory, load_clients
from .demo_data import DEMO_REDIRECT_PATH
from .keys import ServerKeys, load_server_keys
from .oauth import AuthorizationServer
from .settings import SETTINGS_ENV, Settings
from .stores import StateStore, open_store
from .tokens import AccessTokenIssuer, AccessTokenVerifier

log = logging.getLogger("reference_impl")


@dataclass
class ReferenceApp:
    """The ASGI app plus the parts a caller (kit writer, tests) may need."""

    settings: Settings
    store: StateStore
    keys: ServerKeys
    issuer: AccessTokenIssuer
    api: NumberVerificationApi
    auth: AuthorizationServer
    asgi: object

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)  # type: ignore[operator]


async def _http_exception(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    code = {404: CODE_NOT_FOUND, 405: CODE_METHOD_NOT_ALLOWED}.get(status, "INVALID_ARGUMENT" if status < 500 else "INTERNAL")
    headers = dict(getattr(exc, "headers", None) or {})
    correlator = request.headers.get("x-correlator")
    if correlator:
        headers["x-correlator"] = correlator
    message = {404: "no such resource", 405: f"method {request.method} is not allowed here"}.get(status, "request refused")
    return JSONResponse({"status": status, "code": code, "message": message}, status_code=status, headers=headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    """Starlette's ServerErrorMiddleware answers before the guard below sees the error: same CAMARA body."""
    return Response(camara_error_body(500, "INTERNAL", "internal error"), status_code=500,
                    media_type="application/json")


class _Dispatcher:
    def __init__(self, api: NumberVerificationApi, auth_app: Starlette) -> None:
        self._api = api
        self._auth_app = auth_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._api.handles(scope["path"]):
            await self._api(scope, receive, send)
        else:
            await self._auth_app(scope, receive, send)


class _LastResortGuard:
    """No client input may produce a traceback page: an unexpected error becomes a CAMARA 500 body."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._app(scope, receive, tracking_send)
        except Exception:
            log.exception("unexpected error while serving %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await send_json(send, 500, camara_error_body(500, "INTERNAL", "internal error"))


def create_app(settings: Settings) -> ReferenceApp:
    # here, not in the CLI: uvicorn workers are fresh processes that only run this factory
    logs.install("uvicorn.access", "uvicorn.error", "reference_impl")
    if settings.fault:  # a deliberately faulty variant (reference_impl/faults.py): flag overrides + middleware
        from .faults import behaviour_for

        settings = replace(settings, behaviour=behaviour_for(settings.fault, settings.behaviour))
    store = open_store(settings)
    keys = load_server_keys(store, settings.keys_path)
    audience = settings.api_root
    issuer = AccessTokenIssuer(keys, settings.issuer, audience)
    b = settings.behaviour
    verifier = AccessTokenVerifier(keys, settings.issuer, audience, check_signature=b.check_signature,
                                   check_expiry=b.check_expiry, check_audience=b.check_audience)
    api = NumberVerificationApi(versions=settings.api_versions, prefix=settings.api_root_prefix, store=store,
                                verifier=verifier, behaviour=b, issued_token_lifetime=settings.access_token_lifetime,
                                policy_for=settings.policy_for, also_at=settings.also_at)
    revocation_verifier = AccessTokenVerifier(keys, settings.issuer, audience)
    registrations = load_clients(settings.clients_file) if settings.clients_file else {}
    clients = ClientDirectory(store, registrations, demo_redirect_uri=settings.issuer + DEMO_REDIRECT_PATH)
    auth = AuthorizationServer(settings, store, issuer, keys.jwks(), revocation_verifier, clients)
    auth_app = Starlette(routes=auth.routes(),
                         exception_handlers={HTTPException: _http_exception, Exception: _internal_error})
    dispatcher: ASGIApp = _Dispatcher(api, auth_app)
    if settings.fault:
        from .faults import wrap_app

        dispatcher = wrap_app(settings.fault, dispatcher, api)
    asgi = _LastResortGuard(dispatcher)
    return ReferenceApp(settings, store, keys, issuer, api, auth, asgi)


SUPERVISOR_ENV = "NV_REFERENCE_SUPERVISOR_PID"


def app_from_environment() -> ReferenceApp:
    """Factory for uvicorn workers (``--factory``): settings arrive as JSON in an environment variable."""
    text = os.environ.get(SETTINGS_ENV)
    if not text:
        raise RuntimeError(f"{SETTINGS_ENV} is not set; start the server with `nv-conformance serve`")
    exit_with_supervisor()
    return create_app(Settings.from_json(text))


def exit_with_supervisor(interval_seconds: float = 0.5) -> None:
    """A worker whose supervisor died (``kill -9``) would serve on as an orphan and keep the port:
    a watcher thread sees the parent change and asks this worker to shut down (SIGTERM, uvicorn's
    graceful exit), then forces the exit if that did not end it.

    The supervisor's pid comes from ``serve`` (SUPERVISOR_ENV): a worker that starts after its
    supervisor died is already re-parented, and would otherwise take its new parent for the supervisor."""
    parent = int(os.environ.get(SUPERVISOR_ENV) or os.getppid())

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_seconds)
        log.warning("the supervisor (pid %d) is gone; worker %d exits", parent, os.getpid())
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)
        os._exit(1)

    threading.Thread(target=watch, name="nv-reference-supervisor-watch", daemon=True).start()
