"""The catalogue of steps: requests that change who a principal is or what the policies say.

Input: nothing (data), read by `reasoner/analyses/eventually.py` (the fixpoint over chains of steps) and by the
docs (docs/eventually.md lists every entry).
Output: `STEPS`, the modelled steps (an action on a resource type, what a request of it allowed lets the caller
do next, and the AWS page that says so); `UNMODELLED`, the steps the analysis does not model, each with the
reason and what makes it matter; `CODE_SERVICES`, the services that run code with a role passed to them and
the request that starts that code.
Guarantee: data only, no behaviour; every action is an action of the AWS catalogue that acts on the resource
type named (`tests/unit/test_steps.py`); a step that is not modelled is listed in `UNMODELLED`, and a chain
that could use one makes an `eventually` claim UNKNOWN, never PROVED.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Effect(Enum):
    """What a step does to the state of a chain (docs/eventually.md, "Steps")."""

    #: the caller gets a session of the role (sts:AssumeRole*): it acts as that session from now on
    ASSUME = "assume"
    #: the caller passes the role to a service that runs its code (iam:PassRole and a request that starts the
    #: code, `CODE_SERVICES`): the code acts as a session of the role
    PASS_ROLE = "pass-role"
    #: a grant on the key for a principal the caller chooses (kms:CreateGrant)
    GRANT = "grant"
    #: the resource-based policy is replaced by one the caller writes (PutKeyPolicy, PutBucketPolicy, ...)
    REPLACE_RESOURCE_POLICY = "replace-resource-policy"
    #: a statement the caller writes is added to the resource-based policy (lambda:AddPermission, ...)
    ADD_RESOURCE_STATEMENT = "add-resource-statement"
    #: the resource-based policy is deleted (its Deny statements go with it)
    DELETE_RESOURCE_POLICY = "delete-resource-policy"
    #: a snapshot is shared with the accounts the caller names (the sharing attribute)
    SHARE = "share"
    #: the bucket's S3 Block Public Access settings are turned off
    REMOVE_PUBLIC_ACCESS_BLOCK = "remove-public-access-block"
    #: the role's trust policy is replaced by one the caller writes (iam:UpdateAssumeRolePolicy)
    REPLACE_TRUST_POLICY = "replace-trust-policy"
    #: an identity policy the caller writes is added to the role (iam:PutRolePolicy, iam:AttachRolePolicy)
    ADD_IDENTITY_POLICY = "add-identity-policy"
    #: identity policies of the role are removed (iam:DeleteRolePolicy, iam:DetachRolePolicy): their Deny
    #: statements go with them
    REMOVE_IDENTITY_POLICY = "remove-identity-policy"
    #: the role's permissions boundary is replaced by one the caller writes
    REPLACE_BOUNDARY = "replace-boundary"
    #: the role's permissions boundary is removed
    REMOVE_BOUNDARY = "remove-boundary"


@dataclass(frozen=True)
class Step:
    """One modelled step: a request of `action` on a resource of type `on` (service prefix, catalogue type)
    that the policies allow has `effect`. `source` is the AWS documentation page that describes the effect;
    `note` what the model takes from it."""

    action: str
    on: tuple[str, str]
    effect: Effect
    source: str
    note: str = ""


_IAM_ROLES = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html"
_ASSUME = "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html"
_PASSROLE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html"
_IAM_API = "https://docs.aws.amazon.com/IAM/latest/APIReference/"
_KMS_API = "https://docs.aws.amazon.com/kms/latest/APIReference/"

#: The modelled steps, in the order the fixpoint asks for them (docs/eventually.md).
STEPS: tuple[Step, ...] = (
    # ---- who the caller is ----
    Step("sts:AssumeRole", ("iam", "role"), Effect.ASSUME, _ASSUME,
         "the trust policy and (across accounts) the caller's identity side must allow it; role chaining: a "
         "role session may assume another role"),
    Step("sts:AssumeRoleWithWebIdentity", ("iam", "role"), Effect.ASSUME,
         "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html",
         "the caller is a web identity provider's user named by the trust policy"),
    Step("sts:AssumeRoleWithSAML", ("iam", "role"), Effect.ASSUME,
         "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithSAML.html",
         "the caller is a SAML provider's user named by the trust policy"),
    Step("iam:PassRole", ("iam", "role"), Effect.PASS_ROLE, _PASSROLE,
         "the caller passes a role of its own account to a service that runs its code (`CODE_SERVICES`); the "
         "role's trust policy must let the service assume it"),
    # ---- what the policies say ----
    Step("kms:CreateGrant", ("kms", "key"), Effect.GRANT, _KMS_API + "API_CreateGrant.html",
         "the caller names the grantee and the operations; a grant made through an AWS service "
         "(kms:GrantIsForAWSResource) goes to the service's principal, not to one the caller chooses"),
    Step("kms:PutKeyPolicy", ("kms", "key"), Effect.REPLACE_RESOURCE_POLICY, _KMS_API + "API_PutKeyPolicy.html"),
    Step("s3:PutBucketPolicy", ("s3", "bucket"), Effect.REPLACE_RESOURCE_POLICY,
         "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html"),
    Step("s3:DeleteBucketPolicy", ("s3", "bucket"), Effect.DELETE_RESOURCE_POLICY,
         "https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html"),
    Step("s3:PutBucketPublicAccessBlock", ("s3", "bucket"), Effect.REMOVE_PUBLIC_ACCESS_BLOCK,
         "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutPublicAccessBlock.html",
         "the bucket-level setting; the account-level one is `s3:PutAccountPublicAccessBlock` (not modelled)"),
    Step("s3express:PutBucketPolicy", ("s3express", "bucket"), Effect.REPLACE_RESOURCE_POLICY,
         "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html"),
    Step("sqs:SetQueueAttributes", ("sqs", "queue"), Effect.REPLACE_RESOURCE_POLICY,
         "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html",
         "the `Policy` attribute"),
    Step("sqs:AddPermission", ("sqs", "queue"), Effect.ADD_RESOURCE_STATEMENT,
         "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_AddPermission.html"),
    Step("sns:SetTopicAttributes", ("sns", "topic"), Effect.REPLACE_RESOURCE_POLICY,
         "https://docs.aws.amazon.com/sns/latest/api/API_SetTopicAttributes.html", "the `Policy` attribute"),
    Step("sns:AddPermission", ("sns", "topic"), Effect.ADD_RESOURCE_STATEMENT,
         "https://docs.aws.amazon.com/sns/latest/api/API_AddPermission.html"),
    Step("lambda:AddPermission", ("lambda", "function"), Effect.ADD_RESOURCE_STATEMENT,
         "https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html"),
    Step("lambda:AddLayerVersionPermission", ("lambda", "layerVersion"), Effect.ADD_RESOURCE_STATEMENT,
         "https://docs.aws.amazon.com/lambda/latest/api/API_AddLayerVersionPermission.html"),
    Step("secretsmanager:PutResourcePolicy", ("secretsmanager", "Secret"), Effect.REPLACE_RESOURCE_POLICY,
         "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutResourcePolicy.html"),
    Step("secretsmanager:DeleteResourcePolicy", ("secretsmanager", "Secret"), Effect.DELETE_RESOURCE_POLICY,
         "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteResourcePolicy.html"),
    Step("ecr:SetRepositoryPolicy", ("ecr", "repository"), Effect.REPLACE_RESOURCE_POLICY,
         "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_SetRepositoryPolicy.html"),
    Step("elasticfilesystem:PutFileSystemPolicy", ("elasticfilesystem", "file-system"),
         Effect.REPLACE_RESOURCE_POLICY, "https://docs.aws.amazon.com/efs/latest/ug/API_PutFileSystemPolicy.html"),
    Step("dynamodb:PutResourcePolicy", ("dynamodb", "table"), Effect.REPLACE_RESOURCE_POLICY,
         "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutResourcePolicy.html"),
    Step("dynamodb:PutResourcePolicy", ("dynamodb", "stream"), Effect.REPLACE_RESOURCE_POLICY,
         "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutResourcePolicy.html"),
    Step("ec2:ModifySnapshotAttribute", ("ec2", "snapshot"), Effect.SHARE,
         "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySnapshotAttribute.html",
         "`createVolumePermission`: the accounts the snapshot is shared with"),
    Step("rds:ModifyDBSnapshotAttribute", ("rds", "snapshot"), Effect.SHARE,
         "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBSnapshotAttribute.html",
         "the `restore` attribute"),
    Step("rds:ModifyDBClusterSnapshotAttribute", ("rds", "cluster-snapshot"), Effect.SHARE,
         "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBClusterSnapshotAttribute.html",
         "the `restore` attribute"),
    Step("iam:UpdateAssumeRolePolicy", ("iam", "role"), Effect.REPLACE_TRUST_POLICY,
         _IAM_API + "API_UpdateAssumeRolePolicy.html"),
    Step("iam:PutRolePolicy", ("iam", "role"), Effect.ADD_IDENTITY_POLICY, _IAM_API + "API_PutRolePolicy.html",
         "an inline policy the caller writes; the role's other policies (and their Deny statements) stay"),
    Step("iam:AttachRolePolicy", ("iam", "role"), Effect.ADD_IDENTITY_POLICY, _IAM_API + "API_AttachRolePolicy.html",
         "any managed policy, e.g. AdministratorAccess"),
    Step("iam:DeleteRolePolicy", ("iam", "role"), Effect.REMOVE_IDENTITY_POLICY,
         _IAM_API + "API_DeleteRolePolicy.html"),
    Step("iam:DetachRolePolicy", ("iam", "role"), Effect.REMOVE_IDENTITY_POLICY,
         _IAM_API + "API_DetachRolePolicy.html"),
    Step("iam:PutRolePermissionsBoundary", ("iam", "role"), Effect.REPLACE_BOUNDARY,
         _IAM_API + "API_PutRolePermissionsBoundary.html"),
    Step("iam:DeleteRolePermissionsBoundary", ("iam", "role"), Effect.REMOVE_BOUNDARY,
         _IAM_API + "API_DeleteRolePermissionsBoundary.html"),
)


@dataclass(frozen=True)
class CodeService:
    """A service that runs code with a role passed to it (iam:PassRole with iam:PassedToService = `principal`)
    and the request that starts such code (`start`, on a resource of `start_arn` with `{region}`, `{account}`
    filled in)."""

    principal: str
    start: str
    start_arn: str
    source: str


#: Services that run the caller's code as a role passed to them (the PassRole escalations of the IAM guide).
CODE_SERVICES: tuple[CodeService, ...] = (
    CodeService("lambda.amazonaws.com", "lambda:CreateFunction",
                "arn:aws:lambda:{region}:{account}:function:reasoner-chain",
                "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html"),
    CodeService("ec2.amazonaws.com", "ec2:RunInstances", "arn:aws:ec2:{region}:{account}:instance/i-0123456789abcdef0",
                "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html"),
    CodeService("ecs-tasks.amazonaws.com", "ecs:RunTask",
                "arn:aws:ecs:{region}:{account}:task-definition/reasoner-chain:1",
                "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html"),
    CodeService("glue.amazonaws.com", "glue:CreateDevEndpoint", "*",
                "https://docs.aws.amazon.com/glue/latest/dg/create-an-iam-role.html"),
    CodeService("cloudformation.amazonaws.com", "cloudformation:CreateStack",
                "arn:aws:cloudformation:{region}:{account}:stack/reasoner-chain/"
                "00000000-0000-0000-0000-000000000000",
                "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html"),
    CodeService("codebuild.amazonaws.com", "codebuild:CreateProject",
                "arn:aws:codebuild:{region}:{account}:project/reasoner-chain",
                "https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html"),
    CodeService("sagemaker.amazonaws.com", "sagemaker:CreateNotebookInstance",
                "arn:aws:sagemaker:{region}:{account}:notebook-instance/reasoner-chain",
                "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html"),
)


class Matters(Enum):
    """When a step that is not modelled could change the answer (`eventually.unmodelled_reasons`)."""

    #: it takes over a user of the actor's account (its credentials or its policies): matters when the account
    #: has a declared user the chain does not hold yet
    USER = "user"
    #: it changes a customer managed policy or a group: matters when the account has a declared principal the
    #: chain does not hold yet (the environment does not say which policies and groups are attached to whom)
    POLICY = "policy"
    #: it creates a new role or user with policies the actor writes: matters when some key or resource policy
    #: lets principals of that account in by their identity policies (an account principal)
    NEW_PRINCIPAL = "new-principal"
    #: it runs code as a role an existing resource already has (the environment does not say which):
    #: matters when the account has a declared role the chain does not hold yet
    EXISTING_CODE = "existing-code"
    #: it changes the organization's SCPs or RCPs: matters when the environment declares an organization
    ORGANIZATION = "organization"
    #: it changes an account-level or endpoint setting: matters when the environment declares one
    SETTING = "setting"


@dataclass(frozen=True)
class Unmodelled:
    """A step the analysis does not model: `action`, why (`reason`), and when it matters (`matters`)."""

    action: str
    matters: Matters
    reason: str
    source: str


#: The steps that are not modelled (docs/eventually.md, "Limits"). A chain whose held identities may take one
#: of them (an identity policy of theirs has an Allow statement whose Action matches it, or their IAM is not
#: given) where it matters makes the claim UNKNOWN.
UNMODELLED: tuple[Unmodelled, ...] = (
    Unmodelled("iam:CreateAccessKey", Matters.USER, "the environment has no credentials of users",
               _IAM_API + "API_CreateAccessKey.html"),
    Unmodelled("iam:CreateLoginProfile", Matters.USER, "the environment has no console passwords",
               _IAM_API + "API_CreateLoginProfile.html"),
    Unmodelled("iam:UpdateLoginProfile", Matters.USER, "the environment has no console passwords",
               _IAM_API + "API_UpdateLoginProfile.html"),
    Unmodelled("iam:PutUserPolicy", Matters.USER, "users are not modelled as targets of a step",
               _IAM_API + "API_PutUserPolicy.html"),
    Unmodelled("iam:AttachUserPolicy", Matters.USER, "users are not modelled as targets of a step",
               _IAM_API + "API_AttachUserPolicy.html"),
    Unmodelled("iam:DeleteUserPolicy", Matters.USER, "users are not modelled as targets of a step",
               _IAM_API + "API_DeleteUserPolicy.html"),
    Unmodelled("iam:DetachUserPolicy", Matters.USER, "users are not modelled as targets of a step",
               _IAM_API + "API_DetachUserPolicy.html"),
    Unmodelled("iam:PutUserPermissionsBoundary", Matters.USER, "users are not modelled as targets of a step",
               _IAM_API + "API_PutUserPermissionsBoundary.html"),
    Unmodelled("iam:DeleteUserPermissionsBoundary", Matters.USER, "users are not modelled as targets of a step",
               _IAM_API + "API_DeleteUserPermissionsBoundary.html"),
    Unmodelled("iam:CreatePolicyVersion", Matters.POLICY,
               "the environment does not say which principals a customer managed policy is attached to",
               _IAM_API + "API_CreatePolicyVersion.html"),
    Unmodelled("iam:SetDefaultPolicyVersion", Matters.POLICY,
               "the environment has no versions of managed policies", _IAM_API + "API_SetDefaultPolicyVersion.html"),
    Unmodelled("iam:PutGroupPolicy", Matters.POLICY, "groups are not modelled", _IAM_API + "API_PutGroupPolicy.html"),
    Unmodelled("iam:AttachGroupPolicy", Matters.POLICY, "groups are not modelled",
               _IAM_API + "API_AttachGroupPolicy.html"),
    Unmodelled("iam:AddUserToGroup", Matters.POLICY, "groups are not modelled", _IAM_API + "API_AddUserToGroup.html"),
    Unmodelled("iam:CreateRole", Matters.NEW_PRINCIPAL, "a new role has a name and policies the caller chooses",
               _IAM_API + "API_CreateRole.html"),
    Unmodelled("iam:CreateUser", Matters.NEW_PRINCIPAL, "a new user has a name and policies the caller chooses",
               _IAM_API + "API_CreateUser.html"),
    Unmodelled("lambda:UpdateFunctionCode", Matters.EXISTING_CODE,
               "the environment does not say which role a function runs as",
               "https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html"),
    Unmodelled("lambda:UpdateFunctionConfiguration", Matters.EXISTING_CODE,
               "the environment does not say which role a function runs as",
               "https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html"),
    Unmodelled("glue:UpdateDevEndpoint", Matters.EXISTING_CODE,
               "the environment does not say which role a development endpoint runs as",
               "https://docs.aws.amazon.com/glue/latest/webapi/API_UpdateDevEndpoint.html"),
    Unmodelled("cloudformation:UpdateStack", Matters.EXISTING_CODE,
               "the environment does not say which service role a stack uses",
               "https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_UpdateStack.html"),
    Unmodelled("codebuild:StartBuild", Matters.EXISTING_CODE,
               "the environment does not say which service role a project uses",
               "https://docs.aws.amazon.com/codebuild/latest/APIReference/API_StartBuild.html"),
    Unmodelled("ssm:SendCommand", Matters.EXISTING_CODE,
               "the environment does not say which role an instance profile gives an instance",
               "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html"),
    Unmodelled("ssm:StartSession", Matters.EXISTING_CODE,
               "the environment does not say which role an instance profile gives an instance",
               "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_StartSession.html"),
    Unmodelled("organizations:UpdatePolicy", Matters.ORGANIZATION, "SCP and RCP edits are not modelled",
               "https://docs.aws.amazon.com/organizations/latest/APIReference/API_UpdatePolicy.html"),
    Unmodelled("organizations:DetachPolicy", Matters.ORGANIZATION, "SCP and RCP edits are not modelled",
               "https://docs.aws.amazon.com/organizations/latest/APIReference/API_DetachPolicy.html"),
    Unmodelled("organizations:DeletePolicy", Matters.ORGANIZATION, "SCP and RCP edits are not modelled",
               "https://docs.aws.amazon.com/organizations/latest/APIReference/API_DeletePolicy.html"),
    Unmodelled("organizations:AttachPolicy", Matters.ORGANIZATION, "SCP and RCP edits are not modelled",
               "https://docs.aws.amazon.com/organizations/latest/APIReference/API_AttachPolicy.html"),
    Unmodelled("s3:PutAccountPublicAccessBlock", Matters.SETTING, "account-level settings are not modelled",
               "https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_PutPublicAccessBlock.html"),
    Unmodelled("ec2:ModifyVpcEndpoint", Matters.SETTING, "endpoint policy edits are not modelled",
               "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyVpcEndpoint.html"),
)


#: Pages the model of chains rests on besides the API references above.
SOURCES: dict[str, str] = {
    "role chaining": _IAM_ROLES,
    "external id": "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html",
    "session tags": "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html",
    "source identity": "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html",
    "grants": "https://docs.aws.amazon.com/kms/latest/developerguide/grants.html",
    "passrole": _PASSROLE,
}


def steps_on(service: str, rtype: str) -> tuple[Step, ...]:
    """The modelled steps on resources of catalogue type `rtype` of `service`."""
    return tuple(s for s in STEPS if s.on == (service, rtype))


__all__ = [
    "CODE_SERVICES",
    "SOURCES",
    "STEPS",
    "UNMODELLED",
    "CodeService",
    "Effect",
    "Matters",
    "Step",
    "Unmodelled",
    "steps_on",
]
