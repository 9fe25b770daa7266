"""Evidence bundles: a reviewer's check passes on real bundles and fails, naming the change, on any edit."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest

from nv_conformance import cli
from nv_conformance.evidence.manifest import manifest_bytes
from nv_conformance.evidence.signing import load_signing_key, sign
from nv_conformance.evidence.verify import BundleInvalid, verify_bundle
from nv_conformance.profiles import versions
from nv_conformance.report.provenance import kit_git_commit

from .bundles import IMPLEMENTATION, Bundle, members, rewrite, write_key


def verify_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(["verify-bundle", *args])
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1, out  # one line, whatever the outcome
    return code, out


def resign(bundle: Bundle, out: Path, key_pem: Path, edit_results, *, manifest_verdict: str | None = None,
           edit_manifest=None) -> Path:
    """A forgery done properly: results.json edited, every hash recomputed, the manifest signed again."""
    content = members(bundle.path)
    results = json.loads(content["results.json"])
    edit_results(results)
    old_digest = hashlib.sha256(content["results.json"]).hexdigest()
    content["results.json"] = (json.dumps(results, indent=2) + "\n").encode()
    # the statement names the digest of results.json: a forger puts the new one there too
    content["statement.html"] = content["statement.html"].replace(
        old_digest.encode(), hashlib.sha256(content["results.json"]).hexdigest().encode())
    manifest = json.loads(content["manifest.json"])
    if manifest_verdict:
        manifest["verdict"]["verdict"] = manifest_verdict
        manifest["verdict"]["totals"] = results["totals"]
    if edit_manifest:
        edit_manifest(manifest)
    key = load_signing_key(str(key_pem))
    content["signer.jwk.json"] = (json.dumps(key.public_jwk()) + "\n").encode()
    manifest["signer"]["thumbprint"] = key.thumbprint
    manifest["files"] = {n: hashlib.sha256(d).hexdigest() for n, d in content.items()
                         if n not in ("manifest.json", "manifest.jws")}
    content["manifest.json"] = manifest_bytes(manifest)
    content["manifest.jws"] = sign(content["manifest.json"], key).encode()
    return rewrite(bundle.path, out, content)


# -- real bundles verify ---------------------------------------------------------------------------

def test_conformant_bundle_verifies(conformant_bundle: Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = verify_cli(capsys, str(conformant_bundle.path), f"--thumbprint={conformant_bundle.thumbprint}")
    assert code == 0
    assert out == (f"valid: conformant, implementation not declared, API vwip, "
                   f"signed by {conformant_bundle.thumbprint}")


def test_failing_bundle_verifies_against_the_testers_public_key(
        failing_bundle: Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = verify_cli(capsys, str(failing_bundle.path), "--public-key",
                           str(failing_bundle.key_pem.with_suffix(".pub.pem")))
    assert code == 0
    assert out == f"valid: not conformant, Example Operator NV Gateway 3.1, API vwip, signed by {failing_bundle.thumbprint}"


def test_unpinned_verification_says_the_key_was_not_pinned(conformant_bundle: Bundle,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out = verify_cli(capsys, str(conformant_bundle.path))
    assert code == 0 and out.startswith("valid: conformant") and "key not pinned" in out


def test_manifest_describes_the_run(failing_bundle: Bundle) -> None:
    content = members(failing_bundle.path)
    manifest = json.loads(content["manifest.json"])
    results = json.loads(content["results.json"])
    assert manifest["format"] == "nv-conformance-bundle/1"
    assert manifest["id"] == results["statement_id"]
    assert manifest["implementation"] == IMPLEMENTATION
    assert manifest["verdict"] == {"verdict": "not conformant", "totals": results["totals"],
                                   "scenarios": len(results["scenarios"]), "undefined_steps": 0}
    assert manifest["kit"]["commit"] == kit_git_commit() != "unknown"
    assert {"behave", "joserfc", "httpx", "jsonschema"} <= set(manifest["kit"]["dependencies"])
    assert manifest["kit"]["python"].startswith("CPython 3.") or manifest["kit"]["python"]
    assert manifest["api"]["version"] == "vwip" and manifest["api"]["commonalities"] == "0.9.0"
    assert manifest["api"]["release_tag"] is None and manifest["api"]["icm"] == "0.5.0"  # vwip is the main branch: no release
    assert manifest["reproduce"].startswith("nv-conformance run --config ") and "--api-version vwip" in manifest["reproduce"]
    assert manifest["run"]["started_at"] == results["started_at"]
    assert manifest["created_at"].endswith("+00:00")
    assert failing_bundle.path.stat().st_mode & 0o777 == 0o644
    # every member but the manifest and its signature, each with its digest
    listed = set(content) - {"manifest.json", "manifest.jws"}
    assert set(manifest["files"]) == listed
    for name in listed:
        assert manifest["files"][name] == hashlib.sha256(content[name]).hexdigest()
    # the exact inputs: the kit's feature files and the vwip contract, byte for byte
    from nv_conformance.profiles import get_profile
    from nv_conformance.resources import features_dir

    for feature in features_dir().glob("*.feature"):
        assert content[f"features/{feature.name}"] == feature.read_bytes()
    assert content["contract/number-verification.yaml"] == get_profile("vwip").contract_path.read_bytes()
    assert json.loads(content["profile/profile.json"])["version"] == "vwip"
    effective = json.loads(content["config/effective-config.json"])
    assert effective["config_file"]["settings"]["implementation"] == IMPLEMENTATION
    assert effective["declared_options"]["api_version"] == "vwip"
    exchanges = json.loads(content["exchanges.json"])
    assert exchanges and all(entry["exchanges"] for entry in exchanges)
    assert "d" not in json.loads(content["signer.jwk.json"])  # the public half only


@pytest.mark.parametrize(("version", "release"), [("v1.0.0", "r1.3"), ("v2.0.0", "r2.4"), ("v2.1.0", "r3.2")])
def test_a_released_version_names_its_camara_release(version: str, release: str) -> None:
    from nv_conformance.evidence.contents import profile_entry

    assert profile_entry(version)["release"] == release


def test_the_statement_must_name_the_digest_of_the_bundled_results(failing_bundle: Bundle, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    content = members(failing_bundle.path)
    digest = hashlib.sha256(content["results.json"]).hexdigest()
    statement = content["statement.html"].decode()
    assert f'id="results-sha256">{digest}<' in statement  # shown whole, not taken for a hashed phone number
    content["statement.html"] = statement.replace(digest, "0" * 64).encode()
    manifest = json.loads(content["manifest.json"])
    manifest["files"] = {n: hashlib.sha256(d).hexdigest() for n, d in content.items()
                         if n not in ("manifest.json", "manifest.jws")}
    content["manifest.json"] = manifest_bytes(manifest)
    content["manifest.jws"] = sign(content["manifest.json"], load_signing_key(str(failing_bundle.key_pem))).encode()
    code, out = verify_cli(capsys, str(rewrite(failing_bundle.path, tmp_path / "forged.zip", content)))
    assert code == 1 and "statement.html: names results.json SHA-256 000000000000…" in out


def test_statement_shows_id_bundle_hash_and_reproduce(failing_bundle: Bundle) -> None:
    content = members(failing_bundle.path)
    statement_id = json.loads(content["manifest.json"])["id"]
    inside = content["statement.html"].decode()
    assert statement_id in inside and '<h2 id="reproduce">Reproduce</h2>' in inside
    beside = (failing_bundle.report_dir / "statement.html").read_text()
    digest = hashlib.sha256(failing_bundle.path.read_bytes()).hexdigest()
    assert f'id="bundle-sha256"><code>{digest}</code>' in beside
    assert f"nv-conformance verify-bundle evidence.zip --thumbprint={failing_bundle.thumbprint}" in beside


# -- any change is found, and named ------------------------------------------------------------------

def one_byte_changed(data: bytes) -> bytes:
    index = len(data) // 2
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


def test_every_member_is_covered(failing_bundle: Bundle) -> None:
    """Each member below gets its one-byte test: a new member must be added to the parametrization."""
    assert set(members(failing_bundle.path)) == set(MEMBERS)


MEMBERS = ["manifest.json", "manifest.jws", "signer.jwk.json", "results.json", "junit.xml", "statement.html",
           "exchanges.json", "config/effective-config.json", "profile/profile.json",
           "contract/number-verification.yaml", "features/phone_number_share.feature",
           "features/phone_number_verify.feature", "features/token_policy.feature"]


@pytest.mark.parametrize("name", MEMBERS)
def test_one_changed_byte_is_named(failing_bundle: Bundle, tmp_path: Path, name: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    original = members(failing_bundle.path)[name]
    forged = rewrite(failing_bundle.path, tmp_path / "forged.zip", {name: one_byte_changed(original)})
    code, out = verify_cli(capsys, str(forged), f"--thumbprint={failing_bundle.thumbprint}")
    assert code == 1
    assert out.startswith("invalid: ")
    named = "manifest.jws" if name == "manifest.jws" else name
    assert named in out, out


def test_a_damaged_archive_names_the_member(failing_bundle: Bundle, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A byte flipped in the zip file itself (the compressed data of results.json)."""
    raw = bytearray(failing_bundle.path.read_bytes())
    with zipfile.ZipFile(failing_bundle.path) as archive:
        info = archive.getinfo("results.json")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + info.compress_size // 2] ^= 0x01
    (tmp_path / "damaged.zip").write_bytes(bytes(raw))
    code, out = verify_cli(capsys, str(tmp_path / "damaged.zip"))
    assert code == 1 and "results.json" in out


def test_an_added_file_is_named(failing_bundle: Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    forged = rewrite(failing_bundle.path, tmp_path / "forged.zip", {"features/extra.feature": b"Feature: x\n"})
    code, out = verify_cli(capsys, str(forged))
    assert code == 1 and out == "invalid: features/extra.feature: not listed in the manifest (added after signing)"


def test_another_key_fails_against_the_thumbprint(failing_bundle: Bundle, conformant_bundle: Bundle, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out = verify_cli(capsys, str(conformant_bundle.path), f"--thumbprint={failing_bundle.thumbprint}")
    assert code == 1
    assert out == (f"invalid: signer.jwk.json: signed by key {conformant_bundle.thumbprint}, "
                   f"not by the expected key {failing_bundle.thumbprint}")
    # re-signed by someone else: every hash right, the signature valid, but not the tester's key
    other = write_key(tmp_path / "other.pem")
    forged = resign(failing_bundle, tmp_path / "forged.zip", other, lambda results: None)
    assert verify_cli(capsys, str(forged))[0] == 0  # internally consistent
    code, out = verify_cli(capsys, str(forged), f"--thumbprint={failing_bundle.thumbprint}")
    assert code == 1 and "not by the expected key" in out
    code, out = verify_cli(capsys, str(forged), "--public-key", str(failing_bundle.key_pem.with_suffix(".pub.pem")))
    assert code == 1 and "not by the given --public-key" in out


def test_results_edited_to_pass_fail_the_verdict_rederivation(failing_bundle: Bundle, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Even signed by the tester's own key: the verdict follows from the scenarios, not from what is stated."""

    def claim_conformant(results: dict) -> None:
        results["verdict"] = "conformant"

    forged = resign(failing_bundle, tmp_path / "forged.zip", failing_bundle.key_pem, claim_conformant,
                    manifest_verdict="conformant")
    code, out = verify_cli(capsys, str(forged), f"--thumbprint={failing_bundle.thumbprint}")
    assert code == 1
    assert out == ("invalid: results.json: states verdict 'conformant', but its scenarios give 'not conformant' "
                   "by the kit's rules")


@pytest.mark.parametrize("field", ["scenarios", "options"])
def test_results_of_the_wrong_shape_are_one_line_not_a_traceback(failing_bundle: Bundle, tmp_path: Path, field: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def reshape(results: dict) -> None:
        results[field] = [1]

    forged = resign(failing_bundle, tmp_path / "forged.zip", failing_bundle.key_pem, reshape)
    code, out = verify_cli(capsys, str(forged), f"--thumbprint={failing_bundle.thumbprint}")
    assert code == 1
    assert out.startswith("invalid: results.json: not a results file of the kit")


@pytest.mark.parametrize("field", ["api", "verdict"])
def test_a_manifest_field_that_is_no_object_is_one_line(failing_bundle: Bundle, tmp_path: Path, field: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    def spoil(manifest: dict) -> None:
        manifest[field] = "x"

    forged = resign(failing_bundle, tmp_path / "forged.zip", failing_bundle.key_pem, lambda results: None,
                    edit_manifest=spoil)
    code, out = verify_cli(capsys, str(forged), f"--thumbprint={failing_bundle.thumbprint}")
    assert code == 1
    assert out == f"invalid: manifest.json: {field} is not an object"


def test_failed_scenarios_turned_into_passes_contradict_the_other_reports(
        failing_bundle: Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def all_passed(results: dict) -> None:
        for scenario in results["scenarios"]:
            if scenario["outcome"] == "failed":
                scenario["outcome"], scenario["reason"] = "passed", ""
        results["verdict"] = "conformant"
        results["totals"]["passed"] += results["totals"]["failed"]
        results["totals"]["failed"] = 0

    forged = resign(failing_bundle, tmp_path / "forged.zip", failing_bundle.key_pem, all_passed,
                    manifest_verdict="conformant")
    code, out = verify_cli(capsys, str(forged), f"--thumbprint={failing_bundle.thumbprint}")
    assert code == 1 and re.match(r"invalid: junit\.xml: \d+ failure\(s\), but results\.json has 0$", out), out


def test_a_secret_put_into_the_results_is_found(failing_bundle: Bundle, tmp_path: Path) -> None:
    def leak(results: dict) -> None:
        results["scenarios"][0]["reason"] = "subscriber +447700900001 answered"

    forged = resign(failing_bundle, tmp_path / "forged.zip", failing_bundle.key_pem, leak)
    with pytest.raises(BundleInvalid, match=r"^results\.json: holds an unredacted secret \(phone number\)$"):
        verify_bundle(forged)


# -- nothing secret inside ---------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["conformant_bundle", "failing_bundle"])
def test_no_secret_anywhere_in_an_unpacked_bundle(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    bundle: Bundle = request.getfixturevalue(which)
    with zipfile.ZipFile(bundle.path) as archive:
        archive.extractall(tmp_path)
    key_body = ""
    if bundle.key_pem:
        key_body = "".join(bundle.key_pem.read_text().splitlines()[1:-1])
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == len(MEMBERS)
    for path in files:
        raw = path.read_text(encoding="utf-8")
        decoded = json.dumps(json.loads(raw)) if path.suffix == ".json" else raw
        for secret in bundle.secrets:
            assert secret not in raw and secret not in decoded, f"{secret[:10]}… in {path.name}"
        assert "PRIVATE KEY" not in raw
        assert not key_body or key_body[:40] not in raw
        if path.name != "manifest.jws":  # the signature itself has the shape of a JWS
            assert not re.search(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", raw), path.name


# -- the bundle command ----------------------------------------------------------------------------

def test_bundle_command_packs_a_finished_report_dir(failing_bundle: Bundle, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    key = write_key(tmp_path / "k.pem")
    assert cli.main(["bundle", str(failing_bundle.report_dir), str(tmp_path / "again.zip"), "--sign-key", str(key)]) == 0
    out = capsys.readouterr().out
    thumbprint = load_signing_key(str(key)).thumbprint
    assert f"nv-conformance verify-bundle {tmp_path / 'again.zip'} --thumbprint={thumbprint}" in out
    assert "generated" not in out
    result = verify_bundle(tmp_path / "again.zip", thumbprint=thumbprint)
    assert result.verdict == "not conformant"
    first = json.loads(members(failing_bundle.path)["manifest.json"])
    assert result.manifest["id"] == first["id"]  # the same statement, bundled again
    assert result.manifest["files"]["results.json"] == first["files"]["results.json"]


def test_sign_key_from_the_environment(conformant_bundle: Bundle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    key = write_key(tmp_path / "env.pem")
    monkeypatch.setenv("NV_CONFORMANCE_SIGN_KEY", str(key))
    assert cli.main(["bundle", str(conformant_bundle.report_dir), str(tmp_path / "b.zip")]) == 0
    capsys.readouterr()
    assert verify_bundle(tmp_path / "b.zip", thumbprint=load_signing_key(str(key)).thumbprint).verdict == "conformant"


def test_ed25519_keys_sign_too(conformant_bundle: Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    private = ed25519.Ed25519PrivateKey.generate()
    (tmp_path / "ed.pem").write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    assert cli.main(["bundle", str(conformant_bundle.report_dir), str(tmp_path / "b.zip"),
                     "--sign-key", str(tmp_path / "ed.pem")]) == 0
    capsys.readouterr()
    header = members(tmp_path / "b.zip")["manifest.jws"].split(b".")[0]
    import base64

    assert json.loads(base64.urlsafe_b64decode(header + b"=" * (-len(header) % 4)))["alg"] == "Ed25519"
    assert verify_bundle(tmp_path / "b.zip").verdict == "conformant"


@pytest.mark.parametrize(("args", "message"), [
    (["bundle", "/nonexistent/reports", "x.zip"], "REPORT_DIR: not a directory"),
    (["bundle", "{empty}", "{tmp}/x.zip"], "results.json is missing"),
    (["bundle", "{reports}", "{tmp}/missing-dir/x.zip"], "PATH: directory not found"),
    (["bundle", "{reports}", "{tmp}/x.zip", "--sign-key", "{tmp}/nokey.pem"], "--sign-key: file not found"),
    (["bundle", "{reports}", "{tmp}/x.zip", "--sign-key", "{reports}/results.json"], "is not a PEM private key"),
    (["verify-bundle", "{reports}/results.json"], None),
    (["run", "--no-reports", "--bundle", "{tmp}/x.zip"], "--bundle: needs the reports"),
])
def test_bad_input_is_one_line(args: list[str], message: str | None, conformant_bundle: Bundle, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    args = [a.format(tmp=tmp_path, empty=tmp_path / "empty", reports=conformant_bundle.report_dir) for a in args]
    code = cli.main(args)
    captured = capsys.readouterr()
    if message is None:  # verify-bundle: a non-bundle is an invalid bundle (exit 1), in one line
        assert code == 1 and captured.out.startswith("invalid: ") and "not a bundle archive" in captured.out
        return
    assert code == 2
    assert len(captured.err.strip().splitlines()) == 1 and message in captured.err, captured.err
    assert "Traceback" not in captured.err


def test_version_names_commit_and_api_versions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out == f"nv-conformance 0.1.0 (commit {kit_git_commit()}; API versions {', '.join(versions())})"
    assert "v2.1.0" in out


def test_effective_config_masks_literal_secrets_and_keeps_references(tmp_path: Path) -> None:
    from nv_conformance.evidence.contents import effective_config
    from nv_conformance.results import RunResult

    (tmp_path / "target.yaml").write_text(
        "api_root: https://api.example.com\n"
        "test_data: {phone_number: '+447700900123'}\n"
        "tokens:\n"
        "  defaults: {method: client-credentials, client_id: app, client_secret: literal-secret-Zq81}\n"
        "  valid: {subject: 'operatortoken:${NV_OPERATOR_TOKEN}'}\n"
        "  expired: {method: static, token: '${NV_EXPIRED}', private_key_file: ./k.pem}\n")
    run = RunResult(target="t", api_version="vwip", kit_version="0.1.0", git_commit="x", started_at="",
                    options={"config": str(tmp_path / "target.yaml")})
    text = json.dumps(effective_config(run))
    assert "literal-secret-Zq81" not in text and "447700900123" not in text
    settings = effective_config(run)["config_file"]["settings"]
    assert settings["tokens"]["defaults"]["client_secret"] == "(redacted)"
    assert settings["tokens"]["expired"]["token"] == "${NV_EXPIRED}"  # where the secret came from, not the secret
    assert settings["tokens"]["expired"]["private_key_file"] == "./k.pem"
    assert settings["test_data"]["phone_number"] == "+44770090****"


def test_effective_config_masks_command_arguments_and_an_inline_private_jwk(tmp_path: Path) -> None:
    from joserfc.jwk import ECKey

    from nv_conformance.evidence.contents import effective_config
    from nv_conformance.results import RunResult

    jwk = ECKey.generate_key("P-256").as_dict(private=True)
    (tmp_path / "target.yaml").write_text(
        "tokens:\n"
        f"  defaults: {{method: jwt-bearer, client_id: app, private_key_jwk: {json.dumps(jwk)}}}\n"
        "  valid: {method: command, argv: [get-token, --client-secret, hunter2-Zq81, '--password=p4ss-Zq81',"
        " --scope, '{scope}', '${NV_TOKEN_ARG}']}\n")
    run = RunResult(target="t", api_version="vwip", kit_version="0.1.0", git_commit="x", started_at="",
                    options={"config": str(tmp_path / "target.yaml")})
    settings = effective_config(run)["config_file"]["settings"]
    assert jwk["d"] not in json.dumps(settings)
    assert settings["tokens"]["defaults"]["private_key_jwk"]["x"] == jwk["x"]  # the public half stays
    argv = settings["tokens"]["valid"]["argv"]
    assert "Zq81" not in json.dumps(argv)
    assert argv == ["get-token", "--client-secret", "(redacted)", "--password=(redacted)", "--scope", "{scope}",
                    "${NV_TOKEN_ARG}"]


def test_a_private_jwk_in_a_member_is_found(failing_bundle: Bundle, tmp_path: Path) -> None:
    def leak(results: dict) -> None:
        results["scenarios"][0]["reason"] = "signing key"
        from joserfc.jwk import ECKey

        # a key no part of this process has seen: found by its shape, as a verifier elsewhere would
        results["options"]["client_key"] = ECKey.generate_key("P-256").as_dict(private=True)

    forged = resign(failing_bundle, tmp_path / "forged.zip", failing_bundle.key_pem, leak)
    with pytest.raises(BundleInvalid, match=r"^results\.json: holds an unredacted secret \(private JWK\)$"):
        verify_bundle(forged)


@pytest.mark.broken_results  # results.json of an older format, on purpose
def test_reports_of_an_older_kit_are_refused_in_one_line(conformant_bundle: Bundle, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old"
    old.mkdir()
    for name in ("junit.xml", "statement.html"):
        (old / name).write_bytes((conformant_bundle.report_dir / name).read_bytes())
    results = json.loads((conformant_bundle.report_dir / "results.json").read_text())
    del results["statement_id"]
    (old / "results.json").write_text(json.dumps(results))
    assert cli.main(["bundle", str(old), str(tmp_path / "x.zip")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("results.json has no statement id (written by an older kit); run again to bundle"), err
    assert not (tmp_path / "x.zip").exists()


def test_a_feature_edited_after_the_run_is_not_bundled(conformant_bundle: Bundle, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from nv_conformance.resources import features_dir

    features = tmp_path / "features"
    features.mkdir()
    for feature in features_dir().glob("*.feature"):
        (features / feature.name).write_bytes(feature.read_bytes())
    assert cli.main(["run", "--quiet", "--features", str(features), "--report-dir", str(tmp_path / "r")]) == 0
    edited = sorted(features.glob("*.feature"))[0]
    edited.write_text(edited.read_text() + "\n# edited\n")
    assert cli.main(["bundle", str(tmp_path / "r"), str(tmp_path / "x.zip")]) == 2
    assert f"{edited} was modified after the run started" in capsys.readouterr().err


# -- hostile archives ----------------------------------------------------------------------------------

def test_an_oversized_member_is_refused_before_it_is_inflated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nv_conformance.evidence import archive

    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 1000)
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("big.bin", b"\0" * 5000)
    with pytest.raises(BundleInvalid, match=r"^big\.bin: larger than 1000 bytes$"):
        verify_bundle(tmp_path / "bomb.zip")


def test_many_members_below_the_member_limit_are_refused_in_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A zip bomb of many members, each under the per-member limit, must not be inflated into memory."""
    from nv_conformance.evidence import archive

    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 1000)
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 3000)
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as out:
        for index in range(5):
            out.writestr(f"part{index}.bin", b"\0" * 900)
    with pytest.raises(BundleInvalid, match=r"members larger than 3000 bytes in all$"):
        verify_bundle(tmp_path / "bomb.zip")


@pytest.mark.parametrize("name", ["../escaped.txt", "/etc/absolute.txt"])
def test_a_member_outside_the_archive_root_is_named_and_never_written(failing_bundle: Bundle, tmp_path: Path,
                                                                      name: str) -> None:
    forged = rewrite(failing_bundle.path, tmp_path / "forged.zip", {name: b"x"})
    with pytest.raises(BundleInvalid, match=re.escape(name)):
        verify_bundle(forged)
    assert not (tmp_path.parent / "escaped.txt").exists()


@pytest.mark.parametrize(("edit", "message"), [
    (lambda m: m["api"].update(version="v2.1.0"),
     r"^manifest\.json: api\.version 'v2\.1\.0' is not the version results\.json ran \('vwip'\)$"),
    (lambda m: m["implementation"].update(product="Another Gateway"),
     r"^manifest\.json: implementation differs from the one results\.json declares$"),
])
def test_the_manifests_claims_in_the_summary_line_follow_from_the_results(failing_bundle: Bundle, tmp_path: Path,
                                                                          edit, message: str) -> None:
    """The one line a reviewer reads names the implementation and API version: the run's, not a claim beside it."""
    content = members(failing_bundle.path)
    manifest = json.loads(content["manifest.json"])
    edit(manifest)
    content["manifest.json"] = manifest_bytes(manifest)
    content["manifest.jws"] = sign(content["manifest.json"], load_signing_key(str(failing_bundle.key_pem))).encode()
    forged = rewrite(failing_bundle.path, tmp_path / "forged.zip", content)
    with pytest.raises(BundleInvalid, match=message):
        verify_bundle(forged)


def test_a_thumbprint_that_starts_with_a_dash_is_given_as_one_argument(conformant_bundle: Bundle, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """base64url thumbprints start with '-' one time in 64: the printed command must still parse."""
    from nv_conformance.report.html import render_statement
    from nv_conformance.results import RunResult

    run = RunResult.from_dict(json.loads((conformant_bundle.report_dir / "results.json").read_text()))
    page = render_statement(run, bundle={"name": "e.zip", "sha256": "0" * 64, "thumbprint": "-abc"})
    assert "verify-bundle e.zip --thumbprint=-abc" in page
