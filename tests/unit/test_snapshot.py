"""`reasoner snapshot` against moto running as a real HTTP server on localhost (started and stopped here, on a
free port; issue 15 §3): the account built from a manifest is snapshotted, and the snapshot gives the same
verdicts as that manifest; failures are recorded, never dropped; a missing boto3 is a one-line error."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reasoner.analyses.pipeline import check
from reasoner.face.cli import main
from reasoner.front.importers import load
from reasoner.front.snapshot import Failure, boto3_clients, snapshot
from reasoner.language.property_files import Compiler

pytestmark = [pytest.mark.slow, pytest.mark.solver]

ACCOUNT = "123456789012"  # moto's account
ROOT_ALL = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*", "Resource": "*"}
APP_USE = {"Sid": "App", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/App"},
           "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"}
PARTNER = {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
           "Action": "kms:Decrypt", "Resource": "*",
           "Condition": {"StringEquals": {"kms:EncryptionContext:dataset": "shared"}}}
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
APP_IAM = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}
DENY_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # a bounded wait for the server to listen (not a timing assertion)
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("moto server exited at start")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                 ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(k, v)


def _policy(*st: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(st)})


@pytest.fixture(scope="module")
def account(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The account of a manifest, built in moto; returns the manifest and the key's ARN."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3_clients(region="us-east-1", endpoint_url=moto_url)
    kms, iam, s3 = client("kms"), client("iam"), client("s3")
    iam.create_role(RoleName="App", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName="App", PolicyName="use", PolicyDocument=json.dumps(APP_IAM))
    iam.create_user(UserName="intern")
    iam.create_group(GroupName="interns")
    iam.add_user_to_group(GroupName="interns", UserName="intern")
    arn = iam.create_policy(PolicyName="deny-kms", PolicyDocument=json.dumps(DENY_ALL))["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="interns", PolicyArn=arn)
    key = kms.create_key(Policy=_policy(ROOT_ALL, APP_USE, PARTNER), Description="app")["KeyMetadata"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=key["KeyId"])
    s3.create_bucket(Bucket="app-bucket")
    s3.put_bucket_policy(Bucket="app-bucket", Policy=_policy({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/App"}, "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::app-bucket/*"}))
    d = tmp_path_factory.mktemp("manifest")
    (d / "key.json").write_text(_policy(ROOT_ALL, APP_USE, PARTNER))
    (d / "app.json").write_text(json.dumps(APP_IAM))
    (d / "deny.json").write_text(json.dumps(DENY_ALL))
    (d / "trust.json").write_text(json.dumps(TRUST))
    (d / "environment.yaml").write_text(
        f"accounts: [{{id: '{ACCOUNT}'}}]\n"
        f"keys:\n  - {{arn: '{key['Arn']}', policy: key.json, aliases: [alias/app]}}\n"
        f"principals:\n  - {{arn: 'arn:aws:iam::{ACCOUNT}:role/App', policies: [app.json], trust_policy: trust.json}}\n"
        f"  - {{arn: 'arn:aws:iam::{ACCOUNT}:user/intern', policies: [deny.json]}}\n")
    return d / "environment.yaml", str(key["Arn"])


CLAIMS = (
    f"no principal outside account {ACCOUNT} can kms:Decrypt on key alias/app",
    f"no principal outside accounts [{ACCOUNT}, 444455556666] can kms:Decrypt on key alias/app",
    f"arn:aws:iam::{ACCOUNT}:role/App can kms:Decrypt on key alias/app",
    f"arn:aws:iam::{ACCOUNT}:user/intern can kms:Decrypt on key alias/app",
    f"only [arn:aws:iam::{ACCOUNT}:role/App, {ACCOUNT}] can kms:Encrypt on key alias/app",
)


def test_the_snapshot_gives_the_verdicts_of_its_manifest(account: tuple[Path, str], moto_url: str,
                                                          tmp_path: Path) -> None:
    manifest, key_arn = account
    out = tmp_path / "snap"
    report = snapshot(boto3_clients(region="us-east-1", endpoint_url=moto_url), out)
    assert report.account == ACCOUNT and report.keys == 1
    text = (out / "environment.yaml").read_text()
    assert key_arn in text and "alias/app" in text and "arn:aws:s3:::app-bucket" in text
    snap, original = load(out), load(manifest)
    assert snap.key(key_arn) is not None  # type: ignore[attr-defined]
    for claim in CLAIMS:
        verdicts = []
        for env in (original, snap):
            (a,) = Compiler().compile_text(f"assert: {claim}", environment=env)  # type: ignore[arg-type]
            verdicts.append(check(env, a.property).verdict.value)  # type: ignore[arg-type]
        assert verdicts[0] == verdicts[1], (claim, verdicts)
    # deterministic: a second snapshot writes the same files
    again = tmp_path / "again"
    snapshot(boto3_clients(region="us-east-1", endpoint_url=moto_url), again)
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((out / f).read_text() == (again / f).read_text() for f in files)


def test_the_cli_writes_the_directory(account: tuple[Path, str], moto_url: str, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    status = main(["snapshot", str(tmp_path / "s"), "--region", "us-east-1", "--endpoint-url", moto_url], out, err)
    assert status in (0, 1), err.getvalue()
    assert "1 key(s)" in out.getvalue()
    failures = (tmp_path / "s" / "failures.json")
    assert (status == 1) == failures.exists()  # what failed is on disk and on stderr, never dropped
    if status == 1:
        assert err.getvalue().count("warning: SNAP003") == len(json.loads(failures.read_text()))


def test_failures_and_throttling_are_recorded(tmp_path: Path) -> None:
    """A fake client (no server needed) whose KMS throttles twice then fails: the retry is taken, the failure is
    recorded with its call, and the manifest leaves out what it could not read."""

    class Error(Exception):
        def __init__(self, code: str) -> None:
            super().__init__(code)
            self.response = {"Error": {"Code": code, "Message": f"{code} here"}}

    calls: list[str] = []

    class Fake:
        def __init__(self, service: str) -> None:
            self.service = service

        def can_paginate(self, operation: str) -> bool:
            return False

        def __getattr__(self, operation: str):
            def call(**kwargs: object) -> dict[str, object]:
                calls.append(f"{self.service}:{operation}")
                if self.service == "sts":
                    return {"Account": ACCOUNT}
                if operation == "list_keys":
                    if calls.count("kms:list_keys") < 3:
                        raise Error("ThrottlingException")
                    return {"Keys": [{"KeyId": "k", "KeyArn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k"}]}
                if operation == "get_key_policy":
                    raise Error("AccessDeniedException")
                if operation == "describe_organization":
                    raise Error("AWSOrganizationsNotInUseException")
                return {}
            return call

    report = snapshot(Fake, tmp_path, sleep=lambda s: None)
    assert calls.count("kms:list_keys") == 3
    assert [(f.operation, f.code) for f in report.failures] == [("get_key_policy", "AccessDeniedException")]
    assert isinstance(report.failures[0], Failure) and report.keys == 0
    assert json.loads((tmp_path / "failures.json").read_text())[0]["code"] == "AccessDeniedException"
    assert "keys:" not in (tmp_path / "environment.yaml").read_text()


def test_a_missing_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    out, err = io.StringIO(), io.StringIO()
    assert main(["snapshot", str(tmp_path / "s")], out, err) == 2
    assert err.getvalue().strip().endswith("pip install 'reasoner[aws]'") and err.getvalue().count("\n") == 1
