"""Shared fixtures: hypothesis' one-time Unicode tables are built before any child's memory is measured."""

from __future__ import annotations

import subprocess
import sys

import pytest

WARM = """
from hypothesis import configuration
from nv_conformance.fuzz.runner import hypothesis_home
home = hypothesis_home()
home.mkdir(parents=True, exist_ok=True)
configuration.set_hypothesis_home_dir(home)
from hypothesis.internal.charmap import charmap, intervals_from_codec
charmap()
intervals_from_codec("utf-8")
"""


@pytest.fixture(scope="session")
def warm_fuzz_cache() -> None:
    """The first fuzz run on a machine builds these tables (about 250 MB once); later runs read them back."""
    subprocess.run([sys.executable, "-c", WARM], check=True, timeout=120)
