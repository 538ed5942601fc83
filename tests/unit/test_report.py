"""Rendering of diagnostics (reasoner/face/render/diagnostics.py) and the `reasoner validate` command.

Golden tests: every `tests/golden/validate/<kind>[+<key account>]--<name>.json` is validated through the
CLI (in process); its text output plus the exit status must equal `<same name>.out`, and for a few cases
the `--format json` output must equal `<same name>.jsonout`. After a deliberate change of wording run

    REASONER_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_report.py

and review the diff of tests/golden/validate/ (style rule 10: user-facing text is snapshot-tested apart
from logic; logic tests assert on structured diagnostics).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import jsonschema
import pytest

from reasoner.errors import Diagnostic, Severity
from reasoner.face.cli import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, main
from reasoner.face.render.diagnostics import (
    JSON_SCHEMA,
    FileReport,
    render_diagnostic,
    render_json,
    render_text,
    summary_line,
)
from reasoner.source import SourceFile, Span

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "validate"
UPDATE = os.environ.get("REASONER_UPDATE_GOLDEN") == "1"
JSON_GOLDEN = ("key--structure-errors", "key--clean", "identity--syntax-set-literal")


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


# ---- render_diagnostic / render_text ---------------------------------------------------------------------


def test_render_diagnostic_with_snippet_and_help() -> None:
    src = SourceFile("k.json", '{\n  "Effect": "allow",\n}')
    d = Diagnostic(
        "POL009", Severity.ERROR, Span("k.json", 2, 13, 2, 20), "`Effect` must be exactly", "write `Allow`"
    )
    assert render_diagnostic(d, src) == (
        "k.json:2:13: error: POL009 `Effect` must be exactly\n"
        ' 2 |   "Effect": "allow",\n'
        "   |             ^^^^^^^\n"
        "   = help: write `Allow`"
    )


def test_render_without_source_or_with_a_span_outside_the_text() -> None:
    d = Diagnostic("INPUT001", Severity.ERROR, Span("x.json", 1, 1, 1, 2), "cannot read `x.json`")
    assert render_diagnostic(d) == "x.json:1:1: error: INPUT001 cannot read `x.json`"
    far = Diagnostic("POL001", Severity.WARNING, Span("a", 99, 500, 120, 3), "m")
    assert render_diagnostic(far, SourceFile("a", "{}")).startswith("a:99:500: warning: POL001 m")


def test_render_text_summary() -> None:
    src = SourceFile("a.json", "{}")
    reports = [
        FileReport(
            "a.json",
            (
                Diagnostic("POL006", Severity.ERROR, Span("a.json", 1, 1, 1, 2), "no statement"),
                Diagnostic("POL101", Severity.WARNING, Span("a.json", 1, 2, 1, 3), "w"),
            ),
            src,
        ),
        FileReport(
            "b.json",
            (Diagnostic("INPUT001", Severity.ERROR, Span("b.json", 1, 1, 1, 2), "gone"),),
            readable=False,
        ),
    ]
    text = render_text(reports)
    assert text.endswith("\n2 errors, 1 warning in 2 files (1 unreadable)\n")
    assert text.count("a.json:1:") == 2 and "b.json:1:1: error: INPUT001 gone" in text
    assert summary_line([]) == "0 errors, 0 warnings in 0 files"
    assert render_text([FileReport("c.json", ())]) == "0 errors, 0 warnings in 1 file\n"


def test_render_json_matches_its_schema() -> None:
    d = Diagnostic("POL009", Severity.ERROR, Span("k.json", 2, 13, 2, 20), "m", None)
    data = json.loads(render_json([FileReport("k.json", (d,), kind="key")]))
    jsonschema.validate(data, JSON_SCHEMA)
    assert data["files"][0]["diagnostics"][0]["span"] == {
        "file": "k.json",
        "line": 2,
        "col": 13,
        "end_line": 2,
        "end_col": 20,
    }
    assert data["summary"] == {"files": 1, "unreadable": 0, "errors": 1, "warnings": 0}


# ---- the validate command: exit statuses ("nothing is lost") ---------------------------------------------


def test_validate_exit_statuses(tmp_path: Path) -> None:
    clean = GOLDEN / "key--clean.json"
    bad = GOLDEN / "key--lints.json"
    assert cli("validate", str(clean))[0] == EXIT_OK
    warn = tmp_path / "warn.json"
    warn.write_text(
        '{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:ReEncrypt", "Resource": "*"}}',
        encoding="utf-8",
    )
    status, out, _ = cli("validate", str(warn))
    assert status == EXIT_OK and "warning: POL101" in out  # warnings are fine
    assert cli("validate", str(bad))[0] == EXIT_FINDINGS


def test_validate_reports_every_file_even_after_unreadable_ones(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"Id": "caf\xe9"}'.encode("latin-1"))
    missing = tmp_path / "missing.json"
    status, out, err = cli(
        "validate",
        str(missing),
        str(tmp_path),
        str(latin1),
        str(GOLDEN / "key--lints.json"),
        str(GOLDEN / "key--clean.json"),
    )
    assert status == EXIT_INPUT and err == ""
    assert f"{missing}:1:1: error: INPUT001" in out
    assert f"{tmp_path}:1:1: error: INPUT003" in out
    assert f"{latin1}:1:1: error: INPUT002" in out and "0xe9" in out
    assert "key--lints.json:" in out and "in 5 files (3 unreadable)" in out


def test_validate_json_format_and_kind(tmp_path: Path) -> None:
    p = tmp_path / "p.json"
    p.write_text(
        '{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}}',
        encoding="utf-8",
    )
    status, out, _ = cli("validate", "--format", "json", str(p))
    data = json.loads(out)
    jsonschema.validate(data, JSON_SCHEMA)
    assert status == EXIT_OK and data["files"][0]["kind"] == "key"
    status, out, _ = cli("validate", "--format", "json", "--kind", "identity", str(p))
    data = json.loads(out)
    assert status == EXIT_FINDINGS and data["files"][0]["kind"] == "identity"
    assert [d["code"] for d in data["files"][0]["diagnostics"]] == ["POL014"]


def test_validate_lone_surrogate_escapes_are_printable(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    p.write_text('{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", '
                 '"Sid": "a\\ud800b", "\\udfffx": 1}}', encoding="utf-8")
    status, out, _ = cli("validate", str(p))
    assert status == EXIT_FINDINGS and "unknown element `\\udfffx`" in out
    out.encode("utf-8")
    status, out, _ = cli("validate", "--format", "json", str(p))
    assert status == EXIT_FINDINGS
    assert {d["code"] for d in json.loads(out)["files"][0]["diagnostics"]} == {"POL003", "POL024"}


def test_validate_bad_key_account() -> None:
    status, _, err = cli("validate", "--key-account", "12", str(GOLDEN / "key--clean.json"))
    assert status == EXIT_INPUT and "INPUT004" in err


def test_validate_usage_errors() -> None:
    assert cli("validate")[0] == 2
    assert cli("validate", "--kind", "bogus", "x.json")[0] == 2


# ---- golden rendered diagnostics -------------------------------------------------------------------------


def _cases() -> list[Path]:
    return sorted(GOLDEN.glob("*.json"))


def _args_for(case: Path) -> list[str]:
    head = case.stem.split("--", 1)[0]
    kind, _, account = head.partition("+")
    args = ["validate", "--kind", kind, case.name]
    if account:
        args += ["--key-account", account]
    return args


def _check_golden(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path.name}: run with REASONER_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.stem)
def test_golden_text(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    status, out, err = cli(*_args_for(case))
    assert err == ""
    _check_golden(case.with_suffix(".out"), f"{out}exit status: {status}\n")


@pytest.mark.parametrize("name", JSON_GOLDEN)
def test_golden_json(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    case = GOLDEN / f"{name}.json"
    _, out, _ = cli(*_args_for(case), "--format", "json")
    jsonschema.validate(json.loads(out), JSON_SCHEMA)
    _check_golden(case.with_suffix(".jsonout"), out)


def test_every_golden_output_has_an_input() -> None:
    inputs = {p.stem for p in _cases()}
    outputs = {p.stem for p in GOLDEN.glob("*.out")} | {p.stem for p in GOLDEN.glob("*.jsonout")}
    assert outputs <= inputs
    assert len(inputs) >= 10
