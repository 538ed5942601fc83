"""Known answers of `eventually` claims (issue 18, docs/eventually.md): role chains across three accounts, a grant
that hands Decrypt to an outsider, a PutKeyPolicy holder, a PassRole escalation, an external id that stops a
chain, and the other steps of the catalogue. Each case states the answer AWS gives, with the plain claim beside
it where the two differ (that difference is the point of `eventually`), and checks the chain of a refutation
step by step: every step's request and effect, and the start principal in scope.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from reasoner.analyses.compiled import compile_environment
from reasoner.analyses.eventually import ChainOptions, check_chains
from reasoner.analyses.pipeline import check
from reasoner.analyses.properties import (
    AccessNotGranted,
    Eventually,
    OnlyPrincipalsCan,
    PrincipalScope,
    ScopeKind,
)
from reasoner.analyses.result import CheckResult, Verdict
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics.environment import (
    Account,
    BlockPublicAccess,
    Environment,
    Key,
    Principal,
    PrincipalKind,
    Resource,
)

pytestmark = pytest.mark.solver

A, B, C = "111111111111", "222222222222", "333333333333"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT_A = f"arn:aws:iam::{A}:root"


def policy(kind: PolicyKind, *statements: dict[str, Any]) -> Any:
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=1),
                        file=f"<{kind.value}>", kind=kind)


def allow(principal: object, actions: object, condition: dict[str, Any] | None = None,
          resource: object = "*") -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow", "Action": actions}
    if principal is not None:
        st["Principal"] = principal if principal == "*" or isinstance(principal, dict) else {"AWS": principal}
    if resource is not None:
        st["Resource"] = resource
    if condition:
        st["Condition"] = condition
    return st


def trust(*statements: dict[str, Any]) -> Any:
    return policy(PolicyKind.TRUST, *({**s, "Action": s.get("Action", "sts:AssumeRole")} for s in statements))


def identity(*statements: dict[str, Any]) -> Any:
    return policy(PolicyKind.IDENTITY, *statements)


def trusts(principal: object, condition: dict[str, Any] | None = None) -> Any:
    return trust(allow(principal, "sts:AssumeRole", condition, resource=None))


def role(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def can(actions: object, resource: object = "*", condition: dict[str, Any] | None = None) -> dict[str, Any]:
    return allow(None, actions, condition, resource)


DEFAULT_KEY_POLICY = policy(PolicyKind.KEY_POLICY, allow(ROOT_A, "kms:*"))


def outside(*accounts: str, actions: tuple[str, ...] = ("kms:Decrypt",), steps: int | None = None) -> Eventually:
    return Eventually(AccessNotGranted(PrincipalScope.outside_account(*accounts), actions), steps)


def none_of(*principals: str, actions: tuple[str, ...] = ("kms:Decrypt",), steps: int | None = None) -> Eventually:
    return Eventually(AccessNotGranted(PrincipalScope(ScopeKind.PRINCIPALS, principals), actions), steps)


def refuted_chain(result: CheckResult) -> list[tuple[str, str, str]]:
    """(principal, action, resource) of every step, then of the access; the chain is checked to be replayed
    (each step ALLOWed)."""
    assert result.verdict is Verdict.REFUTED, (result.verdict, result.reason)
    assert result.counterexample is not None and result.evaluation is not None
    assert result.evaluation.decision.allowed
    out = []
    for step in result.chain:
        assert step.evaluation.decision.allowed
        assert all(ev.decision.allowed for ev in step.also)
        out.append((step.request.principal, step.request.action, step.request.resource))
    cx = result.counterexample
    return [*out, (cx.principal, cx.action, cx.resource)]


# ---- role chains across three accounts ----------------------------------------------------------------


def three_accounts(condition: dict[str, Any] | None = None) -> Environment:
    """C (undeclared: IAM unknown) -> B:Bridge -> A:Data, which decrypts with A's key."""
    return Environment(
        keys=(Key(KEY, DEFAULT_KEY_POLICY),), accounts=(Account(A), Account(B)),
        principals=(
            Principal(role(B, "Bridge"), PrincipalKind.ROLE, (identity(can("sts:AssumeRole", role(A, "Data"))),),
                      trust_policy=trusts(f"arn:aws:iam::{C}:root", condition)),
            Principal(role(A, "Data"), PrincipalKind.ROLE, (identity(can("kms:Decrypt", KEY)),),
                      trust_policy=trusts(role(B, "Bridge"))),
        ))


def test_role_chain_across_three_accounts() -> None:
    env = three_accounts()
    plain = check(env, AccessNotGranted(PrincipalScope.outside_account(A, B), ("kms:Decrypt",)))
    assert plain.verdict is Verdict.PROVED  # no single request: the outsider decrypts as an inside principal
    chain = refuted_chain(check(env, outside(A, B)))
    assert [(p.split(":")[4], act, res) for p, act, res in chain] == [
        (C, "sts:AssumeRole", role(B, "Bridge")),
        (B, "sts:AssumeRole", role(A, "Data")),
        (A, "kms:Decrypt", KEY),
    ]
    assert chain[1][0] == f"arn:aws:sts::{B}:assumed-role/Bridge/example"  # the session step 1 obtained
    assert chain[2][0].startswith(f"arn:aws:sts::{A}:assumed-role/Data/")


def test_bound_counts_steps() -> None:
    env = three_accounts()
    assert check(env, outside(A, B, steps=1)).verdict is Verdict.PROVED
    assert check(env, outside(A, B, steps=2)).verdict is Verdict.REFUTED


def test_external_id_stops_the_chain() -> None:
    env = three_accounts({"StringEquals": {"sts:ExternalId": "s3cret-7f3a"}})
    result = check(env, outside(A, B))
    assert result.verdict is Verdict.PROVED, result.reason
    # the assumption is an option: a principal that knows the id gets through
    known = check_chains(compile_environment(env), outside(A, B), ChainOptions(external_ids_secret=False))
    assert known.verdict is Verdict.REFUTED
    assert known.chain[0].request.context.get("sts:ExternalId") == ("s3cret-7f3a",)


def test_a_chain_that_ends_on_the_start_principal_itself() -> None:
    """A role of B that the outsider assumes can write the trust policy of A:Data (iam:UpdateAssumeRolePolicy is
    same-account only, so Bridge cannot); A:Ops can, and Bridge may assume Ops."""
    env = Environment(
        keys=(Key(KEY, DEFAULT_KEY_POLICY),), accounts=(Account(A), Account(B)),
        principals=(
            Principal(role(B, "Bridge"), PrincipalKind.ROLE, (identity(can("sts:AssumeRole")),),
                      trust_policy=trusts(f"arn:aws:iam::{C}:root")),
            Principal(role(A, "Ops"), PrincipalKind.ROLE,
                      (identity(can("iam:UpdateAssumeRolePolicy", role(A, "Data"))),),
                      trust_policy=trusts(role(B, "Bridge"))),
            Principal(role(A, "Data"), PrincipalKind.ROLE, (identity(can("kms:Decrypt", KEY)),),
                      trust_policy=trusts(ROOT_A)),
        ))
    chain = refuted_chain(check(env, outside(A, B)))
    actions = [a for _, a, _ in chain]
    assert actions == ["sts:AssumeRole", "sts:AssumeRole", "iam:UpdateAssumeRolePolicy", "sts:AssumeRole",
                       "kms:Decrypt"]
    assert chain[3][2] == role(A, "Data")


# ---- a grant that hands Decrypt to an outsider -----------------------------------------------------------


def grant_env(condition: dict[str, Any] | None) -> Environment:
    kp = policy(PolicyKind.KEY_POLICY, allow(ROOT_A, "kms:*"),
                allow(f"arn:aws:iam::{B}:root", ["kms:CreateGrant", "kms:DescribeKey"], condition))
    return Environment(keys=(Key(KEY, kp),), accounts=(Account(A),))


def test_a_grant_hands_decrypt_to_an_outsider() -> None:
    env = grant_env(None)
    assert check(env, AccessNotGranted(PrincipalScope.outside_account(A), ("kms:Decrypt",))).verdict is Verdict.PROVED
    result = check(env, outside(A))
    chain = refuted_chain(result)
    assert [a for _, a, _ in chain] == ["kms:CreateGrant", "kms:Decrypt"]
    grant = result.chain[0].request.context
    assert grant["kms:GrantOperations"] == ("Decrypt",)
    assert grant["kms:GranteePrincipal"][0].split(":")[4] == B  # the outsider names itself
    assert any("grant" in r.label for r in result.responsible)


@pytest.mark.parametrize("condition", [
    {"Bool": {"kms:GrantIsForAWSResource": "true"}},  # the grant goes to the service's principal
    {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Encrypt", "GenerateDataKey"]}},  # no Decrypt in it
    {"StringEquals": {"kms:GranteePrincipal": role(A, "Reader")}},  # to an inside principal only
])
def test_grants_that_cannot_hand_decrypt_to_an_outsider(condition: dict[str, Any]) -> None:
    result = check(grant_env(condition), outside(A))
    assert result.verdict is Verdict.PROVED, result.reason


# ---- a PutKeyPolicy holder ------------------------------------------------------------------------------


def put_key_policy_env() -> Environment:
    dev = role(A, "Dev")
    kp = policy(PolicyKind.KEY_POLICY, allow(ROOT_A, "kms:*"), allow(dev, ["kms:PutKeyPolicy", "kms:DescribeKey"]))
    return Environment(keys=(Key(KEY, kp),), accounts=(Account(A),),
                       principals=(Principal(dev, PrincipalKind.ROLE, (identity(can("kms:DescribeKey")),),
                                             trust_policy=trusts(ROOT_A)),))


def test_a_put_key_policy_holder_eventually_decrypts() -> None:
    env = put_key_policy_env()
    dev = role(A, "Dev")
    plain = check(env, AccessNotGranted(PrincipalScope(ScopeKind.PRINCIPALS, (dev,)), ("kms:Decrypt",)))
    assert plain.verdict is Verdict.PROVED  # `none of [Dev] can kms:Decrypt` holds today ...
    result = check(env, none_of(dev))
    assert [a for _, a, _ in refuted_chain(result)] == ["kms:PutKeyPolicy", "kms:Decrypt"]  # ... not eventually
    assert result.responsible[0].policy == "<written by step 1>"


def test_only_key_admins_can_eventually_put_the_key_policy() -> None:
    env = put_key_policy_env()
    assert check(env, Eventually(OnlyPrincipalsCan((role(A, "Dev"), A), ("kms:PutKeyPolicy",)))).verdict \
        is Verdict.PROVED
    result = check(env, Eventually(OnlyPrincipalsCan((A,), ("kms:PutKeyPolicy",))))
    assert result.verdict is Verdict.REFUTED and result.counterexample is not None
    assert result.counterexample.principal.startswith(f"arn:aws:sts::{A}:assumed-role/Dev/")


# ---- a PassRole escalation ------------------------------------------------------------------------------


def pass_role_env(passed_to: str = "lambda.amazonaws.com", service: str = "lambda.amazonaws.com") -> Environment:
    dev, admin = role(A, "Dev"), role(A, "FunctionAdmin")
    dev_policy = identity(can("iam:PassRole", admin, {"StringEquals": {"iam:PassedToService": passed_to}}),
                          can("lambda:CreateFunction"))
    return Environment(keys=(Key(KEY, DEFAULT_KEY_POLICY),), accounts=(Account(A),), principals=(
        Principal(dev, PrincipalKind.ROLE, (dev_policy,), trust_policy=trusts(ROOT_A)),
        Principal(admin, PrincipalKind.ROLE, (identity(can("kms:Decrypt", KEY)),),
                  trust_policy=trust(allow({"Service": service}, "sts:AssumeRole", resource=None))),
    ))


def test_pass_role_escalation() -> None:
    env = pass_role_env()
    dev = role(A, "Dev")
    assert check(env, AccessNotGranted(PrincipalScope(ScopeKind.PRINCIPALS, (dev,)), ("kms:Decrypt",))).verdict \
        is Verdict.PROVED
    result = check(env, none_of(dev))
    chain = refuted_chain(result)
    assert [a for _, a, _ in chain] == ["iam:PassRole", "kms:Decrypt"]
    step = result.chain[0]
    assert step.request.context["iam:PassedToService"] == ("lambda.amazonaws.com",)
    assert [ev.request.action for ev in step.also] == ["lambda:CreateFunction", "sts:AssumeRole"]
    assert step.also[1].request.principal == "lambda.amazonaws.com"
    assert chain[-1][0].startswith(f"arn:aws:sts::{A}:assumed-role/FunctionAdmin/")


def test_pass_role_to_a_service_the_role_does_not_trust() -> None:
    """The role trusts EC2 only; the developer may pass it to Lambda only: no service runs code as it."""
    result = check(pass_role_env(service="ec2.amazonaws.com"), none_of(role(A, "Dev")))
    assert result.verdict is Verdict.PROVED, result.reason


# ---- IAM primitives on roles ----------------------------------------------------------------------------


def test_put_role_policy_on_a_held_role() -> None:
    """Dev may write its own inline policy (iam:PutRolePolicy on itself): it then decrypts by the account
    delegation of the key policy."""
    dev = role(A, "Dev")
    env = Environment(keys=(Key(KEY, DEFAULT_KEY_POLICY),), accounts=(Account(A),), principals=(
        Principal(dev, PrincipalKind.ROLE, (identity(can("iam:PutRolePolicy", dev)),), trust_policy=trusts(ROOT_A)),))
    result = check(env, none_of(dev))
    assert [a for _, a, _ in refuted_chain(result)] == ["iam:PutRolePolicy", "kms:Decrypt"]
    assert result.responsible[-1].policy == "<written by step 1>"


def test_a_deny_that_a_chain_cannot_remove_stops_it() -> None:
    """PutRolePolicy adds an allow; the role's own explicit deny of everything else stays (deleting it is denied)."""
    dev = role(A, "Dev")
    deny = {"Effect": "Deny", "NotAction": "iam:PutRolePolicy", "Resource": "*"}
    env = Environment(keys=(Key(KEY, DEFAULT_KEY_POLICY),), accounts=(Account(A),), principals=(
        Principal(dev, PrincipalKind.ROLE, (identity(can("iam:PutRolePolicy", dev), deny),),
                  trust_policy=trusts(ROOT_A)),))
    assert check(env, none_of(dev)).verdict is Verdict.PROVED
    # a deny of kms:Decrypt alone: the written policy then allows deleting the policy that holds the deny
    deny_decrypt = {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}
    env2 = Environment(keys=env.keys, accounts=env.accounts, principals=(
        Principal(dev, PrincipalKind.ROLE, (identity(can("iam:PutRolePolicy", dev)), identity(deny_decrypt)),
                  trust_policy=trusts(ROOT_A)),))
    result = check(env2, none_of(dev))
    chain = refuted_chain(result)
    # the deny goes with its policy (an inline policy deleted, or a managed one detached: either step does)
    steps = sorted(a for _, a, _ in chain[:-1])
    assert steps in (["iam:DeleteRolePolicy", "iam:PutRolePolicy"], ["iam:DetachRolePolicy", "iam:PutRolePolicy"])
    assert chain[-1][1] == "kms:Decrypt"


# ---- resource-policy writes -----------------------------------------------------------------------------


def bucket_env(writer_trust: str) -> Environment:
    bucket = "arn:aws:s3:::example-reports"
    bp = policy(PolicyKind.RESOURCE, allow(f"arn:aws:iam::{B}:root", "s3:PutBucketPolicy", resource=bucket))
    ops = Principal(role(A, "Ops"), PrincipalKind.ROLE, (identity(can("s3:PutBucketPolicy", bucket)),),
                    trust_policy=trusts(writer_trust))
    return Environment(accounts=(Account(A, block_public_access=BlockPublicAccess(restrict_public_buckets=True)),),
                       resources=(Resource(bucket, bp, account=A),), principals=(ops,))


def test_only_the_owner_account_writes_a_bucket_policy() -> None:
    """The bucket policy lets B write it, but AWS lets only the owner account call PutBucketPolicy."""
    result = check(bucket_env(ROOT_A), Eventually(AccessNotGranted(PrincipalScope.outside_account(A),
                                                                     ("s3:GetObject",))))
    assert result.verdict is Verdict.PROVED, result.reason


def test_bucket_policy_written_through_a_role_of_the_owner() -> None:
    env = bucket_env(f"arn:aws:iam::{B}:root")
    scope = PrincipalScope.outside_account(A)
    assert check(env, AccessNotGranted(scope, ("s3:GetObject",))).verdict is Verdict.PROVED
    result = check(env, Eventually(AccessNotGranted(scope, ("s3:GetObject",))))
    assert [a for _, a, _ in refuted_chain(result)] == ["sts:AssumeRole", "s3:PutBucketPolicy", "s3:GetObject"]
    # Block Public Access restricts a public policy: the chain's policy names its own principals
    assert "everyone" not in result.chain[1].effect and role(A, "Ops") in result.chain[1].effect


# ---- what makes a claim UNKNOWN -------------------------------------------------------------------------


def test_a_role_without_trust_policy_is_never_proved_unreachable() -> None:
    env = Environment(keys=(Key(KEY, DEFAULT_KEY_POLICY),), accounts=(Account(A),), principals=(
        Principal(role(A, "Data"), PrincipalKind.ROLE, (identity(can("kms:Decrypt", KEY)),)),))
    result = check(env, outside(A))
    assert result.verdict is Verdict.UNKNOWN and "Data" in (result.reason or "")
    closed = check_chains(compile_environment(env), outside(A), ChainOptions(roles_without_trust_policy_open=False))
    assert closed.verdict is Verdict.PROVED


def test_an_unmodelled_step_open_to_a_held_role_makes_the_claim_unknown() -> None:
    """Bridge (reached by the outsider) may create access keys for the users of A: not modelled."""
    env = Environment(keys=(Key(KEY, DEFAULT_KEY_POLICY),), accounts=(Account(A),), principals=(
        Principal(role(A, "Bridge"), PrincipalKind.ROLE, (identity(can("iam:CreateAccessKey")),),
                  trust_policy=trusts(f"arn:aws:iam::{C}:root")),
        Principal(f"arn:aws:iam::{A}:user/admin", PrincipalKind.USER, (identity(can("kms:*")),)),
    ))
    result = check(env, outside(A))
    assert result.verdict is Verdict.UNKNOWN
    assert "iam:CreateAccessKey" in (result.reason or "")


def test_proof_names_the_fixpoint() -> None:
    result = check(three_accounts({"StringEquals": {"sts:ExternalId": "x-1"}}), outside(A, B))
    assert result.verdict is Verdict.PROVED
    assert result.responsible[0].label == "fixpoint" and "unsat" in result.responsible[0].note
    assert result.stats["rounds"] >= 1


# ---- session tags ---------------------------------------------------------------------------------------


def tagged_env(tag_session: bool) -> Environment:
    """A:Data may decrypt only as a session tagged team=data; its trust policy lets C's principals assume it
    with that tag (and tag the session, when `tag_session`)."""
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else ["sts:AssumeRole"]
    tp = trust(allow(f"arn:aws:iam::{C}:root", actions, {"StringEquals": {"aws:RequestTag/team": "data"}},
                     resource=None))
    ident = identity(can("kms:Decrypt", KEY, {"StringEquals": {"aws:PrincipalTag/team": "data"}}))
    return Environment(keys=(Key(KEY, DEFAULT_KEY_POLICY),), accounts=(Account(A),), principals=(
        Principal(role(A, "Data"), PrincipalKind.ROLE, (ident,), trust_policy=tp),))


def test_session_tags_a_chain_sets() -> None:
    result = check(tagged_env(True), outside(A))
    chain = refuted_chain(result)
    assert [a for _, a, _ in chain] == ["sts:AssumeRole", "kms:Decrypt"]
    step = result.chain[0]
    assert step.request.context["aws:RequestTag/team"] == ("data",)
    assert [ev.request.action for ev in step.also] == ["sts:TagSession"]
    assert "session tags team=data" in step.effect


def test_session_tags_a_chain_may_not_set() -> None:
    """Without sts:TagSession the session cannot carry the tag: never REFUTED (the abstraction lets a held
    session carry any tag, so the answer is UNKNOWN, not PROVED: docs/eventually.md, limits)."""
    result = check(tagged_env(False), outside(A))
    assert result.verdict is Verdict.UNKNOWN, result.verdict
