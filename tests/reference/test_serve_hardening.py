"""`nv-conformance serve` over real sockets: forwarded headers, trusted proxies, file modes, bounded
transport (header floods, stalled bodies, parser errors), workers that die with their supervisor."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reference_impl.embedded import free_port

from .conftest import PURPOSE, VERIFY


class Served:
    def __init__(self, tmp_path: Path, *extra: str, port: int | None = None, scheme: str = "http",
                 host: str = "127.0.0.1", verify: object = True) -> None:
        self.port = port or free_port()
        self.db = tmp_path / "serve.sqlite3"
        self.kit_path = tmp_path / "kit.json"
        cmd = [sys.executable, "-m", "nv_conformance.cli", "serve", "--port", str(self.port), "--db", str(self.db),
               "--kit", str(self.kit_path), "--no-access-log", *extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        self.url = f"{scheme}://{host}:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/jwks", timeout=1, verify=verify).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
            if self.proc.poll() is not None:
                break
        self.stop()
        pytest.fail("serve did not start: " + self.output)

    output = ""

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.output, _ = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            # its own session: the group is serve and its workers, one of which may hold the pipe open
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            try:
                self.output, _ = self.proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                pytest.fail("serve and its workers did not exit within 10 s of SIGKILL")
        return self.output


def authorize(url: str, source: str, headers: dict[str, str]) -> httpx.Response:
    query = {"response_type": "code", "client_id": "nv-demo-client", "redirect_uri": url + "/demo-callback",
             "scope": f"openid {PURPOSE} {VERIFY}", "prompt": "none", "state": "s"}
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=10) as device:
        return device.get(url + "/authorize", params=query, headers=headers)


def has_code(response: httpx.Response) -> bool:
    assert response.status_code == 302, response.text
    return "code=" in response.headers["location"]


@pytest.mark.slow
def test_serve_ignores_forwarded_headers_and_writes_state_owner_only(tmp_path):
    served = Served(tmp_path)
    try:
        for headers in ({"X-Forwarded-For": "127.0.0.2"}, {"Forwarded": "for=127.0.0.2"}):
            assert not has_code(authorize(served.url, "127.0.0.1", headers))
            with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.1"), timeout=10) as local:
                ts43 = local.post(served.url + "/ts43/entitlement", data={"operation": "AcquireTemporaryToken"},
                                  headers=headers)
            assert ts43.status_code == 403
        assert has_code(authorize(served.url, "127.0.0.2", {}))
        for path in (served.db, Path(f"{served.db}-wal"), Path(f"{served.db}-shm"), served.kit_path):
            assert path.exists(), path
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        served.stop()


@pytest.mark.slow
def test_a_trusted_proxy_forwards_the_device_address_and_nobody_else_does(tmp_path):
    served = Served(tmp_path, "--trusted-proxy", "127.0.0.1/32", "--trusted-proxy", "127.0.0.9")
    try:
        assert has_code(authorize(served.url, "127.0.0.1", {"X-Forwarded-For": "127.0.0.2"}))  # via the proxy
        assert not has_code(authorize(served.url, "127.0.0.1", {"X-Forwarded-For": "127.0.0.250"}))
        assert not has_code(authorize(served.url, "127.0.0.250", {"X-Forwarded-For": "127.0.0.2"}))  # not a proxy
        assert not has_code(authorize(served.url, "127.0.0.1", {"Forwarded": "for=127.0.0.2"}))  # not honoured
    finally:
        served.stop()


def test_trusted_proxy_and_tls_settings_are_checked_with_one_line(tmp_path, capsys):
    from nv_conformance.cli import main as cli_main

    for args, setting in ((["--trusted-proxy", "*"], "--trusted-proxy"),
                          (["--trusted-proxy", "10.0.0.0/33"], "--trusted-proxy"),
                          (["--tls-cert", str(tmp_path / "none.pem")], "--tls-key"),
                          (["--tls-cert", str(tmp_path / "none.pem"), "--tls-key", str(tmp_path / "k.pem")], "--tls-cert"),
                          (["--request-timeout", "0"], "--request-timeout")):
        assert cli_main(["serve", "--port", "0", "--db", str(tmp_path / "x.sqlite3"), *args]) == 2, args
        err = capsys.readouterr().err
        assert setting in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _raw(port: int, data: bytes, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_header_floods_stalls_and_parser_errors_stay_bounded_and_camara_shaped(tmp_path):
    served = Served(tmp_path, "--request-timeout", "1.5")
    try:
        before = _rss_kib(served.proc.pid)
        # one connection sending a 256 MiB header: cut off after the head limit, memory stays flat
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
            sock.sendall(b"GET /jwks HTTP/1.1\r\nHost: x\r\nX-Flood: ")
            chunk = b"a" * (1024 * 1024)
            sent = 0
            try:
                while sent < 256 * 1024 * 1024:
                    sock.sendall(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            answer = b""
            try:
                answer = sock.recv(65536)
            except (ConnectionResetError, OSError):
                pass
        assert sent < 256 * 1024 * 1024, "the server read the whole flood"
        if answer:
            assert answer.startswith(b"HTTP/1.1 431") and b'"code": "INVALID_ARGUMENT"' in answer
        assert _rss_kib(served.proc.pid) - before < 32 * 1024
        # too many header fields
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(200))
        answer = _raw(served.port, b"GET /jwks HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
        assert answer.startswith(b"HTTP/1.1 431") and b"application/json" in answer
        # parser-level errors: CAMARA body, not uvicorn's text/plain
        for bad in (b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                    b"GET /jwks HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
                    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"):
            answer = _raw(served.port, bad)
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 400") and b"application/json" in head, answer[:200]
            assert b'"status": 400' in body and b'"code": "INVALID_ARGUMENT"' in body
        # a body that stalls half-way: the connection is closed after the request timeout
        started = time.monotonic()
        answer = _raw(served.port, b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                                   b"Content-Type: application/x-www-form-urlencoded\r\n\r\ngrant_type=", timeout=10)
        assert time.monotonic() - started < 5 and b"access_token" not in answer
        # a connection that never sends a request is closed too
        started = time.monotonic()
        assert _raw(served.port, b"", timeout=10) == b"" and time.monotonic() - started < 5
        # and the server still serves
        assert httpx.get(served.url + "/jwks", timeout=5).status_code == 200
    finally:
        served.stop()


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_workers_exit_when_their_supervisor_is_killed_and_a_restart_works(tmp_path):
    served = Served(tmp_path, "--workers", "2")
    try:
        deadline = time.monotonic() + 10
        workers: list[int] = []
        while time.monotonic() < deadline:
            workers = [p for p in _children(served.proc.pid) if "uvicorn" in Path(f"/proc/{p}/cmdline").read_text()
                       or "multiprocessing" in Path(f"/proc/{p}/cmdline").read_text()]
            if len(workers) >= 2:
                break
            time.sleep(0.2)
        workers = _children(served.proc.pid)
        assert len(workers) >= 2, workers
        os.kill(served.proc.pid, signal.SIGKILL)
        served.proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers), "workers outlived their supervisor"
    finally:
        for w in _children(served.proc.pid):
            os.kill(w, signal.SIGKILL)
        served.stop()
    again = Served(tmp_path, "--workers", "2", port=served.port)
    try:
        assert httpx.get(again.url + "/jwks", timeout=5).status_code == 200
    finally:
        again.stop()
