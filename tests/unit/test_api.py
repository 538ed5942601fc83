"""The facade's findings, diff, lint and decide (reasoner/face/api.py; issue 16): the same analysis and text as the
command line, and the notebook forms of each result."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

import reasoner
from reasoner.face.cli import main

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[2]
ENV = "examples/org/environment.yaml"
NEW = "examples/org/proposed/environment.yaml"
#: Timings, and the example requests the solver picks (another run may pick another witness of the same class).
TIMES = re.compile(r"\d+\.\d+ s|\d+ queries|^\s+e\.g\. .*$|^\s+allowed: .*$", re.M)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out, io.StringIO()), out.getvalue()


@pytest.mark.parametrize(("call", "argv"), [
    (lambda: reasoner.findings(ENV), ("findings", ENV)),
    (lambda: reasoner.findings("examples/seed/key-policy.json", ["111122223333"]),
     ("findings", "examples/seed/key-policy.json", "--zone-of-trust", "111122223333")),
    (lambda: reasoner.lint(ENV), ("lint", ENV)),
    (lambda: reasoner.diff(ENV, NEW), ("diff", ENV, NEW)),
])
def test_the_api_says_what_the_command_prints(call, argv) -> None:  # type: ignore[no-untyped-def]
    result = call()
    status, text = cli(*argv)
    assert int(result.exit_status) == status
    assert TIMES.sub("T", result.text) == TIMES.sub("T", text) == TIMES.sub("T", str(result))


def test_forms_of_display() -> None:
    found = reasoner.findings(ENV)
    assert repr(found) == "Findings(1 finding(s) on 2 key(s), 0 public, complete)"
    assert found.keys[0].findings[0].principal.value == "arn:aws:iam::444455556666:role/Analytics"  # read through
    assert found._repr_markdown_().startswith("**EXTERNAL ACCESS**: 1 finding(s) on 2 key(s)")
    html = found._repr_html_()
    marked = re.findall(r'<mark class="stmt" data-file="([^"]+)" data-line="(\d+)">', html)
    assert {f for f, _ in marked} == {"examples/org/keys/app-data.json"}
    assert [int(n) for _, n in marked] == list(range(30, 38))  # the statement's lines, and only them
    assert "&quot;Sid&quot;: &quot;AnalyticsReadsAppData&quot;" in html  # the policy text, escaped
    lint = reasoner.lint(ENV)
    assert repr(lint) == "Lint(2 issue(s), 0 undecided)" and lint._repr_markdown_().count("| HYG004 |") == 2
    change = reasoner.diff(ENV, NEW)
    assert repr(change).startswith("Diff(") and change._repr_markdown_().startswith(("**DIFFERENT**", "**PROVED"))
    same = reasoner.diff(ENV, ENV)
    assert repr(same) == "Diff(PROVED: 0 added, 0 removed)" and int(same.exit_status) == 0
    assert same._repr_markdown_().startswith("**PROVED equivalent**")


def test_decide() -> None:
    key = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    d = reasoner.decide("examples/seed/environment.yaml", "arn:aws:sts::444455556666:assumed-role/ExampleRole/app",
                        "kms:Decrypt", key)
    assert d.allowed and int(d.exit_status) == 0
    status, text = cli("decide", "examples/seed/environment.yaml", "--principal",
                       "arn:aws:sts::444455556666:assumed-role/ExampleRole/app", "--action", "kms:Decrypt",
                       "--resource", key)
    assert status == 0 and d.text == text
    assert d._repr_markdown_().startswith("**ALLOW**")
    assert d._repr_html_().count('<mark class="stmt"') >= 2
    denied = reasoner.decide("examples/seed/environment.yaml", "arn:aws:iam::999999999999:root", "kms:Decrypt", key,
                             {"kms:EncryptionContext:x": "y"})
    assert not denied.allowed and int(denied.exit_status) == 1


def test_accepted_findings_in_the_api(tmp_path: Path) -> None:
    accepted = tmp_path / "a.yaml"
    accepted.write_text("version: 1\naccepted:\n  - resource: arn:aws:kms:*\n    principal: account 444455556666\n"
                        "    reason: ok\n    accepted_by: me\n", encoding="utf-8")
    found = reasoner.findings(ENV, accepted=accepted)
    assert int(found.exit_status) == 0 and found.text.splitlines()[-1] == "1 accepted"
    assert int(reasoner.findings(ENV).exit_status) == 1
