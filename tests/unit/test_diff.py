"""Semantic diff of two environments / key policies (issue 6, docs/findings.md).

- Adding the external-account statements of the seed policy (semantics §4.3): the added classes are
  account 444455556666 with the cross-account actions only (§4.6), nothing removed, witnesses replayed on
  both sides; the reverse diff reports the same classes as removed.
- Rewriting a policy without changing its meaning (statements split, reordered, actions spelled out) is
  PROVED equivalent.
- A sweep of concrete requests: every request whose decision differs is covered by a reported class.
- CLI exit statuses: 0 equivalent, 1 different, 2 input error.
"""

from __future__ import annotations

import io
import json
from itertools import product
from pathlib import Path

import pytest

from reasoner.analyses.diff import DiffResult, diff
from reasoner.analyses.explain import replay
from reasoner.analyses.findings import PrincipalClass, in_class
from reasoner.analyses.result import Verdict
from reasoner.face.cli import main
from reasoner.face.exit import exit_status
from reasoner.face.render.diff import render
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics.environment import Environment, Key
from reasoner.semantics.request import Request
from reasoner.symbolic.domain import key_actions
from tests.sarif import valid_sarif

pytestmark = pytest.mark.solver

OWNER = "111122223333"
EXT = "444455556666"
KEY = f"arn:aws:kms:us-west-2:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT_STMT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
             "Action": "kms:*", "Resource": "*"}
EXTERNAL = [
    {"Sid": "External use", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
     "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"},
    {"Sid": "External deletion", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
     "Action": "kms:ScheduleKeyDeletion", "Resource": "*"},
]


def _env(statements: list[dict[str, object]], name: str = "key.json") -> Environment:
    doc = {"Version": "2012-10-17", "Statement": statements}
    policy = parse_policy(json.dumps(doc, indent=2), file=name, kind=PolicyKind.KEY_POLICY)
    return Environment(keys=(Key(KEY, policy),))


def _assert_covers(result: DiffResult, old: Environment, new: Environment) -> int:
    principals = [f"arn:aws:iam::{OWNER}:root", f"arn:aws:iam::{OWNER}:user/alice", f"arn:aws:iam::{EXT}:root",
                  f"arn:aws:sts::{EXT}:assumed-role/App/s", "arn:aws:iam::999999999999:root"]
    contexts: list[dict[str, tuple[str, ...]]] = [{}, {"kms:ViaService": ("ec2.us-west-2.amazonaws.com",)}]
    differing = 0
    for p, a, c in product(principals, key_actions(), contexts):
        r = Request(p, a, KEY, c)
        o = replay(old, r)[0].decision.allowed
        n = replay(new, r)[0].decision.allowed
        if o == n:
            continue
        differing += 1
        changes = result.added if n else result.removed
        assert any(in_class(ch.principal, p) and a in ch.actions for ch in changes), f"uncovered change {r}"
    return differing


def test_added_external_account() -> None:
    old, new = _env([ROOT_STMT], "old.json"), _env([ROOT_STMT, *EXTERNAL], "new.json")
    result = diff(old, new)
    assert result.verdict is Verdict.REFUTED and exit_status(result) == 1
    assert result.removed == () and result.added_complete is Verdict.PROVED
    (ch,) = result.added
    assert ch.principal == PrincipalClass("account", EXT)
    assert ch.actions == ("kms:Decrypt", "kms:DescribeKey")  # ScheduleKeyDeletion: not cross-account (§4.6)
    assert ch.statements[0].label == "External use"
    assert replay(new, ch.example)[0].decision.allowed and not replay(old, ch.example)[0].decision.allowed
    assert _assert_covers(result, old, new) > 0


def test_removed_is_the_mirror() -> None:
    old, new = _env([ROOT_STMT, *EXTERNAL], "old.json"), _env([ROOT_STMT], "new.json")
    result = diff(old, new)
    assert result.added == ()
    (ch,) = result.removed
    assert ch.direction == "removed" and ch.actions == ("kms:Decrypt", "kms:DescribeKey")
    assert _assert_covers(result, old, new) > 0


def test_equivalent_rewrite_is_proved() -> None:
    old = _env([ROOT_STMT, {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
                            "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"}], "old.json")
    new = _env([{"Sid": "Enc", "Effect": "Allow", "Principal": {"AWS": EXT}, "Action": "kms:Encrypt",
                 "Resource": "*"},
                {"Sid": "Dec", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
                 "Action": "kms:Decrypt", "Resource": "*"},
                # ineffective across accounts (§4.6): changes nothing
                {"Sid": "Del", "Effect": "Allow", "Principal": {"AWS": EXT}, "Action": "kms:ScheduleKeyDeletion",
                 "Resource": "*"},
                ROOT_STMT], "new.json")
    result = diff(old, new)
    assert result.verdict is Verdict.PROVED and result.equivalent is True and exit_status(result) == 0
    assert "PROVED equivalent" in render("text", result)


def test_condition_change_both_directions() -> None:
    old = _env([ROOT_STMT, {"Sid": "Via", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
                            "Action": "kms:Decrypt", "Resource": "*",
                            "Condition": {"StringEquals": {"kms:ViaService": "ec2.us-west-2.amazonaws.com"}}}])
    new = _env([ROOT_STMT, {"Sid": "Via", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
                            "Action": "kms:Decrypt", "Resource": "*",
                            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}}])
    result = diff(old, new)
    assert len(result.added) == 1 and len(result.removed) == 1
    assert result.added[0].example.context != result.removed[0].example.context
    assert _assert_covers(result, old, new) > 0
    doc = json.loads(render("json", result))
    assert doc["verdict"] == "REFUTED" and doc["added"][0]["direction"] == "added"
    sarif = valid_sarif(render("sarif", result))
    assert len(sarif["runs"][0]["results"]) == 2


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_cli_diff(tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_text(json.dumps({"Version": "2012-10-17", "Statement": [ROOT_STMT]}, indent=2))
    b.write_text(json.dumps({"Version": "2012-10-17", "Statement": [ROOT_STMT, *EXTERNAL]}, indent=2))
    assert _run("diff", str(a), str(a))[0] == 0
    code, out, _ = _run("diff", str(a), str(b))
    assert code == 1 and f"account {EXT} can now kms:Decrypt, kms:DescribeKey" in out
    assert _run("diff", str(a), str(tmp_path / "nope.json"))[0] == 2


# ---- random key policies (tests/strategies.py) ----------------------------------------------------------

from dataclasses import replace  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests import strategies  # noqa: E402


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.policy_documents(PolicyKind.KEY_POLICY), st.integers(min_value=0, max_value=9))
def test_random_statement_removal_diff_covers_the_sweep(doc: object, drop: int) -> None:
    """Removing one statement of a random key policy: the diff is PROVED equivalent or reports classes that
    cover every concrete request (root users and role sessions of the accounts named, every key action)
    whose decision changes; no change is ever reported without a replayed witness."""
    import re

    stmts = doc.statements  # type: ignore[attr-defined]
    new_doc = replace(doc, statements=tuple(s for i, s in enumerate(stmts) if i != drop % len(stmts)))
    old, new = Environment(keys=(Key(KEY, doc),)), Environment(keys=(Key(KEY, new_doc),))  # type: ignore[arg-type]
    result = diff(old, new)
    if result.verdict is Verdict.UNKNOWN:
        assert result.reason
        return
    text = doc.source.text if doc.source else ""  # type: ignore[attr-defined]
    accounts = [*sorted(set(re.findall(r"(?<!\d)\d{12}(?!\d)", text)))[:3], OWNER, "999999999999"]
    for acct in accounts:
        for p in (f"arn:aws:iam::{acct}:root", f"arn:aws:sts::{acct}:assumed-role/Example/s"):
            for a in key_actions():
                r = Request(p, a, KEY)
                o, n = replay(old, r)[0].decision.allowed, replay(new, r)[0].decision.allowed
                if o != n:
                    assert result.verdict is Verdict.REFUTED
                    changes = result.added if n else result.removed
                    assert any(in_class(c.principal, p, new if n else old) and a in c.actions
                               for c in changes), r


@pytest.mark.solver
def test_a_resource_one_side_does_not_declare_has_no_owner_there() -> None:
    # OLD declares the bucket (owner 111122223333), NEW does not: in NEW the bucket's owner is unknown (an S3 ARN
    # names no account), so S3's owner-only bucket-policy rule refuses every caller there, as the evaluator says
    # (docs/semantics-services.md §A.4). The encoder once took the owner from OLD's declaration for both
    # environments of a comparison: this check was PROVED (unsound), and `reasoner diff
    # examples/resources/environment.yaml EMPTY.yaml` reported an INTERNAL disagreement.
    from reasoner.analyses.pipeline import check
    from reasoner.analyses.properties import NoNewAccess
    from reasoner.semantics.environment import Account, Resource

    bucket = Resource("arn:aws:s3:::example-reports", None, "111122223333")
    old = Environment(resources=(bucket,), accounts=(Account("111122223333", iam_known=False),))
    new = Environment(resources=(Resource("arn:aws:s3:::other-bucket", None, "111122223333"),))
    user = Request("arn:aws:iam::111122223333:user/alice", "s3:PutBucketPolicy", bucket.arn)
    assert not replay(new, user)[0].decision.allowed and replay(old, user)[0].decision.allowed
    # what OLD allows on its bucket and NEW does not: every bucket-policy operation of the owner account
    r = check(old, NoNewAccess(new, ("s3:PutBucketPolicy",), (bucket.arn,)), rlimit=30_000_000)
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None, r.reason
    assert r.counterexample.principal.split(":")[4] == "111122223333"


@pytest.mark.solver
def test_a_key_derived_from_a_resource_one_side_does_not_declare_is_the_requests_there() -> None:
    # OLD declares the function, NEW does not. AWS derives aws:RequestedRegion from a resource the environment
    # declares (evaluate._derived_by_target); in NEW it is the request's own value, so NEW's grant "only when
    # aws:RequestedRegion is us-east-1" does not cover a request that gives no Region. The encoder once derived the
    # key from OLD's declaration in both environments: this check was PROVED (unsound).
    from reasoner.analyses.pipeline import check
    from reasoner.analyses.properties import NoNewAccess
    from reasoner.semantics.environment import Principal, PrincipalKind, Resource

    fn = "arn:aws:lambda:us-east-1:111122223333:function:f"
    alice = "arn:aws:iam::111122223333:user/alice"

    def identity(condition: dict[str, object]) -> Principal:
        st = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*", **condition}
        doc = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [st]}), file="id.json",
                           kind=PolicyKind.IDENTITY)
        return Principal(alice, PrincipalKind.USER, (doc,))

    old = Environment(principals=(identity({}),), resources=(Resource(fn, None, "111122223333"),))
    other = Resource("arn:aws:lambda:us-east-1:111122223333:function:other", None, "111122223333")
    new = Environment(principals=(identity({"Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}),),
                      resources=(other,))
    request = Request(alice, "lambda:InvokeFunction", fn)
    assert replay(old, request)[0].decision.allowed and not replay(new, request)[0].decision.allowed
    r = check(old, NoNewAccess(new, ("lambda:InvokeFunction",), (fn,)), rlimit=30_000_000)
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None, r.reason
    assert r.counterexample.principal == alice


_RESOURCES = Path(__file__).resolve().parents[2] / "examples" / "resources" / "environment.yaml"
_DEPLOY = "arn:aws:iam::111122223333:role/Deploy"


def _without_deploy() -> tuple[Environment, Environment]:
    from dataclasses import replace as _replace

    from reasoner.front.manifest import load_environment

    old = load_environment(_RESOURCES)
    return old, _replace(old, principals=tuple(p for p in old.principals if p.arn != _DEPLOY))


@pytest.mark.solver
def test_a_role_one_side_does_not_have_is_not_assumable_there_and_its_sessions_are_one_class() -> None:
    # NEW deletes the role Deploy. `reasoner diff` once ended with an INTERNAL disagreement (the encoding denied
    # every action on a role NEW does not have, iam: actions included, while the evaluator decides those by the
    # identity rule of an undeclared resource), then with EVAL004 from the replay of an sts request on the
    # missing role, then enumerated one class per session name (Deploy/eu, Deploy/ev, ...) until the timeout.
    old, new = _without_deploy()
    r = diff(old, new, rlimit=400_000_000)
    assert r.verdict is Verdict.REFUTED and not r.added, r.reason
    assert r.added_complete is Verdict.PROVED and r.removed_complete is Verdict.PROVED, r.reason
    got = {(c.key, str(c.principal), c.actions) for c in r.removed}
    assert got == {
        (_DEPLOY, "users of identity provider "
         "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
         ("sts:AssumeRoleWithWebIdentity",)),
        ("arn:aws:s3:::example-reports", _DEPLOY, ("s3:PutObject",)),
    }, got
    gone = next(c for c in r.removed if c.key == _DEPLOY)
    assert gone.denied.reasons[0].label == "not in this environment"
    # the root of the role's account may still delete it in both: iam: actions on a role NEW does not have are
    # decided as on any undeclared resource (identity rule), in the evaluator and in the encoding
    root = Request("arn:aws:iam::111122223333:root", "iam:DeleteRole", _DEPLOY)
    assert replay(old, root)[0].decision.allowed and replay(new, root)[0].decision.allowed


@pytest.mark.solver
def test_a_limit_keeps_the_changes_found_before_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # `reasoner diff OLD EMPTY` once printed "UNKNOWN: 0 class(es)" after its timeout although it had found and
    # replayed many: the changes found before a limit are kept, and the result says which direction is incomplete
    from reasoner import limits
    from reasoner.analyses.findings import Engine

    old, new = _without_deploy()
    real = Engine.solve
    calls = {"n": 0}

    def solve(self: Engine, term: object) -> object:
        calls["n"] += 1
        if calls["n"] > 6:
            raise limits.OutOfBudget("timeout after 60 s")
        return real(self, term)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "solve", solve)
    r = diff(old, new, rlimit=400_000_000)
    assert r.added_complete is Verdict.PROVED and r.removed_complete is Verdict.UNKNOWN
    assert r.verdict is Verdict.REFUTED and len(r.removed) == 1 and r.reason == "timeout after 60 s"
    assert r.queries == 6


@pytest.mark.solver
def test_undescribed_principals_are_one_class_per_account_and_undeclared_accounts_one_class() -> None:
    # `reasoner diff examples/resources/environment.yaml EMPTY.yaml` once enumerated one class per undescribed
    # user (user/0/1, user/0/2, ...), then per undeclared account (000000000000, 000000000001, ...) and per
    # federated user name until its 64-class cap: the users, role sessions and federated users of an account
    # that neither side describes hold its unknown identity policies alike, and so do the principals of every
    # account neither declares. Now both directions are complete.
    from reasoner.analyses.findings import in_class
    from reasoner.front.manifest import load_environment

    old, new = load_environment(_RESOURCES), Environment()
    r = diff(old, new, rlimit=400_000_000)
    assert r.added_complete is Verdict.PROVED and r.removed_complete is Verdict.PROVED, r.reason
    kinds = {c.principal.kind for c in r.added}
    assert {"undescribed", "undeclared"} <= kinds, kinds
    assert len(r.added) < 40
    for c in r.added:
        assert in_class(c.principal, c.example.principal, new, c.example.assumed), (c.principal, c.example)
        if c.principal.kind == "undeclared":
            assert all(a.id != c.example.principal.split(":")[4] for a in old.accounts)


@pytest.mark.solver
def test_a_comparison_covers_the_resources_only_the_other_side_declares() -> None:
    # `check(new, Equivalent(old))` once built the symbolic request from NEW alone: with the role Deploy deleted
    # in NEW, the requests on it (allowed in OLD) were outside the request and Equivalent was PROVED, while
    # `check(old, Equivalent(new))` was REFUTED. A comparison is now decided over both sides' resources.
    from reasoner.analyses.compiled import compile_environment
    from reasoner.analyses.pipeline import check
    from reasoner.analyses.properties import Equivalent, NoNewAccess

    old, new = _without_deploy()
    for a, b in ((new, old), (old, new)):
        r = check(a, Equivalent(b, ("*",)), rlimit=400_000_000)
        assert r.verdict is Verdict.REFUTED and r.counterexample is not None, r.reason
        cx = r.counterexample  # a request on Deploy, or one of Deploy's own (its s3:PutObject)
        assert replay(a, cx)[0].decision.allowed != replay(b, cx)[0].decision.allowed
        assert _DEPLOY in (cx.resource, f"arn:aws:iam::111122223333:role/{cx.principal.split('/')[1]}")
    assert check(new, NoNewAccess(old, ("*",)), rlimit=400_000_000).verdict is Verdict.PROVED  # NEW only removed
    # a compiled environment given for a comparison is compiled again over both sides when it does not cover them
    r = check(compile_environment(new), Equivalent(old, ("*",)), rlimit=400_000_000)
    assert r.verdict is Verdict.REFUTED, r.reason


@pytest.mark.solver
def test_no_new_access_covers_a_resource_only_the_old_side_declares() -> None:
    # OLD declares the bucket with a policy that denies everyone; NEW does not declare it, so NEW's identity policy
    # alone decides requests on it (same account): NEW allows what OLD denied. Checked over NEW's resources only,
    # this was PROVED (unsound).
    from reasoner.analyses.pipeline import check
    from reasoner.analyses.properties import NoNewAccess
    from reasoner.semantics.environment import Account, Principal, PrincipalKind, Resource

    owner, bucket = "111122223333", "arn:aws:s3:::reports"
    alice = f"arn:aws:iam::{owner}:user/alice"
    deny = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [bucket, f"{bucket}/*"]}]}),
        file="bucket.json", kind=PolicyKind.RESOURCE)
    ident = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket}/*"}]}), file="alice.json",
        kind=PolicyKind.IDENTITY)
    user = Principal(alice, PrincipalKind.USER, (ident,))
    other = Resource("arn:aws:s3:::other", None, owner)
    old = Environment(principals=(user,), resources=(Resource(bucket, deny, owner), other), accounts=(Account(owner),))
    new = Environment(principals=(user,), resources=(other,), accounts=(Account(owner),))
    request = Request(alice, "s3:GetObject", f"{bucket}/2026/report.csv")
    assert replay(new, request)[0].decision.allowed and not replay(old, request)[0].decision.allowed
    r = check(new, NoNewAccess(old, ("s3:GetObject",)), rlimit=400_000_000)
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None, r.reason
    assert r.counterexample.resource.startswith(f"{bucket}/")
