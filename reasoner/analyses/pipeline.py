"""Checking a property: the stages in order, on an environment compiled once for many properties.

Input: an `Environment` (or a `CompiledEnvironment`, `compiled.py`) and property values of `properties.py`.
Output: `check(env_or_compiled, property) -> CheckResult` with PROVED, REFUTED (a request the concrete
evaluator confirms) or UNKNOWN (timeout, resource limit, pattern too complex, memory, unsupported construct,
refinement budget), the responsible statements and solver statistics.
Guarantee: stages run in order (domain -> encode -> solve -> decode -> explain) under one `limits.budget`;
the verification condition of `conditions.py`, asserted for the property's checks only, solved by the one
refinement loop (`refine.py`); every counterexample is replayed through `evaluate.evaluate` before it is
returned, and a disagreement is an `InternalError`.
Scope: requests are KMS actions on the environment's keys (every catalogue KMS action whose resource is a
key), by every caller of every account (`domain.py`).
"""


from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

from reasoner import limits
from reasoner.analyses import unresolved
from reasoner.analyses.compiled import CompiledEnvironment, compile_environment, compiled_for, covers, interrupted
from reasoner.analyses.conditions import (
    BAD_PROPERTY,
    concretely_violates,
    expand_actions,
    expand_resources,
    matching_actions,
    principal_is,
    resource_term,
    violation,
)
from reasoner.analyses.explain import confirm, decisive_derived, minimise, readable, replay, statement_reasons
from reasoner.analyses.properties import (
    CanAccess,
    Equivalent,
    Eventually,
    NoNewAccess,
    Property,
)
from reasoner.analyses.refine import refine
from reasoner.analyses.result import CheckResult, Verdict
from reasoner.errors import (
    InputError,
    InternalError,
    ReasonerError,
    UnsupportedFeatureError,
)
from reasoner.semantics import arns
from reasoner.semantics.environment import Environment
from reasoner.semantics.evaluate import evaluate as concrete_evaluate
from reasoner.semantics.patterns import compile_action
from reasoner.semantics.request import Evaluation, Reason, Request
from reasoner.semantics.resources import resource_policy
from reasoner.symbolic import smt
from reasoner.symbolic.domain import PARTITION, SymTarget, modelled_principal
from reasoner.symbolic.solve import DEFAULT_RLIMIT, Status


def _unknown(prop: Property, exc: ReasonerError, start: float, prefix: str = "") -> CheckResult:
    where = f" at {exc.span}" if exc.span else ""
    return CheckResult(
        prop,
        Verdict.UNKNOWN,
        reason=f"{prefix}{exc.message}{where}",
        seconds=time.perf_counter() - start,
    )
def check(
    env_or_compiled: Environment | CompiledEnvironment,
    prop: Property,
    *,
    timeout: float | None = None,
    rlimit: int | None = DEFAULT_RLIMIT,
    dump_smt2: str | Path | None = None,
    stats: bool = False,
) -> CheckResult:
    """Check one property: PROVED, REFUTED with a counterexample the concrete evaluator confirmed, or UNKNOWN
    with the reason (timeout, resource limit, pattern too complex, memory limit, unsupported construct, each
    with its span where it has one).

    `env_or_compiled` is an `Environment` (compiled on first use and cached by identity) or the result of
    `compile_environment`; `timeout` is wall-clock seconds for everything the check does (compiling the
    environment on first use included; never beyond an enclosing `limits.budget`), `rlimit` Z3's resource
    limit per solver call (None: the default), `dump_smt2` a path that receives the exact SMT-LIB query, `stats`
    True adds Z3's statistics to `CheckResult.stats` (by default it holds the compile time and the number of
    refinements only)."""
    start = time.perf_counter()
    subject = env_or_compiled.environment if isinstance(env_or_compiled, CompiledEnvironment) else env_or_compiled
    pending = unresolved.reason(subject, getattr(prop, "old", None))
    if pending is not None:  # issue 15: a value no input fixes decides nothing (see `unresolved`)
        return CheckResult(prop, Verdict.UNKNOWN, reason=pending, seconds=time.perf_counter() - start)
    compiled: CompiledEnvironment | None = None
    with limits.budget(limits.seconds_or_default(timeout), DEFAULT_RLIMIT if rlimit is None else rlimit):
        try:
            # a comparison is decided over the request both sides share: a resource only the other side has is
            # acted on too (checked on one side's request alone, `Equivalent` once proved two environments equal
            # whose one declared a role the other did not)
            others = (prop.old,) if isinstance(prop, NoNewAccess | Equivalent) and prop.old is not subject else ()
            if isinstance(env_or_compiled, CompiledEnvironment):
                compiled = env_or_compiled
                if compiled.broken is not None:  # an earlier analysis was interrupted while encoding
                    compiled = compile_environment(compiled.environment)
                if not covers(compiled, others):
                    compiled = compiled_for(compiled.environment, others)
            else:
                compiled = compiled_for(env_or_compiled, others)
            if isinstance(prop, Eventually):  # chains of steps (issue 18)
                from reasoner.analyses.eventually import check_chains

                result = check_chains(compiled, prop)
            elif isinstance(prop, CanAccess):
                result = _check_can_access(compiled, prop, dump_smt2, stats)
            else:
                result = _check_violation(compiled, prop, dump_smt2, stats)
        except UnsupportedFeatureError as exc:
            return _unknown(prop, exc, start, "unsupported: ")
        except limits.OutOfBudget as exc:
            interrupted(compiled, exc.message)
            return _unknown(prop, exc, start)
        except MemoryError:
            interrupted(compiled, limits.memory_reason())
            return _unknown(prop, limits.OutOfMemory(limits.memory_reason()), start)
    return CheckResult(
        result.property,
        result.verdict,
        result.counterexample,
        result.evaluation,
        result.responsible,
        result.reason,
        result.stats,
        time.perf_counter() - start,
        result.name,
        result.derived,
        result.chain,
    )
def _check_violation(compiled: CompiledEnvironment, prop: Property, dump_smt2: str | Path | None,
                     solver_stats: bool = False) -> CheckResult:
    term, envs = violation(compiled, prop)
    compiled.flush()  # the atoms and definitions the term refers to (the term itself is asked per check)
    try:
        return _refine(compiled, prop, term, envs, solver_stats)
    finally:
        if dump_smt2 is not None:  # the query with every lemma the refinement added
            Path(dump_smt2).write_text(compiled.solver.to_smt2([], query=term))
def _refine(compiled: CompiledEnvironment, prop: Property, term: smt.Term, envs: list[Environment],
            solver_stats: bool = False) -> CheckResult:
    """A violation of `prop` (the requests that satisfy `term`): a counterexample the concrete evaluator
    confirms, a proof, or a limit."""
    d = compiled.domain
    stats: dict[str, float] = {"compile_seconds": compiled.compile_seconds}
    found = refine(compiled, None, stats, prefer_plain=True, solver_stats=solver_stats, query=term)
    if found.status is Status.UNKNOWN:
        return CheckResult(prop, Verdict.UNKNOWN, reason=found.reason, stats=stats)
    if found.status is Status.UNSAT:
        if compiled.incomplete:
            return CheckResult(prop, Verdict.UNKNOWN, reason=compiled.incomplete, stats=stats)
        return CheckResult(prop, Verdict.PROVED, responsible=tuple(_responsible(compiled, prop)), stats=stats)
    request, model = found.request, found.model
    assert request is not None and model is not None
    claimed = [model.truth(compiled.encoded.allows)]
    if len(envs) > 1:
        claimed.append(model.truth(compiled.encode_other(envs[1]).allows))
    confirm(envs[0], request, claimed[0], f"property {type(prop).__name__}")
    if len(envs) > 1:
        confirm(envs[1], request, claimed[1], "the old environment")
    if not concretely_violates(prop, envs, request):
        raise InternalError(f"counterexample `{request}` does not violate the property when replayed")
    small = minimise(request, lambda r: concretely_violates(prop, envs, r), d.f("upath").lits)
    small = readable(small, lambda r: concretely_violates(prop, envs, r))
    return _refuted(prop, small, *replay(envs[0], small), stats, envs[0])
def _refuted(prop: Property, request: Request, evaluation: Evaluation, note: Reason | None,  # noqa: PLR0917
             stats: dict[str, float], env: Environment) -> CheckResult:
    """REFUTED by `request`, with its confirmed evaluation; the reasons end with the confirmation's note."""
    reasons = tuple(evaluation.reasons) + ((note,) if note else ())
    return CheckResult(
        prop,
        Verdict.REFUTED,
        counterexample=request,
        evaluation=evaluation,
        responsible=reasons,
        stats=stats,
        derived=decisive_derived(env, evaluation),
    )
def _check_can_access(compiled: CompiledEnvironment, prop: CanAccess, dump_smt2: str | Path | None,
                      solver_stats: bool = False) -> CheckResult:
    """CanAccess holds iff for every (action, key) some context lets `principal` in. A pair with no such
    context refutes it; the counterexample is that request with an empty context (denied for every
    context, so the replay must deny it)."""
    d = compiled.domain
    env = compiled.environment
    who = principal_is(d, prop.principal)
    stats: dict[str, float] = {"compile_seconds": compiled.compile_seconds}
    responsible: list[Reason] = []
    named = resource_term(d, prop.resources)
    targets = [d.targets[i] for arn in expand_resources(prop.resources, d) if (i := d.key_index(arn)) is not None]
    pairs = [(action, t) for action in expand_actions(prop.actions, d) for t in targets if action in t.actions]
    if not pairs:
        raise InputError(f"none of {list(prop.actions)} acts on {list(prop.resources)}", code=BAD_PROPERTY)
    for action, target in pairs:
        arn = target.arn
        if True:  # one query per (action, resource) pair
            query = smt.and_(compiled.encoded.allows, who, d.action_is(action), d.target_is(target), named)
            compiled.flush()
            if dump_smt2 is not None:
                Path(dump_smt2).write_text(compiled.solver.to_smt2([], query=query))
            found = refine(compiled, None, stats, solver_stats=solver_stats, query=query)
            if found.status is Status.UNKNOWN:
                return CheckResult(prop, Verdict.UNKNOWN, reason=found.reason, stats=stats)
            if found.status is Status.UNSAT:
                if compiled.incomplete:
                    return CheckResult(prop, Verdict.UNKNOWN, reason=compiled.incomplete, stats=stats)
                request = Request(_concrete_principal(prop.principal), action, _request_resource(target, action,
                                                                                                  prop.resources), {})
                return _refuted(prop, request, *confirm(env, request, False, "a denied CanAccess request"), stats,
                                env)
            assert found.request is not None
            evaluation, note = confirm(env, found.request, True, "a CanAccess witness")
            if note is not None and not concrete_evaluate(env, found.request).decision.allowed:
                # the witness needs what the environment does not describe (the caller's organization,
                # tags, role path, opt-in Region, or the worst case of unknown IAM): that the principal
                # can act is not established
                return CheckResult(
                    prop,
                    Verdict.UNKNOWN,
                    reason=f"`{action}` on `{arn}` is allowed only if {note.note}",
                    counterexample=found.request,
                    evaluation=evaluation,
                    stats=stats,
                )
            responsible.extend(evaluation.reasons)
    return CheckResult(prop, Verdict.PROVED, responsible=tuple(dict.fromkeys(responsible)), stats=stats)
def _request_resource(target: SymTarget, action: str, patterns: tuple[str, ...]) -> str:
    """The resource of a request of `action` on `target`: the target itself, or for an action on its
    sub-resources the one the property names exactly (else one called `example`)."""
    if action not in target.sub_actions or action in target.own_actions:
        return target.arn
    exact = [p for p in patterns if p.startswith(target.sub_prefix) and "*" not in p and "?" not in p]
    return exact[0] if exact else target.sub_prefix + "example"


def _concrete_principal(text: str) -> str:
    """A caller for CanAccess's counterexample: the root user for an account, a session for a role."""

    t = text.strip()
    if arns.is_account_id(t):
        return arns.format(arns.RootArn(PARTITION, t))
    if isinstance(role := modelled_principal(t), arns.RoleArn):
        return arns.format(role.session("example"))
    return t
def _responsible(compiled: CompiledEnvironment, prop: Property) -> list[Reason]:
    """For a proof: the statements of the resource-based policies (key, resource and trust policies) of the
    resources the property is about that could grant the property's actions (the allows the proof had to rule
    out) and their Deny statements that touch them (cheap, not an unsat core). The policies of resources the
    property does not name are not listed (a proof about one key of a hundred named every key's statements)."""
    out: list[Reason] = []
    actions = getattr(prop, "actions", ("*",))
    wanted = matching_actions(tuple(actions), tuple(compiled.domain.actions))  # once, not per statement
    env = compiled.environment
    try:
        named = set(expand_resources(getattr(prop, "resources", ("*",)), compiled.domain))
    except InputError:
        named = {t.arn for t in compiled.domain.targets}
    policies = [k.policy for k in env.keys if k.arn in named]
    policies += [p for r in env.resources if r.arn in named and (p := resource_policy(r, env.options)) is not None]
    policies += [p.trust_policy for p in env.principals if p.trust_policy is not None and p.arn in named]
    for policy in policies:
        allow_idx: list[int] = []
        deny_idx: list[int] = []
        for st in policy.statements:
            if st.action is None:
                continue
            touches = st.action.negated or _touches(tuple(v.text for v in st.action.patterns), wanted)
            if not touches:
                continue
            (allow_idx if st.effect.value == "Allow" else deny_idx).append(st.index)
        out += statement_reasons(policy, deny_idx, "deny")
        out += statement_reasons(policy, allow_idx, "allow", "ruled out by the proof")
    return out
@lru_cache(maxsize=16384)
def _touches(names: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """Some action pattern of a statement matches one of the `wanted` actions (kept: every proof on a compiled
    environment asks it of the same statements)."""
    return any(compile_action(n).matches(a) for n in names for a in wanted)


__all__ = ["CompiledEnvironment", "check", "compile_environment", "concrete_evaluate"]
