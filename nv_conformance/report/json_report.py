"""The machine-readable results file: ``RunResult.to_dict()`` with every string redacted again.

Its format is published as a JSON Schema beside this module (``results.schema.json``); the tests
validate every results file they make against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..redact import redact_headers, redact_json
from ..results import RunResult
from .scope import run_scope
from .text import safe_options

RESULTS_FORMAT = "nv-conformance-results/1"
SCHEMA_FILE = Path(__file__).with_name("results.schema.json")


def results_document(run: RunResult) -> dict[str, Any]:
    data = run.to_dict()
    for scenario in data["scenarios"]:
        for exchange in scenario["exchanges"]:
            exchange["request_headers"] = redact_headers(exchange.get("request_headers") or {})
            exchange["response_headers"] = redact_headers(exchange.get("response_headers") or {})
    data = redact_json(data)
    data["options"] = safe_options(run.options)
    scope = run_scope(run)
    data["stopped_early"] = bool(run.aborted)
    data["scope"] = {"selection": scope.selection, "selected": scope.selected, "total": scope.total, "ran": scope.ran,
                     "not_run": scope.not_run, "text": scope.text}
    return {"format": RESULTS_FORMAT, **data}


def results_schema() -> dict[str, Any]:
    """The published JSON Schema of results.json."""
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def write_json(run: RunResult, path: Path) -> Path:
    path.write_text(json.dumps(results_document(run), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def schema_problems(document: Any) -> list[str]:
    """Where ``document`` breaks the published schema ("path: message"); empty when it is a valid results file."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(results_schema())
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:200]}"
            for e in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))]
