"""Deterministic, three-valued solver wrapper.

Input: SMT-LIB scripts built with `smt.Script` (the encoded environment, property definitions, refinement
lemmas) and, per query, the assumption literals to check under and a term asserted for that check only.
Output: `Outcome` with status SAT / UNSAT / UNKNOWN, the model as a plain `{name: value}` dict (Booleans,
ints, `Fraction`s for reals, ints for bit-vectors), the unsat core (assumption names), the reason for
UNKNOWN (timeout / rlimit / Z3's `reason_unknown`) and solver statistics; `dump_smt2` gives the exact query.
Guarantee: fixed seeds, and every check runs under both a wall-clock timeout and a resource limit; Z3's
`unknown` is reported as UNKNOWN with its reason and never folded into SAT or UNSAT.

A small script (a property's assertion, the atoms and lemmas a query adds: a few hundred characters) is not
sent through Z3's SMT-LIB parser, whose fixed cost per call (~0.1-0.4 ms) was most of a further property's
time: `_Direct` builds the same terms with Z3's C API, symbol by symbol (declared symbols as constants,
defined symbols as their definition's term, i.e. the macro expansion the parser does), and falls back to the
parser for any construct it does not know. Z3 shares equal terms, so both ways give the identical term
(tests/unit/test_solve.py compares them on every script of compiled environments).
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
#: SMT-LIB tokens of the direct path: parentheses, quoted symbols, other atoms (a string literal is not one:
#: a script with `"` goes to the parser).
_SEXP_TOKEN = re.compile(r"[()]|\|[^|]*\||[^\s()|]+")
_INT_LIT = re.compile(r"[0-9]+")
_DEC_LIT = re.compile(r"[0-9]+\.[0-9]+")
#: Terms of at most this many tokens are kept by their tokens (`_Direct._expr`).
_SMALL_TOKENS = 8
#: Scripts up to this many characters are built directly (`_Direct`); longer ones (an environment's encoding)
#: go through Z3's parser, which is faster per character.
DIRECT_MAX_CHARS = 800


class Status(Enum):
    SAT = "sat"
    UNSAT = "unsat"
    UNKNOWN = "unknown"


class Model:
    """Values of declared symbols in a satisfying assignment (model completion: symbols the model leaves
    open get a default value, which satisfies the formula because they are irrelevant to it)."""

    def __init__(self, raw: Any, decls: dict[str, str], terms: _Direct | None = None) -> None:
        self._raw = raw
        self._decls = decls
        self._terms = terms  # the solver's symbol terms (made once per solver, not per read)
        self._cache: dict[str, Any] = {}

    def __getitem__(self, symbol: str) -> Any:
        hit = self._cache.get(symbol)
        if hit is not None or symbol in self._cache:
            return hit
        sort = self._decls.get(symbol)
        if sort is None:
            raise KeyError(symbol)
        ctx = smt.context()
        if self._terms is not None:
            const = self._terms.symbol(symbol)
        else:
            name = smt.unquote(symbol)
            if sort == smt.BOOL:
                const = z3.Bool(name, ctx)
            elif sort == smt.INT:
                const = z3.Int(name, ctx)
            elif sort == smt.REAL:
                const = z3.Real(name, ctx)
            else:
                width = int(sort.split()[-1].rstrip(")"))
                const = z3.BitVec(name, width, ctx)
        value = _read(self._raw, const, sort)
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
    """One Z3 solver over one encoded environment; properties are checked under assumption literals or as terms
    asserted for one check (`check(query=...)`), and lemmas (true facts about the patterns) are added
    permanently."""

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
        self._direct = _Direct(self)
        self._rlimit: int | None = None  # the resource limit last given to Z3
        self.direct_scripts = 0  # scripts built directly (`_Direct`), the others went through the parser

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
        if not (script.decls or script.definitions or script.assertion_count()):
            return  # nothing new (most flushes of a further property): nothing kept
        text = script.text()
        first = not (self.decls or self._defs)
        for name, line in script.definitions.items():
            self._defs[name] = line
            self._def_order[name] = len(self._def_order)
        for sym, sort in script.decls.items():
            self.decls.setdefault(sym, sort)
        self._texts.append(text)
        if not script.assertion_count():
            return
        if len(text) <= DIRECT_MAX_CHARS and self._add_direct(text):
            return
        own = set(script.decls) | set(script.defined)
        # the first script of a solver refers to nothing earlier: no scan for earlier symbols
        header = "" if first else self._header(text, own)
        self._add_text(header + text)

    def _add_direct(self, text: str) -> bool:
        """Assert the script's assertions built by `_Direct`; False (nothing asserted) when it has a construct
        `_Direct` does not build."""
        limits.tick()
        try:
            terms = self._direct.assertions(text)
        except _NotDirect:
            return False
        except z3.Z3Exception as exc:
            raise _z3_failure(exc) from None
        ctx = smt.context().ref()
        for t in terms:
            z3.Z3_solver_assert(ctx, self._z3.solver, t.as_ast())
        self.direct_scripts += 1
        return True

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
        if len(body) <= DIRECT_MAX_CHARS and self._add_direct(body):
            return
        self._add_text(self._header(body, set()) + body)

    def check(
        self,
        assumptions: list[str],
        *,
        query: smt.Term | None = None,
        timeout: float | None = None,
        rlimit: int | None = None,
        want_core: bool = False,
        stats: bool = True,
    ) -> Outcome:
        """Check satisfiability under the given assumption symbols (declared Booleans), within `timeout`
        seconds and `rlimit` solver steps; by default, and never beyond, those of the active
        `limits.budget` (the reason of a timeout names the budget's seconds). `stats` False: Z3's statistics
        are not read (`Outcome.stats` is empty). `query`: a term asserted for this check only (in a scope
        pushed before and popped after it: the solver does not grow with the queries asked of it, and a check
        costs about 40% less than under a permanent `literal => query`); model, core and statistics are read
        before the scope is popped."""
        if query is None:
            return self._check(assumptions, timeout, rlimit, want_core, stats)
        body = f"(assert {query})\n"
        self._z3.push()
        try:
            if not (len(body) <= DIRECT_MAX_CHARS and self._add_direct(body)):
                self._add_text(self._header(body, set()) + body)
            return self._check(assumptions, timeout, rlimit, want_core, stats)
        finally:
            self._z3.pop()

    def _check(self, assumptions: list[str], timeout: float | None, rlimit: int | None, want_core: bool,
               stats: bool) -> Outcome:
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
        ref = smt.context().ref()
        self._set_limits(ref, max(1, int(left * 1000)), int(rlimit))
        lits = [self._direct.symbol(a).as_ast() for a in assumptions]
        start = time.perf_counter()
        try:
            code = z3.Z3_solver_check_assumptions(ref, self._z3.solver, len(lits), (z3.Ast * len(lits))(*lits))
        except z3.Z3Exception as exc:
            raise _z3_failure(exc) from None
        seconds = time.perf_counter() - start
        res = z3.sat if code == z3.Z3_L_TRUE else z3.unsat if code == z3.Z3_L_FALSE else z3.unknown
        read = self._stats() if stats else {}
        if res == z3.sat:
            try:
                model = self._z3.model()
            except z3.Z3Exception:
                # "model is not available": a limit stopped Z3 while it built the model of a satisfiable check
                # (seen once in a 10,600-resource scan on a loaded machine): no model, no answer
                late = time.perf_counter() - start >= left * 0.98
                return Outcome(Status.UNKNOWN, reason=why_late if late else limits.rlimit_reason(rlimit),
                               stats=read, seconds=seconds)
            return Outcome(Status.SAT, model=Model(model, self.decls, self._direct), stats=read, seconds=seconds)
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

    def _set_limits(self, ref: Any, timeout_ms: int, rlimit: int) -> None:
        """The solver's `timeout` (every check: the budget's time left) and `rlimit` (when it changed: Z3 reads
        it at each check, as a limit on that check), through the C API (the Python layer's `set` cost about a
        tenth of a further property)."""
        p = z3.Z3_mk_params(ref)
        z3.Z3_params_inc_ref(ref, p)
        try:
            z3.Z3_params_set_uint(ref, p, z3.Z3_mk_string_symbol(ref, "timeout"), timeout_ms)
            if rlimit != self._rlimit:
                z3.Z3_params_set_uint(ref, p, z3.Z3_mk_string_symbol(ref, "rlimit"), rlimit)
            z3.Z3_solver_set_params(ref, self._z3.solver, p)
        finally:
            z3.Z3_params_dec_ref(ref, p)
        self._rlimit = rlimit

    def _stats(self) -> dict[str, float]:
        st = self._z3.statistics()
        out: dict[str, float] = {}
        for i in range(len(st)):  # by index: `get_key_value` scans every key for each one
            k, v = st[i]
            if isinstance(v, int | float):
                out[k] = float(v)
        return out

    def to_smt2(self, assumptions: list[str], query: smt.Term | None = None) -> str:
        """The exact query: every script and lemma added so far, then `check-sat-assuming`. A `query` term
        (asserted for one check only, `check(query=...)`) is written under a fresh literal `query`, which is
        assumed: the same question in a form any SMT-LIB solver reads."""
        lits = " ".join(assumptions)
        header = (
            f"; reasoner query (z3 {z3.get_version_string()})\n"
            f"(set-option :random-seed {SEED})\n(set-option :smt.random_seed {SEED})\n"
        )
        tail = ""
        if query is not None:
            tail = f"(declare-fun query () Bool)\n(assert (=> query {query}))\n"
            lits = f"query {lits}".rstrip()
        return header + "".join(self._texts) + tail + f"(check-sat-assuming ({lits}))\n(get-model)\n"


class _NotDirect(Exception):
    """A construct `_Direct` does not build: the script goes to Z3's parser."""


def _mk_nary(fn: Any) -> Any:
    def build(ctx: Any, args: list[Any]) -> Any:
        arr = (z3.Ast * len(args))(*[a.as_ast() for a in args])
        return fn(ctx, len(args), arr)
    return build


def _mk_fixed(fn: Any, arity: int) -> Any:
    def build(ctx: Any, args: list[Any]) -> Any:
        if len(args) != arity:
            raise _NotDirect
        return fn(ctx, *[a.as_ast() for a in args])
    return build


#: The operators `_Direct` builds, each with Z3's C API function (the one Z3's SMT-LIB parser uses for it).
_BUILDERS: dict[str, Any] = {
    "and": _mk_nary(z3.Z3_mk_and),
    "or": _mk_nary(z3.Z3_mk_or),
    "distinct": _mk_nary(z3.Z3_mk_distinct),
    "not": _mk_fixed(z3.Z3_mk_not, 1),
    "=>": _mk_fixed(z3.Z3_mk_implies, 2),
    "=": _mk_fixed(z3.Z3_mk_eq, 2),
    "ite": _mk_fixed(z3.Z3_mk_ite, 3),
    "<=": _mk_fixed(z3.Z3_mk_le, 2),
    ">=": _mk_fixed(z3.Z3_mk_ge, 2),
    "<": _mk_fixed(z3.Z3_mk_lt, 2),
    ">": _mk_fixed(z3.Z3_mk_gt, 2),
    "/": _mk_fixed(z3.Z3_mk_div, 2),
    "is_int": _mk_fixed(z3.Z3_mk_is_int, 1),
    "bvule": _mk_fixed(z3.Z3_mk_bvule, 2),
    "bvuge": _mk_fixed(z3.Z3_mk_bvuge, 2),
    "bvult": _mk_fixed(z3.Z3_mk_bvult, 2),
    "bvugt": _mk_fixed(z3.Z3_mk_bvugt, 2),
    "bvand": _mk_fixed(z3.Z3_mk_bvand, 2),
    "-": _mk_fixed(z3.Z3_mk_unary_minus, 1),  # `smt.int_` / `smt.real` write a negative number `(- n)`
}


class _Direct:
    """Z3 terms of SMT-LIB text without Z3's parser: the assertions of a script of declarations, definitions
    and assertions, over the symbols the solver knows (its `decls` and definitions). Raises `_NotDirect` for
    anything else (string theory, quantifiers, `let`, other commands), before asserting anything."""

    def __init__(self, solver: Solver) -> None:
        # the solver's dicts, not the solver: no reference cycle, so a solver and its Z3 terms are freed when
        # its environment is dropped, never by a (long, unpredictable) garbage-collector pass
        self._decls = solver.decls
        self._defs = solver._defs
        self._ctx = smt.context()
        self._symbols: dict[str, Any] = {}  # declared or defined symbol -> its term (kept: Z3 reuses it)
        self._sorts: dict[str, Any] = {}
        self._leaves: dict[str, Any] = {}  # true, false, numerals
        self._small: dict[tuple[str, ...], Any] = {}  # small terms by their tokens

    def assertions(self, text: str) -> list[Any]:
        toks = _SEXP_TOKEN.findall(text)
        out: list[Any] = []
        i, n = 0, len(toks)
        while i < n:
            if toks[i] != "(" or i + 1 >= n:
                raise _NotDirect
            cmd = toks[i + 1]
            if cmd == "assert":
                term, i = self._expr(toks, i + 2)
                if i >= n or toks[i] != ")":
                    raise _NotDirect
                out.append(term)
                i += 1
            elif cmd in ("declare-fun", "define-fun"):  # known to the solver already; built when used
                depth = 0
                while i < n:
                    depth += 1 if toks[i] == "(" else -1 if toks[i] == ")" else 0
                    i += 1
                    if depth == 0:
                        break
            else:
                raise _NotDirect
        return out

    def symbol(self, name: str) -> Any:
        """The term of a declared or defined symbol (as written in SMT-LIB, quoted or not)."""
        hit = self._symbols.get(name)
        if hit is not None:
            return hit
        sort = self._decls.get(name)
        ctx = self._ctx
        if sort is not None:
            ref = ctx.ref()
            ast = z3.Z3_mk_const(ref, z3.Z3_mk_string_symbol(ref, smt.unquote(name)), self._sort(sort))
            term: Any = z3.ExprRef(ast, ctx)
        else:
            line = self._defs.get(name)
            if line is None:
                raise _NotDirect
            toks = _SEXP_TOKEN.findall(line)
            # (define-fun NAME ( ) SORT BODY ): SORT is one token or `(_ BitVec N)`
            start = 6 if toks[5] != "(" else 10
            term, end = self._expr(toks, start)
            if end != len(toks) - 1:
                raise _NotDirect
        self._symbols[name] = term
        return term

    def _sort(self, sort: str) -> Any:
        hit = self._sorts.get(sort)
        if hit is not None:
            return hit.ast
        ref = self._ctx.ref()
        if sort == smt.BOOL:
            out = z3.Z3_mk_bool_sort(ref)
        elif sort == smt.INT:
            out = z3.Z3_mk_int_sort(ref)
        elif sort == smt.REAL:
            out = z3.Z3_mk_real_sort(ref)
        elif sort.startswith("(_ BitVec "):
            out = z3.Z3_mk_bv_sort(ref, int(sort[len("(_ BitVec "):-1]))
        else:
            raise _NotDirect
        self._sorts[sort] = z3.SortRef(out, self._ctx)  # kept alive with the solver
        return self._sorts[sort].ast

    def _leaf(self, tok: str) -> Any:
        """The term of a token: a symbol, `true` / `false` or a numeral (kept, like every leaf)."""
        hit = self._leaves.get(tok)
        if hit is not None:
            return hit
        ctx = self._ctx
        ref = ctx.ref()
        if tok == "true":
            val = z3.ExprRef(z3.Z3_mk_true(ref), ctx)
        elif tok == "false":
            val = z3.ExprRef(z3.Z3_mk_false(ref), ctx)
        elif _INT_LIT.fullmatch(tok):
            val = z3.ExprRef(z3.Z3_mk_numeral(ref, tok, self._sort(smt.INT)), ctx)
        elif _DEC_LIT.fullmatch(tok):
            val = z3.ExprRef(z3.Z3_mk_numeral(ref, tok, self._sort(smt.REAL)), ctx)
        else:
            return self.symbol(tok)
        self._leaves[tok] = val
        return val

    def _expr(self, toks: list[str], i: int) -> tuple[Any, int]:
        """The term starting at token `i`, and the index after it (iterative: terms nest deeply). A small term
        (an atom such as `(= req.action 3)`, which recurs from property to property) is kept by its tokens."""
        ctx = self._ctx
        ref = ctx.ref()
        small = self._small
        stack: list[tuple[Any, list[Any], int]] = []
        n = len(toks)
        while i < n:
            tok = toks[i]
            i += 1
            if tok == "(":
                if i >= n:
                    raise _NotDirect
                head = toks[i]
                i += 1
                if head == "_":  # (_ bvN W)
                    if i + 2 >= n or toks[i + 2] != ")" or not toks[i].startswith("bv"):
                        raise _NotDirect
                    value, width = toks[i][2:], toks[i + 1]
                    if not (_INT_LIT.fullmatch(value) and _INT_LIT.fullmatch(width)):
                        raise _NotDirect
                    val = z3.ExprRef(z3.Z3_mk_numeral(ref, value, self._sort(smt.bitvec_sort(int(width)))), ctx)
                    i += 3
                else:
                    build = _BUILDERS.get(head)
                    if build is None:
                        raise _NotDirect
                    stack.append((build, [], i - 2))
                    continue
            elif tok == ")":
                if not stack:
                    raise _NotDirect
                build, args, begin = stack.pop()
                if not args:
                    raise _NotDirect
                if i - begin <= _SMALL_TOKENS:
                    key = tuple(toks[begin:i])
                    val = small.get(key)
                    if val is None:
                        val = small[key] = z3.ExprRef(build(ref, args), ctx)
                else:
                    val = z3.ExprRef(build(ref, args), ctx)
            else:
                val = self._leaf(tok)
            if not stack:
                return val, i
            stack[-1][1].append(val)
        raise _NotDirect


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
    try:
        m = s.model()
    except z3.Z3Exception:  # a limit stopped Z3 building the model (see `Solver._check`)
        return Status.UNKNOWN, {}
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


def _read(model: Any, const: Any, sort: str) -> Any:
    """The value of `const` (of SMT-LIB sort `sort`) in `model`, with model completion: the C API on the
    value for the sorts the encoding declares (a Boolean, an integer numeral), `_value` otherwise."""
    ref = model.ctx.ref()
    res = (z3.Ast * 1)()
    if not z3.Z3_model_eval(ref, model.model, const.as_ast(), True, res):
        raise z3.Z3Exception("failed to evaluate a symbol in the model")
    out = res[0]
    z3.Z3_inc_ref(ref, out)  # held while read (a value with no reference may be freed by any later call)
    try:
        if sort == smt.BOOL:
            truth = z3.Z3_get_bool_value(ref, out)
            if truth == z3.Z3_L_TRUE:
                return True
            if truth == z3.Z3_L_FALSE:
                return False
        elif sort == smt.INT and z3.Z3_is_numeral_ast(ref, out):
            return int(z3.Z3_get_numeral_string(ref, out))
        return _value(z3.z3._to_expr_ref(out, model.ctx))
    finally:
        z3.Z3_dec_ref(ref, out)


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
