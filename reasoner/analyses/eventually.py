"""Who can *eventually* get access: chains of requests that change who a principal is or what the policies say.

Input: a compiled environment (`compiled.py`) and an `Eventually` property (`properties.py`): an
`AccessNotGranted` or `OnlyPrincipalsCan` claim read over chains of steps (`semantics/steps.py`: assuming a
role, passing a role to code, creating a grant, writing a key, resource, trust or identity policy), with an
optional bound on the number of steps.
Output: `check_chains(compiled, prop) -> CheckResult`: PROVED (no chain, of any length or of at most the bound,
from any principal the claim is about reaches the access), REFUTED with the chain (`CheckResult.chain`: each
step a concrete request replayed through `evaluate.evaluate` in the environment as the previous steps left it,
then the access itself as the counterexample), or UNKNOWN with the reason. `Fixpoint` is the same fixpoint for
other analyses (`escalation.py`: escalation paths of findings).
Guarantee: PROVED only when the last round of the fixpoint found no step it had not taken (an unsat query
over every modelled step not yet taken), the access is unsat in the over-approximated final state, no step
that is not modelled (`steps.UNMODELLED`) is open to a held principal where it matters, and no role the chain
could need lacks its trust policy. REFUTED only with a chain that the concrete evaluator replays, step by step,
in the environment each step leaves, from a principal the claim is about. Every solver witness is replayed
in the abstract environment it was found in (`explain.confirm`): a disagreement is an `InternalError`.
Algorithm (docs/eventually.md): the adversary is the class of principals the claim is about (`START`, a
symbolic term, as `findings` uses classes), plus every role it has reached. The abstract state is one
environment that over-approximates every environment a chain can reach: a written policy lets everyone in
(`Principal: *`, Deny statements gone), a grant is given to every held principal, a role reached is held for
good. Each round asks, on the one compiled domain (`CompiledEnvironment.encode_other`), "some held principal
can take some step not taken yet" until unsat, then applies the steps found; the access query runs after every
round. A satisfiable access is made concrete by replaying the steps found from one start principal (the
witnesses' callers), greedily, then minimised (every step that the access does not need is dropped).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache

from reasoner import limits
from reasoner.analyses.compiled import CompiledEnvironment
from reasoner.analyses.conditions import (
    expand_actions,
    expand_resources,
    in_scope,
    principal_is,
    principal_matches,
    resource_term,
    scope_holds,
)
from reasoner.analyses.explain import augment_all, confirm, replay
from reasoner.analyses.findings import Engine
from reasoner.analyses.properties import (
    AccessNotGranted,
    Eventually,
    OnlyPrincipalsCan,
    PrincipalScope,
    ScopeKind,
)
from reasoner.analyses.result import ChainStep, CheckResult, Verdict
from reasoner.errors import InputError, InternalError
from reasoner.front.ast import Effect as StatementEffect
from reasoner.front.ast import PolicyDocument, PolicyKind
from reasoner.semantics import arns
from reasoner.semantics.catalog import KMS_GRANT_OPERATIONS
from reasoner.semantics.environment import (
    BlockPublicAccess,
    Environment,
    Grant,
    Key,
    Principal,
    PrincipalKind,
    Resource,
    Session,
)
from reasoner.semantics.evaluate import match_action
from reasoner.semantics.request import Evaluation, Reason, Request
from reasoner.semantics.resources import governing_arn, resource_type_of
from reasoner.semantics.steps import CODE_SERVICES, STEPS, UNMODELLED, CodeService, Effect, Matters, Step
from reasoner.symbolic import smt
from reasoner.symbolic.domain import PARTITION, Domain, PKind, SymTarget, modelled_principal
from reasoner.symbolic.solve import Status

#: The node of the adversary's start class (the principals the claim is about).
START = "<start>"
#: Rounds of the fixpoint before UNKNOWN (each round takes at least one new step, and there are finitely many).
MAX_ROUNDS = 64
#: Session name of the sessions a chain obtains when no witness names one.
SESSION_NAME = "chain"

_WRITTEN = "<written by the chain>"


@dataclass(frozen=True)
class ChainOptions:
    """Assumptions of the model of chains (docs/eventually.md), each with its default."""

    #: an `sts:ExternalId` value a trust policy names is a secret the principals in scope do not know (the IAM
    #: guide's confused-deputy protection): a chain supplies none, or a value no policy names. False: a chain
    #: may supply any value.
    external_ids_secret: bool = True
    #: a role the environment declares without a trust policy may be assumable by anyone (the trust policy is
    #: not known): it is held from the start, and a claim that needs it is UNKNOWN. False: nobody assumes it.
    roles_without_trust_policy_open: bool = True
    #: the accounts besides an organization's management account that may change its SCPs and RCPs (delegated
    #: administrators of policy management, which the environment does not record); `("*",)`: any member
    #: account. Default: none, only the management account.
    policy_admin_accounts: tuple[str, ...] = ()


# ---- the start class -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """The principals a claim is about (the adversary's start class): a scope of `AccessNotGranted`, or
    everyone but the principals of `OnlyPrincipalsCan` (`only`)."""

    scope: PrincipalScope | None = None
    only: tuple[str, ...] = ()

    @staticmethod
    def of(claim: AccessNotGranted | OnlyPrincipalsCan) -> Start:
        if isinstance(claim, AccessNotGranted):
            return Start(scope=claim.scope)
        return Start(only=claim.principals)

    def term(self, compiled: CompiledEnvironment) -> smt.Term:
        d = compiled.domain
        if self.scope is not None:
            return in_scope(d, compiled.environment, self.scope)
        return smt.not_(smt.or_(principal_is(d, p, federated_sessions=True) for p in self.only))

    def contains(self, env: Environment, request: Request) -> bool:
        """Concrete twin of `term`."""
        if self.scope is not None:
            return scope_holds(env, self.scope, request)
        return not any(principal_matches(p, env, request) for p in self.only)

    def holds(self, env: Environment, principal: str) -> bool:
        """`contains` for a principal written as a caller or as a role / user ARN (a role: every one of its
        sessions, so not when the claim names one session of it)."""
        m = modelled_principal(principal)
        if isinstance(m, arns.RoleArn):
            named = self.only if self.scope is None else (
                self.scope.values if self.scope.kind is ScopeKind.PRINCIPALS else ())
            for v in named:
                s = modelled_principal(v)
                if isinstance(s, arns.AssumedRoleArn) and s.account == m.account \
                        and s.role_name.lower() == m.name.lower():
                    return False
        return self.contains(env, Request(_caller_of(principal), "sts:GetCallerIdentity", "*"))


def _caller_of(principal: str) -> str:
    """A caller ARN for a principal ARN: a session of a role, the root user of an account id."""
    m = modelled_principal(principal)
    if isinstance(m, arns.RoleArn):
        return arns.format(m.session(SESSION_NAME))
    if arns.is_account_id(principal):
        return arns.format(arns.RootArn(PARTITION, principal))
    return principal


def _grantee_of(caller: str) -> str | None:
    """The principal a grant or a policy names for a caller: the role of a session, else the caller's ARN (None
    for callers no policy can name: providers, anonymous)."""
    m = modelled_principal(caller)
    if isinstance(m, arns.AssumedRoleArn):
        return arns.format(m.role())
    if isinstance(m, arns.RootArn | arns.UserArn | arns.FederatedUserArn):
        return caller
    return None


def _account_of(principal: str) -> str | None:
    identity = arns.parse_identity(principal)
    return identity.account if identity is not None and arns.is_account_id(identity.account) else None


# ---- written policies ----------------------------------------------------------------------------------


@cache
def _doc(text: str, kind: PolicyKind, name: str) -> PolicyDocument:
    from reasoner.front.parse import parse_policy

    return parse_policy(text, file=name, kind=kind)


def written_policy(kind: PolicyKind, principal: object = "*", actions: object = "*",
                   name: str = _WRITTEN) -> PolicyDocument:
    """A policy a chain writes: one Allow of `actions` to `principal` (`*`: everyone), on every resource (an
    identity policy: no principal)."""
    st: dict[str, object] = {"Sid": "WrittenByTheChain", "Effect": "Allow"}
    if kind is not PolicyKind.IDENTITY and kind is not PolicyKind.PERMISSIONS_BOUNDARY:
        st["Principal"] = principal
    st["Action"] = actions
    if kind is not PolicyKind.TRUST:
        st["Resource"] = "*"
    text = json.dumps({"Version": "2012-10-17", "Statement": [st]}, indent=1, sort_keys=True)
    return _doc(text, kind, name)


def _without_denies(policy: PolicyDocument) -> PolicyDocument:
    return replace(policy, statements=tuple(st for st in policy.statements if st.effect is not StatementEffect.DENY))


def _with_statement(policy: PolicyDocument | None, added: PolicyDocument) -> PolicyDocument:
    if policy is None:
        return added
    extra = tuple(replace(st, index=len(policy.statements) + i) for i, st in enumerate(added.statements))
    return replace(policy, statements=policy.statements + extra)


#: What a trust policy a chain writes allows: every AWS principal may assume the role (a chain's principals are
#: AWS principals: a web identity or SAML user takes no step but AssumeRoleWith*, so it never writes a policy).
_TRUST_PRINCIPAL = {"AWS": "*"}
_TRUST_ACTIONS = ["sts:AssumeRole", "sts:SetContext", "sts:SetSourceIdentity", "sts:TagSession"]


def _resource_kind(arn: str) -> PolicyKind:
    return PolicyKind.KEY_POLICY if arn.split(":")[2:3] == ["kms"] else PolicyKind.RESOURCE


# ---- the abstract state ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """A step the fixpoint found possible in round `round`: a request of `step.action` on `target` by a
    principal of node `actor` (`START` or a held role's ARN), `witness` the request the solver found (replayed
    in the abstract environment of that round); `service` the code service of a PassRole step."""

    step: Step
    target: str
    actor: str
    witness: Request
    round: int
    service: CodeService | None = None
    #: the operations a grant step may give (`kms:` names)
    ops: frozenset[str] = frozenset()

    @property
    def key(self) -> tuple[str, str]:
        return _effect_key(self.step.effect, self.target)

    def describe(self) -> str:
        who = "a principal in scope" if self.actor == START else f"a session of {self.actor}"
        svc = f" (to {self.service.principal})" if self.service is not None else ""
        if self.ops:
            svc = f" (a grant of {', '.join(sorted(o[4:] for o in self.ops))})"
        return f"{who} can call {self.step.action}{svc} on {self.target}"


def _effect_key(effect: Effect, target: str) -> tuple[str, str]:
    group = {
        Effect.ASSUME: "held", Effect.PASS_ROLE: "held", Effect.GRANT: "grant",
        Effect.REPLACE_RESOURCE_POLICY: "policy", Effect.ADD_RESOURCE_STATEMENT: "statement",
        Effect.DELETE_RESOURCE_POLICY: "delete", Effect.SHARE: "share", Effect.REMOVE_PUBLIC_ACCESS_BLOCK: "bpa",
        Effect.REPLACE_TRUST_POLICY: "trust", Effect.ADD_IDENTITY_POLICY: "identity+",
        Effect.REMOVE_IDENTITY_POLICY: "identity-", Effect.REPLACE_BOUNDARY: "boundary",
        Effect.REMOVE_BOUNDARY: "boundary",
    }[effect]
    return (group, target)


#: What makes a step redundant: a replaced policy subsumes an added statement and a deleted policy.
_SUBSUMED_BY: dict[str, tuple[str, ...]] = {"statement": ("policy",), "delete": ("policy",)}


@dataclass
class State:
    """What the adversary has reached: the roles it holds (with the round they were reached in; 0: held because
    their trust policy is not known) and the effects it has had."""

    held: dict[str, int] = field(default_factory=dict)
    achieved: dict[tuple[str, str], int] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)
    #: per key, the operations of the grants the adversary can make
    grant_ops: dict[str, set[str]] = field(default_factory=dict)

    def done(self, effect: Effect, target: str) -> bool:
        if effect in (Effect.ASSUME, Effect.PASS_ROLE):
            return target in self.held
        if effect is Effect.GRANT:
            return self.grant_ops.get(target, set()) >= KMS_GRANT_OPERATIONS
        group, arn = _effect_key(effect, target)
        return (group, arn) in self.achieved or any((g, arn) in self.achieved for g in _SUBSUMED_BY.get(group, ()))


class Fixpoint:
    """The fixpoint of the steps the start class can take (see the module docstring)."""

    def __init__(self, compiled: CompiledEnvironment, start: Start, options: ChainOptions | None = None) -> None:
        self.compiled = compiled
        self.engine = Engine(compiled)
        self.env = compiled.environment
        self.start = start
        self.options = options or ChainOptions()
        self.state = State()
        self.rounds = 0
        self.incomplete: list[str] = []
        self._in_start: dict[str, bool] = {}
        self._abstract: Environment = self.env
        self._start_term: smt.Term | None = None
        self._targets = {t.arn: t for t in compiled.domain.targets}
        self._unknown_trust: list[str] = []
        for p in self.env.principals:
            if p.kind is PrincipalKind.ROLE and p.trust_policy is None and not self.in_start(p.arn):
                self._unknown_trust.append(p.arn)
                if self.options.roles_without_trust_policy_open:
                    self.state.held[p.arn] = 0
        self._start_grantees = [a for a in self._declared_identities() if self.in_start(a)]

    # ---- terms ----

    @property
    def domain(self) -> Domain:
        return self.compiled.domain

    def start_term(self) -> smt.Term:
        if self._start_term is None:
            self._start_term = self.start.term(self.compiled)
        return self._start_term

    def held_term(self) -> smt.Term:
        d = self.domain
        return smt.or_(principal_is(d, r) for r in sorted(self.state.held))

    def actors(self) -> smt.Term:
        """Who takes steps: the start class (AWS service principals excepted: they act for the resources they
        serve, never on their own) and every held role."""
        d = self.domain
        return smt.or_(smt.and_(self.start_term(), smt.not_(d.kind_is(PKind.SERVICE))), self.held_term())

    def adversary(self) -> smt.Term:
        """Who performs the access: the start class and every held role."""
        return smt.or_(self.start_term(), self.held_term())

    def allows(self) -> smt.Term:
        return self.engine.encoded(self._abstract)

    @property
    def abstract(self) -> Environment:
        return self._abstract

    # ---- the abstract environment ----

    def _declared_identities(self) -> list[str]:
        """The principals a grant can name for the declared members of a class: declared users, roles (their
        sessions), sessions, and the root users of the accounts the environment names."""
        out = [p.arn for p in self.env.principals] + [s.arn for s in self.env.sessions]
        accounts = {a.id for a in self.env.accounts} | {acct for p in out if (acct := _account_of(p))}
        out += [arns.format(arns.RootArn(PARTITION, a)) for a in sorted(accounts)]
        return list(dict.fromkeys(out))

    def rebuild(self) -> None:
        """The abstract environment of the current state (over-approximates every environment a chain reaches);
        the same object for the same state of the same start class, so that a later check on the same compiled
        environment reuses its encoding."""
        key = (self.start, tuple(sorted(self.state.held)), tuple(sorted(self.state.achieved)),
               tuple(sorted((k, tuple(sorted(v))) for k, v in self.state.grant_ops.items())))
        memo = _abstract_memo(self.compiled)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = self._build()
        self._abstract = hit

    def _build(self) -> Environment:
        env = self.env
        done = self.state.achieved
        held = sorted(self.state.held)
        grantees = [*held, *self._start_grantees]
        open_all = written_policy(PolicyKind.KEY_POLICY)
        keys: list[Key] = []
        for k in env.keys:
            policy, grants = k.policy, list(k.grants)
            if ("policy", k.arn) in done:
                policy = open_all
            ops = frozenset(self.state.grant_ops.get(k.arn, ()))
            if ops:
                grants += [Grant(g, ops, name=f"eventually:{g}") for g in grantees]
                # the start class's members the environment does not declare: a statement for everyone
                policy = _with_statement(policy, written_policy(PolicyKind.KEY_POLICY, "*", sorted(ops)))
            changed = policy is not k.policy or len(grants) != len(k.grants)
            keys.append(replace(k, policy=policy, grants=tuple(grants)) if changed else k)
        cleared_accounts: set[str] = set()
        resources: list[Resource] = []
        for r in env.resources:
            new = r
            if ("policy", r.arn) in done:
                new = replace(new, policy=written_policy(PolicyKind.RESOURCE))
                rt = resource_type_of(r.arn)
                if rt is not None and rt.service in ("s3", "s3express"):
                    # a chain names its own principals (never public): no Block Public Access setting restricts
                    new = replace(new, block_public_access=None)
                    cleared_accounts.add(r.account)
            else:
                if ("statement", r.arn) in done:
                    new = replace(new, policy=_with_statement(new.policy, written_policy(PolicyKind.RESOURCE)))
                if ("delete", r.arn) in done and new.policy is not None:
                    new = replace(new, policy=_without_denies(new.policy))
            if ("bpa", r.arn) in done:
                new = replace(new, block_public_access=None)
            if ("share", r.arn) in done:
                attrs = {k: v for k, v in new.attributes.items() if k != "snapshot_block_public_access"}
                new = replace(new, shared_with=tuple(dict.fromkeys((*new.shared_with, "all"))), attributes=attrs)
            resources.append(new)
        principals: list[Principal] = []
        for p in env.principals:
            new_p = p
            if ("trust", p.arn) in done:
                new_p = replace(new_p, trust_policy=written_policy(PolicyKind.TRUST, _TRUST_PRINCIPAL,
                                                                          _TRUST_ACTIONS))
            if ("identity-", p.arn) in done:
                new_p = replace(new_p, identity_policies=tuple(_without_denies(x) for x in new_p.identity_policies))
            if ("identity+", p.arn) in done:
                new_p = replace(new_p, identity_policies=(*new_p.identity_policies,
                                                          written_policy(PolicyKind.IDENTITY)))
            if ("boundary", p.arn) in done:
                new_p = replace(new_p, permissions_boundary=None)
            principals.append(new_p)
        accounts = tuple(replace(a, block_public_access=None) if a.id in cleared_accounts else a
                         for a in env.accounts)
        return replace(env, keys=tuple(keys), resources=tuple(resources), principals=tuple(principals),
                       accounts=accounts)

    # ---- rounds ----

    def _extra(self, step: Step, target: SymTarget, service: CodeService | None = None,
               ops_wanted: str | None = None) -> smt.Term:
        """What a step needs besides being allowed: no known external id (per option), a self-grant (not one
        made through an AWS service, and to a grantee the adversary may be), the role passed to the service."""
        d = self.domain
        if step.effect is Effect.ASSUME and self.options.external_ids_secret:
            raw = d.raw.get("sts:externalid")
            if raw is not None:
                return smt.or_(smt.not_(raw.present[0]), raw.fields[0].is_other())
        if step.effect is Effect.GRANT:
            parts: list[smt.Term] = []
            # a grant made through an AWS service names the service's principal (the caller does not choose)
            for name in ("kms:viaservice", "kms:grantisforawsresource", "aws:viaawsservice"):
                via = d.raw.get(name)
                if via is not None:
                    parts.append(smt.not_(via.present[0]))
            ops = d.raw.get("kms:grantoperations")
            missing = sorted(o[4:] for o in KMS_GRANT_OPERATIONS - self.state.grant_ops.get(target.arn, set()))
            if ops is not None and ops_wanted is not None:
                parts.append(smt.or_(smt.and_(p, f.is_lit(ops_wanted)) for p, f in zip(ops.present, ops.fields,
                                                                                       strict=True)))
            elif ops is not None:
                parts.append(smt.or_(smt.and_(p, f.is_lit(o)) for p, f in zip(ops.present, ops.fields, strict=True)
                                     for o in missing))
            grantee = d.raw.get("kms:granteeprincipal")
            if grantee is not None:
                f = grantee.fields[0]
                ok = [f.is_lit(v) for v in f.lits if self._may_be_adversary(v)]
                parts.append(smt.and_(grantee.present[0], smt.or_(f.is_other(), *ok)))
            return smt.and_(parts)
        if step.effect is Effect.PASS_ROLE and service is not None:
            raw = d.raw.get("iam:passedtoservice")
            if raw is not None:
                return smt.and_(raw.present[0], raw.fields[0].is_lit(service.principal))
        return smt.TRUE

    def _may_be_adversary(self, principal: str) -> bool:
        if principal in self.state.held:
            return True
        try:
            return self.in_start(principal)
        except InputError:
            return False

    def candidates(self) -> list[tuple[Step, SymTarget]]:
        """Every modelled step on every target that the state has not taken."""
        out: list[tuple[Step, SymTarget]] = []
        for t in self.domain.targets:
            if t.rtype is None:
                continue
            for step in STEPS:
                if step.on != (t.rtype.service, t.rtype.name) or step.action not in t.actions:
                    continue
                if self.state.done(step.effect, t.arn):
                    continue
                if step.effect in (Effect.ASSUME, Effect.PASS_ROLE) and self.in_start(t.arn):
                    continue  # the start class already holds every session of the role
                out.append((step, t))
        return out

    def round(self) -> list[Fact]:
        """One round: every step not taken yet that some held principal can take in the current abstract state
        (one query per step found, then one unsat query over the rest)."""
        self.rounds += 1
        d = self.domain
        allows = self.allows()
        actors = self.actors()
        pending = self.candidates()
        found: list[Fact] = []
        terms: dict[tuple[str, str], smt.Term] = {}
        for step, t in pending:
            terms[(step.action, t.arn)] = smt.and_(allows, actors, d.action_is(step.action), d.target_is(t),
                                                   self._extra(step, t))
        by_key = {(s.action, t.arn): (s, t) for s, t in pending}
        while terms:
            limits.tick()
            status, req, why = self.engine.solve(smt.or_(terms.values()))
            if status is Status.UNKNOWN:
                raise Undecided(why or "solver returned unknown")
            if status is Status.UNSAT:
                break
            assert req is not None
            confirm(self._abstract, req, True, "a step of a chain")
            key = (req.action, governing_arn(req.resource))
            if key not in by_key:
                raise InternalError(f"the witness `{req}` of a step is none of the steps asked for")
            step, t = by_key[key]
            del terms[key]
            if step.effect is Effect.PASS_ROLE:
                fact = self._pass_role(step, t, req, allows, actors)
                if fact is not None:
                    found.append(fact)
                continue
            if step.effect is Effect.GRANT:
                found.append(self._grant(step, t, req, allows, actors))
                continue
            found.append(Fact(step, t.arn, self._node(req), req, self.rounds))
        return found

    def _grant(self, step: Step, t: SymTarget, witness: Request, allows: smt.Term, actors: smt.Term) -> Fact:
        """A self-grant on a key, with every operation the policies let the adversary put in it (one query per
        operation when a policy reads kms:GrantOperations)."""
        d = self.domain
        have = self.state.grant_ops.get(t.arn, set())
        if d.raw.get("kms:grantoperations") is None or not _reads(self._abstract, "kms:grantoperations"):
            ops = set(KMS_GRANT_OPERATIONS)  # no policy limits the operations of a grant
        else:
            ops = set()
            for op in sorted(KMS_GRANT_OPERATIONS - have):
                status, _, why = self.engine.solve(smt.and_(allows, actors, d.action_is(step.action),
                                                            d.target_is(t), self._extra(step, t, None, op[4:])))
                if status is Status.UNKNOWN:
                    raise Undecided(why or "solver returned unknown")
                if status is Status.SAT:
                    ops.add(op)
        return Fact(step, t.arn, self._node(witness), witness, self.rounds, ops=frozenset(ops | have))

    def _pass_role(self, step: Step, t: SymTarget, witness: Request, allows: smt.Term,
                   actors: smt.Term) -> Fact | None:
        """PassRole to a code service that may assume the role (its trust policy, in the abstract state)."""
        d = self.domain
        for svc in CODE_SERVICES:
            status, _, why = self.engine.solve(smt.and_(allows, principal_is(d, svc.principal),
                                                        d.action_is("sts:AssumeRole"), d.target_is(t)))
            if status is Status.UNKNOWN:
                raise Undecided(why or "solver returned unknown")
            if status is not Status.SAT:
                continue
            status, req, why = self.engine.solve(smt.and_(allows, actors, d.action_is(step.action), d.target_is(t),
                                                          self._extra(step, t, svc)))
            if status is Status.UNKNOWN:
                raise Undecided(why or "solver returned unknown")
            if status is Status.SAT and req is not None:
                confirm(self._abstract, req, True, "a PassRole step of a chain")
                return Fact(step, t.arn, self._node(req), req, self.rounds, svc)
        return None

    def _node(self, request: Request) -> str:
        """The node a witness's caller belongs to: the start class, else the held role of its session."""
        if self.start.contains(self._abstract, request):
            return START
        for r in sorted(self.state.held):
            if principal_matches(r, self._abstract, request):
                return r
        raise InternalError(f"the caller `{request.principal}` of a witness is neither in scope nor a held role")

    def apply(self, facts: Sequence[Fact]) -> None:
        for fact in facts:
            self.state.facts.append(fact)
            if fact.step.effect in (Effect.ASSUME, Effect.PASS_ROLE):
                self.state.held.setdefault(fact.target, fact.round)
            elif fact.step.effect is Effect.GRANT:
                self.state.grant_ops.setdefault(fact.target, set()).update(fact.ops)
                self.state.achieved.setdefault(fact.key, fact.round)
                self._grant_caveat(fact.target)
            else:
                self.state.achieved.setdefault(fact.key, fact.round)
        self.rebuild()

    def _grant_caveat(self, key_arn: str) -> None:
        """A grant the chain makes to a member of the start class the environment does not declare is modelled as
        a key-policy statement for everyone, which (across accounts) also needs an identity-policy allow. The
        members for which that differs: principals without identity policies, in an account whose IAM is given
        (other than the key's), that some role of their account lets in by a wildcard or an undeclared name."""
        key = self.env.key(key_arn)
        if key is None:
            return
        for a in self.env.accounts:
            if a.id == key.account or not a.iam_known:
                continue
            if not self.start.holds(self.env, a.id) and not self.start.holds(
                    self.env, arns.format(arns.UserArn(PARTITION, a.id, "", "reasoner-undeclared"))):
                continue
            for p in self.env.principals:
                if p.kind is PrincipalKind.ROLE and p.arn.split(":")[4] == a.id and p.trust_policy is not None \
                        and _admits_undeclared(p.trust_policy, self.env):
                    why = (f"a grant on `{key_arn}` to a principal of account {a.id} the environment does not "
                           f"declare (reached through `{p.arn}`, whose trust policy admits undeclared principals) "
                           "is not modelled exactly")
                    if why not in self.incomplete:
                        self.incomplete.append(why)

    # ---- goal ----

    def goal_term(self, actions: Sequence[str], resources: Sequence[str]) -> smt.Term:
        d = self.domain
        return smt.and_(self.allows(), self.adversary(), d.action_in(actions), resource_term(d, resources))

    def goal_witnesses(self, goal: smt.Term) -> list[tuple[str, Request]]:
        """One witness of the access per node (the start class, each held role) that has one."""
        d = self.domain
        out: list[tuple[str, Request]] = []
        for node in [START, *sorted(self.state.held)]:
            who = self.start_term() if node == START else principal_is(d, node)
            status, req, why = self.engine.solve(smt.and_(goal, who))
            if status is Status.UNKNOWN:
                raise Undecided(why or "solver returned unknown")
            if status is Status.SAT and req is not None:
                confirm(self._abstract, req, True, "an access at the end of a chain")
                out.append((node, req))
        return out

    # ---- steps that are not modelled ----

    def unmodelled(self) -> list[str]:
        """The steps of `steps.UNMODELLED` that a held principal may take where they matter (a necessary
        condition: an Allow statement of its identity policies whose Action matches, or its IAM not given)."""
        out: list[str] = []
        for account, policies, who in self._unmodelled_actors():
            for u in UNMODELLED:
                if not self._matters(u.matters, account, u.action):
                    continue
                if policies is None or _may_allow(policies, u.action):
                    out.append(f"{who} may call {u.action} ({u.reason})")
        return list(dict.fromkeys(out))

    def _unmodelled_actors(self) -> list[tuple[str, tuple[PolicyDocument, ...] | None, str]]:
        env = self._abstract
        out: list[tuple[str, tuple[PolicyDocument, ...] | None, str]] = []

        def policies(p: Principal) -> tuple[PolicyDocument, ...] | None:
            account = p.arn.split(":")[4]
            acct = env.account(account)
            if acct is not None and not acct.iam_known and env.options.unknown_iam_worst_case:
                return None
            return p.identity_policies

        for r in sorted(self.state.held):
            p = env.principal(r)
            if p is not None:
                out.append((r.split(":")[4], policies(p), f"a session of `{r}`"))
        for p in env.principals:
            if p.arn not in self.state.held and self.in_start(p.arn):
                out.append((p.arn.split(":")[4], policies(p), f"`{p.arn}` (in scope)"))
        accounts = {a.id for a in env.accounts} | {p.arn.split(":")[4] for p in env.principals}
        for a in sorted(accounts):
            if self.in_start(a):
                out.append((a, None, f"the root user of account {a} (in scope)"))
        return out

    def in_start(self, principal: str) -> bool:
        """`Start.holds` in the environment as given, memoised."""
        hit = self._in_start.get(principal)
        if hit is None:
            hit = self._in_start[principal] = self.start.holds(self.env, principal)
        return hit

    def _matters(self, matters: Matters, account: str, action: str) -> bool:
        env = self.env
        outside = [p for p in env.principals if p.arn.split(":")[4] == account and not self.in_start(p.arn)
                   and p.arn not in self.state.held]
        if matters is Matters.USER:
            return any(p.kind is PrincipalKind.USER for p in outside)
        if matters is Matters.POLICY:
            return bool(outside)
        if matters is Matters.EXISTING_CODE:
            return any(p.kind is PrincipalKind.ROLE for p in outside)
        if matters is Matters.NEW_PRINCIPAL:
            return not self.in_start(account)
        if matters is Matters.ORGANIZATION:
            admins = set(self.options.policy_admin_accounts)
            return any((o.scps or o.rcps) and (account == o.management_account or account in admins or (
                "*" in admins and any(a.id == account and a.organization == o.id for a in env.accounts)))
                for o in env.organizations)
        # Matters.SETTING
        if action == "s3:PutAccountPublicAccessBlock":
            acct = env.account(account)
            return acct is not None and acct.block_public_access is not None
        return any(e.account == account for e in env.vpc_endpoints)


def _may_allow(policies: Sequence[PolicyDocument], action: str) -> bool:
    """Some Allow statement of the identity policies matches `action` (its Action), and no Deny statement denies
    it whatever the request (no condition, every resource): a necessary condition for an identity-policy allow."""
    allowed = any(st.effect is StatementEffect.ALLOW and match_action(st.action, action)
                  for pol in policies for st in pol.statements)
    denied = any(st.effect is StatementEffect.DENY and st.condition is None and match_action(st.action, action)
                 and st.resource is not None and not st.resource.negated
                 and any(v.text == "*" for v in st.resource.patterns)
                 for pol in policies for st in pol.statements)
    return allowed and not denied


def _reads(env: Environment, key: str) -> bool:
    """Some condition of some policy of `env` reads context key `key` (lower case)."""
    from reasoner.symbolic.domain import iter_policies

    return any(c.key.text.lower() == key for pol in iter_policies(env) for st in pol.statements
               if st.condition is not None for c in st.condition.conditions)


_MEMO: dict[int, tuple[CompiledEnvironment, dict[object, Environment]]] = {}


def _abstract_memo(compiled: CompiledEnvironment) -> dict[object, Environment]:
    """The abstract environments built over `compiled` (a few compiled environments at a time)."""
    hit = _MEMO.get(id(compiled))
    if hit is not None and hit[0] is compiled:
        return hit[1]
    if len(_MEMO) >= 8:
        _MEMO.pop(next(iter(_MEMO)))
    memo: dict[object, Environment] = {}
    _MEMO[id(compiled)] = (compiled, memo)
    return memo


def _admits_undeclared(trust: PolicyDocument, env: Environment) -> bool:
    """Some Allow of the trust policy names a wildcard principal, or a user or role the environment does not
    declare."""
    declared = {p.arn for p in env.principals}
    for st in trust.statements:
        if st.effect is not StatementEffect.ALLOW or st.principal is None:
            continue
        if st.principal.negated or st.principal.wildcard:
            return True
        for e in st.principal.entries:
            m = modelled_principal(e.value.text)
            if "*" in e.value.text or (isinstance(m, arns.UserArn | arns.RoleArn) and e.value.text not in declared):
                return True
    return False


class Undecided(Exception):
    """The solver could not decide a query of the fixpoint (the reason is the message)."""


# ---- making a chain concrete ----------------------------------------------------------------------------


@dataclass
class _Concrete:
    """A chain being replayed: the environment it has made so far, the start principal, the sessions it holds
    (role ARN -> session ARN), the steps taken."""

    env: Environment
    p0: str
    sessions: dict[str, str] = field(default_factory=dict)
    steps: list[ChainStep] = field(default_factory=list)
    items: list[tuple[Fact, str | None]] = field(default_factory=list)
    notes: list[Reason] = field(default_factory=list)
    source_identity: str | None = None

    def identity(self, node: str) -> str | None:
        return self.p0 if node == START else self.sessions.get(node)

    def identities(self) -> list[str]:
        return [self.p0, *self.sessions.values()]


@dataclass(frozen=True)
class Chain:
    """A replayed chain: its steps, the access at its end (allowed), the start principal."""

    steps: tuple[ChainStep, ...]
    access: Request
    evaluation: Evaluation
    start: Request  # the witness whose caller starts the chain (with what it assumes about the caller)
    notes: tuple[Reason, ...] = ()


class Concretizer:
    """Replays the facts of a fixpoint from one start principal (see the module docstring)."""

    def __init__(self, fix: Fixpoint, goal_actions: Sequence[str]) -> None:
        self.fix = fix
        self.env = fix.env
        self.goal_actions = list(goal_actions)
        self.facts = sorted(fix.state.facts, key=lambda f: f.round)
        self._tags: dict[str, dict[str, str]] = {}
        self._names: dict[str, str] = {}

    def run(self, goals: Sequence[tuple[str, Request]]) -> Chain | None:
        for node, w in [*goals, *((f.actor, f.witness) for f in self.facts)]:
            if node != START and node not in self._names:
                m = modelled_principal(w.principal)
                if isinstance(m, arns.AssumedRoleArn):
                    self._names[node] = m.session_name
                    self._tags[node] = {k[4:]: v for k, v in w.assumed.items() if k.startswith("tag:")}
        starts: list[Request] = []
        for node, w in [*goals, *((f.actor, f.witness) for f in self.facts)]:
            if node == START and all(s.principal != w.principal for s in starts):
                starts.append(w)
        for first in starts:
            limits.tick()
            found = self._forward(first, goals)
            if found is not None:
                return self._minimise(first, goals, found)
        return None

    # -- one replay --

    def _begin(self, first: Request) -> _Concrete:
        env, notes = augment_all(self.env, first)
        return _Concrete(env, first.principal, notes=list(notes))

    def _forward(self, first: Request, goals: Sequence[tuple[str, Request]]) -> list[tuple[Fact, str | None]] | None:
        ch = self._begin(first)
        for _ in range(len(self.facts) * 4 + 1):
            if self._reach(ch, goals) is not None:
                return list(ch.items)
            progressed = False
            for fact in self.facts:
                if any(f is fact for f, _ in ch.items):
                    continue
                if self._apply(ch, fact, None):
                    progressed = True
                    break
            if not progressed:
                return None
        return None

    def _replay_items(self, first: Request, items: Sequence[tuple[Fact, str | None]]) -> _Concrete | None:
        ch = self._begin(first)
        for fact, param in items:
            if not self._apply(ch, fact, param, exact=True):
                return None
        return ch

    def _minimise(self, first: Request, goals: Sequence[tuple[str, Request]],
                  items: list[tuple[Fact, str | None]]) -> Chain | None:
        current = list(items)
        i = len(current) - 1
        while i >= 0:
            trial = current[:i] + current[i + 1:]
            ch = self._replay_items(first, trial)
            if ch is not None and self._reach(ch, goals) is not None:
                current = trial
            i -= 1
        ch = self._replay_items(first, current)
        if ch is None:
            return None
        reached = self._reach(ch, goals)
        if reached is None:
            return None
        access, evaluation, note = reached
        notes = [*ch.notes, *([note] if note is not None else [])]
        return Chain(tuple(ch.steps), access, evaluation, first, tuple(dict.fromkeys(notes)))

    def _reach(self, ch: _Concrete, goals: Sequence[tuple[str, Request]]
               ) -> tuple[Request, Evaluation, Reason | None] | None:
        for node, w in goals:
            who = ch.identity(node)
            if who is None:
                continue
            req = self._retarget(w, who, ch)
            ev, note = self._eval(ch, req)
            if ev is not None and ev.decision.allowed:
                return req, ev, note
        return None

    # -- requests --

    def _retarget(self, w: Request, who: str, ch: _Concrete, **context: tuple[str, ...]) -> Request:
        ctx = dict(w.context)
        ctx.update(context)
        if who != ch.p0 and ch.source_identity is not None and who in ch.sessions.values():
            ctx["aws:SourceIdentity"] = (ch.source_identity,)
        assumed = dict(w.assumed) if who == w.principal == ch.p0 else {}
        return Request(who, w.action, w.resource, ctx, assumed)

    def _eval(self, ch: _Concrete, req: Request) -> tuple[Evaluation | None, Reason | None]:
        try:
            return replay(ch.env, req)
        except InputError:
            return None, None

    def _allowed(self, ch: _Concrete, req: Request) -> Evaluation | None:
        ev, note = self._eval(ch, req)
        if ev is None or not ev.decision.allowed:
            return None
        if note is not None and note not in ch.notes:
            ch.notes.append(note)
        return ev

    # -- steps --

    def _apply(self, ch: _Concrete, fact: Fact, param: str | None, *, exact: bool = False) -> bool:
        who = ch.identity(fact.actor)
        if who is None:
            return False
        effect = fact.step.effect
        if effect is Effect.ASSUME:
            return self._assume(ch, fact, who)
        if effect is Effect.PASS_ROLE:
            return self._pass_role(ch, fact, who)
        if effect is Effect.GRANT:
            return self._grant(ch, fact, who, param, exact)
        req = self._retarget(fact.witness, who, ch)
        ev = self._allowed(ch, req)
        if ev is None:
            return False
        what = self._write(ch, fact)
        ch.steps.append(ChainStep(req, ev, what))
        ch.items.append((fact, None))
        return True

    def _session(self, role_arn: str, name: str) -> str:
        m = modelled_principal(role_arn)
        assert isinstance(m, arns.RoleArn)
        return arns.format(m.session(name))

    def _assume(self, ch: _Concrete, fact: Fact, who: str) -> bool:
        role = fact.target
        w = fact.witness
        name = self._names.get(role, SESSION_NAME)
        given = {k.lower(): v for k, v in w.context.items()}
        if given.get("sts:rolesessionname"):
            name = given["sts:rolesessionname"][0]
        # session tags: those the later requests of the session need, those the trust policy asked for, none
        asked = {k.split("/", 1)[1]: v[0] for k, v in w.context.items()
                 if k.lower().startswith("aws:requesttag/") and v}
        options = [t for t in (self._tags.get(role, {}), asked, {}) if t or t == {}]
        source = ch.source_identity or (given.get("sts:sourceidentity") or (None,))[0]
        for tags in [dict(t) for t in dict.fromkeys(tuple(sorted(o.items())) for o in options)]:
            with_tags = bool(tags)
            ctx: dict[str, tuple[str, ...]] = {k: v for k, v in w.context.items()
                                               if not k.lower().startswith("aws:requesttag/")
                                               and k.lower() not in ("aws:tagkeys", "sts:sourceidentity")}
            if with_tags:
                for k, v in tags.items():
                    ctx[f"aws:RequestTag/{k}"] = (v,)
                ctx["aws:TagKeys"] = tuple(tags)
            if source is not None:
                ctx["sts:SourceIdentity"] = (source,)
            req = self._retarget(replace(w, context={}), who, ch, **ctx)
            ev = self._allowed(ch, req)
            if ev is None:
                continue
            also: list[Evaluation] = []
            if with_tags:
                tag_ev = self._allowed(ch, replace(req, action="sts:TagSession"))
                if tag_ev is None:
                    continue
                also.append(tag_ev)
            if source is not None and ch.source_identity is None:
                si_ev = self._allowed(ch, replace(req, action="sts:SetSourceIdentity"))
                if si_ev is None:
                    continue
                also.append(si_ev)
            session = self._session(role, name)
            if with_tags:
                ch.env = replace(ch.env, sessions=(*ch.env.sessions, Session(session, role, tags=dict(tags))))
            ch.sessions[role] = session
            if source is not None:
                ch.source_identity = source
            extra = f" with session tags {', '.join(f'{k}={v}' for k, v in tags.items())}" if with_tags else ""
            ch.steps.append(ChainStep(req, ev, f"gets the session `{session}`{extra}", tuple(also)))
            ch.items.append((fact, None))
            return True
        return False

    def _pass_role(self, ch: _Concrete, fact: Fact, who: str) -> bool:
        svc = fact.service
        assert svc is not None
        role = fact.target
        account = role.split(":")[4]
        region = next((k.region for k in self.env.keys), "us-east-1")
        pass_req = self._retarget(fact.witness, who, ch, **{"iam:PassedToService": (svc.principal,)})
        ev = self._allowed(ch, pass_req)
        if ev is None:
            return False
        start_arn = svc.start_arn.format(region=region, account=account)
        start_ev = self._allowed(ch, Request(who, svc.start, start_arn, {}))
        if start_ev is None:
            return False
        assume_ev = None
        for ctx in ({"aws:SourceAccount": (account,)}, {}):
            assume_ev = self._allowed(ch, Request(svc.principal, "sts:AssumeRole", role, ctx))
            if assume_ev is not None:
                break
        if assume_ev is None:
            return False
        session = self._session(role, f"{svc.principal.split('.')[0]}-{SESSION_NAME}")
        ch.sessions[role] = session
        ch.steps.append(ChainStep(pass_req, ev, f"passes `{role}` to {svc.principal}, whose code ({svc.start}) runs "
                                  f"as the session `{session}`", (start_ev, assume_ev)))
        ch.items.append((fact, None))
        return True

    def _grant(self, ch: _Concrete, fact: Fact, who: str, param: str | None, exact: bool) -> bool:
        key = ch.env.key(fact.target)
        if key is None:
            return False
        w = fact.witness
        grantees = [param] if param is not None else list(dict.fromkeys(
            g for i in ch.identities() if (g := _grantee_of(i)) is not None))
        wanted = [a for a in self.goal_actions if a in fact.ops]
        given_ops = next((v for k, v in w.context.items() if k.lower() == "kms:grantoperations"), ())
        op_sets = [tuple(sorted(o[4:] for o in wanted))] if wanted else []
        if given_ops:
            op_sets.append(tuple(given_ops))
        op_sets.append(tuple(sorted(o[4:] for o in fact.ops)))
        base = {k: v for k, v in w.context.items()
                if k.lower() not in ("kms:granteeprincipal", "kms:grantoperations", "kms:viaservice",
                                     "kms:grantisforawsresource")}
        made = False
        for g in grantees:
            if any(existing.grantee == g and existing.name == "chain" for existing in key.grants):
                continue
            for ops in dict.fromkeys(op_sets):
                if not ops:
                    continue
                req = self._retarget(replace(w, context={}), who, ch, **base,
                                     **{"kms:GranteePrincipal": (g,), "kms:GrantOperations": ops})
                ev = self._allowed(ch, req)
                if ev is None:
                    continue
                ec = {k.split(":", 2)[2]: v[0] for k, v in req.context.items()
                      if k.lower().startswith("kms:encryptioncontext:") and v}
                grant = Grant(g, frozenset(f"kms:{o}" for o in ops), encryption_context_subset=ec or None,
                              name="chain")
                key = replace(key, grants=(*key.grants, grant))
                ch.env = replace(ch.env, keys=tuple(key if k.arn == key.arn else k for k in ch.env.keys))
                ch.steps.append(ChainStep(req, ev, f"creates a grant on `{key.arn}` for `{g}` "
                                          f"({', '.join(ops)})"))
                ch.items.append((fact, g))
                made = True
                break
        return made

    def _write(self, ch: _Concrete, fact: Fact) -> str:
        """Apply a policy-changing step to the chain's environment; what it did, in words."""
        env = ch.env
        arn = fact.target
        effect = fact.step.effect
        n = len(ch.steps) + 1
        name = f"<written by step {n}>"
        if effect is Effect.REPLACE_TRUST_POLICY:
            doc = written_policy(PolicyKind.TRUST, _TRUST_PRINCIPAL, _TRUST_ACTIONS, name)
            ch.env = _with_principal(env, arn, lambda p: replace(p, trust_policy=doc))
            return f"replaces the trust policy of `{arn}` with one that lets everyone assume it"
        if effect is Effect.ADD_IDENTITY_POLICY:
            doc = written_policy(PolicyKind.IDENTITY, name=name)
            ch.env = _with_principal(env, arn, lambda p: replace(p, identity_policies=(*p.identity_policies, doc)))
            return f"adds an identity policy allowing everything to `{arn}`"
        if effect is Effect.REMOVE_IDENTITY_POLICY:
            ch.env = _with_principal(env, arn, lambda p: replace(p, identity_policies=tuple(
                x for x in p.identity_policies if all(st.effect is not StatementEffect.DENY for st in x.statements))))
            return f"removes the identity policies of `{arn}` that have Deny statements"
        if effect in (Effect.REPLACE_BOUNDARY, Effect.REMOVE_BOUNDARY):
            ch.env = _with_principal(env, arn, lambda p: replace(p, permissions_boundary=None))
            return f"removes the permissions boundary of `{arn}`"
        if effect is Effect.REPLACE_RESOURCE_POLICY:
            doc = written_policy(_resource_kind(arn), self._principals(ch, arn), "*", name)
            ch.env = _with_resource_policy(env, arn, lambda _old: doc)
            return f"replaces the policy of `{arn}` with one that allows everything to " \
                f"{_shown(self._principals(ch, arn))}"
        if effect is Effect.ADD_RESOURCE_STATEMENT:
            doc = written_policy(_resource_kind(arn), self._principals(ch, arn), "*", name)
            ch.env = _with_resource_policy(env, arn, lambda old: _with_statement(old, doc))
            return f"adds a statement allowing everything to {_shown(self._principals(ch, arn))} to the policy " \
                f"of `{arn}`"
        if effect is Effect.DELETE_RESOURCE_POLICY:
            ch.env = _with_resource_policy(env, arn, lambda _old: None)
            return f"deletes the policy of `{arn}`"
        if effect is Effect.REMOVE_PUBLIC_ACCESS_BLOCK:
            ch.env = replace(env, resources=tuple(replace(r, block_public_access=BlockPublicAccess())
                                                  if r.arn == arn else r for r in env.resources))
            return f"turns off the Block Public Access settings of `{arn}`"
        # Effect.SHARE
        accounts = sorted({a for i in ch.identities() if (a := _account_of(i)) is not None})
        ch.env = replace(env, resources=tuple(replace(r, shared_with=tuple(dict.fromkeys((*r.shared_with, *accounts))))
                                              if r.arn == arn else r for r in env.resources))
        return f"shares `{arn}` with account{'s' if len(accounts) > 1 else ''} {', '.join(accounts)}"

    def _principals(self, ch: _Concrete, arn: str) -> object:
        """The principals a written resource policy names: everyone, except for S3 buckets (a public bucket
        policy may be refused or restricted by Block Public Access): the chain's principals and the roles the
        fixpoint holds."""
        rt = resource_type_of(arn)
        if rt is None or rt.service not in ("s3", "s3express"):
            return "*"
        named = [g for i in ch.identities() if (g := _grantee_of(i)) is not None]
        named += [r for r in sorted(self.fix.state.held) if self.fix.state.held[r] > 0]
        return {"AWS": list(dict.fromkeys(named))} if named else "*"


def _shown(principal: object) -> str:
    if principal == "*":
        return "everyone"
    if isinstance(principal, dict):
        return ", ".join(f"`{p}`" for p in principal.get("AWS", []))
    return str(principal)


def _with_principal(env: Environment, arn: str, change: Callable[[Principal], Principal]) -> Environment:
    return replace(env, principals=tuple(change(p) if p.arn == arn else p for p in env.principals))


def _with_resource_policy(env: Environment, arn: str,
                          change: Callable[[PolicyDocument | None], PolicyDocument | None]) -> Environment:
    keys = []
    for k in env.keys:
        if k.arn == arn:
            new = change(k.policy)
            keys.append(replace(k, policy=new) if new is not None else k)
        else:
            keys.append(k)
    resources = tuple(replace(r, policy=change(r.policy)) if r.arn == arn else r for r in env.resources)
    return replace(env, keys=tuple(keys), resources=resources)


# ---- the check -------------------------------------------------------------------------------------------


def check_chains(compiled: CompiledEnvironment, prop: Eventually, options: ChainOptions | None = None) -> CheckResult:
    """Check an `Eventually` property (see the module docstring); runs under the caller's `limits.budget`."""
    claim = prop.claim
    d = compiled.domain
    actions = expand_actions(claim.actions, d)
    expand_resources(claim.resources, d)  # a claim naming nothing is an input error, not a vacuous proof
    fix = Fixpoint(compiled, Start.of(claim), options)
    fix.rebuild()
    stats: dict[str, float] = {"compile_seconds": compiled.compile_seconds}
    bound = prop.max_steps
    q0 = fix.engine.queries
    start = time.perf_counter()

    def result(verdict: Verdict, **kw: object) -> CheckResult:
        stats.update(rounds=fix.rounds, held_roles=len([r for r, n in fix.state.held.items() if n > 0]),
                     steps_found=len(fix.state.facts), queries=fix.engine.queries - q0,
                     fixpoint_seconds=time.perf_counter() - start)
        return CheckResult(prop, verdict, stats=stats, **kw)  # type: ignore[arg-type]

    def refuted(chain: Chain) -> CheckResult | None:
        if bound is not None and len(chain.steps) > bound:
            return None
        if not fix.start.contains(fix.env, chain.start):
            raise InternalError(f"the chain starts from `{chain.start.principal}`, which the claim is not about")
        responsible = tuple(chain.evaluation.reasons) + chain.notes
        return result(Verdict.REFUTED, counterexample=chain.access, evaluation=chain.evaluation,
                      responsible=responsible, chain=chain.steps)

    goal_seen = False
    try:
        for depth in range(MAX_ROUNDS + 1):
            goal = fix.goal_term(actions, claim.resources)
            witnesses = fix.goal_witnesses(goal)
            if witnesses:
                goal_seen = True
                chain = Concretizer(fix, actions).run(witnesses)
                if chain is not None and (out := refuted(chain)) is not None:
                    return out
            if bound is not None and depth >= bound:
                break
            facts = fix.round()
            if not facts:
                break
            fix.apply(facts)
        else:
            return result(Verdict.UNKNOWN, reason=f"the fixpoint did not close within {MAX_ROUNDS} rounds")
    except Undecided as exc:
        return result(Verdict.UNKNOWN, reason=str(exc))
    if goal_seen:
        return result(Verdict.UNKNOWN, reason=_unconfirmed(fix, bound))
    if compiled.incomplete:
        return result(Verdict.UNKNOWN, reason=compiled.incomplete)
    open_steps = fix.unmodelled()
    if open_steps:
        more = f" (and {len(open_steps) - 5} more)" if len(open_steps) > 5 else ""
        return result(Verdict.UNKNOWN, reason="a step that is not modelled may extend a chain: "
                      + "; ".join(open_steps[:5]) + more)
    if fix.incomplete:
        return result(Verdict.UNKNOWN, reason="; ".join(fix.incomplete))
    return result(Verdict.PROVED, responsible=_proof(fix, bound))


def _unconfirmed(fix: Fixpoint, bound: int | None) -> str:
    unknown_trust = [r for r, n in fix.state.held.items() if n == 0]
    within = f" within {bound} step{'s' if bound != 1 else ''}" if bound is not None else ""
    if unknown_trust:
        return (f"a chain{within} may reach the access through role(s) whose trust policy the environment does not "
                f"give: {', '.join(f'`{r}`' for r in sorted(unknown_trust))}")
    return (f"the over-approximation reaches the access{within}, but no chain from one principal was confirmed by "
            f"the concrete evaluator ({len(fix.state.facts)} step(s) found)")


def _proof(fix: Fixpoint, bound: int | None) -> tuple[Reason, ...]:
    """The proof of a PROVED claim, as reasons: the fixpoint (or the bound), then each step the adversary could
    take."""
    held = [r for r, n in sorted(fix.state.held.items()) if n > 0]
    if bound is not None and fix.rounds >= bound and fix.state.facts:
        how = f"no chain of at most {bound} step{'s' if bound != 1 else ''} reaches the access"
    else:
        how = (f"fixpoint after {fix.rounds} round(s): the last round found no step not taken yet (unsat), "
               "and no held principal can perform the access (unsat)")
    what = f"; roles reached: {', '.join(held)}" if held else "; no role reached"
    out = [Reason("<eventually>", None, None, "fixpoint", None, None, "rule", how + what)]
    for f in fix.state.facts:
        out.append(Reason("<eventually>", None, None, f"step {f.step.action}", None, None, "rule", f.describe()))
    return tuple(out)


__all__ = [
    "MAX_ROUNDS",
    "START",
    "Chain",
    "ChainOptions",
    "Concretizer",
    "Fact",
    "Fixpoint",
    "Start",
    "Undecided",
    "check_chains",
    "written_policy",
]
