"""Hypothesis strategies for environments with every resource type and requests by every kind of caller (issue 13).

An environment (`environments()`) lives in one partition (`aws`, `aws-cn` or `aws-us-gov`, docs/semantics-services.md
§P) and holds a KMS key, a role with a trust policy, and resources of the supported types (`KINDS`: S3 general purpose
and directory buckets, SQS, SNS, Lambda functions and layer versions, Secrets Manager, ECR, EFS, DynamoDB tables and
streams, EBS / RDS snapshots shared by attribute), each with a drawn resource-based policy (or none, or a sharing
attribute), Block Public Access, attributes (`Resource.attributes`); identity policies of an owner user, an owner role
and an external role, a permissions boundary, session policies, an organization with SCPs and RCPs, VPC endpoints
(gateway and interface) and the options of the [OPEN] points (§O). Statements are built from per-type pools of actions,
resource patterns and conditions, so that they apply to the drawn requests often.

Requests (`requests_for(env)`) are made by every caller kind: root users, users, role sessions, federated users
(declared or not, of the owner, of an external and of an undeclared account), service principals, anonymous callers, web
identity and SAML providers (and the principals the policies name), on the environment's key, resources (and their
sub-resources: S3 objects, DynamoDB indexes) and role, with values for the condition keys the policies mention.

Everything is drawn from small fixed pools: the tests that use these strategies compare engines, they do not look for
parser corner cases (tests/strategies.py does).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import Any

from hypothesis import strategies as st

from reasoner.front.ast import PolicyDocument, PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics import evaluate as ev
from reasoner.semantics import requestfacts
from reasoner.semantics.environment import (
    Account,
    BlockPublicAccess,
    Environment,
    Key,
    NotPrincipalMode,
    Options,
    Organization,
    Principal,
    PrincipalKind,
    Resource,
    Session,
    VpcEndpoint,
)
from reasoner.semantics.request import Request

JSON = Any

OWNER = "111122223333"
EXTERNAL = "444455556666"
UNDECLARED = "777788889999"  # never declared: IAM unknown, in no declared organization
ORG = "o-abc1234567"
ROOT_ID = "r-ab12"
OU = "ou-ab12-11111111"

#: Region of each partition's resources (§P.1).
REGIONS = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
GATEWAY_VPCE, GATEWAY_VPC = "vpce-1a2b3c4d", "vpc-111bbb22"
INTERFACE_VPCE, INTERFACE_VPC = "vpce-5e6f7a8b", "vpc-333ddd44"


@dataclass(frozen=True)
class Kind:
    """One resource type the strategies draw. ARNs and patterns hold `{P}` (partition), `{R}` (Region) and `{O}`
    (owner account). `actions` act on the resource itself, `sub_actions` on `subs` (sub-resource ARNs governed by its
    policy); `conditions` are (operator, key, values) the type's policies test besides the generic ones."""

    label: str
    arn: str
    actions: tuple[str, ...]
    wildcards: tuple[str, ...]
    patterns: tuple[str, ...]
    services: tuple[str, ...] = ()
    subs: tuple[str, ...] = ()
    sub_actions: tuple[str, ...] = ()
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    shared: bool = False  # shared by attribute: no policy document
    s3_bpa: bool = False


KINDS: tuple[Kind, ...] = (
    Kind(
        "AWS::S3::Bucket", "arn:{P}:s3:::example-bucket",
        ("s3:ListBucket", "s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:GetBucketAcl", "s3:DeleteBucket"),
        ("s3:*", "s3:Get*", "s3:*Object", "s3:List*"),
        ("arn:{P}:s3:::example-bucket", "arn:{P}:s3:::example-bucket/*", "arn:{P}:s3:::example-bucket/reports/*",
         "arn:{P}:s3:::example-*", "arn:{P}:s3:::other-bucket/*", "arn:{P}:s3:::example-bucket/home/${aws:username}/*"),
        ("cloudtrail.amazonaws.com", "logging.s3.amazonaws.com"),
        ("arn:{P}:s3:::example-bucket/reports/a.csv", "arn:{P}:s3:::example-bucket/home/alice/notes.txt"),
        ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectTagging"),
        (("StringLike", "s3:prefix", ("home/*", "reports/")),
         ("StringEquals", "s3:x-amz-acl", ("bucket-owner-full-control",)),
         ("StringEquals", "s3:ResourceAccount", ("{O}",)),
         ("StringNotEquals", "s3:x-amz-server-side-encryption", ("aws:kms",))),
        s3_bpa=True,
    ),
    Kind(
        "AWS::S3Express::DirectoryBucket", "arn:{P}:s3express:{R}:{O}:bucket/data--use1-az4--x-s3",
        ("s3express:CreateSession", "s3express:GetBucketPolicy", "s3express:DeleteBucket"),
        ("s3express:*", "s3express:Create*"),
        ("arn:{P}:s3express:{R}:{O}:bucket/data--use1-az4--x-s3", "arn:{P}:s3express:{R}:{O}:bucket/*"),
        conditions=(("StringEquals", "s3express:SessionMode", ("ReadOnly",)),),
    ),
    Kind(
        "AWS::SQS::Queue", "arn:{P}:sqs:{R}:{O}:orders",
        ("sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SetQueueAttributes",
         "sqs:GetQueueAttributes"),
        ("sqs:*", "sqs:*Message", "sqs:Get*"),
        ("arn:{P}:sqs:{R}:{O}:orders", "arn:{P}:sqs:{R}:{O}:*", "arn:{P}:sqs:*:*:order?"),
        ("sns.amazonaws.com", "s3.amazonaws.com", "events.amazonaws.com"),
        conditions=(("ArnEquals", "aws:SourceArn", ("arn:{P}:sns:{R}:{O}:events",)),),
    ),
    Kind(
        "AWS::SNS::Topic", "arn:{P}:sns:{R}:{O}:events",
        ("sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes"),
        ("sns:*", "SNS:Publish", "sns:Get*"),
        ("arn:{P}:sns:{R}:{O}:events", "arn:{P}:sns:{R}:{O}:*"),
        ("events.amazonaws.com", "cloudwatch.amazonaws.com", "s3.amazonaws.com"),
        conditions=(("StringEquals", "sns:Protocol", ("https", "sqs")),
                    ("StringEquals", "aws:SourceOwner", ("{O}",))),
    ),
    Kind(
        "AWS::Lambda::Function", "arn:{P}:lambda:{R}:{O}:function:handler",
        ("lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "lambda:GetFunction",
         "lambda:UpdateFunctionConfiguration", "lambda:AddPermission"),
        ("lambda:*", "lambda:Invoke*", "lambda:Get*"),
        ("arn:{P}:lambda:{R}:{O}:function:handler", "arn:{P}:lambda:{R}:{O}:function:*",
         "arn:{P}:lambda:{R}:{O}:function:handler:*"),
        ("s3.amazonaws.com", "events.amazonaws.com", "apigateway.amazonaws.com"),
        conditions=(("StringEquals", "lambda:FunctionUrlAuthType", ("NONE", "AWS_IAM")),
                    ("Bool", "lambda:InvokedViaFunctionUrl", ("true",))),
        attributes=(("function_url_auth_type", ("AWS_IAM", "NONE")),),
    ),
    Kind(
        "AWS::Lambda::LayerVersion", "arn:{P}:lambda:{R}:{O}:layer:lib:3",
        ("lambda:GetLayerVersion", "lambda:DeleteLayerVersion"),
        ("lambda:*", "lambda:GetLayer*"),
        ("arn:{P}:lambda:{R}:{O}:layer:lib:3", "arn:{P}:lambda:{R}:{O}:layer:lib:*"),
    ),
    Kind(
        "AWS::SecretsManager::Secret", "arn:{P}:secretsmanager:{R}:{O}:secret:app/db-AbCdEf",
        ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:PutResourcePolicy",
         "secretsmanager:DeleteSecret"),
        ("secretsmanager:*", "secretsmanager:Get*"),
        ("*", "arn:{P}:secretsmanager:{R}:{O}:secret:app/*"),
        conditions=(("StringEquals", "secretsmanager:VersionStage", ("AWSCURRENT",)),),
        attributes=(("kms_key", ("aws_managed", "customer_managed")),),
    ),
    Kind(
        "AWS::ECR::Repository", "arn:{P}:ecr:{R}:{O}:repository/app",
        ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:PutImage", "ecr:SetRepositoryPolicy"),
        ("ecr:*", "ecr:BatchGet*"),
        ("arn:{P}:ecr:{R}:{O}:repository/app", "arn:{P}:ecr:{R}:{O}:repository/*"),
        ("codebuild.amazonaws.com", "lambda.amazonaws.com"),
    ),
    Kind(
        "AWS::EFS::FileSystem", "arn:{P}:elasticfilesystem:{R}:{O}:file-system/fs-0123456789abcdef0",
        ("elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess",
         "elasticfilesystem:DescribeMountTargets"),
        ("elasticfilesystem:Client*", "elasticfilesystem:*"),
        ("arn:{P}:elasticfilesystem:{R}:{O}:file-system/fs-0123456789abcdef0",
         "arn:{P}:elasticfilesystem:{R}:{O}:file-system/*"),
        conditions=(("Bool", "elasticfilesystem:AccessedViaMountTarget", ("true",)),),
    ),
    Kind(
        "AWS::DynamoDB::Table", "arn:{P}:dynamodb:{R}:{O}:table/orders",
        ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:PartiQLSelect", "dynamodb:DescribeTable",
         "dynamodb:UpdateTimeToLive"),
        ("dynamodb:*", "dynamodb:Get*", "dynamodb:PartiQL*"),
        ("arn:{P}:dynamodb:{R}:{O}:table/orders", "arn:{P}:dynamodb:{R}:{O}:table/orders/*",
         "arn:{P}:dynamodb:{R}:{O}:table/*"),
        subs=("arn:{P}:dynamodb:{R}:{O}:table/orders/index/byDate",),
        sub_actions=("dynamodb:Query", "dynamodb:Scan"),
        attributes=(("kms_key", ("aws_managed", "customer_managed")),),
    ),
    Kind(
        "AWS::DynamoDB::Stream", "arn:{P}:dynamodb:{R}:{O}:table/orders/stream/2024-01-01T00:00:00.000",
        ("dynamodb:GetRecords", "dynamodb:DescribeStream", "dynamodb:GetShardIterator"),
        ("dynamodb:*", "dynamodb:Get*"),
        ("arn:{P}:dynamodb:{R}:{O}:table/orders/stream/*", "arn:{P}:dynamodb:{R}:{O}:table/orders/*"),
    ),
    Kind(
        "AWS::EC2::Snapshot", "arn:{P}:ec2:{R}::snapshot/snap-0123456789abcdef0",
        ("ec2:CreateVolume", "ec2:CopySnapshot", "ec2:DeleteSnapshot", "ec2:ModifySnapshotAttribute"),
        ("ec2:*", "ec2:*Snapshot*"),
        ("arn:{P}:ec2:{R}::snapshot/*", "arn:{P}:ec2:*::snapshot/snap-0123456789abcdef0"),
        attributes=(("snapshot_block_public_access", ("block-all-sharing", "block-new-sharing", "unblocked")),
                    ("encrypted", ("true", "false"))),
        shared=True,
    ),
    Kind(
        "AWS::RDS::DBSnapshot", "arn:{P}:rds:{R}:{O}:snapshot:db-snap",
        ("rds:RestoreDBInstanceFromDBSnapshot", "rds:CopyDBSnapshot", "rds:DeleteDBSnapshot"),
        ("rds:*", "rds:*DBSnapshot"),
        ("arn:{P}:rds:{R}:{O}:snapshot:*",),
        attributes=(("encrypted", ("true", "false")),),
        shared=True,
    ),
    Kind(
        "AWS::RDS::DBClusterSnapshot", "arn:{P}:rds:{R}:{O}:cluster-snapshot:cl-snap",
        ("rds:RestoreDBClusterFromSnapshot", "rds:CopyDBClusterSnapshot", "rds:DeleteDBClusterSnapshot"),
        ("rds:*",),
        ("arn:{P}:rds:{R}:{O}:cluster-snapshot:*",),
        attributes=(("encrypted", ("true", "false")),),
        shared=True,
    ),
)

#: The role whose trust policy the environments draw (a plain role, or one under a reserved path: §A.2, §A.9).
ROLE_PATHS = ("role/Target", "role/team/Target",
              "role/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk",
              "role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef")
TRUST_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML", "sts:TagSession",
                 "sts:SetSourceIdentity")
ROLE_IAM_ACTIONS = ("iam:GetRole", "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:DeleteRole")
TRUST_CONDITIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("StringEquals", "sts:ExternalId", ("ext-123",)),
    ("StringLike", "token.actions.githubusercontent.com:sub", ("repo:example-org/app:*",)),
    ("StringEquals", "token.actions.githubusercontent.com:aud", ("sts.amazonaws.com",)),
    ("StringEquals", "saml:aud", ("https://signin.aws.amazon.com/saml",)),
    ("StringEquals", "cognito-identity.amazonaws.com:aud", ("us-east-1:pool-1",)),
    ("ForAnyValue:StringLike", "cognito-identity.amazonaws.com:amr", ("authenticated",)),
    ("StringEquals", "aws:RequestTag/project", ("x",)),
    ("ForAllValues:StringEquals", "aws:TagKeys", ("project",)),
    ("StringLike", "sts:SourceIdentity", ("admin-*",)),
)
KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:PutKeyPolicy",
               "kms:CreateGrant", "kms:ScheduleKeyDeletion")
KEY_CONDITIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("StringEquals", "kms:ViaService", ("s3.{R}.amazonaws.com", "secretsmanager.{R}.amazonaws.com")),
    ("StringEquals", "kms:CallerAccount", ("{O}",)),
    ("StringEquals", "kms:EncryptionContext:team", ("app",)),
)
#: Conditions every policy may test (§G.8, §G.9, §VPCE, §S3.4's restricting keys, ...).
GENERIC_CONDITIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("StringEquals", "aws:PrincipalOrgID", (ORG,)),
    ("StringNotEquals", "aws:PrincipalOrgID", (ORG,)),
    ("StringEquals", "aws:PrincipalAccount", ("{O}", EXTERNAL)),
    ("StringNotEquals", "aws:PrincipalAccount", ("{O}",)),
    ("ArnLike", "aws:PrincipalArn", ("arn:{P}:iam::" + EXTERNAL + ":role/*", "arn:{P}:iam::{O}:user/*")),
    ("ArnLike", "aws:SourceArn", ("arn:{P}:*:*:{O}:*",)),
    ("StringEquals", "aws:SourceAccount", ("{O}",)),
    ("StringEquals", "aws:SourceVpce", (GATEWAY_VPCE, INTERFACE_VPCE)),
    ("StringNotEqualsIfExists", "aws:SourceVpce", (GATEWAY_VPCE,)),
    ("StringEquals", "aws:SourceVpc", (GATEWAY_VPC,)),
    ("Bool", "aws:SecureTransport", ("false",)),
    ("IpAddress", "aws:SourceIp", ("203.0.113.0/24",)),
    ("StringEquals", "aws:ResourceTag/team", ("app",)),
    ("StringEquals", "aws:PrincipalTag/team", ("app",)),
    ("Null", "aws:PrincipalOrgID", ("true",)),
    ("Bool", "aws:PrincipalIsAWSService", ("true",)),
    ("StringEquals", "aws:PrincipalServiceName", ("sns.amazonaws.com", "events.amazonaws.com")),
    ("StringEquals", "aws:RequestedRegion", ("{R}",)),
    ("StringEqualsIfExists", "aws:ResourceAccount", ("{O}",)),
    ("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", (ORG + "/" + ROOT_ID + "/*",)),
    ("ArnNotLikeIfExists", "aws:SourceArn", ("arn:{P}:sns:{R}:{O}:*",)),
    ("StringNotLike", "aws:PrincipalArn", ("arn:{P}:iam::*:role/App",)),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", ("false",)),
    ("NumericLessThan", "aws:MultiFactorAuthAge", ("3600",)),
    ("DateGreaterThan", "aws:CurrentTime", ("2026-01-01T00:00:00Z",)),
    ("StringEquals", "aws:userid", ("AROAEXAMPLEAPPROLE01:s1", OWNER)),
    ("StringLike", "aws:username", ("a*",)),
    ("StringEquals", "aws:PrincipalType", ("AssumedRole", "Anonymous", "User")),
)
PROVIDERS = ("accounts.google.com", "cognito-identity.amazonaws.com",
             "arn:{P}:iam::{O}:oidc-provider/token.actions.githubusercontent.com",
             "arn:{P}:iam::{O}:saml-provider/Okta", "arn:{P}:iam::" + EXTERNAL + ":saml-provider/Other")


@dataclass(frozen=True)
class Place:
    """Where an environment's resources are: a partition and one of its Regions."""

    partition: str
    region: str


#: The places drawn: mostly the commercial partition (a default Region and an opt-in one, §P.3), China, GovCloud.
PLACES = (Place("aws", "us-east-1"), Place("aws", "us-east-1"), Place("aws", "af-south-1"),
          Place("aws-cn", REGIONS["aws-cn"]), Place("aws-us-gov", REGIONS["aws-us-gov"]))


def fill(text: str, place: Place) -> str:
    """A pool entry with its partition, Region and owner filled in."""
    return text.replace("{P}", place.partition).replace("{R}", place.region).replace("{O}", OWNER)


# ---- principals ---------------------------------------------------------------------------------------------


def user(partition: str, account: str, name: str) -> str:
    return f"arn:{partition}:iam::{account}:user/{name}"


def role(partition: str, account: str, name: str) -> str:
    return f"arn:{partition}:iam::{account}:role/{name}"


def session(partition: str, account: str, role_name: str, name: str) -> str:
    return f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{name}"


def federated(partition: str, account: str, name: str) -> str:
    return f"arn:{partition}:sts::{account}:federated-user/{name}"


def principal_entries(partition: str) -> tuple[str, ...]:
    """The `AWS` principals policies name: accounts (id and root ARN), users, roles, sessions, federated users."""
    p = partition
    return (
        OWNER, EXTERNAL, f"arn:{p}:iam::{OWNER}:root", f"arn:{p}:iam::{EXTERNAL}:root",
        f"arn:{p}:iam::{UNDECLARED}:root",
        user(p, OWNER, "alice"), user(p, EXTERNAL, "carol"), role(p, OWNER, "App"), role(p, EXTERNAL, "Partner"),
        session(p, EXTERNAL, "Partner", "s1"), federated(p, OWNER, "fed"),
    )


# ---- statements and policies -------------------------------------------------------------------------------


def _one_or_list(values: list[str]) -> JSON:
    return values[0] if len(values) == 1 else values


@st.composite
def condition_block(draw: st.DrawFn, pool: tuple[tuple[str, str, tuple[str, ...]], ...],
                    place: Place) -> dict[str, dict[str, JSON]]:
    """One to two conditions from `pool` (values from the pool entry's own values)."""
    picked = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique_by=lambda c: c[1].lower()))
    out: dict[str, dict[str, JSON]] = {}
    for op, key, values in picked:
        vals = draw(st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True))
        out.setdefault(op, {})[key] = _one_or_list([fill(v, place) for v in vals])
    return out


@st.composite
def principal_block(draw: st.DrawFn, place: Place, services: tuple[str, ...], *, trust: bool) -> JSON:
    """`"*"`, `{"AWS": "*"}`, `AWS` principals, a service principal or a federated provider."""
    form = draw(st.integers(0, 9))
    if form == 0:
        return "*"
    if form == 1:
        return {"AWS": "*"}
    if form in (2, 3) and services:
        svc = draw(st.sampled_from(services))
        if place.partition == "aws-cn" and draw(st.integers(0, 2)) == 0:
            svc += ".cn"  # §P.4: the China suffix
        return {"Service": svc}
    if form == 4 and trust:
        return {"Federated": fill(draw(st.sampled_from(PROVIDERS)), place)}
    entries = draw(st.lists(st.sampled_from(principal_entries(place.partition)), min_size=1, max_size=3, unique=True))
    return {"AWS": _one_or_list(entries)}


@st.composite
def resource_statement(draw: st.DrawFn, kind: Kind, place: Place) -> dict[str, JSON]:
    """A statement of `kind`'s resource-based policy."""
    effect = draw(st.sampled_from(("Allow", "Allow", "Allow", "Deny")))
    stmt: dict[str, JSON] = {"Effect": effect}
    principal = draw(principal_block(place, kind.services, trust=False))
    if effect == "Deny" and principal != "*" and draw(st.integers(0, 3)) == 0:
        stmt["NotPrincipal"] = principal
    else:
        stmt["Principal"] = principal
    actions = draw(st.lists(st.sampled_from(kind.actions + kind.sub_actions + kind.wildcards + ("*",)), min_size=1,
                            max_size=3, unique=True))
    stmt["NotAction" if draw(st.integers(0, 7)) == 0 else "Action"] = _one_or_list(actions)
    own = fill(kind.arn, place)
    patterns = [own, *(fill(p, place) for p in kind.patterns), "*"]
    res = draw(st.lists(st.sampled_from(patterns), min_size=1, max_size=2, unique=True))
    stmt["NotResource" if draw(st.integers(0, 9)) == 0 else "Resource"] = _one_or_list(res)
    if draw(st.booleans()):
        stmt["Condition"] = draw(condition_block(GENERIC_CONDITIONS + kind.conditions + kind.conditions, place))
    return stmt


@st.composite
def trust_statement(draw: st.DrawFn, place: Place) -> dict[str, JSON]:
    """A statement of a role's trust policy (no Resource, §T.1; NotPrincipal is not allowed)."""
    effect = draw(st.sampled_from(("Allow", "Allow", "Allow", "Deny")))
    principal = draw(principal_block(place, ("ec2.amazonaws.com", "lambda.amazonaws.com",
                                                 "elasticbeanstalk.amazonaws.com"), trust=True))
    stmt: dict[str, JSON] = {"Effect": effect, "Principal": principal}
    pool: tuple[str, ...]
    if isinstance(principal, dict) and "Federated" in principal:
        pool = ("sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML", "sts:TagSession", "sts:*")
    else:
        pool = (*TRUST_ACTIONS, "sts:*", "sts:AssumeRole*")
    stmt["Action"] = _one_or_list(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True)))
    if draw(st.booleans()):
        stmt["Condition"] = draw(condition_block(TRUST_CONDITIONS + TRUST_CONDITIONS + GENERIC_CONDITIONS, place))
    return stmt


@st.composite
def key_statement(draw: st.DrawFn, place: Place) -> dict[str, JSON]:
    effect = draw(st.sampled_from(("Allow", "Allow", "Deny")))
    stmt: dict[str, JSON] = {"Effect": effect,
                             "Principal": draw(principal_block(place, ("s3.amazonaws.com",), trust=False))}
    stmt["Action"] = _one_or_list(draw(st.lists(st.sampled_from((*KEY_ACTIONS, "kms:*", "kms:Generate*")), min_size=1,
                                                max_size=3, unique=True)))
    stmt["Resource"] = "*"
    if draw(st.booleans()):
        stmt["Condition"] = draw(condition_block(KEY_CONDITIONS + GENERIC_CONDITIONS, place))
    return stmt


def document(statements: list[dict[str, JSON]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=1)


def parse(text: str, kind: PolicyKind, name: str, key_account: str | None = None) -> PolicyDocument:
    return parse_policy(text, file=name, kind=kind, key_account=key_account)


@st.composite
def identity_statement(draw: st.DrawFn, kinds: tuple[Kind, ...], place: Place, *,
                       effect: str | None = None) -> dict[str, JSON]:
    """An identity-side statement (identity policy, boundary, session policy, SCP) over the drawn types' actions."""
    pool_actions = [a for k in kinds for a in (*k.actions, *k.sub_actions, *k.wildcards)]
    pool_actions += [*TRUST_ACTIONS, *KEY_ACTIONS, "kms:*", "sts:*", "iam:*", "*"]
    patterns = ["*", fill("arn:{P}:iam::{O}:role/*", place), fill("arn:{P}:kms:{R}:{O}:key/*", place)]
    for k in kinds:
        patterns += [fill(k.arn, place), *(fill(p, place) for p in k.patterns)]
    stmt: dict[str, JSON] = {"Effect": effect or draw(st.sampled_from(("Allow", "Allow", "Allow", "Deny")))}
    stmt["Action"] = _one_or_list(draw(st.lists(st.sampled_from(pool_actions), min_size=1, max_size=3, unique=True)))
    stmt["Resource"] = _one_or_list(draw(st.lists(st.sampled_from(patterns), min_size=1, max_size=2, unique=True)))
    if draw(st.integers(0, 3)) == 0:
        stmt["Condition"] = draw(condition_block(GENERIC_CONDITIONS, place))
    return stmt


_ALLOW_ALL = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]


@st.composite
def identity_policy(draw: st.DrawFn, kinds: tuple[Kind, ...], place: Place, kind: PolicyKind, name: str,
                    *, broad: bool = True) -> PolicyDocument:
    stmts = draw(st.lists(identity_statement(kinds, place), min_size=1, max_size=3))
    if broad and draw(st.booleans()):
        stmts = _ALLOW_ALL + stmts
    return parse(document(stmts), kind, name)


# ---- environments ------------------------------------------------------------------------------------------


#: `bool_variables` stays off: under it every Bool condition is outside the symbolic core (UnsupportedFeatureError),
#: which tests/differential/test_verdicts_agree.py already draws.
_BOOLEAN_OPTIONS = tuple(f.name for f in fields(Options)
                         if isinstance(getattr(Options(), f.name), bool) and f.name != "bool_variables")
_DEFAULTS = Options()
#: Readings of the [OPEN] points that are lists (§O.2, §O.3, §O.15, §O.17): the default and another reading.
TUPLE_OPTIONS: dict[str, tuple[tuple[str, ...], ...]] = {
    "rcp_supported_services": (_DEFAULTS.rcp_supported_services,
                               (*_DEFAULTS.rcp_supported_services, "dynamodb", "s3express", "sns", "lambda"),
                               ("s3", "sts", "kms", "sqs", "secretsmanager")),
    "anonymous_capable_services": (_DEFAULTS.anonymous_capable_services, ("s3",),
                                   (*_DEFAULTS.anonymous_capable_services, "sns")),
    "lambda_cross_account_actions": (_DEFAULTS.lambda_cross_account_actions,
                                     ("lambda:InvokeFunction", "lambda:GetFunction")),
    "sqs_cross_account_exclusions": (_DEFAULTS.sqs_cross_account_exclusions,
                                     _DEFAULTS.sqs_cross_account_exclusions[:5]),
}


@st.composite
def options(draw: st.DrawFn, *, worst_case: bool | None = None) -> Options:
    """Every boolean [OPEN] option drawn (defaults twice as likely), the list-valued ones among their readings."""
    flags = {name: draw(st.sampled_from((getattr(_DEFAULTS, name), getattr(_DEFAULTS, name),
                                         not getattr(_DEFAULTS, name)))) for name in _BOOLEAN_OPTIONS}
    if worst_case is not None:
        flags["unknown_iam_worst_case"] = worst_case
    lists: dict[str, Any] = {name: draw(st.sampled_from(choices)) for name, choices in TUPLE_OPTIONS.items()}
    return replace(Options(not_principal_mode=draw(st.sampled_from(list(NotPrincipalMode))), **flags), **lists)


@dataclass(frozen=True)
class Drawn:
    """A drawn environment and what the request strategy needs to know about it."""

    env: Environment
    place: Place
    kinds: tuple[Kind, ...]
    role_arn: str
    key_arn: str

    def targets(self) -> Iterator[tuple[str, tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]]]:
        """(resource ARN, its actions, its sub-resources with their actions) of every target."""
        p = self.place
        yield self.key_arn, KEY_ACTIONS, ()
        yield self.role_arn, (*TRUST_ACTIONS, *ROLE_IAM_ACTIONS), ()
        for k in self.kinds:
            subs = tuple((fill(s, p), k.sub_actions) for s in k.subs)
            yield fill(k.arn, p), k.actions, subs


@st.composite
def resource_of(draw: st.DrawFn, kind: Kind, place: Place) -> Resource:
    arn = fill(kind.arn, place)
    attributes = {name: draw(st.sampled_from(values)) for name, values in kind.attributes if draw(st.booleans())}
    tags = draw(st.sampled_from(({}, {"team": "app"}, {"team": "ops"})))
    policy = None
    shared: tuple[str, ...] = ()
    if kind.shared:
        shared = draw(st.sampled_from(((), (EXTERNAL,), ("all",), (EXTERNAL, "all"), (EXTERNAL, UNDECLARED))))
    elif draw(st.integers(0, 5)) > 0:  # else no policy (an EFS file system then has its default policy)
        text = document(draw(st.lists(resource_statement(kind, place), min_size=1, max_size=3)))
        policy = parse(text, PolicyKind.RESOURCE, f"{kind.label}.json")
    bpa = None
    if kind.s3_bpa and draw(st.booleans()):
        bpa = BlockPublicAccess(restrict_public_buckets=draw(st.booleans()), block_public_policy=draw(st.booleans()))
    return Resource(arn, policy, OWNER, tags, bpa, shared, attributes=attributes)


@st.composite
def environments(draw: st.DrawFn, *, worst_case: bool | None = False, min_kinds: int = 3,
                 max_kinds: int = 6, places: tuple[Place, ...] = PLACES,
                 kinds: tuple[Kind, ...] | None = None) -> Drawn:
    """An environment of one partition with a key, a role with a trust policy, and `min_kinds`..`max_kinds` resource
    types (all of `kinds` when given), identity policies, a boundary, sessions, an organization with SCPs and RCPs,
    VPC endpoints and options (`unknown_iam_worst_case` as `worst_case`, drawn when None)."""
    place = draw(st.sampled_from(places))
    p = place.partition
    chosen = kinds if kinds is not None else tuple(draw(st.lists(st.sampled_from(KINDS), min_size=min_kinds,
                                                                 max_size=max_kinds, unique=True)))
    resources = [draw(resource_of(k, place)) for k in chosen]
    key_arn = f"arn:{p}:kms:{place.region}:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    key_text = document([{"Effect": "Allow", "Principal": {"AWS": f"arn:{p}:iam::{OWNER}:root"}, "Action": "kms:*",
                          "Resource": "*"}, *draw(st.lists(key_statement(place), max_size=2))])
    key = Key(key_arn, parse(key_text, PolicyKind.KEY_POLICY, "key.json", key_account=OWNER),
              tags=draw(st.sampled_from(({}, {"team": "app"}))), aws_managed=draw(st.integers(0, 7)) == 0)
    role_arn = f"arn:{p}:iam::{OWNER}:{draw(st.sampled_from(ROLE_PATHS))}"
    trust_text = document(draw(st.lists(trust_statement(place), min_size=1, max_size=3)))
    everything = tuple(chosen)
    alice = user(p, OWNER, "alice")
    app = role(p, OWNER, "App")
    partner = role(p, EXTERNAL, "Partner")
    boundary = (draw(identity_policy(everything, place, PolicyKind.PERMISSIONS_BOUNDARY, "boundary.json"))
                if draw(st.integers(0, 3)) == 0 else None)
    principals = (
        Principal(alice, PrincipalKind.USER,
                  (draw(identity_policy(everything, place, PolicyKind.IDENTITY, "alice.json")),),
                  permissions_boundary=boundary, tags=draw(st.sampled_from(({}, {"team": "app"})))),
        Principal(app, PrincipalKind.ROLE,
                  (draw(identity_policy(everything, place, PolicyKind.IDENTITY, "app.json")),),
                  tags={"team": "app"}, unique_id="AROAEXAMPLEAPPROLE01"),
        Principal(partner, PrincipalKind.ROLE,
                  (draw(identity_policy(everything, place, PolicyKind.IDENTITY, "partner.json")),)),
        Principal(role_arn, PrincipalKind.ROLE,
                  (draw(identity_policy(everything, place, PolicyKind.IDENTITY, "target.json")),),
                  trust_policy=parse(trust_text, PolicyKind.TRUST, "trust.json"), tags={"team": "app"}),
    )
    sessions = (
        Session(session(p, OWNER, "App", "s1"), app,
                (draw(identity_policy(everything, place, PolicyKind.SESSION, "session.json")),)
                if draw(st.booleans()) else ()),
        Session(session(p, EXTERNAL, "Partner", "s1"), partner),
        Session(federated(p, OWNER, "fed"), alice,
                (draw(identity_policy(everything, place, PolicyKind.SESSION, "fed-session.json")),)
                if draw(st.booleans()) else ()),
    )
    in_org = draw(st.booleans())
    orgs: tuple[Organization, ...] = ()
    if in_org:
        full = parse(document(_ALLOW_ALL), PolicyKind.SCP, "full-aws-access.json")
        scps: dict[str, tuple[PolicyDocument, ...]] = {ROOT_ID: (full,)}
        if draw(st.booleans()):
            scps[OU] = (full, parse(document(draw(st.lists(identity_statement(everything, place, effect="Deny"),
                                                           min_size=1, max_size=2))), PolicyKind.SCP, "scp.json"))
        rcps = {}
        if draw(st.booleans()):
            rcp_stmts = []
            for s in draw(st.lists(identity_statement(everything, place, effect="Deny"), min_size=1, max_size=2)):
                acts = [a for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]) if a != "*"]
                rcp_stmts.append({**s, "Principal": "*", "Action": _one_or_list(acts or ["s3:*"])})
            rcps[OWNER] = (parse(document(rcp_stmts), PolicyKind.RCP, "rcp.json"),)
        orgs = (Organization(ORG, ROOT_ID, "999999999999", scps=scps, rcps=rcps),)
    bpa = BlockPublicAccess(restrict_public_buckets=True) if draw(st.integers(0, 3)) == 0 else None
    regions = (None, frozenset(), frozenset({place.region})) if place.region in ev.OPT_IN_REGIONS else (None,)
    external_in_org = in_org and draw(st.booleans())
    accounts: tuple[Account, ...] = (
        Account(OWNER, ORG if in_org else None, (ROOT_ID,) if in_org else (), draw(st.sampled_from(regions)),
                block_public_access=bpa),
        Account(EXTERNAL, ORG if external_in_org else None, (ROOT_ID, OU) if external_in_org else (),
                draw(st.sampled_from(regions)), iam_known=draw(st.booleans())),
    )
    if not in_org and bpa is None and draw(st.integers(0, 4)) == 0:
        accounts = accounts[1:]  # the owner undeclared: its organization is unknown (domain.py `rorg`)
    endpoints = []
    for vid, vpc, services, typ in ((GATEWAY_VPCE, GATEWAY_VPC, ("s3", "dynamodb"), "gateway"),
                                    (INTERFACE_VPCE, INTERFACE_VPC, ("sqs", "sns", "secretsmanager", "lambda",
                                                                     "ecr", "kms", "sts"), "interface")):
        if not draw(st.booleans()):
            continue
        service = draw(st.sampled_from(services))
        pol = None
        if draw(st.integers(0, 2)) > 0:
            principal: JSON = "*" if typ == "gateway" and draw(st.booleans()) else draw(
                st.sampled_from(("*", {"AWS": OWNER}, {"AWS": f"arn:{p}:iam::{OWNER}:root"})))
            stmts = [{**s, "Principal": principal} for s in draw(st.lists(identity_statement(everything, place),
                                                                         min_size=1, max_size=2))]
            pol = parse(document(stmts), PolicyKind.ENDPOINT, f"{vid}.json")
        endpoints.append(VpcEndpoint(vid, vpc, service, OWNER, pol, type=typ))
    opts = draw(options(worst_case=worst_case))
    env = Environment(keys=(key,), accounts=accounts, principals=principals, sessions=sessions,
                      organizations=orgs, options=opts, resources=tuple(resources), vpc_endpoints=tuple(endpoints))
    return Drawn(env, place, everything, role_arn, key_arn)


# ---- requests ----------------------------------------------------------------------------------------------

#: Context keys AWS derives from the caller, the resource or the endpoint: a request never gives them.
DERIVED = ev.CALLER_DERIVED_KEYS | ev.KEY_DERIVED_KEYS | {"aws:sourcevpc", "s3:resourceaccount",
                                                         "lambda:functionurlauthtype"}
EXTRA_VALUES = ("", "x", "true", "false", OWNER, EXTERNAL, "203.0.113.7", "198.51.100.1", "project", "other",
                "authenticated", "unauthenticated", "https", "AWSPENDING")
#: Types some of whose actions take unsigned requests under the default options (§G.7).
UNSIGNED_TYPES = frozenset({"AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::Lambda::Function", "AWS::EFS::FileSystem"})
#: Multivalued keys the policies test (`catalog.MULTIVALUED_KEYS`; the Cognito `amr` claim §T.6, regressions.yaml
#: reg-01, and `sts:TransitiveTagKeys` §T.7, reg-02): up to two values.
MULTIVALUED = {"aws:tagkeys", "aws:principalorgpaths", "cognito-identity.amazonaws.com:amr", "sts:transitivetagkeys"}


def _derived(key: str) -> bool:
    low = key.lower()
    return low in DERIVED or low.startswith(("aws:principaltag/", "aws:resourcetag/", "iam:resourcetag/"))


def condition_values(drawn: Drawn) -> dict[str, list[str]]:
    """The condition keys the environment's policies test (not the derived ones) with the values they compare."""
    out: dict[str, list[str]] = {}
    docs: list[PolicyDocument] = [k.policy for k in drawn.env.keys]
    docs += [r.policy for r in drawn.env.resources if r.policy is not None]
    for pr in drawn.env.principals:
        docs += [*pr.identity_policies, *([pr.trust_policy] if pr.trust_policy else [])]
    docs += [e.policy for e in drawn.env.vpc_endpoints if e.policy is not None]
    for o in drawn.env.organizations:
        docs += [d for ds in (*o.scps.values(), *o.rcps.values()) for d in ds]
    for doc in docs:
        for s in doc.statements:
            for c in s.condition.conditions if s.condition else ():
                if _derived(c.key.text):
                    continue
                vals = out.setdefault(c.key.text, [])
                vals += [v.text for v in c.values if v.text not in vals]
    return dict(sorted(out.items()))


def callers(drawn: Drawn) -> list[str]:
    """Every caller kind: roots, users, sessions, federated users (declared or not, of the owner, of the external and
    of an undeclared account), service principals, anonymous, web identity and SAML providers."""
    p = drawn.place.partition
    out = [
        f"arn:{p}:iam::{OWNER}:root", f"arn:{p}:iam::{EXTERNAL}:root", f"arn:{p}:iam::{UNDECLARED}:root",
        user(p, OWNER, "alice"), user(p, OWNER, "bob"), user(p, EXTERNAL, "carol"),
        session(p, OWNER, "App", "s1"), session(p, OWNER, "App", "s2"), session(p, EXTERNAL, "Partner", "s1"),
        session(p, UNDECLARED, "Unknown", "x1"), session(p, OWNER, drawn.role_arn.rsplit("/", 1)[-1], "chain"),
        federated(p, OWNER, "fed"), federated(p, EXTERNAL, "fx"),
        "sns.amazonaws.com", "events.amazonaws.com", "example.amazonaws.com", "anonymous",
        *(fill(x, drawn.place) for x in PROVIDERS),
    ]
    for k in drawn.kinds:
        out += list(k.services)
    return list(dict.fromkeys(out))


def _as_caller(entry: str, partition: str) -> str | None:
    if entry.isdigit() and len(entry) == 12:
        return f"arn:{partition}:iam::{entry}:root"
    if ":role/" in entry:
        parts = entry.split(":")
        return f"arn:{partition}:sts::{parts[4]}:assumed-role/{entry.rsplit('/', 1)[-1]}/named"
    if entry.startswith("arn:") or entry.endswith((".amazonaws.com", ".amazonaws.com.cn")) or ev.is_provider(entry):
        return entry
    return None


def named_callers(drawn: Drawn) -> list[str]:
    """The callers the resource-based policies name (principal entries turned into callers)."""
    out: list[str] = []
    docs = [r.policy for r in drawn.env.resources if r.policy is not None]
    docs += [p.trust_policy for p in drawn.env.principals if p.trust_policy is not None]
    for doc in docs:
        for s in doc.statements:
            for e in s.principal.entries if s.principal else ():
                c = _as_caller(e.value.text, drawn.place.partition)
                if c is not None and c not in out:
                    out.append(c)
    return out


def _statement_requests(drawn: Drawn) -> list[tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]]:
    """Per Allow statement of a resource-based policy (key, resources, trust policy): the callers it names (every
    caller for `*`), the (resource, action) pairs of its target it may apply to, and its conditions as (key, value)."""
    from reasoner.semantics.patterns import compile_action

    everyone = callers(drawn)
    docs: list[tuple[PolicyDocument, list[tuple[str, str]]]] = []
    by_arn = {arn: (actions, subs) for arn, actions, subs in drawn.targets()}
    for arn, (actions, subs) in by_arn.items():
        pairs = [(arn, a) for a in actions] + [(sub, a) for sub, acts in subs for a in acts]
        if arn == drawn.role_arn:
            pairs += [(arn, a) for a in ("sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")]
        doc = next((r.policy for r in drawn.env.resources if r.arn == arn and r.policy is not None), None)
        doc = doc or next((k.policy for k in drawn.env.keys if k.arn == arn), None)
        doc = doc or next((p.trust_policy for p in drawn.env.principals if p.arn == arn and p.trust_policy), None)
        if doc is not None:
            docs.append((doc, pairs))
    out = []
    for doc, pairs in docs:
        for stmt in doc.statements:
            if stmt.effect.value != "Allow" or stmt.principal is None or stmt.principal.negated:
                continue
            if stmt.principal.wildcard or any(e.value.text == "*" for e in stmt.principal.entries):
                who = everyone
            else:
                who = [c for e in stmt.principal.entries if (c := _as_caller(e.value.text, drawn.place.partition))]
            acts = [compile_action(a.text) for a in stmt.action.patterns] if stmt.action else []
            negated = stmt.action is not None and stmt.action.negated
            hit = [(r, a) for r, a in pairs if any(x.matches(a) for x in acts) != negated]
            conds = [(c.key.text, v.text) for c in (stmt.condition.conditions if stmt.condition else ())
                     for v in c.values[:1]]
            if who and hit:
                out.append((who, hit, conds))
    return out


@st.composite
def requests_for(draw: st.DrawFn, drawn: Drawn) -> Request:
    """A request on one of the environment's targets (or a sub-resource), with values for some of the condition keys
    the policies test and sometimes through a VPC endpoint. Half of the requests aim at an Allow statement of a
    resource-based policy (a caller it names, an action and resource it covers, its condition values); the others
    take any caller of `callers` or the policies, on any target."""
    directed = _statement_requests(drawn)
    context: dict[str, tuple[str, ...]] = {}
    if directed and bool(draw(st.booleans())):
        who, hit, conds = draw(st.sampled_from(directed))
        principal = draw(st.sampled_from(who))
        resource, action = draw(st.sampled_from(hit))
        for key, value in conds:
            if not _derived(key) and draw(st.integers(0, 3)) > 0:
                context[key] = (value,)
    else:
        named = named_callers(drawn)
        pick = draw(st.integers(0, 9))
        unsigned = any(k.label in UNSIGNED_TYPES for k in drawn.kinds)
        if pick == 0 and unsigned:
            principal = "anonymous"
        elif named and pick <= 3:
            principal = draw(st.sampled_from(named))
        else:
            principal = draw(st.sampled_from(callers(drawn)))
        targets = list(drawn.targets())
        if ev.is_provider(principal) and draw(st.integers(0, 3)) > 0:
            resource = drawn.role_arn
            action = draw(st.sampled_from(("sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML",
                                           "sts:TagSession")))
        else:
            # the resources more often than the key and the role
            arn, actions, subs = draw(st.sampled_from(targets[2:] * 3 + targets[:2]))
            if subs and bool(draw(st.booleans())):
                resource, sub_actions = draw(st.sampled_from(subs))
                action = draw(st.sampled_from(sub_actions))
            else:
                resource, action = arn, draw(st.sampled_from(actions))
    for key, values in condition_values(drawn).items():
        if key in context or not draw(st.booleans()):
            continue
        pool = sorted({fill(v, drawn.place) for v in values} | set(EXTRA_VALUES))
        if key.lower() in MULTIVALUED:
            context[key] = tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True)))
        else:
            context[key] = (draw(st.sampled_from(pool)),)
    if action.startswith("kms:"):
        context = {k: v for k, v in context.items() if k.lower() != "aws:securetransport"}
    if drawn.env.vpc_endpoints and draw(st.integers(0, 2)) == 0:
        context = {k: v for k, v in context.items() if k.lower() != "aws:sourcevpce"}
        context["aws:SourceVpce"] = (draw(st.sampled_from([e.id for e in drawn.env.vpc_endpoints])),)
    context = possible_context(context, ev.resolve_caller(drawn.env, principal).kind)
    return Request(principal, action, resource, context, draw(assumed_for(drawn, principal)))


def possible_context(context: dict[str, tuple[str, ...]], caller: PrincipalKind) -> dict[str, tuple[str, ...]]:
    """`context` made a request AWS could send (semantics/requestfacts.py; the evaluator rejects others as
    EVAL006): Boolean keys spelled true/false (else `true`), values of the form AWS gives a key (else a real one
    of the key), keys a caller never carries dropped, then any key a remaining fact names dropped. It draws
    nothing, so the examples Hypothesis draws around it stay those of the derandomized profile."""
    out: dict[str, tuple[str, ...]] = {}
    for key, drawn_values in context.items():
        low = key.lower()
        values = drawn_values
        if low in requestfacts.SERVICE_ONLY_KEYS and caller is not PrincipalKind.SERVICE:
            continue
        if low in requestfacts.BOOLEAN_KEYS:
            values = tuple(v for v in values if v in ("true", "false")) or ("true",)
        kept = tuple(v for v in values if requestfacts.shape_matches(low, v))
        if not kept and requestfacts.PREFER.get(low):
            kept = requestfacts.PREFER[low][:1]
        if kept:
            out[key] = kept
    for _ in range(len(out)):
        broken = requestfacts.violations({k.lower(): v for k, v in out.items()}, caller)
        if not broken:
            break
        named = broken[0].split("`")[1].lower()
        out = {k: v for k, v in out.items() if k.lower() != named}
    return out


@st.composite
def assumed_for(draw: st.DrawFn, drawn: Drawn, principal: str) -> dict[str, str]:
    """What a request may assume about what the environment does not describe (`Request.assumed`): the organization
    of an undeclared caller account or owner, the path of an undescribed role, the source of an undeclared federated
    user; `pinned.pin_request` fixes them and `explain.replay` declares them."""
    out: dict[str, str] = {}
    env = drawn.env
    parts = principal.split(":")
    acct = parts[4] if principal.startswith("arn:") and len(parts) > 5 else None
    if acct is not None and env.account(acct) is None and drawn.place.region in ev.OPT_IN_REGIONS:
        # the symbolic core takes an undeclared account to have enabled every opt-in Region (domain.py); the
        # evaluator needs the fact stated, as a counterexample states it (the KMS table's xfail c6-49)
        out["region"] = drawn.place.region
    if draw(st.integers(0, 2)) > 0:
        return out
    if acct is not None and env.account(acct) is None and draw(st.booleans()):
        out["org"] = draw(st.sampled_from(("o-zzzzzzzzzz", ORG)))
        out["orgpath"] = draw(st.sampled_from(("r-zz99/", "r-zz99/ou-zz99-1/")))
    if env.account(OWNER) is None and acct != OWNER and draw(st.booleans()):
        out["keyorg"] = draw(st.sampled_from(("o-zzzzzzzzzz", "o-yyyyyyyyyy")))
        out["keyorgpath"] = "r-zz99/"
    if ":assumed-role/" in principal and draw(st.booleans()):
        name = principal.split("/")[1]
        if acct is not None and env.role_named(acct, name) is None:
            out["rolepath"] = draw(st.sampled_from(("team/", "a/b/")))
    if ":federated-user/" in principal and env.session(principal) is None and draw(st.booleans()):
        users = [p.arn for p in env.principals if p.kind is PrincipalKind.USER and p.arn.split(":")[4] == acct]
        out["fedsource"] = draw(st.sampled_from((*users, f"arn:{drawn.place.partition}:iam::{acct}:user/bob")))
    return out
