"""Rendering of diagnostics for people (text) and machines (JSON).

Input: diagnostics (reasoner/errors.py), grouped per input file, with the source text when it was readable.
Output: text, one finding per block::

    key.json:3:15: error: POL009 `Effect` must be exactly `Allow` or `Deny`, not `allow`
     3 |     "Effect": "allow",
       |               ^^^^^^^
       = help: `Effect` is case-sensitive: write `Allow`

or a JSON document (`render_json`, schema in `JSON_SCHEMA`), or SARIF 2.1.0 (`render_sarif`: a result per
diagnostic of a readable file, and each unreadable file as an input error of the invocation).
Guarantee: rendering never raises on any diagnostic, even one whose span lies outside the text; the order
is the order given (callers pass diagnostics sorted by position); every diagnostic is printed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reasoner.errors import Diagnostic, Severity
from reasoner.face.render.shapes import span_json
from reasoner.source import SourceFile, Span, render_snippet

__all__ = ["FileReport", "render_diagnostic", "render_json", "render_sarif", "render_text", "summary_line",
           "to_json_dict"]


@dataclass(frozen=True)
class FileReport:
    """The outcome for one input file: its diagnostics and, if it could be read, its text."""

    file: str
    diagnostics: tuple[Diagnostic, ...]
    source: SourceFile | None = None
    kind: str | None = None  # the policy kind used (given or guessed); None if the file did not parse
    readable: bool = True
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.WARNING)


def render_diagnostic(diag: Diagnostic, source: SourceFile | None = None) -> str:
    """`file:line:col: severity: CODE message`, the caret snippet (if the text is known) and the help."""
    lines = [f"{diag.span}: {diag.severity.value}: {diag.code} {_one_line(diag.message)}"]
    snippet = _safe_snippet(source, diag.span)
    if snippet:
        lines.extend(" " + s for s in snippet.splitlines())
    if diag.help:
        pad = " " * (len(str(diag.span.line)) + 1)
        lines.append(f"{pad} = help: {_one_line(diag.help)}")
    return "\n".join(lines)


def render_text(reports: Iterable[FileReport]) -> str:
    """Every diagnostic of every file, then one summary line."""
    reports = list(reports)
    blocks = [render_diagnostic(d, r.source) for r in reports for d in r.diagnostics]
    blocks.append(summary_line(reports))
    text = "\n\n".join(blocks[:-1]) + ("\n\n" if len(blocks) > 1 else "") + blocks[-1] + "\n"
    return _encodable(text)


def summary_line(reports: Sequence[FileReport]) -> str:
    errors = sum(r.errors for r in reports)
    warnings = sum(r.warnings for r in reports)
    unreadable = sum(1 for r in reports if not r.readable)
    files = len(reports)
    parts = [_plural(errors, "error"), _plural(warnings, "warning")]
    text = f"{', '.join(parts)} in {_plural(files, 'file')}"
    if unreadable:
        text += f" ({unreadable} unreadable)"
    return text


def _diag_dict(d: Diagnostic) -> dict[str, object]:
    return {
        "code": d.code,
        "severity": d.severity.value,
        "message": d.message,
        "help": d.help,
        "span": span_json(d.span),
        "text": str(d),
    }


def to_json_dict(reports: Iterable[FileReport]) -> dict[str, object]:
    reports = list(reports)
    return {
        "version": 1,
        "files": [
            {"file": r.file, "readable": r.readable, "kind": r.kind, "errors": r.errors,
             "warnings": r.warnings, "diagnostics": [_diag_dict(d) for d in r.diagnostics], **r.extra}
            for r in reports
        ],
        "summary": {
            "files": len(reports),
            "unreadable": sum(1 for r in reports if not r.readable),
            "errors": sum(r.errors for r in reports),
            "warnings": sum(r.warnings for r in reports),
        },
    }


def render_json(reports: Iterable[FileReport]) -> str:
    return _encodable(json.dumps(to_json_dict(reports), indent=2, ensure_ascii=False) + "\n")


#: JSON Schema of `render_json`'s output (checked by tests/unit/test_report.py).
JSON_SCHEMA: dict[str, object] = {
    "type": "object",
    "required": ["version", "files", "summary"],
    "properties": {
        "version": {"const": 1},
        "files": {"type": "array", "items": {
            "type": "object",
            "required": ["file", "readable", "kind", "errors", "warnings", "diagnostics"],
            "properties": {
                "file": {"type": "string"},
                "readable": {"type": "boolean"},
                "kind": {"type": ["string", "null"]},
                "errors": {"type": "integer", "minimum": 0},
                "warnings": {"type": "integer", "minimum": 0},
                "diagnostics": {"type": "array", "items": {
                    "type": "object",
                    "required": ["code", "severity", "message", "help", "span", "text"],
                    "properties": {
                        "code": {"type": "string"},
                        "severity": {"enum": ["error", "warning", "note"]},
                        "message": {"type": "string"},
                        "help": {"type": ["string", "null"]},
                        "text": {"type": "string"},
                        "span": {"type": "object", "required": ["file", "line", "col", "end_line", "end_col"],
                                 "properties": {k: {"type": "integer", "minimum": 1}
                                                for k in ("line", "col", "end_line", "end_col")}},
                    },
                }},
            },
        }},
        "summary": {"type": "object", "required": ["files", "unreadable", "errors", "warnings"]},
    },
}


def render_sarif(reports: Iterable[FileReport], *, exit_code: int, ctx: Any = None,
                 notifications: Sequence[Any] = ()) -> str:
    """SARIF of `validate` (`sarif.document`): a result per diagnostic at its severity, with the diagnostic's
    help in the message; the first error of an unreadable file is an input error of the invocation.
    `exit_code` is the run's (`exit.exit_status(reports)`, which imports this module)."""
    from reasoner.face.identity import fingerprint
    from reasoner.face.render import sarif

    reports = list(reports)
    ctx = ctx or sarif.Context.at("validate")
    levels = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
    results: list[dict[str, Any]] = []
    rules: dict[str, dict[str, Any]] = {}
    unreadable: list[Any] = []
    for r in reports:
        for d in r.diagnostics:
            if not r.readable:
                unreadable.append(sarif.Notification("error", d.code, _one_line(d.message), d.span))
                continue
            rules.setdefault(d.code, sarif.rule(d.code, severity=d.severity))
            message = _one_line(d.message) + (f" (help: {_one_line(d.help)})" if d.help else "")
            results.append(sarif.result(d.code, levels[d.severity], message, d.span, ctx,
                                        fingerprint=fingerprint(d)))
    return _encodable(sarif.document(list(rules.values()), results, ctx,
                                     exit_code=exit_code,
                                     notifications=[*notifications, *unreadable]))


def _encodable(text: str) -> str:
    """Lone surrogates (a policy may spell `\\ud800`) cannot be written as UTF-8: show them as `\\ud800`,
    which in JSON output is the same escape the policy used."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))


def _safe_snippet(source: SourceFile | None, span: Span) -> str:
    try:
        return render_snippet(source, span)
    except Exception:  # the guarantee is "never raises"; a snippet is decoration
        return ""
