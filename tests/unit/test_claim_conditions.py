"""Claims with conditions and the `account` word (issue 14, item 7; docs/property-language.md "Conditions").

- Each form compiles to its property value: `unless KEY is V` (negated), `when KEY is V`, `only via service S`
  (`unless kms:ViaService is S`), lists of values, `let` names among the values; `account ID` in a principal
  list is every principal of the account, an account id alone its root user.
- Each form has a PROVED and a REFUTED case, the REFUTED one replayed (the pipeline's `concretely_violates`
  evaluates the condition on the context the evaluator derived; a disagreement would be an InternalError),
  on keys given by the caller (aws:SourceVpce, aws:SourceIp, kms:ViaService, kms:EncryptionContext:*) and
  derived by AWS (kms:GrantIsForAWSResource from kms:ViaService, aws:PrincipalOrgID of an assumed
  organization).
- Both engines: random conditions on random key policies; a PROVED claim is checked against a sweep of
  concrete requests (none allowed, in scope and satisfying the condition), a REFUTED one was replayed.
- Errors: an unknown key (PROP020), a value of the wrong type (PROP009) for Bool, IpAddress, Numeric and Date
  keys, a `via` value that is no service endpoint, `account ID` where one principal belongs; each at
  file:line:col.
"""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.analyses.conditions import concretely_violates, condition_holds, condition_problem
from reasoner.analyses.explain import replay
from reasoner.analyses.pipeline import check
from reasoner.analyses.properties import (
    AccessNotGranted,
    ContextCondition,
    OnlyPrincipalsCan,
    PrincipalScope,
    ScopeKind,
    every_principal_of,
)
from reasoner.analyses.result import Verdict
from reasoner.face.render.results import describe_property, property_json
from reasoner.front.ast import PolicyKind
from reasoner.front.manifest import load_environment
from reasoner.front.parse import parse_policy
from reasoner.language.property_files import PropertyError, compile_claim, compile_file
from reasoner.semantics.environment import Account, Environment, Key, Organization
from reasoner.semantics.request import Request
from tests import strategies

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[2]
OWNER = "111122223333"
EXT = "444455556666"
KEY = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT_STMT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
             "Action": "kms:*", "Resource": "*"}
S3 = "s3.us-east-1.amazonaws.com"


def _env(*statements: dict[str, Any], accounts: tuple[Account, ...] = (),
         orgs: tuple[Organization, ...] = ()) -> Environment:
    doc = {"Version": "2012-10-17", "Statement": [ROOT_STMT, *statements]}
    policy = parse_policy(json.dumps(doc, indent=2), file="key.json", kind=PolicyKind.KEY_POLICY)
    return Environment(keys=(Key(KEY, policy),), accounts=accounts, organizations=orgs)  # type: ignore[arg-type]


def _ext(actions: str | list[str], condition: dict[str, Any] | None = None, principal: str = "*") -> dict[str, Any]:
    st_: dict[str, Any] = {"Sid": "Ext", "Effect": "Allow",
                           "Principal": principal if principal == "*" else {"AWS": principal},
                           "Action": actions, "Resource": "*"}
    if condition:
        st_["Condition"] = condition
    return st_


def _verdict(env: Environment, claim: str) -> Any:
    return check(env, compile_claim(claim, env)[1], rlimit=20_000_000)


# ---- compiling -------------------------------------------------------------------------------------------


def test_each_form_compiles_to_its_property_value() -> None:
    env = _env()
    _, p = compile_claim(f"no principal outside account {OWNER} can kms:CreateGrant "
                         "unless kms:grantisforawsresource is true", env)
    assert p == AccessNotGranted(PrincipalScope.outside_account(OWNER), ("kms:CreateGrant",), ("*",),
                                 (ContextCondition("kms:GrantIsForAWSResource", ("true",), True),))
    _, p = compile_claim(f"nobody can kms:Decrypt only via services [{S3}, ec2.us-east-1.amazonaws.com] "
                         'when aws:SourceVpce is vpce-1a2b3c4d when "aws:PrincipalTag/cost center" is [a, "b c"]', env)
    assert isinstance(p, AccessNotGranted) and p.when == (
        ContextCondition("kms:ViaService", (S3, "ec2.us-east-1.amazonaws.com"), True),
        ContextCondition("aws:SourceVpce", ("vpce-1a2b3c4d",)),
        ContextCondition("aws:PrincipalTag/cost center", ("a", "b c")),
    )
    _, p = compile_claim(f"only [account {OWNER}, {EXT}] can kms:Decrypt when aws:SourceIp is \"10.0.0.0/8\"", env)
    assert p == OnlyPrincipalsCan((every_principal_of(OWNER), EXT), ("kms:Decrypt",), ("*",),
                                  (ContextCondition("aws:SourceIp", ("10.0.0.0/8",)),))
    _, p = compile_claim(f"none of account arn:aws:iam::{EXT}:root can kms:Decrypt", env)
    assert p == AccessNotGranted(PrincipalScope(ScopeKind.PRINCIPALS, (f"account:{EXT}",)), ("kms:Decrypt",))
    text = describe_property(p)
    assert text == f"none of account {EXT} can kms:Decrypt"
    doc = property_json(AccessNotGranted(PrincipalScope.outside_account(OWNER), ("kms:Decrypt",)))
    assert "when" not in doc  # a claim without conditions reads as before
    with_when = AccessNotGranted(PrincipalScope.outside_account(OWNER), ("kms:Decrypt",), ("*",),
                                 (ContextCondition("kms:ViaService", (S3,), True),))
    assert describe_property(with_when).endswith(f"can kms:Decrypt unless kms:ViaService is {S3}")
    assert property_json(with_when)["when"] == [{"key": "kms:ViaService", "values": [S3], "negated": True}]


def test_let_names_among_condition_values(tmp_path: Path) -> None:
    (tmp_path / "key.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [ROOT_STMT]}))
    (tmp_path / "env.yaml").write_text(f"keys:\n  - arn: {KEY}\n    policy: key.json\n")
    (tmp_path / "c.access").write_text(
        'environment "env.yaml"\nlet endpoints = ["vpce-1a2b3c4d", "vpce-9f8e7d6c"]\n'
        f"assert: no principal outside account {OWNER} can kms:Decrypt when aws:SourceVpce is endpoints\n")
    (a,) = compile_file(tmp_path / "c.access")
    assert a.property.when == (ContextCondition("aws:SourceVpce", ("vpce-1a2b3c4d", "vpce-9f8e7d6c")),)


# ---- verdicts ----------------------------------------------------------------------------------------------


def test_unless_grant_is_for_aws_resource() -> None:
    """The derived key: kms:GrantIsForAWSResource is true on a request through an integrated service."""
    env = _env(_ext(["kms:CreateGrant", "kms:Decrypt"], {"Bool": {"kms:GrantIsForAWSResource": "true"}},
                    f"arn:aws:iam::{EXT}:root"))
    base = f"no principal outside account {OWNER} can kms:CreateGrant"
    assert _verdict(env, base).verdict is Verdict.REFUTED
    assert _verdict(env, base + " unless kms:GrantIsForAWSResource is true").verdict is Verdict.PROVED
    r = _verdict(env, base + " when kms:GrantIsForAWSResource is true")
    assert r.verdict is Verdict.REFUTED
    ctx = {k.lower(): v for k, v in r.evaluation.context.items()}
    assert ctx["kms:grantisforawsresource"] in (("true",), ("True",))


def test_only_via_service() -> None:
    env = _env(_ext("kms:Decrypt", {"StringEquals": {"kms:ViaService": S3}}, f"arn:aws:iam::{EXT}:root"))
    base = f"no principal outside account {OWNER} can kms:Decrypt"
    assert _verdict(env, base).verdict is Verdict.REFUTED
    assert _verdict(env, base + f" only via service {S3}").verdict is Verdict.PROVED
    r = _verdict(env, base + " only via service ec2.us-east-1.amazonaws.com")
    assert r.verdict is Verdict.REFUTED
    assert {k.lower(): v for k, v in r.counterexample.context.items()}["kms:viaservice"] == (S3,)


def test_when_source_vpce() -> None:
    env = _env(_ext("kms:Decrypt", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}))
    base = f"no principal outside account {OWNER} can kms:Decrypt"
    assert _verdict(env, base + " when aws:SourceVpce is vpce-9f8e7d6c").verdict is Verdict.PROVED
    r = _verdict(env, base + " when aws:SourceVpce is vpce-1a2b3c4d")
    assert r.verdict is Verdict.REFUTED
    assert _verdict(env, base + " unless aws:SourceVpce is vpce-1a2b3c4d").verdict is Verdict.PROVED
    assert _verdict(env, base + " when aws:SourceVpce is [vpce-9f8e7d6c, vpce-1a2b3c4d]").verdict is Verdict.REFUTED


def test_unless_source_ip_range() -> None:
    env = _env(_ext("kms:Decrypt", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    base = f"no principal outside account {OWNER} can kms:Decrypt"
    assert _verdict(env, base + ' unless aws:SourceIp is "10.0.0.0/8"').verdict is Verdict.PROVED
    r = _verdict(env, base + ' unless aws:SourceIp is "10.1.0.0/16"')
    assert r.verdict is Verdict.REFUTED
    ip = {k.lower(): v for k, v in r.counterexample.context.items()}["aws:sourceip"][0]
    assert ip.startswith("10.") and not ip.startswith("10.1.")


def test_encryption_context_and_multivalued_keys() -> None:
    env = _env(_ext("kms:Decrypt", {"StringEquals": {"kms:EncryptionContext:dataset": "reporting"}},
                    f"arn:aws:iam::{EXT}:root"))
    base = f"no principal outside account {OWNER} can kms:Decrypt"
    assert _verdict(env, base + " unless kms:EncryptionContext:dataset is reporting").verdict is Verdict.PROVED
    assert _verdict(env, base + " when kms:EncryptionContextKeys is dataset").verdict is Verdict.REFUTED
    # the key of an encryption context is matched case-insensitively by kms:EncryptionContext:dataset, but
    # kms:EncryptionContextKeys lists it as the caller spelled it, and `is` compares exactly (StringEquals)
    r = _verdict(env, base + " unless kms:EncryptionContextKeys is dataset")
    assert r.verdict is Verdict.REFUTED
    (listed,) = {k.lower(): v for k, v in r.evaluation.context.items()}["kms:encryptioncontextkeys"]
    assert listed != "dataset" and listed.lower() == "dataset"


def test_derived_organization_key_of_an_assumed_organization() -> None:
    org = "o-abcdefghij"
    env = _env(_ext("kms:Decrypt", {"StringEquals": {"aws:PrincipalOrgID": org}}))
    base = f"no principal outside account {OWNER} can kms:Decrypt"
    r = _verdict(env, base + f" when aws:PrincipalOrgID is {org}")
    assert r.verdict is Verdict.REFUTED and r.counterexample.assumed.get("org") == org
    assert _verdict(env, base + f" unless aws:PrincipalOrgID is {org}").verdict is Verdict.PROVED


def test_account_word_is_every_principal_not_the_root_user() -> None:
    env = load_environment(ROOT / "examples" / "grants" / "environment.yaml")
    others = "arn:aws:iam::444455556666:role/Analytics, logs.us-west-2.amazonaws.com"
    r = _verdict(env, f"only [{OWNER}, {others}] can kms:Decrypt")
    assert r.verdict is Verdict.REFUTED and r.counterexample.principal.split(":")[4] == OWNER
    assert r.counterexample.principal != f"arn:aws:iam::{OWNER}:root"
    assert _verdict(env, f"only [account {OWNER}, {others}] can kms:Decrypt").verdict is Verdict.PROVED
    assert _verdict(env, f"none of {EXT} can kms:Decrypt").verdict is Verdict.PROVED
    r = _verdict(env, f"none of account {EXT} can kms:Decrypt")
    assert r.verdict is Verdict.REFUTED and ":role/Analytics" not in r.counterexample.principal
    assert r.counterexample.principal.startswith(f"arn:aws:sts::{EXT}:assumed-role/Analytics/")


def test_bundled_grants_checks_hold() -> None:
    for a in compile_file(ROOT / "examples" / "grants" / "checks.access"):
        assert check(a.environment, a.property, rlimit=20_000_000).verdict is Verdict.PROVED, a.name


# ---- both engines: random conditions on random key policies --------------------------------------------------

_CONDITIONS = (
    ContextCondition("kms:ViaService", (S3,), True),
    ContextCondition("kms:ViaService", (S3,)),
    ContextCondition("kms:GrantIsForAWSResource", ("true",), True),
    ContextCondition("aws:SourceVpce", ("vpce-1a2b3c4d",)),
    ContextCondition("aws:SourceVpce", ("vpce-1a2b3c4d",), True),
    ContextCondition("aws:SourceIp", ("10.0.0.0/8",), True),
    ContextCondition("aws:PrincipalAccount", (EXT,)),
    ContextCondition("kms:CallerAccount", (EXT, OWNER), True),
    ContextCondition("aws:SecureTransport", ("true",)),
    ContextCondition("aws:ViaAWSService", ("false",)),
)
_PRINCIPALS = (f"arn:aws:iam::{EXT}:root", f"arn:aws:sts::{EXT}:assumed-role/R/s", "arn:aws:iam::999999999999:root",
               f"arn:aws:iam::{EXT}:user/alice")
_CONTEXTS: tuple[dict[str, tuple[str, ...]], ...] = (
    {}, {"kms:ViaService": (S3,)}, {"kms:ViaService": ("ec2.us-east-1.amazonaws.com",)},
    {"aws:SourceVpce": ("vpce-1a2b3c4d",)}, {"aws:SourceIp": ("10.1.2.3",)}, {"aws:SourceIp": ("192.0.2.1",)},
    {"kms:GrantIsForAWSResource": ("true",)},
)


#: Conditions of the statement that lets external callers in, each with the claim condition that excludes
#: exactly the requests it allows (None: no such condition).
_GRANTING: tuple[tuple[dict[str, Any] | None, ContextCondition | None], ...] = (
    (None, None),
    ({"StringEquals": {"kms:ViaService": S3}}, _CONDITIONS[0]),
    ({"Bool": {"kms:GrantIsForAWSResource": "true"}}, _CONDITIONS[2]),
    ({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, _CONDITIONS[4]),
    ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, _CONDITIONS[5]),
    ({"StringNotEquals": {"kms:CallerAccount": OWNER}}, None),
)


@settings(max_examples=strategies.examples(20), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(strategies.policy_json(PolicyKind.KEY_POLICY), st.sampled_from(_GRANTING),
       st.sampled_from([f"arn:aws:iam::{EXT}:root", "*"]),
       st.lists(st.sampled_from(_CONDITIONS), min_size=1, max_size=2, unique=True), st.booleans(),
       st.sampled_from(["kms:Decrypt", "kms:CreateGrant"]))
def test_random_conditions_agree_with_the_evaluator(  # noqa: PLR0917
        doc: dict[str, Any], granted: tuple[dict[str, Any] | None, ContextCondition | None], principal: str,
        when: list[ContextCondition], aligned: bool, action: str) -> None:
    """A random key policy plus a statement that lets external callers in under a condition on the keys the
    claims' conditions name (`aligned`: the claim excludes exactly those requests): REFUTED is replayed;
    PROVED holds for every request of a sweep."""
    granting, excluding = granted
    if aligned and excluding is not None:
        when = [excluding]
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    doc = {**doc, "Version": "2012-10-17", "Statement": [*statements, _ext(action, granting, principal)]}
    try:
        policy = parse_policy(json.dumps(doc), file="key.json", kind=PolicyKind.KEY_POLICY)
    except Exception:  # a combination the parser refuses (e.g. a duplicate Sid)
        return
    env = Environment(keys=(Key(KEY, policy),))  # type: ignore[arg-type]
    prop = AccessNotGranted(PrincipalScope.outside_account(OWNER), (action,), ("*",), tuple(when))
    r = check(env, prop, rlimit=20_000_000)
    if r.verdict is Verdict.REFUTED:
        assert concretely_violates(prop, [env], r.counterexample)
        ev, _ = replay(env, r.counterexample)
        assert all(condition_holds(env, c, ev) for c in when)
        return
    if r.verdict is not Verdict.PROVED:
        return
    for p, c in product(_PRINCIPALS, _CONTEXTS):
        req = Request(p, action, KEY, c)
        try:
            violated = concretely_violates(prop, [env], req)
        except Exception:  # a context the evaluator refuses for this action
            continue
        assert not violated, f"PROVED, but {req} violates {describe_property(prop)}"


# ---- errors ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("claim", "code", "at", "message"), [
    ("no principal can kms:CreateGrant unless kms:GrantIsForAwsResources is true", "PROP020",
     "kms:GrantIsForAwsResources", "unknown context key `kms:GrantIsForAwsResources`"),
    ("no principal can kms:CreateGrant unless aws:Nope is x", "PROP020", "aws:Nope", "unknown context key"),
    ("no principal can kms:CreateGrant unless kms:GrantIsForAWSResource is maybe", "PROP009", "maybe",
     "`maybe` is not `true` or `false`"),
    ('no principal can kms:Decrypt when aws:SourceIp is "10.0.0.0/33"', "PROP009", '"10.0', "not an IP address"),
    ("no principal can kms:Decrypt when aws:MultiFactorAuthAge is soon", "PROP009", "soon", "not a number"),
    ("no principal can kms:Decrypt when aws:CurrentTime is yesterday", "PROP009", "yesterday", "not a date"),
    ("no principal can kms:Decrypt only via service s3", "PROP009", "s3", "not an AWS service endpoint"),
    (f"account {OWNER} can kms:Decrypt", "PROP009", "account", "every principal of the account"),
    ("none of account 12345 can kms:Decrypt", "PROP009", "account 12345", "is not an account id"),
    (f"no principal can kms:Decrypt when aws:PrincipalAccount is account {EXT}", "PROP009", "account 4",
     "names principals"),
])
def test_condition_errors_are_located(tmp_path: Path, claim: str, code: str, at: str, message: str) -> None:
    (tmp_path / "key.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [ROOT_STMT]}))
    (tmp_path / "env.yaml").write_text(f"keys:\n  - arn: {KEY}\n    policy: key.json\n")
    line = f"assert: {claim}"
    (tmp_path / "c.access").write_text(f'environment "env.yaml"\n{line}\n')
    with pytest.raises(PropertyError) as info:
        compile_file(tmp_path / "c.access")
    err = info.value
    assert err.code == code and message in err.message, str(err)
    assert err.span is not None and (err.span.line, err.span.col) == (2, line.index(at) + 1), str(err)
    assert str(err).startswith(f"{tmp_path / 'c.access'}:2:{line.index(at) + 1}: error: {code} ")


def test_condition_problem_directly() -> None:
    assert condition_problem(ContextCondition("kms:ViaService", (S3,))) is None
    assert condition_problem(ContextCondition("kms:Nope", ("x",))) == ("key", "unknown context key `kms:Nope`")
    assert condition_problem(ContextCondition("aws:EpochTime", ("1767225600",))) is None
    assert condition_problem(ContextCondition("aws:SourceVpce", ())) is not None
