"""The test result statement: one self-contained HTML file a certification reviewer can read and archive.

Rendered from ``templates/statement.html.j2`` with autoescaping; every value is redacted again on the
way out (the template's ``finalize``), whatever the records already did. This module only decides
what the reviewer sees first: the verdict, then what went wrong (failures, errors, warnings), then
the facts of the run; passing scenarios are collapsed. No scripts, no external assets, prints with
the verdict, target and page number on every page.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .. import __version__
from ..results import ExchangeRecord, Outcome, RunResult, ScenarioResult, declared_implementation
from .clauses import ClauseLabel, clause_label, contract_name
from .provenance import run_command, scenario_command
from .scope import run_scope
from .text import clauses_of, exchange_request, exchange_response, location_of, safe, safe_options

# What each verdict means, in the words of the statement (keyed by the verdict's value).
VERDICT_TEXT = {
    "conformant": "Every mandatory scenario ran and passed. Warnings, if any, are listed below; they do not "
                  "change the verdict.",
    "partial": "No scenario failed, but some mandatory scenarios were not carried out (skipped for missing inputs, "
               "or their test definition is defective), or no scenario passed at all; conformance is therefore not "
               "established for those clauses.",
    "not conformant": "At least one scenario failed (or the suite has undefined steps): see the findings below.",
    "inconclusive": "Nothing failed, but errors on the tester's side or in the environment (an unreachable target, "
                    "tokens refused for the tester's credentials, timeouts) kept scenarios from giving a verdict.",
    "selection passed": "Every selected scenario that ran passed. Only part of the suite was selected: this is "
                        "not a conformance verdict for the whole API.",
    "selection failed": "At least one selected scenario failed. Only part of the suite was selected.",
}
GENERIC_VERDICT_TEXT = "See the findings below."

# The outcomes a reviewer must look at, in the order the summary lists them.
FINDING_KINDS = (
    ("failed", "Failures", "The target broke a mandatory rule."),
    ("error", "Errors", "The tester's side or the environment kept these scenarios from a verdict; they say nothing "
                        "about the target."),
    ("warning", "Warnings", "A SHOULD rule, or one the version under test does not make mandatory, was broken; "
                            "the verdict does not change."),
    ("defective", "Defective test definitions", "The test itself is broken; no verdict on the target."),
)
DETAILED = {kind for kind, _, _ in FINDING_KINDS}


def _css_class(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")


def _css_string(value: Any) -> Markup:
    """A CSS string literal (for the print header): every character outside [A-Za-z0-9 .:/_-] escaped."""
    text = safe(value)
    escaped = "".join(c if re.fullmatch(r"[A-Za-z0-9 .:/_()-]", c) else f"\\{ord(c):06x}" for c in text)
    return Markup(f'"{escaped}"')


def _finalize(value: Any) -> Any:
    """Every ``{{ value }}`` is redacted; Markup the code built (escaped digests, links) is left as it is."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return safe(value)
    return value


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("nv_conformance.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["css_class"] = _css_class
    env.filters["css_string"] = _css_string
    return env


@dataclass
class ScenarioView:
    """One scenario as the statement shows it."""

    result: ScenarioResult
    anchor: str
    clauses: list[ClauseLabel]
    location: str
    command: str
    detailed: bool
    checks: list[tuple[Any, ClauseLabel]] = field(default_factory=list)
    last_exchange: ExchangeView | None = None
    earlier_exchanges: list[ExchangeView] = field(default_factory=list)

    @property
    def title(self) -> str:
        s = self.result
        return f"{s.scenario_id}: {s.name}" if s.scenario_id != s.name else s.name


@dataclass
class ExchangeView:
    request: str
    response: str
    reproduce: str


def write_html(run: RunResult, path: Path, *, bundle: dict[str, str] | None = None,
               results_sha256: str | None = None) -> Path:
    path.write_text(render_statement(run, bundle=bundle, results_sha256=results_sha256), encoding="utf-8")
    return path


def render_statement(run: RunResult, *, bundle: dict[str, str] | None = None, results_sha256: str | None = None) -> str:
    """``bundle``: the evidence bundle of this run (``name``, ``sha256``, ``thumbprint``), once it exists;
    ``results_sha256``: the digest of the results.json written beside this statement."""
    verdict = run.verdict.value
    contract = contract_name(run.api_version, run.options.get("spec"))
    views = [_scenario_view(run, s, i, contract) for i, s in enumerate(run.scenarios)]
    by_feature: dict[str, list[ScenarioView]] = defaultdict(list)
    for view in views:
        by_feature[view.result.feature].append(view)
    findings = []
    for kind, title, meaning in FINDING_KINDS:
        items = [v for v in views if v.result.outcome.value == kind]
        groups: dict[str, list[ScenarioView]] = {}
        for view in items:  # one line per distinct reason: 43 scenarios refused the same token are one problem
            groups.setdefault(view.result.reason or kind, []).append(view)
        findings.append({"kind": kind, "title": title, "meaning": meaning, "items": items,
                         "groups": list(groups.items())})
    outcomes = [o.value for o in Outcome]
    skipped_mandatory = [v for v in views if v.result.mandatory and v.result.outcome == Outcome.SKIPPED]
    template = _environment().get_template("statement.html.j2")
    return template.render(
        run=run,
        verdict=verdict,
        verdict_text=VERDICT_TEXT.get(verdict, GENERIC_VERDICT_TEXT),
        scope=run_scope(run),
        implementation=_implementation(run),
        facts=_facts(run, results_sha256),
        bundle=_bundle(bundle),
        options=_options(run),
        outcomes=outcomes,
        totals=[(o, run.count(Outcome(o))) for o in outcomes],
        summary=_summary(by_feature, outcomes),
        findings=findings,
        findings_total=sum(len(f["items"]) for f in findings),
        skipped_mandatory=skipped_mandatory,
        features=by_feature,
        detailed=[v for v in views if v.detailed],
        run_command=run_command(run),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        kit_version=__version__,
    ) + "\n"


def _anchor(scenario: ScenarioResult, index: int) -> str:
    return "s-" + re.sub(r"[^A-Za-z0-9_-]", "-", scenario.scenario_id)[:80] + f"-{index}"


def _scenario_view(run: RunResult, s: ScenarioResult, index: int, contract: str) -> ScenarioView:
    detailed = s.outcome.value in DETAILED
    view = ScenarioView(
        result=s, anchor=_anchor(s, index), clauses=[clause_label(c, contract) for c in clauses_of(s)],
        location=location_of(s), command=scenario_command(run, s), detailed=detailed,
    )
    if detailed:
        view.checks = [(c, clause_label(c.clause, contract)) for c in s.checks]
    if detailed and s.exchanges:
        view.last_exchange = _exchange(s.exchanges[-1])
        view.earlier_exchanges = [_exchange(x) for x in s.exchanges[:-1]]
    return view


def _exchange(exchange: ExchangeRecord) -> ExchangeView:
    return ExchangeView(exchange_request(exchange), exchange_response(exchange), safe(exchange.reproduce))


def _implementation(run: RunResult) -> dict[str, str] | None:
    return {k: safe(v) for k, v in declared_implementation(run.options.get("implementation")).items()} or None


def _duration(run: RunResult) -> str:
    try:
        start = datetime.fromisoformat(run.started_at)
        end = datetime.fromisoformat(run.finished_at)
    except (TypeError, ValueError):
        return "unknown"
    return f"{(end - start).total_seconds():.1f} s"


def _hex(value: Any) -> Markup:
    """A digest, shown whole (redaction would shorten any 64-hex string); anything else is not one."""
    text = str(value or "")
    return Markup(text) if re.fullmatch(r"[0-9a-f]{64}", text) else Markup("invalid digest")


def _facts(run: RunResult, results_sha256: str | None) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        ("Statement id", run.statement_id),
        ("Target", run.target),
        ("API version", run.api_version),
        ("Kit version", run.kit_version),
        ("Kit git commit", run.git_commit or "unknown"),
        ("Started", run.started_at),
        ("Finished", run.finished_at or "not finished"),
        ("Duration", _duration(run)),
    ]
    if run.aborted:
        rows.append(("Stopped early", run.aborted))
    if results_sha256:
        rows.append(("results.json SHA-256", _hex(results_sha256)))
    return rows


def _bundle(bundle: dict[str, str] | None) -> dict[str, Any] | None:
    if not bundle:
        return None
    command = f"nv-conformance verify-bundle {bundle.get('name')} --thumbprint={bundle.get('thumbprint')}"
    return {"name": bundle.get("name"), "sha256": _hex(bundle.get("sha256")), "command": command}


# Declared options, in groups a reviewer scans; whatever a group does not name is shown under "Other".
_OPTION_GROUPS = (
    ("Target", ("config", "api_root", "api_version", "base_path", "spec", "tester_kit", "fault")),
    ("Tokens", ("tokens",)),
    ("HTTP", ("http.",)),
    ("TLS", ("tls.",)),
    ("Test data", ("test_data.",)),
    ("Run", ("run.", "tags", "names", "features", "mode", "jobs")),
)


def _options(run: RunResult) -> list[tuple[str, list[tuple[str, str]]]]:
    options = {k: v for k, v in safe_options(run.options).items() if k != "implementation"}
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    taken: set[str] = set()
    for title, prefixes in _OPTION_GROUPS:
        rows = []
        for key, value in options.items():
            if key in taken or not any(key == p or (p.endswith(".") and key.startswith(p)) for p in prefixes):
                continue
            taken.add(key)
            if key == "tokens" and isinstance(value, dict):
                rows += [(f"tokens.{kind}", _format_option(method)) for kind, method in value.items()]
            else:
                rows.append((key, _format_option(value)))
        if rows:
            groups.append((title, rows))
    rest = [(k, _format_option(v)) for k, v in options.items() if k not in taken]
    if rest:
        groups.append(("Other", rest))
    return groups


def _format_option(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_format_option(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(_format_option(v) for v in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _summary(by_feature: dict[str, list[ScenarioView]], outcomes: list[str]) -> list[tuple[str, list[int], int]]:
    rows = []
    for feature, views in by_feature.items():
        counts = [sum(1 for v in views if v.result.outcome.value == o) for o in outcomes]
        rows.append((feature, counts, len(views)))
    return rows
