"""The catalogue of faulty reference variants: well-formed data, and each variant really misbehaves."""

import httpx
import pytest

from reference_impl import faults
from reference_impl.behaviour import CORRECT
from reference_impl.embedded import EmbeddedReference


def test_catalogue_is_well_formed():
    assert len(faults.FAULTS) >= 5
    for name, fault in faults.FAULTS.items():
        assert name == fault.name and fault.description
        assert fault.overrides or fault.middleware, f"{name} changes nothing"
        CORRECT.with_changes(**fault.overrides)  # every override names a real Behaviour flag
    assert set(faults.faulty_names()) | set(faults.benign_names()) == set(faults.FAULTS)


def test_unknown_fault_names_the_known_ones():
    with pytest.raises(KeyError, match="no-token-200"):
        faults.get_fault("no-such-fault")


def test_behaviour_overrides_apply():
    assert faults.behaviour_for("x-correlator-not-echoed").echo_x_correlator is False
    assert faults.behaviour_for("no-token-200") == CORRECT


@pytest.mark.slow
def test_the_variants_misbehave_over_http():
    def call(fault, method, path, **kwargs):
        with EmbeddedReference(fault=fault) as ref:
            return httpx.request(method, ref.api_root + "/number-verification/vwip" + path, **kwargs)

    no_token = call("no-token-200", "GET", "/device-phone-number", headers={"x-correlator": "abc"})
    assert no_token.status_code == 200 and no_token.headers["x-correlator"] == "abc"
    wrong_code = call("wrong-401-code", "GET", "/device-phone-number")
    assert wrong_code.status_code == 401 and wrong_code.json()["code"] == "UNAUTHORIZED"
    assert int(wrong_code.headers["content-length"]) == len(wrong_code.content)
    crash = call("malformed-json-500", "POST", "/verify", content=b"{not json",
                 headers={"content-type": "application/json", "authorization": "Bearer x"})
    assert crash.status_code == 500 and crash.json()["code"] == "INTERNAL"
    correct = call(None, "GET", "/device-phone-number")
    assert correct.status_code == 401 and correct.json()["code"] == "UNAUTHENTICATED"
