"""Rendering of a semantic diff (`reasoner diff`, docs/findings.md).

Input: a `DiffResult` (analyses/diff.py).
Output: text (`PROVED equivalent`, or one block per class of access added (`+`) or removed (`-`) with its
granting statements and an example request, then a summary line), JSON and SARIF 2.1.0 (a result per
class, located on its first granting statement, and a note when the difference is not proved complete).
Guarantee: a pure function of the result; spans in JSON are `shapes.span_json`, SARIF is `sarif.document`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reasoner.analyses.diff import DIFF_ADDED, DIFF_INCOMPLETE, DIFF_REMOVED, Change, DiffResult
from reasoner.analyses.result import Verdict
from reasoner.face.render import sarif
from reasoner.face.render.findings import principal_json, statement_json
from reasoner.face.render.shapes import request_json

__all__ = ["change_json", "render", "render_json", "render_sarif", "render_text"]


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


def render_sarif(result: DiffResult, *, base_dir: str | Path | None = None) -> str:
    base = sarif.base_dir(base_dir)
    results: list[dict[str, Any]] = []
    for c in (*result.added, *result.removed):
        verb = "can now" if c.direction == "added" else "can no longer"
        results.append(sarif.result(
            c.code,
            "warning" if c.direction == "added" else "note",
            f"{c.principal} {verb} {', '.join(c.actions)} on {c.key}",
            c.statements[0].span if c.statements else None,
            base,
        ))
    if result.verdict is Verdict.UNKNOWN:
        msg = f"difference not proved complete: {result.reason}"
        results.append(sarif.result(DIFF_INCOMPLETE, "note", msg, None, base))
    return sarif.document(sarif.code_rules((DIFF_ADDED, DIFF_REMOVED, DIFF_INCOMPLETE)), results)


def render(fmt: str, result: DiffResult, **kwargs: Any) -> str:
    if fmt == "json":
        return render_json(result)
    if fmt == "sarif":
        return render_sarif(result, **kwargs)
    return render_text(result)
