"""Terraform plans, CDK cloud assemblies, AWS exports and directories as environments (issue 15); the real
templates of the shared corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reasoner.errors import InputError
from reasoner.front.importers import ImportOptions, detect, load

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ID = KEY.rsplit("/", 1)[1]


def _policy(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ROOT_ALL = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "kms:*", "Resource": "*"}


def _change(address: str, type_: str, after: dict[str, object], unknown: dict[str, object] | None = None, *,
            mode: str = "managed", actions: tuple[str, ...] = ("create",)) -> dict[str, object]:
    name = address.rsplit(".", 1)[1]
    module = address.rsplit(".", 2)[0] if address.startswith("module.") else None
    out: dict[str, object] = {"address": address, "mode": mode, "type": type_, "name": name,
                              "change": {"actions": list(actions), "after": after, "after_unknown": unknown or {}}}
    if module:
        out["module_address"] = module
    return out


def _plan(changes: list[dict[str, object]], config: list[dict[str, object]] | None = None) -> str:
    return json.dumps({"format_version": "1.2", "planned_values": {"root_module": {}}, "resource_changes": changes,
                       "configuration": {"provider_config": {"aws": {"name": "aws", "expressions": {
                           "region": {"constant_value": "us-east-1"}}}},
                           "root_module": {"resources": config or []}}})


def test_a_plan_new_key_alias_role_and_policy_document(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(_plan([
        _change("aws_kms_key.k", "aws_kms_key", {"policy": _policy(ROOT_ALL)}, {"arn": True, "key_id": True}),
        _change("aws_kms_alias.a", "aws_kms_alias", {"name": "alias/k"}, {"target_key_id": True}),
        _change("module.m.aws_iam_role.r", "aws_iam_role", {"name": "R", "path": "/", "assume_role_policy": _policy(
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})},
            {"arn": True}),
        _change("module.m.aws_iam_role_policy.p", "aws_iam_role_policy", {"role": "R"}, {"policy": True}),
        _change("module.m.data.aws_iam_policy_document.d", "aws_iam_policy_document", {
            "statement": [{"effect": "Allow", "actions": ["kms:Decrypt"], "resources": None}]},
            {"json": True, "statement": [{"resources": True}]}, mode="data", actions=("read",)),
    ], [
        {"address": "aws_kms_alias.a", "expressions": {"target_key_id": {"references": ["aws_kms_key.k.key_id",
                                                                                         "aws_kms_key.k"]}}},
    ]))
    env = load(plan, options=ImportOptions(parameters={"AWS::AccountId": "111122223333"}))
    (key,) = env.keys  # type: ignore[attr-defined]
    assert key.arn == "arn:aws:kms:us-east-1:111122223333:key/unknown-k" and key.aliases == ("alias/k",)
    assert key.policy.span.file == f"{plan}#aws_kms_key.k.policy"
    (role,) = env.principals  # type: ignore[attr-defined]
    assert role.arn == "arn:aws:iam::111122223333:role/R" and role.trust_policy is not None
    values = {u.address.split(":", 1)[1] for u in env.unknowns if u.kind == "value"}  # type: ignore[attr-defined]
    assert "module.m.aws_iam_role_policy.p.policy" in values  # known after apply, and no reference to rebuild it


def test_a_plan_policy_document_is_rebuilt_from_its_statements(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(_plan([
        _change("aws_kms_key.k", "aws_kms_key", {"policy": _policy(ROOT_ALL)}, {"arn": True, "key_id": True}),
        _change("aws_iam_role.r", "aws_iam_role", {"name": "R", "assume_role_policy": _policy(
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})}),
        _change("aws_iam_role_policy.p", "aws_iam_role_policy", {"role": "R"}, {"policy": True}),
        _change("data.aws_iam_policy_document.d", "aws_iam_policy_document", {
            "statement": [{"effect": "Allow", "actions": ["kms:Decrypt"], "resources": None,
                           "condition": [{"test": "StringEquals", "variable": "kms:ViaService",
                                          "values": ["s3.us-east-1.amazonaws.com"]}]}]},
            {"json": True, "statement": [{"resources": True}]}, mode="data", actions=("read",)),
    ], [
        {"address": "aws_iam_role_policy.p", "expressions": {"policy": {"references": [
            "data.aws_iam_policy_document.d.json", "data.aws_iam_policy_document.d"]}}},
    ]))
    env = load(plan, options=ImportOptions(parameters={"AWS::AccountId": "111122223333"}))
    (doc,) = env.principals[0].identity_policies  # type: ignore[attr-defined]
    (st,) = doc.statements
    assert st.condition.conditions[0].key.text == "kms:ViaService"
    (u,) = [u for u in env.unknowns if u.kind == "value"]  # type: ignore[attr-defined]
    assert u.address.endswith("data.aws_iam_policy_document.d.statement[0].resources")
    assert st.resource.patterns[0].text == u.placeholder


def test_a_plan_key_without_policy_gets_the_default_key_policy(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(_plan([_change("aws_kms_key.k", "aws_kms_key", {"arn": KEY, "key_id": KEY_ID},
                                   {"policy": True}, actions=("update",))],
                          [{"address": "aws_kms_key.k", "expressions": {}}]))
    env = load(plan, options=ImportOptions(parameters={"AWS::AccountId": "111122223333"}))
    assert env.keys[0].arn == KEY  # type: ignore[attr-defined]
    assert env.keys[0].policy.statements[0].principal.entries[0].value.text == "arn:aws:iam::111122223333:root"  # type: ignore[attr-defined]


def test_a_plan_without_account_has_it_unknown(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(_plan([_change("aws_kms_key.k", "aws_kms_key", {"policy": _policy(ROOT_ALL)},
                                   {"arn": True})]))
    env = load(plan)
    assert any(u.address.endswith(":account") for u in env.unknowns if u.kind == "value")  # type: ignore[attr-defined]


def _export_dir(tmp_path: Path) -> Path:
    d = tmp_path / "export"
    d.mkdir()
    (d / f"{KEY_ID}.json").write_text(json.dumps({"KeyMetadata": {
        "AWSAccountId": "111122223333", "KeyId": KEY_ID, "Arn": KEY, "KeyManager": "CUSTOMER",
        "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT"}}))
    (d / f"{KEY_ID}.policy.json").write_text(json.dumps({"PolicyName": "default", "Policy": _policy(ROOT_ALL)}))
    (d / "aliases.json").write_text(json.dumps({"Aliases": [{"AliasName": "alias/app", "TargetKeyId": KEY_ID}]}))
    (d / "grants.json").write_text(json.dumps({"Grants": [{"KeyId": KEY, "GrantId": "g", "Name": "n",
                                                           "GranteePrincipal": "arn:aws:iam::444455556666:root",
                                                           "Operations": ["Decrypt"]}]}))
    (d / "iam.json").write_text(json.dumps({
        "UserDetailList": [{"UserName": "u", "Arn": "arn:aws:iam::111122223333:user/u", "GroupList": ["g"],
                            "UserPolicyList": [], "AttachedManagedPolicies": []}],
        "GroupDetailList": [{"GroupName": "g", "Arn": "arn:aws:iam::111122223333:group/g",
                             "GroupPolicyList": [{"PolicyName": "p", "PolicyDocument": {
                                 "Version": "2012-10-17", "Statement": [
                                     {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}}],
                             "AttachedManagedPolicies": [{"PolicyArn": "arn:aws:iam::111122223333:policy/m"}]}],
        "RoleDetailList": [],
        "Policies": [{"PolicyName": "m", "Arn": "arn:aws:iam::111122223333:policy/m", "DefaultVersionId": "v2",
                      "PolicyVersionList": [
                          {"VersionId": "v2", "IsDefaultVersion": True, "Document": "%7B%22Version%22%3A%222012-10-"
                           "17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Deny%22%2C%22Action%22%3A%22kms%3A%2A%22"
                           "%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"},
                          {"VersionId": "v1", "IsDefaultVersion": False, "Document": {"Statement": []}}]}]}))
    (d / "organization.json").write_text(json.dumps({"Organization": {"Id": "o-a1b2c3d4e5",
                                                                       "MasterAccountId": "999988887777"}}))
    (d / "roots.json").write_text(json.dumps({"Roots": [{"Id": "r-a1b2"}]}))
    (d / "accounts.json").write_text(json.dumps({"Accounts": [{"Id": "111122223333"}, {"Id": "999988887777"}]}))
    (d / "r-a1b2.children.json").write_text(json.dumps({"Children": [{"Id": "ou-a1b2-workload", "Type": "OU"}]}))
    (d / "ou-a1b2-workload.children.json").write_text(json.dumps({"Children": [{"Id": "111122223333"}]}))
    (d / "scp.json").write_text(json.dumps({"Policy": {"PolicySummary": {
        "Id": "p-examplescp1", "Type": "SERVICE_CONTROL_POLICY", "Name": "deny"}, "Content": _policy(
            {"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"})}}))
    (d / "p-examplescp1.targets.json").write_text(json.dumps({"Targets": [{"TargetId": "ou-a1b2-workload"}]}))
    return d


def test_a_directory_of_aws_exports_is_one_environment(tmp_path: Path) -> None:
    d = _export_dir(tmp_path)
    assert detect(d) == "directory"
    env = load(d)
    (key,) = env.keys  # type: ignore[attr-defined]
    assert key.aliases == ("alias/app",) and key.grants[0].operations == frozenset({"kms:Decrypt"})
    (user,) = env.principals  # type: ignore[attr-defined]
    effects = sorted(st.effect.value for doc in user.identity_policies for st in doc.statements)
    assert effects == ["Allow", "Deny"]  # the group's inline policy and the default version of its managed policy
    account = env.account("111122223333")  # type: ignore[attr-defined]
    assert account.iam_known is True  # users, groups, roles and policies listed: the account's whole IAM
    assert account.organization == "o-a1b2c3d4e5" and account.ou_path == ("r-a1b2", "ou-a1b2-workload")
    (org,) = env.organizations  # type: ignore[attr-defined]
    assert list(org.scps) == ["ou-a1b2-workload"]


def test_a_key_policy_export_that_names_no_key_is_an_error(tmp_path: Path) -> None:
    d = _export_dir(tmp_path)
    (d / f"{KEY_ID}.policy.json").rename(d / "policy.json")
    (d / "other.json").write_text(json.dumps({"KeyMetadata": {"Arn": KEY.replace("1234abcd", "5678abcd")}}))
    with pytest.raises(InputError) as info:
        load(d)
    assert info.value.code == "IAC006"


def test_a_cdk_assembly_with_a_nested_stack(tmp_path: Path) -> None:
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {
        "App": {"type": "aws:cloudformation:stack", "environment": "aws://111122223333/us-east-1",
                "properties": {"templateFile": "App.template.json"}}}}))
    (out / "App.template.json").write_text(json.dumps({"Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": json.loads(_policy(ROOT_ALL))}},
        "Nested": {"Type": "AWS::CloudFormation::Stack", "Metadata": {"aws:asset:path": "Nested.nested.template.json"},
                   "Properties": {"Parameters": {"KeyArn": {"Fn::GetAtt": ["Key", "Arn"]}}}}}}))
    (out / "Nested.nested.template.json").write_text(json.dumps({
        "Parameters": {"KeyArn": {"Type": "String"}},
        "Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": "Nested", "AssumeRolePolicyDocument": {"Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": {"Ref": "KeyArn"}}]}}]}}}}))
    assert detect(out) == "cdk"
    env = load(out)
    (key,) = env.keys  # type: ignore[attr-defined]
    (role,) = env.principals  # type: ignore[attr-defined]
    assert role.identity_policies[0].statements[0].resource.patterns[0].text == key.arn
    assert not [u for u in env.unknowns if u.kind == "value"]  # type: ignore[attr-defined]


def test_unknown_json_is_named(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_text('{"hello": 1}')
    with pytest.raises(InputError) as info:
        detect(p)
    assert info.value.code == "IAC002" and "`hello`" in info.value.message


@pytest.mark.slow
def test_the_real_templates_of_the_corpus(corpus_dir: Path) -> None:
    """Every CloudFormation template of the shared corpus imports (with its account and Region given), or is
    refused with one located IAC error (a SAM transform); no traceback, and every unknown is recorded with an
    address into the template. Terraform sources (HCL) are not plans: they are refused as such (IAC002)."""
    index = json.loads((corpus_dir / "iac" / "index.json").read_text())
    params = {"AWS::AccountId": "111122223333", "AWS::Region": "us-east-1", "AWS::StackName": "corpus"}
    imported = 0
    for entry in index:
        path = corpus_dir / "iac" / entry["file"]
        if entry["format"] == "hcl":
            with pytest.raises(InputError) as info:
                load(path, options=ImportOptions(input_format="terraform"))
            assert info.value.code in ("IAC001", "IAC005"), (path, info.value)
            continue
        try:
            env = load(path, options=ImportOptions(input_format="cloudformation", parameters=params))
        except InputError as exc:
            assert exc.code.startswith(("IAC", "INPUT")) and exc.span is not None, (path, exc)
            continue
        imported += 1
        for u in env.unknowns:  # type: ignore[attr-defined]
            assert u.address.startswith(str(path)), u
    assert imported >= 10
