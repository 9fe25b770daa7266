"""The bundle file: one zip archive, members in a fixed order, written atomically."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from .manifest import MANIFEST, SIGNATURE, SIGNER_JWK

_FIRST = (MANIFEST, SIGNATURE, SIGNER_JWK)
_FIXED_TIME = (2000, 1, 1, 0, 0, 0)  # member times carry nothing: the manifest says when
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024  # inflated in memory: a bomb of many members under the member limit stops here
MAX_MEMBERS = 10_000


class BundleUnreadable(Exception):
    """Not a zip archive, or a member cannot be read; the message names it."""


def write_archive(path: Path, members: dict[str, bytes]) -> None:
    order = [n for n in _FIRST if n in members] + sorted(n for n in members if n not in _FIRST)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".bundle-", suffix=".zip", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in order:
                info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, members[name])
        os.chmod(tmp, 0o644)  # evidence is meant to be handed on (mkstemp makes it owner-only)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_archive(path: Path) -> dict[str, bytes]:
    """Every member by name; ``BundleUnreadable`` naming the member whose bytes do not match the archive's CRC."""
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BundleUnreadable(f"{path}: file not found") from None
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BundleUnreadable(f"{path}: not a bundle archive ({exc})") from None
    members: dict[str, bytes] = {}
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise BundleUnreadable(f"{path}: more than {MAX_MEMBERS} members")
        if sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
            raise BundleUnreadable(f"{path}: members larger than {MAX_TOTAL_BYTES} bytes in all")
        for info in infos:
            if info.is_dir():
                continue
            if info.filename in members:
                raise BundleUnreadable(f"{info.filename}: present twice in the archive")
            if info.file_size > MAX_MEMBER_BYTES:
                raise BundleUnreadable(f"{info.filename}: larger than {MAX_MEMBER_BYTES} bytes")
            try:
                members[info.filename] = archive.read(info)
            except Exception as exc:  # BadZipFile (CRC mismatch), zlib.error, EOFError, an unknown compression
                raise BundleUnreadable(f"{info.filename}: damaged in the archive ({exc})") from None
    return members
