"""Benchmark baseline and cross-check: a plain Z3 string-theory encoding of the symbolic core's queries.

Input: an `Environment` (parsed policies: key policies and identity policies) and a property value
(`AccessNotGranted`, `CanAccess` or `NoNewAccess`), plus a wall-clock timeout.
Output: a `StringResult`: "PROVED" / "REFUTED" / "UNKNOWN" with the seconds spent (and a reason when UNKNOWN
or when the input is outside the subset below).
Guarantee: this is the *naive* encoding that the encoding notes measured and that issue 4 rejected as the
engine: every request field is a Z3 `String`, every glob a regular-expression membership, the principal
ARN is tied to its account with a word equation. It exists to time the same question side by side with the
real core, and to cross-check verdicts on the subset it expresses. It lives in `benchmarks/` so that the
package rule "only `reasoner/symbolic/smt.py` builds Z3 terms" is not broken.

Subset (anything else raises `NotExpressible`, reported as "not expressible", never guessed):
- callers are the root user, IAM users (`user/<name>`, no path) and role sessions
  (`assumed-role/<role>/<session>`, roles without path) of any account, and AWS service principals
  (`<name>.amazonaws.com`, allowed only by a key-policy `"*"` or `{"Service": ...}` statement, §4.4); no
  federated users (without a session policy they get nothing from a generated policy), no anonymous callers;
- policies: one key policy per key (semantics §4.4) and identity policies (§4.2); no SCPs, RCPs,
  permissions boundaries, session policies, grants, NotPrincipal; no policy variables;
- conditions: String*, Arn*, Bool and Null operators (with IfExists), single-valued keys only;
- accounts whose IAM is not given may allow anything (the Access Analyzer default of issue 4); in a given
  account, a principal not listed has no identity policy (the root user needs none).
Semantics followed: action match case-insensitive glob (§2.1); identity-policy Resource segment-wise glob
where a segment-final `*` may cross colons (§2.2); key-policy Resource `*` or the key's own ARN (§2.2, §7.9);
principal matching and the same-/cross-account KMS rule (§2.3, §4.4); conditions per §3.2-§3.3 (absent key:
positive false, negated true, IfExists true); cross-account-capable KMS operations (§4.6).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import z3

from reasoner.analyses.properties import AccessNotGranted, CanAccess, NoNewAccess, ScopeKind
from reasoner.front.ast import (
    Condition,
    ConditionOperator,
    Effect,
    PolicyDocument,
    PrincipalBlock,
    PrincipalType,
    SetQualifier,
    Statement,
)
from reasoner.semantics import catalog
from reasoner.semantics.environment import Environment, Key, Principal, PrincipalKind

ROOT, USER, SESSION, SERVICE = 0, 1, 2, 3


class NotExpressible(Exception):
    """The environment or property uses something outside this baseline's subset."""


@dataclass(frozen=True)
class StringResult:
    verdict: str  # PROVED | REFUTED | UNKNOWN | NOT_EXPRESSIBLE
    seconds: float
    reason: str = ""
    witness: dict[str, str] = field(default_factory=dict)


# ---- regular expressions -----------------------------------------------------------------------------------

def _any() -> z3.ReRef:
    return z3.AllChar(z3.ReSort(z3.StringSort()))


def _not_colon() -> z3.ReRef:
    return z3.Intersect(_any(), z3.Complement(z3.Re(z3.StringVal(":"))))


def _concat(parts: Sequence[z3.ReRef]) -> z3.ReRef:
    if not parts:
        return z3.Re(z3.StringVal(""))
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def _literal(text: str, ignore_case: bool) -> list[z3.ReRef]:
    if not ignore_case:
        return [z3.Re(z3.StringVal(text))] if text else []
    out: list[z3.ReRef] = []
    for ch in text:
        if ch.lower() != ch.upper():
            out.append(z3.Union(z3.Re(z3.StringVal(ch.lower())), z3.Re(z3.StringVal(ch.upper()))))
        else:
            out.append(z3.Re(z3.StringVal(ch)))
    return out


def glob(pattern: str, *, ignore_case: bool = False, star: z3.ReRef | None = None,
         one: z3.ReRef | None = None) -> z3.ReRef:
    """`*` any sequence, `?` one character, the rest literal."""
    star_re = z3.Star(star if star is not None else _any())
    one_re = one if one is not None else _any()
    parts: list[z3.ReRef] = []
    buf = ""
    for ch in pattern:
        if ch in "*?":
            parts.extend(_literal(buf, ignore_case))
            buf = ""
            parts.append(star_re if ch == "*" else one_re)
        else:
            buf += ch
    parts.extend(_literal(buf, ignore_case))
    return _concat(parts)


def arn_like(pattern: str) -> z3.ReRef | None:
    """ArnLike (§3.3): six colon-separated parts; `*`/`?` never cross a colon in the first five; None if the
    pattern is not an ARN (then it matches nothing)."""
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        return None
    res: list[z3.ReRef] = []
    for i, seg in enumerate(parts[:5]):
        res.append(glob(seg, star=_not_colon(), one=_not_colon()))
        res.append(z3.Re(z3.StringVal(":")))
        del i
    res.append(glob(parts[5]))
    return _concat(res)


def resource_glob(pattern: str) -> z3.ReRef:
    """Resource (§2.2): segment-wise glob; a `*` at the end of a segment may also swallow colons."""
    if pattern == "*":
        return z3.Star(_any())
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        return glob(pattern)
    res: list[z3.ReRef] = []
    for seg in parts[:5]:
        if seg.endswith("*"):
            res.append(z3.Concat(glob(seg[:-1], star=_not_colon(), one=_not_colon()), z3.Star(_any()))
                       if seg[:-1] else z3.Star(_any()))
        else:
            res.append(glob(seg, star=_not_colon(), one=_not_colon()))
        res.append(z3.Re(z3.StringVal(":")))
    res.append(glob(parts[5]))
    return _concat(res)


# ---- the symbolic request ----------------------------------------------------------------------------------

class _Request:
    """Every field a Z3 String; the principal ARN tied to its account with word equations."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.kind = z3.Int("kind")
        self.acct = z3.String("account")
        self.p = z3.String("principal")
        self.user = z3.String("user_name")
        self.role = z3.String("role_name")
        self.session = z3.String("session_name")
        self.action = z3.String("action")
        self.resource = z3.String("resource")
        self.id_free = z3.Bool("unknown_iam_allows")
        self.keys: dict[str, tuple[z3.BoolRef, z3.SeqRef]] = {}
        self.assumptions: list[z3.BoolRef] = []
        S = z3.StringVal
        digit = z3.Range("0", "9")
        name_char = z3.Intersect(_any(), z3.Complement(z3.Union(z3.Re(S(":")), z3.Re(S("/")))))
        iam = z3.Concat(S("arn:aws:iam::"), self.acct)
        self.role_arn = z3.Concat(iam, S(":role/"), self.role)
        self.assumptions += [
            z3.InRe(self.acct, z3.Loop(digit, 12, 12)),
            z3.Or(self.kind == ROOT, self.kind == USER, self.kind == SESSION, self.kind == SERVICE),
            z3.Implies(self.kind == SERVICE, z3.InRe(self.p, z3.Concat(
                z3.Union(z3.Range("a", "z"), digit),
                z3.Star(z3.Union(z3.Range("a", "z"), digit, z3.Re(S(".")), z3.Re(S("-")))),
                z3.Re(S(".amazonaws.com"))))),
            z3.InRe(self.user, z3.Plus(name_char)),
            z3.InRe(self.role, z3.Plus(name_char)),
            z3.InRe(self.session, z3.Plus(name_char)),
            z3.Implies(self.kind == ROOT, self.p == z3.Concat(iam, S(":root"))),
            z3.Implies(self.kind == USER, self.p == z3.Concat(iam, S(":user/"), self.user)),
            z3.Implies(self.kind == SESSION,
                       self.p == z3.Concat(S("arn:aws:sts::"), self.acct, S(":assumed-role/"), self.role,
                                           S("/"), self.session)),
        ]
        self.principal_arn = z3.If(self.kind == SESSION, self.role_arn, self.p)

    def known(self, env: Environment | None = None) -> list[tuple[Principal, z3.BoolRef]]:
        """(principal, "the caller is it") for the principals of `env` (default: the request's)."""
        out = []
        for pr in (env or self.env).principals:
            if pr.kind is PrincipalKind.ROLE:
                out.append((pr, z3.And(self.kind == SESSION, self.role_arn == z3.StringVal(pr.arn))))
            elif pr.kind in (PrincipalKind.USER, PrincipalKind.ROOT):
                out.append((pr, self.p == z3.StringVal(pr.arn)))
            else:
                raise NotExpressible(f"principal kind `{pr.kind.value}`")
        return out

    def key(self, name: str) -> tuple[z3.BoolRef, z3.SeqRef]:
        """(present, value) of a single-valued condition key; keys AWS derives are tied to the principal."""
        k = name.lower()
        if k in self.keys:
            return self.keys[k]
        if catalog.is_multivalued(k):
            raise NotExpressible(f"multivalued key `{name}`")
        S = z3.StringVal
        iam_caller = self.kind != SERVICE
        if k == "aws:principalarn":
            term = (iam_caller, self.principal_arn)
        elif k in ("aws:principalaccount", "kms:calleraccount"):
            term = (iam_caller, self.acct)
        elif k == "aws:username":
            term = (self.kind == USER, self.user)
        elif k == "aws:principaltype":
            term = (iam_caller, z3.If(self.kind == ROOT, S("Account"),
                                      z3.If(self.kind == USER, S("User"), S("AssumedRole"))))
        elif k == "aws:principalisawsservice":
            term = (z3.BoolVal(True), z3.If(self.kind == SERVICE, S("true"), S("false")))
        elif k == "aws:principalservicename":
            term = (self.kind == SERVICE, self.p)
        elif k.startswith("aws:principaltag/"):
            present, value = z3.Bool(f"has {k}"), z3.String(k)
            self.assumptions.append(z3.Implies(self.kind == SERVICE, z3.Not(present)))
            tag = k.split("/", 1)[1]
            for pr, is_it in self.known():
                tags = {t.lower(): v for t, v in pr.tags.items()}
                self.assumptions.append(z3.Implies(is_it, present == (tag in tags)))
                if tag in tags:
                    self.assumptions.append(z3.Implies(is_it, value == S(tags[tag])))
            term = (present, value)
        elif k in ("aws:principalorgid", "aws:principalorgpaths", "aws:userid", "aws:sourceaccount"):
            if k != "aws:principalorgid" or self.env.organizations:
                raise NotExpressible(f"condition key `{name}`")
            present, value = z3.Bool(f"has {k}"), z3.String(k)
            self.assumptions.append(z3.Implies(self.kind == SERVICE, z3.Not(present)))
            for a in self.env.accounts:  # a given account without organisation: key absent
                self.assumptions.append(z3.Implies(self.acct == S(a.id), z3.Not(present)))
            term = (present, value)
        else:
            present, value = z3.Bool(f"has {k}"), z3.String(k)
            term = (present, value)
        self.keys[k] = term
        return term


# ---- policies ----------------------------------------------------------------------------------------------

class _Encoder:
    def __init__(self, env: Environment, req: _Request, actions: Sequence[str]) -> None:
        self.env = env
        self.req = req
        self.actions = actions

    def action_match(self, st: Statement) -> z3.BoolRef:
        if st.action is None:
            return z3.BoolVal(False)
        hits = [z3.InRe(self.req.action, glob(v.text, ignore_case=True)) for v in st.action.patterns]
        m = z3.Or(*hits) if hits else z3.BoolVal(False)
        return z3.Not(m) if st.action.negated else m

    def resource_match(self, st: Statement, key: Key | None) -> z3.BoolRef:
        if st.resource is None:
            return z3.BoolVal(False)
        if key is not None:  # key policy: `*` or the key's own ARN (§2.2, §7.9)
            ok = any(v.text == "*" or (v.text == key.arn and self.env.options.key_policy_own_arn_matches)
                     for v in st.resource.patterns)
            m = z3.BoolVal(ok)
        else:
            hits = [z3.InRe(self.req.resource, resource_glob(v.text)) for v in st.resource.patterns]
            m = z3.Or(*hits) if hits else z3.BoolVal(False)
        return z3.Not(m) if st.resource.negated else m

    def principal_match(self, block: PrincipalBlock | None) -> tuple[z3.BoolRef, z3.BoolRef]:
        """(direct match, account-level match) of a key-policy Principal element (§2.3)."""
        if block is None:
            return z3.BoolVal(False), z3.BoolVal(False)
        if block.negated:
            raise NotExpressible("NotPrincipal")
        if block.wildcard:
            return z3.BoolVal(True), z3.BoolVal(False)
        req = self.req
        S = z3.StringVal
        direct: list[z3.BoolRef] = []
        account: list[z3.BoolRef] = []
        iam_caller = req.kind != SERVICE
        for e in block.entries:
            v = e.value.text
            if e.type is PrincipalType.SERVICE:
                direct.append(z3.And(req.kind == SERVICE, req.p == S(v.lower())))
                continue
            if e.type is not PrincipalType.AWS:
                continue  # federated/canonical principals are not callers in this subset
            if v == "*":
                direct.append(z3.BoolVal(True))
            elif v.isdigit() and len(v) == 12:
                account.append(z3.And(iam_caller, req.acct == S(v)))
            elif v.startswith("arn:aws:iam::") and v.endswith(":root"):
                account.append(z3.And(iam_caller, req.acct == S(v.split(":")[4])))
            elif ":user/" in v and v.startswith("arn:aws:iam::"):
                direct.append(z3.And(req.kind == USER, req.p == S(v)))
            elif ":role/" in v and v.startswith("arn:aws:iam::"):
                direct.append(z3.And(req.kind == SESSION, req.role_arn == S(v)))
            elif ":assumed-role/" in v:
                direct.append(z3.And(req.kind == SESSION, req.p == S(v)))
            else:
                raise NotExpressible(f"principal `{v}`")
        return (z3.Or(*direct) if direct else z3.BoolVal(False),
                z3.Or(*account) if account else z3.BoolVal(False))

    def condition(self, c: Condition, doc: PolicyDocument) -> z3.BoolRef:
        if c.qualifier is not SetQualifier.NONE:
            raise NotExpressible(f"`{c.operator_text}`")
        fam = c.operator.family
        if fam not in ("string", "arn", "bool", "null"):
            raise NotExpressible(f"operator `{c.operator_text}`")
        if doc.supports_variables and any("${" in v.text for v in c.values):
            raise NotExpressible("policy variables")
        present, value = self.req.key(c.key.text)
        if fam == "null":
            alts = [z3.Not(present) if v.text.lower() == "true" else present
                    for v in c.values if v.text.lower() in ("true", "false")]
            return z3.Or(*alts) if alts else z3.BoolVal(False)
        op = c.operator
        ops = ConditionOperator
        tests: list[z3.BoolRef] = []
        for v in c.values:
            t = v.text
            if op in (ops.STRING_EQUALS, ops.STRING_NOT_EQUALS):
                tests.append(value == z3.StringVal(t))
            elif op in (ops.STRING_EQUALS_IGNORE_CASE, ops.STRING_NOT_EQUALS_IGNORE_CASE):
                tests.append(z3.InRe(value, _concat(_literal(t, True))))
            elif op in (ops.STRING_LIKE, ops.STRING_NOT_LIKE):
                tests.append(z3.InRe(value, glob(t)))
            elif fam == "arn":
                r = arn_like(t)
                tests.append(z3.InRe(value, r) if r is not None else z3.BoolVal(False))
            elif op is ops.BOOL:
                if t.lower() in ("true", "false"):
                    tests.append(z3.InRe(value, _concat(_literal(t.lower(), True))))
            else:
                raise NotExpressible(f"operator `{c.operator_text}`")
        some = z3.Or(*tests) if tests else z3.BoolVal(False)
        if op.negated:
            return z3.Or(z3.Not(present), z3.Not(some))
        if c.if_exists:
            return z3.Or(z3.Not(present), some)
        return z3.And(present, some)

    def conditions(self, st: Statement, doc: PolicyDocument) -> z3.BoolRef:
        if st.condition is None:
            return z3.BoolVal(True)
        return z3.And(*[self.condition(c, doc) for c in st.condition.conditions]) \
            if st.condition.conditions else z3.BoolVal(True)

    def statement(self, st: Statement, doc: PolicyDocument, key: Key | None) -> z3.BoolRef:
        return z3.And(self.action_match(st), self.resource_match(st, key), self.conditions(st, doc))

    def identity(self, docs: Iterable[PolicyDocument]) -> tuple[z3.BoolRef, z3.BoolRef]:
        """(some Allow applies, some Deny applies) over identity policies."""
        allows: list[z3.BoolRef] = []
        denies: list[z3.BoolRef] = []
        for doc in docs:
            for st in doc.statements:
                (allows if st.effect is Effect.ALLOW else denies).append(self.statement(st, doc, None))
        return (z3.Or(*allows) if allows else z3.BoolVal(False),
                z3.Or(*denies) if denies else z3.BoolVal(False))

    def key_policy(self, key: Key) -> tuple[z3.BoolRef, z3.BoolRef, z3.BoolRef]:
        """(direct allow, account-level allow for the caller's account, deny) of a key policy."""
        direct: list[z3.BoolRef] = []
        account: list[z3.BoolRef] = []
        denies: list[z3.BoolRef] = []
        for st in key.policy.statements:
            d, a = self.principal_match(st.principal)
            applies = self.statement(st, key.policy, key)
            if st.effect is Effect.DENY:
                denies.append(z3.And(z3.Or(d, a), applies))
            else:
                direct.append(z3.And(d, applies))
                account.append(z3.And(a, applies))
        return (z3.Or(*direct) if direct else z3.BoolVal(False),
                z3.Or(*account) if account else z3.BoolVal(False),
                z3.Or(*denies) if denies else z3.BoolVal(False))

    def allowed(self, key: Key) -> z3.BoolRef:
        """The KMS decision of §4.4 for the symbolic request on `key` (no SCP/RCP/boundary/grant)."""
        req = self.req
        S = z3.StringVal
        kp_direct, kp_acct, kp_deny = self.key_policy(key)
        # identity side: per known principal, then the default for everyone else
        given = {a.id for a in self.env.accounts if a.iam_known}
        default_allow = z3.If(req.kind == ROOT, z3.BoolVal(True),
                              z3.If(z3.Or(*[req.acct == S(a) for a in given]) if given else z3.BoolVal(False),
                                    z3.BoolVal(False), req.id_free))
        id_allow: z3.BoolRef = default_allow
        id_deny: z3.BoolRef = z3.BoolVal(False)
        for pr, is_it in reversed(self.req.known(self.env)):
            if pr.permissions_boundary is not None:
                raise NotExpressible("permissions boundaries")
            a, d = self.identity(pr.identity_policies)
            if pr.kind is PrincipalKind.ROOT:
                a = z3.BoolVal(True)
            id_allow = z3.If(is_it, a, id_allow)
            id_deny = z3.If(is_it, d, id_deny)
        same = req.acct == S(key.account)
        capable_actions = [a for a in self.actions if a in catalog.KMS_CROSS_ACCOUNT_ACTIONS]
        capable = (z3.Or(*[req.action == S(a) for a in capable_actions]) if capable_actions
                   else z3.BoolVal(False))
        grant = z3.If(req.kind == SERVICE, kp_direct,  # a service principal: the key policy alone (§4.4)
                      z3.If(same, z3.Or(kp_direct, z3.And(kp_acct, id_allow)),
                            z3.And(capable, z3.Or(kp_direct, kp_acct), id_allow)))
        return z3.And(z3.Not(kp_deny), z3.Not(id_deny), grant)


# ---- properties --------------------------------------------------------------------------------------------

def _expand_actions(patterns: Sequence[str]) -> list[str]:
    out: list[str] = []
    for pat in patterns:
        if "*" in pat or "?" in pat:
            import fnmatch

            out.extend(a for a in catalog.kms_actions() if fnmatch.fnmatch(a.lower(), pat.lower()))
        else:
            canon = catalog.canonical_action(pat)
            if canon is None:
                raise NotExpressible(f"action `{pat}`")
            out.append(canon)
    if not out or any(not a.startswith("kms:") for a in out):
        raise NotExpressible("actions outside kms")
    return sorted(set(out))


def _keys(env: Environment, resources: Sequence[str]) -> list[Key]:
    if tuple(resources) == ("*",):
        return list(env.keys)
    keys = [k for k in env.keys if k.arn in resources]
    if len(keys) != len(set(resources)):
        raise NotExpressible("resources that are not keys of the environment")
    return keys


def _domain(env: Environment) -> None:
    if env.organizations:
        raise NotExpressible("organizations (SCPs, RCPs)")
    if env.sessions and any(s.session_policies for s in env.sessions):
        raise NotExpressible("session policies")
    for k in env.keys:
        if k.grants:
            raise NotExpressible("grants")
    for a in env.accounts:
        if a.enabled_regions is not None:
            raise NotExpressible("opt-in Regions")


def _solver(timeout_s: float) -> z3.Solver:
    s = z3.Solver()
    s.set("timeout", max(1, int(timeout_s * 1000)))
    s.set("random_seed", 0)
    return s


def _solve(assertions: list[z3.BoolRef],
           timeout_s: float) -> tuple[z3.CheckSatResult, z3.ModelRef | None, str]:
    s = _solver(timeout_s)
    s.add(*assertions)
    r = s.check()
    if r == z3.sat:
        return r, s.model(), ""
    if r == z3.unknown:
        return r, None, s.reason_unknown()
    return r, None, ""


def _witness(model: z3.ModelRef, req: _Request) -> dict[str, str]:
    out = {}
    for name, t in (("principal", req.p), ("action", req.action), ("account", req.acct)):
        v = model.eval(t, model_completion=True)
        out[name] = v.as_string() if hasattr(v, "as_string") else str(v)
    return out


def check(env: Environment, prop: object, *, timeout_s: float = 30.0) -> StringResult:
    """Decide `prop` on `env` with the plain string encoding (see the module docstring for the subset)."""
    t0 = time.perf_counter()
    try:
        _domain(env)
        if isinstance(prop, AccessNotGranted):
            verdict, reason, witness = _access_not_granted(env, prop, timeout_s)
        elif isinstance(prop, CanAccess):
            verdict, reason, witness = _can_access(env, prop, timeout_s)
        elif isinstance(prop, NoNewAccess):
            _domain(prop.old)
            verdict, reason, witness = _no_new_access(env, prop, timeout_s)
        else:
            raise NotExpressible(f"property `{type(prop).__name__}`")
    except NotExpressible as exc:
        return StringResult("NOT_EXPRESSIBLE", time.perf_counter() - t0, str(exc))
    return StringResult(verdict, time.perf_counter() - t0, reason, witness)


def _access_not_granted(env: Environment, prop: AccessNotGranted,
                        timeout_s: float) -> tuple[str, str, dict[str, str]]:
    actions = _expand_actions(prop.actions)
    keys = _keys(env, prop.resources)
    req = _Request(env)
    enc = _Encoder(env, req, actions)
    S = z3.StringVal
    scope = prop.scope
    if scope.kind is ScopeKind.ANY:
        in_scope: z3.BoolRef = z3.BoolVal(True)
    elif scope.kind is ScopeKind.OUTSIDE_ACCOUNTS:  # a service principal belongs to no account
        outside = z3.And(*[req.acct != S(a) for a in scope.values]) if scope.values else z3.BoolVal(True)
        in_scope = z3.Or(req.kind == SERVICE, outside)
    else:
        raise NotExpressible(f"scope `{scope.kind.value}`")
    allowed = z3.Or(*[z3.And(req.resource == S(k.arn), enc.allowed(k)) for k in keys])
    # read the assumptions only now: encoding the policies creates the condition keys they constrain
    assertions = [*req.assumptions, in_scope, z3.Or(*[req.action == S(a) for a in actions]), allowed,
                  *_absent_keys(req, actions)]
    r, model, why = _solve(assertions, timeout_s)
    if r == z3.sat:
        return "REFUTED", "", _witness(model, req) if model is not None else {}
    if r == z3.unsat:
        return "PROVED", "", {}
    return "UNKNOWN", why or "unknown", {}


def _no_new_access(env: Environment, prop: NoNewAccess,
                   timeout_s: float) -> tuple[str, str, dict[str, str]]:
    """Some request is allowed in `env` (new) and not in `prop.old`: one query over shared request variables
    (principal tags and organisations are read from the new environment)."""
    actions = _expand_actions(prop.actions)
    keys = _keys(env, prop.resources)
    req = _Request(env)
    new, old = _Encoder(env, req, actions), _Encoder(prop.old, req, actions)
    S = z3.StringVal
    cases = []
    for k in keys:
        old_key = prop.old.key(k.arn)
        before = old.allowed(old_key) if old_key is not None else z3.BoolVal(False)
        cases.append(z3.And(req.resource == S(k.arn), new.allowed(k), z3.Not(before)))
    assertions = [*req.assumptions, z3.Or(*[req.action == S(a) for a in actions]), z3.Or(*cases),
                  *_absent_keys(req, actions)]
    r, model, why = _solve(assertions, timeout_s)
    if r == z3.sat:
        return "REFUTED", "", _witness(model, req) if model is not None else {}
    if r == z3.unsat:
        return "PROVED", "", {}
    return "UNKNOWN", why or "unknown", {}


def _can_access(env: Environment, prop: CanAccess, timeout_s: float) -> tuple[str, str, dict[str, str]]:
    actions = _expand_actions(prop.actions)
    keys = _keys(env, prop.resources)
    deadline = time.perf_counter() + timeout_s
    for key in keys:
        for action in actions:
            req = _Request(env)
            enc = _Encoder(env, req, [action])
            S = z3.StringVal
            pin = _pin_principal(req, prop.principal)
            body = [pin, req.action == S(action), req.resource == S(key.arn), enc.allowed(key)]
            assertions = [*body, *req.assumptions, *_absent_keys(req, [action])]
            left = deadline - time.perf_counter()
            if left <= 0:
                return "UNKNOWN", "timeout", {}
            r, _, why = _solve(assertions, left)
            if r == z3.unsat:
                why = f"{action} on {key.arn} is never allowed"
                return "REFUTED", why, {"action": action, "resource": key.arn}
            if r == z3.unknown:
                return "UNKNOWN", why or "unknown", {}
    return "PROVED", "", {}


def _pin_principal(req: _Request, arn: str) -> z3.BoolRef:
    S = z3.StringVal
    if arn.endswith(".amazonaws.com") and ":" not in arn:
        return z3.And(req.kind == SERVICE, req.p == S(arn))
    parts = arn.split(":")
    if len(parts) < 6:
        raise NotExpressible(f"principal `{arn}`")
    acct, rest = parts[4], parts[5]
    if rest == "root":
        return z3.And(req.kind == ROOT, req.acct == S(acct))
    if rest.startswith("user/"):
        return z3.And(req.kind == USER, req.acct == S(acct), req.p == S(arn))
    if rest.startswith("role/"):
        return z3.And(req.kind == SESSION, req.acct == S(acct), req.role_arn == S(arn))
    if rest.startswith("assumed-role/"):
        return z3.And(req.kind == SESSION, req.acct == S(acct), req.p == S(arn))
    raise NotExpressible(f"principal `{arn}`")


def _absent_keys(req: _Request, actions: Sequence[str]) -> list[z3.BoolRef]:
    """kms: keys the catalogue never lists for an action are absent (semantics §5.1)."""
    out: list[z3.BoolRef] = []
    for name, (present, _) in req.keys.items():
        for a in actions:
            if catalog.condition_key_may_exist(name, a) is False:
                out.append(z3.Implies(req.action == z3.StringVal(a), z3.Not(present)))
    return out
