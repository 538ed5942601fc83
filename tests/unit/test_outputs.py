"""Where reports go (reasoner/face/outputs.py; issue 16): `--format FMT[=FILE]` repeated, `--output FILE`, and the
JUnit and workflow annotations of findings, diff and lint."""

from __future__ import annotations

import io
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reasoner.face.cli import main
from tests.sarif import github_ingestible

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[2]
ENV = "examples/org/environment.yaml"


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        return main(list(argv), out, err), out.getvalue(), err.getvalue()
    finally:
        os.chdir(here)


def test_several_formats_in_one_run(tmp_path: Path) -> None:
    status, out, _ = cli("findings", ENV, "--format", "text", "--format", f"sarif={tmp_path / 'r.sarif'}",
                         "--format", f"json={tmp_path / 'r.json'}", "--format", f"junit={tmp_path / 'r.xml'}")
    assert status == 1
    timeless = re.compile(r"\d+\.\d+ s|^\s+e\.g\. .*$", re.M)  # the text of a run with one format (examples aside)
    assert timeless.sub("T", out) == timeless.sub("T", cli("findings", ENV)[1])
    github_ingestible((tmp_path / "r.sarif").read_text())
    assert json.loads((tmp_path / "r.json").read_text())["keys"][0]["findings"][0]["code"] == "FND001"
    assert ET.parse(tmp_path / "r.xml").getroot().get("failures") == "1"


def test_output_sends_the_bare_format_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    status, out, _ = cli("lint", ENV, "--output", str(target))
    assert status == 1 and out == ""
    assert "HYG004" in target.read_text()
    status, out, err = cli("check", "examples/org/failing", "-o", str(tmp_path / "c.sarif"), "--format", "sarif",
                           "--format", "github")
    assert status == 2 and "--output` takes one format, not 2" in err and out == ""


@pytest.mark.parametrize(("argv", "message"), [
    (("findings", ENV, "--format", "json", "--format", "sarif"), "2 formats would write to stdout"),
    (("decide", "examples/seed/environment.yaml", "--principal", "arn:aws:iam::111122223333:root", "--action",
      "kms:Decrypt", "--resource", "*", "--format", "sarif"), "`sarif` is not a format of this command"),
    (("findings", ENV, "--format", "sarif=/no/such/dir/r.sarif"), "no writable directory `/no/such/dir`"),
    (("findings", ENV, "--format", "xml"), "`xml` is not a format"),
])
def test_usage_errors(argv: tuple[str, ...], message: str) -> None:
    status, out, err = cli(*argv)
    assert status == 2 and message in err and out == "", err


@pytest.mark.parametrize("argv", [("findings", ENV), ("lint", ENV),
                                  ("diff", ENV, "examples/org/proposed/environment.yaml")])
def test_junit_and_annotations_of_findings_diff_and_lint(argv: tuple[str, ...]) -> None:
    status, junit, _ = cli(*argv, "--format", "junit")
    root = ET.fromstring(junit)
    failures = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert status == 1 and failures and root.get("failures") == str(len(failures))
    assert "examples/org/keys/" in (failures[0].find("failure").text or "")  # type: ignore[union-attr]
    status, github, _ = cli(*argv, "--format", "github")
    *notes, summary = github.splitlines()
    assert status == 1 and notes and not summary.startswith("::")
    for note in notes:
        assert note.startswith(("::error file=examples/org/", "::warning file=examples/org/",
                                "::notice file=examples/org/")), note
        assert ",line=" in note and "\n" not in note


def test_the_equivalent_diff_passes_in_junit() -> None:
    status, junit, _ = cli("diff", ENV, ENV, "--format", "junit")
    root = ET.fromstring(junit)
    assert status == 0 and root.get("failures") == "0" and [c.get("name") for c in root.iter("testcase")] == [
        "equivalent"]
