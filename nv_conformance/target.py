"""The system under test, built once from a validated config and handed to whatever runs against it.

``open_target(config)`` turns a :class:`~nv_conformance.config.TargetConfig` into a
:class:`Target`: the API under test (version profile + contract), where it lives, the HTTP
client, the token provider, the test data and the options a report declares. For the
embedded default it first starts the reference provider and completes the config from its
tester kit. ``run``, ``fuzz``, ``selftest`` and plain ``behave`` all get their target here.

This is the only engine module that imports ``reference_impl``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import TargetConfig, TestData
from .contract import Contract
from .errors import ConfigError
from .http import GuardedClient
from .profiles import VersionProfile, get_profile, versions
from .redact import redact
from .tokens import TokenProvider, build_token_provider
from .tokens.base import TokenKind, unsupported_reason

if TYPE_CHECKING:
    from reference_impl.embedded import EmbeddedReference
    from reference_impl.faults import Fault


@dataclass
class Target:
    """Everything a run needs to talk to one API under test; close it (or use ``with``) when done."""

    config: TargetConfig                 # completed: an embedded reference's kit is already filled in
    profile: VersionProfile
    contract: Contract
    client: GuardedClient
    tokens: TokenProvider
    reference: EmbeddedReference | None = None
    fault: str | None = None             # the faulty variant the embedded reference serves, if any
    _closed: bool = field(default=False, repr=False)

    @property
    def api_version(self) -> str:
        return self.profile.version

    @property
    def api_root(self) -> str:
        return self.config.api_root

    @property
    def base_url(self) -> str:
        """API root + the version's base path: the URL operation paths are appended to."""
        return self.config.api_base_url

    @property
    def base_path_explicit(self) -> bool:
        """The config pins the base path (it then wins over the one a feature file names)."""
        return self.config.base_path_explicit

    @property
    def test_data(self) -> TestData:
        return self.config.test_data

    @property
    def label(self) -> str:
        """How reports name the target."""
        return self.config.target_label + (f" [fault {self.fault}]" if self.fault else "")

    def declared_options(self) -> dict[str, Any]:
        """The config's declared settings, with the method each token kind was resolved to (or why none)."""
        options = dict(self.config.declared_options())
        describe = getattr(self.tokens, "describe", None)
        if callable(describe):
            resolved = dict(describe())
            for kind in TokenKind:
                if kind.value not in resolved:
                    resolved[kind.value] = "not configured: " + unsupported_reason(self.tokens, kind)
            if "off_network" not in resolved:
                resolved["off_network"] = "not configured"
            options["tokens"] = {kind: redact(text) for kind, text in resolved.items()}
        return options

    def close(self) -> None:
        """Close the token provider and client and stop the embedded reference; errors are not raised."""
        if self._closed:
            return
        self._closed = True
        for closer in (self.tokens.close, self.client.close):
            try:
                closer()
            except Exception:  # noqa: BLE001 - closing must not hide the run's result
                pass
        if self.reference is not None:
            self.reference.stop()
            self.reference = None

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_target(config: TargetConfig, *, fault: str | None = None, db_path: Path | None = None,
                reference_token_policy: str | None = None) -> Target:
    """Build the target of ``config``; starts the embedded reference when the config asks for it.

    Close the target when done: ``with open_target(config) as target: ...``.

    ``fault`` names a variant of the embedded reference (reference_impl/faults.py) and ``db_path``
    its database file (default: a temporary one); both need the embedded reference, as does
    ``reference_token_policy`` (``strict``: the reference applies every version's token rules everywhere).
    """
    if (fault is not None or db_path is not None) and not config.embedded:
        raise ConfigError("--fault", "only applies to the embedded reference (leave out --config)")
    reference = _start_reference(config, fault, db_path, reference_token_policy) if config.embedded else None
    client = None
    try:
        if reference is not None:
            config = config.with_kit(reference.kit)
        tokens = build_token_provider(dict(config.tokens), http=config.http,
                                      kit=dict(config.kit) if config.kit else None)
        client = GuardedClient(config.http)
        return Target(config=config, profile=get_profile(config.api_version), contract=config.contract(),
                      client=client, tokens=tokens, reference=reference, fault=fault)
    except BaseException:
        if client is not None:
            client.close()
        if reference is not None:
            reference.stop()
        raise


def _start_reference(config: TargetConfig, fault: str | None, db_path: Path | None,
                     token_policy: str | None = None) -> EmbeddedReference:
    """The reference provider on a free loopback port, serving the version under test at its base path."""
    from reference_impl.embedded import EmbeddedReference
    from reference_impl.settings import TokenPolicyMode

    if fault is not None:
        reference_fault(fault)  # an unknown name is the user's typo: one line, before anything starts
    # a base_path other than the version's (a release candidate's /v2rc2) is served too, so the run reaches it
    known_bases = {get_profile(v).base_path for v in versions()}
    also_at = [(config.api_version, config.base_path)] if config.base_path not in known_bases else []
    reference = EmbeddedReference(versions=[config.api_version], fault=fault, db_path=db_path, also_at=also_at,
                                  token_policy=token_policy or TokenPolicyMode.PER_VERSION)
    return reference.start()


# -- the reference's fault catalogue, for the self-test ------------------------------------------

def reference_faults() -> list[Fault]:
    """Every variant of the reference provider (faulty and benign), in catalogue order."""
    from reference_impl.faults import FAULTS

    return list(FAULTS.values())


def reference_fault(name: str) -> Fault:
    """The variant called ``name``; ConfigError("--fault") naming the known ones when there is none."""
    from reference_impl.faults import get_fault

    try:
        return get_fault(name)
    except KeyError as exc:
        raise ConfigError("--fault", str(exc.args[0]) if exc.args else "unknown fault") from None
