"""The NV API over real HTTP: answers, every error path, and the contract's shapes on every response."""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from nv_conformance.contract import Contract
from nv_conformance.profiles import get_profile
from reference_impl.embedded import EmbeddedReference

from .conftest import SHARE, VERIFY, DemoClient

VERSIONS = {"v1.0.0": "/number-verification/v1", "v2.1.0": "/number-verification/v2",
            "vwip": "/number-verification/vwip"}
OP_FOR_PATH = {"/verify": "phoneNumberVerify", "/device-phone-number": "phoneNumberShare"}


def check_shape(version: str, path: str, response: httpx.Response) -> None:
    """Every answer has the shape the version's contract documents for its status."""
    assert response.headers["content-type"].startswith("application/json")
    validator = Contract.for_version(version).response_validator(OP_FOR_PATH[path], response.status_code)
    assert validator is not None, f"{response.status_code} is not documented for {path}"
    errors = [e.message for e in validator.iter_errors(response.json())]
    assert not errors, errors


def call(client: DemoClient, ref, version: str, path: str, *, token: str | None = "fresh", body=None,
         content: bytes | None = None, headers: dict | None = None, scope: str | None = None) -> httpx.Response:
    url = ref.api_root + VERSIONS[version] + path
    hdrs = dict(headers or {})
    if token == "fresh":
        token = client.token(scope=scope or (VERIFY if path == "/verify" else SHARE))
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    if path == "/verify":
        if content is not None:
            hdrs.setdefault("content-type", "application/json")
            return client.http.post(url, content=content, headers=hdrs)
        return client.http.post(url, json=body, headers=hdrs)
    return client.http.get(url, headers=hdrs)


@pytest.fixture(params=list(VERSIONS))
def version(request) -> str:
    return request.param


def number(kit, i=0) -> str:
    return kit["subscribers"][i]["phone_number"]


# -- success ------------------------------------------------------------------------------------

def test_verify_true_false_and_hashed(client, reference, version):
    kit = reference.kit
    for body, expected in [
        ({"phoneNumber": number(kit)}, True),
        ({"phoneNumber": number(kit, 1)}, False),
        ({"hashedPhoneNumber": hashlib.sha256(number(kit).encode()).hexdigest()}, True),
        ({"hashedPhoneNumber": hashlib.sha256(number(kit).encode()).hexdigest().upper()}, True),
        ({"hashedPhoneNumber": hashlib.sha256(number(kit, 1).encode()).hexdigest()}, False),
    ]:
        response = call(client, reference, version, "/verify", body=body)
        assert response.status_code == 200, response.text
        assert response.json() == {"devicePhoneNumberVerified": expected}
        check_shape(version, "/verify", response)


def test_share_returns_the_subscribers_number(client, reference, version):
    response = call(client, reference, version, "/device-phone-number")
    assert response.status_code == 200
    assert response.json() == {"devicePhoneNumber": number(reference.kit)}
    check_shape(version, "/device-phone-number", response)


def test_token_for_another_subscriber_identifies_that_subscriber(client, reference):
    token = client.token("operatortoken:" + reference.kit["subscribers"][2]["operator_token"], SHARE)
    response = call(client, reference, "vwip", "/device-phone-number", token=token)
    assert response.json() == {"devicePhoneNumber": number(reference.kit, 2)}


# -- 400 ----------------------------------------------------------------------------------------
MALFORMED = {
    "no body": b"",
    "invalid JSON": b"{\"phoneNumber\": ",
    "not an object": b"[\"+447700900001\"]",
    "a string": b"\"+447700900001\"",
    "empty object": b"{}",
    "both properties": json.dumps({"phoneNumber": "+447700900001",
                                   "hashedPhoneNumber": "a" * 64}).encode(),
    "unknown property alone": b"{\"phone\": \"+447700900001\"}",
    "no plus": b"{\"phoneNumber\": \"447700900001\"}",
    "letters": b"{\"phoneNumber\": \"+44770090000A\"}",
    "too long": b"{\"phoneNumber\": \"+4477009000011234\"}",
    "number type": b"{\"phoneNumber\": 447700900001}",
    "null": b"{\"phoneNumber\": null}",
    "hash not a string": b"{\"hashedPhoneNumber\": true}",
    "deep nesting": b"[" * 5000 + b"]" * 5000,
    "huge integer": b"{\"phoneNumber\": " + b"9" * 5000 + b"}",
    "not UTF-8": b"{\"phoneNumber\": \"\xff\xfe\"}",
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_bodies_get_400_invalid_argument(client, reference, version, case):
    response = call(client, reference, version, "/verify", content=MALFORMED[case])
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "INVALID_ARGUMENT"
    check_shape(version, "/verify", response)


def test_hash_pattern_is_enforced_where_the_contract_has_one(client, reference, version):
    response = call(client, reference, version, "/verify", body={"hashedPhoneNumber": "not-a-hash"})
    expected = 200 if version == "v1.0.0" else 400  # v1.0.0's contract has no pattern for the hash
    assert response.status_code == expected, response.text
    check_shape(version, "/verify", response)


def test_wrong_content_type_is_400(client, reference):
    token = client.token()
    response = client.http.post(reference.api_root + VERSIONS["vwip"] + "/verify",
                                content=b'{"phoneNumber": "+447700900001"}',
                                headers={"Authorization": f"Bearer {token}", "content-type": "text/plain"})
    assert response.status_code == 400


def test_oversized_body_is_refused_with_400_before_it_is_read(client, reference, version):
    body = b'{"phoneNumber": "+447700900001", "pad": "' + b"x" * (17 * 1024) + b'"}'
    response = call(client, reference, version, "/verify", content=body)
    assert response.status_code == 400
    assert "exceeds" in response.json()["message"]
    check_shape(version, "/verify", response)


def test_malformed_request_does_not_burn_the_token(client, reference):
    token = client.token()
    assert call(client, reference, "vwip", "/verify", token=token, body={}).status_code == 400
    ok = call(client, reference, "vwip", "/verify", token=token, body={"phoneNumber": number(reference.kit)})
    assert ok.status_code == 200


# -- x-correlator -------------------------------------------------------------------------------

@pytest.mark.parametrize("version,expected", [("v1.0.0", 200), ("v2.1.0", 400), ("vwip", 400)])
def test_invalid_x_correlator_follows_the_version_profile(client, reference, version, expected):
    response = call(client, reference, version, "/verify", body={"phoneNumber": number(reference.kit)},
                    headers={"x-correlator": "bad correlator with spaces"})
    assert response.status_code == expected, response.text
    check_shape(version, "/verify", response)


def test_x_correlator_is_echoed_on_success_and_errors(client, reference, version):
    correlator = str(uuid.uuid4())
    for kwargs in ({"body": {"phoneNumber": number(reference.kit)}}, {"body": {}}, {"token": None}):
        response = call(client, reference, version, "/verify", headers={"x-correlator": correlator}, **kwargs)
        assert response.headers.get("x-correlator") == correlator, (kwargs, response.status_code)
    not_found = client.http.get(reference.api_root + VERSIONS[version] + "/nope", headers={"x-correlator": correlator})
    assert not_found.headers.get("x-correlator") == correlator


# -- 401 ----------------------------------------------------------------------------------------

def _foreign_token(kit) -> str:
    """Well-formed, right claims, signed by a key this server never had."""
    key = RSAKey.generate_key(2048)
    now = int(time.time())
    claims = {"iss": kit["issuer"], "aud": kit["api_root"], "sub": "sub-x", "jti": "x", "iat": now,
              "exp": now + 300, "scope": VERIFY, "amr": ["sim"]}
    return jwt.encode({"alg": "RS256", "typ": "at+jwt"}, claims, key)


@pytest.mark.parametrize("case", ["missing", "basic scheme", "empty bearer", "garbage", "foreign key",
                                  "expired", "tampered", "id token"])
def test_bad_credentials_get_401_with_www_authenticate(client, reference, version, case):
    kit = reference.kit
    headers: dict[str, str] = {}
    token = None
    if case == "basic scheme":
        headers["Authorization"] = "Basic dXNlcjpwYXNz"
    elif case == "empty bearer":
        headers["Authorization"] = "Bearer"
    elif case == "garbage":
        token = "not.a.token"
    elif case == "foreign key":
        token = _foreign_token(kit)
    elif case == "expired":
        token = kit["expired_access_token"]
    elif case == "tampered":
        fresh = client.token()
        head, payload, sig = fresh.split(".")
        token = f"{head}.{payload[:-4]}AAAA.{sig}"
    elif case == "id token":
        verifier, challenge = client.pkce_pair()
        redirect = client.redirect_params(client.authorize_from(kit["subscribers"][0]["device_ip"],
                                                                code_challenge=challenge, code_challenge_method="S256"))
        token = client.exchange_code(redirect["code"], code_verifier=verifier).json()["id_token"]
    response = call(client, reference, version, "/verify", token=token, headers=headers,
                    body={"phoneNumber": number(kit)})
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")
    check_shape(version, "/verify", response)


def test_token_works_once_where_the_profile_demands_single_use(client, reference, version):
    token = client.token()
    first = call(client, reference, version, "/verify", token=token, body={"phoneNumber": number(reference.kit)})
    second = call(client, reference, version, "/verify", token=token, body={"phoneNumber": number(reference.kit)})
    if not get_profile(version).token_policy.single_use:
        assert (first.status_code, second.status_code) == (200, 200)  # reusable until it expires
        return
    assert (first.status_code, second.status_code) == (200, 401)
    assert "already been used" in second.json()["message"]
    check_shape(version, "/verify", second)


def test_strict_token_policy_makes_every_version_single_use():
    with EmbeddedReference(token_policy="strict") as strict:
        demo = DemoClient(strict.kit)
        try:
            for version in VERSIONS:
                token = demo.token()
                answers = [call(demo, strict, version, "/verify", token=token,
                                body={"phoneNumber": number(strict.kit)}).status_code for _ in range(2)]
                assert answers == [200, 401], version
        finally:
            demo.close()


# -- 403 ----------------------------------------------------------------------------------------

def test_missing_scope_is_403_permission_denied(client, reference, version):
    response = call(client, reference, version, "/verify", scope=SHARE, body={"phoneNumber": number(reference.kit)})
    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"
    check_shape(version, "/verify", response)
    response = call(client, reference, version, "/device-phone-number", scope=VERIFY)
    assert (response.status_code, response.json()["code"]) == (403, "PERMISSION_DENIED")


def test_tel_token_gets_403_not_authenticated_by_mobile_network(client, reference, version):
    kit = reference.kit
    token = client.token("tel:" + number(kit))
    response = call(client, reference, version, "/verify", token=token, body={"phoneNumber": number(kit)})
    assert response.status_code == 403
    assert response.json()["code"] == "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK"
    check_shape(version, "/verify", response)


# -- 404 / 405 / never 500 -------------------------------------------------------------------------

@pytest.mark.parametrize("method,path,status,code", [
    ("GET", "/number-verification/v2/nope", 404, "NOT_FOUND"),
    ("GET", "/number-verification/v9/verify", 404, "NOT_FOUND"),
    ("GET", "/nothing-here", 404, "NOT_FOUND"),
    ("GET", "/number-verification/vwip/verify", 405, "METHOD_NOT_ALLOWED"),
    ("DELETE", "/number-verification/v1/device-phone-number", 405, "METHOD_NOT_ALLOWED"),
    ("PUT", "/token", 405, "METHOD_NOT_ALLOWED"),
])
def test_unknown_paths_and_methods_answer_in_camara_shape(http, reference, method, path, status, code):
    response = http.request(method, reference.api_root + path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": status, "code": code, "message": response.json()["message"]}
    if status == 405:
        assert response.headers.get("allow")


def test_hostile_headers_never_produce_500(client, reference):
    url = reference.api_root + VERSIONS["vwip"] + "/verify"
    headers: dict
    for headers in ({"Authorization": "Bearer " + "A" * 10000},
                    {"Authorization": "Bearer a.b.c"},
                    {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
                    {"x-correlator": "\u00e9".encode()},
                    {"content-length": "1", "Authorization": "Bearer x.y.z"}):
        response = client.http.post(url, content=b"{", headers=headers)
        assert response.status_code in (400, 401), (headers, response.status_code)
        assert set(response.json()) == {"status", "code", "message"}


def test_whitespace_around_the_x_correlator_is_not_part_of_it(client, reference):
    """RFC 9110 5.5: 'x-correlator: abc-1 ' carries 'abc-1' (httpx will not send it, so a raw request)."""
    import socket

    body = b'{"phoneNumber": "+447700900001"}'
    path = (reference.api_root.removeprefix(reference.base_url) + VERSIONS["vwip"] + "/verify").encode()
    request = (b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
               b"Authorization: Bearer " + client.token().encode() + b"\r\nx-correlator: abc-1 \t\r\n"
               b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    with socket.create_connection(("127.0.0.1", reference.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), answer
    assert b"\r\nx-correlator: abc-1\r\n" in head.lower()
    assert json.loads(payload) == {"devicePhoneNumberVerified": True}


def test_oversized_chunked_body_is_refused_while_streaming(client, reference):
    token = client.token()

    def chunks():
        yield b'{"phoneNumber": "+447700900001", "pad": "'
        for _ in range(40):
            yield b"x" * 1024
        yield b'"}'

    response = client.http.post(reference.api_root + VERSIONS["vwip"] + "/verify", content=chunks(),
                                headers={"Authorization": f"Bearer {token}", "content-type": "application/json"})
    assert response.status_code == 400 and "exceeds" in response.json()["message"]


def test_an_unexpected_error_in_the_authorization_server_is_a_camara_500_and_logged_redacted(monkeypatch, caplog):
    """Starlette answers an escaping exception itself (plain text) before the last-resort guard sees it."""
    import asyncio
    import tempfile

    from reference_impl.app import create_app
    from reference_impl.oauth import AuthorizationServer
    from reference_impl.settings import Settings

    async def broken_jwks(self, request):
        raise RuntimeError("boom with Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln and +447700900001")

    monkeypatch.setattr(AuthorizationServer, "jwks", broken_jwks)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(db_path=f"{tmp}/db.sqlite3", issuer="http://127.0.0.1:1"))

        async def call() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:1") as c:
                return await c.get("/jwks")

        try:
            response = asyncio.run(call())
        finally:
            app.store.close()
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": 500, "code": "INTERNAL", "message": "internal error"}
    logged = caplog.text
    assert "unexpected error while serving GET /jwks" in logged
    assert "eyJhbGciOiJSUzI1NiJ9" not in logged and "447700900001" not in logged


def _renamed_contract_schemas(tmp_path, version: str, renames: dict[str, str]) -> object:
    """A copy of the kit's schemas whose ``version`` contract has its paths and operation ids renamed."""
    import shutil

    from nv_conformance.resources import schemas_dir

    schemas = tmp_path / "schemas"
    shutil.copytree(schemas_dir(), schemas)
    contract = schemas / get_profile(version).contract_path.relative_to(schemas_dir())
    text = contract.read_text(encoding="utf-8")
    for old, new in renames.items():
        assert old in text, old
        text = text.replace(old, new)
    contract.write_text(text, encoding="utf-8")
    return schemas


@pytest.mark.parametrize(("fault", "renames"), [
    (None, {"/verify:": "/match:"}),
    ("verify-always-false", {"/verify:": "/match:"}),
    (None, {"/verify:": "/match:", "operationId: phoneNumberVerify": "operationId: numberMatch"}),
])
def test_the_contract_drives_the_routing_and_the_faults_target_its_operations(tmp_path, monkeypatch, fault, renames):
    """Paths and operation ids come from the contract: a contract that calls /verify "/match" (and its operation
    numberMatch) is served there, answered by what its 200 schema requires, and a fault aimed at the verify
    operation (by its id) follows it to its new path."""
    from nv_conformance.resources import SCHEMAS_DIR_ENV

    schemas = _renamed_contract_schemas(tmp_path, "vwip", renames)
    monkeypatch.setenv(SCHEMAS_DIR_ENV, str(schemas))
    with EmbeddedReference(fault=fault) as ref:
        demo = DemoClient(ref.kit)
        base = ref.api_root + VERSIONS["vwip"]
        body = {"phoneNumber": ref.kit["subscribers"][0]["phone_number"]}
        token = demo.token(scope=VERIFY)
        assert demo.http.post(base + "/verify", json=body, headers={"Authorization": f"Bearer {token}"}
                              ).status_code == 404
        answer = demo.http.post(base + "/match", json=body, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"devicePhoneNumberVerified": fault is None}
        demo.close()


def test_an_operation_the_reference_cannot_answer_stops_it_at_start(tmp_path, monkeypatch):
    from nv_conformance.resources import SCHEMAS_DIR_ENV

    schemas = _renamed_contract_schemas(tmp_path, "vwip", {"- devicePhoneNumberVerified\n": "- somethingElse\n"})
    monkeypatch.setenv(SCHEMAS_DIR_ENV, str(schemas))
    with pytest.raises(RuntimeError, match="no handler for contract operation.*phoneNumberVerify"):
        EmbeddedReference().start()
