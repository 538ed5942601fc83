"""Wildcard patterns of the policy language: globs, IAM actions, Resource ARNs, ArnLike values, variables.

Input: pattern text as written in a policy (`kms:Generate*`, `arn:aws:kms:*:111122223333:key/*`,
`home/${aws:username}/${*}`).
Output: compiled, cached pattern objects with `.matches(s)` and a readable token structure
(`Literal` / `Star` / `AnyChar` / `Variable`) that an automaton builder can walk.
Guarantee: one compilation per (text, flags), shared by every policy and request (functools cache);
matching follows semantics §2.1 (actions), §2.2 (Resource: segment-wise, a segment-final `*` may cross
colons), §3.3 (StringLike glob; ArnLike strictly segment-wise) and §3.4 (policy variables, defaults,
`${*}`/`${?}`/`${$}` escapes). Resolved variable values are literal text, never wildcards.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from reasoner.semantics import arns

# ---- tokens ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    """Literal text. `escaped` is True for text from `${*}`, `${?}`, `${$}` or a resolved variable: it is
    never a wildcard and its `:` never separates ARN segments."""

    text: str
    escaped: bool = False


@dataclass(frozen=True)
class Star:
    """`*`: any sequence of characters, possibly empty."""


@dataclass(frozen=True)
class AnyChar:
    """`?`: exactly one character."""


@dataclass(frozen=True)
class Variable:
    """`${key}` or `${key, 'default'}` (key as written; keys compare case-insensitively)."""

    key: str
    default: str | None = None


Token = Literal | Star | AnyChar | Variable

STAR = Star()
ANY_CHAR = AnyChar()

# `${key}` / `${key, 'default'}`; the default is single-quoted (semantics §3.4)
_VAR = re.compile(r"\$\{\s*([^}',]+?)\s*(?:,\s*'([^']*)'\s*)?\}")


def tokenize(text: str, *, variables: bool = False, wildcards: bool = True) -> tuple[Token, ...]:
    """Split pattern text into tokens. With `variables`, `${...}` is interpreted (semantics §3.4); otherwise
    it is literal text. With `wildcards` False, `*` and `?` are literal (StringEquals, §3.3)."""
    out: list[Token] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            out.append(Literal("".join(buf)))
            buf.clear()

    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if variables and ch == "$" and text.startswith("${", i):
            m = _VAR.match(text, i)
            if m is not None:
                flush()
                name = m.group(1)
                if name in ("*", "?", "$") and m.group(2) is None:
                    out.append(Literal(name, escaped=True))
                else:
                    out.append(Variable(name, m.group(2)))
                i = m.end()
                continue
        if wildcards and ch == "*":
            flush()
            out.append(STAR)
        elif wildcards and ch == "?":
            flush()
            out.append(ANY_CHAR)
        else:
            buf.append(ch)
        i += 1
    flush()
    return _merge(out)


def _merge(tokens: list[Token]) -> tuple[Token, ...]:
    """Merge adjacent literals of the same escaping and collapse runs of stars."""
    out: list[Token] = []
    for t in tokens:
        prev = out[-1] if out else None
        if isinstance(t, Literal) and isinstance(prev, Literal) and prev.escaped == t.escaped:
            out[-1] = Literal(prev.text + t.text, t.escaped)
        elif (isinstance(t, Star) and isinstance(prev, Star)) or (isinstance(t, Literal) and not t.text):
            continue
        else:
            out.append(t)
    return tuple(out)


def _token_regex(tokens: tuple[Token, ...], star: str = ".*", any_char: str = ".") -> str:
    parts: list[str] = []
    for t in tokens:
        if isinstance(t, Literal):
            parts.append(re.escape(t.text))
        elif isinstance(t, Star):
            parts.append(star)
        elif isinstance(t, AnyChar):
            parts.append(any_char)
        else:
            raise ValueError(f"unresolved variable `${{{t.key}}}` cannot be matched")
    return "".join(parts)


# ---- backtracking-free matching of hostile patterns ---------------------------------------------------
# Patterns compile to Python regexes, whose backtracking is polynomial of the degree of the number of stars:
# `*a*a*...*a*b` (40 stars) against `aaa...a` would run for ages. Patterns with several stars, and long
# subjects, are therefore matched by simulating the pattern's automaton (time O(len(subject) * atoms)),
# which accepts exactly what the regex accepts (tests/test_hostile_inputs.py compares the two).


@dataclass(frozen=True, slots=True)
class _Atom:
    """One step of a pattern: `c` a literal character (`fold`: compared in lower case), `?` one character,
    `*` any run; `colon` False: the atom never consumes `:` (segment-inner wildcards of a Resource)."""

    kind: str
    char: str = ""
    fold: bool = False
    colon: bool = True


def _literal_atoms(text: str, fold: bool) -> list[_Atom]:
    return [_Atom("c", ch.lower() if fold else ch, fold) for ch in text]


def _glob_atoms(tokens: tuple[Token, ...], fold: bool) -> tuple[_Atom, ...]:
    out: list[_Atom] = []
    for t in tokens:
        if isinstance(t, Literal):
            out.extend(_literal_atoms(t.text, fold))
        elif isinstance(t, Star):
            out.append(_Atom("*"))
        elif isinstance(t, AnyChar):
            out.append(_Atom("?"))
    return tuple(out)


def _stars(atoms: tuple[_Atom, ...]) -> int:
    return sum(1 for a in atoms if a.kind == "*")


def _automaton_fullmatch(atoms: tuple[_Atom, ...], subject: str) -> bool:
    """Whether `subject` matches the whole atom sequence; a set-of-states simulation, no backtracking."""
    end = len(atoms)

    def closure(states: set[int]) -> set[int]:
        out: set[int] = set()
        stack = list(states)
        while stack:
            i = stack.pop()
            if i in out:
                continue
            out.add(i)
            if i < end and atoms[i].kind == "*":
                stack.append(i + 1)  # a star may match the empty run
        return out

    current = closure({0})
    for ch in subject:
        low = ch.lower()
        following: set[int] = set()
        for i in current:
            if i == end:
                continue
            atom = atoms[i]
            if ch == ":" and not atom.colon:
                continue
            if atom.kind == "*":
                following.add(i)
            elif atom.kind == "?" or atom.char == ch or (atom.fold and atom.char == low):
                following.add(i + 1)
        if not following:
            return False
        current = closure(following)
    return end in current


#: Subjects longer than this are matched by the automaton even for patterns with two stars.
_REGEX_MAX_SUBJECT = 256


def _fullmatch(regex: re.Pattern[str], star_count: int, atoms: tuple[_Atom, ...], s: str) -> bool:
    """Whole-string match of a compiled glob: the regex, or the backtracking-free automaton when many stars
    could make the regex slow (see `_use_automaton`)."""
    if star_count > 1 and _use_automaton(star_count, s):
        return _automaton_fullmatch(atoms, s)
    return regex.fullmatch(s) is not None


def _use_automaton(stars: int, subject: str) -> bool:
    return stars > 2 or (stars == 2 and len(subject) > _REGEX_MAX_SUBJECT)


#: Looks up a variable key (any case) and returns its single value, or None when the key is absent.
Lookup = Callable[[str], "str | None"]


def _resolve_tokens(tokens: tuple[Token, ...], lookup: Lookup) -> tuple[Token, ...] | None:
    out: list[Token] = []
    for t in tokens:
        if isinstance(t, Variable):
            value = lookup(t.key)
            if value is None:
                value = t.default
            if value is None:
                return None
            out.append(Literal(value, escaped=True))
        else:
            out.append(t)
    return _merge(out)


# ---- globs -------------------------------------------------------------------------------------------


class _Compiled:
    """The compiled matcher that `Glob` and `ResourcePattern` keep in their `_regex`, `_atoms` and
    `_star_count` fields (None / empty while the pattern has policy variables)."""

    _regex: re.Pattern[str] | None
    _atoms: tuple[_Atom, ...]
    _star_count: int

    def _compile(self, regex: str, flags: int, atoms: tuple[_Atom, ...]) -> None:
        object.__setattr__(self, "_regex", re.compile(regex, flags))
        object.__setattr__(self, "_atoms", atoms)
        object.__setattr__(self, "_star_count", _stars(atoms))

    def _compiled_match(self, s: str, what: str) -> bool:
        if self._regex is None:
            raise ValueError(f"{what} with policy variables must be resolved before matching")
        return _fullmatch(self._regex, self._star_count, self._atoms, s)


@dataclass(frozen=True)
class Glob(_Compiled):
    """A glob over whole strings: `*` any sequence, `?` one character, the rest literal."""

    tokens: tuple[Token, ...]
    ignore_case: bool = False
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    _atoms: tuple[_Atom, ...] = field(default=(), compare=False, repr=False)
    _star_count: int = field(default=0, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.has_variables:
            flags = re.DOTALL | (re.IGNORECASE if self.ignore_case else 0)
            self._compile(_token_regex(self.tokens), flags, _glob_atoms(self.tokens, self.ignore_case))

    @cached_property
    def has_variables(self) -> bool:
        return any(isinstance(t, Variable) for t in self.tokens)

    @cached_property
    def is_literal(self) -> bool:
        return all(isinstance(t, Literal) for t in self.tokens)

    @cached_property
    def literal_text(self) -> str | None:
        """The matched string when the glob has no wildcard and no variable."""
        if not self.is_literal:
            return None
        return "".join(t.text for t in self.tokens if isinstance(t, Literal))

    @property
    def matches_everything(self) -> bool:
        return len(self.tokens) == 1 and isinstance(self.tokens[0], Star)

    def matches(self, s: str) -> bool:
        return self._compiled_match(s, "a glob")

    def resolve(self, lookup: Lookup) -> Glob | None:
        """Substitute variables (defaults when absent); None when a variable has no value and no default."""
        if not self.has_variables:
            return self
        tokens = _resolve_tokens(self.tokens, lookup)
        return None if tokens is None else _glob(tokens, self.ignore_case)


@lru_cache(maxsize=65536)
def _glob(tokens: tuple[Token, ...], ignore_case: bool) -> Glob:
    return Glob(tokens, ignore_case)


@lru_cache(maxsize=65536)
def compile_glob(text: str, *, variables: bool = False, ignore_case: bool = False,
                 wildcards: bool = True) -> Glob:
    """StringLike-style glob (semantics §3.3); with `wildcards=False` a literal (StringEquals)."""
    return _glob(tokenize(text, variables=variables, wildcards=wildcards), ignore_case)


# ---- actions -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionPattern:
    """An Action / NotAction entry (semantics §2.1): `*`, or `service:name-glob`, case-insensitive.
    A wildcard in the service prefix is [OPEN]; such a pattern (and one without `:`) matches nothing."""

    text: str
    service: str | None  # lower case; None for `*` or an unusable pattern
    name: Glob | None
    everything: bool = False

    def matches(self, action: str) -> bool:
        if self.everything:
            return True
        if self.name is None or self.service is None:
            return False
        svc, sep, name = action.partition(":")
        return bool(sep) and svc.lower() == self.service and self.name.matches(name)


@lru_cache(maxsize=65536)
def compile_action(text: str) -> ActionPattern:
    if text == "*":
        return ActionPattern(text, None, None, everything=True)
    svc, sep, name = text.partition(":")
    if not sep or not svc or "*" in svc or "?" in svc:
        return ActionPattern(text, None, None)
    return ActionPattern(text, svc.lower(), compile_glob(name, ignore_case=True))


# ---- ARNs --------------------------------------------------------------------------------------------


def split_tokens(tokens: tuple[Token, ...], max_parts: int = 6) -> list[tuple[Token, ...]]:
    """Split tokens at unescaped `:` into at most `max_parts` segments (the last keeps further colons)."""
    segments: list[list[Token]] = [[]]
    for t in tokens:
        if isinstance(t, Literal) and not t.escaped and ":" in t.text and len(segments) < max_parts:
            pieces = t.text.split(":")
            for j, piece in enumerate(pieces):
                if j > 0:
                    if len(segments) < max_parts:
                        segments.append([])
                    else:
                        segments[-1].append(Literal(":"))
                if piece:
                    segments[-1].append(Literal(piece))
        else:
            segments[-1].append(t)
    return [_merge(s) for s in segments]


#: The six segments of an ARN (the resource part keeps its colons), or None when malformed (`arns.split`).
split_arn = arns.split


@dataclass(frozen=True)
class ResourcePattern(_Compiled):
    """A Resource / NotResource entry (semantics §2.2). `segments` are the six ARN segments as globs (after
    padding a short wildcard pattern with `*`); `everything` for a pattern of stars only. Partition,
    service, region and account compare case-insensitively, the resource part case-sensitively; `*` crosses
    `/`; a `*` that ends one of the first five segments may also cross the following colons."""

    text: str
    segments: tuple[Glob, ...]
    everything: bool = False
    never: bool = False  # a short pattern without wildcards: matches nothing
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    _atoms: tuple[_Atom, ...] = field(default=(), compare=False, repr=False)
    _star_count: int = field(default=0, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.everything or self.never or self.has_variables:
            return
        self._compile(_resource_regex(self.segments), re.DOTALL, _resource_atoms(self.segments))

    @cached_property
    def has_variables(self) -> bool:
        return any(g.has_variables for g in self.segments)

    def matches(self, resource: str) -> bool:
        if self.everything:
            return True
        if self.never:
            return False
        if resource == "*":  # keyless action: only a pattern that matches the literal `*`
            return compile_glob(self.text).matches("*")
        return self._compiled_match(resource, "a resource pattern")

    def resolve(self, lookup: Lookup) -> ResourcePattern | None:
        if not self.has_variables:
            return self
        segs = _resolve_segments(self.segments, lookup)
        return None if segs is None else ResourcePattern(self.text, segs)


def _resolve_segments(segments: tuple[Glob, ...], lookup: Lookup) -> tuple[Glob, ...] | None:
    """Each segment resolved (`Glob.resolve`); None when one of them cannot be."""
    segs: list[Glob] = []
    for g in segments:
        r = g.resolve(lookup)
        if r is None:
            return None
        segs.append(r)
    return tuple(segs)


def _resource_regex(segments: tuple[Glob, ...]) -> str:
    parts: list[str] = []
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        if i == last:
            parts.append(_token_regex(seg.tokens))
            continue
        pieces: list[str] = []
        for j, t in enumerate(seg.tokens):
            if isinstance(t, Star):
                pieces.append(".*" if j == len(seg.tokens) - 1 else "[^:]*")
            elif isinstance(t, AnyChar):
                pieces.append("[^:]")
            elif isinstance(t, Literal):
                pieces.append(re.escape(t.text))
        parts.append("(?i:" + "".join(pieces) + ")" if pieces else "")
    return ":".join(parts)


def _resource_atoms(segments: tuple[Glob, ...]) -> tuple[_Atom, ...]:
    """The atoms of `_resource_regex(segments)`, step for step."""
    out: list[_Atom] = []
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        if i > 0:
            out.append(_Atom("c", ":"))
        if i == last:
            out.extend(_glob_atoms(seg.tokens, False))
            continue
        for j, t in enumerate(seg.tokens):
            if isinstance(t, Star):
                out.append(_Atom("*", colon=j == len(seg.tokens) - 1))
            elif isinstance(t, AnyChar):
                out.append(_Atom("?", colon=False))
            elif isinstance(t, Literal):
                out.extend(_literal_atoms(t.text, True))
    return tuple(out)


@lru_cache(maxsize=65536)
def compile_resource(text: str, *, variables: bool = False) -> ResourcePattern:
    """Compile a Resource entry; variables (2012-10-17 only) are interpreted in the resource part only."""
    if text and set(text) == {"*"}:
        return ResourcePattern(text, (compile_glob("*"),), everything=True)
    head = split_tokens(tokenize(text, variables=False), 6)
    if len(head) == 6:
        # re-tokenize the resource part with variables (they are allowed only there, semantics §2.2)
        prefix_len = len(":".join(text.split(":", 5)[:5])) + 1
        resource_part = tokenize(text[prefix_len:], variables=variables)
        head[5] = resource_part
    else:
        if not any(isinstance(t, Star | AnyChar) for seg in head for t in seg):
            return ResourcePattern(text, tuple(_glob(s, False) for s in head), never=True)
        head = head + [(STAR,)] * (6 - len(head))
    return ResourcePattern(text, tuple(_glob(tuple(s), False) for s in head))


@dataclass(frozen=True)
class ArnPattern:
    """An ArnEquals / ArnLike value (semantics §3.3): six segments matched one by one, case-sensitively,
    `*`/`?` never crossing a segment's colon (the resource part keeps its own colons). A pattern or value
    that is not a six-segment ARN matches nothing."""

    text: str
    segments: tuple[Glob, ...] | None  # None: malformed pattern

    @cached_property
    def has_variables(self) -> bool:
        return self.segments is not None and any(g.has_variables for g in self.segments)

    def matches(self, value: str) -> bool:
        if self.segments is None:
            return False
        parts = split_arn(value)
        if parts is None:
            return False
        return all(g.matches(p) for g, p in zip(self.segments, parts, strict=True))

    def resolve(self, lookup: Lookup) -> ArnPattern | None:
        if self.segments is None or not self.has_variables:
            return self
        segs = _resolve_segments(self.segments, lookup)
        return None if segs is None else ArnPattern(self.text, segs)


@lru_cache(maxsize=65536)
def compile_arn_like(text: str, *, variables: bool = False) -> ArnPattern:
    segs = split_tokens(tokenize(text, variables=variables), 6)
    first = segs[0] if segs else ()
    if len(segs) != 6 or first != (Literal("arn"),):
        return ArnPattern(text, None)
    return ArnPattern(text, tuple(_glob(s, False) for s in segs))
