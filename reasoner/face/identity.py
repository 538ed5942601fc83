"""What a reported item is, as a fingerprint: the one identity of findings, differences, issues, refuted
assertions and diagnostics across runs.

Input: one item of a command's result: a `Finding` (findings), a `Change` (diff), an `Issue` (lint), a
`Report` (check) or a `Diagnostic` (validate).
Output: `fingerprint(item)`, 32 hexadecimal digits, and `of_kind(item)`, the kind word an accepted-findings
entry or a baseline names.
Guarantee: a fingerprint hashes what the item *is*, never where it is written: for a finding its key, principal
class, actions, conditions and whether it is public; for a difference its direction, key, principal class,
actions and conditions; for an issue its code, key and message (which names the statement by its label); for
an assertion its name, property kind and verdict; for a diagnostic its code, file name and message. So the same
item has the same fingerprint in every run, from every working directory, and after lines are inserted above
it. SARIF `partialFingerprints`, `--baseline` and accepted findings all read this one function.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import PurePath
from typing import TYPE_CHECKING, TypeAlias

from reasoner.errors import Diagnostic
from reasoner.face.report import Report

if TYPE_CHECKING:
    from reasoner.analyses.diff import Change
    from reasoner.analyses.findings import ConditionSummary, Finding
    from reasoner.analyses.hygiene import Issue

__all__ = ["Item", "fingerprint", "of_kind"]

#: What can be fingerprinted. The analyses' classes are imported where they are tested (as in `exit.py`), so
#: that rendering check results does not load the findings engine.
Item: TypeAlias = "Finding | Change | Issue | Report | Diagnostic"


def _hash(*parts: object) -> str:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()[:32]


def _conditions(conditions: Iterable[ConditionSummary]) -> str:
    return "\x1e".join(sorted(str(c) for c in conditions))


def fingerprint(item: Item) -> str:
    """The identity of `item` (module docstring): equal for the same item whatever its place."""
    if isinstance(item, Report):
        return _hash("assertion/v1", item.name, type(item.result.property).__name__, item.verdict.value)
    if isinstance(item, Diagnostic):
        return _hash("diagnostic/v1", item.code, PurePath(item.span.file).name, item.message)
    from reasoner.analyses.diff import Change
    from reasoner.analyses.findings import Finding
    from reasoner.analyses.hygiene import Issue

    if isinstance(item, Finding):
        return _hash("finding/v1", item.key, item.principal.kind, item.principal.value,
                     ",".join(sorted(item.actions)), _conditions(item.conditions), item.public)
    if isinstance(item, Change):
        return _hash("change/v1", item.direction, item.key, item.principal.kind, item.principal.value,
                     ",".join(sorted(item.actions)), _conditions(item.conditions))
    if isinstance(item, Issue):
        return _hash("issue/v1", item.code, item.key, item.message)
    raise TypeError(f"no fingerprint for {type(item).__name__}")


def of_kind(item: Item) -> str:
    """`finding`, `change`, `issue`, `assertion` or `diagnostic`."""
    from reasoner.analyses.diff import Change
    from reasoner.analyses.findings import Finding
    from reasoner.analyses.hygiene import Issue

    for cls, word in ((Finding, "finding"), (Change, "change"), (Issue, "issue"), (Report, "assertion"),
                      (Diagnostic, "diagnostic")):
        if isinstance(item, cls):
            return word
    raise TypeError(f"no kind for {type(item).__name__}")
