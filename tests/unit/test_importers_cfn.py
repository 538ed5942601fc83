"""CloudFormation templates as environments (reasoner/front/importers/cloudformation.py; issue 15)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from reasoner.analyses.pipeline import check
from reasoner.errors import InputError, InputErrors
from reasoner.face.cli import main
from reasoner.front.importers import ImportOptions, detect, load
from reasoner.language.property_files import Compiler

ACCOUNT = {"AWS::AccountId": "111122223333", "AWS::Region": "us-east-1"}

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env: {Type: String, Default: prod, AllowedValues: [prod, dev]}
  Partner: {Type: String}
Mappings:
  Regions: {us-east-1: {Suffix: east}}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  PartnerGiven: !Not [!Equals [!Ref Partner, ""]]
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: Admin
            Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            Action: kms:*
            Resource: "*"
          - Sid: App
            Effect: Allow
            Principal: {AWS: !GetAtt App.Arn}
            Action: [kms:Decrypt]
            Resource: "*"
            Condition:
              StringEquals:
                kms:EncryptionContext:env:
                  !If [IsProd, production, !Join ["-", [dev, !FindInMap [Regions, !Ref "AWS::Region", Suffix]]]]
  Alias:
    Type: AWS::KMS::Alias
    Properties: {AliasName: alias/app, TargetKeyId: !Ref Key}
  App:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Join ["", [App, !Select [0, !Split [",", "Role,x"]]]]
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement: [{Effect: Allow, Action: kms:Decrypt, Resource: !GetAtt Key.Arn}]
  Queue:
    Type: AWS::SQS::Queue
  QueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {AWS: !Ref Partner}
            Action: sqs:SendMessage
            Resource: !GetAtt Queue.Arn
"""


def _write(tmp_path: Path, text: str, name: str = "app.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _load(path: Path, **params: str) -> object:
    return load(path, options=ImportOptions(parameters={**ACCOUNT, **params}))


def test_a_template_is_detected_by_its_content(tmp_path: Path) -> None:
    assert detect(_write(tmp_path, TEMPLATE, "stack.txt")) == "cloudformation"
    assert detect(_write(tmp_path, json.dumps({"Resources": {"K": {"Type": "AWS::KMS::Key"}}}), "a.json")) == \
        "cloudformation"
    assert detect(_write(tmp_path, "keys: []\n", "m.yaml")) == "manifest"


def test_keys_roles_aliases_and_intrinsics(tmp_path: Path) -> None:
    env = _load(_write(tmp_path, TEMPLATE), Partner="444455556666")
    (key,) = env.keys  # type: ignore[attr-defined]
    assert key.arn == "arn:aws:kms:us-east-1:111122223333:key/unknown-Key"
    assert key.aliases == ("alias/app",)
    app = key.policy.statements[1]
    assert app.principal.entries[0].value.text == "arn:aws:iam::111122223333:role/AppRole"
    assert app.condition.conditions[0].values[0].text == "production"
    (role,) = env.principals  # type: ignore[attr-defined]
    assert role.arn == "arn:aws:iam::111122223333:role/AppRole" and role.trust_policy is not None
    assert role.identity_policies[0].statements[0].resource.patterns[0].text == key.arn
    (queue,) = env.resources  # type: ignore[attr-defined]
    assert queue.arn == "arn:aws:sqs:us-east-1:111122223333:Queue.unknown"
    assert queue.policy.statements[0].principal.entries[0].value.text == "444455556666"
    # the condition on another branch: Env=dev picks the Join of the mapping
    dev = _load(_write(tmp_path, TEMPLATE), Partner="444455556666", Env="dev")
    assert dev.keys[0].policy.statements[1].condition.conditions[0].values[0].text == "dev-east"  # type: ignore[attr-defined]


def test_spans_point_into_the_template(tmp_path: Path) -> None:
    path = _write(tmp_path, TEMPLATE)
    env = _load(path, Partner="444455556666")
    st = env.keys[0].policy.statements[1]  # type: ignore[attr-defined]
    assert (st.span.file, st.span.line) == (str(path), 22)
    assert st.principal.entries[0].value.span.line == 24  # where `!GetAtt App.Arn` is written
    assert env.keys[0].policy.source.text == path.read_text()  # type: ignore[attr-defined]


def test_json_templates_and_the_default_key_policy(tmp_path: Path) -> None:
    text = json.dumps({"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {"KeySpec": "RSA_2048"}}}})
    env = _load(_write(tmp_path, text, "t.json"))
    (key,) = env.keys  # type: ignore[attr-defined]
    assert key.key_spec == "RSA_2048"
    (st,) = key.policy.statements
    assert st.principal.entries[0].value.text == "arn:aws:iam::111122223333:root"
    assert st.action.patterns[0].text == "kms:*"


def test_a_parameter_without_value_is_an_unknown_and_verdicts_say_so(tmp_path: Path) -> None:
    path = _write(tmp_path, TEMPLATE)
    env = _load(path)
    (u,) = [u for u in env.unknowns if u.kind == "value"]  # type: ignore[attr-defined]
    assert u.address == f"{path}#/Parameters/Partner" and u.placeholder.startswith("{{unknown-")
    assert any("arn:aws:sqs" in w for w in u.used_in)
    (a,) = Compiler().compile_text("assert: no principal outside account 111122223333 can kms:Decrypt",
                                   environment=env)  # type: ignore[arg-type]
    result = check(env, a.property)  # type: ignore[arg-type]
    assert result.verdict.value == "UNKNOWN" and f"{path}#/Parameters/Partner" in (result.reason or "")
    known = _load(path, Partner="444455556666")
    (a,) = Compiler().compile_text("assert: no principal outside account 111122223333 can kms:Decrypt",
                                   environment=known)  # type: ignore[arg-type]
    assert check(known, a.property).verdict.value == "PROVED"  # type: ignore[arg-type]


def test_a_missing_account_is_unknown_not_a_default(tmp_path: Path) -> None:
    env = load(_write(tmp_path, TEMPLATE), options=ImportOptions(parameters={"Partner": "444455556666"}))
    addresses = {u.address.rsplit("#", 1)[1] for u in env.unknowns if u.kind == "value"}  # type: ignore[attr-defined]
    assert {"AWS::AccountId", "AWS::Region"} <= addresses


def test_a_generated_name_that_a_literal_could_be_is_demoted(tmp_path: Path) -> None:
    text = TEMPLATE.replace("Resource: !GetAtt Key.Arn",
                            "Resource: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    env = _load(_write(tmp_path, text), Partner="444455556666")
    demoted = [u for u in env.unknowns if u.kind == "value"]  # type: ignore[attr-defined]
    assert [u.placeholder for u in demoted] == ["unknown-Key"] and "could compare differently" in demoted[0].why
    pin = {"Key.KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}
    pinned = _load(_write(tmp_path, text), Partner="444455556666", **pin)
    assert not [u for u in pinned.unknowns if u.kind == "value"]  # type: ignore[attr-defined]


def test_a_wildcard_that_covers_every_generated_name_keeps_it_fresh(tmp_path: Path) -> None:
    text = TEMPLATE.replace("Resource: !GetAtt Key.Arn", "Resource: arn:aws:kms:*:111122223333:key/*")
    env = _load(_write(tmp_path, text), Partner="444455556666")
    assert not [u for u in env.unknowns if u.kind == "value"]  # type: ignore[attr-defined]


def test_import_value_resolves_across_stacks_of_one_manifest(tmp_path: Path) -> None:
    _write(tmp_path, TEMPLATE + "Outputs:\n  KeyArn: {Value: !GetAtt Key.Arn, Export: {Name: key-arn}}\n", "a.yaml")
    _write(tmp_path, json.dumps({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": "Other", "AssumeRolePolicyDocument": {"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": {"Fn::ImportValue": "key-arn"}}]}}]}}}}),
        "b.json")
    _write(tmp_path, "imports:\n  - {path: a.yaml, parameters: {AWS::AccountId: '111122223333', "
                     "AWS::Region: us-east-1, Partner: '444455556666'}}\n"
                     "  - {path: b.json, parameters: {AWS::AccountId: '111122223333', AWS::Region: us-east-1}}\n",
           "env.yaml")
    env = load(tmp_path / "env.yaml")
    other = env.principal("arn:aws:iam::111122223333:role/Other")  # type: ignore[attr-defined]
    assert other.identity_policies[0].statements[0].resource.patterns[0].text == env.keys[0].arn  # type: ignore[attr-defined]
    # alone, the import is an unknown
    alone = load(tmp_path / "b.json", options=ImportOptions(parameters=ACCOUNT))
    assert [u.why for u in alone.unknowns if u.kind == "value"] == [  # type: ignore[attr-defined]
        "`Fn::ImportValue` of `key-arn`, exported by another stack"]


@pytest.mark.parametrize(("text", "code", "line"), [
    ("Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy: !Foo x\n", "IAC003", 5),
    ("Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy: {'Fn::Sbu': x}\n", "IAC003", 5),
    ("Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties: !!python/object:os.system {}\n", "IAC003", 4),
    ("Resources:\n  K:\n    Type: AWS::KMS::Key\n    Type: AWS::KMS::Key\n", "IAC004", 4),
    ("Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties: {KeyPolicy: [unclosed\n", "IAC001", 5),
    ("Resources:\n  A:\n    Type: AWS::KMS::Alias\n    Properties: {AliasName: alias/a, TargetKeyId: !Ref Nope}\n",
     "IAC006", 4),
    ("Transform: AWS::Serverless-2016-10-31\nResources:\n  F: {Type: AWS::Serverless::Function}\n", "IAC008", 1),
    ("Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy:\n        Statement:\n"
     "          - {Effect: Alow, Principal: '*', Action: kms:*, Resource: '*'}\n", "IAC007", 7),
])
def test_bad_templates_give_one_located_error(tmp_path: Path, text: str, code: str, line: int) -> None:
    path = _write(tmp_path, "AWSTemplateFormatVersion: '2010-09-09'\n" + text)
    with pytest.raises(InputError) as info:
        _load(path)
    assert info.value.code == code, info.value
    assert info.value.span is not None and info.value.span.line == line + 1, info.value
    out, err = io.StringIO(), io.StringIO()
    assert main(["findings", str(path), "--parameter", "AWS::AccountId=111122223333"], out, err) == 2
    assert err.getvalue().count("\n") == 1 and f": error: {code} " in err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_every_error_of_every_resource_in_one_run(tmp_path: Path) -> None:
    bad = {"Statement": [{"Effect": "Alow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}
    path = _write(tmp_path, json.dumps({"Resources": {
        "A": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": bad}},
        "B": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": bad}},
        "C": {"Type": "AWS::KMS::Alias", "Properties": {"AliasName": "alias/c", "TargetKeyId": {"Ref": "D"}}}}},
        indent=1), "t.json")
    with pytest.raises(InputErrors) as info:
        _load(path)
    assert [e.code for e in info.value.errors] == ["IAC007", "IAC007", "IAC006"]


def test_hostile_yaml_is_bounded(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)) + "Resources: {K: {Type: AWS::KMS::Key, Properties: {Tags: *j}}}\n"
    with pytest.raises(InputError) as info:
        _load(_write(tmp_path, "AWSTemplateFormatVersion: '2010-09-09'\n" + bomb))
    assert info.value.code == "IAC009"
    big = tmp_path / "big.json"
    big.write_text('{"Resources": {' + " " * (10 * 1024 * 1024) + "}}")
    with pytest.raises(InputError) as info:
        load(big, options=ImportOptions(input_format="cloudformation"))
    assert info.value.code in ("INPUT005", "IAC009")


def test_check_and_findings_run_straight_on_a_template(tmp_path: Path) -> None:
    path = _write(tmp_path, TEMPLATE)
    (tmp_path / "app.access").write_text(
        'environment "app.yaml"\nassert "only the app decrypts":\n'
        "    no principal outside account 111122223333 can kms:Decrypt on key alias/app\n")
    params = ["--parameter", "AWS::AccountId=111122223333", "--parameter", "AWS::Region=us-east-1"]
    out, err = io.StringIO(), io.StringIO()
    assert main(["check", str(tmp_path / "app.access"), *params, "--parameter", "Partner=444455556666"], out,
                err) == 0, err.getvalue()
    assert "PROVED" in out.getvalue()
    out, err = io.StringIO(), io.StringIO()
    assert main(["check", str(tmp_path / "app.access"), *params], out, err) == 3
    assert "Parameters/Partner" in out.getvalue()
    out, err = io.StringIO(), io.StringIO()
    # the key has no external access; the queue policy lets the partner account send (issue 13: findings on every
    # resource type)
    assert main(["findings", str(path), *params, "--parameter", "Partner=444455556666", "--format", "json"], out,
                err) == 1, err.getvalue()
    found = {k["key"]: k["findings"] for k in json.loads(out.getvalue())["keys"]}
    assert [k for k, fs in found.items() if fs] == ["arn:aws:sqs:us-east-1:111122223333:Queue.unknown"]
    params_file = tmp_path / "params.json"
    params_file.write_text(json.dumps([{"ParameterKey": "Partner", "ParameterValue": "444455556666"}]))
    out, err = io.StringIO(), io.StringIO()
    assert main(["decide", str(path), *params, "--parameters-file", str(params_file), "--principal",
                 "arn:aws:sts::111122223333:assumed-role/AppRole/s", "--action", "kms:Decrypt", "--resource",
                 "arn:aws:kms:us-east-1:111122223333:key/unknown-Key", "--context",
                 "kms:EncryptionContext:env=production"], out, err) == 0, err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    assert main(["decide", str(path), *params, "--principal", "arn:aws:iam::111122223333:root", "--action",
                 "kms:Decrypt", "--resource", "arn:aws:kms:us-east-1:111122223333:key/unknown-Key"], out, err) == 3
    assert out.getvalue().startswith("UNKNOWN")


def test_two_generated_keys_do_not_make_each_other_unknown() -> None:
    root = Path(__file__).resolve().parents[2] / "examples" / "org" / "cloudformation"
    params = {**ACCOUNT, "AnalyticsAccount": "444455556666"}
    env = load(root / "security.yaml", options=ImportOptions(parameters=params))
    assert len(env.keys) == 2  # type: ignore[attr-defined]
    assert [u.placeholder for u in env.unknowns if u.kind == "generated"] == [  # type: ignore[attr-defined]
        "unknown-AppDataKey", "unknown-AuditLogsKey"]
    assert not [u for u in env.unknowns if u.kind == "value"]  # type: ignore[attr-defined]
    out, err = io.StringIO(), io.StringIO()
    argv = [f"--parameter={k}={v}" for k, v in params.items()]
    assert main(["check", str(root / "security.access"), *argv], out, err) == 0, out.getvalue() + err.getvalue()
