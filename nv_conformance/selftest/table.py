"""The self-test's table and score, as Markdown (for docs/selftest.md and the terminal)."""

from __future__ import annotations

from .runner import Judgement, Role, SelftestResult

MAX_LISTED = 4


def verdict_text(judgement: Judgement) -> str:
    if judgement.kind is Role.FAULTY:
        if not judgement.ok:
            return "**NOT CAUGHT**"
        warned = judgement.variant is not None and judgement.variant.warns_at(judgement.run.api_version)
        return "caught (warning)" if warned else "caught"
    return "passes all" if judgement.ok else "**FALSE ALARM**"


def caught_by_text(judgement: Judgement) -> str:
    if judgement.kind is not Role.FAULTY:
        return "; ".join(judgement.problems) or "-"
    if not judgement.caught_by:
        return "; ".join(judgement.problems) or "-"
    counts: dict[str, int] = {}
    for scenario_id in judgement.caught_by:  # the examples of an outline share one id
        counts[scenario_id] = counts.get(scenario_id, 0) + 1
    shown = [f"`{s}`" + (f" (x{n})" if n > 1 else "") for s, n in counts.items()]
    listed = ", ".join(shown[:MAX_LISTED])
    more = len(shown) - MAX_LISTED
    return listed + (f" (+{more} more)" if more > 0 else "")


def score_lines(result: SelftestResult) -> list[str]:
    caught, faulty = result.score(Role.FAULTY)
    accepted, benign = result.score(Role.BENIGN)
    control_ok, _ = result.score(Role.CONTROL)

    def pct(a: int, b: int) -> str:
        return f"{100 * a / b:.0f} %" if b else "n/a"

    by_warning = sum(1 for j in result.of_kind(Role.FAULTY)
                     if j.ok and j.variant is not None and j.variant.warns_at(result.api_version))
    warned = f", {by_warning} by a warning (a rule API {result.api_version} only advises)" if by_warning else ""
    return [
        f"Faulty variants caught: {caught}/{faulty} ({pct(caught, faulty)}){warned}",
        f"Benign variants passing every scenario: {accepted}/{benign} ({pct(accepted, benign)})",
        f"Correct reference (control) passes every scenario: {'yes' if control_ok else 'NO'}",
    ]


def not_applicable_line(result: SelftestResult) -> str:
    """Faulty variants whose rule the version under test does not have (legal there, so not run)."""
    if not result.not_applicable:
        return ""
    names = ", ".join(f"`{v.name}`" for v in result.not_applicable)
    return f"Not run in API {result.api_version}, where they break no rule: {names}."


def markdown(result: SelftestResult, *, descriptions: bool = True) -> str:
    header = "| variant | kind | verdict | caught by (scenarios that failed, or warned where the rule is advisory) |"
    rule = "|---|---|---|---|"
    if descriptions:
        header = "| variant | kind | bug / liberty | verdict | caught by (scenarios that failed, or warned where the rule is advisory) |"
        rule = "|---|---|---|---|---|"
    rows = [header, rule]
    for j in result.judgements:
        description = j.variant.description if j.variant else "the correct reference provider"
        cells = [f"`{j.name}`", j.kind]
        if descriptions:
            cells.append(description.replace("|", "\\|"))
        cells += [verdict_text(j), caught_by_text(j).replace("|", "\\|")]
        rows.append("| " + " | ".join(cells) + " |")
    skipped = not_applicable_line(result)
    if skipped:
        rows += ["", skipped]
    scenarios = len(result.judgements[0].run.scenarios) if result.judgements else 0
    footer = [f"API version {result.api_version}, {scenarios} scenarios per variant; {result.seconds} s wall clock, "
              f"{result.cpu_seconds} s CPU in the worker processes.", ""]
    return "\n".join(rows + [""] + [f"- {line}" for line in score_lines(result)] + [""] + footer)
