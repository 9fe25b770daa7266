"""The authorization server over real HTTP: discovery, the three flows, client authentication, token policy."""

from __future__ import annotations

import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from reference_impl.embedded import EmbeddedReference

from .conftest import ASSERTION_TYPE, CIBA, JWT_BEARER, PURPOSE, SHARE, VERIFY, DemoClient


def api_verify(http: httpx.Client, ref, token: str, phone: str) -> httpx.Response:
    return http.post(ref.api_root + "/number-verification/vwip/verify", json={"phoneNumber": phone},
                     headers={"Authorization": f"Bearer {token}"})


def sim_subject(kit, i=0) -> str:
    return "operatortoken:" + kit["subscribers"][i]["operator_token"]


# -- discovery and token contents -------------------------------------------------------------------

def test_discovery_names_every_endpoint_and_capability(http, reference):
    doc = http.get(reference.kit["openid_configuration_url"]).json()
    kit = reference.kit
    assert doc["issuer"] == kit["issuer"]
    for name in ("authorization_endpoint", "token_endpoint", "backchannel_authentication_endpoint", "jwks_uri"):
        assert doc[name] == kit[name]
    assert set(doc["grant_types_supported"]) == {"authorization_code", JWT_BEARER, CIBA}
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"private_key_jwt", "client_secret_basic",
                                                              "client_secret_post"}
    assert doc["backchannel_token_delivery_modes_supported"] == ["poll"]


def test_access_token_claims_and_token_policy(client, reference, http):
    response = client.jwt_bearer(client.assertion_claims(sim_subject(reference.kit), f"{PURPOSE} {VERIFY}"))
    body = response.json()
    assert response.headers["cache-control"] == "no-store"
    assert body["token_type"] == "Bearer" and body["expires_in"] <= 300
    assert "refresh_token" not in body
    keys = KeySet.import_key_set(http.get(reference.kit["jwks_uri"]).json())
    token = jwt.decode(body["access_token"], keys, algorithms=["RS256"])
    claims = token.claims
    assert token.header["typ"] == "at+jwt"
    assert claims["iss"] == reference.kit["issuer"] and claims["aud"] == reference.kit["api_root"]
    assert claims["exp"] - claims["iat"] <= 300
    assert claims["scope"] == VERIFY and claims["amr"] == ["sim"] and claims["purpose"] == PURPOSE
    assert claims["sub"].startswith("sub-") and "7700" not in claims["sub"]  # pseudonymous
    assert claims["jti"]


# -- JWT-bearer -------------------------------------------------------------------------------------

@pytest.mark.parametrize("case,error", [
    ("scope form parameter", "invalid_request"),
    ("no scope claim", "invalid_grant"),
    ("unknown scope", "invalid_scope"),
    ("only purpose", "invalid_scope"),
    ("lifetime over 300 s", "invalid_grant"),
    ("expired", "invalid_grant"),
    ("iat in the future", "invalid_grant"),
    ("wrong audience", "invalid_grant"),
    ("no jti", "invalid_grant"),
    ("unknown operator token", "invalid_grant"),
    ("unknown number", "invalid_grant"),
    ("ipport subject", "invalid_grant"),
    ("foreign key", "invalid_grant"),
    ("unknown client", "invalid_client"),
    # JSON numbers that are no point in time: NaN compares False with everything, true is an int
    ("iat NaN", "invalid_grant"),
    ("exp NaN", "invalid_grant"),
    ("exp Infinity, iat NaN", "invalid_grant"),
    ("iat true", "invalid_grant"),
    ("aud an object", "invalid_grant"),
    ("aud a list of lists", "invalid_grant"),
])
def test_jwt_bearer_rejections(client, reference, case, error):
    kit = reference.kit
    now = int(time.time())
    claims = client.assertion_claims(sim_subject(kit))
    extra: dict[str, str] = {}
    key = None
    if case == "scope form parameter":
        extra["scope"] = VERIFY
    elif case == "no scope claim":
        claims.pop("scope")
    elif case == "unknown scope":
        claims["scope"] = f"{PURPOSE} {VERIFY} admin"
    elif case == "only purpose":
        claims["scope"] = PURPOSE
    elif case == "lifetime over 300 s":
        claims.update(iat=now, exp=now + 301)
    elif case == "expired":
        claims.update(iat=now - 200, exp=now - 100)
    elif case == "iat in the future":
        claims.update(iat=now + 120, exp=now + 200)
    elif case == "wrong audience":
        claims["aud"] = "https://elsewhere.example/token"
    elif case == "no jti":
        claims.pop("jti")
    elif case == "unknown operator token":
        claims["sub"] = "operatortoken:no-such-token"
    elif case == "unknown number":
        claims["sub"] = "tel:+447700900999"
    elif case == "ipport subject":
        claims["sub"] = "ipport:127.0.0.2"
    elif case == "foreign key":
        key = ECKey.generate_key("P-256", auto_kid=True)
    elif case == "unknown client":
        claims["iss"] = "someone-else"
    elif case == "iat NaN":
        claims["iat"] = float("nan")
    elif case == "exp NaN":
        claims["exp"] = float("nan")
    elif case == "exp Infinity, iat NaN":
        claims.update(exp=float("inf"), iat=float("nan"))
    elif case == "iat true":
        claims["iat"] = True
    elif case == "aud an object":
        claims["aud"] = {"token_endpoint": kit["token_endpoint"]}
    elif case == "aud a list of lists":
        claims["aud"] = [[kit["token_endpoint"]]]
    form = {"grant_type": JWT_BEARER, "assertion": client.sign(claims, key), **extra}
    response = client.http.post(kit["token_endpoint"], data=form)
    assert response.status_code in (400, 401), response.text
    assert response.json()["error"] == error
    assert "access_token" not in response.json()
    if case.startswith(("iat", "exp", "aud")):  # refused for what is wrong, not by accident further on
        assert "jti" not in response.json()["error_description"], response.text


def test_client_assertion_and_signed_ciba_request_with_malformed_claims_get_oauth_errors(client, reference):
    """A claim of the wrong JSON type is the client's mistake: an OAuth error, never a 500."""
    kit = reference.kit
    now = int(time.time())
    assertion = client.sign({"iss": client.client_id, "sub": client.client_id, "aud": {"x": kit["token_endpoint"]},
                             "iat": now, "exp": now + 60, "jti": f"ca-{now}-{id(client)}"})
    response = client.http.post(kit["token_endpoint"], data={
        "grant_type": CIBA, "auth_req_id": "x", "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client", response.text
    endpoint = kit["backchannel_authentication_endpoint"]
    base = {"iss": client.client_id, "aud": kit["issuer"], "iat": now, "nbf": now, "exp": now + 60,
            "scope": f"{PURPOSE} {VERIFY}", "login_hint": sim_subject(kit)}
    for n, change in enumerate(({"aud": [[kit["issuer"]]]}, {"nbf": float("nan")}, {"nbf": True})):
        signed = client.sign({**base, **change, "jti": f"req-{now}-{n}-{id(client)}"})
        started = client.http.post(endpoint, data={"request": signed}, auth=client.basic_auth())
        assert started.status_code == 400 and started.json()["error"] == "invalid_request", (change, started.text)


def test_jwt_bearer_assertion_jti_cannot_be_replayed(client, reference):
    claims = client.assertion_claims(sim_subject(reference.kit))
    assertion = client.sign(claims)
    form = {"grant_type": JWT_BEARER, "assertion": assertion}
    assert client.http.post(reference.kit["token_endpoint"], data=form).status_code == 200
    again = client.http.post(reference.kit["token_endpoint"], data=form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_token_endpoint_errors_are_rfc6749_json(client, reference):
    endpoint = reference.kit["token_endpoint"]
    for form, error in (({}, "invalid_request"), ({"grant_type": "password"}, "unsupported_grant_type"),
                        ({"grant_type": "refresh_token", "refresh_token": "x"}, "unsupported_grant_type"),
                        ({"grant_type": JWT_BEARER}, "invalid_request"),
                        ({"grant_type": JWT_BEARER, "assertion": "not-a-jwt"}, "invalid_grant")):
        response = client.http.post(endpoint, data=form)
        assert response.status_code == 400 and response.json()["error"] == error, (form, response.text)
    as_json = client.http.post(endpoint, json={"grant_type": JWT_BEARER})
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    huge = client.http.post(endpoint, data={"grant_type": JWT_BEARER, "assertion": "x" * 20000})
    assert huge.status_code == 400 and huge.json()["error"] == "invalid_request"


# -- authorization code (network-based, by source IP) ------------------------------------------------

def test_authorization_code_from_a_device_address_identifies_that_subscriber(client, reference, http):
    kit = reference.kit
    subscriber = kit["subscribers"][1]
    verifier, challenge = client.pkce_pair()
    redirect = client.authorize_from(subscriber["device_ip"], code_challenge=challenge, code_challenge_method="S256",
                                     state="s-123", scope=f"openid {PURPOSE} {SHARE}")
    params = client.redirect_params(redirect)
    assert params["state"] == "s-123" and params["iss"] == kit["issuer"]
    assert redirect.headers["location"].startswith(kit["client"]["redirect_uri"] + "?")
    response = client.exchange_code(params["code"], code_verifier=verifier)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "id_token" in body and "refresh_token" not in body
    share = http.get(reference.api_root + "/number-verification/v2/device-phone-number",
                     headers={"Authorization": f"Bearer {body['access_token']}"})
    assert share.json() == {"devicePhoneNumber": subscriber["phone_number"]}


def test_unknown_source_ip_gets_an_error_redirect_and_no_code(client, reference):
    redirect = client.authorize_from(reference.kit["off_network_ip"])
    params = client.redirect_params(redirect)
    assert params["error"] == "login_required"
    assert "code" not in params


def test_authorization_code_is_single_use_and_bound_to_its_redirect_uri(client, reference):
    kit = reference.kit
    ip = kit["subscribers"][0]["device_ip"]
    code = client.redirect_params(client.authorize_from(ip))["code"]
    assert client.exchange_code(code).status_code == 200
    again = client.exchange_code(code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    code = client.redirect_params(client.authorize_from(ip))["code"]
    wrong = client.exchange_code(code, redirect_uri=kit["issuer"] + "/other-callback")
    assert wrong.json()["error"] == "invalid_grant"


def test_authorization_code_needs_client_authentication_and_pkce_verifier(client, reference):
    kit = reference.kit
    ip = kit["subscribers"][0]["device_ip"]
    code = client.redirect_params(client.authorize_from(ip))["code"]
    bare = client.http.post(kit["token_endpoint"], data={"grant_type": "authorization_code", "code": code,
                                                          "redirect_uri": kit["client"]["redirect_uri"]})
    assert bare.status_code == 401 and bare.json()["error"] == "invalid_client"
    verifier, challenge = client.pkce_pair()
    code = client.redirect_params(client.authorize_from(ip, code_challenge=challenge,
                                                        code_challenge_method="S256"))["code"]
    assert client.exchange_code(code, code_verifier="wrong" * 10).json()["error"] == "invalid_grant"
    code = client.redirect_params(client.authorize_from(ip))["code"]  # no code_challenge: a verifier is a downgrade
    downgrade = client.exchange_code(code, code_verifier=verifier)
    assert downgrade.status_code == 400 and downgrade.json()["error"] == "invalid_grant", downgrade.text


@pytest.mark.parametrize("redirect_uri", [
    "https://attacker.example/cb",
    "http://127.0.0.1:5/demo-callback#frag",         # the code would end up in the fragment
    "http://127.0.0.1:5/demo-callback#",
    "http://attacker@127.0.0.1:5/demo-callback",      # only the port of a loopback URI may differ
    "http://127.0.0.1:abc/demo-callback",
    "http://127.0.0.1:99999/demo-callback",
    "http://127.0.0.1.attacker.example/demo-callback",
])
def test_authorize_refuses_unregistered_redirect_uri_without_redirecting(client, reference, redirect_uri):
    response = client.authorize_from(reference.kit["subscribers"][0]["device_ip"], redirect_uri=redirect_uri)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert "location" not in response.headers


def test_loopback_redirect_uri_matches_on_any_port(client, reference):
    for redirect_uri in ("http://127.0.0.1:5/demo-callback", "http://localhost:6/demo-callback",
                         "http://127.0.0.1/demo-callback"):
        response = client.authorize_from(reference.kit["subscribers"][0]["device_ip"], redirect_uri=redirect_uri)
        assert response.status_code == 302 and response.headers["location"].startswith(redirect_uri + "?")


def test_authorize_error_redirects_for_bad_scope_and_response_type(client, reference):
    ip = reference.kit["subscribers"][0]["device_ip"]
    assert client.redirect_params(client.authorize_from(ip, scope="openid"))["error"] == "invalid_scope"
    assert client.redirect_params(client.authorize_from(ip, response_type="token"))["error"] == \
        "unsupported_response_type"


def test_client_secret_basic_authenticates_and_a_wrong_secret_does_not(client, reference):
    kit = reference.kit
    code = client.redirect_params(client.authorize_from(kit["subscribers"][0]["device_ip"]))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": kit["client"]["redirect_uri"]}
    wrong = client.http.post(kit["token_endpoint"], data=form, auth=(client.client_id, "nope"))
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Basic")
    ok = client.http.post(kit["token_endpoint"], data=form, auth=client.basic_auth())
    assert ok.status_code == 200, ok.text


# -- CIBA -----------------------------------------------------------------------------------------------

def bc_authorize(client: DemoClient, hint: str, scope: str = VERIFY, basic: bool = False) -> httpx.Response:
    kit = client.kit
    form = {"scope": f"openid {PURPOSE} {scope}", "login_hint": hint}
    if basic:
        return client.http.post(kit["backchannel_authentication_endpoint"], data=form, auth=client.basic_auth())
    form.update(client.client_assertion(kit["backchannel_authentication_endpoint"]))
    return client.http.post(kit["backchannel_authentication_endpoint"], data=form)


def poll(client: DemoClient, auth_req_id: str) -> httpx.Response:
    return client.http.post(client.kit["token_endpoint"], data={"grant_type": CIBA, "auth_req_id": auth_req_id},
                            auth=client.basic_auth())


@pytest.fixture(scope="module")
def fast_ciba():
    """A server whose simulated network answers at once and that allows immediate polling."""
    with EmbeddedReference(ciba_interval_seconds=0) as ref:
        demo = DemoClient(ref.kit)
        yield ref, demo
        demo.close()


@pytest.mark.parametrize("hint_kind,expected_api_status", [("operatortoken", 200), ("ipport", 200), ("tel", 403)])
def test_ciba_login_hints(fast_ciba, hint_kind, expected_api_status):
    ref, demo = fast_ciba
    subscriber = ref.kit["subscribers"][0]
    hint = {"operatortoken": "operatortoken:" + subscriber["operator_token"],
            "ipport": f"ipport:{subscriber['device_ip']}:40000",
            "tel": "tel:" + subscriber["phone_number"]}[hint_kind]
    started = bc_authorize(demo, hint, basic=hint_kind == "tel")
    assert started.status_code == 200, started.text
    assert {"auth_req_id", "expires_in", "interval"} <= set(started.json())
    token = poll(demo, started.json()["auth_req_id"])
    assert token.status_code == 200, token.text
    assert "refresh_token" not in token.json()
    assert api_verify(demo.http, ref, token.json()["access_token"], subscriber["phone_number"]).status_code == \
        expected_api_status
    assert poll(demo, started.json()["auth_req_id"]).json()["error"] == "invalid_grant"  # redeemed once


def test_ciba_signed_authentication_request(fast_ciba):
    ref, demo = fast_ciba
    kit = ref.kit
    now = int(time.time())
    claims = {"iss": demo.client_id, "aud": kit["issuer"], "iat": now, "nbf": now, "exp": now + 60,
              "jti": f"req-{now}-{id(demo)}", "scope": f"openid {PURPOSE} {SHARE}",
              "login_hint": "operatortoken:" + kit["subscribers"][1]["operator_token"]}
    signed = demo.sign(claims)
    endpoint = kit["backchannel_authentication_endpoint"]
    started = demo.http.post(endpoint, data={"request": signed}, auth=demo.basic_auth())
    assert started.status_code == 200, started.text
    token = poll(demo, started.json()["auth_req_id"]).json()["access_token"]
    share = demo.http.get(ref.api_root + "/number-verification/v1/device-phone-number",
                          headers={"Authorization": f"Bearer {token}"})
    assert share.json() == {"devicePhoneNumber": kit["subscribers"][1]["phone_number"]}
    replay = demo.http.post(endpoint, data={"request": signed}, auth=demo.basic_auth())
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_request"
    claims.update(jti="other", aud="https://elsewhere.example")
    wrong_aud = demo.http.post(endpoint, data={"request": demo.sign(claims)}, auth=demo.basic_auth())
    assert wrong_aud.json()["error"] == "invalid_request"


def test_ciba_unknown_subscribers_and_bad_hints(fast_ciba):
    ref, demo = fast_ciba
    for hint, error in ((f"ipport:{ref.kit['off_network_ip']}", "unknown_user_id"),
                        ("operatortoken:nope", "unknown_user_id"),
                        ("tel:+447700900999", "unknown_user_id"),
                        ("ipport:not-an-ip", "invalid_request"),
                        ("ipport:127.0.0.2:65536", "invalid_request"),
                        ("ipport:127.0.0.2:", "invalid_request"),
                        ("ipport:127.0.0.2:\u0661", "invalid_request"),  # an Arabic-Indic digit one
                        ("ipport:[::1]:99999", "invalid_request"),
                        ("sub:someone", "invalid_request")):
        response = bc_authorize(demo, hint)
        assert response.status_code == 400 and response.json()["error"] == error, (hint, response.text)


def test_ciba_request_without_openid_scope_is_invalid_scope(fast_ciba):
    ref, demo = fast_ciba
    form = {"scope": f"{PURPOSE} {VERIFY}", "login_hint": "operatortoken:" + ref.kit["subscribers"][0]["operator_token"]}
    response = demo.http.post(ref.kit["backchannel_authentication_endpoint"], data=form, auth=demo.basic_auth())
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope", response.text
    assert "auth_req_id" not in response.json()


def test_ciba_authorization_pending_while_the_network_authenticates():
    with EmbeddedReference(ciba_interval_seconds=0, ciba_auth_delay_seconds=30) as ref:
        demo = DemoClient(ref.kit)
        started = bc_authorize(demo, "operatortoken:" + ref.kit["subscribers"][0]["operator_token"])
        answer = poll(demo, started.json()["auth_req_id"])
        assert answer.status_code == 400 and answer.json()["error"] == "authorization_pending"
        demo.close()


def test_ciba_polling_faster_than_the_interval_gets_slow_down(reference, client):
    started = bc_authorize(client, "operatortoken:" + reference.kit["subscribers"][0]["operator_token"])
    assert started.json()["interval"] >= 1
    answer = poll(client, started.json()["auth_req_id"])
    assert answer.status_code == 400 and answer.json()["error"] == "slow_down"


def test_ciba_requires_client_authentication(reference, client):
    response = client.http.post(reference.kit["backchannel_authentication_endpoint"],
                                data={"scope": VERIFY, "login_hint": "tel:+447700900001"})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


# -- TS.43 --------------------------------------------------------------------------------------------

def test_ts43_entitlement_hands_out_operator_tokens_that_work(client, reference):
    kit = reference.kit
    subscriber = kit["subscribers"][3]
    answer = client.http.post(kit["ts43_entitlement_endpoint"],
                              data={"operation": "AcquireTemporaryToken", "imsi": subscriber["imsi"]})
    assert answer.status_code == 200
    operator_token = answer.json()["TemporaryToken"]
    token = client.token("operatortoken:" + operator_token, SHARE)
    share = client.http.get(reference.api_root + "/number-verification/vwip/device-phone-number",
                            headers={"Authorization": f"Bearer {token}"})
    assert share.json() == {"devicePhoneNumber": subscriber["phone_number"]}


def test_ts43_from_a_device_address_and_refusal_for_unknown_sims(client, reference):
    kit = reference.kit
    with httpx.Client(transport=httpx.HTTPTransport(local_address=kit["subscribers"][4]["device_ip"])) as device:
        assert device.post(kit["ts43_entitlement_endpoint"], data={}).status_code == 200
    unknown = client.http.post(kit["ts43_entitlement_endpoint"], data={"imsi": "001019999999999"})
    assert unknown.status_code == 403 and "TemporaryToken" not in unknown.json()


# -- revocation --------------------------------------------------------------------------------------

def test_a_revoked_token_is_refused_by_the_api(client, reference):
    kit = reference.kit
    token = client.token()
    revoked = client.http.post(kit["revocation_endpoint"], data={"token": token, "token_type_hint": "access_token"},
                               auth=client.basic_auth())
    assert revoked.status_code == 200
    answer = api_verify(client.http, reference, token, kit["subscribers"][0]["phone_number"])
    assert answer.status_code == 401 and answer.json()["code"] == "UNAUTHENTICATED"
    assert "revoked" in answer.json()["message"]


def test_revocation_needs_client_authentication_and_ignores_unknown_tokens(client, reference):
    kit = reference.kit
    token = client.token()
    anonymous = client.http.post(kit["revocation_endpoint"], data={"token": token})
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"
    assert api_verify(client.http, reference, token, kit["subscribers"][0]["phone_number"]).status_code == 200
    garbage = client.http.post(kit["revocation_endpoint"], data={"token": "not-a-token"}, auth=client.basic_auth())
    assert garbage.status_code == 200
