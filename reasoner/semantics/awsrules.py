"""Rules AWS applies on its own side, which no customer policy changes (docs/semantics-services.md §A).

Input: the options of an environment; per request, the canonical action, the facts of the resource it acts on
(`Facts`) and the class of the caller (kind, same account as the resource or not, service principal name).
Output: `rules_for(action, facts, options)`: the `AwsRule`s that may fix the decision of such a request, each
with `covers(kind, same_account, service)` telling whether it applies to a caller.
Guarantee: data only, each rule with its citation; `evaluate.py` applies a rule's fixed ALLOW before any
policy is read and a refusal after explicit denies (a refusal is IMPLICIT_DENY unless a Deny applies, §0.2);
`encode.py` applies the same rules to the symbolic request (a closed world of actions and declared targets,
caller classes as kind guards), so both engines agree on them. `Options.aws_side_rules` False switches every
rule off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from reasoner.semantics.environment import Options, PrincipalKind
from reasoner.semantics.patterns import compile_action, compile_resource

#: The IAM principals of an account (every caller kind but service principals, anonymous callers and providers).
IAM_KINDS: frozenset[PrincipalKind] = frozenset({
    PrincipalKind.ROOT, PrincipalKind.USER, PrincipalKind.ROLE_SESSION, PrincipalKind.FEDERATED_USER,
})


@dataclass(frozen=True)
class Facts:
    """What the AWS-side rules read of the resource a request acts on: its ARN (the governing one, `*` for
    none), the catalogue service and type, and the attributes of a declared resource (`aws_managed` for an AWS
    managed KMS key)."""

    arn: str
    service: str = ""
    type: str = ""
    attributes: tuple[tuple[str, str], ...] = ()

    def attribute(self, name: str) -> str | None:
        return next((v for k, v in self.attributes if k == name), None)


@dataclass(frozen=True)
class AwsRule:
    """The decision of every request whose action matches `actions` (and none of `except_actions`), whose
    resource matches `resources`, whose resource facts satisfy `facts` and whose caller is covered: a kind of
    `kinds` (None: every kind), in the resource's account or not per `relation` ("any", "same", "other"), not the
    linked service of a service-linked role when `unless_linked_service`. `allowed`: ALLOW (else refused).
    `context`: (key, glob) pairs the request context must match. `scp_denies`: an option name whose False value
    lets SCP and session-policy denies override a fixed ALLOW."""

    name: str
    actions: tuple[str, ...]
    allowed: bool
    note: str
    cite: str
    resources: tuple[str, ...] = ("*",)
    kinds: frozenset[PrincipalKind] | None = None
    relation: str = "any"
    except_actions: tuple[str, ...] = ()
    unless_linked_service: bool = False
    facts: Callable[[Facts], bool] | None = field(default=None, compare=False)
    context: tuple[tuple[str, str], ...] = ()
    scp_denies: str | None = None

    def matches(self, action: str, facts: Facts) -> bool:
        """The rule is about this action and resource (the caller is `covers`'s business)."""
        return (
            any(compile_action(a).matches(action) for a in self.actions)
            and not any(compile_action(a).matches(action) for a in self.except_actions)
            and _resource_matches(self.resources, facts.arn)
            and (self.facts is None or self.facts(facts))
        )

    def covers(self, kind: PrincipalKind, same_account: bool, service: str | None = None,
               linked_service: str | None = None) -> bool:
        """The rule applies to a caller of `kind` (`same_account`: in the resource owner's account; `service`:
        a service principal's name; `linked_service`: the service of the service-linked role acted on)."""
        if self.kinds is not None and kind not in self.kinds:
            return False
        if self.relation == "same" and not same_account:
            return False
        if self.relation == "other" and same_account:
            return False
        return not (self.unless_linked_service and kind is PrincipalKind.SERVICE and service is not None
                    and linked_service is not None and service.lower() == linked_service.lower())


def linked_service(role_arn: str) -> str | None:
    """The service of a service-linked role (`role/aws-service-role/SERVICE/NAME`), else None."""
    marker = ":role/aws-service-role/"
    if marker not in role_arn:
        return None
    return role_arn.split(marker, 1)[1].split("/", 1)[0] or None


#: IAM actions that change a role, its policies or its trust.
ROLE_CHANGES: tuple[str, ...] = (
    "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
    "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:DeleteRole", "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
)
#: IAM actions that change a managed policy.
POLICY_CHANGES: tuple[str, ...] = (
    "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy", "iam:UntagPolicy",
)
#: KMS actions AWS refuses on AWS managed keys (§A.3).
MANAGED_KEY_CHANGES: tuple[str, ...] = (
    "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:EnableKeyRotation",
    "kms:DisableKeyRotation", "kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription",
)
#: S3 bucket-policy operations: owner account only, and its root user is never locked out (§S3.8, §A.4, §A.5).
BUCKET_POLICY_ACTIONS: tuple[str, ...] = ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy")
#: DynamoDB actions without cross-account support (§DDB.2).
DYNAMODB_NOT_CROSS_ACCOUNT: tuple[str, ...] = (
    "dynamodb:PartiQLSelect", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete",
    "dynamodb:CreateTable", "dynamodb:UpdateTimeToLive", "dynamodb:EnableKinesisStreamingDestination",
    "dynamodb:DisableKinesisStreamingDestination", "dynamodb:UpdateKinesisStreamingDestination",
    "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateContributorInsights", "dynamodb:CreateBackup",
    "dynamodb:RestoreTableFromBackup", "dynamodb:RestoreTableToPointInTime", "dynamodb:ExportTableToPointInTime",
    "dynamodb:ImportTable", "dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy",
    "dynamodb:GetResourcePolicy", "dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:ListTagsOfResource",
)
#: DynamoDB data actions (the ones an `aws/dynamodb`-encrypted table refuses across accounts, §A.7).
DYNAMODB_DATA: tuple[str, ...] = (
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query",
    "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
    "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream",
)


def _attribute(name: str, value: str) -> Callable[[Facts], bool]:
    return lambda f: f.attribute(name) == value


def _lambda_function(f: Facts) -> bool:
    return f.service == "lambda" and f.type.startswith("function")


@cache
def _rules(options: Options) -> tuple[AwsRule, ...]:
    iam = IAM_KINDS
    rules = [
        AwsRule(
            "GetCallerIdentity", ("sts:GetCallerIdentity",), True,
            "sts:GetCallerIdentity needs no permission and cannot be denied",
            "§A.1: STS API reference, GetCallerIdentity", kinds=iam,
            scp_denies="get_caller_identity_ignores_org_policies",
        ),
        AwsRule(
            "GetSessionToken", ("sts:GetSessionToken",), True,
            "an IAM user or root user with long-term credentials always gets a session token",
            "§A.1: STS API reference, GetSessionToken", kinds=frozenset({PrincipalKind.ROOT, PrincipalKind.USER}),
        ),
        AwsRule(
            "temporary credentials", ("sts:GetSessionToken", "sts:GetFederationToken"), False,
            "role-session credentials can call neither GetSessionToken nor GetFederationToken",
            "§A.10: STS API reference", kinds=frozenset({PrincipalKind.ROLE_SESSION}),
        ),
        AwsRule(
            "federated user", ("iam:*", "sts:*"), False,
            "a GetFederationToken session cannot call IAM operations or STS operations other than GetCallerIdentity",
            "§A.10: STS API reference, GetFederationToken", kinds=frozenset({PrincipalKind.FEDERATED_USER}),
            except_actions=("sts:GetCallerIdentity",),
        ),
        AwsRule(
            "reserved alias", ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"), False,
            "aliases beginning `alias/aws/` are reserved for AWS managed keys",
            "§A.3: KMS API reference, CreateAlias (AliasName must not begin with alias/aws/)",
            resources=("arn:*:kms:*:*:alias/aws/*",),
        ),
        AwsRule(
            "AWS managed key", MANAGED_KEY_CHANGES, False,
            "AWS managed keys cannot have their policy, state, rotation, tags or description changed",
            "§A.3: KMS developer guide, AWS managed keys", resources=("arn:*:kms:*:*:key/*",),
            facts=_attribute("aws_managed", "true"),
        ),
        AwsRule(
            "service-linked role", ROLE_CHANGES, False,
            "a service-linked role is changed only by its service (its description excepted)",
            "§A.2: IAM user guide, using service-linked roles", resources=("arn:*:iam::*:role/aws-service-role/*",),
        ),
        AwsRule(
            "service-linked role", ("sts:AssumeRole",), False,
            "only its own service can assume a service-linked role",
            "§A.2: IAM user guide, using service-linked roles", resources=("arn:*:iam::*:role/aws-service-role/*",),
            unless_linked_service=True,
        ),
        AwsRule(
            "IAM Identity Center role", (*ROLE_CHANGES, "iam:UpdateRoleDescription"), False,
            "roles IAM Identity Center provisions under `aws-reserved/sso.amazonaws.com/` are managed by it alone",
            "§A.9: IAM Identity Center user guide; AWS knowledge center, protected roles",
            resources=("arn:*:iam::*:role/aws-reserved/sso.amazonaws.com/*",),
        ),
        AwsRule(
            "AWS managed policy", POLICY_CHANGES, False,
            "AWS managed policies are maintained by AWS and cannot be changed",
            "§A.11: IAM user guide, AWS managed policies", resources=("arn:*:iam::aws:policy/*",),
        ),
        AwsRule(
            "service-role policy", ("iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:AttachGroupPolicy"), False,
            "AWS managed policies under `aws-service-role/` attach only to service-linked roles",
            "§A.11: AWS managed policy reference, service-linked role policies",
            context=(("iam:policyarn", "arn:*:iam::aws:policy/aws-service-role/*"),),
            facts=lambda f: ":role/aws-service-role/" not in f.arn,
        ),
        AwsRule(
            "bucket policy operations", BUCKET_POLICY_ACTIONS, False,
            "S3 refuses bucket-policy operations from accounts other than the bucket owner's",
            "§A.5: S3 API reference, GetBucketPolicy / PutBucketPolicy / DeleteBucketPolicy",
            resources=("arn:*:s3:::*",), kinds=iam, relation="other",
        ),
        AwsRule(
            "not across accounts", options.sqs_cross_account_exclusions, False,
            "this SQS operation cannot be used across accounts", "§SQS.3, §A.6: SQS API reference",
            resources=("arn:*:sqs:*",), kinds=iam, relation="other",
        ),
        AwsRule(
            "not across accounts", ("lambda:*",), False,
            "this Lambda operation cannot be granted to another account", "§LAM.3, §A.6: Lambda developer guide",
            except_actions=options.lambda_cross_account_actions, kinds=iam, relation="other", facts=_lambda_function,
        ),
        AwsRule(
            "not across accounts", DYNAMODB_NOT_CROSS_ACCOUNT, False,
            "this DynamoDB operation has no cross-account support", "§DDB.2, §A.6: DynamoDB developer guide",
            resources=("arn:*:dynamodb:*",), kinds=iam, relation="other",
        ),
        AwsRule(
            "AWS managed key", ("secretsmanager:GetSecretValue",), False,
            "a secret encrypted with aws/secretsmanager cannot be read from another account",
            "§SM.2, §A.7: Secrets Manager user guide, cross-account access", kinds=iam, relation="other",
            facts=_attribute("kms_key", "aws_managed"), resources=("arn:*:secretsmanager:*",),
        ),
        AwsRule(
            "AWS managed key", DYNAMODB_DATA, False,
            "a table encrypted with aws/dynamodb cannot be used from another account",
            "§DDB.3, §A.7: DynamoDB developer guide, resource-based policy considerations", kinds=iam,
            relation="other", facts=_attribute("kms_key", "aws_managed"), resources=("arn:*:dynamodb:*",),
        ),
        AwsRule(
            "encrypted snapshot", ("rds:RestoreDBInstanceFromDBSnapshot", "rds:RestoreDBClusterFromSnapshot"), False,
            "another account cannot restore a shared encrypted snapshot directly (it must copy it first)",
            "§SNAP.2, §A.8: RDS user guide, sharing snapshots", kinds=iam, relation="other",
            facts=_attribute("encrypted", "true"), resources=("arn:*:rds:*",),
        ),
    ]
    if not options.root_can_assume_role:
        rules.append(AwsRule(
            "root user", ("sts:AssumeRole",), False, "the root user cannot assume a role",
            "§T.2, §A.12: STS API reference (older versions)", kinds=frozenset({PrincipalKind.ROOT}),
        ))
    return tuple(rules)


@lru_cache(maxsize=4096)
def _resource_matches(patterns: tuple[str, ...], arn: str) -> bool:
    """Some of a rule's resource patterns matches `arn` (asked once per action of a resource: remembered)."""
    return any(compile_resource(r).matches(arn) for r in patterns)


def rules_for(action: str, facts: Facts, options: Options) -> tuple[AwsRule, ...]:
    """The AWS-side rules that may fix the decision of `action` on the resource of `facts` (before the caller
    is known; `AwsRule.covers` tells which callers)."""
    if not options.aws_side_rules:
        return ()
    return tuple(r for r in _rules_of_action(action, options) if r.matches(action, facts))


#: `rules_for_actions` answers: (actions, facts, options) -> the answer (by the options' value: each
#: environment has its own equal `Options` object).
_RULES_OF_ACTIONS: dict[tuple[tuple[str, ...], Facts, Options], tuple[tuple[str, AwsRule], ...]] = {}


def rules_for_actions(actions: tuple[str, ...], facts: Facts,
                      options: Options) -> tuple[tuple[str, AwsRule], ...]:
    """(action, rule) for every rule `rules_for` gives each of `actions` on the resource of `facts`, in that
    order; remembered (a compilation asks it for every action of a target, and again for each environment)."""
    key = (actions, facts, options)
    hit = _RULES_OF_ACTIONS.get(key)
    if hit is not None:
        return hit
    found = tuple((a, r) for a in actions for r in rules_for(a, facts, options))
    if len(_RULES_OF_ACTIONS) >= 4096:  # bound memory in long sessions
        _RULES_OF_ACTIONS.clear()
    _RULES_OF_ACTIONS[key] = found
    return found


@lru_cache(maxsize=16384)
def _rules_of_action(action: str, options: Options) -> tuple[AwsRule, ...]:
    """The rules whose actions (and not their excepted actions) match `action`: what `AwsRule.matches` tests
    first, remembered per action (the resource and its facts are tested per request)."""
    service = action.partition(":")[0].lower()
    return tuple(r for r in _rules_of_service(service, options)
                 if any(_action_matches(a, action, service) for a in r.actions)
                 and not any(_action_matches(a, action, service) for a in r.except_actions))


@lru_cache(maxsize=1024)
def _rules_of_service(service: str, options: Options) -> tuple[AwsRule, ...]:
    """The rules one of whose action patterns may match an action of `service` (lower case)."""
    return tuple(r for r in _rules(options) if any(_of_service(a, service) for a in r.actions))


def _of_service(pattern: str, service: str) -> bool:
    """`pattern` may match an action of `service` (its service part is not plain text naming another)."""
    svc, sep, _ = pattern.partition(":")
    return not sep or "*" in svc or "?" in svc or svc.lower() == service


def _action_matches(pattern: str, action: str, service: str) -> bool:
    """`compile_action(pattern).matches(action)`, without compiling a pattern of another service (a plain
    service prefix that differs cannot match: the first compilation of a process no longer compiles every
    rule's pattern)."""
    return _of_service(pattern, service) and compile_action(pattern).matches(action)


__all__ = ["IAM_KINDS", "AwsRule", "Facts", "linked_service", "rules_for", "rules_for_actions"]
