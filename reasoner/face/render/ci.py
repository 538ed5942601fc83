"""What the CI formats of `findings`, `diff` and `lint` share with `check`: JUnit XML, GitHub workflow
annotations, and how accepted and baseline items are marked in text and JSON.

Input: test cases (`Case`), annotations (`Annotation`), items and a `Triage`.
Output: `junit` (one test suite of cases), `annotate` (workflow commands, then a summary line), the
escaping of workflow commands (`gh_data`, `gh_prop`, `gh_where`), `triage_lines` / `triage_summary` (text),
`triage_json` / `triage_doc` (JSON), `digest` (a fingerprint of a result that is not an item) and
`by_format` (the format dispatch of the commands whose outputs take a triage).
Guarantee: annotations put every message on one line (newlines escaped as GitHub documents: `%0A`, and `:`
and `,` in properties), with the file relative to the working directory; JUnit XML is well formed whatever
the text. Without a triage the text and JSON marks are empty, so outputs are those of a run without
accepted findings or a baseline.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reasoner.face.identity import Item
from reasoner.source import Span

if TYPE_CHECKING:
    from reasoner.face.accepted import Triage

__all__ = ["Annotation", "Case", "annotate", "annotation", "by_format", "digest", "gh_data", "gh_prop", "gh_where",
           "junit", "junit_error", "triage_doc", "triage_json", "triage_lines", "triage_summary"]


def digest(*parts: object) -> str:
    """A fingerprint of a result that is not an item (a key not proved complete): what it is about."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8", "backslashreplace")).hexdigest()[:32]


# ---- JUnit XML -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A test case: failed when `failure` is given, skipped when only `unknown` is (an undecided check that is
    not a failure of the policies; it still sets exit status 3), passed otherwise."""

    name: str
    classname: str
    seconds: float
    failure: str | None = None
    failure_type: str | None = None
    message: str = ""
    unknown: str | None = None


def junit(suite_name: str, cases: Sequence[Case]) -> str:
    """One test suite holding `cases`."""
    failures = sum(c.failure is not None for c in cases)
    skipped = sum(c.failure is None and c.unknown is not None for c in cases)
    seconds = sum(c.seconds for c in cases)
    attrs = {"name": suite_name, "tests": str(len(cases)), "failures": str(failures), "errors": "0",
             "skipped": str(skipped), "time": f"{seconds:.3f}"}
    import xml.etree.ElementTree as ET  # (JUnit only: not loaded by the commands' other formats)

    root = ET.Element("testsuites", attrs)
    suite = ET.SubElement(root, "testsuite", attrs)
    for c in cases:
        case = ET.SubElement(suite, "testcase", {"classname": c.classname, "name": c.name,
                                                 "time": f"{c.seconds:.3f}"})
        if c.failure is not None:
            failure = ET.SubElement(case, "failure", {"type": c.failure_type or "FAILURE", "message": c.message})
            failure.text = c.failure + (f"\n{c.unknown}" if c.unknown else "")
        elif c.unknown is not None:
            ET.SubElement(case, "skipped", {"message": f"unknown: {c.unknown}"})
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def junit_error(suite_name: str, errors: Sequence[Any], status: int) -> str:
    """A suite with one test case in error: the run could not produce results (exit `status`); `errors` are the
    run's notifications (`sarif.Notification`: level, code, message, span)."""
    import xml.etree.ElementTree as ET  # (JUnit only)

    root = ET.Element("testsuites", {"name": suite_name, "tests": "1", "failures": "0", "errors": "1",
                                     "skipped": "0", "time": "0.000"})
    suite = ET.SubElement(root, "testsuite", {"name": suite_name, "tests": "1", "failures": "0", "errors": "1",
                                              "skipped": "0", "time": "0.000"})
    case = ET.SubElement(suite, "testcase", {"classname": "reasoner", "name": "input", "time": "0.000"})
    error = ET.SubElement(case, "error", {"type": f"exit status {status}",
                                          "message": errors[0].message if errors else f"exit status {status}"})
    error.text = "\n".join(f"{e.span}: {e.level}: {e.code} {e.message}" if e.span else
                           f"{e.level}: {e.code} {e.message}" for e in errors)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ---- GitHub workflow annotations -------------------------------------------------------------------------


def gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def gh_prop(text: str) -> str:
    return gh_data(text).replace(":", "%3A").replace(",", "%2C")


def gh_where(span: Span | None) -> str:
    """` file=F,line=L,col=C,endLine=E` (or `endColumn`), the file relative to the working directory."""
    if span is None:
        return ""
    file = span.file
    if os.path.isabs(file):  # annotations are matched against repository-relative paths
        rel = os.path.relpath(file)
        file = rel if not rel.startswith("..") else file
    parts = [f"file={gh_prop(file)}", f"line={span.line}", f"col={span.col}"]
    if span.end_line != span.line:
        parts.append(f"endLine={span.end_line}")
    else:
        parts.append(f"endColumn={span.end_col}")
    return " " + ",".join(parts)


@dataclass(frozen=True)
class Annotation:
    level: str  # error | warning | notice
    title: str
    body: str
    span: Span | None


def annotation(a: Annotation) -> str:
    where = gh_where(a.span)
    sep = "," if where else " "
    return f"::{a.level}{where}{sep}title={gh_prop(a.title)}::{gh_data(a.body)}"


def annotate(items: Iterable[Annotation], summary: str) -> str:
    """One workflow command per annotation, then `summary` as a plain line."""
    return "\n".join([*(annotation(a) for a in items), summary]) + "\n"


# ---- triage marks ----------------------------------------------------------------------------------------


def triage_lines(item: Item, triage: Triage | None, indent: str) -> list[str]:
    """`accepted: REASON (accepted by WHO ...)` or `in the baseline` under an item in text output."""
    if triage is None:
        return []
    suppression = triage.suppression(item)
    if suppression is not None:
        return [f"{indent}accepted: {suppression.justification} [{suppression.where}]"]
    if triage.baseline_state(item) == "unchanged":
        return [f"{indent}in the baseline"]
    return []


def triage_summary(items: Sequence[Item], triage: Triage | None) -> list[str]:
    """The closing line about accepted findings and the baseline (expired and unused acceptances are
    diagnostics: on stderr, and in SARIF as notifications)."""
    text = triage.summary(items) if triage is not None else ""
    return [text] if text else []


def triage_json(item: Item, triage: Triage | None) -> dict[str, Any]:
    """`accepted` (the entry's reason, who, where) and `baseline` (`new` / `unchanged`) of an item, when a
    triage was made."""
    if triage is None:
        return {}
    suppression = triage.suppression(item)
    return {"accepted": None if suppression is None else {"justification": suppression.justification,
                                                          "entry": suppression.where},
            "baseline": triage.baseline_state(item)}


def triage_doc(triage: Triage | None) -> dict[str, Any]:
    """The expired and unused entries of a run, for the top of a JSON report."""
    if triage is None:
        return {}
    return {"acceptances": {"expired": [f"{e.span.file}:{e.span.line}" for e in triage.expired],
                            "unused": [f"{e.span.file}:{e.span.line}" for e in triage.unused]}}



def by_format(fmt: str, renderers: Any, result: Any, *, ctx: Any = None, triage: Triage | None = None,
              notifications: Sequence[Any] = ()) -> str:
    """`result` in format `fmt` by the `render_<fmt>` functions of module `renderers` (findings, lint): SARIF
    takes the run context and notifications, every other format the result and the triage."""
    if fmt == "sarif":
        return str(renderers.render_sarif(result, ctx=ctx, triage=triage, notifications=notifications))
    if fmt in ("json", "junit", "github", "text"):
        return str(getattr(renderers, f"render_{fmt}")(result, triage))
    raise ValueError(f"unknown format `{fmt}`")
