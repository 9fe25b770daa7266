"""Build hook: record the source commit in ``nv_conformance/_build_info.py`` so an installed wheel knows it.

A checkout asks git at run time (report/provenance.py); an installed copy has no git, so the
commit is written into the wheel (and the sdist) when it is built. Editable installs are skipped:
they run from the checkout, whose commit changes after the install.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

TARGET = "nv_conformance/_build_info.py"


def source_commit(root: str) -> str | None:
    """``HEAD`` of the checkout being built (``-dirty`` with local changes); None outside a git checkout."""
    try:
        top, commit = subprocess.run(["git", "-C", root, "rev-parse", "--show-toplevel", "HEAD"],
                                     capture_output=True, text=True, timeout=10, check=True).stdout.split()
        if Path(top).resolve() != Path(root).resolve():
            return None  # an unpacked sdist inside some other repository
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


class BuildInfoHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if version == "editable":
            return
        commit = source_commit(self.root)
        if commit is None:
            carried = Path(self.root) / TARGET  # built from an sdist: package the record it carries
            if carried.is_file():
                build_data.setdefault("force_include", {})[str(carried)] = TARGET
            return
        self._dir = tempfile.TemporaryDirectory()
        path = Path(self._dir.name) / "_build_info.py"
        path.write_text(f'"""Written by hatch_build.py when this copy was built."""\n\nCOMMIT = {commit!r}\n',
                        encoding="utf-8")
        build_data.setdefault("force_include", {})[str(path)] = TARGET

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        if getattr(self, "_dir", None) is not None:
            self._dir.cleanup()
