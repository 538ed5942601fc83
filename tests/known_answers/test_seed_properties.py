"""The seed scenario as properties (issue 4), built from the policies of the seed page
`key-policy-modifying-external-accounts` (semantics §4.3 cross-account, §4.6 cross-account operations).

- With the seed key policy and the external account's IAM policy, "no principal outside 111122223333 can
  kms:Decrypt" is REFUTED by a principal of 444455556666 (replayed by the evaluator).
- After removing the key policy statement that names the external account, it is PROVED.
- kms:ScheduleKeyDeletion by the external account is PROVED impossible even though a key policy names it.
- The same with the external IAM not given (worst case): still refuted, by any principal of 444455556666.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from reasoner.analyses.compiled import compile_environment
from reasoner.analyses.pipeline import check
from reasoner.analyses.properties import (
    AccessNotGranted,
    CanAccess,
    Equivalent,
    NoNewAccess,
    PrincipalScope,
    ScopeKind,
)
from reasoner.analyses.result import Verdict
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics.environment import Account, Environment, Key, Options, Principal, PrincipalKind
from reasoner.semantics.evaluate import evaluate
from reasoner.semantics.request import Decision

pytestmark = pytest.mark.solver

OWNER = "111122223333"
EXT = "444455556666"
KEY = f"arn:aws:kms:us-west-2:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

KEY_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
     "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
    {"Sid": "Allow an external account to use this KMS key", "Effect": "Allow",
     "Principal": {"AWS": ["arn:aws:iam::444455556666:root"]},
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
     "Resource": "*"},
    {"Sid": "Allow attachment of persistent resources", "Effect": "Allow",
     "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
     "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
     "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
    {"Sid": "External account may schedule deletion (ineffective across accounts)", "Effect": "Allow",
     "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
     "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}
  ]
}"""

IAM_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AllowUseOfKeyInAccount111122223333", "Effect": "Allow",
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey",
                "kms:ScheduleKeyDeletion"],
     "Resource": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
  ]
}"""


def _env(*, drop_external: bool = False, iam_given: bool = True) -> Environment:
    kp = parse_policy(KEY_POLICY, file="seed-key-policy.json", kind=PolicyKind.KEY_POLICY)
    if drop_external:
        kept = tuple(s for s in kp.statements if "444455556666" not in str(s.principal))
        kp = replace(kp, statements=kept)
    iam = parse_policy(IAM_POLICY, file="seed-iam.json", kind=PolicyKind.IDENTITY)
    principals = (
        (Principal(f"arn:aws:iam::{EXT}:role/ExampleRole", PrincipalKind.ROLE, (iam,)),) if iam_given else ()
    )
    return Environment(
        keys=(Key(KEY, kp),),
        accounts=(Account(OWNER), Account(EXT, iam_known=iam_given)),
        principals=principals,
    )


OUTSIDE = PrincipalScope.outside_account(OWNER)


def test_external_decrypt_is_refuted_by_the_external_account() -> None:
    env = _env()
    r = check(env, AccessNotGranted(OUTSIDE, ("kms:Decrypt",)))
    assert r.verdict is Verdict.REFUTED
    assert r.counterexample is not None
    assert r.counterexample.principal.split(":")[4] == EXT
    # the counterexample replays through the concrete evaluator
    assert evaluate(env, r.counterexample).decision is Decision.ALLOW
    assert r.evaluation is not None and r.evaluation.decision is Decision.ALLOW
    assert r.counterexample.context == {}  # no context key is needed for this violation


def test_without_the_external_statement_it_is_proved() -> None:
    r = check(_env(drop_external=True), AccessNotGranted(OUTSIDE, ("kms:Decrypt",)))
    assert r.verdict is Verdict.PROVED, r.reason


def test_schedule_key_deletion_by_the_external_account_is_impossible() -> None:
    # semantics §4.6: ScheduleKeyDeletion is not cross-account capable, whatever the policies say
    scope = PrincipalScope(ScopeKind.OUTSIDE_ACCOUNTS, (OWNER,))
    for env in (_env(), _env(iam_given=False)):
        r = check(env, AccessNotGranted(scope, ("kms:ScheduleKeyDeletion",)))
        assert r.verdict is Verdict.PROVED, r.reason


def test_unknown_external_iam_is_worst_case() -> None:
    env = _env(iam_given=False)
    r = check(env, AccessNotGranted(OUTSIDE, ("kms:Decrypt",)))
    assert r.verdict is Verdict.REFUTED
    assert r.counterexample is not None and r.counterexample.principal.split(":")[4] == EXT
    # (the counterexample may be the account's root user, who needs no identity policy, or one of its users or
    # roles under the worst case: which one the model picks depends on the solver's history in the process)
    assert r.counterexample.principal.endswith(":root") or any(x.label == "unknown IAM" for x in r.responsible)
    # "only what is given": no user or role of 444455556666 has an identity policy; only the account's root
    # user (who needs none, semantics §4.2 step 8) can use the account statement
    strict = replace(env, options=Options(unknown_iam_worst_case=False))
    r2 = check(strict, AccessNotGranted(OUTSIDE, ("kms:Decrypt",)))
    assert r2.verdict is Verdict.REFUTED and r2.counterexample is not None
    assert r2.counterexample.principal == f"arn:aws:iam::{EXT}:root"
    not_root = PrincipalScope(
        ScopeKind.PRINCIPALS, (f"arn:aws:iam::{EXT}:role/ExampleRole", f"arn:aws:iam::{EXT}:user/ExampleUser")
    )
    assert check(strict, AccessNotGranted(not_root, ("kms:Decrypt",))).verdict is Verdict.PROVED
    r3 = check(env, AccessNotGranted(not_root, ("kms:Decrypt",)))
    assert r3.verdict is Verdict.REFUTED and any(x.label == "unknown IAM" for x in r3.responsible)


def test_grant_statements_need_an_aws_service() -> None:
    # the console's grant statement is conditioned on kms:GrantIsForAWSResource: a refutation needs it true
    r = check(_env(), AccessNotGranted(OUTSIDE, ("kms:CreateGrant",)))
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None
    ctx = {k.lower(): v for k, v in r.counterexample.context.items()}
    assert ctx.get("kms:grantisforawsresource") == ("true",) or "kms:viaservice" in ctx


def test_lockout_guard() -> None:
    env = _env()
    assert (
        check(env, CanAccess(f"arn:aws:iam::{OWNER}:root", ("kms:PutKeyPolicy",))).verdict is Verdict.PROVED
    )
    r = check(env, CanAccess(f"arn:aws:iam::{EXT}:role/ExampleRole", ("kms:ScheduleKeyDeletion",)))
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None
    assert evaluate(env, r.counterexample).decision is not Decision.ALLOW


def test_many_properties_on_one_compiled_environment() -> None:
    compiled = compile_environment(_env())
    verdicts = [
        check(compiled, AccessNotGranted(OUTSIDE, (a,))).verdict
        for a in ("kms:Decrypt", "kms:ScheduleKeyDeletion", "kms:Encrypt", "kms:PutKeyPolicy")
    ]
    assert verdicts == [Verdict.REFUTED, Verdict.PROVED, Verdict.REFUTED, Verdict.PROVED]


def test_no_new_access_between_versions() -> None:
    # removing the external statement is a reduction (no new access); adding it back is not
    old = _env(drop_external=True)
    new = _env()
    assert check(old, NoNewAccess(new)).verdict is Verdict.PROVED
    r = check(new, NoNewAccess(old))
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None
    assert evaluate(new, r.counterexample).decision is Decision.ALLOW
    assert evaluate(old, r.counterexample).decision is not Decision.ALLOW
    assert check(new, Equivalent(old)).verdict is Verdict.REFUTED
    assert check(new, Equivalent(new)).verdict is Verdict.PROVED


def test_resource_limit_is_unknown_with_the_reason() -> None:
    # never folded into PROVED/REFUTED (house style rule 6)
    r = check(_env(), AccessNotGranted(OUTSIDE, ("kms:Decrypt",)), rlimit=10)
    assert r.verdict is Verdict.UNKNOWN and r.reason is not None and "resource limit" in r.reason


def test_dump_smt2_is_the_query(tmp_path: object) -> None:
    from pathlib import Path

    import z3

    out = Path(str(tmp_path)) / "query.smt2"
    r = check(_env(), AccessNotGranted(OUTSIDE, ("kms:Decrypt",)), dump_smt2=out)
    text = out.read_text()
    body, _, tail = text.partition("(check-sat-assuming (")
    literal = tail.split(")")[0]
    s = z3.Solver()
    s.from_string(body)
    assert (s.check(z3.Bool(literal)) == z3.sat) == (r.verdict is Verdict.REFUTED)
    proved = check(_env(drop_external=True), AccessNotGranted(OUTSIDE, ("kms:Decrypt",)), dump_smt2=out)
    body, _, tail = out.read_text().partition("(check-sat-assuming (")
    s = z3.Solver()
    s.from_string(body)
    assert proved.verdict is Verdict.PROVED and s.check(z3.Bool(tail.split(")")[0])) == z3.unsat
