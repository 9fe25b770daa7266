"""``nv-conformance bundle REPORT_DIR PATH``: pack a finished run into a signed evidence bundle.

``nv-conformance run --bundle PATH`` calls :func:`make_bundle` the same way right after its run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import ConfigError, KitError
from ..evidence.signing import SIGN_KEY_ENV

SIGNER_FILE = "signer.jwk.json"  # beside the reports: the public key a reviewer pins


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report_dir", metavar="REPORT_DIR", help="report directory of a finished run (results.json ...)")
    parser.add_argument("path", metavar="PATH", help="the bundle to write (a zip archive, e.g. evidence.zip)")
    add_sign_key_option(parser)


def add_sign_key_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sign-key", metavar="PEM",
                        help=f"the tester's private key (EC P-256 or Ed25519) that signs the manifest; default: "
                             f"${SIGN_KEY_ENV}, else a key generated for this bundle (its public key is printed)")


def main(args: argparse.Namespace) -> int:
    report_dir = Path(args.report_dir).expanduser()
    if not report_dir.is_dir():
        raise ConfigError("REPORT_DIR", f"not a directory: {args.report_dir}")
    make_bundle(report_dir, bundle_path(args.path), args.sign_key)
    return 0


def bundle_path(value: str, option: str = "PATH") -> Path:
    """Where the bundle goes: not a directory, in a directory that exists."""
    path = Path(value).expanduser().resolve()
    if path.is_dir():
        raise ConfigError(option, f"is a directory: {value} (give a file name such as evidence.zip)")
    if not path.parent.is_dir():
        raise ConfigError(option, f"directory not found: {path.parent}")
    return path


def make_bundle(report_dir: Path, path: Path, sign_key: str | None) -> None:
    """Write the bundle, then the report directory's statement with the bundle's SHA-256, and say how to check it."""
    from ..evidence.bundle import write_bundle
    from ..evidence.signing import load_signing_key
    from ..report import HTML_FILE, JSON_FILE, file_sha256
    from ..report.html import write_html

    key = load_signing_key(sign_key)
    written = write_bundle(report_dir, path, key)
    bundle = {"name": path.name, "sha256": written.sha256, "thumbprint": key.thumbprint}
    try:
        write_html(written.run, report_dir / HTML_FILE, bundle=bundle,
                   results_sha256=file_sha256(report_dir / JSON_FILE))
        (report_dir / SIGNER_FILE).write_text(json.dumps(key.public_jwk(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise KitError(f"bundle written, but the statement in {report_dir} could not be updated: "
                       f"{exc.strerror or exc}") from None
    verdict = written.manifest["verdict"]["verdict"]
    print(f"Bundle: {path} ({verdict}; SHA-256 {written.sha256})")
    if key.generated:
        print(f"Signed with a key generated for this bundle; thumbprint {key.thumbprint}")
        print(f"Public key (also in {report_dir / SIGNER_FILE}): {json.dumps(key.public_jwk())}")
    else:
        print(f"Signed by key {key.thumbprint}")
    print(f"Check it: nv-conformance verify-bundle {path} --thumbprint={key.thumbprint}")
    sys.stdout.flush()

