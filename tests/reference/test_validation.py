"""The API's fast request-body check agrees with the contract's validator (the checker's code path)."""

from __future__ import annotations

import hashlib
import itertools
import json

import pytest

from nv_conformance.contract import Contract
from nv_conformance.profiles import versions
from reference_impl.validation import BodyValidator

from .test_api import MALFORMED

VALUES = ["+447700900001", "447700900001", "+0447700900001", "+1234", "+12345", "+123456789012345",
          "+1234567890123456", "", " +447700900001", "+447700900001\n", hashlib.sha256(b"+1").hexdigest(),
          hashlib.sha256(b"+1").hexdigest().upper(), "g" * 64, "a" * 63, "a" * 65, None, True, 12345, 1.5,
          [], {}, ["+447700900001"]]
KEYS = ["phoneNumber", "hashedPhoneNumber", "other", "PhoneNumber"]


def corpus() -> list:
    bodies: list = [None, True, 0, "x", [], {}]
    for key, value in itertools.product(KEYS, VALUES):
        bodies.append({key: value})
    for (k1, v1), (k2, v2) in itertools.combinations(itertools.product(KEYS[:3], VALUES[:6]), 2):
        if k1 != k2:
            bodies.append({k1: v1, k2: v2})
    for raw in MALFORMED.values():
        try:
            bodies.append(json.loads(raw))
        except (ValueError, RecursionError):
            pass
    return bodies


@pytest.mark.parametrize("version", versions())
def test_the_api_verdict_is_the_contracts(version):
    contract = Contract.for_version(version)
    pointer = contract.request_body_pointer("phoneNumberVerify")
    validator = BodyValidator(contract, pointer)
    assert validator.fast_is_valid is not None
    # the dangerous direction: the shortcut accepting what the contract refuses
    accepted_wrongly = [body for body in corpus() if validator.fast_is_valid(body) and contract.errors_at(pointer, body)]
    assert not accepted_wrongly, accepted_wrongly[:5]
    disagreements = [body for body in corpus()
                     if bool(validator.errors(body)) != bool(contract.errors_at(pointer, body))]
    assert not disagreements, disagreements[:5]


def test_trailing_newline_is_refused_as_in_ecma_262():
    """OpenAPI patterns are ECMA-262: '$' matches only at the very end. Python's re would also match
    before a final newline; the contract's validator and the fast check both translate '$', so
    '+447700900001\n' is invalid for the checker and the API alike."""
    contract = Contract.for_version("vwip")
    pointer = contract.request_body_pointer("phoneNumberVerify")
    validator = BodyValidator(contract, pointer)
    body = {"phoneNumber": "+447700900001\n"}
    assert contract.errors_at(pointer, body)
    assert validator.errors(body) == contract.errors_at(pointer, body)
    assert validator.fast_is_valid is not None and not validator.fast_is_valid(body)
