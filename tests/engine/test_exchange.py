"""The conversation: lazy sending, tokens per send, tampering, reuse, redacted records."""

import base64
import json

import httpx
import pytest

from nv_conformance.bdd import actions
from nv_conformance.exchange import DefectiveDefinition, SkipScenario, scope_for, tamper_signature
from nv_conformance.redact import redact
from nv_conformance.tokens.base import TokenKind

from .conftest import BASE, SUBSCRIBER, FakeTokens, fake_jwt, make_state


def test_set_up_written_after_the_when_step_still_applies():
    state, recorder = make_state()
    actions.use_token(state, TokenKind.VALID)
    actions.request_sent(state, "phoneNumberShare")
    assert recorder.requests == []  # nothing sent yet
    actions.set_header(state, "X-Correlator", "late-value")
    actions.expect_status(state, 200)
    assert len(recorder.requests) == 1
    request = recorder.requests[0]
    assert request.headers["x-correlator"] == "late-value"
    assert str(request.url) == BASE + "/device-phone-number"
    assert request.method == "GET"
    assert request.headers["authorization"].startswith("Bearer eyJ")


def test_a_scenario_without_when_step_is_a_defective_definition():
    state, recorder = make_state()
    with pytest.raises(DefectiveDefinition, match="no When step"):
        actions.expect_status(state, 400)
    assert recorder.requests == []


def test_an_unknown_operation_is_a_defective_definition():
    state, _ = make_state()
    with pytest.raises(DefectiveDefinition, match="not in the contract"):
        actions.request_sent(state, "phoneNumberDelete")


def test_several_when_then_blocks_each_send_with_a_fresh_token():
    tokens = FakeTokens()
    state, recorder = make_state(tokens=tokens)
    actions.use_token(state, TokenKind.VALID)
    for _ in range(2):
        actions.request_sent(state, "phoneNumberShare")
        actions.expect_status(state, 200)
    assert len(recorder.requests) == 2
    assert recorder.requests[0].headers["authorization"] != recorder.requests[1].headers["authorization"]
    assert [k for k, _ in tokens.requests] == [TokenKind.VALID, TokenKind.VALID]
    assert len(state.conversation.sent) == 2


def test_resend_with_same_token_reuses_the_exact_token():
    state, recorder = make_state()
    actions.use_token(state, TokenKind.VALID)
    actions.request_sent(state, "phoneNumberShare")
    actions.expect_status(state, 200)
    actions.resend_with_same_token(state)
    actions.expect_status(state, 200)
    assert recorder.requests[0].headers["authorization"] == recorder.requests[1].headers["authorization"]


def test_other_scope_token_carries_the_other_operations_scope():
    tokens = FakeTokens()
    state, _ = make_state(tokens=tokens)
    actions.use_token(state, TokenKind.OTHER_SCOPE)
    actions.request_sent(state, "phoneNumberShare")
    actions.expect_status(state, 200)
    assert tokens.requests == [(TokenKind.OTHER_SCOPE, "number-verification:verify")]
    assert scope_for(state.session.contract, "phoneNumberVerify", TokenKind.VALID) == "number-verification:verify"


def test_an_unsupported_token_kind_skips_with_the_providers_reason():
    state, recorder = make_state(tokens=FakeTokens(supported={TokenKind.VALID}))
    actions.use_token(state, TokenKind.EXPIRED)
    actions.request_sent(state, "phoneNumberShare")
    with pytest.raises(SkipScenario, match="tokens.expired: not configured"):
        actions.expect_status(state, 401)
    assert recorder.requests == []


def test_tampered_signature_changes_only_the_signature():
    token = fake_jwt({"sub": "x"}, signature=bytes(range(32)))
    tampered = tamper_signature(token)
    head, payload, sig = token.split(".")
    t_head, t_payload, t_sig = tampered.split(".")
    assert (t_head, t_payload) == (head, payload) and t_sig != sig
    decode = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))  # noqa: E731
    assert len(decode(t_sig)) == 32 and decode(t_sig) != decode(sig)


def test_a_token_that_is_not_a_jwt_is_altered_so_it_cannot_be_valid():
    # Opaque tokens are legal: the kit must still send a token the server never issued (one character changed).
    opaque = "nvo_3kQz9XbT0aLmN7pR"
    tampered = tamper_signature(opaque)
    assert tampered != opaque and len(tampered) == len(opaque)
    assert sum(a != b for a, b in zip(tampered, opaque, strict=True)) == 1
    assert tamper_signature("a.b.!!!") != "a.b.!!!"  # three parts, but no base64url signature
    with pytest.raises(SkipScenario, match="no character"):
        tamper_signature("----")


def test_default_body_is_replaced_by_the_first_property_sentence():
    state, recorder = make_state(respond=lambda r: httpx.Response(200, json={"devicePhoneNumberVerified": True}))
    actions.body_default_compliant(state)
    actions.set_body_property_number(state, "$.hashedPhoneNumber", "subscriber", hashed=True, upper=True)
    actions.request_sent(state, "phoneNumberVerify")
    actions.expect_status(state, 200)
    body = json.loads(recorder.requests[0].content)
    assert list(body) == ["hashedPhoneNumber"]
    assert body["hashedPhoneNumber"].isupper() and len(body["hashedPhoneNumber"]) == 64


def test_default_body_is_sent_when_the_scenario_says_nothing_else():
    state, recorder = make_state(respond=lambda r: httpx.Response(200, json={"devicePhoneNumberVerified": True}))
    actions.body_default_compliant(state)
    actions.request_sent(state, "phoneNumberVerify")
    actions.expect_status(state, 200)
    assert json.loads(recorder.requests[0].content) == {"phoneNumber": SUBSCRIBER}


def test_raw_body_is_sent_byte_for_byte_and_absent_body_sends_nothing():
    state, recorder = make_state(respond=lambda r: httpx.Response(400, json={}))
    actions.body_text(state, '{"phoneNumber": ')
    actions.request_sent(state, "phoneNumberVerify")
    actions.expect_status(state, 400)
    assert recorder.requests[0].content == b'{"phoneNumber": '
    actions.body_absent(state)
    actions.request_sent(state, "phoneNumberVerify")
    actions.expect_status(state, 400)
    assert recorder.requests[1].content == b""


def test_records_are_redacted_and_reproducible_with_a_token_placeholder():
    state, recorder = make_state()
    actions.use_token(state, TokenKind.VALID)
    actions.set_header(state, "x-correlator", "abc")
    actions.request_sent(state, "phoneNumberShare")
    actions.expect_status(state, 200)
    record = state.conversation.sent[0].record
    real_token = recorder.requests[0].headers["authorization"].split(" ", 1)[1]
    dumped = json.dumps(record.__dict__)
    assert real_token not in dumped
    assert SUBSCRIBER not in dumped
    assert record.request_headers["authorization"] == "Bearer (redacted)"
    assert '-H "authorization: Bearer $ACCESS_TOKEN"' in record.reproduce
    assert "# with ACCESS_TOKEN set to valid access token" in record.reproduce
    assert redact(record.reproduce) == record.reproduce  # survives the report writers' redaction
    assert record.reproduce.startswith("curl -sS -i -X GET http://nv.test/number-verification/vwip/device-phone-number ")


def test_resource_sentence_sets_the_base_url_unless_the_config_pins_it():
    state, recorder = make_state()
    actions.use_resource(state, "/number-verification/v2")
    actions.request_sent(state, "phoneNumberShare")
    actions.expect_status(state, 200)
    assert str(recorder.requests[0].url) == "http://nv.test/number-verification/v2/device-phone-number"
    pinned, recorder2 = make_state()
    pinned.session.base_path_explicit = True
    actions.use_resource(pinned, "/number-verification/v2")
    actions.request_sent(pinned, "phoneNumberShare")
    actions.expect_status(pinned, 200)
    assert str(recorder2.requests[0].url) == BASE + "/device-phone-number"


def test_older_files_name_a_method_and_resource_instead_of_an_operation():
    state, recorder = make_state()
    with pytest.raises(DefectiveDefinition, match="without a resource path"):
        actions.request_sent_by_method(state, "GET")
    actions.set_resource_path(state, "device-phone-number")
    actions.request_sent_by_method(state, "GET")
    actions.set_header(state, "x-correlator", "set-after-when")  # older files set up after the When step
    actions.expect_status(state, 200)
    assert recorder.requests[0].headers["x-correlator"] == "set-after-when"
    with pytest.raises(DefectiveDefinition, match="no operation POST /device-phone-number"):
        actions.request_sent_by_method(state, "POST")


def test_a_default_body_is_not_sent_to_an_operation_without_request_body():
    state, recorder = make_state()
    actions.body_default_compliant(state)
    actions.request_sent(state, "phoneNumberShare")
    actions.expect_status(state, 200)
    assert recorder.requests[0].content == b""


def test_a_hostile_authorization_scheme_cannot_run_anything_in_the_reproduce_command():
    import subprocess

    from nv_conformance.exchange import curl_command

    scheme = "$(echo${IFS}PWNED)"
    command = curl_command("GET", "http://x/y", [("Authorization", f"{scheme} abc")], None, "literal value")
    shown = command.split("   #")[0].replace("curl ", "printf '%s\\n' ", 1)  # the arguments curl would get
    printed = subprocess.run(["sh", "-c", shown], capture_output=True, text=True,
                             env={"ACCESS_TOKEN": "tok"}, check=True).stdout
    assert f"Authorization: {scheme} tok" in printed.splitlines()
    assert "PWNED" not in printed.replace(scheme, "")
    plain = curl_command("GET", "http://x/y", [("Authorization", "Bearer abc")], None, "valid access token")
    assert '-H "Authorization: Bearer $ACCESS_TOKEN"' in plain


def test_reproduce_command_puts_masked_numbers_back_as_shell_variables():
    """The reviewer's copy runs as shown: numbers the report masks become $PHONE_NUMBER / $HASHED_PHONE_NUMBER."""
    import hashlib
    import subprocess

    from nv_conformance.exchange import curl_command

    number = "+447700900123"
    digest = hashlib.sha256(number.encode()).hexdigest()
    body = f'{{"phoneNumber": "{number}", "note": "it\'s"}}'.encode()
    command = curl_command("POST", "http://x/verify", [("Authorization", "Bearer abc")], body, "valid access token")
    assert number not in command and redact(command) == command
    assert "PHONE_NUMBER set to the number sent (masked here: +44770090****)" in command
    shown = command.split("   #")[0].replace("curl ", "printf '%s\\n' ", 1)
    env = {"ACCESS_TOKEN": "tok", "PHONE_NUMBER": number, "HASHED_PHONE_NUMBER": digest}
    printed = subprocess.run(["sh", "-c", shown], capture_output=True, text=True, env=env, check=True).stdout
    assert printed.splitlines()[-1] == body.decode()
    hashed = curl_command("POST", "http://x/verify", [], f'{{"hashedPhoneNumber":"{digest}"}}'.encode(), "unused")
    assert digest not in hashed and "HASHED_PHONE_NUMBER set to" in hashed and "ACCESS_TOKEN" not in hashed.split("#")[1]
    printed = subprocess.run(["sh", "-c", hashed.split("   #")[0].replace("curl ", "printf '%s\\n' ", 1)],
                             capture_output=True, text=True, env=env, check=True).stdout
    assert printed.splitlines()[-1] == f'{{"hashedPhoneNumber":"{digest}"}}'
    invalid = curl_command("POST", "http://x/verify", [], b'{"phoneNumber": "12"}', "unused")
    assert "'{\"phoneNumber\": \"12\"}'" in invalid and "#" not in invalid  # nothing masked, sent as it was


class _SameToken:
    """A TokenProvider that always gives the same valid token, as ``method``."""

    def __init__(self, method: str) -> None:
        self.method = method

    def supports(self, kind):
        return True

    def reason_unsupported(self, kind):
        return ""

    def get(self, kind, scope):
        from nv_conformance.tokens.base import IssuedToken

        return IssuedToken(access_token="the-same-token", kind=kind, scope=scope, method=self.method)


def _single_use_client():
    import httpx

    from nv_conformance.http import GuardedClient

    used: set[str] = set()

    def answer(request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "")
        if token in used:
            return httpx.Response(401, json={"status": 401, "code": "UNAUTHENTICATED", "message": "used"})
        used.add(token)
        return httpx.Response(200, json={"devicePhoneNumber": "+447700900001"})

    return GuardedClient(transport=httpx.MockTransport(answer))


@pytest.mark.parametrize("method, tester_side", [("static", True), ("command", True), ("jwt-bearer", False)])
def test_a_token_sent_again_and_refused_is_the_testers_side_only_for_the_testers_own_token_source(method, tester_side):
    """static/command hand out what the tester gave; a token endpoint that issues a used token again is the target."""
    from nv_conformance.contract import Contract
    from nv_conformance.exchange import AuthMode, AuthSpec, Conversation, SentTokens, TesterSideError
    from nv_conformance.tokens.base import TokenKind

    sent = SentTokens()
    client = _single_use_client()
    for attempt in range(2):
        conversation = Conversation(client=client, contract=Contract.for_version("vwip"), tokens=_SameToken(method),
                                    base_url="http://api.test/number-verification/vwip", sent_tokens=sent)
        conversation.request_sent("phoneNumberShare")
        conversation.draft.auth = AuthSpec(mode=AuthMode.TOKEN, kind=TokenKind.VALID)
        if attempt == 1 and tester_side:
            with pytest.raises(TesterSideError, match=f"method {method} gave the same token again"):
                conversation.response()
        else:
            assert conversation.response().result.status == (200 if attempt == 0 else 401)
