"""Verification conditions: what it means, symbolically and concretely, that a request violates a property.

Input: a property value (`properties.py`), a compiled environment's domain, a concrete request.
Output: `violation(compiled, prop)`, the term satisfiable exactly by the violating requests, and
`concretely_violates(prop, envs, request)`, the same question answered by the concrete evaluator; the
principal and scope terms (`principal_is`, `in_scope`) with their concrete mirrors; the context conditions of
a claim (`condition_term` / `condition_holds`: a synthetic policy condition on the key, encoded by the
encoder's own `encode_condition` over the value it derives, and evaluated by `evaluate.evaluate_condition`
on the context the evaluator derived), and `condition_problem`, why a condition cannot be used.
Guarantee: each symbolic function has its concrete mirror here, so a counterexample is a violation only if
the evaluator says so too (`pipeline` raises `InternalError` otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from reasoner.analyses.compiled import CompiledEnvironment
from reasoner.analyses.explain import replay
from reasoner.analyses.properties import (
    ACCOUNT_PREFIX,
    AccessNotGranted,
    ContextCondition,
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
from reasoner.front.ast import Condition, ConditionOperator, SetQualifier
from reasoner.front.ast import Value as AstValue
from reasoner.semantics import arns, context_keys
from reasoner.semantics.catalog import is_multivalued
from reasoner.semantics.environment import Environment
from reasoner.semantics.evaluate import evaluate_condition, is_provider
from reasoner.semantics.ir import compile_condition
from reasoner.semantics.patterns import compile_action, compile_resource
from reasoner.semantics.request import Evaluation, Request
from reasoner.semantics.resources import type_named
from reasoner.semantics.values import decode_base64, parse_bool, parse_instant, parse_ip_network, parse_number
from reasoner.source import Span
from reasoner.symbolic import smt
from reasoner.symbolic.domain import PARTITION, Domain, PKind, SymTarget, modelled_principal
from reasoner.symbolic.strings import literal

BAD_PROPERTY = register_code("SYM002", Severity.ERROR, "property names no action, key or principal of the domain")
def expand_actions(patterns: Iterable[str], domain: Domain) -> list[str]:
    """The actions of the domain (the catalogue actions that act on its keys and resources) the patterns
    match."""
    texts = tuple(patterns)
    out = list(matching_actions(texts, tuple(domain.actions)))
    if not out:
        raise InputError(
            f"no action on a key or resource of the environment matches {list(texts)}",
            help="properties range over the actions that act on the environment's keys, resources and roles",
            code=BAD_PROPERTY,
        )
    return out


@lru_cache(maxsize=4096)
def matching_actions(patterns: tuple[str, ...], actions: tuple[str, ...]) -> tuple[str, ...]:
    """The `actions` some pattern matches, in order (kept: every property of a compiled environment asks it
    over the same actions, and matching each pattern against each action was a tenth of a further property)."""
    pats = [compile_action(p) for p in patterns]
    return tuple(a for a in actions if any(p.matches(a) for p in pats))


def expand_resources(patterns: Iterable[str], domain: Domain) -> list[str]:
    """The ARNs of the targets (keys, resources, roles) a property's resource list names: `*` (every target),
    `type:T` (every target of type T, a CloudFormation-style name or `service:type`), or ARN patterns that
    match a target's own ARN or the ARNs of its sub-resources (an S3 bucket's objects)."""
    out: list[str] = []
    for t in domain.targets:
        if any(_names_target(p, t) for p in patterns):
            out.append(t.arn)
    if not out:
        raise InputError(f"no key or resource of the environment matches {list(patterns)}", code=BAD_PROPERTY)
    return out


def _names_target(pattern: str, t: SymTarget) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("type:"):
        label = pattern[len("type:"):]
        return t.rtype is not None and any(rt.label == t.rtype.label for rt in type_named(label))
    p = compile_resource(pattern)
    return p.matches(t.arn) or (bool(t.sub_type) and _may_match_sub(pattern, t))


def _may_match_sub(pattern: str, t: SymTarget) -> bool:
    """Some sub-resource ARN of `t` (`sub_prefix` + a non-empty name) matches the pattern."""
    from reasoner.symbolic import strings

    nfa = strings.from_resource(compile_resource(pattern))
    states = strings.run(nfa.toks, strings.closure(nfa.toks, nfa.starts), t.sub_prefix)
    if not states:
        return False
    rest = strings.Nfa(nfa.toks, states, nfa.finals)
    return strings.find_witness([rest, strings.glob("?*")], budget=20_000) is not None


def resource_term(domain: Domain, patterns: Iterable[str]) -> smt.Term:
    """The requested resource is one the patterns name (`expand_resources`): a whole target, or for an ARN
    pattern the target itself when the pattern matches its ARN and, for a target with sub-resources, the
    sub-resources whose ARN the pattern matches."""
    from reasoner.symbolic import strings
    from reasoner.symbolic.encode import match_pieces

    pats = list(patterns)
    d = domain
    out: list[smt.Term] = []
    for t in d.targets:
        whole = [p for p in pats if p == "*" or p.startswith("type:")]
        if any(_names_target(p, t) for p in whole):
            out.append(d.target_is(t))
            continue
        arn_pats = [compile_resource(p) for p in pats if p not in whole]
        own = any(p.matches(t.arn) for p in arn_pats)
        if not t.sub_type:
            if own:
                out.append(d.target_is(t))
            continue
        sub = smt.or_(match_pieces(strings.from_resource(p), (t.sub_prefix, d.f("sub"))) for p in arn_pats)
        out.append(smt.and_(d.target_is(t), smt.ite(d.onsub, sub, smt.TRUE if own else smt.FALSE)))
    return smt.or_(out)


def principal_is(domain: Domain, text: str, *, federated_sessions: bool = False) -> smt.Term:
    """The symbolic caller is `text`: an account id or root ARN (the root user), a user ARN (with
    `federated_sessions`, also any GetFederationToken session of that user), a role ARN (any session of the
    role), a role-session or federated-user ARN, or a service principal."""

    d = domain
    t = text.strip()
    if t.startswith(ACCOUNT_PREFIX):
        # every principal of the account (not a service principal, which is in no account)
        account = t[len(ACCOUNT_PREFIX):]
        return smt.and_(smt.not_(d.kind_is(PKind.SERVICE)), d.f("acct").is_lit(account))
    if arns.is_account_id(t):
        return smt.and_(d.kind_is(PKind.ROOT), d.f("acct").is_lit(t))
    m = modelled_principal(t)
    if m is not None and d.partitions != (m.partition,):
        # a principal of one partition calls only resources of its partition
        return smt.and_(d.partition_is(m.partition), _principal_is(d, t, m, federated_sessions))
    return _principal_is(d, t, m, federated_sessions)


def _principal_is(d: Domain, t: str, m: arns.PrincipalArn | None, federated_sessions: bool) -> smt.Term:
    """`principal_is` within the caller's partition."""
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
    if re.fullmatch(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?", t):
        return smt.and_(d.kind_is(PKind.SERVICE), d.f("svc").is_lit(t))
    if is_provider(t) and PKind.PROVIDER in d.kinds:
        return smt.and_(d.kind_is(PKind.PROVIDER), d.f("prov").atom(literal(t, ignore_case=True)))
    raise InputError(f"`{t}` is not an account id, principal ARN, service principal or identity provider",
                     code=BAD_PROPERTY)


def in_scope(domain: Domain, env: Environment, scope: PrincipalScope) -> smt.Term:
    d = domain
    # service principals, anonymous callers and web identity / SAML providers are in no account
    service = smt.or_(d.kind_is(k) for k in (PKind.SERVICE, PKind.ANONYMOUS, PKind.PROVIDER) if k in d.kinds)
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
                smt.not_(service),
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
    account = identity.account if identity is not None and identity.partition in arns.PARTITIONS else None
    if is_provider(principal):
        account = None  # a web identity / SAML provider's user is in no AWS account
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
    if t.startswith(ACCOUNT_PREFIX):
        identity = arns.parse_identity(principal)
        return identity is not None and not is_provider(principal) and identity.account == t[len(ACCOUNT_PREFIX):]
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
            _resources(d, prop.resources),
            *(condition_term(compiled, c) for c in prop.when),
        )
        return term, [env]
    if isinstance(prop, OnlyPrincipalsCan):
        allowed_p = smt.or_(principal_is(d, p, federated_sessions=True) for p in prop.principals)
        term = smt.and_(
            new.allows,
            smt.not_(allowed_p),
            d.action_in(expand_actions(prop.actions, d)),
            _resources(d, prop.resources),
            *(condition_term(compiled, c) for c in prop.when),
        )
        return term, [env]
    if isinstance(prop, NoNewAccess | Equivalent):
        old = compiled.encode_other(prop.old)
        scope = smt.and_(d.action_in(expand_actions(prop.actions, d)), _resources(d, prop.resources))
        if isinstance(prop, NoNewAccess):
            diff = smt.and_(new.allows, smt.not_(old.allows))
        else:
            diff = smt.not_(smt.iff(new.allows, old.allows))
        return smt.and_(scope, diff), [env, prop.old]
    raise InputError(f"unknown property `{type(prop).__name__}`", code=BAD_PROPERTY)
def _resources(d: Domain, patterns: tuple[str, ...]) -> smt.Term:
    expand_resources(patterns, d)  # a property naming nothing is an input error, not a vacuous proof
    return resource_term(d, patterns)


def concretely_violates(prop: Property, envs: list[Environment], request: Request) -> bool:
    env = envs[0]
    evaluation = replay(env, request)[0]
    allowed = evaluation.decision.allowed
    if isinstance(prop, AccessNotGranted):
        return allowed and scope_holds(env, prop.scope, request) and _conditions_hold(env, prop.when, evaluation)
    if isinstance(prop, OnlyPrincipalsCan):
        return allowed and not any(principal_matches(p, env, request) for p in prop.principals) \
            and _conditions_hold(env, prop.when, evaluation)
    old_allowed = replay(envs[1], request)[0].decision.allowed
    if isinstance(prop, NoNewAccess):
        return allowed and not old_allowed
    return allowed != old_allowed


# ---- context conditions of a claim ----------------------------------------------------------------------

#: The operator that compares a key of each family with a claim's values (`ContextCondition`).
_OPERATORS = {
    "string": ConditionOperator.STRING_EQUALS,
    "arn": ConditionOperator.STRING_EQUALS,  # exact, as written (ArnEquals would read wildcards)
    "bool": ConditionOperator.BOOL,
    "numeric": ConditionOperator.NUMERIC_EQUALS,
    "date": ConditionOperator.DATE_EQUALS,
    "ip": ConditionOperator.IP_ADDRESS,
    "binary": ConditionOperator.BINARY_EQUALS,
}
_PARSERS = {"bool": parse_bool, "numeric": parse_number, "date": parse_instant, "ip": parse_ip_network,
            "binary": decode_base64}
_WHAT = {"bool": "`true` or `false`", "numeric": "a number", "date": "a date (ISO 8601 or epoch seconds)",
         "ip": "an IP address or CIDR range", "binary": "base64"}


def condition_problem(cond: ContextCondition) -> tuple[str, str] | None:
    """Why `cond` cannot be checked: ("key", message) for a key AWS does not define, ("value", message) for a
    value that is not of the key's type; None when it can."""
    data_type = context_keys.key_type(cond.key)
    if data_type is None:
        return "key", f"unknown context key `{cond.key}`"
    if not cond.values:
        return "value", f"no value for `{cond.key}`"
    fam = context_keys.family(data_type)
    parse = _PARSERS.get(fam)
    for v in cond.values:
        if parse is not None and parse(v) is None:
            return "value", f"`{v}` is not {_WHAT[fam]}, the type of `{context_keys.canonical(cond.key)}` ({data_type})"
    return None


def policy_condition(cond: ContextCondition, span: Span | None = None) -> Condition:
    """`cond` as the policy condition it means: the operator of the key's type, `ForAnyValue` for a multivalued
    key, the values as written."""
    problem = condition_problem(cond)
    if problem is not None:
        raise InputError(problem[1], code=BAD_PROPERTY)
    data_type = context_keys.key_type(cond.key) or "String"
    at = span or Span.point("<property>", 1, 1)
    key = context_keys.canonical(cond.key) or cond.key
    qualifier = SetQualifier.FOR_ANY_VALUE if is_multivalued(key) else SetQualifier.NONE
    return Condition(qualifier, _OPERATORS[context_keys.family(data_type)], False, AstValue(key, at),
                     tuple(AstValue(v, at) for v in cond.values), at, at)


def condition_term(compiled: CompiledEnvironment, cond: ContextCondition) -> smt.Term:
    """The symbolic request satisfies `cond`: the encoder's own `encode_condition` on the policy condition it
    means, over the value the encoder derives for the key (given by the caller or derived by AWS)."""
    cc = compile_condition(policy_condition(cond), False, compiled.environment.options)
    term = compiled.encoder(compiled.environment).encode_condition(cc)
    return smt.not_(term) if cond.negated else term


def condition_holds(env: Environment, cond: ContextCondition, evaluation: Evaluation) -> bool:
    """Concrete twin of `condition_term`: `evaluate.evaluate_condition` on the context the evaluator derived
    for the request (`Evaluation.context`)."""
    context = {k.lower(): v for k, v in evaluation.context.items()}  # the evaluator shows keys as AWS spells them
    held = evaluate_condition(policy_condition(cond), context, False, env.options)
    return not held if cond.negated else held


def _conditions_hold(env: Environment, conds: Iterable[ContextCondition], evaluation: Evaluation) -> bool:
    return all(condition_holds(env, c, evaluation) for c in conds)
