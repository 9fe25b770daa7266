"""Request-body validation from the contract, fast enough for the API's hot path.

jsonschema resolves every ``$ref`` through the registry on each call, which was half of
the API's CPU time per request. ``BodyValidator`` decides with a dereferenced copy of the
contract's own schema and asks ``Contract.errors_at`` (the checker's code path) to explain
a failure, so the verdict and the message both come from schemas/.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft4Validator

from nv_conformance.contract import Contract


class _Cyclic(Exception):
    pass


def _inline(contract: Contract, node: Any, seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            if ref in seen:
                raise _Cyclic(ref)
            return _inline(contract, contract.resolve(ref), (*seen, ref))
        return {key: _inline(contract, value, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(contract, item, seen) for item in node]
    return node


class BodyValidator:
    def __init__(self, contract: Contract, pointer: str) -> None:
        self._contract = contract
        self._pointer = pointer
        try:
            self._fast: Draft4Validator | None = Draft4Validator(_inline(contract, contract.resolve(pointer)))
        except _Cyclic:
            self._fast = None  # a recursive schema cannot be inlined: use the contract's validator only

    def errors(self, instance: Any) -> list[str]:
        """Violations of the request-body schema; empty when the body is valid."""
        if self._fast is not None and self._fast.is_valid(instance):
            return []
        return self._contract.errors_at(self._pointer, instance)
