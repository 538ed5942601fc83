"""Compiled environments: an environment encoded once over a symbolic request, with its solver.

Input: an `Environment` (or several sharing one symbolic request, e.g. both sides of a diff).
Output: `compile_environment(env) -> CompiledEnvironment` and `compiled_for(env)`, the same object for the
same environment object while it is usable (a small cache).
Guarantee: an environment whose encoding a limit interrupted (`broken`) is never handed out again; the
domain covers every key of every environment given, and the set-valued keys get enough slots.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from reasoner.errors import (
    InputError,
    ReasonerError,
    Severity,
    register_code,
)
from reasoner.semantics.environment import Environment, Key
from reasoner.source import Span
from reasoner.symbolic import smt
from reasoner.symbolic.domain import Domain, PKind, SymTarget, count_set_conditions, targets_of
from reasoner.symbolic.encode import EncodedEnvironment, Encoder
from reasoner.symbolic.solve import Solver

NO_KEYS = register_code("SYM001", Severity.ERROR, "environment has no keys or resources to reason about")
#: A guard on the size of the set encoding, far above what the small-model argument asks of real policies (the
#: corpus needs at most ~5): past it a proof is reported UNKNOWN, never PROVED.
_MAX_SLOTS = 64
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

    def encoder(self, env: Environment, like: Environment | None = None) -> Encoder:
        """The one encoder of `env` over this domain (its memos of statements and policies are reused by
        every later query; it writes into the domain's current script, whichever that is). `like`: an
        environment already encoded here from which `env` differs only in resource-side policies (lint's
        statement-removal variants): `env`'s encoder reuses its caller-side terms (`callers_alike`)."""
        hit = self.encoders.get(id(env))
        if hit is not None and hit[0] is env:
            return hit[1]
        base = self.encoders.get(id(like)) if like is not None else None
        share = base[1] if base is not None and base[0] is like and callers_alike(like, env) else None
        enc = Encoder(self.domain, env, "env" if env is self.environment else f"old{len(self.encoders)}",
                      callers_of=share)
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

    def encode_other(self, env: Environment, like: Environment | None = None) -> EncodedEnvironment:
        """The encoding of `env` over this domain: this environment's own when `env` is it (a comparison of
        an environment with itself encodes nothing again), else encoded once and kept (`like`: `encoder`)."""
        if env is self.environment:
            return self.encoded
        hit = self.others.get(id(env))
        if hit is not None and hit.environment is env:
            return hit
        enc = self.encoder(env, like).encode()
        self.others[id(env)] = enc
        return enc
def callers_alike(a: Environment, b: Environment) -> bool:
    """Whether `b` differs from `a` at most in the policies of its keys, resources and roles (key policies,
    resource policies, trust policies; everything else the same objects or equal): then every term an encoder
    derives from the callers (their cases, identity policies, boundaries, sessions, tags), the accounts and
    organizations (SCPs, RCPs), the VPC endpoints, the options and the targets' attributes (context values)
    is the same for both (`Encoder(callers_of=...)`), and only the targets' own policies need encoding."""
    if a is b:
        return True
    if not (a.options == b.options and a.accounts is b.accounts and a.sessions is b.sessions
            and a.organizations is b.organizations and a.vpc_endpoints is b.vpc_endpoints
            and a.unknowns is b.unknowns and len(a.keys) == len(b.keys) and len(a.resources) == len(b.resources)
            and len(a.principals) == len(b.principals)):
        return False
    return (all(x is y or replace(x, policy=y.policy) == y for x, y in zip(a.keys, b.keys, strict=True))
            and all(x is y or replace(x, policy=y.policy) == y for x, y in zip(a.resources, b.resources, strict=True))
            and all(x is y or replace(x, trust_policy=y.trust_policy) == y
                    for x, y in zip(a.principals, b.principals, strict=True)))


def compile_environment(environment: Environment) -> CompiledEnvironment:
    """Encode `environment` (its decision for every caller, action, key or resource and context) once."""
    start = time.perf_counter()
    targets = targets_of((environment,))
    if not targets:
        raise no_keys_error((environment,))
    counts = count_set_conditions([environment])
    domain = _domain((environment,), targets)
    capped = set_slots(domain, counts)
    solver = Solver()
    encoder = Encoder(domain, environment, "env")
    encoded = encoder.encode()
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
def _domain(envs: tuple[Environment, ...], targets: tuple[SymTarget, ...]) -> Domain:
    """The symbolic request over `targets` (keys first) of the environments `envs`: the union of the
    targets' actions, in the order the targets bring them."""
    keys: dict[str, Key] = {}
    for e in envs:
        for k in e.keys:
            keys.setdefault(k.arn, k)
    actions = tuple(dict.fromkeys(a for t in targets for a in t.actions))
    return Domain(smt.Script(), envs, actions, tuple(keys.values()), targets=targets)


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
        "the environment has no keys or resources to reason about",
        help="declare at least one key under `keys`, a resource under `resources` or a role with its "
             "`trust_policy` in the manifest",
        code=NO_KEYS,
        span=span,
    )
def set_slots(domain: Domain, counts: dict[str, int]) -> list[str]:
    """Slots per multivalued key, enough for every policy by a small-model argument (docs/set-bound.md): a
    request's set S makes each distinct set condition true or false; keeping, per condition, one element that
    witnesses its truth value where it needs one (ForAnyValue true, ForAllValues false), one element for the
    key's presence, one per encryption-context key `kms:EncryptionContextKeys` must name, and the elements
    `aws:CalledViaFirst` / `aws:CalledViaLast` must be (semantics/requestfacts.py, fact 6) gives a subset S' on
    which every condition has the same value, so a violation with any S has one with |S'| <= slots. Returns the
    keys whose need exceeds the guard `_MAX_SLOTS` (a proof is then reported as UNKNOWN)."""
    ec_refs = sum(1 for k in domain.key_literals if k.startswith("kms:encryptioncontext:"))
    capped: list[str] = []
    if any(k in domain.key_literals or k in counts for k in ("aws:calledviafirst", "aws:calledvialast")):
        counts = {**counts, "aws:calledvia": counts.get("aws:calledvia", 1)}
    for k, n in counts.items():
        need = n + (ec_refs if k == "kms:encryptioncontextkeys" else 0) + (2 if k == "aws:calledvia" else 0)
        if need > _MAX_SLOTS:
            capped.append(k)
        domain.slot_counts[k] = max(1, min(need, _MAX_SLOTS))
    return capped
_RECENT: dict[int | tuple[int, ...], CompiledEnvironment] = {}
def compiled_for(env: Environment, others: Sequence[Environment] = ()) -> CompiledEnvironment:
    """Compile once per environment object (the CLI checks many assertions against one environment); with
    `others` (the other side of a comparison), once per such tuple of objects, over the request they share
    (`compile_many`: every environment's resources, actions and literals)."""
    key: int | tuple[int, ...] = id(env) if not others else (id(env), *(id(o) for o in others))
    hit = _RECENT.get(key)
    if hit is not None and hit.environment is env and hit.broken is None and covers(hit, others):
        return hit
    compiled = compile_many(env, others) if others else compile_environment(env)
    if len(_RECENT) >= 8:
        _RECENT.pop(next(iter(_RECENT)))
    _RECENT[key] = compiled
    return compiled


def covers(compiled: CompiledEnvironment, others: Sequence[Environment]) -> bool:
    """The request of `compiled` was built over each of `others` too (their resources, actions, literals and
    callers): a comparison with them is decided over every request either side can allow."""
    envs = compiled.domain.environments
    return all(any(o is e for e in envs) for o in others)
def interrupted(compiled: CompiledEnvironment | None, why: str) -> None:
    """A limit stopped Python code that may have been half-way through encoding into `compiled`: it is not
    used again (the next check compiles the environment anew)."""
    if compiled is not None:
        compiled.broken = why
        for k in [k for k, v in _RECENT.items() if v is compiled]:
            del _RECENT[k]


def compile_many(env: Environment, others: Sequence[Environment]) -> CompiledEnvironment:
    """`compile_environment` over a request shared by several environments."""
    start = time.perf_counter()
    envs = (env, *others)
    targets = targets_of(envs)
    if not targets:
        raise no_keys_error(envs)
    domain = _domain(envs, targets)
    set_slots(domain, count_set_conditions(envs))
    encoder = Encoder(domain, env, "env")
    encoded = encoder.encode()
    compiled = CompiledEnvironment(env, domain, encoded, Solver())
    compiled.encoders[id(env)] = (env, encoder)
    compiled.flush()
    compiled.compile_seconds = time.perf_counter() - start
    return compiled
