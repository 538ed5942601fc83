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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from reasoner.errors import InputError
from reasoner.front.ast import PolicyDocument, Statement
from reasoner.semantics.environment import Environment, Key, Principal, PrincipalKind, Resource, Session
from reasoner.semantics.evaluate import match_action
from reasoner.semantics.patterns import ResourcePattern, compile_resource
from reasoner.semantics.resources import declared_targets, resource_type_of

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
        # pruned policies and principals, one object per (original, what is kept): slices of targets that keep
        # the same statements share them (so do the compiled policies and evaluator indices memoised by object)
        self._pruned: dict[tuple[int, tuple[int, ...]], PolicyDocument] = {}
        self._principals: dict[tuple[int, tuple[int, ...], int], Principal] = {}

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

    def slice(self, arn: str, *, prune: bool = True) -> Environment:
        """The environment of the target `arn` alone (see the module docstring); INPUT004 if it is none.
        `prune`: caller-side statements that cannot apply to a request on the target dropped."""
        plain = self._plain(arn)
        return self.prune(plain) if prune else plain

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

    def slice_or_empty(self, arn: str, *, prune: bool = True) -> Environment:
        """The slice of `arn`, or when the environment has no such target, the environment with no target at
        all (the other side of a comparison in which the resource is new or gone: nothing pruned, the
        target's type being unknown here)."""
        try:
            return self.slice(arn, prune=prune)
        except InputError:
            return replace(self.env, keys=(), resources=(), principals=self._bare)

    def prune(self, plain: Environment) -> Environment:
        """`plain` (a slice with one target) with the caller-side statements that cannot apply to a request on
        its target dropped (module docstring)."""
        from reasoner.symbolic.domain import targets_of

        ts = targets_of((plain,))
        if len(ts) != 1:  # a declared resource whose type has no actions: nothing is asked of it
            return plain
        t = ts[0]
        arn, actions, below = t.arn, t.actions, t.sub_prefix if t.sub_type else ""
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
            ids = tuple(policy(d) for d in p.identity_policies)
            boundary = policy(p.permissions_boundary) if p.permissions_boundary is not None else None
            if all(a is b for a, b in zip(ids, p.identity_policies, strict=True)) \
                    and boundary is p.permissions_boundary:
                return p
            shape = (id(p), tuple(id(d) for d in ids), id(boundary))
            hit = self._principals.get(shape)
            if hit is None:
                hit = self._principals[shape] = replace(p, identity_policies=ids, permissions_boundary=boundary)
            return hit

        def session(s: Session) -> Session:
            pols = tuple(policy(d) for d in s.session_policies)
            return s if all(a is b for a, b in zip(pols, s.session_policies, strict=True)) \
                else replace(s, session_policies=pols)

        return replace(plain, principals=tuple(principal(p) for p in plain.principals),
                       sessions=tuple(session(s) for s in plain.sessions))


_GLOB = re.compile(r"[*?$]")


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
