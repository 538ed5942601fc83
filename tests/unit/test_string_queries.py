"""The local string queries of `variables.realise` (issue 14 item 1): the regular expression of a token
automaton accepts exactly what the automaton does, string literals round-trip through Z3, and a link is
realised or refuted exactly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reasoner.symbolic import smt, solve, strings, variables
from reasoner.symbolic.strings import CharSet, Nfa, Tok
from tests.strategies import examples

_CLASSES = (CharSet(frozenset("a")), CharSet(frozenset("ab:")), CharSet(frozenset(":"), True), strings.ANY,
            CharSet(frozenset('"\\')))
_toks = st.builds(Tok, st.sampled_from(_CLASSES), st.booleans())


@st.composite
def _nfas(draw: st.DrawFn) -> Nfa:
    toks = tuple(draw(st.lists(_toks, max_size=5)))
    n = len(toks)
    starts = frozenset(draw(st.sets(st.integers(0, n), min_size=1, max_size=2)))
    finals = frozenset(draw(st.sets(st.integers(0, n), min_size=1, max_size=3)))
    return Nfa(toks, starts, finals)


def _in(regex: str, text: str) -> bool:
    x = smt.sym("x")
    status, _ = solve.solve_strings({x: smt.STRING}, [smt.eq(x, smt.str_lit(text)), smt.in_re(x, regex)])
    assert status is not solve.Status.UNKNOWN
    return status is solve.Status.SAT


@settings(max_examples=examples(150), deadline=None)
@given(_nfas(), st.text(alphabet='ab:c"\\é', max_size=6))
def test_nfa_regex_is_the_automaton(nfa: Nfa, text: str) -> None:
    assert _in(variables.nfa_regex(nfa), text) is nfa.accepts(text)


def test_bounded_shapes_are_loops() -> None:
    shape = strings.shape(CharSet(frozenset("0123456789")), 12, 12)
    regex = variables.nfa_regex(shape)
    assert "re.loop" in regex
    assert _in(regex, "111122223333") and not _in(regex, "11112222333") and not _in(regex, "11112222333a")


@settings(max_examples=examples(60), deadline=None)
@given(st.text(max_size=8))
def test_string_literals_round_trip(text: str) -> None:
    """Z3 reads back exactly the string we wrote, whatever its characters (within Z3's alphabet)."""
    if any(ord(c) > 0x2FFFF for c in text):
        return
    x = smt.sym("x")
    status, values = solve.solve_strings({x: smt.STRING}, [smt.eq(x, smt.str_lit(text))])
    assert status is solve.Status.SAT and values[x] == text


class _F:
    pass


def test_realise_finds_strings_and_refutes_exactly() -> None:
    """`home/${u}/*` with the value `v` of another field: realised when the facts allow, refuted when the value
    must end in `/x` while the hole must not hold a slash... and the value's literal forces the hole."""
    from reasoner.semantics.patterns import compile_glob

    u, v = _F(), _F()
    items = variables.holed(compile_glob("home/${aws:username}/*", variables=True), lambda _k, _d: (u,))
    assert items is not None
    link = variables.Link("a", (v,), tuple(items))  # type: ignore[arg-type]
    names = strings.shape(CharSet(frozenset("abcdefghijklmnopqrstuvwxyz")), 1, 64)
    free = variables.FieldFacts(None, (names,))
    status, values = variables.realise(link, {u: free, v: variables.FieldFacts(None)})  # type: ignore[dict-item]
    assert status == "sat" and values[v].startswith(f"home/{values[u]}/")  # type: ignore[index]
    status, values = variables.realise(link, {u: free, v: variables.FieldFacts("home/bob/x")})  # type: ignore[dict-item]
    assert status == "sat" and values[u] == "bob"  # type: ignore[index]
    status, _ = variables.realise(link, {u: variables.FieldFacts(None, (names,), excluded=("bob",)),  # type: ignore[dict-item]
                                         v: variables.FieldFacts("home/bob/x")})
    assert status == "unsat"
