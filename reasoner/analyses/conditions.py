"""Verification conditions: what it means, symbolically and concretely, that a request violates a property.

Input: a property value (`properties.py`), a compiled environment's domain, a concrete request.
Output: `violation(compiled, prop)`, the term satisfiable exactly by the violating requests, and
`concretely_violates(prop, envs, request)`, the same question answered by the concrete evaluator; the
principal and scope terms (`principal_is`, `in_scope`) with their concrete mirrors.
Guarantee: each symbolic function has its concrete mirror here, so a counterexample is a violation only if
the evaluator says so too (`pipeline` raises `InternalError` otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from reasoner.analyses.compiled import CompiledEnvironment
from reasoner.analyses.explain import replay
from reasoner.analyses.properties import (
    AccessNotGranted,
    Equivalent,
    NoNewAccess,
    OnlyPrincipalsCan,
    PrincipalScope,
    Property,
    ScopeKind,
)
from reasoner.errors import (
    InputError,
    Severity,
    register_code,
)
from reasoner.semantics import arns
from reasoner.semantics.environment import Environment
from reasoner.semantics.patterns import compile_action
from reasoner.semantics.request import Request
from reasoner.symbolic import smt
from reasoner.symbolic.domain import PARTITION, Domain, PKind, modelled_principal
from reasoner.symbolic.strings import literal

BAD_PROPERTY = register_code("SYM002", Severity.ERROR, "property names no action, key or principal of the domain")
def expand_actions(patterns: Iterable[str], domain: Domain) -> list[str]:
    pats = [compile_action(p) for p in patterns]
    out = [a for a in domain.actions if any(p.matches(a) for p in pats)]
    if not out:
        raise InputError(
            f"no KMS key action matches {list(patterns)}",
            help="properties range over KMS actions whose resource is a key",
            code=BAD_PROPERTY,
        )
    return out
def expand_resources(patterns: Iterable[str], domain: Domain) -> list[str]:
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

    d = domain
    t = text.strip()
    if arns.is_account_id(t):
        return smt.and_(d.kind_is(PKind.ROOT), d.f("acct").is_lit(t))
    m = modelled_principal(t)
    if isinstance(m, arns.RootArn):
        return smt.and_(d.kind_is(PKind.ROOT), d.f("acct").is_lit(m.account))
    if isinstance(m, arns.UserArn):
        path, _, name = m.path_name.rpartition("/")
        named = smt.and_(
            d.f("acct").is_lit(m.account),
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
    if isinstance(m, arns.RoleArn):
        path, _, name = m.path_name.rpartition("/")
        return smt.and_(
            d.kind_is(PKind.SESSION),
            d.f("acct").is_lit(m.account),
            d.f("role").atom(literal(name, ignore_case=True)),
            # the path of a role the environment does not describe is the one the ARN spells, or one the
            # counterexample does not record (`rpath` empty: the evaluator compares the role name only)
            smt.or_(
                d.role_known(),
                d.f("rpath").atom(literal(f"{path}/" if path else "", ignore_case=True)),
                d.f("rpath").atom(literal("")),
            ),
        )
    if isinstance(m, arns.AssumedRoleArn):
        return smt.and_(
            d.kind_is(PKind.SESSION),
            d.f("acct").is_lit(m.account),
            d.f("role").is_lit(m.role_name),
            d.f("sess").is_lit(m.session_name),
        )
    if isinstance(m, arns.FederatedUserArn):
        return smt.and_(d.kind_is(PKind.FEDERATED), d.f("acct").is_lit(m.account), d.f("fed").is_lit(m.name))
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
def scope_holds(env: Environment, scope: PrincipalScope, request: Request) -> bool:
    """Concrete twin of `in_scope` (for replay), with what the counterexample assumes (`Request.assumed`):
    the organization of an account the environment does not declare, a federated user's source user."""

    principal, assumed_org = request.principal, request.assumed.get("org")
    if scope.kind is ScopeKind.ANY:
        return True
    identity = arns.parse_identity(principal)
    account = identity.account if identity is not None and identity.partition == PARTITION else None
    if scope.kind is ScopeKind.OUTSIDE_ACCOUNTS:
        return account is None or account not in scope.values
    if scope.kind is ScopeKind.OUTSIDE_ORGANIZATIONS:
        inside = {a.id for a in env.accounts if a.organization in scope.values}
        if account is not None and env.account(account) is None and assumed_org in scope.values:
            return False
        return account is None or account not in inside
    return any(principal_matches(v, env, request) for v in scope.values)
def principal_matches(text: str, env: Environment, request: Request) -> bool:
    """Concrete twin of `principal_is(..., federated_sessions=True)`."""

    t = text.strip()
    principal = request.principal
    if arns.is_account_id(t):
        t = arns.format(arns.RootArn(PARTITION, t))
    m = modelled_principal(t)
    caller = modelled_principal(principal)
    if isinstance(m, arns.UserArn) and isinstance(caller, arns.FederatedUserArn):
        session = env.session(principal)
        return (session.source if session is not None else request.assumed.get("fedsource")) == t
    if isinstance(m, arns.RoleArn):
        s = caller if isinstance(caller, arns.AssumedRoleArn) else None
        path, _, name = m.path_name.rpartition("/")
        if not (s and s.account == m.account and s.role_name.lower() == name.lower()):
            return False
        # a role the environment does not describe has the path the counterexample assumes (none: the
        # name decides, as `evaluate._role_matches` compares it)
        described = env.role_named(s.account, s.role_name) is not None
        assumed = request.assumed.get("rolepath", "").lower()
        return described or not assumed or assumed == (f"{path}/" if path else "").lower()
    return t == principal
def violation(compiled: CompiledEnvironment, prop: Property) -> tuple[smt.Term, list[Environment]]:
    d = compiled.domain
    env = compiled.environment
    new = compiled.encoded
    if isinstance(prop, AccessNotGranted):
        term = smt.and_(
            new.allows,
            in_scope(d, env, prop.scope),
            d.action_in(expand_actions(prop.actions, d)),
            d.key_in(expand_resources(prop.resources, d)),
        )
        return term, [env]
    if isinstance(prop, OnlyPrincipalsCan):
        allowed_p = smt.or_(principal_is(d, p, federated_sessions=True) for p in prop.principals)
        term = smt.and_(
            new.allows,
            smt.not_(allowed_p),
            d.action_in(expand_actions(prop.actions, d)),
            d.key_in(expand_resources(prop.resources, d)),
        )
        return term, [env]
    if isinstance(prop, NoNewAccess | Equivalent):
        old = compiled.encode_other(prop.old)
        scope = smt.and_(d.action_in(expand_actions(prop.actions, d)), d.key_in(expand_resources(prop.resources, d)))
        if isinstance(prop, NoNewAccess):
            diff = smt.and_(new.allows, smt.not_(old.allows))
        else:
            diff = smt.not_(smt.iff(new.allows, old.allows))
        return smt.and_(scope, diff), [env, prop.old]
    raise InputError(f"unknown property `{type(prop).__name__}`", code=BAD_PROPERTY)
def concretely_violates(prop: Property, envs: list[Environment], request: Request) -> bool:
    env = envs[0]
    allowed = replay(env, request)[0].decision.allowed
    if isinstance(prop, AccessNotGranted):
        return allowed and scope_holds(env, prop.scope, request)
    if isinstance(prop, OnlyPrincipalsCan):
        return allowed and not any(principal_matches(p, env, request) for p in prop.principals)
    old_allowed = replay(envs[1], request)[0].decision.allowed
    if isinstance(prop, NoNewAccess):
        return allowed and not old_allowed
    return allowed != old_allowed
