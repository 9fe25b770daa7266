"""An API version's OpenAPI contract as compiled validators.

The one source of truth for shapes, patterns and error codes: the checker validates
responses with it and the reference provider validates requests with it. Walking the
document (``$ref``, operation and response lookup, media types) happens here and nowhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator, ValidationError, validators
from referencing import Registry
from referencing.jsonschema import DRAFT4

from . import mediatype
from .errors import ConfigError
from .inputs import MAX_SPEC_FILE_BYTES, load_yaml, read_text_file, yaml_problem
from .profiles import get_profile

_BASE_URI = "urn:nv-conformance:contract"
_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class ContractError(ValueError):
    """The contract file is unreadable or lacks something the kit needs."""


class PointerNotFoundError(ContractError):
    """A JSON pointer (e.g. from a feature file) names nothing in the contract."""


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    scopes: tuple[str, ...]
    pointer: str
    has_request_body: bool
    request_body_required: bool


def python_pattern(pattern: str) -> str:
    """An OpenAPI (ECMA-262) regex for Python's ``re``: ``$`` becomes ``\\Z``.

    In ECMA-262 ``$`` matches only at the end of the string; in Python it also matches before a
    final newline, so ``"+447700900001\\n"`` would pass ``^\\+[1-9][0-9]{4,14}$``.
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            # a "]" right after "[" or "[^" is a literal
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                out.append("]")
                i += 1
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        elif char == "$" and not in_class:
            out.append(r"\Z")
        else:
            out.append(char)
        i += 1
    return "".join(out)


@cache
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The compiled Python form of an OpenAPI pattern (see :func:`python_pattern`)."""
    return re.compile(python_pattern(pattern))


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not compile_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# Draft 4 (what OpenAPI 3.0 schemas build on) with ECMA-262 end-of-string semantics for `pattern`.
ContractValidator = validators.extend(Draft4Validator, {"pattern": _ecma_pattern})


def normalise_pointer(pointer: str) -> str:
    """Accept ``#/a/b``, ``/a/b`` and ``a/b``; return ``/a/b``."""
    pointer = pointer.strip()
    if pointer.startswith("#"):
        pointer = pointer[1:]
    if not pointer.startswith("/"):
        pointer = "/" + pointer
    return pointer


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


class Contract:
    """A loaded OpenAPI 3.0 document with lookups the kit needs."""

    def __init__(self, document: dict[str, Any], source: str = "<memory>") -> None:
        if not isinstance(document, dict) or "paths" not in document:
            raise ContractError(f"{source}: not an OpenAPI document (no 'paths')")
        self.document = _string_keys(document)
        self.source = source
        resource = DRAFT4.create_resource(self.document)
        self._registry: Registry = Registry().with_resource(_BASE_URI, resource)
        self._validators: dict[str, Any] = {}

    # -- loading -----------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | Path) -> Contract:
        """The OpenAPI file at ``path``; ``$ref`` s into other files (``../common/CAMARA_common.yaml#/...``, as
        CAMARA's main branch writes them) are resolved relative to the file that holds them and bundled in."""
        path = Path(path)
        document = _read_document(path, "contract")
        return cls(_bundle(document, path), source=str(path))

    @classmethod
    def for_version(cls, version: str) -> Contract:
        """The kit's own contract of ``version`` (cached: contracts are immutable)."""
        return _contract_at(get_profile(version).contract_path)

    # -- plain facts -------------------------------------------------------------
    @property
    def version(self) -> str:
        return str(self.document.get("info", {}).get("version", ""))

    @cached_property
    def server_base_path(self) -> str:
        """Path part of the first server URL (``/number-verification/v2``)."""
        servers = self.document.get("servers") or [{}]
        url = servers[0].get("url", "")
        url = re.sub(r"^\{apiRoot\}", "", url)
        url = re.sub(r"^[a-z]+://[^/]+", "", url)
        return url.rstrip("/")

    @cached_property
    def operations(self) -> dict[str, Operation]:
        found: dict[str, Operation] = {}
        for path, item in (self.document.get("paths") or {}).items():
            for method in _HTTP_METHODS:
                op = item.get(method) if isinstance(item, dict) else None
                if not isinstance(op, dict) or "operationId" not in op:
                    continue
                scopes: list[str] = []
                for requirement in op.get("security") or self.document.get("security") or []:
                    for values in requirement.values():
                        scopes.extend(values)
                body = op.get("requestBody")
                escaped = path.replace("~", "~0").replace("/", "~1")
                found[op["operationId"]] = Operation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    scopes=tuple(scopes),
                    pointer=f"/paths/{escaped}/{method}",
                    has_request_body=body is not None,
                    request_body_required=bool(body and self.deref(body).get("required")),
                )
        return found

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            known = ", ".join(sorted(self.operations))
            raise ContractError(f"operation {operation_id!r} is not in the contract (known: {known})") from None

    def operation_for(self, method: str, path: str) -> Operation | None:
        for op in self.operations.values():
            if op.method == method.upper() and op.path == path:
                return op
        return None

    # -- pointers and validators -------------------------------------------------
    def resolve(self, pointer: str) -> Any:
        """The node at ``pointer``; raises PointerNotFoundError when there is none."""
        node: Any = self.document
        norm = normalise_pointer(pointer)
        for token in norm.split("/")[1:]:
            token = _unescape(token)
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise PointerNotFoundError(f"the contract has nothing at '#{norm}'")
        return node

    def deref(self, node: Any) -> Any:
        """``node`` with local ``$ref`` s followed until a node that is not a reference."""
        while isinstance(node, dict) and "$ref" in node and str(node["$ref"]).startswith("#"):
            node = self.resolve(node["$ref"])
        return node

    def inlined(self, pointer: str) -> Any:
        """The schema at ``pointer`` with every local ``$ref`` replaced by its target (a self-contained copy);
        ContractError for a recursive schema, which cannot be inlined. ``pattern`` s get Python semantics."""
        def inline(node: Any, seen: tuple[str, ...]) -> Any:
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith("#"):
                    if ref in seen:
                        raise ContractError(f"recursive schema at {ref}")
                    return inline(self.resolve(ref), (*seen, ref))
                return {key: python_pattern(value) if key == "pattern" and isinstance(value, str)
                        else inline(value, seen) for key, value in node.items()}
            if isinstance(node, list):
                return [inline(item, seen) for item in node]
            return node
        return inline(self.resolve(pointer), ())

    def validator_at(self, pointer: str) -> Any:
        """A compiled validator for the schema at ``pointer`` (e.g. ``#/components/schemas/X``)."""
        norm = normalise_pointer(pointer)
        cached = self._validators.get(norm)
        if cached is None:
            self.resolve(norm)  # raises PointerNotFoundError for a pointer that names nothing
            cached = ContractValidator({"$ref": f"{_BASE_URI}#{norm}"}, registry=self._registry)
            self._validators[norm] = cached
        return cached

    def errors_at(self, pointer: str, instance: Any) -> list[str]:
        """Human-readable schema violations of ``instance`` against the schema at ``pointer``."""
        return [_describe(e) for e in self.validator_at(pointer).iter_errors(instance)]

    def documented_statuses(self, operation_id: str) -> list[int]:
        op = self.operation(operation_id)
        responses = self.resolve(op.pointer).get("responses") or {}
        return sorted(int(s) for s in responses if s.isdigit())

    def response_pointer(self, operation_id: str, status: int) -> str | None:
        """Pointer of the response the contract documents for ``status`` (``4XX`` ranges too; a
        ``$ref`` is followed to the shared response); None when the status is undocumented."""
        op = self.operation(operation_id)
        responses = self.resolve(op.pointer).get("responses") or {}
        key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
        if key not in responses:
            return None
        node = responses[key]
        if isinstance(node, dict) and "$ref" in node:
            return normalise_pointer(node["$ref"])
        return f"{op.pointer}/responses/{key}"

    def response_schema_pointer(self, operation_id: str, status: int) -> str | None:
        """Pointer of the JSON schema of ``status`` for the operation, None if undocumented."""
        pointer = self.response_pointer(operation_id, status)
        if pointer is None:
            return None
        node = self.deref(self.resolve(pointer))
        content = (node or {}).get("content") or {}
        for media_type in content:
            if mediatype.essence(media_type) == mediatype.JSON:
                escaped = media_type.replace("~", "~0").replace("/", "~1")
                return f"{pointer}/content/{escaped}/schema"
        return None

    def required_response_properties(self, operation_id: str, status: int) -> frozenset[str]:
        """The properties the JSON schema of ``status`` requires (``allOf`` parts included); empty when
        the status is undocumented or its schema requires none."""
        pointer = self.response_schema_pointer(operation_id, status)
        found: set[str] = set()

        def collect(schema: Any) -> None:
            schema = self.deref(schema)
            if not isinstance(schema, dict):
                return
            found.update(str(name) for name in schema.get("required") or [])
            for part in schema.get("allOf") or []:
                collect(part)

        if pointer is not None:
            collect(self.resolve(pointer))
        return frozenset(found)

    def request_property_schema(self, operation_id: str, segments: list[str]) -> dict[str, Any] | None:
        """The request body's schema for the property at ``segments`` (``[]``: the body itself);
        ``{}`` when the schema says nothing about it, None when the operation has no body."""
        pointer = self.request_body_pointer(operation_id)
        if pointer is None:
            return None
        schema = self.deref(self.resolve(pointer))
        for part in segments:
            schema = self.deref(((schema if isinstance(schema, dict) else {}).get("properties") or {}).get(part) or {})
        return schema if isinstance(schema, dict) else {}

    def declared_request_properties(self, operation_id: str) -> frozenset[str] | None:
        """Property names the request body schema declares; None without an object schema."""
        schema = self.request_property_schema(operation_id, [])
        properties = schema.get("properties") if schema else None
        return frozenset(properties) if isinstance(properties, dict) else None

    def undeclared_request_properties(self, operation_id: str, body: Any) -> list[str]:
        """JSON paths of the properties of ``body`` its request schema does not declare, at any nesting level.

        For a version with "request body strictness" (profiles.yaml), which the spec states in prose:
        its schemas leave additionalProperties open. An object whose schema declares no properties is
        not judged (nothing says which names it may have).
        """
        pointer = self.request_body_pointer(operation_id)
        if pointer is None:
            return []
        found: list[str] = []
        self._undeclared(self.resolve(pointer), body, "$", found, 0)
        return found

    def _declared(self, schema: Any, depth: int = 0) -> dict[str, Any] | None:
        """The properties ``schema`` declares, its allOf/anyOf/oneOf branches included; None when it declares none."""
        schema = self.deref(schema)
        if not isinstance(schema, dict) or depth > 32:
            return None
        declared: dict[str, Any] | None = None
        if isinstance(schema.get("properties"), dict):
            declared = dict(schema["properties"])
        for key in ("allOf", "anyOf", "oneOf"):
            for branch in schema.get(key) or []:
                more = self._declared(branch, depth + 1)
                if more is not None:
                    declared = {**(declared or {}), **more}
        return declared

    def _undeclared(self, schema: Any, instance: Any, where: str, found: list[str], depth: int) -> None:
        if depth > 32:
            return
        schema = self.deref(schema)
        if isinstance(instance, dict):
            declared = self._declared(schema)
            if declared is None:
                return
            for name, value in instance.items():
                path = f"{where}.{name}"
                if name in declared:
                    self._undeclared(declared[name], value, path, found, depth + 1)
                else:
                    found.append(path)
        elif isinstance(instance, list) and isinstance(schema, dict) and schema.get("items") is not None:
            for index, item in enumerate(instance):
                self._undeclared(schema["items"], item, f"{where}[{index}]", found, depth + 1)

    def max_length_at(self, pointer: str) -> int | None:
        """The ``maxLength`` of the schema at ``pointer`` (``$ref`` s followed), None when it sets none."""
        schema = self.deref(self.resolve(pointer))
        limit = schema.get("maxLength") if isinstance(schema, dict) else None
        return limit if isinstance(limit, int) and not isinstance(limit, bool) else None

    def response_validator(self, operation_id: str, status: int) -> Any | None:
        pointer = self.response_schema_pointer(operation_id, status)
        return self.validator_at(pointer) if pointer else None

    def request_body_pointer(self, operation_id: str) -> str | None:
        op = self.operation(operation_id)
        if not op.has_request_body:
            return None
        body = self.resolve(op.pointer)["requestBody"]
        pointer = f"{op.pointer}/requestBody"
        if "$ref" in body:
            pointer = normalise_pointer(body["$ref"])
        return f"{pointer}/content/application~1json/schema"

    def allowed_error_codes(self, operation_id: str, status: int) -> frozenset[str] | None:
        """Codes the contract allows for ``status`` (from ``code`` enums); None when it does not say."""
        pointer = self.response_schema_pointer(operation_id, status)
        if pointer is None:
            return None
        codes: set[str] = set()
        self._collect_enum(self.deref(self.resolve(pointer)), "code", codes)
        return frozenset(codes) if codes else None

    def _collect_enum(self, schema: Any, prop: str, into: set[str]) -> None:
        schema = self.deref(schema)
        if not isinstance(schema, dict):
            return
        enum = ((schema.get("properties") or {}).get(prop) or {}).get("enum")
        if enum:
            into.update(str(v) for v in enum)
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(key) or []:
                self._collect_enum(sub, prop, into)

    @cached_property
    def x_correlator_pattern(self) -> re.Pattern[str] | None:
        """The x-correlator header pattern, None when the version allows any string."""
        for op in self.operations.values():
            for param in self.resolve(op.pointer).get("parameters") or []:
                param = self.deref(param)
                if param.get("in") == "header" and str(param.get("name", "")).lower() == "x-correlator":
                    schema = self.deref(param.get("schema") or {})
                    pattern = schema.get("pattern")
                    return compile_pattern(pattern) if pattern else None
        return None

    def x_correlator_is_valid(self, value: str) -> bool:
        pattern = self.x_correlator_pattern
        return pattern is None or pattern.search(value) is not None


BUNDLED = "x-nv-bundled"  # where the documents other files' $refs point into are kept, one key per file
_MAX_BUNDLED_FILES = 16


def _read_document(path: Path, what: str) -> Any:
    try:
        return load_yaml(read_text_file(path, "spec", max_bytes=MAX_SPEC_FILE_BYTES))
    except ConfigError as exc:
        raise ContractError(f"cannot read {what} {path}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ContractError(f"{what} {path} is not valid YAML{yaml_problem(exc)}") from None


def _bundle(document: Any, path: Path) -> Any:
    """``document`` with every ``$ref`` into another file rewritten to a local pointer under ``x-nv-bundled``.

    CAMARA's main-branch files take their error responses from ``../common/CAMARA_common.yaml``
    (release snapshots inline them). Each referenced file is read once, relative to the file whose
    ``$ref`` names it, and its own references (local or into further files) are rewritten the same
    way, so the rest of the kit sees one self-contained document. A missing file is a ContractError
    naming it; remote references (``http://...``) are not fetched.
    """
    if not isinstance(document, dict):
        return document
    keys: dict[Path, str] = {}
    bundled: dict[str, Any] = {}

    def key_for(target: Path, ref: str, holder: Path) -> str:
        target = target.resolve()
        if target in keys:
            return keys[target]
        if target == path.resolve():
            keys[target] = ""
            return ""
        if len(keys) >= _MAX_BUNDLED_FILES:
            raise ContractError(f"contract {path}: more than {_MAX_BUNDLED_FILES} referenced files")
        if not target.is_file():
            raise ContractError(f"contract {holder}: $ref {ref!r} names {target}, which does not exist")
        name = target.name.replace("~", "~0").replace("/", "~1")
        while name in bundled:
            name = f"_{name}"
        keys[target] = name
        bundled[name] = None  # reserved before its own references are followed (cycles)
        bundled[name] = rewrite(_read_document(target, "referenced file"), target, name)
        return name

    def rewrite(node: Any, holder: Path, own_key: str) -> Any:
        if isinstance(node, dict):
            out = {k: rewrite(v, holder, own_key) for k, v in node.items()}
            ref = node.get("$ref")
            if isinstance(ref, str):
                out["$ref"] = local(ref, holder, own_key)
            return out
        if isinstance(node, list):
            return [rewrite(v, holder, own_key) for v in node]
        return node

    def local(ref: str, holder: Path, own_key: str) -> str:
        file_part, _, fragment = ref.partition("#")
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", file_part):
            raise ContractError(f"contract {holder}: $ref {ref!r} is remote; the kit reads local files only")
        key = own_key if not file_part else key_for(holder.parent / file_part, ref, holder)
        fragment = normalise_pointer(fragment) if fragment else ""
        return f"#/{BUNDLED}/{key}{fragment}" if key else f"#{fragment}"

    result = rewrite(document, path, "")
    if bundled:
        result[BUNDLED] = bundled
    return result


def _string_keys(node: Any) -> Any:
    """Every mapping key as a string, as in JSON: YAML reads an unquoted ``200:`` response key as the int 200."""
    if isinstance(node, dict):
        return {k if isinstance(k, str) else str(k): _string_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_string_keys(v) for v in node]
    return node


def _describe(error: Any) -> str:
    where = "$" + "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in error.absolute_path)
    return f"{where}: {error.message}"


@cache
def _contract_at(path: Path) -> Contract:
    return Contract.from_file(path)
