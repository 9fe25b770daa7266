"""The CAMARA checks the fuzzer applies to every response, as plain functions.

Each check takes the contract facts (:class:`CheckEnv`) and one :class:`FuzzExchange` and
returns ``None`` when it does not apply, ``[]`` when it held, or the problems it found.
They know nothing of schemathesis: :mod:`.runner` runs them from one registered custom check.
The contract and the version profile are the only sources of expectations. Where a scenario
judges the same rule (x-correlator echo, success schemas, error body shape and codes), the judgement is the
shared function of :mod:`nv_conformance.checks`; this module only decides when it applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from .. import checks, mediatype
from ..contract import Contract
from ..profiles import VersionProfile
from .exchange import FuzzExchange, has_json

CheckResult = list[str] | None
_X_CORRELATOR_CLAUSE = "Commonalities: x-correlator echoed in the response"

NO_TOKEN_PROBE = "no-token"
REUSED_TOKEN = "token-reused"  # ex.memo key: the exchange carried a token the kit had handed out before


@dataclass(frozen=True)
class CheckEnv:
    """What the checks compare against: the version's contract and profile."""

    contract: Contract
    profile: VersionProfile


class RequestKind(StrEnum):
    VALID = "valid"                  # the contract accepts the request
    INVALID = "invalid"              # the contract rejects it and the version demands 400 INVALID_ARGUMENT
    TOLERATED = "tolerated"          # breaks a pattern the version does not make a 400 (x-correlator before 0.6)
    MEDIA_TYPE = "media-type"        # a body sent with a media type the operation does not accept
    OTHER_METHOD = "other-method"    # a method the operation does not declare


def classify_request(env: CheckEnv, ex: FuzzExchange) -> tuple[RequestKind, list[str]]:
    """Is the request valid per the contract, and if not, what does the version demand? (kind, reasons)."""
    cached = ex.memo.get("request_kind")
    if cached is None:
        cached = ex.memo["request_kind"] = _classify(env, ex)
    return cached


def _classify(env: CheckEnv, ex: FuzzExchange) -> tuple[RequestKind, list[str]]:
    if not ex.declared_method:
        return RequestKind.OTHER_METHOD, [f"{ex.method} is not declared for {ex.operation_id}"]
    must_reject: list[str] = []
    tolerated: list[str] = []
    correlator = ex.request_headers.get("x-correlator")
    if correlator is not None and not env.contract.x_correlator_is_valid(correlator):
        reason = "x-correlator breaks the contract's pattern"
        (must_reject if env.profile.invalid_x_correlator_is_400 else tolerated).append(reason)
    op = env.contract.operation(ex.operation_id)
    if op.has_request_body:
        if ex.request_body is not None and not mediatype.is_json(ex.request_media_type, absent_is_json=True):
            return RequestKind.MEDIA_TYPE, [f"body sent as {ex.request_media_type or 'no media type'}"]
        if ex.request_body is None:
            if op.request_body_required:
                must_reject.append("the required request body is missing")
        elif not has_json(ex.request_json):
            must_reject.append("the request body is not JSON")
        else:
            pointer = env.contract.request_body_pointer(ex.operation_id)
            if pointer:
                must_reject.extend(f"request body {e}" for e in env.contract.errors_at(pointer, ex.request_json))
    if must_reject:
        return RequestKind.INVALID, must_reject
    if tolerated:
        return RequestKind.TOLERATED, tolerated
    return RequestKind.VALID, []


def _printable_ascii(value: str) -> bool:
    return all(" " <= ch <= "~" for ch in value)


def _error_code(ex: FuzzExchange) -> str | None:
    body = ex.response_json
    return body.get("code") if isinstance(body, dict) else None


# -- the checks ------------------------------------------------------------------------
def no_server_error(env: CheckEnv, ex: FuzzExchange) -> CheckResult:
    if ex.status >= 500:
        return [f"server error {ex.status}"]
    return []


def json_media_type(env: CheckEnv, ex: FuzzExchange) -> CheckResult:
    if ex.method == "HEAD" or ex.status in (204, 304) or not ex.response_body:
        return None
    if ex.response_media_type != mediatype.JSON:
        shown = ex.response_headers.get("content-type") or "no Content-Type"
        return [f"{ex.status} response has media type {shown!r}, expected application/json"]
    return []


def error_body(env: CheckEnv, ex: FuzzExchange) -> CheckResult:
    """Every 4xx body is ``{status, code, message}``, ``status`` the HTTP status, ``code`` one the version allows."""
    if not 400 <= ex.status < 500:
        return None
    body = ex.response_json
    problems = checks.error_body_problems(ex.status, body)
    if isinstance(body, dict) and isinstance(body.get("code"), str):  # another type is a shape problem, named above
        record = checks.error_code_in_contract(env.contract, ex.operation_id, ex.status, body)
        if record is not None and not record.passed:
            problems.append(f"{record.description}: {record.detail}")
    return problems


def x_correlator_echo(env: CheckEnv, ex: FuzzExchange) -> CheckResult:
    """A non-empty x-correlator the contract accepts must come back unchanged.

    Only printable ASCII values are judged: HTTP gives no portable meaning to other octets in a
    header, so whether a server may echo them is not a conformance question.
    """
    sent = ex.request_headers.get("x-correlator")
    if not sent or not _printable_ascii(sent) or not env.contract.x_correlator_is_valid(sent):
        return None
    record = checks.value_echoed(sent, ex.response_headers.get("x-correlator"), _X_CORRELATOR_CLAUSE)
    return [] if record.passed else [record.detail]


def success_schema(env: CheckEnv, ex: FuzzExchange) -> CheckResult:
    """A 2xx is documented for the operation and its body matches the contract's schema."""
    if not 200 <= ex.status < 300:
        return None
    is_json = has_json(ex.response_json)
    record = checks.body_complies(env.contract, ex.operation_id, ex.status, ex.response_json if is_json else None,
                                  is_json=is_json)
    return [] if record.passed else [f"{ex.status}: {record.description}: {record.detail}"]


def other_media_type_refused(env: CheckEnv, ex: FuzzExchange) -> CheckResult:
    """A body sent with a media type other than application/json is not served (advisory: a warning).

    The contract documents only application/json request bodies, but no CAMARA text makes reading a
    JSON body sent as text/plain a violation; a 2xx is reported as a warning, never a finding. How the
    refusal is worded (400 or 415, its code) is judged by ``error_body`` like any 4xx.
    """
    if ex.probe:
        return None
    kind, reasons = classify_request(env, ex)
    if kind is not RequestKind.MEDIA_TYPE:
        return None
    if 200 <= ex.status < 300:
        return [f"{'; '.join(reasons[:3])}: answered {ex.status} instead of 400 or 415"]
    return []


def negative_data_rejected(env: CheckEnv, ex: FuzzExchange) -> CheckResult:
    """A request the contract rejects gets 400 INVALID_ARGUMENT (other media types: ``other_media_type_refused``)."""
    if ex.probe:
        return None
    kind, reasons = classify_request(env, ex)
    why = "; ".join(reasons[:3])
    if kind is not RequestKind.INVALID:
        return None
    if ex.status == 401 and ex.memo.get(REUSED_TOKEN):
        return None  # the kit sent a token again (e.g. `static`): refusing it says nothing about the body
    if ex.status != 400:
        return [f"{why}: got {ex.status}, expected 400 INVALID_ARGUMENT"]
    if _error_code(ex) != "INVALID_ARGUMENT":
        return [f"{why}: got 400 with code {_error_code(ex)!r}, expected INVALID_ARGUMENT"]
    return []


def valid_data_accepted(env: CheckEnv, ex: FuzzExchange) -> CheckResult:
    """A request the contract accepts, with a valid token, is not answered 400.

    Bodies with properties the schema does not declare are not judged: an official contract that
    leaves additional properties open still means "exactly one of phoneNumber / hashedPhoneNumber".
    """
    if ex.probe or ex.authorization is None:
        return None
    kind, _ = classify_request(env, ex)
    if kind is not RequestKind.VALID:
        return None
    body = ex.request_json
    declared = env.contract.declared_request_properties(ex.operation_id) if isinstance(body, dict) else None
    if declared is not None and not set(body) <= declared:
        return None
    if ex.status == 400:
        return [f"a request the contract accepts got 400 {_error_code(ex) or ''}".rstrip()]
    return []


def missing_token_rejected(env: CheckEnv, ex: FuzzExchange) -> CheckResult:
    """The same request without any token gets 401 (schemathesis' ignored_auth skips openIdConnect)."""
    if ex.probe != NO_TOKEN_PROBE:
        return None
    if ex.status != 401:
        return [f"a request without a token got {ex.status}, expected 401"]
    return []


@dataclass(frozen=True)
class CamaraCheck:
    name: str
    function: Callable[[CheckEnv, FuzzExchange], CheckResult]
    description: str
    clause: str
    advisory: bool = False  # what it finds is a warning (a SHOULD or a liberty the contract hints at), never a finding


CAMARA_CHECKS: tuple[CamaraCheck, ...] = (
    CamaraCheck("no_server_error", no_server_error, "no 5xx response", "CAMARA API design guide: no server errors"),
    CamaraCheck("json_media_type", json_media_type, "responses are application/json",
                "contract: every response content is application/json"),
    CamaraCheck("error_body", error_body, "4xx bodies are {status, code, message} with an allowed code",
                "Commonalities ErrorInfo; contract error code enums"),
    CamaraCheck("x_correlator_echo", x_correlator_echo, "a request x-correlator is echoed",
                "Commonalities: x-correlator echoed in the response"),
    CamaraCheck("success_schema", success_schema, "2xx responses are documented and match the schema",
                "contract: response schemas"),
    CamaraCheck("negative_data_rejected", negative_data_rejected,
                "requests the contract rejects get 400 INVALID_ARGUMENT, never 2xx",
                "contract request schemas; Commonalities 0.6 invalid x-correlator -> 400"),
    CamaraCheck("other_media_type_refused", other_media_type_refused,
                "a body sent with a media type other than application/json is not served",
                "contract: requestBody content is application/json only (advisory: no CAMARA text requires "
                "refusing other media types; RFC 9110 section 15.5.16 415)", advisory=True),
    CamaraCheck("valid_data_accepted", valid_data_accepted, "requests the contract accepts are not answered 400",
                "contract request schemas"),
    CamaraCheck("missing_token_rejected", missing_token_rejected, "a request without any token gets 401",
                "CAMARA security: openIdConnect access token required"),
)


ADVISORY_CHECKS = frozenset(check.name for check in CAMARA_CHECKS if check.advisory)


def run_all(env: CheckEnv, ex: FuzzExchange) -> dict[str, CheckResult]:
    """Every CAMARA check's result for one exchange (a 429 is rate limiting, not a verdict: nothing applies)."""
    if ex.status == 429:
        return {}
    return {check.name: check.function(env, ex) for check in CAMARA_CHECKS}
