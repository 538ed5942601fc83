"""Every situation of the seed page `key-policy-modifying-external-accounts` (semantics §4.3, §4.6), decided
on the example environment `examples/seed/environment.yaml` (account 111122223333 owns the keys,
444455556666 is external), through the API and through `reasoner decide`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from reasoner.face.cli import main
from reasoner.front.manifest import load_environment
from reasoner.semantics.evaluate import evaluate
from reasoner.semantics.request import Request

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed" / "environment.yaml"
K1 = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"  # KP names the account
K2 = "arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"  # KP names role + user
EXT = "444455556666"


def sess(role: str, name: str = "app") -> str:
    return f"arn:aws:sts::{EXT}:assumed-role/{role}/{name}"


# (id, situation on the seed page, principal, action, resource, want)
SEED_CASES = [
    (
        "ext-role-kp-account-iam",
        "external account root in KP + external IAM policy",
        sess("ExampleRole"),
        "kms:Decrypt",
        K1,
        "ALLOW",
    ),
    (
        "ext-user-kp-account-iam",
        "same, for an IAM user",
        f"arn:aws:iam::{EXT}:user/ExampleUser",
        "kms:Encrypt",
        K1,
        "ALLOW",
    ),
    (
        "ext-reencrypt-star",
        "kms:ReEncrypt* in both policies covers ReEncryptFrom",
        sess("ExampleRole"),
        "kms:ReEncryptFrom",
        K1,
        "ALLOW",
    ),
    (
        "ext-generate-star",
        "kms:GenerateDataKey* covers GenerateDataKeyWithoutPlaintext",
        sess("ExampleRole"),
        "kms:GenerateDataKeyWithoutPlaintext",
        K1,
        "ALLOW",
    ),
    (
        "ext-describe",
        "DescribeKey is cross-account capable",
        sess("ExampleRole"),
        "kms:DescribeKey",
        K1,
        "ALLOW",
    ),
    (
        "ext-kp-alone",
        "key policy alone: an external role without IAM policy",
        sess("NoPolicyRole"),
        "kms:Decrypt",
        K1,
        "IMPLICIT_DENY",
    ),
    (
        "ext-iam-action-not-in-kp",
        "IAM policy lists an action the key policy did not give",
        sess("KeyAdminRole"),
        "kms:ListGrants",
        K1,
        "IMPLICIT_DENY",
    ),
    (
        "ext-named-role-iam-other-key",
        "named external role whose IAM policy covers another key only",
        sess("ExampleRole"),
        "kms:Decrypt",
        K2,
        "IMPLICIT_DENY",
    ),
    (
        "ext-named-role-no-iam",
        "named external role without an IAM policy",
        sess("NoPolicyRole"),
        "kms:Decrypt",
        K2,
        "IMPLICIT_DENY",
    ),
    (
        "ext-unnamed-role",
        "IAM policy gives access to a role the KP does not name: no effect",
        sess("OtherRole"),
        "kms:Decrypt",
        K2,
        "IMPLICIT_DENY",
    ),
    (
        "ext-named-role-iam-star",
        "named role (KeyAdminRole not named) with IAM on every key",
        sess("KeyAdminRole"),
        "kms:Decrypt",
        K2,
        "IMPLICIT_DENY",
    ),
    (
        "ext-schedule-deletion",
        "ScheduleKeyDeletion given in KP and IAM across accounts: no effect",
        sess("KeyAdminRole"),
        "kms:ScheduleKeyDeletion",
        K2,
        "IMPLICIT_DENY",
    ),
    (
        "ext-root-schedule-deletion",
        "even the external root user: no effect",
        f"arn:aws:iam::{EXT}:root",
        "kms:ScheduleKeyDeletion",
        K2,
        "IMPLICIT_DENY",
    ),
    (
        "ext-root-decrypt",
        "external root user with the account named in the KP",
        f"arn:aws:iam::{EXT}:root",
        "kms:Decrypt",
        K1,
        "ALLOW",
    ),
    (
        "ext-listkeys",
        "kms:ListKeys in IAM lists the caller's own account only: allowed there",
        sess("KeyAdminRole"),
        "kms:ListKeys",
        "*",
        "ALLOW",
    ),
    (
        "owner-root-admin",
        "the owner account's root user manages the key",
        "arn:aws:iam::111122223333:root",
        "kms:ScheduleKeyDeletion",
        K2,
        "ALLOW",
    ),
    (
        "ext-by-alias",
        "request names the key by alias ARN",
        sess("ExampleRole"),
        "kms:Decrypt",
        "arn:aws:kms:us-west-2:111122223333:alias/seed-shared",
        "ALLOW",
    ),
]


@pytest.fixture(scope="module")
def env():  # type: ignore[no-untyped-def]
    return load_environment(SEED)


@pytest.mark.parametrize(
    ("cid", "situation", "principal", "action", "resource", "want"),
    SEED_CASES,
    ids=[c[0] for c in SEED_CASES],
)
def test_seed_api(env, cid, situation, principal, action, resource, want) -> None:  # type: ignore[no-untyped-def]  # noqa: PLR0917
    evaluation = evaluate(env, Request(principal, action, resource))
    assert evaluation.decision.value == want, situation


@pytest.mark.parametrize(
    ("cid", "situation", "principal", "action", "resource", "want"),
    SEED_CASES,
    ids=[c[0] for c in SEED_CASES],
)
def test_seed_cli(cid, situation, principal, action, resource, want) -> None:  # type: ignore[no-untyped-def]  # noqa: PLR0917
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "decide",
            str(SEED),
            "--principal",
            principal,
            "--action",
            action,
            "--resource",
            resource,
            "--format",
            "json",
        ],
        out,
        err,
    )
    assert code == (0 if want == "ALLOW" else 1), err.getvalue()
    assert json.loads(out.getvalue())["decision"] == want


def test_cli_text_output_names_statements() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "decide",
            str(SEED),
            "--principal",
            sess("ExampleRole"),
            "--action",
            "kms:Decrypt",
            "--resource",
            K1,
        ],
        out,
        err,
    )
    assert code == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "ALLOW"
    assert any("key-policy.json:12:" in line for line in lines)
    assert any("iam/use-key-in-111122223333.json" in line for line in lines)


def test_cli_cross_account_rule_reason() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "decide",
            str(SEED),
            "--principal",
            sess("KeyAdminRole"),
            "--action",
            "kms:ScheduleKeyDeletion",
            "--resource",
            K2,
            "--format",
            "json",
        ],
        out,
        err,
    )
    assert code == 1
    doc = json.loads(out.getvalue())
    assert doc["decision"] == "IMPLICIT_DENY"
    assert doc["reasons"][0]["role"] == "rule" and "not usable across accounts" in doc["reasons"][0]["note"]


def test_cli_context_and_multivalued() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "decide",
            str(SEED),
            "--principal",
            sess("ExampleRole"),
            "--action",
            "kms:Decrypt",
            "--resource",
            K1,
            "--context",
            "kms:EncryptionContext:app=x",
            "--context",
            "aws:TagKeys=a",
            "--context",
            "aws:TagKeys=b",
            "--format",
            "json",
        ],
        out,
        err,
    )
    assert code == 0, err.getvalue()
    ctx = json.loads(out.getvalue())["context"]
    assert ctx["aws:TagKeys"] == ["a", "b"]
    assert ctx["kms:EncryptionContextKeys"] == ["app"]


@pytest.mark.parametrize(
    "argv",
    [
        [
            "--principal",
            "arn:aws:iam::444455556666:role/ExampleRole",
            "--action",
            "kms:Decrypt",
            "--resource",
            K1,
        ],
        [
            "--principal",
            sess("ExampleRole"),
            "--action",
            "kms:Decrypt",
            "--resource",
            K1,
            "--context",
            "novalue",
        ],
        [
            "--principal",
            sess("ExampleRole"),
            "--action",
            "kms:Decrypt",
            "--resource",
            K1,
            "--context",
            "aws:PrincipalArn=x",
        ],
        [
            "--principal",
            sess("ExampleRole"),
            "--action",
            "kms:Decrypt",
            "--resource",
            "arn:aws:kms:us-west-2:111122223333:key/unknown",
        ],
        ["--principal", sess("ExampleRole"), "--action", "kms:Decrypt"],
    ],
)
def test_cli_input_errors_exit_2(argv: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["decide", str(SEED), *argv], out, err) == 2


def test_cli_missing_manifest(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "decide",
            str(tmp_path / "none.yaml"),
            "--principal",
            sess("ExampleRole"),
            "--action",
            "kms:Decrypt",
            "--resource",
            K1,
        ],
        out,
        err,
    )
    assert code == 2 and "cannot read manifest" in err.getvalue()
