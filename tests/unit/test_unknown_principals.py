"""Callers the environment does not describe: their organization, principal tags and unique id are unknown
(domain.py docstring), and counterexamples that rely on them replay in an augmented environment."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from reasoner.analyses.explain import augment_all
from reasoner.analyses.findings import findings
from reasoner.analyses.pipeline import check
from reasoner.analyses.properties import AccessNotGranted, PrincipalScope
from reasoner.analyses.result import Verdict
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics.environment import Account, Environment, Key, Organization, Principal, PrincipalKind, Session
from reasoner.semantics.evaluate import evaluate

pytestmark = pytest.mark.solver

OWNER = "111122223333"
ORG = "o-abc123def4"
KEY = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT = {
    "Sid": "Root",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def _env(
    extra: dict[str, object], accounts: tuple[Account, ...] = (Account(OWNER),), orgs: tuple[Organization, ...] = ()
) -> Environment:
    doc = {"Version": "2012-10-17", "Statement": [ROOT, extra]}
    policy = parse_policy(json.dumps(doc, indent=1), file="kp.json", kind=PolicyKind.KEY_POLICY)
    return Environment(keys=(Key(KEY, policy),), accounts=accounts, organizations=orgs)


def _open(condition: dict[str, object]) -> dict[str, object]:
    return {
        "Sid": "Open",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": condition,
    }


OUTSIDE = AccessNotGranted(PrincipalScope.outside_account(OWNER), ("kms:Decrypt",))


def _refuted_by_outsider(env: Environment, fact: str) -> None:
    r = check(env, OUTSIDE)
    assert r.verdict is Verdict.REFUTED, r.reason
    cx = r.counterexample
    assert cx is not None and f"::{OWNER}:" not in cx.principal
    assert any(k == fact or k.startswith(fact) for k in cx.assumed), cx.assumed
    # replays: allowed in the augmented environment, not in the environment as given
    env2, notes = augment_all(env, cx)
    assert evaluate(env2, cx).decision.allowed
    assert not evaluate(env, cx).decision.allowed
    assert any(n.label.startswith("unknown caller") for n in r.responsible)
    assert notes


def test_principal_org_id_of_undeclared_account() -> None:
    env = _env(_open({"StringEquals": {"aws:PrincipalOrgID": ORG}}))
    _refuted_by_outsider(env, "org")
    r = check(env, OUTSIDE)
    assert r.counterexample is not None and r.counterexample.assumed["org"] == ORG
    res = findings(env)
    assert res.findings, "findings must report the organization access"
    assert any(c.key.lower() == "aws:principalorgid" for f in res.findings for c in f.conditions)


def test_principal_org_paths_of_undeclared_account() -> None:
    env = _env(_open({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": f"{ORG}/*"}}))
    _refuted_by_outsider(env, "org")
    res = findings(env)
    assert res.findings


def test_principal_tag_of_undeclared_principal() -> None:
    env = _env(_open({"StringEquals": {"aws:PrincipalTag/team": "x"}}))
    _refuted_by_outsider(env, "tag:team")
    assert findings(env).findings


def test_declared_organization_is_closed() -> None:
    org = Organization(ORG, "r-ab12", OWNER)
    env = _env(
        _open({"StringEquals": {"aws:PrincipalOrgID": ORG}}), accounts=(Account(OWNER, organization=ORG),), orgs=(org,)
    )
    assert check(env, OUTSIDE).verdict is Verdict.PROVED
    assert not findings(env).findings


def test_deny_unless_org_still_blocks_outsiders() -> None:
    deny = {
        "Sid": "OrgOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
    }
    env = _env(deny, accounts=(Account(OWNER, organization=ORG),), orgs=(Organization(ORG, "r-ab12", OWNER),))
    assert check(env, OUTSIDE).verdict is Verdict.PROVED
    # without the organization declared, outsiders in o-abc123def4 are still not granted anything
    assert check(_env(deny), OUTSIDE).verdict is Verdict.PROVED


def test_user_id_of_undeclared_user() -> None:
    env = _env(_open({"StringLike": {"aws:userid": "AIDA*"}}))
    _refuted_by_outsider(env, "uid")


OTHER = "444455556666"


def test_tag_of_undeclared_session_of_known_role_overrides_role_tag() -> None:
    # the role declares team=y; a session the environment does not declare may carry the session tag team=x
    role = Principal(f"arn:aws:iam::{OTHER}:role/app", PrincipalKind.ROLE, tags={"team": "y"})
    stmt = {
        "Sid": "Team",
        "Effect": "Allow",
        "Principal": {"AWS": role.arn},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "x"}},
    }
    env = replace(_env(stmt, accounts=(Account(OWNER), Account(OTHER, iam_known=False))), principals=(role,))
    r = check(env, OUTSIDE)
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None
    assert ":assumed-role/app/" in r.counterexample.principal and r.counterexample.assumed["tag:team"] == "x"
    # a declared session without that tag has the role's tag only
    sess = Session(f"arn:aws:sts::{OTHER}:assumed-role/app/s1", role.arn)
    env2 = replace(env, sessions=(sess,))
    r2 = check(env2, OUTSIDE)
    assert r2.verdict is Verdict.REFUTED and r2.counterexample is not None
    assert r2.counterexample.principal != sess.arn


def test_declared_user_keeps_declared_tags() -> None:
    user = Principal(
        f"arn:aws:iam::{OTHER}:user/alice", PrincipalKind.USER, tags={"team": "y"}, unique_id="AIDAALICE0000000000A"
    )
    stmt = {
        "Sid": "Team",
        "Effect": "Allow",
        "Principal": {"AWS": user.arn},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "x"}},
    }
    env = replace(_env(stmt, accounts=(Account(OWNER), Account(OTHER))), principals=(user,))
    assert check(env, OUTSIDE).verdict is Verdict.PROVED


def test_user_id_of_undeclared_role_session() -> None:
    env = _env(_open({"StringLike": {"aws:userid": "AROA*:batch"}}))
    r = check(env, OUTSIDE)
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None
    assert r.counterexample.principal.endswith("/batch") and r.counterexample.assumed["uid"].startswith("AROA")
    env2, _ = augment_all(env, r.counterexample)
    assert evaluate(env2, r.counterexample).decision.allowed


def test_outside_undeclared_organization_counts_assumed_members_inside() -> None:
    env = _env(_open({"StringEquals": {"aws:PrincipalOrgID": ORG}}))
    prop = AccessNotGranted(PrincipalScope.outside_organization(ORG), ("kms:Decrypt",))
    r = check(env, prop)
    # refuted only by the owner's root (its account is declared in no organization), not by a member
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None
    assert f"::{OWNER}:" in r.counterexample.principal


def test_tag_of_undeclared_role_under_declared_session() -> None:
    arn = f"arn:aws:sts::{OTHER}:assumed-role/r/s1"
    stmt = {
        "Sid": "Team",
        "Effect": "Allow",
        "Principal": {"AWS": arn},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "x"}},
    }
    # the role is not declared: its tag team may be x under the session's dept tag
    sess = Session(arn, f"arn:aws:iam::{OTHER}:role/r", tags={"dept": "d"})
    r = check(replace(_env(stmt), sessions=(sess,)), OUTSIDE)
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None
    assert r.counterexample.principal == arn and r.counterexample.assumed["tag:team"] == "x"
    # a session tag team=y overrides whatever the role has
    fixed = Session(arn, f"arn:aws:iam::{OTHER}:role/r", tags={"team": "y"})
    assert check(replace(_env(stmt), sessions=(fixed,)), OUTSIDE).verdict is Verdict.PROVED


@pytest.mark.parametrize("worst", [True, False])
def test_tag_of_undeclared_federated_user(worst: bool) -> None:
    cond = {
        "StringEquals": {"aws:PrincipalTag/team": "x"},
        "StringLike": {"aws:PrincipalArn": "arn:aws:sts::*:federated-user/*"},
    }
    env = _env(_open(cond))
    env = replace(env, options=replace(env.options, unknown_iam_worst_case=worst))
    r = check(env, OUTSIDE)
    if not worst:
        # without identity policies a federated user gets nothing across accounts
        assert r.verdict is Verdict.PROVED
        return
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None
    assert ":federated-user/" in r.counterexample.principal and r.counterexample.assumed["tag:team"] == "x"
    env2, _ = augment_all(env, r.counterexample)
    assert evaluate(env2, r.counterexample).decision.allowed


def test_the_text_report_says_what_a_counterexample_assumes(tmp_path: object) -> None:
    """A user reading a refutation must see the assumption it rests on, not only the request."""
    import io
    from pathlib import Path

    from reasoner.face.cli import main

    d = Path(str(tmp_path))
    doc = {"Version": "2012-10-17",
           "Statement": [ROOT, _open({"StringEquals": {"aws:PrincipalOrgID": ORG}})]}
    (d / "kp.json").write_text(json.dumps(doc, indent=1))
    (d / "env.yaml").write_text(f'keys:\n  - arn: {KEY}\n    policy: kp.json\naccounts:\n  - id: "{OWNER}"\n')
    (d / "p.access").write_text(
        'environment "env.yaml"\nassert "x": no principal outside account 111122223333 can kms:Decrypt on all keys\n')
    out, err = io.StringIO(), io.StringIO()
    assert main(["check", str(d / "p.access")], out, err) == 1, err.getvalue()
    assert f"assuming organization of the caller's account = {ORG}" in out.getvalue()
    out = io.StringIO()
    assert main(["check", "--format", "json", str(d / "p.access")], out, err) == 1
    assert json.loads(out.getvalue())["results"][0]["counterexample"]["assumed"]["org"] == ORG
