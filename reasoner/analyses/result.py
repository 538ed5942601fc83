"""Verdicts of property checks.

Input: produced by `solve.py` / `explain.py` (the symbolic core).
Output: `Verdict` (PROVED, REFUTED, UNKNOWN) and `CheckResult` with the counterexample, the responsible
statements and solver statistics; `rebase_spans`, which makes a result's spans usable from the current
directory.
Guarantee: three-valued everywhere; a REFUTED result always carries a counterexample that the concrete
evaluator has confirmed; an UNKNOWN result always carries a reason.
"""

from __future__ import annotations

import builtins
import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from reasoner.semantics.environment import Environment
from reasoner.semantics.request import Evaluation, Reason, Request
from reasoner.source import rebase_span


class Verdict(Enum):
    PROVED = "PROVED"
    REFUTED = "REFUTED"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class ChainStep:
    """One step of a chain that refutes an `Eventually` claim (`analyses/eventually.py`): a concrete request,
    its decision replayed through the concrete evaluator in the environment the previous steps left
    (`evaluation`, always ALLOW), what it changed (`effect`, in words), and the other requests the step needed,
    each allowed too (`also`: sts:TagSession for session tags, iam:PassRole and the request that starts the
    code, ...)."""

    request: Request
    evaluation: Evaluation
    effect: str
    also: tuple[Evaluation, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one property."""

    property: object  # the property value that was checked
    verdict: Verdict
    counterexample: Request | None = None
    evaluation: Evaluation | None = None  # the concrete replay of the counterexample
    responsible: tuple[Reason, ...] = ()
    reason: str | None = None  # why UNKNOWN (timeout, rlimit, unsupported construct at span ...)
    stats: Mapping[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    name: str | None = None  # assertion name, when it came from a property file
    #: context keys AWS set for the counterexample that the deciding statements read (`explain.decisive_derived`)
    derived: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: the steps before the counterexample, for an `Eventually` claim refuted by a chain (empty otherwise)
    chain: tuple[ChainStep, ...] = ()

    def __post_init__(self) -> None:
        if self.verdict is Verdict.REFUTED and self.counterexample is None:
            raise ValueError("a REFUTED result needs a counterexample")
        if self.verdict is Verdict.UNKNOWN and not self.reason:
            raise ValueError("an UNKNOWN result needs a reason")

    @builtins.property
    def holds(self) -> bool | None:
        """True when PROVED, False when REFUTED, None when UNKNOWN."""
        if self.verdict is Verdict.UNKNOWN:
            return None
        return self.verdict is Verdict.PROVED

    # ---- display: the face's forms, registered by `reasoner.face.render.results` (see `register_display`) ----

    def __repr__(self) -> str:
        show = _DISPLAY.get("text")
        if show is not None:
            return show(self)
        return (f"CheckResult({self.verdict.value}, property={self.property!r}, "
                f"counterexample={self.counterexample!r}, reason={self.reason!r})")

    def _repr_markdown_(self) -> str | None:
        show = _DISPLAY.get("markdown")
        return None if show is None else show(self)

    def _repr_html_(self) -> str | None:
        show = _DISPLAY.get("html")
        return None if show is None else show(self)


#: The readable forms of a result (`repr`, notebook Markdown and HTML). This module is below the face, so the
#: face's renderer installs them when it is imported (the facade imports it together with `reasoner.check`);
#: until then a result has a plain `repr` and no notebook forms (IPython falls back to the `repr`).
_DISPLAY: dict[str, Callable[[CheckResult], str]] = {}


def register_display(*, text: Callable[[CheckResult], str], markdown: Callable[[CheckResult], str],
                     html: Callable[[CheckResult], str]) -> None:
    """Install the functions behind `repr(result)`, `result._repr_markdown_()` and `result._repr_html_()`."""
    _DISPLAY.update(text=text, markdown=markdown, html=html)


def rebase_spans(result: CheckResult, environment: Environment) -> CheckResult:
    """Make the spans of the responsible statements usable from the current directory.

    A manifest names policy files relative to itself, and their spans carry that relative name. When the
    file exists next to the manifest, prefix the manifest's directory (the manifest resolves names that way,
    `source.rebase_span`), so that `file:line:col`, SARIF locations and annotations point at the file in the
    repository. The statements of a chain's steps are rebased the same way.
    """
    if not environment.source or not (result.responsible or result.chain):
        return result
    base = os.path.dirname(environment.source)
    reasons = _rebased(result.responsible, base)
    chain = rebase_chain(result.chain, environment)
    if reasons is result.responsible and not chain:
        return result
    return dataclasses.replace(result, responsible=reasons, chain=chain)


def rebase_chain(steps: tuple[ChainStep, ...], environment: Environment) -> tuple[ChainStep, ...]:
    """`rebase_spans` for the statements of every request of a chain's steps."""
    if not environment.source or not steps:
        return steps
    base = os.path.dirname(environment.source)

    def step(s: ChainStep) -> ChainStep:
        also = tuple(dataclasses.replace(ev, reasons=_rebased(ev.reasons, base)) for ev in s.also)
        return dataclasses.replace(s, evaluation=dataclasses.replace(s.evaluation, reasons=_rebased(
            s.evaluation.reasons, base)), also=also)

    return tuple(step(s) for s in steps)


def _rebased(items: tuple[Reason, ...], base: str) -> tuple[Reason, ...]:
    out = []
    for reason in items:
        span = None if reason.span is None else rebase_span(reason.span, base)
        out.append(reason if span is reason.span else dataclasses.replace(reason, span=span))
    return items if all(new is old for new, old in zip(out, items, strict=True)) else tuple(out)
