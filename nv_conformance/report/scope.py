"""What a run covered, in words every report uses: the whole suite, or a selection of N of M scenarios."""

from __future__ import annotations

from dataclasses import dataclass

from ..results import RunResult


@dataclass(frozen=True)
class Scope:
    selection: bool
    ran: int            # scenarios with a result
    selected: int       # scenarios the selection (or the whole suite) holds
    total: int | None   # scenarios in the suite, when known
    filters: str        # the tag expressions and name patterns that made the selection ("" for none)
    not_run: int        # scenarios an interrupted run never reached

    fuzz: bool = False  # a fuzz run: its "scenarios" are check x operation results

    @property
    def text(self) -> str:
        if self.fuzz:
            return f"fuzz run: {self.ran} check × operation results (seed and limits under Declared options)"
        if self.selection:
            of = f" of {self.total}" if self.total is not None else ""
            by = f" selected by {self.filters}" if self.filters else ""
            return f"selection: {self.selected}{of} scenarios{by}, {self.ran} run; the verdict covers them alone"
        stopped = f", {self.not_run} never run (stopped early)" if self.not_run else ""
        return f"all {self.selected} scenarios of the suite{stopped}"

    @property
    def short(self) -> str:
        """For page headers and terminal lines: "all 51" or "selection 1/51"."""
        if self.selection:
            return f"selection {self.selected}/{self.total if self.total is not None else '?'}"
        return f"all {self.selected}"


def run_scope(run: RunResult) -> Scope:
    tags = run.options.get("tags") or []
    names = run.options.get("names") or []
    filters = [f"tags ({t})" for t in ([tags] if isinstance(tags, str) else tags)]
    filters += [f"name /{n}/" for n in ([names] if isinstance(names, str) else names)]
    ran = len(run.scenarios)
    not_run = len(run.not_run)
    if run.selection is not None:
        return Scope(True, ran, run.selection.selected, run.selection.total, " and ".join(filters), not_run)
    if filters:  # an older results file: the selection was not counted
        return Scope(True, ran, ran + not_run, None, " and ".join(filters), not_run)
    return Scope(False, ran, ran + not_run, ran + not_run, "", not_run, fuzz=run.options.get("mode") == "fuzz")
