"""Accepted findings and baselines (reasoner/face/accepted.py, docs/accepted-findings.md; issue 16).

The examples of docs/accepted-findings.md are read from the page itself and run on examples/org, so the page
cannot drift from the code. An accepted result is reported as accepted and does not fail the run; an expired
acceptance fails it; an acceptance that matches nothing is a warning; a baseline fails only on new results;
an unusable file is a located input error.
"""

from __future__ import annotations

import io
import json
import os
import re
from datetime import date
from pathlib import Path

import pytest

from reasoner.errors import InputError
from reasoner.face import accepted
from reasoner.face.cli import main

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "accepted-findings.md"
ENV = "examples/org/environment.yaml"
APP = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        return main(list(argv), out, err), out.getvalue(), err.getvalue()
    finally:
        os.chdir(here)


def doc_examples(tmp_path: Path) -> list[Path]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    paths = []
    for n, block in enumerate(blocks):
        p = tmp_path / f"example{n}.yaml"
        p.write_text(block, encoding="utf-8")
        paths.append(p)
    return paths


def write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "accepted.yaml"
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_every_example_of_the_page_loads(tmp_path: Path) -> None:
    examples = doc_examples(tmp_path)
    assert len(examples) == 4
    entries = [accepted.load(str(p)) for p in examples]
    assert [len(e) for e in entries] == [3, 1, 1, 1]
    first = entries[0][0]
    assert (first.id, first.principal, first.actions, first.expires) == (
        "analytics-reads-reports", "account 444455556666", ("kms:Decrypt",), date(2027, 6, 30))


def test_the_pages_examples_accept_what_they_say(tmp_path: Path) -> None:
    _, analytics, partner, assertion = doc_examples(tmp_path)
    assert cli("findings", ENV)[0] == 1
    status, out, err = cli("findings", ENV, "--accepted", str(analytics))
    assert status == 0, err
    assert "    accepted: Analytics decrypts the reporting dataset (accepted by security-team@example.com, " \
           "until 2099-12-31)" in out
    assert out.splitlines()[-1] == "1 accepted" and err == ""
    assert cli("findings", ENV, "--accepted", str(partner))[0] == 0
    assert cli("check", "examples/org/failing")[0] == 1
    status, out, _ = cli("check", "examples/org/failing", "--accepted", str(assertion))
    assert status == 0 and "  accepted: kept as the example of a refuted assertion" in out


def test_a_finding_with_more_actions_or_other_conditions_is_not_accepted(tmp_path: Path) -> None:
    base = (f"version: 1\naccepted:\n  - resource: {APP}\n    principal: arn:aws:iam::444455556666:role/Analytics\n"
            "    reason: r\n    accepted_by: a\n")
    assert cli("findings", ENV, "--accepted", write(tmp_path, base + "    actions: [kms:Encrypt]\n"))[0] == 1
    assert cli("findings", ENV, "--accepted", write(tmp_path, base + "    actions: ['kms:*']\n"))[0] == 0
    other = base + "    conditions: ['StringEquals kms:EncryptionContext:dataset billing']\n"
    status, _, err = cli("findings", ENV, "--accepted", write(tmp_path, other))
    assert status == 1 and "ACC003" in err  # it matches nothing, and says so
    assert cli("findings", ENV, "--accepted", write(tmp_path, base.replace("Analytics", "Other")))[0] == 1


def test_an_expired_acceptance_fails_the_run(tmp_path: Path) -> None:
    path = write(tmp_path, f"version: 1\naccepted:\n  - resource: {APP}\n    reason: r\n    accepted_by: a\n"
                           "    expires: 2001-01-31\n")
    status, out, err = cli("findings", ENV, "--accepted", path, "--format", "text",
                           "--format", f"sarif={tmp_path / 'r.sarif'}")
    assert status == 1
    assert f"{path}:3:5: error: ACC002 acceptance `{path}:3` expired on 2001-01-31" in err
    assert "accepted:" not in out  # it accepts nothing
    notes = json.loads((tmp_path / "r.sarif").read_text())["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [(n["level"], n["descriptor"]["id"]) for n in notes] == [("error", "ACC002")]
    # expired and matching nothing: still a failure (the run is clean otherwise)
    clean = write(tmp_path, "version: 1\naccepted:\n  - resource: arn:aws:kms:*:999999999999:key/*\n"
                            "    reason: r\n    accepted_by: a\n    expires: 2001-01-31\n")
    assert cli("lint", "examples/seed/key-policy.json", "--accepted", clean)[0] == 1


def test_an_unused_acceptance_is_a_warning_only(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\naccepted:\n  - resource: arn:aws:kms:*:999999999999:key/*\n"
                           "    codes: [HYG004]\n    reason: r\n    accepted_by: a\n")
    status, _, err = cli("findings", "examples/org/environment.yaml", "--zone-of-trust", "111122223333",
                         "444455556666", "--accepted", path)
    assert status == 0
    assert err == f"{path}:3:5: warning: ACC003 acceptance `{path}:3` matches nothing in this run\n"


def test_lint_issues_are_accepted_by_code(tmp_path: Path) -> None:
    status, out, _ = cli("lint", ENV)
    assert status == 1 and "HYG004" in out
    path = write(tmp_path, "version: 1\naccepted:\n  - resource: arn:aws:kms:*:111122223333:key/*\n"
                           "    codes: [HYG004]\n    reason: kept on purpose\n    accepted_by: a\n")
    status, out, _ = cli("lint", ENV, "--accepted", path, "--format", "json")
    assert status == 0
    issues = json.loads(out)["issues"]
    assert issues and all(i["accepted"]["justification"].startswith("kept on purpose") for i in issues)


def test_baseline_fails_only_on_new_results(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    assert cli("findings", ENV, "--format", "json", "--output", str(baseline))[0] == 1
    status, out, _ = cli("findings", ENV, "--baseline", str(baseline))
    assert status == 0 and out.splitlines()[-1] == "1 in the baseline"
    doc = json.loads(baseline.read_text())
    doc["keys"][0]["findings"][0]["fingerprint"] = "0" * 32  # the finding was not there before
    baseline.write_text(json.dumps(doc))
    status, out, _ = cli("findings", ENV, "--baseline", str(baseline), "--format", "sarif")
    assert status == 1
    (result,) = json.loads(out)["runs"][0]["results"]
    assert result["baselineState"] == "new"
    # check and lint read their own JSON the same way
    for argv in (("check", "examples/org/failing"), ("lint", ENV)):
        previous = tmp_path / f"{argv[0]}.json"
        assert cli(*argv, "--format", f"json={previous}")[0] == 1
        assert cli(*argv, "--baseline", str(previous))[0] == 0


@pytest.mark.parametrize(("text", "where", "message"), [
    ("version: 2\n", ":1:10:", "starts with `version: 1`"),
    ("version: 1\naccepted:\n  - resource: x\n    reason: r\n", ":3:5:", "has no `accepted_by`"),
    ("version: 1\naccepted:\n  - resource: x\n    reason: r\n    accepted_by: a\n    expire: 2020-01-01\n",
     ":6:5:", "unknown field `expire`"),
    ("version: 1\naccepted:\n  - resource: x\n    reason: r\n    accepted_by: a\n    expires: soon\n", ":6:14:",
     "`expires` `soon` is not a date"),
    ("version: 1\naccepted:\n  - resource: x\n    principal: someone\n    reason: r\n    accepted_by: a\n",
     ":4:16:", "is not a principal class"),
    ("version: 1\naccepted: [\n", ":3:1:", "not valid yaml"),
    ("version: 1\naccepted:\n  - reason: r\n    accepted_by: a\n", ":3:5:", "names no `resource`"),
])
def test_an_unusable_file_is_a_located_input_error(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        accepted.load(path)
    line = str(caught.value)
    assert line.startswith(path + where) and "error: ACC001" in line and message in line, line
    status, _, err = cli("findings", ENV, "--accepted", path)
    assert status == 2 and err.startswith(path + where)


def test_a_baseline_that_is_not_a_report_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text("[1, 2]")
    status, _, err = cli("findings", ENV, "--baseline", str(bad))
    assert status == 2 and "ACC004" in err
