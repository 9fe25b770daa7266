"""The PostgreSQL store is the SQLite store's twin: same methods, same answers, atomic use-once rules."""

from __future__ import annotations

import inspect
import json
import stat
import threading

import psycopg
import pytest

from reference_impl.keys import KeyFileError, load_server_keys
from reference_impl.records import AuthCode
from reference_impl.store import Store
from reference_impl.store_postgres import MIGRATIONS, DatabaseError, PostgresStore, redact_url
from reference_impl.stores import StateStore


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")}


def test_both_backends_offer_the_same_methods_with_the_same_signatures():
    sqlite, postgres = _public_methods(Store), _public_methods(PostgresStore)
    assert sorted(sqlite) == sorted(postgres), "a store method exists in one backend only"
    for name, signature in sqlite.items():
        assert list(signature.parameters) == list(postgres[name].parameters), name
    protocol = {name for name in vars(StateStore) if not name.startswith("_")}
    assert protocol == set(sqlite), "reference_impl/stores.py:StateStore lists every store method"


def test_redacted_urls_never_show_a_password():
    assert redact_url("postgresql://nv:s3cret@db.example:5432/nv") == "postgresql://nv:***@db.example:5432/nv"
    assert redact_url("postgresql://nv@127.0.0.1:5432/nv") == "postgresql://nv@127.0.0.1:5432/nv"
    assert "s3cret" not in redact_url("postgresql://db.example/nv?password=s3cret")


def test_an_unreachable_database_is_one_clear_error_without_the_password():
    with pytest.raises(DatabaseError) as caught:
        PostgresStore("postgresql://nv:s3cret@127.0.0.1:1/nv")
    assert "cannot connect to postgresql://nv:***@127.0.0.1:1/nv" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_a_jti_is_consumed_once_across_stores_and_threads(database):
    stores = [PostgresStore(database) for _ in range(2)]
    wins: list[bool] = []
    try:
        threads = [threading.Thread(target=lambda s=s: wins.append(s.consume_access_token("jti-1", 1e10)))
                   for s in stores * 8]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(wins) == [False] * 15 + [True]
        assert stores[0].consume_assertion_jti("c", "j", 1e10) and not stores[1].consume_assertion_jti("c", "j", 1e10)
        code = AuthCode("c", "https://r", stores[0].subscribers()[0].id, "openid", None, None, None, 1e10)
        stores[0].add_code("code-1", code)
        assert stores[1].take_code("code-1") == code and stores[0].take_code("code-1") is None
    finally:
        for s in stores:
            s.close()


def test_start_up_migrates_once_and_refuses_a_newer_schema(database):
    PostgresStore(database).close()
    PostgresStore(database).close()  # a second start-up finds everything in place
    with psycopg.connect(database, autocommit=True) as conn:
        assert conn.execute("SELECT version FROM nv_schema_version").fetchall() == [(len(MIGRATIONS),)]
        conn.execute("UPDATE nv_schema_version SET version = version + 1")
    with pytest.raises(DatabaseError, match="schema version .* upgrade nv-conformance"):
        PostgresStore(database)


def test_a_key_file_is_created_0600_shared_and_kept_out_of_the_database(database, tmp_path):
    path = tmp_path / "keys" / "signing.jwk"
    store = PostgresStore(database)
    try:
        first = load_server_keys(store, path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert load_server_keys(store, path).kid == first.kid
        assert store.get_or_create_meta("signing_key_rs256", lambda: "none") == "none"  # nothing stored
    finally:
        store.close()
    path.write_text(json.dumps(first.public.as_dict(private=False)))
    with pytest.raises(KeyFileError, match="not a private RSA JWK"):
        load_server_keys(None, path)


def test_the_apis_batched_insert_lets_each_jti_win_once_even_within_one_batch(database):
    import asyncio

    stores = [PostgresStore(database) for _ in range(2)]

    async def uses() -> list[bool]:
        return await asyncio.gather(*(stores[i % 2].consume_access_token_async(f"jti-{i % 10}", 1e10)
                                      for i in range(200)))

    try:
        first = asyncio.run(uses())
        assert sum(first) == 10 and {f"jti-{i % 10}" for i, won in enumerate(first) if won} == {
            f"jti-{n}" for n in range(10)}
        assert not any(asyncio.run(uses()))
        assert not stores[0].consume_access_token("jti-3", 1e10)  # the sync path sees the same record
    finally:
        for s in stores:
            s.close()


def test_only_the_apis_single_use_inserts_commit_asynchronously(database):
    """docs/reference.md states the trade-off: the API's jti inserts do not wait for the WAL flush; codes,
    CIBA requests, assertion jtis and everything else still do."""
    import asyncio

    store = PostgresStore(database)

    async def api_session_setting() -> str:
        assert await store.consume_access_token_async("jti-async", 1e10)
        async with (await store._async_pool()).connection() as conn:
            row = await (await conn.execute("SHOW synchronous_commit")).fetchone()
        return str(row[0])

    try:
        assert asyncio.run(api_session_setting()) == "off"
        assert store._one("SHOW synchronous_commit") == ("on",)
        assert not store.consume_access_token("jti-async", 1e10)  # visible to the synchronous sessions at once
    finally:
        store.close()
