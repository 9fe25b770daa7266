"""What ``run`` and ``fuzz`` share before their first request to the target: the ``--color`` option,
the pre-flight, and the one line that says a start-up ended the command with no report written.

A command that ends before its work starts (pre-flight failed, a signal during it or while fuzz starts up)
writes no report: there is nothing to report on, and the line says so, so that CI does not take
reports left in the directory by an earlier run for this one's.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING

from ..interrupt import StopSignal
from ..report.console import COLOR_CHOICES
from ..results import EXIT_INCONCLUSIVE

if TYPE_CHECKING:  # the CLI imports every command to build its parser: the target's modules load when a run starts
    from ..target import Target


def add_color_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--color", choices=COLOR_CHOICES, default="auto",
                        help="colours on the terminal: auto (a terminal, unless NO_COLOR; FORCE_COLOR forces), "
                             "always or never (default auto)")


def preflight_exit(command: str, target: Target, stop: StopSignal, nothing: str) -> int | None:
    """Run the pre-flight: None when it passed, else the exit code after one line on stderr
    (``nothing`` says what did not happen, e.g. "nothing was fuzzed")."""
    from ..preflight import PreflightFailed, preflight

    try:
        preflight(target)
    except PreflightFailed as exc:
        print(f"nv-conformance {command}: pre-flight failed: {exc}; {nothing} (inconclusive); no report was written",
              file=sys.stderr)
        return EXIT_INCONCLUSIVE
    except KeyboardInterrupt:
        return interrupted_exit(command, stop, "during the pre-flight", nothing)
    return None


def interrupted_exit(command: str, stop: StopSignal | None, when: str, nothing: str) -> int:
    """A signal before the command's work began: one line on stderr, exit 128 + the signal."""
    reason = stop.reason() if stop is not None and stop.number else "interrupted"
    print(f"nv-conformance {command}: {reason} {when}; {nothing}; no report was written", file=sys.stderr)
    return 128 + (stop.number if stop is not None and stop.number else signal.SIGINT)
