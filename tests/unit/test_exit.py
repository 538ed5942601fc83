"""The exit status (reasoner/face/exit.py): one function for every result kind, the contract of the README.

Results are built directly, so these tests need no solver: the reports of `check`, the file reports of
`validate`, the evaluation of `decide`, and the results of `findings`, `diff` and `lint`. For each kind:
clean is OK, something found is FINDINGS (whatever else is unknown), something unknown and nothing found is
UNKNOWN; `validate` and `decide` have no UNKNOWN, an unreadable file is INPUT.
"""

from __future__ import annotations

import re

import pytest

from reasoner.analyses.diff import DiffResult
from reasoner.analyses.findings import Finding, FindingsResult, KeyFindings, PrincipalClass
from reasoner.analyses.hygiene import LOCKOUT, UNDECIDED, HygieneResult, Issue
from reasoner.analyses.result import CheckResult, Verdict
from reasoner.errors import Diagnostic, Severity
from reasoner.face import cli
from reasoner.face.exit import ExitStatus, exit_status
from reasoner.face.render.diagnostics import FileReport
from reasoner.face.report import Report
from reasoner.semantics.request import Decision, Evaluation, Request
from reasoner.source import Span

OK, FINDINGS, INPUT, UNKNOWN = ExitStatus.OK, ExitStatus.FINDINGS, ExitStatus.INPUT, ExitStatus.UNKNOWN
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REQ = Request("arn:aws:iam::444455556666:root", "kms:Decrypt", KEY)
SPAN = Span("key.json", 3, 5, 9, 6)


def test_the_named_statuses_are_the_contract() -> None:
    assert [(s.name, int(s)) for s in ExitStatus] == [("OK", 0), ("FINDINGS", 1), ("INPUT", 2), ("UNKNOWN", 3),
                                                      ("INTERNAL", 4)]
    # the command line exports them under the names tests use, and documents each in --help
    assert tuple(ExitStatus) == (cli.EXIT_OK, cli.EXIT_FINDINGS, cli.EXIT_INPUT, cli.EXIT_UNKNOWN, cli.EXIT_INTERNAL)
    assert [int(n) for n in re.findall(r"^  (\d)  ", cli.EXIT_CODES, re.M)] == [int(s) for s in ExitStatus]


def _report(verdict: Verdict, allow_unknown: bool = False) -> Report:
    result = CheckResult("p", verdict, counterexample=REQ if verdict is Verdict.REFUTED else None,
                         reason="timeout after 30 s" if verdict is Verdict.UNKNOWN else None)
    return Report(result, "an assertion", allow_unknown=allow_unknown)


@pytest.mark.parametrize(("verdicts", "status"), [
    ([], OK),
    ([(Verdict.PROVED, False)], OK),
    ([(Verdict.PROVED, False), (Verdict.UNKNOWN, True)], OK),  # `allowing unknown` counts as holding
    ([(Verdict.PROVED, False), (Verdict.UNKNOWN, False), (Verdict.UNKNOWN, True)], UNKNOWN),
    ([(Verdict.UNKNOWN, False), (Verdict.REFUTED, False)], FINDINGS),
])
def test_check_reports(verdicts: list[tuple[Verdict, bool]], status: ExitStatus) -> None:
    assert exit_status([_report(v, allowed) for v, allowed in verdicts]) is status


def _file(*severities: Severity, readable: bool = True) -> FileReport:
    diags = tuple(Diagnostic("POL001", s, SPAN, "a problem") for s in severities)
    return FileReport("key.json", diags, readable=readable)


@pytest.mark.parametrize(("files", "status"), [
    ([_file()], OK),
    ([_file(Severity.WARNING, Severity.NOTE)], OK),  # warnings allowed
    ([_file(), _file(Severity.ERROR)], FINDINGS),
    ([_file(Severity.ERROR), _file(Severity.ERROR, readable=False)], INPUT),  # unreadable wins: nothing is lost
])
def test_validate_reports(files: list[FileReport], status: ExitStatus) -> None:
    assert exit_status(files) is status


@pytest.mark.parametrize(("decision", "status"), [
    (Decision.ALLOW, OK), (Decision.EXPLICIT_DENY, FINDINGS), (Decision.IMPLICIT_DENY, FINDINGS),
])
def test_decide(decision: Decision, status: ExitStatus) -> None:
    assert exit_status(Evaluation(REQ, decision)) is status


def _key(complete: Verdict, *findings: Finding) -> KeyFindings:
    return KeyFindings(KEY, "111122223333", findings, complete, "unsat", 3, 0.1,
                       None if complete is Verdict.PROVED else "timeout after 60 s")


FINDING = Finding(KEY, PrincipalClass("account", "444455556666"), ("kms:Decrypt",), (), (), False, REQ,
                  Evaluation(REQ, Decision.ALLOW), 1)


@pytest.mark.parametrize(("keys", "status"), [
    ((), OK),
    ((_key(Verdict.PROVED),), OK),
    ((_key(Verdict.PROVED), _key(Verdict.UNKNOWN)), UNKNOWN),
    ((_key(Verdict.PROVED, FINDING), _key(Verdict.UNKNOWN)), FINDINGS),
    ((_key(Verdict.UNKNOWN, FINDING),), FINDINGS),
])
def test_findings(keys: tuple[KeyFindings, ...], status: ExitStatus) -> None:
    assert exit_status(FindingsResult(keys, ("111122223333",))) is status


@pytest.mark.parametrize(("verdict", "status"), [
    (Verdict.PROVED, OK), (Verdict.REFUTED, FINDINGS), (Verdict.UNKNOWN, UNKNOWN),
])
def test_diff(verdict: Verdict, status: ExitStatus) -> None:
    # a REFUTED diff found a change even when a direction is not proved complete
    incomplete = Verdict.UNKNOWN if verdict is not Verdict.PROVED else Verdict.PROVED
    assert exit_status(DiffResult(verdict, (), (), Verdict.PROVED, incomplete, 4, 0.1)) is status


ISSUE = Issue(LOCKOUT, Severity.ERROR, KEY, SPAN, "lockout")
UNDECIDED_CHECK = Issue(UNDECIDED, Severity.NOTE, KEY, SPAN, "lockout check undecided")


@pytest.mark.parametrize(("issues", "undecided", "status"), [
    ((), (), OK), ((), (UNDECIDED_CHECK,), UNKNOWN), ((ISSUE,), (UNDECIDED_CHECK,), FINDINGS), ((ISSUE,), (), FINDINGS),
])
def test_hygiene(issues: tuple[Issue, ...], undecided: tuple[Issue, ...], status: ExitStatus) -> None:
    assert exit_status(HygieneResult(issues, undecided, 3, 5, 0.1)) is status


def test_anything_else_has_no_status() -> None:
    with pytest.raises(TypeError, match="CheckResult"):
        exit_status([CheckResult("p", Verdict.PROVED)])  # type: ignore[list-item]
