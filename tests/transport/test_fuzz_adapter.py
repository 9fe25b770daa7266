"""The requests adapter that hands schemathesis' requests to the kit's client."""

from __future__ import annotations

import time

import pytest
import requests
from tokens.servers import FakeServer, Reply, json_reply

from nv_conformance.fuzz.transport import GuardedAdapter, mount
from nv_conformance.http import GuardedClient, HttpSettings, origin_of

from .hostile import HostileServer


def session(settings: HttpSettings | None = None, **kwargs) -> requests.Session:
    return mount(requests.Session(), GuardedAdapter(GuardedClient(settings or HttpSettings()), **kwargs))


def test_answers_come_back_as_requests_responses_with_the_clients_headers() -> None:
    seen = {}

    def echo(request):
        seen.update({k.lower(): v for k, v in request.headers.items()})
        return Reply(201, body=b"data: x\n\n", headers={"content-type": "text/event-stream", "x-a": "1"})

    with FakeServer({"/e": echo}) as server:
        settings = HttpSettings(headers=(("X-API-Key", "k-0123456789"),), headers_origin=origin_of(server.url))
        response = session(settings).post(server.url + "/e", json={"a": "\x84"}, headers={"x-fuzz": "\x84"})
    assert response.status_code == 201 and response.content == b"data: x\n\n"
    assert response.raw.headers.getlist("x-a") == ["1"] and response.raw.read1(4) == b"data"
    assert seen["x-api-key"] == "k-0123456789" and seen["user-agent"].startswith("nv-conformance/")
    assert seen["accept-encoding"] == "identity"


def test_a_bound_broken_is_reported_and_raised_as_a_requests_error() -> None:
    failures = []
    with HostileServer("endless-chunked") as server, pytest.raises(requests.exceptions.RequestException):
        session(on_failure=lambda error, cut: failures.append((str(error), cut))).get(server.url + "/")
    assert len(failures) == 1 and "exceeds the 1048576-byte limit" in failures[0][0] and failures[0][1] is False


def test_the_run_deadline_cuts_a_trickling_answer_and_says_so() -> None:
    failures = []
    started = time.monotonic()
    with HostileServer("trickled-headers") as server, pytest.raises(requests.exceptions.RequestException):
        session(deadline=lambda: time.monotonic() + 0.5,
                on_failure=lambda error, cut: failures.append(cut)).get(server.url + "/")
    assert time.monotonic() - started < 3 and failures == [True]


def test_connection_refused_is_a_connection_error() -> None:
    with FakeServer({"/": lambda r: json_reply({})}) as server:
        url = server.url
    with pytest.raises(requests.exceptions.ConnectionError):
        session().get(url + "/")
