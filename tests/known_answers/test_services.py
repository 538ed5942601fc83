"""The per-service known-answer tables (`services/*.yaml`, docs/semantics-services.md) through the evaluator and
the symbolic pinned decision (issue 13: every resource type, role trust policies, AWS-side rules, partitions)."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from typing import Any

import pytest

from reasoner.semantics.evaluate import evaluate
from tests.known_answers.services_harness import ServiceCase, build, load_cases

CASES = load_cases()
#: A case with `xfail: <reason>` (services/regressions.yaml) is a known engine gap: a strict xfail, so that the test
#: fails once the engine gives the documented answer, until the key goes.
PARAMS = [pytest.param(c, id=c.id, marks=pytest.mark.xfail(reason=str(c.data["xfail"]), strict=True))
          if c.data.get("xfail") else pytest.param(c, id=c.id) for c in CASES]


@pytest.mark.parametrize("case", PARAMS)
def test_service_case(case: ServiceCase) -> None:
    env, request = build(case)
    evaluation = evaluate(env, request)
    want = case.data["want"]
    assert evaluation.decision.value == want, (
        f"{case.file} {case.cite} {case.note}: got {evaluation.decision.value}\n"
        + "\n".join(str(r) for r in evaluation.reasons)
    )
    if want != "IMPLICIT_DENY":
        assert evaluation.reasons, "an allow or explicit deny always names its statements or rule"


def test_ids_are_unique() -> None:
    ids = Counter(c.id for c in CASES)
    assert not [i for i, n in ids.items() if n > 1]


def test_every_case_cites_the_reference() -> None:
    assert all(c.cite.strip().startswith("§") for c in CASES), [c.id for c in CASES if not c.cite.startswith("§")]


#: IAM quotas (semantics §2): role-session and federated-user names have at least 2 characters. The evaluator
#: answers for the tables' 1-character names; the symbolic domain holds only names AWS accepts.
_SHORT_NAMES = re.compile(r"(:assumed-role/[^/\s\"']+/|:federated-user/)([A-Za-z0-9])\b(?![*?/])")


def _renamed(value: Any) -> Any:
    if isinstance(value, str):
        return _SHORT_NAMES.sub(r"\1\g<2>1", value)
    if isinstance(value, dict):
        return {_renamed(k): _renamed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_renamed(v) for v in value)
    return value


def _symbolic(case: ServiceCase) -> tuple[bool | None, str | None]:
    """The pinned symbolic decision, with `unknown_iam_worst_case=False` as for the KMS table (the table states
    what AWS decides on exactly the policies given)."""
    if case.id not in _SYMBOLIC:  # once per case: the bound on the cases outside the domain reuses the answers
        _SYMBOLIC[case.id] = _symbolic_uncached(case)
    return _SYMBOLIC[case.id]


#: `_symbolic` per case id: the parametrized test and the count of cases outside the domain ask the same
#: question of every case; answered once, they keep each its own assertion
_SYMBOLIC: dict[str, tuple[bool | None, str | None]] = {}


def _symbolic_uncached(case: ServiceCase) -> tuple[bool | None, str | None]:
    from reasoner.analyses.compiled import compile_environment
    from reasoner.analyses.pinned import decide
    from reasoner.errors import InputError, UnsupportedFeatureError

    env, request = build(dataclasses.replace(case, data=_renamed(case.data)))
    env = dataclasses.replace(env, options=dataclasses.replace(env.options, unknown_iam_worst_case=False))
    try:
        return decide(compile_environment(env), request), None
    except (UnsupportedFeatureError, InputError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


@pytest.mark.solver
@pytest.mark.parametrize("case", PARAMS)
def test_service_case_symbolic(case: ServiceCase) -> None:
    allowed, outside = _symbolic(case)
    if outside is not None:
        pytest.skip(f"outside the symbolic domain: {outside}")
    assert allowed is not None, "the solver could not decide a pinned request"
    assert allowed == (case.data["want"] == "ALLOW"), f"{case.file} {case.cite} {case.note}: symbolic allowed={allowed}"


@pytest.mark.solver
def test_most_service_cases_are_inside_the_symbolic_domain() -> None:
    """Cases on a key, resource or role (the symbolic domain's targets; requests on `*` such as
    sts:GetCallerIdentity are the evaluator's alone) are decided by the symbolic core too, but for a few."""
    outside = [(c.id, why) for c in CASES if not c.data.get("xfail")  # known gaps are counted by their xfail
               for _, why in [_symbolic(c)] if why is not None and "SYM001" not in why]
    assert len(outside) <= len(CASES) // 20, outside
