"""One resource of an environment on its own: the environment every per-resource analysis runs in.

Input: an `Environment` and the ARN of one of its targets (a key, a declared resource, a role with a trust
policy: `resources.declared_targets`).
Output: `Slicer(env).slice(arn) -> Environment`: the same environment with that one target: its keys, resources
and trust policies reduced to the target's own, and the statements of the caller-side policies (identity
policies, permissions boundaries, session policies) reduced to those that can apply to a request on the target
(every account, principal, policy document, session, organization with its SCPs and RCPs, VPC endpoint, option
and unknown kept). `slice(arn, prune=False)` keeps every caller-side statement. A chain of steps (`Eventually`) reads
other resources' policies (another role's trust policy, another key's policy): it is never checked on a slice
(`units.check` gives it the whole environment).
Guarantee: a request on the target is decided the same in the slice as in the whole environment: the decision
of a request reads the resource-based policy of the resource it acts on (key policy, resource policy, trust
policy) and nothing of other resources, and every caller the environment declares is still declared (a role
whose trust policy is dropped keeps its identity policies and its sessions; a trust policy decides only the
requests on its role). The analyses of one resource (findings, lint, property checks) ask only about requests
on it, so their verdicts on the slice are theirs on the whole environment, and their cost no longer grows with
the number of other resources (`tests/unit/test_scan.py` compares both on the examples).

Why dropping a caller-side statement that cannot apply changes no decision on the target (`_may_apply`): a
decision on the target reads a caller's identity policies, boundary and session policies only through
`evaluate.evaluate_policy` on that request, whose action is one of the target's actions (the symbolic request
ranges over exactly those: `compiled._domain` takes the actions of `domain.targets_of` of the slice, the target
alone) and whose resource is the target's ARN or, for a type with sub-resources (S3 objects, DynamoDB indexes),
a string that begins with `SymTarget.sub_prefix`. A statement applies only if its Action/NotAction matches the
request's action and its Resource/NotResource matches the request's resource (`evaluate._applies`; the encoder
returns no term for it otherwise, `encode._encode_statement`). A statement kept is any statement for which one
of these could hold: its action block matches one of the target's actions (`match_action`, exact, NotAction
included), and its resource block is absent, negated, has a pattern with a policy variable or of stars only,
or has a pattern that matches the target's ARN (`ResourcePattern.matches`, the evaluator's own test) or may
match some sub-resource ARN (`_may_match_below`, conservative). So a dropped statement is one no request of any
analysis of the slice satisfies: it adds no Allow and no Deny to its policy's result for any such request, and
the policy's result (`_union` of the statements that apply) is the same with or without it. Policy documents
are never dropped, only emptied (a boundary or a federated session's policies that allow nothing still
deny), and `Environment.unknowns` is kept (issue 15's UNKNOWN does not depend on which statement holds the
value). What can change is only what is not a decision: how many solver terms there are, so the requests
the solver happens to pick as counterexamples (replayed, as always) and the solver's effort.

Why a role can be left out (`Slicer._drop_roles`, issue 17: in an organisation of 400 roles every slice
carried all of them, and each encoding resolved, gated and declared every one, so a unit's cost grew with
the organisation): a role R of account B, named N, is left out of the slice of a target owned by account A
only when all of these hold, and then R's callers are decided exactly as the callers of a role the
environment does not declare, which the slice still has (`encode.resolve_caller`'s unknown sessions,
`evaluate.resolve_caller`'s undeclared role):
- R is a role (not a user: a user is also the source of undeclared federated users) with no trust policy in
  the slice (it is not the target), no permissions boundary, no identity statement left after pruning, and no
  declared session (a session of R, or one whose ARN names N in B): R's sessions have no identity, boundary or
  session policy, as an undeclared role's;
- B is a declared account: R's identity policies are then what an undeclared role of B has
  (`evaluate._iam_policies`): none when B's IAM is known (R's have no statement left), and when it is not,
  ALLOW_ALL in the worst case and none otherwise, for both alike (were B undeclared, an undeclared role would
  get ALLOW_ALL where R gets its own, empty, policies);
- R is not service-linked (`:role/aws-service-role/`: such a session is exempt from SCPs, an undeclared one
  is not), and B is not A (not needed by the argument; kept as a margin);
- nothing in the slice tells R apart from an undeclared role of B named N. What can: its ARN, which an
  undeclared role's callers have with an unknown path: no principal entry (Principal / NotPrincipal) of any
  policy of the slice and no grant names a role or role session N in B (an entry naming IAM principals in a
  form not read here, e.g. a unique id or a wildcard in an ARN, counts as naming every role), no
  aws:PrincipalArn value of any policy may match a role named N under any path (`_may_name`: every matched
  string ends with the text after the last wildcard), and no policy reads aws:PrincipalArn through a policy
  variable or an operator not on strings or ARNs; its tags (when R has any, no policy reads
  aws:PrincipalTag/...: an undeclared role's tags are unknown, R's may be overridden by session tags but
  never absent); its unique id (when R has one, no policy reads aws:userid); and the property checks of the
  unit (`mentions`: a role whose name occurs in their text, or any role when a text has a wildcard and
  "role", is kept). "Any policy of the slice" is every policy it keeps: SCPs, RCPs, VPC endpoint policies,
  the target's key, resource or trust policy, and every caller-side policy with a statement left; it is the
  target's own policy and grants alone when B's IAM is known and the target refuses every role session of
  another account whose identity policies allow nothing (`_refused_across`: a key without grants, a role
  whose trust policy does not grant session controls across accounts alone, no AWS-side rule fixing ALLOW
  for such callers): R's callers and the undeclared ones of B are then refused every request on the target
  whatever the gates and the other callers' policies say (the encoder's `allows` is false for them in both
  environments: `_encode_key`'s cross-account branch needs `identity allowed` or a grant,
  `_decide_by_resource_policy` and `_decide_without_key` need `identity allowed`), and what is left to tell
  them apart is the target's statements (the statement terms findings and lint solve) and grants.
Then every term the encoder builds for a request is the same function of the request in both environments:
R's callers fall in the unknown-session case whose identity side is the same (empty), kind and account the
same, and every condition, principal match and grant match reads nothing else of them. So every decision,
statement term and grant term on the target is the same, and with them every verdict and finding; what the
solver picks as an example may differ (the caller of a counterexample is named from the declared callers).
`tests/unit/test_scan.py` proves, for the examples and for environments built so that each condition above
matters, that the slice with roles left out and the slice without are `Equivalent` (and that a wrong drop is
refuted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from reasoner.errors import InputError
from reasoner.front.ast import PolicyDocument, Statement, Value
from reasoner.semantics.environment import Environment, Key, Principal, PrincipalKind, Resource, Session
from reasoner.semantics.evaluate import match_action
from reasoner.semantics.patterns import ResourcePattern, compile_resource
from reasoner.semantics.resources import declared_targets, resource_type_of

if TYPE_CHECKING:
    from reasoner.symbolic.domain import SymTarget

#: An ARN that is not a target of the environment (`--resource`, a property's resource).
NOT_A_TARGET = "INPUT004"


@dataclass(frozen=True)
class Target:
    """One resource of an environment: its ARN, CloudFormation-style type and owner account."""

    arn: str
    type: str
    account: str


def targets(env: Environment) -> list[Target]:
    """Every key, declared resource and role with a trust policy, in that order (as `declared_targets`)."""
    out: list[Target] = []
    kinds = {k.arn: "AWS::KMS::Key" for k in env.keys}
    for arn in declared_targets(env):
        if arn in kinds:
            kind = kinds[arn]
        elif env.resource(arn) is not None:
            rt = resource_type_of(arn)
            kind = rt.label if rt is not None else "resource"
        else:
            kind = "AWS::IAM::Role"
        parts = arn.split(":")
        out.append(Target(arn, kind, parts[4] if len(parts) > 4 else ""))
    return out


class Slicer:
    """Slices of one environment (what every slice shares is computed once)."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self._keys = {k.arn: k for k in env.keys}
        self._resources = {r.arn: r for r in env.resources}
        self._roles = {p.arn: p for p in env.principals if p.kind is PrincipalKind.ROLE and p.trust_policy is not None}
        # every principal, trust policies dropped (a role's trust policy decides only requests on the role)
        self._bare: tuple[Principal, ...] = tuple(
            replace(p, trust_policy=None) if p.trust_policy is not None else p for p in env.principals)

        self._acts: dict[tuple[int, tuple[str, ...]], bool] = {}  # (statement, target's actions) -> may match
        #: statement -> the account fields its Resource patterns name, None: any (`_accounts_named`)
        self._accts: dict[int, frozenset[str] | None] = {}
        # pruned policies and principals, one object per (original, what is kept): slices of targets that keep
        # the same statements share them (so do the compiled policies and evaluator indices memoised by object)
        self._pruned: dict[tuple[int, tuple[int, ...]], PolicyDocument] = {}
        self._principals: dict[tuple[int, tuple[int, ...], int], Principal] = {}
        # what the roles of a slice may be left out for (`_drop_roles`)
        self._accounts = {a.id: a for a in env.accounts}
        self._session_roles: set[tuple[str, str]] = set()
        for s in env.sessions:
            for text in (s.arn, s.source):
                if (m := _ROLE_ARN.fullmatch(text) or _SESSION_ARN.match(text)) is not None:
                    self._session_roles.add((m.group(1), m.group(2).lower()))
        self._reads: dict[int, _Reads] = {}  # statement -> what it reads of its callers' identity
        # principal -> its account fields (`_far_of`), its every-policy-emptied slice form, candidate or not
        # (by the identity of principals the environment or `_principals` keeps alive)
        self._far: dict[int, frozenset[str] | None] = {}
        self._emptied: dict[int, Principal] = {}
        self._candidates: dict[int, bool] = {}
        self._shared: tuple[PolicyDocument, ...] | None = None

    def own(self, arn: str) -> Key | Resource | None:
        """The key or declared resource `arn` of the environment (None: a role, or no such target)."""
        return self._keys.get(arn) or self._resources.get(arn)

    def adopt(self, own: Key | Resource) -> None:
        """Slice `own` as a target of the environment (a worker's copy of the environment without its keys
        and resources, `units.Job.lean`: the slice is the one the whole environment gives, `_plain`)."""
        if isinstance(own, Key):
            self._keys[own.arn] = own
        else:
            self._resources[own.arn] = own

    def forget(self, own: Key | Resource) -> None:
        """Undo `adopt`."""
        if isinstance(own, Key):
            self._keys.pop(own.arn, None)
        else:
            self._resources.pop(own.arn, None)

    def slice(self, arn: str, *, prune: bool = True, mentions: frozenset[str] | None = frozenset()) -> Environment:
        """The environment of the target `arn` alone (see the module docstring); INPUT004 if it is none.
        `prune`: caller-side statements that cannot apply to a request on the target dropped, and the roles
        that are then indistinguishable from roles the environment does not declare (`_droppable`);
        `mentions`: the text of what else is asked of the slice (property checks: a role whose name occurs in
        it is kept; None: every role kept)."""
        plain = self._plain(arn)
        return self.prune(plain, mentions) if prune else plain

    def _plain(self, arn: str) -> Environment:
        key = self._keys.get(arn)
        if key is not None:
            return replace(self.env, keys=(key,), resources=(), principals=self._bare)
        res = self._resources.get(arn)
        if res is not None:
            return replace(self.env, keys=(), resources=(res,), principals=self._bare)
        role = self._roles.get(arn)
        if role is not None:
            principals = tuple(role if p.arn == arn else b for p, b in zip(self.env.principals, self._bare,
                                                                            strict=True))
            return replace(self.env, keys=(), resources=(), principals=principals)
        raise InputError(f"`{arn}` is not a key, resource or role (with a trust policy) of the environment",
                         code=NOT_A_TARGET,
                         help="the ARNs `reasoner scan` reports, or those the manifest declares, are the targets")

    def slice_or_empty(self, arn: str, *, prune: bool = True,
                       mentions: frozenset[str] | None = frozenset()) -> Environment:
        """The slice of `arn`, or when the environment has no such target, the environment with no target at
        all (the other side of a comparison in which the resource is new or gone: nothing pruned, the
        target's type being unknown here)."""
        try:
            return self.slice(arn, prune=prune, mentions=mentions)
        except InputError:
            return replace(self.env, keys=(), resources=(), principals=self._bare)

    def prune(self, plain: Environment, mentions: frozenset[str] | None = frozenset()) -> Environment:
        """`plain` (a slice with one target) with the caller-side statements that cannot apply to a request on
        its target dropped, then the roles `_droppable` allows (module docstring)."""
        from reasoner.symbolic.domain import targets_of

        ts = targets_of((plain,))
        if len(ts) != 1:  # a declared resource whose type has no actions: nothing is asked of it
            return plain
        t = ts[0]
        arn, actions, below = t.arn, t.actions, t.sub_prefix if t.sub_type else ""
        low = arn.lower()
        memo: dict[int, PolicyDocument] = {}

        def keeps(st: Statement, variables: bool) -> bool:
            act_key = (id(st), actions)
            hit = self._acts.get(act_key)
            if hit is None:
                hit = self._acts[act_key] = st.action is None or any(match_action(st.action, a) for a in actions)
            if not hit:
                return False
            block = st.resource
            if block is None or block.negated:
                return True
            accounts = self._accts.get(id(st), ())
            if accounts == ():
                accounts = self._accts[id(st)] = _accounts_named(block.patterns)
            if accounts is not None and not below and not any(f":{a}:" in low for a in accounts):
                return False
            for v in block.patterns:
                pat = compile_resource(v.text, variables=variables)
                if pat.everything or pat.has_variables or pat.matches(arn):
                    return True
                if below and _may_match_below(pat, below):
                    return True
            return False

        def policy(p: PolicyDocument) -> PolicyDocument:
            hit = memo.get(id(p))
            if hit is None:
                kept = tuple(st for st in p.statements if keeps(st, p.supports_variables))
                if len(kept) == len(p.statements):
                    hit = p
                else:
                    shape = (id(p), tuple(st.index for st in kept))
                    hit = self._pruned.get(shape)
                    if hit is None:
                        hit = self._pruned[shape] = replace(p, statements=kept)
                memo[id(p)] = hit
            return hit

        def principal(p: Principal) -> Principal:
            if not below and (far := self._far_of(p)) is not None and not any(f":{a}:" in low for a in far):
                hit = self._emptied.get(id(p))  # no statement of it can apply: every policy emptied (as below)
                if hit is not None:
                    return hit
            ids = tuple(policy(d) for d in p.identity_policies)
            boundary = policy(p.permissions_boundary) if p.permissions_boundary is not None else None
            if all(a is b for a, b in zip(ids, p.identity_policies, strict=True)) \
                    and boundary is p.permissions_boundary:
                return p
            shape = (id(p), tuple(id(d) for d in ids), id(boundary))
            hit = self._principals.get(shape)
            if hit is None:
                hit = self._principals[shape] = replace(p, identity_policies=ids, permissions_boundary=boundary)
            if not any(d.statements for d in ids) and (boundary is None or not boundary.statements):
                self._emptied[id(p)] = hit
            return hit

        def session(s: Session) -> Session:
            pols = tuple(policy(d) for d in s.session_policies)
            return s if all(a is b for a, b in zip(pols, s.session_policies, strict=True)) \
                else replace(s, session_policies=pols)

        principals = tuple(principal(p) for p in plain.principals)
        sessions = tuple(session(s) for s in plain.sessions)
        if mentions is not None:
            principals = self._drop_roles(t, plain, principals, sessions, mentions)
        return replace(plain, principals=principals, sessions=sessions)

    # -- roles indistinguishable from undeclared ones (module docstring, "Why a role can be left out") ---------

    def _drop_roles(self, t: SymTarget, plain: Environment, principals: tuple[Principal, ...],
                    sessions: tuple[Session, ...], mentions: frozenset[str]) -> tuple[Principal, ...]:
        candidates = [p for p in principals if self._candidate(p)]
        if not candidates:
            return principals
        own = _Reads()  # the target's own policy and grants
        for k in plain.keys:
            own.add_policy(k.policy, self._reads)
            for g in k.grants:
                own.name(g.grantee)
                if g.retiring_principal:
                    own.name(g.retiring_principal)
        for r in plain.resources:
            if r.policy is not None:
                own.add_policy(r.policy, self._reads)
        for p in principals:
            if p.trust_policy is not None:
                own.add_policy(p.trust_policy, self._reads)
        reads = _Reads()  # every policy of the slice
        reads.add(own)
        for doc in self._shared_policies():
            reads.add_policy(doc, self._reads)
        for p in principals:
            for doc in (*p.identity_policies, *((p.permissions_boundary,) if p.permissions_boundary else ())):
                reads.add_policy(doc, self._reads)
        for s in sessions:
            for doc in s.session_policies:
                reads.add_policy(doc, self._reads)
        refused = _refused_across(t, plain)
        texts = tuple(m.lower() for m in mentions)
        dropped = set()
        for p in candidates:
            # a role whose callers are refused everything on the target (`_refused_across`): what only the
            # other policies could tell apart decides nothing (module docstring)
            m = _ROLE_ARN.fullmatch(p.arn)
            mine = own if refused and m is not None and self._accounts[m.group(1)].iam_known else reads
            if not (mine.arn_any or mine.names_any) and self._droppable(p, t.owner, mine, texts):
                dropped.add(id(p))
        return principals if not dropped else tuple(p for p in principals if id(p) not in dropped)

    def _far_of(self, p: Principal) -> frozenset[str] | None:
        """The account fields every Resource pattern of `p`'s identity and boundary statements names
        (`_accounts_named`), None when one may name any (or has no Resource, or a NotResource): for a target
        without sub-resources whose ARN holds none of them as `:<account>:`, no statement of `p` is kept."""
        if id(p) in self._far:
            return self._far[id(p)]
        out: set[str] = set()
        far: frozenset[str] | None = None
        for d in (*p.identity_policies, *((p.permissions_boundary,) if p.permissions_boundary else ())):
            for st in d.statements:
                named = None if st.resource is None or st.resource.negated else _accounts_named(st.resource.patterns)
                if named is None:
                    break
                out |= named
            else:
                continue
            break
        else:
            far = frozenset(out)
        self._far[id(p)] = far
        return far

    def _candidate(self, p: Principal) -> bool:
        """A role of a declared account, not service-linked, with no trust policy in the slice (not the
        target), no permissions boundary, no identity statement left and no declared session."""
        hit = self._candidates.get(id(p))
        if hit is None:
            hit = self._candidates[id(p)] = self._is_candidate(p)
        return hit

    def _is_candidate(self, p: Principal) -> bool:
        if p.kind is not PrincipalKind.ROLE or p.trust_policy is not None or p.permissions_boundary is not None:
            return False
        if any(d.statements for d in p.identity_policies):
            return False
        m = _ROLE_ARN.fullmatch(p.arn)
        if m is None or ":role/aws-service-role/" in p.arn.lower():
            return False
        if m.group(1) not in self._accounts:
            return False
        return (m.group(1), m.group(2).lower()) not in self._session_roles

    def _droppable(self, p: Principal, owner: str, reads: _Reads, mentions: tuple[str, ...]) -> bool:
        """`_candidate` `p` is told apart from an undeclared role by nothing `reads` holds or `mentions` names."""
        m = _ROLE_ARN.fullmatch(p.arn)
        assert m is not None
        account, name = m.group(1), m.group(2).lower()
        if not owner or account == owner:  # a caller of the resource's own account: kept (not needed so far)
            return False
        if (account, name) in reads.names or (p.tags and reads.tags) or (p.unique_id and reads.userid):
            return False
        if any(_may_name(v, name) for v in reads.patterns):
            return False
        return not any(name in t or (("*" in t or "?" in t) and "role" in t) for t in mentions)

    def _shared_policies(self) -> tuple[PolicyDocument, ...]:
        """The policies every slice keeps whole: SCPs, RCPs, VPC endpoint policies."""
        if self._shared is None:
            env = self.env
            docs: list[PolicyDocument] = []
            for o in env.organizations:
                for pols in (*o.scps.values(), *o.rcps.values()):
                    docs += pols
            docs += [e.policy for e in env.vpc_endpoints if e.policy is not None]
            self._shared = tuple(docs)
        return self._shared


_GLOB = re.compile(r"[*?$]")
_ROLE_ARN = re.compile(r"arn:[^:]*:iam::([^:]*):role/(?:[^:]*/)?([^/:]+)", re.IGNORECASE)
_SESSION_ARN = re.compile(r"arn:[^:]*:sts::([^:]*):assumed-role/([^/:]+)", re.IGNORECASE)


class _Reads:
    """What policies read of the identity of their callers beyond kind and account (`Slicer._drop_roles`)."""

    def __init__(self) -> None:
        self.tags = False  # aws:PrincipalTag/..., as a condition key or a policy variable
        self.userid = False  # aws:userid
        self.arn_any = False  # aws:PrincipalArn in a policy variable or under an operator not on strings/ARNs
        self.patterns: list[str] = []  # the values aws:PrincipalArn is compared with
        self.names: set[tuple[str, str]] = set()  # (account, role name lower case) of role / session entries
        self.names_any = False  # a principal entry naming IAM principals in a form not read here

    def add(self, other: _Reads) -> None:
        self.tags |= other.tags
        self.userid |= other.userid
        self.arn_any |= other.arn_any
        self.patterns += other.patterns
        self.names |= other.names
        self.names_any |= other.names_any

    def add_policy(self, doc: PolicyDocument, memo: dict[int, _Reads]) -> None:
        for st in doc.statements:
            hit = memo.get(id(st))
            if hit is None:
                hit = memo[id(st)] = _statement_reads(st)
            self.add(hit)

    def name(self, text: str) -> None:
        """A principal entry (or a grant's grantee): a role or role session it names is remembered; an IAM
        principal it names in a form not read here (a wildcard, a unique id) makes every role named."""
        t = text.strip()
        m = _ROLE_ARN.fullmatch(t) or _SESSION_ARN.match(t)
        if t != "*" and _GLOB.search(t):
            self.names_any = True
        elif m is not None:
            self.names.add((m.group(1), m.group(2).lower()))
        elif not _names_no_role(t.lower()):
            self.names_any = True


def _names_no_role(low: str) -> bool:
    """A principal entry that names no role: everyone, an account, a root, user or federated user ARN, a
    provider, a service principal."""
    if low == "*" or low.isdigit():
        return True
    if low.startswith("arn:"):
        return any(x in low for x in (":root", ":user/", ":federated-user/", ":saml-provider/", ":oidc-provider/"))
    return "." in low and ":" not in low and "/" not in low


def _refused_across(t: SymTarget, plain: Environment) -> bool:
    """Whether every request on `t` by a role session of another account is refused when the caller's identity
    policies allow nothing: then no gate (SCP, RCP, VPC endpoint policy) or other caller's policy decides it.
    A key with grants (a grant may let such a caller in without identity policy), a role whose trust policy
    alone grants session controls across accounts (`cross_account_session_controls_need_identity_allow`
    False) and an AWS-side rule fixing ALLOW for such callers are the exceptions (`encode._encode_key`,
    `_decide_by_resource_policy`, `_decide_without_key`, `_aws_rules`)."""
    from reasoner.semantics.awsrules import rules_for_actions

    opts = plain.options
    if any(k.grants for k in plain.keys):
        return False
    if t.kind == "role" and not opts.cross_account_session_controls_need_identity_allow:
        return False
    return not any(r.allowed and r.covers(PrincipalKind.ROLE_SESSION, False)
                   for _, r in rules_for_actions(t.actions, t.facts, opts))


def _statement_reads(st: Statement) -> _Reads:
    from reasoner.front.ast import PrincipalType

    out = _Reads()
    if st.principal is not None:
        for e in st.principal.entries:
            if e.type is PrincipalType.AWS:
                out.name(e.value.text)
    texts = [v.text for v in st.resource.patterns] if st.resource is not None else []
    if st.condition is not None:
        for c in st.condition.conditions:
            key = c.key.text.lower()
            texts += [v.text for v in c.values]
            if key.startswith("aws:principaltag/"):
                out.tags = True
            elif key == "aws:userid":
                out.userid = True
            elif key == "aws:principalarn":
                op = c.operator.value
                if op.startswith(("String", "Arn")):
                    out.patterns += [v.text for v in c.values]
                elif op != "Null":
                    out.arn_any = True
    for text in texts:
        low = text.lower()
        if "${" in low:
            out.tags |= "aws:principaltag/" in low
            out.userid |= "aws:userid" in low
            out.arn_any |= "aws:principalarn" in low
    return out


def _may_name(pattern: str, name: str) -> bool:
    """Whether `pattern` (a value aws:PrincipalArn is compared with) may match the ARN of a role named `name`
    (lower case) in any account and under any path: every string it matches ends with the text after its
    last wildcard, and a role's ARN ends with `/<name>` (conservative: True when unsure)."""
    p = pattern.lower()
    if "${" in p or "$" in p:
        return True
    cut = max(p.rfind("*"), p.rfind("?"))
    tail = p[cut + 1:]
    if "/" in tail:
        return tail.rsplit("/", 1)[1] == name
    if cut < 0:  # no wildcard and no `/`: not a role's ARN
        return False
    return name.endswith(tail)


def _accounts_named(patterns: tuple[Value, ...]) -> frozenset[str] | None:
    """The account fields (lower case) of `patterns` when each has one of plain text (no wildcard, no
    variable): a resource pattern's account segment is matched between two literal colons
    (`patterns._resource_regex`), so an ARN one of them matches contains `:<account>:` (a prefilter of
    `Slicer.prune`'s `keeps`, for targets without sub-resources; each pattern is tested after it). None when a
    pattern's account field may be anything."""
    out: set[str] = set()
    for v in patterns:
        parts = v.text.split(":", 5)
        if len(parts) != 6 or "$" in v.text or _GLOB.search(parts[4]):
            return None
        out.add(parts[4].lower())
    return frozenset(out)


def _may_match_below(pat: ResourcePattern, prefix: str) -> bool:
    """Whether `pat` may match some ARN that begins with `prefix` (a sub-resource of the target): False only
    when its partition, service, region and account are plain text that differs from the prefix's, or the
    plain text its resource part begins with diverges from the prefix's (conservative: True when unsure)."""
    parts = pat.text.split(":", 5)
    mine = prefix.split(":", 5)
    if len(parts) != 6 or len(mine) != 6:
        return True
    for a, b in zip(parts[:5], mine[:5], strict=True):
        if _GLOB.search(a):
            return True
        if a.lower() != b.lower():
            return False
    m = _GLOB.search(parts[5])
    lead = parts[5] if m is None else parts[5][:m.start()]
    rest = mine[5]
    lead, rest = lead.lower(), rest.lower()
    if m is None or len(lead) >= len(rest):  # plain text throughout, or past the prefix: it must begin so
        return lead.startswith(rest)
    return rest.startswith(lead)


def slice_environment(env: Environment, arn: str) -> Environment:
    """`Slicer(env).slice(arn)`."""
    return Slicer(env).slice(arn)
