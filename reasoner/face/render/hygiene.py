"""Rendering of the hygiene checks of key policies (`reasoner lint`, docs/findings.md).

Input: a `HygieneResult` (analyses/hygiene.py).
Output: text (`file:line:col: severity: CODE message` per issue and undecided check, with its proof or the
requests behind it, then a summary line), JSON, SARIF 2.1.0 (a result per issue and undecided check, at the
level of its code's severity), JUnit XML (a test case per key, failed by its issues) and GitHub workflow
annotations.
Guarantee: a pure function of the result (and of the `Triage` when accepted findings or a baseline are given:
accepted issues are suppressed in SARIF, marked in text and JSON, notices in annotations and not failures in
JUnit); spans in JSON are `shapes.span_json`, SARIF is `sarif.document`, JUnit and annotations `ci.py`'s.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reasoner.analyses.hygiene import LOCKOUT, NEVER_APPLIES, REDUNDANT, SEPARATION, UNDECIDED, HygieneResult, Issue
from reasoner.errors import Severity
from reasoner.face.exit import exit_status
from reasoner.face.identity import fingerprint
from reasoner.face.render import ci, sarif
from reasoner.face.render.shapes import request_json, span_json

if TYPE_CHECKING:
    from reasoner.face.accepted import Triage  # (annotations only: YAML is loaded with --accepted)

__all__ = ["issue_json", "render", "render_github", "render_json", "render_junit", "render_sarif",
           "render_text"]


def _issue_lines(i: Issue) -> list[str]:
    lines = [f"{i.span}: {i.severity.value}: {i.code} {i.message}"]
    if i.proof:
        lines.append(f"  proof: {i.proof}")
    for r in i.requests:
        ctx = " ".join(f"{k}={','.join(v)}" for k, v in sorted(r.context.items()))
        lines.append(f"  allowed: {r.principal} {r.action} {r.resource}" + (f" [{ctx}]" if ctx else ""))
    return lines


def render_text(result: HygieneResult, triage: Triage | None = None) -> str:
    lines: list[str] = []
    for i in (*result.issues, *result.undecided):
        lines += _issue_lines(i)
        lines += ci.triage_lines(i, triage, "  ")
    lines.append(
        f"{len(result.issues)} issue(s), {len(result.undecided)} undecided, {result.checks} check(s), "
        f"{result.queries} queries, {result.seconds:.2f} s"
    )
    lines += ci.triage_summary(result.issues, triage)
    return "\n".join(lines) + "\n"


def issue_json(i: Issue, triage: Triage | None = None) -> dict[str, Any]:
    return {
        "code": i.code,
        "fingerprint": fingerprint(i),
        "severity": i.severity.value,
        "key": i.key,
        "message": i.message,
        "proof": i.proof,
        "statement": i.statement,
        "span": span_json(i.span),
        "requests": [request_json(r) for r in i.requests],
        **ci.triage_json(i, triage),
    }


def render_json(result: HygieneResult, triage: Triage | None = None) -> str:
    doc = {
        "issues": [issue_json(i, triage) for i in result.issues],
        "undecided": [issue_json(i) for i in result.undecided],
        "checks": result.checks,
        "queries": result.queries,
        "seconds": round(result.seconds, 4),
        **ci.triage_doc(triage),
    }
    return json.dumps(doc, indent=2) + "\n"


_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def render_sarif(result: HygieneResult, *, ctx: sarif.Context | None = None, triage: Triage | None = None,
                 notifications: Sequence[sarif.Notification] = ()) -> str:
    ctx = ctx or sarif.Context.at("lint")
    results = [sarif.result(i.code, _LEVEL[i.severity], i.message, i.span, ctx, fingerprint=fingerprint(i),
                            properties={"key": i.key} if i.key else None,
                            suppression=triage.suppression(i) if triage and i in result.issues else None,
                            baseline=triage.baseline_state(i) if triage and i in result.issues else None)
               for i in (*result.issues, *result.undecided)]
    rules = [sarif.rule(c, severity=s) for c, s in (
        (LOCKOUT, Severity.ERROR), (SEPARATION, Severity.WARNING), (NEVER_APPLIES, Severity.WARNING),
        (REDUNDANT, Severity.WARNING), (UNDECIDED, Severity.NOTE))]
    return sarif.document(rules, results, ctx, exit_code=int(exit_status(result, triage)),
                          notifications=[*notifications, *(triage.notifications() if triage else ())])


def render_junit(result: HygieneResult, triage: Triage | None = None) -> str:
    """A test case per key: failed by its issues that count, skipped when a check on it is only undecided."""
    keys = list(dict.fromkeys(i.key for i in (*result.issues, *result.undecided)))
    cases = []
    for key in keys or ["hygiene"]:
        issues = [i for i in result.issues if i.key == key and (triage is None or triage.counts(i))]
        undecided = [i for i in result.undecided if i.key == key]
        cases.append(ci.Case(key or "hygiene", "reasoner.lint", 0.0,
                             failure="\n".join(x for i in issues for x in _issue_lines(i)) if issues else None,
                             failure_type=issues[0].code if issues else None, message=f"{len(issues)} issue(s)",
                             unknown="; ".join(i.message for i in undecided) or None))
    return ci.junit("reasoner lint", cases)


def render_github(result: HygieneResult, triage: Triage | None = None) -> str:
    """One workflow command per issue at its code's severity (`::notice` when accepted or in the baseline)
    and per undecided check (`::notice`), then the summary line."""
    levels = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}
    notes = [ci.Annotation("notice" if triage is not None and i in result.issues and not triage.counts(i)
                           else levels[i.severity], f"{i.code} {i.key}".strip(),
                           "\n".join([i.message, *_issue_lines(i)[1:]]), i.span)
             for i in (*result.issues, *result.undecided)]
    return ci.annotate(notes, render_text(result).splitlines()[-1])


def render(fmt: str, result: HygieneResult, *, ctx: sarif.Context | None = None, triage: Triage | None = None,
           notifications: Sequence[sarif.Notification] = ()) -> str:
    return ci.by_format(fmt, sys.modules[__name__], result, ctx=ctx, triage=triage, notifications=notifications)
