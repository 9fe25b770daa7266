"""What goes into a bundle besides the manifest: a finished run's reports and the inputs that produced them.

Everything is read from a report directory (``results.json`` names the config, features and
contract the run used), so ``run --bundle`` and ``bundle REPORT_DIR`` pack the same files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from ..errors import KitError
from ..profiles import UnknownVersionError, get_profile
from ..redact import redact, redact_json
from ..report import HTML_FILE, JSON_FILE, JUNIT_FILE
from ..resources import features_dir, schemas_dir
from ..results import RunResult

EFFECTIVE_CONFIG = "config/effective-config.json"
PROFILE_ENTRY = "profile/profile.json"
EXCHANGES = "exchanges.json"
EFFECTIVE_CONFIG_FORMAT = "nv-conformance-effective-config/1"
BUNDLE_ROW = 'id="bundle-sha256"'  # the statement row that report/html.py adds once a bundle exists
_SECRET_KEY_HINTS = ("token", "secret", "password", "assertion", "subject", "key")
_ARGV_PLACEHOLDERS = ("{kind}", "{scope}")


@dataclass
class RunEvidence:
    """A finished run as a bundle sees it: the run (from results.json) and each file by its archive name."""

    run: RunResult
    document: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    features_root: str = ""
    contract_source: str = ""


def collect(report_dir: Path) -> RunEvidence:
    """The reports in ``report_dir`` and the inputs their run used; ``KitError`` naming what is missing."""
    report_dir = Path(report_dir)
    files: dict[str, bytes] = {}
    for name in (JSON_FILE, JUNIT_FILE, HTML_FILE):
        try:
            files[name] = (report_dir / name).read_bytes()
        except OSError as exc:
            raise KitError(f"cannot bundle {report_dir}: {name} is missing or unreadable "
                           f"({exc.strerror or exc}); bundle the report directory of a finished run") from None
    try:
        document = json.loads(files[JSON_FILE])
        run = RunResult.from_dict(document)
    except (ValueError, TypeError, KeyError) as exc:
        raise KitError(f"cannot bundle {report_dir}: {JSON_FILE} is not a results file of the kit ({exc})") from None
    if not document.get("statement_id"):
        raise KitError(f"cannot bundle {report_dir}: {JSON_FILE} has no statement id (written by an older kit); "
                       "run again to bundle")
    if run.options.get("mode") == "fuzz":
        raise KitError("bundles hold conformance runs (nv-conformance run); this report directory is from a fuzz run")
    if not run.finished_at:
        raise KitError(f"cannot bundle {report_dir}: the run did not finish")
    if BUNDLE_ROW.encode() in files[HTML_FILE]:
        # bundled before: that statement names the earlier bundle's digest; the run's own statement goes in
        from ..report.html import render_statement

        files[HTML_FILE] = render_statement(run, results_sha256=hashlib.sha256(files[JSON_FILE]).hexdigest()).encode("utf-8")
    started = _timestamp(run.started_at)
    evidence = RunEvidence(run=run, document=document)
    root, feature_files = _feature_files(run)
    evidence.features_root = str(root)
    for path in feature_files:
        _unchanged_since(path, started)
        evidence.files["features/" + (path.relative_to(root).as_posix() if root.is_dir() else path.name)] = path.read_bytes()
    contract = _contract_path(run)
    _unchanged_since(contract, started)
    evidence.contract_source = str(contract)
    evidence.files["contract/" + contract.name] = contract.read_bytes()
    evidence.files[PROFILE_ENTRY] = _json_bytes(profile_entry(run.api_version))
    evidence.files[EFFECTIVE_CONFIG] = _json_bytes(effective_config(run))
    evidence.files[EXCHANGES] = _json_bytes(exchanges(document))
    evidence.files.update(files)
    return evidence


def profile_entry(api_version: str) -> dict[str, Any]:
    """The version's entry of schemas/profiles.yaml, as it was read for the run."""
    raw = yaml.safe_load((schemas_dir() / "profiles.yaml").read_text(encoding="utf-8")) or {}
    if api_version not in raw:
        raise KitError(f"API version {api_version!r} has no entry in schemas/profiles.yaml")
    return {"version": api_version, **raw[api_version]}


def effective_config(run: RunResult) -> dict[str, Any]:
    """The settings the run used (already redacted), and its config file with every secret value masked.

    ``${NAME}`` references stay as they are: they name where a secret came from, not the secret.
    """
    source = str(run.options.get("config") or "")
    config_file: dict[str, Any] | None = None
    if source and source != "embedded reference":
        path = Path(source)
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise KitError(f"cannot bundle: the run's config {source} cannot be read now ({exc})") from None
        config_file = {"path": source, "settings": redact_json(_mask_secrets(raw))}
    return {"format": EFFECTIVE_CONFIG_FORMAT, "declared_options": redact_json(run.options), "config_file": config_file}


def exchanges(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every HTTP exchange of the run, by scenario (as results.json holds them, redacted again)."""
    out = []
    for scenario in document.get("scenarios") or []:
        if scenario.get("exchanges"):
            out.append({"scenario": scenario.get("name"), "location": scenario.get("location"),
                        "outcome": scenario.get("outcome"), "exchanges": scenario["exchanges"]})
    return redact_json(out)


def _mask_secrets(node: Any, key: str = "") -> Any:
    if key == "argv" and isinstance(node, list) and node:
        return [redact(str(node[0])), *(_mask_argument(str(a)) for a in node[1:])]
    if isinstance(node, dict):
        return {k: _mask_secrets(v, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_mask_secrets(v, key) for v in node]
    if isinstance(node, str) and any(h in key.lower() for h in _SECRET_KEY_HINTS) and not key.endswith("_file"):
        return node if _is_reference(node) else "(redacted)"
    if isinstance(node, str):
        return redact(node)
    return node


def _mask_argument(argument: str) -> str:
    """A command's argument may be a literal credential (``--client-secret X``): only flags, ``${NAME}``
    references and the ``{kind}``/``{scope}`` placeholders are kept."""
    if argument.startswith("-"):
        flag, equals, value = argument.partition("=")
        return redact(flag) + (equals + _mask_argument(value) if equals else "")
    if _is_reference(argument) or argument in _ARGV_PLACEHOLDERS:
        return argument
    return "(redacted)"


def _is_reference(value: str) -> bool:
    return value.startswith("${") and value.endswith("}")


def _feature_files(run: RunResult) -> tuple[Path, list[Path]]:
    declared = run.options.get("features")
    root = Path(str(declared)) if declared else features_dir()
    if root.is_file():
        return root.parent, [root]
    if not root.is_dir():
        raise KitError(f"cannot bundle: the run's features {root} no longer exist")
    found = sorted(root.rglob("*.feature"))
    if not found:
        raise KitError(f"cannot bundle: no .feature files in {root}")
    return root, found


def _contract_path(run: RunResult) -> Path:
    spec = str(run.options.get("spec") or "")
    if spec and not spec.startswith("kit contract"):
        path = Path(spec)
    else:
        try:
            path = get_profile(run.api_version).contract_path
        except UnknownVersionError as exc:
            raise KitError(f"cannot bundle: {exc}") from None
    if not path.is_file():
        raise KitError(f"cannot bundle: the run's contract {path} no longer exists")
    return path


def _unchanged_since(path: Path, started: datetime | None) -> None:
    """A bundle claims to hold the files that ran: one edited after the run started would be a false claim."""
    if started is None:
        return
    if path.stat().st_mtime > started.timestamp():
        raise KitError(f"cannot bundle: {path} was modified after the run started ({started.isoformat()}); "
                       "run again to bundle what is on disk now")


def _timestamp(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str) + "\n").encode("utf-8")
