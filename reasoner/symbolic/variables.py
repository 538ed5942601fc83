"""Policy variables whose values are symbolic: patterns with holes, matched exactly (semantics §3.4).

Input: a compiled pattern with policy variables (`patterns.Glob`, `ArnPattern` or `ResourcePattern`) and, per
variable, its value in one case of the symbolic request: constant text, the pieces of `domain.Case` (constants
and fields, e.g. the caller's account or user name), or absent (its default, or unresolved).
Output: `holed(...)`: the pattern as `Item`s (automaton tokens and `Hole`s, the variables' values inserted
literally), and `match(domain, pieces, items)`: the term "the value `pieces` is in the pattern".
Guarantee (exact, not sampled): a pattern whose holes are constants is an automaton (`strings`); a constant value
against holes is the finite disjunction over the ways to cut the value (each hole equal to one substring); a
symbolic value against holes is a `Link` of the domain, a Boolean that stands for the string relation itself
and that decoding realises or refines with a lemma (`decode.realise_links`). The split of a variable's value into
"one of the constants the policies write" and "another string" is exhaustive because the link holds for every
string the fields may take, literal or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from reasoner.semantics import patterns
from reasoner.symbolic import smt, strings
from reasoner.symbolic.smt import Term
from reasoner.symbolic.strings import ANY, NO_COLON, CharSet, Nfa, Tok


class Field(Protocol):
    """What a hole needs of a field of the symbolic request (`domain.StrField`)."""

    def is_lit(self, s: str) -> Term: ...

    def atom(self, nfa: Nfa) -> Term: ...


#: A piece of a value: constant text or a field (`domain.Piece`, without importing the domain).
Piece = str | Field


@dataclass(frozen=True)
class Hole:
    """A variable's value inserted into a pattern: `pieces` (constants and `domain.StrField`s), compared ignoring
    case under `ignore_case`; `no_colon` inside one of an ARN's first five segments (a value there never holds a
    colon: an ARN value is split at its colons first)."""

    pieces: tuple[Piece, ...]
    ignore_case: bool = False
    no_colon: bool = False


Item = Tok | Hole


def chars(text: str, ignore_case: bool) -> list[Tok]:
    out: list[Tok] = []
    for ch in text:
        if ignore_case and ch.lower() != ch.upper():
            out.append(Tok(CharSet(frozenset({ch.lower(), ch.upper()}))))
        else:
            out.append(Tok(CharSet(frozenset({ch}))))
    return out


def _tokens(tokens: tuple[patterns.Token, ...], values: Callable[[str, str | None], tuple[Piece, ...] | None],
            *, ignore_case: bool, cls: CharSet = ANY, segment_star: CharSet | None = None,
            no_colon: bool = False) -> list[Item] | None:
    """Items of one token sequence; None when a variable is unresolved (no value, no default)."""
    out: list[Item] = []
    for j, t in enumerate(tokens):
        if isinstance(t, patterns.Literal):
            out += chars(t.text, ignore_case)
        elif isinstance(t, patterns.Star):
            star = segment_star if segment_star is not None and j == len(tokens) - 1 else cls
            out.append(Tok(star, True))
        elif isinstance(t, patterns.AnyChar):
            out.append(Tok(cls))
        else:
            pieces = values(t.key, t.default)
            if pieces is None:
                return None
            out.append(Hole(pieces, ignore_case, no_colon))
    return out


def holed(typed: object, values: Callable[[str, str | None], tuple[Piece, ...] | None]) -> list[Item] | None:
    """`typed` (a Glob, ArnPattern or ResourcePattern with variables) as items, each variable replaced by the
    pieces `values(key, default)` gives (None: unresolved, the whole pattern matches nothing, semantics §3.4)."""
    if isinstance(typed, patterns.Glob):
        return _tokens(typed.tokens, values, ignore_case=typed.ignore_case)
    if isinstance(typed, patterns.ArnPattern):
        if typed.segments is None:
            return []
        out: list[Item] = []
        for i, seg in enumerate(typed.segments):
            if i:
                out.append(Tok(CharSet(frozenset(":"))))
            part = _tokens(seg.tokens, values, ignore_case=False, cls=ANY if i == 5 else NO_COLON, no_colon=i < 5)
            if part is None:
                return None
            out += part
        return out
    if isinstance(typed, patterns.ResourcePattern):
        if typed.everything:
            return [Tok(ANY, True)]
        if typed.never:
            return []
        out = []
        last = len(typed.segments) - 1
        for i, seg in enumerate(typed.segments):
            if i:
                out.append(Tok(CharSet(frozenset(":"))))
            if i == last:
                part = _tokens(seg.tokens, values, ignore_case=False)
            else:  # variables are only interpreted in the resource part (semantics §2.2)
                part = _tokens(seg.tokens, values, ignore_case=True, cls=NO_COLON, segment_star=ANY)
            if part is None:
                return None
            out += part
        return out
    raise TypeError(f"no items for {type(typed).__name__}")


def flatten(items: list[Item]) -> list[Item]:
    """Constant pieces of holes become tokens; a hole keeps one field each."""
    out: list[Item] = []
    for it in items:
        if isinstance(it, Tok):
            out.append(it)
            continue
        for p in it.pieces:
            if isinstance(p, str):
                toks = chars(p, it.ignore_case)
                if it.no_colon and ":" in p:
                    return [Tok(CharSet(frozenset()))]  # a constant value with a colon there: never matches
                out += toks
            else:
                out.append(Hole((p,), it.ignore_case, it.no_colon))
    return out


def as_pieces(items: list[Item]) -> tuple[Piece, ...]:
    """Items without wildcards (a value compared as text, e.g. a `Bool` value) as the pieces of a string."""
    out: list[Piece] = []
    for it in flatten(items):
        if isinstance(it, Hole):
            out.append(it.pieces[0])
            continue
        (ch,) = it.cs.chars if not it.star and not it.cs.negated and len(it.cs.chars) == 1 else (None,)
        if ch is None:
            raise ValueError("a wildcard in a value compared as text")
        if out and isinstance(out[-1], str):
            out[-1] += ch
        else:
            out.append(ch)
    return tuple(out)


def as_nfa(items: list[Item]) -> Nfa | None:
    """The automaton of items without holes, else None."""
    if any(isinstance(i, Hole) for i in items):
        return None
    return strings.sequence(*(i for i in items if isinstance(i, Tok)))


# ---- a constant value against holes -------------------------------------------------------------------


def _runs(items: list[Item]) -> list[tuple[Tok, ...] | Hole]:
    out: list[tuple[Tok, ...] | Hole] = []
    buf: list[Tok] = []
    for it in items:
        if isinstance(it, Tok):
            buf.append(it)
        else:
            out.append(tuple(buf))
            buf = []
            out.append(it)
    out.append(tuple(buf))
    return out


def _ends(run: tuple[Tok, ...], text: str, start: int) -> list[int]:
    """Positions `j` such that text[start:j] is in the language of the token run."""
    if not run:
        return [start]
    states = strings.closure(run, {0})
    out = [start] if len(run) in states else []
    for j in range(start, len(text)):
        states = strings.step(run, states, text[j])
        if not states:
            break
        if len(run) in states:
            out.append(j + 1)
    return out


def cuts(text: str, items: list[Item]) -> list[list[tuple[Hole, str]]]:
    """Every way to match `text` against flattened items: per way, the substring each hole takes (holes of
    the same field repeat, the caller ANDs them). Bounded by the text's length squared per hole."""
    runs = _runs(flatten(items))
    out: list[list[tuple[Hole, str]]] = []

    def go(k: int, i: int, acc: list[tuple[Hole, str]]) -> None:
        if len(out) > 4096:
            raise strings.WitnessBudgetExceeded("too many ways to cut a value against a pattern with variables")
        part = runs[k]
        if isinstance(part, Hole):
            for j in range(i, len(text) + 1):
                v = text[i:j]
                if part.no_colon and ":" in v:
                    break
                go(k + 1, j, [*acc, (part, v)])
            return
        for j in _ends(part, text, i):
            if k == len(runs) - 1:
                if j == len(text):
                    out.append(acc)
            else:
                go(k + 1, j, acc)

    go(0, 0, [])
    return out


def hole_equals(h: Hole, value: str) -> Term:
    """The hole's field is exactly `value` (ignoring case when the hole does)."""
    (f,) = h.pieces
    assert not isinstance(f, str)  # a flattened hole holds one field
    if h.ignore_case:
        return f.atom(strings.literal(value, ignore_case=True))
    return f.is_lit(value)


#: A constant value is split over the holes when that names at most this many (field, substring) pairs; past
#: it (e.g. `*${aws:username}*` against a long text: every substring) the relation is a `Link` instead.
CUT_VALUES = 16


def match_constant(text: str, items: list[Item]) -> Term | None:
    """`text` is in the pattern whose holes hold symbolic values: the disjunction over the cuts of `text`; None
    when the cuts name more than `CUT_VALUES` hole values (the caller keeps the relation whole)."""
    try:
        ways = cuts(text, items)
    except strings.WitnessBudgetExceeded:
        return None
    if len({(id(h.pieces[0]), h.ignore_case, v) for cut in ways for h, v in cut}) > CUT_VALUES:
        return None
    return smt.or_(smt.and_(hole_equals(h, v) for h, v in cut) for cut in ways)


# ---- a symbolic value against holes: links --------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """The Boolean `atom` stands for "the string of `value` (pieces) is in the pattern `items`", a relation between
    fields that decoding realises (`decode.realise_links`)."""

    atom: Term
    value: tuple[Piece, ...]
    items: tuple[Item, ...]

    def holds(self, strings_of: Callable[[object], str]) -> bool:
        """Whether the relation holds for concrete field values (`strings_of` gives a field's string)."""
        text = "".join(p if isinstance(p, str) else strings_of(p) for p in self.value)
        return bool(concrete_items(list(self.items), strings_of) is not None and
                    _accepts(concrete_items(list(self.items), strings_of), text))


def concrete_items(items: list[Item], strings_of: Callable[[object], str]) -> list[Item] | None:
    """The items with every hole replaced by its field's concrete string (inserted literally)."""
    out: list[Item] = []
    for it in flatten(items):
        if isinstance(it, Tok):
            out.append(it)
            continue
        (f,) = it.pieces
        v = strings_of(f)
        if it.no_colon and ":" in v:
            return None
        out += chars(v, it.ignore_case)
    return out


def _accepts(items: list[Item] | None, text: str) -> bool:
    if items is None:
        return False
    nfa = as_nfa(items)
    assert nfa is not None
    return nfa.accepts(text)


# ---- a relation no simple choice realises: a local query in the string theory ---------------------------


def nfa_regex(nfa: Nfa) -> Term:
    """The regular expression of a token automaton: the union, over its start and final positions, of the token
    runs between them (a star token loops at its own position; a run of one class repeated is a bounded
    loop)."""
    toks = nfa.toks
    if (nfa.starts == frozenset({0}) and toks and not any(t.star for t in toks) and len(set(toks)) == 1
            and nfa.finals == frozenset(range(min(nfa.finals), max(nfa.finals) + 1))):
        return smt.re_loop(_tok_regex(toks[0]), min(nfa.finals), max(nfa.finals))
    # from position s to position f: the tokens between them, and the star at f itself (it loops at f)
    return smt.re_union(*(_run_regex(toks[s : f + 1] if f < len(toks) and toks[f].star else toks[s:f])
                          for s in sorted(nfa.starts) for f in sorted(nfa.finals) if f >= s))


def _tok_regex(t: Tok) -> Term:
    one = smt.re_chars(t.cs.chars, t.cs.negated)
    return smt.re_star(one) if t.star else one


def _one_char(t: Tok) -> str | None:
    return next(iter(t.cs.chars)) if not t.star and not t.cs.negated and len(t.cs.chars) == 1 else None


def _run_regex(toks: tuple[Tok, ...] | list[Tok]) -> Term:
    parts: list[Term] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        j = i
        while j < len(toks) and _one_char(toks[j]) is not None:
            j += 1
        if j - i > 1:  # a literal word
            parts.append(f"(str.to_re {smt.str_lit(''.join(str(_one_char(x)) for x in toks[i:j]))})")
            i = j
            continue
        j = i + 1
        while not t.star and j < len(toks) and toks[j] == t:
            j += 1
        parts.append(_tok_regex(t) if j - i == 1 else smt.re_loop(_tok_regex(t), j - i, j - i))
        i = j
    return smt.re_concat(*parts)


@dataclass(frozen=True)
class FieldFacts:
    """What the abstraction says of one field in a model: its literal value, or (`literal` None) its shape,
    the pattern atoms it is in and not in, and the literals it is not."""

    literal: str | None
    hard: tuple[Nfa, ...] = ()
    inside: tuple[Nfa, ...] = ()
    outside: tuple[Nfa, ...] = ()
    excluded: tuple[str, ...] = ()


def realise(link: Link, facts: dict[Piece, FieldFacts]) -> tuple[str, dict[Piece, str]]:
    """Strings for the fields of `link` that satisfy their facts and put the value in the pattern (the link
    true), by one small query in Z3's string theory (`solve.solve_strings`, exact for these constraints): status
    "sat" with the values, "unsat" (no strings do: a fact the caller may turn into a lemma), or "unknown"
    (the solver gave up, or a hole compares ignoring case)."""
    from reasoner.symbolic import solve  # the query runs in its own solver

    names: dict[int, Term] = {}
    decls: dict[Term, str] = {}
    asserts: list[Term] = []

    constants: dict[int, str] = {}

    def var(f: Piece) -> Term:
        hit = names.get(id(f))
        if hit is not None:
            return hit
        ff = facts[f]
        # a field whose facts name one string is that string (Z3 decides such queries far more easily)
        word = ff.literal if ff.literal is not None else next(
            (n.literal_text for n in (*ff.hard, *ff.inside) if n.literal_text is not None), None)
        if word is not None:
            constants[id(f)] = word
            hit = names[id(f)] = smt.str_lit(word)
        else:
            hit = names[id(f)] = smt.sym(f"f{len(names)}")
            decls[hit] = smt.STRING
        if ff.literal is None:
            asserts.extend(smt.in_re(hit, nfa_regex(n)) for n in (*ff.hard, *ff.inside))
            asserts.extend(smt.not_(smt.in_re(hit, nfa_regex(n))) for n in ff.outside)
            asserts.extend(smt.not_(smt.eq(hit, smt.str_lit(x))) for x in ff.excluded)
        return hit

    lhs = smt.concat(*(smt.str_lit(p) if isinstance(p, str) else var(p) for p in link.value))
    rhs: list[Term] = []
    for part in _runs(flatten(list(link.items))):
        if isinstance(part, Hole):
            if part.ignore_case:
                return "unknown", {}
            v = var(part.pieces[0])
            if part.no_colon:
                asserts.append(smt.in_re(v, smt.re_star(smt.re_chars(":", negated=True))))
            rhs.append(v)
        elif all(_one_char(t) is not None for t in part):
            rhs.append(smt.str_lit("".join(str(_one_char(t)) for t in part)))
        else:
            w = smt.sym(f"w{len(decls)}")
            decls[w] = smt.STRING
            asserts.append(smt.in_re(w, _run_regex(part)))
            rhs.append(w)
    asserts.append(smt.eq(lhs, smt.concat(*rhs)))
    status, values = solve.solve_strings(decls, asserts)
    if status is not solve.Status.SAT:
        return status.value, {}
    by_name = {n: f for f in facts for n in [names.get(id(f))] if n is not None and id(f) not in constants}
    out = {by_name[n]: v for n, v in values.items() if n in by_name}
    out.update((f, constants[id(f)]) for f in facts if id(f) in constants)
    return "sat", out


__all__ = [
    "FieldFacts",
    "Hole",
    "Item",
    "Link",
    "as_nfa",
    "as_pieces",
    "chars",
    "concrete_items",
    "cuts",
    "flatten",
    "holed",
    "match_constant",
    "nfa_regex",
    "realise",
]
