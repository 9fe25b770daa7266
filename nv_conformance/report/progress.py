"""Terminal progress while a run goes, and the summary table at its end.

One line per scenario with a running count; a failure gets a one-line redacted reason.
Colours only when the stream is a terminal (and ``NO_COLOR`` is not set).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from ..results import Outcome, RunResult, ScenarioResult, Verdict
from .text import one_line

LABELS = {Outcome.PASSED: "PASS", Outcome.FAILED: "FAIL", Outcome.SKIPPED: "SKIP", Outcome.DEFECTIVE: "DEFECT"}
_COLOURS = {Outcome.PASSED: "32", Outcome.FAILED: "31;1", Outcome.SKIPPED: "33", Outcome.DEFECTIVE: "35"}
_VERDICT_COLOURS = {Verdict.CONFORMANT: "32;1", Verdict.PARTIAL: "33;1", Verdict.NOT_CONFORMANT: "31;1"}


def planned_scenarios(features: Iterable[Any], config: Any = None) -> int:
    """How many scenarios behave will run (tags and name filters applied), for the ``[n/total]`` count.

    ``features`` are behave Feature objects (``context._runner.features``), ``config`` behave's Configuration.
    """
    total = 0
    for feature in features:
        if config is not None and not feature.should_run(config):
            continue
        total += sum(1 for scenario in feature.walk_scenarios() if scenario.should_run(config))
    return total


class ProgressPrinter:
    """Receives run events from the behave hooks and prints them."""

    def __init__(self, stream: TextIO | None = None, *, colour: bool | None = None, reason_width: int = 160) -> None:
        """``stream=None`` writes to the real terminal (see below); pass a stream to redirect."""
        # Default: the process's real stdout. behave captures ``sys.stdout`` while hooks run, and progress
        # printed into that capture buffer would only show up after a failure.
        self.stream = stream if stream is not None else (sys.__stdout__ or sys.stdout)
        if colour is None:
            colour = bool(getattr(self.stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")
        self.colour = colour
        self.reason_width = reason_width
        if getattr(self.stream, "isatty", lambda: False)():
            # on a terminal, use its width so a failure reason stays one visible line
            self.reason_width = max(60, shutil.get_terminal_size((reason_width + 12, 24)).columns - 12)
        self.total: int | None = None
        self.done = 0

    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def _print(self, line: str = "") -> None:
        print(line, file=self.stream, flush=True)

    def run_started(self, run: RunResult, total: int | None = None) -> None:
        """``total`` (see :func:`planned_scenarios`) enables the ``[n/total]`` count."""
        self.total = total
        self.done = 0
        self._print(one_line(f"nv-conformance: {run.target} | API {run.api_version} | kit {run.kit_version}", 300))

    def note(self, text: str) -> None:
        """One line about how the run goes (e.g. scenarios at a time), under the header."""
        self._print(one_line(text, 300))

    def scenario_finished(self, result: ScenarioResult) -> None:
        self.done += 1
        width = len(str(self.total)) if self.total else 1
        count = f"[{self.done:>{width}}/{self.total}]" if self.total else f"[{self.done}]"
        label = LABELS.get(result.outcome, str(result.outcome).upper())
        label = self._paint(f"{label:<6}", _COLOURS.get(result.outcome, "0"))
        optional = "" if result.mandatory else " (optional)"
        self._print(f"{count} {label} {one_line(result.scenario_id, 120)}{optional} ({result.duration_s:.2f} s)")
        if result.outcome != Outcome.PASSED and result.reason:
            self._print(" " * (len(count) + 1) + "  " + one_line(result.reason, self.reason_width))

    def run_finished(self, run: RunResult, report_paths: Sequence[Path | str] = ()) -> None:
        """Summary per feature, totals, verdict and where the reports are."""
        self._print()
        for line in summary_table(run):
            self._print(line)
        if run.undefined_steps:
            self._print(self._paint(f"{len(run.undefined_steps)} undefined step(s):", "31;1"))
            for step in run.undefined_steps[:20]:
                self._print("  " + one_line(step, 200))
        verdict = run.verdict
        if run.aborted:
            self._print(self._paint(f"Run stopped early: {one_line(run.aborted)}", "33;1"))
        self._print()
        self._print("Verdict: " + self._paint(verdict.value.upper(), _VERDICT_COLOURS[verdict]))
        for path in report_paths:
            self._print(f"Report: {path}")


def summary_table(run: RunResult) -> list[str]:
    """Plain-text table: one row per feature with passed/failed/skipped/defective counts."""
    rows: dict[str, dict[Outcome, int]] = defaultdict(lambda: dict.fromkeys(Outcome, 0))
    for scenario in run.scenarios:
        rows[scenario.feature][scenario.outcome] += 1
    header = ["Feature", *(o.value for o in Outcome), "total"]
    body = [[_shorten(name), *(str(counts[o]) for o in Outcome), str(sum(counts.values()))] for name, counts in rows.items()]
    footer = ["All features", *(str(run.count(o)) for o in Outcome), str(len(run.scenarios))]
    widths = [max(len(row[i]) for row in [header, *body, footer]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        return "  ".join(row[0].ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))

    rule = "-" * len(fmt(header))
    return [fmt(header), rule, *(fmt(r) for r in body), rule, fmt(footer)]


def _shorten(name: str, limit: int = 72) -> str:
    """Feature names often share a long prefix ("CAMARA ... - Operation x"): keep both ends."""
    text = one_line(name, 1000)
    if len(text) <= limit:
        return text
    head = limit // 2 - 1
    return text[:head] + "…" + text[-(limit - head - 1):]
