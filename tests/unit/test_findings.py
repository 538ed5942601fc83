"""External-access findings (issue 6, docs/findings.md) over small key policies.

- The seed key policy (semantics §4.3, §4.6): two findings for account 444455556666, one per condition set;
  kms:ScheduleKeyDeletion is not among them (not usable across accounts, §4.6); the set is PROVED complete.
- Completeness is checked against the evaluator by a sweep: every external request the evaluator allows is
  covered by some finding (principal in the class, action listed, granting statement among the reasons).
- Public access: `Principal: *` without restricting condition is public; kms:CallerAccount, aws:SourceVpce
  and narrow aws:SourceIp ranges restrict; 0.0.0.0/0, negated operators and IfExists do not.
- Zone of trust, service principals, unsupported constructs (UNKNOWN completeness), CLI exit statuses.
"""

from __future__ import annotations

import io
import json
from itertools import product
from pathlib import Path

import pytest

from reasoner.analyses.explain import replay
from reasoner.analyses.findings import (
    FindingsResult,
    PrincipalClass,
    findings,
    guess_owner,
    in_class,
    is_restricting,
    key_policy_environment,
    parse_zone,
)
from reasoner.analyses.result import Verdict
from reasoner.errors import InputError
from reasoner.face.cli import main
from reasoner.face.exit import exit_status
from reasoner.face.render.findings import render
from reasoner.front.ast import ConditionOperator, PolicyKind, SetQualifier
from reasoner.front.parse import parse_policy
from reasoner.semantics.environment import Account, Environment, Key
from reasoner.semantics.request import Request
from reasoner.symbolic.domain import key_actions
from tests.sarif import valid_sarif

pytestmark = pytest.mark.solver

OWNER = "111122223333"
EXT = "444455556666"
KEY = f"arn:aws:kms:us-west-2:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT_STMT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
             "Action": "kms:*", "Resource": "*"}

SEED = {
    "Version": "2012-10-17",
    "Statement": [
        ROOT_STMT,
        {"Sid": "External use", "Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{EXT}:root"]},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
         "Resource": "*"},
        {"Sid": "External grants", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
         "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
        {"Sid": "External deletion", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
         "Action": "kms:ScheduleKeyDeletion", "Resource": "*"},
    ],
}


def _policy(statements: list[dict[str, object]], name: str = "key.json") -> object:
    doc = {"Version": "2012-10-17", "Statement": statements}
    return parse_policy(json.dumps(doc, indent=2), file=name, kind=PolicyKind.KEY_POLICY)


def _env(statements: list[dict[str, object]], accounts: tuple[Account, ...] = ()) -> Environment:
    return Environment(keys=(Key(KEY, _policy(statements)),), accounts=accounts)  # type: ignore[arg-type]


def _sweep_requests(result: FindingsResult, env: Environment) -> list[Request]:
    """Callers of the owner, the external account, an unknown account and a service, every key action."""
    principals = [
        f"arn:aws:iam::{OWNER}:root", f"arn:aws:iam::{EXT}:root", f"arn:aws:iam::{EXT}:user/alice",
        f"arn:aws:sts::{EXT}:assumed-role/App/s1", "arn:aws:iam::999999999999:root",
        "arn:aws:sts::999999999999:assumed-role/Other/x", "cloudtrail.amazonaws.com",
    ]
    contexts: list[dict[str, tuple[str, ...]]] = [
        {}, {"kms:GrantIsForAWSResource": ("true",), "kms:ViaService": ("ec2.us-west-2.amazonaws.com",)},
        {"kms:ViaService": ("ec2.us-west-2.amazonaws.com",)},
        {"aws:SourceVpce": ("vpce-1a2b3c4d",)}, {"aws:SourceIp": ("10.1.2.3",)},
    ]
    return [Request(p, a, KEY, c) for p, a, c in product(principals, key_actions(), contexts)]


def _assert_covers(result: FindingsResult, env: Environment, inside: set[str]) -> int:
    """Every allowed external request of the sweep lies in some finding; returns how many were allowed."""
    allowed = 0
    for r in _sweep_requests(result, env):
        acct = r.principal.split(":")[4] if r.principal.startswith("arn:") else None
        if acct is None or acct in inside:
            continue
        ev, _ = replay(env, r)
        if not ev.decision.allowed:
            continue
        allowed += 1
        granting = {x.statement for x in ev.reasons if x.role == "allow"}
        assert any(
            in_class(f.principal, r.principal) and r.action in f.actions
            and granting & {s.index for s in f.statements}
            for f in result.findings
        ), f"allowed external request not covered by any finding: {r}"
    return allowed


def test_seed_two_findings_complete_and_replayed() -> None:
    env = Environment(keys=(Key(KEY, _policy(SEED["Statement"])),))  # type: ignore[arg-type]
    result = findings(env)
    (k,) = result.keys
    assert k.complete is Verdict.PROVED and "unsat" in k.proof
    assert len(k.findings) == 2
    assert {f.principal for f in k.findings} == {PrincipalClass("account", EXT)}
    use = next(f for f in k.findings if not f.conditions)
    grants = next(f for f in k.findings if f.conditions)
    assert set(use.actions) == {
        "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
        "kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext",
        "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey",
    }
    assert set(grants.actions) == {"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"}
    assert [c.key for c in grants.conditions] == ["kms:GrantIsForAWSResource"]
    assert all("kms:ScheduleKeyDeletion" not in f.actions for f in k.findings)  # §4.6: not cross-account
    for f in k.findings:
        assert not f.public
        assert f.evaluation.decision.allowed
        assert replay(env, f.example)[0].decision.allowed
        assert f.example.principal.split(":")[4] == EXT
    assert _assert_covers(result, env, {OWNER}) > 0
    assert exit_status(result) == 1


def test_no_external_statement_means_no_finding_proved() -> None:
    result = findings(_env([ROOT_STMT]))
    (k,) = result.keys
    assert k.findings == () and k.complete is Verdict.PROVED
    assert exit_status(result) == 0


def test_zone_of_trust_includes_the_external_account() -> None:
    env = Environment(keys=(Key(KEY, _policy(SEED["Statement"])),))  # type: ignore[arg-type]
    assert findings(env, [OWNER, EXT]).findings == ()
    assert len(findings(env, [OWNER]).findings) == 2


def test_zone_of_trust_organization_uses_manifest_accounts() -> None:
    org = "o-abcdefghij"
    env = Environment(keys=(Key(KEY, _policy(SEED["Statement"])),),  # type: ignore[arg-type]
                      accounts=(Account(OWNER, organization=org, iam_known=False),
                                Account(EXT, organization=org, iam_known=False)))
    assert findings(env, [org]).findings == ()


def test_public_wildcard_principal() -> None:
    env = _env([ROOT_STMT, {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                            "Resource": "*"}])
    result = findings(env)
    (f,) = result.findings
    assert f.public and f.principal.kind == "any" and f.any_verified
    assert f.actions == ("kms:Decrypt",)
    assert result.keys[0].public
    assert _assert_covers(result, env, {OWNER}) > 0


def test_caller_account_condition_narrows_to_the_account() -> None:
    env = _env([ROOT_STMT, {"Sid": "ViaAccount", "Effect": "Allow", "Principal": {"AWS": "*"},
                            "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*",
                            "Condition": {"StringEquals": {"kms:CallerAccount": EXT}}}])
    result = findings(env)
    (f,) = result.findings
    assert f.principal == PrincipalClass("account", EXT)
    assert not f.public
    assert f.conditions[0].restricting
    assert _assert_covers(result, env, {OWNER}) > 0


def test_source_vpce_is_restricting_and_any_principal_not_public() -> None:
    env = _env([ROOT_STMT, {"Sid": "Vpce", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                            "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}])
    result = findings(env)
    (f,) = result.findings
    assert f.principal.kind == "any" and not f.public
    assert f.example.context.get("aws:sourcevpce") == ("vpce-1a2b3c4d",) or any(
        v == ("vpce-1a2b3c4d",) for k, v in f.example.context.items() if k.lower() == "aws:sourcevpce")
    assert _assert_covers(result, env, {OWNER}) > 0


@pytest.mark.parametrize(("cidr", "public"), [("10.0.0.0/8", False), ("0.0.0.0/0", True),
                                              ("192.168.0.0/16", False), ("2001:db8::/16", True)])
def test_source_ip_width_decides_public(cidr: str, public: bool) -> None:
    env = _env([ROOT_STMT, {"Sid": "Ip", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                            "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": cidr}}}])
    (f,) = findings(env).findings
    assert f.public is public


def test_is_restricting_rules() -> None:
    se = ConditionOperator.STRING_EQUALS
    none = SetQualifier.NONE
    assert is_restricting(se, none, False, "aws:PrincipalOrgID", ["o-abcdefghij"])
    assert not is_restricting(se, none, False, "aws:PrincipalOrgID", ["o-*"])
    assert not is_restricting(se, none, True, "aws:PrincipalOrgID", ["o-abcdefghij"])  # IfExists
    assert not is_restricting(ConditionOperator.STRING_NOT_EQUALS, none, False, "kms:CallerAccount", [EXT])
    assert not is_restricting(se, none, False, "kms:ViaService", ["s3.us-east-1.amazonaws.com"])
    assert not is_restricting(se, SetQualifier.FOR_ALL_VALUES, False, "aws:SourceVpce", ["vpce-1"])
    assert is_restricting(ConditionOperator.ARN_LIKE, none, False, "aws:PrincipalArn",
                          [f"arn:aws:iam::{EXT}:role/*"])
    assert not is_restricting(ConditionOperator.ARN_LIKE, none, False, "aws:PrincipalArn",
                              ["arn:aws:iam::*:role/Admin"])
    assert not is_restricting(ConditionOperator.IP_ADDRESS, none, False, "aws:SourceIp", ["10.0.0.0/7"])


def test_specific_principal_arns_are_separate_findings() -> None:
    env = _env([ROOT_STMT, {"Sid": "Two", "Effect": "Allow",
                            "Principal": {"AWS": [f"arn:aws:iam::{EXT}:role/App", f"arn:aws:iam::{EXT}:user/bob"]},
                            "Action": "kms:Decrypt", "Resource": "*"}])
    result = findings(env)
    assert {f.principal for f in result.findings} == {
        PrincipalClass("arn", f"arn:aws:iam::{EXT}:role/App"), PrincipalClass("arn", f"arn:aws:iam::{EXT}:user/bob")}
    assert result.keys[0].complete is Verdict.PROVED
    assert _assert_covers(result, env, {OWNER}) > 0


def test_deny_removes_access_from_the_findings() -> None:
    env = _env([ROOT_STMT,
                {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt", "kms:Encrypt"],
                 "Resource": "*"},
                {"Sid": "NoDecryptOutside", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt",
                 "Resource": "*", "Condition": {"StringNotEquals": {"kms:CallerAccount": OWNER}}}])
    result = findings(env)
    (f,) = result.findings
    assert f.actions == ("kms:Encrypt",) and f.public
    assert _assert_covers(result, env, {OWNER}) > 0


def test_services_are_reported_only_when_asked() -> None:
    stmts = [ROOT_STMT, {"Sid": "Trail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                         "Action": "kms:GenerateDataKey*", "Resource": "*"}]
    assert findings(_env(stmts)).findings == ()
    with_services = findings(_env(stmts), include_services=True).findings
    assert {f.principal for f in with_services} == {PrincipalClass("service", "cloudtrail.amazonaws.com")}


def test_unsupported_construct_gives_unknown_completeness() -> None:
    env = _env([ROOT_STMT, {"Sid": "Var", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                            "Resource": "*", "Condition": {"DateLessThan": {"aws:userid": "2020-01-01"}}}])
    result = findings(env)
    assert result.keys[0].complete is Verdict.UNKNOWN and "unsupported" in (result.keys[0].reason or "")
    assert exit_status(result) == 3


def test_parse_zone_rejects_garbage() -> None:
    assert parse_zone([f"{OWNER},o-abcdefghij"]) == (OWNER, "o-abcdefghij")
    with pytest.raises(InputError):
        parse_zone(["12345"])


def test_guess_owner_and_wrapper() -> None:
    doc = _policy(SEED["Statement"])
    assert guess_owner(doc) == OWNER  # type: ignore[arg-type]
    env = key_policy_environment(doc)  # type: ignore[arg-type]
    assert env.keys[0].account == OWNER and env.accounts == ()


def test_renderings() -> None:
    env = Environment(keys=(Key(KEY, _policy(SEED["Statement"])),))  # type: ignore[arg-type]
    result = findings(env)
    text = render("text", result)
    assert "account 444455556666 can" in text and "complete (PROVED)" in text
    doc = json.loads(render("json", result))
    assert doc["keys"][0]["complete"] == "PROVED" and len(doc["keys"][0]["findings"]) == 2
    sarif = valid_sarif(render("sarif", result))
    assert sarif["version"] == "2.1.0" and len(sarif["runs"][0]["results"]) == 2
    assert sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] > 1


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_cli_findings_exit_statuses(tmp_path: Path) -> None:
    p = tmp_path / "key.json"
    p.write_text(json.dumps(SEED, indent=2))
    code, out, _ = _run("findings", str(p), "--format", "json")
    assert code == 1 and len(json.loads(out)["keys"][0]["findings"]) == 2
    code, out, _ = _run("findings", str(p), "--zone-of-trust", OWNER, EXT)
    assert code == 0 and "0 finding(s)" in out
    code, _, err = _run("findings", str(p), "--zone-of-trust", "nope")
    assert code == 2 and "zone of trust" in err
    code, _, _ = _run("findings", str(tmp_path / "missing.json"))
    assert code == 2


def test_organization_condition_on_a_policy_alone_gives_an_organization_class() -> None:
    org = "o-abcdefghij"
    doc = _policy([ROOT_STMT, {"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                               "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}}])
    env = key_policy_environment(doc, KEY)  # type: ignore[arg-type]
    (member,) = env.accounts
    assert member.organization == org and not member.iam_known
    result = findings(env)
    (f,) = result.findings
    assert f.principal == PrincipalClass("organization", org) and not f.public
    assert in_class(f.principal, f.example.principal, env)
    assert result.keys[0].complete is Verdict.PROVED
    # trusting the organization leaves nothing
    assert findings(env, [OWNER, org]).findings == ()
    # a manifest without the organization's accounts: an undeclared account may be in the organization
    # (domain.py: undeclared organizations are open), so the finding stays, assumed in the example
    (g,) = findings(Environment(keys=env.keys)).findings
    assert g.principal == PrincipalClass("organization", org) and g.example.assumed.get("org") == org


def test_several_keys_in_one_environment() -> None:
    other = KEY.replace("1234abcd", "5678abcd")
    env = Environment(keys=(Key(KEY, _policy(SEED["Statement"])),  # type: ignore[arg-type]
                            Key(other, _policy([ROOT_STMT]))))  # type: ignore[arg-type]
    result = findings(env)
    assert [len(k.findings) for k in result.keys] == [2, 0]
    assert all(k.complete is Verdict.PROVED for k in result.keys)
    assert all(f.example.resource == KEY for f in result.findings)


# ---- random key policies (tests/strategies.py) ----------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests import strategies  # noqa: E402


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(strategies.policy_documents(PolicyKind.KEY_POLICY))
def test_random_policies_findings_cover_every_allowed_external_request(doc: object) -> None:
    """For random key policies: PROVED complete findings cover every external request the evaluator allows
    among the root users and role sessions of the accounts the policy names (and of an unknown account)."""
    import re

    env = key_policy_environment(doc, KEY)  # type: ignore[arg-type]
    result = findings(env)
    (k,) = result.keys
    for f in k.findings:
        assert replay(env, f.example)[0].decision.allowed
    if k.complete is not Verdict.PROVED:
        assert k.reason
        return
    text = doc.source.text if doc.source else ""  # type: ignore[attr-defined]
    accounts = [*sorted(set(re.findall(r"(?<!\d)\d{12}(?!\d)", text)) - {OWNER})[:3], "999999999999"]
    for acct in accounts:
        for p in (f"arn:aws:iam::{acct}:root", f"arn:aws:sts::{acct}:assumed-role/Example/s"):
            for a in key_actions():
                r = Request(p, a, KEY)
                ev, _ = replay(env, r)
                if ev.decision.allowed:
                    assert any(in_class(f.principal, p, env) and a in f.actions for f in k.findings), r


def test_deny_outside_organization_perimeter() -> None:
    """`Principal: *` allowed, and a Deny for callers outside the organization: the access is the
    organization's (not public), and an account of no organization gets nothing."""
    org = "o-abcdefghij"
    doc = _policy([ROOT_STMT,
                   {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
                   {"Sid": "Perimeter", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": org}}}])
    env = key_policy_environment(doc, KEY)  # type: ignore[arg-type]
    result = findings(env)
    (f,) = result.findings
    assert f.principal == PrincipalClass("organization", org) and not f.any_verified
    assert f.public is False
    assert not replay(env, Request("arn:aws:iam::999999999999:root", "kms:Decrypt", KEY))[0].decision.allowed


def test_public_is_decided_on_the_whole_decision_not_the_allow_statement() -> None:
    """`Principal: *` with a Deny for requests outside one VPC endpoint: the allow statement has no
    restricting condition, but every allowed request carries the fixed aws:SourceVpce value: not public."""
    env = _env([ROOT_STMT,
                {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
                {"Sid": "OnlyVpce", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                 "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}])
    (f,) = findings(env).findings
    assert f.principal.kind == "any" and f.any_verified and not f.public and f.public_example is None
    open_env = _env([ROOT_STMT, {"Sid": "Everyone", "Effect": "Allow", "Principal": "*",
                                 "Action": "kms:Decrypt", "Resource": "*"}])
    (g,) = findings(open_env).findings
    assert g.public and g.public_example is not None
    assert replay(open_env, g.public_example)[0].decision.allowed


@pytest.mark.solver
def test_trust_statement_naming_an_account_and_a_provider() -> None:
    """Found by the corpus sweep (tests/corpus/test_corpus_resources.py, cloud-custodian__cloud-custodian__5.json),
    minimised: the role is reachable from outside by account 111111111111 (sts:AssumeRole) and by the users of the
    provider (sts:AssumeRoleWithWebIdentity), docs/semantics-services.md §T.13; two findings, proved complete."""
    from reasoner.semantics.environment import Principal, PrincipalKind

    trust = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "111111111111", "Federated": "accounts.google.com"},
        "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]}]}), file="trust.json", kind=PolicyKind.TRUST)
    role = Principal("arn:aws:iam::111122223333:role/R", PrincipalKind.ROLE, trust_policy=trust)
    result = findings(Environment(principals=(role,), accounts=(Account("111122223333"),)))
    (k,) = result.keys
    assert k.complete is Verdict.PROVED
    assert sorted((f.principal.kind, f.actions) for f in k.findings) == [
        ("account", ("sts:AssumeRole",)), ("federated", ("sts:AssumeRoleWithWebIdentity",))]
