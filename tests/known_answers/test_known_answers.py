"""Run the known-answer table (cases.py) through the evaluator and check coverage of semantics §6."""

from __future__ import annotations

import re

import pytest

from reasoner.semantics.evaluate import evaluate
from tests.known_answers.cases import CASES, NOT_DECISIONS
from tests.known_answers.harness import build


@pytest.mark.parametrize("case", CASES, ids=str)
def test_known_answer(case) -> None:  # type: ignore[no-untyped-def]
    env, request = build(case)
    evaluation = evaluate(env, request)
    assert evaluation.decision.value == case.want, (
        f"{case.section} {case.note}: got {evaluation.decision.value}\n"
        + "\n".join(str(r) for r in evaluation.reasons)
    )
    if case.want != "IMPLICIT_DENY":
        assert evaluation.reasons, "an allow or explicit deny always names its statements"


def test_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 150


def test_every_corner_case_of_section_6_is_covered() -> None:
    covered = {int(m.group(1)) for c in CASES if (m := re.match(r"c6-(\d+)-", c.id))}
    assert covered | set(NOT_DECISIONS) >= set(range(1, 75)) - {1, 3, 4}, sorted(
        set(range(1, 75)) - covered - set(NOT_DECISIONS)
    )


def test_every_operator_is_exercised() -> None:
    from reasoner.front.ast import ConditionOperator

    text = repr([(c.key_policy, c.iam, c.organizations) for c in CASES])
    missing = [
        op.value for op in ConditionOperator if f"'{op.value}" not in text and f":{op.value}" not in text
    ]
    assert not missing


_SHORT_NAMES = [
    # IAM quotas (semantics §2): a role session name and a federated user name have at least 2 characters.
    # The evaluator answers for the table's 1-character names; the symbolic domain holds only real names.
    (re.compile(r"(:assumed-role/[^/\s\"']+/)s\b(?![*?/])"), r"\1s1"),
    (re.compile(r"(:federated-user/)F\b(?![*?/])"), r"\1Fed"),
]


def _renamed(value):  # type: ignore[no-untyped-def]
    if isinstance(value, str):
        for rx, repl in _SHORT_NAMES:
            value = rx.sub(repl, value)
        return value
    if isinstance(value, dict):
        return {_renamed(k): _renamed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_renamed(v) for v in value)
    return value


def _symbolic(case):  # type: ignore[no-untyped-def]
    """The pinned symbolic decision of the case (`pinned.decide`: every variable of the symbolic request
    fixed to the case's request), or the reason the case is outside the symbolic domain. The table states
    what AWS decides on exactly the policies given, so the symbolic core runs with
    `unknown_iam_worst_case=False` (the evaluator never assumes unknown IAM; `check` does by default)."""
    if case.id not in _SYMBOLIC:  # once per case: the bound on the cases outside the domain reuses the answers
        _SYMBOLIC[case.id] = _symbolic_uncached(case)
    return _SYMBOLIC[case.id]


#: `_symbolic` per case id: the parametrized test and the count of cases outside the domain ask the same
#: question of every case; answered once, they keep each its own assertion
_SYMBOLIC: dict[str, tuple[bool | None, str | None]] = {}


def _symbolic_uncached(case):  # type: ignore[no-untyped-def]
    import dataclasses

    from reasoner.analyses.compiled import compile_environment
    from reasoner.analyses.pinned import decide
    from reasoner.errors import InputError, UnsupportedFeatureError

    fields = {f.name: _renamed(getattr(case, f.name)) for f in dataclasses.fields(case) if f.name != "id"}
    env, request = build(dataclasses.replace(case, **fields))
    env = dataclasses.replace(env, options=dataclasses.replace(env.options, unknown_iam_worst_case=False))
    try:
        return decide(compile_environment(env), request), None
    except (UnsupportedFeatureError, InputError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


#: Cases where the symbolic core answers for facts the environment leaves open and the evaluator takes as
#: given (README, "What a verdict assumes"): a pinned request does not fix them. Issue 14 §6 ("one story
#: between check and decide") is where they are meant to meet.
KNOWN_GAPS = {
    "c6-49-opt-in-disabled": "an undeclared account may have enabled any opt-in Region (the evaluator: not enabled)",
    "op-userid-root-absent": "an undescribed principal may carry any unique id (the evaluator: none)",
}


def _gap(case):  # type: ignore[no-untyped-def]
    why = KNOWN_GAPS.get(case.id)
    return pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=why), id=case.id) if why else case


@pytest.mark.solver
@pytest.mark.parametrize("case", [_gap(c) for c in CASES], ids=str)
def test_known_answer_symbolic(case) -> None:  # type: ignore[no-untyped-def]
    """Issue 12 §3: the same table through the symbolic core, for every case inside its domain (a case
    outside it says why, and the count of those is bounded below)."""
    allowed, outside = _symbolic(case)
    if outside is not None:
        pytest.skip(f"outside the symbolic domain: {outside}")
    assert allowed is not None, "the solver could not decide a pinned request"
    assert allowed == (case.want == "ALLOW"), f"{case.section} {case.note}: symbolic says allowed={allowed}"


@pytest.mark.solver
def test_most_known_answers_are_inside_the_symbolic_domain() -> None:
    outside = [(c.id, why) for c in CASES for _, why in [_symbolic(c)] if why is not None]
    assert len(outside) <= len(CASES) // 10, outside
