"""The catalogue of provider variants: big enough, well-formed, and each middleware does what it claims on the wire."""

from __future__ import annotations

import hashlib
import re
import time
import uuid

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from reference_impl.behaviour import CORRECT
from reference_impl.embedded import EmbeddedReference
from reference_impl.faults import FAULTS, OPAQUE_PREFIX, behaviour_for, benign_names, faulty_names, get_fault

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SHARE = "number-verification:device-phone-number:read"
VERIFY = "number-verification:verify"


def test_catalogue_is_big_enough_and_well_formed():
    assert len(faulty_names()) >= 25 and len(benign_names()) >= 5
    assert {"malformed-json-500", "number-without-plus-200", "x-correlator-not-echoed", "wrong-401-code",
            "no-token-200"} <= set(faulty_names())  # used by the fuzz helper's tests
    for name, fault in FAULTS.items():
        assert name == fault.name and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", fault.name)
        assert fault.description and (fault.overrides or fault.middleware), fault.name
        behaviour_for(fault.name)  # flag names exist (a typo raises TypeError)
    assert set(faulty_names()) | set(benign_names()) == set(FAULTS)
    assert not set(faulty_names()) & set(benign_names())
    with pytest.raises(KeyError, match="unknown fault 'no-such-variant'; known: .*no-token-200"):
        get_fault("no-such-variant")


def test_behaviour_overrides_apply():
    assert behaviour_for("x-correlator-not-echoed").echo_x_correlator is False
    assert behaviour_for("no-token-200") == CORRECT


def _token(ref: EmbeddedReference, client: httpx.Client, scope: str) -> dict:
    kit = ref.kit
    key = ECKey.import_key(kit["client"]["private_key_jwk"])
    now = int(time.time())
    claims = {"iss": kit["client"]["client_id"], "sub": "operatortoken:" + kit["subscribers"][0]["operator_token"],
              "aud": kit["token_endpoint"], "iat": now, "exp": now + 60, "jti": str(uuid.uuid4()),
              "scope": f"{kit['purpose']} {scope}"}
    assertion = jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)
    response = client.post(kit["token_endpoint"], data={"grant_type": JWT_BEARER, "assertion": assertion})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.slow
def test_opaque_tokens_are_not_jwts_and_still_work_once():
    with EmbeddedReference(fault="opaque-access-tokens") as ref, httpx.Client(timeout=10) as client:
        issued = _token(ref, client, SHARE)
        token = issued["access_token"]
        assert token.startswith(OPAQUE_PREFIX) and token.count(".") == 0
        url = ref.api_root + "/number-verification/vwip/device-phone-number"
        first = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert first.status_code == 200 and first.json()["devicePhoneNumber"] == ref.kit["subscribers"][0]["phone_number"]
        again = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert again.status_code == 401  # still single-use behind the opaque handle
        other = _token(ref, client, SHARE)["access_token"]
        middle = len(other) // 2
        altered = other[:middle] + ("A" if other[middle] != "A" else "B") + other[middle + 1:]
        refused = client.get(url, headers={"Authorization": f"Bearer {altered}"})
        assert refused.status_code == 401 and refused.json()["code"] == "UNAUTHENTICATED"


@pytest.mark.slow
def test_wire_shape_variants_change_only_what_they_claim():
    with EmbeddedReference(fault="header-names-case") as ref, httpx.Client(timeout=10) as client:
        response = client.get(ref.api_root + "/number-verification/vwip/device-phone-number",
                              headers={"x-correlator": "abc-1"})
        assert response.status_code == 401 and response.headers["x-correlator"] == "abc-1"
        assert "X-Correlator" in [k.decode() for k, _ in response.headers.raw]
    with EmbeddedReference(fault="html-error-pages") as ref, httpx.Client(timeout=10) as client:
        response = client.get(ref.api_root + "/number-verification/vwip/device-phone-number")
        assert response.status_code == 401 and response.headers["content-type"].startswith("text/html")
        assert int(response.headers["content-length"]) == len(response.content)
    with EmbeddedReference(fault="hash-without-plus") as ref, httpx.Client(timeout=10) as client:
        number = ref.kit["subscribers"][0]["phone_number"]
        url = ref.api_root + "/number-verification/vwip/verify"

        def verified(hashed: str) -> bool:
            token = _token(ref, client, VERIFY)["access_token"]
            response = client.post(url, json={"hashedPhoneNumber": hashed}, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
            return response.json()["devicePhoneNumberVerified"]

        assert verified(hashlib.sha256(number.encode()).hexdigest()) is False           # the right hash fails
        assert verified(hashlib.sha256(number[1:].encode()).hexdigest()) is True        # the wrong one matches


@pytest.mark.slow
def test_request_and_error_variants_misbehave_over_http():
    def call(fault, method, path, **kwargs):
        with EmbeddedReference(fault=fault) as ref:
            return httpx.request(method, ref.api_root + "/number-verification/vwip" + path, **kwargs)

    no_token = call("no-token-200", "GET", "/device-phone-number", headers={"x-correlator": "abc"})
    assert no_token.status_code == 200 and no_token.headers["x-correlator"] == "abc"
    wrong_code = call("wrong-401-code", "GET", "/device-phone-number")
    assert wrong_code.status_code == 401 and wrong_code.json()["code"] == "UNAUTHORIZED"
    assert int(wrong_code.headers["content-length"]) == len(wrong_code.content)
    assert wrong_code.headers["www-authenticate"].startswith("Bearer")
    crash = call("malformed-json-500", "POST", "/verify", content=b"{not json",
                 headers={"content-type": "application/json", "authorization": "Bearer x"})
    assert crash.status_code == 500 and crash.json()["code"] == "INTERNAL"
    correct = call(None, "GET", "/device-phone-number")
    assert correct.status_code == 401 and correct.json()["code"] == "UNAUTHENTICATED"
    with EmbeddedReference(fault="number-without-plus-200") as ref, httpx.Client(timeout=10) as client:
        number = ref.kit["subscribers"][0]["phone_number"]
        url = ref.api_root + "/number-verification/vwip/verify"
        for sent, expected in ((number[1:], 200), (number, 200), ("0" + number[1:], 400)):
            token = _token(ref, client, VERIFY)["access_token"]
            response = client.post(url, json={"phoneNumber": sent}, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == expected, (sent, response.text)
            if expected == 200:
                assert response.json() == {"devicePhoneNumberVerified": True}


def test_the_versions_a_variant_applies_to_come_from_the_profiles():
    from nv_conformance.profiles import get_profile, versions
    from nv_conformance.selftest.runner import catalogue

    by_name = {v.name: v for v in catalogue()}
    single_use = tuple(v for v in versions() if get_profile(v).token_policy.single_use)
    assert by_name["tokens-reusable"].applies_in == single_use and single_use
    x_correlator = tuple(v for v in versions() if get_profile(v).invalid_x_correlator_is_400)
    assert by_name["invalid-x-correlator-accepted"].applies_in == x_correlator
    # a contract rule: the versions whose contract no longer allows the older 401 code
    assert by_name["authentication-required-code"].applies_in == x_correlator  # the same versions, by the contracts
    assert by_name["wrong-401-code"].applies_in is None  # every version has this rule
    with pytest.raises(ValueError, match="unknown profile rule"):
        type(FAULTS["tokens-reusable"])("x", "y", breaks="no_such_rule")


@pytest.mark.slow
def test_a_variant_breaking_only_a_rule_a_version_lacks_passes_that_version():
    """A provider whose tokens live an hour breaks vwip's lifetime limit; a version that sets no limit must
    not hold it to vwip's (no failure), and the variant is caught where the limit is the version's."""
    from nv_conformance.profiles import get_profile, versions
    from nv_conformance.results import Outcome
    from nv_conformance.selftest.worker import run_variant

    fault = get_fault("long-lived-tokens")
    unlimited = next(v for v in versions() if get_profile(v).token_policy.max_lifetime_seconds is None
                     and get_profile(v).reference_default)
    assert not fault.applies_to(unlimited)
    run = run_variant(fault.name, api_version=unlimited)
    assert not run.error and run.scenarios
    assert run.with_outcome(Outcome.FAILED) == [], [s.reason for s in run.scenarios if s.outcome is Outcome.FAILED]
    limited = next(v for v in versions() if fault.applies_to(v))
    caught = run_variant(fault.name, api_version=limited)
    assert set(caught.with_outcome(Outcome.FAILED)) >= {"nv_token_03_lifetime_verify", "nv_token_04_lifetime_share"}


def test_the_readme_and_docs_tables_list_every_variant_and_the_catalogue_counts() -> None:
    """The score a reader sees is the catalogue's: every variant has its row, the counts are its own."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    listed = {name for name, kind in re.findall(r"^\| `([a-z0-9-]+)` \| (faulty|benign|control) \|", readme, re.M)}
    assert set(FAULTS) <= listed, sorted(set(FAULTS) - listed)
    faulty, benign = len(faulty_names()), len(benign_names())
    assert f"{faulty}/{faulty} faulty variants caught" in readme
    assert f"{benign}/{benign} benign variants" in readme
