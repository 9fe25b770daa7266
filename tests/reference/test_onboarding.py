"""`serve --clients clients.yaml`: onboarded applications with their own id, redirect URIs, authentication,
scopes and purposes; a bad file is reported at start-up, one line per problem; the demo client stays."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from reference_impl.clients import ClientsFileError, load_clients
from reference_impl.embedded import EmbeddedReference

from .conftest import ASSERTION_TYPE, JWT_BEARER, PURPOSE, SHARE, VERIFY, DemoClient
from .test_oauth import api_verify

SECRET = "onboarded-app-secret-0123456789"


@pytest.fixture(scope="module")
def onboarded(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("clients")
    ec_key = ECKey.generate_key("P-256", auto_kid=True)
    rsa_key = RSAKey.generate_key(2048, auto_kid=True)
    (folder / "shop.pub.pem").write_bytes(ec_key.as_pem(private=False))
    (folder / "clients.yaml").write_text(yaml.safe_dump({"clients": [
        {"client_id": "shop-backend", "redirect_uris": ["https://shop.example/callback"],
         "authentication": {"method": "private_key_jwt", "public_key_file": "shop.pub.pem"},
         "scopes": [VERIFY], "purposes": [PURPOSE]},
        {"client_id": "bank-app", "redirect_uris": ["http://127.0.0.1/bank-cb"],
         "authentication": {"method": "private_key_jwt", "jwks": {"keys": [rsa_key.as_dict(private=False)]}}},
        {"client_id": "kiosk", "redirect_uris": ["http://127.0.0.1/kiosk-cb"],
         "authentication": {"method": "client_secret_post", "secret_env": "NV_TEST_KIOSK_SECRET"}},
        {"client_id": "desk", "redirect_uris": ["http://127.0.0.1/desk-cb"],
         "authentication": {"method": "client_secret_basic", "secret_env": "NV_TEST_KIOSK_SECRET"}},
    ]}))
    mp = pytest.MonkeyPatch()
    mp.setenv("NV_TEST_KIOSK_SECRET", SECRET)
    with EmbeddedReference(clients_file=folder / "clients.yaml") as ref:
        yield ref, ec_key, rsa_key
    mp.undo()


def assertion(key, client_id: str, audience: str, sub: str | None = None, **claims) -> str:
    now = int(time.time())
    body = {"iss": client_id, "sub": sub or client_id, "aud": audience, "iat": now, "exp": now + 60,
            "jti": str(uuid.uuid4()), **claims}
    alg = "ES256" if isinstance(key, ECKey) else "RS256"
    return jwt.encode({"alg": alg, "kid": key.kid}, body, key)


def code_for(ref, client_id: str, redirect_uri: str, scope: str) -> str:
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
             "prompt": "none", "state": "s"}
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=10) as device:
        answer = device.get(ref.kit["authorization_endpoint"], params=query)
    assert answer.status_code == 302, answer.text
    return DemoClient.redirect_params(answer).get("code", "")


def test_private_key_jwt_clients_get_tokens_within_their_scopes_and_purposes(onboarded):
    ref, ec_key, rsa_key = onboarded
    token_endpoint = ref.kit["token_endpoint"]
    subject = "operatortoken:" + ref.kit["subscribers"][0]["operator_token"]
    with httpx.Client(timeout=10) as http:
        ok = http.post(token_endpoint, data={"grant_type": JWT_BEARER, "assertion": assertion(
            ec_key, "shop-backend", token_endpoint, sub=subject, scope=f"{PURPOSE} {VERIFY}")})
        assert ok.status_code == 200, ok.text
        assert api_verify(http, ref, ok.json()["access_token"], ref.kit["subscribers"][0]["phone_number"]).status_code == 200
        for scope in (f"{PURPOSE} {SHARE}", f"dpv:Marketing {VERIFY}"):
            refused = http.post(token_endpoint, data={"grant_type": JWT_BEARER, "assertion": assertion(
                ec_key, "shop-backend", token_endpoint, sub=subject, scope=scope)})
            assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope", refused.text
        # the authorization code flow with the app's own redirect URI and an RSA JWKS
        code = code_for(ref, "bank-app", "http://127.0.0.1:8000/bank-cb", f"openid {PURPOSE} {SHARE}")
        token = http.post(token_endpoint, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:8000/bank-cb",
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion(rsa_key, "bank-app", token_endpoint)})
        assert token.status_code == 200, token.text
        # another client's redirect URI is not this one's
        query = {"response_type": "code", "client_id": "bank-app", "redirect_uri": "https://shop.example/callback",
                 "scope": f"{PURPOSE} {VERIFY}"}
        assert http.get(ref.kit["authorization_endpoint"], params=query).status_code == 400
        # a key that is not registered for the client
        stranger = http.post(token_endpoint, data={"grant_type": JWT_BEARER, "assertion": assertion(
            rsa_key, "shop-backend", token_endpoint, sub=subject, scope=f"{PURPOSE} {VERIFY}")})
        assert stranger.status_code in (400, 401)


def test_secret_clients_use_exactly_their_registered_method(onboarded):
    ref, _, _ = onboarded
    token_endpoint = ref.kit["token_endpoint"]
    with httpx.Client(timeout=10) as http:
        def exchange(client_id: str, redirect: str, **auth) -> httpx.Response:
            code = code_for(ref, client_id, redirect, f"{PURPOSE} {VERIFY}")
            return http.post(token_endpoint, data={"grant_type": "authorization_code", "code": code,
                                                   "redirect_uri": redirect, **auth.pop("form", {})}, **auth)

        post = exchange("kiosk", "http://127.0.0.1:1/kiosk-cb", form={"client_id": "kiosk", "client_secret": SECRET})
        assert post.status_code == 200, post.text
        basic = exchange("desk", "http://127.0.0.1:1/desk-cb", auth=("desk", SECRET))
        assert basic.status_code == 200, basic.text
        wrong_method = exchange("kiosk", "http://127.0.0.1:1/kiosk-cb", auth=("kiosk", SECRET))
        assert wrong_method.status_code == 401 and wrong_method.json()["error"] == "invalid_client"
        wrong_secret = exchange("kiosk", "http://127.0.0.1:1/kiosk-cb", form={"client_id": "kiosk", "client_secret": "x"})
        assert wrong_secret.status_code == 401
        # the demo client is still there
        demo = DemoClient(ref.kit)
        assert demo.token()
        demo.close()


def test_a_bad_clients_file_lists_every_problem_on_its_own_line(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NV_TEST_UNSET_SECRET", raising=False)
    (tmp_path / "priv.pem").write_bytes(ECKey.generate_key("P-256").as_pem(private=True))
    path = tmp_path / "clients.yaml"
    path.write_text(yaml.safe_dump({"clients": [
        {"client_id": "", "redirect_uris": ["https://a.example/cb#frag"],
         "authentication": {"method": "private_key_jwt", "public_key_file": "priv.pem"}},
        {"client_id": "b", "redirect_uris": ["http://b.example/cb"],
         "authentication": {"method": "client_secret_basic", "secret_env": "NV_TEST_UNSET_SECRET"},
         "scopes": ["number-verification:everything"]},
        {"client_id": "nv-demo-client", "redirect_uris": ["https://c.example/cb"],
         "authentication": {"method": "magic"}},
    ]}))
    with pytest.raises(ClientsFileError) as caught:
        load_clients(path)
    problems = caught.value.problems
    assert len(problems) == 7, problems
    for expected in ("clients[0].client_id", "clients[0].redirect_uris[0]", "clients[0].authentication.public_key_file",
                     "clients[1].redirect_uris[0]", "clients[1].authentication.secret_env", "clients[1].scopes",
                     "clients[2].authentication.method"):
        assert any(p.startswith(expected) for p in problems), (expected, problems)
    from nv_conformance.cli import main as cli_main

    assert cli_main(["serve", "--port", "0", "--db", str(tmp_path / "x.sqlite3"), "--clients", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 + len(problems), err
    assert all(str(path) in line for line in err.strip().splitlines()[1:])


def test_the_documented_example_file_loads(monkeypatch):
    example = Path(__file__).resolve().parents[2] / "examples" / "clients.yaml"
    monkeypatch.setenv("KIOSK_CLIENT_SECRET", "kiosk-secret-for-the-docs-example")
    registrations = load_clients(example)
    assert {"shop-backend", "kiosk"} <= set(registrations)


@contextlib.contextmanager
def jwks_server(document: dict) -> Iterator[str]:
    """A tiny HTTP server publishing ``document`` at /jwks (anything else: 500)."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            body = json.dumps(document if self.path == "/jwks" else {"error": "x"}).encode()
            self.send_response(200 if self.path == "/jwks" else 500)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_jwks_uri_is_fetched_at_start_up_and_its_keys_authenticate(tmp_path):
    key = ECKey.generate_key("P-256", auto_kid=True)
    with jwks_server({"keys": [key.as_dict(private=False)]}) as url:
        path = tmp_path / "clients.yaml"
        entry = {"client_id": "remote-keys", "redirect_uris": ["https://app.example/cb"],
                 "authentication": {"method": "private_key_jwt", "jwks_uri": url + "/jwks"}}
        broken = {**entry, "client_id": "broken", "authentication": {"method": "private_key_jwt",
                                                                     "jwks_uri": url + "/broken"}}
        path.write_text(yaml.safe_dump({"clients": [entry, broken]}))
        with pytest.raises(ClientsFileError) as caught:
            load_clients(path)
        assert caught.value.problems == [f"clients[1].authentication.jwks_uri: {url}/broken answered 500"]
        path.write_text(yaml.safe_dump({"clients": [entry]}))
        with EmbeddedReference(clients_file=path) as ref:
            subject = "operatortoken:" + ref.kit["subscribers"][0]["operator_token"]
            answer = httpx.post(ref.kit["token_endpoint"], data={"grant_type": JWT_BEARER, "assertion": assertion(
                key, "remote-keys", ref.kit["token_endpoint"], sub=subject, scope=f"{PURPOSE} {VERIFY}")}, timeout=10)
            assert answer.status_code == 200, answer.text
