"""behave hooks for this kit; the logic lives in nv_conformance.bdd.hooks.

behave looks for this file next to the `steps/` directory, which is the repository root.
"""

from nv_conformance.bdd.hooks import (  # noqa: F401
    after_all,
    after_scenario,
    before_all,
    before_scenario,
)
