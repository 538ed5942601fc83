"""Paths in reports: the spans of a `findings`, `diff` or `lint` result made usable from the working directory.

Input: a `FindingsResult`, `DiffResult` or `HygieneResult` and the environment(s) it was computed on.
Output: the same result, whose statement and issue spans name their files as seen from the working directory:
a manifest names policy files relative to itself, and `source.rebase_span` prefixes the manifest's directory
(docs/cli.md, "Paths in reports"), as `result.rebase_spans` does for `check`. Text, JSON and SARIF then all
point at the file in the repository, and SARIF URIs follow one rule (`render/sarif.py`).
Guarantee: only file names change; a span whose file is not found under the manifest's directory, and every
span of an environment without a manifest (a key policy given on its own), is left as it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from reasoner.source import rebase_span

if TYPE_CHECKING:  # (annotations only: `findings` does not load diff and hygiene, nor they each other)
    from reasoner.analyses.diff import Change, DiffResult
    from reasoner.analyses.findings import FindingsResult, StatementRef
    from reasoner.analyses.hygiene import HygieneResult, Issue
    from reasoner.semantics.environment import Environment

__all__ = ["rebase_diff", "rebase_findings", "rebase_hygiene"]


def _base(environment: Environment) -> str:
    return os.path.dirname(environment.source) if environment.source else ""


def _refs(refs: Iterable[StatementRef], base: str) -> tuple[StatementRef, ...]:
    return tuple(replace(s, span=rebase_span(s.span, base)) for s in refs)


def rebase_findings(result: FindingsResult, environment: Environment) -> FindingsResult:
    base = _base(environment)
    if not base:
        return result
    keys = tuple(replace(k, findings=tuple(replace(f, statements=_refs(f.statements, base)) for f in k.findings))
                 for k in result.keys)
    return replace(result, keys=keys)


def rebase_diff(result: DiffResult, old: Environment, new: Environment) -> DiffResult:
    """Added access is granted by NEW's statements, removed access was granted by OLD's."""

    def changes(cs: tuple[Change, ...], base: str) -> tuple[Change, ...]:
        return tuple(replace(c, statements=_refs(c.statements, base)) for c in cs) if base else cs

    return replace(result, added=changes(result.added, _base(new)), removed=changes(result.removed, _base(old)))


def rebase_hygiene(result: HygieneResult, environment: Environment) -> HygieneResult:
    base = _base(environment)
    if not base:
        return result

    def issues(items: tuple[Issue, ...]) -> tuple[Issue, ...]:
        return tuple(replace(i, span=rebase_span(i.span, base)) for i in items)

    return replace(result, issues=issues(result.issues), undecided=issues(result.undecided))
