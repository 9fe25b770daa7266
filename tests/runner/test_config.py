"""Target config: what a user writes in target.yaml and the one-line errors they get back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nv_conformance.config import TargetConfig, load_config
from nv_conformance.errors import ConfigError
from nv_conformance.redact import redact
from nv_conformance.resources import schemas_dir

KIT = {
    "kit_format": "nv-conformance-tester-kit/1",
    "warning": "test-only credentials",
    "issuer": "http://127.0.0.1:9091",
    "token_endpoint": "http://127.0.0.1:9091/token",
    "api_root": "http://127.0.0.1:9091",
    "base_paths": {"v1.0.0": "/number-verification/v1", "v2.1.0": "/number-verification/v2",
                   "vwip": "/number-verification/vwip"},
    "client": {"client_id": "nv-demo-client", "client_secret": "kit-client-secret-123456",
               "private_key_jwk": {"kty": "EC", "d": "private-scalar-abcdefgh"}},
    "subscribers": [
        {"phone_number": "+447700900001", "device_ip": "127.0.0.2", "operator_token": "optok-first-subscriber"},
        {"phone_number": "+447700900002", "device_ip": "127.0.0.3", "operator_token": "optok-second-subscriber"},
    ],
    "expired_access_token": "expired-token-value-000",
}


def write(tmp_path: Path, text: str, name: str = "target.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path: Path, text: str, **overrides: object) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), **overrides)
    return info.value


def test_embedded_default_needs_no_file() -> None:
    config = load_config(None)
    assert config.embedded
    assert config.api_version == "vwip"
    assert config.base_path == "/number-verification/vwip"
    assert config.api_root == ""


def test_embedded_default_completed_from_the_reference_kit() -> None:
    config = load_config(None, api_version="v2.1.0").with_kit(KIT)
    assert config.api_base_url == "http://127.0.0.1:9091/number-verification/v2"
    assert config.test_data.phone_number == "+447700900001"
    assert config.test_data.other_phone_number == "+447700900002"
    assert config.tokens == {}  # with a kit: every kind by the `reference` method
    assert config.declared_options()["tokens"] == {"all kinds": "reference (tester kit)"}
    assert config.embedded


def test_full_config_with_env_interpolation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NV_OPERATOR_TOKEN", "op-secret-from-env-42")
    monkeypatch.setenv("NV_HOST", "127.0.0.1:8443")
    import certifi

    (tmp_path / "ca.pem").write_bytes(Path(certifi.where()).read_bytes())
    (tmp_path / "client.pem").write_text("key")
    path = write(tmp_path, """
api_root: https://${NV_HOST}/camara/
api_version: 2.1.0
tls: {ca_bundle: ./ca.pem}
http: {connect_timeout: 2, read_timeout: 7, max_body_bytes: 4096}
run: {max_seconds: 60}
test_data: {phone_number: "+447700900001", other_phone_number: "+447700900002"}
tokens:
  defaults: {method: jwt-bearer, client_id: my-app, private_key_file: ./client.pem}
  valid: {subject: "operatortoken:${NV_OPERATOR_TOKEN}"}
""")
    config = load_config(path)
    assert isinstance(config, TargetConfig)
    assert config.api_root == "https://127.0.0.1:8443/camara"
    assert config.api_version == "v2.1.0"
    assert config.api_base_url == "https://127.0.0.1:8443/camara/number-verification/v2"
    assert config.http.connect_timeout == 2 and config.http.read_timeout == 7
    assert config.http.max_body_bytes == 4096
    assert config.http.verify() == str((tmp_path / "ca.pem").resolve())
    assert config.run.max_seconds == 60
    assert config.tokens["valid"]["subject"] == "operatortoken:op-secret-from-env-42"
    assert config.tokens["defaults"]["private_key_file"] == str((tmp_path / "client.pem").resolve())
    # the interpolated secret is masked wherever it is printed later
    assert "op-secret-from-env-42" not in redact("token op-secret-from-env-42 used")
    options = config.declared_options()
    assert options["test_data.phone_number"] == "+44770090****"
    assert options["tokens"] == {"valid": "jwt-bearer"}
    assert "op-secret-from-env-42" not in json.dumps(options)


def test_kit_file_fills_root_paths_numbers_and_reference_tokens(tmp_path: Path) -> None:
    write(tmp_path, json.dumps(KIT), "kit.json")
    config = load_config(write(tmp_path, "kit: kit.json\napi_version: v1.0.0\n"))
    assert config.api_base_url == "http://127.0.0.1:9091/number-verification/v1"
    assert config.kit_path == (tmp_path / "kit.json").resolve()
    assert config.test_data.phone_number == "+447700900001"
    assert config.tokens == {}
    assert "kit-client-secret-123456" not in redact("secret=kit-client-secret-123456")
    assert "optok-first-subscriber" not in redact("optok-first-subscriber")


def test_kit_secrets_of_the_wrong_type_are_masked_or_ignored_not_a_crash(tmp_path: Path) -> None:
    kit = json.loads(json.dumps(KIT))
    kit["client"]["client_secret"] = 987654321987
    kit["client"]["private_key_jwk"]["d"] = ["not", "a", "scalar", "at", "all", "!"]
    kit["subscribers"][0]["operator_token"] = {"nested": "object"}
    kit["expired_access_token"] = None
    write(tmp_path, json.dumps(kit), "kit.json")
    config = load_config(write(tmp_path, "kit: kit.json\n"))
    assert config.test_data.phone_number == "+447700900001"
    assert "987654321987" not in redact("secret 987654321987")


def test_explicit_settings_win_over_the_kit(tmp_path: Path) -> None:
    write(tmp_path, json.dumps(KIT), "kit.json")
    config = load_config(write(tmp_path, """
kit: kit.json
api_root: https://other.example.com
base_path: /nv/
test_data: {phone_number: "+34600000001"}
tokens: {expired: {method: static, token: abcdefghij}}
"""))
    assert config.api_base_url == "https://other.example.com/nv"
    assert config.test_data.phone_number == "+34600000001"
    assert config.test_data.other_phone_number == "+447700900002"
    assert config.tokens == {"expired": {"method": "static", "token": "abcdefghij"}}


def test_spec_override_is_loaded_as_contract(tmp_path: Path) -> None:
    spec = schemas_dir() / "vwip" / "number-verification.yaml"
    config = load_config(write(tmp_path, "api_root: http://127.0.0.1:1\n"), spec=str(spec), api_version="vwip")
    assert config.spec == spec.resolve()
    assert config.contract().operations


def test_overrides_win_and_none_is_ignored(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "api_root: http://127.0.0.1:1\napi_version: v1.0.0\n"),
                         api_version="v2.1.0", spec=None)
    assert config.api_version == "v2.1.0"
    assert config.base_path == "/number-verification/v2"


@pytest.mark.parametrize(
    ("text", "setting", "problem"),
    [
        ("api_version: vwip\n", "api_root", "missing"),
        ("api_root: ftp://example.com\n", "api_root", "http:// or https://"),
        ("api_root: https://\n", "api_root", "no host"),
        ("api_root: https://example.com/?a=1\n", "api_root", "query"),
        ("api_root: https://u:p@example.com\n", "api_root", "credentials"),
        ("api_root: https://example.com\napi_version: v9\n", "api_version", "unknown API version"),
        ("api_root: https://example.com\nbase_path: nv/v1\n", "base_path", "starting with '/'"),
        ("api_root: https://example.com\napi_rot: x\n", "api_rot", "unknown setting"),
        ("api_root: https://example.com\ntls: {insecure: 'yes'}\n", "tls.insecure", "true or false"),
        ("api_root: https://example.com\ntls: {verify: false}\n", "tls.verify", "unknown setting"),
        ("api_root: https://example.com\ntls: {ca_bundle: nope.pem}\n", "tls.ca_bundle", "file not found"),
        ("api_root: https://example.com\nhttp: {read_timeout: fast}\n", "http.read_timeout", "must be a number"),
        ("api_root: https://example.com\nhttp: {connect_timeout: 0}\n", "http.connect_timeout", "greater than 0"),
        ("api_root: https://example.com\nhttp: {max_body_bytes: 1.5}\n", "http.max_body_bytes", "whole number"),
        ("api_root: https://example.com\nrun: {max_seconds: -1}\n", "run.max_seconds", "greater than 0"),
        ("api_root: https://example.com\nhttp: {total_timeout: .nan}\n", "http.total_timeout", "finite"),
        ("api_root: https://example.com\nhttp: {read_timeout: .inf}\n", "http.read_timeout", "finite"),
        ("api_root: https://example.com\nrun: {max_seconds: .nan}\n", "run.max_seconds", "finite"),
        ("api_root: https://example.com\nrun: 5\n", "run", "must be a mapping"),
        ("api_root: https://example.com\ntest_data: {phone_number: '447700900001'}\n",
         "test_data.phone_number", "not an E.164 number"),
        ("api_root: https://example.com\ntest_data: {phone_number: 447700900001}\n",
         "test_data.phone_number", "not an E.164 number"),
        ("api_root: https://example.com\ntest_data: {other_phone_number: '+44 7700'}\n",
         "test_data.other_phone_number", "not an E.164 number"),
        ("api_root: https://example.com\ntokens: [valid]\n", "tokens", "mapping"),
        ("api_root: https://example.com\nspec: missing.yaml\n", "spec", "file not found"),
        ("api_root: https://example.com\nkit: missing.json\n", "kit", "file not found"),
        ("embedded: yes please\n", "embedded", "true or false"),
        ("embedded: true\napi_root: https://example.com\n", "embedded", "cannot be combined"),
        ("- a list\n", "--config", "must be a YAML mapping"),
        ("api_root: [unclosed\n", "--config", "not valid YAML"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, text: str, setting: str, problem: str) -> None:
    error = config_error(tmp_path, text)
    assert error.setting == setting
    assert problem in error.problem
    assert str(error).startswith(f"config: {setting}: ")
    assert "\n" not in str(error)


def test_missing_environment_variable_names_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NV_NOT_SET_ANYWHERE", raising=False)
    error = config_error(tmp_path, "api_root: https://example.com\ntokens:\n  valid: {token: '${NV_NOT_SET_ANYWHERE}'}\n")
    assert error.setting == "tokens.valid.token"
    assert "NV_NOT_SET_ANYWHERE is not set" in error.problem


def test_bad_phone_number_is_not_echoed(tmp_path: Path) -> None:
    error = config_error(tmp_path, "api_root: https://example.com\ntest_data: {phone_number: '+4477009000011234567'}\n")
    assert "4477009000011234567" not in str(error)


def test_unreadable_and_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "absent.yaml")
    assert info.value.setting == "--config" and "file not found" in info.value.problem
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)  # a directory
    assert info.value.setting == "--config"


def test_bad_spec_file_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "openapi: 3.0.3\ninfo: {title: x}\n", "spec.yaml")
    error = config_error(tmp_path, "api_root: https://example.com\nspec: spec.yaml\n")
    assert error.setting == "spec" and "not an OpenAPI document" in error.problem
    write(tmp_path, "paths: [\n", "broken.yaml")
    error = config_error(tmp_path, "api_root: https://example.com\nspec: broken.yaml\n")
    assert error.setting == "spec"


def test_bad_kit_file_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "{not json", "kit.json")
    error = config_error(tmp_path, "kit: kit.json\n")
    assert error.setting == "kit" and "not valid JSON" in error.problem
    write(tmp_path, json.dumps({**KIT, "kit_format": "other/2"}), "kit.json")
    assert config_error(tmp_path, "kit: kit.json\n").setting == "kit.kit_format"


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("openapi: 3.0.3\npaths: just text\n", "'paths' must map each path"),
        ("openapi: 3.0.3\npaths: {}\n", "defines no operation"),
        ("openapi: 3.0.3\npaths:\n  /verify:\n    post: {summary: no id}\n", "defines no operation"),
    ],
)
def test_a_spec_without_usable_operations_is_refused_before_the_run(tmp_path: Path, spec: str, problem: str) -> None:
    write(tmp_path, spec, "spec.yaml")
    error = config_error(tmp_path, "api_root: https://example.com\nspec: spec.yaml\n")
    assert error.setting == "spec" and problem in error.problem


def test_unknown_override_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, colour="blue")
    assert info.value.setting == "colour"


def test_insecure_tls_warns_loudly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "api_root: https://example.com\ntls: {insecure: true}\n")
    config = load_config(path)
    assert config.http.verify() is False
    assert "NOT verified" in capsys.readouterr().err


def test_ca_bundle_that_is_not_pem_is_named(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    error = config_error(tmp_path, "api_root: https://example.com\ntls: {ca_bundle: ca.pem}\n")
    assert error.setting == "tls.ca_bundle" and "cannot load" in error.problem


# -- implementation: the product under test, named in statements and evidence bundles ----------------

IMPL = "api_root: https://example.com\nimplementation:\n"


def test_implementation_is_declared_in_the_options(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, IMPL + "  organization: Example Operator\n  product: NV Gateway\n"
                                       "  version: 3.1\n  contact: https://example.com/conformance\n"))
    assert config.implementation is not None and config.implementation.label == "Example Operator NV Gateway 3.1"
    assert config.declared_options()["implementation"] == {
        "organization": "Example Operator", "product": "NV Gateway", "version": "3.1",
        "contact": "https://example.com/conformance"}
    assert load_config(write(tmp_path, "api_root: https://example.com\n")).declared_options()["implementation"] \
        == "not declared"
    assert load_config(None).declared_options()["implementation"]["product"] == "embedded reference provider"


@pytest.mark.parametrize(
    ("section", "setting", "problem"),
    [
        ("  product: P\n  version: '1'\n", "implementation.organization", "missing"),
        ("  organization: O\n  version: '1'\n", "implementation.product", "missing"),
        ("  organization: O\n  product: P\n", "implementation.version", "missing"),
        ("  organization: ''\n  product: P\n  version: '1'\n", "implementation.organization", "non-empty string"),
        ("  organization: O\n  product: [P]\n  version: '1'\n", "implementation.product", "non-empty string"),
        ("  organization: O\n  product: P\n  version: '1'\n  contact: call us\n", "implementation.contact",
         "e-mail address or an https:// URL"),
        ("  organization: O\n  product: P\n  version: '1'\n  contact: http://example.com\n", "implementation.contact",
         "https://"),
        ("  organization: O\n  product: P\n  version: '1'\n  vendor: V\n", "implementation.vendor", "unknown setting"),
        ("  organization: \"O\\nX\"\n  product: P\n  version: '1'\n", "implementation.organization", "one line"),
    ],
)
def test_bad_implementation_names_the_setting(tmp_path: Path, section: str, setting: str, problem: str) -> None:
    error = config_error(tmp_path, IMPL + section)
    assert error.setting == setting and problem in str(error), str(error)
