"""Tokens printed by an external program (e.g. the CSP's own tooling behind an SSO).

The argv template may use ``{kind}`` and ``{scope}``; no shell is involved. The program prints
the token, or a JSON token response (``access_token``, ``expires_in``, ``refresh_token``).
Runs are bounded by a timeout and an output cap; a non-zero exit is one clear line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from typing import IO

from ..errors import ConfigError, TokenError
from ..redact import redact
from .base import IssuedToken, TokenKind
from .method import MethodContext, MethodSpec, TokenMethod
from .remember import remember_secret
from .settings import Section

SETTINGS = frozenset({"argv", "timeout"})
MAX_OUTPUT_BYTES = 256 * 1024


class CommandMethod(TokenMethod):
    name = "command"

    def __init__(self, section: Section) -> None:
        self.argv = section.string_list("argv", required=True)
        self.timeout = section.number("timeout", 30, minimum=0.1, maximum=600)
        program = self.argv[0]
        if not (shutil.which(program) or (os.sep in program and os.access(program, os.X_OK))):
            raise ConfigError(section.path("argv[0]"), f"program not found or not executable: {program}")

    def fetch(self, kind: TokenKind, scope: str) -> IssuedToken:
        argv = [part.replace("{kind}", kind.value).replace("{scope}", scope) for part in self.argv]
        label = os.path.basename(self.argv[0])
        stdout, stderr, code = _run_bounded(argv, self.timeout, label)
        if code != 0:
            first = next((line for line in stderr.splitlines() if line.strip()), "")
            detail = f": {redact(first.strip())[:160]}" if first else ""
            raise TokenError(f"{label} exited with status {code}{detail}")
        text = stdout.strip()
        if text.startswith("{"):
            return _from_json(text, kind, scope, label, self.name)
        token = next((line.strip() for line in text.splitlines() if line.strip()), "")
        if not token:
            raise TokenError(f"{label} printed no token")
        remember_secret(token)
        return IssuedToken(access_token=token, kind=kind, scope=scope, method=self.name)

    def describe(self) -> str:
        return f"command ({os.path.basename(self.argv[0])})"


def _run_bounded(argv: list[str], timeout: float, label: str) -> tuple[str, str, int]:
    """Run without a shell; kill on timeout; keep at most MAX_OUTPUT_BYTES of each stream."""
    try:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
    except OSError as exc:
        raise TokenError(f"{label} could not start: {exc.strerror or type(exc).__name__}") from None
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [
        threading.Thread(target=_drain, args=(process.stdout, out), daemon=True),
        threading.Thread(target=_drain, args=(process.stderr, err), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise TokenError(f"{label} did not finish within {timeout:g} s (killed)") from None
    finally:
        for reader in readers:
            reader.join(timeout=2)
    if sum(map(len, out)) > MAX_OUTPUT_BYTES:
        raise TokenError(f"{label} printed more than {MAX_OUTPUT_BYTES} bytes")
    return b"".join(out).decode("utf-8", "replace"), b"".join(err).decode("utf-8", "replace"), code


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the program and anything it started (its own session), so no pipe stays open."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        process.kill()
    process.wait()


def _drain(stream: IO[bytes], sink: list[bytes]) -> None:
    """Read a pipe to the end, keeping only the first MAX_OUTPUT_BYTES + 1 bytes."""
    kept = 0
    for chunk in iter(lambda: stream.read(65536), b""):
        if kept <= MAX_OUTPUT_BYTES:
            sink.append(chunk[: MAX_OUTPUT_BYTES + 1 - kept])
            kept += len(sink[-1])
    stream.close()


def _from_json(text: str, kind: TokenKind, scope: str, label: str, method: str) -> IssuedToken:
    try:
        body = json.loads(text)
    except ValueError:
        raise TokenError(f"{label} printed text starting with '{{' that is not JSON") from None
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token.strip():
        raise TokenError(f"{label} printed JSON without access_token")
    token = token.strip()  # the value registered for redaction must be the one that is sent
    remember_secret(token)
    if isinstance(body.get("refresh_token"), str):
        remember_secret(body["refresh_token"])
    expires_in = body.get("expires_in")
    return IssuedToken(
        access_token=token,
        kind=kind,
        scope=scope,
        expires_in=expires_in if isinstance(expires_in, int) and not isinstance(expires_in, bool) else None,
        refresh_token_issued=bool(body.get("refresh_token")),
        method=method,
        from_token_response=True,  # the command relayed a token response: its fields can be judged
    )


def _command(section: Section, context: MethodContext) -> TokenMethod:
    return CommandMethod(section)


METHOD = MethodSpec(name=CommandMethod.name, settings=SETTINGS, kinds=frozenset(TokenKind), build=_command)
