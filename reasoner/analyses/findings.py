"""External-access findings for every key: who outside the zone of trust can use it, complete and small.

Input: an `Environment` (a manifest, or one key policy wrapped by `key_policy_environment`) and a zone of
trust (account ids and organization ids; default: each key's own account).
Output: `FindingsResult`: per key, the findings (each a class of external access: a principal class, the
actions, the conditions of the statements that grant it, whether it is public, and a concrete request the
evaluator allows), and the completeness verdict of the set.
Guarantee: the set is complete when `KeyFindings.complete` is PROVED: the last solver query, "some external
request on this key is allowed and lies outside every finding", was unsat. Every example request is replayed
through `evaluate.evaluate` (`explain.confirm`) before it is reported. Algorithm (stratified abstraction,
after AWS Zelkova / Access Analyzer): find an allowed external request not covered yet; generalise it to a
class over the policy's own constants (the principal literal of the allowing statement, its account, or any
principal, proved with a fresh account before "any" is claimed); enumerate the actions of the class with
one query per action; block the class (principal class, allowing statement, actions) and repeat until unsat.
Public (docs/findings.md): principal class "any" and an allowed request of the class, replayed, that no
restricting key limits (`public_term`: fresh account and names, restricting keys absent or not a policy
literal, aws:SourceIp outside every /8-or-narrower range the policies write).
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reasoner import limits
from reasoner.analyses import unresolved
from reasoner.analyses.compiled import CompiledEnvironment, compile_environment, compile_many, compiled_for
from reasoner.analyses.conditions import principal_is
from reasoner.analyses.explain import confirm, minimise, replay
from reasoner.analyses.refine import refine
from reasoner.analyses.result import Verdict
from reasoner.errors import InputError, InternalError, Severity, UnsupportedFeatureError, register_code
from reasoner.front.ast import ConditionOperator, PolicyDocument, PolicyKind, SetQualifier, Statement
from reasoner.semantics import arns
from reasoner.semantics.environment import Account, Environment, Grant, Key, Organization, PrincipalKind
from reasoner.semantics.evaluate import is_provider, resolve_caller
from reasoner.semantics.ir import grantee_account
from reasoner.semantics.request import Evaluation, Request
from reasoner.semantics.resources import resource_policy, resource_type_of
from reasoner.source import Span
from reasoner.symbolic import smt
from reasoner.symbolic.domain import PARTITION, PKind, modelled_principal
from reasoner.symbolic.solve import DEFAULT_RLIMIT, Status
from reasoner.symbolic.strings import literal

FINDING_EXTERNAL = register_code("FND001", Severity.WARNING, "external access to a key, resource or role")
FINDING_PUBLIC = register_code("FND002", Severity.WARNING, "public access to a key, resource or role")
FINDINGS_INCOMPLETE = register_code("FND003", Severity.NOTE, "findings could not be proved complete")

#: Condition keys whose fixed values restrict who can make a request (docs/findings.md).
RESTRICTING_KEYS: tuple[str, ...] = (
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOwner",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:SourceIp",
    "aws:userid",
    "aws:username",
    "kms:CallerAccount",
)
_RESTRICTING = {k.lower() for k in RESTRICTING_KEYS}
_POSITIVE_FAMILIES = ("string", "arn", "ip")

#: Safety bound on findings per key (each round covers at least one new request class).
MAX_ROUNDS = 64

_ACCOUNT = re.compile(r"\d{12}")
_SERVICE = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com")


# ---- values ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrincipalClass:
    """Who a finding is about: `arn` (a user, a role and its sessions, a session), `account` (every principal
    of the account), `organization` (every principal of the environment's accounts in the organization),
    `service` (an AWS service principal), `federated` (the users of a web identity or SAML provider),
    `undescribed` (the IAM users, role sessions and federated users of an account that no environment compared
    describes:
    they hold the account's unknown identity policies alike), `undeclared` (every IAM principal of the accounts
    no environment compared declares) or `any` (any principal of any account, anonymous callers included where
    the service takes them)."""

    kind: str
    value: str

    def __str__(self) -> str:
        if self.kind == "any":
            return "any principal"
        if self.kind == "account":
            return f"account {self.value}"
        if self.kind == "service":
            return f"service {self.value}"
        if self.kind == "federated":
            return f"users of identity provider {self.value}"
        if self.kind == "organization":
            return f"principals of organization {self.value}"
        if self.kind == "undescribed":
            return f"users, role sessions and federated users of account {self.value} that no environment describes"
        if self.kind == "undeclared":
            return "principals of the accounts no environment declares"
        return self.value


@dataclass(frozen=True)
class ConditionSummary:
    """One condition of a statement that grants the access (operator, key, values)."""

    operator: str
    key: str
    values: tuple[str, ...]
    restricting: bool  # a restricting key with fixed values under a positive operator

    def __str__(self) -> str:
        vals = self.values[0] if len(self.values) == 1 else "[" + ", ".join(self.values) + "]"
        return f"{self.operator} {self.key} {vals}"


@dataclass(frozen=True)
class StatementRef:
    """A statement behind a finding, or (`kind` "grant") a grant of the key (`policy` is then the key's ARN,
    `index` the grant's position in `Key.grants`, `span` the grant's place in the manifest, else the key's)."""

    policy: str
    index: int
    label: str
    span: Span
    kind: str = "statement"


@dataclass(frozen=True)
class Finding:
    """One class of external access to one key, resource or role (Access Analyzer's shape: the resource and its
    type, the principal class, the actions, the conditions, public or cross-account). `key` is the resource's
    ARN (the name is kept from when findings were about keys only)."""

    key: str
    principal: PrincipalClass
    actions: tuple[str, ...]
    conditions: tuple[ConditionSummary, ...]
    statements: tuple[StatementRef, ...]
    public: bool
    example: Request
    evaluation: Evaluation
    witnesses: int  # actions with a replayed witness (== len(actions))
    any_verified: bool = False  # "any principal" proved with an account that appears nowhere
    public_example: Request | None = None  # a replayed request no restricting key limits (when public)
    resource_type: str = "AWS::KMS::Key"

    @property
    def resource(self) -> str:
        return self.key

    @property
    def code(self) -> str:
        return FINDING_PUBLIC if self.public else FINDING_EXTERNAL


@dataclass(frozen=True)
class KeyFindings:
    """The findings of one key, resource or role (`key` is its ARN), and whether the set is proved complete."""

    key: str
    account: str
    findings: tuple[Finding, ...]
    complete: Verdict  # PROVED (final query unsat) or UNKNOWN
    proof: str  # what the final query was and what the solver said
    queries: int
    seconds: float
    reason: str | None = None
    resource_type: str = "AWS::KMS::Key"

    @property
    def resource(self) -> str:
        return self.key

    @property
    def external(self) -> bool:
        return bool(self.findings)

    @property
    def public(self) -> bool:
        return any(f.public for f in self.findings)


@dataclass(frozen=True)
class FindingsResult:
    keys: tuple[KeyFindings, ...]
    zone: tuple[str, ...]
    include_services: bool = False
    seconds: float = 0.0
    #: escalation paths (`escalation.EscalationPath`: outside principals that reach a resource only through a
    #: chain of steps), when asked for (`escalation.with_escalations`, `reasoner findings --escalation`)
    escalations: tuple[Any, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for k in self.keys for f in k.findings)


@dataclass(frozen=True)
class Subject:
    """What findings are about: a key, a declared resource or a role, with the resource-based policy that
    grants access to it (key policy, resource policy or sharing attribute, trust policy)."""

    arn: str
    account: str
    policy: PolicyDocument
    type: str
    key: Key | None = None


def subjects_of(env: Environment) -> list[Subject]:
    """Every key, every declared resource with a resource-based policy (or one its sharing attribute or default
    amounts to) and every role with a trust policy, in that order."""
    out = [Subject(k.arn, k.account, k.policy, "AWS::KMS::Key", k) for k in env.keys]
    for r in env.resources:
        policy = resource_policy(r, env.options)
        rt = resource_type_of(r.arn)
        if policy is not None:
            out.append(Subject(r.arn, r.account, policy, rt.label if rt else "resource"))
    for p in env.principals:
        if p.trust_policy is not None:
            out.append(Subject(p.arn, p.arn.split(":")[4], p.trust_policy, "AWS::IAM::Role"))
    return out


# ---- a query with refinement ----------------------------------------------------------------------------


#: Within `shared_compilation()`: `Engine.build(env)` reuses `compiled.compiled_for(env)`.
_SHARED: contextvars.ContextVar[bool] = contextvars.ContextVar("reasoner_shared_compilation", default=False)


@contextlib.contextmanager
def shared_compilation() -> Iterator[None]:
    """Within it, `Engine.build(env)` (no other environment) takes the compiled environment of `env` that
    `compiled.compiled_for` keeps (the one property checks of the same object use), instead of compiling `env`
    anew: findings, lint and the checks of one `reasoner scan` unit compile its slice once (issue 17). A
    compiled environment a limit interrupted is never handed out again (`compiled.interrupted`)."""
    token = _SHARED.set(True)
    try:
        yield
    finally:
        _SHARED.reset(token)


@dataclass
class Engine:
    """A compiled environment plus per-statement terms (the allowing statements of key policies), used by
    findings, diff and hygiene. Queries declare one assumption literal each."""

    compiled: CompiledEnvironment
    queries: int = 0

    _statements: dict[tuple[int, str], dict[int, smt.Term]] = field(default_factory=dict)

    @staticmethod
    def build(env: Environment, others: Sequence[Environment] = ()) -> Engine:
        """Compile `env`; `others` (e.g. the old side of a diff) share its symbolic request, whose literals,
        set slots and keys then cover every environment. Queries run under the active `limits.budget`."""
        if not others:
            return Engine(compiled_for(env) if _SHARED.get() else compile_environment(env))
        return Engine(compile_many(env, others))

    @property
    def env(self) -> Environment:
        return self.compiled.environment

    def encoded(self, env: Environment, like: Environment | None = None) -> smt.Term:
        """The `allows` term of `env` (the engine's own environment, or another one over the same request;
        `like`: one it differs from only in resource-side policies, `CompiledEnvironment.encoder`)."""
        if env is self.env:
            return self.compiled.encoded.allows
        enc = self.compiled.encode_other(env, like)
        self.compiled.flush()
        return enc.allows

    def statement_terms(self, key: Key | Subject, env: Environment | None = None) -> dict[int, smt.Term]:
        """Per statement index of the key's (or subject's) resource-based policy: when the statement applies
        (principal, action, resource, conditions), as evaluated for it in `env` (default: the engine's). Deny
        statements included."""
        env = env or self.env
        hit = self._statements.get((id(env), key.arn))
        if hit is not None:
            return hit
        enc = self.compiled.encoder(env)
        if isinstance(key, Key) or key.key is not None:
            k = key if isinstance(key, Key) else key.key
            assert k is not None
            allows, denies = enc.encode_policy(k.policy, k)
        else:
            allows, denies = enc.encode_policy(key.policy, None, key.arn)
        out: dict[int, smt.Term] = {}
        for st, kinds in allows:
            out[st.index] = smt.or_(kinds.values())
        for st, t in denies:
            out[st.index] = t
        self.compiled.flush()
        self._statements[(id(env), key.arn)] = out
        return out

    def grant_term(self, key: Key, source: GrantSource) -> smt.Term:
        """When `source` (grants of `key`, a grant's retiring principal, or the key's account retiring grants)
        lets the request in, as encoded for the engine's environment: an over-approximation of its share of
        `allows` (the grantee's account delegates whatever its identity policies say), exact on the grant's
        operations, grantee and constraints (encode.encode_grants on the grants alone)."""
        d = self.compiled.domain
        enc = self.compiled.encoder(self.env)
        if source.kind == "account":
            out = smt.and_(d.action_is("kms:RetireGrant"), smt.not_(d.kind_is(PKind.SERVICE)),
                           d.account_is(key.account))
        elif source.kind == "retiring":
            stand_ins = tuple(Grant(g.retiring_principal, frozenset({"kms:RetireGrant"}))
                              for i in source.grants if (g := key.grants[i]).retiring_principal is not None)
            out = enc.encode_grants(replace(key, grants=stand_ins), smt.FALSE)
        else:
            grants = tuple(key.grants[i] for i in source.grants)
            retire = d.action_is("kms:RetireGrant")
            # kms:RetireGrant follows its own rule (evaluate._decide_retire_grant): the grantee itself, when the
            # grant holds the operation, with no account delegation and no constraint
            holders = tuple(Grant(g.grantee, frozenset({"kms:RetireGrant"})) for g in grants
                            if "kms:RetireGrant" in g.operations)
            out = smt.or_(smt.and_(smt.not_(retire), enc.encode_grants(replace(key, grants=grants), smt.TRUE)),
                          enc.encode_grants(replace(key, grants=holders), smt.FALSE))
        self.compiled.flush()
        return out

    def solve(self, term: smt.Term) -> tuple[Status, Request | None, str | None]:
        """SAT with a decoded request (not yet replayed), UNSAT, or UNKNOWN with the reason."""
        c = self.compiled
        d = c.domain
        self.queries += 1
        c.n_props += 1
        lit = d.script.declare(f"fnd.q{c.n_props}", smt.BOOL)
        d.script.require(smt.implies(lit, term))
        c.flush()
        found = refine(c, lit, {})
        if found.status is not Status.SAT:
            return found.status, None, found.reason
        assert found.request is not None
        try:
            resolve_caller(self.env, found.request.principal)
        except InputError as exc:
            # the domain's well-formedness assumptions admit only names the evaluator accepts
            raise InternalError(
                f"decoded caller `{found.request.principal!r}` is rejected by the evaluator: {exc.message}"
            ) from exc
        return Status.SAT, found.request, None


# ---- principal classes ----------------------------------------------------------------------------------


def principal_account(principal: str) -> str | None:
    """The account of an IAM or STS principal ARN of a modelled partition (docs/semantics-services.md §P.1), else
    None."""
    identity = arns.parse_identity(principal)
    return identity.account if identity is not None and identity.partition in arns.PARTITIONS else None


def _same_partition(named: arns.PrincipalArn, principal: str) -> bool:
    """A principal ARN names callers of its own partition only (§P.2)."""
    identity = arns.parse_identity(principal)
    return identity is not None and identity.partition == named.partition


def class_term(engine: Engine, pc: PrincipalClass) -> smt.Term:
    d = engine.compiled.domain
    if pc.kind == "any":
        return smt.TRUE
    if pc.kind == "account":
        return d.account_is(pc.value)
    if pc.kind == "organization":
        return smt.or_(
            undeclared_member(engine, [pc.value]),
            *(d.account_is(a.id) for a in engine.env.accounts if a.organization == pc.value),
        )
    if pc.kind == "federated":
        if PKind.PROVIDER not in d.kinds:
            return smt.FALSE
        return smt.and_(d.kind_is(PKind.PROVIDER), d.f("prov").atom(literal(pc.value, ignore_case=True)))
    if pc.kind == "undescribed":
        return smt.and_(smt.or_(d.kind_is(PKind.USER), d.kind_is(PKind.SESSION), d.kind_is(PKind.FEDERATED)),
                        d.f("acct").is_lit(pc.value), smt.not_(smt.or_(k.guard for k in d.known_callers())),
                        smt.not_(smt.or_(g for g, *_ in d.known_federated())))
    if pc.kind == "undeclared":
        declared = {a.id for e in d.environments for a in e.accounts}
        return smt.and_(smt.or_(d.kind_is(k) for k in (PKind.ROOT, PKind.USER, PKind.SESSION, PKind.FEDERATED)),
                        smt.not_(smt.or_(d.f("acct").is_lit(a) for a in sorted(declared))))
    return principal_is(d, pc.value, federated_sessions=True)


def undeclared_member(engine: Engine, orgs: Sequence[str]) -> smt.Term:
    """The caller's account is not declared and is in one of `orgs` that the environment does not declare
    (what `Request.assumed` records as "org")."""
    d = engine.compiled.domain
    env = engine.env
    open_orgs = [o for o in orgs if o not in env.declared_organizations()]
    if not open_orgs:
        return smt.FALSE
    return smt.and_(
        smt.not_(d.kind_is(PKind.SERVICE)),
        smt.not_(smt.or_(d.f("acct").is_lit(a.id) for a in env.accounts)),
        d.unknown_in_org(),
        smt.or_(d.unknown_field("org").is_lit(o) for o in open_orgs),
    )


def caller_org(env: Environment | None, principal: str, assumed_org: str | None = None) -> str | None:
    """The organization of the caller's account: as declared, or (an account the environment does not
    declare) the one the counterexample assumes."""
    acct_id = principal_account(principal)
    if acct_id is None or env is None:
        return None
    acct = env.account(acct_id)
    if acct is not None:
        return acct.organization
    return assumed_org if assumed_org is not None and assumed_org not in env.declared_organizations() else None


def undeclared(principal: str, envs: Sequence[Environment]) -> bool:
    """An IAM principal (root, user, role session, federated user) of an account none of `envs` declares (the
    concrete twin of `class_term`'s `undeclared`)."""
    acct = principal_account(principal)
    return acct is not None and all(e.account(acct) is None for e in envs) and isinstance(
        modelled_principal(principal), arns.RootArn | arns.UserArn | arns.AssumedRoleArn | arns.FederatedUserArn)


def undescribed(principal: str, envs: Sequence[Environment]) -> bool:
    """An IAM user, role session or federated user none of `envs` describes (the concrete twin of
    `class_term`'s `undescribed`, over `domain.known_callers` and `known_federated`: a user by its ARN, a role's
    sessions by the role's account and name ignoring case, a federated user by its session)."""
    caller = modelled_principal(principal)
    if isinstance(caller, arns.FederatedUserArn):
        return all(e.session(principal) is None for e in envs)
    if isinstance(caller, arns.UserArn):
        return not any(p.kind is PrincipalKind.USER and modelled_principal(p.arn) == caller
                       for e in envs for p in e.principals)
    if isinstance(caller, arns.AssumedRoleArn):
        for e in envs:
            for p in e.principals:
                m = modelled_principal(p.arn)
                if p.kind is PrincipalKind.ROLE and isinstance(m, arns.RoleArn) and m.account == caller.account \
                        and m.name.lower() == caller.role_name.lower():
                    return False
        return True
    return False


def in_class(
    pc: PrincipalClass,
    principal: str,
    env: Environment | None = None,
    assumed: Mapping[str, str] | None = None,
) -> bool:
    """Concrete twin of `class_term` (`env` is needed for organization classes and declared federated
    users; `assumed`: what a counterexample assumes for an undescribed caller, `Request.assumed`: the
    organization of an undeclared account, the source user of an undeclared federated user)."""
    facts = assumed or {}
    if pc.kind == "any":
        return True
    if pc.kind == "account":
        return principal_account(principal) == pc.value
    if pc.kind == "organization":
        return caller_org(env, principal, facts.get("org")) == pc.value
    if pc.kind == "service":
        return principal == pc.value
    if pc.kind == "federated":
        return principal.lower() == pc.value.lower()
    if pc.kind == "undescribed":
        return principal_account(principal) == pc.value and env is not None and undescribed(principal, (env,))
    if pc.kind == "undeclared":
        return env is not None and undeclared(principal, (env,))
    m = modelled_principal(pc.value)
    caller = modelled_principal(principal)
    if isinstance(m, arns.RoleArn):
        return isinstance(caller, arns.AssumedRoleArn) and caller.partition == m.partition \
            and caller.account == m.account and caller.role_name.lower() == m.name.lower()
    if isinstance(m, arns.UserArn) and isinstance(caller, arns.FederatedUserArn):
        # a user's class holds its GetFederationToken sessions (semantics §4.2)
        session = env.session(principal) if env is not None else None
        return (session.source if session is not None else facts.get("fedsource")) == pc.value
    return principal == pc.value


def _entry_class(
    text: str, principal: str, env: Environment | None = None, assumed: Mapping[str, str] | None = None
) -> PrincipalClass | None:
    """The class a principal entry (or, without `env` and `assumed`, a principal condition value, which
    names no federated user's source) gives `principal`, if it names it."""
    t = text.strip()
    acct = principal_account(principal)
    named = modelled_principal(t)
    if _ACCOUNT.fullmatch(t) or isinstance(named, arns.RootArn):
        a = named.account if isinstance(named, arns.RootArn) else t
        same = not isinstance(named, arns.RootArn) or _same_partition(named, principal)
        return PrincipalClass("account", a) if a == acct and same else None
    if _SERVICE.fullmatch(t):
        return PrincipalClass("service", t) if t == principal else None
    pc = PrincipalClass("arn", t)
    if named is not None and in_class(pc, principal, env, assumed):
        return pc
    return None


def derive_class(
    st: Statement, principal: str, env: Environment | None = None, assumed: Mapping[str, str] | None = None
) -> PrincipalClass:
    """Generalise `principal`, allowed by `st`, to the most specific class `st` itself names: a principal
    entry, else a fixed principal value of aws:PrincipalArn / aws:PrincipalAccount / kms:CallerAccount,
    else the caller's organization when aws:PrincipalOrgID / aws:PrincipalOrgPaths restrict to it (`env`
    knows the accounts' organizations), else any principal."""
    if st.principal is not None and not st.principal.negated:
        if is_provider(principal):
            for e in st.principal.entries:
                if e.type.value == "Federated" and e.value.text.lower() == principal.lower():
                    return PrincipalClass("federated", e.value.text)
        hits = [
            c for e in st.principal.entries if (c := _entry_class(e.value.text, principal, env, assumed)) is not None
        ]
        for kind in ("arn", "service", "account"):
            for c in hits:
                if c.kind == kind:
                    return c
    if _SERVICE.fullmatch(principal):
        return PrincipalClass("service", principal)
    if st.condition is not None:
        for cond in st.condition.conditions:
            low = cond.key.text.lower()
            if cond.operator.negated or cond.if_exists or cond.qualifier is SetQualifier.FOR_ALL_VALUES:
                continue
            if low == "aws:principalarn" and cond.operator.family in ("string", "arn"):
                for v in cond.values:
                    if "*" not in v.text and "?" not in v.text and (pc := _entry_class(v.text, principal)):
                        return pc
            if low in ("aws:principalaccount", "kms:calleraccount") and cond.operator.family == "string":
                acct = principal_account(principal)
                if any(v.text == acct for v in cond.values) and acct is not None:
                    return PrincipalClass("account", acct)
        org = caller_org(env, principal, (assumed or {}).get("org"))
        for cond in st.condition.conditions:
            low = cond.key.text.lower()
            if org is None or cond.operator.negated or cond.if_exists or cond.operator.family != "string":
                continue
            if low == "aws:principalorgid" and any(v.text == org for v in cond.values):
                return PrincipalClass("organization", org)
            if low == "aws:principalorgpaths" and any(v.text.startswith(f"{org}/") for v in cond.values):
                return PrincipalClass("organization", org)
    return PrincipalClass("any", "*")


# ---- conditions and public ----------------------------------------------------------------------------


def _fixed(value: str) -> bool:
    return "*" not in value and "?" not in value and "${" not in value


def _fixed_account(value: str) -> bool:
    """An ARN (pattern) whose partition has no wildcard and whose account segment is an account id."""
    arn = arns.parse(value)
    return arn is not None and "*" not in arn.partition and "?" not in arn.partition \
        and arns.is_account_id(arn.account)


def _narrow_ip(value: str) -> bool:
    try:
        net = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return False
    return net.prefixlen >= (8 if net.version == 4 else 32)


def is_restricting(
    operator: ConditionOperator, qualifier: SetQualifier, if_exists: bool, key: str, values: Sequence[str]
) -> bool:
    """A condition that limits requests to fixed values of a restricting key (docs/findings.md)."""
    low = key.lower()
    if low not in _RESTRICTING or operator.negated or if_exists or qualifier is SetQualifier.FOR_ALL_VALUES:
        return False
    if operator.family not in _POSITIVE_FAMILIES or not values:
        return False
    if low == "aws:sourceip":
        return operator is ConditionOperator.IP_ADDRESS and all(_narrow_ip(v) for v in values)
    if low in ("aws:principalarn", "aws:sourcearn"):
        # an ARN restricts when its account field is fixed (e.g. arn:aws:iam::111122223333:role/*)
        return all(_fixed(v) or _fixed_account(v) for v in values)
    return all(_fixed(v) for v in values)


def summarise_conditions(st: Statement) -> tuple[ConditionSummary, ...]:
    if st.condition is None:
        return ()
    return tuple(
        ConditionSummary(
            c.operator_text,
            c.key.text,
            tuple(v.text for v in c.values),
            is_restricting(c.operator, c.qualifier, c.if_exists, c.key.text, [v.text for v in c.values]),
        )
        for c in st.condition.conditions
    )


# ---- the zone of trust ----------------------------------------------------------------------------------


def parse_zone(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        for part in v.split(","):
            p = part.strip()
            if not p:
                continue
            if not (_ACCOUNT.fullmatch(p) or re.fullmatch(r"o-[a-z0-9]{10,32}", p)):
                raise InputError(f"zone of trust `{p}` is neither a 12-digit account id nor an organization id (o-...)",
                                 code="INPUT004")
            out.append(p)
    return tuple(dict.fromkeys(out))


def _inside_accounts(env: Environment, zone: Sequence[str], key: Key | Subject) -> list[str]:
    """The accounts of the zone of trust. For a resource or role its own account is always inside: access
    findings are about what its resource-based policy grants, and in its own account the identity policies
    alone can grant access (Access Analyzer's zone contains the owner). A key's policy decides access even
    in the key's account, so a zone that leaves the owner out reports its principals too."""
    if not zone:
        return [key.account]
    accounts = [z for z in zone if _ACCOUNT.fullmatch(z)]
    orgs = {z for z in zone if z.startswith("o-")}
    accounts += [a.id for a in env.accounts if a.organization in orgs]
    if not (isinstance(key, Key) or (isinstance(key, Subject) and key.key is not None)):
        accounts.append(key.account)
    return list(dict.fromkeys(accounts))


def external_term(
    engine: Engine, inside: Sequence[str], include_services: bool, zone_orgs: Sequence[str] = ()
) -> smt.Term:
    """The caller is outside the zone: a service principal (when included), or of an account neither in
    `inside` nor (undeclared) assumed in one of `zone_orgs`."""
    d = engine.compiled.domain
    service = d.kind_is(PKind.SERVICE)
    # anonymous callers and the users of an identity provider are in no account: always outside the zone
    nobody = smt.or_(d.kind_is(k) for k in (PKind.ANONYMOUS, PKind.PROVIDER) if k in d.kinds)
    member = undeclared_member(engine, zone_orgs) if zone_orgs else smt.FALSE
    caller = smt.and_(
        smt.not_(service), smt.not_(nobody), smt.not_(smt.or_(member, *(d.f("acct").is_lit(a) for a in inside)))
    )
    return smt.or_(service, nobody, caller) if include_services else smt.or_(nobody, caller)


def is_external(
    principal: str,
    inside: Sequence[str],
    include_services: bool,
    *,
    env: Environment | None = None,
    zone_orgs: Sequence[str] = (),
    assumed_org: str | None = None,
) -> bool:
    """Concrete twin of `external_term`."""
    if principal in ("anonymous", "*") or is_provider(principal):
        return True
    acct = principal_account(principal)
    if acct is None:
        return include_services
    org = caller_org(env, principal, assumed_org)
    if env is not None and env.account(acct) is None and org is not None and org in zone_orgs:
        return False
    return acct not in inside


# ---- the algorithm --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantSource:
    """A source of access to a key that is not a key-policy statement (semantics §4.4): grants of the key
    (`kind` "grant": the grantee, or the principals of a grantee account, for the grant's operations under its
    constraints), a grant's retiring principal ("retiring": kms:RetireGrant), or the key's own account retiring
    its grants through its identity policies ("account"). `grants` are positions in `Key.grants` (several when
    grants share a name and a place, which the evaluator's reasons cannot tell apart)."""

    kind: str
    grants: tuple[int, ...]
    label: str
    span: Span | None

    @property
    def index(self) -> int:
        return self.grants[0] if self.grants else -1


#: What grants access in a finding: a statement of the resource-based policy, or a grant source.
Source = Statement | GrantSource


def grant_sources(evaluation: Evaluation, key: Key) -> list[GrantSource]:
    """The grant sources among the reasons that allow `evaluation`'s request (the rules of role "allow" the
    evaluator writes for grants, `evaluate._grants` / `_decide_retire_grant`)."""
    out: list[GrantSource] = []
    for r in evaluation.reasons:
        if r.role != "allow" or r.kind is not None or r.statement is not None:
            continue
        if r.label == "grant account":
            out.append(GrantSource("account", (), f"RetireGrant through the identity policies of account "
                                   f"{key.account}", None))
            continue
        if not r.label.startswith("grant "):
            continue
        idx = tuple(i for i, g in enumerate(key.grants)
                    if f"grant {g.name or g.grantee}" == r.label and g.span == r.span)
        if not idx:
            continue
        retiring = evaluation.request.action == "kms:RetireGrant" and "retiring principal" in r.note
        out.append(GrantSource("retiring" if retiring else "grant", idx,
                               r.label + (" (retiring principal)" if retiring else ""), r.span))
    return out


def _grant_names(text: str, principal: str, env: Environment | None,
                 assumed: Mapping[str, str] | None, delegates: bool) -> PrincipalClass | None:
    """The class a grantee (or retiring principal) `text` gives `principal`, if it names it: a service
    principal (case-insensitively, as `evaluate._grantee_matches`), an account (id or root ARN: its principals
    when `delegates`, else its root user), a role (its sessions), or the principal itself."""
    t = text.strip()
    if _SERVICE.fullmatch(t.lower()):
        return PrincipalClass("service", principal) if t.lower() == principal.lower() else None
    acct = grantee_account(t)
    if acct is not None and delegates:
        return PrincipalClass("account", acct) if acct == principal_account(principal) else None
    if acct is not None:
        caller = modelled_principal(principal)
        root = isinstance(caller, arns.RootArn) and caller.account == acct
        return PrincipalClass("arn", principal) if root else None
    pc = PrincipalClass("arn", t)
    if modelled_principal(t) is not None and in_class(pc, principal, env, assumed):
        return pc
    return None


def grant_class(key: Key, source: GrantSource, principal: str, env: Environment | None = None,
                assumed: Mapping[str, str] | None = None) -> PrincipalClass:
    """Generalise `principal`, let in by `source`, to the class the grant names: its grantee (a service, an
    account, a role or a principal), its retiring principal, or the key's account."""
    if source.kind == "account":
        return PrincipalClass("account", key.account)
    for i in source.grants:
        g = key.grants[i]
        text = g.retiring_principal if source.kind == "retiring" else g.grantee
        # a grantee account delegates to its principals (per option); a retiring principal names one caller
        delegates = source.kind == "grant" and (env is None or env.options.account_grantee_delegates)
        if text is not None and (pc := _grant_names(text, principal, env, assumed, delegates)) is not None:
            return pc
    acct = principal_account(principal)
    return PrincipalClass("account", acct) if acct is not None else PrincipalClass("service", principal)


def grant_conditions(key: Key, source: GrantSource) -> tuple[ConditionSummary, ...]:
    """The constraints of a grant source, as conditions: the encryption-context constraint, the SourceArn
    constraint, and for a grant that includes CreateGrant the operations a new grant may hold."""
    if source.kind != "grant" or not source.grants:
        return ()
    g = key.grants[source.grants[0]]
    out: list[ConditionSummary] = []
    for op, ec in (("EncryptionContextEquals", g.encryption_context_equals),
                   ("EncryptionContextSubset", g.encryption_context_subset)):
        if ec is not None:
            out.append(ConditionSummary(op, "kms:EncryptionContext", tuple(f"{k}={v}" for k, v in sorted(ec.items())),
                                        False))
    if g.source_arn is not None:
        out.append(ConditionSummary("StringEquals", "aws:SourceArn", (g.source_arn,), True))
    if "kms:CreateGrant" in g.operations:
        ops = tuple(sorted(op.split(":", 1)[1] for op in g.operations if op.startswith("kms:")))
        out.append(ConditionSummary("ForAllValues:StringEquals", "kms:GrantOperations", ops, False))
    return tuple(out)


def _source_conditions(key: Subject, source: Source) -> tuple[ConditionSummary, ...]:
    if isinstance(source, GrantSource):
        assert key.key is not None
        return grant_conditions(key.key, source)
    return summarise_conditions(source)


def _source_ref(key: Subject, source: Source) -> StatementRef:
    if isinstance(source, GrantSource):
        span = source.span or (key.key.span if key.key is not None else None) or key.policy.span
        return StatementRef(key.arn, source.index, source.label, span, "grant")
    return StatementRef(key.policy.name, source.index, source.label, source.span)


def _source_allows(evaluation: Evaluation, key: Subject, source: Source) -> bool:
    """`source` is among what allows the evaluated request."""
    if isinstance(source, GrantSource):
        return key.key is not None and any(
            g.kind == source.kind and g.grants == source.grants for g in grant_sources(evaluation, key.key))
    return source.index in _allowing_statements(evaluation, key.policy)


@dataclass
class _Class:
    principal: PrincipalClass
    statement: Source
    actions: list[str]
    cover: smt.Term
    example: Request
    evaluation: Evaluation
    any_verified: bool
    public_example: Request | None = None


def _allowing_statements(evaluation: Evaluation, policy: PolicyDocument) -> list[int]:
    return [
        r.statement
        for r in evaluation.reasons
        if r.role == "allow" and r.kind is policy.kind and r.policy == policy.name and r.statement is not None
    ]


def _fresh_account(engine: Engine) -> smt.Term:
    d = engine.compiled.domain
    return smt.and_(smt.not_(d.kind_is(PKind.SERVICE)), d.f("acct").is_other())


def analyse_key(engine: Engine, key: Key, zone: Sequence[str] = (), include_services: bool = False) -> KeyFindings:
    """Findings for one key of the engine's environment (`analyse`)."""
    return analyse(engine, Subject(key.arn, key.account, key.policy, "AWS::KMS::Key", key), zone, include_services)


def analyse(engine: Engine, key: Subject, zone: Sequence[str] = (), include_services: bool = False) -> KeyFindings:
    """Findings for one key, resource or role of the engine's environment (see the module docstring)."""
    start = time.perf_counter()
    q0 = engine.queries
    d = engine.compiled.domain
    env = engine.env
    inside = _inside_accounts(env, zone, key)
    zone_orgs = [z for z in zone if z.startswith("o-")]
    ext = external_term(engine, inside, include_services, zone_orgs)
    on_key = d.target_is(key.arn)
    allows = engine.compiled.encoded.allows
    stmts = engine.statement_terms(key)
    by_index = {st.index: st for st in key.policy.statements}
    classes: list[_Class] = []
    reason: str | None = None
    complete = Verdict.UNKNOWN
    proof = ""

    def fail(why: str) -> KeyFindings:
        return _key_result(
            key,
            classes,
            Verdict.UNKNOWN,
            f"incomplete: {why}",
            queries=engine.queries - q0,
            seconds=time.perf_counter() - start,
            reason=why,
        )

    for _ in range(MAX_ROUNDS):
        covered = smt.or_(c.cover for c in classes)
        status, request, why = engine.solve(smt.and_(allows, ext, on_key, smt.not_(covered)))
        if status is Status.UNSAT:
            complete = Verdict.PROVED
            proof = (
                f"unsat: no request by a principal outside {', '.join(zone) or key.account} on this "
                f"{'key' if key.key is not None else 'resource'} is "
                f"allowed outside the {len(classes)} finding(s) ({engine.queries - q0} solver queries)"
            )
            break
        if status is Status.UNKNOWN or request is None:
            return fail(why or "solver returned unknown")
        evaluation, _ = confirm(env, request, True, "an external-access witness")
        idx = _allowing_statements(evaluation, key.policy)
        source: Source
        granted = grant_sources(evaluation, key.key) if key.key is not None else []
        if idx and idx[0] in stmts:
            source = by_index[idx[0]]
            source_term = stmts[source.index]
            if key.key is not None:
                # a key-policy Allow for kms:RetireGrant has no effect (semantics §4.4): grants authorise it
                source_term = smt.and_(source_term, smt.not_(d.action_is("kms:RetireGrant")))
            pc = derive_class(source, request.principal, env, request.assumed)
        elif granted and key.key is not None:
            # a grant (or a grant's retiring principal) lets the witness in: a source like a statement
            source = granted[0]
            source_term = engine.grant_term(key.key, source)
            pc = grant_class(key.key, source, request.principal, env, request.assumed)
        else:
            what = "key-policy statement or grant" if key.key is not None else "resource-policy statement"
            return fail(f"no {what} allows the witness `{request.principal}`")
        built = _build_class(
            engine,
            key,
            source,
            source_term,
            pc,
            ext=ext,
            on_key=on_key,
            inside=inside,
            include_services=include_services,
            zone_orgs=zone_orgs,
        )
        if isinstance(built, str):
            return fail(built)
        classes.append(built)
    else:
        return fail(f"more than {MAX_ROUNDS} classes of access")
    return _key_result(
        key,
        classes,
        complete,
        proof,
        queries=engine.queries - q0,
        seconds=time.perf_counter() - start,
        reason=reason,
    )


def _build_class(
    engine: Engine,
    key: Subject,
    st: Source,
    st_term: smt.Term,
    pc: PrincipalClass,
    *,
    ext: smt.Term,
    on_key: smt.Term,
    inside: Sequence[str],
    include_services: bool,
    zone_orgs: Sequence[str] = (),
) -> _Class | str:
    d = engine.compiled.domain
    env = engine.env
    allows = engine.compiled.encoded.allows
    any_verified = False
    if pc.kind == "any":
        # "any principal" is claimed only when an account that appears nowhere in the policies gets in
        status, req, why = engine.solve(smt.and_(allows, st_term, on_key, ext, _fresh_account(engine)))
        if status is Status.UNKNOWN:
            return why or "solver returned unknown"
        any_verified = status is Status.SAT
    base = smt.and_(allows, st_term, on_key, ext, class_term(engine, pc))
    actions: list[str] = []
    example: Request | None = None
    evaluation: Evaluation | None = None
    narrowed = False
    while True:
        status, req, why = engine.solve(smt.and_(base, smt.not_(d.action_in(actions)) if actions else smt.TRUE))
        if status is Status.UNKNOWN:
            return why or "solver returned unknown"
        if status is Status.UNSAT:
            break
        assert req is not None
        ev, _ = confirm(env, req, True, "a finding witness")
        org = req.assumed.get("org")
        if not in_class(pc, req.principal, env, req.assumed) or not is_external(
            req.principal, inside, include_services, env=env, zone_orgs=zone_orgs, assumed_org=org
        ):
            raise_internal(f"witness `{req.principal}` is outside class `{pc}`")
        actions.append(req.action)
        if example is None:
            example, evaluation = req, ev
        if pc.kind == "any" and not any_verified and not narrowed:
            # an allowing wildcard statement that only lets in accounts the policies name: narrow to the
            # witness's organization (when the environment puts its account in one) or account (the next
            # round finds the others)
            acct = principal_account(req.principal)
            if acct is not None:
                org = caller_org(env, req.principal, req.assumed.get("org"))
                pc = PrincipalClass("organization", org) if org else PrincipalClass("account", acct)
                base = smt.and_(allows, st_term, on_key, ext, class_term(engine, pc))
                narrowed = True
                actions = [req.action]
    if example is None or evaluation is None:
        what = "" if isinstance(st, GrantSource) else "statement "
        return f"{what}`{st.label}` allows no action for `{pc}`"
    ordered = [a for a in d.actions if a in actions]
    cover = smt.and_(class_term(engine, pc), st_term, d.action_in(ordered))
    nicer = _preferred(engine, pc)
    if nicer != smt.TRUE:
        status, req, _ = engine.solve(smt.and_(base, d.action_is(example.action), nicer))
        if status is Status.SAT and req is not None and in_class(pc, req.principal, env, req.assumed):
            example = req

    def still(r: Request) -> bool:
        e, _ = replay(env, r)
        return e.decision.allowed and _source_allows(e, key, st)

    small = minimise(example, still)
    evaluation, _ = confirm(env, small, True, "a minimised finding witness")
    public_example: Request | None = None
    if pc.kind == "any" and any_verified:
        status, req, why = engine.solve(smt.and_(allows, on_key, ext, cover, public_term(engine)))
        if status is Status.UNKNOWN:
            return why or "solver returned unknown"
        if status is Status.SAT and req is not None:
            confirm(env, req, True, "a public-access witness")
            public_example = req
    return _Class(pc, st, ordered, cover, small, evaluation, any_verified, public_example)


_RAW_RESTRICTING = (
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourcevpc",
    "aws:sourcevpce",
)


def public_term(engine: Engine) -> smt.Term:
    """Requests that no restricting key limits (docs/findings.md): a caller of an account the policies do not
    name, whose names are none of the policies' literals (so aws:PrincipalArn, aws:PrincipalAccount,
    kms:CallerAccount, aws:userid, aws:username and the organization keys hold values no policy fixes), each
    caller-controlled restricting key absent or a value that is none of the policies' literals, and
    aws:SourceIp absent or outside every range of /8 or narrower (IPv4), /32 or narrower (IPv6) the policies
    write."""
    d = engine.compiled.domain
    parts = [_fresh_account(engine)]
    parts += [d.f(n).is_other() for n in ("uname", "role", "sess", "fed")]
    if "org" in d.fields:
        # an undeclared account's organization is none the policies name
        parts.append(smt.or_(smt.not_(d.unknown_in_org()), d.fields["org"].is_other()))
    for name in _RAW_RESTRICTING:
        raw = d.raw.get(name)
        if raw is None:
            continue
        parts += [smt.or_(smt.not_(p), f.is_other()) for p, f in zip(raw.present, raw.fields, strict=True)]
    ip = d.raw.get("aws:sourceip")
    if ip is not None:
        nets = []
        for text in sorted(d.context_literals("aws:sourceip")):
            try:
                nets.append(ipaddress.ip_network(text.strip(), strict=False))
            except ValueError:
                continue
        narrow = [n for n in nets if _narrow_ip(str(n))]
        for p, f in zip(ip.present, ip.fields, strict=True):
            view = d.views.get((f.name, "ip"))
            if view is None or not narrow:
                continue
            inside = []
            for n in narrow:
                width = 32 if n.version == 4 else 128
                var = view["v4"] if n.version == 4 else view["v6"]
                mask = int(n.netmask)
                inside.append(
                    smt.and_(
                        smt.eq(view["fam"], str(n.version)),
                        smt.eq(smt.bvand(var, smt.bv(mask, width)), smt.bv(int(n.network_address), width)),
                    )
                )
            parts.append(smt.or_(smt.not_(p), smt.not_(smt.or_(inside))))
    return smt.and_(parts)


def _preferred(engine: Engine, pc: PrincipalClass) -> smt.Term:
    """A readable representative of a class for its example: the account's root user, or a session of a
    role spelled as in the policy (the class itself matches role names case-insensitively)."""
    d = engine.compiled.domain
    if pc.kind in ("any", "account", "organization"):
        return d.kind_is(PKind.ROOT)
    if isinstance(m := modelled_principal(pc.value), arns.RoleArn):
        name = m.name
        if name in d.f("role").index:
            return smt.and_(d.kind_is(PKind.SESSION), d.f("role").is_lit(name))
    return smt.TRUE


def raise_internal(message: str) -> None:
    from reasoner.errors import InternalError

    raise InternalError(message)


def _key_result(
    key: Subject,
    classes: list[_Class],
    complete: Verdict,
    proof: str,
    *,
    queries: int,
    seconds: float,
    reason: str | None,
) -> KeyFindings:
    """Merge classes of the same principal class and the same conditions into one finding."""
    groups: dict[tuple[PrincipalClass, tuple[ConditionSummary, ...]], list[_Class]] = {}
    for c in classes:
        groups.setdefault((c.principal, _source_conditions(key, c.statement)), []).append(c)
    findings: list[Finding] = []
    for (pc, conds), cs in groups.items():
        acts = sorted({a for c in cs for a in c.actions})
        refs = tuple(
            _source_ref(key, c.statement)
            for c in sorted(cs, key=lambda c: (isinstance(c.statement, GrantSource), c.statement.index))
        )
        public = pc.kind == "any" and any(c.public_example is not None for c in cs)
        findings.append(
            Finding(
                key.arn,
                pc,
                tuple(acts),
                conds,
                tuple(dict.fromkeys(refs)),
                public,
                cs[0].example,
                cs[0].evaluation,
                len(acts),
                any(c.any_verified for c in cs),
                next((c.public_example for c in cs if c.public_example is not None), None),
                key.type,
            )
        )
    order = {"any": 0, "organization": 1, "account": 2, "arn": 3, "service": 4}
    findings.sort(
        key=lambda f: (
            not f.public,
            order.get(f.principal.kind, 9),
            f.principal.value,
            f.statements[0].index if f.statements else -1,
        )
    )
    return KeyFindings(
        key.arn,
        key.account,
        tuple(findings),
        complete,
        proof,
        queries,
        seconds,
        reason if complete is not Verdict.PROVED else None,
        key.type,
    )


def findings(
    env: Environment,
    zone: Iterable[str] = (),
    *,
    include_services: bool = False,
    timeout: float | None = None,
    rlimit: int = DEFAULT_RLIMIT,
) -> FindingsResult:
    """External-access findings for every key, resource and role of `env` (entry point)."""
    start = time.perf_counter()
    z = parse_zone(zone)
    pending = unresolved.reason(env)
    if pending is not None:  # issue 15: a value no input fixes decides nothing (see `unresolved`)
        keys = tuple(KeyFindings(k.arn, k.account, (), Verdict.UNKNOWN, f"incomplete: {pending}", 0, 0.0, pending)
                     for k in env.keys)
        return FindingsResult(keys, z, include_services, time.perf_counter() - start)
    out: list[KeyFindings] = []
    subjects = subjects_of(env)
    with limits.budget(limits.seconds_or_default(timeout, run=True), rlimit):
        try:
            engine = Engine.build(env)
            for subject in subjects:
                out.append(analyse(engine, subject, z, include_services))
        except (UnsupportedFeatureError, limits.OutOfBudget, MemoryError) as exc:
            why = limits.unknown_reason(exc)
            # the subjects not analysed yet (all of them when compiling failed) are incomplete for this reason
            done = {f.key for f in out}
            out += [
                KeyFindings(k.arn, k.account, (), Verdict.UNKNOWN, f"incomplete: {why}", 0, 0.0, why, k.type)
                for k in subjects
                if k.arn not in done
            ]
    return FindingsResult(tuple(out), z, include_services, time.perf_counter() - start)


# ---- a key policy on its own ----------------------------------------------------------------------------


def guess_owner(policy: PolicyDocument) -> str:
    """The account a key policy most probably belongs to: the account whose root is granted kms:*, else the
    most frequent account id of the principals, else 111122223333."""
    counts: dict[str, int] = {}
    for st in policy.statements:
        if st.principal is None or st.effect.value != "Allow":
            continue
        for e in st.principal.entries:
            root = modelled_principal(e.value.text)
            owner = root.account if isinstance(root, arns.RootArn) else e.value.text
            if arns.is_account_id(owner):
                acts = [v.text for v in st.action.patterns] if st.action and not st.action.negated else []
                if "kms:*" in acts or "*" in acts:
                    return owner
            for a in re.findall(r"(?<!\d)\d{12}(?!\d)", e.value.text):
                counts[a] = counts.get(a, 0) + 1
    if counts:
        return max(sorted(counts), key=lambda a: counts[a])
    return "111122223333"


#: The Region a key policy given alone is placed in, per partition (docs/semantics-services.md §P.1).
_KEY_REGION = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}


def guess_partition(policy: PolicyDocument) -> str:
    """The partition a key policy most probably lives in: the most frequent modelled partition of its principal
    ARNs (a principal of another partition never matches, §P.2), else `aws`."""
    counts: dict[str, int] = {}
    for st in policy.statements:
        for e in st.principal.entries if st.principal is not None else ():
            arn = arns.parse_identity(e.value.text)
            if arn is not None and arn.partition in _KEY_REGION:
                counts[arn.partition] = counts.get(arn.partition, 0) + 1
    return max(sorted(counts), key=lambda p: counts[p]) if counts else PARTITION


def key_policy_environment(policy: PolicyDocument, key_arn: str | None = None) -> Environment:
    """One key with `policy`, in an environment that gives no account's IAM (worst case), in the partition its
    principals name (`guess_partition`). Organizations the policy's conditions name (`aws:PrincipalOrgID` values,
    `aws:PrincipalOrgPaths` paths) get one stand-in member account each (`stand_in_accounts`), so that access
    through an organization is not lost."""
    partition = guess_partition(policy)
    arn = key_arn or arns.format(arns.KeyArn(partition, _KEY_REGION[partition], guess_owner(policy),
                                             "00000000-0000-0000-0000-000000000000"))
    if policy.kind is not PolicyKind.KEY_POLICY:
        policy = replace(policy, kind=PolicyKind.KEY_POLICY)
    accounts, orgs = stand_in_accounts(policy)
    return Environment(keys=(Key(arn, policy),), accounts=accounts, organizations=orgs)


_ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")
_ROOT_ID = re.compile(r"r-[0-9a-z]{4,32}")
_OU_ID = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")


def _stand_in_id(text: str) -> str:
    import hashlib

    return "9" + f"{int(hashlib.sha256(text.encode()).hexdigest(), 16) % 10**11:011d}"


def stand_in_accounts(policy: PolicyDocument) -> tuple[tuple[Account, ...], tuple[Organization, ...]]:
    """A member account (IAM unknown) for every organization id, and for every organization path, that an
    aws:PrincipalOrgID / aws:PrincipalOrgPaths condition of `policy` names (an Allow that requires it, or a
    Deny that exempts it); its id is derived from the organization id or path (`9` + 11 digits)."""
    members: dict[str, tuple[str, tuple[str, ...]]] = {}  # account id -> (org id, ou path)
    roots: dict[str, str] = {}
    for st in policy.statements:
        if st.condition is None:
            continue
        for c in st.condition.conditions:
            low = c.key.text.lower()
            if c.operator.family != "string":
                continue
            for v in c.values:
                text = v.text.strip()
                if low == "aws:principalorgid" and _ORG_ID.fullmatch(text):
                    members.setdefault(_stand_in_id(text), (text, ()))
                elif low == "aws:principalorgpaths":
                    parts = text.split("/")
                    if len(parts) < 2 or not _ORG_ID.fullmatch(parts[0]) or not _ROOT_ID.fullmatch(parts[1]):
                        continue
                    ous = []
                    for part in parts[2:]:
                        if not _OU_ID.fullmatch(part):
                            break
                        ous.append(part)
                    roots.setdefault(parts[0], parts[1])
                    members.setdefault(_stand_in_id(text), (parts[0], (parts[1], *ous)))
    accounts = tuple(
        Account(a, organization=org, ou_path=path, iam_known=False) for a, (org, path) in sorted(members.items())
    )
    orgs: dict[str, Organization] = {}
    for a in accounts:
        assert a.organization is not None
        if a.organization not in orgs:
            root = roots.get(a.organization, "r-" + a.organization[2:6])
            orgs[a.organization] = Organization(a.organization, root, a.id)
    return accounts, tuple(orgs.values())
