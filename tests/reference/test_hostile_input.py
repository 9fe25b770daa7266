"""Hostile client input at the authorization server and the API gets its RFC 6749 / CAMARA error, never a 500;
forwarded headers do not make a local process a device; forged long-lived tokens are refused."""

from __future__ import annotations

import base64
import time
import uuid

import httpx
import pytest

from reference_impl.keys import load_server_keys
from reference_impl.tokens import AMR_NETWORK, AccessTokenIssuer, TokenGrant

from .conftest import ASSERTION_TYPE, CIBA, JWT_BEARER, PURPOSE, VERIFY
from .test_oauth import api_verify

SPOOF_HEADERS = (
    {"X-Forwarded-For": "127.0.0.2"},
    {"X-Forwarded-For": "127.0.0.2, 127.0.0.1"},
    {"Forwarded": "for=127.0.0.2"},
    {"Forwarded": 'for="127.0.0.2:1234";proto=https'},
    {"X-Real-IP": "127.0.0.2", "X-Forwarded-For": "127.0.0.2", "Forwarded": "for=127.0.0.2"},
)


def unsigned_jwt(payload: str) -> str:
    """A compact JWS whose payload is the given text (signature garbage): enough to reach the JSON parser."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    return ".".join((b64(b'{"alg":"ES256","kid":"x"}'), b64(payload.encode()), b64(b"sig")))


@pytest.mark.parametrize("source", ["127.0.0.1", "127.0.0.250"])
@pytest.mark.parametrize("headers", SPOOF_HEADERS)
def test_forwarded_headers_do_not_make_a_local_process_a_device(reference, client, source, headers):
    answer = client.authorize_from(source, **{})  # baseline: no code from this address
    assert client.redirect_params(answer)["error"] == "login_required"
    query = {"response_type": "code", "client_id": client.client_id, "redirect_uri": reference.kit["client"]["redirect_uri"],
             "scope": f"openid {PURPOSE} {VERIFY}", "prompt": "none", "state": "s"}
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=10) as device:
        spoofed = device.get(reference.kit["authorization_endpoint"], params=query, headers=headers)
        params = client.redirect_params(spoofed)
        assert "code" not in params and params["error"] == "login_required"
        ts43 = device.post(reference.kit["ts43_entitlement_endpoint"], data={"operation": "AcquireTemporaryToken"},
                           headers=headers)
        assert ts43.status_code == 403 and "TemporaryToken" not in ts43.text


def test_a_forged_ten_year_token_and_a_token_from_the_future_are_refused(reference, http):
    keys = load_server_keys(reference.app.store)
    issuer = AccessTokenIssuer(keys, reference.settings.issuer, reference.settings.api_root)
    subscriber = reference.app.store.subscribers()[0]
    grant = TokenGrant(subscriber.id, "nv-demo-client", (VERIFY,), AMR_NETWORK, PURPOSE)
    ten_years, _ = issuer.mint(grant, 10 * 365 * 86400)
    answer = api_verify(http, reference, ten_years, subscriber.phone_number)
    assert answer.status_code == 401 and "lifetime" in answer.json()["message"]
    future, _ = issuer.mint(grant, 300, now=time.time() + 3600)
    answer = api_verify(http, reference, future, subscriber.phone_number)
    assert answer.status_code == 401 and "future" in answer.json()["message"]
    normal, _ = issuer.mint(grant, 300)
    assert api_verify(http, reference, normal, subscriber.phone_number).status_code == 200


def _token_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == error


def test_deeply_nested_assertions_are_oauth_errors(client, reference):
    deep = "[" * 3000 + "]" * 3000
    nested_object = '{"iss": "nv-demo-client", "x": ' + deep + "}"
    for payload in (deep, nested_object):
        answer = client.http.post(reference.kit["token_endpoint"],
                                  data={"grant_type": JWT_BEARER, "assertion": unsigned_jwt(payload)})
        assert answer.status_code in (400, 401) and answer.json()["error"] in ("invalid_grant", "invalid_client")
        answer = client.http.post(reference.kit["token_endpoint"], data={
            "grant_type": "authorization_code", "code": "x", "redirect_uri": reference.kit["client"]["redirect_uri"],
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": unsigned_jwt(payload)})
        _token_error(answer, 401, "invalid_client")
    # the API's token parser too (1,400 deep still fits the API's 4,096-character token limit)
    token = unsigned_jwt("[" * 1400 + "]" * 1400)
    assert len(token) < 4096
    answer = api_verify(client.http, reference, token, "+447700900001")
    assert answer.status_code == 401 and answer.json()["code"] == "UNAUTHENTICATED"


def test_non_ascii_basic_credentials_are_invalid_client(reference):
    with httpx.Client(timeout=10) as raw:
        answer = raw.post(reference.kit["token_endpoint"], content=b"grant_type=authorization_code&code=x",
                          headers={"Authorization": b"Basic \xff\xfe==",
                                   "Content-Type": "application/x-www-form-urlencoded"})
    _token_error(answer, 401, "invalid_client")


@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_huge_numeric_dates_are_refused(client, reference, claim):
    subject = "operatortoken:" + reference.kit["subscribers"][0]["operator_token"]
    answer = client.jwt_bearer(client.assertion_claims(subject, **{claim: 10**400}))
    _token_error(answer, 400, "invalid_grant")
    now = int(time.time())
    claims = {"iss": client.client_id, "sub": client.client_id, "aud": reference.kit["token_endpoint"],
              "iat": now, "exp": now + 60, "jti": str(uuid.uuid4()), claim: 10**400}
    answer = client.http.post(reference.kit["token_endpoint"], data={
        "grant_type": CIBA, "auth_req_id": "x", "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client.sign(claims)})
    _token_error(answer, 401, "invalid_client")


def test_an_ipport_hint_with_thousands_of_digits_is_invalid_request(client, reference):
    form = {"scope": f"openid {PURPOSE} {VERIFY}", "login_hint": "ipport:127.0.0.2:" + "9" * 5000,
            **client.client_assertion(reference.kit["backchannel_authentication_endpoint"])}
    answer = client.http.post(reference.kit["backchannel_authentication_endpoint"], data=form)
    _token_error(answer, 400, "invalid_request")


@pytest.mark.parametrize("inserted", ["\t", "\n", "\r", " ", "\x00", "\x7f"])
def test_a_redirect_uri_with_control_characters_is_refused_without_redirect(client, reference, inserted):
    registered = reference.kit["client"]["redirect_uri"]
    sneaky = registered.replace("/demo-callback", "/demo" + inserted + "-callback")
    answer = client.authorize_from("127.0.0.2", redirect_uri=sneaky)
    assert answer.status_code == 400 and "location" not in answer.headers
    assert answer.json()["error"] == "invalid_request"
    other_port = registered.replace(f":{reference.port}", ":1")  # RFC 8252: loopback, any port
    assert "code" in client.redirect_params(client.authorize_from("127.0.0.2", redirect_uri=other_port))
    upper = registered.replace("/demo-callback", "/Demo-callback")
    assert client.authorize_from("127.0.0.2", redirect_uri=upper).status_code == 400


def test_client_assertions_live_at_most_300_s_and_are_used_once(client, reference):
    now = int(time.time())
    base = {"iss": client.client_id, "sub": client.client_id, "aud": reference.kit["token_endpoint"]}

    def poll(claims: dict) -> httpx.Response:
        return client.http.post(reference.kit["token_endpoint"], data={
            "grant_type": CIBA, "auth_req_id": "unknown", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client.sign(claims)})

    old = poll({**base, "iat": now - 10 * 365 * 86400, "exp": now + 60, "jti": str(uuid.uuid4())})
    _token_error(old, 401, "invalid_client")
    assert "300" in old.json()["error_description"]
    far = poll({**base, "iat": now, "exp": now + 3600, "jti": str(uuid.uuid4())})
    _token_error(far, 401, "invalid_client")
    fine = {**base, "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
    _token_error(poll(fine), 400, "invalid_grant")  # authenticated; the auth_req_id is unknown
    replay = poll(fine)
    _token_error(replay, 401, "invalid_client")
    assert "jti" in replay.json()["error_description"]


def test_a_replayed_code_revokes_the_token_issued_from_it(client, reference):
    code = client.redirect_params(client.authorize_from("127.0.0.2"))["code"]
    first = client.exchange_code(code)
    assert first.status_code == 200
    token = first.json()["access_token"]
    _token_error(client.exchange_code(code), 400, "invalid_grant")
    answer = api_verify(client.http, reference, token, reference.kit["subscribers"][0]["phone_number"])
    assert answer.status_code == 401 and answer.json()["code"] == "UNAUTHENTICATED"
    # an unreplayed code's token is untouched
    other = client.exchange_code(client.redirect_params(client.authorize_from("127.0.0.2"))["code"])
    answer = api_verify(client.http, reference, other.json()["access_token"], reference.kit["subscribers"][0]["phone_number"])
    assert answer.status_code == 200
