"""The refinement loop (`analyses/refine.py`): a model whose policy-variable links no strings realise is not an
answer; the query is asked again without that model's choice for the linked fields, and an unsat answer under
such exclusions is UNKNOWN, never PROVED.

What would break: a decode failure answered UNKNOWN although another model decodes (a flaky UNKNOWN, depending on
which model Z3 happens to give), or an exclusion that turns into a proof (unsound).
"""

from __future__ import annotations

import pytest

from reasoner.analyses import refine
from reasoner.analyses.pipeline import check
from reasoner.analyses.properties import AccessNotGranted, PrincipalScope
from reasoner.analyses.result import Verdict
from reasoner.semantics.environment import Account, Environment, Key
from reasoner.symbolic.decode import DecodeError
from tests.differential.test_variables_agree import KEY, OWN, _open_key

pytestmark = pytest.mark.solver

#: A role named like its own account: the caller's account and role name are related by a policy variable.
_CONDITION = {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/${aws:PrincipalAccount}"}}
_PROP = AccessNotGranted(PrincipalScope.outside_account(OWN), ("kms:Decrypt",))


def _env() -> Environment:
    # two accounts besides the key's, their IAM unknown: a choice of caller account the first model did not take
    return Environment(keys=(Key(KEY, _open_key(_CONDITION)),),
                       accounts=(Account(OWN), Account("444455556666", iam_known=False),
                                 Account("777788889999", iam_known=False)))


def test_a_model_that_does_not_decode_is_asked_again_without_its_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    real = refine.decode_request
    calls = {"n": 0}

    def first_fails(domain: object, model: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise DecodeError("no strings realise a relation between a policy variable's value and another field")
        return real(domain, model)  # type: ignore[arg-type]

    monkeypatch.setattr(refine, "decode_request", first_fails)
    result = check(_env(), _PROP, rlimit=50_000_000)
    assert result.verdict is Verdict.REFUTED, result.reason
    assert calls["n"] >= 2
    cx = result.counterexample
    assert cx is not None and cx.principal.split("/")[1] == cx.principal.split(":")[4]  # replayed by `check`


def test_exclusions_never_make_a_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(domain: object, model: object) -> object:
        raise DecodeError("no strings realise a relation between a policy variable's value and another field")

    monkeypatch.setattr(refine, "decode_request", never)
    result = check(_env(), _PROP, rlimit=50_000_000)
    assert result.verdict is Verdict.UNKNOWN
    assert result.reason is not None and "no strings realise a relation" in result.reason
