"""What `check` reports on: one checked assertion (`Report`).

Input: a `CheckResult` and what the property file says about its assertion (name, span, `allowing unknown`).
Output: `Report`, which the renderers (`render/results.py`, which re-exports it), the exit status
(`exit.py`) and the pytest plugin read.
Guarantee: plain data; `failed` is the one reading of "this assertion fails the build".
"""

from __future__ import annotations

from dataclasses import dataclass

from reasoner.analyses.result import CheckResult, Verdict
from reasoner.source import Span


@dataclass(frozen=True)
class Report:
    """One checked assertion: the result, the assertion's name and where it is written."""

    result: CheckResult
    name: str
    location: Span | None = None
    allow_unknown: bool = False

    @property
    def verdict(self) -> Verdict:
        return self.result.verdict

    @property
    def failed(self) -> bool:
        """Refuted, or unknown without `allowing unknown`."""
        v = self.result.verdict
        return v is Verdict.REFUTED or (v is Verdict.UNKNOWN and not self.allow_unknown)
