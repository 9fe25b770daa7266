"""The kit's terminal: a rich Console per stream, colour by ``--color`` (or the environment), and a
closed pipe (``nv-conformance run | head``) ending output quietly instead of with a traceback."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from rich.console import Console

COLOR_CHOICES = ("auto", "always", "never")
PIPE_WIDTH = 140  # columns assumed when the output is not a terminal and COLUMNS is not set


def make_console(stream: TextIO, color: str = "auto", *, width: int | None = None) -> Console:
    """``auto``: rich decides (a terminal, ``FORCE_COLOR``, ``NO_COLOR``, ``TERM=dumb``); ``always``/``never`` win."""
    options: dict[str, Any] = {"file": stream, "width": width, "highlight": False, "emoji": False,
                               "markup": False, "soft_wrap": False}
    if color == "always":
        options.update(force_terminal=True, no_color=False, color_system="standard")
    elif color == "never":
        options.update(no_color=True, color_system=None)
    if width is None and not _isatty(stream) and not os.environ.get("COLUMNS"):
        options["width"] = PIPE_WIDTH  # logs and files: the table's natural width, not rich's 80
    return QuietOnClosedPipe(**options)


class QuietOnClosedPipe(Console):
    """rich ends the process (exit 1) when the reader of its pipe goes away; the kit's run goes on instead,
    printing nothing more, so its reports are written and its exit code still says the verdict."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        silence_stdout(self.file)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def silence_stdout(stream: Any = None) -> None:
    """After a BrokenPipeError: point the stream's descriptor at /dev/null, so that flushing at exit
    does not fail again (Python would print "Exception ignored ... BrokenPipeError")."""
    target = stream if stream is not None else sys.stdout
    try:
        fd = target.fileno()
    except (AttributeError, ValueError, OSError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


@contextlib.contextmanager
def closed_pipe_is_quiet(stream: Any = None) -> Iterator[None]:
    """Output into a pipe whose reader went away stops silently; the command's exit code stands."""
    try:
        yield
    except BrokenPipeError:
        silence_stdout(stream)
