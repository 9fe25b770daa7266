"""The behaviour switchboard: each flag really changes what clients see (the faulty variants are built on it),
and the v2 base path switches between v2.1.0 and v2.0.0 behaviour."""

from __future__ import annotations

import hashlib

import pytest

from reference_impl.behaviour import Behaviour
from reference_impl.embedded import EmbeddedReference
from reference_impl.settings import Settings

from .conftest import PURPOSE, SHARE, VERIFY, DemoClient

VWIP = "/number-verification/vwip"


def verify(demo: DemoClient, ref: EmbeddedReference, token: str | None, body, headers=None, base=VWIP):
    hdrs = dict(headers or {})
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    return demo.http.post(ref.api_root + base + "/verify", json=body, headers=hdrs)


@pytest.fixture
def served(request):
    with EmbeddedReference(**request.param) as ref:
        demo = DemoClient(ref.kit)
        yield ref, demo
        demo.close()


def _phone(ref) -> str:
    return ref.kit["subscribers"][0]["phone_number"]


@pytest.mark.parametrize("served", [{"single_use": False}], indirect=True)
def test_single_use_off_lets_a_token_be_replayed(served):
    ref, demo = served
    token = demo.token()
    assert [verify(demo, ref, token, {"phoneNumber": _phone(ref)}).status_code for _ in range(2)] == [200, 200]


@pytest.mark.parametrize("served", [{"require_network_auth": False, "check_scope": False}], indirect=True)
def test_network_auth_and_scope_checks_off(served):
    ref, demo = served
    assert verify(demo, ref, demo.token("tel:" + _phone(ref)), {"phoneNumber": _phone(ref)}).status_code == 200
    assert verify(demo, ref, demo.token(scope=SHARE), {"phoneNumber": _phone(ref)}).status_code == 200


@pytest.mark.parametrize("served", [{"check_expiry": False, "www_authenticate_header": False}], indirect=True)
def test_expiry_check_and_www_authenticate_off(served):
    ref, demo = served
    assert verify(demo, ref, ref.kit["expired_access_token"], {"phoneNumber": _phone(ref)}).status_code == 200
    missing = verify(demo, ref, None, {"phoneNumber": _phone(ref)})
    assert missing.status_code == 401 and "www-authenticate" not in missing.headers


@pytest.mark.parametrize("served", [{"token_lifetime_seconds": 3600, "issue_refresh_tokens": True}], indirect=True)
def test_token_policy_flags(served):
    ref, demo = served
    body = demo.jwt_bearer(demo.assertion_claims("operatortoken:" + ref.kit["subscribers"][0]["operator_token"],
                                                 f"{PURPOSE} {VERIFY}")).json()
    assert body["expires_in"] == 3600 and "refresh_token" in body


def _uncapped_base(ref) -> str:
    """The base path of a served version whose profile sets no lifetime limit."""
    from nv_conformance.profiles import get_profile

    return next(path for version, path in ref.kit["base_paths"].items()
                if get_profile(version).token_policy.max_lifetime_seconds is None)


@pytest.mark.parametrize("served", [{"token_lifetime_seconds": 3600}], indirect=True)
def test_a_version_s_lifetime_limit_holds_at_the_api_and_only_there(served):
    """Tokens are not bound to a version: vwip refuses a 3600 s token, a version without a limit serves it."""
    ref, demo = served
    refused = verify(demo, ref, demo.token(), {"phoneNumber": _phone(ref)})
    assert refused.status_code == 401 and "lifetime" in refused.json()["message"]
    assert verify(demo, ref, demo.token(), {"phoneNumber": _phone(ref)}, base=_uncapped_base(ref)).status_code == 200


@pytest.mark.parametrize("served", [{"token_lifetime_seconds": 3600, "check_lifetime": False}], indirect=True)
def test_lifetime_check_off(served):
    ref, demo = served
    assert verify(demo, ref, demo.token(), {"phoneNumber": _phone(ref)}).status_code == 200


@pytest.mark.parametrize("served", [{"validate_x_correlator": False, "echo_x_correlator": False,
                                     "hashed_case_insensitive": False, "validate_body": False}], indirect=True)
def test_request_handling_flags(served):
    ref, demo = served
    bad = verify(demo, ref, demo.token(), {"phoneNumber": _phone(ref)}, {"x-correlator": "has spaces"})
    assert bad.status_code == 200 and "x-correlator" not in bad.headers
    upper = hashlib.sha256(_phone(ref).encode()).hexdigest().upper()
    assert verify(demo, ref, demo.token(), {"hashedPhoneNumber": upper}).json() == {"devicePhoneNumberVerified": False}
    assert verify(demo, ref, demo.token(), {}).status_code == 200


@pytest.mark.parametrize("served", [{"identify_by_source_ip": False, "single_use_codes": False}], indirect=True)
def test_authorization_code_flags(served):
    ref, demo = served
    params = demo.redirect_params(demo.authorize_from(ref.kit["off_network_ip"]))
    assert "code" in params  # the faulty server hands a code to an unknown connection
    assert demo.exchange_code(params["code"]).status_code == 200
    assert demo.exchange_code(params["code"]).status_code == 200


def test_unknown_behaviour_flag_is_refused():
    with pytest.raises(TypeError, match="unknown behaviour flag"):
        Behaviour().with_changes(check_scopes=False)


def test_settings_survive_the_trip_to_uvicorn_workers(tmp_path):
    settings = Settings(db_path=tmp_path / "x.db", issuer="http://127.0.0.1:1/", api_root_prefix="/p",
                        api_versions=("v1.0.0", "v2.0.0", "vwip"), token_policy="strict",
                        behaviour=Behaviour(single_use=False), fault="demo")
    again = Settings.from_json(settings.to_json())
    assert again == settings and again.issuer == "http://127.0.0.1:1"


@pytest.mark.parametrize("served", [{"versions": ["v2.0.0"], "api_root_prefix": "/passthrough/camara"}],
                         indirect=True)
def test_v2_path_with_v2_0_0_behaviour_and_a_prefix(served):
    ref, demo = served
    assert ref.kit["base_paths"]["v2.0.0"] == "/number-verification/v2"
    assert ref.api_root.endswith("/passthrough/camara")
    v2 = "/number-verification/v2"
    # v2.0.0: a correlator outside its pattern is not a 400 (Commonalities 0.5) and is not echoed
    long_one = "a" * 60
    answer = verify(demo, ref, demo.token(), {"phoneNumber": _phone(ref)}, {"x-correlator": long_one}, base=v2)
    assert answer.status_code == 200 and "x-correlator" not in answer.headers
    ok = verify(demo, ref, demo.token(), {"phoneNumber": _phone(ref)}, {"x-correlator": "abc-123"}, base=v2)
    assert ok.headers["x-correlator"] == "abc-123"
    # without the prefix there is no API
    bare = demo.http.post(ref.base_url + v2 + "/verify", json={"phoneNumber": _phone(ref)})
    assert bare.status_code == 404 and bare.json()["code"] == "NOT_FOUND"


@pytest.mark.parametrize("served", [{"ciba_interval_seconds": 0, "ciba_request_lifetime_seconds": 0}],
                         indirect=True)
def test_ciba_request_past_its_lifetime_is_expired_token(served):
    ref, demo = served
    form = {"scope": f"openid {PURPOSE} {VERIFY}",
            "login_hint": "operatortoken:" + ref.kit["subscribers"][0]["operator_token"]}
    started = demo.http.post(ref.kit["backchannel_authentication_endpoint"], data=form, auth=demo.basic_auth())
    answer = demo.http.post(ref.kit["token_endpoint"], auth=demo.basic_auth(),
                            data={"grant_type": "urn:openid:params:grant-type:ciba",
                                  "auth_req_id": started.json()["auth_req_id"]})
    assert answer.status_code == 400 and answer.json()["error"] == "expired_token"
