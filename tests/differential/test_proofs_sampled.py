"""PROVED verdicts are cross-checked by sampling; REFUTED verdicts replay (issue 4).

For random environments (tests/strategies.py) and properties, a PROVED answer is tested against many
concrete requests biased towards the policies' own constants (no request may violate the property when the
evaluator decides it), and a REFUTED answer's counterexample must violate the property when replayed.
Also two laws: an environment is equivalent to itself, and has no new access relative to itself.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reasoner.analyses.compiled import compile_environment
from reasoner.analyses.explain import replay
from reasoner.analyses.pipeline import check as check_property
from reasoner.analyses.properties import AccessNotGranted, Equivalent, NoNewAccess, PrincipalScope
from reasoner.analyses.result import Verdict
from reasoner.errors import InputError, UnsupportedFeatureError
from reasoner.semantics.names import well_formed
from tests.differential.test_verdicts_agree import ACTIONS, environments, requests_for
from tests.strategies import examples

pytestmark = pytest.mark.solver

OWNER = "111122223333"


def _possible(principal: str) -> bool:
    """The caller can exist in AWS (IAM name quotas, `semantics/names.py`): the evaluator also answers for
    names no principal can have (`assumed-role/R/s`, a 1-character session name), a proof does not cover them."""
    import re

    if m := re.fullmatch(r"arn:aws:sts::\d{12}:assumed-role/([^/]+)/(.+)", principal):
        return well_formed("role", m.group(1)) and well_formed("sess", m.group(2))
    if m := re.fullmatch(r"arn:aws:sts::\d{12}:federated-user/(.+)", principal):
        return well_formed("fed", m.group(1))
    if m := re.fullmatch(r"arn:aws:iam::\d{12}:user/(.+)", principal):
        path, _, name = m.group(1).rpartition("/")
        return well_formed("uname", name) and well_formed("upath", f"{path}/" if path else "")
    return True


def _outside(principal: str) -> bool:
    parts = principal.split(":")
    return len(parts) < 5 or parts[4] != OWNER


@settings(max_examples=examples(30), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_proved_survives_sampling_and_refuted_replays(data: st.DataObject) -> None:
    env = data.draw(environments())
    actions = tuple(data.draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3, unique=True)))
    prop = AccessNotGranted(PrincipalScope.outside_account(OWNER), actions)
    try:
        compiled = compile_environment(env)
    except UnsupportedFeatureError:
        assume(False)
        return
    result = check_property(compiled, prop)
    assert result.verdict is not Verdict.UNKNOWN or (result.reason or "").startswith("unsupported"), result.reason
    if result.verdict is Verdict.REFUTED:
        cx = result.counterexample
        assert cx is not None and cx.action in actions and _outside(cx.principal)
        assert replay(env, cx)[0].decision.allowed
    elif result.verdict is Verdict.PROVED:
        for _ in range(25):
            request = data.draw(requests_for(env))
            if request.action not in actions or not _outside(request.principal) or not _possible(request.principal):
                continue
            try:
                allowed = replay(env, request)[0].decision.allowed
            except InputError:
                continue
            assert not allowed, f"PROVED but {request} is allowed"


@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(environments())
def test_laws_equivalent_to_itself_and_no_new_access(env: object) -> None:
    try:
        compiled = compile_environment(env)  # type: ignore[arg-type]
    except UnsupportedFeatureError:
        assume(False)
        return
    assert check_property(compiled, Equivalent(env)).verdict is Verdict.PROVED  # type: ignore[arg-type]
    assert check_property(compiled, NoNewAccess(env)).verdict is Verdict.PROVED  # type: ignore[arg-type]
