"""SARIF for code scanning (reasoner/face/render/sarif.py, rules.py, identity.py; issue 16).

Every command (`validate`, `check`, `findings`, `diff`, `lint`) is run in process on the bundled examples and
its SARIF checked against the vendored schema and GitHub's ingestion rules (`tests/sarif.py`): a document is
written also when the input is bad (exit 2, the errors as notifications); URIs are relative to the SARIF root
from any working directory; fingerprints stay the same across runs, working directories and inserted lines;
accepted results carry a suppression; the rules are documented in docs/rules.md.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reasoner.face.cli import main
from reasoner.face.render.rules import RULES
from tests.sarif import github_ingestible

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "examples" / "org"

COMMANDS: dict[str, tuple[str, ...]] = {
    "validate": ("validate", "examples/org/keys/app-data.json", "tests/golden/validate/key--lints.json"),
    "check": ("check", "examples/org/failing"),
    "findings": ("findings", "examples/org/environment.yaml"),
    "diff": ("diff", "examples/org/environment.yaml", "examples/org/proposed/environment.yaml"),
    "lint": ("lint", "examples/seed/key-policy.json", "--separation-of-duties"),
}
BAD: dict[str, tuple[str, ...]] = {
    "validate": ("validate", "no/such/file.json"),
    "check": ("check", "{bad}/bad.access"),
    "findings": ("findings", "{bad}/env.yaml"),
    "diff": ("diff", "{bad}/env.yaml", "examples/org/environment.yaml"),
    "lint": ("lint", "{bad}/env.yaml"),
}


def cli(*argv: str, cwd: Path = ROOT) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    here = Path.cwd()
    os.chdir(cwd)
    try:
        status = main(list(argv), out, err)
    finally:
        os.chdir(here)
    return status, out.getvalue(), err.getvalue()


def results(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc["runs"][0]["results"])


def uris(doc: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    for r in results(doc):
        for loc in [*r.get("locations", []), *r.get("relatedLocations", [])]:
            a = loc["physicalLocation"]["artifactLocation"]
            yield a["uri"], a.get("uriBaseId")


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_writes_sarif_that_github_ingests(name: str) -> None:
    status, out, err = cli(*COMMANDS[name], "--format", "sarif")
    assert status == 1, err  # each input has something to report
    doc = github_ingestible(out)
    (run,) = doc["runs"]
    assert run["automationDetails"]["id"] == f"reasoner/{name}/"
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]
    assert results(doc), name
    found = list(uris(doc))
    assert found and all(base == "SRCROOT" and not uri.startswith(("/", "..", "file:")) for uri, base in found)
    assert all((ROOT / uri).is_file() for uri, _ in found)


@pytest.mark.parametrize("name", BAD)
def test_a_document_is_written_when_the_input_is_bad(name: str, tmp_path: Path) -> None:
    (tmp_path / "env.yaml").write_text("keys: [\n", encoding="utf-8")
    (tmp_path / "bad.access").write_text("assert: nobody can kms:Decrypt\n", encoding="utf-8")  # no environment
    argv = [a.replace("{bad}", str(tmp_path)) for a in BAD[name]]
    status, out, err = cli(*argv, "--format", f"sarif={tmp_path / 'out.sarif'}", "--format", "text")
    assert status == 2 and (out == "" or name == "validate"), (status, out, err)  # validate: its text report
    doc = github_ingestible((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    (run,) = doc["runs"]
    assert run["results"] == []
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 2
    notes = invocation["toolExecutionNotifications"]
    assert notes and all(n["level"] == "error" for n in notes)
    codes = {n["descriptor"]["id"] for n in notes}
    assert all(code in err + out for code in codes), (codes, err)  # the same errors as printed


def test_uris_are_relative_to_the_repository_from_a_subdirectory() -> None:
    status, out, err = cli("findings", "environment.yaml", "--format", "sarif", cwd=ORG)
    assert status == 1, err
    doc = github_ingestible(out)
    assert doc["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] == ROOT.as_uri() + "/"
    assert set(uris(doc)) == {("examples/org/keys/app-data.json", "SRCROOT")}


def test_sarif_root_option(tmp_path: Path) -> None:
    status, out, _ = cli("findings", "examples/org/environment.yaml", "--format", "sarif",
                         "--sarif-root", "examples")
    assert status == 1
    assert set(uris(json.loads(out))) == {("org/keys/app-data.json", "SRCROOT")}
    status, out, _ = cli("findings", "examples/org/environment.yaml", "--format", "sarif",
                         "--sarif-root", str(tmp_path))  # the files lie outside the root: absolute file URIs
    assert {uri.startswith("file:///") and base is None for uri, base in uris(json.loads(out))} == {True}


def _repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(ORG, repo / "org")
    (repo / ".git").mkdir()
    return repo


def _fingerprints(doc: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    out = {}
    for r in results(doc):
        lines = tuple(loc["physicalLocation"]["region"]["startLine"] for loc in r.get("locations", []))
        out[r["partialFingerprints"]["reasoner/v1"]] = lines
    return out


@pytest.mark.parametrize("argv", [("findings", "org/environment.yaml"), ("check", "org/failing"),
                                  ("lint", "org/environment.yaml"),
                                  ("diff", "org/environment.yaml", "org/proposed/environment.yaml")])
def test_fingerprints_survive_runs_directories_and_moved_lines(tmp_path: Path, argv: tuple[str, ...]) -> None:
    repo = _repository(tmp_path)
    _, first, _ = cli(*argv, "--format", "sarif", cwd=repo)
    _, again, _ = cli(*argv, "--format", "sarif", cwd=repo)
    _, elsewhere, _ = cli(*(str(repo / a) if "/" in a else a for a in argv), "--format", "sarif", cwd=tmp_path)
    before = _fingerprints(json.loads(first))
    assert before, argv
    assert before == _fingerprints(json.loads(again)) == _fingerprints(json.loads(elsewhere))
    for policy in (repo / "org").rglob("*.json"):  # every policy gets 3 lines more at the top
        policy.write_text("\n\n\n" + policy.read_text(encoding="utf-8"), encoding="utf-8")
    _, moved, _ = cli(*argv, "--format", "sarif", cwd=repo)
    after = _fingerprints(json.loads(moved))
    assert after.keys() == before.keys()  # the same results ...
    shifted = [fp for fp, lines in before.items() if lines and after[fp] == tuple(n + 3 for n in lines)]
    assert shifted or argv[0] == "check", (before, after)  # ... on lines 3 further down


def test_accepted_results_are_suppressed_with_their_justification(tmp_path: Path) -> None:
    accepted = tmp_path / "accepted.yaml"
    accepted.write_text(
        "version: 1\naccepted:\n"
        "  - resource: arn:aws:kms:us-east-1:111122223333:key/*\n"
        "    principal: account 444455556666\n    actions: [kms:Decrypt]\n"
        "    reason: Analytics decrypts reporting data\n    accepted_by: security@example.com\n",
        encoding="utf-8")
    status, out, err = cli("findings", "examples/org/environment.yaml", "--format", "sarif",
                           "--accepted", str(accepted))
    assert status == 0, err
    doc = github_ingestible(out)
    (result,) = results(doc)
    (suppression,) = result["suppressions"]
    assert suppression["kind"] == "external" and suppression["status"] == "accepted"
    assert suppression["justification"].startswith("Analytics decrypts reporting data (accepted by security@")
    assert doc["runs"][0]["invocations"][0]["exitCode"] == 0


def test_rules_are_documented() -> None:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule in RULES.values():
        anchor = rule.doc.partition("#")[2]
        assert f"## {anchor.upper() if anchor.startswith(('fnd', 'dif', 'hyg')) else anchor}" in text, rule.id
        assert rule.short in text, rule.id
        assert rule.doc.startswith("docs/rules.md#")
        assert 0.1 <= rule.severity <= 10.0
