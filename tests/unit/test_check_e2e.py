"""End to end with the real symbolic core: `reasoner check` on examples/org (in process, with --jobs, and
through the console script), the pytest plugin on the same files, and the Python helpers.

The expected verdicts follow from the example policies (examples/README.md): every assertion under
examples/org/checks holds; examples/org/failing is refuted by the Analytics role of 444455556666, allowed by
the key policy statement `AnalyticsReadsAppData` and its identity policy (semantics §4.3, cross-account:
both the key policy and the caller's IAM policy must allow).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from reasoner.face.cli import main
from tests.sarif import valid_sarif

pytestmark = pytest.mark.solver
pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "examples" / "org"
SEED = ROOT / "examples" / "seed"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(["check", *argv], out, err), out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_passing_checks_exit_0() -> None:
    status, out, err = run("examples/org/checks", "--timeout", "60")
    assert status == 0, out + err
    assert out.splitlines()[-1].startswith("10 assertions: 10 proved, 0 refuted, 0 unknown")


def test_failing_check_exit_1_with_replayed_counterexample() -> None:
    status, out, err = run("examples/org/failing", "--format", "json", "--timeout", "60")
    assert status == 1, out + err
    (result,) = json.loads(out)["results"]
    assert result["verdict"] == "REFUTED" and result["decision"] == "ALLOW"
    cx = result["counterexample"]
    assert cx["principal"].startswith("arn:aws:") and ":444455556666:" in cx["principal"]
    assert cx["action"] == "kms:Decrypt"
    assert cx["resource"] == "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    files = {(r["span"]["file"], r["span"]["line"]) for r in result["responsible"] if r["span"]}
    assert ("examples/org/keys/app-data.json", 30) in files


def test_sarif_on_the_failing_example_validates() -> None:
    status, out, _ = run("examples/org/failing", "--format", "sarif", "--timeout", "60")
    assert status == 1
    doc = valid_sarif(out)
    locations = doc["runs"][0]["results"][0]["locations"]
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"] for loc in locations]
    assert "examples/org/keys/app-data.json" in uris


@pytest.mark.slow
def test_jobs_give_the_same_verdicts() -> None:
    status, out, _ = run("examples/org/checks", "examples/org/failing", "--jobs", "2", "--format", "json")
    assert status == 1
    verdicts = {r["name"]: r["verdict"] for r in json.loads(out)["results"]}
    assert len(verdicts) == 11
    assert verdicts.pop("no principal outside the security account decrypts app data") == "REFUTED"
    assert set(verdicts.values()) == {"PROVED"}


def test_console_script_on_the_examples() -> None:
    beside = Path(sys.executable).with_name("reasoner")
    cmd = [str(beside)] if beside.exists() else [sys.executable, "-m", "reasoner"]
    done = subprocess.run([*cmd, "check", "examples/org/failing"], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, check=False)
    assert done.returncode == 1, done.stderr
    assert "REFUTED" in done.stdout and "examples/org/keys/app-data.json:30:5" in done.stdout


def test_pytest_collects_the_examples(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(str(ORG / "checks"), str(ORG / "failing"),
                                           "-p", "no:cacheprovider", timeout=600)
    result.assert_outcomes(passed=10, failed=1)
    result.stdout.fnmatch_lines(["*counterexample: arn:aws:*:444455556666:*calls kms:Decrypt*"])


def test_python_helpers_with_the_solver() -> None:
    from reasoner.face.pytest_plugin import assert_proved, assert_refuted
    from reasoner.front.manifest import load_environment

    env = load_environment(SEED / "environment.yaml")
    refuted = assert_refuted(env, "no principal outside account 111122223333 can kms:Decrypt "
                                  "on key alias/seed-shared")
    assert refuted.counterexample is not None and ":444455556666:" in refuted.counterexample.principal
    assert_proved(env, "no principal outside accounts [111122223333, 444455556666] can kms:Decrypt")


def test_dump_smt2_writes_the_query(tmp_path: Path) -> None:
    status, _, _ = run("examples/org/failing", "--dump", "smt2", str(tmp_path / "dump"))
    assert status == 1
    (dumped,) = (tmp_path / "dump").iterdir()
    assert dumped.name == "000-no-principal-outside-the-security-account-decrypts-app-data.smt2"
    assert "(check-sat" in dumped.read_text()


def test_facade_takes_strings_objects_and_compiled_environments() -> None:
    import reasoner

    env = reasoner.load_environment(SEED / "environment.yaml")
    text = "no principal outside account 111122223333 can kms:Decrypt on key alias/seed-shared"
    as_text = reasoner.check(env, text)
    key = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    scope = reasoner.PrincipalScope.outside_account("111122223333")
    as_value = reasoner.check(env, reasoner.AccessNotGranted(scope, ("kms:Decrypt",), (key,)))
    assert as_text.verdict is as_value.verdict is reasoner.Verdict.REFUTED
    assert as_text.property == as_value.property
    compiled = reasoner.compile_environment(env)
    assert reasoner.check(compiled, text).verdict is reasoner.Verdict.REFUTED
    # spans of responsible statements are usable from the current directory (the repository root here)
    files = {r.span.file for r in as_text.responsible if r.span}
    assert files and all(Path(f).is_file() for f in files)
