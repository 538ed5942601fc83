"""The bundled data perimeter (examples/perimeter, issue 14): an SCP that keeps the organisation's identities to
resources of its organisation (`aws:ResourceOrgID` against the variable `${aws:PrincipalOrgID}`) and an RCP that keeps
other identities out (`aws:PrincipalOrgID`, with `${aws:ResourceAccount}` for service principals).

Semantics: §4.5 (SCPs and RCPs bound every request of their accounts; a Deny in either is final; §6 case 51 is the
RCP), §3.4 (policy variables: `${aws:PrincipalOrgID}` is the caller's organisation), §5.2 (`aws:ResourceOrgID` is
present only when the resource owner is in an organisation) and §3.2 (a `StringNotEquals` condition on an absent key
matches, so the SCP denies resources outside any organisation). Each perimeter is shown to matter: without it the
same claim is refuted by the statement it guards against.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from reasoner.face.cli import main

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[2]
PERIMETER = ROOT / "examples" / "perimeter"
VENDOR = "777788889999"


def _check(*argv: str) -> tuple[int, dict[str, object]]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["check", *argv, "--format", "json"], out, err)
    assert status in (0, 1), err.getvalue()
    return status, json.loads(out.getvalue())


def _results(report: dict[str, object]) -> dict[str, dict[str, object]]:
    results = report["results"]
    assert isinstance(results, list)
    return {r["name"]: r for r in results}


def test_the_perimeter_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    status, report = _check("examples/perimeter/checks")
    assert status == 0
    verdicts = {name: r["verdict"] for name, r in _results(report).items()}
    assert len(verdicts) == 5 and set(verdicts.values()) == {"PROVED"}, verdicts


def test_without_the_rcp_the_vendor_decrypts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    status, report = _check("examples/perimeter/failing")
    assert status == 1
    (result,) = _results(report).values()
    cx = result["counterexample"]
    assert isinstance(cx, dict) and cx["principal"].split(":")[4] == VENDOR, cx
    assert any("LegacyVendorDecrypt" in json.dumps(r) for r in result["responsible"]), result["responsible"]


def _without(tmp_path: Path, drop: str) -> Path:
    copy = tmp_path / "perimeter"
    shutil.copytree(PERIMETER, copy)
    env = copy / "environment.yaml"
    text = env.read_text(encoding="utf-8")
    assert drop in text
    env.write_text(text.replace(drop, ""), encoding="utf-8")
    return copy


def test_without_the_scp_the_application_writes_to_the_vendor(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    copy = _without(tmp_path, ", scp/resource-perimeter.json")
    monkeypatch.chdir(tmp_path)
    status, report = _check(str(copy / "checks"), "--root", str(tmp_path))
    assert status == 1
    results = _results(report)
    refuted = {name for name, r in results.items() if r["verdict"] == "REFUTED"}
    assert refuted == {"resource perimeter: the application writes to no bucket outside the organization"}, refuted
    cx = results["resource perimeter: the application writes to no bucket outside the organization"]["counterexample"]
    assert isinstance(cx, dict) and cx["resource"].startswith("arn:aws:s3:::vendor-drop/"), cx


def test_without_the_rcp_statements_every_identity_claim_fails(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    copy = _without(tmp_path, "    rcps:\n      r-p3r1: [rcp/identity-perimeter.json]\n")
    monkeypatch.chdir(tmp_path)
    status, report = _check(str(copy / "checks"), "--root", str(tmp_path))
    assert status == 1
    refuted = {name for name, r in _results(report).items() if r["verdict"] == "REFUTED"}
    assert refuted == {"identity perimeter: nobody outside the organization decrypts the data key",
                       "identity perimeter: nobody outside the organization reads the data bucket"}, refuted
