"""Request body strictness and length limits at the reference: from the contract and profile, with their variants."""

from __future__ import annotations

import hashlib

import pytest

from reference_impl.embedded import EmbeddedReference
from reference_impl.faults import get_fault

from .conftest import VERIFY, DemoClient

NUMBER = "+447700900001"  # the demo kit's first subscriber
PATHS = {"v2.1.1": "/number-verification/v2", "vwip": "/number-verification/vwip"}


def _verify(reference: EmbeddedReference, version: str, body: dict):
    client = DemoClient(reference.kit)
    try:
        token = client.token(scope=VERIFY)
        return client.http.post(reference.api_root + PATHS[version] + "/verify", json=body,
                                headers={"Authorization": f"Bearer {token}"})
    finally:
        client.close()


@pytest.fixture(scope="module")
def strict_reference():
    with EmbeddedReference(versions=["v2.1.1"]) as reference:
        yield reference


@pytest.mark.parametrize("version", sorted(PATHS))
@pytest.mark.parametrize("body", [
    {"phoneNumber": NUMBER, "consentReference": "c-1"},
    {"hashedPhoneNumber": hashlib.sha256(NUMBER.encode()).hexdigest(), "consentReference": "c-1"},
    {"phoneNumber": "+" + "4" * 16},
])
def test_undeclared_properties_and_over_long_numbers_get_400(strict_reference, version, body):
    response = _verify(strict_reference, version, body)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_ARGUMENT"


def test_the_message_names_the_undeclared_property(strict_reference):
    response = _verify(strict_reference, "v2.1.1", {"phoneNumber": NUMBER, "consentReference": "c-1"})
    assert "$.consentReference" in response.json()["message"]
    assert _verify(strict_reference, "v2.1.1", {"phoneNumber": NUMBER}).json() == {"devicePhoneNumberVerified": True}


def test_the_variants_break_the_rule_only_where_the_version_has_it():
    assert get_fault("unknown-property-accepted").versions() == ("v2.1.1", "vwip")
    assert get_fault("phone-number-over-16-accepted").versions() == ("v2.1.1", "vwip")
    assert get_fault("unknown-property-other-wording").benign


def test_unknown_property_accepted_answers_200():
    with EmbeddedReference(versions=["v2.1.1"], fault="unknown-property-accepted") as reference:
        assert _verify(reference, "v2.1.1", {"phoneNumber": NUMBER, "x": 1}).status_code == 200
        assert _verify(reference, "vwip", {"x": 1}).status_code == 400  # alone it still leaves nothing to verify


def test_over_16_accepted_answers_200():
    with EmbeddedReference(versions=["v2.1.1"], fault="phone-number-over-16-accepted") as reference:
        response = _verify(reference, "v2.1.1", {"phoneNumber": "+" + "4" * 16})
        assert response.status_code == 200 and response.json() == {"devicePhoneNumberVerified": False}


def test_other_wording_keeps_status_and_code():
    with EmbeddedReference(versions=["v2.1.1"], fault="unknown-property-other-wording") as reference:
        error = _verify(reference, "v2.1.1", {"phoneNumber": NUMBER, "x": 1}).json()
        assert error["status"] == 400 and error["code"] == "INVALID_ARGUMENT"
        assert error["message"] == "Unrecognized field 'x'"
        other = _verify(reference, "v2.1.1", {}).json()
        assert "Unrecognized" not in other["message"]
