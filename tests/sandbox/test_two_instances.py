"""Two `serve` instances on one PostgreSQL database behave as one provider: every use-once rule holds
across them, because the database (not either process) decides who wins."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.reference.conftest import CIBA, JWT_BEARER, PURPOSE, VERIFY, DemoClient

from .conftest import Sandbox

VERIFY_PATH = "/number-verification/vwip/verify"  # vwip: access tokens are single-use

pytestmark = pytest.mark.slow


async def _rounds(sandbox: Sandbox, demo: DemoClient, rounds: int, count: int) -> list[list[int]]:
    """``rounds`` times: a fresh token minted by one instance, then ``count`` concurrent uses spread over both."""
    phone = sandbox.kit["subscribers"][0]["phone_number"]
    urls = [sandbox.local(sandbox.kit["api_root"], i) + VERIFY_PATH for i in (0, 1)]
    token_urls = [sandbox.local(sandbox.kit["token_endpoint"], i) for i in (0, 1)]
    subject = "operatortoken:" + sandbox.kit["subscribers"][0]["operator_token"]
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    results = []
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        for round_ in range(rounds):
            minted = await http.post(token_urls[round_ % 2], data={
                "grant_type": JWT_BEARER, "assertion": demo.sign(demo.assertion_claims(subject, f"{PURPOSE} {VERIFY}"))})
            assert minted.status_code == 200, minted.text
            headers = {"Authorization": f"Bearer {minted.json()['access_token']}"}
            calls = [http.post(urls[i % 2], json={"phoneNumber": phone}, headers=headers) for i in range(count)]
            results.append([r.status_code for r in await asyncio.gather(*calls)])
    return results


def test_fifty_concurrent_uses_of_one_token_over_both_instances_give_exactly_one_200(sandbox: Sandbox):
    demo = DemoClient(sandbox.kit)
    try:
        for round_, statuses in enumerate(asyncio.run(_rounds(sandbox, demo, 20, 50))):
            assert sorted(statuses) == [200] + [401] * 49, f"round {round_}: {statuses}"
    finally:
        demo.close()


def test_a_code_redeemed_on_one_instance_is_refused_on_the_other(sandbox: Sandbox):
    demo = DemoClient(sandbox.kit)
    subscriber = sandbox.kit["subscribers"][0]
    try:
        demo.kit = {**sandbox.kit, "authorization_endpoint": sandbox.local(sandbox.kit["authorization_endpoint"], 0)}
        code = demo.redirect_params(demo.authorize_from(subscriber["device_ip"]))["code"]
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": sandbox.kit["client"]["redirect_uri"]}
        first = demo.http.post(sandbox.local(sandbox.kit["token_endpoint"], 1), data={**form, **demo.client_assertion()})
        assert first.status_code == 200, first.text
        again = demo.http.post(sandbox.local(sandbox.kit["token_endpoint"], 0), data={**form, **demo.client_assertion()})
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    finally:
        demo.close()


def test_a_client_assertion_replayed_on_the_other_instance_is_refused(sandbox: Sandbox):
    demo = DemoClient(sandbox.kit)
    try:
        assertion = demo.sign(demo.assertion_claims(
            "operatortoken:" + sandbox.kit["subscribers"][0]["operator_token"]))
        form = {"grant_type": JWT_BEARER, "assertion": assertion}
        assert demo.http.post(sandbox.local(sandbox.kit["token_endpoint"], 0), data=form).status_code == 200
        replay = demo.http.post(sandbox.local(sandbox.kit["token_endpoint"], 1), data=form)
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant", replay.text
    finally:
        demo.close()


def test_a_ciba_request_started_on_one_instance_completes_on_the_other_once(sandbox: Sandbox):
    demo = DemoClient(sandbox.kit)
    subscriber = sandbox.kit["subscribers"][0]
    try:
        started = demo.http.post(sandbox.local(sandbox.kit["backchannel_authentication_endpoint"], 0), data={
            "scope": f"openid {PURPOSE} {VERIFY}", "login_hint": "operatortoken:" + subscriber["operator_token"],
            **demo.client_assertion(sandbox.kit["backchannel_authentication_endpoint"])})
        assert started.status_code == 200, started.text
        body = started.json()
        time.sleep(body.get("interval", 1) + 0.1)
        poll = {"grant_type": CIBA, "auth_req_id": body["auth_req_id"]}
        done = demo.http.post(sandbox.local(sandbox.kit["token_endpoint"], 1), data={**poll, **demo.client_assertion()})
        assert done.status_code == 200, done.text
        token = done.json()["access_token"]
        verified = demo.http.post(sandbox.local(sandbox.kit["api_root"], 0) + VERIFY_PATH,
                                  json={"phoneNumber": subscriber["phone_number"]},
                                  headers={"Authorization": f"Bearer {token}"})
        assert verified.status_code == 200 and verified.json() == {"devicePhoneNumberVerified": True}
        time.sleep(body.get("interval", 1) + 0.1)
        again = demo.http.post(sandbox.local(sandbox.kit["token_endpoint"], 0), data={**poll, **demo.client_assertion()})
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text
    finally:
        demo.close()
