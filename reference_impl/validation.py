"""Request-body validation from the contract, fast enough for the API's hot path.

The verdict and the message both come from the contract in schemas/: the body schema is
the contract's own (inlined once by ``Contract.inlined``), and every failure is explained by
``Contract.errors_at``, the checker's code path. Only the yes/no decision for a *valid*
body takes a shortcut: jsonschema (which resolves every ``$ref`` on each call) cost about
40-90 us per request, fastjsonschema's compiled check about 5 us. Should the two ever
disagree, jsonschema wins: a body fastjsonschema rejects but ``errors_at`` accepts is
valid, and tests/reference/test_validation.py checks they agree on a corpus of bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastjsonschema

from nv_conformance.contract import Contract, ContractError, ContractValidator


def _fast_check(schema: dict[str, Any]) -> Callable[[Any], bool]:
    """A yes/no check compiled from ``schema``; jsonschema's (slower) one when fastjsonschema cannot compile it."""
    try:
        compiled = fastjsonschema.compile({**schema, "$schema": "http://json-schema.org/draft-04/schema#"})
    except (fastjsonschema.JsonSchemaDefinitionException, ValueError, TypeError, RecursionError):
        return ContractValidator(schema).is_valid

    def check(instance: Any) -> bool:
        try:
            compiled(instance)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return check


class BodyValidator:
    """The request body of one operation: the contract's schema, plus its declared property names where
    the version's profile demands request body strictness (a rule the spec states in prose)."""

    def __init__(self, contract: Contract, pointer: str, *, operation_id: str = "", strict: bool = False) -> None:
        self._contract = contract
        self._pointer = pointer
        self._operation_id = operation_id
        self._strict = strict and bool(operation_id)
        try:
            schema = contract.inlined(pointer)
        except ContractError:
            schema = None  # a recursive schema cannot be inlined: use the contract's validator only
        self.fast_is_valid: Callable[[Any], bool] | None = _fast_check(schema) if isinstance(schema, dict) else None

    def errors(self, instance: Any) -> list[str]:
        """Violations of the request-body schema (from ``Contract.errors_at``); empty when the body is valid."""
        if self._strict:
            undeclared = self._contract.undeclared_request_properties(self._operation_id, instance)
            if undeclared:
                return [f"{path}: a property this API does not declare (request body strictness)" for path in undeclared]
        if self.fast_is_valid is not None and self.fast_is_valid(instance):
            return []
        return self._contract.errors_at(self._pointer, instance)
