"""Unit tests of reasoner/symbolic/encode.py: composite-value matching is exact, and corner cases of semantics §6
come out the same symbolically (pinned.decide pins one request) as concretely."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reasoner.analyses.compiled import compile_environment
from reasoner.analyses.pinned import decide
from reasoner.analyses.pipeline import check
from reasoner.analyses.properties import AccessNotGranted, PrincipalScope
from reasoner.analyses.result import Verdict
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics.environment import Account, Environment, Key, Principal, PrincipalKind
from reasoner.semantics.evaluate import evaluate
from reasoner.semantics.request import Request
from reasoner.symbolic import smt, strings
from reasoner.symbolic.domain import Domain, key_actions
from reasoner.symbolic.encode import match_pieces
from reasoner.symbolic.solve import Solver, Status

pytestmark = pytest.mark.solver

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _kp(statements: str) -> Environment:
    text = '{"Version": "2012-10-17", "Statement": [' + statements + "]}"
    kp = parse_policy(text, file="kp.json", kind=PolicyKind.KEY_POLICY)
    return Environment(keys=(Key(KEY, kp),), accounts=(Account("111122223333"), Account("444455556666")))


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(
        [
            "arn:aws:iam::*:role/Admin*",
            "arn:aws:iam::1111*:role/*",
            "*:role/?dmin",
            "arn:aws:iam::111122223333:role/Admin",
            "*",
            "arn:*",
            "*3333:*",
        ]
    ),
    st.sampled_from(["111122223333", "444455556666", "111100000000"]),
    st.sampled_from(["Admin", "AdminX", "xdmin", "Other"]),
    st.booleans(),
)
def test_match_pieces_is_exact(pattern: str, acct: str, role: str, arn_like: bool) -> None:
    # a pattern over `arn:aws:iam::` + account + `:role/` + name, split into atoms over the two fields
    d = Domain(smt.Script(), (Environment(),), key_actions()[:1], (Key(KEY, _empty_policy()),))
    nfa = strings.arn_glob(pattern) if arn_like else strings.glob(pattern)
    term = match_pieces(nfa, ("arn:aws:iam::", d.f("acct"), ":role/", d.f("role")))
    pin = smt.and_(
        d.f("acct").is_lit(acct) if acct in d.f("acct").index else smt.TRUE,
        d.f("role").atom(strings.literal(role)),
    )
    d.finalize()
    pins = [
        a if nfa2.accepts(v) else smt.not_(a)
        for f, v in ((d.f("acct"), acct), (d.f("role"), role))
        for nfa2, (a, _) in f.atoms.items()
    ]
    sc = d.script
    lit = sc.declare("q", smt.BOOL)
    want = nfa.accepts(f"arn:aws:iam::{acct}:role/{role}")
    sc.require(smt.implies(lit, smt.and_(pin, *pins, smt.not_(term) if want else term)))
    d.finalize()
    s = Solver()
    s.add_script(sc)
    assert s.check([lit]).status is Status.UNSAT


def _empty_policy():  # type: ignore[no-untyped-def]
    return parse_policy(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
        '{"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}]}',
        kind=PolicyKind.KEY_POLICY,
    )


CASES = [
    # §6 case 30/43: ForAllValues on an absent multivalued key is vacuously true; ForAnyValue false
    (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        '{"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["AppName"]}}}',
        {},
        True,
    ),
    (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        '{"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["AppName"]}}}',
        {},
        False,
    ),
    (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        '{"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["AppName"]}}}',
        {"kms:EncryptionContext:AppName": ("x",)},
        True,
    ),
    # §6 case 13 / 11: IfExists on an absent key is true; a negated operator on an absent key is true
    (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        '{"StringEqualsIfExists": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}',
        {},
        True,
    ),
    (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        '{"StringNotEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}',
        {},
        True,
    ),
    # §6 case 48: `*` is literal under StringEquals; case 47: ArnEquals honours it
    (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        '{"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/Admin"}}}',
        {},
        False,
    ),
    (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        '{"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/Admin"}}}',
        {},
        True,
    ),
    # numbers, IP ranges, dates, Bool
    (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        '{"NumericLessThanEquals": {"aws:MultiFactorAuthAge": "30"}}}',
        {"aws:MultiFactorAuthAge": ("7",)},
        True,
    ),
    (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        '{"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}',
        {"aws:SourceIp": ("2001:db8::1",)},
        True,
    ),
    (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        '{"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}}',
        {"aws:CurrentTime": ("1767225601",)},
        True,
    ),
    (
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        '{"Bool": {"aws:MultiFactorAuthPresent": "false"}}}',
        {},
        False,
    ),
]


@pytest.mark.parametrize(("statement", "context", "allowed"), CASES)
def test_corner_cases_agree(statement: str, context: dict[str, tuple[str, ...]], allowed: bool) -> None:
    env = _kp(statement)
    request = Request("arn:aws:sts::111122223333:assumed-role/Admin/web", "kms:Decrypt", KEY, context)
    assert evaluate(env, request).decision.allowed is allowed
    assert decide(compile_environment(env), request) is allowed


def test_service_principal_and_org_deny() -> None:
    # §6 case 22: a Deny on aws:PrincipalOrgID hits service principals (no org id: negated operator true)
    env = _kp(
        '{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:*",'
        ' "Resource": "*"}, {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",'
        ' "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}}'
    )
    r = check(env, AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",)))
    assert r.verdict is Verdict.PROVED


@pytest.mark.parametrize(("bool_variables", "verdict"), [(False, Verdict.PROVED), (True, Verdict.REFUTED)])
def test_variables_in_bool_values_follow_the_option(bool_variables: bool, verdict: Verdict) -> None:
    """Semantics §3.3 Bool [OPEN]: with `Options.bool_variables` off a variable in a Bool value is literal text
    (never a Boolean: the condition never holds); on, its value (a principal tag here) is parsed as a Boolean."""
    from dataclasses import replace

    env = _kp(
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        '{"Bool": {"aws:SecureTransport": "${aws:PrincipalTag/tls}"}}}'
    )
    env = replace(env, options=replace(env.options, bool_variables=bool_variables))
    r = check(env, AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",)))
    assert r.verdict is verdict, r.reason
    if verdict is Verdict.REFUTED:
        assert r.counterexample is not None
        tags = {k: v for k, v in r.counterexample.assumed.items() if k.startswith("tag:")}
        assert [v.strip().lower() for v in tags.values()] == ["true"]


def test_unsupported_construct_is_unknown_with_a_span() -> None:
    # (a date operator on `aws:userid`, assembled from a unique id and a session name, is not modelled)
    env = _kp(
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        '{"DateLessThan": {"aws:userid": "2020-01-01"}}}'
    )
    r = check(env, AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",)))
    assert r.verdict is Verdict.UNKNOWN and r.reason is not None
    assert "not supported" in r.reason and "kp.json:" in r.reason


@pytest.mark.parametrize(("operator", "value"), [
    ("NumericLessThan", "5"), ("NumericNotEquals", "5"), ("DateGreaterThan", "2020-01-01T00:00:00Z"),
    ("DateNotEquals", "2020-01-01T00:00:00Z"), ("IpAddress", "10.0.0.0/8"), ("NotIpAddress", "10.0.0.0/8"),
    ("BinaryEquals", "YXJuOmF3cw=="), ("Bool", "true"), ("NumericEquals", "${aws:username}"),
])
def test_typed_operators_on_an_arn_valued_key_decide_as_the_evaluator(operator: str, value: str) -> None:
    # aws:PrincipalArn is assembled from parts, and always an ARN: no number, instant, address, base64 text or
    # Boolean, so the typed operators decide as on any unparseable value (semantics §3.3), in both engines
    env = _kp(
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": '
        f'{{"{operator}": {{"aws:PrincipalArn": "{value}"}}}}}}'
    )
    from reasoner.analyses.explain import replay
    from reasoner.analyses.properties import ScopeKind

    user = "arn:aws:iam::444455556666:user/reader"
    allowed = replay(env, Request(user, "kms:Decrypt", KEY))[0].decision.allowed  # (IAM not given: worst case)
    r = check(env, AccessNotGranted(PrincipalScope(ScopeKind.PRINCIPALS, (user,)), ("kms:Decrypt",)))
    assert r.verdict is (Verdict.REFUTED if allowed else Verdict.PROVED), r.reason


def test_known_principal_identity_policy() -> None:
    iam = parse_policy(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt",'
        ' "Resource": "*"}]}',
        kind=PolicyKind.IDENTITY,
    )
    base = _kp(
        '{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "kms:Decrypt", "Resource": "*"}'
    )
    from dataclasses import replace

    env = replace(
        base, principals=(Principal("arn:aws:iam::444455556666:user/bob", PrincipalKind.USER, (iam,)),)
    )
    r = check(env, AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",)))
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None
    assert r.counterexample.principal in (
        "arn:aws:iam::444455556666:user/bob",
        "arn:aws:iam::444455556666:root",
    )


def test_too_many_set_conditions_make_a_proof_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    # the bounded set encoding has one slot per condition on a multivalued key, up to a guard (docs/set-bound.md):
    # beyond it a proof would not be complete, so the answer is UNKNOWN with the reason (never a silent PROVED).
    # The guard (64) is lowered here so that eight conditions pass it.
    from reasoner.analyses import compiled

    monkeypatch.setattr(compiled, "_MAX_SLOTS", 4)
    ops = ", ".join(
        '{"Effect": "Deny", "Principal": "*", "Action": "kms:CreateGrant", "Resource": "*", "Condition": '
        f'{{"ForAnyValue:StringEquals": {{"kms:GrantOperations": "Op{i}"}}}}}}'
        for i in range(8)
    )
    env = _kp('{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}, ' + ops)
    r = check(env, AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:CreateGrant",)))
    assert r.verdict is Verdict.UNKNOWN and r.reason is not None and "kms:grantoperations" in r.reason


def test_an_encoder_reused_after_a_flush_writes_into_the_current_script() -> None:
    # `CompiledEnvironment.flush` replaces the domain's script: an encoder created before a flush must write
    # its later definitions into the new script, or the solver never sees them ("unknown constant")
    from reasoner.symbolic.encode import Encoder

    env = _kp(
        '{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "kms:Decrypt", "Resource": "*",'
        ' "Condition": {"StringLike": {"kms:ViaService": ["s3.*.amazonaws.com", "ec2.*.amazonaws.com"]}}}'
    )
    compiled = compile_environment(env)
    late = Encoder(compiled.domain, env, "late")
    compiled.flush()
    allows, _ = late.encode_policy(env.keys[0].policy, env.keys[0])
    (_, kinds), = allows
    term = smt.or_(kinds.values())
    d = compiled.domain
    lit = d.script.declare("q.late", smt.BOOL)
    d.script.require(smt.implies(lit, term))
    compiled.flush()
    assert compiled.solver.check([lit]).status is Status.SAT
    # and the compiled environment hands out one encoder per environment, reused across flushes
    assert compiled.encoder(env) is compiled.encoder(env)


def _two_accounts(kp_statements: str, *principals: Principal, iam_known: bool = True) -> Environment:
    text = '{"Version": "2012-10-17", "Statement": [' + kp_statements + "]}"
    kp = parse_policy(text, file="kp.json", kind=PolicyKind.KEY_POLICY)
    return Environment(
        keys=(Key(KEY, kp),),
        accounts=(Account("111122223333"), Account("444455556666", iam_known=iam_known)),
        principals=principals,
    )


_ALLOW_ALL_IAM = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}'
)


def test_names_the_decoder_builds_are_well_formed_iam_names() -> None:
    # every role name with an IAM name character is denied: no well-formed role session is left, so the
    # property is PROVED (before: REFUTED by `assumed-role/\u00a1/example`, which is no IAM role name)
    from reasoner.semantics.names import NAME_CHARS, well_formed

    denied = ", ".join(f'"arn:aws:iam::*:role/*{c}*"' for c in sorted(NAME_CHARS))
    env = _two_accounts(
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",'
        ' "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}},'
        '{"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",'
        f' "Condition": {{"StringLike": {{"aws:PrincipalArn": [{denied}]}}}}}}',
        iam_known=False,
    )
    r = check(env, AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",)))
    assert r.verdict is Verdict.PROVED, r.counterexample
    assert not well_formed("sess", "a\nb") and not well_formed("sess", "a") and well_formed("sess", "ab")
    assert well_formed("upath", "") and well_formed("upath", "ops/") and not well_formed("upath", "/")
    assert not well_formed("role", "r" * 65) and well_formed("role", "r" * 64) and not well_formed("fed", "f" * 33)


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        ("arn:aws:iam::444455556666:role/Analytics", "arn:aws:sts::444455556666:assumed-role/Analytics/example"),
        ("arn:aws:iam::444455556666:user/ops/Alice", "arn:aws:iam::444455556666:user/ops/Alice"),
    ],
)
def test_known_principals_are_decoded_in_their_own_spelling(principal: str, expected: str) -> None:
    # IAM names are unique in an account ignoring case, so a known role is spelled as the environment spells
    # it (before: `assumed-role/analytics/example`); the encryption-context key is spelled as in the policy
    iam = parse_policy(_ALLOW_ALL_IAM, kind=PolicyKind.IDENTITY)
    env = _two_accounts(
        f'{{"Effect": "Allow", "Principal": {{"AWS": "{principal}"}}, "Action": "kms:Decrypt", "Resource": "*",'
        ' "Condition": {"StringEquals": {"kms:EncryptionContext:Dataset": "Sales"}}}',
        Principal("arn:aws:iam::444455556666:role/Analytics", PrincipalKind.ROLE, (iam,)),
        Principal("arn:aws:iam::444455556666:user/ops/Alice", PrincipalKind.USER, (iam,)),
    )
    r = check(env, AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",)))
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None
    assert r.counterexample.principal == expected
    assert dict(r.counterexample.context) == {"kms:EncryptionContext:Dataset": ("Sales",)}


def test_counterexamples_are_the_same_in_every_process() -> None:
    # determinism across processes (string hashing differs per process): the same counterexample each time
    import subprocess
    import sys

    code = (
        "from tests.unit.test_encode import _det_case; print(_det_case())"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code], env={"PYTHONHASHSEED": str(seed), "PATH": ""}, capture_output=True,
            text=True, check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2]),
        ).stdout
        for seed in (1, 2, 3)
    }
    assert len(outs) == 1, outs


def _det_case() -> str:
    env = _two_accounts(
        '{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*",'
        ' "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"},'
        ' "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Ro*"}}},'
        '{"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",'
        ' "Condition": {"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::444455556666:role/Robot"}}}',
        iam_known=False,
    )
    r = check(env, AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",)))
    assert r.verdict is Verdict.REFUTED, r.reason
    return str(r.counterexample)


def test_context_keys_are_printed_in_their_canonical_spelling() -> None:
    from reasoner.symbolic.decode import canonical_key

    assert canonical_key("kms:encryptioncontext:dataset", "KMS:encryptioncontext:Dataset") == (
        "kms:EncryptionContext:Dataset"
    )
    assert canonical_key("kms:calleraccount", "kms:CALLERACCOUNT") == "kms:CallerAccount"
    assert canonical_key("aws:resourcetag/team", "aws:resourcetag/Team") == "aws:ResourceTag/Team"
    assert canonical_key("aws:sourcevpce", "aws:SourceVpce") == "aws:SourceVpce"


def test_fresh_users_are_readable() -> None:
    # before: `user//*` (an empty path segment, and the ArnLike wildcard taken as a user name)
    env = _two_accounts(
        '{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "kms:Decrypt", "Resource": "*",'
        ' "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::444455556666:user/*"}}},'
        '{"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",'
        ' "Condition": {"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::444455556666:user/Alice"}}}',
        iam_known=False,
    )
    r = check(env, AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",)))
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None
    assert r.counterexample.principal == "arn:aws:iam::444455556666:user/example"


def test_a_shape_rules_out_a_typed_view_only_when_no_string_of_it_parses() -> None:
    # `fe80::1%x.amazonaws.com` is an IPv6 address with a scope (values.parse_ip_address), so a service-principal
    # shape does not rule out addresses; an ARN (`arn:` is no address prefix) and a 12-digit account id do
    from reasoner.semantics.values import parse_ip_address
    from reasoner.symbolic.domain import _never_parses

    assert parse_ip_address("fe80::1%x.amazonaws.com") is not None
    assert not _never_parses((strings.glob("?*.amazonaws.com"),), "ip")
    assert _never_parses((strings.glob("arn:*"),), "ip")
    assert _never_parses((strings.glob("?*.amazonaws.com"),), "numeric")
    assert not _never_parses((strings.ACCOUNT_ID,), "numeric")
