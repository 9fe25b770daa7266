"""An installed wheel (no git checkout around it) still knows the commit it was built from.

Builds the wheel from this checkout, installs it alone into a fresh venv (its dependencies are
borrowed from the running environment through a .pth line, so nothing is downloaded), and asks
that copy for ``--version`` and for a bundle.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from nv_conformance.report.provenance import kit_git_commit
from nv_conformance.resources import kit_root

pytestmark = pytest.mark.slow


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "NV_CONFORMANCE_SIGN_KEY")}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    commit = kit_git_commit()
    if commit == "unknown":
        pytest.skip("not a git checkout: there is no commit to record")
    base = tmp_path_factory.mktemp("wheel")
    build = [sys.executable, "-m", "pip", "wheel", str(kit_root()), "--no-deps", "-q", "-w", str(base / "dist")]
    if importlib.util.find_spec("hatchling"):
        build.append("--no-build-isolation")  # the dev extra has the build backend: no download
    built = run(build, base)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((base / "dist").glob("nv_conformance-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        assert f"COMMIT = {commit!r}" in archive.read("nv_conformance/_build_info.py").decode()
    venv = base / "fresh"
    assert run([sys.executable, "-m", "venv", "--without-pip", str(venv)], base).returncode == 0
    fresh_python = venv / "bin" / "python"
    installed = run([sys.executable, "-m", "pip", "--python", str(fresh_python), "install", "--no-deps", "-q",
                     str(wheel)], base)
    assert installed.returncode == 0, installed.stderr[-2000:]
    site = run([str(fresh_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], base)
    # the kit's dependencies, after the fresh venv's own packages (so the wheel's copy of the kit wins)
    (Path(site.stdout.strip()) / "_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = run([str(fresh_python), "-c", "import nv_conformance; print(nv_conformance.__file__)"], base)
    assert where.stdout.strip().startswith(str(venv)), where.stdout + where.stderr
    return venv


def test_version_of_an_installed_wheel_names_its_commit(installed: Path, tmp_path: Path) -> None:
    result = run([str(installed / "bin" / "nv-conformance"), "--version"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (f"nv-conformance 0.1.0 (commit {kit_git_commit()}; "
                                     "API versions v1.0.0, v2.0.0, v2.1.0, v2.1.1, vwip)")


def test_bundle_of_an_installed_wheel_records_its_commit(installed: Path, tmp_path: Path) -> None:
    tool = str(installed / "bin" / "nv-conformance")
    result = run([tool, "run", "--quiet", "--report-dir", "r", "--bundle", "e.zip"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(tmp_path / "e.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
        results = json.loads(archive.read("results.json"))
    assert manifest["kit"]["commit"] == kit_git_commit() == results["git_commit"]
    assert manifest["kit"]["bundled_by"]["commit"] == kit_git_commit()
    assert manifest["kit"]["dependencies"]["joserfc"]
    checked = run([tool, "verify-bundle", "e.zip"], tmp_path)
    assert checked.returncode == 0 and checked.stdout.startswith("valid: conformant"), checked.stdout
