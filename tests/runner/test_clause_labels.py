"""Clause labels: a reviewer reads the operation and response, and the pointer is still there to check."""

from __future__ import annotations

import pytest

from nv_conformance.report.clauses import clause_label, contract_name


@pytest.mark.parametrize(("clause", "text", "pointer"), [
    ("contract:#/paths/~1verify/post/responses/200", "POST /verify 200 response, contract v2.1.0",
     "#/paths/~1verify/post/responses/200"),
    ("contract:#/paths/~1verify/post/responses/200/content/application~1json/schema",
     "POST /verify 200 response body schema (application/json), contract v2.1.0",
     "#/paths/~1verify/post/responses/200/content/application~1json/schema"),
    ("contract:#/paths/~1verify/post/requestBody (required: true)",
     "POST /verify request body (required: true), contract v2.1.0", "#/paths/~1verify/post/requestBody"),
    ("contract:#/components/responses/Generic401", "Generic401 response, contract v2.1.0",
     "#/components/responses/Generic401"),
    ("contract:#/components/schemas/PhoneNumber (pattern ^\\+[1-9][0-9]{4,14}$)",
     "PhoneNumber schema (pattern ^\\+[1-9][0-9]{4,14}$), contract v2.1.0", "#/components/schemas/PhoneNumber"),
    ("Commonalities 0.6 x-correlator", "Commonalities 0.6 x-correlator", ""),
    ("contract:#/info", "contract:#/info", ""),  # nothing to spell out: shown as written
])
def test_clause_labels(clause: str, text: str, pointer: str) -> None:
    label = clause_label(clause, "v2.1.0")
    assert (label.text, label.pointer) == (text, pointer)


def test_contract_named_by_version_or_spec_file() -> None:
    assert contract_name("vwip", "kit contract for the version") == "vwip"
    assert contract_name("vwip", "/tmp/specs/nv-operator.yaml") == "nv-operator.yaml"
