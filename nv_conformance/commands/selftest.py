"""``nv-conformance selftest``: prove the verdicts against faulty and benign variants of the reference provider.

Each variant of reference_impl/faults.py is served on its own loopback port (one worker process per
variant, ``--jobs`` at a time) and the kit's features run against it. Exit 0 only when every faulty
variant is caught, every benign one passes and the correct reference (control) passes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ConfigError
from ..profiles import default_version, versions_text

DEFAULT_JOBS = 3


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--variant", metavar="NAME", action="append", default=[],
                        help="run only this variant (repeatable; default: the whole catalogue)")
    parser.add_argument("--list", action="store_true", help="list the catalogue and exit")
    parser.add_argument("--api-version", default=None, metavar="VERSION",
                        help=f"API version the features run in: {versions_text()} "
                             f"(default {default_version()}, the version the profiles mark as default)")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS,
                        help=f"variants run at once, each in its own process (default {DEFAULT_JOBS})")
    parser.add_argument("--features", metavar="DIR", help="features to run instead of the kit's own")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table and score as Markdown here")


def main(args: argparse.Namespace) -> int:
    from ..profiles import UnknownVersionError, get_profile
    from ..selftest.runner import Judgement, catalogue, run_selftest
    from ..selftest.table import caught_by_text, markdown, not_applicable_line, score_lines, verdict_text

    variants = catalogue()
    if args.list:
        from ..report.console import closed_pipe_is_quiet

        with closed_pipe_is_quiet(sys.stdout):  # `selftest --list | head` ends quietly
            for v in variants:
                print(f"{v.name:34} {'benign' if v.benign else 'faulty':7} {v.description}")
            sys.stdout.flush()
        return 0
    if args.jobs < 1 or args.jobs > 16:
        raise ConfigError("--jobs", "must be between 1 and 16")
    try:
        version = get_profile(args.api_version or default_version()).version
    except UnknownVersionError as exc:  # the user's typo
        raise ConfigError("--api-version", str(exc)) from None
    if args.variant:
        known = {v.name: v for v in variants}
        unknown = [n for n in args.variant if n not in known]
        if unknown:
            raise ConfigError("--variant", f"unknown variant {unknown[0]!r} (see --list)")
        variants = [known[n] for n in args.variant]
    markdown_path = None
    if args.markdown:  # checked now, not after a run of minutes
        markdown_path = Path(args.markdown).expanduser()
        if not markdown_path.parent.is_dir():
            raise ConfigError("--markdown", f"no such directory: {markdown_path.parent}")
    features = None
    if args.features:
        features = Path(args.features).expanduser().resolve()
        if not features.exists():
            raise ConfigError("--features", f"not found: {args.features}")

    print(f"nv-conformance selftest: {len(variants)} variants + the correct reference, API {version}, "
          f"{args.jobs} at a time", flush=True)

    def progress(judgement: Judgement) -> None:
        print(f"  {judgement.name:34} {judgement.kind:7} {verdict_text(judgement).strip('*'):16} "
              f"{caught_by_text(judgement)}", flush=True)

    result = run_selftest(variants, api_version=version, jobs=args.jobs, features=features, on_judgement=progress)
    print()
    if result.not_applicable:
        print(not_applicable_line(result).replace("`", ""))
    for line in score_lines(result):
        print(line)
    print(f"({result.seconds} s wall clock, {result.cpu_seconds} s CPU in the worker processes)")
    if markdown_path is not None:
        try:
            markdown_path.write_text(markdown(result), encoding="utf-8")
        except OSError as exc:
            raise ConfigError("--markdown", f"cannot write {markdown_path}: {exc.strerror or exc}") from None
        print(f"table written to {markdown_path}")
    return 0 if result.passed else 1
