"""Unit tests of reasoner/symbolic/solve.py: three-valued outcomes, assumption literals, lemmas, unknown with a
reason (never folded into sat/unsat), and the SMT-LIB dump."""

from __future__ import annotations

from fractions import Fraction

import pytest

from reasoner.symbolic import smt
from reasoner.symbolic.solve import Solver, Status

pytestmark = pytest.mark.solver


def _solver() -> tuple[Solver, str, str]:
    sc = smt.Script()
    x = sc.declare("x", smt.INT)
    p = sc.declare("p", smt.BOOL)
    q = sc.declare("q", smt.BOOL)
    sc.require(smt.implies(p, smt.cmp(">", x, "5")))
    sc.require(smt.implies(q, smt.cmp("<", x, "3")))
    s = Solver()
    s.add_script(sc)
    return s, p, q


def test_sat_unsat_under_assumptions() -> None:
    s, p, q = _solver()
    out = s.check([p])
    assert out.status is Status.SAT and out.model is not None
    assert out.model["x"] > 5 and out.model[p] is True
    assert s.check([p, q], want_core=True).status is Status.UNSAT
    assert s.check([q]).status is Status.SAT  # assumptions do not stick


def test_lemmas_are_permanent() -> None:
    s, p, _q = _solver()
    s.add_lemmas(["(< x 4)"])
    assert s.check([p]).status is Status.UNSAT


def test_later_scripts_see_earlier_symbols() -> None:
    s, p, _q = _solver()
    sc = smt.Script()
    r = sc.declare("r", smt.BOOL)
    sc.require(smt.implies(r, smt.and_(p, smt.eq("x", "6"))))
    s.add_script(sc)
    out = s.check([r])
    assert out.status is Status.SAT and out.model is not None and out.model["x"] == 6


def test_unknown_is_reported_with_a_reason() -> None:
    # a nonlinear problem that z3 cannot finish within a tiny resource limit
    sc = smt.Script()
    names = [sc.declare(f"v{i}", smt.INT) for i in range(6)]
    prod = f"(* {' '.join(names)})"
    sc.require(smt.eq(prod, "1234567"))
    sc.require(smt.and_(smt.cmp(">", n, "1") for n in names))
    s = Solver()
    s.add_script(sc)
    out = s.check([], rlimit=200)
    assert out.status is Status.UNKNOWN
    assert out.reason and ("resource" in out.reason or "unknown" in out.reason or "timeout" in out.reason)


def test_dump_is_the_exact_query() -> None:
    s, p, _q = _solver()
    text = s.to_smt2([p])
    assert "(declare-fun p () Bool)" in text and text.rstrip().endswith("(get-model)")
    assert "(check-sat-assuming (p))" in text
    import z3

    z3.parse_smt2_string(text.split("(check-sat-assuming")[0])


# ---- terms built without Z3's parser (`solve._Direct`) -------------------------------------------------------


def test_direct_terms_equal_the_parsers_on_every_script(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every script a check sends to the solver that `_Direct` builds is the parser's term, node for node (Z3
    shares equal terms, so `eq` is identity): atoms, definitions, lemmas, conditions over numbers, dates, IP
    addresses and strings; and the direct path is the one taken for the small scripts."""
    import re

    import z3

    from reasoner.analyses.compiled import compile_environment
    from reasoner.analyses.pipeline import check
    from reasoner.analyses.properties import (
        AccessNotGranted,
        CanAccess,
        ContextCondition,
        Equivalent,
        NoNewAccess,
        OnlyPrincipalsCan,
        PrincipalScope,
    )
    from reasoner.front.manifest import load_environment
    from reasoner.symbolic import solve

    compared: list[str] = []
    ops: set[str] = set()
    real = solve.Solver._add_direct

    def spy(self: Solver, text: str) -> bool:
        ok = real(self, text)
        if ok:
            own = set(re.findall(r"\((?:declare|define)-fun (\|[^|]*\||[^\s()|]+)", text))
            vec = z3.parse_smt2_string(self._header(text, own) + text, ctx=smt.context())
            built = self._direct.assertions(text)
            assert len(built) == len(vec)
            for i, term in enumerate(built):
                assert term.eq(vec[i]), (text, term.sexpr(), vec[i].sexpr())
            compared.append(text)
            ops.update(re.findall(r"\(([^\s()]+)", text))
        return ok

    monkeypatch.setattr(solve.Solver, "_add_direct", spy)
    env = load_environment("examples/org/environment.yaml")
    compiled = compile_environment(env)
    owner = "111122223333"
    when = (ContextCondition("aws:SourceIp", ("10.0.0.0/8",)), ContextCondition("aws:CurrentTime", ("2030-01-01",)),
            ContextCondition("aws:MultiFactorAuthAge", ("300",)), ContextCondition("aws:SecureTransport", ("true",)))
    props = [
        AccessNotGranted(PrincipalScope.outside_account(owner), ("kms:Decrypt",)),
        AccessNotGranted(PrincipalScope.outside_account(owner), ("kms:Decrypt",), ("*",), when),
        OnlyPrincipalsCan((f"arn:aws:iam::{owner}:root",), ("kms:PutKeyPolicy",), ("*",), when[:1]),
        CanAccess(f"arn:aws:iam::{owner}:root", ("kms:DescribeKey",)),
        NoNewAccess(env, ("kms:*",)),
        Equivalent(env, ("kms:*",)),
    ]
    for prop in props:
        check(compiled, prop, timeout=60)
    assert len(compared) >= len(props)
    assert {"and", "=", "not", "or"} <= ops


def test_a_construct_the_direct_path_does_not_build_goes_to_the_parser() -> None:
    s, p, _q = _solver()
    sc = smt.Script()
    r = sc.declare("r", smt.BOOL)
    sc.require(smt.implies(r, smt.and_(p, smt.eq("(+ x 1)", "7"))))  # `+` is not built directly
    before = s.direct_scripts
    s.add_script(sc)
    assert s.direct_scripts == before
    out = s.check([r])
    assert out.status is Status.SAT and out.model is not None and out.model["x"] == 6
    sc = smt.Script()
    t = sc.declare("t", smt.BOOL)
    sc.require(smt.implies(t, smt.and_(p, smt.eq("x", "7"))))
    s.add_script(sc)
    assert s.direct_scripts == before + 1


def test_model_values_of_every_sort() -> None:
    sc = smt.Script()
    b, i, n = sc.declare("b", smt.BOOL), sc.declare("i", smt.INT), sc.declare("n", smt.INT)
    r, v = sc.declare("r", smt.REAL), sc.declare("v", smt.bitvec_sort(8))
    free = sc.declare("free", smt.INT)  # in no assertion: model completion gives a value
    sc.require(smt.and_(b, smt.eq(i, "41"), smt.eq(n, smt.int_(-3)), smt.eq(r, smt.real(Fraction(-5, 2))),
                        smt.eq(v, smt.bv(200, 8))))
    s = Solver()
    s.add_script(sc)
    out = s.check([])
    assert out.status is Status.SAT and out.model is not None
    m = out.model
    assert (m[b], m[i], m[n], m[r], m[v]) == (True, 41, -3, Fraction(-5, 2), 200)
    assert isinstance(m[free], int)
    with pytest.raises(KeyError):
        m["undeclared"]


def test_the_resource_limit_holds_for_every_check() -> None:
    """The limit is given to Z3 only when it changes; it still bounds each later check."""
    sc = smt.Script()
    names = [sc.declare(f"v{i}", smt.INT) for i in range(6)]
    sc.require(smt.eq(f"(* {' '.join(names)})", "1234567"))
    sc.require(smt.and_(smt.cmp(">", n, "1") for n in names))
    s = Solver()
    s.add_script(sc)
    assert s.check([], rlimit=200).status is Status.UNKNOWN
    assert s.check([], rlimit=200).status is Status.UNKNOWN


def test_direct_builds_each_operator_as_the_parser_does() -> None:
    import z3

    from reasoner.symbolic import solve

    sc = smt.Script()
    x, y = sc.declare("x", smt.INT), sc.declare("|a b|", smt.INT)
    r, v = sc.declare("r", smt.REAL), sc.declare("v", smt.bitvec_sort(8))
    p, q = sc.declare("p", smt.BOOL), sc.declare("q", smt.BOOL)
    d = sc.define("d", smt.or_(p, smt.not_(q)))
    terms = [
        smt.and_(p, q, d), smt.or_(p, q), smt.not_(p), smt.implies(p, q), smt.eq(x, y), smt.ite(p, q, d),
        f"(distinct {x} {y} 3)", smt.cmp("<=", x, "1"), smt.cmp(">=", x, smt.int_(-2)), smt.cmp("<", r, "1.5"),
        smt.cmp(">", r, smt.real(Fraction(-1, 3))), f"(is_int {r})", smt.cmp("bvule", v, smt.bv(7, 8)),
        smt.cmp("bvuge", v, smt.bv(1, 8)), smt.cmp("bvult", smt.bvand(v, smt.bv(3, 8)), smt.bv(9, 8)),
        smt.cmp("bvugt", v, smt.bv(0, 8)), "(and p true)", "(not false)",
    ]
    import re

    assert set(solve._BUILDERS) <= {h for t in terms for h in re.findall(r"\(([^\s()]+)", t)}
    for t in terms:
        sc.require(t)
    s = Solver()
    s.decls.update(sc.decls)
    s._defs.update(sc.definitions)
    built = s._direct.assertions(sc.text())
    parsed = z3.parse_smt2_string(sc.text(), ctx=smt.context())
    assert len(built) == len(parsed) == len(terms)
    for i, term in enumerate(built):
        assert term.eq(parsed[i]), (terms[i], term.sexpr(), parsed[i].sexpr())


def test_a_query_holds_for_its_check_only() -> None:
    """`check(query=...)`: the term is asserted in a scope popped after the check (the solver does not grow with
    the queries), the model is read before; the dump states it under an assumed literal."""
    import z3

    s, p, q = _solver()
    before = len(s._z3.assertions())
    out = s.check([], query=smt.and_(smt.cmp(">", "x", "5"), smt.cmp("<", "x", "7")))
    assert out.status is Status.SAT and out.model is not None and out.model["x"] == 6
    assert s.check([q], query=smt.cmp(">", "x", "5")).status is Status.UNSAT
    assert s.check([q]).status is Status.SAT  # the query did not stick
    assert len(s._z3.assertions()) == before
    text = s.to_smt2([p], query=smt.cmp("<", "x", "3"))
    assert "(assert (=> query (< x 3)))" in text and "(check-sat-assuming (query p))" in text
    solver = z3.Solver()
    solver.from_string(text.split("(check-sat-assuming")[0])
    assert solver.check(z3.Bool("query"), z3.Bool("p")) == z3.unsat


def test_a_model_the_limit_cut_off_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    # a 10,600-resource scan once ended one resource with `analysis failed: Z3Exception: model is not available`:
    # Z3 answered sat but a limit stopped it building the model. No model is no answer: UNKNOWN with the reason
    import z3

    s, p, _q = _solver()

    def cut(self: object) -> object:
        raise z3.Z3Exception("model is not available")

    monkeypatch.setattr(z3.Solver, "model", cut)
    out = s.check([p], rlimit=10_000_000)
    assert out.status is Status.UNKNOWN and out.model is None
    assert out.reason and "resource limit" in out.reason


def test_a_solver_is_freed_without_the_garbage_collector() -> None:
    """A compiled environment and its solver (with every Z3 term it holds) are freed when the last reference
    goes, not by a collector pass: a reference cycle through the solver made each dropped solver wait for a
    full collection, a 15-40 ms pause landing in whatever ran next (issue 13's compile p99)."""
    import gc
    import weakref
    from pathlib import Path

    from reasoner.analyses.compiled import compile_environment
    from reasoner.analyses.pipeline import check
    from reasoner.analyses.properties import AccessNotGranted, PrincipalScope
    from reasoner.face.api import load_subject

    env = load_subject(str(Path(__file__).resolve().parents[2] / "examples" / "seed" / "environment.yaml"))
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        compiled = compile_environment(env)
        check(compiled, AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",)))
        solver = weakref.ref(compiled.solver)
        del compiled
        assert solver() is None
    finally:
        if was:
            gc.enable()
