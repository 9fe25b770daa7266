"""Turn the ``tokens:`` config section (and an optional tester kit) into a TokenProvider.

Layout (see docs/tokens.md)::

    tokens:
      defaults: {method: jwt-bearer, issuer: ..., client_id: ..., private_key_file: ...}
      valid: {subject: "operatortoken:${NV_OPERATOR_TOKEN}"}
      other_scope: {...}
      non_network: {subject: "tel:+447700900001"}
      expired: {method: static, token: "${NV_EXPIRED_TOKEN}"}
      invalid: {method: local}                                   # the default
      off_network: {method: authorization-code, source_address: 192.0.2.10}

``defaults`` is merged into every section (a section's own settings win); ``defaults.method``
applies to valid, other_scope and non_network only, because a fresh token is never expired or
invalid. Everything is validated here, without touching the network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigError
from ..http import HttpSettings
from . import authcode, ciba, command, jwt_bearer, simple
from .base import TokenKind
from .kit import TesterKit
from .method import MethodContext, OffNetworkCapable, TokenMethod
from .provider import ConfiguredTokenProvider
from .settings import Section

FRESH_METHODS = ("jwt-bearer", "ciba", "authorization-code")
METHODS_FOR_KIND: dict[TokenKind, tuple[str, ...]] = {
    TokenKind.VALID: (*FRESH_METHODS, "static", "command", "reference"),
    TokenKind.OTHER_SCOPE: (*FRESH_METHODS, "static", "command", "reference"),
    TokenKind.NON_NETWORK: ("jwt-bearer", "ciba", "static", "command", "reference"),
    TokenKind.EXPIRED: ("static", "command", "reference"),
    TokenKind.INVALID: ("local", "static", "command", "reference"),
}
NETWORK_ONLY = (
    "authorization-code with prompt=none always authenticates by the network; a non_network token needs "
    "another method, e.g. jwt-bearer or ciba with a tel: subject"
)
NON_NETWORK_SUBJECT = "a non_network token needs a tel:+E164 subject; operatortoken:/ipport: are SIM/network-based"
OFF_NETWORK_METHODS = ("authorization-code", "ciba", "reference")
TOP_LEVEL = frozenset({"defaults", "off_network", *(kind.value for kind in TokenKind)})


SETTINGS_BY_METHOD: dict[str, frozenset[str]] = {
    "jwt-bearer": jwt_bearer.SETTINGS,
    "ciba": ciba.SETTINGS,
    "authorization-code": authcode.SETTINGS,
    "static": simple.STATIC_SETTINGS,
    "command": command.SETTINGS,
    "local": simple.LOCAL_SETTINGS,
    "reference": frozenset(),
}
ALL_SETTINGS = frozenset().union(*SETTINGS_BY_METHOD.values())


def build_token_provider(
    tokens_config: Mapping[str, Any] | None, *, http: HttpSettings | None = None, kit: Mapping[str, Any] | None = None
) -> ConfiguredTokenProvider:
    """Validate ``tokens_config`` and build the provider; raises ConfigError("tokens.<kind>.<setting>", ...)."""
    config = dict(tokens_config or {})
    unknown = sorted(set(config) - TOP_LEVEL)
    if unknown:
        raise ConfigError(f"tokens.{unknown[0]}", f"unknown section (known: {', '.join(sorted(TOP_LEVEL))})")
    tester_kit = TesterKit.parse(kit) if kit else None

    defaults = _section_dict(config, "defaults")
    bad = sorted(set(defaults) - ALL_SETTINGS - {"method"})
    if bad:
        raise ConfigError(f"tokens.defaults.{bad[0]}", "unknown setting")
    default_method = defaults.get("method")
    if default_method is not None and default_method not in (*FRESH_METHODS, "static", "command", "reference"):
        raise ConfigError("tokens.defaults.method", f"must be one of {', '.join((*FRESH_METHODS, 'static', 'command', 'reference'))}")
    if not config and tester_kit:
        default_method = "reference"  # the embedded default: nothing configured, a kit given

    context = MethodContext(http or HttpSettings())
    methods: dict[TokenKind, TokenMethod] = {}
    reasons: dict[TokenKind, str] = {}
    try:
        for kind in TokenKind:
            own = _section_dict(config, kind.value)
            method = own.get("method") or _default_method_for(kind, default_method)
            if method is None:
                reasons[kind] = _unconfigured_reason(kind)
                continue
            if kind is TokenKind.NON_NETWORK and method == "authorization-code":
                if own.get("method"):
                    raise ConfigError("tokens.non_network.method", NETWORK_ONLY)
                reasons[kind] = NETWORK_ONLY + " (set tokens.non_network)"
                continue
            if method not in METHODS_FOR_KIND[kind]:
                raise ConfigError(f"tokens.{kind.value}.method", f"must be one of {', '.join(METHODS_FOR_KIND[kind])} for this kind")
            problem = _non_network_subject_problem(kind, method, defaults, own, tester_kit)
            if problem:
                reasons[kind] = problem
                continue
            methods[kind] = _build(kind.value, method, defaults, own, context, tester_kit, kind)
        off_network, off_reason = _build_off_network(config, defaults, default_method, context, tester_kit)
    except BaseException:
        context.close()
        raise
    return ConfiguredTokenProvider(methods, reasons, off_network, off_reason, context)


def _section_dict(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = config.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"tokens.{name}", "must be a mapping of settings")
    return dict(value)


def _default_method_for(kind: TokenKind, default_method: str | None) -> str | None:
    if default_method == "reference":
        return "reference"
    if kind is TokenKind.INVALID:
        return "local"
    if kind is TokenKind.EXPIRED:
        return None
    return default_method


def _non_network_subject_problem(
    kind: TokenKind, method: str, defaults: dict[str, Any], own: dict[str, Any], kit: TesterKit | None
) -> str:
    """Why a non_network token cannot be made as configured ("" if it can).

    Only a tel: subject yields a token without network/SIM authentication; an operatortoken:
    inherited from ``defaults`` means "not configured" (skip), one set on non_network is an error.
    """
    if kind is not TokenKind.NON_NETWORK or method not in ("jwt-bearer", "ciba"):
        return ""
    hint = "subject" if method == "jwt-bearer" else "login_hint"
    value = own.get(hint) or defaults.get(hint) or (kit.fill(method, kind).get(hint) if kit else None)
    if value is None or str(value).startswith("tel:"):
        return ""
    if own.get(hint):
        raise ConfigError(f"tokens.non_network.{hint}", NON_NETWORK_SUBJECT)
    return f"tokens.non_network.{hint} is not set ({NON_NETWORK_SUBJECT})"


def _unconfigured_reason(kind: TokenKind) -> str:
    if kind is TokenKind.EXPIRED:
        return "tokens.expired is not configured (an expired token cannot be fetched fresh: give one with method static or command)"
    return f"tokens.{kind.value} is not configured (and tokens.defaults.method is not set)"


def _build(
    name: str,
    method: str,
    defaults: dict[str, Any],
    own: dict[str, Any],
    context: MethodContext,
    kit: TesterKit | None,
    kind: TokenKind | None,
) -> TokenMethod:
    prefix = f"tokens.{name}"
    allowed = SETTINGS_BY_METHOD[method]
    if method == "reference":
        if kit is None:
            raise ConfigError(f"{prefix}.method", "reference needs a tester kit (set kit: in the target config)")
        extra = sorted(set(own) - {"method"})
        if extra:
            raise ConfigError(f"{prefix}.{extra[0]}", "the reference method takes no settings")
        return kit.reference_method(kind, _builder_for_kit(context))
    merged = {key: value for key, value in defaults.items() if key in allowed}
    own_settings = {key: value for key, value in own.items() if key != "method"}
    if kit is not None:
        merged = {**kit.fill(method, kind, given={**merged, **own_settings}), **merged}
    Section(prefix, own_settings, allowed)  # unknown settings in the kind's own section are errors
    return _construct(method, Section(prefix, {**merged, **own_settings}, allowed), context)


def _builder_for_kit(context: MethodContext) -> Callable[[str, str, dict[str, Any]], TokenMethod]:
    def build(prefix: str, method: str, values: dict[str, Any]) -> TokenMethod:
        return _construct(method, Section(prefix, values, SETTINGS_BY_METHOD[method]), context)

    return build


def _construct(method: str, section: Section, context: MethodContext) -> TokenMethod:
    if method == "jwt-bearer":
        return jwt_bearer.JwtBearerMethod(section, context)
    if method == "ciba":
        return ciba.CibaMethod(section, context)
    if method == "authorization-code":
        return authcode.AuthorizationCodeMethod(section, context)
    if method == "static":
        return simple.StaticMethod(section)
    if method == "command":
        return command.CommandMethod(section)
    if method == "local":
        return simple.LocalInvalidMethod(section)
    raise ConfigError(f"{section.prefix}.method", f"unknown method {method!r}")


def _build_off_network(
    config: Mapping[str, Any],
    defaults: dict[str, Any],
    default_method: str | None,
    context: MethodContext,
    kit: TesterKit | None,
) -> tuple[OffNetworkCapable | None, str]:
    own = _section_dict(config, "off_network")
    method = own.get("method")
    if method is None and kit is not None and kit.off_network_ip and (not own or default_method == "reference"):
        method = "reference"
    if method is None:
        if own:
            raise ConfigError("tokens.off_network.method", f"required: one of {', '.join(OFF_NETWORK_METHODS)}")
        return None, "tokens.off_network is not configured (needs a source address the network does not know)"
    if method not in OFF_NETWORK_METHODS:
        raise ConfigError("tokens.off_network.method", f"must be one of {', '.join(OFF_NETWORK_METHODS)}")
    built = _build("off_network", method, defaults, own, context, kit, None)
    if not isinstance(built, OffNetworkCapable):
        raise ConfigError("tokens.off_network.method", f"{method} cannot make an off-network attempt")
    return built, ""
