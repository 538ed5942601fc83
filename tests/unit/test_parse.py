"""Unit tests of reasoner/front/parse.py: one group per grammar construct, then syntax errors, structure errors,
kinds, entry points, and Hypothesis round-trip / fuzz properties (semantics §1)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.errors import Diagnostic, InputError, PolicyValidationError, ReasonerError
from reasoner.front.ast import (
    ConditionOperator,
    Effect,
    PolicyDocument,
    PolicyKind,
    PrincipalType,
    SetQualifier,
    ValueKind,
)
from reasoner.front.parse import (
    _label_table,
    _parser,
    _syntax_examples,
    grammar_text,
    guess_kind,
    load_policy,
    parse_and_validate,
    parse_document,
    parse_operator,
    parse_policy,
    parse_tree,
)
from reasoner.source import Span
from tests.strategies import ast_to_canonical, canonical, dumps_varied, grammar_texts, policy_json

KEY = PolicyKind.KEY_POLICY


def doc_of(text: str, kind: PolicyKind | None = KEY) -> PolicyDocument:
    doc, diags = parse_document(text, file="t.json", kind=kind)
    assert doc is not None, [str(d) for d in diags]
    return doc


def errors_of(text: str, kind: PolicyKind | None = KEY) -> list[Diagnostic]:
    _, diags = parse_document(text, file="t.json", kind=kind)
    return [d for d in diags if d.is_error]


def codes(text: str, kind: PolicyKind | None = KEY) -> list[str]:
    return [d.code for d in errors_of(text, kind)]


def stmt(body: str) -> str:
    return '{"Version": "2012-10-17", "Statement": [' + body + "]}"


ALLOW_ALL = '{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}'


# ---- grammar loading -------------------------------------------------------------------------------------


def test_grammar_is_loaded_from_the_package_and_cached() -> None:
    assert "statement_block" in grammar_text()
    assert _parser() is _parser()


def test_parse_tree_rule_names_follow_the_aws_grammar() -> None:
    tree = parse_tree('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "a:b"}}')
    names = {t.data for t in tree.iter_subtrees()}
    assert {"policy", "version_block", "statement_block", "effect_block", "action_block"} <= names


# ---- <policy>, <version_block>, <id_block>, <statement_block> --------------------------------------------


def test_policy_top_level_elements() -> None:
    doc = doc_of('{"Id": "k1", "Version": "2012-10-17", "Statement": [' + ALLOW_ALL + "]}")
    assert doc.version is not None and doc.version.text == "2012-10-17"
    assert doc.id is not None and doc.id.text == "k1"
    assert len(doc.statements) == 1
    assert doc.span == Span("t.json", 1, 1, 1, doc.span.end_col)
    assert doc.supports_variables


def test_missing_version_means_2008_language() -> None:
    doc = doc_of('{"Statement": ' + ALLOW_ALL + "}")
    assert doc.version is None and not doc.supports_variables


def test_statement_as_object_or_list_is_the_same() -> None:  # semantics §1.1, corner case 62
    one = doc_of('{"Statement": ' + ALLOW_ALL + "}")
    many = doc_of('{"Statement": [' + ALLOW_ALL + "]}")
    assert ast_to_canonical(one) == ast_to_canonical(many)


def test_statement_index_and_label() -> None:
    doc = doc_of(
        stmt(
            ALLOW_ALL + ', {"Sid": "Two", "Effect": "Deny", "Principal": "*", "Action": "kms:*", '
            '"Resource": "*"}'
        )
    )
    assert [s.index for s in doc.statements] == [0, 1]
    assert [s.label for s in doc.statements] == ["Statement[0]", "Two"]


# ---- <effect_block> --------------------------------------------------------------------------------------


@pytest.mark.parametrize("effect", ["Allow", "Deny"])
def test_effect(effect: str) -> None:
    doc = doc_of(stmt(f'{{"Effect": "{effect}", "Principal": "*", "Action": "kms:*", "Resource": "*"}}'))
    st_ = doc.statements[0]
    assert st_.effect is Effect(effect)
    assert st_.effect_span.line == 1 and st_.effect_span.end_col - st_.effect_span.col == len(effect) + 2


@pytest.mark.parametrize("bad", ["allow", "DENY", "Allow ", "Permit", ""])
def test_effect_must_be_exact(bad: str) -> None:  # corner case 61
    errs = errors_of(stmt(f'{{"Effect": "{bad}", "Principal": "*", "Action": "kms:*", "Resource": "*"}}'))
    assert [e.code for e in errs] == ["POL009"]
    assert errs[0].span.col == len('{"Version": "2012-10-17", "Statement": [{"Effect": ') + 1
    if bad.strip().lower() in ("allow", "deny"):
        assert errs[0].help is not None and "case-sensitive" in errs[0].help


def test_effect_missing_or_wrong_type() -> None:
    assert codes(stmt('{"Principal": "*", "Action": "kms:*", "Resource": "*"}')) == ["POL008"]
    assert codes(stmt('{"Effect": true, "Principal": "*", "Action": "kms:*", "Resource": "*"}')) == ["POL004"]


# ---- <principal_block> -----------------------------------------------------------------------------------


def test_principal_wildcard_string() -> None:
    p = doc_of(stmt(ALLOW_ALL)).statements[0].principal
    assert p is not None and p.wildcard and not p.negated and p.entries == ()


def test_principal_map_all_types_scalars_and_lists() -> None:
    body = (
        '{"Effect": "Allow", "Principal": {"AWS": ["111122223333", "arn:aws:iam::444455556666:root"], '
        '"Service": "s3.amazonaws.com", "Federated": "cognito-identity.amazonaws.com", '
        '"CanonicalUser": "' + "a" * 64 + '"}, "Action": "kms:Decrypt", "Resource": "*"}'
    )
    p = doc_of(stmt(body)).statements[0].principal
    assert p is not None and not p.wildcard
    assert [(e.type, e.value.text) for e in p.entries] == [
        (PrincipalType.AWS, "111122223333"),
        (PrincipalType.AWS, "arn:aws:iam::444455556666:root"),
        (PrincipalType.SERVICE, "s3.amazonaws.com"),
        (PrincipalType.FEDERATED, "cognito-identity.amazonaws.com"),
        (PrincipalType.CANONICAL_USER, "a" * 64),
    ]
    assert all(e.span == e.value.span for e in p.entries)


def test_aws_star_is_an_entry_not_the_wildcard_form() -> None:  # semantics §1.3
    p = (
        doc_of(stmt('{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}'))
        .statements[0]
        .principal
    )
    assert p is not None and not p.wildcard and p.entries[0].value.text == "*"


def test_not_principal() -> None:
    p = (
        doc_of(
            stmt(
                '{"Effect": "Deny", "NotPrincipal": {"AWS": "111122223333"}, "Action": "kms:*", '
                '"Resource": "*"}'
            )
        )
        .statements[0]
        .principal
    )
    assert p is not None and p.negated


@pytest.mark.parametrize(
    ("principal", "code"),
    [
        ('"arn:aws:iam::111122223333:root"', "POL004"),  # a string other than *
        ('["*"]', "POL004"),
        ('{"aws": "111122223333"}', "POL018"),  # principal types are case-sensitive
        ('{"Group": "x"}', "POL018"),
        ('{"AWS": 111122223333}', "POL004"),  # numbers are not principals
        ('{"AWS": []}', "POL032"),
        ("{}", "POL032"),
        ('{"AWS": [{"a": 1}]}', "POL004"),
    ],
)
def test_principal_errors(principal: str, code: str) -> None:
    assert codes(
        stmt(f'{{"Effect": "Allow", "Principal": {principal}, "Action": "kms:*", "Resource": "*"}}')
    ) == [code]


def test_principal_and_not_principal() -> None:
    errs = errors_of(
        stmt('{"Effect": "Deny", "Principal": "*", "NotPrincipal": "*", "Action": "kms:*", "Resource": "*"}')
    )
    assert [e.code for e in errs] == ["POL016"]


# ---- <action_block>, <resource_block> --------------------------------------------------------------------


def test_action_and_resource_scalar_or_list() -> None:
    doc = doc_of(
        stmt(
            '{"Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt", "kms:Encrypt"], '
            '"NotResource": "arn:aws:kms:us-east-1:111122223333:key/k"}'
        )
    )
    s = doc.statements[0]
    assert s.action is not None and not s.action.negated
    assert [v.text for v in s.action.patterns] == ["kms:Decrypt", "kms:Encrypt"]
    assert s.resource is not None and s.resource.negated
    assert [v.text for v in s.resource.patterns] == ["arn:aws:kms:us-east-1:111122223333:key/k"]


def test_not_action() -> None:
    s = doc_of(
        stmt('{"Effect": "Allow", "Principal": "*", "NotAction": "kms:Decrypt", "Resource": "*"}')
    ).statements[0]
    assert s.action is not None and s.action.negated


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('"Action": {"kms": "Decrypt"}, "Resource": "*"', "POL004"),
        ('"Action": [], "Resource": "*"', "POL032"),
        ('"Action": ["kms:Decrypt", 5], "Resource": "*"', "POL004"),
        ('"Action": "kms:Decrypt", "Resource": null', "POL004"),
        ('"Action": "kms:Decrypt", "NotAction": "kms:Encrypt", "Resource": "*"', "POL011"),
        ('"Action": "kms:Decrypt", "Resource": "*", "NotResource": "*"', "POL013"),
    ],
)
def test_action_resource_errors(body: str, code: str) -> None:
    assert codes(stmt('{"Effect": "Allow", "Principal": "*", ' + body + "}")) == [code]


def test_conflicting_blocks_point_at_the_second_key() -> None:
    text = stmt(
        '{"Effect": "Allow", "Principal": "*", "NotAction": "kms:Encrypt", "Action": "kms:Decrypt", '
        '"Resource": "*"}'
    )
    err = errors_of(text)[0]
    assert text[err.span.col - 1 : err.span.end_col - 1] == '"Action"'


# ---- <condition_block> -----------------------------------------------------------------------------------


def test_condition_every_operator_with_qualifiers_and_if_exists() -> None:
    for op in ConditionOperator:
        for qual in SetQualifier:
            for if_exists in (False, True):
                if op is ConditionOperator.NULL and if_exists:
                    continue
                name = (f"{qual.value}:" if qual.value else "") + op.value + ("IfExists" if if_exists else "")
                body = (
                    '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", '
                    f'"Condition": {{"{name}": {{"aws:SomeKey": ["v1", "v2"]}}}}}}'
                )
                cond = doc_of(stmt(body)).statements[0].condition
                assert cond is not None
                (c,) = cond.conditions
                assert (c.qualifier, c.operator, c.if_exists) == (qual, op, if_exists)
                assert c.operator_text == name
                assert [v.text for v in c.values] == ["v1", "v2"]


def test_condition_typed_values_are_normalised() -> None:
    body = (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        '{"Bool": {"kms:GrantIsForAWSResource": true}, "NumericLessThan": {"aws:MultiFactorAuthAge": '
        '[1.50, -3, 1e3]}, "StringEquals": {"kms:CallerAccount": "111122223333"}}}'
    )
    cond = doc_of(stmt(body)).statements[0].condition
    assert cond is not None
    got = {(c.operator, c.key.text): [(v.text, v.kind) for v in c.values] for c in cond.conditions}
    assert got == {
        (ConditionOperator.BOOL, "kms:GrantIsForAWSResource"): [("true", ValueKind.BOOLEAN)],
        (ConditionOperator.NUMERIC_LESS_THAN, "aws:MultiFactorAuthAge"): [
            ("1.50", ValueKind.NUMBER),
            ("-3", ValueKind.NUMBER),
            ("1e3", ValueKind.NUMBER),
        ],
        (ConditionOperator.STRING_EQUALS, "kms:CallerAccount"): [("111122223333", ValueKind.STRING)],
    }


def test_condition_several_keys_become_several_conditions_with_spans() -> None:
    text = (
        '{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",\n'
        ' "Condition": {"StringEquals": {"kms:CallerAccount": "1",\n  "kms:ViaService": ["a", "b"]}}}}'
    )
    cond = doc_of(text).statements[0].condition
    assert cond is not None
    a, b = cond.conditions
    assert (a.key.text, b.key.text) == ("kms:CallerAccount", "kms:ViaService")
    assert a.operator_span == b.operator_span and a.operator_span.line == 2
    assert b.span.line == 3 and b.key.span.col == 3


def test_empty_condition_and_empty_value_list() -> None:
    body = '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": {}}'
    cond = doc_of(stmt(body)).statements[0].condition
    assert cond is not None and cond.conditions == ()
    body = (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", '
        '"Condition": {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": []}}}'
    )
    cond = doc_of(stmt(body)).statements[0].condition
    assert cond is not None and cond.conditions[0].values == ()


@pytest.mark.parametrize(
    ("condition", "code"),
    [
        ('{"StringEqualz": {"a": "b"}}', "POL019"),
        ('{"ForSomeValues:StringEquals": {"a": "b"}}', "POL019"),
        ('{"NullIfExists": {"a": "true"}}', "POL020"),
        ('{"StringEquals": "kms:CallerAccount"}', "POL004"),
        ('{"StringEquals": {"a": {"b": "c"}}}', "POL004"),  # condition value as an object
        ('{"StringEquals": {"a": [null]}}', "POL004"),
        ('{"StringEquals": {"a": [["b"]]}}', "POL004"),
        ('["StringEquals"]', "POL004"),
    ],
)
def test_condition_errors(condition: str, code: str) -> None:
    body = (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", '
        f'"Condition": {condition}}}'
    )
    assert codes(stmt(body)) == [code]


def test_unknown_operator_suggests_the_closest() -> None:
    body = (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", '
        '"Condition": {"ForAnyValue:StringEqual": {"a": "b"}}}'
    )
    (err,) = errors_of(stmt(body))
    assert err.help == "did you mean `ForAnyValue:StringEquals`?"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("StringEquals", (SetQualifier.NONE, ConditionOperator.STRING_EQUALS, False, True)),
        (
            "ForAllValues:StringLikeIfExists",
            (SetQualifier.FOR_ALL_VALUES, ConditionOperator.STRING_LIKE, True, True),
        ),
        (
            "ForAnyValue:ArnNotEquals",
            (SetQualifier.FOR_ANY_VALUE, ConditionOperator.ARN_NOT_EQUALS, False, True),
        ),
        ("NullIfExists", (SetQualifier.NONE, ConditionOperator.NULL, True, True)),
        ("stringequals", (SetQualifier.NONE, ConditionOperator.STRING_EQUALS, False, False)),
        (
            "forallvalues:stringequals",
            (SetQualifier.FOR_ALL_VALUES, ConditionOperator.STRING_EQUALS, False, False),
        ),
        ("StringEquals:Foo", None),
        ("IfExists", None),
        ("", None),
        ("ForAllValues:", None),
    ],
)
def test_parse_operator(text: str, expected: object) -> None:
    assert parse_operator(text) == expected


def test_operator_case_is_a_warning_only() -> None:  # semantics §7.4 (OPEN)
    body = (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", '
        '"Condition": {"stringEquals": {"a": "b"}}}'
    )
    doc, diags = parse_document(stmt(body), kind=KEY)
    assert doc is not None and [d.code for d in diags] == ["POL110"]
    assert doc.statements[0].condition is not None
    assert doc.statements[0].condition.conditions[0].operator is ConditionOperator.STRING_EQUALS


# ---- strings and escapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "decoded"),
    [
        (r"caf\u00e9", "café"),
        (r"a\"b", 'a"b'),
        (r"a\\b", "a\\b"),
        (r"a\/b", "a/b"),
        (r"\b\f\n\r\t", "\b\f\n\r\t"),
        (r"\u0041\u00ff", "Aÿ"),
        (r"\ud83d\ude00", "\U0001f600"),  # surrogate pair -> one code point (then rejected by POL024)
        ("é", "é"),
    ],
)
def test_json_escapes_are_decoded_exactly(written: str, decoded: str) -> None:
    doc = doc_of('{"Id": "' + written + '", "Statement": ' + ALLOW_ALL + "}")
    assert doc.id is not None and doc.id.text == decoded == json.loads('"' + written + '"')


def test_escaped_element_names_are_the_elements() -> None:
    doc = doc_of(
        '{"Statem\\u0065nt": {"Eff\\u0065ct": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}}'
    )
    assert doc.statements[0].effect is Effect.ALLOW


def test_escaped_duplicate_is_a_duplicate() -> None:
    text = (
        '{"Statement": {"Effect": "Allow", "Eff\\u0065ct": "Deny", "Principal": "*", "Action": "kms:*", '
        '"Resource": "*"}}'
    )
    assert codes(text) == ["POL002"]


# ---- duplicate keys (semantics §1.2, corner case 63) -----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": ' + ALLOW_ALL + "}",
        stmt('{"Effect": "Allow", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}'),
        stmt(
            '{"Effect": "Allow", "Principal": {"AWS": "1", "AWS": "2"}, "Action": "kms:*", "Resource": "*"}'
        ),
        stmt(
            '{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": '
            '{"StringEquals": {"a": "1"}, "StringEquals": {"b": "2"}}}'
        ),
        stmt(
            '{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": '
            '{"StringEquals": {"a": "1", "a": "2"}}}'
        ),
        '{"Statement": ' + ALLOW_ALL + ', "Extra": {"x": 1, "x": 2}}',
    ],
)
def test_duplicate_keys_in_any_object(text: str) -> None:
    errs = errors_of(text)
    assert "POL002" in [e.code for e in errs]
    dup = next(e for e in errs if e.code == "POL002")
    assert "first at line 1" in dup.message


def test_duplicate_key_span_is_the_second_key() -> None:
    text = '{\n  "Statement": {},\n  "Statement": []\n}'
    dup = next(e for e in errors_of(text) if e.code == "POL002")
    assert (dup.span.line, dup.span.col, dup.span.end_col) == (3, 3, 14)


# ---- unknown elements and wrong types at the top ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[]", ["POL001"]),
        ('"policy"', ["POL001"]),
        ("{}", ["POL006"]),
        ('{"Statement": []}', ["POL006"]),
        ('{"Statement": "x"}', ["POL004"]),
        ('{"Statement": [1]}', ["POL004"]),
        ('{"Version": 2012, "Statement": ' + ALLOW_ALL + "}", ["POL004"]),
        ('{"Id": ["a"], "Statement": ' + ALLOW_ALL + "}", ["POL004"]),
        ('{"statement": ' + ALLOW_ALL + "}", ["POL006", "POL003"]),  # sorted by position
        (
            '{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", '
            '"Sid": 1}}',
            ["POL004"],
        ),
        (
            '{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resources": "*"}}',
            ["POL003"],
        ),
    ],
)
def test_structure_errors(text: str, expected: list[str]) -> None:
    assert codes(text) == expected


def test_unknown_element_suggests_case() -> None:
    (err,) = errors_of(
        '{"Statement": {"effect": "Allow", "Effect": "Allow", "Principal": "*", '
        '"Action": "kms:*", "Resource": "*"}}'
    )
    assert err.code == "POL003" and err.help is not None and "`Effect`" in err.help


def test_all_structure_errors_are_collected_in_order() -> None:
    text = (
        '{"Version": "2012-10-17", "Statement": [\n'
        ' {"Effect": "allow", "Principal": "*", "Action": {"a": 1}, "Resource": "*"},\n'
        ' {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": 5},\n'
        ' {"Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"Bogus": {"a": "b"}}}\n'
        "]}"
    )
    errs = errors_of(text)
    assert [(e.code, e.span.line) for e in errs] == [
        ("POL009", 2),
        ("POL004", 2),
        ("POL004", 3),
        ("POL008", 4),
        ("POL019", 4),
    ]


def test_too_deep_is_an_error_not_a_crash() -> None:
    assert codes("[" * 5000 + "]" * 5000) == ["POL033"]
    assert codes('{"Statement": ' + "[" * 100 + "]" * 100 + "}") == ["POL033"]


# ---- syntax errors: exact positions and labels -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "col", "label"),
    [
        ('{"a": 1,}', 1, 9, "trailing comma"),
        ('{\n  "a": [1, 2,\n  ]\n}', 3, 3, "trailing comma"),
        ('{"a": 1\n "b": 2}', 2, 2, "missing comma"),
        ('{"Statement": {"Effect": "Allow"\n "Action": "x"}}', 2, 2, "missing comma"),
        ('["a" "b"]', 1, 6, "missing comma"),
        ('{"Resource": {"arn:aws:s3:::b"}}', 1, 31, "key without a value"),
        ('{"Bool": "kms:MultiRegion": true}', 1, 27, "`:` after a value"),
        ('{"a" 1}', 1, 6, "missing `:`"),
        ("{1: 2}", 1, 2, "key is not a string"),
        ('{"a": }', 1, 7, "missing value"),
        ('{"a": [1,,2]}', 1, 10, "missing value"),
        ('{"a": [1', 1, 9, "end of input"),
        ("", 1, 1, "empty document"),
        ("{} {}", 1, 4, "text after the end"),
        ('{"a": 01}', 1, 8, "leading zero"),
    ],
)
def test_syntax_error_positions_and_labels(text: str, line: int, col: int, label: str) -> None:
    (err,) = errors_of(text)
    assert err.code == "PARSE001"
    assert (err.span.line, err.span.col) == (line, col)
    assert label in err.message


@pytest.mark.parametrize(
    ("text", "line", "col", "fragment"),
    [
        ('{"a": "x\ty"}', 1, 9, "unescaped control character U+0009"),
        ('{"a": "x\ny"}', 1, 9, "unescaped line break"),
        ('{"a": "\\x"}', 1, 8, "invalid escape `\\x`"),
        ('{"a": "\\u12g4"}', 1, 8, "invalid escape"),
        ('{"a": "abc', 1, 7, "unterminated string"),
        ("{'a': 1}", 1, 2, "double quotes"),
        ('{"a": True}', 1, 7, "unexpected word `True`"),
        ('{"a": NaN}', 1, 7, "unexpected word `NaN`"),
        ('{"a": 1} // c', 1, 10, "comments"),
        ('{"a": +1}', 1, 7, "malformed number"),
        ('{"a": .5}', 1, 7, "malformed number"),
        ("\ufeff{}", 1, 1, "byte order mark"),
        ('{"a": 1}\x00', 1, 9, "U+0000"),
        ("{a: 1}", 1, 2, "double quotes"),
    ],
)
def test_lexical_errors(text: str, line: int, col: int, fragment: str) -> None:
    err = next(e for e in errors_of(text) if e.code == "PARSE001")
    assert (err.span.line, err.span.col) == (line, col)
    assert fragment in f"{err.message} {err.help}"


def test_a_bad_character_that_breaks_the_syntax_is_reported_once() -> None:
    _, diags = parse_and_validate("\ufeff{}", kind=KEY)
    assert [d.code for d in diags] == ["PARSE001"]
    _, diags = parse_and_validate('{"a": 1,\u2028}', kind=KEY)
    assert [d.code for d in diags] == ["PARSE001"]


def test_syntax_label_examples_are_all_malformed_and_consistent() -> None:
    """Every generated example fails to parse, and no (state, token) is claimed by two labels."""
    from lark.exceptions import UnexpectedInput

    from reasoner.front.parse import _error_state

    seen: dict[object, str] = {}
    for label, example in _syntax_examples():
        with pytest.raises(UnexpectedInput) as info:
            _parser().parse(example)
        key = _error_state(info.value)
        assert seen.setdefault(key, label) == label, (example, seen[key])
    assert len(_label_table()) == len(seen)


def test_syntax_error_is_the_only_structural_finding_but_characters_still_count() -> None:
    _, diags = parse_and_validate('{"Id": "a’b", "Statement": [1,]}', kind=KEY)
    assert [d.code for d in diags] == ["PARSE001", "POL024"] or [d.code for d in diags] == [
        "POL024",
        "PARSE001",
    ]


# ---- kinds -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ('{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}', PolicyKind.IDENTITY),
        (
            '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}',
            PolicyKind.KEY_POLICY,
        ),
        ('{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}', PolicyKind.KEY_POLICY),
        ('{"Effect": "Allow", "Principal": "*", "Resource": "*"}', PolicyKind.KEY_POLICY),
        (
            '{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}',
            PolicyKind.RESOURCE,
        ),
        (
            '{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}',
            PolicyKind.RESOURCE,
        ),
    ],
)
def test_guess_kind(body: str, kind: PolicyKind) -> None:
    doc = doc_of(stmt(body), kind=None)
    assert doc.kind is kind
    assert guess_kind(doc.statements) is kind


def test_explicit_kind_wins() -> None:
    assert doc_of(stmt(ALLOW_ALL), kind=PolicyKind.RESOURCE).kind is PolicyKind.RESOURCE


# ---- entry points ----------------------------------------------------------------------------------------


def test_parse_policy_raises_with_every_diagnostic() -> None:
    text = stmt(
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:ReEncrypt", "Resource": "*"}, '
        '{"Effect": "allow", "Principal": {"AWS": "arn:aws:iam::*:root"}, "Action": "kms:*", '
        '"Resource": "*"}'
    )
    with pytest.raises(PolicyValidationError) as info:
        parse_policy(text, file="p.json")
    got = [d.code for d in info.value.diagnostics]
    assert got == ["POL101", "POL009", "POL022"]
    assert info.value.code == "POL009"
    assert isinstance(info.value, ReasonerError) and isinstance(info.value, ValueError)


def test_parse_policy_accepts_warnings() -> None:
    doc = parse_policy(
        stmt('{"Effect": "Allow", "Principal": "*", "Action": "kms:ReEncrypt", "Resource": "*"}')
    )
    assert doc.kind is PolicyKind.KEY_POLICY and doc.source is not None


def test_load_policy(tmp_path: Path) -> None:
    p = tmp_path / "key.json"
    p.write_text(stmt(ALLOW_ALL), encoding="utf-8")
    doc = load_policy(p)
    assert doc.name == str(p) and doc.statements[0].span.file == str(p)
    assert load_policy(p, PolicyKind.RESOURCE).kind is PolicyKind.RESOURCE


@pytest.mark.parametrize(
    ("setup", "code"), [("missing", "INPUT001"), ("dir", "INPUT003"), ("latin1", "INPUT002")]
)
def test_load_policy_input_errors(tmp_path: Path, setup: str, code: str) -> None:
    p = tmp_path / "x.json"
    if setup == "dir":
        p.mkdir()
    elif setup == "latin1":
        p.write_bytes('{"Id": "café"}'.encode("latin-1"))
    with pytest.raises(InputError) as info:
        load_policy(p)
    assert info.value.code == code
    assert str(p) in info.value.message


# ---- Hypothesis: round trip and fuzzing ------------------------------------------------------------------


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_round_trip_random_policies(data: st.DataObject) -> None:
    """Random well-formed policy -> JSON text -> parse -> AST denotes the generating structure."""
    kind = data.draw(st.sampled_from(list(PolicyKind)))
    value = data.draw(policy_json(kind))
    text = dumps_varied(value, data.draw)
    doc, diags = parse_and_validate(text, file="rt.json", kind=kind)
    assert doc is not None, [str(d) for d in diags]
    assert not any(d.is_error for d in diags)
    assert ast_to_canonical(doc) == canonical(value)
    for s in doc.statements:  # every span lies inside the text
        assert 1 <= s.span.line <= text.count("\n") + 1


@st.composite
def _mutations(draw: st.DrawFn) -> str:
    text = dumps_varied(draw(policy_json(draw(st.sampled_from(list(PolicyKind))))), draw)
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        op = draw(st.sampled_from(("delete", "insert", "replace", "truncate", "duplicate")))
        junk = draw(st.sampled_from([*'{}[]:,"\\ \n\tx0-*’\x00\ud800', "true", "null", "\\u", "1e"]))
        if op == "delete":
            text = text[:i] + text[i + 1 :]
        elif op == "insert":
            text = text[:i] + junk + text[i:]
        elif op == "replace":
            text = text[:i] + junk + text[i + 1 :]
        elif op == "truncate":
            text = text[:i]
        else:
            j = draw(st.integers(i, min(len(text), i + 40)))
            text = text[:j] + text[i:j] + text[j:]
    return text


def _never_raises(text: str) -> None:
    from reasoner.face.render.diagnostics import FileReport, render_json, render_text
    from reasoner.source import SourceFile

    for kind in (None, PolicyKind.KEY_POLICY, PolicyKind.IDENTITY, PolicyKind.RCP):
        doc, diags = parse_and_validate(text, file="fuzz.json", kind=kind)
        report = FileReport("fuzz.json", tuple(diags), SourceFile("fuzz.json", text))
        render_text([report]).encode("utf-8")
        json.loads(render_json([report]))
        assert (doc is None) == any(d.is_error for d in diags)
        for d in diags:
            assert d.span.line >= 1 and d.span.col >= 1 and "\n" not in d.message
        with contextlib.suppress(ReasonerError):
            parse_policy(text, kind=kind)


@given(_mutations())
def test_mutated_policies_never_raise(text: str) -> None:
    _never_raises(text)


@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    _never_raises(text)


@given(grammar_texts())
def test_grammar_generated_json_has_no_syntax_error(text: str) -> None:
    """Texts generated from the grammar itself are valid JSON: never a PARSE001 (from_lark, style rule 8)."""
    _, diags = parse_document(text, kind=KEY)
    assert "PARSE001" not in [d.code for d in diags]
    json.loads(text)  # and Python's JSON parser agrees they are JSON


# ---- the fast lexer agrees with lark's contextual lexer -------------------------------------------------


def _outcome(parser: object, text: str) -> object:
    from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

    from reasoner.front.parse import _KEYWORD_TERMINALS

    try:
        return parser.parse(text)  # type: ignore[attr-defined]
    except UnexpectedCharacters as exc:
        return ("chars", exc.pos_in_stream, exc.line, exc.column)
    except UnexpectedToken as exc:  # what is reported: the token and its position
        tok = exc.token
        ttype = "STRING" if tok.type in _KEYWORD_TERMINALS else tok.type
        return ("token", ttype, tok.value, tok.line, tok.column, tok.end_column)
    except UnexpectedInput as exc:  # pragma: no cover - the LALR parser raises the two above
        return ("other", type(exc).__name__)


def _same_outcome(text: str) -> None:
    from reasoner.front.parse import _parser, _reference_parser

    assert _outcome(_parser(), text) == _outcome(_reference_parser(), text)


@given(_mutations())
def test_fast_lexer_agrees_on_mutated_policies(text: str) -> None:
    _same_outcome(text)


@given(st.one_of(grammar_texts(), st.text(alphabet='{}[]:," \n\tabtrue0-1.eE\\u', max_size=60)))
def test_fast_lexer_agrees_on_grammar_texts_and_json_soup(text: str) -> None:
    _same_outcome(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"Effect": "Effect", "Version": ["Version"]}',
        '["Effect": 1]',
        '{"a": 1}\n\n  {"Statement"}',
        '{\r\n "a":\r\n 01}',
        '{"a": "\\u00e9"',
        "",
        "   \n ",
    ],
)
def test_fast_lexer_agrees_on_edge_cases(text: str) -> None:
    _same_outcome(text)


def test_messages_stay_on_one_line_with_escaped_user_input() -> None:
    text = stmt('{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", '
                '"Condition": {"String\\nEquals": {"a": "b"}}, "Sid\\t": "x"}')
    errs = errors_of(text)
    assert [e.code for e in errs] == ["POL019", "POL003"]
    assert "`String\\nEquals`" in errs[0].message and "\n" not in errs[0].message
    assert "`Sid\\t`" in errs[1].message


def test_malformed_json_raises_policy_syntax_error_with_position() -> None:
    """parse_policy: malformed JSON is a PolicySyntaxError (also a PolicyValidationError and a SyntaxError)
    carrying the PARSE001 diagnostic and its position; a well-formed but invalid policy is not."""
    from reasoner.errors import PolicySyntaxError, PolicyValidationError
    from reasoner.front.parse import parse_policy

    with pytest.raises(PolicySyntaxError) as info:
        parse_policy('{"Statement": [\n  }', file="broken.json")
    err = info.value
    assert isinstance(err, PolicyValidationError) and isinstance(err, SyntaxError)
    assert err.code == "PARSE001"
    assert (err.filename, err.lineno, err.offset) == ("broken.json", 2, 3)
    assert [d.code for d in err.diagnostics] == ["PARSE001"]
    with pytest.raises(PolicyValidationError) as info2:
        parse_policy('{"Statement": []}', file="empty.json")
    assert not isinstance(info2.value, PolicySyntaxError)
