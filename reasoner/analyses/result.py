"""Verdicts of property checks.

Input: produced by `solve.py` / `explain.py` (the symbolic core).
Output: `Verdict` (PROVED, REFUTED, UNKNOWN) and `CheckResult` with the counterexample, the responsible
statements and solver statistics.
Guarantee: three-valued everywhere; a REFUTED result always carries a counterexample that the concrete
evaluator has confirmed; an UNKNOWN result always carries a reason.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from reasoner.semantics.request import Evaluation, Reason, Request


class Verdict(Enum):
    PROVED = "PROVED"
    REFUTED = "REFUTED"
    UNKNOWN = "UNKNOWN"


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

    # ---- display (rendering lives in render.py; imported lazily to keep this module a plain value) ----

    def __repr__(self) -> str:
        from reasoner.face.render.results import result_repr

        return result_repr(self)

    def _repr_markdown_(self) -> str:
        from reasoner.face.render.results import result_markdown

        return result_markdown(self)

    def _repr_html_(self) -> str:
        from reasoner.face.render.results import result_html

        return result_html(self)
