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

from nv_conformance.errors import ConfigError

from . import logs
from .settings import SETTINGS_ENV, V2_VERSIONS, Settings
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
    parser.add_argument("--api-version", default="v2.1.0", choices=V2_VERSIONS,
                        help="behaviour behind /number-verification/v2 (default v2.1.0)")
    parser.add_argument("--public-url", default=None,
                        help="issuer / public base URL when clients reach the server under another name")
    parser.add_argument("--kit", default=None, metavar="PATH", help="write the tester kit (JSON, mode 0600) here")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--allow-non-loopback", action="store_true",
                        help="allow --host other than loopback (the demo credentials are public!)")
    parser.add_argument("--no-access-log", action="store_true", help="turn off the (redacted) access log")
    parser.add_argument("--fault", default=None, metavar="NAME",
                        help="serve a deliberately faulty variant (for the kit's self-test)")


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
    if args.workers < 1 or args.workers > 64:
        raise ConfigError("--workers", "must be between 1 and 64")
    if args.port == 0:
        from .embedded import free_port

        args.port = free_port(args.host if is_loopback and host_ip is not None else "127.0.0.1")
    if args.public_url:
        if not args.public_url.startswith(("http://", "https://")):
            raise ConfigError("--public-url", "must start with http:// or https://")
        issuer = args.public_url
    else:
        shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        shown = f"[{shown}]" if ":" in shown else shown
        issuer = f"http://{shown}:{args.port}"
    if args.fault:
        _check_fault(args.fault)
    db = args.db or os.environ.get(DB_ENV) or DEFAULT_DB
    db_url = db if db.startswith(("postgresql://", "postgres://")) else None
    if db_url is None and "://" in db:
        raise ConfigError("--db", "must be a file path or a postgresql://user@host:port/dbname URL")
    try:
        return Settings(db_path=Path(DEFAULT_DB if db_url else db), issuer=issuer,
                        api_root_prefix=args.api_root_prefix, v2_version=args.api_version, fault=args.fault,
                        db_url=db_url, keys_path=Path(args.keys) if args.keys else None)
    except ValueError as exc:
        setting = "--api-root-prefix" if "prefix" in str(exc) else "--api-version"
        raise ConfigError(setting, str(exc)) from None


def _check_fault(name: str) -> None:
    """Fail on an unknown variant name now, with one line; create_app applies the variant."""
    try:
        from .faults import get_fault
    except ImportError:
        raise ConfigError("--fault", "this build has no catalogue of faulty variants") from None
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
          f"versions {', '.join(settings.api_versions)}, database {database}, workers {args.workers}"
          + (f", FAULT {settings.fault}" if settings.fault else ""), file=sys.stderr)
    logs.install("uvicorn.access", "uvicorn.error", "reference_impl")
    common = {"host": args.host, "port": args.port, "access_log": not args.no_access_log,
              "log_level": "info", "server_header": False}
    if settings.fault:
        from .faults import get_fault

        common["http"] = getattr(get_fault(settings.fault), "server_http", None) or "auto"
    if args.workers == 1:
        uvicorn.run(app, **common)
    else:
        app.store.close()
        os.environ[SETTINGS_ENV] = settings.to_json()
        uvicorn.run("reference_impl.app:app_from_environment", factory=True, workers=args.workers, **common)
    return 0
