"""Target config: what to test and how to reach it, read from a YAML file (or the embedded default).

Every problem in a config is reported as one ``ConfigError`` naming the setting path
(``test_data.phone_number: not an E.164 number``), never a traceback: the person who
runs the kit against their staging system must be able to fix the file from the message.

``${NAME}`` anywhere in the YAML is replaced from the environment so that secrets stay out
of the file. Interpolated values under ``tokens`` are registered with :mod:`redact`.
A reference tester kit (``kit:``) fills the API root, base paths, test numbers and makes the
token layer use the ``reference`` method unless a ``tokens`` section is given.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .contract import Contract, ContractError
from .envvars import expand_env, secret_from_env
from .errors import ConfigError
from .http import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_USER_AGENT,
    MAX_CONCURRENCY,
    ClientCertificate,
    HttpSettings,
    header_value,
    origin_of,
    parse_headers,
    ssl_context,
)
from .inputs import MAX_SPEC_FILE_BYTES, load_json, load_yaml, read_regular_file, read_text_file, yaml_problem
from .phone import is_e164
from .profiles import UnknownVersionError, VersionProfile, default_version, get_profile
from .redact import mask_phone, redact, register_secret
from .tokens.kit import register_kit_secrets

KIT_FORMAT = "nv-conformance-tester-kit/1"

_TOP_LEVEL = {
    "api_root", "api_version", "base_path", "spec", "kit", "tls", "http", "run", "test_data", "tokens", "embedded",
    "implementation", "declared",
}
# declared.token_policy: "strict" = the target implements every token rule of any version (single use, the
# lifetime cap, no refresh tokens), so breaking one is a failure even where its version only advises it.
_TOKEN_POLICY_DECLARATIONS = ("version", "strict")
_OVERRIDABLE = {"api_root", "api_version", "base_path", "spec", "embedded"}
_SECRET_KEY_HINTS = ("token", "secret", "password", "assertion", "subject", "key")
# Settings whose names contain a hint but that hold a URL, a file or variable name, or a public id.
_NOT_SECRET_SUFFIXES = ("_endpoint", "_url", "_uri", "_env", "_file", "_id", "_lifetime", "_audience")
_HTTP_SETTINGS = {
    "connect_timeout", "read_timeout", "total_timeout", "max_body_bytes", "headers", "user_agent", "proxy", "trust_env",
    "max_concurrency",
}
_TLS_SETTINGS = {"ca_bundle", "insecure", "client_cert", "client_key", "client_key_env", "client_key_password_env"}


@dataclass(frozen=True)
class TlsConfig:
    ca_bundle: str | None = None  # absolute path of a PEM bundle to trust instead of the system store
    insecure: bool = False        # no certificate verification at all (a warning is printed)
    client_cert: ClientCertificate | None = None  # mutual TLS towards the API and the authorization server


@dataclass(frozen=True)
class RunLimits:
    max_seconds: float = 900.0  # the run stops starting new scenarios after this long


@dataclass(frozen=True)
class TestData:
    __test__ = False  # not a pytest test class

    phone_number: str | None = None        # the number the valid tokens identify
    other_phone_number: str | None = None  # a valid number that is not the subscriber's


@dataclass(frozen=True)
class Implementation:
    """The product under test, as its tester declares it (``implementation:``): named in statements and bundles."""

    organization: str
    product: str
    version: str
    contact: str | None = None

    @property
    def label(self) -> str:
        return f"{self.organization} {self.product} {self.version}"

    def as_dict(self) -> dict[str, str | None]:
        return {"organization": self.organization, "product": self.product, "version": self.version,
                "contact": self.contact}


@dataclass(frozen=True)
class TargetConfig:
    """A validated target. ``embedded`` means "start the reference provider and use its kit"."""

    api_root: str
    api_version: str
    base_path: str
    spec: Path | None = None
    kit: Mapping[str, Any] | None = field(default=None, repr=False)
    kit_path: Path | None = None
    tls: TlsConfig = TlsConfig()
    http: HttpSettings = HttpSettings()
    run: RunLimits = RunLimits()
    test_data: TestData = TestData()
    tokens: Mapping[str, Any] = field(default_factory=dict, repr=False)
    embedded: bool = False
    source: str = "embedded reference"  # the config file, for reports
    base_path_explicit: bool = False    # True when base_path was set by the user, not derived
    implementation: Implementation | None = None
    declared_token_policy: str = "version"  # "strict": the target declares every token rule of any version

    @property
    def strict_token_policy(self) -> bool:
        return self.declared_token_policy == "strict"

    @property
    def api_base_url(self) -> str:
        """``api_root`` + ``base_path``: the URL the operation paths are appended to."""
        return self.api_root.rstrip("/") + self.base_path

    @property
    def target_label(self) -> str:
        """How reports name the target."""
        if self.embedded:
            return f"embedded reference provider ({self.api_base_url or 'not started'})"
        return self.api_base_url

    def contract(self) -> Contract:
        """The contract scenarios are checked against: ``spec`` if given, else the kit's own for the version."""
        if self.spec is not None:
            return _load_spec(self.spec, "spec")
        return Contract.for_version(self.api_version)

    def with_kit(self, kit: Mapping[str, Any], *, kit_path: Path | None = None) -> TargetConfig:
        """This config completed from a reference tester kit (the embedded reference uses this too).

        Settings given explicitly win over the kit's; the kit fills only what is missing.
        """
        _validate_kit(kit, "kit")
        register_kit_secrets(kit)
        api_root = self.api_root or _check_url(str(kit["api_root"]), "kit.api_root")
        base_path = self.base_path
        if not self.base_path_explicit:
            base_paths = kit.get("base_paths") or {}
            base_path = _check_base_path(base_paths.get(self.api_version, base_path), "kit.base_paths")
        subscribers = kit.get("subscribers") or []
        numbers = [s.get("phone_number") for s in subscribers if isinstance(s, Mapping)]
        test_data = TestData(
            phone_number=self.test_data.phone_number or (numbers[0] if numbers else None),
            other_phone_number=self.test_data.other_phone_number or (numbers[1] if len(numbers) > 1 else None),
        )
        for index, number in enumerate((test_data.phone_number, test_data.other_phone_number)):
            if number and not is_e164(number):
                raise ConfigError(f"kit.subscribers[{index}].phone_number", "not an E.164 number")
        # An empty tokens section with a kit means "every kind by the `reference` method" (docs/interfaces.md).
        return replace(
            self, api_root=api_root, base_path=base_path, kit=kit, kit_path=kit_path or self.kit_path,
            test_data=test_data, http=replace(self.http, headers_origin=origin_of(api_root)),
        )

    def _implementation_declared(self) -> dict[str, Any] | str:
        if self.implementation is not None:
            return {k: redact(v) for k, v in self.implementation.as_dict().items() if v is not None}
        if self.embedded:
            from . import __version__

            return {"organization": "nv-conformance", "product": "embedded reference provider", "version": __version__}
        return "not declared"

    def declared_options(self) -> dict[str, Any]:
        """The settings a test result statement shows: nothing secret, numbers masked."""
        methods: dict[str, str] = {}
        given = self.tokens.get("defaults")
        defaults: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        for kind, section in self.tokens.items():
            if kind == "defaults" or not isinstance(section, Mapping):
                continue
            methods[kind] = str(section.get("method") or defaults.get("method") or "?")
        if not methods and defaults.get("method"):
            methods["all kinds"] = str(defaults["method"])
        if not methods and self.kit is not None:
            methods["all kinds"] = "reference (tester kit)"
        options: dict[str, Any] = {
            "config": self.source,
            "api_root": self.api_root,
            "api_version": self.api_version,
            **_release_facts(self.api_version),
            "base_path": self.base_path,
            "spec": str(self.spec) if self.spec else "kit contract for the version",
            "tester_kit": str(self.kit_path) if self.kit_path else ("embedded" if self.embedded else "none"),
            "tls.ca_bundle": self.tls.ca_bundle or "system",
            "tls.insecure": self.tls.insecure,
            "tls.client_cert": self.tls.client_cert.cert_file if self.tls.client_cert else "none",
            "http.headers": sorted(name for name, _ in self.http.headers) or "none",
            "http.user_agent": self.http.user_agent,
            "http.proxy": _proxy_label(self.http),
            "http.connect_timeout": self.http.connect_timeout,
            "http.read_timeout": self.http.read_timeout,
            "http.total_timeout": self.http.total_timeout,
            "http.trust_env": self.http.trust_env,
            "http.max_body_bytes": self.http.max_body_bytes,
            "http.max_concurrency": self.http.max_concurrency,
            "run.max_seconds": self.run.max_seconds,
            "test_data.phone_number": mask_phone(self.test_data.phone_number) if self.test_data.phone_number else "not given",
            "test_data.other_phone_number": (
                mask_phone(self.test_data.other_phone_number) if self.test_data.other_phone_number else "not given"
            ),
            "tokens": methods or "not given",
            "implementation": self._implementation_declared(),
            "declared.token_policy": self.declared_token_policy,
        }
        masked = {"test_data.phone_number", "test_data.other_phone_number"}
        return {k: redact(v) if isinstance(v, str) and k not in masked else v for k, v in options.items()}


def load_config(path: str | Path | None, **overrides: Any) -> TargetConfig:
    """Read and validate a target config; ``path=None`` means the embedded reference provider.

    ``overrides`` (``api_version``, ``spec``, ``base_path``, ``api_root``, ``embedded``) win over
    the file, e.g. from ``--api-version``; ``None`` values are ignored so callers can pass options as-is.
    For the embedded default the caller starts the reference and completes the config with
    :meth:`TargetConfig.with_kit`.
    """
    unknown = sorted(set(overrides) - _OVERRIDABLE)
    if unknown:
        raise ConfigError(unknown[0], f"cannot be overridden (possible: {', '.join(sorted(_OVERRIDABLE))})")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    base_dir = Path.cwd()
    if path is None:
        raw: dict[str, Any] = {"embedded": True}
        source = "embedded reference"
    else:
        config_file = Path(path).expanduser()
        raw = _read_yaml(config_file)
        base_dir = config_file.resolve().parent
        source = str(config_file)
    for key, value in overrides.items():
        if key == "spec":  # a command-line path is relative to where the command runs, not to the file
            value = Path(value).expanduser().resolve()
        raw[key] = str(value) if isinstance(value, Path) else value
    return _build(raw, base_dir, source)


# -- building ------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> dict[str, Any]:
    text = read_text_file(path, "--config")
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigError("--config", f"{path} is not valid YAML{yaml_problem(exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("--config", f"{path} must be a YAML mapping of settings, not a {type(data).__name__}")
    return _interpolate(data, "")


def _interpolate(value: Any, setting: str) -> Any:
    """Replace ``${NAME}`` from the environment in every string; register secrets found under ``tokens``."""
    if isinstance(value, dict):
        return {key: _interpolate(item, _join(setting, str(key))) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, f"{setting}[{i}]") for i, item in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    secret = setting.startswith("tokens") or setting.startswith("http.headers") or setting.startswith("http.proxy")
    return expand_env(value, setting, on_value=register_secret if secret else None)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _build(raw: dict[str, Any], base_dir: Path, source: str) -> TargetConfig:
    unknown = sorted(str(k) for k in raw if k not in _TOP_LEVEL)
    if unknown:
        raise ConfigError(unknown[0], f"unknown setting (known: {', '.join(sorted(_TOP_LEVEL))})")
    embedded = _bool(raw.get("embedded", False), "embedded")

    api_version = _str(raw.get("api_version") or default_version(), "api_version")
    try:
        profile = get_profile(api_version)
    except UnknownVersionError as exc:
        raise ConfigError("api_version", str(exc)) from None
    api_version = profile.version

    base_path_explicit = raw.get("base_path") is not None
    base_path = _check_base_path(raw["base_path"], "base_path") if base_path_explicit else profile.base_path

    api_root = ""
    if raw.get("api_root") is not None:
        api_root = _check_url(_str(raw["api_root"], "api_root"), "api_root")

    spec = None
    if raw.get("spec") is not None:
        spec = _file(raw["spec"], "spec", base_dir)
        _check_spec_version(_load_spec(spec, "spec"), profile)  # fail now, not in the middle of the run

    tls = _tls(raw.get("tls"), base_dir)
    http = _http(raw.get("http"), tls)
    if api_root:
        http = replace(http, headers_origin=origin_of(api_root))
    run = _run(raw.get("run"))
    test_data = _test_data(raw.get("test_data"))
    tokens = _tokens(raw.get("tokens"), base_dir)
    implementation = _implementation(raw.get("implementation"))
    declared_token_policy = _declared_token_policy(raw.get("declared"))

    config = TargetConfig(
        api_root=api_root, api_version=api_version, base_path=base_path, spec=spec, tls=tls, http=http,
        run=run, test_data=test_data, tokens=tokens, embedded=embedded, source=source,
        base_path_explicit=base_path_explicit, implementation=implementation,
        declared_token_policy=declared_token_policy,
    )
    if embedded and (raw.get("api_root") is not None or raw.get("kit") is not None):
        raise ConfigError("embedded", "cannot be combined with api_root or kit (the embedded reference brings its own)")
    if raw.get("kit") is not None:
        kit_path = _file(raw["kit"], "kit", base_dir)
        config = config.with_kit(_read_kit(kit_path), kit_path=kit_path)
    if not config.api_root and not embedded:
        raise ConfigError("api_root", "missing (give the API root URL, a tester kit with `kit:`, or `embedded: true`)")
    if tls.insecure:
        print(
            "WARNING: tls.insecure is set: server certificates are NOT verified; "
            "results from this run prove nothing about the target's TLS and may be from an impostor.",
            file=sys.stderr,
        )
    return config


def _str(value: Any, setting: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(setting, f"must be a non-empty string, got {_type_name(value)}")
    return value.strip()


def _bool(value: Any, setting: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(setting, f"must be true or false, got {_type_name(value)}")
    return value


def _number(value: Any, setting: str, *, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        kind = "a whole number" if integer else "a number"
        raise ConfigError(setting, f"must be {kind}, got {_type_name(value)}")
    if not math.isfinite(value):  # YAML's .nan / .inf: a NaN deadline never expires
        raise ConfigError(setting, "must be a finite number")
    if value <= 0:
        raise ConfigError(setting, "must be greater than 0")
    return value


def _section(value: Any, setting: str, known: set[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(setting, f"must be a mapping, got {_type_name(value)}")
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        raise ConfigError(f"{setting}.{unknown[0]}", f"unknown setting (known: {', '.join(sorted(known))})")
    return value


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), type(value).__name__)


def _check_url(url: str, setting: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise ConfigError(setting, "must be an http:// or https:// URL")
    if not parts.hostname:
        raise ConfigError(setting, "URL has no host")
    if parts.query or parts.fragment:
        raise ConfigError(setting, "URL must not have a query string or fragment")
    if parts.username or parts.password:
        raise ConfigError(setting, "URL must not carry credentials (use the tokens section)")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ConfigError(setting, "URL has an invalid port") from None
    return url.strip().rstrip("/")


def _check_base_path(value: Any, setting: str) -> str:
    path = _str(value, setting)
    if not path.startswith("/") or "?" in path or "#" in path or " " in path:
        raise ConfigError(setting, "must be a path starting with '/' (e.g. /number-verification/v2)")
    return path.rstrip("/")


def _file(value: Any, setting: str, base_dir: Path, *, max_bytes: int = MAX_SPEC_FILE_BYTES) -> Path:
    """An existing regular file of at most ``max_bytes`` (read once now: a device or FIFO is refused, not read)."""
    path = Path(_str(value, setting)).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    read_regular_file(path, setting, max_bytes=max_bytes)
    return path.resolve()


def _release_facts(version: str) -> dict[str, str]:
    """What the version's profile says it was released with (the statement shows it beside the version)."""
    profile = get_profile(version)
    facts = {"release_tag": profile.release or "none (work in progress)", "commonalities": profile.commonalities}
    if profile.icm:
        facts["icm"] = profile.icm
    return facts


def _load_spec(path: Path, setting: str) -> Contract:
    """The user's OpenAPI file, checked now for what every scenario needs: its operations."""
    try:
        contract = Contract.from_file(path)
        operations = contract.operations
    except ContractError as exc:
        raise ConfigError(setting, str(exc).splitlines()[0]) from None
    except (AttributeError, TypeError, ValueError):
        raise ConfigError(setting, f"{path}: 'paths' must map each path to its operations") from None
    if not operations:
        raise ConfigError(setting, f"{path}: defines no operation with an operationId")
    return contract


def _check_spec_version(contract: Contract, profile: VersionProfile) -> None:
    """A spec of another version than the one under test would judge by the wrong rules: refuse it."""
    stated = contract.version.strip()
    release = stated.split("-", 1)[0]  # a release candidate (2.1.1-rc.2) is checked by its release's rules
    if stated and f"v{release.removeprefix('v')}" != profile.version:
        raise ConfigError("spec", f"{contract.source} is API version {stated!r} (info.version), but the version "
                                  f"under test is {profile.version}; pass --api-version v{stated.removeprefix('v')} "
                                  f"or a spec of {profile.version}")


def _tls(value: Any, base_dir: Path) -> TlsConfig:
    section = _section(value, "tls", _TLS_SETTINGS)
    ca_bundle = None
    if section.get("ca_bundle") is not None:
        ca_bundle = str(_file(section["ca_bundle"], "tls.ca_bundle", base_dir, max_bytes=16 << 20))
        ssl_context(ca_bundle)  # not a PEM bundle: ConfigError now, not a TLS failure mid-run
    insecure = _bool(section.get("insecure", False), "tls.insecure")
    client_cert = _client_cert(section, base_dir)
    if client_cert is not None:
        ssl_context(ca_bundle or not insecure, client_cert)  # a wrong certificate or key: one line now
    return TlsConfig(ca_bundle=ca_bundle, insecure=insecure, client_cert=client_cert)


def _client_cert(section: dict[str, Any], base_dir: Path) -> ClientCertificate | None:
    """``client_cert`` (PEM file) with its key from ``client_key`` (file) or ``client_key_env`` (PEM in a variable)."""
    given = [key for key in ("client_key", "client_key_env", "client_key_password_env") if section.get(key) is not None]
    if section.get("client_cert") is None:
        if given:
            raise ConfigError(f"tls.{given[0]}", "needs tls.client_cert (the PEM certificate the key belongs to)")
        return None
    cert_file = str(_file(section["client_cert"], "tls.client_cert", base_dir, max_bytes=1 << 20))
    if section.get("client_key") is not None and section.get("client_key_env") is not None:
        raise ConfigError("tls.client_key_env", "give only one of tls.client_key and tls.client_key_env")
    key_file = key_pem = password = None
    if section.get("client_key") is not None:
        key_file = str(_file(section["client_key"], "tls.client_key", base_dir, max_bytes=1 << 20))
    elif section.get("client_key_env") is not None:
        key_pem = _env_value(section["client_key_env"], "tls.client_key_env")
        if "PRIVATE KEY-----" not in key_pem:
            raise ConfigError("tls.client_key_env", "the variable does not hold a PEM private key")
    if section.get("client_key_password_env") is not None:
        password = _env_value(section["client_key_password_env"], "tls.client_key_password_env")
    return ClientCertificate(cert_file=cert_file, key_file=key_file, key_pem=key_pem, password=password)


def _env_value(value: Any, setting: str) -> str:
    """The secret held by the environment variable named by ``setting`` (registered for redaction)."""
    return secret_from_env(_str(value, setting), setting)


def _http(value: Any, tls: TlsConfig) -> HttpSettings:
    section = _section(value, "http", _HTTP_SETTINGS)
    defaults = HttpSettings()
    connect = _number(section.get("connect_timeout", defaults.connect_timeout), "http.connect_timeout")
    read = _number(section.get("read_timeout", defaults.read_timeout), "http.read_timeout")
    total = _number(section.get("total_timeout", max(defaults.total_timeout, connect + read)), "http.total_timeout")
    max_body = _number(section.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES), "http.max_body_bytes", integer=True)
    user_agent = header_value(section.get("user_agent", DEFAULT_USER_AGENT), "http.user_agent")
    concurrency = _number(section.get("max_concurrency", defaults.max_concurrency), "http.max_concurrency", integer=True)
    if concurrency > MAX_CONCURRENCY:
        raise ConfigError("http.max_concurrency", f"must be at most {MAX_CONCURRENCY}")
    proxy = None
    if section.get("proxy") is not None:
        proxy = _check_proxy(_str(section["proxy"], "http.proxy"))
    return HttpSettings(
        connect_timeout=float(connect), read_timeout=float(read), total_timeout=float(total),
        max_body_bytes=int(max_body), ca_bundle=tls.ca_bundle, insecure=tls.insecure,
        user_agent=user_agent, headers=parse_headers(section.get("headers"), "http.headers"),
        client_cert=tls.client_cert, proxy=proxy, trust_env=_bool(section.get("trust_env", False), "http.trust_env"),
        max_concurrency=int(concurrency),
    )


def _check_proxy(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("http.proxy", "must be an http:// or https:// proxy URL (host and port)")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ConfigError("http.proxy", "URL has an invalid port") from None
    if parts.password:
        register_secret(parts.password)
    return url


def _proxy_label(http: HttpSettings) -> str:
    if http.proxy:
        parts = urlsplit(http.proxy)
        return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return "from the environment" if http.trust_env else "none"


def _run(value: Any) -> RunLimits:
    section = _section(value, "run", {"max_seconds"})
    return RunLimits(max_seconds=float(_number(section.get("max_seconds", RunLimits.max_seconds), "run.max_seconds")))


def _test_data(value: Any) -> TestData:
    section = _section(value, "test_data", {"phone_number", "other_phone_number"})
    numbers: dict[str, str | None] = {}
    for key in ("phone_number", "other_phone_number"):
        number = section.get(key)
        if number is None:
            numbers[key] = None
            continue
        if isinstance(number, int) and not isinstance(number, bool):
            raise ConfigError(f"test_data.{key}", "not an E.164 number (quote it and start with '+')")
        if not is_e164(number.strip() if isinstance(number, str) else number):
            raise ConfigError(f"test_data.{key}", "not an E.164 number (expected + and 5 to 15 digits)")
        numbers[key] = number.strip()
    if numbers["phone_number"] and numbers["phone_number"] == numbers["other_phone_number"]:
        raise ConfigError("test_data.other_phone_number", "must differ from test_data.phone_number")
    return TestData(**numbers)


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def _implementation(value: Any) -> Implementation | None:
    """``implementation:``: organization, product and version are required, contact an e-mail or https URL."""
    if value is None:
        return None
    section = _section(value, "implementation", {"organization", "product", "version", "contact"})
    fields_ = {}
    for key in ("organization", "product", "version"):
        if key not in section:
            raise ConfigError(f"implementation.{key}", "missing (organization, product and version name the product under test)")
        text = section[key]
        if isinstance(text, int | float) and not isinstance(text, bool) and key == "version":
            text = str(text)  # `version: 1.2` is read by YAML as a number
        fields_[key] = _str(text, f"implementation.{key}")
        if len(fields_[key]) > 200 or any(ord(c) < 32 for c in fields_[key]):
            raise ConfigError(f"implementation.{key}", "must be one line of at most 200 characters")
    contact = section.get("contact")
    if contact is not None:
        contact = _str(contact, "implementation.contact")
        is_url = urlsplit(contact).scheme == "https" and bool(urlsplit(contact).hostname)
        if not (is_url or _EMAIL.match(contact)):
            raise ConfigError("implementation.contact", "must be an e-mail address or an https:// URL")
    return Implementation(**fields_, contact=contact)


def _tokens(value: Any, base_dir: Path) -> dict[str, Any]:
    """Kept as a dict for ``build_token_provider`` (which validates it); relative ``*_file`` paths made absolute."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError("tokens", f"must be a mapping of token kind to settings, got {_type_name(value)}")

    def resolve(node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {k: resolve(v, str(k)) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v, key) for v in node]
        if isinstance(node, str) and key.endswith("_file") and node:
            path = Path(node).expanduser()
            return str(path if path.is_absolute() else (base_dir / path).resolve())
        if isinstance(node, str) and _is_secret_setting(key):
            register_secret(node)
        return node

    return resolve(value)


def _is_secret_setting(key: str) -> bool:
    """A token, secret, subject or key value; not a URL, variable or file name that merely has such a word in it."""
    name = key.lower()
    return any(h in name for h in _SECRET_KEY_HINTS) and not name.endswith(_NOT_SECRET_SUFFIXES)


def _read_kit(path: Path) -> dict[str, Any]:
    text = read_text_file(path, "kit")
    try:
        kit = load_json(text)
    except json.JSONDecodeError as exc:
        raise ConfigError("kit", f"{path} is not valid JSON (line {exc.lineno}): {exc.msg}") from None
    except ValueError as exc:
        raise ConfigError("kit", f"{path}: {exc}") from None
    return kit


def _validate_kit(kit: Any, setting: str) -> None:
    if not isinstance(kit, Mapping):
        raise ConfigError(setting, "a tester kit must be a JSON object")
    if kit.get("kit_format") != KIT_FORMAT:
        raise ConfigError(f"{setting}.kit_format", f"expected {KIT_FORMAT!r}")
    if not isinstance(kit.get("api_root"), str):
        raise ConfigError(f"{setting}.api_root", "missing")
    if not isinstance(kit.get("base_paths", {}), Mapping):
        raise ConfigError(f"{setting}.base_paths", "must be a mapping of API version to base path")
    if not isinstance(kit.get("subscribers", []), list):
        raise ConfigError(f"{setting}.subscribers", "must be a list")


def _declared_token_policy(raw: Any) -> str:
    """``declared: {token_policy: strict}``: the target says it implements every token rule of any version."""
    if raw is None:
        return "version"
    if not isinstance(raw, Mapping):
        raise ConfigError("declared", "expected a mapping, e.g. {token_policy: strict}")
    unknown = sorted(str(k) for k in raw if k != "token_policy")
    if unknown:
        raise ConfigError(f"declared.{unknown[0]}", "unknown setting (known: token_policy)")
    value = raw.get("token_policy", "version")
    if value not in _TOKEN_POLICY_DECLARATIONS:
        raise ConfigError("declared.token_policy", f"{value!r} is not one of {', '.join(_TOKEN_POLICY_DECLARATIONS)}")
    return str(value)
