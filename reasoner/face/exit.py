"""Exit statuses of the command line: a documented contract (README "Exit status", `--help` of every command).

Input: what a command produced: the `Report`s of `check`, the `FileReport`s of `validate`, the `Evaluation`
of `decide`, or the `FindingsResult`, `DiffResult` or `HygieneResult` of `findings`, `diff` and `lint`.
Output: its `ExitStatus` (`exit_status`); errors get theirs where `cli.main` catches them (INPUT, UNKNOWN
for a limit, INTERNAL).
Guarantee: this is the only place a status is derived from a result, and UNKNOWN is never folded into OK:
a refuted assertion, a finding, a difference or an issue gives FINDINGS whatever else is unknown; else
anything unknown (an assertion not marked `allowing unknown`, findings not proved complete, an undecided
difference or check) gives UNKNOWN; else OK. `decide` and `validate` have no UNKNOWN: a denied request and
a file with an error are FINDINGS, an unreadable file is INPUT. With a `Triage` (accepted findings and a
baseline, `accepted.py`), a refuted assertion, finding or issue that is accepted or was in the baseline does
not count, and an expired acceptance gives FINDINGS by itself; unknowns count whatever the triage says.

Import the names (`from reasoner.face.exit import ExitStatus`), not the module, which would shadow the
builtin `exit`. Nothing is imported at the top: the command line reads `ExitStatus` at start-up (`--version`
included), and the analyses' result classes are tested only when their module is loaded (`_is`), so that
the pytest plugin, the notebook forms and `check` do not load the other analyses.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from enum import IntEnum
from typing import TYPE_CHECKING, TypeAlias, cast

if TYPE_CHECKING:
    from reasoner.analyses.diff import DiffResult
    from reasoner.analyses.findings import FindingsResult
    from reasoner.analyses.hygiene import HygieneResult
    from reasoner.face.accepted import Triage
    from reasoner.face.render.diagnostics import FileReport
    from reasoner.face.report import Report
    from reasoner.semantics.request import Evaluation

__all__ = ["INTERRUPTED", "ExitStatus", "Outcome", "combine", "exit_status"]


class ExitStatus(IntEnum):
    OK = 0  # clean / every assertion holds / allowed / equivalent
    FINDINGS = 1  # validation errors / an assertion refuted / denied / external access, a difference, an issue
    INPUT = 2  # usage or input error: the input could not be used
    UNKNOWN = 3  # nothing found, but something could not be decided (timeout, resource limit, unsupported)
    INTERNAL = 4  # a bug in the reasoner (reported, never a wrong answer)


#: Interrupted with Ctrl-C: 128 + SIGINT, the shell's convention (not one of the contract's statuses).
INTERRUPTED = 130

#: What a command produced, for `exit_status`.
Outcome: TypeAlias = (
    "Iterable[Report] | Iterable[FileReport] | Evaluation | FindingsResult | DiffResult | HygieneResult"
)


def exit_status(outcome: Outcome, triage: Triage | None = None) -> ExitStatus:
    """The exit status of a command that produced `outcome`, under `triage` when given (module docstring)."""
    from reasoner.analyses.result import Verdict
    from reasoner.face.render.diagnostics import FileReport
    from reasoner.face.report import Report
    from reasoner.semantics.request import Evaluation

    if isinstance(outcome, Evaluation):  # decide
        return ExitStatus.OK if outcome.decision.allowed else ExitStatus.FINDINGS
    expired = triage is not None and bool(triage.expired)

    def counted(items: Iterable[object]) -> bool:
        return any(triage is None or triage.counts(i) for i in items)  # type: ignore[arg-type]

    if _is(outcome, "reasoner.analyses.findings", "FindingsResult"):
        found = cast("FindingsResult", outcome)
        return _status(counted(found.findings) or expired, any(k.complete is not Verdict.PROVED for k in found.keys))
    if _is(outcome, "reasoner.analyses.diff", "DiffResult"):
        diff = cast("DiffResult", outcome)
        return _status(diff.verdict is Verdict.REFUTED, diff.verdict is Verdict.UNKNOWN)
    if _is(outcome, "reasoner.analyses.hygiene", "HygieneResult"):
        hygiene = cast("HygieneResult", outcome)
        return _status(counted(hygiene.issues) or expired, bool(hygiene.undecided))
    items = list(cast("Iterable[Report] | Iterable[FileReport]", outcome))
    if items and all(isinstance(i, FileReport) for i in items):  # validate
        files = [i for i in items if isinstance(i, FileReport)]
        if any(not f.readable for f in files):
            return ExitStatus.INPUT
        return _status(any(f.errors for f in files), False)
    reports = [i for i in items if isinstance(i, Report)]  # check (no assertion at all: OK)
    if len(reports) != len(items):
        raise TypeError(f"no exit status for {sorted({type(i).__name__ for i in items})}")
    return _status(counted(r for r in reports if r.verdict is Verdict.REFUTED) or expired,
                   any(r.verdict is Verdict.UNKNOWN and not r.allow_unknown for r in reports))


def _is(outcome: object, module: str, name: str) -> bool:
    """`isinstance(outcome, module.name)`, without importing `module`: no instance of a class exists before its
    module is loaded, so a command whose analysis did not run (`check` has no findings, difference or issue)
    does not load the other analyses (and their solver) to rule them out (issue 17)."""
    loaded = sys.modules.get(module)
    cls = getattr(loaded, name, None) if loaded is not None else None
    return isinstance(cls, type) and isinstance(outcome, cls)


def combine(statuses: Iterable[ExitStatus]) -> ExitStatus:
    """The status of a run made of several analyses (`reasoner report`): INPUT or INTERNAL if any part had
    one, else FINDINGS if any part found something, else UNKNOWN if any part is unknown, else OK."""
    found = set(statuses)
    for status in (ExitStatus.INTERNAL, ExitStatus.INPUT, ExitStatus.FINDINGS, ExitStatus.UNKNOWN):
        if status in found:
            return status
    return ExitStatus.OK


def _status(found: bool, unknown: bool) -> ExitStatus:
    if found:
        return ExitStatus.FINDINGS
    return ExitStatus.UNKNOWN if unknown else ExitStatus.OK
