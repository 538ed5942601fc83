"""What AWS guarantees about a request's context (semantics/requestfacts.py; issue 14 item 2), in both engines.

The evaluator refuses a request that breaks a fact (EVAL006: AWS never sends it) and accepts the same request
made possible; the symbolic core reasons only about possible requests, so a claim whose only counterexamples were
impossible is PROVED, and every REFUTED counterexample keeps the facts (`check` replays it through the evaluator,
which would refuse an impossible one). Each case names its fact (the numbers of requestfacts.py's docstring).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from reasoner.analyses.compiled import compile_environment
from reasoner.analyses.pinned import decide
from reasoner.analyses.pipeline import check
from reasoner.analyses.properties import AccessNotGranted, PrincipalScope
from reasoner.analyses.result import Verdict
from reasoner.errors import InputError
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics import catalog, requestfacts
from reasoner.semantics.environment import Account, Environment, Key
from reasoner.semantics.evaluate import IMPOSSIBLE_REQUEST, evaluate
from reasoner.semantics.request import Request

OWNER = "111122223333"
KEY = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
USER = "arn:aws:iam::444455556666:user/alice"
SERVICE = "cloudtrail.amazonaws.com"
VIA = "s3.us-east-1.amazonaws.com"


def _env(action: str = "kms:Decrypt", principal: Any = "*", condition: dict[str, Any] | None = None) -> Environment:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    policy = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [statement]}), file="kp.json",
                          kind=PolicyKind.KEY_POLICY)
    return Environment(keys=(Key(KEY, policy),), accounts=(Account(OWNER),))


# ---- the evaluator: impossible requests are refused, their possible twins are not --------------------------

#: (fact, caller, action, impossible context, the same request made possible)
_CONCRETE = [
    (1, USER, "kms:Decrypt", {"aws:ViaAWSService": "True"}, {"aws:ViaAWSService": "true"}),
    (2, USER, "kms:Decrypt", {"kms:ViaService": "example"}, {"kms:ViaService": VIA}),
    (3, USER, "kms:Decrypt", {"kms:ViaService": VIA, "aws:ViaAWSService": "false"}, {"kms:ViaService": VIA}),
    (3, SERVICE, "kms:Decrypt", {"aws:ViaAWSService": "true"}, {"aws:ViaAWSService": "false"}),
    (3, SERVICE, "kms:Decrypt", {"kms:ViaService": VIA}, {}),
    (4, USER, "kms:CreateGrant", {"kms:GrantIsForAWSResource": "true"},
     {"kms:GrantIsForAWSResource": "true", "kms:ViaService": VIA}),
    (5, USER, "kms:Decrypt", {"aws:SourceArn": "arn:aws:s3:::bucket"}, {}),
    (5, SERVICE, "kms:Decrypt", {"aws:SourceAccount": "12345"}, {"aws:SourceAccount": "123456789012"}),
    (5, SERVICE, "kms:Decrypt", {"aws:SourceArn": "bucket"}, {"aws:SourceArn": "arn:aws:s3:::bucket"}),
    (6, USER, "kms:Decrypt", {"aws:CalledViaFirst": "athena.amazonaws.com"},
     {"aws:CalledViaFirst": "athena.amazonaws.com", "aws:CalledVia": "athena.amazonaws.com",
      "aws:CalledViaLast": "athena.amazonaws.com"}),
    (6, USER, "kms:Decrypt", {"aws:CalledVia": "athena.amazonaws.com", "aws:CalledViaFirst": "dynamodb.amazonaws.com",
                              "aws:CalledViaLast": "athena.amazonaws.com"},
     {"aws:CalledVia": ("athena.amazonaws.com", "dynamodb.amazonaws.com"),
      "aws:CalledViaFirst": "dynamodb.amazonaws.com", "aws:CalledViaLast": "athena.amazonaws.com"}),
    (7, USER, "kms:Decrypt", {"aws:SourceVpc": "vpc-1a2b3c4d"},
     {"aws:SourceVpc": "vpc-1a2b3c4d", "aws:SourceVpce": "vpce-1a2b3c4d"}),
    (7, USER, "kms:Decrypt", {"aws:SourceVpce": "vpce-1a2b3c4d", "aws:SourceIp": "10.1.2.3"},
     {"aws:SourceVpce": "vpce-1a2b3c4d"}),
]


def _context(c: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    return {k: (v,) if isinstance(v, str) else tuple(v) for k, v in c.items()}


@pytest.mark.parametrize(("fact", "caller", "action", "impossible", "possible"), _CONCRETE,
                         ids=[f"fact{c[0]}-{i}" for i, c in enumerate(_CONCRETE)])
def test_evaluator_refuses_what_aws_never_sends(fact: int, caller: str, action: str, impossible: dict[str, Any],
                                                possible: dict[str, Any]) -> None:
    env = _env(action)
    with pytest.raises(InputError) as info:
        evaluate(env, Request(caller, action, KEY, _context(impossible)))
    assert info.value.code == IMPOSSIBLE_REQUEST and "AWS never sends this request" in info.value.message
    evaluate(env, Request(caller, action, KEY, _context(possible)))  # the possible twin is decided


def test_pinned_decision_refuses_an_impossible_request() -> None:
    compiled = compile_environment(_env(condition={"StringLike": {"aws:SourceArn": "*"}}))
    with pytest.raises(ValueError, match="AWS never sends"):
        decide(compiled, Request(USER, "kms:Decrypt", KEY, {"aws:SourceArn": ("arn:aws:s3:::b",)}))
    assert decide(compiled, Request(SERVICE, "kms:Decrypt", KEY, {"aws:SourceArn": ("arn:aws:s3:::b",)})) is True


# ---- the symbolic core: claims whose only counterexamples were impossible are PROVED ------------------------

#: (name, fact, action, principal, condition, verdict of "no principal outside the owner's account can ACTION")
_SYMBOLIC: list[tuple[str, int, str, Any, dict[str, Any], Verdict]] = [
    ("boolean-spelling", 1, "kms:Decrypt", "*", {"StringEquals": {"aws:ViaAWSService": "True"}}, Verdict.PROVED),
    ("via-service-not-an-endpoint", 2, "kms:Decrypt", "*", {"StringEquals": {"kms:ViaService": "example"}},
     Verdict.PROVED),
    ("via-service-any", 2, "kms:Decrypt", "*", {"StringLike": {"kms:ViaService": "*"}}, Verdict.REFUTED),
    ("via-service-not-fas", 3, "kms:Decrypt", "*",
     {"StringEquals": {"kms:ViaService": VIA}, "Bool": {"aws:ViaAWSService": "false"}}, Verdict.PROVED),
    ("via-service-fas", 3, "kms:Decrypt", "*",
     {"StringLike": {"kms:ViaService": "s3.*"}, "Bool": {"aws:ViaAWSService": "true"}}, Verdict.REFUTED),
    ("service-never-fas", 3, "kms:Decrypt", {"Service": SERVICE}, {"Bool": {"aws:ViaAWSService": "true"}},
     Verdict.PROVED),
    ("grant-for-resource-direct", 4, "kms:CreateGrant", "*",
     {"Bool": {"kms:GrantIsForAWSResource": "true"}, "Null": {"kms:ViaService": "true"}}, Verdict.PROVED),
    ("grant-for-resource", 4, "kms:CreateGrant", "*", {"Bool": {"kms:GrantIsForAWSResource": "true"}},
     Verdict.REFUTED),
    ("source-account-iam-principals", 5, "kms:Decrypt", {"AWS": "arn:aws:iam::444455556666:root"},
     {"StringLike": {"aws:SourceAccount": "*"}}, Verdict.PROVED),
    ("source-arn-service", 5, "kms:Decrypt", "*", {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}},
     Verdict.REFUTED),
    ("called-via-first-not-in-called-via", 6, "kms:Decrypt", "*",
     {"StringEquals": {"aws:CalledViaFirst": "athena.amazonaws.com"},
      "ForAllValues:StringEquals": {"aws:CalledVia": ["cloudformation.amazonaws.com"]}}, Verdict.PROVED),
    ("called-via-first-alone", 6, "kms:Decrypt", "*",
     {"StringEquals": {"aws:CalledViaFirst": "athena.amazonaws.com"}, "Null": {"aws:CalledVia": "true"}},
     Verdict.PROVED),
    ("called-via-first", 6, "kms:Decrypt", "*", {"StringEquals": {"aws:CalledViaFirst": "athena.amazonaws.com"}},
     Verdict.REFUTED),
    ("vpc-without-endpoint", 7, "kms:Decrypt", "*",
     {"StringEquals": {"aws:SourceVpc": "vpc-1a2b3c4d"}, "Null": {"aws:SourceVpce": "true"}}, Verdict.PROVED),
    ("endpoint-and-source-ip", 7, "kms:Decrypt", "*",
     {"StringLike": {"aws:SourceVpce": "vpce-*"}, "IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, Verdict.PROVED),
    ("endpoint", 7, "kms:Decrypt", "*", {"StringLike": {"aws:SourceVpce": "*"}}, Verdict.REFUTED),
]


@pytest.mark.solver
@pytest.mark.parametrize(("name", "fact", "action", "principal", "condition", "verdict"), _SYMBOLIC,
                         ids=[c[0] for c in _SYMBOLIC])
def test_symbolic_core_reasons_about_possible_requests(  # noqa: PLR0917
        name: str, fact: int, action: str, principal: Any, condition: dict[str, Any], verdict: Verdict) -> None:
    env = _env(action, principal, condition)
    result = check(env, AccessNotGranted(PrincipalScope.outside_account(OWNER), (action,)))
    assert result.verdict is verdict, f"fact {fact}: {result.reason}"
    if verdict is Verdict.REFUTED:
        request = result.counterexample
        assert request is not None
        ctx = {k.lower(): v for k, v in request.context.items()}
        spelled = set(catalog.GLOBAL_CONDITION_KEYS)
        assert all(k in spelled for k in request.context if k.startswith("aws:")), list(request.context)
        for key, values in ctx.items():
            assert all(requestfacts.shape_matches(key, v) for v in values), (key, values)
            if key in requestfacts.BOOLEAN_KEYS:
                assert set(values) <= {"true", "false"}
        if "aws:calledviafirst" in ctx:
            assert set(ctx["aws:calledviafirst"]) <= set(ctx["aws:calledvia"])


# ---- counterexamples AWS could send, readable (issue 14 item 4) ----------------------------------------------


@pytest.mark.solver
def test_counterexamples_read_like_aws_requests() -> None:
    """A real endpoint for kms:ViaService, the derived key that decides shown (set by AWS), a real service
    principal instead of a placeholder, and ARNs without wildcards, with their Region and a resource name."""
    from reasoner.face.render.results import _refutation_lines

    env = _env("kms:CreateGrant", {"AWS": "*"}, {"Bool": {"kms:GrantIsForAWSResource": "true"}})
    result = check(env, AccessNotGranted(PrincipalScope.outside_account(OWNER), ("kms:CreateGrant",)))
    assert result.counterexample is not None
    assert result.counterexample.context["kms:ViaService"] == (VIA,)
    assert result.derived == (("kms:GrantIsForAWSResource", ("true",)),)
    text = "\n".join(_refutation_lines(result))
    assert "kms:GrantIsForAWSResource = true  (set by AWS)" in text

    trail = {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:*:{OWNER}:trail/*"}}
    result = check(_env("kms:Decrypt", "*", trail), AccessNotGranted(PrincipalScope.outside_account(OWNER),
                                                                     ("kms:Decrypt",)))
    request = result.counterexample
    assert request is not None and request.principal == "cloudtrail.amazonaws.com"
    assert request.context["aws:SourceArn"] == (f"arn:aws:cloudtrail:us-east-1:{OWNER}:trail/example",)
