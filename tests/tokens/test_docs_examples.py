"""Every worked example in docs/tokens.md and README.md is a config the token layer accepts (so the docs stay true)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from joserfc import jwk

from nv_conformance.http import HttpSettings
from nv_conformance.tokens import TokenKind, build_token_provider

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "tokens.md", ROOT / "README.md")
BLOCKS = [block for doc in DOCS for block in re.findall(r"```yaml\n(.*?)```", doc.read_text(), re.S)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_the_doc_has_an_example_per_method(doc: Path) -> None:
    text = "\n".join(re.findall(r"```yaml\n(.*?)```", doc.read_text(), re.S))
    for method in ("jwt-bearer", "ciba", "authorization-code", "static", "command"):
        assert f"method: {method}" in text


@pytest.mark.parametrize("block", [b for b in BLOCKS if "tokens:" in b and "{...}" not in b])
def test_worked_example_builds(block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "client-es256.pem").write_bytes(jwk.ECKey.generate_key("P-256").as_pem(private=True))
    script = tmp_path / "get-token.sh"
    script.write_text("#!/bin/sh\necho token\n")
    script.chmod(0o755)
    monkeypatch.setenv("NV_OPERATOR_TOKEN", "operator-token-from-env")
    monkeypatch.setenv("NV_EXPIRED_TOKEN", "expired-token-from-env")
    monkeypatch.setenv("NV_CLIENT_KEY", jwk.RSAKey.generate_key(2048).as_pem(private=True).decode())
    tokens = yaml.safe_load(block)["tokens"]
    with build_token_provider(tokens, http=HttpSettings(), kit=None) as provider:
        assert provider.supports(TokenKind.EXPIRED) or provider.supports(TokenKind.VALID)
