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
from nv_conformance.profiles import get_profile, reference_versions, sharing_base_path, versions_text

from . import logs
from .settings import SETTINGS_ENV, Settings, TokenPolicyMode

DEFAULT_PORT = 9091
DEFAULT_DB = "nv-reference.sqlite3"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; other than loopback needs --allow-non-loopback)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = a free one)")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLite database file (default ./{DEFAULT_DB})")
    parser.add_argument("--api-root-prefix", default="",
                        help="serve the API under this path prefix, e.g. /passthrough/camara")
    parser.add_argument("--api-version", metavar="VERSION", action="append", default=[],
                        help=f"serve VERSION at its base path, where versions share one (repeatable; versions: "
                             f"{versions_text()}; default at each base path: {', '.join(reference_versions())})")
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
    preferred = _served_versions(args.api_version)
    try:
        return Settings.serving(preferred, db_path=Path(args.db), issuer=issuer, api_root_prefix=args.api_root_prefix,
                                token_policy=TokenPolicyMode(args.token_policy), fault=args.fault)
    except ValueError as exc:
        raise ConfigError("--api-root-prefix", str(exc)) from None


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
    from .kit import build_kit, write_kit

    settings = _settings_from(args)
    try:
        app = create_app(settings)  # seeds the database and the signing key before any worker starts
    except OSError as exc:
        raise ConfigError("--db", f"cannot open {settings.db_path}: {exc.strerror or exc}") from None
    if args.kit:
        try:
            path = write_kit(build_kit(app), args.kit)
        except OSError as exc:
            raise ConfigError("--kit", f"cannot write {args.kit}: {exc.strerror or exc}") from None
        print(f"tester kit written to {path} (test-only credentials)", file=sys.stderr)
    print(f"reference provider: issuer {settings.issuer}, API root {settings.api_root}, "
          f"versions {', '.join(settings.api_versions)} (token policy {settings.token_policy.value}), "
          f"database {settings.db_path}, workers {args.workers}"
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
