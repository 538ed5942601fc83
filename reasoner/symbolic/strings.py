"""String automata for the finite abstraction: glob patterns, witness search, minimal conflicts (no z3).

Input: patterns as written in policies (`StringLike` globs, `ArnLike` patterns, literals, case-insensitive
literals) and field shapes (a 12-digit account id, a non-empty name without `:`), turned into small NFAs
(`Nfa`: a token sequence with start and final positions).
Output: `find_witness(must, must_not)`, a shortest readable string accepted by every automaton of `must`
and by none of `must_not` (or None when there is none), and `minimal_conflict`, a subset-minimal
unsatisfiable part of such a query (the refinement lemma of `pipeline.py`).
Guarantee: exact. The search runs over the product of the automata with the alphabet reduced to character
classes (every character an automaton names, plus one representative of all other characters), so "no
witness" is a proof that none exists; a search that exceeds its state budget raises `WitnessBudgetExceeded`
instead of answering.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from reasoner import limits
from reasoner.semantics import patterns

#: Characters tried first (in this order) when a witness character is free: readable output.
_PREFERRED = "exampl0123456789bcdfghijknoqrstuvwyzEXAMPLBCDFGHIJKNOQRSTUVWYZ-_./"
#: Search budget (product states visited) per query.
DEFAULT_BUDGET = 200_000


class WitnessBudgetExceeded(limits.TooComplex):
    """The product search visited more states than its budget allows (the caller reports UNKNOWN)."""


@dataclass(frozen=True)
class CharSet:
    """A set of characters: `chars` itself, or every character except `chars` when `negated`."""

    chars: frozenset[str]
    negated: bool = False

    def __contains__(self, ch: object) -> bool:
        return (ch in self.chars) != self.negated


ANY = CharSet(frozenset(), True)
NO_COLON = CharSet(frozenset(":"), True)
DIGITS = CharSet(frozenset("0123456789"))


@dataclass(frozen=True)
class Tok:
    """One position of a pattern: a single character from `cs`, or (`star`) any number of them."""

    cs: CharSet
    star: bool = False


@dataclass(frozen=True)
class Nfa:
    """A pattern automaton: the states are the positions 0..len(toks) between tokens; `starts` and `finals`
    are sets of positions (a plain pattern starts at {0} and ends at {len(toks)})."""

    toks: tuple[Tok, ...]
    starts: frozenset[int]
    finals: frozenset[int]

    def __hash__(self) -> int:
        # computed once: automata are dictionary keys on every hot path (atoms, caches of searches)
        h: int | None = self.__dict__.get("_hash")
        if h is None:
            h = hash((self.toks, self.starts, self.finals))
            object.__setattr__(self, "_hash", h)
        return h

    def accepts(self, text: str) -> bool:
        """Whole-string match: a compiled regex for plain patterns with at most two `*` (fast, and a
        backtracking regex is polynomial in the text only up to that), else the set-of-states simulation
        (linear in the text times the pattern)."""
        rx = _regex(self) if self.stars <= 2 else None
        if rx is not None:
            return rx.fullmatch(text) is not None
        return bool(run(self.toks, closure(self.toks, self.starts), text) & self.finals)

    @property
    def stars(self) -> int:
        n: int | None = self.__dict__.get("_stars")
        if n is None:
            n = sum(1 for t in self.toks if t.star)
            object.__setattr__(self, "_stars", n)
        return n

    @property
    def literal_text(self) -> str | None:
        """The one string of a pattern without wildcards (every token from the one start to the one final
        position a single character; also a literal piece of a longer pattern, such as the name part of an
        ARN)."""
        if len(self.starts) != 1 or len(self.finals) != 1:
            return None
        (s,), (f,) = self.starts, self.finals
        if s > f:
            return None
        out: list[str] = []
        for t in self.toks[s:f]:
            if t.star or t.cs.negated or len(t.cs.chars) != 1:
                return None
            out.append(next(iter(t.cs.chars)))
        return "".join(out)

    @property
    def accepts_everything(self) -> bool:
        """Every string is accepted: from a start, `*` tokens lead to a `*` over all characters from which
        `*` tokens lead to a final position (for example `*`, or the account part `*` of an ARN pattern)."""
        return _universal(self)

    def from_states(self, starts: frozenset[int]) -> Nfa:
        return Nfa(self.toks, starts, self.finals)

    @property
    def is_empty_language(self) -> bool:
        return not self.finals or not self.starts


def _sink_positions(nfa: Nfa, chars: Sequence[str] | None = None) -> frozenset[int]:
    """Positions from which `nfa` accepts every continuation (over `chars`, or over all characters): a `*`
    over them from which `*` tokens lead to a final position (the automaton stays there whatever it
    reads)."""
    toks = nfa.toks

    def covers(cs: CharSet) -> bool:
        return cs == ANY if chars is None else all(c in cs for c in chars)

    return frozenset(
        i
        for i in range(len(toks))
        if toks[i].star and covers(toks[i].cs) and any(f >= i and all(t.star for t in toks[i:f]) for f in nfa.finals)
    )


def _live_positions(nfa: Nfa, chars: Sequence[str]) -> frozenset[int]:
    """Positions from which `nfa` can still reach a final position reading only `chars`."""
    toks = nfa.toks
    out: set[int] = set()
    ok = False
    for i in range(len(toks), -1, -1):
        if i < len(toks):
            t = toks[i]
            ok = ok and (t.star or any(c in t.cs for c in chars))
        ok = ok or i in nfa.finals
        if ok:
            out.add(i)
    return frozenset(out)


@cache
def _universal(nfa: Nfa) -> bool:
    start = closure(nfa.toks, nfa.starts)
    return bool(start & _sink_positions(nfa))


_REGEX_CACHE: dict[Nfa, re.Pattern[str] | None] = {}


def _regex(nfa: Nfa) -> re.Pattern[str] | None:
    """A compiled regular expression for a plain pattern (start {0}, final {n}): fast concrete matching."""
    hit = _REGEX_CACHE.get(nfa, False)
    if hit is not False:
        return hit  # type: ignore[return-value]
    rx: re.Pattern[str] | None = None
    n = len(nfa.toks)
    low = min(nfa.finals, default=n)
    bounded = (
        nfa.finals == frozenset(range(low, n + 1))
        and all(not t.star and t.cs == nfa.toks[low].cs for t in nfa.toks[low:])
    )
    if nfa.starts == frozenset({0}) and (nfa.finals == frozenset({n}) or bounded):
        # a plain pattern, or one whose last positions are optional copies of one class (`shape`)
        parts: list[str] = []
        for t in nfa.toks[: low if bounded else n]:
            parts.append(_class(t.cs) + ("*" if t.star else ""))
        if bounded and n > low:
            parts.append(f"{_class(nfa.toks[low].cs)}{{0,{n - low}}}")
        rx = re.compile("".join(parts), re.DOTALL)
    _REGEX_CACHE[nfa] = rx
    return rx


def _class(cs: CharSet) -> str:
    """A regular-expression class for one position (`(?!)` for the empty set, which never matches)."""
    chars = "".join(re.escape(c) for c in sorted(cs.chars))
    if cs.negated:
        return f"[^{chars}]" if chars else "."
    return f"[{chars}]" if chars else "(?!)"


def _make(toks: Sequence[Tok]) -> Nfa:
    t = tuple(toks)
    limits.check_pattern(len(t), sum(1 for x in t if x.star))
    return Nfa(t, frozenset({0}), frozenset({len(t)}))


NEVER = Nfa((), frozenset(), frozenset())


def _char(ch: str, ignore_case: bool) -> CharSet:
    if ignore_case and ch.lower() != ch.upper():
        return CharSet(frozenset({ch.lower(), ch.upper()}))
    return CharSet(frozenset({ch}))


@cache
def literal(text: str, ignore_case: bool = False) -> Nfa:
    """Exactly `text` (case-insensitively when asked)."""
    return _make([Tok(_char(c, ignore_case)) for c in text])


def sequence(*parts: str | Tok) -> Nfa:
    """The linear automaton of `parts` in order: a string is matched literally, a `Tok` as itself."""
    toks: list[Tok] = []
    for p in parts:
        if isinstance(p, str):
            toks.extend(Tok(_char(c, False)) for c in p)
        else:
            toks.append(p)
    return _make(toks)


@cache
def glob(text: str, ignore_case: bool = False) -> Nfa:
    """A `StringLike` pattern without policy variables (`*` any sequence, `?` one character)."""
    return from_glob(patterns.compile_glob(text, ignore_case=ignore_case))


def from_glob(g: patterns.Glob) -> Nfa:
    """The automaton of a compiled glob (`patterns.Glob`, variables already resolved): literal text is
    matched per character (both cases under `ignore_case`), `*` any sequence, `?` one character."""
    return _from_tokens(g.tokens, g.ignore_case)


@cache
def _from_tokens(tokens: tuple[patterns.Token, ...], ignore_case: bool, cls: CharSet = ANY) -> Nfa:
    toks: list[Tok] = []
    for t in tokens:
        if isinstance(t, patterns.Literal):
            toks.extend(Tok(_char(c, ignore_case)) for c in t.text)
        elif isinstance(t, patterns.Star):
            toks.append(Tok(cls, True))
        elif isinstance(t, patterns.AnyChar):
            toks.append(Tok(cls))
        else:
            raise ValueError(f"unresolved policy variable `${{{t.key}}}` in a pattern")
    return _make(toks)


def from_arn(p: patterns.ArnPattern) -> Nfa:
    """The automaton of an `ArnLike`/`ArnEquals` value (semantics §3.3): the six segments matched one by
    one, a wildcard in the first five never crossing `:`, the resource part free to contain `:`; a malformed
    pattern matches nothing."""
    if p.segments is None:
        return NEVER
    toks: list[Tok] = []
    for i, seg in enumerate(p.segments):
        if i:
            toks.append(Tok(CharSet(frozenset(":"))))
        toks.extend(_from_tokens(seg.tokens, False, ANY if i == 5 else NO_COLON).toks)
    return _make(toks)


@cache
def from_resource(p: patterns.ResourcePattern) -> Nfa:
    """The automaton of a `Resource` entry (semantics §2.2, `patterns.ResourcePattern`, variables resolved):
    the first five segments case-insensitively, a wildcard there never crossing `:` unless it ends its
    segment; the resource part case-sensitively, `*` crossing anything."""
    if p.everything:
        return _make([Tok(ANY, True)])
    if p.never:
        return NEVER
    toks: list[Tok] = []
    last = len(p.segments) - 1
    for i, seg in enumerate(p.segments):
        if i:
            toks.append(Tok(CharSet(frozenset(":"))))
        if i == last:
            toks.extend(_from_tokens(seg.tokens, False).toks)
            continue
        for j, t in enumerate(seg.tokens):
            if isinstance(t, patterns.Literal):
                toks.extend(Tok(_char(c, True)) for c in t.text)
            elif isinstance(t, patterns.Star):
                toks.append(Tok(ANY if j == len(seg.tokens) - 1 else NO_COLON, True))
            elif isinstance(t, patterns.AnyChar):
                toks.append(Tok(NO_COLON))
            else:
                raise ValueError(f"unresolved policy variable `${{{t.key}}}` in a pattern")
    return _make(toks)


@cache
def arn_glob(text: str) -> Nfa:
    """`from_arn` of an ArnLike pattern text without policy variables."""
    return from_arn(patterns.compile_arn_like(text))


@cache
def shape(cs: CharSet, min_len: int = 0, max_len: int | None = None) -> Nfa:
    """Strings over `cs` with length in [min_len, max_len] (unbounded when max_len is None)."""
    toks = [Tok(cs)] * min_len
    if max_len is None:
        toks.append(Tok(cs, True))
        return _make(toks)
    # bounded: optional positions, encoded with final states at every allowed length
    toks += [Tok(cs)] * (max_len - min_len)
    t = tuple(toks)
    return Nfa(t, frozenset({0}), frozenset(range(min_len, max_len + 1)))


ACCOUNT_ID = shape(DIGITS, 12, 12)


# ---- simulation ----------------------------------------------------------------------------------------


def closure(toks: tuple[Tok, ...], states: Iterable[int]) -> frozenset[int]:
    """States reachable by skipping star tokens (the empty-word moves)."""
    out = set(states)
    todo = list(out)
    n = len(toks)
    while todo:
        i = todo.pop()
        if i < n and toks[i].star and i + 1 not in out:
            out.add(i + 1)
            todo.append(i + 1)
    return frozenset(out)


def step(toks: tuple[Tok, ...], states: frozenset[int], ch: str) -> frozenset[int]:
    nxt: set[int] = set()
    n = len(toks)
    for i in states:
        if i < n and ch in toks[i].cs:
            nxt.add(i if toks[i].star else i + 1)
    return closure(toks, nxt) if nxt else frozenset()


def run(toks: tuple[Tok, ...], states: frozenset[int], text: str) -> frozenset[int]:
    for ch in text:
        if not states:
            break
        states = step(toks, states, ch)
    return states


def states_after(nfa: Nfa, text: str) -> frozenset[int]:
    """The positions `nfa` can be in after reading `text` from its starts (for splitting a pattern over a
    composite value such as `arn:aws:iam::` + account + `:role/` + name)."""
    return run(nfa.toks, closure(nfa.toks, nfa.starts), text)


# ---- witness search --------------------------------------------------------------------------------------


def _alphabet(nfas: Iterable[Nfa]) -> list[str]:
    named: set[str] = set()
    for a in nfas:
        for t in a.toks:
            named |= t.cs.chars
    rep = next((c for c in _PREFERRED if c not in named), None)
    if rep is None:
        rep = next(chr(c) for c in range(0xA1, 0x2FF) if chr(c) not in named)
    order = {c: i for i, c in enumerate(_PREFERRED)}
    # `rep` stands for every character that no automaton names; readable characters are tried first
    return sorted(named | {rep}, key=lambda c: (order.get(c, len(order)), c))


def _classes(alphabet: list[str], autos: Sequence[Nfa], named: set[str]) -> list[str]:
    """The first character (in `alphabet`'s order) of each class of characters that every token of `autos`
    treats alike and that the `avoid` trie does not tell apart: the others lead to the same search states,
    so dropping them changes neither the answer nor the witness found, only the work."""
    sets = list(dict.fromkeys(t.cs for a in autos for t in a.toks))
    seen: set[tuple[object, ...]] = set()
    out: list[str] = []
    for ch in alphabet:
        sig = (ch if ch in named else None, *(ch in cs for cs in sets))
        if sig not in seen:
            seen.add(sig)
            out.append(ch)
    return out


#: A bounded shape (`shape(cs, lo, hi)`) with more positions than this is relaxed to `shape(cs, lo)` for the quick
#: "no witness" test of `find_witness`.
_RELAX_OVER = 64


@cache
def _relaxed(nfa: Nfa) -> Nfa | None:
    """`shape(cs, lo)` when `nfa` is a long bounded shape `shape(cs, lo, hi)` (a length limit such as a 1,024-character
    object key: one position per character), else None. Its language is a superset of `nfa`'s."""
    toks = nfa.toks
    if len(toks) <= _RELAX_OVER or nfa.starts != frozenset({0}):
        return None
    cs = toks[0].cs
    if any(t.star or t.cs != cs for t in toks):
        return None
    lo = min(nfa.finals)
    if nfa.finals != frozenset(range(lo, len(toks) + 1)):
        return None
    return shape(cs, lo)


def find_witness(
    must: Sequence[Nfa],
    must_not: Sequence[Nfa] = (),
    *,
    avoid: Iterable[str] = (),
    prefer: Sequence[str] = (),
    budget: int = DEFAULT_BUDGET,
) -> str | None:
    """A string accepted by every automaton in `must`, by none in `must_not`, and not in `avoid` (a set of
    literals, tracked with a trie rather than one automaton each); the first matching string of `prefer` if
    any, else a shortest one (readable characters first). None when no such string exists."""
    if any(a.is_empty_language for a in must):
        return None
    avoid_set = frozenset(avoid)
    for cand in prefer:
        if (
            cand not in avoid_set
            and all(a.accepts(cand) for a in must)
            and not any(a.accepts(cand) for a in must_not)
        ):
            return cand
    relaxed = [_relaxed(a) for a in must]
    if any(r is not None for r in relaxed):
        # a length limit makes the product one state per length: an unsatisfiable query is explored up to the
        # limit (seconds for 1,024). The query with the limit lifted (and without `avoid`) accepts a superset:
        # when it has no witness neither has this one; otherwise the search below decides, as without this test
        try:
            if find_witness([r or a for r, a in zip(relaxed, must, strict=True)], must_not, budget=budget) is None:
                return None
        except WitnessBudgetExceeded:
            pass
    autos = [*must, *must_not]
    k = len(must)
    named = {c for w in avoid_set for c in w}
    alphabet = _classes(_alphabet([*autos, _make([Tok(CharSet(frozenset(named)))])] if named else autos), autos, named)
    # the trie of `avoid`: a node is the prefix read so far, or None once the prefix left every literal
    prefixes = {w[:i] for w in avoid_set for i in range(len(w) + 1)}
    State = tuple[str | None, tuple[frozenset[int], ...]]
    start: State = ("" if prefixes else None, tuple(closure(a.toks, a.starts) for a in autos))

    def accepting(state: State) -> bool:
        node, sets = state
        if node is not None and node in avoid_set:
            return False
        return all(sets[i] & autos[i].finals for i in range(k)) and not any(
            sets[i] & autos[i].finals for i in range(k, len(autos))
        )

    # positions of a `must_not` automaton from which it accepts every continuation (a `*` over all
    # characters, from which `*` tokens lead to a final position): a search state in one of them can never
    # lead to a witness
    # only characters that every `must` automaton can read somewhere can occur in a witness; relative to
    # them, a `*` may be a sink although it excludes some other character (`*` in an ARN's account part)
    alphabet = [c for c in alphabet if all(any(c in t.cs for t in a.toks) for a in autos[:k])]
    doomed = [_sink_positions(a, alphabet) for a in autos[k:]]
    live = [_live_positions(a, alphabet) for a in autos[:k]]
    if any(start[1][k + j] & d for j, d in enumerate(doomed)) or any(
        not start[1][i] & live[i] for i in range(k)
    ):
        return None
    tokss = [a.toks for a in autos]
    memos: list[dict[tuple[frozenset[int], str], frozenset[int]]] = [{} for _ in autos]
    parent: dict[State, tuple[State, str] | None] = {start: None}
    queue = deque([start])
    while queue:
        limits.tick()
        state = queue.popleft()
        if accepting(state):
            chars: list[str] = []
            cur: State | None = state
            while cur is not None:
                link = parent[cur]
                if link is None:
                    break
                cur, ch = link
                chars.append(ch)
            return "".join(reversed(chars))
        node, sets = state
        for ch in alphabet:
            # each automaton's step (memoised per search: the same positions recur at every length), stopping at
            # the first `must` automaton that can no longer accept or `must_not` one that accepts every
            # continuation
            steps: list[frozenset[int]] = []
            dead = False
            for i, toks in enumerate(tokss):
                memo = memos[i]
                nx = memo.get((sets[i], ch))
                if nx is None:
                    nx = memo[(sets[i], ch)] = step(toks, sets[i], ch)
                if not nx & live[i] if i < k else bool(nx & doomed[i - k]):
                    dead = True
                    break
                steps.append(nx)
            if dead:
                continue
            nxt_sets = tuple(steps)
            nxt_node = node + ch if node is not None and node + ch in prefixes else None
            nxt: State = (nxt_node, nxt_sets)
            if nxt in parent:
                continue
            parent[nxt] = (state, ch)
            if len(parent) > budget:
                raise WitnessBudgetExceeded(f"witness search exceeded {budget} states")
            queue.append(nxt)
    return None


def minimal_conflict(
    must: Sequence[Nfa],
    must_not: Sequence[Nfa],
    *,
    hard_must: Sequence[Nfa] = (),
    hard_must_not: Sequence[Nfa] = (),
    avoid: Iterable[str] = (),
) -> tuple[list[int], list[int]]:
    """A subset-minimal (must, must_not) index pair that has no witness together with the hard constraints.
    Precondition: the whole query has no witness."""
    keep_m = list(range(len(must)))
    keep_n = list(range(len(must_not)))
    avoid = frozenset(avoid)

    def sat(ms: list[int], ns: list[int]) -> bool:
        return (
            find_witness(
                [*hard_must, *(must[i] for i in ms)],
                [*hard_must_not, *(must_not[j] for j in ns)],
                avoid=avoid,
            )
            is not None
        )

    for i in list(keep_m):
        limits.tick()
        trial = [x for x in keep_m if x != i]
        if not sat(trial, keep_n):
            keep_m = trial
    for j in list(keep_n):
        limits.tick()
        trial = [x for x in keep_n if x != j]
        if not sat(keep_m, trial):
            keep_n = trial
    return keep_m, keep_n


def included(a: Nfa, b: Nfa, *, within: Sequence[Nfa] = ()) -> bool:
    """Every string of `a` (and of every automaton in `within`) is in `b`."""
    return find_witness([*within, a], [b], budget=20_000) is None


def disjoint(a: Nfa, b: Nfa, *, within: Sequence[Nfa] = ()) -> bool:
    """No string is in both `a` and `b` (and every automaton in `within`)."""
    return find_witness([*within, a, b], budget=20_000) is None
