"""Soundness audit: callers and contexts the environment does not describe must never be assumed away
(a wrong PROVED is the worst bug). Each test names the AWS behaviour (semantics section) it relies on."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from reasoner.analyses.explain import augment_all
from reasoner.analyses.pipeline import check
from reasoner.analyses.properties import AccessNotGranted, CanAccess, OnlyPrincipalsCan, PrincipalScope, ScopeKind
from reasoner.analyses.result import Verdict
from reasoner.face.render.results import render_text
from reasoner.front.ast import PolicyDocument, PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics.environment import Account, Environment, Key, Principal, PrincipalKind
from reasoner.semantics.evaluate import evaluate

pytestmark = pytest.mark.solver

OWNER = "111122223333"
OTHER = "444455556666"
OPT_IN_KEY = f"arn:aws:kms:af-south-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT = {
    "Sid": "Root",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
    "Action": "kms:*",
    "Resource": "*",
}
OUTSIDE = AccessNotGranted(PrincipalScope.outside_account(OWNER), ("kms:Decrypt",))


def _env(*stmts: dict[str, object], key: str, accounts: tuple[Account, ...] = (Account(OWNER),)) -> Environment:
    doc = {"Version": "2012-10-17", "Statement": [ROOT, *stmts]}
    policy = parse_policy(json.dumps(doc, indent=1), file="kp.json", kind=PolicyKind.KEY_POLICY)
    return Environment(keys=(Key(key, policy),), accounts=accounts)


def _allow(principal: object, condition: dict[str, object] | None = None) -> dict[str, object]:
    st: dict[str, object] = {
        "Sid": "Ext", "Effect": "Allow", "Principal": principal, "Action": "kms:Decrypt", "Resource": "*"
    }
    if condition:
        st["Condition"] = condition
    return st


@pytest.mark.parametrize(
    "stmt",
    [
        _allow({"AWS": OTHER}),
        _allow("*", {"Bool": {"aws:PrincipalIsAWSService": "false"}}),
    ],
    ids=["account-principal", "star-not-service"],
)
def test_opt_in_region_of_undeclared_account_may_be_enabled(stmt: dict[str, object]) -> None:
    # §4.3: an external account's permissions on a key in an opt-in Region are effective only if that
    # account enabled the Region. Whether an account the environment does not declare enabled it is unknown:
    # it may have, so outsiders can decrypt.
    env = _env(stmt, key=OPT_IN_KEY)
    r = check(env, OUTSIDE)
    assert r.verdict is Verdict.REFUTED, r.reason
    cx = r.counterexample
    assert cx is not None and f"::{OWNER}:" not in cx.principal and not cx.principal.endswith("amazonaws.com")
    assert cx.assumed.get("region") == "af-south-1"
    env2, notes = augment_all(env, cx)
    assert evaluate(env2, cx).decision.allowed and notes
    assert not evaluate(env, cx).decision.allowed


def test_opt_in_region_of_declared_account_is_as_declared() -> None:
    # §4.3: a declared account without the Region listed has not enabled it
    declared = (Account(OWNER), Account(OTHER, iam_known=False))
    assert check(_env(_allow({"AWS": OTHER}), key=OPT_IN_KEY, accounts=declared), OUTSIDE).verdict is Verdict.PROVED
    enabled = (Account(OWNER), Account(OTHER, iam_known=False, enabled_regions=frozenset({"af-south-1"})))
    r = check(_env(_allow({"AWS": OTHER}), key=OPT_IN_KEY, accounts=enabled), OUTSIDE)
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None
    assert "region" not in r.counterexample.assumed


def test_comparison_with_a_closed_organization_replays() -> None:
    # domain.py: an organization an environment declares is closed; one it does not declare is open to
    # undeclared accounts. NoNewAccess / Equivalent between the two must report the undeclared member of the
    # open organization (allowed in the new environment only), not fail replay with an InternalError because
    # the old environment was augmented with a member of its closed organization.
    from reasoner.analyses.properties import Equivalent, NoNewAccess
    from reasoner.semantics.environment import Organization

    org = "o-abc123def4"
    key = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    st = _allow("*", {"StringEquals": {"aws:PrincipalOrgID": org}})
    closed = Environment(
        keys=_env(st, key=key).keys,
        accounts=(Account(OWNER, organization=org),),
        organizations=(Organization(org, "r-ab12", OWNER),),
    )
    open_ = _env(st, key=key)
    for prop in (NoNewAccess(closed, ("kms:Decrypt",)), Equivalent(closed, ("kms:Decrypt",))):
        r = check(open_, prop)
        assert r.verdict is Verdict.REFUTED, r.reason
        cx = r.counterexample
        assert cx is not None and cx.assumed.get("org") == org and f"::{OWNER}:" not in cx.principal
        assert evaluate(augment_all(open_, cx)[0], cx).decision.allowed
        assert not evaluate(augment_all(closed, cx)[0], cx).decision.allowed


@pytest.mark.parametrize(
    "stmt",
    [
        _allow({"AWS": f"arn:aws:iam::{OTHER}:role/team/app"}),
        _allow("*", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OTHER}:role/team/*"}}),
    ],
    ids=["role-arn-with-path", "principal-arn-role-path"],
)
def test_role_of_undeclared_account_may_have_a_path(stmt: dict[str, object]) -> None:
    # §1.3 / §5.2: a role ARN is `arn:aws:iam::A:role/[path/]NAME`; its sessions' ARNs omit the path but
    # aws:PrincipalArn and role-ARN principals include it. A role the environment does not describe may have
    # any path, so a session of `role/team/app` in an undeclared account can decrypt (with its IAM's allow).
    env = _env(stmt, key=f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    r = check(env, OUTSIDE)
    assert r.verdict is Verdict.REFUTED, r.reason
    cx = r.counterexample
    assert cx is not None and f"::{OTHER}:assumed-role/" in cx.principal
    assert cx.assumed.get("rolepath", "").lower() == "team/"
    env2, notes = augment_all(env, cx)
    assert evaluate(env2, cx).decision.allowed and notes


def test_lockout_guard_is_not_proved_by_assumptions_about_undescribed_callers() -> None:
    # CanAccess (the lockout guard) is existential over the context the caller controls, not over what AWS
    # derives for a caller the environment does not describe (domain.py): a role of an undeclared account is
    # not proved able to decrypt just because its account may be in the organization the key policy names.
    from reasoner.analyses.properties import CanAccess

    org = "o-abc123def4"
    key = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    doc = {"Version": "2012-10-17", "Statement": [_allow("*", {"StringEquals": {"aws:PrincipalOrgID": org}})]}
    env = Environment(
        keys=(Key(key, parse_policy(json.dumps(doc, indent=1), file="kp.json", kind=PolicyKind.KEY_POLICY)),),
        accounts=(Account(OWNER),),
    )
    r = check(env, CanAccess(f"arn:aws:iam::{OTHER}:role/R", ("kms:Decrypt",)))
    assert r.verdict is not Verdict.PROVED, r
    assert r.verdict is Verdict.UNKNOWN and r.reason and "organization" in r.reason
    # declared in the organization (with its IAM given and allowing), the guard is proved
    from reasoner.semantics.environment import Organization, Principal, PrincipalKind

    allow_all = parse_policy(
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        file="iam.json",
        kind=PolicyKind.IDENTITY,
    )
    role = Principal(f"arn:aws:iam::{OTHER}:role/R", PrincipalKind.ROLE, (allow_all,))
    env2 = Environment(
        keys=env.keys,
        accounts=(Account(OWNER), Account(OTHER, organization=org)),
        organizations=(Organization(org, "r-ab12", OTHER),),
        principals=(role,),
    )
    assert check(env2, CanAccess(role.arn, ("kms:Decrypt",))).verdict is Verdict.PROVED


def test_lockout_guard_role_path_is_as_spelled() -> None:
    # IAM role names are unique in an account whatever the path: `role/R` (path `/`) is not `role/team/R`,
    # so a key policy naming `role/team/R` does not let `role/R` in
    from reasoner.analyses.properties import CanAccess

    key = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    env = _env(_allow({"AWS": f"arn:aws:iam::{OTHER}:role/team/R"}), key=key)
    assert check(env, CanAccess(f"arn:aws:iam::{OTHER}:role/R", ("kms:Decrypt",))).verdict is not Verdict.PROVED


@pytest.mark.parametrize("entry", ["role/Admin", "role/team/Admin"])
def test_undescribed_role_of_an_account_whose_iam_is_given_replays(entry: str) -> None:
    # found on the corpus (aws-cloudformation-templates__1): a session of an undescribed role that the key
    # policy names, in the key's own account whose IAM is given. With a path the counterexample records
    # (`rolepath`), the replay declares the role and compares the entry in full; with none, the evaluator
    # compares the role name only (role names are unique in an account). Either way the answer replays.
    key = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    env = _env(_allow({"AWS": f"arn:aws:iam::{OWNER}:{entry}"}), key=key)
    r = check(env, OnlyPrincipalsCan((f"arn:aws:iam::{OWNER}:root",), ("kms:Decrypt",)))
    assert r.verdict is Verdict.REFUTED, r.reason
    cx = r.counterexample
    assert cx is not None and cx.principal.lower().startswith(f"arn:aws:sts::{OWNER}:assumed-role/admin/")
    path = entry[len("role/") :].rpartition("/")[0]
    assert cx.assumed.get("rolepath", "") in ("", f"{path}/" if path else "")
    # the role's sessions are the role's in a scope: with it listed, nobody else gets in
    only = OnlyPrincipalsCan((f"arn:aws:iam::{OWNER}:root", f"arn:aws:iam::{OWNER}:{entry}"), ("kms:Decrypt",))
    assert check(env, only).verdict is Verdict.PROVED


def test_declared_principal_of_an_undeclared_account_keeps_its_policies_in_an_assumed_organization() -> None:
    # found by the nightly differential profile: a principal the environment declares in an account it does
    # not declare has its own identity policies; the replay that puts the account in the organization the
    # counterexample assumes must not turn its IAM into "not given" (explain.augment_caller)
    key = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    base = _env(_allow("*", {"StringEquals": {"aws:PrincipalOrgID": "o-zzzzzzzzzz"}}), key=key)
    alice = Principal(
        f"arn:aws:iam::{OTHER}:user/alice",
        PrincipalKind.USER,
        (_iam({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}),),
    )
    env = replace(base, principals=(alice,), options=replace(base.options, unknown_iam_worst_case=False))
    r = check(env, AccessNotGranted(PrincipalScope(ScopeKind.PRINCIPALS, (alice.arn,)), ("kms:Decrypt",)))
    assert r.verdict is Verdict.REFUTED, r.reason
    cx = r.counterexample
    assert cx is not None and cx.principal == alice.arn and cx.assumed.get("org") == "o-zzzzzzzzzz"


def test_federated_session_of_undeclared_user() -> None:
    key = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    env = _env(_allow({"AWS": f"arn:aws:iam::{OTHER}:user/bob"}), key=key)
    fed = AccessNotGranted(
        PrincipalScope(ScopeKind.PRINCIPALS, (f"arn:aws:sts::{OTHER}:federated-user/fedx",)), ("kms:Decrypt",)
    )
    # §2.3 / §4.2 table ("IAM user ARN, request from that user's GetFederationToken session"): a user ARN in
    # a key policy also matches that user's federated sessions; the source user of a federated session the
    # environment does not describe is unknown (domain.py), so it may be bob, with his account's IAM unknown
    r = check(env, fed)
    assert r.verdict is Verdict.REFUTED, r.reason
    cx = r.counterexample
    assert cx is not None and cx.principal == f"arn:aws:sts::{OTHER}:federated-user/fedx"
    assert cx.assumed.get("fedsource") == f"arn:aws:iam::{OTHER}:user/bob"
    assert not evaluate(env, cx).decision.allowed
    env2, notes = augment_all(env, cx)
    assert evaluate(env2, cx).decision.allowed and notes
    # a user the key policy does not name: no source makes the session match (only the root's Allow)
    env3 = _env(_allow({"AWS": f"arn:aws:iam::{OWNER}:user/bob"}), key=key)
    assert check(env3, fed).verdict is Verdict.PROVED


def test_federated_session_of_declared_user_is_as_declared() -> None:
    # a federated session the environment declares has its declared source user: a key policy naming
    # another user does not let it in (§4.2), with its account's IAM unknown (worst case)
    from reasoner.semantics.environment import Principal, PrincipalKind, Session

    key = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    sess = f"arn:aws:sts::{OTHER}:federated-user/fedx"
    alice = Principal(f"arn:aws:iam::{OTHER}:user/alice", PrincipalKind.USER)
    base = _env(_allow({"AWS": f"arn:aws:iam::{OTHER}:user/bob"}), key=key)
    env = Environment(
        keys=base.keys,
        accounts=(Account(OWNER), Account(OTHER, iam_known=False)),
        principals=(alice,),
        sessions=(Session(sess, alice.arn),),
    )
    fed = AccessNotGranted(PrincipalScope(ScopeKind.PRINCIPALS, (sess,)), ("kms:Decrypt",))
    assert check(env, fed).verdict is Verdict.PROVED


def _iam(*stmts: dict[str, object]) -> PolicyDocument:
    doc = {"Version": "2012-10-17", "Statement": list(stmts)}
    return parse_policy(json.dumps(doc, indent=1), file="iam.json", kind=PolicyKind.IDENTITY)


def test_undeclared_federated_session_of_a_declared_user() -> None:
    # §4.2: bob (declared, his account's IAM given) may call GetFederationToken at any time; the session has
    # bob's identity policies, his boundary, and a session policy the environment does not know (worst case:
    # allows everything), and a key policy naming bob also matches it
    key = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    bob = Principal(
        f"arn:aws:iam::{OTHER}:user/bob",
        PrincipalKind.USER,
        (_iam({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}),),
    )
    base = _env(_allow({"AWS": bob.arn}), key=key)
    env = replace(base, accounts=(Account(OWNER), Account(OTHER)), principals=(bob,))
    sess = f"arn:aws:sts::{OTHER}:federated-user/fedx"
    r = check(env, AccessNotGranted(PrincipalScope(ScopeKind.PRINCIPALS, (sess,)), ("kms:Decrypt",)))
    assert r.verdict is Verdict.REFUTED, r.reason
    cx = r.counterexample
    assert cx is not None and cx.assumed == {"fedsource": bob.arn}
    assert any("session of user " + bob.arn in x.note for x in r.responsible)
    assert f"assuming IAM user behind the federated user = {bob.arn}" in render_text([r])
    # bob's federated sessions count as bob in a scope, as a role's sessions count as the role
    assert check(env, OnlyPrincipalsCan((bob.arn, f"arn:aws:iam::{OWNER}:root"), ("kms:Decrypt",))).verdict is (
        Verdict.PROVED
    )
    # ... but not for the lockout guard: bob himself must still have the access
    assert check(env, CanAccess(bob.arn, ("kms:Decrypt",))).verdict is Verdict.PROVED
    # without the identity policy neither bob nor his sessions get in across accounts
    none = replace(env, principals=(replace(bob, identity_policies=()),))
    assert check(none, AccessNotGranted(PrincipalScope.outside_account(OWNER), ("kms:Decrypt",))).verdict is (
        Verdict.PROVED
    )


def test_undeclared_federated_session_has_an_unknown_session_policy() -> None:
    # §4.2 table: a GetFederationToken session without a session policy is denied what a `*` grant gives; one
    # the environment does not declare may have been given any session policy, even in an account whose IAM
    # is given (an Allow to `*` for federated users of the key's own account lets it in)
    key = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    env = _env(_allow("*", {"StringEquals": {"aws:PrincipalType": "FederatedUser"}}), key=key)
    anyone = OnlyPrincipalsCan((f"arn:aws:iam::{OWNER}:root",), ("kms:Decrypt",))
    r = check(env, anyone)
    assert r.verdict is Verdict.REFUTED, r.reason
    cx = r.counterexample
    assert cx is not None and ":federated-user/" in cx.principal
    assert not evaluate(env, cx).decision.allowed  # undeclared: no session policy in the plain environment
    env2, notes = augment_all(env, cx)
    assert evaluate(env2, cx).decision.allowed and notes
    # "only what is given": an undeclared session has no session policy
    closed = replace(env, options=replace(env.options, unknown_iam_worst_case=False))
    assert check(closed, anyone).verdict is Verdict.PROVED


def test_role_path_comparison_between_environments_replays() -> None:
    # a role one environment describes (with path `team/`) and the other does not: the other may give it any
    # path; the difference is reported and replays in both environments
    from reasoner.analyses.properties import Equivalent, NoNewAccess
    from reasoner.semantics.environment import Principal, PrincipalKind

    key = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    allow_all = parse_policy(
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        file="iam.json",
        kind=PolicyKind.IDENTITY,
    )
    role = Principal(f"arn:aws:iam::{OTHER}:role/team/app", PrincipalKind.ROLE, (allow_all,))
    accounts = (Account(OWNER), Account(OTHER, iam_known=False))
    team = _allow("*", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OTHER}:role/team/*"}})
    nope = _allow("*", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OTHER}:role/nope/*"}})
    new = Environment(keys=_env(team, key=key).keys, accounts=accounts, principals=(role,))
    old = Environment(keys=_env(nope, key=key).keys, accounts=accounts)
    for env, prop in (
        (new, NoNewAccess(old, ("kms:Decrypt",))),
        (old, NoNewAccess(new, ("kms:Decrypt",))),
        (old, Equivalent(new, ("kms:Decrypt",))),
    ):
        r = check(env, prop)
        assert r.verdict is Verdict.REFUTED, r.reason
        assert r.counterexample is not None and ":assumed-role/" in r.counterexample.principal
    # the same policy in both: the described role's path holds in both environments (one world)
    same = Environment(keys=new.keys, accounts=accounts)
    assert check(new, Equivalent(same, ("kms:Decrypt",))).verdict is Verdict.PROVED


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:ResourceOrgID": "o-abc123def4"}},
        {"ForAnyValue:StringLike": {"aws:ResourceOrgPaths": "o-abc123def4/*"}},
    ],
    ids=["resource-org-id", "resource-org-paths"],
)
def test_resource_org_of_undeclared_key_owner(condition: dict[str, object]) -> None:
    """The key owner's account is not declared, so it may be in any organization the environment does not
    declare: aws:ResourceOrgID / aws:ResourceOrgPaths are not known to be absent (§5, domain.py). The
    counterexample assumes the owner's organization and replays in an environment that declares it."""
    key = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    env = _env(_allow("*", condition), key=key, accounts=())
    r = check(env, OUTSIDE)
    assert r.verdict is Verdict.REFUTED, r.reason
    cx = r.counterexample
    assert cx is not None and cx.assumed.get("keyorg") == "o-abc123def4"
    assert not evaluate(env, cx).decision.allowed  # the plain environment: the owner in no organization
    env2, notes = augment_all(env, cx)
    assert evaluate(env2, cx).decision.allowed
    assert any("the key's owner, is in organization o-abc123def4" in n.note for n in notes)
    assert "assuming organization of the key's owner account = o-abc123def4" in render_text([r])
    # a caller in the owner's own account sees the same organization as the key (one account, one org)
    inside = AccessNotGranted(PrincipalScope(ScopeKind.PRINCIPALS, (f"arn:aws:iam::{OWNER}:user/u",)), ("kms:Decrypt",))
    given = replace(env, options=replace(env.options, unknown_iam_worst_case=False))  # not via the root's Allow
    r2 = check(given, inside)
    assert r2.verdict is Verdict.REFUTED and r2.counterexample is not None
    assert r2.counterexample.assumed.get("org") == "o-abc123def4" and "keyorg" not in r2.counterexample.assumed
    # declared owner in no organization: the keys are absent and the Allow never applies (PROVED)
    assert check(_env(_allow("*", condition), key=key), OUTSIDE).verdict is Verdict.PROVED
    # declared organizations are closed: an undeclared owner is in none of them
    closed = _env(
        _allow("*", condition), key=key, accounts=(Account(OTHER, organization="o-abc123def4", ou_path=("r-ab12",)),)
    )
    assert check(closed, OUTSIDE).verdict is Verdict.PROVED


@pytest.mark.parametrize(
    ("entry", "what"),
    [
        ("sessions:\n  - arn: arn:aws:sts::111122223333:federated-user/F\n"
         "    source: arn:aws:iam::111122223333:user/U\n", "federated-user name `F`"),
        ("sessions:\n  - arn: arn:aws:sts::111122223333:assumed-role/R/s\n"
         "    source: arn:aws:iam::111122223333:role/R\n", "role-session name `s`"),
        ("sessions:\n  - arn: arn:aws:sts::111122223333:federated-user/" + "f" * 33 + "\n"
         "    source: arn:aws:iam::111122223333:user/U\n", "federated-user name"),
        ("sessions:\n  - arn: arn:aws:sts::111122223333:assumed-role/R/a!b\n"
         "    source: arn:aws:iam::111122223333:role/R\n", "role-session name `a!b`"),
    ],
    ids=["federated-1-char", "session-1-char", "federated-33-chars", "session-bad-char"],
)
def test_manifest_rejects_names_that_are_not_well_formed(entry: str, what: str) -> None:
    # domain.py well-formedness (IAM quotas: role-session names 2..64, federated-user names 2..32 characters
    # of `[A-Za-z0-9_+=,.@-]`): the symbolic core models only such callers, so a manifest declaring another
    # name is rejected at its line with a registered code instead of the declaration being silently dropped
    from reasoner.errors import InputError
    from reasoner.front.manifest import MANIFEST_NAME, parse_environment

    text = (
        "principals:\n  - arn: arn:aws:iam::111122223333:user/U\n  - arn: arn:aws:iam::111122223333:role/R\n"
        + entry
    )
    with pytest.raises(InputError) as info:
        parse_environment(text, file="env.yaml")
    err = info.value
    assert err.code == MANIFEST_NAME and what in err.message
    assert err.span is not None and err.span.file == "env.yaml" and err.span.line == 5
    # a well-formed name of the same kind is accepted
    fixed = entry.replace("/F\n", "/F1\n").replace("/s\n", "/s1\n").replace("f" * 33, "f" * 32).replace("a!b", "ab")
    assert len(parse_environment(text.replace(entry, fixed), file="env.yaml").sessions) == 1


def test_manifest_rejects_principal_names_that_are_not_well_formed() -> None:
    from reasoner.errors import InputError
    from reasoner.front.manifest import MANIFEST_NAME, parse_environment

    for arn in ("arn:aws:iam::111122223333:user/" + "u" * 65, "arn:aws:iam::111122223333:role/a b"):
        with pytest.raises(InputError) as info:
            parse_environment(f"principals:\n  - arn: {arn}\n", file="env.yaml")
        assert info.value.code == MANIFEST_NAME and info.value.span is not None and info.value.span.line == 2
