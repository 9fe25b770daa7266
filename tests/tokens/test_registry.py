"""The builder knows token methods only through their registered specs, and every spec tells the truth."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from nv_conformance.errors import ConfigError
from nv_conformance.http import HttpSettings
from nv_conformance.tokens import OFF_NETWORK, TokenKind, build_token_provider, builder
from nv_conformance.tokens.base import IssuedToken
from nv_conformance.tokens.kit import TesterKit as Kit
from nv_conformance.tokens.method import MethodContext, MethodSpec, OffNetworkCapable, TokenMethod
from nv_conformance.tokens.registry import METHODS, MethodRegistry
from nv_conformance.tokens.settings import Section

USES = (*TokenKind, OFF_NETWORK)
NOT_IN_A_KIT = {"command": {"argv": [sys.executable]}}  # the kit has no program to run


def test_what_a_spec_takes_from_the_kit_are_settings_it_accepts(kit: dict[str, Any]) -> None:
    tester_kit = Kit.parse(kit)
    for spec in METHODS:
        for use in USES:
            if spec.serves(use):
                assert set(tester_kit.fill(spec.kit_settings, use)) <= spec.settings, (spec.name, use)


def test_a_spec_that_claims_the_off_network_attempt_builds_a_method_that_can_make_it(kit: dict[str, Any]) -> None:
    tester_kit = Kit.parse(kit)
    context = MethodContext(HttpSettings())
    try:
        for spec in METHODS:
            if spec.build is None:
                continue
            use = OFF_NETWORK if spec.off_network else TokenKind.EXPIRED if TokenKind.EXPIRED in spec.kinds else min(spec.kinds)
            values = {**tester_kit.fill(spec.kit_settings, use), **NOT_IN_A_KIT.get(spec.name, {})}
            section = Section(f"tokens.{use.value}", values, spec.settings)
            built = spec.construct(section, context)
            assert built.name == spec.name
            assert isinstance(built, OffNetworkCapable) is spec.off_network, spec.name
    finally:
        context.close()


def test_the_reference_delegates_every_use_to_a_registered_method_that_serves_it(kit: dict[str, Any]) -> None:
    reference = METHODS.find("reference")
    assert reference is not None and reference.delegates is not None
    tester_kit = Kit.parse(kit)
    for use in USES:
        serving = METHODS.find(reference.delegates(tester_kit, use))
        assert serving is not None and serving.serves(use), use


def test_error_messages_list_the_methods_the_registry_says_serve_the_kind() -> None:
    with pytest.raises(ConfigError) as caught:
        build_token_provider({"expired": {"method": "jwt-bearer"}})
    assert caught.value.setting == "tokens.expired.method"
    assert "must be one of static, command, reference for this kind" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        build_token_provider({"off_network": {"method": "static"}})
    assert "must be one of ciba, authorization-code, reference" in str(caught.value)


class Fixed(TokenMethod):
    name = "fixed"

    def __init__(self, section: Section) -> None:
        self.value = section.string("value", required=True) or ""

    def fetch(self, kind: TokenKind, scope: str) -> IssuedToken:
        return IssuedToken(access_token=self.value, kind=kind, scope=scope, method=self.name)


def test_a_registered_method_is_usable_with_no_builder_edit(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = MethodSpec(name="fixed", settings=frozenset({"value"}), kinds=frozenset({TokenKind.EXPIRED}),
                       build=lambda section, context: Fixed(section))
    monkeypatch.setattr(builder, "METHODS", MethodRegistry((*METHODS, fixed)))
    with build_token_provider({"expired": {"method": "fixed", "value": "abc"}}) as provider:
        assert provider.get(TokenKind.EXPIRED, "s").method == "fixed"
    with pytest.raises(ConfigError) as caught:  # its declared kinds are enforced
        build_token_provider({"valid": {"method": "fixed", "value": "abc"}})
    assert caught.value.setting == "tokens.valid.method"


def test_a_spec_builds_or_delegates_never_both() -> None:
    with pytest.raises(TypeError):
        MethodSpec(name="neither", settings=frozenset(), kinds=frozenset())
