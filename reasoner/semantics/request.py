"""Requests and decisions: what is asked of AWS, and what AWS answers.

Input: a principal ARN (or service principal), an action, a resource ARN and the context keys the caller
controls.
Output: `Request`, `Decision`, `Reason` and `Evaluation` (the decision with the statements behind it).
Guarantee: plain frozen values. Context keys AWS derives from the principal and the call (aws:PrincipalArn,
kms:CallerAccount, ...) are filled in by `evaluate.py`, never taken from the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from reasoner.front.ast import Effect, PolicyKind
from reasoner.source import Span


@dataclass(frozen=True)
class Request:
    """One API call. `context` maps condition-key names (any case) to their values: one value for a
    single-valued key, any number for a multivalued key. Keys not in `context` are absent."""

    principal: str
    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: What a counterexample assumes about a caller the environment does not describe (values AWS derives,
    #: not part of the call): "org" / "orgpath" (its account's organization id and path after `<org id>/`),
    #: "uid" (the unique id of its user or role), "tag:<key>" (a principal tag), "rolepath" (the path of its
    #: undescribed role, e.g. "team/"), "region" (an opt-in Region its account enabled), "fedsource" (the
    #: IAM user behind an undeclared federated user), "keyorg" / "keyorgpath" (the organization of the
    #: requested key's undeclared owner account). Empty for user requests; `explain.augment_all` replays them
    #: in a copy of the environment that declares them.
    assumed: Mapping[str, str] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.principal, self.action, self.resource,
                     tuple(sorted((k.lower(), v) for k, v in self.context.items()))))


class Decision(Enum):
    ALLOW = "ALLOW"
    EXPLICIT_DENY = "EXPLICIT_DENY"
    IMPLICIT_DENY = "IMPLICIT_DENY"

    @property
    def allowed(self) -> bool:
        return self is Decision.ALLOW


@dataclass(frozen=True)
class Reason:
    """One statement (or rule) that contributed to a decision."""

    policy: str  # policy name (file path or manifest name)
    kind: PolicyKind | None
    statement: int | None  # 0-based index in the policy
    label: str  # Sid or Statement[i], or the rule's name
    effect: Effect | None
    span: Span | None
    role: str  # "allow", "deny", "gate" (e.g. SCP implicit deny), "rule" (e.g. not cross-account capable)
    note: str = ""

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span else ""
        return f"{where}{self.role} {self.label}{' - ' + self.note if self.note else ''}"


@dataclass(frozen=True)
class Evaluation:
    """The decision on one request and why."""

    request: Request
    decision: Decision
    reasons: tuple[Reason, ...] = ()
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # the full context used
