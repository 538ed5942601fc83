"""The pytest plugin (reasoner/face/pytest_plugin.py), run through pytest's own `pytester`.

The verdicts come from a stand-in `reasoner.analyses.pipeline` keyed on the action of the property (kms:Decrypt
holds, kms:Encrypt is refuted, kms:Sign is unknown), so these tests exercise collection, outcomes and
reports; the real solver is exercised in tests/unit/test_check_e2e.py.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from reasoner.analyses.result import CheckResult, Verdict
from reasoner.front.ast import Effect, PolicyKind
from reasoner.semantics.request import Decision, Evaluation, Reason, Request
from reasoner.source import Span

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
ENV = 'environment "examples/org/environment.yaml"'  # a copy in the pytester directory (`_examples`)


@pytest.fixture(autouse=True)
def _examples(request: pytest.FixtureRequest) -> None:
    """examples/org (without its `.access` files) copied into the pytester directory: a property file may
    only name files inside its root (reasoner/front/confine.py), and the pytester directory is that root."""
    if "pytester" in request.fixturenames:
        import shutil

        pytester = request.getfixturevalue("pytester")
        shutil.copytree(ROOT / "examples" / "org", pytester.path / "examples" / "org",
                        ignore=shutil.ignore_patterns("*.access"))
APP = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def fake_check(environment: object, prop: object, *, timeout: float, rlimit: int | None = None,
               dump_smt2: str | None = None) -> CheckResult:
    actions = getattr(prop, "actions", ("*",))
    if "kms:Encrypt" in actions:
        cx = Request("arn:aws:iam::444455556666:role/Analytics", "kms:Encrypt", APP)
        reason = Reason("keys/app-data.json", PolicyKind.KEY_POLICY, 3, "AnalyticsReadsAppData", Effect.ALLOW,
                        Span("keys/app-data.json", 30, 5, 37, 6), "allow")
        return CheckResult(prop, Verdict.REFUTED, counterexample=cx,
                           evaluation=Evaluation(cx, Decision.ALLOW), responsible=(reason,))
    if "kms:Sign" in actions:
        return CheckResult(prop, Verdict.UNKNOWN, reason=f"timeout after {timeout:g} s")
    return CheckResult(prop, Verdict.PROVED)


@pytest.fixture
def fake_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("reasoner.analyses.pipeline")
    module.check = fake_check  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "reasoner.analyses.pipeline", module)


PROPS = f"""{ENV}
assert "holds": nobody can kms:Decrypt
assert "refuted": nobody can kms:Encrypt
assert "unknown": nobody can kms:Sign
assert "unknown but allowed" allowing unknown: nobody can [kms:Sign, kms:Verify]
"""


def test_one_item_per_assertion_with_outcomes(pytester: pytest.Pytester, fake_pipeline: None) -> None:
    pytester.makefile(".access", keys=PROPS)
    result = pytester.runpytest_inprocess("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2, skipped=1)
    result.stdout.fnmatch_lines([
        "*keys.access::holds PASSED*",
        "*keys.access::refuted FAILED*",
        "*keys.access::unknown FAILED*",
        "*keys.access::unknown but allowed SKIPPED*",
    ])
    # the refuted item's report: the counterexample and the responsible statement
    result.stdout.fnmatch_lines([
        "*expected PROVED, got REFUTED*",
        "*REFUTED \"refuted\"*",
        "*counterexample: arn:aws:iam::444455556666:role/Analytics calls kms:Encrypt on " + APP + "*",
        "*examples/org/keys/app-data.json:30:5: allow AnalyticsReadsAppData (key policy)*",
    ])
    result.stdout.fnmatch_lines(["*UNKNOWN \"unknown\"*timeout after 30 s*"])
    assert result.ret == 1


def test_unknown_allowed_by_marker_or_ini(pytester: pytest.Pytester, fake_pipeline: None) -> None:
    pytester.makefile(".access", keys=f'{ENV}\nassert "u": nobody can kms:Sign\n')
    pytester.makeconftest("""
import pytest

def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.reasoner_allow_unknown)
""")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(skipped=1)
    (pytester.path / "conftest.py").unlink()
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(failed=1)
    pytester.makeini("[pytest]\nreasoner_allow_unknown = true\n")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(skipped=1)


def test_timeout_option_and_within(pytester: pytest.Pytester, fake_pipeline: None) -> None:
    pytester.makefile(".access", keys=f'{ENV}\nassert "u": nobody can kms:Sign\n'
                                      'assert "w" within 3 seconds: nobody can [kms:Sign, kms:Verify]\n')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--reasoner-timeout", "12")
    result.stdout.fnmatch_lines(["*timeout after 12 s*"])
    result.stdout.fnmatch_lines(["*timeout after 3 s*"])


def test_bad_file_is_a_collection_error_with_caret(pytester: pytest.Pytester, fake_pipeline: None) -> None:
    pytester.makefile(".access", bad=f'{ENV}\nassert "x" nobody can kms:Decrypt\n')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*bad.access:2:12: error: PROP001 unexpected `nobody`*",
                                 '*2 | assert "x" nobody can kms:Decrypt*', "*^^^^^^*", "*help: *"])


def test_only_access_files_are_collected_and_marker_deselects(pytester: pytest.Pytester,
                                                              fake_pipeline: None) -> None:
    pytester.makefile(".props", other="<Project></Project>")  # an MSBuild file must not be collected
    pytester.makefile(".access", keys=f'{ENV}\nassert "holds": nobody can kms:Decrypt\n')
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-m", "not reasoner")
    result.assert_outcomes(deselected=1)


def test_python_helpers(pytester: pytest.Pytester, fake_pipeline: None) -> None:
    pytester.makepyfile(test_helpers=f'''
from reasoner.front.manifest import load_environment
from reasoner.analyses.properties import AccessNotGranted, PrincipalScope
from reasoner.face.pytest_plugin import assert_proved, assert_refuted

ENV = load_environment({str(ROOT / "examples" / "org" / "environment.yaml")!r})

def test_proved_object():
    prop = AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",))
    result = assert_proved(ENV, prop)
    assert result.holds

def test_refuted_string():
    result = assert_refuted(ENV, "no principal outside account 111122223333 can kms:Encrypt")
    assert result.counterexample.action == "kms:Encrypt"

def test_proved_but_refuted():
    assert_proved(ENV, "nobody can kms:Encrypt")

def test_refuted_but_unknown():
    assert_refuted(ENV, "nobody can kms:Sign")
''')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*PropertyNotProved: expected PROVED, got REFUTED*"])
    result.stdout.fnmatch_lines(["*PropertyNotProved: expected REFUTED, got UNKNOWN*"])
