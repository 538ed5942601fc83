"""Rendering of external-access findings (`reasoner findings`, docs/findings.md).

Input: a `FindingsResult` (analyses/findings.py).
Output: text (per key: its findings, each with the principal class, actions, conditions, granting statements
and an example request, then the proof or the reason it is incomplete; a summary line), JSON, SARIF 2.1.0
(a result per finding, located on its granting statements, and a note per key not proved complete), JUnit XML
(a test case per key, failed by its findings) and GitHub workflow annotations.
Guarantee: a pure function of the result (and of the `Triage` when accepted findings or a baseline are given:
accepted findings are suppressed in SARIF, marked in text and JSON, skipped in JUnit, notices in annotations);
spans in JSON are `shapes.span_json`, SARIF is `sarif.document`, JUnit and annotations are `ci.py`'s.
`statement_json` and `principal_json` are shared with the diff's renderer.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reasoner.analyses.findings import (
    FINDING_EXTERNAL,
    FINDING_PUBLIC,
    FINDINGS_INCOMPLETE,
    Finding,
    FindingsResult,
    KeyFindings,
    PrincipalClass,
    StatementRef,
)
from reasoner.analyses.result import Verdict
from reasoner.errors import Severity
from reasoner.face.exit import exit_status
from reasoner.face.identity import fingerprint
from reasoner.face.render import ci, sarif
from reasoner.face.render.chains import chain_json, chain_lines
from reasoner.face.render.shapes import request_json, span_json
from reasoner.semantics.request import Request

if TYPE_CHECKING:
    from reasoner.face.accepted import Triage  # (annotations only: YAML is loaded with --accepted)

__all__ = ["finding_json", "render", "render_github", "render_json", "render_junit", "render_sarif",
           "render_text", "result_json"]


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


def render_text(result: FindingsResult, triage: Triage | None = None) -> str:
    lines: list[str] = []
    for k in result.keys:
        verdict = "complete (PROVED)" if k.complete is Verdict.PROVED else f"INCOMPLETE ({k.reason})"
        kind = "" if k.resource_type == "AWS::KMS::Key" else f" ({k.resource_type})"
        lines.append(f"{k.key}{kind}: {len(k.findings)} finding(s), {verdict}, {k.queries} queries, "
                     f"{k.seconds:.2f} s")
        for f in k.findings:
            lines += finding_text(f)
            lines += ci.triage_lines(f, triage, "    ")
        if k.complete is Verdict.PROVED:
            lines.append(f"  proof: {k.proof}")
    n = len(result.findings)
    keys = sum(k.resource_type == "AWS::KMS::Key" for k in result.keys)
    others = len(result.keys) - keys
    where = f"{keys} key(s)" + (f" and {others} other resource(s)" if others else "")
    lines += escalation_lines(result)
    lines.append(
        f"{n} finding(s) on {where}, {sum(f.public for f in result.findings)} public, "
        f"{result.seconds:.2f} s"
    )
    lines += ci.triage_summary(result.findings, triage)
    return "\n".join(lines) + "\n"


def escalation_lines(result: FindingsResult) -> list[str]:
    """The escalation paths (`--escalation`): per path its resource, start principal and numbered chain."""
    if not result.escalations:
        return []
    out = ["escalation paths (principals outside the zone that reach a resource only through a chain):"]
    for p in result.escalations:
        if p.reason is not None:
            out.append(f"  {p.resource}: undecided: {p.reason}")
            continue
        out.append(f"  {p.resource}: from {p.start}, {len(p.chain)} step(s)")
        out += chain_lines(p.chain, p.access, p.evaluation, "    ")[1:]
    return out


def escalation_json(p: Any) -> dict[str, Any]:
    return {"resource": p.resource, "resource_type": p.resource_type, "start": p.start or None,
            "chain": chain_json(p.chain), "access": request_json(p.access) if p.access is not None else None,
            "decision": p.evaluation.decision.value if p.evaluation is not None else None, "reason": p.reason}


# ---- JSON ------------------------------------------------------------------------------------------------


def principal_json(pc: PrincipalClass) -> dict[str, Any]:
    return {"kind": pc.kind, "value": pc.value}


def statement_json(s: StatementRef) -> dict[str, Any]:
    """A statement behind a finding; `kind` "grant" for a grant of the key (`policy` is then the key's ARN and
    `index` the grant's position)."""
    return {"kind": s.kind, "policy": s.policy, "index": s.index, "label": s.label, "span": span_json(s.span)}


def finding_json(f: Finding, triage: Triage | None = None) -> dict[str, Any]:
    return {
        "code": f.code,
        "fingerprint": fingerprint(f),
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
        **ci.triage_json(f, triage),
    }


def result_json(result: FindingsResult, triage: Triage | None = None) -> dict[str, Any]:
    doc = {
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
                "findings": [finding_json(f, triage) for f in k.findings],
            }
            for k in result.keys
        ],
    }
    if result.escalations:
        doc["escalations"] = [escalation_json(p) for p in result.escalations]
    return {**doc, **ci.triage_doc(triage)}


def render_json(result: FindingsResult, triage: Triage | None = None) -> str:
    return json.dumps(result_json(result, triage), indent=2) + "\n"


# ---- SARIF -----------------------------------------------------------------------------------------------


def _message(k: KeyFindings, f: Finding) -> str:
    return (f"{'public' if f.public else 'external'} access to {k.key}: {f.principal} can {', '.join(f.actions)}"
            + (f" when {' and '.join(str(c) for c in f.conditions)}" if f.conditions else ""))


def render_sarif(result: FindingsResult, *, ctx: sarif.Context | None = None, triage: Triage | None = None,
                 notifications: Sequence[sarif.Notification] = ()) -> str:
    """A result per finding, on its granting statements (error if public, else warning); a note per key not
    proved complete, on the key's policy."""
    ctx = ctx or sarif.Context.at("findings")
    results: list[dict[str, Any]] = []
    for k in result.keys:
        for f in k.findings:
            results.append(sarif.result(
                f.code, "error" if f.public else "warning", _message(k, f), None, ctx,
                fingerprint=fingerprint(f), locations=[(s.span, f"`{s.label}` grants it") for s in f.statements],
                properties={"key": k.key, "principal": str(f.principal), "actions": list(f.actions),
                            "public": f.public, "example": request_json(f.example)},
                suppression=triage.suppression(f) if triage else None,
                baseline=triage.baseline_state(f) if triage else None))
        if k.complete is not Verdict.PROVED:
            msg = f"findings for {k.key} are not proved complete: {k.reason}"
            results.append(sarif.result(FINDINGS_INCOMPLETE, "note", msg, None, ctx,
                                        fingerprint=ci.digest("incomplete", k.key)))
    rules = [sarif.rule(c, severity=s) for c, s in ((FINDING_EXTERNAL, Severity.WARNING),
                                                     (FINDING_PUBLIC, Severity.ERROR),
                                                     (FINDINGS_INCOMPLETE, Severity.NOTE))]
    return sarif.document(rules, results, ctx, exit_code=int(exit_status(result, triage)),
                          notifications=[*notifications, *(triage.notifications() if triage else ())])


# ---- JUnit and annotations -----------------------------------------------------------------------------------


def render_junit(result: FindingsResult, triage: Triage | None = None) -> str:
    """A test case per key: failed by its findings that count, skipped when it is only incomplete."""
    cases = []
    for k in result.keys:
        counted = [f for f in k.findings if triage is None or triage.counts(f)]
        failure = "\n".join(line for f in counted for line in finding_text(f, "")) if counted else None
        skipped = None if k.complete is Verdict.PROVED else f"not proved complete: {k.reason}"
        cases.append(ci.Case(k.key, "reasoner.findings", k.seconds, failure=failure,
                             failure_type="EXTERNAL" if counted else None,
                             message=f"{len(counted)} finding(s)", unknown=skipped))
    return ci.junit("reasoner findings", cases)


def render_github(result: FindingsResult, triage: Triage | None = None) -> str:
    """`::error` per public finding, `::warning` per external one (`::notice` when accepted or in the
    baseline), on its first granting statement; `::warning` per key not proved complete; the summary line."""
    notes = []
    for k in result.keys:
        for f in k.findings:
            level = ("notice" if triage is not None and not triage.counts(f)
                     else "error" if f.public else "warning")
            span = f.statements[0].span if f.statements else None
            notes.append(ci.Annotation(level, f"{'PUBLIC' if f.public else 'external'}: {f.principal}",
                                       "\n".join(finding_text(f, "")), span))
        if k.complete is not Verdict.PROVED:
            notes.append(ci.Annotation("warning", f"INCOMPLETE: {k.key}", str(k.reason), None))
    return ci.annotate(notes, render_text(result).splitlines()[-1])


def render(fmt: str, result: FindingsResult, *, ctx: sarif.Context | None = None, triage: Triage | None = None,
           notifications: Sequence[sarif.Notification] = ()) -> str:
    return ci.by_format(fmt, sys.modules[__name__], result, ctx=ctx, triage=triage, notifications=notifications)
