"""Nothing is lost (issue 12 §6): every error of every file of one run, each at its place.

A manifest with several malformed policies reports each of them (sorted by place) in one run, exit 2; a
property file whose claims name no action of the domain (SYM002) reports each at its assertion.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reasoner.errors import InputError, InputErrors
from reasoner.face.cli import EXIT_INPUT, main
from reasoner.front.manifest import load_environment

ROOT = Path(__file__).resolve().parents[2]
KEY = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-12345678900"


def cli(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main([str(a) for a in argv], out, err), out.getvalue(), err.getvalue()


def _manifest(tmp_path: Path) -> Path:
    (tmp_path / "bad1.json").write_text('{"Version": "2012-10-17", "Statement": [\n')
    (tmp_path / "bad2.json").write_text('{"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", '
                                        '"Resource": "*"}]}')
    (tmp_path / "bad3.json").write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Alow", "Action": "*", '
                                        '"Resource": "*"}]}')
    (tmp_path / "good.json").write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                                        '"Action": "kms:Decrypt", "Resource": "*"}]}')
    (tmp_path / "env.yaml").write_text(
        "keys:\n"
        f"  - arn: {KEY}1\n    policy: bad1.json\n"
        f"  - arn: {KEY}2\n    policy: bad2.json\n"
        "principals:\n"
        "  - arn: arn:aws:iam::111122223333:role/R\n    policies: [good.json, bad3.json, bad1.json]\n"
        "sessions:\n"
        "  - arn: arn:aws:sts::111122223333:assumed-role/R/app\n    source: arn:aws:iam::111122223333:role/R\n"
    )
    return tmp_path / "env.yaml"


def test_a_manifest_reports_every_malformed_policy(tmp_path: Path) -> None:
    env = _manifest(tmp_path)
    with pytest.raises(InputErrors) as info:
        load_environment(env)
    places = [(e.span.line, e.span.col) for e in info.value.errors if e.span]
    assert places == sorted(places) and len(places) == 4, info.value.errors
    assert all(e.code == "ENV005" for e in info.value.errors)
    # the session whose source failed is not reported again (its cause is)
    assert "not a declared principal" not in str(info.value)
    assert isinstance(info.value, InputError)  # one `except InputError` still catches it


@pytest.mark.parametrize("command", ["findings", "lint", "decide"])
def test_every_error_reaches_the_cli(tmp_path: Path, command: str) -> None:
    env = _manifest(tmp_path)
    extra = ["--principal", "arn:aws:iam::111122223333:root", "--action", "kms:Decrypt", "--resource", f"{KEY}1"]
    status, _, err = cli(command, env, *(extra if command == "decide" else []))
    assert status == EXIT_INPUT
    lines = [ln for ln in err.splitlines() if ": error: ENV005 " in ln]
    assert len(lines) == 4 and all(ln.startswith(f"{env}:") for ln in lines), err


def test_claims_outside_the_domain_are_located_at_their_assertion(tmp_path: Path) -> None:
    seed = ROOT / "examples" / "seed" / "environment.yaml"
    f = tmp_path / "p.access"
    f.write_text(
        f'environment "{seed}"\n'
        'assert "x":\n    no principal outside account 111122223333 can kms:CreateKey on all keys\n'
        'assert "y":\n    no principal outside account 111122223333 can kms:Decrypt on all keys\n'
        'assert "z":\n    no principal outside account 111122223333 can kms:CreateAlias on all keys\n'
    )
    for jobs in ("1", "2"):
        status, _, err = cli("check", f, "--root", "/", "--jobs", jobs)
        assert status == EXIT_INPUT
        lines = err.splitlines()
        assert [ln.split(": error: ")[0] for ln in lines] == [f"{f}:2:1", f"{f}:6:1"], err
        assert all(" SYM002 " in ln for ln in lines)
