"""Semantic diff of two environments (or two key policies): what NEW allows that OLD does not, and back.

Input: OLD and NEW `Environment`s (two manifests, or two versions of one key policy wrapped on the same key).
Output: `DiffResult`: PROVED equivalent (both directions unsat), or the classes of access NEW adds and the
classes it removes, each summarised like a finding (principal class, actions, the granting statement and
its conditions) with a concrete request that the evaluator allows on one side and denies on the other.
Guarantee: both environments are encoded over one symbolic request (`findings.Engine`); a class is only
reported with a witness replayed through `evaluate.evaluate` on both sides; each direction is complete when
its last query ("a request allowed on one side, denied on the other, outside every class") is unsat, and
the result says so. The classes come from the stratified enumeration of `findings.py`, restricted to the
difference of the two decisions.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reasoner import limits
from reasoner.analyses import unresolved
from reasoner.analyses.explain import minimise, replay
from reasoner.analyses.findings import (
    ConditionSummary,
    Engine,
    PrincipalClass,
    StatementRef,
    Subject,
    class_term,
    derive_class,
    in_class,
    principal_account,
    subjects_of,
    summarise_conditions,
    undeclared,
    undescribed,
)
from reasoner.analyses.result import Verdict
from reasoner.errors import InternalError, Severity, UnsupportedFeatureError, register_code
from reasoner.front.ast import Statement
from reasoner.semantics import arns
from reasoner.semantics.environment import Environment
from reasoner.semantics.request import Evaluation, Request
from reasoner.semantics.resources import governing_arn
from reasoner.symbolic import smt
from reasoner.symbolic.solve import DEFAULT_RLIMIT, Status

DIFF_ADDED = register_code("DIF001", Severity.WARNING, "access added")
DIFF_REMOVED = register_code("DIF002", Severity.NOTE, "access removed")
DIFF_INCOMPLETE = register_code("DIF003", Severity.NOTE, "difference could not be proved complete")

MAX_ROUNDS = 64


@dataclass(frozen=True)
class Change:
    """One class of access that one side allows and the other does not."""

    direction: str  # "added" (NEW allows, OLD does not) or "removed"
    key: str
    principal: PrincipalClass
    actions: tuple[str, ...]
    conditions: tuple[ConditionSummary, ...]
    statements: tuple[StatementRef, ...]  # the statements of the allowing side that grant it
    example: Request
    allowed: Evaluation  # the example on the allowing side
    denied: Evaluation  # the example on the other side

    @property
    def code(self) -> str:
        return DIFF_ADDED if self.direction == "added" else DIFF_REMOVED


@dataclass(frozen=True)
class DiffResult:
    verdict: Verdict  # PROVED: equivalent; REFUTED: some change; UNKNOWN: no change found, not proved
    added: tuple[Change, ...]
    removed: tuple[Change, ...]
    added_complete: Verdict
    removed_complete: Verdict
    queries: int
    seconds: float
    reason: str | None = None

    @property
    def equivalent(self) -> bool | None:
        return None if self.verdict is Verdict.UNKNOWN else self.verdict is Verdict.PROVED


@dataclass
class _Class:
    principal: PrincipalClass
    statement: Statement | None
    key: Subject | None  # None: a resource without a resource-based policy (identity policies decide)
    arn: str
    actions: list[str]
    cover: smt.Term
    example: Request
    allowed: Evaluation
    denied: Evaluation


def _allow_statement(ev: Evaluation, key: Subject) -> int | None:
    for r in ev.reasons:
        if r.role == "allow" and r.kind is key.policy.kind and r.policy == key.policy.name:
            return r.statement
    return None


_SERVICE = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com")


def _exact_class(principal: str, env: Environment, assumed: Mapping[str, str],
                 other: Environment | None = None) -> PrincipalClass:
    """The class of a principal no statement of the subject's policy names (its access comes from its own
    identity policies): the identity that holds those policies. A role's session stands for the role and all
    its sessions, a federated user for the user whose GetFederationToken made it, a user, role session or
    federated user that neither environment describes for all of those of its account (they hold the account's
    unknown identity policies alike), a principal of an account neither declares for all of those; anything
    else for itself. (Enumerating session names, or undescribed users, one class at a time never ends: every
    name is a new class.)"""
    if _SERVICE.fullmatch(principal):
        return PrincipalClass("service", principal)
    acct = principal_account(principal)
    envs = (env,) if other is None else (env, other)
    if undeclared(principal, envs):
        return PrincipalClass("undeclared", "")
    if acct is not None and undescribed(principal, envs):
        return PrincipalClass("undescribed", acct)
    caller = arns.parse_principal(principal)
    if isinstance(caller, arns.AssumedRoleArn):
        role = next((p.arn for p in env.principals if in_class(PrincipalClass("arn", p.arn), principal, env)
                     and isinstance(arns.parse_principal(p.arn), arns.RoleArn)), None)
        return PrincipalClass("arn", role or str(caller.role()))
    if isinstance(caller, arns.FederatedUserArn):
        session = env.session(principal)
        source = session.source if session is not None else assumed.get("fedsource")
        if source:
            return PrincipalClass("arn", source)
    return PrincipalClass("arn", principal)


def _direction(
    engine: Engine, yes: Environment, no: Environment, direction: str, classes: list[_Class]
) -> tuple[Verdict, str | None]:
    """Classes of requests allowed in `yes` and denied in `no`, appended to `classes` one by one as each is
    complete (so a limit that stops the search keeps those found)."""
    d = engine.compiled.domain
    a_yes = engine.encoded(yes)
    a_no = engine.encoded(no)
    region = smt.and_(a_yes, smt.not_(a_no))
    keys = {k.arn: k for k in subjects_of(yes)}
    targets = {t.arn for t in d.targets}
    for _ in range(MAX_ROUNDS):
        covered = smt.or_(c.cover for c in classes)
        status, req, why = engine.solve(smt.and_(region, smt.not_(covered)))
        if status is Status.UNSAT:
            return Verdict.PROVED, None
        if status is Status.UNKNOWN or req is None:
            return Verdict.UNKNOWN, why or "solver returned unknown"
        ev_yes, ev_no = _confirm_pair(yes, no, req, direction)
        arn = governing_arn(req.resource)
        if arn not in targets:
            raise InternalError(f"request on `{req.resource}` outside the resources of the environments")
        key = keys.get(arn)
        idx = _allow_statement(ev_yes, key) if key is not None else None
        st = next((s for s in key.policy.statements if s.index == idx), None) if key and idx is not None else None
        if st is not None and key is not None:
            pc = derive_class(st, req.principal, yes, req.assumed)
            st_term = engine.statement_terms(key, yes).get(st.index, smt.FALSE)
        else:
            pc, st_term = _exact_class(req.principal, yes, req.assumed, no), smt.TRUE
        base = smt.and_(region, d.target_is(arn), class_term(engine, pc), st_term)
        actions: list[str] = []
        while True:
            status, w, why = engine.solve(
                smt.and_(base, smt.not_(d.action_in(actions)) if actions else smt.TRUE)
            )
            if status is Status.UNKNOWN:
                return Verdict.UNKNOWN, why or "solver returned unknown"
            if status is Status.UNSAT:
                break
            assert w is not None
            _confirm_pair(yes, no, w, direction)
            if not in_class(pc, w.principal, yes, w.assumed):
                raise InternalError(f"witness `{w.principal}` is outside class `{pc}`")
            actions.append(w.action)
        if req.action not in actions:
            raise InternalError(f"the class of `{req.principal}` lost its own action `{req.action}`")
        ordered = [a for a in d.actions if a in actions]

        def still(r: Request) -> bool:
            return replay(yes, r)[0].decision.allowed and not replay(no, r)[0].decision.allowed

        small = minimise(req, still)
        ev_yes, ev_no = _confirm_pair(yes, no, small, direction)
        cover = smt.and_(d.target_is(arn), class_term(engine, pc), st_term, d.action_in(ordered))
        classes.append(_Class(pc, st, key, arn, ordered, cover, small, ev_yes, ev_no))
    return Verdict.UNKNOWN, f"more than {MAX_ROUNDS} classes of change"


def _confirm_pair(
    yes: Environment, no: Environment, req: Request, direction: str
) -> tuple[Evaluation, Evaluation]:
    ev_yes, _ = replay(yes, req)
    ev_no, _ = replay(no, req)
    if not ev_yes.decision.allowed or ev_no.decision.allowed:
        raise InternalError(
            f"the symbolic core and the evaluator disagree on a {direction} request: `{req.principal}` "
            f"`{req.action}` `{req.resource}` context {dict(req.context)}: allowing side "
            f"{ev_yes.decision.value}, other side {ev_no.decision.value}"
        )
    return ev_yes, ev_no


def _changes(classes: list[_Class], direction: str) -> tuple[Change, ...]:
    groups: dict[tuple[str, PrincipalClass, tuple[ConditionSummary, ...]], list[_Class]] = {}
    for c in classes:
        conds = summarise_conditions(c.statement) if c.statement is not None else ()
        groups.setdefault((c.arn, c.principal, conds), []).append(c)
    out: list[Change] = []
    for (key, pc, conds), cs in groups.items():
        refs = tuple(
            dict.fromkeys(
                StatementRef(c.key.policy.name, c.statement.index, c.statement.label, c.statement.span)
                for c in cs
                if c.statement is not None and c.key is not None
            )
        )
        acts = tuple(sorted({a for c in cs for a in c.actions}))
        out.append(Change(direction, key, pc, acts, conds, refs, cs[0].example, cs[0].allowed, cs[0].denied))
    out.sort(key=lambda c: (c.key, c.principal.kind, c.principal.value, c.actions))
    return tuple(out)


def diff(
    old: Environment, new: Environment, *, timeout: float | None = None, rlimit: int = DEFAULT_RLIMIT
) -> DiffResult:
    """Compare the decisions of `old` and `new` for every caller, action, key, resource and context."""
    start = time.perf_counter()
    pending = unresolved.reason(old, new)
    if pending is not None:  # issue 15: a value no input fixes decides nothing (see `unresolved`)
        return DiffResult(Verdict.UNKNOWN, (), (), Verdict.UNKNOWN, Verdict.UNKNOWN, 0, time.perf_counter() - start,
                          pending)
    engine: Engine | None = None
    added: list[_Class] = []
    removed: list[_Class] = []
    outcome: dict[str, tuple[Verdict, str | None]] = {}
    stopped: str | None = None
    try:
        with limits.budget(limits.seconds_or_default(timeout, run=True), rlimit):
            engine = Engine.build(new, others=(old,))
            outcome["added"] = _direction(engine, new, old, "added", added)
            outcome["removed"] = _direction(engine, old, new, "removed", removed)
    except (UnsupportedFeatureError, limits.OutOfBudget, MemoryError) as exc:
        # the changes found before the limit are kept (each was replayed): the result says it is incomplete
        stopped = limits.unknown_reason(exc)
    added_v, why_a = outcome.get("added", (Verdict.UNKNOWN, stopped))
    removed_v, why_r = outcome.get("removed", (Verdict.UNKNOWN, stopped if "added" in outcome else None))
    if added or removed:
        verdict = Verdict.REFUTED
    elif added_v is Verdict.PROVED and removed_v is Verdict.PROVED:
        verdict = Verdict.PROVED
    else:
        verdict = Verdict.UNKNOWN
    reason = "; ".join(dict.fromkeys(w for w in (why_a, why_r) if w)) or None
    return DiffResult(
        verdict,
        _changes(added, "added"),
        _changes(removed, "removed"),
        added_v,
        removed_v,
        engine.queries if engine is not None else 0,
        time.perf_counter() - start,
        reason,
    )


def same_key(old: Environment, new: Environment) -> tuple[Environment, Environment]:
    """Put two single-key environments on the same key ARN (the NEW one's), for diffing two versions of a
    key policy given as files."""
    from dataclasses import replace

    if len(old.keys) == 1 and len(new.keys) == 1 and old.keys[0].arn != new.keys[0].arn:
        old = replace(old, keys=(replace(old.keys[0], arn=new.keys[0].arn),))
    return old, new


__all__: Sequence[str] = ["Change", "DiffResult", "diff", "same_key"]
