"""Terminal progress while a run goes, and the summary table at its end, through rich.

One line per scenario with a running count; anything but a pass gets its redacted reason on the
next line. rich decides colours and widths: ``FORCE_COLOR``, ``NO_COLOR``, ``TERM=dumb`` and
``COLUMNS`` work as everywhere, ``--color always|never`` wins over them. On a terminal a long
reason is cut to the width, but never before its HTTP status and error code; into a pipe or a
file (CI logs) nothing is cut. A closed pipe (``| head``) silences the printer; the run goes on.
"""

from __future__ import annotations

import io
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..results import Outcome, RunResult, ScenarioResult, Verdict, implementation_name
from .console import COLOR_CHOICES, make_console, silence_stdout
from .scope import run_scope
from .text import one_line, reason_line

LABELS = {Outcome.PASSED: "PASS", Outcome.FAILED: "FAIL", Outcome.WARNING: "WARN", Outcome.SKIPPED: "SKIP",
          Outcome.NOT_APPLICABLE: "N/A", Outcome.DEFECTIVE: "DEFECT", Outcome.ERROR: "ERROR"}
STYLES = {Outcome.PASSED: "green", Outcome.FAILED: "bold red", Outcome.WARNING: "bold yellow", Outcome.SKIPPED: "yellow",
          Outcome.NOT_APPLICABLE: "dim", Outcome.DEFECTIVE: "magenta", Outcome.ERROR: "bold magenta"}
VERDICT_STYLES = {Verdict.CONFORMANT: "bold green", Verdict.PARTIAL: "bold yellow", Verdict.NOT_CONFORMANT: "bold red",
                  Verdict.INCONCLUSIVE: "bold magenta", Verdict.SELECTION_PASSED: "bold green",
                  Verdict.SELECTION_FAILED: "bold red"}
PROBLEMS = (Outcome.FAILED, Outcome.ERROR, Outcome.WARNING, Outcome.DEFECTIVE)

__all__ = ["COLOR_CHOICES", "ProgressPrinter", "planned_scenarios", "selected_scenarios", "summary_table", "shorten_reason", "problem_lines"]


def selected_scenarios(features: Iterable[Any], config: Any = None) -> list[Any]:
    """The scenarios behave will run (tags and name filters applied), in the features' order.

    ``features`` are behave Feature objects (``context._runner.features``), ``config`` behave's
    Configuration (None: every scenario of the suite).
    """
    return [scenario for feature in features if config is None or feature.should_run(config)
            for scenario in feature.walk_scenarios() if scenario.should_run(config)]


def planned_scenarios(features: Iterable[Any], config: Any = None) -> int:
    """How many scenarios behave will run (:func:`selected_scenarios`), for the ``[n/total]`` count."""
    return len(selected_scenarios(features, config))


def shorten_reason(reason: str, width: int | None) -> str:
    """``reason`` on one line; cut to ``width`` (None: never), but not before its HTTP status and error code."""
    return reason_line(reason, width)


class ProgressPrinter:
    """Receives run events from the behave hooks and prints them."""

    def __init__(self, stream: TextIO | None = None, *, colour: bool | None = None, color: str = "auto",
                 width: int | None = None, reason_width: int | None = None) -> None:
        """``stream=None`` writes to the real stdout; ``color`` is ``auto``, ``always`` or ``never``
        (``colour=True/False`` is the same as always/never)."""
        # Default: the process's real stdout. behave captures ``sys.stdout`` while hooks run, and progress
        # printed into that capture buffer would only show up after a failure.
        self.stream = stream if stream is not None else (sys.__stdout__ or sys.stdout)
        if colour is not None:
            color = "always" if colour else "never"
        self.console = make_console(self.stream, color, width=width)
        self._reason_width = reason_width
        self.total: int | None = None
        self.done = 0
        self.closed = False  # the reader went away (a closed pipe): print nothing more

    @property
    def colour(self) -> bool:
        return self.console.color_system is not None and not self.console.no_color

    @property
    def reason_width(self) -> int | None:
        """Where reasons are cut: the terminal's width less the indent; None (never) into pipes and files."""
        if self._reason_width is not None:
            return self._reason_width if self.console.is_terminal else None
        return max(60, self.console.width - 10) if self.console.is_terminal else None

    def _print(self, line: str | Text = "") -> None:
        if self.console.quiet:
            self.closed = True
        if self.closed:
            return
        try:
            self.console.print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)
            self.console.file.flush()
            self.closed = self.console.quiet
        except BrokenPipeError:
            self.closed = True
            silence_stdout(self.stream)

    def run_started(self, run: RunResult, total: int | None = None) -> None:
        """``total`` (see :func:`planned_scenarios`) enables the ``[n/total]`` count."""
        self.total = total
        self.done = 0
        self._print(one_line(f"nv-conformance: {run.target} | API {run.api_version} | kit {run.kit_version} | "
                             f"implementation {implementation_label(run)}", 400))

    def note(self, text: str) -> None:
        """One line about how the run goes (e.g. scenarios at a time), under the header."""
        self._print(one_line(text, 300))

    def scenario_finished(self, result: ScenarioResult) -> None:
        self.done += 1
        width = len(str(self.total)) if self.total else 1
        count = f"[{self.done:>{width}}/{self.total}]" if self.total else f"[{self.done}]"
        label = LABELS.get(result.outcome, str(result.outcome).upper())
        optional = "" if result.mandatory else " (optional)"
        line = Text(f"{count} ")
        line.append(f"{label:<6}", style=STYLES.get(result.outcome, ""))
        line.append(f" {one_line(result.scenario_id, 120)}{optional} ({result.duration_s:.2f} s)")
        self._print(line)
        if result.outcome != Outcome.PASSED and result.reason:
            self._print(" " * (len(count) + 3) + shorten_reason(result.reason, self.reason_width))

    def run_finished(self, run: RunResult, report_paths: Sequence[Path | str] = ()) -> None:
        """Summary per feature, totals, verdict and where the reports are."""
        self._print()
        if not self.closed:
            try:
                self.console.print(summary_renderable(run))
            except BrokenPipeError:
                self.closed = True
                silence_stdout(self.stream)
        if run.undefined_steps:
            self._print(Text(f"{len(run.undefined_steps)} undefined step(s):", style="bold red"))
            for step in run.undefined_steps[:20]:
                self._print("  " + one_line(step, 200))
        if run.aborted:
            self._print(Text(f"Run stopped early: {one_line(run.aborted, 1000)}", style="bold yellow"))
        self._print()
        self._print(verdict_line(run))
        for path in report_paths:
            self._print(f"Report: {path}")

    def problems(self, run: RunResult) -> None:
        """What a ``--quiet`` run still lists: every failure, error, warning and defect, one line each."""
        for line in problem_lines(run, self.reason_width):
            self._print(line)


def implementation_label(run: RunResult) -> str:
    return implementation_name(run.options.get("implementation")) or "not declared"


def verdict_line(run: RunResult) -> Text:
    verdict = run.verdict
    line = Text("Verdict: ")
    line.append(verdict.value.upper(), style=VERDICT_STYLES.get(verdict, "bold"))
    scope = run_scope(run)
    if scope.selection:
        line.append(f" ({scope.short} scenarios selected)")
    return line


def problem_lines(run: RunResult, width: int | None = None) -> list[Text]:
    lines = []
    for scenario in run.scenarios:
        if scenario.outcome not in PROBLEMS:
            continue
        line = Text()
        line.append(f"{LABELS[scenario.outcome]:<6}", style=STYLES[scenario.outcome])
        line.append(f" {one_line(scenario.scenario_id, 120)}: {shorten_reason(scenario.reason or scenario.outcome.value, width)}")
        lines.append(line)
    return lines


def _counts(run: RunResult) -> dict[str, dict[Outcome, int]]:
    rows: dict[str, dict[Outcome, int]] = defaultdict(lambda: dict.fromkeys(Outcome, 0))
    for scenario in run.scenarios:
        rows[scenario.feature][scenario.outcome] += 1
    return rows


def summary_renderable(run: RunResult) -> Table:
    """One row per feature, a column per outcome (headed by the progress labels), totals at the foot."""
    table = Table(box=box.SIMPLE, show_footer=True, pad_edge=False, show_edge=False, header_style="bold", footer_style="bold")
    table.add_column("Feature", footer="All features", overflow="fold", ratio=1)
    for outcome in Outcome:
        table.add_column(LABELS[outcome], footer=str(run.count(outcome)), justify="right", no_wrap=True,
                         header_style=f"bold {STYLES[outcome]}" if run.count(outcome) else "bold")
    table.add_column("total", footer=str(len(run.scenarios)), justify="right", no_wrap=True)
    for feature, counts in _counts(run).items():
        table.add_row(_shorten(feature), *(str(counts[o]) for o in Outcome), str(sum(counts.values())))
    return table


def summary_table(run: RunResult, width: int = 120) -> list[str]:
    """The summary table as plain text lines (for tests and logs)."""
    console = Console(width=width, no_color=True, color_system=None, force_terminal=False, record=True,
                      file=io.StringIO())
    console.print(summary_renderable(run))
    return [line.rstrip() for line in console.export_text().splitlines() if line.strip()]


def _shorten(name: str, limit: int = 72) -> str:
    """Feature names often share a long prefix ("CAMARA ... - Operation x"): keep both ends."""
    text = one_line(name, 1000)
    if len(text) <= limit:
        return text
    head = limit // 2 - 1
    return text[:head] + "…" + text[-(limit - head - 1):]
