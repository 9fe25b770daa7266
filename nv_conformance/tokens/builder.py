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

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from ..http import HttpSettings
from .base import FRESH_KINDS, OFF_NETWORK, TokenKind, TokenUse
from .kit import TesterKit
from .method import MethodContext, MethodSpec, OffNetworkCapable, TokenMethod
from .provider import ConfiguredTokenProvider
from .reference import METHOD as REFERENCE
from .registry import METHODS
from .settings import Section

NON_NETWORK_SUBJECT = "a non_network token needs a tel:+E164 subject; operatortoken:/ipport: are SIM/network-based"
TOP_LEVEL = frozenset({"defaults", OFF_NETWORK.value, *(kind.value for kind in TokenKind)})


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
    bad = sorted(set(defaults) - METHODS.all_settings - {"method"})
    if bad:
        raise ConfigError(f"tokens.defaults.{bad[0]}", "unknown setting")
    default = _default_method(defaults)
    if not config and tester_kit:
        default = REFERENCE  # the embedded default: nothing configured, a kit given

    context = MethodContext(http or HttpSettings())
    methods: dict[TokenKind, TokenMethod] = {}
    reasons: dict[TokenKind, str] = {}
    try:
        for kind in TokenKind:
            own = _section_dict(config, kind.value)
            explicit = own.get("method")
            spec = METHODS.find(explicit) if explicit else _default_method_for(kind, default)
            if spec is None and not explicit:
                reasons[kind] = _unconfigured_reason(kind)
                continue
            if spec is None or not spec.serves(kind):
                why = spec.cannot.get(kind) if spec else None
                if explicit or (spec is None):
                    raise ConfigError(f"tokens.{kind.value}.method", why or f"must be one of {', '.join(METHODS.names_for(kind))} for this kind")
                reasons[kind] = (why or f"{spec.name} cannot give a {kind.value} token") + f" (set tokens.{kind.value})"
                continue
            problem = _non_network_subject_problem(kind, spec, defaults, own, tester_kit)
            if problem:
                reasons[kind] = problem
                continue
            methods[kind] = _build(kind, spec, defaults, own, context, tester_kit)
        off_network, off_reason = _build_off_network(config, defaults, default, context, tester_kit)
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


def _default_method(defaults: Mapping[str, Any]) -> MethodSpec | None:
    """``defaults.method``: a method that gives fresh tokens (a fresh token is never expired or invalid)."""
    name = defaults.get("method")
    if name is None:
        return None
    spec = METHODS.find(name)
    if spec is None or not spec.kinds & FRESH_KINDS:
        allowed = [spec.name for spec in METHODS if spec.kinds & FRESH_KINDS]
        raise ConfigError("tokens.defaults.method", f"must be one of {', '.join(allowed)}")
    return spec


def _default_method_for(kind: TokenKind, default: MethodSpec | None) -> MethodSpec | None:
    """What serves a kind with no method of its own: ``defaults.method`` for the fresh kinds, else the fallback."""
    if default is not None and (default.serves_every_use or kind in FRESH_KINDS):
        return default
    return METHODS.fallback_for(kind)


def _non_network_subject_problem(
    kind: TokenKind, spec: MethodSpec, defaults: dict[str, Any], own: dict[str, Any], kit: TesterKit | None
) -> str:
    """Why a non_network token cannot be made as configured ("" if it can).

    Only a tel: subject yields a token without network/SIM authentication; an operatortoken:
    inherited from ``defaults`` means "not configured" (skip), one set on non_network is an error.
    """
    hint = spec.subject_setting
    if kind is not TokenKind.NON_NETWORK or hint is None:
        return ""
    value = own.get(hint) or defaults.get(hint) or (kit.fill(spec.kit_settings, kind).get(hint) if kit else None)
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
    use: TokenUse,
    spec: MethodSpec,
    defaults: dict[str, Any],
    own: dict[str, Any],
    context: MethodContext,
    kit: TesterKit | None,
) -> TokenMethod:
    prefix = f"tokens.{use.value}"
    if spec.delegates is not None:
        if kit is None:
            raise ConfigError(f"{prefix}.method", f"{spec.name} needs a tester kit (set kit: in the target config)")
        extra = sorted(set(own) - {"method"})
        if extra:
            raise ConfigError(f"{prefix}.{extra[0]}", f"the {spec.name} method takes no settings")
        serving = METHODS.find(spec.delegates(kit, use))
        if serving is None:
            raise ConfigError(f"{prefix}.method", f"{spec.name} has no method for {use.value}")
        built = serving.construct(Section(prefix, kit.fill(serving.kit_settings, use), serving.settings), context)
        built.name = f"{spec.name}/{built.name}"
        return built
    merged = {key: value for key, value in defaults.items() if key in spec.settings}
    own_settings = {key: value for key, value in own.items() if key != "method"}
    if kit is not None:
        merged = {**kit.fill(spec.kit_settings, use, given={**merged, **own_settings}), **merged}
    Section(prefix, own_settings, spec.settings)  # unknown settings in the kind's own section are errors
    return spec.construct(Section(prefix, {**merged, **own_settings}, spec.settings), context)


def _build_off_network(
    config: Mapping[str, Any],
    defaults: dict[str, Any],
    default: MethodSpec | None,
    context: MethodContext,
    kit: TesterKit | None,
) -> tuple[OffNetworkCapable | None, str]:
    own = _section_dict(config, OFF_NETWORK.value)
    name = own.get("method")
    offered = ", ".join(METHODS.names_for(OFF_NETWORK))
    spec = METHODS.find(name)
    if name is None and kit is not None and kit.off_network_ip and (not own or default is REFERENCE):
        spec = REFERENCE
    elif name is None:
        if own:
            raise ConfigError("tokens.off_network.method", f"required: one of {offered}")
        return None, "tokens.off_network is not configured (needs a source address the network does not know)"
    if spec is None or not spec.serves(OFF_NETWORK):
        raise ConfigError("tokens.off_network.method", f"must be one of {offered}")
    built = _build(OFF_NETWORK, spec, defaults, own, context, kit)
    if not isinstance(built, OffNetworkCapable):
        raise ConfigError("tokens.off_network.method", f"{spec.name} cannot make an off-network attempt")
    return built, ""
