"""The only module that builds Z3 terms: context, sorts, names and smart constructors.

Input: calls from `domain.py`, `encode.py` and `pipeline.py` that describe formulas.
Output: terms as SMT-LIB text (`Term` is a `str`), collected in a `Script` and turned into Z3 objects by one
`parse_smt2_string` call per script (`Script.parse`) in the single shared `z3.Context` (`context()`).
Guarantee: constructors fold constants (`and_()` with a `false` operand is `false`, `not_(not_(x))` is `x`),
every emitted symbol is a valid SMT-LIB symbol (names are quoted with `|...|` when needed), and nothing here
depends on a policy. Building terms as text and parsing once is ~30x faster than the z3 Python object layer
(encoding notes, "Where the time goes").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction
from functools import cache
from typing import Any

import z3

Term = str

TRUE: Term = "true"
FALSE: Term = "false"

BOOL = "Bool"
INT = "Int"
REAL = "Real"


def bitvec_sort(width: int) -> str:
    return f"(_ BitVec {width})"


@cache
def context() -> z3.Context:
    """The one Z3 context of the process (creating one costs ~14 ms)."""
    return z3.Context()


# ---- names --------------------------------------------------------------------------------------------

_SIMPLE = re.compile(r"^[A-Za-z_~!@$%^&*+=<>.?/-][A-Za-z0-9_~!@$%^&*+=<>.?/-]*$")
_RESERVED = frozenset(
    {
        "true",
        "false",
        "and",
        "or",
        "not",
        "ite",
        "let",
        "forall",
        "exists",
        "as",
        "par",
        "_",
        "!",
        "=>",
        "=",
        "distinct",
        "xor",
    }
)


def sym(name: str) -> Term:
    """A valid SMT-LIB symbol for `name` (quoted when it is not a simple symbol)."""
    if _SIMPLE.match(name) and name not in _RESERVED:
        return name
    cleaned = name.replace("|", "!").replace("\\", "/")
    return f"|{cleaned}|"


def unquote(symbol: str) -> str:
    """The name Z3 reports for a symbol produced by `sym` (no bars)."""
    return symbol[1:-1] if symbol.startswith("|") and symbol.endswith("|") else symbol


# ---- smart constructors ------------------------------------------------------------------------------


def _is_not(t: Term) -> bool:
    return t.startswith("(not ") and t.endswith(")")


def not_(t: Term) -> Term:
    if t == TRUE:
        return FALSE
    if t == FALSE:
        return TRUE
    if _is_not(t):
        return t[5:-1]
    return f"(not {t})"


def and_(*terms: Term | Iterable[Term]) -> Term:
    return _junction("and", FALSE, TRUE, terms)


def or_(*terms: Term | Iterable[Term]) -> Term:
    return _junction("or", TRUE, FALSE, terms)


def _junction(op: str, absorbing: Term, unit: Term, terms: tuple[Term | Iterable[Term], ...]) -> Term:
    """`(op ...)` of the distinct terms other than `unit`, in order; `absorbing` if any term is it, `unit`
    if none is left, the term itself if one is."""
    out: list[Term] = []
    seen: set[Term] = set()
    for t in _flatten(terms):
        if t == absorbing:
            return absorbing
        if t == unit or t in seen:
            continue
        seen.add(t)
        out.append(t)
    if not out:
        return unit
    if len(out) == 1:
        return out[0]
    return f"({op} " + " ".join(out) + ")"


def _flatten(terms: tuple[Term | Iterable[Term], ...]) -> list[Term]:
    flat: list[Term] = []
    for t in terms:
        if isinstance(t, str):
            flat.append(t)
        else:
            flat.extend(t)
    return flat


def implies(a: Term, b: Term) -> Term:
    if a == FALSE or b == TRUE:
        return TRUE
    if a == TRUE:
        return b
    if b == FALSE:
        return not_(a)
    return f"(=> {a} {b})"


def iff(a: Term, b: Term) -> Term:
    if a == b:
        return TRUE
    if a == TRUE:
        return b
    if b == TRUE:
        return a
    if a == FALSE:
        return not_(b)
    if b == FALSE:
        return not_(a)
    return f"(= {a} {b})"


def ite(c: Term, a: Term, b: Term) -> Term:
    if c == TRUE or a == b:
        return a
    if c == FALSE:
        return b
    if a == TRUE and b == FALSE:
        return c
    if a == FALSE and b == TRUE:
        return not_(c)
    return f"(ite {c} {a} {b})"


def eq(a: Term, b: Term) -> Term:
    if a == b:
        return TRUE
    return f"(= {a} {b})"


def int_(n: int) -> Term:
    return str(n) if n >= 0 else f"(- {-n})"


def real(q: Fraction | int) -> Term:
    q = Fraction(q)
    num = f"{abs(q.numerator)}.0"
    body = num if q.denominator == 1 else f"(/ {num} {q.denominator}.0)"
    return f"(- {body})" if q < 0 else body


def bv(n: int, width: int) -> Term:
    return f"(_ bv{n} {width})"


def cmp(op: str, a: Term, b: Term) -> Term:
    """Arithmetic or bit-vector comparison: op in <, <=, >, >=, bvule, bvuge, bvult, bvugt."""
    return f"({op} {a} {b})"


def bvand(a: Term, b: Term) -> Term:
    return f"(bvand {a} {b})"


# ---- strings and regular expressions (the local string queries of `variables.realise`) -----------------

STRING = "String"


def str_lit(text: str) -> Term:
    """An SMT-LIB string literal: printable ASCII as is, `"` doubled, anything else as `\\u{hex}`."""
    out = []
    for ch in text:
        if ch == '"':
            out.append('""')
        elif " " <= ch <= "~" and ch != "\\":
            out.append(ch)
        else:
            out.append(f"\\u{{{ord(ch):x}}}")
    return '"' + "".join(out) + '"'


def concat(*terms: Term) -> Term:
    if not terms:
        return '""'
    return terms[0] if len(terms) == 1 else f"(str.++ {' '.join(terms)})"


def in_re(s: Term, regex: Term) -> Term:
    return f"(str.in_re {s} {regex})"


RE_ALL_CHAR = "re.allchar"
RE_NONE = "re.none"
RE_EMPTY = '(str.to_re "")'


def re_chars(chars: Iterable[str], negated: bool = False) -> Term:
    """One character of `chars` (or, `negated`, any other character)."""
    ones: list[Term] = []
    codes = sorted(ord(c) for c in chars)
    i = 0
    while i < len(codes):  # contiguous code points as one range
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        lo, hi = chr(codes[i]), chr(codes[j])
        ones.append(f"(str.to_re {str_lit(lo)})" if i == j else f"(re.range {str_lit(lo)} {str_lit(hi)})")
        i = j + 1
    union = RE_NONE if not ones else ones[0] if len(ones) == 1 else f"(re.union {' '.join(ones)})"
    if not negated:
        return union
    return RE_ALL_CHAR if not ones else f"(re.inter re.allchar (re.comp {union}))"


def re_concat(*regexes: Term) -> Term:
    parts = [r for r in regexes if r != RE_EMPTY]
    if not parts:
        return RE_EMPTY
    return parts[0] if len(parts) == 1 else f"(re.++ {' '.join(parts)})"


def re_union(*regexes: Term) -> Term:
    parts = list(dict.fromkeys(regexes))
    if not parts:
        return RE_NONE
    return parts[0] if len(parts) == 1 else f"(re.union {' '.join(parts)})"


def re_star(regex: Term) -> Term:
    return f"(re.* {regex})"


def re_loop(regex: Term, low: int, high: int) -> Term:
    return f"((_ re.loop {low} {high}) {regex})"


# ---- scripts -----------------------------------------------------------------------------------------


class Script:
    """Declarations, named definitions and assertions, emitted as one SMT-LIB text."""

    def __init__(self) -> None:
        self.decls: dict[str, str] = {}  # declared symbol -> sort
        self.defined: dict[str, str] = {}  # define-fun symbol -> sort
        self.definitions: dict[str, str] = {}  # define-fun symbol -> its define-fun line
        self._lines: list[str] = []
        self._asserts: list[Term] = []

    def declare(self, name: str, sort: str) -> Term:
        s = sym(name)
        if s in self.defined:
            raise ValueError(f"symbol `{name}` declared and defined")
        old = self.decls.get(s)
        if old is None:
            self.decls[s] = sort
            self._lines.append(f"(declare-fun {s} () {sort})")
        elif old != sort:
            raise ValueError(f"symbol `{name}` declared with two sorts")
        return s

    def define(self, name: str, term: Term, sort: str = BOOL) -> Term:
        """A named term (`define-fun` macro); constants are returned unchanged."""
        if term in (TRUE, FALSE):
            return term
        s = sym(name)
        if s in self.decls or s in self.defined:
            raise ValueError(f"symbol `{name}` defined twice")
        self.defined[s] = sort
        line = f"(define-fun {s} () {sort} {term})"
        self.definitions[s] = line
        self._lines.append(line)
        return s

    def name_const(self, name: str, term: Term) -> Term:
        """A declared Boolean equal to `term` (unlike `define`, its value can be read from a model)."""
        if term in (TRUE, FALSE):
            return term
        s = self.declare(name, BOOL)
        self.require(iff(s, term))
        return s

    def require(self, term: Term) -> None:
        if term != TRUE:
            self._asserts.append(term)

    def text(self) -> str:
        body = "\n".join(self._lines)
        asserts = "\n".join(f"(assert {t})" for t in self._asserts)
        return f"{body}\n{asserts}\n"

    def assertion_count(self) -> int:
        return len(self._asserts)

    def parse(self) -> list[Any]:
        """Parse the whole script in the shared context; returns the asserted Z3 Boolean terms."""
        if not self._asserts:
            return []
        vec = z3.parse_smt2_string(self.text(), ctx=context())
        return [vec[i] for i in range(len(vec))]


def bool_const(name: str) -> Any:
    """The Z3 Boolean constant of a declared symbol (assumption literals)."""
    return z3.Bool(unquote(sym(name)), context())
