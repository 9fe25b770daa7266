"""The test result statement: one self-contained HTML file a certification reviewer can read and archive.

No scripts, no external assets (inline CSS only), prints cleanly. Every value is redacted
again and HTML-escaped here, whatever the records already did.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..results import ExchangeRecord, Outcome, RunResult, ScenarioResult, Verdict
from .provenance import run_command, scenario_command
from .text import clauses_of, exchange_request, exchange_response, location_of, safe, safe_options

VERDICT_TEXT = {
    Verdict.CONFORMANT: "Every mandatory scenario ran and passed.",
    Verdict.PARTIAL: (
        "No scenario failed, but some mandatory scenarios were not carried out (skipped for missing inputs, "
        "or their test definition is defective), or no scenario passed at all; conformance is therefore not "
        "established for those clauses."
    ),
    Verdict.NOT_CONFORMANT: "At least one scenario failed (or the suite has undefined steps): see Failures.",
    Verdict.INCONCLUSIVE: ("No scenario failed, but errors on the tester's side or in the environment (unreachable "
                           "target, a token that could not be obtained) kept scenarios from giving an answer."),
    Verdict.SELECTION_PASSED: "Every selected scenario that ran passed; the verdict covers the selection alone.",
    Verdict.SELECTION_FAILED: "At least one selected scenario failed: see Failures.",
}

_CSS = """
:root { --ok:#1b7a3a; --bad:#b3261e; --skip:#8a6d00; --def:#5b4b8a; --line:#d0d4da; --muted:#5c6370; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:#1f2328; margin:0 auto;
       max-width: 1200px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.verdict { display:inline-block; font-size: 20px; font-weight: 700; padding: 8px 16px; border-radius: 6px; color:#fff; }
.verdict-conformant { background: var(--ok); } .verdict-partial { background: var(--skip); }
.verdict-not-conformant, .verdict-selection-failed { background: var(--bad); }
.verdict-inconclusive { background: var(--def); } .verdict-selection-passed { background: var(--ok); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f3f4f6; } table.facts th { width: 220px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.scenarios td:nth-child(1) { width: 26%; } table.scenarios td:nth-child(2) { width: 30%; }
table.scenarios td:nth-child(6) { width: 28%; }
.o { font-weight: 700; text-transform: uppercase; font-size: 12px; white-space: nowrap; }
th { overflow-wrap: normal; }
.o-passed { color: var(--ok); } .o-failed { color: var(--bad); } .o-skipped { color: var(--skip); }
.o-defective, .o-error { color: var(--def); } .o-warning { color: var(--skip); }
.o-not-applicable { color: var(--muted); }
tr.row-failed td { background: #fdf1f0; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: 8px; overflow-x: auto; white-space: pre-wrap;
      word-break: break-word; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 4px 0 10px; }
article.failure { border-left: 4px solid var(--bad); padding: 2px 0 2px 14px; margin: 18px 0; }
.muted { color: var(--muted); } code { font-family: ui-monospace, monospace; font-size: 12px; }
details summary { cursor: pointer; color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
@media print { body { max-width: none; padding: 0; } details { display: block; } a { color: inherit; } }
"""


def e(value: Any) -> str:
    """Redacted and HTML-escaped."""
    return html.escape(safe(value), quote=True)


def write_html(run: RunResult, path: Path, *, bundle: dict[str, str] | None = None) -> Path:
    path.write_text(render_statement(run, bundle=bundle), encoding="utf-8")
    return path


def render_statement(run: RunResult, *, bundle: dict[str, str] | None = None) -> str:
    """``bundle``: the evidence bundle of this run (``name``, ``sha256``, ``thumbprint``), once it exists."""
    verdict = run.verdict
    verdict_class = "verdict-" + verdict.value.replace(" ", "-")
    failed = [s for s in run.scenarios if s.outcome == Outcome.FAILED]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Test result statement: {e(run.target)} ({e(run.api_version)}): {e(verdict.value)}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<header><h1>Test result statement</h1>",
        '<p class="sub">CAMARA Number Verification API conformance, produced by nv-conformance</p>',
        f'<div class="verdict {verdict_class}" id="verdict">Verdict: {e(verdict.value)}</div>',
        f"<p>{e(VERDICT_TEXT[verdict])}</p>",
        f'<p class="o o-failed">Run stopped early: {e(run.aborted)}</p>' if run.aborted else "",
        _selection_note(run),
        "</header>",
        _run_facts(run, bundle),
        _options(run),
        _summary(run),
        _scenarios(run),
    ]
    if failed:
        parts.append("<h2 id=\"failures\">Failures</h2>")
        parts.append('<p class="muted">For each failed scenario: what was checked, the request and response that '
                     "failed (tokens, keys and phone numbers redacted) and commands that reproduce it.</p>")
        parts += [_failure(run, s) for s in failed]
    if run.undefined_steps:
        items = "".join(f"<li><code>{e(step)}</code></li>" for step in run.undefined_steps)
        parts.append(f'<h2 id="undefined">Undefined steps</h2><p>These steps have no implementation; the run '
                     f"cannot be conformant until they do.</p><ul>{items}</ul>")
    parts += [
        '<h2 id="reproduce">Reproduce</h2>',
        "<p>This run again, with the same target, version, features and selection:</p>",
        f"<pre>{html.escape(safe(run_command(run)))}</pre>",
        _bundle_check(bundle),
        '<p class="muted">Secrets are not part of this statement: the config file names where tokens come from '
        "(environment variables, key files); supply the same inputs to repeat the run.</p>",
        f"<footer>Generated {e(_now())} by nv-conformance {e(__version__)}. Access tokens, keys, operator tokens and "
        "phone numbers are redacted throughout. This file is self-contained and needs no network access.</footer>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _selection_note(run: RunResult) -> str:
    """A run filtered by tags covers part of the suite: say so next to the verdict."""
    tags = run.options.get("tags")
    if not tags:
        return ""
    expressions = " and ".join(f"({t})" for t in ([tags] if isinstance(tags, str) else tags))
    return (f'<p><strong>Scope:</strong> only the scenarios selected by the tag expression {e(expressions)} '
            f"({len(run.scenarios)} scenarios); the verdict applies to them alone.</p>")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(run: RunResult) -> str:
    try:
        start = datetime.fromisoformat(run.started_at)
        end = datetime.fromisoformat(run.finished_at)
    except (TypeError, ValueError):
        return "unknown"
    return f"{(end - start).total_seconds():.1f} s"


def _table(rows: list[tuple[str, Any]], css: str = "facts", *, redacted: bool = False) -> str:
    """``redacted=True``: the values were already made safe (only escaped here)."""
    value = (lambda v: html.escape(str(v), quote=True)) if redacted else e
    body = "".join(f"<tr><th>{e(k)}</th><td>{value(v)}</td></tr>" for k, v in rows)
    return f'<table class="{css}">{body}</table>'


def _run_facts(run: RunResult, bundle: dict[str, str] | None = None) -> str:
    rows = [
        ("Statement id", run.statement_id),
        ("Target", run.target),
        ("API version", run.api_version),
        ("Kit version", run.kit_version),
        ("Kit git commit", run.git_commit or "unknown"),
        ("Started", run.started_at),
        ("Finished", run.finished_at or "not finished"),
        ("Duration", _duration(run)),
        *([("Stopped early", run.aborted)] if run.aborted else []),
        ("Scenarios", f"{len(run.scenarios)} ("
         + ", ".join(f"{run.count(o)} {o.value}" for o in Outcome) + ")"),
    ]
    facts = _table(rows)
    if bundle:  # a digest, shown whole (redact would shorten any 64-hex string); escaped all the same
        facts = facts.replace("</table>", f'<tr><th>Evidence bundle SHA-256</th><td id="bundle-sha256"><code>'
                              f'{html.escape(_hex(bundle.get("sha256")))}</code> ({e(bundle.get("name"))})</td></tr></table>')
    return "<h2>Run</h2>" + facts


def _hex(value: Any) -> str:
    text = str(value or "")
    return text if re.fullmatch(r"[0-9a-f]{64}", text) else "invalid digest"


def _bundle_check(bundle: dict[str, str] | None) -> str:
    if not bundle:
        return ""
    command = f"nv-conformance verify-bundle {bundle.get('name')} --thumbprint={bundle.get('thumbprint')}"
    return (f"<p>Check the evidence bundle of this run (signature, every file's SHA-256, the verdict, "
            f"redaction):</p><pre>{e(command)}</pre>")


def _options(run: RunResult) -> str:
    if not run.options:
        return "<h2>Declared options</h2><p class=\"muted\">None recorded.</p>"
    rows = [(k, _format_option(v)) for k, v in safe_options(run.options).items()]
    return "<h2>Declared options</h2>" + _table(rows, redacted=True)


def _format_option(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_format_option(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(_format_option(v) for v in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _by_feature(run: RunResult) -> dict[str, list[ScenarioResult]]:
    groups: dict[str, list[ScenarioResult]] = defaultdict(list)
    for scenario in run.scenarios:
        groups[scenario.feature].append(scenario)
    return groups


def _summary(run: RunResult) -> str:
    head = "<tr><th>Feature</th>" + "".join(f'<th class="num">{o.value}</th>' for o in Outcome) + '<th class="num">total</th></tr>'
    rows = []
    for feature, scenarios in _by_feature(run).items():
        counts = [sum(1 for s in scenarios if s.outcome == o) for o in Outcome]
        rows.append(f"<tr><td>{e(feature)}</td>" + "".join(f'<td class="num">{c}</td>' for c in counts)
                    + f'<td class="num">{len(scenarios)}</td></tr>')
    totals = "".join(f'<th class="num">{run.count(o)}</th>' for o in Outcome)
    rows.append(f"<tr><th>All features</th>{totals}<th class=\"num\">{len(run.scenarios)}</th></tr>")
    return f"<h2>Summary</h2><table>{head}{''.join(rows)}</table>"


def _anchor(scenario: ScenarioResult, index: int) -> str:
    return "s-" + re.sub(r"[^A-Za-z0-9_-]", "-", scenario.scenario_id)[:80] + f"-{index}"


def _scenarios(run: RunResult) -> str:
    parts = ["<h2>Scenarios</h2>",
             '<p class="muted">Each scenario, the clause of the specification it checks, and its outcome. '
             "Optional scenarios do not affect the verdict.</p>"]
    index = {id(s): i for i, s in enumerate(run.scenarios)}
    for feature, scenarios in _by_feature(run).items():
        parts.append(f"<h3>{e(feature)}</h3>")
        parts.append('<table class="scenarios"><tr><th>Scenario</th><th>Clause checked</th><th>Mandatory</th><th>Outcome</th>'
                     '<th class="num">Time</th><th>Note</th></tr>')
        for s in scenarios:
            clauses = "<br>".join(e(c) for c in clauses_of(s)) or '<span class="muted">not declared</span>'
            name = f"<code>{e(s.scenario_id)}</code><br>{e(s.name)}" if s.scenario_id != s.name else e(s.name)
            note = e(s.reason)
            if s.outcome == Outcome.FAILED:
                note = f'<a href="#{_anchor(s, index[id(s)])}">details</a>: {note}'
            parts.append(
                f'<tr class="row-{s.outcome.value.replace(" ", "-")}"><td>{name}</td><td>{clauses}</td>'
                f"<td>{'yes' if s.mandatory else 'no'}</td>"
                f'<td><span class="o o-{s.outcome.value.replace(" ", "-")}">{e(s.outcome.value)}</span></td>'
                f'<td class="num">{s.duration_s:.2f} s</td><td>{note}</td></tr>'
            )
        parts.append("</table>")
    return "\n".join(parts)


def _exchange(exchange: ExchangeRecord) -> str:
    parts = ["<h4>Request</h4>", f"<pre>{html.escape(exchange_request(exchange))}</pre>",
             "<h4>Response</h4>", f"<pre>{html.escape(exchange_response(exchange))}</pre>"]
    if exchange.reproduce:
        parts += ["<h4>Reproduce this request</h4>", f"<pre>{e(exchange.reproduce)}</pre>"]
    return "\n".join(parts)


def _failure(run: RunResult, s: ScenarioResult) -> str:
    index = run.scenarios.index(s)
    title = f"<code>{e(s.scenario_id)}</code> {e(s.name)}" if s.scenario_id != s.name else e(s.name)
    parts = [f'<article class="failure" id="{_anchor(s, index)}"><h3>{title}</h3>',
             _table([("Feature", s.feature), ("Location", location_of(s) or "unknown"),
                     ("Clause(s)", "; ".join(clauses_of(s)) or "not declared"), ("Reason", s.reason or "failed")])]
    if s.checks:
        rows = "".join(
            f'<tr class="row-{"passed" if c.passed else "failed"}"><td>{e(c.description)}</td><td>{e(c.clause)}</td>'
            f'<td><span class="o o-{"passed" if c.passed else "failed"}">{"held" if c.passed else "failed"}</span></td>'
            f"<td>{e(c.detail)}</td></tr>"
            for c in s.checks
        )
        parts.append(f"<table><tr><th>Check</th><th>Clause</th><th>Result</th><th>Detail</th></tr>{rows}</table>")
    if s.exchanges:
        parts.append(_exchange(s.exchanges[-1]))
        if len(s.exchanges) > 1:
            earlier = "\n".join(_exchange(x) for x in s.exchanges[:-1])
            parts.append(f"<details><summary>{len(s.exchanges) - 1} earlier exchange(s) in this scenario</summary>"
                         f"{earlier}</details>")
    else:
        parts.append('<p class="muted">No HTTP exchange was recorded for this scenario.</p>')
    parts += ["<h4>Reproduce this scenario</h4>", f"<pre>{html.escape(safe(scenario_command(run, s)))}</pre>",
              "</article>"]
    return "\n".join(parts)
