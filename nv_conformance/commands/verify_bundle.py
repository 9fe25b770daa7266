"""``nv-conformance verify-bundle PATH``: check an evidence bundle; one line, exit 0 (valid) or 1 (not).

Without ``--public-key`` or ``--thumbprint`` only the bundle's own key is used: that proves the
files were not changed after signing, not who signed them (the line says so).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="the bundle (from run --bundle or bundle)")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--public-key", metavar="PEM", help="the tester's public key (PEM) the bundle must be signed with")
    who.add_argument("--thumbprint", metavar="T", help="RFC 7638 thumbprint of the key the bundle must be signed with")


def main(args: argparse.Namespace) -> int:
    from ..evidence.signing import load_public_key
    from ..evidence.verify import BundleInvalid, verify_bundle

    public_key = load_public_key(args.public_key) if args.public_key else None
    try:
        result = verify_bundle(Path(args.path).expanduser(), public_key=public_key, thumbprint=args.thumbprint)
    except BundleInvalid as exc:
        print(f"invalid: {exc}")
        return 1
    pinned = "" if (public_key is not None or args.thumbprint) else " (key not pinned: give --thumbprint or --public-key)"
    print(result.summary() + pinned)
    sys.stdout.flush()
    return 0
