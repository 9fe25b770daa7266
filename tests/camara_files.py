"""Where CAMARA's official files are, if anywhere: ``../shared/camara`` beside the checkout.

Tests that use them skip cleanly when they are not there; nothing else in the kit depends on them.
``NV_CAMARA_OFFICIAL`` points elsewhere (e.g. a clone of CAMARA's NumberVerification repository laid
out as ``<version>/``).
"""

from __future__ import annotations

import os
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[1]

OFFICIAL = Path(os.environ.get("NV_CAMARA_OFFICIAL") or _CHECKOUT.parent / "shared" / "camara")
