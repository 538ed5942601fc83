"""Rendering of external-access findings (`reasoner findings`, docs/findings.md).

Input: a `FindingsResult` (analyses/findings.py).
Output: text (per key: its findings, each with the principal class, actions, conditions, granting statements
and an example request, then the proof or the reason it is incomplete; a summary line), JSON and SARIF 2.1.0
(a result per finding, located on its first granting statement, and a note per key not proved complete).
Guarantee: a pure function of the result; spans in JSON are `shapes.span_json`, SARIF is `sarif.document`.
`statement_json` and `principal_json` are shared with the diff's renderer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reasoner.analyses.findings import (
    FINDING_EXTERNAL,
    FINDING_PUBLIC,
    FINDINGS_INCOMPLETE,
    Finding,
    FindingsResult,
    PrincipalClass,
    StatementRef,
)
from reasoner.analyses.result import Verdict
from reasoner.face.render import sarif
from reasoner.face.render.shapes import request_json, span_json
from reasoner.semantics.request import Request
from reasoner.source import Span

__all__ = ["finding_json", "render", "render_json", "render_sarif", "render_text", "result_json"]


# ---- text ------------------------------------------------------------------------------------------------


def request_text(r: Request) -> str:
    ctx = " ".join(f"{k}={','.join(v)}" for k, v in sorted(r.context.items()))
    return f"{r.principal} {r.action} {r.resource}" + (f" [{ctx}]" if ctx else "")


def finding_text(f: Finding, indent: str = "  ") -> list[str]:
    head = "PUBLIC" if f.public else "external"
    lines = [f"{indent}{head}: {f.principal} can {', '.join(f.actions)}"]
    if f.conditions:
        lines.append(f"{indent}  when " + " and ".join(str(c) for c in f.conditions))
    for s in f.statements:
        lines.append(f"{indent}  granted by {s.span.file}:{s.span.line}:{s.span.col} `{s.label}`")
    lines.append(f"{indent}  e.g. {request_text(f.example)} -> {f.evaluation.decision.value}")
    return lines


def render_text(result: FindingsResult) -> str:
    lines: list[str] = []
    for k in result.keys:
        verdict = "complete (PROVED)" if k.complete is Verdict.PROVED else f"INCOMPLETE ({k.reason})"
        kind = "" if k.resource_type == "AWS::KMS::Key" else f" ({k.resource_type})"
        lines.append(f"{k.key}{kind}: {len(k.findings)} finding(s), {verdict}, {k.queries} queries, "
                     f"{k.seconds:.2f} s")
        for f in k.findings:
            lines += finding_text(f)
        if k.complete is Verdict.PROVED:
            lines.append(f"  proof: {k.proof}")
    n = len(result.findings)
    keys = sum(k.resource_type == "AWS::KMS::Key" for k in result.keys)
    others = len(result.keys) - keys
    where = f"{keys} key(s)" + (f" and {others} other resource(s)" if others else "")
    lines.append(
        f"{n} finding(s) on {where}, {sum(f.public for f in result.findings)} public, "
        f"{result.seconds:.2f} s"
    )
    return "\n".join(lines) + "\n"


# ---- JSON ------------------------------------------------------------------------------------------------


def principal_json(pc: PrincipalClass) -> dict[str, Any]:
    return {"kind": pc.kind, "value": pc.value}


def statement_json(s: StatementRef) -> dict[str, Any]:
    return {"policy": s.policy, "index": s.index, "label": s.label, "span": span_json(s.span)}


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "principal": principal_json(f.principal),
        "actions": list(f.actions),
        "conditions": [
            {"operator": c.operator, "key": c.key, "values": list(c.values), "restricting": c.restricting}
            for c in f.conditions
        ],
        "public": f.public,
        "any_principal_verified": f.any_verified,
        "public_example": request_json(f.public_example) if f.public_example is not None else None,
        "statements": [statement_json(s) for s in f.statements],
        "example": request_json(f.example),
        "example_decision": f.evaluation.decision.value,
    }


def result_json(result: FindingsResult) -> dict[str, Any]:
    return {
        "zone_of_trust": list(result.zone),
        "include_services": result.include_services,
        "seconds": round(result.seconds, 4),
        "keys": [
            {
                "key": k.key,
                "resource_type": k.resource_type,
                "account": k.account,
                "complete": k.complete.value,
                "proof": k.proof,
                "reason": k.reason,
                "queries": k.queries,
                "seconds": round(k.seconds, 4),
                "external": k.external,
                "public": k.public,
                "findings": [finding_json(f) for f in k.findings],
            }
            for k in result.keys
        ],
    }


def render_json(result: FindingsResult) -> str:
    return json.dumps(result_json(result), indent=2) + "\n"


# ---- SARIF -----------------------------------------------------------------------------------------------


def render_sarif(result: FindingsResult, *, base_dir: str | Path | None = None) -> str:
    base = sarif.base_dir(base_dir)
    results: list[dict[str, Any]] = []
    for k in result.keys:
        for f in k.findings:
            msg = (
                f"{'public' if f.public else 'external'} access to {k.key}: {f.principal} can "
                f"{', '.join(f.actions)}"
                + (f" when {' and '.join(str(c) for c in f.conditions)}" if f.conditions else "")
            )
            span: Span | None = f.statements[0].span if f.statements else None
            results.append(sarif.result(f.code, "error" if f.public else "warning", msg, span, base))
        if k.complete is not Verdict.PROVED:
            msg = f"findings for {k.key} are not proved complete: {k.reason}"
            results.append(sarif.result(FINDINGS_INCOMPLETE, "note", msg, None, base))
    return sarif.document(sarif.code_rules((FINDING_EXTERNAL, FINDING_PUBLIC, FINDINGS_INCOMPLETE)), results)


def render(fmt: str, result: FindingsResult, **kwargs: Any) -> str:
    if fmt == "json":
        return render_json(result)
    if fmt == "sarif":
        return render_sarif(result, **kwargs)
    return render_text(result)
