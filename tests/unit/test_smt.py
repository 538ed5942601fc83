"""Unit tests of reasoner/symbolic/smt.py: smart constructors fold constants, names are valid SMT-LIB symbols, and a
script parses in the shared context."""

from __future__ import annotations

import z3

from reasoner.symbolic import smt
from reasoner.symbolic.smt import FALSE, TRUE


def test_constant_folding() -> None:
    assert smt.and_("a", TRUE) == "a"
    assert smt.and_("a", FALSE) == FALSE
    assert smt.and_() == TRUE
    assert smt.or_() == FALSE
    assert smt.or_("a", TRUE) == TRUE
    assert smt.and_("a", "a", "b") == "(and a b)"
    assert smt.not_(smt.not_("x")) == "x"
    assert smt.not_(TRUE) == FALSE
    assert smt.implies(FALSE, "x") == TRUE
    assert smt.implies("x", FALSE) == "(not x)"
    assert smt.iff("x", "x") == TRUE
    assert smt.ite(TRUE, "a", "b") == "a"
    assert smt.ite("c", TRUE, FALSE) == "c"
    assert smt.eq("1", "1") == TRUE


def test_generators_are_accepted() -> None:
    assert smt.and_(t for t in ("a", "b")) == "(and a b)"
    assert smt.or_(["a"], "b") == "(or a b)"


def test_symbols_are_quoted_when_needed() -> None:
    assert smt.sym("p.acct.sel") == "p.acct.sel"
    assert smt.sym("ctx.kms:encryptioncontext:x.present") == "|ctx.kms:encryptioncontext:x.present|"
    assert smt.sym("and") == "|and|"
    assert smt.sym("a|b") == "|a!b|"
    assert smt.unquote(smt.sym("x y")) == "x y"


def test_numbers() -> None:
    from fractions import Fraction

    assert smt.int_(-3) == "(- 3)"
    assert smt.real(Fraction(3, 2)) == "(/ 3.0 2.0)"
    assert smt.real(-2) == "(- 2.0)"
    assert smt.bv(5, 32) == "(_ bv5 32)"


def test_script_parses_in_the_shared_context() -> None:
    sc = smt.Script()
    x = sc.declare("x", smt.INT)
    b = sc.declare("odd name", smt.BOOL)
    d = sc.define("big", smt.and_(b, smt.cmp(">", x, "3")))
    n = sc.name_const("named", smt.or_(d, smt.eq(x, "0")))
    sc.require(n)
    sc.require(smt.not_(smt.eq(x, "0")))
    assertions = sc.parse()
    s = z3.Solver(ctx=smt.context())
    s.add(*assertions)
    assert s.check() == z3.sat
    m = s.model()
    assert m.eval(z3.Int("x", smt.context())).as_long() > 3
    assert z3.is_true(m.eval(smt.bool_const("odd name")))
