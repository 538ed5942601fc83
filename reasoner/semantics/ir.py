"""The compiled-policy IR: what `evaluate.py` (concrete) and `encode.py` (symbolic) both read a policy as.

Input: a `PolicyDocument` (front/ast.py) and the `Options` of the environment.
Output: `CompiledPolicy` -> `CompiledStatement` -> `CompiledCondition` (-> `CompiledValue`) and
`CompiledPrincipal`, built by `compile_policy` once per document (cached by identity), plus the concrete helpers
both halves apply to the IR and to the environment: `compare` (the base comparison m(x, v) of semantics §3.2),
`matches_action`, `resource_hits`, `context_lookup`, `org_paths`, `path_targets`, `grantee_account`.
Guarantee: the evaluator and the encoder never read policy text on their own: every pattern, typed condition
value and principal entry is compiled here, so a difference between their answers is a difference of
`evaluate_X` and `encode_X`, never of how they read the policy. The encoder applies the concrete helpers only
to constants (a closed world of actions and keys, constant context values). No z3 here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from ipaddress import IPv4Network, IPv6Network
from typing import TypeVar

from reasoner.errors import InternalError
from reasoner.front.ast import (
    Condition,
    ConditionOperator,
    Effect,
    PolicyDocument,
    PolicyKind,
    PrincipalBlock,
    Statement,
)
from reasoner.front.ast import PrincipalType as AstPrincipalType
from reasoner.semantics import arns
from reasoner.semantics.catalog import is_multivalued
from reasoner.semantics.environment import Account, Key, Options, Organization
from reasoner.semantics.patterns import (
    ActionPattern,
    ArnPattern,
    Glob,
    ResourcePattern,
    compile_action,
    compile_arn_like,
    compile_glob,
    compile_resource,
)
from reasoner.semantics.values import (
    decode_base64,
    ip_in_network,
    parse_bool,
    parse_instant,
    parse_ip_address,
    parse_ip_network,
    parse_number,
)

_T = TypeVar("_T")

#: A request context: condition-key names in lower case -> the key's values (absent keys are missing).
Context = Mapping[str, tuple[str, ...]]


# ---- memo by object identity ----------------------------------------------------------------------------

_memo: dict[int, tuple[object, object]] = {}
_MEMO_LIMIT = 20_000


def cached(obj: object, build: Callable[[], _T]) -> _T:
    """Memoise `build()` by the identity of `obj` (kept alive so its id is never reused). Shared by the
    compiled policies and the evaluator's environment index; cleared as a whole past `_MEMO_LIMIT` entries."""
    hit = _memo.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]  # type: ignore[return-value]
    value = build()
    if len(_memo) >= _MEMO_LIMIT:  # bound memory in long sessions (generated policies); rebuilt on demand
        _memo.clear()
        _BOOL_VARIABLE_POLICIES.clear()
    _memo[id(obj)] = (obj, value)
    return value


def forget_if(drop: Callable[[object], bool]) -> None:
    """Drop what `cached` keeps for every object `drop` selects (`reasoner scan`: the environments one unit
    made, once its record is made, so that a worker's memory does not grow with the units it ran)."""
    for k in [k for k, (obj, _) in _memo.items() if drop(obj)]:
        del _memo[k]


# ---- the IR ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledValue:
    """One compiled condition value: the raw text plus its typed form for the operator's family."""

    text: str
    typed: object  # Glob | ArnPattern | Decimal | bool | bytes | IPNetwork | None (unparseable)


@dataclass(frozen=True)
class CompiledCondition:
    """One condition (operator, key, values) with its key in lower case and its values typed."""

    condition: Condition
    key: str  # lower case
    family: str
    multivalued: bool
    values: tuple[CompiledValue, ...]
    has_variables: bool
    negated: bool = False  # the operator is negated (`ConditionOperator.negated`, read once)


@dataclass(frozen=True)
class CompiledStatement:
    """One statement: its Action/NotAction and Resource/NotResource patterns, conditions and principal."""

    statement: Statement
    allow: bool
    actions: tuple[ActionPattern, ...]
    actions_negated: bool
    resources: tuple[ResourcePattern, ...]
    resources_negated: bool
    conditions: tuple[CompiledCondition, ...]
    action_cache: dict[str, bool]
    principal: CompiledPrincipal | None


@dataclass(frozen=True)
class CompiledPrincipal:
    """A Principal / NotPrincipal element by entry kind (semantics §2.3)."""

    negated: bool
    wildcard: bool
    #: (partition, account): a root ARN keeps its partition (docs/semantics-services.md §P.2: a principal of another
    #: partition never matches); a bare account id has partition "" (the policy's own: every partition)
    accounts: frozenset[tuple[str, str]]
    arns: frozenset[str]  # user, session, federated-user ARNs (exact)
    roles: frozenset[tuple[str, str, str]]  # (partition, account, role path/name lower)
    services: frozenset[str]  # lower case
    federated: frozenset[str] = frozenset()  # {"Federated": ...}: OIDC / SAML providers, lower case


@dataclass(frozen=True)
class CompiledPolicy:
    """A policy document's compiled statements, indexed by statement and (lazily) by action."""

    policy: PolicyDocument
    statements: tuple[CompiledStatement, ...]
    by_statement: Mapping[int, CompiledStatement]
    resource_based: bool
    by_action: dict[str, tuple[CompiledStatement, ...]]  # action -> statements whose Action matches it

    def for_action(self, action: str) -> tuple[CompiledStatement, ...]:
        hit = self.by_action.get(action)
        if hit is None:
            hit = self.by_action[action] = tuple(cs for cs in self.statements if matches_action(cs, action))
        return hit


# ---- compilation ----------------------------------------------------------------------------------------


def compile_value(cond: Condition, family: str, text: str, variables: bool, options: Options) -> CompiledValue:
    op = cond.operator
    typed: object
    if family == "string":
        like = op in (ConditionOperator.STRING_LIKE, ConditionOperator.STRING_NOT_LIKE)
        typed = compile_glob(text, variables=variables, wildcards=like)
    elif family == "arn":
        typed = compile_arn_like(text, variables=variables)
    elif family == "numeric":
        typed = parse_number(text)
    elif family == "date":
        typed = parse_instant(text)
    elif family == "bool":
        typed = compile_glob(text, variables=True, wildcards=False) if variables and options.bool_variables \
            else parse_bool(text)
    elif family == "binary":
        typed = decode_base64(text)
    elif family == "ip":
        typed = parse_ip_network(text)
    else:  # null
        typed = parse_bool(text)
    return CompiledValue(text, typed)


def compile_condition(cond: Condition, variables: bool, options: Options) -> CompiledCondition:
    family = cond.operator.family
    values = tuple(compile_value(cond, family, v.text, variables, options) for v in cond.values)
    has_vars = any(isinstance(v.typed, Glob | ArnPattern) and v.typed.has_variables for v in values)
    key = cond.key.text.lower()
    return CompiledCondition(cond, key, family, is_multivalued(key), values, has_vars, cond.operator.negated)


def compile_principal(block: PrincipalBlock) -> CompiledPrincipal:
    accounts: set[tuple[str, str]] = set()
    arn_texts: set[str] = set()
    roles: set[tuple[str, str, str]] = set()
    services: set[str] = set()
    federated: set[str] = set()
    wildcard = block.wildcard
    for entry in block.entries:
        text = entry.value.text
        if entry.type is AstPrincipalType.AWS:
            if text == "*":
                wildcard = True
            elif arns.is_account_id(text):
                accounts.add(("", text))
            elif isinstance(p := arns.parse_principal(text), arns.RootArn):
                accounts.add((p.partition, p.account))
            elif isinstance(p, arns.RoleArn):
                roles.add((p.partition, p.account, p.path_name.lower()))
            else:
                arn_texts.add(text)
        elif entry.type is AstPrincipalType.SERVICE:
            services.add(text.lower())
        elif entry.type is AstPrincipalType.FEDERATED:
            federated.add(text.lower())
        # CanonicalUser entries (S3 ACL grantees) match no caller the reasoner models
    return CompiledPrincipal(block.negated, wildcard, frozenset(accounts), frozenset(arn_texts),
                             frozenset(roles), frozenset(services), frozenset(federated))


def compile_statement(st: Statement, variables: bool, options: Options) -> CompiledStatement:
    actions = tuple(compile_action(v.text) for v in st.action.patterns) if st.action else ()
    resources = tuple(compile_resource(v.text, variables=variables) for v in st.resource.patterns) \
        if st.resource else ()
    conditions = tuple(compile_condition(c, variables, options) for c in st.condition.conditions) \
        if st.condition else ()
    return CompiledStatement(
        statement=st, allow=st.effect is Effect.ALLOW, actions=actions,
        actions_negated=bool(st.action and st.action.negated), resources=resources,
        resources_negated=bool(st.resource and st.resource.negated), conditions=conditions,
        action_cache={},
        principal=compile_principal(st.principal) if st.principal is not None else None,
    )


def compile_policy(policy: PolicyDocument, options: Options) -> CompiledPolicy:
    """The compiled form of `policy` (cached by identity; it depends on the options only through
    `bool_variables`)."""
    if not options.bool_variables:
        hit = _memo.get(id(policy))
        if hit is not None and hit[0] is policy:
            return hit[1]  # type: ignore[return-value]
        return cached(policy, lambda: _build_policy(policy, options))
    found = _BOOL_VARIABLE_POLICIES.get(id(policy))
    if found is not None and found.policy is policy:
        return found
    value = _build_policy(policy, options)
    _BOOL_VARIABLE_POLICIES[id(policy)] = value
    return value


def _build_policy(policy: PolicyDocument, options: Options) -> CompiledPolicy:
    variables = policy.supports_variables
    out = [compile_statement(st, variables, options) for st in policy.statements]
    return CompiledPolicy(policy, tuple(out), {id(c.statement): c for c in out}, policy.kind.is_resource_based, {})


_BOOL_VARIABLE_POLICIES: dict[int, CompiledPolicy] = {}


# ---- concrete helpers both halves apply ----------------------------------------------------------------


def matches_action(cs: CompiledStatement, action: str) -> bool:
    """The statement's Action / NotAction matches the action name (semantics §2.1; cached per statement; a
    statement without Action matches nothing)."""
    cached_hit = cs.action_cache.get(action)
    if cached_hit is None:
        if cs.statement.action is None:
            cached_hit = False
        else:
            hit = any(p.matches(action) for p in cs.actions)
            cached_hit = not hit if cs.actions_negated else hit
        cs.action_cache[action] = cached_hit
    return cached_hit


def context_lookup(context: Context) -> Callable[[str], str | None]:
    """The value of a single-valued key of `context` for policy variables (None: absent or multivalued)."""
    def look(key: str) -> str | None:
        low = key.lower()
        vals = context.get(low)
        if not vals or len(vals) != 1 or is_multivalued(low):
            return None
        return vals[0]
    return look


def resource_hits(patterns: tuple[ResourcePattern, ...], resource: str, policy: PolicyDocument,  # noqa: PLR0917
                  context: Context, key: Key | None, options: Options) -> bool:
    """Some Resource pattern matches `resource` (semantics §2.2): variables resolve from `context` (an
    unresolved one: the entry matches nothing, §3.4); in a key policy only `*` and, per
    `options.key_policy_own_arn_matches`, the key's own ARN denote the key."""
    look = None
    for pattern in patterns:
        if pattern.everything:
            return True
        if pattern.has_variables:
            look = look or context_lookup(context)
            resolved = pattern.resolve(look)
            if resolved is None:  # unresolved variable: this entry matches nothing (semantics §3.4)
                continue
        else:
            resolved = pattern
        resolved_pattern = resolved
        if policy.kind is PolicyKind.TRUST:
            continue  # a trust policy's statements name no resource: they are about the role itself
        if policy.kind is PolicyKind.KEY_POLICY:
            # in a key policy only `*` and (per option) the key's own ARN denote the key (semantics §2.2)
            if key is not None and options.key_policy_own_arn_matches and resolved_pattern.matches(key.arn):
                return True
            continue
        if resolved_pattern.matches(resource):
            return True
    return False


_IGNORE_CASE = (ConditionOperator.STRING_EQUALS_IGNORE_CASE, ConditionOperator.STRING_NOT_EQUALS_IGNORE_CASE)
#: The ordered operator families and how each reads a request value (numbers, dates as epoch seconds).
_ORDERED_FAMILIES: dict[str, Callable[[str], Decimal | None]] = {"numeric": parse_number, "date": parse_instant}


def compare(cc: CompiledCondition, x: str, typed: object) -> bool | None:
    """The base comparison m(x, v) of semantics §3.2 for one request value and one compiled policy value;
    None when a value does not parse (the operator's own test is then false)."""
    op = cc.condition.operator
    fam = cc.family
    if fam == "string":
        assert isinstance(typed, Glob)
        if op in _IGNORE_CASE:
            text = typed.literal_text
            return text is not None and x.casefold() == text.casefold()
        text = typed.literal_text
        if text is not None:
            return x == text
        return typed.matches(x)
    if fam == "arn":
        assert isinstance(typed, ArnPattern)
        return typed.matches(x)
    ordered = _ORDERED_FAMILIES.get(fam)
    if ordered is not None:
        xv = ordered(x)
        if xv is None or typed is None:
            return None
        assert isinstance(typed, Decimal)
        return _ordered(op, xv, typed)
    if fam == "bool":
        if isinstance(typed, Glob):  # resolved variable (options.bool_variables)
            typed = parse_bool(typed.literal_text or "")
        xb = parse_bool(x)
        return xb is not None and typed is not None and xb == typed
    if fam == "binary":
        xb2 = decode_base64(x)
        return xb2 is not None and typed is not None and xb2 == typed
    if fam == "ip":
        addr = parse_ip_address(x)
        if addr is None or typed is None:
            return None
        assert isinstance(typed, IPv4Network | IPv6Network)
        return ip_in_network(addr, typed)
    raise InternalError(f"no comparison for operator family `{fam}`")


def _ordered(op: ConditionOperator, x: Decimal, v: Decimal) -> bool:
    name = op.value
    if name.endswith("LessThanEquals"):
        return x <= v
    if name.endswith("LessThan"):
        return x < v
    if name.endswith("GreaterThanEquals"):
        return x >= v
    if name.endswith("GreaterThan"):
        return x > v
    return x == v  # Equals / NotEquals: the negation is applied by the caller


# ---- environment helpers both halves use ----------------------------------------------------------------


def org_paths(org: Organization, account: Account) -> str:
    """The value of aws:PrincipalOrgPaths / aws:ResourceOrgPaths for a member account (`o-x/r-ab12/ou-.../`)."""
    path = account.ou_path or (org.root_id,)
    return f"{org.id}/{'/'.join(path)}/"


def path_targets(org: Organization, account: Account) -> tuple[str, ...]:
    """The SCP / RCP targets along an account's path: the root (or its OUs), then the account."""
    return (*(account.ou_path or (org.root_id,)), account.id)


def grantee_account(grantee: str) -> str | None:
    """The account a grant's grantee names as a whole (account id or root ARN), else None."""
    if arns.is_account_id(grantee):
        return grantee
    p = arns.parse_principal(grantee)
    return p.account if isinstance(p, arns.RootArn) else None


__all__ = [
    "CompiledCondition",
    "CompiledPolicy",
    "CompiledPrincipal",
    "CompiledStatement",
    "CompiledValue",
    "Context",
    "cached",
    "compare",
    "compile_condition",
    "compile_policy",
    "compile_principal",
    "compile_statement",
    "compile_value",
    "context_lookup",
    "grantee_account",
    "matches_action",
    "org_paths",
    "path_targets",
    "resource_hits",
]
