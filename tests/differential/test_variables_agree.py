"""Policy variables whose values are symbolic (semantics §3.4; issue 14 item 1).

A variable's value is inserted into the policy value as literal text, then the operator compares. When that
value is a field of the symbolic request (the caller's account or user name, a caller-controlled key), the
symbolic core compares exactly: `symbolic/variables.py` cuts a constant value against the pattern's holes, and
links a symbolic value to a pattern with symbolic holes (`variables.Link`, realised by `decode.realise_links`).

Three layers of tests:
- `variables` alone against the evaluator's own resolution (`patterns.Glob.resolve`): the cuts of a text are
  exactly the hole values under which the pattern accepts it (Hypothesis);
- end to end: properties that depend on such a variable are PROVED or REFUTED (never UNKNOWN), and every
  counterexample is the evaluator's (`check` replays it);
- differential: `pinned.decide` equals `evaluate` on requests whose context values are drawn from the
  caller's own names, so the variables match and miss.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.analyses.compiled import compile_environment
from reasoner.analyses.explain import replay
from reasoner.analyses.pinned import decide
from reasoner.analyses.pipeline import check
from reasoner.analyses.properties import AccessNotGranted, PrincipalScope
from reasoner.analyses.result import Verdict
from reasoner.errors import InputError
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics.environment import (
    Account,
    Environment,
    Key,
    Options,
    Organization,
    Principal,
    PrincipalKind,
)
from reasoner.semantics.patterns import Glob, compile_glob
from reasoner.semantics.request import Request
from reasoner.symbolic import variables
from tests.strategies import examples

OWN = "111122223333"
EXT = "444455556666"
KEY = f"arn:aws:kms:us-east-1:{OWN}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _doc(statements: list[dict[str, object]], kind: PolicyKind) -> object:
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": statements}), file="p.json", kind=kind)


def _open_key(condition: dict[str, object] | None = None, action: str = "kms:Decrypt") -> object:
    s: dict[str, object] = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": action, "Resource": "*"}
    if condition:
        s["Condition"] = condition
    return _doc([s], PolicyKind.KEY_POLICY)


# ---- variables.py alone ----------------------------------------------------------------------------------


class _F:
    """A stand-in field for `variables` (only identity matters there)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_A, _B = _F("a"), _F("b")
_ALPHABET = "ab-/:"
_texts = st.text(alphabet=_ALPHABET, max_size=6)


@st.composite
def _patterns(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(("a", "b", "-", "/", "*", "?", "${aws:username}", "${aws:userid}")),
                          max_size=5))
    return "".join(parts)


@settings(max_examples=examples(200), deadline=None)
@given(_patterns(), _texts, _texts, _texts)
def test_cuts_are_exactly_the_hole_values_that_match(pattern: str, text: str, va: str, vb: str) -> None:
    """§3.4: the value inserted literally; `cuts` finds every (a, b) under which the pattern accepts `text`."""
    glob = compile_glob(pattern, variables=True)
    assert isinstance(glob, Glob)
    fields = {"aws:username": _A, "aws:userid": _B}
    items = variables.holed(glob, lambda key, _d: (fields[key.lower()],))
    assert items is not None
    strings_of = {_A: va, _B: vb}.__getitem__
    resolved = glob.resolve({"aws:username": va, "aws:userid": vb}.get)
    expected = resolved is not None and resolved.matches(text)
    # the pattern with the holes filled, as the link checks it
    lk = variables.Link(None, (text,), tuple(items))  # type: ignore[arg-type]
    assert lk.holds(strings_of) is expected
    # the cuts: each one fills the holes so that the pattern accepts; the actual values are one of them
    ways = variables.cuts(text, items)
    for way in ways:
        chosen: dict[object, str] = {}
        consistent = True
        for h, v in way:
            consistent &= chosen.setdefault(h.pieces[0], v) == v
        if consistent and len(chosen) == 2:
            filled = glob.resolve({"aws:username": chosen[_A], "aws:userid": chosen[_B]}.get)
            assert filled is not None and filled.matches(text)
    if expected:
        assert any(all(v == (va if h.pieces[0] is _A else vb) for h, v in way) for way in ways)


def test_constant_values_become_automata() -> None:
    """A variable whose value is constant is inserted literally: no hole is left, `${*}` stays a literal star."""
    glob = compile_glob("home/${aws:username}/${*}", variables=True)
    items = variables.holed(glob, lambda _k, _d: ("bob",))
    assert items is not None
    nfa = variables.as_nfa(variables.flatten(items))
    assert nfa is not None and nfa.accepts("home/bob/*") and not nfa.accepts("home/bob/x")
    holed = variables.holed(glob, lambda _k, _d: (_A,))
    assert holed is not None and variables.as_nfa(variables.flatten(holed)) is None
    # an unresolved variable without a default: the whole pattern matches nothing
    assert variables.holed(glob, lambda _k, _d: None) is None


# ---- end to end ------------------------------------------------------------------------------------------

_SCP_PERIMETER = _doc(
    [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "kms:*", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}},
    ],
    PolicyKind.SCP,
)
_USER_POLICY = _doc(
    [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": f"arn:aws:kms:us-east-1:{OWN}:key/${{aws:username}}"}],
    PolicyKind.IDENTITY,
)


def _env(name: str) -> Environment:
    if name == "scp-perimeter":
        org = Organization("o-a1b2c3d4e5", "r-a1b2", "999999999999", scps={"r-a1b2": (_SCP_PERIMETER,)})
        accounts = (Account(OWN, "o-a1b2c3d4e5", ("r-a1b2",)), Account(EXT, "o-a1b2c3d4e5", ("r-a1b2",)))
        return Environment(keys=(Key(KEY, _open_key()),), organizations=(org,), accounts=accounts)
    conditions = {
        "context-equals-username": {"StringEquals": {"kms:EncryptionContext:user": "${aws:username}"}},
        "tag-equals-principal-tag": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
        "arn-in-resource-account": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:ResourceAccount}:*"}},
        "account-equals-resource-account": {"StringEquals": {"aws:PrincipalAccount": "${aws:ResourceAccount}"}},
        "resource-account-equals-account": {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
        "arn-contains-resource-account": {"StringLike": {"aws:PrincipalArn": "*${aws:ResourceAccount}*"}},
        "context-like-userid": {"StringLike": {"kms:EncryptionContext:owner": "*:${aws:userid}"}},
        "username-ignore-case": {"StringEqualsIgnoreCase": {"kms:EncryptionContext:user": "${aws:username}"}},
    }
    if name in conditions:
        return Environment(keys=(Key(KEY, _open_key(conditions[name]), tags={"team": "a"}),), accounts=(Account(OWN),))
    assert name == "resource-username"
    bob = Principal(f"arn:aws:iam::{OWN}:user/bob", PrincipalKind.USER, (_USER_POLICY,))
    return Environment(keys=(Key(KEY, _open_key()),), accounts=(Account(OWN),), principals=(bob,))


#: (environment, account outside which nobody may decrypt, verdict): semantics §3.4 for each.
_END_TO_END = [
    # the SCP denies only calls into another account; the key policy lets any account's principal call
    ("scp-perimeter", OWN, Verdict.REFUTED),
    ("context-equals-username", OWN, Verdict.REFUTED),
    ("tag-equals-principal-tag", OWN, Verdict.REFUTED),
    # ${aws:ResourceAccount} is the key's owner: the condition confines callers to it
    ("arn-in-resource-account", OWN, Verdict.PROVED),
    ("account-equals-resource-account", OWN, Verdict.PROVED),
    ("resource-account-equals-account", OWN, Verdict.PROVED),
    # a role named like the account in another account
    ("arn-contains-resource-account", OWN, Verdict.REFUTED),
    ("context-like-userid", OWN, Verdict.REFUTED),
    ("username-ignore-case", OWN, Verdict.REFUTED),
    # the key's id is not a user name of this account's one user, but an outside caller's IAM is unknown
    ("resource-username", OWN, Verdict.REFUTED),
]


@pytest.mark.solver
@pytest.mark.parametrize(("name", "inside", "verdict"), _END_TO_END, ids=[c[0] for c in _END_TO_END])
def test_symbolic_variable_values_are_decided(name: str, inside: str, verdict: Verdict) -> None:
    env = _env(name)
    result = check(env, AccessNotGranted(PrincipalScope.outside_account(inside), ("kms:Decrypt",)))
    assert result.verdict is verdict, result.reason
    if verdict is Verdict.REFUTED:
        request = result.counterexample
        assert request is not None
        assert replay(env, request)[0].decision.allowed


@pytest.mark.solver
def test_counterexample_realises_the_relation() -> None:
    """The decoded context value equals the caller's user name (the link realised, not sampled)."""
    env = _env("context-equals-username")
    result = check(env, AccessNotGranted(PrincipalScope.outside_account(OWN), ("kms:Decrypt",)))
    request = result.counterexample
    assert request is not None
    ctx = {k.lower(): v for k, v in request.context.items()}
    assert ":user/" in request.principal
    assert ctx["kms:encryptioncontext:user"] == (request.principal.rsplit("/", 1)[-1],)


@pytest.mark.solver
@pytest.mark.parametrize(("name", "verdict"), [("bob", Verdict.PROVED),
                                               ("1234abcd-12ab-34cd-56ef-1234567890ab", Verdict.REFUTED)])
def test_resource_variable_reaches_the_key_named_like_the_user(name: str, verdict: Verdict) -> None:
    """§3.4 in `Resource`: `key/${aws:username}` is the key whose id is the caller's user name. The key policy
    trusts one user of another account (whose IAM is known): they decrypt only if named like the key."""
    caller = f"arn:aws:iam::{EXT}:user/{name}"
    kp = _doc([{"Effect": "Allow", "Principal": {"AWS": caller}, "Action": "kms:*", "Resource": "*"}],
              PolicyKind.KEY_POLICY)
    env = Environment(keys=(Key(KEY, kp),), accounts=(Account(OWN), Account(EXT)),
                      principals=(Principal(caller, PrincipalKind.USER, (_USER_POLICY,)),))
    result = check(env, AccessNotGranted(PrincipalScope.outside_account(OWN), ("kms:Decrypt",)))
    assert result.verdict is verdict, result.reason
    if verdict is Verdict.REFUTED:
        assert result.counterexample is not None and result.counterexample.principal == caller


# ---- differential ----------------------------------------------------------------------------------------

_VARIABLE_IAM = _doc(
    [
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:user": "${aws:username}"}}},
        {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": f"arn:aws:kms:*:{OWN}:key/*",
         "Condition": {"StringLike": {"kms:EncryptionContext:home": "home/${aws:username}/*"}}},
        {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringNotLike": {"kms:EncryptionContext:acct": ["${aws:PrincipalAccount}", "x*"]}}},
    ],
    PolicyKind.IDENTITY,
)
_VARIABLE_KEY = _doc(
    [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*",
         "Condition": {"StringLike": {"kms:EncryptionContext:user": "${aws:username}*"}}},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
         "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:*::${kms:EncryptionContext:acct}:*"}}},
        # Options.bool_variables: the variable's value read as a Boolean
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"Bool": {"kms:EncryptionContext:flag": "${kms:EncryptionContext:home}"}}},
    ],
    PolicyKind.KEY_POLICY,
)
_CALLERS = (
    f"arn:aws:iam::{OWN}:user/alice",
    f"arn:aws:iam::{OWN}:user/bob",
    f"arn:aws:iam::{EXT}:user/alice",
    f"arn:aws:sts::{EXT}:assumed-role/Ops/alice",
    f"arn:aws:iam::{EXT}:root",
)
_NAMES = ("alice", "bob", "alicex", "Alice", "")
_BOOLS = ("true", " TRUE", "false", "yes")
#: per context key, the values drawn: the callers' own names and accounts, near misses, Booleans
_VALUES = {
    "kms:EncryptionContext:user": (*_NAMES, "true"),
    "kms:EncryptionContext:home": ("home/alice/1", "home/bob/", "home/alice", *_BOOLS),
    "kms:EncryptionContext:acct": (OWN, EXT, "x1", "1"),
    "kms:EncryptionContext:flag": _BOOLS,
}


@st.composite
def _requests(draw: st.DrawFn) -> Request:
    principal = draw(st.sampled_from(_CALLERS))
    context = {k: (draw(st.sampled_from(pool)),) for k, pool in _VALUES.items() if draw(st.booleans())}
    return Request(principal, draw(st.sampled_from(("kms:Decrypt", "kms:Encrypt"))), KEY, context)


_DIFF_ENV = Environment(
    keys=(Key(KEY, _VARIABLE_KEY),),
    accounts=(Account(OWN), Account(EXT)),
    principals=(
        Principal(f"arn:aws:iam::{OWN}:user/alice", PrincipalKind.USER, (_VARIABLE_IAM,)),
        Principal(f"arn:aws:iam::{OWN}:user/bob", PrincipalKind.USER, (_VARIABLE_IAM,)),
        Principal(f"arn:aws:iam::{EXT}:user/alice", PrincipalKind.USER, (_VARIABLE_IAM,)),
    ),
    options=Options(bool_variables=True),
)


@pytest.fixture(scope="module")
def _compiled() -> object:
    return compile_environment(_DIFF_ENV)


@pytest.mark.solver
@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_requests())
def test_pinned_decision_equals_evaluator_with_variables(_compiled: object, request: Request) -> None:
    try:
        concrete = replay(_DIFF_ENV, request)[0].decision.allowed
    except InputError:
        return
    assert decide(_compiled, request) is concrete, request  # type: ignore[arg-type]


_BOOL_ENV = Environment(
    keys=(Key(KEY, _doc([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*",
                          "Condition": {"Bool": {"kms:EncryptionContext:flag": "${kms:EncryptionContext:home}"}}}],
                        PolicyKind.KEY_POLICY)),),
    accounts=(Account(OWN),),
    options=Options(bool_variables=True),
)


@pytest.mark.solver
def test_bool_values_with_variables_agree() -> None:
    """`Options.bool_variables` (semantics §3.3 Bool [OPEN]): both engines read the variable's value as a
    Boolean, whatever its case and surrounding blanks; a value that is not one never matches."""
    compiled = compile_environment(_BOOL_ENV)
    outcomes = set()
    for flag in (None, *_BOOLS):
        for home in (None, *_BOOLS, "t rue"):
            context = {k: (v,) for k, v in (("kms:EncryptionContext:flag", flag), ("kms:EncryptionContext:home", home))
                       if v is not None}
            request = Request(f"arn:aws:iam::{OWN}:root", "kms:Decrypt", KEY, context)
            concrete = replay(_BOOL_ENV, request)[0].decision.allowed
            assert decide(compiled, request) is concrete, request
            outcomes.add(concrete)
    assert outcomes == {True, False}


# ---- every variable AWS documents, never UNKNOWN --------------------------------------------------------

#: Variables of the global and KMS condition keys AWS documents (semantics §3.4, §5), single-valued and
#: multivalued, principal-side, resource-side, network and request keys, and caller-controlled ones.
_ALL_VARIABLES = (
    "aws:username", "aws:userid", "aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:PrincipalTag/team",
    "aws:ResourceTag/team", "aws:SourceIdentity", "aws:PrincipalArn", "aws:PrincipalType", "aws:SourceAccount",
    "aws:SourceArn", "aws:SourceIp", "aws:CurrentTime", "aws:EpochTime", "aws:TokenIssueTime",
    "aws:RequestedRegion", "aws:ResourceAccount", "aws:ResourceOrgID", "aws:PrincipalOrgPaths",
    "aws:FederatedProvider", "aws:SecureTransport", "aws:MultiFactorAuthPresent", "aws:referer", "aws:UserAgent",
    "aws:SourceVpc", "aws:SourceVpce", "aws:VpcSourceIp", "aws:PrincipalServiceName", "aws:CalledViaFirst",
    "aws:CalledViaLast", "aws:ViaAWSService", "aws:PrincipalIsAWSService", "kms:CallerAccount", "kms:ViaService",
    "kms:EncryptionContext:x", "aws:RequestTag/x", "saml:sub", "www.amazon.com:user_id", "ec2:SourceInstanceARN",
    "aws:ResourceOrgPaths", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:Ec2InstanceSourceVpc",
    "aws:Ec2InstanceSourcePrivateIPv4",
)


@pytest.mark.solver
@pytest.mark.parametrize("where", ["caller-controlled key", "principal ARN"])
@pytest.mark.parametrize("variable", _ALL_VARIABLES)
def test_every_variable_is_decided(variable: str, where: str) -> None:
    """Issue 14 item 1: a variable inside a glob over a caller-controlled key, and inside an ArnLike over the
    caller's ARN, gives PROVED or REFUTED (a REFUTED request replayed by `check`), never UNKNOWN."""
    if where == "caller-controlled key":
        condition = {"StringLike": {"kms:EncryptionContext:u": f"*${{{variable}}}*"}}
    else:
        condition = {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::*:role/${{{variable}}}"}}
    env = Environment(keys=(Key(KEY, _open_key(condition)),), accounts=(Account(OWN),))
    result = check(env, AccessNotGranted(PrincipalScope.outside_account(OWN), ("kms:Decrypt",)))
    assert result.verdict is not Verdict.UNKNOWN, result.reason


@pytest.mark.solver
@pytest.mark.parametrize(("variable", "verdict"), [
    # a role may be named like an account id or a session name, never like a user name (users only), a unique
    # id of a session (it holds a colon) or an ARN (colons)
    ("aws:PrincipalAccount", Verdict.REFUTED),
    ("aws:username", Verdict.PROVED),
    ("aws:userid", Verdict.PROVED),
    ("aws:PrincipalArn", Verdict.PROVED),
    ("kms:EncryptionContext:x", Verdict.REFUTED),
])
def test_role_named_by_a_variable(variable: str, verdict: Verdict) -> None:
    """`ArnLike aws:PrincipalArn arn:aws:iam::*:role/${v}`: the caller's role is named by the variable's value in
    the same request (semantics §3.4; IAM names, semantics/names.py)."""
    condition = {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::*:role/${{{variable}}}"}}
    env = Environment(keys=(Key(KEY, _open_key(condition)),), accounts=(Account(OWN),))
    result = check(env, AccessNotGranted(PrincipalScope.outside_account(OWN), ("kms:Decrypt",)))
    assert result.verdict is verdict, result.reason
    if verdict is Verdict.REFUTED:
        request = result.counterexample
        assert request is not None and ":assumed-role/" in request.principal
        role = request.principal.split("/")[1]
        if variable == "aws:PrincipalAccount":
            assert role == request.principal.split(":")[4]
        else:
            ctx = {k.lower(): v for k, v in request.context.items()}
            assert ctx["kms:encryptioncontext:x"] == (role,)
