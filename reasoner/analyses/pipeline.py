"""The symbolic pipeline: compile an environment once, then check many properties against it.

Input: an `Environment` and property values of `properties.py`.
Output: `compile_environment(env) -> CompiledEnvironment`; `check(env_or_compiled, property) -> CheckResult`
with PROVED, REFUTED (a request the concrete evaluator confirms) or UNKNOWN (timeout, resource limit,
unsupported construct, refinement budget), the responsible statements and solver statistics.
Guarantee: stages run in order (domain -> encode -> solve -> decode -> explain); one solver per compiled
environment, one assumption literal per property, refinement lemmas kept for later properties (they are
true facts about the policies' patterns); every counterexample is replayed through `evaluate.evaluate`
before it is returned, and a disagreement is an `InternalError`.
Scope: requests are KMS actions on the environment's keys (every catalogue KMS action whose resource is a
key), by every caller of every account (`domain.py`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reasoner import limits
from reasoner.analyses.explain import WORST_SOURCE, confirm, minimise, replay, statement_reasons
from reasoner.analyses.properties import (
    AccessNotGranted,
    CanAccess,
    Equivalent,
    NoNewAccess,
    OnlyPrincipalsCan,
    PrincipalScope,
    Property,
    ScopeKind,
)
from reasoner.analyses.result import CheckResult, Verdict
from reasoner.errors import (
    InputError,
    InternalError,
    ReasonerError,
    Severity,
    UnsupportedFeatureError,
    register_code,
)
from reasoner.semantics.environment import Environment
from reasoner.semantics.evaluate import evaluate as concrete_evaluate
from reasoner.semantics.patterns import compile_action
from reasoner.semantics.request import Reason, Request
from reasoner.source import Span
from reasoner.symbolic import smt
from reasoner.symbolic.decode import DecodeError, decode_request
from reasoner.symbolic.domain import Domain, PKind, StrField, count_set_conditions, key_actions
from reasoner.symbolic.encode import EncodedEnvironment, Encoder
from reasoner.symbolic.solve import DEFAULT_RLIMIT, Model, Solver, Status
from reasoner.symbolic.strings import WitnessBudgetExceeded, literal

NO_KEYS = register_code("SYM001", Severity.ERROR, "environment has no KMS keys to reason about")
BAD_PROPERTY = register_code("SYM002", Severity.ERROR, "property names no action, key or principal of the domain")

#: Refinement rounds per query before answering UNKNOWN.
MAX_REFINEMENTS = 64
_MAX_SLOTS = 8


@dataclass
class CompiledEnvironment:
    """An environment encoded once over a symbolic request, with its solver."""

    environment: Environment
    domain: Domain
    encoded: EncodedEnvironment
    solver: Solver
    others: dict[int, EncodedEnvironment] = field(default_factory=dict)
    encoders: dict[int, tuple[Environment, Encoder]] = field(default_factory=dict)
    n_props: int = 0
    compile_seconds: float = 0.0
    error: ReasonerError | None = None
    incomplete: str | None = None  # why a proof would not be complete (UNSAT is then UNKNOWN)
    broken: str | None = None  # a limit interrupted encoding into it: never used again
    _not_federated: smt.Term | None = None

    def flush(self) -> None:
        """Send everything created since the last flush (new atoms, definitions) to the solver."""
        self.domain.finalize()
        self.solver.add_script(self.domain.script)
        self.domain.script = smt.Script()

    def encoder(self, env: Environment) -> Encoder:
        """The one encoder of `env` over this domain (its memos of statements and policies are reused by
        every later query; it writes into the domain's current script, whichever that is)."""
        hit = self.encoders.get(id(env))
        if hit is not None and hit[0] is env:
            return hit[1]
        enc = Encoder(self.domain, env, "env" if env is self.environment else f"old{len(self.encoders)}")
        self.encoders[id(env)] = (env, enc)
        return enc

    def not_federated(self) -> smt.Term:
        """An assumption literal: the caller is not a federated user (a preference among counterexamples)."""
        if self._not_federated is None:
            d = self.domain
            self._not_federated = d.script.declare("pref.not_federated", smt.BOOL)
            d.script.require(smt.implies(self._not_federated, smt.not_(d.kind_is(PKind.FEDERATED))))
            self.flush()
        return self._not_federated

    def encode_other(self, env: Environment) -> EncodedEnvironment:
        hit = self.others.get(id(env))
        if hit is not None and hit.environment is env:
            return hit
        enc = self.encoder(env).encode_decision()
        self.others[id(env)] = enc
        return enc


def compile_environment(environment: Environment) -> CompiledEnvironment:
    """Encode `environment` (its KMS decision for every caller, key action, key and context) once."""
    start = time.perf_counter()
    if not environment.keys:
        raise no_keys_error((environment,))
    counts = count_set_conditions([environment])
    domain = Domain(smt.Script(), (environment,), key_actions(), tuple(environment.keys))
    capped = _set_slots(domain, counts)
    solver = Solver()
    encoder = Encoder(domain, environment, "env")
    encoded = encoder.encode_decision()
    compiled = CompiledEnvironment(environment, domain, encoded, solver)
    compiled.encoders[id(environment)] = (environment, encoder)
    if capped:
        compiled.incomplete = (
            f"multivalued keys {', '.join(sorted(capped))} are used by more than {_MAX_SLOTS} "
            "conditions; the bounded set encoding cannot prove the property"
        )
    compiled.flush()
    compiled.compile_seconds = time.perf_counter() - start
    return compiled


def no_keys_error(environments: Iterable[Environment]) -> InputError:
    """The error for environments without a KMS key, at the manifest's `keys` section (its first line when
    the section is absent or cannot be found; no span for an environment built in code)."""
    source = next((e.source for e in environments if e.source), None)
    span: Span | None = None
    if source is not None:
        line = 1
        try:
            text = Path(source).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        m = re.search(r"^keys[ \t]*:", text, re.MULTILINE)
        if m is not None:
            line = text.count("\n", 0, m.start()) + 1
            span = Span(source, line, 1, line, len("keys") + 1)
        else:
            span = Span.point(source, 1, 1)
    return InputError(
        "the environment has no KMS keys to reason about",
        help="declare at least one key under `keys` in the manifest",
        code=NO_KEYS,
        span=span,
    )


def _set_slots(domain: Domain, counts: dict[str, int]) -> list[str]:
    """Slots per multivalued key: one per condition that uses the key (a counterexample needs at most one
    set element per condition) plus one per encryption-context key the list must name. Returns the keys
    whose need exceeds `_MAX_SLOTS` (a proof is then not complete, and is reported as UNKNOWN)."""
    ec_refs = sum(1 for k in domain.key_literals if k.startswith("kms:encryptioncontext:"))
    capped: list[str] = []
    for k, n in counts.items():
        need = n + (ec_refs if k == "kms:encryptioncontextkeys" else 0)
        if need > _MAX_SLOTS:
            capped.append(k)
        domain.slot_counts[k] = max(1, min(need, _MAX_SLOTS))
    return capped


# ---- properties ------------------------------------------------------------------------------------------


def _expand_actions(patterns: Iterable[str], domain: Domain) -> list[str]:
    pats = [compile_action(p) for p in patterns]
    out = [a for a in domain.actions if any(p.matches(a) for p in pats)]
    if not out:
        raise InputError(
            f"no KMS key action matches {list(patterns)}",
            help="properties range over KMS actions whose resource is a key",
            code=BAD_PROPERTY,
        )
    return out


def _expand_resources(patterns: Iterable[str], domain: Domain) -> list[str]:
    from reasoner.semantics.patterns import compile_resource

    pats = [compile_resource(p) for p in patterns]
    out = [k.arn for k in domain.keys if any(p.matches(k.arn) for p in pats)]
    if not out:
        raise InputError(f"no key of the environment matches {list(patterns)}", code=BAD_PROPERTY)
    return out


def principal_is(domain: Domain, text: str, *, federated_sessions: bool = False) -> smt.Term:
    """The symbolic caller is `text`: an account id or root ARN (the root user), a user ARN (with
    `federated_sessions`, also any GetFederationToken session of that user), a role ARN (any session of the
    role), a role-session or federated-user ARN, or a service principal."""
    import re

    d = domain
    t = text.strip()
    if re.fullmatch(r"\d{12}", t):
        return smt.and_(d.kind_is(PKind.ROOT), d.f("acct").is_lit(t))
    if m := re.fullmatch(r"arn:aws:iam::(\d{12}):root", t):
        return smt.and_(d.kind_is(PKind.ROOT), d.f("acct").is_lit(m.group(1)))
    if m := re.fullmatch(r"arn:aws:iam::(\d{12}):user/(.+)", t):
        path, _, name = m.group(2).rpartition("/")
        named = smt.and_(
            d.f("acct").is_lit(m.group(1)),
            d.f("upath").is_lit(f"{path}/" if path else ""),
            d.f("uname").is_lit(name),
        )
        if not federated_sessions:
            return smt.and_(d.kind_is(PKind.USER), named)
        # a declared federated user of this source, or an undeclared one whose source (domain.fed_source_arn)
        # is this user
        known = list(d.known_federated())
        declared = smt.or_(g for g, s, _, _ in known if s.source == t)
        undeclared = smt.and_(d.kind_is(PKind.FEDERATED), smt.not_(smt.or_(g for g, _, _, _ in known)), named)
        return smt.or_(smt.and_(d.kind_is(PKind.USER), named), declared, undeclared)
    if m := re.fullmatch(r"arn:aws:iam::(\d{12}):role/(.+)", t):
        path, _, name = m.group(2).rpartition("/")
        return smt.and_(
            d.kind_is(PKind.SESSION),
            d.f("acct").is_lit(m.group(1)),
            d.f("role").atom(literal(name, ignore_case=True)),
            # the path of a role the environment does not describe is the one the ARN spells, or one the
            # counterexample does not record (`rpath` empty: the evaluator compares the role name only)
            smt.or_(
                d.role_known(),
                d.f("rpath").atom(literal(f"{path}/" if path else "", ignore_case=True)),
                d.f("rpath").atom(literal("")),
            ),
        )
    if m := re.fullmatch(r"arn:aws:sts::(\d{12}):assumed-role/([^/]+)/(.+)", t):
        return smt.and_(
            d.kind_is(PKind.SESSION),
            d.f("acct").is_lit(m.group(1)),
            d.f("role").is_lit(m.group(2)),
            d.f("sess").is_lit(m.group(3)),
        )
    if m := re.fullmatch(r"arn:aws:sts::(\d{12}):federated-user/(.+)", t):
        return smt.and_(d.kind_is(PKind.FEDERATED), d.f("acct").is_lit(m.group(1)), d.f("fed").is_lit(m.group(2)))
    if re.fullmatch(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com", t):
        return smt.and_(d.kind_is(PKind.SERVICE), d.f("svc").is_lit(t))
    raise InputError(f"`{text}` is not an account id, principal ARN or service principal", code=BAD_PROPERTY)


def in_scope(domain: Domain, env: Environment, scope: PrincipalScope) -> smt.Term:
    d = domain
    service = d.kind_is(PKind.SERVICE)
    if scope.kind is ScopeKind.ANY:
        return smt.TRUE
    if scope.kind is ScopeKind.OUTSIDE_ACCOUNTS:
        return smt.or_(service, smt.not_(smt.or_(d.f("acct").is_lit(a) for a in scope.values)))
    if scope.kind is ScopeKind.OUTSIDE_ORGANIZATIONS:
        inside = [a.id for a in env.accounts if a.organization in scope.values]
        # an account the environment does not declare may be in an organization it does not declare
        declared = {o.id for o in env.organizations} | {a.organization for a in env.accounts if a.organization}
        open_orgs = [v for v in scope.values if v not in declared]
        member: smt.Term = smt.FALSE
        if open_orgs:
            member = smt.and_(
                smt.not_(smt.or_(d.f("acct").is_lit(a.id) for a in env.accounts)),
                d.unknown_in_org(),
                smt.or_(d.unknown_field("org").is_lit(v) for v in open_orgs),
            )
        return smt.or_(service, smt.not_(smt.or_(member, *(d.f("acct").is_lit(a) for a in inside))))
    return smt.or_(principal_is(d, v, federated_sessions=True) for v in scope.values)


def _scope_holds(env: Environment, scope: PrincipalScope, request: Request) -> bool:
    """Concrete twin of `in_scope` (for replay), with what the counterexample assumes (`Request.assumed`):
    the organization of an account the environment does not declare, a federated user's source user."""
    import re

    principal, assumed_org = request.principal, request.assumed.get("org")
    if scope.kind is ScopeKind.ANY:
        return True
    m = re.match(r"arn:aws:(?:iam|sts)::(\d{12}):", principal)
    account = m.group(1) if m else None
    if scope.kind is ScopeKind.OUTSIDE_ACCOUNTS:
        return account is None or account not in scope.values
    if scope.kind is ScopeKind.OUTSIDE_ORGANIZATIONS:
        inside = {a.id for a in env.accounts if a.organization in scope.values}
        if account is not None and env.account(account) is None and assumed_org in scope.values:
            return False
        return account is None or account not in inside
    return any(_principal_matches(v, env, request) for v in scope.values)


def _principal_matches(text: str, env: Environment, request: Request) -> bool:
    """Concrete twin of `principal_is(..., federated_sessions=True)`."""
    import re

    t = text.strip()
    principal = request.principal
    if re.fullmatch(r"\d{12}", t):
        t = f"arn:aws:iam::{t}:root"
    if re.fullmatch(r"arn:aws:iam::(\d{12}):user/(.+)", t) and re.fullmatch(
        r"arn:aws:sts::\d{12}:federated-user/.+", principal
    ):
        session = env.session(principal)
        return (session.source if session is not None else request.assumed.get("fedsource")) == t
    if m := re.fullmatch(r"arn:aws:iam::(\d{12}):role/(.+)", t):
        s = re.fullmatch(r"arn:aws:sts::(\d{12}):assumed-role/([^/]+)/(.+)", principal)
        path, _, name = m.group(2).rpartition("/")
        if not (s and s.group(1) == m.group(1) and s.group(2).lower() == name.lower()):
            return False
        # a role the environment does not describe has the path the counterexample assumes (none: the
        # name decides, as `evaluate._role_matches` compares it)
        described = env.role_named(s.group(1), s.group(2)) is not None
        assumed = request.assumed.get("rolepath", "").lower()
        return described or not assumed or assumed == (f"{path}/" if path else "").lower()
    return t == principal


# ---- checking --------------------------------------------------------------------------------------------

_RECENT: dict[int, CompiledEnvironment] = {}


def _compiled_for(env: Environment) -> CompiledEnvironment:
    """Compile once per environment object (the CLI checks many assertions against one environment)."""
    hit = _RECENT.get(id(env))
    if hit is not None and hit.environment is env and hit.broken is None:
        return hit
    compiled = compile_environment(env)
    if len(_RECENT) >= 8:
        _RECENT.pop(next(iter(_RECENT)))
    _RECENT[id(env)] = compiled
    return compiled


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
) -> CheckResult:
    """Check one property: PROVED, REFUTED with a counterexample the concrete evaluator confirmed, or UNKNOWN
    with the reason (timeout, resource limit, pattern too complex, memory limit, unsupported construct, each
    with its span where it has one).

    `env_or_compiled` is an `Environment` (compiled on first use and cached by identity) or the result of
    `compile_environment`; `timeout` is wall-clock seconds for everything the check does (compiling the
    environment on first use included; never beyond an enclosing `limits.budget`), `rlimit` Z3's resource
    limit per solver call (None: the default), `dump_smt2` a path that receives the exact SMT-LIB query."""
    start = time.perf_counter()
    compiled: CompiledEnvironment | None = None
    with limits.budget(limits.seconds_or_default(timeout), DEFAULT_RLIMIT if rlimit is None else rlimit):
        try:
            if isinstance(env_or_compiled, CompiledEnvironment):
                compiled = env_or_compiled
                if compiled.broken is not None:  # an earlier analysis was interrupted while encoding
                    compiled = compile_environment(compiled.environment)
            else:
                compiled = _compiled_for(env_or_compiled)
            if isinstance(prop, CanAccess):
                result = _check_can_access(compiled, prop, dump_smt2)
            else:
                result = _check_violation(compiled, prop, dump_smt2)
        except UnsupportedFeatureError as exc:
            return _unknown(prop, exc, start, "unsupported: ")
        except limits.OutOfBudget as exc:
            _interrupted(compiled, exc.message)
            return _unknown(prop, exc, start)
        except MemoryError:
            _interrupted(compiled, limits.memory_reason())
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
    )


def _interrupted(compiled: CompiledEnvironment | None, why: str) -> None:
    """A limit stopped Python code that may have been half-way through encoding into `compiled`: it is not
    used again (the next check compiles the environment anew)."""
    if compiled is not None:
        compiled.broken = why
        if _RECENT.get(id(compiled.environment)) is compiled:
            del _RECENT[id(compiled.environment)]


def _violation(compiled: CompiledEnvironment, prop: Property) -> tuple[smt.Term, list[Environment]]:
    d = compiled.domain
    env = compiled.environment
    new = compiled.encoded
    if isinstance(prop, AccessNotGranted):
        term = smt.and_(
            new.allows,
            in_scope(d, env, prop.scope),
            d.action_in(_expand_actions(prop.actions, d)),
            d.key_in(_expand_resources(prop.resources, d)),
        )
        return term, [env]
    if isinstance(prop, OnlyPrincipalsCan):
        allowed_p = smt.or_(principal_is(d, p, federated_sessions=True) for p in prop.principals)
        term = smt.and_(
            new.allows,
            smt.not_(allowed_p),
            d.action_in(_expand_actions(prop.actions, d)),
            d.key_in(_expand_resources(prop.resources, d)),
        )
        return term, [env]
    if isinstance(prop, NoNewAccess | Equivalent):
        old = compiled.encode_other(prop.old)
        scope = smt.and_(d.action_in(_expand_actions(prop.actions, d)), d.key_in(_expand_resources(prop.resources, d)))
        if isinstance(prop, NoNewAccess):
            diff = smt.and_(new.allows, smt.not_(old.allows))
        else:
            diff = smt.not_(smt.iff(new.allows, old.allows))
        return smt.and_(scope, diff), [env, prop.old]
    raise InputError(f"unknown property `{type(prop).__name__}`", code=BAD_PROPERTY)


def _concretely_violates(prop: Property, envs: list[Environment], request: Request) -> bool:
    env = envs[0]
    allowed = replay(env, request)[0].decision.allowed
    if isinstance(prop, AccessNotGranted):
        return allowed and _scope_holds(env, prop.scope, request)
    if isinstance(prop, OnlyPrincipalsCan):
        return allowed and not any(_principal_matches(p, env, request) for p in prop.principals)
    old_allowed = replay(envs[1], request)[0].decision.allowed
    if isinstance(prop, NoNewAccess):
        return allowed and not old_allowed
    return allowed != old_allowed


def _check_violation(compiled: CompiledEnvironment, prop: Property, dump_smt2: str | Path | None) -> CheckResult:
    d = compiled.domain
    term, envs = _violation(compiled, prop)
    compiled.n_props += 1
    lit = d.script.declare(f"prop.{compiled.n_props}", smt.BOOL)
    d.script.require(smt.implies(lit, term))
    compiled.flush()
    try:
        return _refine(compiled, prop, lit, envs)
    finally:
        if dump_smt2 is not None:  # the query with every lemma the refinement added
            Path(dump_smt2).write_text(compiled.solver.to_smt2([lit]))


@dataclass
class Refined:
    """The end of one refinement loop: SAT with a decoded request (not yet replayed), UNSAT, or UNKNOWN with
    the reason."""

    status: Status
    request: Request | None = None
    model: Model | None = None
    reason: str | None = None


def refine(
    compiled: CompiledEnvironment, lit: smt.Term, stats: dict[str, float], *, prefer_plain: bool = False
) -> Refined:
    """The one solve -> decode -> lemma -> retry loop (check, can-access, findings, diff and lint): at most
    `MAX_REFINEMENTS` rounds, every solver call under the active `limits.budget`. `prefer_plain` asks once
    more, without federated users, when the model's caller is one (their requests read less plainly)."""
    d = compiled.domain
    for rounds in range(MAX_REFINEMENTS):
        limits.tick()
        out = compiled.solver.check([lit])
        stats.update(out.stats)
        stats["refinements"] = rounds
        if out.status is not Status.SAT:
            return Refined(out.status, reason=out.reason)
        assert out.model is not None
        if prefer_plain and out.model[d.pkind] == PKind.FEDERATED.value:
            plain = compiled.solver.check([lit, compiled.not_federated()])
            if plain.status is Status.SAT and plain.model is not None:
                out = plain
                stats.update(out.stats)
        model = out.model
        assert model is not None
        try:
            decoded = decode_request(d, model)
        except (DecodeError, WitnessBudgetExceeded) as exc:
            return Refined(Status.UNKNOWN, reason=f"no concrete request for the model: {exc}")
        if decoded.request is None:
            compiled.solver.add_lemmas(decoded.lemmas)
            continue
        return Refined(Status.SAT, decoded.request, model)
    return Refined(Status.UNKNOWN, reason=f"no concrete request after {MAX_REFINEMENTS} refinements")


def _refine(compiled: CompiledEnvironment, prop: Property, lit: smt.Term, envs: list[Environment]) -> CheckResult:
    """A violation of `prop`: a counterexample the concrete evaluator confirms, a proof, or a limit."""
    d = compiled.domain
    stats: dict[str, float] = {"compile_seconds": compiled.compile_seconds}
    found = refine(compiled, lit, stats, prefer_plain=True)
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
    evaluation, note = confirm(envs[0], request, claimed[0], f"property {type(prop).__name__}")
    if len(envs) > 1:
        confirm(envs[1], request, claimed[1], "the old environment")
    if not _concretely_violates(prop, envs, request):
        raise InternalError(f"counterexample `{request}` does not violate the property when replayed")
    small = minimise(request, lambda r: _concretely_violates(prop, envs, r), d.f("upath").lits)
    evaluation, note = replay(envs[0], small)
    reasons = tuple(evaluation.reasons) + ((note,) if note else ())
    return CheckResult(
        prop,
        Verdict.REFUTED,
        counterexample=small,
        evaluation=evaluation,
        responsible=reasons,
        stats=stats,
    )


def _check_can_access(compiled: CompiledEnvironment, prop: CanAccess, dump_smt2: str | Path | None) -> CheckResult:
    """CanAccess holds iff for every (action, key) some context lets `principal` in. A pair with no such
    context refutes it; the counterexample is that request with an empty context (denied for every
    context, so the replay must deny it)."""
    d = compiled.domain
    env = compiled.environment
    who = principal_is(d, prop.principal)
    stats: dict[str, float] = {"compile_seconds": compiled.compile_seconds}
    responsible: list[Reason] = []
    for action in _expand_actions(prop.actions, d):
        for arn in _expand_resources(prop.resources, d):
            compiled.n_props += 1
            lit = d.script.declare(f"prop.{compiled.n_props}", smt.BOOL)
            d.script.require(
                smt.implies(lit, smt.and_(compiled.encoded.allows, who, d.action_is(action), d.key_in([arn])))
            )
            compiled.flush()
            if dump_smt2 is not None:
                Path(dump_smt2).write_text(compiled.solver.to_smt2([lit]))
            found = refine(compiled, lit, stats)
            if found.status is Status.UNKNOWN:
                return CheckResult(prop, Verdict.UNKNOWN, reason=found.reason, stats=stats)
            if found.status is Status.UNSAT:
                if compiled.incomplete:
                    return CheckResult(prop, Verdict.UNKNOWN, reason=compiled.incomplete, stats=stats)
                request = Request(_concrete_principal(prop.principal), action, arn, {})
                evaluation, note = confirm(env, request, False, "a denied CanAccess request")
                reasons = tuple(evaluation.reasons) + ((note,) if note else ())
                return CheckResult(
                    prop,
                    Verdict.REFUTED,
                    counterexample=request,
                    evaluation=evaluation,
                    responsible=reasons,
                    stats=stats,
                )
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


def _concrete_principal(text: str) -> str:
    """A caller for CanAccess's counterexample: the root user for an account, a session for a role."""
    import re

    t = text.strip()
    if re.fullmatch(r"\d{12}", t):
        return f"arn:aws:iam::{t}:root"
    if m := re.fullmatch(r"arn:aws:iam::(\d{12}):role/(.+)", t):
        return f"arn:aws:sts::{m.group(1)}:assumed-role/{m.group(2).rsplit('/', 1)[-1]}/example"
    return t


def _responsible(compiled: CompiledEnvironment, prop: Property) -> list[Reason]:
    """For a proof: the key-policy statements that could grant the property's actions (the allows the
    proof had to rule out) and every Deny statement of the key policies (cheap, not an unsat core)."""
    out: list[Reason] = []
    actions = getattr(prop, "actions", ("*",))
    pats = [compile_action(a) for a in actions]
    for k in compiled.environment.keys:
        allow_idx: list[int] = []
        deny_idx: list[int] = []
        for st in k.policy.statements:
            if st.action is None:
                continue
            names = [v.text for v in st.action.patterns]
            touches = st.action.negated or any(
                compile_action(n).matches(a)
                for n in names
                for a in compiled.domain.actions
                if any(p.matches(a) for p in pats)
            )
            if not touches:
                continue
            (allow_idx if st.effect.value == "Allow" else deny_idx).append(st.index)
        out += statement_reasons(k.policy, deny_idx, "deny")
        out += statement_reasons(k.policy, allow_idx, "allow", "ruled out by the proof")
    return out


__all__ = ["CompiledEnvironment", "check", "compile_environment", "concrete_evaluate"]


# ---- pinned requests (differential testing) ------------------------------------------------------------


def _pin_field(f: StrField, value: str) -> list[smt.Term]:
    if value in f.index:
        return [smt.eq(f.sel, smt.int_(f.index[value]))]
    f.atom(literal(value))
    return [f.is_other()]


def _pin_atoms(f: StrField, value: str) -> list[smt.Term]:
    out = [a if nfa.accepts(value) else smt.not_(a) for nfa, (a, _) in f.atoms.items()]
    if value not in f.index:
        from fractions import Fraction

        from reasoner.semantics.values import parse_bool, parse_instant, parse_ip_address, parse_number

        for (name, fam), view in f.domain.views.items():
            if name != f.name:
                continue
            if fam in ("numeric", "date"):
                parsed = (parse_number if fam == "numeric" else parse_instant)(value)
                out.append(view["ok"] if parsed is not None else smt.not_(view["ok"]))
                if parsed is not None:
                    out.append(smt.eq(view["v"], smt.real(Fraction(parsed))))
            elif fam == "bool":
                pb = parse_bool(value)
                out.append(smt.eq(view["b"], "0" if pb is None else "1" if pb else "2"))
            elif fam == "binary":
                from reasoner.semantics.values import decode_base64

                data = decode_base64(value)
                bid = -1 if data is None else f.domain.byte_ids.get(data, 0)
                out.append(smt.eq(view["bytes"], smt.int_(bid)))
            elif fam == "ip":
                addr = parse_ip_address(value)
                if addr is None:
                    out.append(smt.eq(view["fam"], "0"))
                elif addr.version == 4:
                    out += [smt.eq(view["fam"], "4"), smt.eq(view["v4"], smt.bv(int(addr), 32))]
                else:
                    out += [smt.eq(view["fam"], "6"), smt.eq(view["v6"], smt.bv(int(addr), 128))]
    return out


def pin_request(compiled: CompiledEnvironment, request: Request) -> smt.Term:
    """The constraint that fixes the symbolic request to `request` (every variable the decision reads).
    Raises ValueError for a request outside the domain (another action, an unknown key, a caller form the
    domain does not model, more values than a multivalued key has slots)."""
    import re

    from reasoner.semantics.catalog import canonical_action

    d = compiled.domain
    t = request.principal
    fields: dict[str, str] = {}
    if m := re.fullmatch(r"arn:aws:iam::(\d{12}):root", t):
        kind, fields = PKind.ROOT, {"acct": m.group(1)}
    elif m := re.fullmatch(r"arn:aws:iam::(\d{12}):user/(.+)", t):
        path, _, name = m.group(2).rpartition("/")
        kind, fields = PKind.USER, {"acct": m.group(1), "upath": f"{path}/" if path else "", "uname": name}
    elif m := re.fullmatch(r"arn:aws:sts::(\d{12}):assumed-role/([^/]+)/(.+)", t):
        kind, fields = PKind.SESSION, {"acct": m.group(1), "role": m.group(2), "sess": m.group(3)}
        if not any(env.role_named(m.group(1), m.group(2)) for env in d.environments):
            # an undescribed role's path: as the counterexample assumes it, else `/` (what the evaluator uses);
            # a described role's path is fixed by the domain
            fields["rpath"] = request.assumed.get("rolepath", "")
    elif m := re.fullmatch(r"arn:aws:sts::(\d{12}):federated-user/(.+)", t):
        kind, fields = PKind.FEDERATED, {"acct": m.group(1), "fed": m.group(2)}
        # the source user of a federated user an environment does not declare: as the counterexample assumes
        # it, else the user nothing names that `explain.augment_caller` declares
        src = re.fullmatch(r"arn:aws:iam::\d{12}:user/(.+)", request.assumed.get("fedsource", ""))
        path, _, name = src.group(1).rpartition("/") if src else ("", "", WORST_SOURCE)
        fields["upath"] = f"{path}/" if path else ""
        fields["uname"] = name
    elif re.fullmatch(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com", t):
        kind, fields = PKind.SERVICE, {"svc": t}
    else:
        raise ValueError(f"principal `{t}` is outside the symbolic domain")
    for name, value in fields.items():
        f = d.f(name)
        if not all(h.accepts(value) for h in f.hard):
            raise ValueError(f"`{value}` does not have the shape of field `{name}`")
    if (spelled := d.misspelled_known_name(kind, fields)) is not None:
        raise ValueError(f"principal `{t}` names the known `{spelled}` in another spelling")
    action = canonical_action(request.action) or request.action
    key = d.key_index(request.resource)
    if action not in d.actions or key is None:
        raise ValueError("action or resource outside the symbolic domain")
    from reasoner.semantics.catalog import condition_key_may_exist

    # keys that never exist for the action are dropped (as `evaluate._derive` does) before anything else
    given = {
        k: tuple(v)
        for k, v in request.context.items()
        if not (k.lower().startswith("kms:") and condition_key_may_exist(k.lower(), action) is False)
    }
    ctx = {k.lower(): v for k, v in given.items()}
    if "kms:encryptioncontextkeys" not in ctx:
        ec = tuple(k.split(":", 2)[2] for k in given if k.lower().startswith("kms:encryptioncontext:"))
        if ec:
            ctx["kms:encryptioncontextkeys"] = ec
    parts: list[smt.Term] = [
        d.kind_is(kind),
        smt.eq(d.act, smt.int_(d.actions.index(action))),
        smt.eq(d.res, smt.int_(key)),
    ]
    pinned: list[tuple[StrField, str]] = []
    for name, value in fields.items():
        parts += _pin_field(d.f(name), value)
        pinned.append((d.f(name), value))
    for key_name, raw in d.raw.items():
        values = ctx.get(key_name, ())
        if len(values) > len(raw.present):
            raise ValueError(f"more values for `{key_name}` than the encoding has slots")
        for i, (p, f) in enumerate(zip(raw.present, raw.fields, strict=True)):
            if i < len(values):
                parts.append(p)
                parts += _pin_field(f, values[i])
                pinned.append((f, values[i]))
            else:
                parts.append(smt.not_(p))
    # what AWS derives for a caller the environment does not describe: as the request assumes it, else what
    # `explain.augment_caller` replays without the fact (no organization, no principal tag)
    # an organization an environment declares is closed: a fact that puts an undeclared account in it is
    # ignored, as `explain.augment_caller` / `augment_key_owner` ignore it
    closed = frozenset().union(*(e.declared_organizations() for e in d.environments))
    facts = {
        k: v
        for k, v in request.assumed.items()
        if not (k in ("org", "orgpath") and request.assumed.get("org") in closed)
        and not (k in ("keyorg", "keyorgpath") and request.assumed.get("keyorg") in closed)
    }
    for view, fact, names in (
        ("p.inorg", "org", (("org", "org"), ("orgpath", "orgpath"))),
        ("r.inorg", "keyorg", (("rorg", "keyorg"), ("rorgpath", "keyorgpath"))),
    ):
        inorg = d.views_bool.get(view)
        if inorg is None:
            continue
        parts.append(inorg if fact in facts else smt.not_(inorg))
        for name, key_name in names if fact in facts else ():
            if name in d.fields:
                if not all(h.accepts(facts.get(key_name, "")) for h in d.fields[name].hard):
                    raise ValueError(f"assumed `{facts.get(key_name, '')}` does not have the shape of `{name}`")
                parts += _pin_field(d.fields[name], facts.get(key_name, ""))
                pinned.append((d.fields[name], facts.get(key_name, "")))
    tags = {k[4:].lower(): v for k, v in facts.items() if k.startswith("tag:")}
    for name, present in list(d.views_bool.items()):
        if name.startswith("p.tag."):
            tag = name[len("p.tag.") :]
            parts.append(present if tag in tags else smt.not_(present))
            if tag in tags:
                parts += _pin_field(d.fields[name], tags[tag])
                pinned.append((d.fields[name], tags[tag]))
    for name in ("uid", "rid"):
        if "uid" in facts and name in d.fields and facts["uid"].startswith("AIDA" if name == "uid" else "AROA"):
            parts += _pin_field(d.fields[name], facts["uid"])
            pinned.append((d.fields[name], facts["uid"]))
    compiled.flush()
    for f, value in pinned:
        parts += _pin_atoms(f, value)
    return smt.and_(parts)


def decide(compiled: CompiledEnvironment, request: Request, *, timeout: float | None = None) -> bool | None:
    """The symbolic decision (allowed or not) for one concrete request, or None when the solver cannot tell
    or the encoding is not deterministic for it (both an ALLOW and a deny model exist: a bug)."""
    d = compiled.domain
    pin = pin_request(compiled, request)
    compiled.n_props += 1
    yes = d.script.declare(f"pin.{compiled.n_props}.allow", smt.BOOL)
    no = d.script.declare(f"pin.{compiled.n_props}.deny", smt.BOOL)
    d.script.require(smt.implies(yes, smt.and_(pin, compiled.encoded.allows)))
    d.script.require(smt.implies(no, smt.and_(pin, smt.not_(compiled.encoded.allows))))
    compiled.flush()
    with limits.budget(limits.seconds_or_default(timeout)):
        a = compiled.solver.check([yes])
        b = compiled.solver.check([no])
    if a.status is Status.UNKNOWN or b.status is Status.UNKNOWN:
        return None
    if (a.status is Status.SAT) == (b.status is Status.SAT):
        raise InternalError(
            f"the encoding is not deterministic for `{request}`: allow {a.status.value}, deny {b.status.value}"
        )
    return a.status is Status.SAT
