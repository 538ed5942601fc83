"""Claims of the AWS KMS developer guide (corpus `kms-docs`, index.json field `claim`), encoded as decisions.

Each test loads the guide's policy from the corpus, places it (key policy or IAM policy) in a small
environment and checks the decisions the claim states. Where our answer differs from the claim, the test
says which is right and why (semantics §-references). Claims about policies we do not evaluate (VPC endpoint
policies, trust policies, console behaviour, other services' actions) are not encoded.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reasoner.front.ast import PolicyDocument, PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics.environment import Environment, Grant, Key, Options, Principal, PrincipalKind, Session
from reasoner.semantics.evaluate import evaluate
from reasoner.semantics.request import Request

ALICE_KEY = (
    "arn:aws:kms:us-west-2:712816755609:key/1234abcd-12ab-34cd-56ef-1234567890ab"  # alice's own account
)
OWN = "111122223333"
EXT = "444455556666"
KEY = f"arn:aws:kms:us-west-2:{OWN}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DEFAULT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Enable IAM policies",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OWN}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}


@pytest.fixture(scope="module")
def docs(corpus_dir: Path) -> Path:
    d = corpus_dir / "kms-docs"
    if not (d / "index.json").is_file():
        pytest.skip("kms-docs corpus not present")
    return d


def claim(docs: Path, name: str) -> str:
    entry = next(e for e in json.loads((docs / "index.json").read_text()) if e.get("file") == name)
    return str(entry["claim"])


def load(docs: Path, name: str, kind: PolicyKind, *extra: dict[str, Any]) -> PolicyDocument:
    """The guide's policy as `kind`; a bare statement or statement list is wrapped in a 2012-10-17 policy,
    `extra` statements are appended (e.g. the default key-policy statement)."""
    value = json.loads((docs / name).read_text())
    if isinstance(value, dict) and "Statement" in value:
        stmts = value["Statement"] if isinstance(value["Statement"], list) else [value["Statement"]]
        doc = {**value, "Statement": [*stmts, *extra]}
    else:
        doc = {
            "Version": "2012-10-17",
            "Statement": [*(value if isinstance(value, list) else [value]), *extra],
        }
    return parse_policy(json.dumps(doc, indent=2), file=f"kms-docs/{name}", kind=kind)


def default_kp() -> PolicyDocument:
    return parse_policy(json.dumps(DEFAULT), file="default-key-policy.json", kind=PolicyKind.KEY_POLICY)


def user(name: str, acct: str = OWN) -> str:
    return f"arn:aws:iam::{acct}:user/{name}"


def role(name: str, acct: str = OWN) -> str:
    return f"arn:aws:iam::{acct}:role/{name}"


def sess(name: str, acct: str = OWN) -> str:
    return f"arn:aws:sts::{acct}:assumed-role/{name}/s"


def env(
    kp: PolicyDocument | None = None,
    iam: dict[str, PolicyDocument] | None = None,
    *,
    key: dict[str, Any] | None = None,
    sessions: tuple[Session, ...] = (),
    arn: str = KEY,
) -> Environment:
    principals = tuple(
        Principal(
            p_arn,
            PrincipalKind.USER if ":user/" in p_arn else PrincipalKind.ROLE,
            (p,) if p is not None else (),
        )
        for p_arn, p in (iam or {}).items()
    )
    return Environment(
        keys=(Key(arn, kp or default_kp(), **(key or {})),), principals=principals, sessions=sessions
    )


def decide(e: Environment, principal: str, action: str, resource: str = KEY, **context: Any) -> str:
    ctx = {
        k.replace("__", ":").replace("_SLASH_", "/"): tuple(v) if isinstance(v, list) else (v,)
        for k, v in context.items()
    }
    return evaluate(e, Request(principal, action, resource, ctx)).decision.value


def ctx(**pairs: str) -> dict[str, str]:
    """Encryption-context pairs as request context keys."""
    return {f"kms:EncryptionContext:{k}": v for k, v in pairs.items()}


def decide_ctx(
    e: Environment, principal: str, action: str, context: dict[str, Any], resource: str = KEY
) -> str:
    c = {k: tuple(v) if isinstance(v, list) else (v,) for k, v in context.items()}
    return evaluate(e, Request(principal, action, resource, c)).decision.value


# ---- ABAC and aliases ------------------------------------------------------------------------------------


def test_abac_tag_purpose_test(docs: Path) -> None:
    assert "Purpose=Test" in claim(docs, "abac__1.json")
    iam = load(docs, "abac__1.json", PolicyKind.IDENTITY)
    tagged = env(iam={user("dev"): iam}, key={"tags": {"Purpose": "Test"}})
    untagged = env(iam={user("dev"): iam}, key={"tags": {"Purpose": "Prod"}})
    for action in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"):
        assert decide(tagged, user("dev"), action) == "ALLOW"
        assert decide(untagged, user("dev"), action) == "IMPLICIT_DENY"
    assert decide(tagged, user("dev"), "kms:ScheduleKeyDeletion") == "IMPLICIT_DENY"


def test_abac_aliases_any_of(docs: Path) -> None:
    assert "at least one of the aliases" in claim(docs, "abac__3.json")
    iam = load(docs, "abac__3.json", PolicyKind.IDENTITY)
    with_alias = env(iam={user("dev"): iam}, key={"aliases": ("alias/ProjectAlpha_Dev", "alias/other")})
    without = env(iam={user("dev"): iam}, key={"aliases": ("alias/ProjectBeta",)})
    assert decide(with_alias, user("dev"), "kms:Decrypt") == "ALLOW"
    assert decide(with_alias, user("dev"), "kms:ListGrants") == "ALLOW"
    assert decide(without, user("dev"), "kms:Decrypt") == "IMPLICIT_DENY"


def test_list_actions_need_resource_star(docs: Path) -> None:
    assert 'Resource must be "*"' in claim(docs, "alias-access__3.json")
    e = env(iam={user("dev"): load(docs, "alias-access__3.json", PolicyKind.IDENTITY)})
    assert decide(e, user("dev"), "kms:ListKeys", "*") == "ALLOW"
    assert decide(e, user("dev"), "kms:ListAliases", "*") == "ALLOW"


def test_alias_side_of_create_alias(docs: Path) -> None:
    e = env(iam={user("admin"): load(docs, "alias-access__1.json", PolicyKind.IDENTITY)})
    alias = f"arn:aws:kms:us-west-2:{OWN}:alias/test-key"
    assert decide(e, user("admin"), "kms:CreateAlias", alias) == "ALLOW"
    assert (
        decide(e, user("admin"), "kms:CreateAlias", f"arn:aws:kms:us-west-2:{OWN}:alias/other")
        == "IMPLICIT_DENY"
    )
    # "permission on the key itself is needed separately": the key side is decided on the key
    assert decide(e, user("admin"), "kms:CreateAlias", KEY) == "IMPLICIT_DENY"


def test_key_side_of_create_alias(docs: Path) -> None:
    kp = load(docs, "alias-access__2.json", PolicyKind.KEY_POLICY)
    e = env(kp)
    assert decide(e, user("KMSAdminUser"), "kms:CreateAlias", KEY) == "ALLOW"
    assert decide(e, user("KMSAdminUser"), "kms:DeleteAlias", KEY) == "IMPLICIT_DENY"


def test_request_alias_pattern(docs: Path) -> None:
    assert "key ID, key ARN or another alias is refused" in claim(docs, "alias-authorization__1.json")
    kp = load(docs, "alias-authorization__1.json", PolicyKind.KEY_POLICY)
    e = env(kp, key={"aliases": ("alias/project-alpha", "alias/beta")})
    dev = sess("alpha-developer")
    assert decide(e, dev, "kms:Decrypt", f"arn:aws:kms:us-west-2:{OWN}:alias/project-alpha") == "ALLOW"
    assert decide_ctx(e, dev, "kms:GenerateDataKey", {"kms:RequestAlias": "alias/project-alpha"}) == "ALLOW"
    assert decide(e, dev, "kms:Decrypt") == "IMPLICIT_DENY"
    assert decide(e, dev, "kms:Decrypt", f"arn:aws:kms:us-west-2:{OWN}:alias/beta") == "IMPLICIT_DENY"


def test_request_alias_arn_form(docs: Path) -> None:
    # the claim: the alias ARN form also satisfies kms:RequestAlias = alias name (§5.1: value is the name)
    assert "alias ARN form" in claim(docs, "conditions-kms__39.json")
    kp = load(docs, "conditions-kms__39.json", PolicyKind.KEY_POLICY)
    e = env(kp, key={"aliases": ("alias/finance-key",)})
    assert (
        decide(e, sess("developer"), "kms:GenerateDataKey", f"arn:aws:kms:us-west-2:{OWN}:alias/finance-key")
        == "ALLOW"
    )
    assert decide(e, sess("developer"), "kms:GenerateDataKey") == "IMPLICIT_DENY"


def test_resource_aliases_all_and_any(docs: Path) -> None:
    assert "keys with no aliases would qualify" in claim(docs, "conditions-kms__41.json")
    iam = load(docs, "conditions-kms__41.json", PolicyKind.IDENTITY)
    for aliases, want in (
        ((), "IMPLICIT_DENY"),
        (("alias/TestKey",), "ALLOW"),
        (("alias/TestKey", "alias/prod"), "IMPLICIT_DENY"),
    ):
        e = env(iam={user("ops"): iam}, key={"aliases": aliases})
        assert decide(e, user("ops"), "kms:DisableKey") == want, aliases


# ---- key ARNs in IAM policies ----------------------------------------------------------------------------


def test_listed_keys_only(docs: Path) -> None:
    iam = load(docs, "cmks-in-iam-policies__1.json", PolicyKind.IDENTITY)
    listed = [v.text for v in iam.statements[0].resource.patterns]  # type: ignore[union-attr]
    other = f"arn:aws:kms:us-west-2:{OWN}:key/ffffffff-ffff-ffff-ffff-ffffffffffff"
    for arn in (*listed, other):
        e = Environment(
            keys=(Key(arn, default_kp()),), principals=(Principal(user("u"), PrincipalKind.USER, (iam,)),)
        )
        assert decide(e, user("u"), "kms:Decrypt", arn) == ("ALLOW" if arn in listed else "IMPLICIT_DENY")


def test_deny_overrides(docs: Path) -> None:
    iam = load(docs, "cmks-in-iam-policies__3.json", PolicyKind.IDENTITY)
    allow_all = parse_policy(
        json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
        ),
        kind=PolicyKind.IDENTITY,
    )
    e = Environment(
        keys=(Key(KEY, default_kp()),),
        principals=(Principal(user("u"), PrincipalKind.USER, (iam, allow_all)),),
    )
    assert decide(e, user("u"), "kms:ScheduleKeyDeletion") == "EXPLICIT_DENY"
    assert decide(e, user("u"), "kms:CreateKey", "*") == "EXPLICIT_DENY"
    assert decide(e, user("u"), "kms:Decrypt") == "ALLOW"
    seven = load(docs, "customer-managed-policies__7.json", PolicyKind.IDENTITY)
    e7 = env(iam={user("u"): seven})
    assert decide(e7, user("u"), "kms:DisableKey") == "EXPLICIT_DENY"


# ---- encryption context ---------------------------------------------------------------------------------


def test_encryption_context_required(docs: Path) -> None:
    kp = load(docs, "concepts__1.json", PolicyKind.KEY_POLICY)
    e = env(kp)
    app = sess("RoleForExampleApp")
    assert decide_ctx(e, app, "kms:Decrypt", ctx(AppName="ExampleApp")) == "ALLOW"
    assert decide_ctx(e, app, "kms:Decrypt", ctx(AppName="Other")) == "IMPLICIT_DENY"
    assert decide_ctx(e, app, "kms:Decrypt", {}) == "IMPLICIT_DENY"


def test_context_key_case_insensitive_value_sensitive(docs: Path) -> None:
    assert "case-insensitively" in claim(docs, "conditions-kms__7.json")
    e = env(load(docs, "conditions-kms__7.json", PolicyKind.KEY_POLICY))
    app = sess("RoleForExampleApp")
    assert decide_ctx(e, app, "kms:GenerateDataKey", ctx(appname="ExampleApp", Other="x")) == "ALLOW"
    assert decide_ctx(e, app, "kms:GenerateDataKey", ctx(AppName="exampleapp")) == "IMPLICIT_DENY"
    e14 = env(load(docs, "conditions-kms__14.json", PolicyKind.KEY_POLICY))
    assert decide_ctx(e14, app, "kms:Decrypt", ctx(APPNAME="ExampleApp")) == "ALLOW"


def test_exact_context(docs: Path) -> None:
    assert "no other context keys" in claim(docs, "conditions-kms__8.json")
    e = env(load(docs, "conditions-kms__8.json", PolicyKind.KEY_POLICY), arn=ALICE_KEY)
    alice = "arn:aws:iam::712816755609:user/alice"
    k = ALICE_KEY
    assert decide_ctx(e, alice, "kms:GenerateDataKey", ctx(AppName="ExampleApp"), k) == "ALLOW"
    assert (
        decide_ctx(e, alice, "kms:GenerateDataKey", ctx(AppName="ExampleApp", Extra="x"), k)
        == "IMPLICIT_DENY"
    )
    assert (
        decide_ctx(e, alice, "kms:GenerateDataKey", {}, k) == "IMPLICIT_DENY"
    )  # ForAllValues alone would pass


def test_deny_on_context_value(docs: Path) -> None:
    e = env(
        load(docs, "conditions-kms__9.json", PolicyKind.KEY_POLICY, DEFAULT["Statement"][0]),
        iam={
            role("RoleForExampleApp"): parse_policy(
                json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
                    }
                ),
                kind=PolicyKind.IDENTITY,
            )
        },
    )
    app = sess("RoleForExampleApp")
    assert decide_ctx(e, app, "kms:GenerateDataKey", ctx(Stage="Restricted")) == "EXPLICIT_DENY"
    assert decide_ctx(e, app, "kms:GenerateDataKey", ctx(Stage="Test")) == "ALLOW"
    e13 = env(
        load(docs, "conditions-kms__13.json", PolicyKind.KEY_POLICY, DEFAULT["Statement"][0]),
        iam={
            role("RoleForExampleApp"): parse_policy(
                json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
                    }
                ),
                kind=PolicyKind.IDENTITY,
            )
        },
    )
    assert decide_ctx(e13, app, "kms:GenerateDataKey", ctx(Stage="Production")) == "EXPLICIT_DENY"
    assert decide_ctx(e13, app, "kms:GenerateDataKey", ctx(Stage="Restricted")) == "EXPLICIT_DENY"
    assert decide_ctx(e13, app, "kms:GenerateDataKey", ctx(Stage="Dev")) == "ALLOW"


def test_context_and_or(docs: Path) -> None:
    app = sess("RoleForExampleApp")
    both = env(load(docs, "conditions-kms__10.json", PolicyKind.KEY_POLICY))
    assert decide_ctx(both, app, "kms:Decrypt", ctx(Department="IT", Project="Alpha", X="y")) == "ALLOW"
    assert decide_ctx(both, app, "kms:Decrypt", ctx(Department="IT")) == "IMPLICIT_DENY"
    either = env(load(docs, "conditions-kms__11.json", PolicyKind.KEY_POLICY))
    assert decide_ctx(either, app, "kms:GenerateDataKey", ctx(Department="IT")) == "ALLOW"
    assert decide_ctx(either, app, "kms:GenerateDataKey", ctx(Project="Alpha")) == "ALLOW"
    assert decide_ctx(either, app, "kms:GenerateDataKey", ctx(Project="Beta")) == "IMPLICIT_DENY"
    exact = env(load(docs, "conditions-kms__12.json", PolicyKind.KEY_POLICY), arn=ALICE_KEY)
    alice = "arn:aws:iam::712816755609:user/alice"
    pairs = ctx(Department="IT", Project="Alpha")
    assert decide_ctx(exact, alice, "kms:GenerateDataKey", pairs, ALICE_KEY) == "ALLOW"
    assert (
        decide_ctx(exact, alice, "kms:GenerateDataKey", {**pairs, **ctx(X="1")}, ALICE_KEY) == "IMPLICIT_DENY"
    )


def test_context_keys_case_sensitive_via_keys_list(docs: Path) -> None:
    app = sess("RoleForExampleApp")
    e = env(load(docs, "conditions-kms__15.json", PolicyKind.KEY_POLICY))
    assert decide_ctx(e, app, "kms:GenerateDataKey", ctx(AppName="x")) == "ALLOW"
    assert decide_ctx(e, app, "kms:GenerateDataKey", ctx(appname="x")) == "IMPLICIT_DENY"
    e16 = env(load(docs, "conditions-kms__16.json", PolicyKind.KEY_POLICY))
    assert decide_ctx(e16, app, "kms:GenerateDataKey", ctx(AppName="ExampleApp")) == "ALLOW"
    assert decide_ctx(e16, app, "kms:GenerateDataKey", ctx(appName="ExampleApp")) == "IMPLICIT_DENY"


def test_username_variable_in_context_value(docs: Path) -> None:
    """The guide's example names role TestTeam but explains it with users bob and alice. A role session has
    no aws:username (semantics §5.2, IAM principal-variable table: present for IAM users only), so for the
    role's sessions the variable never resolves and the statement never applies. We keep our answer: the
    example only works for IAM users; we check it with a user principal as well."""
    kp = load(docs, "conditions-kms__17.json", PolicyKind.KEY_POLICY)
    e = env(kp)
    assert decide_ctx(e, sess("TestTeam"), "kms:Encrypt", ctx(user="s")) == "IMPLICIT_DENY"
    statement = json.loads((docs / "conditions-kms__17.json").read_text())
    statement["Principal"] = {"AWS": user("bob")}
    bob_kp = parse_policy(
        json.dumps({"Version": "2012-10-17", "Statement": [statement]}), kind=PolicyKind.KEY_POLICY
    )
    assert decide_ctx(env(bob_kp), user("bob"), "kms:Encrypt", ctx(user="bob")) == "ALLOW"
    assert decide_ctx(env(bob_kp), user("bob"), "kms:Encrypt", ctx(user="alice")) == "IMPLICIT_DENY"


def test_non_empty_context(docs: Path) -> None:
    e = env(load(docs, "conditions-kms__20.json", PolicyKind.KEY_POLICY))
    app = sess("RoleForExampleApp")
    assert decide_ctx(e, app, "kms:Encrypt", ctx(any="thing")) == "ALLOW"
    assert decide_ctx(e, app, "kms:Encrypt", {}) == "IMPLICIT_DENY"


# ---- algorithms, key properties, request parameters ------------------------------------------------------


def test_algorithm_deny_overrides_grants(docs: Path) -> None:
    assert "overrides every Allow" in claim(docs, "conditions-kms__5.json")
    kp = load(docs, "conditions-kms__5.json", PolicyKind.KEY_POLICY, DEFAULT["Statement"][0])
    grant = Grant(role("ExampleRole"), frozenset({"kms:Encrypt"}))
    e = env(kp, key={"grants": (grant,), "key_spec": "RSA_2048"})
    r = sess("ExampleRole")
    assert decide_ctx(e, r, "kms:Encrypt", {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_1"}) == "EXPLICIT_DENY"
    assert decide_ctx(e, r, "kms:Encrypt", {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}) == "ALLOW"


def test_symmetric_only_leaves_generate_data_key(docs: Path) -> None:
    """The claim: GenerateDataKey* are unaffected because they always use SYMMETRIC_DEFAULT. This holds only
    if kms:EncryptionAlgorithm is present with that value on those requests (a StringNotEquals Deny on an
    absent key would deny, §3.2); the evaluator therefore fills in the parameter's default for symmetric
    keys (semantics §5.1: request keys are present even when the parameter is defaulted)."""
    assert "unaffected" in claim(docs, "conditions-kms__6.json")
    deny = load(docs, "conditions-kms__6.json", PolicyKind.IDENTITY)
    allow = parse_policy(
        json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
        ),
        kind=PolicyKind.IDENTITY,
    )
    e = Environment(
        keys=(Key(KEY, default_kp()),), principals=(Principal(user("u"), PrincipalKind.USER, (deny, allow)),)
    )
    assert decide(e, user("u"), "kms:GenerateDataKey") == "ALLOW"
    assert decide(e, user("u"), "kms:Encrypt") == "ALLOW"
    assert (
        decide_ctx(e, user("u"), "kms:Encrypt", {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_1"})
        == "EXPLICIT_DENY"
    )


def test_bypass_lockout_null(docs: Path) -> None:
    """The guide: `Null kms:BypassPolicyLockoutSafetyCheck true` allows PutKeyPolicy only when the request
    does not include the parameter. So the key is absent when the parameter is omitted; semantics §5.1
    lists it as "always (default false)". We follow the guide (the more specific source) and do not fill it
    in."""
    iam = load(docs, "conditions-kms__2.json", PolicyKind.IDENTITY)
    e = env(iam={user("admin"): iam})
    assert decide(e, user("admin"), "kms:PutKeyPolicy") == "ALLOW"
    assert (
        decide_ctx(e, user("admin"), "kms:PutKeyPolicy", {"kms:BypassPolicyLockoutSafetyCheck": "false"})
        == "IMPLICIT_DENY"
    )
    table = replace(e, options=Options(bypass_lockout_key_always_present=True))  # semantics §5.1 reading
    assert decide(table, user("admin"), "kms:PutKeyPolicy") == "IMPLICIT_DENY"
    deny = load(docs, "conditions-kms__1.json", PolicyKind.IDENTITY)
    e1 = Environment(
        keys=(Key(KEY, default_kp()),),
        principals=(Principal(user("admin"), PrincipalKind.USER, (deny, iam)),),
    )
    assert (
        decide_ctx(e1, user("admin"), "kms:PutKeyPolicy", {"kms:BypassPolicyLockoutSafetyCheck": "true"})
        == "EXPLICIT_DENY"
    )


def test_mac_algorithms_or(docs: Path) -> None:
    """The guide claims that listing both algorithms in one condition would require both. IAM documents
    several values of one key as OR (semantics §3.1), so one statement with both values is equivalent to the
    guide's two statements. Our answer follows the IAM rule; the claim is wrong on this point."""
    assert "would require both" in claim(docs, "conditions-kms__33.json")
    kp = load(docs, "conditions-kms__33.json", PolicyKind.KEY_POLICY)
    e = env(kp, key={"key_spec": "HMAC_512", "key_usage": "GENERATE_VERIFY_MAC"})
    testers = sess("testers")
    for alg, want in (
        ("HMAC_SHA_384", "ALLOW"),
        ("HMAC_SHA_512", "ALLOW"),
        ("HMAC_SHA_256", "IMPLICIT_DENY"),
    ):
        assert decide_ctx(e, testers, "kms:GenerateMac", {"kms:MacAlgorithm": alg}) == want
    one = parse_policy(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": role("testers")},
                        "Action": ["kms:GenerateMac"],
                        "Resource": "*",
                        "Condition": {"StringEquals": {"kms:MacAlgorithm": ["HMAC_SHA_384", "HMAC_SHA_512"]}},
                    }
                ],
            }
        ),
        kind=PolicyKind.KEY_POLICY,
    )
    e1 = env(one, key={"key_spec": "HMAC_512", "key_usage": "GENERATE_VERIFY_MAC"})
    assert decide_ctx(e1, testers, "kms:GenerateMac", {"kms:MacAlgorithm": "HMAC_SHA_384"}) == "ALLOW"


def test_key_spec_and_usage(docs: Path) -> None:
    iam = load(docs, "conditions-kms__30.json", PolicyKind.IDENTITY)
    assert decide(env(iam={user("u"): iam}), user("u"), "kms:Decrypt") == "ALLOW"
    assert (
        decide(env(iam={user("u"): iam}, key={"key_spec": "RSA_2048"}), user("u"), "kms:Decrypt")
        == "IMPLICIT_DENY"
    )
    sign = load(docs, "conditions-kms__32.json", PolicyKind.IDENTITY)
    signing = env(iam={user("u"): sign}, key={"key_spec": "ECC_NIST_P256", "key_usage": "SIGN_VERIFY"})
    assert decide(signing, user("u"), "kms:ScheduleKeyDeletion") == "ALLOW"
    assert decide(env(iam={user("u"): sign}), user("u"), "kms:ScheduleKeyDeletion") == "IMPLICIT_DENY"


def test_create_key_conditions(docs: Path) -> None:
    rsa = env(iam={user("u"): load(docs, "conditions-kms__29.json", PolicyKind.IDENTITY)})
    assert decide_ctx(rsa, user("u"), "kms:CreateKey", {"kms:KeySpec": "RSA_4096"}, "*") == "ALLOW"
    assert (
        decide_ctx(rsa, user("u"), "kms:CreateKey", {"kms:KeySpec": "ECC_NIST_P256"}, "*") == "IMPLICIT_DENY"
    )
    single = env(iam={user("u"): load(docs, "conditions-kms__35.json", PolicyKind.IDENTITY)})
    assert decide_ctx(single, user("u"), "kms:CreateKey", {"kms:MultiRegion": "false"}, "*") == "ALLOW"
    assert decide_ctx(single, user("u"), "kms:CreateKey", {"kms:MultiRegion": "true"}, "*") == "IMPLICIT_DENY"


def test_import_key_material(docs: Path) -> None:
    e21 = env(load(docs, "conditions-kms__21.json", PolicyKind.KEY_POLICY), key={"origin": "EXTERNAL"})
    u = user("ExampleUser")
    assert (
        decide_ctx(e21, u, "kms:ImportKeyMaterial", {"kms:ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"})
        == "ALLOW"
    )
    assert decide_ctx(e21, u, "kms:ImportKeyMaterial", {}) == "IMPLICIT_DENY"
    e22 = env(load(docs, "conditions-kms__22.json", PolicyKind.KEY_POLICY), key={"origin": "EXTERNAL"})
    assert decide_ctx(e22, u, "kms:ImportKeyMaterial", {}) == "ALLOW"
    assert (
        decide_ctx(e22, u, "kms:ImportKeyMaterial", {"kms:ExpirationModel": "KEY_MATERIAL_EXPIRES"})
        == "IMPLICIT_DENY"
    )
    e45 = env(load(docs, "conditions-kms__45.json", PolicyKind.KEY_POLICY), key={"origin": "EXTERNAL"})
    assert decide_ctx(e45, u, "kms:ImportKeyMaterial", {"kms:ValidTo": "1546257599"}) == "ALLOW"
    assert decide_ctx(e45, u, "kms:ImportKeyMaterial", {"kms:ValidTo": "1546257600"}) == "IMPLICIT_DENY"


def test_reencrypt_on_same_key(docs: Path) -> None:
    e = env(load(docs, "conditions-kms__38.json", PolicyKind.KEY_POLICY))
    u = user("ExampleUser")
    assert decide_ctx(e, u, "kms:ReEncryptFrom", {"kms:ReEncryptOnSameKey": "true"}) == "ALLOW"
    assert decide_ctx(e, u, "kms:ReEncryptTo", {"kms:ReEncryptOnSameKey": "false"}) == "IMPLICIT_DENY"


# ---- grants -------------------------------------------------------------------------------------------


def test_grant_conditions(docs: Path) -> None:
    u = user("ExampleUser")
    e23 = env(load(docs, "conditions-kms__23.json", PolicyKind.KEY_POLICY))
    assert (
        decide_ctx(
            e23,
            u,
            "kms:CreateGrant",
            {"kms:GrantConstraintType": "EncryptionContextEquals", "kms:GrantOperations": ["Decrypt"]},
        )
        == "ALLOW"
    )
    assert decide_ctx(e23, u, "kms:CreateGrant", {"kms:GrantOperations": ["Decrypt"]}) == "IMPLICIT_DENY"
    e24 = env(load(docs, "conditions-kms__24.json", PolicyKind.KEY_POLICY))
    assert decide_ctx(e24, u, "kms:CreateGrant", {"kms:GrantOperations": ["Decrypt"]}) == "IMPLICIT_DENY"
    assert (
        decide_ctx(
            e24,
            u,
            "kms:CreateGrant",
            {"kms:GrantOperations": ["Decrypt"], "kms:ViaService": "ec2.us-west-2.amazonaws.com"},
        )
        == "ALLOW"
    )
    e25 = env(load(docs, "conditions-kms__25.json", PolicyKind.KEY_POLICY))
    assert (
        decide_ctx(e25, u, "kms:CreateGrant", {"kms:GrantOperations": ["Encrypt", "ReEncryptTo"]}) == "ALLOW"
    )
    assert (
        decide_ctx(e25, u, "kms:CreateGrant", {"kms:GrantOperations": ["Encrypt", "Decrypt"]})
        == "IMPLICIT_DENY"
    )
    e26 = env(load(docs, "conditions-kms__26.json", PolicyKind.KEY_POLICY))
    assert (
        decide_ctx(
            e26,
            u,
            "kms:CreateGrant",
            {"kms:GranteePrincipal": role("LimitedAdminRole"), "kms:GrantOperations": ["Decrypt"]},
        )
        == "ALLOW"
    )
    assert (
        decide_ctx(
            e26,
            u,
            "kms:CreateGrant",
            {"kms:GranteePrincipal": role("Other"), "kms:GrantOperations": ["Decrypt"]},
        )
        == "IMPLICIT_DENY"
    )


# ---- services and IP conditions --------------------------------------------------------------------------


def test_aws_managed_key_for_ebs(docs: Path) -> None:
    assert "and nobody else" in claim(docs, "conditions-kms__3.json")
    kp = load(docs, "conditions-kms__3.json", PolicyKind.KEY_POLICY)
    e = env(kp, key={"aws_managed": True})
    via = {"kms:ViaService": "ec2.us-west-2.amazonaws.com"}
    assert decide_ctx(e, user("anyone"), "kms:Decrypt", via) == "ALLOW"  # no IAM policy needed (direct match)
    assert decide_ctx(e, user("anyone"), "kms:Decrypt", {}) == "IMPLICIT_DENY"
    assert decide_ctx(e, user("anyone", EXT), "kms:Decrypt", via) == "IMPLICIT_DENY"


def test_via_service(docs: Path) -> None:
    u = user("ExampleUser")
    e = env(load(docs, "conditions-kms__46.json", PolicyKind.KEY_POLICY))
    assert decide_ctx(e, u, "kms:Decrypt", {"kms:ViaService": "rds.us-west-2.amazonaws.com"}) == "ALLOW"
    assert (
        decide_ctx(e, u, "kms:Decrypt", {"kms:ViaService": "rds.us-east-1.amazonaws.com"}) == "IMPLICIT_DENY"
    )
    assert decide_ctx(e, u, "kms:Decrypt", {}) == "IMPLICIT_DENY"
    deny = env(
        load(docs, "conditions-kms__47.json", PolicyKind.KEY_POLICY, DEFAULT["Statement"][0]),
        iam={
            u: parse_policy(
                json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
                    }
                ),
                kind=PolicyKind.IDENTITY,
            )
        },
    )
    assert (
        decide_ctx(deny, u, "kms:Encrypt", {"kms:ViaService": "lambda.us-west-2.amazonaws.com"})
        == "EXPLICIT_DENY"
    )
    assert decide_ctx(deny, u, "kms:Encrypt", {}) == "ALLOW"


def test_workmail_managed_key(docs: Path) -> None:
    kp = load(docs, "services-wm__1.json", PolicyKind.KEY_POLICY)
    describe = parse_policy(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"}],
            }
        ),
        kind=PolicyKind.IDENTITY,
    )
    e = env(kp, iam={user("u"): describe}, key={"aws_managed": True})
    assert (
        decide_ctx(e, user("u"), "kms:Decrypt", {"kms:ViaService": "workmail.us-east-1.amazonaws.com"})
        == "ALLOW"
    )
    assert decide(e, user("u"), "kms:Decrypt") == "IMPLICIT_DENY"
    assert decide(e, user("u"), "kms:DescribeKey") == "ALLOW"  # account statement + IAM policy


def test_source_ip(docs: Path) -> None:
    e = env(load(docs, "infrastructure-security__1.json", PolicyKind.KEY_POLICY))
    r = sess("KMSTestRole")
    assert decide_ctx(e, r, "kms:Decrypt", {"aws:SourceIp": "198.51.100.1"}) == "ALLOW"
    assert decide_ctx(e, r, "kms:Decrypt", {"aws:SourceIp": "203.0.113.9"}) == "IMPLICIT_DENY"
    # no SourceIp (VPC endpoint): NotIpAddress on an absent key is true (§3.2), so the allow applies
    assert decide_ctx(e, r, "kms:Decrypt", {}) == "ALLOW"


def test_vpc_endpoint_key_policy(docs: Path) -> None:
    kp = load(docs, "kms-vpc-endpoint__4.json", PolicyKind.KEY_POLICY)
    allow = parse_policy(
        json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
        ),
        kind=PolicyKind.IDENTITY,
    )
    e = env(kp, iam={user("u"): allow})
    assert decide_ctx(e, user("u"), "kms:Decrypt", {"aws:SourceVpce": "vpce-1234abcdf5678c90a"}) == "ALLOW"
    assert decide_ctx(e, user("u"), "kms:Decrypt", {}) == "EXPLICIT_DENY"
    assert decide(e, user("u"), "kms:DescribeKey") == "ALLOW"


def test_cloudtrail_service_principal(docs: Path) -> None:
    kp = load(docs, "key-policy-services__2.json", PolicyKind.KEY_POLICY)
    e = env(kp)
    good = {
        "aws:SourceArn": f"arn:aws:cloudtrail:us-west-2:{OWN}:trail/finance",
        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:us-west-2:{OWN}:trail/finance",
    }
    assert decide_ctx(e, "cloudtrail.amazonaws.com", "kms:GenerateDataKey", good) == "ALLOW"
    other = {**good, "aws:SourceArn": f"arn:aws:cloudtrail:us-west-2:{OWN}:trail/other"}
    assert decide_ctx(e, "cloudtrail.amazonaws.com", "kms:GenerateDataKey", other) == "IMPLICIT_DENY"
    assert decide_ctx(e, "logs.amazonaws.com", "kms:GenerateDataKey", good) == "IMPLICIT_DENY"


# ---- default policy, cross-account scenarios ------------------------------------------------------------


def test_default_key_policy_delegates(docs: Path) -> None:
    assert "not only the root user" in claim(docs, "key-policy-default__1.json")
    kp = load(docs, "key-policy-default__1.json", PolicyKind.KEY_POLICY)
    allow = parse_policy(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}],
            }
        ),
        kind=PolicyKind.IDENTITY,
    )
    e = env(kp, iam={user("u"): allow, user("v"): None})  # type: ignore[dict-item]
    assert decide(e, user("u"), "kms:Decrypt") == "ALLOW"
    assert decide(e, user("v"), "kms:Decrypt") == "IMPLICIT_DENY"
    assert decide(e, f"arn:aws:iam::{OWN}:root", "kms:Decrypt") == "ALLOW"


def test_policy_evaluation_example_1(docs: Path) -> None:
    assert "DENIED" in claim(docs, "policy-evaluation__1.json")
    e = env(load(docs, "policy-evaluation__1.json", PolicyKind.KEY_POLICY))
    assert decide(e, user("Alice"), "kms:Decrypt") == "IMPLICIT_DENY"


def test_policy_evaluation_example_2(docs: Path) -> None:
    assert "ALLOWED" in claim(docs, "policy-evaluation__3.json")
    kp = load(docs, "policy-evaluation__2.json", PolicyKind.KEY_POLICY)
    iam = load(docs, "policy-evaluation__3.json", PolicyKind.IDENTITY)
    key = f"arn:aws:kms:us-west-2:{EXT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    e = Environment(
        keys=(Key(key, kp),), principals=(Principal(role("Engineering"), PrincipalKind.ROLE, (iam,)),)
    )
    bob_session = f"arn:aws:sts::{OWN}:assumed-role/Engineering/bob"
    for action in (
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:DescribeKey",
    ):
        assert decide(e, bob_session, action, key) == "ALLOW"
    assert decide(e, bob_session, "kms:GenerateDataKeyPair", key) == "IMPLICIT_DENY"


def test_external_account_seed(docs: Path) -> None:
    kp = load(
        docs, "key-policy-modifying-external-accounts__1.json", PolicyKind.KEY_POLICY, DEFAULT["Statement"][0]
    )
    iam = load(docs, "key-policy-modifying-external-accounts__3.json", PolicyKind.IDENTITY)
    e = env(kp, iam={role("ExampleRole", EXT): iam, role("Bare", EXT): None})  # type: ignore[dict-item]
    assert decide(e, sess("ExampleRole", EXT), "kms:Decrypt") == "ALLOW"
    assert decide(e, sess("Bare", EXT), "kms:Decrypt") == "IMPLICIT_DENY"
    named = load(
        docs, "key-policy-modifying-external-accounts__2.json", PolicyKind.KEY_POLICY, DEFAULT["Statement"][0]
    )
    e2 = env(named, iam={role("ExampleRole", EXT): iam, role("OtherRole", EXT): iam})
    assert decide(e2, sess("ExampleRole", EXT), "kms:Encrypt") == "ALLOW"
    assert decide(e2, sess("OtherRole", EXT), "kms:Encrypt") == "IMPLICIT_DENY"


def test_tag_deny_statements(docs: Path) -> None:
    iam = load(docs, "tag-authorization__2.json", PolicyKind.IDENTITY)
    for tags, want in (
        ({"Type": "Reserved"}, "EXPLICIT_DENY"),
        ({}, "EXPLICIT_DENY"),
        ({"Type": "Public"}, "ALLOW"),
    ):
        assert decide(env(iam={user("u"): iam}, key={"tags": tags}), user("u"), "kms:Encrypt") == want, tags


def test_tag_keys_for_all_values(docs: Path) -> None:
    iam = load(docs, "tag-permissions__3.json", PolicyKind.IDENTITY)
    e = env(iam={user("u"): iam})
    assert decide_ctx(e, user("u"), "kms:TagResource", {"aws:TagKeys": ["Project"]}) == "ALLOW"
    assert (
        decide_ctx(e, user("u"), "kms:TagResource", {"aws:TagKeys": ["Project", "Owner"]}) == "IMPLICIT_DENY"
    )
