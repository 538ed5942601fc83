"""Deterministic, three-valued solver wrapper.

Input: SMT-LIB scripts built with `smt.Script` (the encoded environment, property definitions, refinement
lemmas) and, per query, the assumption literals to check under.
Output: `Outcome` with status SAT / UNSAT / UNKNOWN, the model as a plain `{name: value}` dict (Booleans,
ints, `Fraction`s for reals, ints for bit-vectors), the unsat core (assumption names), the reason for
UNKNOWN (timeout / rlimit / Z3's `reason_unknown`) and solver statistics; `dump_smt2` gives the exact query.
Guarantee: fixed seeds, and every check runs under both a wall-clock timeout and a resource limit; Z3's
`unknown` is reported as UNKNOWN with its reason and never folded into SAT or UNSAT.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from typing import Any

import z3

from reasoner import limits
from reasoner.limits import DEFAULT_RLIMIT, DEFAULT_TIMEOUT_S
from reasoner.symbolic import smt

__all__ = ["DEFAULT_RLIMIT", "DEFAULT_TIMEOUT_S", "Model", "Outcome", "Solver", "Status", "solve_strings"]

SEED = 0
_TOKEN = re.compile(r"\|[^|]*\||[^\s()|]+")


class Status(Enum):
    SAT = "sat"
    UNSAT = "unsat"
    UNKNOWN = "unknown"


class Model:
    """Values of declared symbols in a satisfying assignment (model completion: symbols the model leaves
    open get a default value, which satisfies the formula because they are irrelevant to it)."""

    def __init__(self, raw: Any, decls: dict[str, str]) -> None:
        self._raw = raw
        self._decls = decls
        self._cache: dict[str, Any] = {}

    def __getitem__(self, symbol: str) -> Any:
        hit = self._cache.get(symbol)
        if hit is not None or symbol in self._cache:
            return hit
        sort = self._decls.get(symbol)
        if sort is None:
            raise KeyError(symbol)
        name = smt.unquote(symbol)
        ctx = smt.context()
        if sort == smt.BOOL:
            const = z3.Bool(name, ctx)
        elif sort == smt.INT:
            const = z3.Int(name, ctx)
        elif sort == smt.REAL:
            const = z3.Real(name, ctx)
        else:
            width = int(sort.split()[-1].rstrip(")"))
            const = z3.BitVec(name, width, ctx)
        value = _value(self._raw.eval(const, model_completion=True))
        self._cache[symbol] = value
        return value

    def truth(self, term: smt.Term) -> bool:
        """Evaluate a Boolean term (symbol, constant or any SMT-LIB term over declared symbols)."""
        if term == smt.TRUE:
            return True
        if term == smt.FALSE:
            return False
        if term in self._decls:
            return bool(self[term])
        raise KeyError(f"only declared symbols can be read from a model, not `{term[:60]}`")


@dataclass(frozen=True)
class Outcome:
    status: Status
    model: Model | None = None
    core: tuple[str, ...] = ()
    reason: str | None = None
    stats: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def z3_version() -> str:
    """The version of the Z3 behind the solver (part of what a cached verdict depends on)."""
    return str(z3.get_version_string())


def _configure_globals() -> None:
    z3.set_param("smt.random_seed", SEED)
    z3.set_param("sat.random_seed", SEED)
    cap = limits.current_memory_cap()
    if cap:
        # Z3 stops at half the process cap and answers unknown; Python and the rest keep the other half
        z3.set_param("memory_max_size", max(64, cap // 2))


def _z3_failure(exc: z3.Z3Exception) -> limits.OutOfBudget:
    """Z3 gives up on memory with an exception; every other Z3 exception is a bug of ours."""
    text = str(exc)
    if "memory" in text.lower():
        return limits.OutOfMemory(limits.memory_reason())
    raise exc


class Solver:
    """One Z3 solver over one encoded environment; properties are checked under assumption literals, and
    lemmas (true facts about the patterns) are added permanently."""

    def __init__(self) -> None:
        _configure_globals()
        self._z3 = z3.Solver(ctx=smt.context())
        self._z3.set("random_seed", SEED)
        self._z3.set("unsat_core", True)
        self._z3.set("core.minimize", False)
        self._texts: list[str] = []
        self.decls: dict[str, str] = {}
        self._defs: dict[str, str] = {}
        self._def_order: dict[str, int] = {}
        self._def_refs: dict[str, list[str]] = {}  # symbols a definition refers to (scanned once)

    def _header(self, text: str, exclude: set[str]) -> str:
        """Declarations (and definitions) of the earlier symbols that `text` refers to."""
        seen: set[str] = set(exclude)
        todo = [t for t in _TOKEN.findall(text) if t not in seen]
        decl_lines: list[str] = []
        def_names: list[str] = []
        while todo:
            tok = todo.pop()
            if tok in seen:
                continue
            seen.add(tok)
            sort = self.decls.get(tok)
            if sort is not None:
                decl_lines.append(f"(declare-fun {tok} () {sort})")
                continue
            line = self._defs.get(tok)
            if line is not None:
                def_names.append(tok)
                refs = self._def_refs.get(tok)
                if refs is None:
                    refs = self._def_refs[tok] = _TOKEN.findall(line)
                todo.extend(t for t in refs if t not in seen)
        def_names.sort(key=self._def_order.__getitem__)
        return "\n".join(decl_lines + [self._defs[n] for n in def_names]) + "\n"

    def add_script(self, script: smt.Script) -> None:
        text = script.text()
        own = set(script.decls) | set(script.defined)
        # the first script of a solver refers to nothing earlier: no scan for earlier symbols
        header = self._header(text, own) if self.decls or self._defs else ""
        for name, line in script.definitions.items():
            self._defs[name] = line
            self._def_order[name] = len(self._def_order)
        for sym, sort in script.decls.items():
            self.decls.setdefault(sym, sort)
        self._texts.append(text)
        if script.assertion_count():
            self._add_text(header + text)

    def _add_text(self, text: str) -> None:
        limits.tick()
        try:
            vec = z3.parse_smt2_string(text, ctx=smt.context())
            self._z3.add(*[vec[i] for i in range(len(vec))])
        except z3.Z3Exception as exc:
            raise _z3_failure(exc) from None

    def add_lemmas(self, lemmas: list[smt.Term]) -> None:
        if not lemmas:
            return
        body = "\n".join(f"(assert {t})" for t in lemmas) + "\n"
        self._texts.append(body)
        self._add_text(self._header(body, set()) + body)

    def check(
        self,
        assumptions: list[str],
        *,
        timeout: float | None = None,
        rlimit: int | None = None,
        want_core: bool = False,
        stats: bool = True,
    ) -> Outcome:
        """Check satisfiability under the given assumption symbols (declared Booleans), within `timeout`
        seconds and `rlimit` solver steps; by default, and never beyond, those of the active
        `limits.budget` (the reason of a timeout names the budget's seconds). `stats` False: Z3's statistics
        are not read (`Outcome.stats` is empty)."""
        b = limits.active()
        budget_s = b.seconds if b is not None else (DEFAULT_TIMEOUT_S if timeout is None else timeout)
        why_late = b.timeout_reason() if b is not None else limits.timeout_reason(budget_s)
        left = b.remaining() if b is not None else budget_s
        if timeout is not None:
            left = min(left, timeout)
        if rlimit is None:
            rlimit = b.rlimit if b is not None else DEFAULT_RLIMIT
        if left <= 0:
            return Outcome(Status.UNKNOWN, reason=why_late)
        self._z3.set("timeout", max(1, int(left * 1000)))
        self._z3.set("rlimit", int(rlimit))
        lits = [smt.bool_const(smt.unquote(a)) for a in assumptions]
        start = time.perf_counter()
        try:
            res = self._z3.check(*lits)
        except z3.Z3Exception as exc:
            raise _z3_failure(exc) from None
        seconds = time.perf_counter() - start
        read = self._stats() if stats else {}
        if res == z3.sat:
            return Outcome(
                Status.SAT, model=Model(self._z3.model(), self.decls), stats=read, seconds=seconds
            )
        if res == z3.unsat:
            core: tuple[str, ...] = ()
            if want_core:
                core = tuple(str(c) for c in self._z3.unsat_core())
            return Outcome(Status.UNSAT, core=core, stats=read, seconds=seconds)
        raw = self._z3.reason_unknown()
        if "memory" in raw:
            reason = limits.memory_reason()
        elif raw == "timeout" or seconds >= left * 0.98:
            reason = why_late
        elif "resource" in raw or "rlimit" in raw or raw == "canceled":
            # nothing else cancels a check: before the deadline, `canceled` is the resource limit
            reason = limits.rlimit_reason(rlimit)
        else:
            reason = f"solver returned unknown: {raw or 'no reason given'}"
        return Outcome(Status.UNKNOWN, reason=reason, stats=read, seconds=seconds)

    def _stats(self) -> dict[str, float]:
        st = self._z3.statistics()
        out: dict[str, float] = {}
        for i in range(len(st)):  # by index: `get_key_value` scans every key for each one
            k, v = st[i]
            if isinstance(v, int | float):
                out[k] = float(v)
        return out

    def to_smt2(self, assumptions: list[str]) -> str:
        """The exact query: every script and lemma added so far, then `check-sat-assuming`."""
        lits = " ".join(assumptions)
        header = (
            f"; reasoner query (z3 {z3.get_version_string()})\n"
            f"(set-option :random-seed {SEED})\n(set-option :smt.random_seed {SEED})\n"
        )
        return header + "".join(self._texts) + f"(check-sat-assuming ({lits}))\n(get-model)\n"


#: Resource limit of one local string query (`solve_strings`): a few fields and one relation between them.
STRING_RLIMIT = 2_000_000


def solve_strings(decls: dict[str, str], asserts: list[smt.Term]) -> tuple[Status, dict[str, str]]:
    """A small query in Z3's string theory (fresh solver, fixed seed, its own resource limit within the active
    budget): its status and, when SAT, the value of every declared string symbol. Used only to realise a
    relation between a few fields that the finite abstraction keeps whole (`variables.realise`)."""
    _configure_globals()
    s = z3.Solver(ctx=smt.context())
    s.set("random_seed", SEED)
    b = limits.active()
    left = b.remaining() if b is not None else DEFAULT_TIMEOUT_S
    if left <= 0:
        return Status.UNKNOWN, {}
    s.set("timeout", max(1, int(left * 1000)))
    s.set("rlimit", min(STRING_RLIMIT, b.rlimit if b is not None else DEFAULT_RLIMIT))
    text = "".join(f"(declare-fun {n} () {sort})\n" for n, sort in decls.items())
    text += "".join(f"(assert {a})\n" for a in asserts)
    limits.tick()
    try:
        vec = z3.parse_smt2_string(text, ctx=smt.context())
        s.add(*[vec[i] for i in range(len(vec))])
        res = s.check()
    except z3.Z3Exception as exc:
        raise _z3_failure(exc) from None
    if res == z3.unsat:
        return Status.UNSAT, {}
    if res != z3.sat:
        return Status.UNKNOWN, {}
    m = s.model()
    out: dict[str, str] = {}
    for d in m.decls():
        name = d.name()
        if decls.get(smt.sym(name)) == smt.STRING:
            out[smt.sym(name)] = _string_value(m[d])
    return Status.SAT, out


def _string_value(v: Any) -> str:
    """The Python string of a Z3 string value: Z3 writes every character outside printable ASCII, and the
    backslash itself, as `\\u{hex}`, so decoding those escapes is exact."""
    text = v.as_string()
    return re.sub(r"\\u\{([0-9a-fA-F]+)\}", lambda m: chr(int(m.group(1), 16)), text)


def _value(v: Any) -> Any:
    if z3.is_true(v):
        return True
    if z3.is_false(v):
        return False
    if z3.is_int_value(v):
        return v.as_long()
    if z3.is_rational_value(v):
        return Fraction(v.numerator_as_long(), v.denominator_as_long())
    if z3.is_bv_value(v):
        return v.as_long()
    if z3.is_algebraic_value(v):
        return Fraction(str(v.approx(20)).rstrip("?"))
    return str(v)
