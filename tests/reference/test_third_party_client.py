"""A published third-party CAMARA Number Verification client (Nokia's ``network-as-code`` SDK from PyPI,
unchanged) against the reference: the library's own code builds and sends every API call.

The SDK calls ``{base_url}/passthrough/camara/v1/number-verification/number-verification/v2/...``, so the
reference serves its API under that root prefix. The token comes from the authorization-code flow sent
from the subscriber's device address, as an application backend would get it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from network_as_code.client import NetworkAsCodeApi
from network_as_code.errors.unauthorized_error import UnauthorizedError

from nv_conformance.profiles import get_profile
from reference_impl.embedded import EmbeddedReference

from .conftest import SHARE, VERIFY, DemoClient

SDK_PREFIX = "/passthrough/camara/v1/number-verification"


@pytest.fixture(scope="module")
def sdk_reference() -> Iterator[EmbeddedReference]:
    with EmbeddedReference(api_root_prefix=SDK_PREFIX) as ref:
        yield ref


@pytest.fixture(scope="module")
def demo(sdk_reference: EmbeddedReference) -> Iterator[DemoClient]:
    client = DemoClient(sdk_reference.kit)
    yield client
    client.close()


def code_flow_token(demo: DemoClient, kit: dict) -> str:
    """Authorization code with prompt=none from the device's address, exchanged by the backend."""
    scope = f"openid {kit['purpose']} {VERIFY} {SHARE}"
    params = demo.redirect_params(demo.authorize_from(kit["subscribers"][0]["device_ip"], scope=scope))
    answer = demo.exchange_code(params["code"])
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def sdk(ref: EmbeddedReference, token: str | None = None) -> NetworkAsCodeApi:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return NetworkAsCodeApi(base_url=ref.base_url, api_key="not-used-by-the-reference", headers=headers, timeout=10)


def bearer(token: str) -> dict:
    return {"additional_headers": {"Authorization": f"Bearer {token}"}}


def test_the_sdk_verifies_shares_and_gets_a_typed_401(sdk_reference, demo):
    kit = sdk_reference.kit
    number, other = kit["subscribers"][0]["phone_number"], kit["subscribers"][1]["phone_number"]
    api = sdk(sdk_reference).number_verification  # one token per call: valid under every token policy
    assert api.verify_v2(request={"phone_number": number},
                         request_options=bearer(code_flow_token(demo, kit))).device_phone_number_verified is True
    assert api.verify_v2(request={"phone_number": other},
                         request_options=bearer(code_flow_token(demo, kit))).device_phone_number_verified is False
    shared = api.get_device_phone_number_v2(request_options=bearer(code_flow_token(demo, kit)))
    assert shared.device_phone_number == number
    with pytest.raises(UnauthorizedError) as caught:
        api.verify_v2(request={"phone_number": number}, request_options=bearer("not-a-token"))
    assert caught.value.status_code == 401 and caught.value.body["code"] == "UNAUTHENTICATED"


def test_the_sdk_reuses_one_token_for_verify_then_share_on_v2(sdk_reference, demo):
    """How the SDK is meant to be used: one client, one token, several calls. v2.0.0/v2.1.0 allow that
    until the token expires, and the reference applies each version's own token policy."""
    served_v2 = [v for v in sdk_reference.settings.api_versions if get_profile(v).base_path.endswith("/v2")]
    assert served_v2 and not get_profile(served_v2[0]).token_policy.single_use
    kit = sdk_reference.kit
    number = kit["subscribers"][0]["phone_number"]
    api = sdk(sdk_reference, code_flow_token(demo, kit)).number_verification
    assert api.verify_v2(request={"phone_number": number}).device_phone_number_verified is True
    assert api.get_device_phone_number_v2().device_phone_number == number
