"""Reproductions (curl, token placeholder, masked numbers, dedup) and the pacing/429 machinery."""

import json
import time

import requests

from nv_conformance.fuzz.exchange import FuzzExchange
from nv_conformance.fuzz.findings import FindingsCollector, curl_command
from nv_conformance.fuzz.pacing import Pacer, Retry429, retry_after_seconds

from .mini_provider import MiniServer, MiniState

SECRET_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


def exchange(body, token=SECRET_TOKEN, scheme="Bearer"):
    return FuzzExchange.build(
        operation_id="phoneNumberVerify", operation_method="POST", method="POST",
        url="http://127.0.0.1:1/number-verification/vwip/verify",
        request_headers={"Authorization": f"{scheme} {token}", "Content-Type": "application/json",
                         "x-correlator": "abc", "Content-Length": "10"},
        request_body=json.dumps(body), status=200,
        response_headers={"content-type": "application/json"}, response_body=b'{"devicePhoneNumberVerified": true}',
    )


def test_curl_uses_a_placeholder_and_masks_numbers():
    command = curl_command(exchange({"phoneNumber": "+447700900123"}))
    assert SECRET_TOKEN not in command and "eyJ" not in command
    assert '"Authorization: Bearer $ACCESS_TOKEN"' in command
    assert "+447700900123" not in command and "+44770090****" in command
    assert command.startswith("curl ") and "-X POST" in command and "Content-Length" not in command


def test_curl_quotes_an_authorization_scheme_that_is_not_a_plain_token():
    command = curl_command(exchange({"phoneNumber": "+447700900123"}, token="xyz", scheme="$(id)"))
    assert "-H 'Authorization: $(id) '\"$ACCESS_TOKEN\"" in command  # the scheme is quoted, only the token expands


def test_findings_are_deduplicated_keeping_the_shortest_reproduction():
    collector = FindingsCollector()
    assert collector.record("negative_data_rejected", exchange({"phoneNumber": "4477009001234"}), ["long"])
    assert not collector.record("negative_data_rejected", exchange({"phoneNumber": "44770"}), ["short"])
    assert not collector.record("negative_data_rejected", exchange({"phoneNumber": "4477009001234567"}), ["longer"])
    collector.record("negative_data_rejected", exchange({"phoneNumber": "+44770"}), [])
    collector.record("success_schema", exchange({}), None)  # not applicable: not counted
    [finding] = collector.sorted_findings()
    assert finding.occurrences == 3 and finding.problem == "short" and '"44770"' in finding.example.reproduce
    assert collector.applied[("negative_data_rejected", "phoneNumberVerify")] == 4
    assert collector.failed[("negative_data_rejected", "phoneNumberVerify")] == 3
    assert ("success_schema", "phoneNumberVerify") not in collector.applied
    assert SECRET_TOKEN not in json.dumps(finding.example.__dict__)


def test_retry_after_forms():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert 9 <= retry_after_seconds("Thu, 01 Jan 2099 00:00:10 GMT", now=4070908800.0) <= 10


def test_pacer_spaces_requests():
    pacer = Pacer(rate=20, deadline=time.monotonic() + 60)
    started = time.monotonic()
    for _ in range(6):
        pacer.wait()
    assert time.monotonic() - started >= 5 / 20 - 0.01


def test_pacer_never_sleeps_past_the_deadline():
    pacer = Pacer(rate=0.1, deadline=time.monotonic() + 0.2)
    started = time.monotonic()
    pacer.wait()
    pacer.wait()  # next slot would be 10 s away
    assert time.monotonic() - started < 0.5
    assert pacer.sleep_within_deadline(5) is False


def test_429_is_waited_out_and_retried_with_a_fresh_token():
    state = MiniState(rate_limit_first=2, retry_after="0")
    fresh = iter(["t1", "t2", "t3"])
    limited = []

    def refresh(request):
        token = next(fresh)
        state.tokens.add(token)
        request.headers["Authorization"] = f"Bearer {token}"

    with MiniServer(state) as server, requests.Session() as session:
        hook = Retry429(Pacer(None, time.monotonic() + 30), refresh_authorization=refresh, on_rate_limited=limited.append)
        state.tokens.add("t0")
        response = session.get(server.api_base_url + "/device-phone-number", headers={"Authorization": "Bearer t0"},
                               hooks={"response": [hook]})
    assert response.status_code == 200
    assert limited == [0.0, 0.0]
    assert state.used_tokens == ["t2"]  # the two 429s never reached the token check; the retry carried a new one


def test_429_beyond_the_deadline_is_returned_unretried():
    state = MiniState(rate_limit_first=5, retry_after="120")
    with MiniServer(state) as server, requests.Session() as session:
        hook = Retry429(Pacer(None, time.monotonic() + 5), refresh_authorization=lambda r: None,
                        on_rate_limited=lambda d: None)
        started = time.monotonic()
        response = session.get(server.api_base_url + "/device-phone-number", hooks={"response": [hook]})
    assert response.status_code == 429 and time.monotonic() - started < 2


def test_curl_names_the_gateway_headers_as_shell_variables_never_their_values():
    """The kit's client adds http.headers when it sends; a reproduction without them would not pass the gateway."""
    command = curl_command(exchange({"phoneNumber": "+447700900123"}), ("X-API-Key", "x-rapidapi-key"))
    assert '-H "X-API-Key: $X_API_KEY"' in command and '-H "x-rapidapi-key: $X_RAPIDAPI_KEY"' in command
    assert command.endswith("# with ACCESS_TOKEN set to a fresh access token; X_API_KEY to the value of "
                            "http.headers X-API-Key; X_RAPIDAPI_KEY to the value of http.headers x-rapidapi-key; "
                            "PHONE_NUMBER set to the number sent (masked here: +44770090****)")
    assert "+447700900123" not in command
    collector = FindingsCollector(gateway_headers=("X-API-Key",))
    collector.record("negative_data_rejected", exchange({"phoneNumber": "44770"}), ["bad"])
    [finding] = collector.sorted_findings()
    assert '"X-API-Key: $X_API_KEY"' in finding.example.reproduce
