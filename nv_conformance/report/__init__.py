"""Reports of a run: JUnit XML for CI, a JSON results file, and the HTML test result statement.

The behave hooks call :func:`write_reports` at the end of a run (see docs/interfaces.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import KitError
from ..results import RunResult
from .html import write_html
from .json_report import write_json
from .junit import write_junit
from .provenance import kit_git_commit, run_command, scenario_command

JUNIT_FILE = "junit.xml"
JSON_FILE = "results.json"
HTML_FILE = "statement.html"

__all__ = ["write_reports", "kit_git_commit", "run_command", "scenario_command", "JUNIT_FILE", "JSON_FILE", "HTML_FILE"]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_reports(run: RunResult, report_dir: Path | str) -> list[Path]:
    """Write the three reports into ``report_dir`` (created if needed); returns their paths."""
    report_dir = Path(report_dir)
    if not run.git_commit:
        run.git_commit = kit_git_commit()
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        junit = write_junit(run, report_dir / JUNIT_FILE)
        results = write_json(run, report_dir / JSON_FILE)
        # the statement names the digest of the results file beside it: a reviewer can tell they belong together
        statement = write_html(run, report_dir / HTML_FILE, results_sha256=file_sha256(results))
        return [junit, results, statement]
    except OSError as exc:
        raise KitError(f"cannot write reports to {report_dir}: {exc.strerror or exc}") from None
