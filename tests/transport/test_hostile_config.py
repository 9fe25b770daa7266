"""Hostile config inputs: each is one line naming the setting, exit 2, within a second (run and fuzz).

Measured in-process around ``cli.main`` (interpreter start-up is not the kit's to bound).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from nv_conformance.cli import main as cli_main

BILLION_LAUGHS = "\n".join(
    ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    + ["api_root: http://127.0.0.1:9", "tokens: {valid: {method: static, token: *a9}}"]
) + "\n"

VALID_TOKEN = "tokens:\n  valid: {method: static, token: static-token-abcdef}\n"


def fifo(folder: Path, name: str) -> Path:
    path = folder / name
    os.mkfifo(path)
    return path


def jwt_bearer(key_setting: str) -> str:
    return ("api_root: http://127.0.0.1:9\ntokens:\n  valid:\n    method: jwt-bearer\n"
            "    token_endpoint: http://127.0.0.1:9/token\n    client_id: app\n    subject: tel:+447700900001\n"
            f"    {key_setting}\n")


# name: (write the config, returns its path; the setting the line must name)
CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "billion laughs (aliases)": (lambda d: _write(d, BILLION_LAUGHS), "--config"),
    "500 levels of nesting": (lambda d: _write(d, "api_root: http://127.0.0.1:9\nx: " + "[" * 500 + "]" * 500 + "\n"),
                              "--config"),
    "500 levels of block nesting": (lambda d: _write(d, "".join(f"{' ' * i}k{i}:\n" for i in range(500)) + " " * 500 + "v: 1\n"),
                                    "--config"),
    "config is /dev/zero": (lambda d: Path("/dev/zero"), "--config"),
    "config is a FIFO": (lambda d: fifo(d, "config.yaml"), "--config"),
    "config of 2 MB": (lambda d: _write(d, "api_root: http://127.0.0.1:9\n" + "#" * (2 << 20) + "\n"), "--config"),
    "private_key_file /dev/zero": (lambda d: _write(d, jwt_bearer("private_key_file: /dev/zero")),
                                   "tokens.valid.private_key_file"),
    "private_key_file a FIFO": (lambda d: _write(d, jwt_bearer(f"private_key_file: {fifo(d, 'key.pem')}")),
                                "tokens.valid.private_key_file"),
    "ca_bundle /dev/zero": (lambda d: _write(d, "api_root: https://127.0.0.1:9\ntls: {ca_bundle: /dev/zero}\n" + VALID_TOKEN),
                            "tls.ca_bundle"),
    "client_cert a FIFO": (lambda d: _write(d, f"api_root: https://127.0.0.1:9\ntls: {{client_cert: {fifo(d, 'c.pem')}}}\n"
                                            + VALID_TOKEN), "tls.client_cert"),
    "client_key /dev/urandom": (lambda d: _write(d, _client_pair(d, "client_key: /dev/urandom")), "tls.client_key"),
    "kit nested 100000 deep": (lambda d: _write(d, f"kit: {_write_file(d / 'kit.json', '[' * 100000)}\n"), "kit"),
    "kit is a FIFO": (lambda d: _write(d, f"kit: {fifo(d, 'kit.json')}\n"), "kit"),
    "spec with aliases": (lambda d: _write(d, f"api_root: http://127.0.0.1:9\nspec: {_write_file(d / 'spec.yaml', BILLION_LAUGHS)}\n"
                                           + VALID_TOKEN), "spec"),
    "spec is /dev/zero": (lambda d: _write(d, "api_root: http://127.0.0.1:9\nspec: /dev/zero\n" + VALID_TOKEN), "spec"),
}


def _write(folder: Path, text: str) -> Path:
    return _write_file(folder / "target.yaml", text)


def _write_file(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _client_pair(folder: Path, key_line: str) -> str:
    cert = _write_file(folder / "client.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    return f"api_root: https://127.0.0.1:9\ntls:\n  client_cert: {cert}\n  {key_line}\n" + VALID_TOKEN


@pytest.fixture(scope="module", autouse=True)
def imported() -> None:
    """The commands' modules imported once beforehand: the second is for the kit's work, not for imports."""
    from nv_conformance.cli import build_parser
    from nv_conformance.config import load_config  # noqa: F401
    from nv_conformance.tokens import build_token_provider  # noqa: F401

    build_parser()


@pytest.mark.parametrize("command", ["run", "fuzz"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_config_is_one_line_within_a_second(case: str, command: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    make, setting = CASES[case]
    config = make(tmp_path)
    started = time.monotonic()
    code = cli_main([command, "--config", str(config), "--no-reports"])
    elapsed = time.monotonic() - started
    out = capsys.readouterr()
    lines = [line for line in (out.out + out.err).splitlines() if line.strip()]
    assert code == 2, out
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"nv-conformance {command}: config: {setting}"), lines[0]
    assert "Traceback" not in lines[0] and len(lines[0]) < 400
    assert elapsed < 1.0, f"{elapsed:.2f} s"


def test_error_lines_name_urls_and_variable_names(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A token_endpoint URL or a private_key_env variable name is not a secret: the line shows them."""
    monkeypatch.delenv("NV_TEST_SIGNING_KEY", raising=False)
    config = _write(tmp_path, "api_root: http://127.0.0.1:9\ntokens:\n  valid:\n    method: jwt-bearer\n"
                              "    token_endpoint: https://auth.example.com/oauth2/token\n    client_id: app\n"
                              "    subject: tel:+447700900001\n    private_key_env: NV_TEST_SIGNING_KEY\n")
    assert cli_main(["run", "--config", str(config), "--no-reports"]) == 2
    line = capsys.readouterr().err.strip()
    assert line == ("nv-conformance run: config: tokens.valid.private_key_env: "
                    "environment variable NV_TEST_SIGNING_KEY is not set"), line
    config.write_text(config.read_text().replace("private_key_env: NV_TEST_SIGNING_KEY",
                                                 "private_key_file: missing.pem"))
    assert cli_main(["run", "--config", str(config), "--no-reports"]) == 2
    assert "(redacted)" not in capsys.readouterr().err


def test_an_explicit_token_endpoint_is_shown_in_error_lines(tmp_path: Path) -> None:
    from nv_conformance.config import load_config
    from nv_conformance.redact import redact

    config = _write(tmp_path, "api_root: http://127.0.0.1:9\ntokens:\n  valid:\n    method: jwt-bearer\n"
                              "    token_endpoint: https://auth.example.com/oauth2/token\n    client_id: app\n"
                              "    subject: tel:+447700900001\n    client_secret: s3cr3t-value-xyz\n")
    load_config(config)
    assert redact("POST https://auth.example.com/oauth2/token failed") == "POST https://auth.example.com/oauth2/token failed"
    assert "s3cr3t-value-xyz" not in redact("client said s3cr3t-value-xyz")


@pytest.mark.parametrize(("text", "setting"), [
    ("api_root: http://127.0.0.1:9\nclient_secret: s3cr3t-value-xyz\n", "client_secret"),
    ("api_root: http://127.0.0.1:9\naccess_token: eyJhbGciOiJub25lIn0.e30.\n", "access_token"),
    ("api_root: http://127.0.0.1:9\ntokens:\n  valid:\n    method: static\n    token: abcdefgh\n"
     "    client_secret: s3cr3t-value-xyz\n", "tokens.valid.client_secret"),
])
def test_an_unknown_setting_named_like_a_secret_is_named_and_its_value_is_not_shown(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, setting: str) -> None:
    """Key names are not secrets (values are): the line says which setting is unknown."""
    assert cli_main(["run", "--config", str(_write(tmp_path, text)), "--no-reports"]) == 2
    line = capsys.readouterr().err.strip()
    assert line.startswith(f"nv-conformance run: config: {setting}: unknown setting"), line
    assert "s3cr3t-value-xyz" not in line and "eyJhbGciOiJub25lIn0" not in line


def test_a_private_key_env_variable_is_bounded_like_every_secret_from_the_environment(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NV_TEST_HUGE_KEY", "A" * ((1 << 20) + 1))
    config = _write(tmp_path, "api_root: http://127.0.0.1:9\ntokens:\n  valid:\n    method: jwt-bearer\n"
                              "    token_endpoint: https://auth.example.com/token\n    client_id: app\n"
                              "    subject: tel:+447700900001\n    private_key_env: NV_TEST_HUGE_KEY\n")
    assert cli_main(["run", "--config", str(config), "--no-reports"]) == 2
    assert capsys.readouterr().err.strip() == ("nv-conformance run: config: tokens.valid.private_key_env: "
                                               "environment variable NV_TEST_HUGE_KEY is larger than 1 MiB")
