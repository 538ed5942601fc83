"""`semantics/names.py`: the IAM name rules, and the symbolic core's shape automata that assume them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reasoner.semantics import names
from reasoner.symbolic import domain

FIELDS = sorted(names.RULES)
# name characters, the path separator, and a few that are neither (space, `:`, `*`, non-ASCII, newline)
_ALPHABET = st.sampled_from(["a", "Z", "0", "_", "+", "=", ",", ".", "@", "-", "/", " ", ":", "*", "é", "\n"])


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("uname", "a", True), ("uname", "", False), ("uname", "u" * 64, True), ("uname", "u" * 65, False),
        ("role", "Admin+=,.@-_1", True), ("role", "a b", False), ("role", "a/b", False),
        ("sess", "a", False), ("sess", "ab", True), ("sess", "s" * 64, True), ("sess", "a\nb", False),
        ("fed", "f" * 32, True), ("fed", "f" * 33, False),
        ("upath", "", True), ("upath", "ops/", True), ("upath", "ops/team/", True), ("upath", "/", False),
        ("upath", "ops", False), ("rpath", "service-role/", True), ("rpath", "a b/", False),
    ],
)
def test_iam_name_rules(field: str, value: str, ok: bool) -> None:
    assert names.well_formed(field, value) is ok


@given(st.sampled_from(FIELDS), st.text(_ALPHABET, max_size=70))
def test_the_symbolic_core_assumes_the_same_rules(field: str, value: str) -> None:
    assert names.well_formed(field, value) == all(h.accepts(value) for h in domain._SHAPES[field])


def test_every_rule_has_words_and_a_shape() -> None:
    assert set(names.RULES) == set(names.NAME_LENGTHS) | names.PATH_FIELDS
    assert set(names.RULES) <= set(domain._SHAPES)
