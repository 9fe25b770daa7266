"""Persistent state of the reference provider in PostgreSQL, shared by several `serve` instances.

The same methods as the SQLite ``Store`` (tests/sandbox/test_store_backends.py holds
them equal), on a psycopg 3 connection pool. Every "use once" rule is one statement whose
row count says who won (a unique insert or a conditional update), so it holds across
instances, workers and restarts. The schema is created or migrated at start-up under an
advisory lock, so instances starting at once do not trip over each other.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

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

URL_SCHEMES = ("postgresql://", "postgres://")
_MIGRATION_LOCK = 0x6E76_7265  # pg_advisory_xact_lock key: "nvre"

# Each entry moves the schema one version up; never edit a released entry, append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE subscribers (
        id TEXT PRIMARY KEY, phone_number TEXT NOT NULL UNIQUE, device_ip TEXT UNIQUE, imsi TEXT UNIQUE);
    CREATE TABLE operator_tokens (
        token TEXT PRIMARY KEY, subscriber_id TEXT NOT NULL REFERENCES subscribers(id),
        expires_at DOUBLE PRECISION);
    CREATE TABLE clients (
        client_id TEXT PRIMARY KEY, client_secret TEXT, jwks TEXT NOT NULL, redirect_uris TEXT NOT NULL);
    CREATE TABLE used_access_tokens (jti TEXT PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL);
    CREATE TABLE used_assertions (
        client_id TEXT NOT NULL, jti TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (client_id, jti));
    CREATE TABLE auth_codes (
        code TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, subscriber_id TEXT NOT NULL,
        scope TEXT NOT NULL, purpose TEXT, nonce TEXT, code_challenge TEXT,
        expires_at DOUBLE PRECISION NOT NULL, used BOOLEAN NOT NULL DEFAULT FALSE);
    CREATE TABLE ciba_requests (
        auth_req_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, subscriber_id TEXT NOT NULL, scope TEXT NOT NULL,
        purpose TEXT, amr TEXT NOT NULL, ready_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
        next_poll_at DOUBLE PRECISION NOT NULL, interval INTEGER NOT NULL, done BOOLEAN NOT NULL DEFAULT FALSE);
    """,
    """
    CREATE TABLE code_tokens (code TEXT NOT NULL, jti TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL);
    CREATE INDEX code_tokens_by_code ON code_tokens (code);
    """,
)


class DatabaseError(Exception):
    """The database cannot be used; the message names the URL without its password."""


def is_postgres_url(value: str | None) -> bool:
    return bool(value) and str(value).startswith(URL_SCHEMES)


def redact_url(url: str) -> str:
    """The URL as it may be printed: a password (and any query string, which may carry one) becomes ***."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, sep, _password = userinfo.partition(":")
        netloc = f"{user}:***@{hostport}" if sep else f"{user}@{hostport}"
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


class PostgresStore(SubscriberLookups):
    """A connection pool on one PostgreSQL database; safe to share between threads."""

    PARAM = "%s"

    def __init__(self, url: str, *, max_connections: int = 8) -> None:
        super().__init__()
        self.url = url
        self.path = redact_url(url)  # what start-up messages show instead of a file name
        try:
            psycopg.connect(url, connect_timeout=10).close()  # fails at once with libpq's reason, the pool would retry
            self._pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=False,
                                        kwargs={"autocommit": True}, name="nv-reference")
            self._pool.open(wait=True, timeout=10)
        except Exception as exc:  # PoolTimeout, a malformed URL, a refused connection
            raise DatabaseError(f"cannot connect to {self.path}: {_reason(exc)}") from None
        try:
            self._migrate()
            self._seed()
        except (psycopg.Error, DatabaseError) as exc:
            self._pool.close()
            raise DatabaseError(f"cannot prepare {self.path}: {_reason(exc)}") from None
        self._async_pools: dict[asyncio.AbstractEventLoop, AsyncConnectionPool] = {}
        self._batchers: dict[asyncio.AbstractEventLoop, _ConsumeBatcher] = {}
        self._purger = _Purger(self)

    # -- plumbing -----------------------------------------------------------------------
    def _execute(self, sql: str, params: tuple = ()) -> psycopg.Cursor:
        with self._pool.connection() as conn:
            return conn.execute(sql, params)

    def _one(self, sql: str, params: tuple = ()) -> tuple | None:
        with self._pool.connection() as conn:
            return conn.execute(sql, params).fetchone()

    def _rows(self, sql: str, params: tuple = ()) -> list[Any]:
        with self._pool.connection() as conn:
            return conn.execute(sql, params).fetchall()

    def _rowcount(self, sql: str, params: tuple = ()) -> int:
        with self._pool.connection() as conn:
            return conn.execute(sql, params).rowcount

    async def _async_pool(self) -> AsyncConnectionPool:
        """The pool of the running event loop (the API's single-use inserts); opened on first use in that loop.

        One connection per batch in flight. Its sessions commit asynchronously (``synchronous_commit =
        off``): a commit is visible to every session, and so decides every later insert of the same jti,
        the moment it returns, but PostgreSQL's WAL writer flushes it to disk a fraction of a second later
        instead of the request waiting for the flush (docs/reference.md, "State", says what a crash of
        the database server may then lose). Every other statement of the store commits synchronously.
        """
        loop = asyncio.get_running_loop()
        pool = self._async_pools.get(loop)
        if pool is None:
            size = _ConsumeBatcher.MAX_IN_FLIGHT
            pool = self._async_pools[loop] = AsyncConnectionPool(
                self.url, min_size=size, max_size=size, open=False, kwargs={"autocommit": True},
                configure=_commit_asynchronously, name="nv-reference-api")
            await pool.open(wait=True, timeout=10)  # marked open before its first suspension: a concurrent
            # caller finds it usable; waiting for both connections leaves none half-made when the loop ends
        return pool

    def close(self) -> None:
        self._purger.stop()
        self._pool.close()
        pools, self._async_pools = self._async_pools, {}
        for loop, pool in pools.items():
            if not loop.is_closed():
                try:
                    asyncio.run_coroutine_threadsafe(pool.close(), loop)
                except RuntimeError:
                    pass  # the loop is shutting down: its connections go with the process

    def _migrate(self) -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS nv_schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM nv_schema_version").fetchone()
            current = row[0] if row else 0
            if current > len(MIGRATIONS):
                raise DatabaseError(f"{self.path} has schema version {current}; this build knows up to "
                                    f"{len(MIGRATIONS)}: upgrade nv-conformance")
            for script in MIGRATIONS[current:]:
                conn.execute(script)
            if row is None:
                conn.execute("INSERT INTO nv_schema_version (version) VALUES (%s)", (len(MIGRATIONS),))
            else:
                conn.execute("UPDATE nv_schema_version SET version = %s", (len(MIGRATIONS),))

    def _seed(self) -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            for sub in DEMO_SUBSCRIBERS:
                conn.execute(
                    "INSERT INTO subscribers (id, phone_number, device_ip, imsi) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT DO NOTHING",
                    ("sub-" + secrets.token_hex(12), sub.phone_number, sub.device_ip, sub.imsi),
                )
                found = conn.execute(
                    "SELECT id FROM subscribers WHERE phone_number = %s", (sub.phone_number,)).fetchone()
                if found is None:  # inserted just above, or by an instance that seeded first
                    raise DatabaseError("a demo subscriber vanished while the database was being seeded")
                (sub_id,) = found
                conn.execute(
                    "INSERT INTO operator_tokens (token, subscriber_id, expires_at) VALUES (%s, %s, NULL)"
                    " ON CONFLICT DO NOTHING",
                    (sub.operator_token, sub_id),
                )
            conn.execute(
                "INSERT INTO clients (client_id, client_secret, jwks, redirect_uris) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (client_id) DO UPDATE SET client_secret = EXCLUDED.client_secret,"
                " jwks = EXCLUDED.jwks, redirect_uris = EXCLUDED.redirect_uris",
                (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, json.dumps({"keys": [demo_client_public_jwk()]}),
                 json.dumps(list(DEMO_REDIRECT_URIS))),
            )

    # -- meta (server signing key) -----------------------------------------------------
    def get_or_create_meta(self, key: str, make_value: Any) -> str:
        """The stored value of ``key``; the first instance's ``make_value()`` wins a race."""
        row = self._one("SELECT value FROM meta WHERE key = %s", (key,))
        if row:
            return row[0]
        self._execute("INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT DO NOTHING", (key, make_value()))
        stored = self._one("SELECT value FROM meta WHERE key = %s", (key,))
        if stored is None:  # this instance's insert, or the one that won the race
            raise DatabaseError(f"meta key {key!r} vanished right after its insert")
        return str(stored[0])

    # -- operator tokens (TS.43) ----------------------------------------------------------
    def subscriber_by_operator_token(self, token: str, now: float) -> Subscriber | None:
        row = self._one(
            "SELECT subscriber_id FROM operator_tokens WHERE token = %s AND (expires_at IS NULL OR expires_at > %s)",
            (token, now),
        )
        return self.subscriber_by_id(row[0]) if row else None

    def add_operator_token(self, token: str, subscriber_id: str, expires_at: float) -> None:
        self._execute("INSERT INTO operator_tokens (token, subscriber_id, expires_at) VALUES (%s, %s, %s)",
                      (token, subscriber_id, expires_at))

    def seeded_operator_token(self, subscriber_id: str) -> str | None:
        row = self._one(
            "SELECT token FROM operator_tokens WHERE subscriber_id = %s AND expires_at IS NULL ORDER BY token LIMIT 1",
            (subscriber_id,),
        )
        return row[0] if row else None

    # -- clients ----------------------------------------------------------------------------
    def client(self, client_id: str) -> Client | None:
        row = self._one(f"SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = %s", (client_id,))
        return client_from_row(row) if row else None

    # -- use-once records -----------------------------------------------------------------
    def consume_access_token(self, jti: str, expires_at: float) -> bool:
        """True for the first use of ``jti`` on any instance ever, False afterwards."""
        return self._rowcount("INSERT INTO used_access_tokens (jti, expires_at) VALUES (%s, %s)"
                              " ON CONFLICT DO NOTHING", (jti, expires_at)) == 1

    def try_consume_access_token(self, jti: str, expires_at: float) -> bool | None:
        """Never None here: PostgreSQL has row locks, not SQLite's one write lock to wait for."""
        return self.consume_access_token(jti, expires_at)

    async def consume_access_token_async(self, jti: str, expires_at: float) -> bool:
        """consume_access_token for the API's event loop: never blocks the loop, and the uses that arrive
        while one insert is in flight go to the database together as the next single statement."""
        loop = asyncio.get_running_loop()
        batcher = self._batchers.get(loop)
        if batcher is None:
            batcher = self._batchers[loop] = _ConsumeBatcher(self._async_pool)
        return await batcher.consume(jti, expires_at)

    def consume_assertion_jti(self, client_id: str, jti: str, expires_at: float) -> bool:
        return self._rowcount("INSERT INTO used_assertions (client_id, jti, expires_at) VALUES (%s, %s, %s)"
                              " ON CONFLICT DO NOTHING", (client_id, jti, expires_at)) == 1

    def purge_expired(self, now: float) -> None:
        """Forget use-once records whose tokens have expired anyway (an expired token is refused on exp)."""
        grace = now - 3600  # an hour of slack for clock skew between instances
        with self._pool.connection() as conn:
            for table in ("used_access_tokens", "used_assertions", "auth_codes", "ciba_requests", "code_tokens"):
                conn.execute(f"DELETE FROM {table} WHERE expires_at < %s", (grace,))
            conn.execute("DELETE FROM operator_tokens WHERE expires_at IS NOT NULL AND expires_at < %s", (grace,))

    # -- authorization codes ---------------------------------------------------------------
    def record_code_token(self, code: str, jti: str, expires_at: float) -> None:
        """Remember which access token a code was exchanged for, so that a replay of the code can revoke it."""
        self._execute("INSERT INTO code_tokens (code, jti, expires_at) VALUES (%s, %s, %s)", (code, jti, expires_at))

    def revoke_tokens_of_code(self, code: str) -> int:
        """RFC 6749 4.1.2: a code used twice revokes the tokens issued from it on every instance (one
        statement: the tokens are marked used, so the API refuses them). Returns how many were revoked now."""
        return self._rowcount(
            "INSERT INTO used_access_tokens (jti, expires_at) SELECT jti, expires_at FROM code_tokens"
            " WHERE code = %s ON CONFLICT DO NOTHING", (code,))

    def add_code(self, code: str, data: AuthCode) -> None:
        self._execute(
            "INSERT INTO auth_codes (code, client_id, redirect_uri, subscriber_id, scope, purpose, nonce,"
            " code_challenge, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (code, data.client_id, data.redirect_uri, data.subscriber_id, data.scope, data.purpose, data.nonce,
             data.code_challenge, data.expires_at),
        )

    def take_code(self, code: str, single_use: bool = True) -> AuthCode | None:
        """The code's data if it exists and (when single_use) was not taken before: one conditional update."""
        if single_use:
            row = self._one(
                f"UPDATE auth_codes SET used = TRUE WHERE code = %s AND NOT used RETURNING {AUTH_CODE_COLUMNS}", (code,))
        else:
            row = self._one(f"SELECT {AUTH_CODE_COLUMNS} FROM auth_codes WHERE code = %s", (code,))
        return auth_code_from_row(row) if row else None

    # -- CIBA ---------------------------------------------------------------------------------
    def add_ciba_request(self, req: CibaRequest) -> None:
        self._execute(
            "INSERT INTO ciba_requests (auth_req_id, client_id, subscriber_id, scope, purpose, amr, ready_at,"
            " expires_at, next_poll_at, interval, done) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, FALSE)",
            (req.auth_req_id, req.client_id, req.subscriber_id, req.scope, req.purpose, req.amr, req.ready_at,
             req.expires_at, req.next_poll_at, req.interval),
        )

    def ciba_request(self, auth_req_id: str) -> CibaRequest | None:
        row = self._one(f"SELECT {CIBA_COLUMNS} FROM ciba_requests WHERE auth_req_id = %s", (auth_req_id,))
        return ciba_request_from_row(row) if row else None

    def update_ciba_poll(self, auth_req_id: str, next_poll_at: float, interval: int) -> None:
        self._execute("UPDATE ciba_requests SET next_poll_at = %s, interval = %s WHERE auth_req_id = %s",
                      (next_poll_at, interval, auth_req_id))

    def finish_ciba_request(self, auth_req_id: str) -> bool:
        """Atomically mark the request done; False when a poll on any instance already got its token."""
        return self._rowcount("UPDATE ciba_requests SET done = TRUE WHERE auth_req_id = %s AND NOT done",
                              (auth_req_id,)) == 1


class _ConsumeBatcher:
    """Single-use inserts of one event loop, one statement per batch: ``INSERT ... SELECT FROM unnest(...)
    ON CONFLICT DO NOTHING RETURNING jti``. The database still decides every jti (the returned ones were
    not used before, on any instance); a jti twice in one batch wins at most once. A use is answered only
    after its batch has committed (asynchronously: see PostgresStore._async_pool). The uses that arrive
    while a batch is in flight wait for the next one, so under load a batch carries many jtis for one
    round trip; a second batch in flight keeps the instance going while one waits (on a row lock held
    by another instance's insert of the same jti, or a slow disk)."""

    _SQL = ("INSERT INTO used_access_tokens (jti, expires_at) SELECT * FROM unnest(%s::text[], %s::float8[])"
            " ON CONFLICT DO NOTHING RETURNING jti")
    MAX_IN_FLIGHT = 2  # batches (and connections) of one event loop at once
    MAX_BATCH = 256

    def __init__(self, pool_of_loop: Any) -> None:
        self._pool_of_loop = pool_of_loop
        self._pending: list[tuple[str, float, asyncio.Future[bool]]] = []
        self._in_flight = 0

    async def consume(self, jti: str, expires_at: float) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((jti, expires_at, future))
        if self._in_flight < self.MAX_IN_FLIGHT:
            self._in_flight += 1
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:self.MAX_BATCH], self._pending[self.MAX_BATCH:]
                try:
                    pool = await self._pool_of_loop()
                    async with pool.connection() as conn:
                        cursor = await conn.execute(self._SQL, ([b[0] for b in batch], [b[1] for b in batch]))
                        winners = {row[0] for row in await cursor.fetchall()}
                except Exception as exc:  # the database is unreachable: every waiting use fails (a 500)
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for jti, _, future in batch:
                    won = jti in winners
                    winners.discard(jti)  # a second copy of the jti in this batch loses
                    if not future.done():
                        future.set_result(won)
        finally:
            self._in_flight -= 1


async def _commit_asynchronously(conn: psycopg.AsyncConnection) -> None:
    await conn.execute("SET synchronous_commit = off")


def _reason(exc: BaseException) -> str:
    """psycopg's message, first line only (libpq never puts the password in it)."""
    if isinstance(exc, DatabaseError):
        return str(exc)
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class _Purger:
    """Deletes long-expired use-once records once a minute from a background thread of each process."""

    INTERVAL_SECONDS = 60.0

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nv-reference-purger", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.INTERVAL_SECONDS):
            try:
                self._store.purge_expired(time.time())
            except Exception:  # the database is restarting or the pool is closing: try again later
                pass

    def stop(self) -> None:
        self._stopping.set()

