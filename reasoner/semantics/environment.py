"""The world a decision is made in: keys, other resources, accounts, principals (roles with their trust
policies), sessions, organizations, VPC endpoints, options.

Input: built in Python by a notebook user, or by `manifest.py` from a hand-written YAML manifest.
Output: frozen dataclasses consumed by `evaluate.py` (concrete) and `encode.py` (symbolic).
Guarantee: plain values with no behaviour beyond lookups; every [OPEN] point of semantics §7 that changes
a decision is a field of `Options` with a documented default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from reasoner.front.ast import PolicyDocument
from reasoner.source import Span


class PrincipalKind(Enum):
    """Kinds of IAM identity (semantics §2.3)."""

    ROOT = "root"  # arn:aws:iam::A:root, the account's root user
    USER = "user"  # arn:aws:iam::A:user/[path/]name
    ROLE = "role"  # arn:aws:iam::A:role/[path/]name; calls are made by its sessions
    ROLE_SESSION = "role-session"  # arn:aws:sts::A:assumed-role/name/session
    FEDERATED_USER = "federated-user"  # arn:aws:sts::A:federated-user/name (GetFederationToken)
    SERVICE = "service"  # a service principal such as cloudtrail.amazonaws.com
    ANONYMOUS = "anonymous"  # an unsigned request
    PROVIDER = "provider"  # a web identity (OIDC) or SAML provider's user calling AssumeRoleWith*


@dataclass(frozen=True)
class Principal:
    """An IAM user, role or root user with what is attached to it. Role sessions and federated users
    are `Session`s of a `Principal`."""

    arn: str
    kind: PrincipalKind
    identity_policies: tuple[PolicyDocument, ...] = ()
    permissions_boundary: PolicyDocument | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    unique_id: str | None = None  # AIDA... / AROA...; used for aws:userid when known
    span: Span | None = None
    #: A role's trust policy (its resource-based policy for sts:AssumeRole*, sts:TagSession,
    #: sts:SetSourceIdentity, sts:SetContext; docs/semantics-services.md §T). None: not given (a request to
    #: assume the role cannot be decided).
    trust_policy: PolicyDocument | None = None


@dataclass(frozen=True)
class Session:
    """A role session (AssumeRole*) or a federated-user session (GetFederationToken).

    `source` is the ARN of the role, or of the IAM user who called GetFederationToken.
    `session_policies` are the policies passed when the session was created (none: no session policy).
    """

    arn: str
    source: str
    session_policies: tuple[PolicyDocument, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    span: Span | None = None


@dataclass(frozen=True)
class Grant:
    """A KMS grant on one key (semantics §4.4)."""

    grantee: str  # principal ARN, account id/root ARN, or a service principal
    operations: frozenset[str]  # canonical IAM action names, e.g. "kms:Decrypt"
    encryption_context_equals: Mapping[str, str] | None = None
    encryption_context_subset: Mapping[str, str] | None = None
    source_arn: str | None = None
    retiring_principal: str | None = None
    name: str | None = None
    span: Span | None = None


@dataclass(frozen=True)
class Key:
    """A KMS key with its key policy. Region and owner account are read from the ARN."""

    arn: str
    policy: PolicyDocument
    grants: tuple[Grant, ...] = ()
    aliases: tuple[str, ...] = ()  # alias names, "alias/x"
    tags: Mapping[str, str] = field(default_factory=dict)
    key_spec: str = "SYMMETRIC_DEFAULT"
    key_usage: str = "ENCRYPT_DECRYPT"
    origin: str = "AWS_KMS"
    multi_region: bool = False
    aws_managed: bool = False  # AWS managed keys: RCPs do not apply (semantics §4.2 step 3)
    span: Span | None = None

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]


@dataclass(frozen=True)
class BlockPublicAccess:
    """S3 Block Public Access settings of a bucket or of an account (the effective setting of a bucket is
    the OR of both levels; docs/semantics-services.md §S3). Access through ACLs is not modelled (buckets are
    taken as `BucketOwnerEnforced`), so only `restrict_public_buckets` changes a decision; the others are kept
    for findings and for what an import read."""

    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False

    def __or__(self, other: BlockPublicAccess | None) -> BlockPublicAccess:
        if other is None:
            return self
        return BlockPublicAccess(*(a or b for a, b in zip(
            (self.block_public_acls, self.ignore_public_acls, self.block_public_policy,
             self.restrict_public_buckets),
            (other.block_public_acls, other.ignore_public_acls, other.block_public_policy,
             other.restrict_public_buckets), strict=True)))


@dataclass(frozen=True)
class Resource:
    """A resource other than a KMS key whose access a resource-based policy or a sharing attribute decides
    (S3 bucket, SQS queue, SNS topic, Lambda function or layer version, Secrets Manager secret, ECR repository,
    EFS file system, DynamoDB table or stream, EBS / RDS snapshot, S3 directory bucket, ...). Its type is read
    from the ARN by the catalogue (`semantics/resources.py`).

    `account` is the owner: required when the ARN carries none (S3 buckets, EBS snapshots), else it must equal
    the ARN's. `policy` None: the resource has no resource-based policy. `shared_with` (snapshots shared by
    attribute): account ids, or "all" (public). `block_public_access`: the bucket-level S3 setting."""

    arn: str
    policy: PolicyDocument | None = None
    account: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    block_public_access: BlockPublicAccess | None = None
    shared_with: tuple[str, ...] = ()
    span: Span | None = None
    #: facts some service rules read (`RESOURCE_ATTRIBUTES`): `encrypted` (snapshots), `kms_key`
    #: (`aws_managed` | `customer_managed`: Secrets Manager, DynamoDB), `function_url_auth_type` (`AWS_IAM` |
    #: `NONE`: Lambda), `snapshot_block_public_access` (the owner's EBS setting in the snapshot's Region).
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def region(self) -> str:
        parts = self.arn.split(":", 5)
        return parts[3] if len(parts) == 6 else ""

    @property
    def partition(self) -> str:
        parts = self.arn.split(":", 5)
        return parts[1] if len(parts) == 6 else ""


#: The attributes a `Resource` may carry, with their values (docs/semantics-services.md §0.3).
RESOURCE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "encrypted": ("true", "false"),
    "kms_key": ("aws_managed", "customer_managed"),
    "function_url_auth_type": ("AWS_IAM", "NONE"),
    "snapshot_block_public_access": ("block-all-sharing", "block-new-sharing", "unblocked"),
}


@dataclass(frozen=True)
class VpcEndpoint:
    """A VPC endpoint with its endpoint policy: a request through it (aws:SourceVpce = `id`) must be allowed by
    the policy and not denied by it (semantics §4.5). `policy` None: the default policy (allows everything).
    `service`: the service prefix the endpoint serves (e.g. `s3`); requests for other services never use it."""

    id: str
    vpc: str
    service: str
    account: str = ""
    policy: PolicyDocument | None = None
    span: Span | None = None
    #: `gateway` (S3, DynamoDB) or `interface`; "" for the default of the service (gateway for s3 and dynamodb)
    type: str = ""

    @property
    def gateway(self) -> bool:
        return (self.type or ("gateway" if self.service in ("s3", "dynamodb") else "interface")) == "gateway"


@dataclass(frozen=True)
class Account:
    """An AWS account. `ou_path` lists the organization's root id then the OU ids down to the account,
    e.g. ("r-ab12", "ou-ab12-1", "ou-ab12-2"). `enabled_regions` None means every Region that is
    enabled by default; opt-in Regions must be listed. `iam_known` False means the account's identity
    policies were not given (the symbolic core then treats them per `Options.unknown_iam`).
    Membership is as declared (`organization` None: in no organization). An account the environment does
    not declare may be in no organization or in any organization the environment does not declare, at any
    OU path under it (the symbolic core leaves aws:PrincipalOrgID / aws:PrincipalOrgPaths open, domain.py)."""

    id: str
    organization: str | None = None
    ou_path: tuple[str, ...] = ()
    enabled_regions: frozenset[str] | None = None
    iam_known: bool = True
    span: Span | None = None
    #: account-level S3 Block Public Access (applies to every bucket of the account)
    block_public_access: BlockPublicAccess | None = None


@dataclass(frozen=True)
class Organization:
    """An AWS Organization. SCPs and RCPs are attached to targets: the root id, OU ids or account ids.
    Targets without an entry get the AWS managed FullAWSAccess / RCPFullAWSAccess policy.
    A declared organization is closed: its members are exactly the declared accounts whose `organization`
    is its id (an organization id only named by a declared account is closed the same way)."""

    id: str
    root_id: str
    management_account: str
    scps: Mapping[str, tuple[PolicyDocument, ...]] = field(default_factory=dict)
    rcps: Mapping[str, tuple[PolicyDocument, ...]] = field(default_factory=dict)
    span: Span | None = None


class NotPrincipalMode(Enum):
    """How Deny+NotPrincipal exempts a caller (semantics §2.4, §7.6)."""

    CONSERVATIVE_CHAIN = "chain"  # exempt only if every link (account, role, session | account, user) is listed
    ANY_LINK = "any"  # exempt if any link of the chain is listed


@dataclass(frozen=True)
class Options:
    """Every [OPEN] point that changes a decision, with its default (semantics §7)."""

    #: §3.2 / §7.1: a single-valued (plain) operator on a multivalued key that has values: result is
    #: False for positive and negated operators (iam-simulate's behaviour). Set True to treat the key as
    #: "any value" for positive and "every value" for negated operators instead.
    plain_operator_on_multivalued_any: bool = False
    #: §3.4 / §7.2: an unresolved policy variable under a negated operator makes the negated test true (DOC).
    unresolved_variable_negated_true: bool = True
    #: §2.4 / §7.6
    not_principal_mode: NotPrincipalMode = NotPrincipalMode.CONSERVATIVE_CHAIN
    #: §4.4 / §7.7: a cross-account grantee also needs an identity-policy allow in its own account.
    cross_account_grant_requires_iam: bool = False
    #: §7.9: a key policy's Resource naming the key's own ARN matches (any other ARN never does).
    key_policy_own_arn_matches: bool = True
    #: §7.10: aws:ResourceTag / kms:ResourceAliases in a key policy evaluate normally (False: never present).
    resource_keys_in_key_policy: bool = True
    #: §4.4 / §7.7: a grant whose grantee is an account (id or root ARN) applies to that account's principals
    #: whose identity policies allow the operation (delegation, like an account in a key policy). False: it
    #: applies to the account's root user only.
    account_grantee_delegates: bool = True
    #: §4.5 / §7.8: RCPs apply to requests made directly by AWS service principals (their conditions, e.g.
    #: aws:PrincipalIsAWSService, decide). False: service-principal requests are exempt from RCPs.
    rcps_apply_to_service_principals: bool = True
    #: §3.3 / §7.3: policy variables are substituted in Bool condition values (docs contradict each other).
    bool_variables: bool = False
    #: §5.1 vs the KMS guide: kms:BypassPolicyLockoutSafetyCheck is present as `false` when CreateKey /
    #: PutKeyPolicy omit the parameter (semantics table). Default False follows the KMS guide, whose
    #: `Null: true` example allows PutKeyPolicy "only when the request does not include the parameter".
    bypass_lockout_key_always_present: bool = False
    #: §3.2: `ForAnyValue:<op>IfExists` on an absent key is true (IfExists: "if the key is not present, the
    #: condition is true"). iam-simulate 0.1.173 returns false (ForAnyValue checked first): set False for that.
    for_any_value_if_exists_absent_true: bool = True
    #: Issue 4: a principal of an account whose IAM was not given (not in `Environment.accounts`, or
    #: `Account.iam_known` False) has identity policies that may allow anything and deny nothing (Access
    #: Analyzer's worst case). False: "only what is given": such principals have no identity policies.
    unknown_iam_worst_case: bool = True
    #: docs/semantics-services.md §A: the rules AWS applies on its own side (sts:GetCallerIdentity always
    #: allowed, reserved KMS aliases, service-linked and IAM Identity Center roles, AWS managed policies, actions
    #: that cannot be used across accounts, ...) fix the decision of the requests they cover. False: decide
    #: those requests by the policies alone.
    aws_side_rules: bool = True
    #: §G.6 / §O.2: the services (IAM prefixes) whose resources RCPs apply to.
    rcp_supported_services: tuple[str, ...] = ("s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss", "logs",
                                               "cognito-idp", "cognito-identity")
    #: §G.7 / §O.3: services that accept unsigned (anonymous) requests; `lambda-function-url` stands for the
    #: function URLs of AuthType NONE.
    anonymous_capable_services: tuple[str, ...] = ("s3", "sqs", "lambda-function-url", "elasticfilesystem")
    #: §T.2 / §O.5: the root user can call sts:AssumeRole.
    root_can_assume_role: bool = False
    #: §T.4 / §O.6: a trust policy naming a user ARN grants it only within the user's permissions boundary.
    trust_user_arn_limited_by_boundary: bool = True
    #: §T.5 / §O.7: a trust policy's SAML provider must be one of the role's own account.
    saml_provider_must_be_role_account: bool = True
    #: §T.7-§T.9 / §O.10: across accounts, sts:TagSession / SetSourceIdentity / SetContext also need the caller's
    #: identity side to allow them.
    cross_account_session_controls_need_identity_allow: bool = True
    #: §S3.5 / §O.13a: under RestrictPublicBuckets, principals of the owner account keep every grant of a public
    #: bucket policy.
    s3_rpb_owner_account_keeps_public_grants: bool = True
    #: §S3X.3 / §O.14: a directory bucket is never public (its policy acts as with RestrictPublicBuckets on).
    s3_express_public_always_blocked: bool = True
    #: §LAM.3 / §O.15: the function actions a function policy can grant to another account.
    lambda_cross_account_actions: tuple[str, ...] = (
        "lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
        "lambda:UpdateFunctionCode", "lambda:DeleteFunction", "lambda:PublishVersion",
        "lambda:ListVersionsByFunction", "lambda:CreateAlias", "lambda:GetAlias", "lambda:ListAliases",
        "lambda:UpdateAlias", "lambda:DeleteAlias", "lambda:GetPolicy", "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency", "lambda:ListTags", "lambda:TagResource", "lambda:UntagResource",
    )
    #: §LAM.4 / §O.16: a function URL call (lambda:InvokeFunctionUrl) also needs lambda:InvokeFunction.
    lambda_url_requires_invoke_function: bool = True
    #: §SQS.3 / §O.17: SQS actions that cannot be used across accounts.
    sqs_cross_account_exclusions: tuple[str, ...] = (
        "sqs:AddPermission", "sqs:RemovePermission", "sqs:SetQueueAttributes", "sqs:ListQueueTags", "sqs:TagQueue",
        "sqs:UntagQueue", "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:ListQueues", "sqs:StartMessageMoveTask",
        "sqs:CancelMessageMoveTask", "sqs:ListMessageMoveTasks",
    )
    #: §EFS.3 / §O.18: a file system without a policy has the default policy, a grant of every client action to
    #: `*`.
    efs_default_policy_principal_star: bool = True
    #: §VPCE.2 / §O.20: in a gateway endpoint's policy an account principal admits only the account's root user.
    vpce_gateway_account_principal_root_only: bool = True
    #: §A.1 / §O.21: sts:GetCallerIdentity is allowed despite SCP and session-policy denies too (not only
    #: identity-policy denies).
    get_caller_identity_ignores_org_policies: bool = True
    #: §P.3 / §O.23: a caller of another account needs the resource's opt-in Region enabled in its own account
    #: (for every service, as for KMS keys).
    opt_in_region_cross_account_requires_caller_enabled: bool = True
    #: §P.4 / §O.24: `s.amazonaws.com` and `s.amazonaws.com.cn` name the same service principal.
    cn_service_principal_suffix_equivalent: bool = True


@dataclass(frozen=True)
class Unknown:
    """A value an imported infrastructure file does not know before deploy (issue 15;
    `reasoner/front/importers/unknowns.py`): a template parameter without a value, a known-after-apply
    attribute of a Terraform plan, an import from another stack, or a name AWS generates.

    `address` says where it comes from (`template.yaml#/Resources/AppKey/Properties/KeyPolicy/...`,
    `plan.json:aws_kms_key.app.arn`); `placeholder` is the text written in its place in the environment (a
    spelling no real value can take); `kind` is "value" (a verdict that depends on it is UNKNOWN) or
    "generated" (a fresh name proved unable to change a decision, see `unknowns.check_generated`); `used_in`
    lists where the placeholder ended up (policies, ARNs); `arn` is the ARN a generated name stands in."""

    address: str
    placeholder: str
    kind: str
    why: str
    used_in: tuple[str, ...] = ()
    arn: str = ""
    span: Span | None = None


@dataclass(frozen=True)
class Environment:
    """Everything a decision depends on besides the request."""

    keys: tuple[Key, ...] = ()
    accounts: tuple[Account, ...] = ()
    principals: tuple[Principal, ...] = ()
    sessions: tuple[Session, ...] = ()
    organizations: tuple[Organization, ...] = ()
    options: Options = field(default_factory=Options)
    source: str | None = None  # manifest path, if loaded from one
    resources: tuple[Resource, ...] = ()
    vpc_endpoints: tuple[VpcEndpoint, ...] = ()
    #: values the imported infrastructure files do not know before deploy (issue 15; none for a manifest)
    unknowns: tuple[Unknown, ...] = ()

    def key(self, arn: str) -> Key | None:
        return next((k for k in self.keys if k.arn == arn), None)

    def account(self, account_id: str) -> Account | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def principal(self, arn: str) -> Principal | None:
        return next((p for p in self.principals if p.arn == arn), None)

    def resource(self, arn: str) -> Resource | None:
        return next((r for r in self.resources if r.arn == arn), None)

    def vpc_endpoint(self, endpoint_id: str) -> VpcEndpoint | None:
        return next((e for e in self.vpc_endpoints if e.id == endpoint_id), None)

    def session(self, arn: str) -> Session | None:
        return next((s for s in self.sessions if s.arn == arn), None)

    def organization(self, org_id: str) -> Organization | None:
        return next((o for o in self.organizations if o.id == org_id), None)

    def role_named(self, account_id: str, name: str) -> Principal | None:
        """The declared role of `account_id` called `name` (role names are unique in an account ignoring case,
        whatever the path; a session ARN shows the name only)."""
        return next(
            (
                p
                for p in self.principals
                if p.kind is PrincipalKind.ROLE
                and p.arn.split(":")[4] == account_id
                and p.arn.rsplit("/", 1)[-1].lower() == name.lower()
            ),
            None,
        )

    def declared_organizations(self) -> frozenset[str]:
        """Organization ids the environment declares, including those its accounts name (closed: no account it
        does not declare is a member)."""
        return frozenset({o.id for o in self.organizations} | {a.organization for a in self.accounts if a.organization})
