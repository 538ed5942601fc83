"""Findings with grants (issue 14, item 5; semantics §4.4, docs/findings.md "Grants").

- Every grant of a key is a source of access like a key-policy statement: its grantee (a role and its sessions,
  a user, a service principal, an account and, by delegation, its principals) gets a finding for the grant's
  operations, with the grant's constraints as conditions; a retiring principal gets kms:RetireGrant; with a
  zone of trust that leaves the owner out, the owner's principals retiring grants through IAM get one too.
- Completeness with grants is PROVED (the final query is unsat), also with `--include-services` on a grant to
  a service principal (it used to end INCOMPLETE: "no key-policy statement allows the witness").
- Both engines: the findings are computed by the symbolic core and every allowed external request of a sweep
  of concrete requests (principals x actions x contexts, each replayed through `evaluate.evaluate`) must lie in
  a finding whose class holds the caller, whose actions list the action and whose statements or grants are
  among the reasons of the decision. Random grants (Hypothesis) are swept the same way.
"""

from __future__ import annotations

import io
import json
from itertools import product
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.analyses.explain import replay
from reasoner.analyses.findings import FindingsResult, PrincipalClass, findings, in_class
from reasoner.analyses.result import Verdict
from reasoner.face.cli import main
from reasoner.face.render.findings import render
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics.environment import Account, Environment, Grant, Key, Options
from reasoner.semantics.request import Evaluation, Request
from reasoner.symbolic.domain import key_actions
from tests import strategies
from tests.sarif import valid_sarif

pytestmark = pytest.mark.solver

OWNER = "111122223333"
EXT = "444455556666"
THIRD = "555555555555"
KEY = f"arn:aws:kms:us-west-2:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT_STMT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
             "Action": "kms:*", "Resource": "*"}
LOGS = "logs.us-west-2.amazonaws.com"
ANALYTICS = f"arn:aws:iam::{EXT}:role/Analytics"
SOURCE_ARN = f"arn:aws:logs:us-west-2:{OWNER}:log-group:app"

GRANTS = (
    Grant(LOGS, frozenset({"kms:Decrypt", "kms:GenerateDataKey"}), source_arn=SOURCE_ARN, name="logs"),
    Grant(ANALYTICS, frozenset({"kms:Decrypt", "kms:RetireGrant"}), encryption_context_subset={"dataset": "reporting"},
          retiring_principal=f"arn:aws:iam::{THIRD}:root", name="analytics"),
    Grant(THIRD, frozenset({"kms:Encrypt", "kms:CreateGrant", "kms:DescribeKey"}),
          encryption_context_equals={"app": "billing"}, name="third-account"),
)


def _key_policy(statements: list[dict[str, object]]) -> object:
    doc = {"Version": "2012-10-17", "Statement": statements}
    return parse_policy(json.dumps(doc, indent=2), file="key.json", kind=PolicyKind.KEY_POLICY)


def _env(grants: tuple[Grant, ...] = GRANTS, statements: list[dict[str, object]] | None = None,
         options: Options | None = None) -> Environment:
    key = Key(KEY, _key_policy(statements or [ROOT_STMT]), grants=grants)  # type: ignore[arg-type]
    return Environment(keys=(key,), accounts=(Account(OWNER),), options=options or Options())


PRINCIPALS = (
    f"arn:aws:iam::{OWNER}:root", f"arn:aws:sts::{OWNER}:assumed-role/Admin/s",
    f"arn:aws:iam::{EXT}:root", f"arn:aws:sts::{EXT}:assumed-role/Analytics/s1",
    f"arn:aws:sts::{EXT}:assumed-role/Other/s1", f"arn:aws:iam::{THIRD}:root", f"arn:aws:iam::{THIRD}:user/bob",
    f"arn:aws:sts::{THIRD}:assumed-role/App/x", "arn:aws:iam::999999999999:root", LOGS,
    "cloudtrail.amazonaws.com",
)
CONTEXTS: tuple[dict[str, tuple[str, ...]], ...] = (
    {},
    {"kms:EncryptionContext:dataset": ("reporting",)},
    {"kms:EncryptionContext:app": ("billing",)},
    {"kms:EncryptionContext:app": ("billing",), "kms:EncryptionContext:x": ("y",)},
    {"aws:SourceArn": (SOURCE_ARN,)},
    {"kms:GrantOperations": ("Encrypt",)},
    {"kms:GrantOperations": ("Encrypt", "Decrypt")},
)


def _covered(result: FindingsResult, env: Environment, r: Request, ev: Evaluation) -> bool:
    key = env.keys[0]
    reasons = {(x.label.removesuffix(" (retiring principal)") if x.statement is None else x.statement, x.span)
               for x in ev.reasons if x.role == "allow"}
    for f in result.findings:
        if r.action not in f.actions or not in_class(f.principal, r.principal, env, r.assumed):
            continue
        for s in f.statements:
            if s.kind == "statement" and (s.index, s.span) in reasons:
                return True
            if s.kind == "grant":
                label = s.label.removesuffix(" (retiring principal)")
                if label.startswith("RetireGrant through") and ("grant account", None) in reasons:
                    return True
                g = key.grants[s.index]
                if (label, g.span) in reasons:
                    return True
    return False


def _sweep(result: FindingsResult, env: Environment, inside: set[str], include_services: bool) -> int:
    """Every allowed external request of the sweep lies in a finding; returns how many were allowed."""
    allowed = 0
    for p, a, c in product(PRINCIPALS, key_actions(), CONTEXTS):
        service = not p.startswith("arn:")
        if (service and not include_services) or (not service and p.split(":")[4] in inside):
            continue
        r = Request(p, a, KEY, c)
        try:
            ev, _ = replay(env, r)
        except Exception:  # a context the action cannot carry
            continue
        if not ev.decision.allowed:
            continue
        allowed += 1
        assert _covered(result, env, r, ev), f"allowed external request not covered by any finding: {r}"
    return allowed


def test_grants_are_findings_complete_and_swept() -> None:
    env = _env()
    result = findings(env, include_services=True)
    (k,) = result.keys
    assert k.complete is Verdict.PROVED, k.reason
    by_class = {f.principal: f for f in k.findings}
    assert set(by_class) == {
        PrincipalClass("service", LOGS),
        PrincipalClass("arn", ANALYTICS),
        PrincipalClass("account", THIRD),
        PrincipalClass("arn", f"arn:aws:iam::{THIRD}:root"),  # the retiring principal
    }
    logs = by_class[PrincipalClass("service", LOGS)]
    assert set(logs.actions) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert [str(c) for c in logs.conditions] == [f"StringEquals aws:SourceArn {SOURCE_ARN}"]
    assert logs.statements[0].kind == "grant" and logs.statements[0].label == "grant logs"
    analytics = by_class[PrincipalClass("arn", ANALYTICS)]
    assert set(analytics.actions) == {"kms:Decrypt", "kms:RetireGrant"}
    assert [str(c) for c in analytics.conditions] == ["EncryptionContextSubset kms:EncryptionContext dataset=reporting"]
    third = by_class[PrincipalClass("account", THIRD)]
    assert set(third.actions) == {"kms:Encrypt", "kms:CreateGrant", "kms:DescribeKey"}
    assert {c.operator for c in third.conditions} == {"EncryptionContextEquals", "ForAllValues:StringEquals"}
    retiring = by_class[PrincipalClass("arn", f"arn:aws:iam::{THIRD}:root")]
    assert retiring.actions == ("kms:RetireGrant",)
    assert retiring.statements[0].label == "grant analytics (retiring principal)"
    for f in k.findings:
        assert replay(env, f.example)[0].decision.allowed and not f.public
    assert _sweep(result, env, {OWNER}, include_services=True) > 20


def test_without_services_the_service_grant_is_not_external() -> None:
    env = _env()
    result = findings(env)
    (k,) = result.keys
    assert k.complete is Verdict.PROVED
    assert all(f.principal.kind != "service" for f in k.findings)
    assert _sweep(result, env, {OWNER}, include_services=False) > 10


def test_service_grant_alone_with_include_services_is_complete() -> None:
    """The issue's case: a key whose only external access is a grant to a service principal."""
    env = _env(grants=(GRANTS[0],))
    result = findings(env, include_services=True)
    (k,) = result.keys
    assert k.complete is Verdict.PROVED and "unsat" in k.proof
    (f,) = k.findings
    assert f.principal == PrincipalClass("service", LOGS)
    assert f.example.principal == LOGS and f.example.context.get("aws:SourceArn", f.example.context.get(
        "aws:sourcearn")) == (SOURCE_ARN,)
    assert findings(env).keys[0].findings == ()


def test_account_grantee_without_delegation_is_its_root_user() -> None:
    env = _env(grants=(GRANTS[2],), options=Options(account_grantee_delegates=False))
    result = findings(env)
    (f,) = result.findings
    assert f.principal == PrincipalClass("arn", f"arn:aws:iam::{THIRD}:root")
    assert result.keys[0].complete is Verdict.PROVED
    assert _sweep(result, env, {OWNER}, include_services=False) > 0


def test_zone_without_the_owner_reports_retiring_through_identity_policies() -> None:
    """RetireGrant by the key's own account (its identity policies, semantics §4.4) is a source of its own."""
    env = _env(grants=(GRANTS[1],))
    result = findings(env, ["999999999999"])
    (k,) = result.keys
    assert k.complete is Verdict.PROVED, k.reason
    owner = [f for f in k.findings if f.principal == PrincipalClass("account", OWNER)]
    (f,) = owner  # merged with the key policy's `Root` class (same principal class, no conditions)
    assert "kms:RetireGrant" in f.actions
    assert [s.kind for s in f.statements] == ["statement", "grant"]
    assert f.statements[1].label == f"RetireGrant through the identity policies of account {OWNER}"
    assert _sweep(result, env, {"999999999999"}, include_services=False) > 0


def test_grants_next_to_key_policy_statements() -> None:
    """A key-policy statement and a grant for the same principal class: both are sources, the set complete."""
    stmts = [ROOT_STMT, {"Sid": "Ext", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
                         "Action": ["kms:Encrypt", "kms:DescribeKey"], "Resource": "*"}]
    env = _env(statements=stmts)
    result = findings(env, include_services=True)
    assert result.keys[0].complete is Verdict.PROVED
    kinds = {s.kind for f in result.findings for s in f.statements}
    assert kinds == {"statement", "grant"}
    assert _sweep(result, env, {OWNER}, include_services=True) > 20


def test_renderings_name_the_grant() -> None:
    result = findings(_env(grants=(GRANTS[0],)), include_services=True)
    text = render("text", result)
    assert "service logs.us-west-2.amazonaws.com can kms:Decrypt" in text and "`grant logs`" in text
    assert "complete (PROVED)" in text
    doc = json.loads(render("json", result))
    (stmt,) = doc["keys"][0]["findings"][0]["statements"]
    assert stmt["kind"] == "grant" and stmt["policy"] == KEY and stmt["index"] == 0
    sarif = valid_sarif(render("sarif", result))
    assert len(sarif["runs"][0]["results"]) == 1


MANIFEST = """\
keys:
  - arn: {key}
    policy: key.json
    grants:
      - {{grantee: "{logs}", operations: [Decrypt, GenerateDataKey], name: logs}}
accounts:
  - id: "{owner}"
"""


def test_cli_include_services_on_a_service_grant_ends_complete(tmp_path: Path) -> None:
    (tmp_path / "key.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [ROOT_STMT]}))
    (tmp_path / "environment.yaml").write_text(MANIFEST.format(key=KEY, logs=LOGS, owner=OWNER))
    out, err = io.StringIO(), io.StringIO()
    code = main(["findings", str(tmp_path / "environment.yaml"), "--include-services"], out, err)
    assert code == 1, err.getvalue()
    assert "complete (PROVED)" in out.getvalue() and "INCOMPLETE" not in out.getvalue()
    assert f"{tmp_path / 'environment.yaml'}:5:9 `grant logs`" in out.getvalue()


# ---- random grants ---------------------------------------------------------------------------------------

_GRANTEES = (ANALYTICS, f"arn:aws:iam::{EXT}:root", THIRD, LOGS, f"arn:aws:iam::{THIRD}:user/bob", OWNER)
_OPS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:CreateGrant", "kms:RetireGrant",
        "kms:DescribeKey", "kms:ReEncryptFrom")


@st.composite
def _grants(draw: st.DrawFn) -> Grant:
    ec = draw(st.sampled_from([None, {"dataset": "reporting"}, {"app": "billing"}]))
    equals = draw(st.booleans())
    return Grant(
        draw(st.sampled_from(_GRANTEES)),
        frozenset(draw(st.lists(st.sampled_from(_OPS), min_size=1, max_size=4))),
        encryption_context_equals=ec if equals else None,
        encryption_context_subset=None if equals else ec,
        source_arn=draw(st.sampled_from([None, SOURCE_ARN])),
        retiring_principal=draw(st.sampled_from([None, f"arn:aws:iam::{THIRD}:root", ANALYTICS])),
        name=draw(st.sampled_from([None, "g1", "g2"])),
    )


@settings(max_examples=strategies.examples(12), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(_grants(), min_size=1, max_size=3), st.booleans())
def test_random_grants_findings_cover_every_allowed_external_request(grants: list[Grant], services: bool) -> None:
    env = _env(grants=tuple(grants))
    result = findings(env, include_services=services)
    (k,) = result.keys
    assert k.complete is Verdict.PROVED, k.reason
    for f in k.findings:
        assert replay(env, f.example)[0].decision.allowed
    _sweep(result, env, {OWNER}, include_services=services)


def test_bundled_grants_example_is_complete() -> None:
    """examples/grants: the key's external access comes from grants (and one statement); proved complete."""
    from reasoner.front.importers import load

    root = Path(__file__).resolve().parents[2]
    env = load(str(root / "examples" / "grants" / "environment.yaml"))
    result = findings(env, include_services=True)
    (k,) = result.keys
    assert k.complete is Verdict.PROVED, k.reason
    assert {(f.principal.kind, s.kind) for f in k.findings for s in f.statements} == {
        ("account", "statement"), ("arn", "grant"), ("service", "grant")}
    assert len(k.findings) == 4
