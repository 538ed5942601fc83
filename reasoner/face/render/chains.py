"""Rendering of chains: the steps that refute an `eventually` claim, as a numbered path.

Input: a `CheckResult` whose `chain` holds the steps before its counterexample (`analyses/eventually.py`), or
an escalation path of findings (`analyses/escalation.py`: the same steps and access).
Output: text lines (`1. PRINCIPAL calls ACTION on RESOURCE: what it did`, under each the statements that
allowed it as `file:line:col`, then the access as the last numbered step), JSON, Markdown and HTML forms.
Guarantee: pure functions of the values; a chain is printed in the order it was replayed, each step with the
statements of its own replayed evaluation (never those of another step); nothing is printed for an empty
chain.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from reasoner.analyses.result import ChainStep
from reasoner.face.render.shapes import request_json, span_json
from reasoner.semantics.request import Evaluation, Reason, Request


def _reason_text(reason: Reason) -> str:
    where = f"{reason.span}: " if reason.span else (f"{reason.policy}: " if reason.policy else "")
    kind = f" ({reason.kind.value} policy)" if reason.kind is not None else ""
    note = f" - {reason.note}" if reason.note else ""
    return f"{where}{reason.role} {reason.label}{kind}{note}"


def _request_text(request: Request) -> str:
    return f"{request.principal} calls {request.action} on {request.resource}"


def _context_text(request: Request) -> list[str]:
    out = []
    for key in sorted(request.context, key=str.lower):
        values = tuple(request.context[key])
        out.append(f"{key} = {values[0] if len(values) == 1 else '[' + ', '.join(values) + ']'}")
    return out


def _allowing(evaluation: Evaluation) -> list[Reason]:
    """The reasons that let a step's request in (its allow statements and the rules), in evaluation order."""
    return [r for r in evaluation.reasons if r.role in ("allow", "rule")]


def chain_lines(steps: Sequence[ChainStep], access: Request | None, access_evaluation: Evaluation | None,
                indent: str = "  ") -> list[str]:
    """The numbered path: each step with its context and the statements that allowed it, then the access."""
    if not steps:
        return []
    n = len(steps)
    out = [f"{indent}chain of {n} step{'s' if n != 1 else ''}, each replayed in the environment the steps before "
           "it left:"]
    for i, step in enumerate(steps, 1):
        out.append(f"{indent}  {i}. {_request_text(step.request)}: {step.effect}")
        out.extend(f"{indent}       {c}" for c in _context_text(step.request))
        for reason in _allowing(step.evaluation):
            out.append(f"{indent}       {_reason_text(reason)}")
        for ev in step.also:
            out.append(f"{indent}       and {_request_text(ev.request)}: {ev.decision.value}")
            out.extend(f"{indent}         {_reason_text(r)}" for r in _allowing(ev))
    if access is not None:
        decision = f": {access_evaluation.decision.value}" if access_evaluation is not None else ""
        out.append(f"{indent}  {n + 1}. {_request_text(access)}{decision} (the access)")
    return out


def _evaluation_json(ev: Evaluation) -> dict[str, Any]:
    return {"request": request_json(ev.request), "decision": ev.decision.value,
            "responsible": [_reason_json(r) for r in ev.reasons]}


def _reason_json(r: Reason) -> dict[str, Any]:
    return {"policy": r.policy, "kind": r.kind.value if r.kind is not None else None, "statement": r.statement,
            "label": r.label, "effect": r.effect.value if r.effect is not None else None,
            "span": span_json(r.span) if r.span is not None else None, "role": r.role, "note": r.note}


def chain_json(steps: Sequence[ChainStep]) -> list[dict[str, Any]]:
    """One object per step: its number, request, decision, effect, responsible statements and side requests."""
    return [{"step": i, **_evaluation_json(s.evaluation), "effect": s.effect,
             "also": [_evaluation_json(ev) for ev in s.also]} for i, s in enumerate(steps, 1)]


def chain_markdown(steps: Sequence[ChainStep], access: Request | None) -> list[str]:
    if not steps:
        return []
    out = ["", "Chain (each step replayed in the environment the steps before it left):", ""]
    for i, s in enumerate(steps, 1):
        out.append(f"{i}. `{_request_text(s.request)}`: {s.effect}")
        out.extend(f"   - {_reason_text(r)}" for r in _allowing(s.evaluation))
    if access is not None:
        out.append(f"{len(steps) + 1}. `{_request_text(access)}` (the access)")
    return out


def chain_html(steps: Sequence[ChainStep], access: Request | None) -> str:
    if not steps:
        return ""
    e = html.escape
    parts = ["<p>Chain (each step replayed in the environment the steps before it left):</p><ol>"]
    for s in steps:
        reasons = "".join(f"<li><code>{e(_reason_text(r))}</code></li>" for r in _allowing(s.evaluation))
        parts.append(f"<li><code>{e(_request_text(s.request))}</code>: {e(s.effect)}"
                     + (f"<ul>{reasons}</ul>" if reasons else "") + "</li>")
    if access is not None:
        parts.append(f"<li><code>{e(_request_text(access))}</code> (the access)</li>")
    parts.append("</ol>")
    return "".join(parts)


def chain_spans(steps: Sequence[ChainStep]) -> list[tuple[Any, str]]:
    """The statements behind each step, as (span, message) pairs for SARIF related locations."""
    out = []
    for i, s in enumerate(steps, 1):
        for r in _allowing(s.evaluation):
            if r.span is not None:
                out.append((r.span, f"step {i}: {r.role} {r.label}"))
    return out


__all__ = ["chain_html", "chain_json", "chain_lines", "chain_markdown", "chain_spans"]
