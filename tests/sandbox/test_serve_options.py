"""`serve --db postgresql://...`, the NV_REFERENCE_DB default and `--keys`: clear one-line errors, no password."""

from __future__ import annotations

import pytest

from nv_conformance.cli import main as cli_main


@pytest.mark.parametrize(("args", "setting", "shown"), [
    (["--db", "postgresql://nv:s3cret@127.0.0.1:1/nv"], "--db", "postgresql://nv:***@127.0.0.1:1/nv"),
    (["--db", "mysql://nv@127.0.0.1/nv"], "--db", "postgresql://"),
    (["--keys", "/proc/nope/keys.jwk"], "--keys", "/proc/nope/keys.jwk"),
])
def test_serve_refuses_an_unusable_database_or_key_file_with_one_line(args, setting, shown, tmp_path, capsys,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["serve", "--port", "0", *args]) == 2
    err = capsys.readouterr().err
    assert setting in err and shown in err and "Traceback" not in err, err
    assert "s3cret" not in err and len(err.strip().splitlines()) == 1, err


def test_the_database_url_may_come_from_the_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NV_REFERENCE_DB", "postgresql://nv:s3cret@127.0.0.1:1/nv")
    assert cli_main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "postgresql://nv:***@127.0.0.1:1/nv" in err and "s3cret" not in err, err
