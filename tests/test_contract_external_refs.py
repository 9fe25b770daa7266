"""A main-branch OpenAPI file whose responses are $refs into ../common/CAMARA_common.yaml works as --spec.

The files here are written by the test in the layout of CAMARA's repository
(code/API_definitions/ beside code/common/), from the kit's own vwip contract.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nv_conformance.config import load_config
from nv_conformance.contract import Contract, ContractError
from nv_conformance.errors import ConfigError
from nv_conformance.profiles import get_profile

ROOT = Path(__file__).resolve().parents[1]
COMMON_REF = "../common/CAMARA_common.yaml"


def _split_contract(code: Path) -> Path:
    """The vwip contract with its 400/401 responses and ErrorInfo moved to ../common/CAMARA_common.yaml."""
    document = yaml.safe_load(get_profile("vwip").contract_path.read_text(encoding="utf-8"))
    responses = document["components"]["responses"]
    common = {"openapi": "3.0.3", "info": {"title": "CAMARA common", "version": "0.9.0"}, "paths": {},
              "components": {"schemas": {"ErrorInfo": document["components"]["schemas"]["ErrorInfo"],
                                         "XCorrelator": document["components"]["schemas"]["XCorrelator"]},
                             "headers": {"x-correlator": {"schema": {"$ref": "#/components/schemas/XCorrelator"}}},
                             "responses": {}}}
    for name in ("BadRequest400", "Unauthenticated401"):
        response = responses.pop(name)
        response["headers"] = {"x-correlator": {"$ref": "#/components/headers/x-correlator"}}
        common["components"]["responses"][name] = response
    for item in document["paths"].values():
        for operation in item.values():
            for status, name in (("400", "BadRequest400"), ("401", "Unauthenticated401")):
                operation["responses"][status] = {"$ref": f"{COMMON_REF}#/components/responses/{name}"}
    (code / "API_definitions").mkdir(parents=True)
    (code / "common").mkdir()
    (code / "common" / "CAMARA_common.yaml").write_text(yaml.safe_dump(common), encoding="utf-8")
    spec = code / "API_definitions" / "number-verification.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return spec


def test_references_into_another_file_are_resolved_relative_to_the_spec(tmp_path):
    contract = Contract.from_file(_split_contract(tmp_path / "code"))
    assert contract.allowed_error_codes("phoneNumberVerify", 400) == {"INVALID_ARGUMENT"}
    assert contract.allowed_error_codes("phoneNumberShare", 401) == {"UNAUTHENTICATED"}
    pointer = contract.response_schema_pointer("phoneNumberVerify", 400)
    assert pointer is not None and "CAMARA_common.yaml" in pointer
    assert contract.errors_at(pointer, {"status": 400, "code": "INVALID_ARGUMENT", "message": "m"}) == []
    assert contract.errors_at(pointer, {"status": 400, "code": "OUT_OF_RANGE", "message": "m"}) != []
    # the common file's own local references point into the common file, not into the spec
    header = contract.deref(contract.resolve(contract.response_pointer("phoneNumberVerify", 400) + "/headers/x-correlator"))
    assert header["schema"]["$ref"] == "#/x-nv-bundled/CAMARA_common.yaml/components/schemas/XCorrelator"
    assert contract.errors_at(header["schema"]["$ref"], "a" * 300) != []


def test_a_missing_referenced_file_is_one_line_naming_it(tmp_path):
    spec = _split_contract(tmp_path / "code")
    (tmp_path / "code" / "common" / "CAMARA_common.yaml").unlink()
    with pytest.raises(ContractError, match="CAMARA_common.yaml, which does not exist"):
        Contract.from_file(spec)
    with pytest.raises(ConfigError) as caught:
        load_config(None, api_version="vwip", spec=str(spec))
    assert "\n" not in str(caught.value) and "CAMARA_common.yaml" in str(caught.value)


def test_a_remote_reference_is_refused(tmp_path):
    spec = _split_contract(tmp_path / "code")
    spec.write_text(spec.read_text().replace(COMMON_REF, "https://example.com/CAMARA_common.yaml"))
    with pytest.raises(ContractError, match="remote"):
        Contract.from_file(spec)


@pytest.mark.slow
def test_run_with_a_main_branch_spec_passes_against_the_reference(tmp_path):
    spec = _split_contract(tmp_path / "code")
    done = subprocess.run([sys.executable, "-m", "nv_conformance.cli", "run", "--api-version", "vwip", "--spec", str(spec),
                           "--report-dir", str(tmp_path / "r"), "--quiet"], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("verdict: conformant"), done.stdout


def test_missing_file_on_the_command_line_is_one_line(tmp_path):
    spec = _split_contract(tmp_path / "code")
    (tmp_path / "code" / "common" / "CAMARA_common.yaml").unlink()
    done = subprocess.run([sys.executable, "-m", "nv_conformance.cli", "run", "--api-version", "vwip", "--spec", str(spec),
                           "--no-reports", "--quiet"], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 2
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and "CAMARA_common.yaml" in lines[0] and "Traceback" not in lines[0]
