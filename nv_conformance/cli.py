"""nv-conformance: conformance kit for the CAMARA Number Verification API.

Each subcommand lives in its own module exposing ``configure(parser)`` and ``main(args) -> int``;
this module only dispatches and turns KitError into one line on stderr (exit 2).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .errors import ConfigError, KitError
from .redact import redact

SUBCOMMANDS = {
    "run": ("nv_conformance.commands.run", "run the conformance features (embedded reference by default)"),
    "serve": ("reference_impl.command", "serve the reference provider (API + authorization server)"),
    "fuzz": ("nv_conformance.commands.fuzz", "fuzz the contract with schemathesis"),
    "selftest": ("nv_conformance.commands.selftest", "prove the verdicts against faulty and benign providers"),
    "bundle": ("nv_conformance.commands.bundle", "pack a finished run into a signed evidence bundle"),
    "verify-bundle": ("nv_conformance.commands.verify_bundle", "check an evidence bundle (signature, hashes, verdict)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nv-conformance", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action=_VersionAction, help="show the kit version, its commit and API versions")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.configure(sub_parser)
        sub_parser.set_defaults(_main=module.main)
    return parser


class _VersionAction(argparse.Action):
    """Like argparse's "version", but computed only when asked (it runs git) and never re-wrapped."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(version_text())
        parser.exit()


def version_text() -> str:
    """Kit version, the commit it was built from, and the API versions it has profiles for."""
    from .profiles import versions
    from .report.provenance import kit_git_commit

    supported = ", ".join(versions())
    return f"nv-conformance {__version__} (commit {kit_git_commit()}; API versions {supported})"


def _one_line(exc: KitError) -> str:
    """The error, redacted once more (messages quote endpoints, server answers and feature lines).

    A setting's name is redacted apart from its problem: a name is no secret, but "client_secret: unknown"
    read as one text looks like a credential and its value."""
    if isinstance(exc, ConfigError):
        return f"config: {redact(exc.setting)}: {redact(exc.problem)}"
    return redact(str(exc))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_main", None):
        parser.print_help()
        return 2
    try:
        return int(args._main(args) or 0)
    except KitError as exc:
        print(f"nv-conformance {args.command}: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader of our output went away (`| head`): no traceback, and nothing more to say
        from .report.console import silence_stdout

        silence_stdout(sys.stdout)
        return 1
    except KeyboardInterrupt as exc:  # a signal before a command's own handling (interrupt.stop_on_signals)
        by = str(exc) or "SIGINT"
        print(f"nv-conformance {args.command}: interrupted by {by}", file=sys.stderr)
        return 143 if by == "SIGTERM" else 130


if __name__ == "__main__":
    sys.exit(main())
