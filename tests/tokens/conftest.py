"""Fixtures for the token tests: a live reference provider and a leak detector."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwk

from nv_conformance.http import HttpSettings

EmbeddedReference = pytest.importorskip("reference_impl.embedded").EmbeddedReference

VERIFY = "number-verification:verify"
READ = "number-verification:device-phone-number:read"
FAST = HttpSettings(connect_timeout=2, read_timeout=2, total_timeout=5)


@pytest.fixture(scope="module")
def client_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, jwk.ECKey]:
    """An ES256 client key in a PEM file, for the scripted authorization servers."""
    key = jwk.ECKey.generate_key("P-256")
    path = tmp_path_factory.mktemp("keys") / "client.pem"
    path.write_bytes(key.as_pem(private=True))
    return path, key


@pytest.fixture(scope="module")
def reference() -> Iterator[Any]:
    with EmbeddedReference() as ref:
        yield ref


@pytest.fixture(scope="module")
def kit(reference: Any) -> dict[str, Any]:
    return reference.kit


def kit_secrets(kit: dict[str, Any]) -> list[str]:
    """Every secret the kit holds: none may ever show up in output, logs or exceptions."""
    client = kit["client"]
    found = [client["client_secret"], client["private_key_jwk"]["d"], kit["expired_access_token"]]
    for subscriber in kit["subscribers"]:
        found += [subscriber["operator_token"], subscriber["phone_number"]]
    return found


@pytest.fixture
def key_file(kit: dict[str, Any], tmp_path: Path) -> Path:
    """The demo client's key as a CSP would hold it: a PEM file."""
    key = jwk.import_key(kit["client"]["private_key_jwk"], "EC")
    path = tmp_path / "client.pem"
    path.write_bytes(key.as_pem(private=True))
    return path


def call_verify(kit: dict[str, Any], token: str, version: str = "vwip") -> httpx.Response:
    url = kit["api_root"] + kit["base_paths"][version] + "/verify"
    return httpx.post(url, json={"phoneNumber": kit["subscribers"][0]["phone_number"]},
                      headers={"authorization": f"Bearer {token}"}, timeout=5)


class LeakCheck:
    """Collects secrets during a test; at the end none may appear in stdout, stderr or log records."""

    def __init__(self) -> None:
        self.secrets: list[str] = []

    def add(self, *values: str | None) -> None:
        self.secrets += [v for v in values if v]

    def assert_clean(self, *texts: object) -> None:
        for text in texts:
            rendered = str(text)
            for secret in self.secrets:
                assert secret not in rendered, "a secret leaked"


@pytest.fixture
def leaks(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Iterator[LeakCheck]:
    caplog.set_level(logging.DEBUG)
    check = LeakCheck()
    yield check
    out, err = capsys.readouterr()
    check.assert_clean(out, err, caplog.text)
