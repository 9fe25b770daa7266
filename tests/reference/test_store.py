"""The SQLite store's use-once rules without HTTP: atomic, shared between stores on one file, purged when stale."""

from __future__ import annotations

import sqlite3
import threading
import time

from reference_impl.store import Store


def test_a_jti_is_consumed_once_across_stores_on_one_file(tmp_path):
    a, b = Store(tmp_path / "db.sqlite3"), Store(tmp_path / "db.sqlite3")
    exp = time.time() + 300
    assert a.consume_access_token("j1", exp) is True
    assert b.consume_access_token("j1", exp) is False
    assert b.try_consume_access_token("j1", exp) is False
    assert b.try_consume_access_token("j2", exp) is True
    a.close()
    b.close()


def test_nonblocking_insert_reports_a_held_write_lock_instead_of_waiting(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    other = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another worker in the middle of a write
    started = time.monotonic()
    assert store.try_consume_access_token("j", time.time() + 300) is None
    assert time.monotonic() - started < 0.5
    other.execute("COMMIT")
    assert store.try_consume_access_token("j", time.time() + 300) is True
    other.close()
    store.close()


def test_many_threads_racing_for_one_jti_let_exactly_one_win(tmp_path):
    stores = [Store(tmp_path / "db.sqlite3") for _ in range(4)]
    results: list[bool] = []
    barrier = threading.Barrier(16)

    def race(store: Store) -> None:
        barrier.wait()
        results.append(store.consume_access_token("contested", time.time() + 300))

    threads = [threading.Thread(target=race, args=(stores[i % 4],)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 15 + [True]
    for store in stores:
        store.close()


def test_purge_forgets_only_long_expired_records(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    now = time.time()
    store.consume_access_token("stale", now - 7200)
    store.consume_access_token("fresh", now + 300)
    store.purge_expired(now)
    assert store.consume_access_token("stale", now - 7200) is True   # forgotten (its exp refuses it anyway)
    assert store.consume_access_token("fresh", now + 300) is False   # still remembered
    store.close()
