"""`reasoner check` (reasoner/face/cli.py): wiring, exit statuses, formats, progress and errors.

In-process tests call `main(argv, stdout, stderr)` with a stand-in for `reasoner.analyses.pipeline` that returns
prepared verdicts, so they test the command and not the solver; the end-to-end runs with the real symbolic
core are in tests/unit/test_check_e2e.py. Subprocess tests run the installed console script.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
import types
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reasoner.analyses.properties import AccessNotGranted, ScopeKind
from reasoner.analyses.result import CheckResult, Verdict
from reasoner.errors import UnsupportedFeatureError
from reasoner.face.cli import main
from reasoner.front.ast import Effect, PolicyKind
from reasoner.semantics.request import Decision, Evaluation, Reason, Request
from reasoner.source import Span
from tests.sarif import valid_sarif

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "examples" / "org"
APP = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ENV = f'environment "{ORG / "environment.yaml"}"'


def refute(prop: object) -> CheckResult:
    cx = Request("arn:aws:iam::444455556666:role/Analytics", "kms:Decrypt", APP,
                 {"kms:EncryptionContext:dataset": ("reporting",)})
    # spans as the manifest loader gives them: relative to the manifest's directory
    reason = Reason("keys/app-data.json", PolicyKind.KEY_POLICY, 3, "AnalyticsReadsAppData", Effect.ALLOW,
                    Span("keys/app-data.json", 30, 5, 37, 6), "allow")
    return CheckResult(prop, Verdict.REFUTED, counterexample=cx, evaluation=Evaluation(cx, Decision.ALLOW),
                       responsible=(reason,), seconds=0.01)


Decide = Callable[[object], CheckResult]


@pytest.fixture
def pipeline(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, object]]:
    """A stand-in `reasoner.analyses.pipeline`; set `state["decide"]` to choose verdicts, read `state["calls"]`."""
    state: dict[str, object] = {"calls": []}

    def check(environment: object, prop: object, *, timeout: float, rlimit: int | None = None,
              dump_smt2: str | None = None) -> CheckResult:
        calls = state["calls"]
        assert isinstance(calls, list)
        calls.append({"environment": environment, "property": prop, "timeout": timeout, "rlimit": rlimit,
                      "dump_smt2": dump_smt2})
        decide = state.get("decide")
        if callable(decide):
            return decide(prop)  # type: ignore[no-any-return]
        return CheckResult(prop, Verdict.PROVED, seconds=0.001)

    module = types.ModuleType("reasoner.analyses.pipeline")
    module.check = check  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "reasoner.analyses.pipeline", module)
    monkeypatch.chdir(ROOT)
    yield state


def run(*argv: str, stderr: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), stderr or io.StringIO()
    status = main(["check", *argv], out, err)
    return status, out.getvalue(), err.getvalue()


def test_all_hold_exit_0(pipeline: dict[str, object]) -> None:
    status, out, err = run("examples/org/checks")
    assert status == 0, err
    lines = out.splitlines()
    assert len(lines) == 11 and lines[-1].startswith("10 assertions: 10 proved, 0 refuted, 0 unknown")
    assert lines[0] == ('examples/org/checks/change.access:6:1: PROVED '
                        '"the proposed key policy grants no new access" (1 ms)')
    assert err == ""  # not a terminal: no progress display


def test_refuted_exit_1_with_counterexample_and_statements(pipeline: dict[str, object]) -> None:
    pipeline["decide"] = refute
    status, out, _ = run("examples/org/failing/external-decrypt.access")
    assert status == 1
    assert "REFUTED \"no principal outside the security account decrypts app data\"" in out
    assert f"counterexample: arn:aws:iam::444455556666:role/Analytics calls kms:Decrypt on {APP}" in out
    assert "kms:EncryptionContext:dataset = reporting" in out
    # the statement's span is relative to the manifest; the report makes it usable from the repository root
    assert "    examples/org/keys/app-data.json:30:5: allow AnalyticsReadsAppData (key policy)" in out


def test_unknown_exit_3_unless_allowed(pipeline: dict[str, object], tmp_path: Path) -> None:
    pipeline["decide"] = lambda p: CheckResult(p, Verdict.UNKNOWN, reason="timeout after 30 s")
    f = tmp_path / "t.access"
    f.write_text(f'{ENV}\nassert "a": nobody can kms:Decrypt\n')
    assert run(str(f), "--root", "/")[0] == 3  # ENV lies outside tmp_path: widen the root
    f.write_text(f'{ENV}\nassert "a" allowing unknown: nobody can kms:Decrypt\n')
    status, out, _ = run(str(f), "--root", "/")
    assert status == 0 and "(allowed)" in out


def test_refuted_wins_over_unknown(pipeline: dict[str, object]) -> None:
    def decide(p: object) -> CheckResult:
        if isinstance(p, AccessNotGranted) and p.scope.kind is ScopeKind.OUTSIDE_ACCOUNTS:
            return refute(p)
        return CheckResult(p, Verdict.UNKNOWN, reason="rlimit")

    pipeline["decide"] = decide
    assert run("examples/org/checks", "examples/org/failing")[0] == 1


def test_unsupported_becomes_unknown(pipeline: dict[str, object]) -> None:
    def decide(p: object) -> CheckResult:
        raise UnsupportedFeatureError("operator `BinaryEquals` on key `x`")

    pipeline["decide"] = decide
    status, out, _ = run("examples/org/failing")
    assert status == 3 and "unsupported: operator `BinaryEquals`" in out


def test_options_reach_the_pipeline(pipeline: dict[str, object], tmp_path: Path) -> None:
    f = tmp_path / "t.access"
    f.write_text(f'{ENV}\nassert "fast one" within 2 seconds: nobody can kms:Decrypt\n'
                 'assert "b": nobody can kms:Encrypt\n')
    status, _, _ = run(str(f), "--timeout", "7.5", "--rlimit", "1000", "--dump", "smt2", str(tmp_path / "d"),
                       "--root", "/")
    assert status == 0
    calls = pipeline["calls"]
    assert isinstance(calls, list)
    assert [c["timeout"] for c in calls] == [2.0, 7.5]
    assert [c["rlimit"] for c in calls] == [1000, 1000]
    assert [Path(c["dump_smt2"]).name for c in calls] == ["000-fast-one.smt2", "001-b.smt2"]
    assert (tmp_path / "d").is_dir()


def test_included_assertions_run_once(pipeline: dict[str, object], tmp_path: Path) -> None:
    (tmp_path / "a.access").write_text(f'{ENV}\nassert "x": nobody can kms:Decrypt\n')
    (tmp_path / "b.access").write_text('include "a.access"\nassert "y": nobody can kms:Encrypt\n')
    status, out, _ = run(str(tmp_path), "--root", "/")
    assert status == 0 and out.splitlines()[-1].startswith("2 assertions")


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "github"])
def test_formats(pipeline: dict[str, object], fmt: str) -> None:
    pipeline["decide"] = refute
    status, out, _ = run("examples/org/failing", "--format", fmt)
    assert status == 1
    if fmt == "json":
        assert json.loads(out)["summary"]["refuted"] == 1
    elif fmt == "sarif":
        loc = valid_sarif(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "examples/org/keys/app-data.json"
        assert loc["region"]["startLine"] == 30
    elif fmt == "junit":
        assert ET.fromstring(out).get("failures") == "1"
    else:
        assert out.startswith("::error file=examples/org/keys/app-data.json,line=30,col=5,")


# ---- input errors: exit 2 with file:line:col, caret and hint on stderr --------------------------------


def test_syntax_error_exit_2(pipeline: dict[str, object], tmp_path: Path) -> None:
    f = tmp_path / "bad.access"
    f.write_text('environment "x.yaml"\nassert "n" nobody can kms:Decrypt\n')
    status, out, err = run(str(f))
    assert status == 2 and out == ""
    assert err.startswith(f"{f}:2:12: error: PROP001 unexpected `nobody`")
    assert '2 | assert "n" nobody can kms:Decrypt\n  |            ^^^^^^' in err
    assert "help: an assertion reads" in err
    assert pipeline["calls"] == []


def test_unknown_action_exit_2(pipeline: dict[str, object], tmp_path: Path) -> None:
    f = tmp_path / "t.access"
    f.write_text(f'{ENV}\nassert: nobody can kms:Decript\n')
    status, _, err = run(str(f), "--root", "/")
    assert status == 2
    assert "PROP003 unknown action `kms:Decript`" in err and "did you mean `kms:Decrypt`" in err


@pytest.mark.parametrize("argv", [["nothing-here"], ["--format", "xml", "examples"], ["--jobs", "0", "x"],
                                  ["--timeout", "-1", "x"], ["--dump", "ast", "d", "examples/org/checks"]])
def test_usage_errors_exit_2(pipeline: dict[str, object], argv: list[str],
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*argv)[0] == 2


def test_directory_without_property_files(pipeline: dict[str, object], tmp_path: Path) -> None:
    status, _, err = run(str(tmp_path))
    assert status == 2 and "no property files (`*.access`)" in err


def test_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--help"]) == 0
    text = capsys.readouterr().out
    for line in ("0  every assertion holds", "1  at least one assertion is refuted",
                 "2  usage or input error", "3  no assertion refuted, but at least one is unknown"):
        assert line in text
    for option in ("--format", "--timeout", "--jobs", "--dump", "{text,json,sarif,junit,github}"):
        assert option in text


# ---- progress display ---------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_for_slow_runs(pipeline: dict[str, object]) -> None:
    def slow(p: object) -> CheckResult:
        time.sleep(0.8)
        return CheckResult(p, Verdict.PROVED, seconds=0.8)

    pipeline["decide"] = slow
    term = Terminal()
    status, _, err = run("examples/org/failing", stderr=term)
    assert status == 0
    assert '[0/1] checking "no principal outside the security account decrypt…" 0.' in err
    assert err.endswith("\r\x1b[K")  # the line is erased at the end


def test_no_progress_for_quick_runs(pipeline: dict[str, object]) -> None:
    term = Terminal()
    assert run("examples/org/failing", stderr=term)[0] == 0
    assert term.getvalue() == ""


# ---- the installed console script ---------------------------------------------------------------------


def console_script() -> list[str]:
    beside = Path(sys.executable).with_name("reasoner")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("reasoner")
    return [found] if found else [sys.executable, "-m", "reasoner"]


def test_console_script_help_and_input_error(tmp_path: Path) -> None:
    done = subprocess.run([*console_script(), "check", "--help"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0 and "exit status:" in done.stdout
    bad = tmp_path / "bad.access"
    bad.write_text("assert: nobody can kms:Decrypt\n")
    done = subprocess.run([*console_script(), "check", str(bad)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2
    assert "PROP007 no environment for this assertion" in done.stderr and "Traceback" not in done.stderr


# ---- snapshots of user-facing text (tests/golden/check/, REASONER_UPDATE_GOLDEN=1 to regenerate) -----


def test_help_snapshot(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.test_render import check_golden

    monkeypatch.setenv("COLUMNS", "100")
    assert main(["check", "--help"]) == 0
    check_golden("check-help.txt", capsys.readouterr().out)


ERROR_CASES = [
    'assert "missing colon" nobody can kms:Decrypt',
    "assert: no principal outside account 111122223333 kms:Decrypt",
    "assert: nobody can kms:Decrypr on key alias/app-data",
    "assert: nobody can kms:Decrypt on key alias/app-date",
    "assert: arn:aws:iam::111122223333:role/KeyAdmn can kms:PutKeyPolicy",
    "assert: only [admins] can kms:ScheduleKeyDeletion",
    "assert: no principal outside account 11112222333 can kms:Decrypt",
]


def test_error_snapshot() -> None:
    from reasoner.language import property_files as props
    from tests.unit.test_render import check_golden

    compiler = props.Compiler()
    rendered = []
    for case in ERROR_CASES:
        with pytest.raises(props.PropertyError) as info:
            compiler.compile_text(f'environment "environment.yaml"\n{case}\n', "checks/t.access",
                                  base_dir=ORG)
        rendered.append(str(info.value))
    check_golden("errors.txt", "\n\n".join(rendered) + "\n")
