"""Rendering of the hygiene checks of key policies (`reasoner lint`, docs/findings.md).

Input: a `HygieneResult` (analyses/hygiene.py).
Output: text (`file:line:col: severity: CODE message` per issue and undecided check, with its proof or the
requests behind it, then a summary line), JSON and SARIF 2.1.0 (a result per issue and undecided check, at
the level of its code's severity).
Guarantee: a pure function of the result; spans in JSON are `shapes.span_json`, SARIF is `sarif.document`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reasoner.analyses.hygiene import LOCKOUT, NEVER_APPLIES, REDUNDANT, SEPARATION, UNDECIDED, HygieneResult, Issue
from reasoner.errors import Severity
from reasoner.face.render import sarif
from reasoner.face.render.shapes import request_json, span_json

__all__ = ["issue_json", "render", "render_json", "render_sarif", "render_text"]


def render_text(result: HygieneResult) -> str:
    lines: list[str] = []
    for i in (*result.issues, *result.undecided):
        lines.append(f"{i.span}: {i.severity.value}: {i.code} {i.message}")
        if i.proof:
            lines.append(f"  proof: {i.proof}")
        for r in i.requests:
            ctx = " ".join(f"{k}={','.join(v)}" for k, v in sorted(r.context.items()))
            lines.append(f"  allowed: {r.principal} {r.action} {r.resource}" + (f" [{ctx}]" if ctx else ""))
    lines.append(
        f"{len(result.issues)} issue(s), {len(result.undecided)} undecided, {result.checks} check(s), "
        f"{result.queries} queries, {result.seconds:.2f} s"
    )
    return "\n".join(lines) + "\n"


def issue_json(i: Issue) -> dict[str, Any]:
    return {
        "code": i.code,
        "severity": i.severity.value,
        "key": i.key,
        "message": i.message,
        "proof": i.proof,
        "statement": i.statement,
        "span": span_json(i.span),
        "requests": [request_json(r) for r in i.requests],
    }


def render_json(result: HygieneResult) -> str:
    doc = {
        "issues": [issue_json(i) for i in result.issues],
        "undecided": [issue_json(i) for i in result.undecided],
        "checks": result.checks,
        "queries": result.queries,
        "seconds": round(result.seconds, 4),
    }
    return json.dumps(doc, indent=2) + "\n"


_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def render_sarif(result: HygieneResult, *, base_dir: str | Path | None = None) -> str:
    base = sarif.base_dir(base_dir)
    results = [sarif.result(i.code, _LEVEL[i.severity], i.message, i.span, base)
               for i in (*result.issues, *result.undecided)]
    return sarif.document(sarif.code_rules((LOCKOUT, SEPARATION, NEVER_APPLIES, REDUNDANT, UNDECIDED)), results)


def render(fmt: str, result: HygieneResult, **kwargs: Any) -> str:
    if fmt == "json":
        return render_json(result)
    if fmt == "sarif":
        return render_sarif(result, **kwargs)
    return render_text(result)
