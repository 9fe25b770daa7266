"""Persistent state of the reference provider in SQLite.

Several uvicorn workers share one database file: WAL mode lets readers run beside the
writer, a busy timeout makes writers queue instead of failing, and every "use once"
rule (access-token jti, assertion jti, authorization code, CIBA request) is a single
atomic statement whose row count says who won. State survives restarts because it is
all in the file.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from .demo_data import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URIS,
    DEMO_SUBSCRIBERS,
    demo_client_public_jwk,
)
from .records import (
    AUTH_CODE_COLUMNS,
    CIBA_COLUMNS,
    CLIENT_COLUMNS,
    AuthCode,
    CibaRequest,
    Client,
    Subscriber,
    SubscriberLookups,
    auth_code_from_row,
    ciba_request_from_row,
    client_from_row,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subscribers (
    id TEXT PRIMARY KEY, phone_number TEXT NOT NULL UNIQUE, device_ip TEXT UNIQUE, imsi TEXT UNIQUE);
CREATE TABLE IF NOT EXISTS operator_tokens (
    token TEXT PRIMARY KEY, subscriber_id TEXT NOT NULL REFERENCES subscribers(id), expires_at REAL);
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY, client_secret TEXT, jwks TEXT NOT NULL, redirect_uris TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS used_access_tokens (jti TEXT PRIMARY KEY, expires_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS used_assertions (
    client_id TEXT NOT NULL, jti TEXT NOT NULL, expires_at REAL NOT NULL, PRIMARY KEY (client_id, jti)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS auth_codes (
    code TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, subscriber_id TEXT NOT NULL,
    scope TEXT NOT NULL, purpose TEXT, nonce TEXT, code_challenge TEXT, expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS ciba_requests (
    auth_req_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, subscriber_id TEXT NOT NULL, scope TEXT NOT NULL,
    purpose TEXT, amr TEXT NOT NULL, ready_at REAL NOT NULL, expires_at REAL NOT NULL,
    next_poll_at REAL NOT NULL, interval INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS code_tokens (code TEXT NOT NULL, jti TEXT NOT NULL, expires_at REAL NOT NULL);
"""


def restrict_to_owner(db_path: Path) -> None:
    """Create the database file 0600 and make an existing one (and its -wal/-shm) 0600.

    It holds the signing key. SQLite creates the -wal and -shm files with the database file's
    mode, so creating the file first, owner-only, covers them too.
    """
    fd = os.open(db_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = db_path.with_name(db_path.name + suffix)
        try:
            os.chmod(companion, 0o600)
        except FileNotFoundError:
            pass


class Store(SubscriberLookups):
    """One SQLite file; one connection per thread (sqlite3 connections are not shared across threads)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        restrict_to_owner(self.path)
        self._local = threading.local()
        self._all_connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._checkpointer: _Checkpointer | None = None
        conn = self._conn()
        conn.executescript(_SCHEMA)
        self._seed(conn)

    # -- plumbing -----------------------------------------------------------------------
    def _connect(self, busy_timeout_seconds: float) -> sqlite3.Connection:
        """A new connection of this thread, remembered for close()."""
        conn = sqlite3.connect(self.path, timeout=busy_timeout_seconds, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_seconds * 1000)}")
        # NORMAL in WAL mode: a committed row survives a process crash or restart
        # (only a power loss may lose the last commits), at a fraction of FULL's cost.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # see _Checkpointer
        with self._connections_lock:
            self._all_connections.append(conn)
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect(10.0)
            conn.execute("PRAGMA journal_mode = WAL")  # kept in the file: the no-wait connection never sets it
            self._ensure_checkpointer()
        return conn

    def _ensure_checkpointer(self) -> None:
        with self._connections_lock:
            if self._checkpointer is None or self._checkpointer.pid != os.getpid():
                self._checkpointer = _Checkpointer(self.path)

    def close(self) -> None:
        """Close every thread's connection (call when no request is being served any more)."""
        with self._connections_lock:
            connections, self._all_connections = self._all_connections, []
            checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.stop()
        for conn in connections:
            conn.close()
        self._local = threading.local()

    def _seed(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for sub in DEMO_SUBSCRIBERS:
                conn.execute(
                    "INSERT OR IGNORE INTO subscribers (id, phone_number, device_ip, imsi) VALUES (?, ?, ?, ?)",
                    ("sub-" + secrets.token_hex(12), sub.phone_number, sub.device_ip, sub.imsi),
                )
                (sub_id,) = conn.execute(
                    "SELECT id FROM subscribers WHERE phone_number = ?", (sub.phone_number,)
                ).fetchone()
                conn.execute(
                    "INSERT OR IGNORE INTO operator_tokens (token, subscriber_id, expires_at) VALUES (?, ?, NULL)",
                    (sub.operator_token, sub_id),
                )
            conn.execute(
                "INSERT OR REPLACE INTO clients (client_id, client_secret, jwks, redirect_uris) VALUES (?, ?, ?, ?)",
                (
                    DEMO_CLIENT_ID,
                    DEMO_CLIENT_SECRET,
                    json.dumps({"keys": [demo_client_public_jwk()]}),
                    json.dumps(list(DEMO_REDIRECT_URIS)),
                ),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- meta (server signing key) -----------------------------------------------------
    def get_or_create_meta(self, key: str, make_value: Any) -> str:
        """The stored value of ``key``; the first caller's ``make_value()`` wins a race between workers."""
        conn = self._conn()
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row:
            return row[0]
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, make_value()))
        return conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]

    def _rows(self, sql: str, params: tuple = ()) -> list[Any]:
        return self._conn().execute(sql, params).fetchall()

    # -- operator tokens (TS.43) ----------------------------------------------------------
    def subscriber_by_operator_token(self, token: str, now: float) -> Subscriber | None:
        row = self._conn().execute(
            "SELECT subscriber_id FROM operator_tokens WHERE token = ? AND (expires_at IS NULL OR expires_at > ?)",
            (token, now),
        ).fetchone()
        return self.subscriber_by_id(row[0]) if row else None

    def add_operator_token(self, token: str, subscriber_id: str, expires_at: float) -> None:
        self._conn().execute(
            "INSERT INTO operator_tokens (token, subscriber_id, expires_at) VALUES (?, ?, ?)",
            (token, subscriber_id, expires_at),
        )

    def seeded_operator_token(self, subscriber_id: str) -> str | None:
        row = self._conn().execute(
            "SELECT token FROM operator_tokens WHERE subscriber_id = ? AND expires_at IS NULL ORDER BY token LIMIT 1",
            (subscriber_id,),
        ).fetchone()
        return row[0] if row else None

    # -- clients ----------------------------------------------------------------------------
    def client(self, client_id: str) -> Client | None:
        row = self._conn().execute(f"SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = ?", (client_id,)).fetchone()
        return client_from_row(row) if row else None

    # -- use-once records -----------------------------------------------------------------
    def consume_access_token(self, jti: str, expires_at: float) -> bool:
        """True for the first use of ``jti`` ever (across workers and restarts), False afterwards."""
        conn = self._conn()
        try:
            conn.execute("INSERT INTO used_access_tokens (jti, expires_at) VALUES (?, ?)", (jti, expires_at))
        except sqlite3.IntegrityError:
            return False
        return True

    def try_consume_access_token(self, jti: str, expires_at: float) -> bool | None:
        """Like consume_access_token, but None instead of waiting when another process holds the write lock.

        The API runs on an event loop: SQLite's busy handler sleeps (1, 2, 5, ... ms) inside the call
        and would stall every request of the worker, so the API retries with ``await`` instead.
        """
        conn = getattr(self._local, "nowait", None)
        if conn is None:
            conn = self._local.nowait = self._connect(0.0)
        try:
            conn.execute("INSERT INTO used_access_tokens (jti, expires_at) VALUES (?, ?)", (jti, expires_at))
        except sqlite3.IntegrityError:
            return False
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return None
            raise
        return True

    async def consume_access_token_async(self, jti: str, expires_at: float) -> bool:
        """consume_access_token for the API's event loop.

        While another worker holds SQLite's write lock, wait with ``await`` (the event loop keeps
        serving) and only after a second fall back to the blocking insert with its busy timeout.
        """
        first_use = self.try_consume_access_token(jti, expires_at)
        delay, waited = 0.0002, 0.0
        while first_use is None and waited < 1.0:
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.005)
            first_use = self.try_consume_access_token(jti, expires_at)
        if first_use is None:
            first_use = self.consume_access_token(jti, expires_at)
        return first_use

    def consume_assertion_jti(self, client_id: str, jti: str, expires_at: float) -> bool:
        try:
            self._conn().execute(
                "INSERT INTO used_assertions (client_id, jti, expires_at) VALUES (?, ?, ?)",
                (client_id, jti, expires_at),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def purge_expired(self, now: float) -> None:
        """Forget use-once records whose tokens have expired anyway (an expired token is refused on exp)."""
        purge_expired(self._conn(), now)

    # -- authorization codes ---------------------------------------------------------------
    def add_code(self, code: str, data: AuthCode) -> None:
        self._conn().execute(
            "INSERT INTO auth_codes (code, client_id, redirect_uri, subscriber_id, scope, purpose, nonce,"
            " code_challenge, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (code, data.client_id, data.redirect_uri, data.subscriber_id, data.scope, data.purpose, data.nonce,
             data.code_challenge, data.expires_at),
        )

    def take_code(self, code: str, single_use: bool = True) -> AuthCode | None:
        """The code's data if it exists and (when single_use) was not taken before; marks it taken atomically."""
        conn = self._conn()
        if single_use:
            cursor = conn.execute("UPDATE auth_codes SET used = 1 WHERE code = ? AND used = 0", (code,))
            if cursor.rowcount != 1:
                return None
        row = conn.execute(f"SELECT {AUTH_CODE_COLUMNS} FROM auth_codes WHERE code = ?", (code,)).fetchone()
        return auth_code_from_row(row) if row else None

    def record_code_token(self, code: str, jti: str, expires_at: float) -> None:
        """Remember which access token a code was exchanged for, so that a replay of the code can revoke it."""
        self._conn().execute("INSERT INTO code_tokens (code, jti, expires_at) VALUES (?, ?, ?)", (code, jti, expires_at))

    def revoke_tokens_of_code(self, code: str) -> int:
        """RFC 6749 4.1.2: a code used twice revokes the tokens issued from it (marked used: the API refuses
        them). Returns how many were revoked now."""
        cursor = self._conn().execute(
            "INSERT OR IGNORE INTO used_access_tokens (jti, expires_at) SELECT jti, expires_at FROM code_tokens"
            " WHERE code = ?", (code,))
        return cursor.rowcount

    # -- CIBA ---------------------------------------------------------------------------------
    def add_ciba_request(self, req: CibaRequest) -> None:
        self._conn().execute(
            "INSERT INTO ciba_requests (auth_req_id, client_id, subscriber_id, scope, purpose, amr, ready_at,"
            " expires_at, next_poll_at, interval, done) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (req.auth_req_id, req.client_id, req.subscriber_id, req.scope, req.purpose, req.amr, req.ready_at,
             req.expires_at, req.next_poll_at, req.interval),
        )

    def ciba_request(self, auth_req_id: str) -> CibaRequest | None:
        row = self._conn().execute(
            f"SELECT {CIBA_COLUMNS} FROM ciba_requests WHERE auth_req_id = ?", (auth_req_id,)).fetchone()
        return ciba_request_from_row(row) if row else None

    def update_ciba_poll(self, auth_req_id: str, next_poll_at: float, interval: int) -> None:
        self._conn().execute(
            "UPDATE ciba_requests SET next_poll_at = ?, interval = ? WHERE auth_req_id = ?",
            (next_poll_at, interval, auth_req_id),
        )

    def finish_ciba_request(self, auth_req_id: str) -> bool:
        """Atomically mark the request done; False when another poll already got its token."""
        cursor = self._conn().execute(
            "UPDATE ciba_requests SET done = 1 WHERE auth_req_id = ? AND done = 0", (auth_req_id,)
        )
        return cursor.rowcount == 1


def purge_expired(conn: sqlite3.Connection, now: float) -> None:
    grace = now - 3600  # keep an hour of slack for clock skew
    conn.execute("DELETE FROM used_access_tokens WHERE expires_at < ?", (grace,))
    conn.execute("DELETE FROM used_assertions WHERE expires_at < ?", (grace,))
    conn.execute("DELETE FROM auth_codes WHERE expires_at < ?", (grace,))
    conn.execute("DELETE FROM code_tokens WHERE expires_at < ?", (grace,))
    conn.execute("DELETE FROM ciba_requests WHERE expires_at < ?", (grace,))
    conn.execute("DELETE FROM operator_tokens WHERE expires_at IS NOT NULL AND expires_at < ?", (grace,))


class _Checkpointer:
    """Moves the WAL into the database file from a background thread, every quarter second.

    SQLite's automatic checkpoint runs inside whichever commit crosses the threshold and
    fsyncs there; with several workers writing, a checkpoint that a reader holds back is
    retried commit after commit. On the API's event loop that stalled a worker for up to
    200 ms. Here the commits never checkpoint (``wal_autocheckpoint = 0``) and this thread
    does it off the request path; its sqlite calls release the GIL.
    """

    INTERVAL_SECONDS = 0.25
    PURGE_EVERY = 240  # checkpoints, i.e. about once a minute: expired use-once records are deleted here too

    def __init__(self, path: Path) -> None:
        self.pid = os.getpid()
        self._path = path
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nv-reference-checkpointer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, timeout=5.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        rounds = 0
        try:
            while not self._stopping.wait(self.INTERVAL_SECONDS):
                rounds += 1
                try:
                    if rounds % self.PURGE_EVERY == 0:
                        purge_expired(conn, time.time())
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass  # another process is checkpointing, or the file is going away: try again later
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopping.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
