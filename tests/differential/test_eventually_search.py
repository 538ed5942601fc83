"""Every PROVED `eventually` claim survives a bounded concrete search (issue 18).

The search is written here, independently of `analyses/eventually.py`: breadth-first over concrete states (an
environment and the identities held), from each declared principal of the claim's scope and from a principal of
an account the environment does not describe, it tries every modelled kind of step on every declared key and
role with the concrete evaluator only (`explain.replay`), applies its effect the plain way (a session obtained,
a grant added, a policy replaced by one that allows everything, an allow-all identity policy added, the
policies with a Deny statement removed), and looks for the access after each depth. A PROVED claim with a
chain found is a soundness bug. Environments: small random organizations of roles across three accounts (one
undescribed) with random trust and identity policies and key-policy statements, and the examples of
`examples/chains`. A REFUTED claim's chain starts from a principal in scope and ends on an allowed access.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.analyses.eventually import Start
from reasoner.analyses.explain import replay
from reasoner.analyses.pipeline import check
from reasoner.analyses.properties import AccessNotGranted, Eventually, PrincipalScope, ScopeKind
from reasoner.analyses.result import Verdict
from reasoner.errors import InputError
from reasoner.front.ast import Effect, PolicyKind
from reasoner.front.manifest import load_environment as load_manifest
from reasoner.front.parse import parse_policy
from reasoner.language.property_files import compile_file
from reasoner.semantics.environment import Account, Environment, Grant, Key, Principal, PrincipalKind
from reasoner.semantics.request import Request
from tests.strategies import examples

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[2]
A, B, C = "111111111111", "222222222222", "333333333333"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SERVICES = ("lambda.amazonaws.com", "ec2.amazonaws.com")
STARTS = {"lambda.amazonaws.com": ("lambda:CreateFunction", "arn:aws:lambda:us-east-1:{a}:function:probe"),
          "ec2.amazonaws.com": ("ec2:RunInstances", "arn:aws:ec2:us-east-1:{a}:instance/i-0123456789abcdef0")}


def _doc(kind: PolicyKind, statements: Sequence[dict[str, Any]]) -> Any:
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}), kind=kind)


_OPEN_KEY = _doc(PolicyKind.KEY_POLICY, [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}])
_OPEN_TRUST = _doc(PolicyKind.TRUST, [{"Effect": "Allow", "Principal": "*", "Action": "sts:*"}])
_ALLOW_ALL = _doc(PolicyKind.IDENTITY, [{"Effect": "Allow", "Action": "*", "Resource": "*"}])


# ---- the search -----------------------------------------------------------------------------------------


def _allowed(env: Environment, request: Request) -> bool:
    try:
        return replay(env, request)[0].decision.allowed
    except InputError:
        return False


def _session(role: str, name: str = "probe") -> str:
    account, rname = role.split(":")[4], role.rsplit("/", 1)[-1]
    return f"arn:aws:sts::{account}:assumed-role/{rname}/{name}"


def _grantee(identity: str) -> str:
    if ":assumed-role/" in identity:
        account, rname = identity.split(":")[4], identity.split("/")[1]
        return f"arn:aws:iam::{account}:role/{rname}"
    return identity


def _with_principal(env: Environment, arn: str, **changes: Any) -> Environment:
    return replace(env, principals=tuple(replace(p, **changes) if p.arn == arn else p for p in env.principals))


def _steps(env: Environment, who: str, held: Sequence[str], ops: Sequence[str]) -> Iterator[tuple[Environment,
                                                                                                 str | None]]:
    """(environment after, identity gained) for every step `who` may take."""
    roles = [p for p in env.principals if p.kind is PrincipalKind.ROLE and p.trust_policy is not None]
    for r in roles:
        if _allowed(env, Request(who, "sts:AssumeRole", r.arn)):
            yield env, _session(r.arn)
        for svc in SERVICES:
            action, arn = STARTS[svc]
            account = r.arn.split(":")[4]
            if _allowed(env, Request(who, "iam:PassRole", r.arn, {"iam:PassedToService": (svc,)})) and \
                    _allowed(env, Request(who, action, arn.format(a=account))) and \
                    _allowed(env, Request(svc, "sts:AssumeRole", r.arn, {"aws:SourceAccount": (account,)})):
                yield env, _session(r.arn, "code")
        if _allowed(env, Request(who, "iam:UpdateAssumeRolePolicy", r.arn)):
            yield _with_principal(env, r.arn, trust_policy=_OPEN_TRUST), None
        if _allowed(env, Request(who, "iam:PutRolePolicy", r.arn)):
            yield _with_principal(env, r.arn, identity_policies=(*r.identity_policies, _ALLOW_ALL)), None
        if _allowed(env, Request(who, "iam:DeleteRolePolicy", r.arn)):
            kept = tuple(x for x in r.identity_policies if all(s.effect is not Effect.DENY for s in x.statements))
            yield _with_principal(env, r.arn, identity_policies=kept), None
    for k in env.keys:
        if _allowed(env, Request(who, "kms:PutKeyPolicy", k.arn)):
            yield replace(env, keys=tuple(replace(x, policy=_OPEN_KEY) if x.arn == k.arn else x
                                          for x in env.keys)), None
        for h in held:
            g = _grantee(h)
            wanted = tuple(o.split(":")[1] for o in ops)
            ctx = {"kms:GranteePrincipal": (g,), "kms:GrantOperations": wanted}
            if _allowed(env, Request(who, "kms:CreateGrant", k.arn, ctx)):
                grant = Grant(g, frozenset(ops), name="probe")
                yield replace(env, keys=tuple(replace(x, grants=(*x.grants, grant)) if x.arn == k.arn else x
                                              for x in env.keys)), None


def search(env: Environment, start: str, actions: Sequence[str], keys: Sequence[str], depth: int, *,
           frontier_cap: int = 150) -> list[str] | None:
    """A chain of at most `depth` steps from `start` to one of the accesses, as the identities held, or None."""
    first = Request(start, "sts:GetCallerIdentity", "*")
    try:
        from reasoner.analyses.explain import augment_all

        env = augment_all(env, first)[0]
    except InputError:
        return None
    frontier: list[tuple[Environment, tuple[str, ...]]] = [(env, (start,))]
    seen: set[tuple[int, tuple[str, ...]]] = set()
    for level in range(depth + 1):
        for e, held in frontier:
            for h in held:
                for a in actions:
                    for k in keys:
                        if _allowed(e, Request(h, a, k)):
                            return [*held, f"{h} {a} {k}"]
        if level == depth:
            return None
        nxt: list[tuple[Environment, tuple[str, ...]]] = []
        for e, held in frontier:
            for h in held:
                for e2, gained in _steps(e, h, held, actions):
                    held2 = tuple(dict.fromkeys((*held, gained))) if gained else held
                    key = (hash(repr([(k.policy.statements, k.grants) for k in e2.keys]) +
                                repr([(p.trust_policy, p.identity_policies) for p in e2.principals])), held2)
                    if key in seen:
                        continue
                    seen.add(key)
                    nxt.append((e2, held2))
        frontier = nxt[:frontier_cap]
    return None


def starts_of(env: Environment, prop: Eventually) -> list[str]:
    """The declared principals of the claim's scope (users, a session of each role, the root users of the
    accounts named), and a user of an account the environment does not describe."""
    start = Start.of(prop.claim)
    out = []
    for p in env.principals:
        who = _session(p.arn) if p.kind is PrincipalKind.ROLE else p.arn
        if start.contains(env, Request(who, "sts:GetCallerIdentity", "*")):
            out.append(who)
    for acct in sorted({a.id for a in env.accounts} | {p.arn.split(":")[4] for p in env.principals} | {C}):
        for who in (f"arn:aws:iam::{acct}:root", f"arn:aws:iam::{acct}:user/probe"):
            if start.contains(env, Request(who, "sts:GetCallerIdentity", "*")):
                out.append(who)
    return list(dict.fromkeys(out))


def assert_sound(env: Environment, prop: Eventually, depth: int = 3) -> Verdict:
    result = check(env, prop, timeout=60)
    keys = [k.arn for k in env.keys]
    if result.verdict is Verdict.PROVED:
        for who in starts_of(env, prop):
            found = search(env, who, prop.claim.actions, keys, min(depth, prop.max_steps or depth))
            assert found is None, f"PROVED {prop} but a chain exists: {found}"
    elif result.verdict is Verdict.REFUTED:
        assert result.chain or result.counterexample is not None
        first = result.chain[0].request if result.chain else result.counterexample
        assert first is not None
        assert result.evaluation is not None and result.evaluation.decision.allowed
        assert all(s.evaluation.decision.allowed for s in result.chain)
        if prop.max_steps is not None:
            assert len(result.chain) <= prop.max_steps
    return result.verdict


# ---- random organizations -------------------------------------------------------------------------------

ROLE_ACTIONS = ("sts:AssumeRole", "kms:Decrypt", "kms:CreateGrant", "kms:PutKeyPolicy", "iam:PassRole",
                "lambda:CreateFunction", "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy")


@st.composite
def organizations(draw: st.DrawFn) -> Environment:
    n = draw(st.integers(2, 4))
    names = [f"R{i}" for i in range(n)]
    accounts = [draw(st.sampled_from((A, B))) for _ in names]
    arns = [f"arn:aws:iam::{a}:role/{r}" for a, r in zip(accounts, names, strict=True)]
    principals = []
    for i, arn in enumerate(arns):
        who = draw(st.sampled_from([f"arn:aws:iam::{A}:root", f"arn:aws:iam::{B}:root", f"arn:aws:iam::{C}:root",
                                    *arns[:i], *arns[i + 1:], "lambda.amazonaws.com"]))
        principal: dict[str, Any] = {"Service": who} if who.endswith(".amazonaws.com") else {"AWS": who}
        st_trust: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
        if draw(st.booleans()) and "Service" not in principal and draw(st.booleans()):
            st_trust["Condition"] = {"StringEquals": {"sts:ExternalId": "secret-1"}}
        acts = draw(st.lists(st.sampled_from(ROLE_ACTIONS), min_size=0, max_size=3, unique=True))
        identity = [_doc(PolicyKind.IDENTITY, [{"Effect": "Allow", "Action": acts, "Resource": "*"}])] if acts else []
        principals.append(Principal(arn, PrincipalKind.ROLE, tuple(identity),
                                    trust_policy=_doc(PolicyKind.TRUST, [st_trust])))
    statements: list[dict[str, Any]] = []
    if draw(st.booleans()):
        statements.append({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*",
                           "Resource": "*"})
    for _ in range(draw(st.integers(0, 2))):
        who = draw(st.sampled_from([f"arn:aws:iam::{B}:root", f"arn:aws:iam::{C}:root", *arns]))
        acts = draw(st.lists(st.sampled_from(("kms:Decrypt", "kms:CreateGrant", "kms:PutKeyPolicy")), min_size=1,
                             max_size=2, unique=True))
        stmt: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": who}, "Action": acts, "Resource": "*"}
        if "kms:CreateGrant" in acts and draw(st.booleans()):
            stmt["Condition"] = {"Bool": {"kms:GrantIsForAWSResource": "true"}}
        statements.append(stmt)
    if not statements:
        statements.append({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                           "Action": "kms:DescribeKey", "Resource": "*"})
    return Environment(keys=(Key(KEY, _doc(PolicyKind.KEY_POLICY, statements)),),
                       accounts=(Account(A), Account(B)), principals=tuple(principals))


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(organizations(), st.data())
def test_proved_eventually_claims_survive_the_concrete_search(env: Environment, data: st.DataObject) -> None:
    if data.draw(st.booleans()):
        prop = Eventually(AccessNotGranted(PrincipalScope.outside_account(A), ("kms:Decrypt",)))
    else:
        target = data.draw(st.sampled_from([p.arn for p in env.principals]))
        bound = data.draw(st.sampled_from([None, 1, 2]))
        prop = Eventually(AccessNotGranted(PrincipalScope(ScopeKind.PRINCIPALS, (target,)), ("kms:Decrypt",)), bound)
    assert_sound(env, prop)


def test_the_search_finds_what_it_should() -> None:
    """The search itself is not vacuous: it finds the three-account chain and the PassRole escalation of the
    examples (where the claims are refuted)."""
    env = load_manifest(ROOT / "examples/chains/failing/environment.yaml")
    keys = [k.arn for k in env.keys]
    assert search(env, "arn:aws:iam::777788889999:user/probe", ("kms:Decrypt",), keys, 2) is not None
    assert search(env, "arn:aws:iam::111122223333:user/developer", ("kms:Decrypt",), keys, 1) is not None
    ok = load_manifest(ROOT / "examples/chains/environment.yaml")
    assert search(ok, "arn:aws:iam::777788889999:user/probe", ("kms:Decrypt",), keys, 3) is None


@pytest.mark.parametrize("path", ["examples/chains/checks/chains.access",
                                  "examples/chains/checks/seed-example-2.access"])
def test_proved_examples_survive_the_concrete_search(path: str) -> None:
    for assertion in compile_file(ROOT / path):
        if isinstance(assertion.property, Eventually):
            assert assert_sound(assertion.environment, assertion.property, depth=2) is Verdict.PROVED, assertion.name
