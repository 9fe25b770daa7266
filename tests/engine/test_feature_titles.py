"""The kit's features are written once for the same versions: every title names the same ones.

The title is what the terminal table, junit.xml and the statement show for a feature; a title that
leaves out a version (say v2.1.1 on the token policy, the first release that makes it mandatory)
tells a reviewer the feature was not meant for the version under test.
"""

from __future__ import annotations

import re

from nv_conformance.profiles import versions
from nv_conformance.resources import features_dir


def _title_versions(path) -> set[str]:
    title = next(line for line in path.read_text().splitlines() if line.startswith("Feature:"))
    return {v for v in versions() if re.search(rf"(?<![\w.]){re.escape(v)}(?![\w.])", title)}


def test_every_kit_feature_title_names_the_same_versions() -> None:
    named = {path.name: _title_versions(path) for path in sorted(features_dir().glob("*.feature"))}
    assert len(named) >= 3
    first = next(iter(named.values()))
    assert first, named
    assert all(v == first for v in named.values()), named
