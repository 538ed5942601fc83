"""Laws of the reference evaluator (house style rule 8): explicit deny overrides; adding an Allow statement
never removes access; adding a Deny never adds access; NotAction is the complement of Action; `*` matches
every action. Environments are drawn from small pools (so statements often apply), and the statements
added are drawn from both those pools and `tests/strategies.statements` (every operator and qualifier)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reasoner.errors import UnsupportedFeatureError
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_document
from reasoner.semantics.catalog import all_actions, kms_actions, kms_keyless_actions
from reasoner.semantics.environment import Environment, Key, Principal, PrincipalKind, Session
from reasoner.semantics.evaluate import evaluate, match_action
from reasoner.semantics.request import Decision, Request
from tests import strategies as shared
from tests.known_answers.harness import A, K, O, federated, role, root, session, user

ACTIONS = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ScheduleKeyDeletion",
    "kms:DescribeKey",
    "kms:CreateGrant",
    "kms:ReEncryptFrom",
]
ACTION_PATTERNS = [
    "kms:Decrypt",
    "kms:*",
    "kms:Gen*",
    "kms:Encrypt",
    "*",
    "s3:*",
    "kms:ReEncrypt*",
    "KMS:describe?ey",
]
RESOURCES = ["*", K, f"arn:aws:kms:*:{O}:key/*", f"arn:aws:kms:us-east-1:{A}:key/*"]
PRINCIPALS = [
    {"AWS": root(O)},
    {"AWS": A},
    "*",
    {"AWS": role(O)},
    {"AWS": session(O)},
    {"AWS": user(O)},
    {"AWS": role(A)},
    {"AWS": federated(O)},
]
CONDITIONS: list[dict[str, Any] | None] = [
    None,
    None,
    None,
    {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringNotEquals": {"aws:PrincipalAccount": A}},
    {"StringEqualsIfExists": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    {"Null": {"aws:SourceIp": "true"}},
    {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "app"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{O}:*"}},
]
DELEGATE = {"Effect": "Allow", "Principal": {"AWS": root(O)}, "Action": "kms:*", "Resource": "*"}
CALLERS = [user(O), session(O), session(A), root(A), root(O), federated(O), "cloudtrail.amazonaws.com"]
CONTEXTS = [
    {},
    {"kms:ViaService": ("s3.us-east-1.amazonaws.com",)},
    {"aws:SourceIp": ("10.1.2.3",)},
    {"kms:EncryptionContext:app": ("x",)},
]


@st.composite
def statement(draw: st.DrawFn, kind: PolicyKind, effect: str | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    if kind is PolicyKind.KEY_POLICY:
        s["Principal"] = draw(st.sampled_from(PRINCIPALS))
    s["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = draw(
        st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=2)
    )
    s["Resource"] = "*" if kind is PolicyKind.KEY_POLICY else draw(st.sampled_from(RESOURCES))
    cond = draw(st.sampled_from(CONDITIONS))
    if cond:
        s["Condition"] = cond
    return s


def added(kind: PolicyKind, effect: str) -> st.SearchStrategy[dict[str, Any]]:
    """A statement to add: from the pools, or any statement of `tests/strategies` with that effect."""

    def with_effect(s: dict[str, Any]) -> dict[str, Any]:
        out = dict(s)
        out["Effect"] = effect
        if effect == "Allow" and "NotPrincipal" in out:  # Allow+NotPrincipal is not a valid statement
            out["Principal"] = out.pop("NotPrincipal")
        return out

    return st.one_of(statement(kind, effect), shared.statements(kind).map(with_effect))


def policy(statements: list[dict[str, Any]], kind: PolicyKind, name: str):  # type: ignore[no-untyped-def]
    text = json.dumps({"Version": "2012-10-17", "Statement": statements})
    doc, diags = parse_document(text, file=name, kind=kind)
    assert doc is not None, diags
    return doc


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "kp": ([DELEGATE] if draw(st.booleans()) else [])
        + draw(st.lists(statement(PolicyKind.KEY_POLICY), min_size=1, max_size=4)),
        "role_o": draw(st.lists(statement(PolicyKind.IDENTITY), max_size=3)),
        "user_o": draw(st.lists(statement(PolicyKind.IDENTITY), max_size=3)),
        "role_a": draw(st.lists(statement(PolicyKind.IDENTITY), max_size=3)),
        "boundary": draw(
            st.one_of(st.none(), st.lists(statement(PolicyKind.IDENTITY), min_size=1, max_size=2))
        ),
        "session_policy": draw(st.lists(statement(PolicyKind.IDENTITY), min_size=1, max_size=2)),
    }


def build(w: dict[str, Any]) -> Environment:
    ident = PolicyKind.IDENTITY

    def pols(name: str) -> tuple[Any, ...]:
        return (policy(w[name], ident, f"{name}.json"),) if w[name] else ()

    boundary = policy(w["boundary"], PolicyKind.PERMISSIONS_BOUNDARY, "pb.json") if w["boundary"] else None
    return Environment(
        keys=(Key(K, policy(w["kp"], PolicyKind.KEY_POLICY, "kp.json")),),
        principals=(
            Principal(role(O), PrincipalKind.ROLE, pols("role_o"), boundary),
            Principal(user(O), PrincipalKind.USER, pols("user_o")),
            Principal(role(A), PrincipalKind.ROLE, pols("role_a")),
        ),
        sessions=(
            Session(federated(O), user(O), (policy(w["session_policy"], PolicyKind.SESSION, "sp.json"),)),
        ),
    )


requests = st.builds(
    Request, st.sampled_from(CALLERS), st.sampled_from(ACTIONS), st.just(K), st.sampled_from(CONTEXTS)
).filter(lambda r: not (r.principal.endswith(".amazonaws.com") and "kms:ViaService" in r.context))
# (a service principal acting as itself is never in a forward access session: semantics/requestfacts.py, fact 3)
PLACES = ["kp", "role_o", "user_o", "role_a", "session_policy", "boundary"]


def decide(w: dict[str, Any], r: Request) -> Decision | None:
    try:
        return evaluate(build(w), r).decision
    except UnsupportedFeatureError:  # e.g. a drawn Deny+NotPrincipal turned into something unsupported
        return None


@given(worlds(), requests)
def test_explicit_deny_overrides(w: dict[str, Any], r: Request) -> None:
    deny_all = {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}
    assert decide({**w, "kp": [*w["kp"], deny_all]}, r) is Decision.EXPLICIT_DENY
    if r.principal == session(O):  # the role's own identity policy
        w2 = {**w, "role_o": [*w["role_o"], {"Effect": "Deny", "Action": "*", "Resource": "*"}]}
        assert decide(w2, r) is Decision.EXPLICIT_DENY


@settings(max_examples=80)
@given(worlds(), requests, st.sampled_from(PLACES), st.data())
def test_adding_an_allow_never_removes_access(
    w: dict[str, Any], r: Request, place: str, data: st.DataObject
) -> None:
    kind = PolicyKind.KEY_POLICY if place == "kp" else PolicyKind.IDENTITY
    before = decide(w, r)
    extra = data.draw(added(kind, "Allow"))
    if w[place] is None:  # no boundary attached: attaching one is not "adding a statement"
        return
    after = decide({**w, place: [*w[place], extra]}, r)
    if before is Decision.ALLOW and after is not None:
        assert after is Decision.ALLOW


@settings(max_examples=80)
@given(worlds(), requests, st.sampled_from(PLACES), st.data())
def test_adding_a_deny_never_adds_access(
    w: dict[str, Any], r: Request, place: str, data: st.DataObject
) -> None:
    kind = PolicyKind.KEY_POLICY if place == "kp" else PolicyKind.IDENTITY
    before = decide(w, r)
    extra = data.draw(added(kind, "Deny"))
    if w[place] is None:  # no boundary attached: attaching one is not "adding a statement"
        return
    after = decide({**w, place: [*w[place], extra]}, r)
    if before is not None and before is not Decision.ALLOW and after is not None:
        assert after is not Decision.ALLOW
    if before is Decision.EXPLICIT_DENY and after is not None:
        assert after is Decision.EXPLICIT_DENY


@given(
    st.lists(st.sampled_from(ACTION_PATTERNS) | shared.action_patterns(), min_size=1, max_size=3),
    st.sampled_from(all_actions()),
)
def test_not_action_is_the_complement_of_action(patterns: list[str], action: str) -> None:
    pos = policy([{"Effect": "Allow", "Action": patterns, "Resource": "*"}], PolicyKind.IDENTITY, "p.json")
    neg = policy([{"Effect": "Allow", "NotAction": patterns, "Resource": "*"}], PolicyKind.IDENTITY, "n.json")
    assert match_action(pos.statements[0].action, action) != match_action(neg.statements[0].action, action)


@given(st.sampled_from(all_actions()))
def test_star_matches_every_action(action: str) -> None:
    star = policy([{"Effect": "Allow", "Action": "*", "Resource": "*"}], PolicyKind.IDENTITY, "s.json")
    assert match_action(star.statements[0].action, action)
    assert match_action(star.statements[0].action, action.upper())


def test_star_allows_every_kms_action_to_a_delegated_user() -> None:
    """`*` in an identity policy, delegated by the default key policy, allows every KMS action of the
    catalogue on the key (keyless ones on `*`), except RetireGrant, which only a grant authorises (§4.4)."""
    kp = policy(
        [{"Effect": "Allow", "Principal": {"AWS": root(O)}, "Action": "kms:*", "Resource": "*"}],
        PolicyKind.KEY_POLICY,
        "kp.json",
    )
    star = policy([{"Effect": "Allow", "Action": "*", "Resource": "*"}], PolicyKind.IDENTITY, "s.json")
    env = Environment(keys=(Key(K, kp),), principals=(Principal(user(O), PrincipalKind.USER, (star,)),))
    keyless = kms_keyless_actions()
    denied = []
    for action in kms_actions():
        resource = (
            "*"
            if action in keyless
            else (f"arn:aws:kms:us-east-1:{O}:alias/x" if action.endswith("Alias") else K)
        )
        if evaluate(env, Request(user(O), action, resource)).decision is not Decision.ALLOW:
            denied.append(action)
    assert denied == ["kms:RetireGrant"]


@given(worlds(), st.lists(requests, min_size=1, max_size=6))
def test_caches_are_transparent(w: dict[str, Any], reqs: list[Request]) -> None:
    """Compiled patterns and derived contexts are cached by object identity: a fresh, equal environment and
    a different request order give the same decisions."""
    env1, env2 = build(w), build(w)
    try:
        first = [evaluate(env1, r).decision for r in reqs]
        second = [evaluate(env2, r).decision for r in reversed(reqs)][::-1]
        again = [evaluate(env1, r).decision for r in reqs]
    except UnsupportedFeatureError:
        return
    assert first == second == again
