"""Markdown of the API's results, for notebooks (`_repr_markdown_`) and pull-request comments.

Input: a `FindingsResult`, `DiffResult`, `HygieneResult` or `Evaluation` (decide).
Output: `findings_markdown`, `diff_markdown`, `lint_markdown`, `decision_markdown`: a bold headline with the
outcome, then a table (one row per finding, class of access, issue or reason), then the closing summary.
Guarantee: a pure function of the result; table cells are escaped (`|` and backticks), so any policy text
keeps the table whole; UNKNOWN and incomplete results are said so in the headline, never shown as clean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reasoner.analyses.result import Verdict

if TYPE_CHECKING:
    from reasoner.analyses.diff import DiffResult
    from reasoner.analyses.findings import FindingsResult
    from reasoner.analyses.hygiene import HygieneResult
    from reasoner.semantics.request import Evaluation

__all__ = ["decision_markdown", "diff_markdown", "findings_markdown", "lint_markdown"]


def _cell(text: str) -> str:
    body = text.replace("|", "\\|").replace("\n", " ")
    return f"`` {body} ``" if "`" in body else f"`{body}`" if body else ""


def findings_markdown(result: FindingsResult) -> str:
    incomplete = [k for k in result.keys if k.complete is not Verdict.PROVED]
    n = len(result.findings)
    head = ("**EXTERNAL ACCESS**" if n else "**NO EXTERNAL ACCESS**") + f": {n} finding(s) on {len(result.keys)} key(s)"
    if incomplete:
        head += f", {len(incomplete)} key(s) INCOMPLETE (not proved)"
    lines = [head, ""]
    if n:
        lines += ["| key | kind | principal | actions | conditions | granted by |", "|---|---|---|---|---|---|"]
        for f in result.findings:
            where = ", ".join(f"{s.label} ({s.span.file}:{s.span.line})" for s in f.statements)
            lines.append(f"| {_cell(f.key)} | {'PUBLIC' if f.public else 'external'} | {_cell(str(f.principal))} | "
                         f"{_cell(', '.join(f.actions))} | {_cell(' and '.join(str(c) for c in f.conditions))} | "
                         f"{_cell(where)} |")
    for k in incomplete:
        lines += ["", f"- {_cell(k.key)}: not proved complete: {k.reason}"]
    return "\n".join(lines) + "\n"


def diff_markdown(result: DiffResult) -> str:
    if result.verdict is Verdict.PROVED:
        return f"**PROVED equivalent**: both allow exactly the same requests ({result.queries} solver queries)\n"
    head = "**DIFFERENT**" if result.verdict is Verdict.REFUTED else "**UNKNOWN**"
    lines = [f"{head}: {len(result.added)} class(es) added, {len(result.removed)} removed"
             + (f" ({result.reason})" if result.reason else ""), ""]
    changes = (*result.added, *result.removed)
    if changes:
        lines += ["| change | principal | actions | key | statements |", "|---|---|---|---|---|"]
        for c in changes:
            where = ", ".join(f"{s.label} ({s.span.file}:{s.span.line})" for s in c.statements)
            lines.append(f"| {'+ added' if c.direction == 'added' else '- removed'} | {_cell(str(c.principal))} | "
                         f"{_cell(', '.join(c.actions))} | {_cell(c.key)} | {_cell(where)} |")
    return "\n".join(lines) + "\n"


def lint_markdown(result: HygieneResult) -> str:
    items = (*result.issues, *result.undecided)
    head = f"**{len(result.issues)} ISSUE(S)**" if result.issues else "**CLEAN**"
    if result.undecided:
        head += f", {len(result.undecided)} UNDECIDED"
    lines = [f"{head}: {result.checks} check(s)", ""]
    if items:
        lines += ["| code | severity | where | message |", "|---|---|---|---|"]
        lines += [f"| {i.code} | {i.severity.value} | {_cell(str(i.span))} | {_cell(i.message)} |" for i in items]
    return "\n".join(lines) + "\n"


def decision_markdown(evaluation: Evaluation) -> str:
    r = evaluation.request
    lines = [f"**{evaluation.decision.value}**: {_cell(r.principal)} calls {_cell(r.action)} on {_cell(r.resource)}",
             ""]
    if evaluation.reasons:
        lines += ["| role | statement | policy | where |", "|---|---|---|---|"]
        lines += [f"| {x.role} | {_cell(x.label)} | {_cell(x.policy)} | {_cell(str(x.span) if x.span else '')} |"
                  for x in evaluation.reasons]
    return "\n".join(lines) + "\n"
