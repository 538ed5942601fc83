"""The set bound of the symbolic core (docs/set-bound.md; issue 14 item 3): enough elements for every policy.

A statement that needs twelve elements of `aws:TagKeys` is refuted with twelve (the old bound of eight made it
UNKNOWN); for random policies of set conditions over a small pool of values, every PROVED claim is checked
against every subset of the pool by the concrete evaluator (no subset violates it), and every REFUTED one is
replayed by `check` itself.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.analyses.conditions import concretely_violates
from reasoner.analyses.pipeline import check
from reasoner.analyses.properties import AccessNotGranted, PrincipalScope
from reasoner.analyses.result import Verdict
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics.environment import Account, Environment, Key
from reasoner.semantics.request import Request
from tests.strategies import examples

pytestmark = pytest.mark.solver

OWNER = "111122223333"
KEY = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CALLER = "arn:aws:iam::444455556666:root"
TAGS = "aws:TagKeys"
POOL = ("a", "b", "c", "d", "e")


def _env(statements: list[dict[str, Any]]) -> Environment:
    policy = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": statements}), file="kp.json",
                          kind=PolicyKind.KEY_POLICY)
    return Environment(keys=(Key(KEY, policy),), accounts=(Account(OWNER),))


def _prop() -> AccessNotGranted:
    return AccessNotGranted(PrincipalScope.outside_account(OWNER), ("kms:Decrypt",))


def test_twelve_elements_are_found() -> None:
    """Twelve Deny statements, each unless the tag keys include its name: only a set of twelve elements gets
    through (twelve distinct conditions, so thirteen slots)."""
    names = [f"t{i}" for i in range(12)]
    allow = {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
    denies = [{"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
               "Condition": {"ForAllValues:StringNotEquals": {TAGS: n}}} for n in names]
    result = check(_env([allow, *denies]), _prop())
    assert result.verdict is Verdict.REFUTED, result.reason
    assert result.counterexample is not None
    assert set(result.counterexample.context[TAGS]) >= set(names)


_conditions = st.sampled_from([
    ("ForAnyValue:StringEquals", ["a"]), ("ForAnyValue:StringEquals", ["b", "c"]), ("ForAllValues:StringEquals",
                                                                                       ["a", "b"]),
    ("ForAllValues:StringNotEquals", ["c"]), ("ForAnyValue:StringNotEquals", ["a"]), ("ForAnyValue:StringLike",
                                                                                      ["d*"]),
    ("ForAllValues:StringLike", ["?"]), ("Null", ["false"]), ("StringEquals", ["e"]),
])


@st.composite
def _policies(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for effect in draw(st.lists(st.sampled_from(["Allow", "Allow", "Deny"]), min_size=1, max_size=3)):
        chosen = draw(st.lists(_conditions, min_size=1, max_size=3, unique_by=lambda c: c[0]))
        out.append({"Effect": effect, "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
                    "Condition": {op: {TAGS: values} for op, values in chosen}})
    return out


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_policies())
def test_proofs_hold_for_every_subset_of_the_pool(statements: list[dict[str, Any]]) -> None:
    env = _env(statements)
    result = check(env, _prop())
    assert result.verdict is not Verdict.UNKNOWN, result.reason
    if result.verdict is Verdict.PROVED:
        for n in range(len(POOL) + 1):
            for subset in itertools.combinations(POOL, n):
                context = {TAGS: subset} if subset else {}
                request = Request(CALLER, "kms:Decrypt", KEY, context)
                assert not concretely_violates(_prop(), [env], request), (statements, subset)
