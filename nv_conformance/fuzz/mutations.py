"""CAMARA-aware mutations of POST /verify bodies: the near-misses a generic fuzzer rarely draws.

schemathesis' negative mode breaks the phone-number pattern with arbitrary strings; the mistakes
real implementations make are about *almost* valid numbers ("447700900001" without '+', "0044...",
spaces, 16 digits, a 63-character hash). A share of the generated bodies is replaced by one of
these; the checks classify every request against the contract, so each mutant is judged correctly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MUTATED_PROPERTY = "phoneNumber"  # the request body property the near misses replace
MUTATION_SHARE = 4  # one fuzzed verify body in this many is mutated (a counter: the run stays reproducible)

_SAMPLE_NUMBER = "+447700900123"
_SAMPLE_HASH = "8c36a6cf7c5c0fdc4ef1a7bd3b8fd60bb8cdb02d3b5e8d01a7c7b5c8d5e4f3a2"


def _number(body: dict[str, Any]) -> str:
    value = body.get("phoneNumber")
    return value if isinstance(value, str) and value.startswith("+") and value[1:].isdigit() else _SAMPLE_NUMBER


def _hash(body: dict[str, Any]) -> str:
    value = body.get("hashedPhoneNumber")
    return value if isinstance(value, str) and len(value) == 64 else _SAMPLE_HASH


MUTATIONS: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
    ("number without '+'", lambda b: {"phoneNumber": _number(b)[1:]}),
    ("number with 00 instead of '+'", lambda b: {"phoneNumber": "00" + _number(b)[1:]}),
    ("number with a space", lambda b: {"phoneNumber": _number(b)[:3] + " " + _number(b)[3:]}),
    ("number with a dash", lambda b: {"phoneNumber": _number(b)[:3] + "-" + _number(b)[3:]}),
    ("number with a leading zero", lambda b: {"phoneNumber": "+0" + _number(b)[1:]}),
    ("number of 16 digits", lambda b: {"phoneNumber": "+" + (_number(b)[1:] * 2)[:16]}),
    ("number of 4 digits", lambda b: {"phoneNumber": _number(b)[:5]}),
    ("tel: URI instead of a number", lambda b: {"phoneNumber": "tel:" + _number(b)}),
    ("number as a JSON number", lambda b: {"phoneNumber": int(_number(b)[1:])}),
    ("hash of 63 characters", lambda b: {"hashedPhoneNumber": _hash(b)[:63]}),
    ("hash with a non-hex character", lambda b: {"hashedPhoneNumber": _hash(b)[:63] + "g"}),
    ("plain and hashed number together", lambda b: {"phoneNumber": _number(b), "hashedPhoneNumber": _hash(b)}),
    ("unknown property only", lambda b: {"msisdn": _number(b)}),
)


def mutate(body: Any, index: int) -> Any:
    """Mutation ``index`` (modulo the list) applied to a verify body; non-objects are left alone."""
    if not isinstance(body, dict):
        return body
    _, mutation = MUTATIONS[index % len(MUTATIONS)]
    return mutation(body)
