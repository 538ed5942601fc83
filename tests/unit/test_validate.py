"""Unit tests of reasoner/front/validate.py: the rules of each policy kind (semantics §1, §4.5) and the lints,
each checked for its code, severity and the span of the offending token."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from reasoner.errors import CODES, Diagnostic, Severity
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_and_validate
from reasoner.front.validate import (
    KEY_POLICY_MAX_BYTES,
    MANAGED_POLICY_MAX_CHARS,
    SCP_RCP_MAX_CHARS,
    arn_problem,
    aws_principal_problem,
    principal_account,
)

KEY = PolicyKind.KEY_POLICY
IDENTITY = PolicyKind.IDENTITY
RCP = PolicyKind.RCP
ROOT = Path(__file__).resolve().parents[2]


def run(text: str, kind: PolicyKind | None = KEY, key_account: str | None = None) -> list[Diagnostic]:
    _, diags = parse_and_validate(text, file="v.json", kind=kind, key_account=key_account)
    return diags


def codes(text: str, kind: PolicyKind | None = KEY, key_account: str | None = None) -> list[str]:
    return [d.code for d in run(text, kind, key_account)]


def policy(*statements: Mapping[str, object], version: str | None = "2012-10-17") -> str:
    doc: dict[str, object] = {"Statement": list(statements)}
    if version is not None:
        doc = {"Version": version, **doc}
    return json.dumps(doc, indent=2)


def key_stmt(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def id_stmt(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def spanned(text: str, d: Diagnostic) -> str:
    """The source text under a single-line span."""
    line = text.splitlines()[d.span.line - 1]
    return line[d.span.col - 1 : d.span.end_col - 1]


def only(text: str, code: str, kind: PolicyKind | None = KEY, key_account: str | None = None) -> Diagnostic:
    diags = run(text, kind, key_account)
    assert [d.code for d in diags] == [code], [str(d) for d in diags]
    return diags[0]


def test_clean_policies_have_no_findings() -> None:
    assert codes(policy(key_stmt())) == []
    assert codes(policy(id_stmt()), IDENTITY) == []


# ---- Version (§1.1) --------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2012-10-18", "2012-10-17 ", "", "latest"])
def test_bad_version(version: str) -> None:
    text = policy(key_stmt(), version=version)
    d = only(text, "POL005")
    assert spanned(text, d) == json.dumps(version)


def test_both_versions_and_none_are_fine() -> None:
    for v in ("2012-10-17", "2008-10-17", None):
        assert codes(policy(key_stmt(), version=v)) == []


def test_rcp_needs_version_2012() -> None:
    rcp = {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    assert codes(policy(rcp, version="2008-10-17"), RCP) == ["POL035"]
    assert codes(policy(rcp, version=None), RCP) == ["POL035"]
    assert codes(policy(rcp), RCP) == []


# ---- Principal by kind (§1.2, §1.4, corner cases 1, 29) --------------------------------------------------


@pytest.mark.parametrize(
    "kind", [PolicyKind.IDENTITY, PolicyKind.SCP, PolicyKind.PERMISSIONS_BOUNDARY, PolicyKind.SESSION]
)
@pytest.mark.parametrize("element", ["Principal", "NotPrincipal"])
def test_principal_forbidden_in_identity_style_policies(kind: PolicyKind, element: str) -> None:
    text = policy(id_stmt(**{element: "*", "Effect": "Deny"}))
    d = only(text, "POL014", kind)
    assert element in d.message and spanned(text, d) == f'"{element}": "*"'


@pytest.mark.parametrize("kind", [PolicyKind.KEY_POLICY, PolicyKind.RESOURCE])
def test_missing_principal_in_resource_policies(kind: PolicyKind) -> None:
    text = policy(key_stmt(Principal=None))
    d = only(text, "POL015", kind)
    assert spanned(text, d) == "{"  # the statement's opening brace


def test_not_principal_with_allow() -> None:  # §2.4, corner case 29
    text = policy(key_stmt(Principal=None, NotPrincipal={"AWS": "111122223333"}))
    assert codes(text) == ["POL017"]
    text = policy(key_stmt(Principal=None, NotPrincipal={"AWS": "111122223333"}, Effect="Deny"))
    assert codes(text) == []


# ---- principal entries (§1.3) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "111122223333",
        "arn:aws:iam::111122223333:root",
        "arn:aws:iam::111122223333:user/Alice",
        "arn:aws:iam::111122223333:role/a/b/R",
        "arn:aws:sts::111122223333:assumed-role/R/session",
        "arn:aws:sts::111122223333:federated-user/Bob",
        "arn:aws-cn:iam::111122223333:root",
        "AROAEXAMPLEID1234567",
        "*",
    ],
)
def test_valid_aws_principals(value: str) -> None:
    assert codes(policy(key_stmt(Principal={"AWS": value}))) == []


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("arn:aws:iam::*:root", "POL022"),
        ("arn:aws:iam::111122223333:role/*", "POL022"),
        ("arn:aws:sts::111122223333:assumed-role/R/*", "POL022"),
        ("11112222333?", "POL022"),
        ("arn:aws:iam::1111222233:root", "POL021"),
        ("arn:aws:iam::111122223333:group/G", "POL021"),  # groups are never principals
        ("arn:aws:sts::111122223333:assumed-role/R", "POL021"),
        ("arn:aws:s3:::bucket", "POL021"),
        ("arn:aws:iam::${aws:PrincipalAccount}:root", "POL021"),
        (" arn:aws:iam::111122223333:root", "POL034"),
        ("Alice", "POL034"),
        ("", "POL034"),
    ],
)
def test_bad_aws_principals(value: str, code: str) -> None:
    text = policy(key_stmt(Principal={"AWS": ["111122223333", value]}))
    d = only(text, code)
    assert spanned(text, d) == json.dumps(value)


@pytest.mark.parametrize(
    ("principal", "code"),
    [
        ({"Service": "*.amazonaws.com"}, "POL022"),
        ({"Service": "s3 amazonaws com"}, "POL034"),
        ({"Federated": "arn:aws:iam::111122223333:saml-provider/*"}, "POL022"),
        ({"Federated": "arn:aws:iam::account:saml-provider/P"}, "POL021"),
        ({"CanonicalUser": "abc"}, "POL034"),
    ],
)
def test_other_principal_types(principal: dict[str, str], code: str) -> None:
    assert codes(policy(key_stmt(Principal=principal))) == [code]


def test_valid_other_principal_types() -> None:
    p = {
        "Service": ["logs.us-east-1.amazonaws.com", "s3.amazonaws.com"],
        "Federated": ["arn:aws:iam::111122223333:saml-provider/Corp", "accounts.google.com"],
        "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
    }
    assert codes(policy(key_stmt(Principal=p))) == []


# ---- Action / Resource presence (§1.2, corner case 2) ----------------------------------------------------


def test_key_policy_without_resource_or_action_is_a_warning() -> None:
    d = only(policy(key_stmt(Resource=None)), "POL102")
    assert d.severity is Severity.WARNING
    d = only(policy(key_stmt(Action=None)), "POL103")
    assert d.severity is Severity.WARNING


@pytest.mark.parametrize("kind", [PolicyKind.IDENTITY, PolicyKind.SCP, PolicyKind.SESSION])
def test_identity_policy_requires_action_and_resource(kind: PolicyKind) -> None:
    assert codes(policy(id_stmt(Resource=None)), kind) == ["POL012"]
    assert codes(policy(id_stmt(Action=None)), kind) == ["POL010"]


def test_broken_elements_are_not_also_reported_missing() -> None:
    assert codes(policy(id_stmt(Action={"a": 1})), IDENTITY) == ["POL004"]
    assert codes(policy(key_stmt(Principal=["x"]))) == ["POL004"]


def test_statement_with_bad_effect_is_still_validated() -> None:
    text = policy(key_stmt(Effect="allow", Action="kms:ReEncrypt", Principal={"AWS": "arn:aws:iam::*:root"}))
    assert sorted(codes(text)) == ["POL009", "POL022", "POL101"]


# ---- actions (§2.1, corner case 38) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "code"),
    [
        ("Decrypt", "POL031"),
        ("kms:", "POL031"),
        (":Decrypt", "POL031"),
        ("kms:Decrypt ", "POL031"),
        ("kms:a:b", "POL031"),
        ("kms:ReEncrypt", "POL101"),
        ("KMS:reencrypt", "POL101"),
        ("kms:Decrpyt", "POL107"),
        ("kms:Describe", "POL107"),
        ("kms:Foo*", "POL107"),
        ("k*:Decrypt", "POL109"),
        ("*:Decrypt", "POL109"),
    ],
)
def test_action_findings(action: str, code: str) -> None:
    text = policy(key_stmt(Action=["kms:Encrypt", action]))
    d = only(text, code)
    assert spanned(text, d) == json.dumps(action)


def test_unknown_action_suggests() -> None:
    d = only(policy(key_stmt(Action="kms:Decrpyt")), "POL107")
    assert d.help == "did you mean `kms:Decrypt`?"


@pytest.mark.parametrize(
    "action",
    [
        "*",
        "kms:*",
        "kms:ReEncrypt*",
        "KMS:decrypt",
        "kms:Generate*",
        "kms:Sig?",
        "s3:NoSuchActionIsFine",
        "iam:PassRole",
    ],
)
def test_good_actions(action: str) -> None:
    assert codes(policy(key_stmt(Action=action))) == []


# ---- resources (§2.2) ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    [
        "*",
        "arn:aws:kms:us-east-1:111122223333:key/abc",
        "arn:aws:kms:*:111122223333:key/*",
        "arn:aws:s3:::bucket/*/test/*",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:s3:::b/${aws:username}",
        "arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/x",
        "arn:aws:kms:us-east-1:1111222?3333:key/*",
    ],
)
def test_good_resources(resource: str) -> None:
    assert codes(policy(id_stmt(Resource=resource)), IDENTITY) == []


@pytest.mark.parametrize(
    ("resource", "code"),
    [
        ("key-name", "POL021"),
        ("arn:aws:kms:us-east-1:111122223333", "POL021"),
        ("arn:aws:kms:*", "POL112"),
        ("arn:aws::us-east-1:111122223333:key/k", "POL021"),
        ("arn:aws:k*s:us-east-1:111122223333:key/k", "POL021"),
        ("arn:aws:kms:Region:111122223333:key/k", "POL021"),
        ("arn:aws:kms:us-east-1:account-id:key/k", "POL021"),
        ("arn::kms:us-east-1:111122223333:key/k", "POL021"),
        ("arn:aws:kms:us-east-1:${aws:PrincipalAccount}:key/*", "POL114"),
    ],
)
def test_resource_findings(resource: str, code: str) -> None:
    text = policy(id_stmt(Resource=["*", resource]))
    d = only(text, code, IDENTITY)
    assert spanned(text, d) == json.dumps(resource)


@pytest.mark.parametrize(
    ("arn", "ok"),
    [
        ("arn:aws:kms:us-east-1:111122223333:key/k", True),
        ("arn:aws:kms:us-east-1:111122223333:key/k:with:colons", True),
        ("arn:aws:kms:*:*:*", True),
        ("arn:aws:kms", False),
    ],
)
def test_arn_problem(arn: str, ok: bool) -> None:
    assert (arn_problem(arn, allow_wildcards=True) is None) is ok


def test_principal_helpers() -> None:
    assert principal_account("arn:aws:sts::444455556666:assumed-role/R/s") == "444455556666"
    assert principal_account("444455556666") == "444455556666"
    assert principal_account("*") is None
    assert aws_principal_problem("arn:aws:iam::111122223333:role/R") is None


# ---- conditions ------------------------------------------------------------------------------------------


def cond_stmt(condition: dict[str, object], **kw: object) -> dict[str, object]:
    return key_stmt(Condition=condition, **kw)


@pytest.mark.parametrize(
    "key", ["kms:EncryptionContext:Dept", "aws:RequestTag/Team", "KMS:encryptioncontext:x"]
)
def test_for_all_values_on_single_valued_keys(key: str) -> None:  # §1.4, corner case 31
    text = policy(cond_stmt({"ForAllValues:StringEquals": {key: "IT"}}))
    d = only(text, "POL023")
    assert spanned(text, d) == '"ForAllValues:StringEquals"'
    d = only(policy(id_stmt(Condition={"ForAllValues:StringEquals": {key: "IT"}})), "POL111", IDENTITY)
    assert d.severity is Severity.WARNING
    assert codes(policy(cond_stmt({"ForAnyValue:StringEquals": {key: "IT"}}))) == []


@pytest.mark.parametrize(
    "op",
    [
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIfExists",
        "ForAnyValue:StringEquals",
    ],
)
def test_literal_star_in_string_equals(op: str) -> None:  # corner case 48
    key = "aws:PrincipalTag/x" if op.startswith("For") else "aws:PrincipalArn"
    text = policy(cond_stmt({op: {key: ["arn:aws:iam::111122223333:root", "arn:aws:iam::*:role/Admin"]}}))
    d = only(text, "POL105")
    assert spanned(text, d) == '"arn:aws:iam::*:role/Admin"'


@pytest.mark.parametrize("op", ["StringLike", "ArnEquals", "ArnNotEquals", "ArnLike"])
def test_no_literal_star_lint_where_wildcards_work(op: str) -> None:  # corner case 47
    assert codes(policy(cond_stmt({op: {"aws:PrincipalArn": "arn:aws:iam::*:role/Admin"}}))) == []


def test_star_written_as_variable_is_deliberate() -> None:
    assert codes(policy(cond_stmt({"StringEquals": {"aws:PrincipalTag/x": "a${*}b"}}))) == []
    # without Version 2012-10-17, ${*} is literal text and `*` is a literal star anyway
    assert codes(policy(cond_stmt({"StringEquals": {"aws:PrincipalTag/x": "a${*}b"}}), version=None)) == [
        "POL105"
    ]


@pytest.mark.parametrize(
    "key",
    [
        "kms:GrantOperations",
        "aws:PrincipalOrgPaths",
        "kms:EncryptionContextKeys",
        "aws:TagKeys",
        "AWS:calledvia",
    ],
)
def test_plain_operator_on_multivalued_key(key: str) -> None:  # §3.2, §7.1, corner case 70
    action = "kms:CreateGrant"
    text = policy(cond_stmt({"StringEquals": {key: "Decrypt"}}, Action=action))
    assert "POL108" in codes(text)
    assert "POL108" not in codes(policy(cond_stmt({"ForAnyValue:StringEquals": {key: "x"}}, Action=action)))
    assert "POL108" not in codes(policy(cond_stmt({"Null": {key: "true"}}, Action=action)))


def test_condition_key_that_never_exists_for_the_actions() -> None:  # §5.1
    text = policy(cond_stmt({"Bool": {"kms:GrantIsForAWSResource": True}}, Action="kms:Decrypt"))
    d = only(text, "POL106")
    assert spanned(text, d) == '"kms:GrantIsForAWSResource"'
    assert "always false" in d.message
    # present for CreateGrant; a wildcard that covers CreateGrant; another service; NotAction; Null
    for kw in (
        {"Action": "kms:CreateGrant"},
        {"Action": "kms:*Grant"},
        {"Action": ["kms:Decrypt", "s3:Get*"]},
        {"Action": None, "NotAction": "kms:Decrypt"},
    ):
        assert "POL106" not in codes(policy(cond_stmt({"Bool": {"kms:GrantIsForAWSResource": True}}, **kw)))
    assert codes(policy(cond_stmt({"Null": {"kms:GrantIsForAWSResource": "true"}}))) == []
    text = policy(cond_stmt({"StringNotEquals": {"kms:GrantOperations": "x"}}, Action="kms:Encrypt"))
    assert "always true" in next(d for d in run(text) if d.code == "POL106").message


def test_encryption_context_family_exists_for_crypto_actions() -> None:
    text = policy(cond_stmt({"StringEquals": {"kms:EncryptionContext:AppName": "x"}}, Action="kms:Decrypt"))
    assert codes(text) == []


# ---- KMS cross account (§4.6, corner case 16) ------------------------------------------------------------


def test_cross_account_ineffective_permissions() -> None:
    foreign = {"AWS": "arn:aws:iam::444455556666:root"}
    text = policy(
        key_stmt(
            Principal=foreign,
            Action=["kms:Decrypt", "kms:ScheduleKeyDeletion", "kms:List*", "kms:*", "kms:Create*"],
        )
    )
    diags = run(text, key_account="111122223333")
    assert [(d.code, spanned(text, d)) for d in diags] == [("POL104", '"kms:ScheduleKeyDeletion"')]
    # unknown key account, own account, Deny, and Principal "*" are never flagged
    assert codes(text) == []
    own = policy(key_stmt(Action="kms:ScheduleKeyDeletion"))
    assert codes(own, key_account="111122223333") == []
    deny = policy(key_stmt(Principal=foreign, Action="kms:ScheduleKeyDeletion", Effect="Deny"))
    assert codes(deny, key_account="111122223333") == []
    star = policy(key_stmt(Principal="*", Action="kms:ScheduleKeyDeletion"))
    assert codes(star, key_account="111122223333") == []


def test_cross_account_wildcard_of_only_unusable_actions() -> None:
    text = policy(key_stmt(Principal={"AWS": "444455556666"}, Action="kms:Put*"))
    assert codes(text, key_account="111122223333") == ["POL104"]


# ---- Sid (§1.2, corner case 73) --------------------------------------------------------------------------


def test_sid_charset_by_kind() -> None:
    text = policy(id_stmt(Sid="Allow use"))
    d = only(text, "POL026", IDENTITY)
    assert "a space" in d.message and spanned(text, d) == '"Allow use"'
    assert codes(policy(key_stmt(Sid="Allow use of the key"))) == []
    assert codes(policy(id_stmt(Sid="AllowUse1")), IDENTITY) == []
    assert codes(policy(id_stmt(Sid="")), IDENTITY) == []
    assert codes(policy(id_stmt(Sid="Stmt-1")), PolicyKind.SCP) == ["POL026"]


def test_duplicate_sid() -> None:
    text = policy(id_stmt(Sid="A"), id_stmt(Sid="A", Effect="Deny"))
    d = only(text, "POL027", IDENTITY)
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if '"Sid": "A"' in line]
    assert d.span.line == lines[1] and f"first at line {lines[0]}" in d.message
    assert codes(policy(key_stmt(Sid="A"), key_stmt(Sid="A"))) == ["POL113"]


# ---- RCP (§4.5) ------------------------------------------------------------------------------------------


def test_rcp_rules() -> None:
    good = {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    assert codes(policy(good), RCP) == []
    assert codes(policy({**good, "Effect": "Allow"}), RCP) == ["POL029"]
    assert codes(policy({**good, "Principal": {"AWS": "111122223333"}}), RCP) == ["POL028"]
    no_principal = {k: v for k, v in good.items() if k != "Principal"}
    assert codes(policy(no_principal), RCP) == ["POL028"]
    assert codes(policy({**no_principal, "NotPrincipal": "*"}), RCP) == ["POL014"]
    not_action = {**{k: v for k, v in good.items() if k != "Action"}, "NotAction": "kms:Decrypt"}
    assert codes(policy(not_action), RCP) == ["POL030"]


# ---- characters and sizes (§1.2) -------------------------------------------------------------------------


def test_characters_outside_the_allowed_set() -> None:
    text = policy(key_stmt(Sid="Allow “quoted” use"))
    text = text.replace("\\u201c", "“").replace("\\u201d", "”")
    diags = run(text)
    assert [d.code for d in diags] == ["POL024", "POL024"]
    assert spanned(text, diags[0]) == "“"
    # Latin-1 is allowed, raw or escaped; tab/CR/LF too
    assert codes(policy(key_stmt(Sid="Café ÿ"))) == []
    assert codes(policy(key_stmt()).replace("\n", "\r\n\t")) == []


def test_escaped_characters_outside_the_set() -> None:
    text = policy(key_stmt(Sid="a\u2019b"))  # json.dumps writes \u2019
    assert "\\u2019" in text
    d = only(text, "POL024")
    assert spanned(text, d) == '"a\\u2019b"'


def test_runs_of_bad_characters_are_one_finding() -> None:
    text = policy(key_stmt(Sid="PLACEHOLDER")).replace("PLACEHOLDER", "日本語")
    (d,) = run(text)
    assert d.code == "POL024" and "and 2 more" in d.message and spanned(text, d) == "日本語"


def test_key_policy_size_limit() -> None:
    pad = KEY_POLICY_MAX_BYTES
    text = policy(key_stmt(Sid="x" * pad))
    d = only(text, "POL025")
    assert str(KEY_POLICY_MAX_BYTES) in d.message
    assert codes(policy(key_stmt(Sid="x" * (pad - 300)))) == []


def test_key_policy_limit_counts_bytes() -> None:
    # 'é' is one character but two UTF-8 bytes
    text = policy(key_stmt(Sid="é" * (KEY_POLICY_MAX_BYTES // 2)))
    text = text.replace("\\u00e9", "é")
    assert len(text) < KEY_POLICY_MAX_BYTES < len(text.encode())
    assert codes(text) == ["POL025"]


def test_scp_rcp_limit_counts_whitespace() -> None:
    stmt = {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}
    small = policy(stmt)
    padded = small.replace("{", "{" + " " * SCP_RCP_MAX_CHARS, 1)
    assert codes(padded, PolicyKind.SCP) == ["POL025"]
    # the same padding does not count for a managed identity policy
    assert codes(padded, IDENTITY) == []


def test_managed_policy_limit_counts_non_whitespace() -> None:
    text = policy(id_stmt(Sid="x" * MANAGED_POLICY_MAX_CHARS))
    assert codes(text, IDENTITY) == ["POL026"] or codes(text, IDENTITY) == ["POL025"]
    text = policy(id_stmt(Resource=["arn:aws:s3:::b/" + "x" * 100] * 70))
    assert codes(text, IDENTITY) == ["POL025"]


# ---- code catalogue --------------------------------------------------------------------------------------


def test_every_code_is_documented_with_its_severity() -> None:
    """grammars/README.md lists exactly the codes this stage registers, with the registered severity."""
    readme = (ROOT / "grammars" / "README.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\| ((?:POL|PARSE|INPUT)\d{3}) \| (error|warning) \|", readme, re.M))
    registered = {c: s.value for c, (s, _) in CODES.items() if re.fullmatch(r"(POL|PARSE|INPUT)\d{3}", c)}
    assert documented == registered


def test_messages_follow_house_style() -> None:
    """Lowercase start (or a backtick / acronym), no trailing period, no line breaks."""
    text = policy(
        key_stmt(
            Effect="allow",
            Action=["kms:ReEncrypt", "Decrypt"],
            Resource="bucket",
            Principal={"AWS": "arn:aws:iam::*:root"},
            Sid="a“b",
            Condition={"ForAllValues:StringEquals": {"kms:EncryptionContext:x": "*"}},
        )
    )
    diags = run(text, key_account="111122223333")
    assert len(diags) >= 6
    for d in diags:
        assert not d.message.endswith(".") and "\n" not in d.message
        first = d.message.split()[0]
        assert first[0].islower() or first[0] == "`" or first.isupper(), d.message


@pytest.mark.parametrize(
    ("op", "value", "bad"),
    [
        ("NumericLessThan", "30", False),
        ("NumericLessThan", "1.5", False),
        ("NumericLessThan", "thirty", True),
        ("NumericEquals", "${aws:MultiFactorAuthAge}", True),  # no variables in numeric values (§3.4)
        ("DateGreaterThan", "2026-01-01T00:00:00Z", False),
        ("DateGreaterThan", "1767225600", False),
        ("DateGreaterThan", "2026-06-30T12:00:00+02:00", False),
        ("DateGreaterThan", "next year", True),
        ("Bool", "TRUE", False),
        ("Bool", "yes", True),
        ("Null", "false", False),
        ("Null", "maybe", True),
        ("BinaryEquals", "QmluYXJ5", False),
        ("BinaryEquals", "not base64!", True),
        ("IpAddress", "203.0.113.0/24", False),
        ("NotIpAddress", "2001:db8::/32", False),
        ("IpAddress", "192.0.2.1", False),
        ("NotIpAddress", "<my-corporate-cidr>", True),
        ("IpAddress", "300.1.1.1", True),
        ("ArnLike", "arn:aws:iam::*:role/Admin", False),
        ("ArnEquals", "${aws:PrincipalArn}", False),
        ("ArnLike", "*", False),
        ("ArnEquals", "role/Admin", True),
        ("StringEquals", "anything goes", False),
    ],
)
def test_typed_condition_values(op: str, value: str, bad: bool) -> None:  # §3.3
    values: object = ["1", value] if op.startswith("Numeric") else value
    text = policy(id_stmt(Condition={op: {"aws:SomeKey": values}}))
    got = codes(text, IDENTITY)
    assert got == (["POL115"] if bad else []), got


def test_raw_and_escaped_bad_characters_are_reported_once() -> None:
    text = policy(key_stmt(Sid="PLACEHOLDER")).replace("PLACEHOLDER", "“x” \\u2019")
    diags = run(text)
    assert [d.code for d in diags] == ["POL024", "POL024", "POL024"]
    assert [spanned(text, d) for d in diags] == ['"“x” \\u2019"', "“", "”"]


def test_validate_alone_checks_the_raw_characters() -> None:
    from reasoner.front.parse import parse_document
    from reasoner.front.validate import validate

    doc, _ = parse_document(policy(key_stmt(Sid="PLACEHOLDER")).replace("PLACEHOLDER", "a—b"), kind=KEY)
    assert doc is not None  # parsing alone does not check the character set
    assert [d.code for d in validate(doc)] == ["POL024"]
