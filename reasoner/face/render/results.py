"""Rendering of check results for people and machines.

Input: `CheckResult`s (from `pipeline.check`), each optionally wrapped in a `Report` that says which
assertion of which property file it answers.
Output: text (one line per assertion, details under refuted and unknown ones), JSON, SARIF 2.1.0 (results
located on the responsible policy statements), JUnit XML, GitHub workflow annotations, and the
`__repr__` / `_repr_markdown_` / `_repr_html_` forms of `CheckResult` in notebooks (installed with
`result.register_display` when this module is imported; the facade imports it with `reasoner.check`).
Guarantee: rendering is a pure function of the results (no solver, no environment); it never raises on any
well-formed result, including results without spans; every format reports every verdict, never folding
UNKNOWN into PROVED or REFUTED. The process exit status of a run is `exit.exit_status(reports)` (re-exported
here, with `Report`); JSON spans are `shapes.span_json`, SARIF is written by `sarif.document`.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from reasoner.analyses.properties import (
    ACCOUNT_PREFIX,
    AccessNotGranted,
    CanAccess,
    ContextCondition,
    Equivalent,
    Eventually,
    NoNewAccess,
    OnlyPrincipalsCan,
    PrincipalScope,
    ScopeKind,
)
from reasoner.analyses.result import CheckResult, Verdict, register_display
from reasoner.face.exit import exit_status
from reasoner.face.identity import fingerprint
from reasoner.face.render import ci, sarif
from reasoner.face.render.chains import chain_html, chain_json, chain_lines, chain_markdown, chain_spans
from reasoner.face.render.shapes import request_json, span_json
from reasoner.face.report import Report
from reasoner.semantics.environment import Environment
from reasoner.semantics.request import Reason, Request
from reasoner.source import SourceFile, Span
from reasoner.version import __version__

if TYPE_CHECKING:
    from reasoner.face.accepted import Triage


def as_report(item: Report | CheckResult) -> Report:
    if isinstance(item, Report):
        return item
    return Report(item, item.name or describe_property(item.property))


@dataclass(frozen=True)
class Summary:
    proved: int
    refuted: int
    unknown: int
    allowed_unknown: int
    seconds: float

    @property
    def total(self) -> int:
        return self.proved + self.refuted + self.unknown


def summarize(reports: Iterable[Report]) -> Summary:
    rs = list(reports)
    return Summary(
        proved=sum(r.verdict is Verdict.PROVED for r in rs),
        refuted=sum(r.verdict is Verdict.REFUTED for r in rs),
        unknown=sum(r.verdict is Verdict.UNKNOWN for r in rs),
        allowed_unknown=sum(r.verdict is Verdict.UNKNOWN and r.allow_unknown for r in rs),
        seconds=sum(r.result.seconds for r in rs),
    )


# ---- shared pieces -----------------------------------------------------------------------------------


def seconds_text(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def _list(values: Sequence[str]) -> str:
    if len(values) == 1:
        return values[0]
    return "[" + ", ".join(values) + "]"


def _actions(actions: Sequence[str]) -> str:
    return "any action" if tuple(actions) == ("*",) else _list(actions)


def _keys(resources: Sequence[str]) -> str:
    if tuple(resources) == ("*",):
        return ""
    return f" on key{'s' if len(resources) > 1 else ''} {_list(resources)}"


def _principal_words(principals: Iterable[str]) -> list[str]:
    """Principals as the property language writes them (`account:ID` is `account ID`)."""
    return [f"account {p[len(ACCOUNT_PREFIX):]}" if p.startswith(ACCOUNT_PREFIX) else p for p in principals]


def _conditions(when: Iterable[ContextCondition]) -> str:
    """The conditions of a claim as the property language writes them."""
    out = ""
    for c in when:
        word = "unless" if c.negated else "when"
        out += f" {word} {c.key} is {_list(c.values)}"
    return out


def _env_name(env: Environment) -> str:
    return f'"{env.source}"' if env.source else "the other environment"


def describe_property(prop: object) -> str:
    """The property in the words of the property language."""
    if isinstance(prop, Eventually):
        inner = describe_property(prop.claim)
        bound = "" if prop.max_steps is None else \
            f" within {prop.max_steps} step{'s' if prop.max_steps != 1 else ''}"
        return inner.replace(" can ", " can eventually ", 1) + bound
    if isinstance(prop, AccessNotGranted):
        sc = prop.scope
        if sc.kind is ScopeKind.ANY:
            who = "no principal"
        elif sc.kind is ScopeKind.OUTSIDE_ACCOUNTS:
            who = f"no principal outside account{'s' if len(sc.values) > 1 else ''} {_list(sc.values)}"
        elif sc.kind is ScopeKind.OUTSIDE_ORGANIZATIONS:
            plural = "s" if len(sc.values) > 1 else ""
            who = f"no principal outside organization{plural} {_list(sc.values)}"
        else:
            who = f"none of {_list(_principal_words(sc.values))}"
        return f"{who} can {_actions(prop.actions)}{_keys(prop.resources)}{_conditions(prop.when)}"
    if isinstance(prop, OnlyPrincipalsCan):
        return (f"only {_list(_principal_words(prop.principals))} can {_actions(prop.actions)}"
                f"{_keys(prop.resources)}{_conditions(prop.when)}")
    if isinstance(prop, CanAccess):
        return f"{prop.principal} can {_actions(prop.actions)}{_keys(prop.resources)}"
    if isinstance(prop, NoNewAccess | Equivalent):
        verb = "grants no new access over" if isinstance(prop, NoNewAccess) else "is equivalent to"
        scope = "" if tuple(prop.actions) == ("*",) else f" for {_list(prop.actions)}"
        return f"this {verb} {_env_name(prop.old)}{scope}{_keys(prop.resources)}"
    return repr(prop)


def _context_items(context: Mapping[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    out = []
    for key in sorted(context, key=str.lower):
        values = tuple(context[key])
        out.append((key, values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"))
    return out


def describe_request(request: Request) -> str:
    return f"{request.principal} calls {request.action} on {request.resource}"


def describe_reason(reason: Reason) -> str:
    where = f"{reason.span}: " if reason.span else (f"{reason.policy}: " if reason.policy else "")
    kind = f" ({reason.kind.value} policy)" if reason.kind is not None else ""
    note = f" - {reason.note}" if reason.note else ""
    return f"{where}{reason.role} {reason.label}{kind}{note}"


def _headline(result: CheckResult) -> str:
    r = result
    if r.verdict is Verdict.REFUTED and r.counterexample is not None:
        return f"counterexample: {describe_request(r.counterexample)}"
    if r.verdict is Verdict.UNKNOWN:
        return f"unknown: {r.reason}"
    return "holds"


def _json_value(value: Any) -> Any:
    if isinstance(value, Environment):
        return {"environment": value.source}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Span):
        return span_json(value)
    if isinstance(value, SourceFile):
        return value.name
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json_value(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        items = [_json_value(v) for v in value]
        return sorted(items) if isinstance(value, frozenset | set) else items
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def property_json(prop: object) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(prop).__name__, "text": describe_property(prop)}
    if is_dataclass(prop) and not isinstance(prop, type):
        for f in fields(prop):
            value = getattr(prop, f.name)
            if isinstance(value, PrincipalScope):
                out[f.name] = {"kind": value.kind.value, "values": list(value.values)}
            elif f.name == "when" and not value:
                continue  # a claim without conditions reads as before they existed
            else:
                out[f.name] = _json_value(value)
    return out


# ---- text --------------------------------------------------------------------------------------------


def render_text(items: Iterable[Report | CheckResult], triage: Triage | None = None) -> str:
    """One line per assertion (`file:line:col: VERDICT "name" (time)`), details under the line for refuted
    and unknown ones, and a summary line (then, with a triage, what was accepted or in the baseline)."""
    reports = [as_report(i) for i in items]
    lines: list[str] = []
    for rep in reports:
        r = rep.result
        where = f"{rep.location}: " if rep.location else ""
        tail = ""
        if r.verdict is Verdict.UNKNOWN:
            tail = f": {r.reason}" + (" (allowed)" if rep.allow_unknown else "")
        lines.append(f'{where}{r.verdict.value} "{rep.name}" ({seconds_text(r.seconds)}){tail}')
        if r.verdict is Verdict.REFUTED and r.counterexample is not None:
            lines.extend(_refutation_lines(r))
            lines.extend(ci.triage_lines(rep, triage, "  "))
    s = summarize(reports)
    allowed = f" ({s.allowed_unknown} allowed)" if s.allowed_unknown else ""
    lines.append(f"{s.total} assertion{'s' if s.total != 1 else ''}: {s.proved} proved, {s.refuted} refuted, "
                 f"{s.unknown} unknown{allowed} in {seconds_text(s.seconds)}")
    lines += ci.triage_summary([r for r in reports if r.verdict is Verdict.REFUTED], triage)
    return "\n".join(lines) + "\n"


#: How the keys of `Request.assumed` read in text output.
_ASSUMED_NAMES = {"org": "organization of the caller's account", "orgpath": "its path under the organization",
                  "uid": "unique id of the caller", "rolepath": "path of the caller's role",
                  "region": "opt-in Region enabled by the caller's account",
                  "fedsource": "IAM user behind the federated user",
                  "keyorg": "organization of the key's owner account", "keyorgpath": "its path under the organization"}


def _refutation_lines(r: CheckResult, indent: str = "  ") -> list[str]:
    assert r.counterexample is not None
    cx = r.counterexample
    out = [f"{indent}counterexample: {describe_request(cx)}"]
    # the keys the caller controls (what the counterexample needs); AWS-derived keys are in the JSON output
    for key, value in _context_items(cx.context):
        out.append(f"{indent}  {key} = {value}")
    # keys AWS set for this request that the deciding statements read (e.g. kms:GrantIsForAWSResource)
    for key, value in _context_items(dict(r.derived)):
        out.append(f"{indent}  {key} = {value}  (set by AWS)")
    # what the counterexample assumes about a caller the environment does not describe
    for key, value in sorted(cx.assumed.items()):
        name = f"principal tag {key[4:]}" if key.startswith("tag:") else _ASSUMED_NAMES.get(key, key)
        out.append(f"{indent}  assuming {name} = {value}")
    if r.evaluation is not None:
        out.append(f"{indent}decision: {r.evaluation.decision.value}")
    out.extend(chain_lines(r.chain, cx, r.evaluation, indent))
    if r.responsible:
        out.append(f"{indent}responsible:")
        out.extend(f"{indent}  {describe_reason(reason)}" for reason in r.responsible)
    return out


# ---- JSON --------------------------------------------------------------------------------------------


def report_json(rep: Report, triage: Triage | None = None) -> dict[str, Any]:
    r = rep.result
    out: dict[str, Any] = {
        "name": rep.name,
        "fingerprint": fingerprint(rep),
        "verdict": r.verdict.value,
        "seconds": round(r.seconds, 6),
        "location": span_json(rep.location) if rep.location else None,
        "allow_unknown": rep.allow_unknown,
        "property": property_json(r.property),
        "counterexample": None,
        "decision": None,
        "responsible": [_json_value(x) for x in r.responsible],
        "reason": r.reason,
        "stats": {k: _json_value(v) for k, v in sorted(r.stats.items())},
    }
    if r.counterexample is not None:
        cx = r.counterexample
        out["counterexample"] = {**request_json(cx), "assumed": dict(sorted(cx.assumed.items())),
                                 "derived": {k: list(v) for k, v in r.derived}}
    if r.chain:
        out["chain"] = chain_json(r.chain)
    if r.evaluation is not None:
        out["decision"] = r.evaluation.decision.value
        out["evaluation_context"] = {k: list(v) for k, v in sorted(r.evaluation.context.items())}
    if r.verdict is Verdict.REFUTED:
        out.update(ci.triage_json(rep, triage))
    return out


def render_json(items: Iterable[Report | CheckResult], triage: Triage | None = None) -> str:
    reports = [as_report(i) for i in items]
    s = summarize(reports)
    doc = {
        "tool": {"name": "reasoner", "version": __version__},
        "summary": {"total": s.total, "proved": s.proved, "refuted": s.refuted, "unknown": s.unknown,
                    "allowed_unknown": s.allowed_unknown, "seconds": round(s.seconds, 6),
                    "exit_status": int(exit_status(reports, triage))},
        "results": [report_json(r, triage) for r in reports],
        **ci.triage_doc(triage),
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


# ---- SARIF 2.1.0 -------------------------------------------------------------------------------------

#: The property kinds and their rule ids (described in `rules.RULES`).
_RULES: tuple[tuple[str, str], ...] = (
    ("AccessNotGranted", "access-not-granted"), ("OnlyPrincipalsCan", "only-principals-can"),
    ("CanAccess", "can-access"), ("NoNewAccess", "no-new-access"), ("Equivalent", "equivalent"),
)


def render_sarif(items: Iterable[Report | CheckResult], *, ctx: sarif.Context | None = None,
                 triage: Triage | None = None, notifications: Sequence[sarif.Notification] = ()) -> str:
    """SARIF 2.1.0: one result per refuted or unknown assertion. A refuted result is located on its
    responsible policy statements (so code-scanning annotates the policy), with the assertion as a related
    location; an unknown one on the assertion. Proved assertions are counted in the run's properties."""
    ctx = ctx or sarif.Context.at("check")
    reports = [as_report(i) for i in items]
    rule_ids = dict(_RULES)
    rules = [sarif.rule(rid, level="error") for _, rid in _RULES]
    results: list[dict[str, Any]] = []
    for rep in reports:
        r = rep.result
        if r.verdict is Verdict.PROVED:
            continue
        # an `eventually` claim is reported under the rule of the claim it reads over chains
        cls = type(r.property.claim if isinstance(r.property, Eventually) else r.property).__name__
        related = [(rep.location, f"assertion \"{rep.name}\"")] if rep.location else []
        related += chain_spans(r.chain)
        if r.verdict is Verdict.REFUTED:
            assert r.counterexample is not None
            text = f"assertion \"{rep.name}\" is refuted: {describe_request(r.counterexample)}"
            if r.evaluation is not None:
                text += f" ({r.evaluation.decision.value})"
            locations: list[tuple[Span, str | None]] = [(x.span, f"{x.role} {x.label}")
                                                        for x in r.responsible if x.span]
            level = "error"
        else:
            text = f"assertion \"{rep.name}\" could not be decided: {r.reason}"
            locations = []
            level = "note" if rep.allow_unknown else "warning"
        if not locations and rep.location:
            locations = [(rep.location, None)]
        properties: dict[str, Any] = {"assertion": rep.name, "verdict": r.verdict.value,
                                      "seconds": round(r.seconds, 6), "property": describe_property(r.property)}
        if r.counterexample is not None:
            properties["counterexample"] = request_json(r.counterexample)
        results.append({"kind": "fail", **sarif.result(
            rule_ids.get(cls, cls), level, text, None, ctx, fingerprint=fingerprint(rep), related=related,
            locations=locations, properties=properties,
            suppression=triage.suppression(rep) if triage else None,
            baseline=triage.baseline_state(rep) if triage and r.verdict is Verdict.REFUTED else None)})
    s = summarize(reports)
    return sarif.document(rules, results, ctx, exit_code=int(exit_status(reports, triage)),
                          notifications=[*notifications, *(triage.notifications() if triage else ())],
                          properties={"proved": s.proved, "refuted": s.refuted, "unknown": s.unknown,
                                      "allowedUnknown": s.allowed_unknown})


# ---- JUnit XML ---------------------------------------------------------------------------------------


def render_junit(items: Iterable[Report | CheckResult], triage: Triage | None = None) -> str:
    """JUnit XML: a test suite per property file, a test case per assertion; refuted (unless accepted or in
    the baseline) and unknown (unless allowed) are failures; allowed unknowns and accepted refutations are
    skipped."""
    reports = [as_report(i) for i in items]
    by_file: dict[str, list[Report]] = {}
    for rep in reports:
        by_file.setdefault(rep.location.file if rep.location else "reasoner", []).append(rep)
    import xml.etree.ElementTree as ET  # (JUnit only: not loaded by the other formats)

    root = ET.Element("testsuites", {"name": "reasoner"})
    totals = [0, 0, 0]
    for file, reps in by_file.items():
        s = summarize(reps)
        failures = sum(r.failed and (triage is None or triage.counts(r) or r.verdict is Verdict.UNKNOWN)
                       for r in reps)
        accepted = sum(r.verdict is Verdict.REFUTED and triage is not None and not triage.counts(r) for r in reps)
        suite = ET.SubElement(root, "testsuite", {
            "name": file, "tests": str(len(reps)), "failures": str(failures), "errors": "0",
            "skipped": str(s.allowed_unknown + accepted), "time": f"{s.seconds:.3f}"})
        totals[0] += len(reps)
        totals[1] += failures
        totals[2] += s.allowed_unknown + accepted
        for rep in reps:
            r = rep.result
            attrs = {"classname": _classname(file), "name": rep.name, "time": f"{r.seconds:.3f}"}
            if rep.location:
                attrs["file"] = rep.location.file
                attrs["line"] = str(rep.location.line)
            case = ET.SubElement(suite, "testcase", attrs)
            if r.verdict is Verdict.REFUTED and triage is not None and not triage.counts(rep):
                why = triage.suppression(rep)
                ET.SubElement(case, "skipped", {"message": f"refuted, accepted: {why.justification}" if why
                                                else "refuted, in the baseline"})
            elif r.verdict is Verdict.REFUTED:
                failure = ET.SubElement(case, "failure", {"type": "REFUTED", "message": _headline(r)})
                failure.text = "\n".join([describe_property(r.property), *_refutation_lines(r, indent="")])
            elif r.verdict is Verdict.UNKNOWN and rep.allow_unknown:
                ET.SubElement(case, "skipped", {"message": f"unknown (allowed): {r.reason}"})
            elif r.verdict is Verdict.UNKNOWN:
                failure = ET.SubElement(case, "failure", {"type": "UNKNOWN", "message": _headline(r)})
                failure.text = f"{describe_property(r.property)}\n{r.reason}"
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", "0")
    root.set("skipped", str(totals[2]))
    root.set("time", f"{summarize(reports).seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _classname(file: str) -> str:
    stem = PurePath(file).with_suffix("").as_posix().strip("./")
    return "reasoner." + stem.replace("/", ".") if stem else "reasoner"


# ---- GitHub workflow annotations ---------------------------------------------------------------------


def render_github(items: Iterable[Report | CheckResult], triage: Triage | None = None) -> str:
    """`::error` per refuted assertion (on its first responsible statement, else on the assertion; `::notice`
    when accepted or in the baseline), `::warning` per unknown one (`::notice` if allowed), then the summary
    line."""
    reports = [as_report(i) for i in items]
    lines = []
    for rep in reports:
        r = rep.result
        if r.verdict is Verdict.PROVED:
            continue
        if r.verdict is Verdict.REFUTED:
            span = next((x.span for x in r.responsible if x.span), None) or rep.location
            body = "\n".join([describe_property(r.property), *_refutation_lines(r, indent="")])
            if rep.location:
                body += f"\nassertion at {rep.location}"
            command = "error" if triage is None or triage.counts(rep) else "notice"
        else:
            span = rep.location
            body = f"{describe_property(r.property)}\n{r.reason}"
            command = "notice" if rep.allow_unknown else "warning"
        lines.append(ci.annotation(ci.Annotation(command, f"{r.verdict.value}: {rep.name}", body, span)))
    lines.append(render_text(reports).splitlines()[-1])
    return "\n".join(lines) + "\n"


def render(fmt: str, items: Iterable[Report | CheckResult], *, ctx: sarif.Context | None = None,
           triage: Triage | None = None, notifications: Sequence[sarif.Notification] = ()) -> str:
    if fmt == "text":
        return render_text(items, triage)
    if fmt == "json":
        return render_json(items, triage)
    if fmt == "sarif":
        return render_sarif(items, ctx=ctx, triage=triage, notifications=notifications)
    if fmt == "junit":
        return render_junit(items, triage)
    if fmt == "github":
        return render_github(items, triage)
    raise ValueError(f"unknown format `{fmt}`")


# ---- notebook forms (registered with CheckResult at the end of this module) ------------------------------------------


@lru_cache(maxsize=64)
def _read_source(path: str, mtime: float) -> SourceFile | None:
    try:
        return SourceFile(path, Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def statement_snippet(span: Span | None, *, max_lines: int = 12) -> str:
    """The policy text of a statement (read from its file), with line numbers; "" when unavailable."""
    if span is None or not os.path.isfile(span.file):
        return ""
    source = _read_source(span.file, os.path.getmtime(span.file))
    if source is None:
        return ""
    last = min(span.end_line, span.line + max_lines - 1)
    width = len(str(last))
    lines = [f"{n:>{width}} | {source.line_text(n)}" for n in range(span.line, last + 1)]
    if last < span.end_line:
        lines.append(f"{'':>{width}} | ...")
    return "\n".join(lines)


def result_repr(result: CheckResult) -> str:
    """`CheckResult(REFUTED "name": counterexample ..., responsible [...], 12 ms)`."""
    name = f' "{result.name}"' if result.name else ""
    parts = [f"{result.verdict.value}{name}: {describe_property(result.property)}"]
    if result.counterexample is not None:
        parts.append(f"counterexample {describe_request(result.counterexample)}")
        ctx = _context_items(result.counterexample.context)
        if ctx:
            parts.append("context {" + ", ".join(f"{k}={v}" for k, v in ctx) + "}")
    if result.responsible:
        parts.append("responsible [" + "; ".join(describe_reason(x) for x in result.responsible) + "]")
    if result.reason:
        parts.append(f"reason {result.reason}")
    parts.append(seconds_text(result.seconds))
    return "CheckResult(" + ", ".join(parts) + ")"


def _table_rows(result: CheckResult) -> list[tuple[str, str]]:
    cx = result.counterexample
    if cx is None:
        return []
    rows = [("principal", cx.principal), ("action", cx.action), ("resource", cx.resource)]
    context = cx.context
    rows.extend((f"context {k}", v) for k, v in _context_items(context))
    if result.evaluation is not None:
        rows.append(("decision", result.evaluation.decision.value))
    return rows


def _md_code(text: str) -> str:
    return "`` " + text.replace("|", "\\|") + " ``" if "`" in text else "`" + text.replace("|", "\\|") + "`"


def result_markdown(result: CheckResult) -> str:
    title = f"**{result.verdict.value}**" + (f" — {result.name}" if result.name else "")
    lines = [f"{title} ({seconds_text(result.seconds)})", "",
             f"Property: {_md_code(describe_property(result.property))}"]
    if result.verdict is Verdict.UNKNOWN:
        lines += ["", f"Reason: {result.reason}"]
    rows = _table_rows(result)
    if rows:
        lines += ["", "| counterexample | value |", "|---|---|"]
        lines += [f"| {k} | {_md_code(v)} |" for k, v in rows]
    lines += chain_markdown(result.chain, result.counterexample)
    if result.responsible:
        lines += ["", "Responsible statements:", ""]
        for reason in result.responsible:
            lines.append(f"- {describe_reason(reason)}")
            snippet = statement_snippet(reason.span)
            if snippet:
                lines += ["", "  ```", *("  " + s for s in snippet.splitlines()), "  ```"]
    return "\n".join(lines) + "\n"


_COLOURS = {Verdict.PROVED: "#1a7f37", Verdict.REFUTED: "#cf222e", Verdict.UNKNOWN: "#9a6700"}


def result_html(result: CheckResult) -> str:
    e = html.escape
    colour = _COLOURS[result.verdict]
    name = f" — {e(result.name)}" if result.name else ""
    parts = [f'<div class="reasoner-result"><p><strong style="color:{colour}">{result.verdict.value}</strong>'
             f"{name} ({e(seconds_text(result.seconds))})</p>",
             f"<p>Property: <code>{e(describe_property(result.property))}</code></p>"]
    if result.verdict is Verdict.UNKNOWN:
        parts.append(f"<p>Reason: {e(str(result.reason))}</p>")
    rows = _table_rows(result)
    if rows:
        parts.append("<table><thead><tr><th>counterexample</th><th>value</th></tr></thead><tbody>")
        parts += [f"<tr><td>{e(k)}</td><td><code>{e(v)}</code></td></tr>" for k, v in rows]
        parts.append("</tbody></table>")
    parts.append(chain_html(result.chain, result.counterexample))
    if result.responsible:
        parts.append("<p>Responsible statements:</p><ul>")
        for reason in result.responsible:
            snippet = statement_snippet(reason.span)
            pre = f"<pre>{e(snippet)}</pre>" if snippet else ""
            parts.append(f"<li><code>{e(describe_reason(reason))}</code>{pre}</li>")
        parts.append("</ul>")
    parts.append("</div>")
    return "".join(parts)


register_display(text=result_repr, markdown=result_markdown, html=result_html)
