"""`nv-conformance serve`: run the reference provider (API + authorization server) with uvicorn.

Prints where it listens and where the kit went; never prints tokens, keys or full numbers
(uvicorn's access log passes through nv_conformance.redact).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path
from typing import Any

from nv_conformance.errors import ConfigError
from nv_conformance.profiles import get_profile, reference_versions, sharing_base_path, versions_text

from . import logs
from .app import SUPERVISOR_ENV
from .behaviour import Behaviour
from .settings import SETTINGS_ENV, AlsoAtError, Settings, TokenPolicyMode
from .stores import DB_ENV

DEFAULT_PORT = 9091
DEFAULT_DB = "nv-reference.sqlite3"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; other than loopback needs --allow-non-loopback)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = a free one)")
    parser.add_argument("--db", default=None,
                        help=f"SQLite database file, or postgresql://user@host:port/dbname shared by several "
                             f"instances (default ${DB_ENV}, else ./{DEFAULT_DB}); a password is never printed")
    parser.add_argument("--keys", default=None, metavar="PATH",
                        help="signing key file (JWK, created 0600 when missing) instead of the key kept in the "
                             "database; give every instance the same file")
    parser.add_argument("--api-root-prefix", default="",
                        help="serve the API under this path prefix, e.g. /passthrough/camara")
    parser.add_argument("--api-version", metavar="VERSION", action="append", default=[],
                        help=f"serve VERSION at its base path, where versions share one (repeatable; versions: "
                             f"{versions_text()}; default at each base path: {_reference_defaults()})")
    parser.add_argument("--also-at", metavar="VERSION=PATH", action="append", default=[],
                        help="serve VERSION at PATH as well (repeatable), e.g. a release candidate at the base "
                             "path its OpenAPI servers url names: VERSION=/number-verification/v2rc2")
    parser.add_argument("--token-policy", default=TokenPolicyMode.PER_VERSION.value,
                        choices=[m.value for m in TokenPolicyMode],
                        help="per-version: each version's token rules (single use only where its profile demands it); "
                             "strict: the strictest rules of any version on every version (default per-version)")
    parser.add_argument("--public-url", default=None,
                        help="issuer / public base URL when clients reach the server under another name")
    parser.add_argument("--kit", default=None, metavar="PATH", help="write the tester kit (JSON, mode 0600) here")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--allow-non-loopback", action="store_true",
                        help="allow --host other than loopback (the demo credentials are public!)")
    parser.add_argument("--no-access-log", action="store_true", help="turn off the (redacted) access log")
    parser.add_argument("--fault", default=None, metavar="NAME",
                        help="serve a deliberately faulty variant (for the kit's self-test)")
    parser.add_argument("--trusted-proxy", action="append", default=[], metavar="CIDR",
                        help="a reverse proxy whose X-Forwarded-For counts (repeatable); without it forwarded "
                             "headers are ignored and the TCP peer is the client")
    parser.add_argument("--tls-cert", default=None, metavar="PEM", help="serve HTTPS with this certificate chain")
    parser.add_argument("--tls-key", default=None, metavar="PEM", help="private key of --tls-cert")
    parser.add_argument("--request-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="close a connection whose request is not complete this long after it began (default 10)")
    parser.add_argument("--clients", default=None, metavar="YAML",
                        help="register API consumers from this file (docs/reference.md, 'Onboarding')")
    parser.add_argument("--ciba-interval", type=int, default=Behaviour().ciba_interval_seconds, metavar="SECONDS",
                        help="CIBA poll interval the authorization server announces and enforces "
                             f"(default {Behaviour().ciba_interval_seconds}; CIBA's own default is 5)")


def _settings_from(args: argparse.Namespace) -> Settings:
    try:
        host_ip = ipaddress.ip_address(args.host)
    except ValueError:
        host_ip = None
    is_loopback = args.host == "localhost" or (host_ip is not None and host_ip.is_loopback)
    if not is_loopback and not args.allow_non_loopback:
        raise ConfigError("--host", f"{args.host} is not a loopback address; the demo client's keys are public, "
                          "so pass --allow-non-loopback if you really mean it")
    if not 0 <= args.port <= 65535:
        raise ConfigError("--port", "must be between 0 and 65535")
    if not 0.1 <= args.request_timeout <= 3600:
        raise ConfigError("--request-timeout", "must be between 0.1 and 3600 seconds")
    if args.workers < 1 or args.workers > 64:
        raise ConfigError("--workers", "must be between 1 and 64")
    if not 0 <= args.ciba_interval <= 60:
        raise ConfigError("--ciba-interval", "must be between 0 and 60 seconds")
    if args.port == 0:
        from .embedded import free_port

        args.port = free_port(args.host if is_loopback and host_ip is not None else "127.0.0.1")
    _check_tls(args)
    args.trusted_proxy = _trusted_proxies(args.trusted_proxy)
    if args.public_url:
        if not args.public_url.startswith(("http://", "https://")):
            raise ConfigError("--public-url", "must start with http:// or https://")
        issuer = args.public_url
    else:
        shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        shown = f"[{shown}]" if ":" in shown else shown
        issuer = f"{'https' if args.tls_cert else 'http'}://{shown}:{args.port}"
    if args.fault:
        _check_fault(args.fault)
    clients_file = None
    if args.clients:
        from .clients import load_clients

        load_clients(args.clients)  # every problem now, one line each; workers load the file again
        clients_file = str(Path(args.clients).resolve())
    device_url = None
    if _ipv6_loopback(args.host) and not args.public_url:
        # the simulated mobile network's devices are IPv4 loopback aliases (IPv6 loopback has one address
        # only): the device-facing endpoints are served on 127.0.0.1 too, same port
        device_url = f"{'https' if args.tls_cert else 'http'}://127.0.0.1:{args.port}"
    preferred = _served_versions(args.api_version)
    also_at = _also_at(args.also_at)
    db = args.db or os.environ.get(DB_ENV) or DEFAULT_DB
    db_url = db if db.startswith(("postgresql://", "postgres://")) else None
    if db_url is None and "://" in db:
        raise ConfigError("--db", "must be a file path or a postgresql://user@host:port/dbname URL")
    try:
        return Settings.serving(preferred, db_path=Path(DEFAULT_DB if db_url else db), issuer=issuer,
                                api_root_prefix=args.api_root_prefix,
                                token_policy=TokenPolicyMode(args.token_policy), fault=args.fault,
                                clients_file=clients_file, device_url=device_url,
                                db_url=db_url, keys_path=Path(args.keys) if args.keys else None,
                                also_at=also_at,
                                behaviour=Behaviour(ciba_interval_seconds=args.ciba_interval))
    except AlsoAtError as exc:
        raise ConfigError("--also-at", str(exc)) from None
    except ValueError as exc:
        raise ConfigError("--api-root-prefix", str(exc)) from None


def _reference_defaults() -> str:
    """The versions served by default, each shared base path's default with the profile's reason."""
    shown = []
    for version in reference_versions():
        profile = get_profile(version)
        shared = len(sharing_base_path(version)) > 1
        reason = f" at {profile.base_path}, {profile.reference_default_reason}" if shared and profile.reference_default_reason else ""
        shown.append(version + (f" ({reason.strip()})" if reason else ""))
    return ", ".join(shown)


def _also_at(values: list[str]) -> tuple[tuple[str, str], ...]:
    """``--also-at VERSION=PATH`` values as (known version, base path) pairs."""
    pairs = []
    for value in values:
        version, sep, path = value.partition("=")
        if not sep or not path.startswith("/"):
            raise ConfigError("--also-at", f"{value!r}: expected VERSION=/base/path")
        try:
            pairs.append((get_profile(version.strip()).version, path.strip().rstrip("/")))
        except ValueError as exc:
            raise ConfigError("--also-at", str(exc)) from None
    return tuple(pairs)


def _served_versions(names: list[str]) -> list[str]:
    """``--api-version`` values as known versions, at most one per base path."""
    chosen: dict[str, str] = {}
    for name in names:
        try:
            profile = get_profile(name)
        except ValueError as exc:
            raise ConfigError("--api-version", str(exc)) from None
        other = chosen.get(profile.base_path)
        if other is not None and other != profile.version:
            raise ConfigError("--api-version", f"{other} and {profile.version} share {profile.base_path}; "
                              f"name one of {', '.join(sharing_base_path(profile.version))}")
        chosen[profile.base_path] = profile.version
    return list(chosen.values())


def _trusted_proxies(values: list[str]) -> list[str]:
    """CIDRs (or single addresses) of reverse proxies; '*' is refused: it would let anyone claim any address."""
    networks = []
    for value in values:
        try:
            networks.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError:
            raise ConfigError("--trusted-proxy", f"{value[:60]!r} is not an IP address or CIDR network") from None
    return networks


def _check_tls(args: argparse.Namespace) -> None:
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ConfigError("--tls-key" if args.tls_cert else "--tls-cert", "--tls-cert and --tls-key go together")
    if not args.tls_cert:
        return
    import ssl

    for setting, path in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
        if not os.access(path, os.R_OK):
            raise ConfigError(setting, f"cannot read {path}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(args.tls_cert, args.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError("--tls-cert", f"cannot load the certificate and key: {getattr(exc, 'reason', None) or exc}") from None


def _check_fault(name: str) -> None:
    """Fail on an unknown variant name now, with one line; create_app applies the variant."""
    from .faults import get_fault

    try:
        get_fault(name)
    except KeyError as exc:
        raise ConfigError("--fault", str(exc.args[0] if exc.args else exc)) from None


def main(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .keys import KeyFileError
    from .kit import build_kit, write_kit
    from .store_postgres import DatabaseError, redact_url

    settings = _settings_from(args)
    database = redact_url(settings.db_url) if settings.db_url else str(settings.db_path)
    try:
        app = create_app(settings)  # seeds the database and the signing key before any worker starts
    except OSError as exc:
        raise ConfigError("--db", f"cannot open {database}: {exc.strerror or exc}") from None
    except DatabaseError as exc:
        raise ConfigError("--db", str(exc)) from None
    except KeyFileError as exc:
        raise ConfigError("--keys", str(exc)) from None
    if args.kit:
        try:
            path = write_kit(build_kit(app), args.kit)
        except OSError as exc:
            raise ConfigError("--kit", f"cannot write {args.kit}: {exc.strerror or exc}") from None
        print(f"tester kit written to {path} (test-only credentials)", file=sys.stderr)
    print(f"reference provider: issuer {settings.issuer}, API root {settings.api_root}, "
          f"versions {', '.join(settings.api_versions)}{''.join(f', {v} also at {p}' for v, p in settings.also_at)} "
          f"(token policy {settings.token_policy.value}), "
          f"database {database}, workers {args.workers}"
          + (f", FAULT {settings.fault}" if settings.fault else ""), file=sys.stderr)
    logs.install("uvicorn.access", "uvicorn.error", "reference_impl")
    from . import transport

    os.environ[transport.REQUEST_TIMEOUT_ENV] = str(args.request_timeout)  # read by the workers at import
    transport.BoundedHttpToolsProtocol.request_timeout_seconds = args.request_timeout
    common = {"host": args.host, "port": args.port, "access_log": not args.no_access_log,
              "log_level": "info", "server_header": False, **server_options(settings.fault, args.trusted_proxy)}
    if args.tls_cert:
        common.update(ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key)
    hosts = [args.host] + (["127.0.0.1"] if settings.device_url else [])
    for host in hosts:
        _check_port_free(host, args.port)
    if settings.device_url:
        print(f"devices of the simulated mobile network reach {settings.device_url}/authorize and "
              f"/ts43/entitlement (IPv4 loopback aliases)", file=sys.stderr)
    if args.workers == 1:
        target: object = app
    else:
        app.store.close()
        os.environ[SETTINGS_ENV] = settings.to_json()
        os.environ[SUPERVISOR_ENV] = str(os.getpid())  # the workers watch for this parent, not whatever they see
        target = "reference_impl.app:app_from_environment"
        common.update(factory=True, workers=args.workers)
    if len(hosts) == 1:
        uvicorn.run(target, **common)  # type: ignore[arg-type]
    else:
        _run_on_several_hosts(target, common, hosts)
    return 0


def _ipv6_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.version == 6 and address.is_loopback


def _run_on_several_hosts(target: object, common: dict[str, object], hosts: list[str]) -> None:
    """uvicorn.run binds one address; this binds each host on the same port and hands all sockets over."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    configs = [uvicorn.Config(target, **{**common, "host": host}) for host in hosts]  # type: ignore[arg-type]
    sockets = [config.bind_socket() for config in configs]
    config = configs[0]
    if config.workers > 1:
        Multiprocess(config, sockets=sockets).run()
    else:
        uvicorn.Server(config).run(sockets=sockets)


def server_options(fault: str | None, trusted_proxies: list[str]) -> dict[str, Any]:
    """uvicorn settings shared by `serve` and the embedded reference: the bounded protocol, no forwarded
    headers unless from a trusted proxy (uvicorn's default trusts them from 127.0.0.1 and ::1)."""
    from .transport import BoundedHttpToolsProtocol

    http: object = BoundedHttpToolsProtocol
    if fault:
        from .faults import get_fault

        http = getattr(get_fault(fault), "server_http", None) or BoundedHttpToolsProtocol
    options: dict[str, Any] = {"http": http, "proxy_headers": bool(trusted_proxies),
                                  "forwarded_allow_ips": list(trusted_proxies), "h11_max_incomplete_event_size": 32 * 1024}
    return options


def _check_port_free(host: str, port: int) -> None:
    """One line instead of uvicorn's traceback when the address is taken (e.g. by a server still running)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError("--port", f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
