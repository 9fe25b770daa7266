"""Locate the kit's own files (schemas, features, steps) in a checkout or an installed wheel.

In a source checkout they live at the repository root; a wheel carries a copy under
``nv_conformance/_bundled`` (see pyproject.toml). Everything else asks this module.

``NV_SCHEMAS_DIR`` points the kit (checker and reference alike) at another schemas directory:
a ``profiles.yaml`` plus the contracts it names. A new API version whose rules the kit already
knows is then a data change only.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE_DIR / "_bundled"
_CHECKOUT = _PACKAGE_DIR.parent


def kit_root() -> Path:
    """The directory that holds ``schemas/``, ``features/``, ``steps/`` and ``environment.py``."""
    if (_BUNDLED / "schemas").is_dir():
        return _BUNDLED
    return _CHECKOUT


SCHEMAS_DIR_ENV = "NV_SCHEMAS_DIR"


def schemas_dir() -> Path:
    override = os.environ.get(SCHEMAS_DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return kit_root() / "schemas"


def features_dir() -> Path:
    return kit_root() / "features"


def steps_dir() -> Path:
    return kit_root() / "steps"


def environment_file() -> Path:
    return kit_root() / "environment.py"
