"""Differential tests: the symbolic decision for a pinned concrete request equals `evaluate.evaluate`'s.

Hypothesis draws environments (a key policy, identity policies of a user and of an external role, the
external account's IAM given or not) from tests/strategies.py, and requests biased towards the policies' own
constants. For each request, `pinned.decide` fixes every variable of the symbolic request and asks the
solver for an ALLOW and for a deny model: exactly one must exist, and it must be the evaluator's decision
(replayed with the worst-case identity policy when the caller's IAM was not given, as `explain.replay` does).
This covers every condition operator, qualifier and IfExists of the strategies (semantics §3.2, §3.3),
principal matching (§2.3, §2.4) and the KMS decision rules (§4.2-§4.4).
"""

from __future__ import annotations

import json
from dataclasses import fields, replace

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reasoner.analyses.compiled import compile_environment
from reasoner.analyses.explain import replay
from reasoner.analyses.pinned import decide
from reasoner.errors import InputError, UnsupportedFeatureError
from reasoner.front.ast import PolicyDocument, PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics import evaluate as ev
from reasoner.semantics.environment import (
    Account,
    Environment,
    Grant,
    Key,
    NotPrincipalMode,
    Options,
    Organization,
    Principal,
    PrincipalKind,
    Session,
)
from reasoner.semantics.request import Request
from reasoner.symbolic.domain import key_actions
from tests.strategies import examples, policy_documents, principal_arns

pytestmark = pytest.mark.solver

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
USER = "arn:aws:iam::111122223333:user/alice"
ROLE = "arn:aws:iam::444455556666:role/ExampleRole"
SESSION = "arn:aws:sts::444455556666:assumed-role/ExampleRole/s1"
FEDERATED = "arn:aws:sts::111122223333:federated-user/alice"
ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:CreateGrant",
    "kms:DescribeKey",
    "kms:ScheduleKeyDeletion",
    "kms:PutKeyPolicy",
    "kms:ReEncryptFrom",
    "kms:Sign",
    "kms:ListGrants",
)
EXTRA_VALUES = (
    "",
    "x",
    "true",
    "false",
    "True",
    "7",
    "30",
    "1.5",
    "-1",
    "abc",
    "203.0.113.5",
    "10.1.2.3",
    "2001:db8::1",
    "2026-01-01T00:00:00Z",
    "1767225600",
    "111122223333",
    "444455556666",
    "s3.us-east-1.amazonaws.com",
    "IT",
    "Department",
    "o-abc123",
    "alias/finance",
)
SKIP_KEYS = ev.CALLER_DERIVED_KEYS | ev.KEY_DERIVED_KEYS | {"aws:securetransport"}


_BROAD_KEY = parse_policy(
    '{"Version": "2012-10-17", "Statement": [{"Sid": "EnableIAM", "Effect": "Allow", "Principal": {"AWS": '
    '["arn:aws:iam::111122223333:root", "444455556666"]}, "Action": "kms:*", "Resource": "*"}]}',
    file="broad-key.json",
    kind=PolicyKind.KEY_POLICY,
)
_BROAD_IAM = parse_policy(
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}',
    file="broad-iam.json",
    kind=PolicyKind.IDENTITY,
)


_BOOLEAN_OPTIONS = tuple(f.name for f in fields(Options) if isinstance(getattr(Options(), f.name), bool))
_FULL_ACCESS = parse_policy(
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}',
    file="full-aws-access.json",
    kind=PolicyKind.SCP,
)


_ABAC_IAM = parse_policy(
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*", '
    '"Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}}, '
    '{"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:*:${aws:ResourceAccount}:key/*", '
    '"Condition": {"StringNotLike": {"kms:EncryptionContext:Department": "${aws:PrincipalTag/team, \'IT\'}*"}}}]}',
    file="abac-iam.json",
    kind=PolicyKind.IDENTITY,
)


def _with(doc: PolicyDocument, extra: PolicyDocument) -> PolicyDocument:
    """`doc` plus the statements of `extra` (more requests get through, so ALLOW is exercised too)."""
    n = len(doc.statements)
    more = tuple(replace(s, index=n + i) for i, s in enumerate(extra.statements))
    return replace(doc, statements=doc.statements + more)


@st.composite
def grants_strategy(draw: st.DrawFn) -> Grant:
    """KMS grants (semantics §4.4): grantee, operations, encryption-context and SourceArn constraints."""
    grantee = draw(
        st.sampled_from(
            (ROLE, USER, "444455556666", "arn:aws:iam::111122223333:root", SESSION, "cloudtrail.amazonaws.com")
        )
    )
    ops = frozenset(draw(st.lists(st.sampled_from((*ACTIONS, "kms:RetireGrant")), min_size=1, max_size=4)))
    equals = draw(st.sampled_from((None, {"Department": "IT"}, {"department": "IT", "Project": "x"})))
    subset = draw(st.sampled_from((None, {"Department": "IT"})))
    source = draw(st.sampled_from((None, "arn:aws:s3:::bucket")))
    retiring = draw(st.sampled_from((None, USER, ROLE)))
    return Grant(
        grantee,
        ops,
        encryption_context_equals=equals,
        encryption_context_subset=subset,
        source_arn=source,
        retiring_principal=retiring,
    )


@st.composite
def environments(draw: st.DrawFn) -> Environment:
    kp = draw(policy_documents(PolicyKind.KEY_POLICY))
    ip_user = draw(policy_documents(PolicyKind.IDENTITY))
    ip_role = draw(policy_documents(PolicyKind.IDENTITY))
    if draw(st.booleans()):
        kp = _with(kp, _BROAD_KEY)
    if draw(st.booleans()):
        ip_user = _with(ip_user, _BROAD_IAM)
    if draw(st.booleans()):
        ip_role = _with(ip_role, _BROAD_IAM)
    if draw(st.integers(0, 2)) == 0:
        # policy variables (semantics §3.4) over keys whose value is constant per caller and key
        ip_user = _with(ip_user, _ABAC_IAM)
        ip_role = _with(ip_role, _ABAC_IAM)
    boundary = draw(policy_documents(PolicyKind.PERMISSIONS_BOUNDARY)) if draw(st.integers(0, 3)) == 0 else None
    tags = draw(st.sampled_from(({}, {"team": "IT"}, {"Team": "ops"})))
    session_policies = (draw(policy_documents(PolicyKind.SESSION)),) if draw(st.booleans()) else ()
    fed_policies = (draw(policy_documents(PolicyKind.SESSION)),) if draw(st.booleans()) else ()
    external_known = draw(st.booleans())
    # every [OPEN] point of semantics §7 is an option; both settings of each must agree
    flags = {name: draw(st.booleans()) for name in _BOOLEAN_OPTIONS}
    options = Options(not_principal_mode=draw(st.sampled_from(list(NotPrincipalMode))), **flags)
    orgs: tuple[Organization, ...] = ()
    org_id = None
    if draw(st.integers(0, 2)) == 0:
        # semantics §4.2 steps 2-3: SCPs on the caller's path, RCPs on the key owner's path
        org_id = "o-abc123"
        scps = {"ou-ab12-1": (draw(policy_documents(PolicyKind.SCP)),)}
        if draw(st.booleans()):
            scps["r-ab12"] = (_FULL_ACCESS,)
        rcps = {"111122223333": (draw(policy_documents(PolicyKind.RCP)),)}
        orgs = (Organization(org_id, "r-ab12", "123456789012", scps=scps, rcps=rcps),)
    grants = tuple(draw(st.lists(grants_strategy(), max_size=2)))
    return Environment(
        keys=(Key(KEY, kp, grants=grants, tags=draw(st.sampled_from(({}, {"team": "IT"}, {"Team": "ops"})))),),
        # the key owner's account is sometimes undeclared (its organization then unknown, domain.py `rorg`)
        accounts=(
            *(
                ()
                if draw(st.integers(0, 4)) == 0
                else (Account("111122223333", organization=org_id, ou_path=("r-ab12",) if org_id else ()),)
            ),
            Account(
                "444455556666",
                organization=org_id,
                ou_path=("r-ab12", "ou-ab12-1") if org_id else (),
                iam_known=external_known,
            ),
        ),
        principals=(
            Principal(USER, PrincipalKind.USER, (ip_user,), permissions_boundary=boundary, tags=tags),
            Principal(ROLE, PrincipalKind.ROLE, (ip_role,), tags={"team": "IT"}, unique_id="AROAEXAMPLE"),
        ),
        sessions=(
            Session(SESSION, ROLE, session_policies, tags={"project": "x"}),
            Session(FEDERATED, USER, fed_policies),
        ),
        organizations=orgs,
        options=options,
    )


def _condition_values(env: Environment) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for doc in [env.keys[0].policy, *(p for pr in env.principals for p in pr.identity_policies)]:
        for s in doc.statements:
            if s.condition is None:
                continue
            for c in s.condition.conditions:
                k = c.key.text.lower()
                if k in SKIP_KEYS or k.startswith(("aws:principaltag/", "aws:resourcetag/")):
                    continue
                out.setdefault(c.key.text, set()).update(v.text for v in c.values)
    return out


def _caller_of(entry: str) -> str | None:
    if entry.isdigit() and len(entry) == 12:
        return f"arn:aws:iam::{entry}:root"
    if ":role/" in entry:
        acct = entry.split(":")[4]
        return f"arn:aws:sts::{acct}:assumed-role/{entry.rsplit('/', 1)[-1]}/session"
    if entry.startswith("arn:aws:") or entry.endswith(".amazonaws.com"):
        return entry
    return None


def _named_callers(env: Environment) -> list[str]:
    out: list[str] = []
    for s in env.keys[0].policy.statements:
        if s.principal is None:
            continue
        for e in s.principal.entries:
            c = _caller_of(e.value.text)
            if c is not None and c not in out:
                out.append(c)
    return sorted(out)


@st.composite
def requests_for(draw: st.DrawFn, env: Environment) -> Request:
    named = _named_callers(env)
    form = draw(st.integers(0, 8))
    if form >= 7 and named:
        principal = draw(st.sampled_from(named))
    elif form == 0:
        principal = draw(st.sampled_from((SESSION, FEDERATED, "arn:aws:sts::444455556666:assumed-role/ExampleRole/s2")))
    elif form == 1:
        principal = USER
    elif form == 2:
        principal = draw(st.sampled_from(("cloudtrail.amazonaws.com", "logs.amazonaws.com")))
    elif form == 3:
        principal = f"arn:aws:iam::{draw(st.sampled_from(('999999999999', '111122223333')))}:root"
    else:
        p = draw(principal_arns())
        if p.isdigit():
            p = f"arn:aws:iam::{p}:root"
        elif ":role/" in p:
            acct = p.split(":")[4]
            p = f"arn:aws:sts::{acct}:assumed-role/{p.rsplit('/', 1)[-1]}/session"
        principal = p
    action = draw(st.sampled_from((*ACTIONS, "kms:RetireGrant")))
    context: dict[str, tuple[str, ...]] = {}
    if env.keys[0].grants and draw(st.booleans()):
        for k, v in (
            ("kms:EncryptionContext:Department", "IT"),
            ("kms:EncryptionContext:Project", "x"),
            ("aws:SourceArn", "arn:aws:s3:::bucket"),
            ("kms:EncryptionContext:Other", "y"),
        ):
            if draw(st.booleans()):
                context[k] = (v,)
        if draw(st.booleans()):
            context["kms:GrantOperations"] = tuple(
                draw(st.lists(st.sampled_from(("Decrypt", "Encrypt", "Sign")), min_size=1, max_size=2, unique=True))
            )
    for key, values in sorted(_condition_values(env).items()):
        if not draw(st.booleans()):
            continue
        pool = sorted(values) + list(EXTRA_VALUES)
        context[key] = (draw(st.sampled_from(pool)),)
    return Request(principal, action, KEY, context, draw(assumed_for(env, principal)))


@st.composite
def assumed_for(draw: st.DrawFn, env: Environment, principal: str) -> dict[str, str]:
    """What a counterexample may assume about what the environment does not describe (`Request.assumed`,
    domain.py): the organization of an undeclared account (the caller's, or the key owner's), the path of an
    undescribed role, the source user of an undeclared federated user. `pinned.pin_request` fixes them
    and `explain.replay` declares them, so both sides must still agree."""
    out: dict[str, str] = {}
    if not draw(st.booleans()):
        return out
    parts = principal.split(":")
    acct = parts[4] if len(parts) > 5 else None
    if acct is not None and env.account(acct) is None and draw(st.booleans()):
        out["org"] = draw(st.sampled_from(("o-zzzzzzzzzz", "o-abc1234567")))
        out["orgpath"] = draw(st.sampled_from(("r-zz99/", "r-zz99/ou-zz99-1/")))
    owner = KEY.split(":")[4]
    if env.account(owner) is None and acct != owner and draw(st.booleans()):
        out["keyorg"] = draw(st.sampled_from(("o-zzzzzzzzzz", "o-yyyyyyyyyy")))
        out["keyorgpath"] = "r-zz99/"
    if ":assumed-role/" in principal and draw(st.booleans()):
        role = principal.split("/")[1].lower()
        if not any(p.arn.split(":")[4] == acct and p.arn.rsplit("/", 1)[-1].lower() == role for p in env.principals):
            out["rolepath"] = draw(st.sampled_from(("team/", "a/b/")))
    if ":federated-user/" in principal and env.session(principal) is None and draw(st.booleans()):
        users = [p.arn for p in env.principals if p.kind is PrincipalKind.USER and p.arn.split(":")[4] == acct]
        out["fedsource"] = draw(st.sampled_from((*users, f"arn:aws:iam::{acct}:user/bob")))
    return out


@settings(max_examples=examples(40), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_symbolic_decision_equals_evaluator(data: st.DataObject) -> None:
    env = data.draw(environments())
    try:
        compiled = compile_environment(env)
    except UnsupportedFeatureError:
        assume(False)
        return
    for _ in range(6):
        request = data.draw(requests_for(env))
        try:
            concrete = replay(env, request)[0].decision.allowed
        except InputError:
            continue
        try:
            symbolic = decide(compiled, request)
        except (UnsupportedFeatureError, ValueError):
            continue
        assert symbolic is not None
        assert symbolic == concrete, (request, concrete)


def test_key_actions_are_the_closed_world() -> None:
    acts = key_actions()
    assert "kms:Decrypt" in acts and "kms:ScheduleKeyDeletion" in acts
    assert "kms:CreateKey" not in acts and "kms:CreateAlias" not in acts  # keyless / alias actions


#: (condition, declared account, assumed facts, allowed): what `pinned.pin_request` must fix for a caller or
#: a key owner the environment does not declare. The first pair was found by the nightly profile: an
#: undeclared account's organization is a free choice of the encoding (domain.py), so without it the pinned
#: decision was not deterministic. ForAllValues over an absent key holds (semantics §3.3), over a path that is
#: not the value it does not; the key owner's organization (`rorg`) is replayed by explain.augment_key_owner.
_ORG_PATHS = {"ForAllValues:StringEqualsIfExists": {"aws:PrincipalOrgPaths": "o-abc/r-ab12/"}}
_RESOURCE_ORG = {"StringEquals": {"aws:ResourceOrgID": "o-zzzzzzzzzz"}}
_PINNED = [
    (_ORG_PATHS, "111122223333", {}, True),
    (_ORG_PATHS, "111122223333", {"org": "o-zzzzzzzzzz", "orgpath": "r-zz99/"}, False),
    (_RESOURCE_ORG, "999999999999", {}, False),
    (_RESOURCE_ORG, "999999999999", {"keyorg": "o-zzzzzzzzzz", "keyorgpath": "r-zz99/"}, True),
]


@pytest.mark.parametrize(
    ("condition", "declared", "assumed", "allowed"),
    _PINNED,
    ids=["caller-no-org", "caller-assumed-org", "key-owner-no-org", "key-owner-assumed-org"],
)
def test_pinned_request_fixes_what_it_assumes_about_undeclared_accounts(
    condition: dict[str, object], declared: str, assumed: dict[str, str], allowed: bool
) -> None:
    text = json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": condition,
    }]})
    policy = parse_policy(text, file="kp.json", kind=PolicyKind.KEY_POLICY)
    env = Environment(keys=(Key(KEY, policy),), accounts=(Account(declared),))
    request = Request("arn:aws:iam::999999999999:root", "kms:Decrypt", KEY, {}, assumed)
    assert replay(env, request)[0].decision.allowed is allowed
    assert decide(compile_environment(env), request) is allowed
