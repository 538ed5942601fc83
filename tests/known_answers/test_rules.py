"""Evaluator rules outside the decision table: derived context (semantics §5), input errors, match kinds
(§2.3, §4.2), reasons with spans, and the per-node API that encode.py mirrors."""

from __future__ import annotations

import json

import pytest

from reasoner.errors import InputError, UnsupportedFeatureError
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics.environment import Account, Environment, Key, Organization, Principal, PrincipalKind, Session
from reasoner.semantics.evaluate import (
    MatchKind,
    derive_context,
    evaluate,
    evaluate_condition,
    evaluate_identity,
    evaluate_key_policy,
    match_action,
    match_principal,
    resolve_caller,
    resolve_target,
)
from reasoner.semantics.request import Decision, Request
from tests.known_answers.harness import DEFAULT_KP_STMT, K, O, allow, deny, doc, role, root, session, user


def kp(*stmts):  # type: ignore[no-untyped-def]
    return parse_policy(json.dumps(doc(*stmts)), file="kp.json", kind=PolicyKind.KEY_POLICY)


def iam(*stmts):  # type: ignore[no-untyped-def]
    return parse_policy(json.dumps(doc(*stmts), indent=1), file="iam.json", kind=PolicyKind.IDENTITY)


ENV = Environment(
    keys=(Key(K, kp(DEFAULT_KP_STMT), aliases=("alias/a",), tags={"Team": "red"}),),
    accounts=(Account(O, "o-abcdefghij", ("r-ab12", "ou-ab12-x")),),
    principals=(
        Principal(
            role(O),
            PrincipalKind.ROLE,
            (iam(allow("kms:Decrypt", K)),),
            tags={"dept": "it"},
            unique_id="AROAEXAMPLE",
        ),
        Principal(user(O), PrincipalKind.USER, unique_id="AIDAEXAMPLE"),
    ),
    sessions=(Session(session(O), role(O), tags={"dept": "ops"}),),
    organizations=(Organization("o-abcdefghij", "r-ab12", "999999999999"),),
)


def test_derived_context_of_a_role_session() -> None:
    e = evaluate(ENV, Request(session(O), "kms:Decrypt", K))
    assert e.decision is Decision.ALLOW
    c = e.context
    assert c["aws:PrincipalArn"] == (role(O),)
    assert c["aws:PrincipalAccount"] == (O,) and c["kms:CallerAccount"] == (O,)
    assert c["aws:PrincipalType"] == ("AssumedRole",)
    assert c["aws:userid"] == ("AROAEXAMPLE:s",)
    assert "aws:username" not in c
    assert c["aws:PrincipalOrgID"] == ("o-abcdefghij",)
    assert c["aws:PrincipalOrgPaths"] == ("o-abcdefghij/r-ab12/ou-ab12-x/",)
    assert c["aws:PrincipalTag/dept"] == ("ops",)  # session tags override role tags
    assert c["aws:ResourceAccount"] == (O,) and c["aws:RequestedRegion"] == ("us-east-1",)
    assert c["kms:ResourceAliases"] == ("alias/a",) and c["aws:ResourceTag/Team"] == ("red",)
    assert c["aws:SecureTransport"] == ("true",) and c["aws:PrincipalIsAWSService"] == ("false",)


def test_derived_context_of_a_user_and_root() -> None:
    u = evaluate(ENV, Request(user(O), "kms:Decrypt", K)).context
    assert (
        u["aws:username"] == ("U",)
        and u["aws:userid"] == ("AIDAEXAMPLE",)
        and u["aws:PrincipalType"] == ("User",)
    )
    r = evaluate(ENV, Request(root(O), "kms:Decrypt", K)).context
    assert (
        r["aws:userid"] == (O,)
        and r["aws:PrincipalType"] == ("Account",)
        and r["aws:PrincipalArn"] == (root(O),)
    )


def test_service_principal_context() -> None:
    c = evaluate(ENV, Request("cloudtrail.amazonaws.com", "kms:GenerateDataKey", K)).context
    assert c["aws:PrincipalIsAWSService"] == ("true",) and c["aws:PrincipalServiceName"] == (
        "cloudtrail.amazonaws.com",
    )
    assert "aws:PrincipalAccount" not in c and "aws:PrincipalOrgID" not in c


def test_keys_that_never_exist_are_dropped() -> None:
    # §5.1: kms:GrantOperations exists only for CreateGrant (catalogue)
    c = evaluate(ENV, Request(user(O), "kms:Decrypt", K, {"kms:GrantOperations": ("Decrypt",)})).context
    assert "kms:GrantOperations" not in c
    c2 = evaluate(ENV, Request(user(O), "kms:CreateGrant", K, {"kms:GrantOperations": ("Decrypt",)})).context
    assert c2["kms:GrantOperations"] == ("Decrypt",)


@pytest.mark.parametrize(
    "key",
    [
        "aws:PrincipalArn",
        "AWS:PRINCIPALACCOUNT",
        "kms:CallerAccount",
        "aws:PrincipalTag/x",
        "aws:ResourceTag/Team",
        "kms:ResourceAliases",
        "aws:userid",
    ],
)
def test_derived_keys_are_rejected(key: str) -> None:
    with pytest.raises(InputError, match="derived"):
        evaluate(ENV, Request(user(O), "kms:Decrypt", K, {key: ("x",)}))


def test_single_valued_key_with_two_values_is_rejected() -> None:
    with pytest.raises(InputError, match="single-valued"):
        evaluate(ENV, Request(user(O), "kms:Decrypt", K, {"kms:ViaService": ("a", "b")}))


def test_duplicate_key_in_two_cases_is_rejected() -> None:
    with pytest.raises(InputError, match="twice"):
        evaluate(
            ENV, Request(user(O), "kms:Decrypt", K, {"kms:ViaService": ("a",), "KMS:VIASERVICE": ("a",)})
        )


def test_encryption_context_keys_must_agree() -> None:
    with pytest.raises(InputError, match="EncryptionContextKeys"):
        evaluate(
            ENV,
            Request(
                user(O),
                "kms:Decrypt",
                K,
                {"kms:EncryptionContext:a": ("1",), "kms:EncryptionContextKeys": ("b",)},
            ),
        )


@pytest.mark.parametrize(
    ("principal", "action", "resource", "match"),
    [
        (role(O), "kms:Decrypt", K, "is a role"),
        ("not a principal", "kms:Decrypt", K, "not a principal"),
        (user(O), "kms:Decrypt", "arn:aws:kms:us-east-1:111111111111:key/other", "not in the environment"),
        (user(O), "kms:Decrypt", "*", "acts on a key"),
        (user(O), "kms:ListKeys", K, "has no resource"),
        (user(O), "kms:Decrypt", "arn:aws:kms:us-east-1:111111111111:alias/none", "does not name a key"),
        (user(O), "kms:ReEncrypt", K, "not an action of the AWS catalogue"),
        (user(O), "kms:NoSuchThing", K, "not an action"),
    ],
)
def test_request_input_errors(principal: str, action: str, resource: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        evaluate(ENV, Request(principal, action, resource))


def test_allow_not_principal_is_unsupported() -> None:
    # validation rejects Allow+NotPrincipal; parse without validation to reach the evaluator
    from reasoner.front.parse import parse_document

    text = json.dumps(
        doc(
            DEFAULT_KP_STMT,
            {"Effect": "Allow", "NotPrincipal": {"AWS": root(O)}, "Action": "kms:*", "Resource": "*"},
        )
    )
    parsed, _ = parse_document(text, file="kp.json", kind=PolicyKind.KEY_POLICY)
    assert parsed is not None
    env = Environment(keys=(Key(K, parsed),))
    with pytest.raises(UnsupportedFeatureError) as info:
        evaluate(env, Request(user(O), "kms:Decrypt", K))
    assert info.value.span is not None and info.value.span.file == "kp.json"  # §6.29


def test_match_kinds() -> None:
    options = ENV.options
    sess = resolve_caller(ENV, session(O))
    policy = kp(allow("kms:*", principal={"AWS": [role(O)]}))
    assert match_principal(policy.statements[0].principal, sess, options) is MatchKind.ROLE_OF_SESSION
    policy = kp(allow("kms:*", principal={"AWS": [role(O), session(O)]}))
    assert match_principal(policy.statements[0].principal, sess, options) is MatchKind.DIRECT
    policy = kp(allow("kms:*", principal={"AWS": O}))
    assert match_principal(policy.statements[0].principal, sess, options) is MatchKind.ACCOUNT
    policy = kp(allow("kms:*", principal="*"))
    assert match_principal(policy.statements[0].principal, sess, options) is MatchKind.WILDCARD
    policy = kp(allow("kms:*", principal={"Service": "CloudTrail.amazonaws.com"}))
    svc = resolve_caller(ENV, "cloudtrail.amazonaws.com")
    assert match_principal(policy.statements[0].principal, svc, options) is MatchKind.SERVICE
    assert match_principal(policy.statements[0].principal, sess, options) is MatchKind.NONE


def test_per_node_api() -> None:
    pol = iam(allow(["kms:Get*"], "*", cond={"StringLike": {"aws:RequestTag/t": "a*"}}))
    st = pol.statements[0]
    assert match_action(st.action, "kms:GetPublicKey") and not match_action(st.action, "kms:Decrypt")
    cond = st.condition.conditions[0]  # type: ignore[union-attr]
    assert evaluate_condition(cond, {"aws:requesttag/t": ("abc",)}, True, ENV.options)
    assert not evaluate_condition(cond, {}, True, ENV.options)
    caller = resolve_caller(ENV, session(O))
    req = Request(session(O), "kms:Decrypt", K)
    ctx = derive_context(ENV, req, caller, resolve_target(ENV, req))
    assert ctx["aws:principalarn"] == (role(O),)
    kp_result = evaluate_key_policy(ENV.keys[0], caller, req, ctx, ENV.options)
    assert [h.match for h in kp_result.allows] == [MatchKind.ACCOUNT]
    ident = evaluate_identity(caller, req, ctx, ENV.options)
    assert ident.allowed and ident.identity.allows[0].statement.index == 0


def test_reasons_carry_spans_of_both_sides() -> None:
    e = evaluate(ENV, Request(session(O), "kms:Decrypt", K))
    files = {r.span.file for r in e.reasons if r.span}
    assert files == {"kp.json", "iam.json"}
    env = Environment(keys=(Key(K, kp(DEFAULT_KP_STMT, deny("kms:Decrypt", principal="*"))),))
    d = evaluate(env, Request(root(O), "kms:Decrypt", K))
    assert d.decision is Decision.EXPLICIT_DENY
    assert [(r.role, r.statement) for r in d.reasons] == [("deny", 1)]


def test_options_argument_overrides_environment() -> None:
    from reasoner.semantics.environment import Options

    pol = kp(allow("kms:Decrypt", K, principal={"AWS": user(O)}))
    env = Environment(keys=(Key(K, pol),))
    assert evaluate(env, Request(user(O), "kms:Decrypt", K)).decision is Decision.ALLOW
    off = Options(key_policy_own_arn_matches=False)
    assert evaluate(env, Request(user(O), "kms:Decrypt", K), off).decision is Decision.IMPLICIT_DENY
