"""Unit tests of reasoner/symbolic/strings.py: pattern automata agree with patterns.py, witnesses are real, "no
witness" is exact, and minimal conflicts are minimal."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reasoner.semantics import patterns
from reasoner.symbolic.strings import (
    ACCOUNT_ID,
    WitnessBudgetExceeded,
    arn_glob,
    disjoint,
    find_witness,
    from_glob,
    glob,
    included,
    literal,
    minimal_conflict,
    states_after,
)

_CHARS = "ab:/*?"
pattern_text = st.text(alphabet=_CHARS, max_size=7)
value_text = st.text(alphabet="ab:/x", max_size=8)


@given(pattern_text, value_text, st.booleans())
def test_glob_automaton_agrees_with_patterns(p: str, v: str, ignore_case: bool) -> None:
    # semantics §3.3: StringLike glob
    g = patterns.compile_glob(p, ignore_case=ignore_case)
    assert from_glob(g).accepts(v) == g.matches(v)


@given(
    st.lists(st.text(alphabet="ab*?", max_size=3), min_size=6, max_size=6),
    st.text(alphabet="ab:", max_size=14),
)
def test_arn_automaton_agrees_with_patterns(segs: list[str], v: str) -> None:
    # semantics §3.3: ArnLike is segment-wise, `*` never spans a colon in the first five segments
    text = "arn:" + ":".join(segs[1:])
    value = "arn:" + v
    assert arn_glob(text).accepts(value) == patterns.compile_arn_like(text).matches(value)


def test_arn_doc_example() -> None:
    # semantics §3.3 example: StringLike true, ArnLike false
    value = "arn:aws:svc:us-east-2:999999999999:store/abc:111122223333:finance/doc.txt"
    assert glob("arn:aws:svc:*:111122223333:finance/*").accepts(value)
    assert not arn_glob("arn:aws:svc:*:111122223333:finance/*").accepts(value)
    assert not arn_glob("not-an-arn").accepts("not-an-arn")


def test_ignore_case_literal() -> None:
    assert literal("AppName", True).accepts("appname")
    assert not literal("AppName").accepts("appname")


def _brute_force(must, must_not, alphabet: str, max_len: int) -> str | None:
    for n in range(max_len + 1):
        for chars in itertools.product(alphabet, repeat=n):
            s = "".join(chars)
            if all(a.accepts(s) for a in must) and not any(a.accepts(s) for a in must_not):
                return s
    return None


@settings(max_examples=80)
@given(
    st.lists(st.text(alphabet="ab*?", max_size=4), min_size=1, max_size=3),
    st.lists(st.text(alphabet="ab*?", max_size=4), max_size=3),
)
def test_witness_exact(must_t: list[str], not_t: list[str]) -> None:
    must = [glob(t) for t in must_t]
    must_not = [glob(t) for t in not_t]
    w = find_witness(must, must_not)
    if w is not None:
        assert all(a.accepts(w) for a in must) and not any(a.accepts(w) for a in must_not)
        # BFS gives a shortest witness over the reduced alphabet
        brute = _brute_force(must, must_not, "abe", len(w))
        assert brute is not None and len(brute) == len(w)
    else:
        # patterns of length <= 4 over {a, b}: a witness, if any, has length <= 5 (sum of literal parts + 1)
        assert _brute_force(must, must_not, "abe", 5) is None


def test_account_witness_readable_and_distinct() -> None:
    w = find_witness([ACCOUNT_ID], [literal("111122223333")], prefer=["999999999999"])
    assert w == "999999999999"
    w2 = find_witness([ACCOUNT_ID, glob("9*")], [literal("999999999999")], prefer=["999999999999"])
    assert w2 is not None and len(w2) == 12 and w2.isdigit() and w2.startswith("9") and w2 != "999999999999"
    assert find_witness([ACCOUNT_ID, glob("*x*")]) is None


def test_minimal_conflict() -> None:
    must = [glob("a*"), glob("*x"), glob("b*")]
    ms, ns = minimal_conflict(must, [glob("zz")])
    assert (ms, ns) == ([0, 2], [])
    # the conflict needs a must-not pattern: `a*` but not `*`
    ms, ns = minimal_conflict([glob("a*"), glob("*b")], [glob("*")])
    assert (ms, ns) == ([], [0])


def test_inclusion_and_disjointness() -> None:
    assert included(glob("kms:Gen*Key"), glob("kms:Gen*"))
    assert not included(glob("kms:Gen*"), glob("kms:Gen*Key"))
    assert disjoint(glob("alias/a*"), glob("alias/b*"))
    assert not disjoint(glob("alias/*x"), glob("alias/a*"))


def test_states_after_splits_composite_values() -> None:
    g = glob("arn:aws:iam::*:role/Admin*")
    after_prefix = states_after(g, "arn:aws:iam::")
    acct = g.from_states(after_prefix)
    # the account part leaves the automaton in some state from which ":role/Admin..." is accepted
    mid = states_after(acct, "111122223333")
    rest = g.from_states(mid)
    assert rest.accepts(":role/AdminX")
    assert not rest.accepts(":user/AdminX")


def test_budget() -> None:
    many = [glob("*a?????????????*")]
    with pytest.raises(WitnessBudgetExceeded):
        find_witness(many, [glob("*a?????????????*b")], budget=50)


def test_avoid_literals_with_trie() -> None:
    lits = [f"{i:012d}" for i in range(50)]
    w = find_witness([ACCOUNT_ID, glob("0000000000*")], avoid=lits)
    assert w is not None and w not in lits and w.startswith("0000000000")
    assert find_witness([literal("abc")], avoid=["abc"]) is None
    assert find_witness([glob("ab?")], avoid=["abe", "aba"]) not in ("abe", "aba")


def test_fast_paths() -> None:
    # the regex fast path and the literal / everything shortcuts used by the encoder's cheap facts
    assert literal("").literal_text == "" and not literal("").accepts_everything
    assert literal("").accepts("") and not literal("").accepts("x")
    assert glob("*").accepts_everything and glob("**").accepts_everything
    assert not glob("*a").accepts_everything and glob("a?c").literal_text is None
    assert glob("a]b*").accepts("a]bxyz") and not glob("a]b*").accepts("ab")
    assert arn_glob("arn:aws:iam::*:root").accepts("arn:aws:iam::123:root")
    assert not arn_glob("arn:aws:iam::*:root").accepts("arn:aws:iam::1:2:root")


def test_a_pattern_that_accepts_every_continuation_ends_the_search_early() -> None:
    # a name of 1..64 letters that contains none of the letters: no witness, found without visiting the
    # product of 64 positions and 26 automata (before: the search exceeded its budget)
    from reasoner.symbolic.strings import CharSet, shape

    letters = "abcdefghijklmnopqrstuvwxyz"
    must_not = [glob(f"*{c}*") for c in letters]
    assert find_witness([shape(CharSet(frozenset(letters)), 1, 64)], must_not, budget=2_000) is None
    assert find_witness([shape(CharSet(frozenset(letters + "0")), 1, 64)], must_not, budget=2_000) == "0"


def test_a_long_length_limit_does_not_make_an_unsatisfiable_query_explore_every_length() -> None:
    # an S3 object key of 1..1,024 characters (requestfacts) under a pattern that a must-not pattern contains: no
    # witness, decided on the query with the limit lifted (before: one product state per length, the search
    # exceeded its budget; issue 13, the corpus policy ministryofjustice__modernisation-platform__72.json)
    from reasoner.symbolic.strings import CharSet, shape

    key = shape(CharSet(frozenset("\n\r"), True), 1, 1024)
    must_not = [glob("*/*.tflock")]
    assert find_witness([key, glob("env/bootstrap/*/dev/*.tflock")], must_not, budget=2_000) is None
    # lifting the limit only ever shows that there is no witness: one longer than the limit does not count
    short = shape(CharSet(frozenset("ab")), 1, 70)
    assert find_witness([short, glob("a" * 80 + "*")]) is None
    assert find_witness([short, glob("a" * 69 + "*")]) == "a" * 69
    w = find_witness([key, glob("env/*/dev/*.tflock")], [glob("env/x*")], avoid=["env/a/dev/a.tflock"])
    assert w is not None and key.accepts(w) and w != "env/a/dev/a.tflock" and not w.startswith("env/x")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["sqs.*.amazonaws.com", "s3.*.amazonaws.com", "*", "ec2.us-east-1.amazonaws.com", "*.com",
                        "vpce-*", "a*b", "?", "*.*.*.amazonaws.com", "x.y", "*-1.amazonaws.com"]),
       st.sampled_from([(), ("ec2.us-east-1.amazonaws.com",), ("s3.us-east-1.amazonaws.com", "a.a.amazonaws.com")]),
       st.booleans())
def test_cheap_facts_of_an_atom_agree_with_the_search(pattern: str, lits: tuple[str, ...], case: bool) -> None:
    """`domain._impossible` / `_certain` try the pattern's and the shape's own strings (`_samples`) before a
    search: the answers are those of the search alone (`find_witness`)."""
    from reasoner.symbolic import domain

    hard = (domain._shape_of("*.*.amazonaws.com"),)
    nfa = glob(pattern, ignore_case=case)
    lit_set = frozenset(lits)
    domain._impossible.cache_clear()
    domain._certain.cache_clear()
    assert domain._impossible(hard, nfa, lit_set) == (find_witness([*hard, nfa], avoid=lit_set) is None)
    assert domain._certain(hard, nfa, lit_set) == (find_witness(list(hard), [nfa], avoid=lit_set) is None)


def test_the_samples_of_a_pattern_and_a_shape_answer_without_a_search() -> None:
    from reasoner.symbolic import domain

    hard = domain._shape_of("*.*.amazonaws.com")
    sqs = glob("sqs.*.amazonaws.com")
    assert any(sqs.accepts(w) and hard.accepts(w) for w in domain._samples(sqs))  # `_impossible`: False at once
    assert any(hard.accepts(w) and not sqs.accepts(w) for w in domain._samples(hard))  # `_certain`: False at once
