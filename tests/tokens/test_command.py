"""The command method: no shell, bounded in time and output, failures as one redacted line."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from nv_conformance.errors import TokenError
from nv_conformance.http import HttpSettings
from nv_conformance.tokens import TokenKind, build_token_provider

SECRET = "cmd-token-SECRET-31337-abc"


def provider_for(tmp_path: Path, code: str, timeout: float = 5) -> Any:
    script = tmp_path / "tok.py"
    script.write_text(code)
    config = {"valid": {"method": "command", "argv": [sys.executable, str(script), "{kind}", "{scope}"], "timeout": timeout}}
    return build_token_provider(config, http=HttpSettings(), kit=None)


def test_first_line_is_the_token_and_placeholders_are_filled(tmp_path: Path, leaks: Any) -> None:
    leaks.add(SECRET)
    code = f"import sys\nassert sys.argv[1:] == ['valid', 'a b'], sys.argv\nprint()\nprint('{SECRET}')\nprint('ignored')\n"
    with provider_for(tmp_path, code) as provider:
        token = provider.get(TokenKind.VALID, "a b")
    assert token.access_token == SECRET and token.method == "command"
    assert SECRET not in repr(token)


def test_a_json_token_with_blanks_around_it_is_masked_as_it_is_sent(tmp_path: Path) -> None:
    from nv_conformance.redact import redact

    opaque = "opaque-cmd-token-7f3a9c"  # not JWT-shaped: masked only because it was registered
    code = f"import json\nprint(json.dumps({{'access_token': '  {opaque}  '}}))\n"
    with provider_for(tmp_path, code) as provider:
        token = provider.get(TokenKind.VALID, "s")
    assert token.access_token == opaque
    assert opaque not in redact(f'{{"echo": "{opaque}"}}')


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (f"import sys\nsys.stderr.write('login failed for token {SECRET}\\n')\nsys.exit(3)\n", "exited with status 3: login failed for token (redacted)"),
        ("print('')\n", "printed no token"),
        ("print('{\"token_type\": \"Bearer\"}')\n", "printed JSON without access_token"),
        ("print('{oops')\n", "not JSON"),
        ("import sys\nsys.stdout.write('x' * 5_000_000)\n", "printed more than"),
    ],
)
def test_failures_are_one_clear_line(tmp_path: Path, leaks: Any, code: str, expected: str) -> None:
    leaks.add(SECRET)
    with provider_for(tmp_path, code) as provider, pytest.raises(TokenError) as caught:
        provider.get(TokenKind.VALID, "s")
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    assert str(caught.value).startswith("tokens.valid: command: python")
    leaks.assert_clean(caught.value)


def test_a_hung_program_and_its_children_are_killed(tmp_path: Path) -> None:
    code = "import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\ntime.sleep(60)\n"
    started = time.monotonic()
    with provider_for(tmp_path, code, timeout=0.5) as provider, pytest.raises(TokenError) as caught:
        provider.get(TokenKind.VALID, "s")
    assert time.monotonic() - started < 3
    assert "did not finish within 0.5 s (killed)" in str(caught.value)
