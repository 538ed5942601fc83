"""Hygiene checks of key policies (issue 6, docs/findings.md): lockout, separation of duties, dead statements.

- Lockout (HYG001): a policy that names only another account locks the owner out of kms:PutKeyPolicy; the
  account root statement (semantics §4.2, delegation to IAM) or an owner role with PutKeyPolicy avoids it.
- Never applies (HYG003): contradictory conditions on one key; redundant (HYG004): a duplicate allow, an
  allow of an operation that cannot be used across accounts (§4.6), a Deny of what nothing allows. Every
  finding carries the statement's span.
- Separation of duties (HYG002, opt-in): a role that administers and uses the key is reported with two
  replayed requests; disjoint administrator and user roles (no root statement) pass.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from reasoner.analyses.explain import replay
from reasoner.analyses.hygiene import LOCKOUT, NEVER_APPLIES, REDUNDANT, SEPARATION, hygiene
from reasoner.face.cli import main
from reasoner.face.exit import exit_status
from reasoner.face.render.hygiene import render
from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics.environment import Environment, Key
from tests.sarif import valid_sarif

pytestmark = pytest.mark.solver

OWNER = "111122223333"
EXT = "444455556666"
KEY = f"arn:aws:kms:us-west-2:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT_STMT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
             "Action": "kms:*", "Resource": "*"}
ADMIN = f"arn:aws:iam::{OWNER}:role/KeyAdmin"
USER = f"arn:aws:iam::{OWNER}:role/App"
ADMIN_STMT = {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": ADMIN},
              "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
                         "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
                         "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
              "Resource": "*"}
USER_STMT = {"Sid": "Users", "Effect": "Allow", "Principal": {"AWS": USER},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                        "kms:DescribeKey"], "Resource": "*"}


def _env(statements: list[dict[str, object]]) -> Environment:
    doc = {"Version": "2012-10-17", "Statement": statements}
    policy = parse_policy(json.dumps(doc, indent=2), file="key.json", kind=PolicyKind.KEY_POLICY)
    return Environment(keys=(Key(KEY, policy),))


def _codes(env: Environment, **kw: bool) -> list[tuple[str, int | None]]:
    return [(i.code, i.statement) for i in hygiene(env, **kw).issues]


def test_lockout_when_only_another_account_is_named() -> None:
    env = _env([{"Sid": "Ext", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
                 "Action": "kms:*", "Resource": "*"}])
    result = hygiene(env, dead_statements=False)
    (issue,) = result.issues
    assert issue.code == LOCKOUT and "kms:PutKeyPolicy" in issue.message and exit_status(result) == 1


def test_no_lockout_with_root_or_admin_role() -> None:
    assert _codes(_env([ROOT_STMT]), dead_statements=False) == []
    assert _codes(_env([ADMIN_STMT, USER_STMT]), dead_statements=False) == []


def test_statement_that_never_applies() -> None:
    env = _env([ROOT_STMT, {"Sid": "Never", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
                            "Action": "kms:Decrypt", "Resource": "*",
                            "Condition": {"StringEquals": {"kms:ViaService": "ec2.us-west-2.amazonaws.com"},
                                          "StringNotEquals": {"kms:ViaService": "ec2.us-west-2.amazonaws.com"}}}])
    result = hygiene(env, lockout=False)
    assert [(i.code, i.statement) for i in result.issues] == [(NEVER_APPLIES, 1)]
    assert result.issues[0].span.line > 1


def test_redundant_allows_and_deny() -> None:
    dup = {"Sid": "Dup", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
           "Action": "kms:Decrypt", "Resource": "*"}
    cross_delete = {"Sid": "Del", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
                    "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}
    useless_deny = {"Sid": "DenyExt", "Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
                    "Action": "kms:Encrypt", "Resource": "*"}
    env = _env([ROOT_STMT, dup, cross_delete, useless_deny])
    got = _codes(env, lockout=False)
    assert got == [(REDUNDANT, 1), (REDUNDANT, 2), (REDUNDANT, 3)]
    assert (REDUNDANT, 0) not in got  # removing the root statement changes decisions


def test_useful_statements_are_not_reported() -> None:
    deny = {"Sid": "DenyDecryptExt", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt",
            "Resource": "*", "Condition": {"StringNotEquals": {"kms:CallerAccount": OWNER}}}
    ext = {"Sid": "Ext", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
           "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"}
    assert _codes(_env([ROOT_STMT, ext, deny])) == []


def test_alias_only_statement_is_not_judged() -> None:
    alias = {"Sid": "Alias", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
             "Action": "kms:CreateAlias", "Resource": "*"}
    assert _codes(_env([ROOT_STMT, alias]), lockout=False) == []


def test_separation_of_duties() -> None:
    assert _codes(_env([ADMIN_STMT, USER_STMT]), separation_of_duties=True, dead_statements=False) == []
    both = dict(USER_STMT, Principal={"AWS": [USER, ADMIN]})
    env = _env([ADMIN_STMT, both])
    result = hygiene(env, separation_of_duties=True, dead_statements=False)
    (issue,) = result.issues
    assert issue.code == SEPARATION and len(issue.requests) == 2
    admin_req, crypto_req = issue.requests
    assert admin_req.principal == crypto_req.principal
    assert ":assumed-role/keyadmin/" in admin_req.principal.lower()  # role names match case-insensitively
    assert all(replay(env, r)[0].decision.allowed for r in issue.requests)
    # the default policy's root statement lets one principal do both (opt-in check, documented)
    assert SEPARATION in [c for c, _ in _codes(_env([ROOT_STMT]), separation_of_duties=True)]


def test_renderings_and_cli(tmp_path: Path) -> None:
    env = _env([{"Sid": "Ext", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"},
                 "Action": "kms:*", "Resource": "*"}])
    result = hygiene(env)
    assert "HYG001" in render("text", result)
    assert json.loads(render("json", result))["issues"][0]["code"] == "HYG001"
    assert valid_sarif(render("sarif", result))["runs"][0]["results"][0]["level"] == "error"
    p = tmp_path / "k.json"
    p.write_text(json.dumps({"Version": "2012-10-17", "Statement": [ROOT_STMT]}, indent=2))
    out, err = io.StringIO(), io.StringIO()
    assert main(["lint", str(p)], out, err) == 0, err.getvalue()
    assert main(["hygiene", str(p), "--separation-of-duties"], io.StringIO(), io.StringIO()) == 1


def test_role_statement_next_to_root_is_not_redundant_when_iam_is_unknown() -> None:
    """With the account's IAM unknown, the root statement lets a role in only if its identity policy allows;
    a statement naming the role lets it in regardless, so it is not redundant (semantics §4.2)."""
    assert _codes(_env([ROOT_STMT, USER_STMT]), lockout=False) == []


def test_several_keys_in_one_environment() -> None:
    """Statement terms of later keys are encoded after earlier queries (regression: stale scripts)."""
    doc = {"Version": "2012-10-17", "Statement": [ROOT_STMT, dict(ROOT_STMT, Sid="Dup")]}
    p1 = parse_policy(json.dumps(doc, indent=2), file="k1.json", kind=PolicyKind.KEY_POLICY)
    p2 = parse_policy(json.dumps(doc, indent=2), file="k2.json", kind=PolicyKind.KEY_POLICY)
    env = Environment(keys=(Key(KEY, p1), Key(KEY.replace("1234abcd", "5678abcd"), p2)))
    result = hygiene(env, separation_of_duties=True)
    assert [(i.code, i.span.file) for i in result.issues if i.code == REDUNDANT] == [
        (REDUNDANT, "k1.json"), (REDUNDANT, "k1.json"), (REDUNDANT, "k2.json"), (REDUNDANT, "k2.json")]
    assert result.undecided == ()
