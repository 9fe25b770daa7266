"""The reference's stored records and the one mapping from a table row to each, shared by both stores.

The SQLite and PostgreSQL stores differ in their connections, placeholders and use-once
statements, not in what a row means: the columns selected and the dataclass built from them
live here once, and ``SubscriberLookups`` gives both stores the same subscriber queries
(with the cache the API relies on) given one method that runs a query.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Subscriber:
    id: str               # pseudonymous subscriber id: the `sub` of access tokens
    phone_number: str
    device_ip: str | None
    imsi: str | None


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str | None
    jwks: dict[str, Any]
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class CibaRequest:
    auth_req_id: str
    client_id: str
    subscriber_id: str
    scope: str
    purpose: str | None
    amr: str
    ready_at: float
    expires_at: float
    next_poll_at: float
    interval: int
    done: bool


@dataclass(frozen=True)
class AuthCode:
    client_id: str
    redirect_uri: str
    subscriber_id: str
    scope: str
    purpose: str | None
    nonce: str | None
    code_challenge: str | None
    expires_at: float


# The columns each mapper below expects, in its order.
SUBSCRIBER_COLUMNS = "id, phone_number, device_ip, imsi"
CLIENT_COLUMNS = "client_id, client_secret, jwks, redirect_uris"
AUTH_CODE_COLUMNS = "client_id, redirect_uri, subscriber_id, scope, purpose, nonce, code_challenge, expires_at"
CIBA_COLUMNS = ("auth_req_id, client_id, subscriber_id, scope, purpose, amr, ready_at, expires_at, next_poll_at,"
                " interval, done")


def subscriber_from_row(row: Sequence[Any]) -> Subscriber:
    return Subscriber(*row)


def client_from_row(row: Sequence[Any]) -> Client:
    """jwks and redirect_uris are stored as JSON text."""
    return Client(row[0], row[1], json.loads(row[2]), tuple(json.loads(row[3])))


def auth_code_from_row(row: Sequence[Any]) -> AuthCode:
    return AuthCode(*row)


def ciba_request_from_row(row: Sequence[Any]) -> CibaRequest:
    """``done`` is an INTEGER in SQLite and a BOOLEAN in PostgreSQL: a bool either way."""
    request = CibaRequest(*row)
    return replace(request, done=bool(request.done))


class SubscriberLookups:
    """The subscriber queries of a store, written once. A store sets ``PARAM`` (its driver's
    placeholder) and implements ``_rows``; the ``subscribers`` table never changes after seeding,
    so lookups by id (the API asks on every call) are cached."""

    PARAM = "?"

    def __init__(self) -> None:
        self._subscribers_by_id: dict[str, Subscriber] = {}

    def _rows(self, sql: str, params: tuple = ()) -> list[Any]:
        raise NotImplementedError

    def _subscriber(self, where: str, value: str) -> Subscriber | None:
        rows = self._rows(f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE {where} = {self.PARAM}", (value,))
        return subscriber_from_row(rows[0]) if rows else None

    def subscriber_by_id(self, subscriber_id: str) -> Subscriber | None:
        """Cached: subscribers are seeded data and the API asks on every call."""
        found = self._subscribers_by_id.get(subscriber_id)
        if found is None:
            found = self._subscriber("id", subscriber_id)
            if found is not None:
                self._subscribers_by_id[subscriber_id] = found
        return found

    def subscriber_by_ip(self, ip: str) -> Subscriber | None:
        return self._subscriber("device_ip", ip)

    def subscriber_by_number(self, number: str) -> Subscriber | None:
        return self._subscriber("phone_number", number)

    def subscriber_by_imsi(self, imsi: str) -> Subscriber | None:
        return self._subscriber("imsi", imsi)

    def subscribers(self) -> list[Subscriber]:
        return [subscriber_from_row(r) for r in
                self._rows(f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers ORDER BY phone_number")]
