"""HTML of results: fragments for notebooks (`_repr_html_` of the API's results) and one self-contained page
(`reasoner report`).

Input: check `Report`s, a `FindingsResult`, a `DiffResult`, a `HygieneResult`, an `Evaluation` (decide), and
the policy files their spans name (read from disk; a file that cannot be read is shown as its location only).
Output: `findings_html`, `diff_html`, `lint_html`, `checks_html`, `decision_html` (fragments) and `page` (a
whole document with every section given).
Guarantee: every piece of user text is escaped; each responsible or granting statement is shown inside the
text of its policy with its lines marked (`<mark class="stmt">`, with `data-file` and `data-line`), so a reader
sees the statement in context; a page loads nothing at view time (its CSS and script are inline, it has no
`src`, no `<link>`, no `url(`, no `@import`), so it opens offline and from a CI artifact; its one control
("show only what fails", also set by opening the page at `#only-failing`) hides what passes; verdicts keep their
three values (PROVED, REFUTED, UNKNOWN) and their colours everywhere.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from reasoner.analyses.result import Verdict
from reasoner.face.report import Report
from reasoner.source import Span
from reasoner.version import __version__

if TYPE_CHECKING:
    from reasoner.analyses.diff import DiffResult
    from reasoner.analyses.findings import FindingsResult, StatementRef
    from reasoner.analyses.hygiene import HygieneResult
    from reasoner.face.accepted import Triage
    from reasoner.semantics.request import Evaluation, Request

__all__ = ["Section", "checks_html", "decision_html", "diff_html", "findings_html", "lint_html", "page",
           "policy_html"]

e = html.escape

#: Lines of policy text shown around a statement (a policy longer than the window is cut around it).
CONTEXT_LINES = 6
MAX_LINES = 120

CSS = """
:root { --ok: #1a7f37; --bad: #cf222e; --unknown: #9a6700; --muted: #57606a; --line: #d0d7de; --mark: #fff8c5; }
body { font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #1f2328; }
header { background: #24292f; color: #fff; padding: 16px 24px; }
header h1 { margin: 0; font-size: 20px; } header p { margin: 4px 0 0; color: #d0d7de; }
nav { padding: 8px 24px; border-bottom: 1px solid var(--line); display: flex; gap: 16px; flex-wrap: wrap; }
nav a { color: #0969da; text-decoration: none; }
main { padding: 0 24px 24px; max-width: 1200px; }
section { margin-top: 24px; } h2 { border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.item { border: 1px solid var(--line); border-radius: 6px; margin: 12px 0; padding: 8px 12px; }
.item.bad { border-left: 4px solid var(--bad); } .item.ok { border-left: 4px solid var(--ok); }
.item.unknown { border-left: 4px solid var(--unknown); } .item.accepted { opacity: .75; }
.badge { display: inline-block; font-weight: 600; font-size: 12px; padding: 0 6px; border-radius: 10px;
         color: #fff; margin-right: 6px; }
.badge.PROVED, .badge.ok { background: var(--ok); } .badge.REFUTED, .badge.bad { background: var(--bad); }
.badge.UNKNOWN, .badge.unknown { background: var(--unknown); }
table { border-collapse: collapse; margin: 6px 0; } td, th { border: 1px solid var(--line); padding: 2px 8px;
  text-align: left; vertical-align: top; } th { background: #f6f8fa; }
code, pre { font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre.policy { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 8px 0; overflow-x: auto; }
pre.policy .ln { display: inline-block; width: 3.5em; color: var(--muted); text-align: right; padding-right: 8px;
  user-select: none; }
pre.policy mark.stmt { background: var(--mark); display: inline-block; min-width: 100%;
  box-shadow: inset 3px 0 0 var(--bad); }
.where { color: var(--muted); font-size: 12px; } .summary { font-weight: 600; }
.controls { margin: 8px 0; } .hidden { display: none; }
"""

SCRIPT = """
document.addEventListener('DOMContentLoaded', function () {
  var box = document.getElementById('only-failing');
  if (!box) { return; }
  function apply() {
    document.querySelectorAll('.item.ok, .item.accepted').forEach(function (el) {
      el.classList.toggle('hidden', box.checked);
    });
  }
  box.addEventListener('change', apply);
  if (window.location.hash === '#only-failing') { box.checked = true; apply(); }
});
"""


# ---- policy text with the statement marked ------------------------------------------------------------------


@lru_cache(maxsize=128)
def _lines(path: str, mtime: float) -> tuple[str, ...] | None:
    try:
        return tuple(Path(path).read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _read(path: str, bases: Sequence[str]) -> tuple[str, ...] | None:
    for candidate in (path, *(os.path.join(b, path) for b in bases if b)):
        try:
            if os.path.isfile(candidate):
                return _lines(candidate, os.path.getmtime(candidate))
        except (OSError, ValueError):
            continue
    return None


def policy_html(spans: Sequence[Span], *, bases: Sequence[str] = ()) -> str:
    """The text of the policy file of `spans` (all in one file), lines numbered, the lines of each span marked;
    only the location when the file cannot be read."""
    if not spans:
        return ""
    file = spans[0].file
    lines = _read(file, bases)
    where = ", ".join(f"{s.file}:{s.line}:{s.col}" for s in spans)
    if lines is None:
        return f'<p class="where">{e(where)} (policy text not available)</p>'
    marked = {n for s in spans for n in range(s.line, s.end_line + 1)}
    first = max(1, min(s.line for s in spans) - CONTEXT_LINES) if len(lines) > MAX_LINES else 1
    last = min(len(lines), max(s.end_line for s in spans) + CONTEXT_LINES) if len(lines) > MAX_LINES else len(lines)
    out = [f'<p class="where">{e(file)}</p><pre class="policy">']
    if first > 1:
        out.append('<span class="ln">…</span>\n')
    for n in range(first, last + 1):
        text = e(lines[n - 1]) if n <= len(lines) else ""
        body = f'<span class="ln">{n}</span>{text}'
        if n in marked:
            body = f'<mark class="stmt" data-file="{e(file)}" data-line="{n}">{body}</mark>'
        out.append(body + "\n")
    if last < len(lines):
        out.append('<span class="ln">…</span>\n')
    out.append("</pre>")
    return "".join(out)


def _statements_html(spans: Iterable[Span | None], bases: Sequence[str] = ()) -> str:
    """The policies of `spans`, one block per file, each statement marked."""
    by_file: dict[str, list[Span]] = {}
    for s in spans:
        if s is not None:
            by_file.setdefault(s.file, []).append(s)
    return "".join(policy_html(group, bases=bases) for group in by_file.values())


def _request_table(request: Request, title: str = "request") -> str:
    rows = [("principal", request.principal), ("action", request.action), ("resource", request.resource)]
    rows += [(f"context {k}", ", ".join(v)) for k, v in sorted(request.context.items())]
    return (f"<table><tr><th>{e(title)}</th><th>value</th></tr>"
            + "".join(f"<tr><td>{e(k)}</td><td><code>{e(v)}</code></td></tr>" for k, v in rows) + "</table>")


def _refs(statements: Iterable[StatementRef]) -> list[Span]:
    return [s.span for s in statements]


# ---- fragments ------------------------------------------------------------------------------------------------


def _accepted(item: object, triage: Triage | None) -> tuple[str, str]:
    """The extra class and the note of an accepted item, or of one in the baseline."""
    if triage is None:
        return "", ""
    why = triage.suppression(item)  # type: ignore[arg-type]
    if why is not None:
        return " accepted", f'<p class="where">accepted: {e(why.justification)} ({e(why.where)})</p>'
    if triage.baseline_state(item) == "unchanged":  # type: ignore[arg-type]
        return " accepted", '<p class="where">in the baseline</p>'
    return "", ""


def checks_html(reports: Sequence[Report], triage: Triage | None = None, *, bases: Sequence[str] = ()) -> str:
    """One block per assertion: verdict, name, place, property; under a refuted one the counterexample and the
    responsible statements in their policies; under an unknown one the reason."""
    from reasoner.face.render.results import describe_property, seconds_text

    out = []
    for rep in reports:
        r = rep.result
        state = {Verdict.PROVED: "ok", Verdict.REFUTED: "bad", Verdict.UNKNOWN: "unknown"}[r.verdict]
        where = f'<span class="where">{e(str(rep.location))}</span>' if rep.location else ""
        extra, note = _accepted(rep, triage) if r.verdict is Verdict.REFUTED else ("", "")
        body = [f'<div class="item {state}{extra}" data-verdict="{r.verdict.value}">', note,
                f'<p><span class="badge {r.verdict.value}">{r.verdict.value}</span><strong>{e(rep.name)}</strong> '
                f"({e(seconds_text(r.seconds))}) {where}</p>",
                f"<p>Property: <code>{e(describe_property(r.property))}</code></p>"]
        if r.verdict is Verdict.UNKNOWN:
            body.append(f"<p>Reason: {e(str(r.reason))}" + (" (allowed)" if rep.allow_unknown else "") + "</p>")
        if r.counterexample is not None:
            body.append(_request_table(r.counterexample, "counterexample"))
            if r.evaluation is not None:
                body.append(f"<p>Decision: <strong>{e(r.evaluation.decision.value)}</strong></p>")
            if r.chain:  # an `eventually` claim refuted by a chain (issue 18)
                from reasoner.face.render.chains import chain_html

                body.append(chain_html(r.chain, r.counterexample))
                body.append(_statements_html((x.span for s in r.chain for x in s.evaluation.reasons), bases))
            if r.responsible:
                body.append("<p>Responsible statements:</p><ul>"
                            + "".join(f"<li><code>{e(x.role)} {e(x.label)}</code>"
                                      + (f" ({e(x.kind.value)} policy)" if x.kind else "") + "</li>"
                                      for x in r.responsible) + "</ul>")
                body.append(_statements_html((x.span for x in r.responsible), bases))
        body.append("</div>")
        out.append("".join(body))
    return "".join(out)


def findings_html(result: FindingsResult, triage: Triage | None = None, *, bases: Sequence[str] = ()) -> str:
    """Per key: whether the list is proved complete, then each finding with its granting statements marked."""
    out = []
    for k in result.keys:
        complete = k.complete is Verdict.PROVED
        out.append(f'<h3><code>{e(k.key)}</code></h3><p><span class="badge {"PROVED" if complete else "UNKNOWN"}">'
                   f'{"complete" if complete else "INCOMPLETE"}</span>{len(k.findings)} finding(s)'
                   + ("" if complete else f": {e(str(k.reason))}") + "</p>")
        for f in k.findings:
            kind = "PUBLIC" if f.public else "external"
            conditions = " and ".join(str(c) for c in f.conditions)
            extra, note = _accepted(f, triage)
            out.append(f'<div class="item bad{extra}" data-code="{e(f.code)}">{note}'
                       f'<p><span class="badge bad">{kind}</span>'
                       f"<strong>{e(str(f.principal))}</strong> can <code>{e(', '.join(f.actions))}</code>"
                       + (f" when <code>{e(conditions)}</code>" if conditions else "") + "</p>"
                       + _request_table(f.example, "example")
                       + "<p>Granted by: " + ", ".join(f"<code>{e(s.label)}</code>" for s in f.statements) + "</p>"
                       + _statements_html(_refs(f.statements), bases) + "</div>")
    n = len(result.findings)
    out.append(f'<p class="summary">{n} finding(s) on {len(result.keys)} key(s), '
               f"{sum(f.public for f in result.findings)} public</p>")
    return "".join(out)


def diff_html(result: DiffResult, *, bases: Sequence[str] = ()) -> str:
    """PROVED equivalent, or each class of access added or removed with its granting statements marked."""
    if result.verdict is Verdict.PROVED:
        return ('<div class="item ok"><p><span class="badge PROVED">PROVED</span>equivalent: both allow exactly '
                "the same requests</p></div>")
    out = []
    for c in (*result.added, *result.removed):
        verb = "can now" if c.direction == "added" else "can no longer"
        out.append(f'<div class="item {"bad" if c.direction == "added" else "unknown"}">'
                   f'<p><span class="badge {"bad" if c.direction == "added" else "unknown"}">{e(c.direction)}</span>'
                   f"<strong>{e(str(c.principal))}</strong> {verb} <code>{e(', '.join(c.actions))}</code> on "
                   f"<code>{e(c.key)}</code></p>" + _request_table(c.example, "example")
                   + _statements_html(_refs(c.statements), bases) + "</div>")
    if result.verdict is Verdict.UNKNOWN:
        out.append(f'<div class="item unknown"><p><span class="badge UNKNOWN">UNKNOWN</span>not proved complete: '
                   f"{e(str(result.reason))}</p></div>")
    out.append(f'<p class="summary">{len(result.added)} class(es) added, {len(result.removed)} removed</p>')
    return "".join(out)


def lint_html(result: HygieneResult, triage: Triage | None = None, *, bases: Sequence[str] = ()) -> str:
    """Each issue and undecided check, its statement marked in its policy."""
    out = []
    for i in (*result.issues, *result.undecided):
        state = "unknown" if i in result.undecided else "bad"
        extra, note = _accepted(i, triage) if i in result.issues else ("", "")
        out.append(f'<div class="item {state}{extra}" data-code="{e(i.code)}">{note}<p><span class="badge {state}">'
                   f"{e(i.code)}</span>{e(i.severity.value)}: {e(i.message)}</p>"
                   + (f'<p class="where">{e(i.proof)}</p>' if i.proof else "")
                   + _statements_html([i.span], bases) + "</div>")
    if not out:
        out.append('<div class="item ok"><p><span class="badge ok">clean</span>no issue</p></div>')
    out.append(f'<p class="summary">{len(result.issues)} issue(s), {len(result.undecided)} undecided, '
               f"{result.checks} check(s)</p>")
    return "".join(out)


def decision_html(evaluation: Evaluation, *, bases: Sequence[str] = ()) -> str:
    """The decision on one request, the request, and the statements behind it marked in their policies."""
    allowed = evaluation.decision.allowed
    reasons = "".join(f"<li><code>{e(str(r))}</code></li>" for r in evaluation.reasons)
    return (f'<div class="item {"ok" if allowed else "bad"}"><p><span class="badge {"ok" if allowed else "bad"}">'
            f"{e(evaluation.decision.value)}</span></p>" + _request_table(evaluation.request)
            + (f"<ul>{reasons}</ul>" if reasons else "")
            + _statements_html((r.span for r in evaluation.reasons), bases) + "</div>")


# ---- the page ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One part of a page: an anchor, a title, a one-line status and its HTML."""

    anchor: str
    title: str
    status: str
    body: str


def page(title: str, sections: Sequence[Section], *, subtitle: str = "") -> str:
    """A self-contained HTML document (module docstring) with a table of contents and `sections`."""
    nav = "".join(f'<a href="#{e(s.anchor)}">{e(s.title)}: {e(s.status)}</a>' for s in sections)
    body = "".join(f'<section id="{e(s.anchor)}"><h2>{e(s.title)}</h2><p class="summary">{e(s.status)}</p>'
                   f"{s.body}</section>" for s in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{e(title)}</title><style>{CSS}</style><script>{SCRIPT}</script></head><body>"
            f"<header><h1>{e(title)}</h1><p>{e(subtitle)} · reasoner {e(__version__)}</p></header>"
            f"<nav>{nav}</nav><main><div class=\"controls\"><label><input type=\"checkbox\" id=\"only-failing\"> "
            f"show only what fails</label></div>{body}</main></body></html>\n")
