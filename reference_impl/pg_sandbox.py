"""A throwaway PostgreSQL server in a temporary directory (initdb + pg_ctl), for tests and benchmarks.

    with TemporaryPostgres() as pg:
        url = pg.url          # postgresql://nv@127.0.0.1:PORT/nv, trust authentication on loopback only

The server refuses to run as root, so under root it runs as the `postgres` system user (or
`nobody`). ``find_binaries()`` says why no server can be started, for a clear skip message.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from .embedded import free_port

_SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/usr/local/bin", "/usr/bin")


def find_binaries() -> tuple[Path | None, str]:
    """The directory holding initdb, pg_ctl and postgres, or None and the reason."""
    candidates = [os.path.dirname(p) for p in (shutil.which("pg_ctl"),) if p]
    for pattern in _SEARCH:
        candidates += sorted(glob.glob(pattern), reverse=True)
    for folder in candidates:
        if all(os.access(os.path.join(folder, name), os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return Path(folder), ""
    return None, "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found; apt-get install postgresql"


def _server_user() -> str | None:
    """Who runs the server: ourselves, unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")


class TemporaryPostgres:
    def __init__(self, *, user: str = "nv", database: str = "nv", settings: dict[str, str] | None = None) -> None:
        self.user, self.database = user, database
        self.settings = {"fsync": "off", "full_page_writes": "off", "max_connections": "200", **(settings or {})}
        self.port = 0
        self._dir: Path | None = None
        self._bin: Path | None = None
        self._run_as = _server_user()

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    @property
    def pid(self) -> int | None:
        """The postmaster's process id (its children are the server's other processes), while it runs."""
        try:
            return int((self._dir / "data" / "postmaster.pid").read_text().split()[0]) if self._dir else None
        except (OSError, IndexError, ValueError):
            return None

    def _run(self, *cmd: str) -> None:
        kwargs: dict[str, Any] = {}
        if self._run_as:
            entry = pwd.getpwnam(self._run_as)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd="/", **kwargs)
        if result.returncode != 0:
            raise RuntimeError(f"{os.path.basename(cmd[0])} failed: {(result.stderr or result.stdout)[-1500:]}")

    def start(self) -> TemporaryPostgres:
        self._bin, reason = find_binaries()
        if self._bin is None:
            raise RuntimeError(reason)
        import psycopg.sql  # noqa: F401  (create_database)

        self._dir = Path(tempfile.mkdtemp(prefix="nv-postgres-"))
        data = self._dir / "data"
        if self._run_as:
            entry = pwd.getpwnam(self._run_as)
            os.chown(self._dir, entry.pw_uid, entry.pw_gid)
        self.port = free_port()
        self._run(str(self._bin / "initdb"), "-D", str(data), "-U", self.user, "--auth=trust",
                  "--encoding=UTF8", "--no-sync")
        options = " ".join([f"-c listen_addresses=127.0.0.1 -c port={self.port}",
                            f"-c unix_socket_directories={self._dir}"]
                           + [f"-c {k}={v}" for k, v in self.settings.items()])
        self._run(str(self._bin / "pg_ctl"), "-D", str(data), "-l", str(self._dir / "server.log"), "-w",
                  "-t", "60", "-o", options, "start")
        self.create_database(self.database)
        return self

    def create_database(self, name: str) -> str:
        """A new empty database on this server (one per test that needs a clean slate); its URL."""
        import psycopg

        with psycopg.connect(f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self._dir is None:
            return
        try:
            if self._bin is not None:
                self._run(str(self._bin / "pg_ctl"), "-D", str(self._dir / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> TemporaryPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
