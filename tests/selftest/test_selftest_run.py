"""The whole self-test, as CI runs it: every faulty variant caught, every benign one passing, the control clean.

~46 reference servers and ~2,300 scenarios; a worker process per variant, three at a time
(measured in docs/selftest.md).
"""

from __future__ import annotations

import pytest

from nv_conformance import cli
from reference_impl.faults import benign_names, faulty_names


@pytest.mark.slow
def test_selftest_catches_every_faulty_variant_and_passes_every_benign_one(tmp_path, capsys):
    table = tmp_path / "selftest.md"
    code = cli.main(["selftest", "--markdown", str(table)])
    out = capsys.readouterr().out
    assert code == 0, out
    text = table.read_text()
    faulty, benign = len(faulty_names()), len(benign_names())
    assert f"Faulty variants caught: {faulty}/{faulty} (100 %)" in text
    assert f"Benign variants passing every scenario: {benign}/{benign} (100 %)" in text
    assert "Correct reference (control) passes every scenario: yes" in text
    assert text.count("| faulty |") == faulty and text.count("| caught |") == faulty
    assert text.count("| benign |") == benign and text.count("| passes all |") == benign + 1  # + the control
    assert "+447700900001" not in text + out  # numbers in failure reasons stay masked
