"""Rendering of check results (reasoner/face/render/results.py): golden files of every output format, SARIF schema
validation, and the notebook forms of `CheckResult`.

The results are built directly (plain dataclasses), so these tests need no solver. Golden files live in
tests/golden/check/; regenerate them with `REASONER_UPDATE_GOLDEN=1 pytest tests/unit/test_render.py` and
review the diff.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reasoner.analyses.properties import (
    AccessNotGranted,
    CanAccess,
    NoNewAccess,
    OnlyPrincipalsCan,
    PrincipalScope,
)
from reasoner.analyses.result import CheckResult, Verdict, rebase_spans
from reasoner.face.render.results import (
    Report,
    exit_status,
    render,
    render_github,
    render_junit,
    render_sarif,
    render_text,
)
from reasoner.face.render.sarif import Context
from reasoner.front.ast import Effect, PolicyKind
from reasoner.semantics.environment import Environment
from reasoner.semantics.request import Decision, Evaluation, Reason, Request
from reasoner.source import Span
from tests.sarif import valid_sarif

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "check"
CTX = Context("check", ROOT, ROOT)
APP = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ANALYTICS = "arn:aws:iam::444455556666:role/Analytics"

# the statements of examples/org (line numbers of the real files, so snippets can be read)
KEY_STMT = Reason("keys/app-data.json", PolicyKind.KEY_POLICY, 3, "AnalyticsReadsAppData", Effect.ALLOW,
                  Span("examples/org/keys/app-data.json", 30, 5, 37, 6), "allow")
IAM_STMT = Reason("iam/444455556666/analytics.json", PolicyKind.IDENTITY, 0, "DecryptAppDataForReporting",
                  Effect.ALLOW, Span("examples/org/iam/444455556666/analytics.json", 4, 5, 9, 6), "allow")


def sample_reports() -> list[Report]:
    cx = Request(ANALYTICS, "kms:Decrypt", APP, {"kms:EncryptionContext:dataset": ("reporting",),
                                                  "aws:SourceIp": ("203.0.113.7",)})
    refuted = CheckResult(
        AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",), (APP,)),
        Verdict.REFUTED, counterexample=cx, evaluation=Evaluation(cx, Decision.ALLOW, (KEY_STMT, IAM_STMT)),
        responsible=(KEY_STMT, IAM_STMT), stats={"conflicts": 12}, seconds=0.042)
    proved = CheckResult(CanAccess("arn:aws:iam::111122223333:role/KeyAdmin", ("kms:PutKeyPolicy",), (APP,)),
                         Verdict.PROVED, seconds=0.0123)
    unknown = CheckResult(OnlyPrincipalsCan(("arn:aws:iam::111122223333:role/KeyAdmin",),
                                            ("kms:ScheduleKeyDeletion",)),
                          Verdict.UNKNOWN, reason="timeout after 30 s", seconds=30.01)
    allowed = CheckResult(NoNewAccess(Environment(source="examples/org/environment.yaml")), Verdict.UNKNOWN,
                          reason="resource limit 1000000 reached", seconds=1.5)
    at = "examples/org/checks/keys.access"
    return [
        Report(proved, "admins keep control", Span(at, 4, 1, 5, 80)),
        Report(refuted, "no external decrypt, really: 100%", Span(at, 7, 1, 8, 60)),
        Report(unknown, "only admins delete", Span(at, 10, 1, 10, 90)),
        Report(allowed, "no new access", Span("examples/org/checks/change.access", 6, 1, 7, 40),
               allow_unknown=True),
    ]


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("REASONER_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"golden file {path} missing; run with REASONER_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


@pytest.mark.parametrize(("fmt", "golden"), [
    ("text", "report.txt"), ("json", "report.json"), ("sarif", "report.sarif"), ("junit", "report.xml"),
    ("github", "report.github.txt"),
])
def test_golden(fmt: str, golden: str) -> None:
    text = render(fmt, sample_reports(), ctx=CTX)
    # the SARIF root is an absolute path: the golden file holds it as file:///ROOT/
    check_golden(golden, text.replace(ROOT.as_uri(), "file:///ROOT") if fmt == "sarif" else text)


def test_text_one_line_per_assertion_with_details() -> None:
    lines = render_text(sample_reports()).splitlines()
    heads = [x for x in lines if not x.startswith(" ")]
    assert len(heads) == 5  # four assertions and the summary
    assert heads[0] == 'examples/org/checks/keys.access:4:1: PROVED "admins keep control" (12 ms)'
    assert heads[1].startswith("examples/org/checks/keys.access:7:1: REFUTED")
    assert f"  counterexample: {ANALYTICS} calls kms:Decrypt on {APP}" in lines
    assert "    examples/org/keys/app-data.json:30:5: allow AnalyticsReadsAppData (key policy)" in lines
    assert heads[2].endswith("(30.01 s): timeout after 30 s")
    assert heads[3].endswith("(allowed)")
    assert heads[4] == "4 assertions: 1 proved, 1 refuted, 2 unknown (1 allowed) in 31.56 s"


def test_exit_status() -> None:
    proved, refuted, unknown, allowed = sample_reports()
    assert exit_status([proved]) == 0
    assert exit_status([proved, allowed]) == 0
    assert exit_status([proved, unknown, allowed]) == 3
    assert exit_status([unknown, refuted]) == 1
    assert exit_status([]) == 0


def test_json_is_structured() -> None:
    doc = json.loads(render("json", sample_reports()))
    assert doc["summary"] == {"total": 4, "proved": 1, "refuted": 1, "unknown": 2, "allowed_unknown": 1,
                              "seconds": 31.5643, "exit_status": 1}
    r = doc["results"][1]
    assert r["verdict"] == "REFUTED" and r["decision"] == "ALLOW"
    assert r["counterexample"]["context"] == {"aws:SourceIp": ["203.0.113.7"],
                                              "kms:EncryptionContext:dataset": ["reporting"]}
    assert r["property"]["type"] == "AccessNotGranted"
    assert r["property"]["scope"] == {"kind": "outside-accounts", "values": ["111122223333"]}
    assert r["responsible"][0]["span"]["line"] == 30
    assert doc["results"][3]["property"]["old"] == {"environment": "examples/org/environment.yaml"}


def test_sarif_validates_against_the_schema() -> None:
    valid_sarif(render_sarif(sample_reports(), ctx=CTX))
    # also with an absolute path outside the base and an empty run
    valid_sarif(render_sarif([], ctx=CTX))


def test_sarif_results_sit_on_the_responsible_statements() -> None:
    doc = json.loads(render_sarif(sample_reports(), ctx=CTX))
    results = doc["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note"]
    refuted = results[0]
    assert refuted["ruleId"] == "access-not-granted"
    where = [(x["physicalLocation"]["artifactLocation"]["uri"], x["physicalLocation"]["region"]["startLine"])
             for x in refuted["locations"]]
    assert where == [("examples/org/keys/app-data.json", 30),
                     ("examples/org/iam/444455556666/analytics.json", 4)]
    related = refuted["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"]["uri"] == "examples/org/checks/keys.access"
    assert related["region"]["startLine"] == 7
    # an unknown result sits on its assertion
    assert results[1]["locations"][0]["physicalLocation"]["region"]["startLine"] == 10


def test_junit_counts_and_failures() -> None:
    root = ET.fromstring(render_junit(sample_reports()))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "2", "1")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["admins keep control"].find("failure") is None
    failure = cases["no external decrypt, really: 100%"].find("failure")
    assert failure is not None and failure.get("type") == "REFUTED"
    assert "examples/org/keys/app-data.json:30:5" in (failure.text or "")
    assert cases["only admins delete"].find("failure") is not None
    assert cases["no new access"].find("skipped") is not None


def test_github_annotations_escape_and_locate() -> None:
    lines = render_github(sample_reports()).splitlines()
    error = next(x for x in lines if x.startswith("::error "))
    assert error.startswith("::error file=examples/org/keys/app-data.json,line=30,col=5,endLine=37,")
    assert "title=REFUTED%3A no external decrypt%2C really%3A 100%25::" in error
    assert "%0A" in error and "\n" not in error
    assert any(x.startswith("::warning file=examples/org/checks/keys.access,line=10") for x in lines)
    assert any(x.startswith("::notice ") for x in lines)
    assert lines[-1].startswith("4 assertions:")


def test_rebase_spans_follow_the_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = sample_reports()[1].result
    relative = CheckResult(result.property, Verdict.REFUTED, counterexample=result.counterexample,
                           responsible=(Reason("keys/app-data.json", PolicyKind.KEY_POLICY, 3, "A",
                                               Effect.ALLOW, Span("keys/app-data.json", 30, 5, 37, 6),
                                               "allow"),))
    env = Environment(source="examples/org/environment.yaml")
    rebased = rebase_spans(relative, env)
    assert rebased.responsible[0].span is not None
    assert rebased.responsible[0].span.file == os.path.join("examples", "org", "keys", "app-data.json")
    assert rebase_spans(rebased, env) == rebased  # already usable: unchanged


# ---- notebook forms ----------------------------------------------------------------------------------


def test_repr_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    refuted = sample_reports()[1].result
    text = repr(refuted)
    assert text.startswith("CheckResult(REFUTED: no principal outside account 111122223333 can kms:Decrypt")
    assert f"counterexample {ANALYTICS} calls kms:Decrypt on {APP}" in text
    md = refuted._repr_markdown_()
    assert md.startswith("**REFUTED**")
    assert "| principal | `arn:aws:iam::444455556666:role/Analytics` |" in md
    assert "| context kms:EncryptionContext:dataset | `reporting` |" in md
    assert '30 |     {\n' in md and '"Sid": "AnalyticsReadsAppData"' in md  # policy snippet from the file
    page = refuted._repr_html_()
    assert "<table>" in page and "AnalyticsReadsAppData" in page and "&quot;Sid&quot;" in page
    proved = sample_reports()[0].result
    assert repr(proved).startswith("CheckResult(PROVED: arn:aws:iam::111122223333:role/KeyAdmin can")
    assert "<table>" not in proved._repr_html_()
    assert "Reason: timeout after 30 s" in sample_reports()[2].result._repr_markdown_()
