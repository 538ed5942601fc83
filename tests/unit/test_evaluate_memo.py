"""The evaluator's per-environment memos (issue 13 performance: `evaluate._resolve_target`'s target cache,
`Target.memo`, `Caller.matches`, the AWS-rule lookups) never change a decision: a request decided on a shared
environment, after other requests and under other options, gets the decision it gets on a fresh environment
that has remembered nothing. The options chosen here each change some decision, so a memo that ignored the
options would fail."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from reasoner.errors import InputError
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics.environment import (
    Account,
    Environment,
    Key,
    NotPrincipalMode,
    Options,
    Principal,
    PrincipalKind,
)
from reasoner.semantics.evaluate import evaluate
from reasoner.semantics.request import Request

OWN = "111122223333"
KEY = f"arn:aws:kms:us-west-2:{OWN}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{OWN}:role/App"
SESSION = f"arn:aws:sts::{OWN}:assumed-role/App/worker"
ROOT = f"arn:aws:iam::{OWN}:root"


def _environment() -> Environment:
    key_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com.cn"}, "Action": "kms:Encrypt",
         "Resource": "*"},
        {"Effect": "Deny", "NotPrincipal": {"AWS": [ROLE]}, "Action": "kms:Decrypt", "Resource": "*"},
    ]}
    identity = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
    policy = parse_policy(json.dumps(key_policy), file="key.json", kind=PolicyKind.KEY_POLICY)
    role = Principal(ROLE, PrincipalKind.ROLE,
                     (parse_policy(json.dumps(identity), file="app.json", kind=PolicyKind.IDENTITY),))
    return Environment(keys=(Key(KEY, policy, aliases=("alias/app",), aws_managed=True),),
                       accounts=(Account(OWN),), principals=(role,))


REQUESTS = (
    Request(ROOT, "kms:PutKeyPolicy", KEY),  # AWS-side rule: an AWS managed key's policy is not changed
    Request(ROOT, "KMS:putkeypolicy", KEY),  # the same, spelled otherwise (a second target-cache entry)
    Request("logs.amazonaws.com", "kms:Encrypt", KEY),  # named as `.com.cn` (Options.cn_service_...)
    Request(SESSION, "kms:Decrypt", KEY),  # Deny+NotPrincipal naming the role only (Options.not_principal_mode)
    Request(SESSION, "kms:Decrypt", f"arn:aws:kms:us-west-2:{OWN}:alias/app"),  # the key through its alias
    Request(SESSION, "kms:Encrypt", KEY, {"kms:EncryptionContext:app": ("billing",)}),
)

OPTIONS = (
    Options(),
    Options(aws_side_rules=False),
    Options(cn_service_principal_suffix_equivalent=False),
    Options(not_principal_mode=NotPrincipalMode.ANY_LINK),
)


def _fresh(request: Request, options: Options) -> str:
    """The decision on an environment nothing was asked of before."""
    return evaluate(replace(_environment()), request, options).decision.value


def test_each_option_changes_some_decision() -> None:
    """(Else the next test could not catch a memo that ignores the options.)"""
    for options in OPTIONS[1:]:
        assert any(_fresh(r, options) != _fresh(r, OPTIONS[0]) for r in REQUESTS), options


@pytest.mark.parametrize("order", ["requests-outer", "options-outer"])
def test_a_shared_environment_decides_as_a_fresh_one(order: str) -> None:
    env = _environment()
    pairs = [(r, o) for r in REQUESTS for o in OPTIONS] if order == "requests-outer" else \
        [(r, o) for o in OPTIONS for r in REQUESTS]
    for _ in range(2):  # the second round answers from the memos
        for request, options in pairs:
            shared = evaluate(env, request, options)
            assert shared.decision.value == _fresh(request, options), (request, options)
            assert shared.request is request


def test_a_refused_request_is_refused_every_time() -> None:
    env = _environment()
    bad = Request(SESSION, "kms:Decrypt", f"arn:aws:kms:us-west-2:{OWN}:key/not-declared")
    for _ in range(2):
        with pytest.raises(InputError):
            evaluate(env, bad)
    derived = Request(SESSION, "kms:Decrypt", KEY, {"aws:ResourceAccount": (OWN,)})
    for _ in range(2):
        with pytest.raises(InputError):
            evaluate(env, derived)
    assert evaluate(env, Request(SESSION, "kms:Decrypt", KEY)).decision.value == "EXPLICIT_DENY"
