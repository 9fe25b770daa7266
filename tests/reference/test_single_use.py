"""Single use under concurrency, across uvicorn workers and across restarts; the serve command end to end."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from reference_impl.embedded import EmbeddedReference, free_port

from .conftest import DemoClient

VERIFY_PATH = "/number-verification/vwip/verify"


async def _burst(url: str, token: str, phone: str, count: int) -> list[int]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        calls = [http.post(url, json={"phoneNumber": phone}, headers={"Authorization": f"Bearer {token}"})
                 for _ in range(count)]
        return [r.status_code for r in await asyncio.gather(*calls)]


def test_fifty_concurrent_calls_with_one_token_give_exactly_one_200(reference, client):
    token = client.token()
    statuses = asyncio.run(_burst(reference.api_root + VERIFY_PATH, token,
                                  reference.kit["subscribers"][0]["phone_number"], 50))
    assert sorted(statuses) == [200] + [401] * 49


def test_a_token_used_before_a_restart_stays_used_after_it(tmp_path):
    db = tmp_path / "state.sqlite3"
    port = free_port()
    with EmbeddedReference(db_path=db, port=port) as first:
        demo = DemoClient(first.kit)
        used, unused = demo.token(), demo.token()
        phone = first.kit["subscribers"][0]["phone_number"]
        url = first.api_root + VERIFY_PATH
        assert demo.http.post(url, json={"phoneNumber": phone}, headers={"Authorization": f"Bearer {used}"}).status_code == 200
        demo.close()
    with EmbeddedReference(db_path=db, port=port) as second:
        assert second.kit["subscribers"][0]["operator_token"] == first.kit["subscribers"][0]["operator_token"]
        with httpx.Client() as http:
            again = http.post(url, json={"phoneNumber": phone}, headers={"Authorization": f"Bearer {used}"})
            assert again.status_code == 401 and "already been used" in again.json()["message"]
            # same signing key after the restart: an unused token from before still works
            fresh = http.post(url, json={"phoneNumber": phone}, headers={"Authorization": f"Bearer {unused}"})
            assert fresh.status_code == 200


def _start_serve(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    kit_path = tmp_path / "kit.json"
    cmd = [sys.executable, "-m", "nv_conformance.cli", "serve", "--port", str(port), "--db",
           str(tmp_path / "serve.sqlite3"), "--kit", str(kit_path), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/jwks", timeout=1).status_code == 200:
                return proc, port, kit_path
        except httpx.TransportError:
            time.sleep(0.1)
        if proc.poll() is not None:
            break
    proc.kill()
    pytest.fail("serve did not start: " + (proc.communicate()[0] or ""))


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


@pytest.mark.slow
def test_serve_with_two_workers_keeps_tokens_single_use_and_logs_no_secrets(tmp_path):
    proc, port, kit_path = _start_serve(tmp_path, "--workers", "2", "--api-root-prefix", "/passthrough/camara")
    try:
        kit = json.loads(kit_path.read_text())
        assert stat.S_IMODE(kit_path.stat().st_mode) == 0o600
        assert kit["api_root"] == f"http://127.0.0.1:{port}/passthrough/camara"
        demo = DemoClient(kit)
        phone = kit["subscribers"][0]["phone_number"]
        tokens = [demo.token() for _ in range(3)]
        for token in tokens:
            statuses = asyncio.run(_burst(kit["api_root"] + VERIFY_PATH, token, phone, 50))
            assert sorted(statuses) == [200] + [401] * 49
        # the authorization code flow logs its query string: it must come out redacted
        demo.redirect_params(demo.authorize_from(kit["subscribers"][0]["device_ip"],
                                                 login_hint="tel:" + phone))
        demo.redirect_params(demo.authorize_from(kit["subscribers"][0]["device_ip"],
                                                 login_hint="operatortoken:" + kit["subscribers"][0]["operator_token"]))
        demo.close()
    finally:
        output = _stop(proc)
    assert "POST /passthrough/camara/number-verification/vwip/verify" in output  # the access log is on
    for secret in (phone, quote(phone, safe=""), phone.lstrip("+"), "eyJ"):
        assert secret not in output, secret
    assert kit["subscribers"][0]["operator_token"] not in output


def test_serve_refuses_bad_settings_with_one_line(tmp_path, capsys, monkeypatch):
    from nv_conformance.cli import main as cli_main

    monkeypatch.chdir(tmp_path)
    for args, setting in ((["--host", "0.0.0.0"], "--host"), (["--workers", "0"], "--workers"),
                          (["--api-root-prefix", "no-slash"], "--api-root-prefix"),
                          (["--db", "/proc/nope/x.sqlite3"], "--db"),
                          (["--public-url", "ftp://x"], "--public-url")):
        assert cli_main(["serve", "--port", "0", *args]) == 2, args
        err = capsys.readouterr().err
        assert setting in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1, err


def test_serve_port_0_on_ipv6_loopback_picks_a_free_port():
    """`serve --host ::1 --port 0` crashed with a traceback: the free port was looked for with an IPv4 socket."""
    import argparse
    import socket

    from reference_impl.command import _settings_from, configure

    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    parser = argparse.ArgumentParser()
    configure(parser)
    args = parser.parse_args(["--host", "::1", "--port", "0", "--db", "unused.sqlite3"])
    settings = _settings_from(args)
    assert 0 < args.port < 65536
    assert settings.issuer == f"http://[::1]:{args.port}"


def test_serve_ciba_interval_reaches_the_settings_workers_get(tmp_path):
    """`serve --ciba-interval 5`: the interval a real operator announces; workers rebuild it from JSON."""
    import argparse

    from nv_conformance.errors import ConfigError
    from reference_impl.command import _settings_from, configure
    from reference_impl.settings import Settings

    parser = argparse.ArgumentParser()
    configure(parser)
    assert _settings_from(parser.parse_args(["--db", str(tmp_path / "a.sqlite3")])).behaviour.ciba_interval_seconds == 1
    args = parser.parse_args(["--db", str(tmp_path / "a.sqlite3"), "--ciba-interval", "5"])
    settings = _settings_from(args)
    assert settings.behaviour.ciba_interval_seconds == 5
    assert Settings.from_json(settings.to_json()).behaviour.ciba_interval_seconds == 5
    with pytest.raises(ConfigError, match="--ciba-interval"):
        _settings_from(parser.parse_args(["--ciba-interval", "61"]))
