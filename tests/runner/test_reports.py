"""Reports: what CI, a reviewer and a script read after a run, and that nothing secret is in them."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from nv_conformance.report import HTML_FILE, JSON_FILE, JUNIT_FILE, write_reports
from nv_conformance.report.provenance import kit_git_commit, run_command, scenario_command
from nv_conformance.resources import kit_root
from nv_conformance.results import Outcome

from .sample_runs import FORBIDDEN, clean_run, leaky_run

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}


class StrictTreeChecker(HTMLParser):
    """Fails on unbalanced tags; records scripts, external references and visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []
        self.scripts = 0
        self.external: list[str] = []
        self.ids: set[str] = set()
        self.links: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)
            if name == "href" and value and value.startswith("#"):
                self.links.add(value[1:])
            if name == "id" and value:
                self.ids.add(value)
            if name.startswith("on"):
                self.errors.append(f"event handler attribute {name}")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack[-1:] != ["style"]:  # the stylesheet is not text a reader sees
            self.text.append(data)


def visible_text(page: str) -> str:
    checker = StrictTreeChecker()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    return " ".join(" ".join(checker.text).split())


@pytest.fixture
def leaky_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(kit_root())  # behave's locations are relative to the working directory
    paths = write_reports(leaky_run(), tmp_path / "reports")
    return {p.name: p for p in paths}


def test_three_reports_are_written(leaky_reports: dict[str, Path]) -> None:
    assert set(leaky_reports) == {JUNIT_FILE, JSON_FILE, HTML_FILE}
    assert all(p.stat().st_size > 0 for p in leaky_reports.values())


def test_no_secret_survives_in_any_report(leaky_reports: dict[str, Path]) -> None:
    for path in leaky_reports.values():
        raw = path.read_text(encoding="utf-8")
        # also look through JSON/HTML/XML escaping
        decoded = json.dumps(json.loads(raw)) if path.suffix == ".json" else raw
        for secret in FORBIDDEN:
            assert secret not in raw, f"{secret[:12]}… leaked into {path.name}"
            assert secret not in decoded
        assert "PRIVATE KEY-----\nMIG" not in raw
        assert "BEGIN PRIVATE KEY" not in raw or "(private key redacted)" in raw


JUNIT_XSD_CANDIDATES = [
    Path(os.environ["NV_JUNIT_XSD"]) if os.environ.get("NV_JUNIT_XSD") else None,
    Path(os.environ["NV_CAMARA_OFFICIAL"]).parent / "junit" / "junit-10.xsd" if os.environ.get("NV_CAMARA_OFFICIAL") else None,
    kit_root().parent / "shared" / "junit" / "junit-10.xsd",
]
JUNIT_XSD = next((p for p in JUNIT_XSD_CANDIDATES if p is not None and p.is_file()), None)


def test_junit_is_valid_for_ci(leaky_reports: dict[str, Path]) -> None:
    root = ET.parse(leaky_reports[JUNIT_FILE]).getroot()
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 5 + 1  # five scenarios + the undefined-steps case
    assert root.get("tests") == "6" and root.get("failures") == "1" and root.get("errors") == "1"
    failures = root.findall(".//failure")
    assert len(failures) == 1
    assert "breaks the schema" in failures[0].get("message", "")
    assert "HTTP 200" in (failures[0].text or "")  # the response that failed
    assert "nv-conformance run" in (failures[0].text or "")
    assert "Location: features/verify.feature:12" in (failures[0].text or "")
    skipped = [s.get("message", "") for s in root.findall(".//skipped")]
    assert len(skipped) == 3 and any(m.startswith("defective:") for m in skipped)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert suites["Number verification: verify"].get("tests") == "4"
    assert suites["Number verification: verify"].get("file") == "features/verify.feature"
    props = {p.get("name"): p.get("value") for p in suites["Device phone number"].findall("./properties/property")}
    assert props["verdict"] == "not conformant" and props["api_version"] == "vwip"
    assert props["implementation"] == "not declared" and props["statement_id"]
    case = suites["Number verification: verify"].find("testcase")
    assert case is not None and case.get("classname") == "verify"  # the feature file, no dots
    assert "location: features/verify.feature:12" in (case.findtext("system-out") or "")
    for case in cases:
        float(case.get("time", "x"))
        assert "." not in (case.get("classname") or "")


@pytest.mark.skipif(JUNIT_XSD is None, reason="the JUnit schema (shared/junit/junit-10.xsd) is not on this machine")
def test_junit_follows_the_junit_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import xmlschema

    monkeypatch.chdir(kit_root())
    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    for name, run in (("leaky", leaky_run()), ("reviewer", _reviewer_run()), ("clean", clean_run())):
        path = {p.name: p for p in write_reports(run, tmp_path / name)}[JUNIT_FILE]
        errors = [str(e.reason) for e in schema.iter_errors(str(path))]
        assert errors == [], f"{name}: {errors[:3]}"


def test_junit_errors_and_warnings(tmp_path: Path) -> None:
    root = ET.parse({p.name: p for p in write_reports(_reviewer_run(), tmp_path)}[JUNIT_FILE]).getroot()
    errors = [e for e in root.iter("error") if e.get("type") == "TesterError"]
    assert len(errors) == 1 and "invalid_client" in errors[0].get("message", "")
    assert root.get("errors") == "1" and root.get("failures") == "1"
    outputs = [c.findtext("system-out") or "" for c in root.iter("testcase")]
    assert any("WARNING: lifetime at most 300 s: 3600" in o for o in outputs)
    props = {p.get("name"): p.get("value") for p in root.find("testsuite").iter("property")}
    assert props["implementation.organization"] == "Example Operator" and props["implementation.version"] == "3.1"


def test_classname_is_the_feature_file_without_dots() -> None:
    from nv_conformance.report.junit import classname

    from .sample_runs import scenario

    s = scenario("01 x", Outcome.PASSED)
    s.location = "/work/official/NumberVerification_v2.1.0-verify.feature:3"
    assert classname(s) == "NumberVerification_v2_1_0-verify"


def test_json_is_the_run_result(leaky_reports: dict[str, Path]) -> None:
    data = json.loads(leaky_reports[JSON_FILE].read_text(encoding="utf-8"))
    assert data["format"] == "nv-conformance-results/1"
    assert data["verdict"] == "not conformant"
    assert data["totals"] == {"passed": 1, "failed": 1, "warning": 0, "skipped": 2, "not applicable": 0,
                              "defective": 1, "error": 0}
    assert [s["outcome"] for s in data["scenarios"]] == ["passed", "failed", "skipped", "skipped", "defective"]
    assert data["options"]["client_secret"] == "(redacted)"
    assert data["scenarios"][1]["exchanges"][0]["request_headers"]["Authorization"] == "Bearer (redacted)"


def test_html_statement_is_self_contained_and_well_formed(leaky_reports: dict[str, Path]) -> None:
    text = leaky_reports[HTML_FILE].read_text(encoding="utf-8")
    checker = StrictTreeChecker()
    checker.feed(text)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    assert checker.scripts == 0  # the scenario name's <script> was escaped, not executed
    assert checker.external == []
    assert checker.links <= checker.ids  # every "details" link lands on its failure
    visible = "".join(checker.text)
    assert "Verdict: not conformant" in visible
    assert "https://api.example.com/number-verification/vwip" in visible
    assert "vwip" in visible and "0.1.0" in visible
    assert "0123456789abcdef0123456789abcdef01234567" in visible  # kit commit
    assert "2026-11-26T12:00:00+00:00" in visible
    assert "/etc/nv/target.yaml" in visible  # declared options
    assert "<script>alert(1)</script>" in visible  # shown as text
    assert "vwip POST /verify 200 response schema" in visible  # the clause each scenario checks
    for outcome in ("passed", "failed", "skipped", "defective"):
        assert outcome in visible
    # the failure: the request and response, and commands that reproduce it
    assert "POST https://api.example.com/number-verification/vwip/verify" in visible
    assert "HTTP 200" in visible
    assert "Authorization: Bearer (redacted)" in visible
    assert "nv-conformance run --config /etc/nv/target.yaml --api-version vwip --tags @phone_number_verify_02" in visible
    assert "curl -X POST" in visible
    assert "Undefined steps" in visible


@pytest.mark.parametrize(("skipped_mandatory", "verdict"), [(False, "conformant"), (True, "partial")])
def test_verdicts_in_statement(tmp_path: Path, skipped_mandatory: bool, verdict: str) -> None:
    run = clean_run(skipped_mandatory=skipped_mandatory)
    assert run.exit_code == (4 if skipped_mandatory else 0)  # partial: 4 (0 only with --allow-partial)
    paths = {p.name: p for p in write_reports(run, tmp_path)}
    checker = StrictTreeChecker()
    checker.feed(paths[HTML_FILE].read_text(encoding="utf-8"))
    assert checker.errors == []
    assert f"Verdict: {verdict}" in "".join(checker.text)
    assert json.loads(paths[JSON_FILE].read_text())["verdict"] == verdict
    root = ET.parse(paths[JUNIT_FILE]).getroot()
    assert root.findall(".//failure") == []


def test_git_commit_filled_when_missing(tmp_path: Path) -> None:
    run = clean_run()
    write_reports(run, tmp_path)
    assert run.git_commit == kit_git_commit()
    assert run.git_commit == "unknown" or len(run.git_commit.split("-")[0]) == 40


def test_reproduce_commands() -> None:
    run = leaky_run()
    failed = next(s for s in run.scenarios if s.outcome == Outcome.FAILED)
    assert scenario_command(run, failed) == (
        "nv-conformance run --config /etc/nv/target.yaml --api-version vwip --tags @phone_number_verify_02"
    )
    assert run_command(run) == "nv-conformance run --config /etc/nv/target.yaml --api-version vwip --tags 'not @slow'"
    embedded = clean_run()
    assert run_command(embedded) == "nv-conformance run --api-version v2.1.0"


def test_unwritable_report_dir_is_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    from nv_conformance.errors import KitError

    with pytest.raises(KitError, match="cannot write reports"):
        write_reports(clean_run(), blocker / "reports")


def test_clause_falls_back_to_the_checks_and_masked_numbers_stay_readable(tmp_path: Path) -> None:
    run = clean_run()
    run.scenarios[0].clauses = []  # e.g. CAMARA's own feature files declare none
    run.options = {"test_data.phone_number": "+44770090****"}
    text = {p.name: p for p in write_reports(run, tmp_path)}[HTML_FILE].read_text(encoding="utf-8")
    assert "vwip POST /verify responses" in text  # cited by the scenario's checks
    assert "+44770090****" in text


def test_redaction_twice_keeps_masked_numbers_distinguishable() -> None:
    from nv_conformance.redact import redact

    once = redact('{"devicePhoneNumber": "+447700900123", "other": "+447700900124"}')
    assert redact(once) == once
    assert "+44770090****" in once
    assert redact("+447700900123*") != "+447700900123*"  # a real number next to a star is still masked


def test_locations_are_shown_relative_to_the_kit_or_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nv_conformance.report.text import location_of

    run = clean_run()
    elsewhere = tmp_path / "a" / "b"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    scenario = run.scenarios[0]
    scenario.location = "../official/verify.feature:7"
    assert location_of(scenario) == f"{tmp_path / 'a' / 'official' / 'verify.feature'}:7"
    scenario.location = "/".join([".."] * len(elsewhere.parts)) + f"{kit_root()}/features/x.feature:3"
    assert location_of(scenario) == "features/x.feature:3"


def test_bearer_prose_and_challenges_stay_readable_tokens_do_not() -> None:
    from nv_conformance.redact import redact

    assert redact('www-authenticate: Bearer realm="nv", error="invalid_token"') == (
        'www-authenticate: Bearer realm="nv", error="invalid_token"')
    assert redact("RFC 6750 section 2.1: the credentials use the Bearer scheme") .endswith("Bearer scheme")
    for token in ("abc123==", "opaque-123", "tokenABC123", "realm=abcdef"):
        assert token not in redact(f"Authorization: Bearer {token}")


def test_tag_selection_is_stated_next_to_the_verdict(tmp_path: Path) -> None:
    from nv_conformance.results import Selection

    run = clean_run()
    run.options = {"tags": ["@nv_verify_01"]}
    run.selection = Selection(selected=2, total=51)
    text = {p.name: p for p in write_reports(run, tmp_path)}[HTML_FILE].read_text(encoding="utf-8")
    visible = visible_text(text)
    assert "Verdict: selection passed" in visible and "conformant" not in visible.split("Test result statement", 1)[1]
    assert "selection: 2 of 51 scenarios selected by tags (@nv_verify_01), 2 run; the verdict covers them alone" in visible


def test_fuzz_runs_are_repeated_with_the_fuzz_command_and_seed():
    from nv_conformance.report.provenance import scenario_command
    from nv_conformance.results import Outcome, RunResult, ScenarioResult

    run = RunResult(
        target="embedded reference", api_version="vwip", kit_version="0", git_commit="x", started_at="now",
        options={"mode": "fuzz", "fuzz": {"seed": 42, "max_examples": 30, "duration_limit_s": 20.0}},
    )
    scenario = ScenarioResult(feature="fuzz", name="no 5xx", tags=["fuzz_no_5xx_phoneNumberVerify"], outcome=Outcome.FAILED)
    command = scenario_command(run, scenario)
    assert command.startswith("nv-conformance fuzz ") and "--seed 42" in command and "--api-version vwip" in command
    assert "--tags" not in command


def test_a_scenario_without_id_tag_is_repeated_by_a_name_regex_that_matches_itself(tmp_path: Path) -> None:
    import re
    import shlex

    from nv_conformance.report import scenario_command

    from .sample_runs import clean_run

    run = clean_run()
    scenario = run.scenarios[0]
    scenario.name = "Hashed number (upper case hex) + [v2.*] verified?"
    scenario.tags = []
    argv = shlex.split(scenario_command(run, scenario))
    pattern = argv[argv.index("--name") + 1]
    assert re.search(pattern, scenario.name)
    assert not re.search(pattern, "Hashed number upper case hex + v2x verified")


def _reviewer_run():
    """A run with every kind of finding, a declared implementation and a request that carried a number."""
    from nv_conformance.results import CheckRecord

    from .sample_runs import leaky_exchange, scenario

    run = leaky_run()
    run.undefined_steps = []
    run.options["implementation"] = {"organization": "Example Operator", "product": "NV Gateway", "version": "3.1",
                                     "contact": "nv@example.com"}
    run.options["tokens"] = {"valid": "jwt-bearer (client c1, ES256)", "expired": "static"}
    run.scenarios[0].clauses = ["contract:#/paths/~1verify/post/responses/200"]
    error = scenario("06 token refused", Outcome.ERROR, reason="token endpoint answered 401 invalid_client")
    warning = scenario("07 long token", Outcome.WARNING, reason="expires_in 3600 [advisory]", exchanges=[leaky_exchange()])
    warning.checks.append(CheckRecord("lifetime at most 300 s", "vwip info.description: 300 s", False, "3600", advisory=True))
    run.scenarios += [error, warning]
    return run


def test_statement_puts_findings_first_and_folds_passing_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(kit_root())
    paths = {p.name: p for p in write_reports(_reviewer_run(), tmp_path)}
    page = paths[HTML_FILE].read_text(encoding="utf-8")
    checker = StrictTreeChecker()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.links <= checker.ids
    text = visible_text(page)
    findings = text.index("Findings")
    assert text.index("Verdict: not conformant") < findings < text.index("Declared options")
    summary = text[findings:text.index("Run ", findings)]
    for heading in ("Failures (1)", "Errors (1)", "Warnings (1)", "Defective test definitions (1)"):
        assert heading in summary
    assert "token endpoint answered 401 invalid_client" in summary and "expires_in 3600" in summary
    # each finding links to its detail, and the detail holds the request
    import re

    anchors = re.findall(r'<li><a href="#([^"]+)">', page[page.index('id="findings"'):page.index("<h2>Run</h2>")])
    assert len(anchors) == 4 and all(f'id="{a}"' in page for a in anchors)
    # passing rows are folded away, the others are not
    folded = page[page.index('<details class="passed">'):]
    assert "phone_number_verify_01" in folded[:folded.index("</details>")]
    assert page.index("phone_number_verify_02") < page.index('<details class="passed">')


def test_statement_names_implementation_options_digest_clauses_and_placeholders(tmp_path: Path) -> None:
    import hashlib

    paths = {p.name: p for p in write_reports(_reviewer_run(), tmp_path)}
    page = paths[HTML_FILE].read_text(encoding="utf-8")
    text = visible_text(page)
    assert "Implementation under test Example Operator NV Gateway 3.1 (contact nv@example.com)" in text
    assert "tokens.valid jwt-bearer (client c1, ES256)" in text and "tokens.expired static" in text
    run = json.loads(paths[JSON_FILE].read_text(encoding="utf-8"))
    assert f"Statement id {run['statement_id']}" in text
    assert f"results.json SHA-256 {hashlib.sha256(paths[JSON_FILE].read_bytes()).hexdigest()}" in text
    assert "POST /verify 200 response, contract vwip #/paths/~1verify/post/responses/200" in text
    assert "PHONE_NUMBER to the full number the request sent" in text and "HASHED_PHONE_NUMBER to the lowercase SHA-256" in text
    # print: verdict, target and page on every page; headings kept with what follows
    assert '@top-left { content: "Verdict: not conformant"' in page
    assert 'counter(page) " of " counter(pages)' in page
    assert "break-after: avoid-page" in page


def test_print_header_cannot_break_out_of_its_css_string(tmp_path: Path) -> None:
    run = clean_run()
    run.target = 'http://x/"; } body { display: none } </style><script>alert(1)</script>'
    page = {p.name: p for p in write_reports(run, tmp_path)}[HTML_FILE].read_text(encoding="utf-8")
    style = page[page.index("<style>"):page.index("</style>")]
    assert "<script>" not in style and '"; }' not in style and "</style" not in style[8:]
    checker = StrictTreeChecker()
    checker.feed(page)
    assert checker.scripts == 0


def test_results_schema_is_published_and_matches_the_model(leaky_reports: dict[str, Path]) -> None:
    import jsonschema

    from nv_conformance.report.json_report import SCHEMA_FILE, results_schema, schema_problems
    from nv_conformance.results import Verdict

    def results_problems(path: Path) -> list[str]:
        return schema_problems(json.loads(path.read_text(encoding="utf-8")))

    schema = results_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert SCHEMA_FILE.parent.name == "report"  # shipped in the package, beside its writer
    assert schema["$defs"]["outcome"]["enum"] == [o.value for o in Outcome]
    assert schema["$defs"]["verdict"]["enum"] == [v.value for v in Verdict]
    assert results_problems(leaky_reports[JSON_FILE]) == []
    data = json.loads(leaky_reports[JSON_FILE].read_text(encoding="utf-8"))
    assert [s["id"] for s in data["scenarios"]][:2] == ["phone_number_verify_01", "phone_number_verify_02"]
    assert data["stopped_early"] is False and data["scope"]["selection"] is True
    data["scenarios"][0]["mandatory"] = "yes"  # a string where a boolean is meant
    leaky_reports[JSON_FILE].write_text(json.dumps(data), encoding="utf-8")
    assert any("mandatory" in p for p in results_problems(leaky_reports[JSON_FILE]))
    data["scenarios"][0]["mandatory"] = True
    leaky_reports[JSON_FILE].write_text(json.dumps(data), encoding="utf-8")  # valid again for the autouse check
