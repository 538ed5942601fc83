"""Rules AWS applies on its own side, which no customer policy changes (docs/semantics-services.md §A).

Input: a canonical action name and the request resource ARN.
Output: `fixed_decision(action, resource)`: the `AwsRule` that fixes the decision of that request, or None.
Guarantee: data only, each rule with its citation; `evaluate.py` applies a rule before any policy is read and
`encode.py` applies the same table to the symbolic request (a closed world of actions and declared
resources), so both engines agree on it. Every rule can be switched off with `Options.aws_side_rules`.
"""

from __future__ import annotations

from dataclasses import dataclass

from reasoner.semantics.patterns import compile_action, compile_resource


@dataclass(frozen=True)
class AwsRule:
    """`allowed` is the fixed decision (True: ALLOW whatever the policies say; False: refused) of every
    request whose action matches one of `actions` and whose resource matches one of `resources`."""

    name: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    allowed: bool
    note: str
    cite: str


#: IAM actions that change a role, its policies or its trust; AWS refuses them on roles it manages.
ROLE_CHANGES: tuple[str, ...] = (
    "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
    "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:DeleteRole",
    "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
)

#: IAM actions that change a managed policy.
POLICY_CHANGES: tuple[str, ...] = (
    "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy", "iam:UntagPolicy",
)

RULES: tuple[AwsRule, ...] = (
    AwsRule(
        "GetCallerIdentity", ("sts:GetCallerIdentity",), ("*",), True,
        "sts:GetCallerIdentity needs no permission and cannot be denied",
        "§A.1: AWS STS API reference, GetCallerIdentity: no permissions are required; an explicit deny has "
        "no effect",
    ),
    AwsRule(
        "reserved alias", ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"),
        ("arn:*:kms:*:*:alias/aws/*",), False,
        "aliases beginning `alias/aws/` are reserved for AWS managed keys and cannot be created, updated or "
        "deleted",
        "§A.2: KMS developer guide, alias-access / CreateAlias API reference (AliasName must not begin with "
        "alias/aws/)",
    ),
    AwsRule(
        "service-linked role", ROLE_CHANGES, ("arn:*:iam::*:role/aws-service-role/*",), False,
        "a service-linked role is changed only by its service (iam:DeleteServiceLinkedRole deletes it)",
        "§A.3: IAM user guide, using service-linked roles: you cannot edit the permissions or trust policy of a "
        "service-linked role",
    ),
    AwsRule(
        "IAM Identity Center role", ROLE_CHANGES, ("arn:*:iam::*:role/aws-reserved/sso.amazonaws.com/*",), False,
        "roles IAM Identity Center provisions under `aws-reserved/sso.amazonaws.com/` are managed by it alone",
        "§A.4: IAM Identity Center user guide, permission sets: the provisioned roles cannot be modified in IAM",
    ),
    AwsRule(
        "AWS managed policy", POLICY_CHANGES, ("arn:*:iam::aws:policy/*",), False,
        "AWS managed policies are maintained by AWS and cannot be changed by customers",
        "§A.5: IAM user guide, AWS managed policies: you cannot change the permissions defined in them",
    ),
)


def fixed_decision(action: str, resource: str) -> AwsRule | None:
    """The AWS-side rule that fixes the decision of (`action`, `resource`), or None."""
    for rule in RULES:
        if any(compile_action(a).matches(action) for a in rule.actions) and any(
            compile_resource(r).matches(resource) for r in rule.resources
        ):
            return rule
    return None


__all__ = ["RULES", "AwsRule", "fixed_decision"]
