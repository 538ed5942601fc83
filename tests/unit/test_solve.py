"""Unit tests of reasoner/symbolic/solve.py: three-valued outcomes, assumption literals, lemmas, unknown with a
reason (never folded into sat/unsat), and the SMT-LIB dump."""

from __future__ import annotations

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
