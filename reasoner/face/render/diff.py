"""Rendering of a semantic diff (`reasoner diff`, docs/findings.md).

Input: a `DiffResult` (analyses/diff.py).
Output: text (`PROVED equivalent`, or one block per class of access added (`+`) or removed (`-`) with its
granting statements and an example request, then a summary line), JSON, SARIF 2.1.0 (a result per class,
located on its granting statements, and a note when the difference is not proved complete), JUnit XML (a test
case per key, failed by the classes added or removed on it) and GitHub workflow annotations.
Guarantee: a pure function of the result; spans in JSON are `shapes.span_json`, SARIF is `sarif.document`,
JUnit and annotations are `ci.py`'s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reasoner.analyses.diff import DIFF_ADDED, DIFF_INCOMPLETE, DIFF_REMOVED, Change, DiffResult
from reasoner.analyses.result import Verdict
from reasoner.errors import Severity
from reasoner.face.exit import exit_status
from reasoner.face.identity import fingerprint
from reasoner.face.render import ci, sarif
from reasoner.face.render.findings import principal_json, statement_json
from reasoner.face.render.shapes import request_json

__all__ = ["change_json", "render", "render_github", "render_json", "render_junit", "render_sarif",
           "render_text"]


# ---- text ------------------------------------------------------------------------------------------------


def _change_lines(c: Change) -> list[str]:
    sign = "+" if c.direction == "added" else "-"
    verb = "can now" if c.direction == "added" else "can no longer"
    lines = [f"{sign} {c.principal} {verb} {', '.join(c.actions)} on {c.key}"]
    if c.conditions:
        lines.append("    when " + " and ".join(str(x) for x in c.conditions))
    for s in c.statements:
        lines.append(
            f"    {'granted' if c.direction == 'added' else 'was granted'} by "
            f"{s.span.file}:{s.span.line}:{s.span.col} `{s.label}`"
        )
    ctx = " ".join(f"{k}={','.join(v)}" for k, v in sorted(c.example.context.items()))
    lines.append(
        f"    e.g. {c.example.principal} {c.example.action}"
        + (f" [{ctx}]" if ctx else "")
        + f": {'OLD' if c.direction == 'added' else 'NEW'} {c.denied.decision.value}, "
        f"{'NEW' if c.direction == 'added' else 'OLD'} {c.allowed.decision.value}"
    )
    return lines


def render_text(result: DiffResult) -> str:
    if result.verdict is Verdict.PROVED:
        return (
            f"PROVED equivalent: OLD and NEW allow exactly the same requests "
            f"({result.queries} solver queries, {result.seconds:.2f} s)\n"
        )
    lines: list[str] = []
    for c in (*result.added, *result.removed):
        lines += _change_lines(c)
    tail = []
    for name, v in (("added", result.added_complete), ("removed", result.removed_complete)):
        tail.append(f"{name}: {'complete (PROVED)' if v is Verdict.PROVED else 'INCOMPLETE'}")
    head = "DIFFERENT" if result.verdict is Verdict.REFUTED else "UNKNOWN"
    lines.append(
        f"{head}: {len(result.added)} class(es) added, {len(result.removed)} removed; "
        f"{'; '.join(tail)}"
        + (f" ({result.reason})" if result.reason else "")
        + f"; {result.queries} queries, {result.seconds:.2f} s"
    )
    return "\n".join(lines) + "\n"


# ---- JSON ------------------------------------------------------------------------------------------------


def change_json(c: Change) -> dict[str, Any]:
    return {
        "code": c.code,
        "fingerprint": fingerprint(c),
        "direction": c.direction,
        "key": c.key,
        "principal": principal_json(c.principal),
        "actions": list(c.actions),
        "conditions": [
            {"operator": x.operator, "key": x.key, "values": list(x.values)} for x in c.conditions
        ],
        "statements": [statement_json(s) for s in c.statements],
        "example": request_json(c.example),
        "allowing_side": c.allowed.decision.value,
        "other_side": c.denied.decision.value,
    }


def render_json(result: DiffResult) -> str:
    doc = {
        "verdict": result.verdict.value,
        "equivalent": result.equivalent,
        "added": [change_json(c) for c in result.added],
        "removed": [change_json(c) for c in result.removed],
        "added_complete": result.added_complete.value,
        "removed_complete": result.removed_complete.value,
        "reason": result.reason,
        "queries": result.queries,
        "seconds": round(result.seconds, 4),
    }
    return json.dumps(doc, indent=2) + "\n"


# ---- SARIF -----------------------------------------------------------------------------------------------


def _message(c: Change) -> str:
    verb = "can now" if c.direction == "added" else "can no longer"
    return f"{c.principal} {verb} {', '.join(c.actions)} on {c.key}"


def render_sarif(result: DiffResult, *, ctx: sarif.Context | None = None,
                 notifications: Sequence[sarif.Notification] = ()) -> str:
    """A result per class added (warning) or removed (note), on its granting statements; a note when the
    difference is not proved complete."""
    ctx = ctx or sarif.Context.at("diff")
    results: list[dict[str, Any]] = []
    for c in (*result.added, *result.removed):
        grants = "grants it" if c.direction == "added" else "granted it"
        results.append(sarif.result(
            c.code, "warning" if c.direction == "added" else "note", _message(c), None, ctx,
            fingerprint=fingerprint(c), locations=[(s.span, f"`{s.label}` {grants}") for s in c.statements],
            properties={"key": c.key, "direction": c.direction, "example": request_json(c.example)}))
    if result.verdict is Verdict.UNKNOWN:
        msg = f"difference not proved complete: {result.reason}"
        results.append(sarif.result(DIFF_INCOMPLETE, "note", msg, None, ctx,
                                    fingerprint=ci.digest("diff-incomplete", result.reason)))
    rules = [sarif.rule(DIFF_ADDED, severity=Severity.WARNING), sarif.rule(DIFF_REMOVED, severity=Severity.NOTE),
             sarif.rule(DIFF_INCOMPLETE, severity=Severity.NOTE)]
    return sarif.document(rules, results, ctx, exit_code=int(exit_status(result)), notifications=notifications)


def render_junit(result: DiffResult) -> str:
    """A test case per key that changed (failed by its classes), or one passing case `equivalent`; a skipped
    case when the difference is not proved complete."""
    by_key: dict[str, list[Change]] = {}
    for c in (*result.added, *result.removed):
        by_key.setdefault(c.key, []).append(c)
    cases = [ci.Case(key, "reasoner.diff", 0.0, failure="\n".join(x for c in cs for x in _change_lines(c)),
                     failure_type="DIFFERENT", message=f"{len(cs)} class(es) of access changed")
             for key, cs in by_key.items()]
    if result.verdict is Verdict.UNKNOWN:
        cases.append(ci.Case("complete", "reasoner.diff", result.seconds, unknown=str(result.reason)))
    if not cases:
        cases.append(ci.Case("equivalent", "reasoner.diff", result.seconds))
    return ci.junit("reasoner diff", cases)


def render_github(result: DiffResult) -> str:
    """`::warning` per class added, `::notice` per class removed, on its first granting statement;
    `::warning` when the difference is not proved complete; the summary line."""
    notes = [ci.Annotation("warning" if c.direction == "added" else "notice",
                           f"access {c.direction}: {c.principal}", "\n".join(_change_lines(c)),
                           c.statements[0].span if c.statements else None)
             for c in (*result.added, *result.removed)]
    if result.verdict is Verdict.UNKNOWN:
        notes.append(ci.Annotation("warning", "UNKNOWN: difference not proved complete", str(result.reason), None))
    return ci.annotate(notes, render_text(result).splitlines()[-1])


def render(fmt: str, result: DiffResult, *, ctx: sarif.Context | None = None,
           notifications: Sequence[sarif.Notification] = ()) -> str:
    if fmt == "json":
        return render_json(result)
    if fmt == "sarif":
        return render_sarif(result, ctx=ctx, notifications=notifications)
    if fmt == "junit":
        return render_junit(result)
    if fmt == "github":
        return render_github(result)
    if fmt == "text":
        return render_text(result)
    raise ValueError(f"unknown format `{fmt}`")
