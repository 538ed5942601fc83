"""Patterns: globs, IAM actions, Resource ARNs (semantics §2.1, §2.2), ArnLike (§3.3), variables (§3.4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reasoner.semantics.patterns import (
    ANY_CHAR,
    STAR,
    Literal,
    Variable,
    compile_action,
    compile_arn_like,
    compile_glob,
    compile_resource,
    split_arn,
    tokenize,
)


@pytest.mark.parametrize(
    ("pattern", "text", "want"),
    [
        ("abc", "abc", True),
        ("abc", "abcd", False),
        ("a*", "a", True),
        ("a*c", "a/b:c", True),  # `*` crosses `/` and `:` (§3.3)
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("*", "", True),
        ("a.c", "abc", False),  # regex metacharacters are literal
        ("[ab]", "[ab]", True),
        ("A*", "abc", False),  # case-sensitive
    ],
)
def test_glob(pattern: str, text: str, want: bool) -> None:
    assert compile_glob(pattern).matches(text) is want


def test_glob_tokens_are_readable() -> None:
    g = compile_glob("a*b?c")
    assert g.tokens == (Literal("a"), STAR, Literal("b"), ANY_CHAR, Literal("c"))
    assert compile_glob("a**b").tokens == (Literal("a"), STAR, Literal("b"))
    assert compile_glob("plain").literal_text == "plain"
    assert compile_glob("*").matches_everything


def test_glob_without_wildcards_is_literal() -> None:
    g = compile_glob("a*?", wildcards=False)
    assert g.is_literal and g.literal_text == "a*?"
    assert g.matches("a*?") and not g.matches("abc")


def test_glob_is_cached() -> None:
    assert compile_glob("x*y") is compile_glob("x*y")
    assert compile_resource("arn:aws:kms:*:1:key/*") is compile_resource("arn:aws:kms:*:1:key/*")


def test_ignore_case() -> None:
    assert compile_glob("Gen*", ignore_case=True).matches("generatedatakey")


# ---- variables (§3.4) --------------------------------------------------------------------------------


def test_variable_tokens() -> None:
    assert tokenize("home/${aws:username}/${*}", variables=True) == (
        Literal("home/"),
        Variable("aws:username"),
        Literal("/"),
        Literal("*", escaped=True),
    )
    assert tokenize("${aws:PrincipalTag/team, 'none'}", variables=True) == (
        Variable("aws:PrincipalTag/team", "none"),
    )
    assert tokenize("${?}${$}", variables=True) == (Literal("?$", escaped=True),)


def test_variables_only_when_enabled() -> None:
    g = compile_glob("${aws:username}")
    assert g.literal_text == "${aws:username}"  # 2008-10-17: literal text (§1.1)


def test_resolve() -> None:
    g = compile_glob("home/${aws:username}/*", variables=True)
    assert g.has_variables
    with pytest.raises(ValueError, match="resolved"):
        g.matches("home/bob/x")
    r = g.resolve({"aws:username": "bob"}.get)
    assert r is not None and r.matches("home/bob/x") and not r.matches("home/al/x")
    assert g.resolve(lambda k: None) is None
    d = compile_glob("${aws:username, 'shared'}", variables=True).resolve(lambda k: None)
    assert d is not None and d.matches("shared")


def test_resolved_value_is_literal() -> None:
    r = compile_glob("${x}", variables=True).resolve(lambda k: "a*")
    assert r is not None and r.matches("a*") and not r.matches("abc")


def test_escapes_are_not_wildcards() -> None:
    g = compile_glob("a${*}b${?}", variables=True)
    assert g.matches("a*b?") and not g.matches("axb?") and not g.matches("a*bc")


def test_unclosed_variable_is_literal() -> None:
    assert compile_glob("${abc", variables=True).literal_text == "${abc"


# ---- actions (§2.1) ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "action", "want"),
    [
        ("kms:Decrypt", "kms:Decrypt", True),
        ("KMS:decrypt", "kms:Decrypt", True),
        ("kms:Decrypt", "KMS:DECRYPT", True),
        ("kms:ReEncrypt", "kms:ReEncryptFrom", False),
        ("kms:ReEncrypt*", "kms:ReEncryptTo", True),
        ("kms:*", "s3:GetObject", False),
        ("*", "s3:GetObject", True),
        ("kms:Gen?rate*", "kms:GenerateMac", True),
        ("k*:Decrypt", "kms:Decrypt", False),  # wildcard in the prefix: [OPEN], matches nothing
        ("Decrypt", "kms:Decrypt", False),
        ("kms:*Grant*", "kms:ListRetirableGrants", True),
    ],
)
def test_action(pattern: str, action: str, want: bool) -> None:
    assert compile_action(pattern).matches(action) is want


def test_kms_wildcard_expansions() -> None:
    from reasoner.semantics.catalog import kms_actions

    def expand(p: str) -> set[str]:
        return {a.split(":")[1] for a in kms_actions() if compile_action(p).matches(a)}

    assert expand("kms:ReEncrypt*") == {"ReEncryptFrom", "ReEncryptTo"}
    assert expand("kms:GenerateDataKey*") == {
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
    }
    assert expand("kms:Describe*") == {"DescribeCustomKeyStores", "DescribeKey"}
    assert "ScheduleKeyDeletion" not in expand("kms:Delete*")


# ---- Resource ARNs (§2.2) ------------------------------------------------------------------------------

KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd"


@pytest.mark.parametrize(
    ("pattern", "resource", "want"),
    [
        ("*", KEY, True),
        ("*", "*", True),
        (KEY, KEY, True),
        ("arn:aws:kms:*:111111111111:key/*", KEY, True),
        ("arn:aws:kms:us-east-1:111111111111:*", KEY, True),
        ("arn:aws:kms:us-east-1:111111111111:*", "arn:aws:kms:us-east-1:111111111111:alias/x", True),
        ("arn:aws:kms:us-east-1:111111111111:key/ABC*", "arn:aws:kms:us-east-1:111111111111:key/abc1", False),
        ("arn:aws:kms:us-east-1:222222222222:key/*", KEY, False),
        ("ARN:AWS:KMS:US-EAST-1:111111111111:key/1234abcd", KEY, True),  # first five segments: any case
        ("arn:aws:s3:::bucket/*/test/*", "arn:aws:s3:::bucket/1/2/test/3/x.jpg", True),  # §6.45
        ("arn:aws:s3:::bucket/*/test/*", "arn:aws:s3:::bucket/test/x", False),
        ("arn:aws:kms:us-east-1:111111111111:key/*", "*", False),  # keyless resource needs a `*` pattern
        ("arn:aws:kms:us-east-1:*", KEY, True),  # short wildcard pattern: padded with `*` (§2.2 [OPEN], SIM)
        ("arn:aws:kms:us-east-1", KEY, False),  # short pattern without wildcard: never
        ("arn:aws:kms:us-east-?:111111111111:key/*", KEY, True),
        ("arn:aws:kms:us-east-?:111111111111:key/*", "arn:aws:kms:us-east-:1:x:111111111111:key/a", False),
    ],
)
def test_resource(pattern: str, resource: str, want: bool) -> None:
    assert compile_resource(pattern).matches(resource) is want


def test_segment_final_star_crosses_colons() -> None:
    # §2.2: a `*` ending a segment may swallow the following colon-separated text (current IAM docs)
    p = compile_resource("arn:aws:kms:*:111111111111:key/k")
    assert p.matches("arn:aws:kms:us-east-1:999:x:111111111111:key/k")
    # a `*` inside a segment does not cross a colon
    q = compile_resource("arn:aws:kms:us-*-1:111111111111:key/k")
    assert not q.matches("arn:aws:kms:us-x:y-1:111111111111:key/k")
    assert q.matches("arn:aws:kms:us-east-1:111111111111:key/k")


def test_resource_variables_only_in_resource_part() -> None:
    p = compile_resource("arn:aws:kms:us-east-1:111111111111:key/${aws:username}", variables=True)
    assert p.has_variables
    r = p.resolve({"aws:username": "bob"}.get)
    assert r is not None and r.matches("arn:aws:kms:us-east-1:111111111111:key/bob")
    assert p.resolve(lambda k: None) is None
    literal = compile_resource("arn:aws:kms:us-east-1:111111111111:key/${aws:username}")
    assert not literal.has_variables
    assert literal.matches("arn:aws:kms:us-east-1:111111111111:key/${aws:username}")


def test_resource_segments_are_accessible() -> None:
    p = compile_resource("arn:aws:kms:*:111111111111:key/*")
    assert len(p.segments) == 6 and p.segments[3].matches_everything


# ---- ArnLike (§3.3) ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "value", "want"),
    [
        (
            "arn:aws:svc:*:111122223333:finance/*",
            "arn:aws:svc:us-east-2:999999999999:store/abc:111122223333:finance/doc.txt",
            False,
        ),  # §6.46
        (
            "arn:aws:cloudtrail:*:111111111111:trail/*",
            "arn:aws:cloudtrail:us-east-1:111111111111:trail/t1",
            True,
        ),
        ("arn:aws:iam::*:role/Admin", "arn:aws:iam::222222222222:role/Admin", True),
        ("arn:aws:iam::*:role/Admin", "arn:aws:iam::222222222222:role/admin", False),
        ("arn:aws:logs:*:*:log-group:*", "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s", True),
        ("arn:aws:iam::*:role/*", "not-an-arn", False),
        ("not-an-arn*", "not-an-arn", False),
        ("arn:aws:s3:::b?", "arn:aws:s3:::b1", True),
        ("arn:aws:s3:*", "arn:aws:s3:::b1", False),  # 3 segments: malformed pattern
    ],
)
def test_arn_like(pattern: str, value: str, want: bool) -> None:
    assert compile_arn_like(pattern).matches(value) is want


def test_arn_like_variables() -> None:
    p = compile_arn_like("arn:aws:iam::${aws:PrincipalAccount}:user/*", variables=True)
    r = p.resolve({"aws:PrincipalAccount": "111111111111"}.get)
    assert r is not None and r.matches("arn:aws:iam::111111111111:user/u")
    assert not r.matches("arn:aws:iam::222222222222:user/u")


def test_split_arn() -> None:
    assert split_arn("arn:aws:logs:r:1:log-group:g:x") == ("arn", "aws", "logs", "r", "1", "log-group:g:x")
    assert split_arn("arn:aws:s3") is None


# ---- laws ----------------------------------------------------------------------------------------------

TEXT = st.text(alphabet="ab:/*?", max_size=8)


@given(TEXT)
def test_literal_glob_matches_itself(s: str) -> None:
    assert compile_glob(s, wildcards=False).matches(s)


@given(TEXT, TEXT)
def test_star_prefix(a: str, b: str) -> None:
    assert compile_glob(a.replace("*", "").replace("?", "") + "*").matches(
        a.replace("*", "").replace("?", "") + b
    )


@given(st.text(alphabet="ab*?", max_size=6), st.text(alphabet="ab", max_size=6))
def test_glob_agrees_with_fnmatch(pattern: str, text: str) -> None:
    import fnmatch

    assert compile_glob(pattern).matches(text) == fnmatch.fnmatchcase(text, pattern)
