"""The machine-readable results file: ``RunResult.to_dict()`` with every string redacted again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..redact import redact_headers, redact_json
from ..results import RunResult
from .text import safe_options

RESULTS_FORMAT = "nv-conformance-results/1"


def results_document(run: RunResult) -> dict[str, Any]:
    data = run.to_dict()
    for scenario in data["scenarios"]:
        for exchange in scenario["exchanges"]:
            exchange["request_headers"] = redact_headers(exchange.get("request_headers") or {})
            exchange["response_headers"] = redact_headers(exchange.get("response_headers") or {})
    data = redact_json(data)
    data["options"] = safe_options(run.options)
    return {"format": RESULTS_FORMAT, **data}


def write_json(run: RunResult, path: Path) -> Path:
    path.write_text(json.dumps(results_document(run), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path
