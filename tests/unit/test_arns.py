"""`semantics/arns.py`: the one ARN grammar. Round trips for every partition and principal form, malformed
text is None (never an exception), the strict shapes of the manifest, and the regexes it replaced."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reasoner.semantics import arns
from reasoner.semantics.arns import (
    AliasArn,
    Arn,
    AssumedRoleArn,
    FederatedUserArn,
    KeyArn,
    RoleArn,
    RootArn,
    UserArn,
)

A = "111122223333"
PARTITIONS = arns.PARTITIONS


def _parse_any(text: str, *, strict: bool = False) -> arns.PrincipalArn | arns.KmsArn | None:
    return arns.parse_principal(text, strict=strict) or arns.parse_kms(text, strict=strict)


# ---- every form, every partition -----------------------------------------------------------------------


def _forms(p: str) -> list[tuple[str, object]]:
    return [
        (f"arn:{p}:iam::{A}:root", RootArn(p, A)),
        (f"arn:{p}:iam::{A}:user/Alice", UserArn(p, A, "", "Alice")),
        (f"arn:{p}:iam::{A}:user/division/team/Alice", UserArn(p, A, "division/team/", "Alice")),
        (f"arn:{p}:iam::{A}:role/Admin", RoleArn(p, A, "", "Admin")),
        (f"arn:{p}:iam::{A}:role/service-role/Admin", RoleArn(p, A, "service-role/", "Admin")),
        (f"arn:{p}:sts::{A}:assumed-role/Admin/session@example.com",
         AssumedRoleArn(p, A, "Admin", "session@example.com")),
        (f"arn:{p}:sts::{A}:federated-user/Bob", FederatedUserArn(p, A, "Bob")),
        (f"arn:{p}:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
         KeyArn(p, "us-east-1", A, "1234abcd-12ab-34cd-56ef-1234567890ab")),
        (f"arn:{p}:kms:cn-north-1:{A}:alias/my/alias", AliasArn(p, "cn-north-1", A, "alias/my/alias")),
    ]


@pytest.mark.parametrize(("text", "value"), [f for p in PARTITIONS for f in _forms(p)])
def test_every_form_parses_and_formats_back(text: str, value: object) -> None:
    assert _parse_any(text) == value
    assert _parse_any(text, strict=True) == value
    assert arns.format(value) == str(value) == text  # type: ignore[arg-type]
    generic = arns.parse(text)
    assert generic is not None and str(generic) == text and generic.segments == arns.split(text)


def test_the_partitions_and_service_principal_domains() -> None:
    assert PARTITIONS == ("aws", "aws-cn", "aws-us-gov")
    assert set(arns.SERVICE_PRINCIPAL_DOMAINS) == set(PARTITIONS)
    assert arns.SERVICE_PRINCIPAL_DOMAINS["aws-cn"] == "amazonaws.com.cn"
    assert all(f".{d}" in arns.SERVICE_PRINCIPAL_SUFFIXES for d in arns.SERVICE_PRINCIPAL_DOMAINS.values())
    assert all(arns.is_aws_partition(p) for p in (*PARTITIONS, "aws-iso-b"))
    assert not any(arns.is_aws_partition(p) for p in ("", "aw", "AWS", "aws_cn", "aws1", "x-aws"))


def test_the_helpers_of_the_forms() -> None:
    session = arns.parse_principal(f"arn:aws-cn:sts::{A}:assumed-role/Admin/s1")
    assert isinstance(session, AssumedRoleArn)
    assert session.role() == RoleArn("aws-cn", A, "", "Admin")
    assert session.role("ops/") == RoleArn("aws-cn", A, "ops/", "Admin")
    assert RoleArn("aws", A, "ops/", "Admin").session("s1") == AssumedRoleArn("aws", A, "Admin", "s1")
    assert UserArn("aws", A, "ops/", "Alice").path_name == "ops/Alice"
    identity = arns.parse_identity(f"arn:aws-us-gov:iam::{A}:saml-provider/Okta")
    assert identity == Arn("aws-us-gov", "iam", "", A, "saml-provider/Okta")
    assert arns.parse_identity(f"arn:aws:kms:us-east-1:{A}:key/k") is None
    assert arns.parse_identity(f"arn:aws:iam:us-east-1:{A}:root") is None


# ---- malformed text ------------------------------------------------------------------------------------

MALFORMED = [
    "", "arn", "arn:", "arn:aws", "arn:aws:iam::111122223333", "ARN:aws:iam::111122223333:root",
    "arn::iam::111122223333:root",  # empty partition
    "arn:aws:iam::11112222333:root", "arn:aws:iam::1111222233334:root", "arn:aws:iam::*:root",
    "arn:aws:iam:us-east-1:111122223333:root",  # a region in an IAM ARN
    "arn:aws:iam::111122223333:Root", "arn:aws:iam::111122223333:root/", "arn:aws:iam::111122223333:group/G",
    "arn:aws:iam::111122223333:user/", "arn:aws:iam::111122223333:role/",
    "arn:aws:sts::111122223333:assumed-role/", "arn:aws:sts::111122223333:assumed-role/R",
    "arn:aws:sts::111122223333:assumed-role/R/", "arn:aws:sts::111122223333:assumed-role//s",
    "arn:aws:sts::111122223333:federated-user/", "arn:aws:sts::111122223333:root",
    "arn:aws:iam::111122223333:user/a\nb", "arn:aws:iam::111122223333:root\n",  # no line feed anywhere
    "arn:aws:kms:us-east-1:111122223333:key/", "arn:aws:kms:us-east-1:111122223333:alias/",
    "arn:aws:kms:us-east-1:111122223333:keys/k", "arn:aws:s3:::bucket/key", "111122223333", "*",
    "cloudtrail.amazonaws.com",
]


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_text_is_none(text: str) -> None:
    assert _parse_any(text) is None
    assert _parse_any(text, strict=True) is None


@pytest.mark.parametrize("text", ["", "arn", "arn:aws:iam", "nope:aws:iam::1:root", "arn:a:b:c:d"])
def test_text_without_six_segments_is_no_arn(text: str) -> None:
    assert arns.split(text) is None and arns.parse(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "arn:Aws:iam::111122223333:root",  # partition: lower-case letters and hyphens
        "arn:aws:iam::111122223333:user//Alice", "arn:aws:iam::111122223333:user/a//Alice",  # empty segment
        "arn:aws:iam::111122223333:user/ops/",  # no name
        "arn:aws:sts::111122223333:assumed-role/R/a/b", "arn:aws:sts::111122223333:federated-user/a/b",
        "arn:aws:kms::111122223333:key/k", "arn:aws:kms:US-EAST-1:111122223333:key/k",  # region
        "arn:aws:kms:us-east-1:111122223333:key/k_1",  # key id
    ],
)
def test_the_strict_shapes_reject_what_the_lenient_reading_accepts(text: str) -> None:
    assert _parse_any(text) is not None
    assert _parse_any(text, strict=True) is None


def test_unicode_digits_count_as_account_digits_like_the_regex_did() -> None:
    account = "١١١١٢٢٢٢٣٣٣٣"
    assert re.fullmatch(r"\d{12}", account) and arns.is_account_id(account)
    assert arns.parse_principal(f"arn:aws:iam::{account}:root") == RootArn("aws", account)
    assert not arns.is_account_id("11112222333a") and not arns.is_account_id("")


# ---- the regexes the module replaced -------------------------------------------------------------------

#: The evaluator's lenient regexes and the manifest's strict ones, as they were (issue 12 §2).
_LENIENT = {
    RootArn: r"arn:[^:]+:iam::(\d{12}):root",
    UserArn: r"arn:[^:]+:iam::(\d{12}):user/(.+)",
    RoleArn: r"arn:[^:]+:iam::(\d{12}):role/(.+)",
    AssumedRoleArn: r"arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/(.+)",
    FederatedUserArn: r"arn:[^:]+:sts::(\d{12}):federated-user/(.+)",
    KeyArn: r"arn:[^:]+:kms:[^:]*:(\d{12}):key/.+",
    AliasArn: r"arn:[^:]+:kms:([^:]*):(\d{12}):(alias/.+)",
}
_STRICT = {
    RootArn: r"arn:[a-z-]+:iam::(\d{12}):root",
    UserArn: r"arn:[a-z-]+:iam::(\d{12}):user/(?:[^/]+/)*[^/]+",
    RoleArn: r"arn:[a-z-]+:iam::(\d{12}):role/(?:[^/]+/)*([^/]+)",
    AssumedRoleArn: r"arn:[a-z-]+:sts::(\d{12}):assumed-role/([^/]+)/[^/]+",
    FederatedUserArn: r"arn:[a-z-]+:sts::(\d{12}):federated-user/[^/]+",
    KeyArn: r"arn:[a-z-]+:kms:[a-z0-9-]+:(\d{12}):key/[A-Za-z0-9-]+",
}

_PIECES = st.sampled_from(
    ["aws", "aws-cn", "aws-us-gov", "Aws", "x", "", ":", "/", "//", "iam", "sts", "kms", "s3", A, "1111", "root",
     "user/", "role/", "assumed-role/", "federated-user/", "key/", "alias/", "us-east-1", "a", "B-1", "_", " ", "*"]
)


@st.composite
def arn_like_texts(draw: st.DrawFn) -> str:
    """Texts near the ARN forms: the six segments from likely pieces, or any concatenation of pieces."""
    if draw(st.booleans()):
        return "".join(draw(st.lists(_PIECES, max_size=12)))
    partition, service, region, account = (draw(st.lists(_PIECES, max_size=2).map("".join)) for _ in range(4))
    resource = draw(st.lists(_PIECES, max_size=5).map("".join))
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


@given(arn_like_texts())
def test_the_grammar_agrees_with_the_regexes_it_replaced(text: str) -> None:
    for strict, table in ((False, _LENIENT), (True, _STRICT)):
        got = _parse_any(text, strict=strict)
        for cls, rx in table.items():
            assert (re.fullmatch(rx, text) is not None) == isinstance(got, cls), (strict, cls.__name__, text)
        if got is not None:
            assert arns.format(got) == text


# ---- round trips over generated values -----------------------------------------------------------------

_NAME = st.text(st.sampled_from("abcXYZ019_+=,.@-"), min_size=1, max_size=10)
_PATH = st.lists(_NAME, max_size=3).map(lambda segs: "".join(f"{s}/" for s in segs))
_PARTITION = st.sampled_from(PARTITIONS)
_ACCOUNT = st.sampled_from((A, "444455556666", "000000000000"))
_REGION = st.sampled_from(("us-east-1", "cn-north-1", "us-gov-west-1", "eu-central-2"))
_KEY_ID = st.text(st.sampled_from("0123456789abcdef-"), min_size=1, max_size=36)

arn_values = st.one_of(
    st.builds(RootArn, _PARTITION, _ACCOUNT),
    st.builds(UserArn, _PARTITION, _ACCOUNT, _PATH, _NAME),
    st.builds(RoleArn, _PARTITION, _ACCOUNT, _PATH, _NAME),
    st.builds(AssumedRoleArn, _PARTITION, _ACCOUNT, _NAME, _NAME),
    st.builds(FederatedUserArn, _PARTITION, _ACCOUNT, _NAME),
    st.builds(KeyArn, _PARTITION, _REGION, _ACCOUNT, _KEY_ID),
    st.builds(AliasArn, _PARTITION, _REGION, _ACCOUNT, _NAME.map(lambda n: f"alias/{n}")),
)


@given(arn_values)
def test_format_then_parse_is_the_identity(value: arns.PrincipalArn | arns.KmsArn) -> None:
    text = arns.format(value)
    assert _parse_any(text) == value
    assert _parse_any(text, strict=True) == value
    generic = arns.parse(text)
    assert generic is not None and (generic.partition, generic.account) == (value.partition, value.account)


@given(st.text(max_size=60))
def test_parse_then_format_is_the_identity_and_never_raises(text: str) -> None:
    for strict in (False, True):
        got = _parse_any(text, strict=strict)
        if got is not None:
            assert arns.format(got) == text
    generic = arns.parse(text)
    assert generic is None or str(generic) == text
