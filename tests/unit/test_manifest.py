"""Environment manifests (YAML): the seed example loads, and every mistake is an InputError at file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reasoner.errors import InputError
from reasoner.front.ast import PolicyKind
from reasoner.front.manifest import load_environment, parse_environment
from reasoner.semantics.environment import NotPrincipalMode, PrincipalKind

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed" / "environment.yaml"

KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}
IAM_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}],
}
KEY = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "kp.json").write_text(json.dumps(KEY_POLICY))
    (tmp_path / "iam.json").write_text(json.dumps(IAM_POLICY))
    (tmp_path / "rcp.json").write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "kms:*",
                        "Resource": "*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        )
    )
    return tmp_path


def load(folder: Path, text: str):  # type: ignore[no-untyped-def]
    path = folder / "env.yaml"
    path.write_text(text)
    return load_environment(path)


def error(folder: Path, text: str) -> InputError:
    with pytest.raises(InputError) as info:
        load(folder, text)
    return info.value


def test_seed_example_loads() -> None:
    env = load_environment(SEED)
    assert len(env.keys) == 2
    assert env.keys[0].account == "111122223333"
    assert env.keys[0].policy.kind is PolicyKind.KEY_POLICY
    role = env.principal("arn:aws:iam::444455556666:role/ExampleRole")
    assert role is not None and role.kind is PrincipalKind.ROLE
    assert role.identity_policies[0].kind is PolicyKind.IDENTITY
    # the same policy file under the same kind is parsed once
    user = env.principal("arn:aws:iam::444455556666:user/ExampleUser")
    assert user is not None and user.identity_policies[0] is role.identity_policies[0]
    assert env.session("arn:aws:sts::444455556666:assumed-role/ExampleRole/app") is not None


def test_full_manifest(folder: Path) -> None:
    env = load(
        folder,
        f"""
options:
  not_principal_mode: any
  plain_operator_on_multivalued_any: true
organizations:
  - id: o-abcdefghij
    root: r-ab12
    management_account: "999999999999"
    scps:
      r-ab12: [iam.json]
    rcps:
      ou-ab12-x: rcp.json
accounts:
  - id: "111122223333"
    organization: o-abcdefghij
    ou_path: [r-ab12, ou-ab12-x]
    enabled_regions: [af-south-1]
    iam_known: false
keys:
  - arn: {KEY}
    policy: kp.json
    aliases: [alias/a]
    tags: {{team: red}}
    multi_region: true
    grants:
      - grantee: arn:aws:iam::111122223333:role/R
        operations: [Decrypt, kms:Encrypt]
        encryption_context_subset: {{app: x}}
        name: g1
principals:
  - arn: arn:aws:iam::111122223333:role/R
    policies: [iam.json]
    boundary: iam.json
    tags: {{team: red}}
    unique_id: AROAEXAMPLE
  - arn: arn:aws:iam::111122223333:user/U
  - arn: arn:aws:iam::111122223333:root
sessions:
  - arn: arn:aws:sts::111122223333:assumed-role/R/s1
    source: arn:aws:iam::111122223333:role/R
    policies: [iam.json]
  - arn: arn:aws:sts::111122223333:federated-user/F1
    source: arn:aws:iam::111122223333:user/U
""",
    )
    assert env.options.not_principal_mode is NotPrincipalMode.ANY_LINK
    assert env.options.plain_operator_on_multivalued_any
    org = env.organizations[0]
    assert org.scps["r-ab12"][0].kind is PolicyKind.SCP and org.rcps["ou-ab12-x"][0].kind is PolicyKind.RCP
    acct = env.accounts[0]
    assert acct.ou_path == ("r-ab12", "ou-ab12-x") and acct.enabled_regions == frozenset({"af-south-1"})
    assert not acct.iam_known
    key = env.keys[0]
    assert key.multi_region and key.tags == {"team": "red"} and key.aliases == ("alias/a",)
    assert key.grants[0].operations == frozenset({"kms:Decrypt", "kms:Encrypt"})
    assert key.grants[0].encryption_context_subset == {"app": "x"}
    role = env.principal("arn:aws:iam::111122223333:role/R")
    assert role is not None and role.permissions_boundary is not None
    assert role.permissions_boundary.kind is PolicyKind.PERMISSIONS_BOUNDARY
    assert env.sessions[0].session_policies[0].kind is PolicyKind.SESSION
    assert env.principal("arn:aws:iam::111122223333:root") is not None


def test_empty_manifest(folder: Path) -> None:
    assert load(folder, "").keys == ()


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("keys:\n  - arn: " + KEY + "\n    policy: missing.json\n", 3, "does not exist"),
        ("keys:\n  - arn: " + KEY + "\n    polcy: kp.json\n", 3, "unknown field `polcy`"),
        ("keys:\n  - arn: " + KEY + "\n", 2, "has no `policy`"),
        ("keys:\n  - arn: arn:aws:iam::111122223333:role/R\n    policy: kp.json\n", 2, "not a KMS key ARN"),
        (
            "principals:\n  - arn: arn:aws:sts::111122223333:assumed-role/R/s\n",
            2,
            "not the ARN of a root user",
        ),
        (
            "sessions:\n  - arn: arn:aws:sts::111122223333:assumed-role/R/s\n"
            "    source: arn:aws:iam::111122223333:role/R\n",
            3,
            "not a declared principal",
        ),
        (
            "principals:\n  - arn: arn:aws:iam::111122223333:user/U\n"
            "sessions:\n  - arn: arn:aws:sts::111122223333:assumed-role/U/s\n"
            "    source: arn:aws:iam::111122223333:user/U\n",
            5,
            "must be a role",
        ),
        (
            "principals:\n  - arn: arn:aws:iam::111122223333:role/R\n"
            "sessions:\n  - arn: arn:aws:sts::111122223333:assumed-role/Other/s\n"
            "    source: arn:aws:iam::111122223333:role/R\n",
            4,
            "is not a session of",
        ),
        (
            "principals:\n  - arn: arn:aws:iam::111122223333:role/R\n    policies: [kp.json]\n",
            3,
            "not a valid identity policy",
        ),
        ("keys:\n  - arn: " + KEY + "\n    policy: iam.json\n", 3, "not a valid key policy"),
        ("accounts:\n  - id: 1234\n", 2, "not a 12-digit account id"),
        ('accounts:\n  - id: "111122223333"\n    organization: o-unknown000\n', 3, "is not declared"),
        ('accounts:\n  - id: "111122223333"\n    iam_known: maybe\n', 3, "true or false"),
        ("keys: {a: 1}\n", 1, "must be a list"),
        (
            "organizations:\n  - {id: o-abcdefghij, root: r-ab12, management_account: \"999999999999\"}\n"
            "accounts:\n  - id: \"111122223333\"\n    organization: o-abcdefghij\n    ou_path: [ou-x]\n",
            6,
            "must start at the root",
        ),
        ("options:\n  not_principal_mode: sometimes\n", 2, "must be one of"),
        ("options:\n  no_such_option: true\n", 2, "unknown field"),
        ("principals:\n  - arn: arn:aws:iam::111122223333:root\n    policies: [iam.json]\n", 3, "root user"),
        (
            "principals:\n  - arn: arn:aws:iam::111122223333:user/U\n"
            "  - arn: arn:aws:iam::111122223333:user/U\n",
            3,
            "declared twice",
        ),
        (
            "keys:\n  - arn: " + KEY + "\n    policy: kp.json\n    grants:\n      - grantee: x\n"
            "        operations: [ScheduleKeyDeletion]\n",
            6,
            "not a grant operation",
        ),
        ("keys: [\n", 2, "not valid yaml"),
        (
            'organizations:\n  - id: o-abcdefghij\n    root: r-ab12\n    management_account: "999999999999"\n'
            "    scps:\n      nowhere: [iam.json]\n",
            6,
            "is not the root",
        ),
    ],
)
def test_errors_have_file_and_line(folder: Path, text: str, line: int, fragment: str) -> None:
    err = error(folder, text)
    assert fragment in err.message
    assert err.span is not None and err.span.file.endswith("env.yaml") and err.span.line == line


def test_policy_error_names_the_policy_diagnostic(folder: Path) -> None:
    err = error(folder, "principals:\n  - arn: arn:aws:iam::111122223333:role/R\n    policies: [kp.json]\n")
    assert "kp.json" in err.message
    assert err.code == "ENV005"


def test_parse_environment_text(folder: Path) -> None:
    env = parse_environment(f"keys:\n  - arn: {KEY}\n    policy: kp.json\n", base=folder)
    assert env.keys[0].arn == KEY


def test_unreadable_manifest(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read manifest"):
        load_environment(tmp_path / "nope.yaml")
