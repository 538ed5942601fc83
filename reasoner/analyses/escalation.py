"""Escalation paths of findings: principals outside the zone of trust that reach a key or resource only through a
chain of steps (issue 18, docs/eventually.md).

Input: an `Environment` and the zone of trust of findings (account ids and organization ids; default: each
resource's own account), or a `FindingsResult` to extend (`with_escalations`).
Output: `escalation_paths(env, zone) -> tuple[EscalationPath, ...]`: per key, resource and role, the chains by
which a principal outside the zone gets access it has no finding for: access by a session of a role inside the
zone that the chain reached, or access in an environment the chain changed (a grant it made, a policy it
wrote); `with_escalations(result, env)`: the findings result with them (`FindingsResult.escalations`).
Guarantee: every path's chain is replayed step by step through the concrete evaluator, from a principal outside
the zone, in the environment each step leaves (`eventually.Concretizer`), and its last access is allowed; a
resource the solver reaches but whose chain no replay confirms, or that a limit stopped, has a path with no
chain and the reason (never silently dropped). The fixpoint is `eventually.Fixpoint`, run once per zone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from reasoner import limits
from reasoner.analyses.compiled import CompiledEnvironment, compile_environment
from reasoner.analyses.conditions import principal_is
from reasoner.analyses.eventually import MAX_ROUNDS, START, Concretizer, Fixpoint, Start, Undecided
from reasoner.analyses.explain import confirm
from reasoner.analyses.findings import FindingsResult, Subject, _inside_accounts, parse_zone, subjects_of
from reasoner.analyses.properties import PrincipalScope
from reasoner.analyses.result import ChainStep, rebase_chain
from reasoner.errors import UnsupportedFeatureError
from reasoner.semantics.environment import Environment
from reasoner.semantics.request import Evaluation, Request
from reasoner.symbolic import smt
from reasoner.symbolic.solve import DEFAULT_RLIMIT, Status


@dataclass(frozen=True)
class EscalationPath:
    """A chain from a principal outside the zone to access to `resource` (`access`, allowed: `evaluation`).
    `reason` is set (and `chain` empty) when the chain could not be confirmed or decided."""

    resource: str
    resource_type: str
    start: str
    chain: tuple[ChainStep, ...]
    access: Request | None
    evaluation: Evaluation | None
    reason: str | None = None

    @property
    def confirmed(self) -> bool:
        return self.reason is None


def escalation_paths(env: Environment, zone: Iterable[str] = (), *, timeout: float | None = None,
                     rlimit: int = DEFAULT_RLIMIT) -> tuple[EscalationPath, ...]:
    """The escalation paths of every key, resource and role of `env` (see the module docstring)."""
    z = parse_zone(zone)
    subjects = subjects_of(env)
    out: list[EscalationPath] = []
    with limits.budget(limits.seconds_or_default(timeout, run=True), rlimit):
        try:
            compiled = compile_environment(env)
            groups: dict[tuple[str, ...], list[Subject]] = {}
            for s in subjects:
                groups.setdefault(tuple(_inside_accounts(env, z, s)), []).append(s)
            for inside, subs in groups.items():
                out += _group(compiled, inside, subs)
        except (UnsupportedFeatureError, limits.OutOfBudget, MemoryError, Undecided) as exc:
            why = str(exc) if isinstance(exc, Undecided) else limits.unknown_reason(exc)
            done = {p.resource for p in out}
            out += [EscalationPath(s.arn, s.type, "", (), None, None, f"undecided: {why}")
                    for s in subjects if s.arn not in done]
    return tuple(out)


def _group(compiled: CompiledEnvironment, inside: Sequence[str], subjects: Sequence[Subject]) -> list[EscalationPath]:
    fix = Fixpoint(compiled, Start(scope=PrincipalScope.outside_account(*inside)))
    fix.rebuild()
    for _ in range(MAX_ROUNDS):
        facts = fix.round()
        if not facts:
            break
        fix.apply(facts)
    else:
        return [EscalationPath(s.arn, s.type, "", (), None, None,
                               f"undecided: the fixpoint did not close within {MAX_ROUNDS} rounds") for s in subjects]
    if not fix.state.facts:
        return []
    d = compiled.domain
    allows = fix.allows()
    original = compiled.encoded.allows
    out: list[EscalationPath] = []
    for s in subjects:
        on = d.target_is(s.arn)
        target = d.target(s.arn)
        preferred = [a for a in PREFERRED if target is not None and a in target.actions]
        # the start class only where the chain changed the environment; every role the chain reached
        nodes = [(START, smt.and_(fix.start_term(), smt.not_(original))),
                 *((r, principal_is(d, r)) for r in sorted(fix.state.held))]
        seen: set[tuple[str, str]] = set()
        for node, who in nodes:
            limits.tick()
            goal = _witness(fix, smt.and_(allows, who, on), d.action_in(preferred) if preferred else None)
            if goal is None:
                continue
            chain = Concretizer(fix, [goal.action]).run([(node, goal)])
            if chain is None:
                out.append(EscalationPath(s.arn, s.type, "", (), goal, None,
                                          "a chain may reach it (the over-approximation does), but no replay from "
                                          "one principal confirmed it"))
                continue
            if not chain.steps or (chain.start.principal, chain.access.principal) in seen:
                continue
            seen.add((chain.start.principal, chain.access.principal))
            out.append(EscalationPath(s.arn, s.type, chain.start.principal, chain.steps, chain.access,
                                      chain.evaluation))
    return out


#: Actions an escalation path shows when it reaches them (the data of the resource), else any action it reaches.
PREFERRED: tuple[str, ...] = ("kms:Decrypt", "s3:GetObject", "secretsmanager:GetSecretValue", "sqs:ReceiveMessage",
                              "dynamodb:GetItem", "sts:AssumeRole", "lambda:InvokeFunction", "sns:Publish",
                              "ecr:BatchGetImage", "elasticfilesystem:ClientMount")


def _witness(fix: Fixpoint, term: smt.Term, preferred: smt.Term | None) -> Request | None:
    """A request of `term` (one of the preferred actions when some is possible), replayed in the abstract
    environment."""
    for extra in ([preferred] if preferred is not None else []) + [smt.TRUE]:
        status, req, why = fix.engine.solve(smt.and_(term, extra))
        if status is Status.UNKNOWN:
            raise Undecided(why or "solver returned unknown")
        if status is Status.SAT and req is not None:
            confirm(fix.abstract, req, True, "an escalated access")
            return req
        if extra is smt.TRUE:
            break
    return None


def with_escalations(result: FindingsResult, env: Environment, *, timeout: float | None = None,
                     rlimit: int = DEFAULT_RLIMIT) -> FindingsResult:
    """`result` with the escalation paths of `env` for the same zone of trust (the statements of their steps made
    relative to the current directory, as `result.rebase_spans` does)."""
    start = time.perf_counter()
    paths = tuple(replace(p, chain=rebase_chain(p.chain, env)) if p.chain else p
                  for p in escalation_paths(env, result.zone, timeout=timeout, rlimit=rlimit))
    return replace(result, escalations=paths, seconds=result.seconds + time.perf_counter() - start)


__all__ = ["EscalationPath", "escalation_paths", "with_escalations"]
