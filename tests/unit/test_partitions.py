"""Partitions `aws-us-gov` and `aws-cn` (issue 13: "the same files in GovCloud give an undocumented UNKNOWN";
docs/semantics-services.md §P): an environment whose key, bucket and role live in GovCloud or China, written with that
partition's ARNs, gets PROVED and REFUTED verdicts like its commercial twin, through a manifest and the property
language as a user writes them, and through the Python API; counterexamples are callers of the same partition, and
principals of another partition never reach the resources (§P.2).

Each environment is the same text with the partition and Region substituted, so the verdicts must be the same in the
three partitions; the commercial one is the control.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reasoner.analyses.findings import findings
from reasoner.analyses.result import Verdict
from reasoner.front.ast import PolicyKind
from reasoner.front.manifest import load_environment
from reasoner.front.parse import parse_policy
from reasoner.language.property_files import check
from reasoner.semantics.environment import Account, Environment, Key

pytestmark = pytest.mark.solver

PARTITIONS = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}
OWNER, PARTNER = "111122223333", "444455556666"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"

MANIFEST = """
accounts:
  - {id: "111122223333", iam_known: true}
resources:
  - arn: arn:{P}:s3:::example-reports
    account: "111122223333"
    policy: bucket.json
keys:
  - arn: arn:{P}:kms:{R}:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    policy: key.json
principals:
  - arn: arn:{P}:iam::111122223333:role/Deploy
    policies: []
    trust_policy: trust.json
"""
KEY_POLICY = """{"Version": "2012-10-17", "Statement": [
 {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": "arn:{P}:iam::111122223333:root"}, "Action": "kms:*",
  "Resource": "*"},
 {"Sid": "PartnerDecrypt", "Effect": "Allow", "Principal": {"AWS": "arn:{P}:iam::444455556666:root"},
  "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"},
 {"Sid": "CommercialNeverMatches", "Effect": "Allow", "Principal": {"AWS": "arn:{Q}:iam::555555555555:root"},
  "Action": "kms:Encrypt", "Resource": "*"}]}"""
BUCKET_POLICY = """{"Version": "2012-10-17", "Statement": [
 {"Sid": "PartnerReads", "Effect": "Allow", "Principal": {"AWS": "arn:{P}:iam::444455556666:role/Analytics"},
  "Action": "s3:GetObject", "Resource": "arn:{P}:s3:::example-reports/shared/*"},
 {"Sid": "TrailWrites", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
  "Action": "s3:PutObject", "Resource": "arn:{P}:s3:::example-reports/AWSLogs/*",
  "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}},
 {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
  "Resource": ["arn:{P}:s3:::example-reports", "arn:{P}:s3:::example-reports/*"],
  "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}"""
OWNER_ONLY_KEY_POLICY = """{"Version": "2012-10-17", "Statement": [
 {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": "arn:{P}:iam::111122223333:root"}, "Action": "kms:*",
  "Resource": "*"},
 {"Sid": "Trail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
  "Action": "kms:GenerateDataKey*", "Resource": "*"}]}"""
TRUST_POLICY = """{"Version": "2012-10-17", "Statement": [
 {"Effect": "Allow", "Principal": {"AWS": "arn:{P}:iam::444455556666:root"}, "Action": "sts:AssumeRole",
  "Condition": {"StringEquals": {"sts:ExternalId": "ext-123"}}}]}"""

#: (claim, verdict): the same in every partition.
CLAIMS = [
    pytest.param("no principal outside account 111122223333 can kms:Decrypt on key arn:{P}:kms:{R}:111122223333:key/"
                 + KEY_ID, "REFUTED", id="key-partner-decrypt"),  # named partner (unknown IAM: may allow)
    pytest.param("no principal outside account 111122223333 can [kms:PutKeyPolicy, kms:ScheduleKeyDeletion] "
                 "on all keys", "PROVED", id="key-admin"),  # not usable across accounts (semantics §4.6)
    pytest.param("no principal outside account 111122223333 can kms:Encrypt on all keys", "PROVED",
                 id="key-other-partition-principal"),  # §P.2; regressions.yaml reg-03
    pytest.param("no principal outside account 111122223333 can s3:GetObject on resource "
                 "arn:{P}:s3:::example-reports/shared/*", "REFUTED", id="bucket-partner-read"),
    pytest.param("no principal outside account 111122223333 can s3:GetObject on resource "
                 "arn:{P}:s3:::example-reports/private/*", "PROVED", id="bucket-private-prefix"),
    pytest.param("no principal outside account 111122223333 can [s3:DeleteObject, s3:PutBucketPolicy] on all resources",
                 "PROVED", id="bucket-delete-and-policy"),
    pytest.param("no principal outside account 111122223333 can s3:PutObject on all resources of type "
                 "AWS::S3::Bucket", "REFUTED", id="bucket-cloudtrail-writes"),  # a service principal writes logs
    pytest.param("no principal outside account 111122223333 can sts:AssumeRole on role "
                 "arn:{P}:iam::111122223333:role/Deploy", "REFUTED", id="role-partner-assumes"),
    # any principal of the partner account its IAM allows, not only its root
    pytest.param("only [arn:{P}:iam::444455556666:root] can sts:AssumeRole on role "
                 "arn:{P}:iam::111122223333:role/Deploy", "REFUTED", id="role-not-only-partner-root"),
]


def _fill(text: str, partition: str) -> str:
    other = "aws-cn" if partition == "aws" else "aws"  # a principal of another partition (§P.2)
    return text.replace("{P}", partition).replace("{R}", PARTITIONS[partition]).replace("{Q}", other)


def _environment(tmp_path: Path, partition: str, folder: str = "") -> Environment:
    if folder:
        tmp_path = tmp_path / folder
        tmp_path.mkdir()
    for name, text in (("environment.yaml", MANIFEST), ("key.json", KEY_POLICY), ("bucket.json", BUCKET_POLICY),
                       ("trust.json", TRUST_POLICY)):
        (tmp_path / name).write_text(_fill(text, partition), encoding="utf-8")
    return load_environment(tmp_path / "environment.yaml", root=tmp_path)


@pytest.mark.parametrize("partition", list(PARTITIONS))
@pytest.mark.parametrize(("claim", "verdict"), CLAIMS)
def test_partition_verdicts_are_decided(tmp_path: Path, partition: str, claim: str, verdict: str) -> None:
    env = _environment(tmp_path, partition)
    result = check(env, _fill(claim, partition))
    assert result.verdict.value == verdict, (result.verdict, result.reason)
    if result.verdict is Verdict.REFUTED:
        cx = result.counterexample
        assert cx is not None
        # a counterexample stays in the partition: its resource, and its caller when the caller is an ARN
        assert cx.resource.startswith(f"arn:{partition}:"), cx
        if cx.principal.startswith("arn:"):
            assert cx.principal.startswith(f"arn:{partition}:"), cx


@pytest.mark.parametrize("partition", ["aws-us-gov", "aws-cn"])
def test_partition_findings_are_complete(tmp_path: Path, partition: str) -> None:
    """Findings over a GovCloud or China environment are proved complete (never an UNKNOWN set) and name the same
    classes as in the commercial partition, in the resources' partition."""
    result = findings(_environment(tmp_path, partition))
    control = findings(_environment(tmp_path, "aws", "control"))
    assert [k.complete for k in result.keys] == [Verdict.PROVED] * len(result.keys), [k.reason for k in result.keys]
    assert len(result.keys) == 3
    ours = sorted((f.resource_type, f.principal.kind, f.actions) for f in result.findings)
    theirs = sorted((f.resource_type, f.principal.kind, f.actions) for f in control.findings)
    assert ours == theirs and ours
    for f in result.findings:
        assert f.resource.startswith(f"arn:{partition}:"), f
        assert f.principal.kind != "arn" or f.principal.value.startswith(f"arn:{partition}:"), f


@pytest.mark.parametrize("partition", ["aws-us-gov", "aws-cn"])
def test_partition_findings_without_external_access(partition: str) -> None:
    """The findings of a GovCloud or China key that only its owner and a service use are empty and proved
    complete."""
    policy = parse_policy(_fill(OWNER_ONLY_KEY_POLICY, partition), file="key.json", kind=PolicyKind.KEY_POLICY,
                          key_account=OWNER)
    arn = _fill("arn:{P}:kms:{R}:111122223333:key/" + KEY_ID, partition)
    result = findings(Environment(keys=(Key(arn, policy),), accounts=(Account(OWNER),)))
    assert [k.complete for k in result.keys] == [Verdict.PROVED]
    assert result.findings == ()


def test_mixed_partitions_in_one_environment(tmp_path: Path) -> None:
    """A GovCloud bucket and a China key in one environment: each property is decided, and a caller of one partition
    never reaches the other's resource (§P.2)."""
    gov = _environment(tmp_path, "aws-us-gov", "gov")
    cn = _environment(tmp_path, "aws-cn", "cn")
    env = Environment(keys=cn.keys, resources=gov.resources, accounts=gov.accounts)
    assert check(env, "no principal outside account 111122223333 can kms:Decrypt on all keys").verdict \
        is Verdict.REFUTED
    assert check(env, "no principal outside account 111122223333 can s3:GetObject on resource "
                      "arn:aws-us-gov:s3:::example-reports/shared/*").verdict is Verdict.REFUTED
    only_cn = check(env, "only [arn:aws-cn:iam::111122223333:root, arn:aws-cn:iam::444455556666:root] "
                         "can s3:GetObject on all resources")
    assert only_cn.verdict is Verdict.REFUTED  # a GovCloud principal reads the GovCloud bucket
    assert only_cn.counterexample is not None and only_cn.counterexample.principal.startswith("arn:aws-us-gov:")
    no_gov_on_cn = check(env, "none of [arn:aws-us-gov:iam::444455556666:root, arn:aws-us-gov:iam::111122223333:root] "
                              "can kms:Decrypt on all keys")
    assert no_gov_on_cn.verdict is Verdict.PROVED, no_gov_on_cn.reason


@pytest.mark.parametrize("partition", list(PARTITIONS))
def test_a_key_policy_given_alone_lives_in_the_partition_its_principals_name(partition: str) -> None:
    """`reasoner findings key.json` (a key policy without a manifest, `key_policy_environment`): the key is placed
    in the partition its principal ARNs name, so that they can match (§P.2); before, every such key was in `aws`
    and a GovCloud or China key policy had no findings."""
    from reasoner.analyses.findings import key_policy_environment

    policy = parse_policy(_fill(KEY_POLICY, partition), file="key.json", kind=PolicyKind.KEY_POLICY)
    env = key_policy_environment(policy)
    assert env.keys[0].arn.startswith(f"arn:{partition}:kms:{PARTITIONS[partition]}:111122223333:key/")
    result = findings(env)
    assert [k.complete for k in result.keys] == [Verdict.PROVED]
    assert [(f.principal.kind, f.principal.value, f.actions) for f in result.findings] == [
        ("account", PARTNER, ("kms:Decrypt", "kms:DescribeKey"))]


@pytest.mark.parametrize("equivalent", [True, False])
def test_an_aws_cn_service_principal_named_with_its_cn_suffix_is_a_caller(equivalent: bool) -> None:
    # The caller's service-principal name had the shape `*.amazonaws.com` in every partition: in `aws-cn`, with
    # `cn_service_principal_suffix_equivalent` off, `logs.amazonaws.com.cn` (allowed by the key policy, as the
    # evaluator says) was no value of the field, and "no principal outside the account can decrypt" was PROVED.
    import json
    from dataclasses import replace

    from reasoner.analyses.explain import replay
    from reasoner.analyses.pipeline import check
    from reasoner.analyses.properties import AccessNotGranted, PrincipalScope
    from reasoner.analyses.result import Verdict
    from reasoner.front.ast import PolicyKind
    from reasoner.front.parse import parse_policy
    from reasoner.semantics.environment import Account, Environment, Key, Options
    from reasoner.semantics.request import Request
    from reasoner.symbolic.domain import _SVC_CN_SHAPES

    key = "arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    doc = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws-cn:iam::111122223333:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com.cn"}, "Action": "kms:Decrypt",
         "Resource": "*"}]}), file="k.json", kind=PolicyKind.KEY_POLICY)
    env = Environment(keys=(Key(key, doc),), accounts=(Account("111122223333"),),
                      options=replace(Options(), cn_service_principal_suffix_equivalent=equivalent))
    assert replay(env, Request("logs.amazonaws.com.cn", "kms:Decrypt", key))[0].decision.allowed
    r = check(env, AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",)),
              rlimit=50_000_000)
    assert r.verdict is Verdict.REFUTED and r.counterexample is not None, r.reason
    assert r.counterexample.principal.startswith("logs.amazonaws.com")
    cn = _SVC_CN_SHAPES[0]
    assert cn.accepts("logs.amazonaws.com.cn") and cn.accepts("logs.amazonaws.com")
    assert not cn.accepts("logs.amazonaws.co") and not cn.accepts(".amazonaws.com.cn")
