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
