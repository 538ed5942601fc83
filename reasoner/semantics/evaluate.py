"""Reference semantics: the concrete, solver-free evaluator (semantics §2-§4).

Input: an `Environment` (keys, accounts, principals, sessions, organizations, options) and a `Request`.
Output: an `Evaluation`: ALLOW, EXPLICIT_DENY or IMPLICIT_DENY with the statements and rules behind it.
Guarantee: this module defines what our answers mean; `encode.py` mirrors it function by function
(`evaluate_condition` <-> `encode_condition`, `evaluate_statement` <-> `encode_statement`, ...). Policies are
read through the compiled IR of `ir.py` (compiled once per policy document and cached), which the encoder
reads too; no request ever re-parses policy text, ARNs are read by `arns.py`. No z3 here.

Mirrored pairs (tests/unit/test_mirror.py): `evaluate` <-> `Encoder.encode`; `evaluate_X` and `match_X` <->
`Encoder.encode_X`; `_evaluate_X` <-> `Encoder._encode_X`; every other function, public or `_X`, <-> the
`Encoder` method of the same name (`resolve_caller`, `derive_context`, `_derive`, `_single`, `_union`,
`_sufficient`, ...). The base comparison is shared: `ir.compare` <-> `Encoder._compare`.

Decision flow (semantics §4.2-§4.4), one small pure function per step:
  resolve_caller -> derive_context -> evaluate_scps / evaluate_rcps (gates) -> evaluate_key_policy,
  evaluate_identity, evaluate_grants -> combine per §4.4 (same account / cross account).

Modelling choices (each tested in tests/known_answers):
- The request resource of a key operation is the key ARN; an alias ARN is resolved to its key and sets
  kms:RequestAlias (§2.2). Keyless KMS actions take resource `*`. Other resources (alias ARNs of
  CreateAlias/UpdateAlias/DeleteAlias, other services) are decided by identity policies alone; one of another
  account is never reachable (no resource policy is modelled for it).
- An action not in the AWS catalogue, a role ARN as the caller, a user value for a derived context key and a
  key or alias missing from the environment are InputErrors, never silent denials.
- RetireGrant retires "some grant on the key": allowed for a grant's retiring principal, a grantee holding
  RetireGrant, or (key account) an identity-policy allow; a key-policy allow has no effect (§4.4).
- CreateGrant through a grant: the requested kms:GrantOperations must be held by the grant, and the request's
  kms:EncryptionContext:* pairs (the new grant's constraint) must satisfy the grant's constraint.
- Request parameters AWS defaults are filled in when absent: aws:SecureTransport (KMS), aws:ViaAWSService and
  kms:GrantIsForAWSResource (true iff kms:ViaService is given), kms:EncryptionAlgorithm (SYMMETRIC_DEFAULT on
  symmetric keys), kms:EncryptionContextKeys (from the kms:EncryptionContext:* entries).

Not mirrored, by design (`NOT_MIRRORED`):
- `_index`: the environment's index and per-environment caches (the encoder indexes in `Encoder.__init__`).
- `_base_context`: every derived key at once, cached per caller, key and action (the encoder derives one key
  at a time: `Encoder._caller_value`, `Encoder._key_value`).
- `_resolved_values`: policy variables substituted from the one concrete context (the encoder enumerates
  their values as cases: `Encoder._variable_cases`).
- `_match_compiled_principal`: `match_principal` on a compiled statement's principal, raising for NotPrincipal
  with Allow as `Encoder.encode_principal` does (the encoder only ever sees compiled statements).
- `_applies`: the rest of `_evaluate_statement` after the action test, called directly by `evaluate_policy`
  through its per-action index (the encoder tests the action inside `_encode_statement`).
- `_scps`, `_rcps`, `_endpoint`, `_grants`: `evaluate_scps`, `evaluate_rcps`, `evaluate_endpoint`,
  `evaluate_grants` with explicit options or identity decision (the encoder reads `Encoder.opts`;
  `encode_grants` takes the identity decision).
- `_scp_levels`, `_rcp_policies`, `_along_path`: caches of the policies along an account's path (the encoder
  loops over the declared accounts).
- `_request_encryption_context`: the request's concrete kms:EncryptionContext pairs (the encoder reads each
  pair with `Encoder._value_is`).
- `_resolve_target`, `_find_target`, `_resolve_kms`, `resolve_target`, `_derived_by_target`, `is_provider`:
  canonical action, alias-to-key resolution, the target of one request (remembered per action and resource),
  which keys its resource derives and which callers are providers, with the input checks of one request (the
  symbolic domain is a closed world of the targets' actions and declared targets, `domain.targets_of`; what each
  derives is `Encoder._key_values`).
- `given_context`: the part of a request's context a caller gives (`decode` builds requests with it).
- `_decide`: `evaluate` of one action; `evaluate` adds the lambda:InvokeFunction a function URL call implies
  (the encoder pins that action in a second encoder: `Encoder.url_encoder`).
- `_user_limited`, `foreign_saml_provider`, `provider_action`, `_owner_root_of_bucket`: tests of one concrete
  caller inside `_decide_by_resource_policy`, `_decide_trust` and `_decide` (the encoder writes them inline as
  guards).
- `_hit_reason`, `_rule`, `_identity_reasons`, `_limit_reasons`, `_identity_gap`, `_why_not_same_account`:
  the `Reason`s of an evaluation; a symbolic answer is explained by replaying its counterexample here.
"""

# ruff: noqa: PLR0917  (signatures mirror encode.py one for one; keyword-only would break the mirror)
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import cached_property, lru_cache
from typing import TypeVar

from reasoner.errors import InputError, Severity, UnsupportedFeatureError, register_code
from reasoner.front.ast import (
    ActionBlock,
    Condition,
    ConditionOperator,
    Effect,
    PolicyDocument,
    PolicyKind,
    PrincipalBlock,
    ResourceBlock,
    SetQualifier,
    Statement,
)
from reasoner.semantics import arns, requestfacts
from reasoner.semantics.awsrules import BUCKET_POLICY_ACTIONS, AwsRule, Facts, linked_service, rules_for
from reasoner.semantics.catalog import (
    KMS_CROSS_ACCOUNT_ACTIONS,
    canonical_action,
    condition_key_may_exist,
    is_multivalued,
    kms_key_resource_actions,
    kms_keyless_actions,
)
from reasoner.semantics.environment import (
    Account,
    Environment,
    Grant,
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
from reasoner.semantics.ir import (
    CompiledCondition,
    CompiledPrincipal,
    CompiledStatement,
    Context,
    cached,
    compare,
    compile_condition,
    compile_policy,
    compile_principal,
    compile_statement,
    context_lookup,
    grantee_account,
    matches_action,
    org_paths,
    path_targets,
    resource_hits,
)
from reasoner.semantics.patterns import ArnPattern, Glob, compile_action, compile_glob, compile_resource
from reasoner.semantics.request import Decision, Evaluation, Reason, Request
from reasoner.semantics.resources import (
    PROVIDER_ACTIONS,
    ResourceType,
    Rule,
    accepts_anonymous,
    action_resource_types,
    action_type,
    governing_arn,
    rcps_apply_to,
    resource_policy,
    resource_type_of,
    restricted_public,
    rule_for,
)
from reasoner.source import Span

#: The functions of this module with no `Encoder` counterpart (why: the module docstring).
NOT_MIRRORED: tuple[str, ...] = (
    "_index", "_base_context", "_resolved_values", "_match_compiled_principal", "_applies", "_scps", "_rcps",
    "_endpoint", "_grants", "_scp_levels", "_rcp_policies", "_along_path", "_request_encryption_context",
    "_decide", "_resolve_target", "_find_target", "_resolve_kms", "resolve_target", "_derived_by_target",
    "given_context", "is_provider", "_user_limited", "foreign_saml_provider", "provider_action",
    "_owner_root_of_bucket", "_hit_reason", "_rule", "_identity_reasons", "_limit_reasons", "_identity_gap",
    "_why_not_same_account",
)

E = Severity.ERROR
BAD_PRINCIPAL = register_code("EVAL001", E, "request principal is not usable")
DERIVED_KEY = register_code("EVAL002", E, "context key derived by AWS given in the request")
BAD_CONTEXT = register_code("EVAL003", E, "request context is not usable")
BAD_RESOURCE = register_code("EVAL004", E, "request resource is not usable for the action")
BAD_ACTION = register_code("EVAL005", E, "request action is not in the catalogue")
IMPOSSIBLE_REQUEST = register_code("EVAL006", E, "request context breaks a fact AWS guarantees (requestfacts)")


class MatchKind(Enum):
    """How a Principal element matches the caller (semantics §2.3, §4.2). The kind decides which implicit
    denies (identity policy, permissions boundary, session policy) still limit a key-policy Allow."""

    NONE = "none"  # not matched
    ACCOUNT = "account"  # account id / root ARN: delegation to the account's IAM (needs an identity allow)
    DIRECT = "direct"  # the exact user, role-session or federated-user ARN (not limited by PB / session)
    WILDCARD = "wildcard"  # "*" / {"AWS": "*"}: direct, except for federated sessions without session policy
    ROLE_OF_SESSION = "role-of-session"  # role ARN of the calling session: limited by PB and session policy
    USER_OF_FEDERATED_SESSION = "user-of-federated-session"  # user ARN; call by its federated session
    SERVICE = "service"  # {"Service": X} and the caller is the service principal X
    FEDERATED = "federated"  # {"Federated": X} and the caller is the web identity / SAML provider X


@dataclass(frozen=True)
class Caller:
    """The calling principal as the decision sees it (built by `resolve_caller`).

    `arn` is the request principal (session ARN for role sessions, service name for service principals);
    `principal_arn` is the value of aws:PrincipalArn (role ARN for role sessions); `role_arn` / `user_arn`
    are the role of a role session and the IAM user behind a federated session. `identity_policies`,
    `boundary` and `session_policies` are the policies that apply to the caller's identity side;
    `has_session` is True for role sessions and federated users (session policies then may limit)."""

    arn: str
    kind: PrincipalKind
    account: str | None
    principal_arn: str | None
    role_arn: str | None = None
    user_arn: str | None = None
    session_name: str | None = None
    identity_policies: tuple[PolicyDocument, ...] = ()
    boundary: PolicyDocument | None = None
    session_policies: tuple[PolicyDocument, ...] = ()
    has_session: bool = False
    tags: Mapping[str, str] | None = None
    unique_id: str | None = None
    known: bool = True  # the principal (or its role / user) is described in the environment
    role_key: tuple[str, str, str] | None = None  # (partition, account, role path/name lower) of a role session

    @cached_property
    def partition(self) -> str | None:
        """The partition of aws:PrincipalArn (None: a caller without one: service, anonymous, provider)."""
        return self.principal_arn.split(":", 2)[1] if self.principal_arn else None

    @cached_property
    def matches(self) -> dict[int, tuple[CompiledPrincipal, Options, MatchKind]]:
        """How compiled Principal elements match this caller, remembered by `_match_compiled_principal`: id of
        the element -> (the element, the options, the match)."""
        return {}


@dataclass(frozen=True)
class StatementHit:
    """A statement that applies to the request, and how its Principal matched (NONE for identity-side
    policies, which have no Principal)."""

    policy: PolicyDocument
    statement: Statement
    match: MatchKind


@dataclass(frozen=True)
class PolicyResult:
    """The applicable Allow and Deny statements of one or more policies of one kind."""

    allows: tuple[StatementHit, ...] = ()
    denies: tuple[StatementHit, ...] = ()

    @property
    def allowed(self) -> bool:
        return bool(self.allows)

    @property
    def denied(self) -> bool:
        return bool(self.denies)


@dataclass(frozen=True)
class GateResult:
    """An SCP or RCP gate: `passed` is False when an explicit deny or a missing allow at some level stops
    the request. `denies` are the applicable Deny statements; `reasons` explain a failed gate."""

    passed: bool
    denies: tuple[StatementHit, ...] = ()
    reasons: tuple[Reason, ...] = ()
    applies: bool = True  # False when the gate is exempt (management account, service principal, ...)


@dataclass
class _TargetMemo:
    """Per-target memo of what depends on the target, the action and the options but not on the caller or the
    context (a `Target` is shared by every request on the same action and resource: `_resolve_target`).
    `rules`: (action, id of the options) -> (the options, `awsrules.rules_for`, `awsrules.linked_service`);
    `keys`: (action, context key as given) -> (lower-case name, derived by AWS (refused), multivalued, absent
    for the action, an encryption-context key)."""

    facts: Facts | None = None
    rules: dict[tuple[str, int], tuple[Options, tuple[AwsRule, ...], str | None]] = field(default_factory=dict)
    keys: dict[tuple[str, str], tuple[str, bool, bool, bool, bool]] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """What a request acts on, as the decision sees it (built by `_resolve_target`).

    `resource` is the request resource (`*`: none); `rule` which policies decide (resources.Rule); `owner` the
    owner account (None: no resource, or an undeclared resource whose ARN names no account); `key` the KMS key
    of a key request, `declared` the declared resource whose policy governs the request (an S3 object's
    bucket), `role` the role of an sts request on a role; `alias_name` the alias a KMS request named."""

    resource: str
    rule: Rule
    rtype: ResourceType | None = None
    owner: str | None = None
    key: Key | None = None
    declared: Resource | None = None
    role: Principal | None = None
    alias_name: str | None = None

    @cached_property
    def governing(self) -> str:
        """The ARN of the resource whose policy decides the request."""
        if self.key is not None:
            return self.key.arn
        if self.role is not None:
            return self.role.arn
        if self.declared is not None:
            return self.declared.arn
        return self.resource

    @cached_property
    def region(self) -> str:
        parts = self.governing.split(":", 5)
        return parts[3] if len(parts) == 6 else ""

    @cached_property
    def partition(self) -> str | None:
        """The partition of the governing resource's ARN (None: `*` or not an ARN)."""
        if self.resource == "*" or not self.governing.startswith("arn:"):
            return None
        return self.governing.split(":", 2)[1]

    @cached_property
    def memo(self) -> _TargetMemo:
        """What the decision derives from this target alone, remembered (`_TargetMemo`)."""
        return _TargetMemo()

    def policy(self, options: Options) -> PolicyDocument | None:
        """The resource-based policy that decides the request: key policy, trust policy, the declared
        resource's policy (`resources.resource_policy`: also a snapshot's sharing attribute, an EFS file
        system's default policy); None when there is none."""
        if self.key is not None:
            return self.key.policy
        if self.role is not None:
            return self.role.trust_policy
        if self.declared is not None:
            return resource_policy(self.declared, options)
        return None


@dataclass(frozen=True)
class IdentityResult:
    """The caller's identity side (semantics §4.2 steps 5-7): identity policies, permissions boundary and
    session policies. `allowed` is ID(P) of §4.4 (root: always True)."""

    identity: PolicyResult
    boundary: PolicyResult | None  # None: no boundary attached
    session: PolicyResult | None  # None: no session policy (role session) / not a session
    allowed: bool
    boundary_allows: bool  # True when no boundary or it allows
    session_allows: bool  # True when no session policy (role session) or it allows; False for a
    #                       federated session without session policy

    @property
    def denies(self) -> tuple[StatementHit, ...]:
        out = self.identity.denies
        if self.boundary is not None:
            out += self.boundary.denies
        if self.session is not None:
            out += self.session.denies
        return out


# ---- environment index (cached by object identity; the compiled policies are ir.py's) -------------

#: Regions that are not enabled by default (an account must opt in), semantics §4.3.
OPT_IN_REGIONS: frozenset[str] = frozenset({
    "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1",
    "eu-south-2",
    "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
})

#: KMS actions whose requests carry an encryption context (grant constraints apply only to them, §4.4).
KMS_ENCRYPTION_CONTEXT_ACTIONS: frozenset[str] = frozenset({
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:CreateGrant",
})

#: Actions whose kms:EncryptionAlgorithm is SYMMETRIC_DEFAULT unless the request says otherwise
#: (symmetric keys).
SYMMETRIC_ALGORITHM_ACTIONS: frozenset[str] = frozenset({
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
})

#: Alias-management actions: their request resource may be an alias ARN (IAM side, §4.4).
KMS_ALIAS_ACTIONS: frozenset[str] = frozenset({"kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"})

#: Context keys AWS derives from the caller; a user value is rejected (lower case).
CALLER_DERIVED_KEYS: frozenset[str] = frozenset({
    "aws:principalarn", "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths",
    "aws:principaltype", "aws:principalisawsservice", "aws:principalservicename",
    "aws:principalservicenameslist", "kms:calleraccount", "aws:userid", "aws:username",
})
#: Context keys AWS derives from the KMS key of a key request (lower case).
KEY_DERIVED_KEYS: frozenset[str] = frozenset({
    "aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths", "aws:requestedregion",
    "kms:resourcealiases", "kms:keyspec", "kms:customermasterkeyspec", "kms:keyusage",
    "kms:customermasterkeyusage", "kms:keyorigin", "kms:multiregion",
})


@dataclass(frozen=True)
class _Index:
    principals: Mapping[str, Principal]
    sessions: Mapping[str, Session]
    accounts: Mapping[str, Account]
    organizations: Mapping[str, Organization]
    keys: Mapping[str, Key]
    resources: Mapping[str, Resource]
    endpoints: Mapping[str, VpcEndpoint]
    roles_by_name: Mapping[tuple[str, str], Principal]  # (account, role name lower) -> role
    aliases: Mapping[tuple[str, str, str], Key]  # (region, account, alias name) -> key
    base_contexts: dict[tuple[str, str, str], tuple[dict[str, tuple[str, ...]], dict[str, str]]]
    scp_levels: dict[str, tuple[tuple[str, tuple[PolicyDocument, ...]], ...] | None]
    rcp_policies: dict[str, tuple[PolicyDocument, ...] | None]
    callers: dict[str, Caller]
    targets: dict[tuple[str, str], tuple[str, str, Target]]  # (action, resource) as requested -> `_resolve_target`
    rcps: bool  # some organization attaches an RCP (else the RCP gate never denies)


def _index(environment: Environment) -> _Index:
    last = _LAST_INDEX.get("last")
    if last is not None and last[0] is environment:
        return last[1]

    def build() -> _Index:
        roles: dict[tuple[str, str], Principal] = {}
        for p in environment.principals:
            role = arns.parse_principal(p.arn)
            if isinstance(role, arns.RoleArn) and p.kind is PrincipalKind.ROLE:
                roles[(role.account, role.name.lower())] = p
        aliases = {(k.region, k.account, a): k for k in environment.keys for a in k.aliases}
        return _Index(
            principals={p.arn: p for p in environment.principals},
            sessions={s.arn: s for s in environment.sessions},
            accounts={a.id: a for a in environment.accounts},
            organizations={o.id: o for o in environment.organizations},
            keys={k.arn: k for k in environment.keys},
            resources={r.arn: r for r in environment.resources},
            endpoints={e.id: e for e in environment.vpc_endpoints},
            roles_by_name=roles,
            aliases=aliases,
            base_contexts={},
            scp_levels={},
            rcp_policies={},
            callers={},
            targets={},
            rcps=any(o.rcps for o in environment.organizations),
        )
    idx = cached(environment, build)
    _LAST_INDEX["last"] = (environment, idx)
    return idx


#: The environment `_index` answered last and its index (many requests on one environment skip the memo).
_LAST_INDEX: dict[str, tuple[Environment, _Index]] = {}


# ---- principals and context --------------------------------------------------------------------------

def resolve_caller(environment: Environment, principal: str) -> Caller:
    """Classify the request principal (root, user, role session, federated user, service principal) and
    collect its identity policies, boundary, session policies and tags from the environment. A principal the
    environment does not describe is still evaluable: it has no identity policies. A role ARN is rejected
    (roles call through sessions) with an InputError."""
    idx = _index(environment)
    text = principal.strip()
    parsed = arns.parse_principal(text)
    if isinstance(parsed, arns.RootArn):
        return Caller(text, PrincipalKind.ROOT, parsed.account, text, known=parsed.account in idx.accounts)
    if isinstance(parsed, arns.UserArn):
        p = idx.principals.get(text)
        if p is not None and p.kind is not PrincipalKind.USER:
            raise InputError(f"principal `{text}` is declared as a {p.kind.value}, not a user",
                             code=BAD_PRINCIPAL)
        return Caller(text, PrincipalKind.USER, parsed.account, text,
                      identity_policies=_iam_policies(idx, parsed.account, p),
                      boundary=p.permissions_boundary if p else None,
                      tags=dict(p.tags) if p else None, unique_id=p.unique_id if p else None,
                      known=p is not None)
    if isinstance(parsed, arns.AssumedRoleArn):
        account, role_name, session_name = parsed.account, parsed.role_name, parsed.session_name
        role = idx.roles_by_name.get((account, role_name.lower()))
        session = idx.sessions.get(text)
        role_arn = role.arn if role is not None else arns.format(parsed.role())
        if session is not None and session.source != role_arn:
            raise InputError(f"session `{text}` names `{session.source}` as its source, "
                             f"expected `{role_arn}`",
                             span=session.span, code=BAD_PRINCIPAL)
        tags = dict(role.tags) if role is not None else {}
        if session is not None:
            tags.update(session.tags)
        unique = f"{role.unique_id}:{session_name}" if role is not None and role.unique_id else None
        rm = arns.parse_principal(role_arn)
        role_key = (rm.partition, rm.account, rm.path_name.lower()) if isinstance(rm, arns.RoleArn) else None
        return Caller(text, PrincipalKind.ROLE_SESSION, account, role_arn, role_arn=role_arn,
                      role_key=role_key, session_name=session_name,
                      identity_policies=_iam_policies(idx, account, role),
                      boundary=role.permissions_boundary if role else None,
                      session_policies=session.session_policies if session else (), has_session=True,
                      tags=tags, unique_id=unique, known=role is not None)
    if isinstance(parsed, arns.FederatedUserArn):
        account, name = parsed.account, parsed.name
        session = idx.sessions.get(text)
        user = idx.principals.get(session.source) if session is not None else None
        if session is not None and (user is None or user.kind is not PrincipalKind.USER):
            raise InputError(f"federated user `{text}` must name an IAM user of the environment "
                             "as its source",
                             span=session.span, code=BAD_PRINCIPAL)
        tags = dict(user.tags) if user is not None else {}
        if session is not None:
            tags.update(session.tags)
        return Caller(text, PrincipalKind.FEDERATED_USER, account, text,
                      user_arn=user.arn if user else None, session_name=name,
                      identity_policies=_iam_policies(idx, account, user),
                      boundary=user.permissions_boundary if user else None,
                      session_policies=session.session_policies if session else (), has_session=True,
                      tags=tags, unique_id=f"{account}:{name}", known=user is not None)
    if isinstance(parsed, arns.RoleArn):
        raise InputError(f"principal `{text}` is a role; roles call through sessions",
                         help="use the role session's ARN, "
                         "e.g. `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`", code=BAD_PRINCIPAL)
    if text in ("anonymous", "*"):
        return Caller(text, PrincipalKind.ANONYMOUS, None, None)
    if is_provider(text):
        return Caller(text, PrincipalKind.PROVIDER, None, None)
    if _SERVICE_PRINCIPAL.fullmatch(text):
        return Caller(text, PrincipalKind.SERVICE, None, None)
    raise InputError(f"`{text}` is not a principal ARN or service principal",
                     help="expected a root, user, assumed-role or federated-user ARN, or `svc.amazonaws.com`",
                     code=BAD_PRINCIPAL)


_SERVICE_PRINCIPAL = re.compile(r"[^\s:/*?]+\.amazonaws\.com(\.cn)?", re.IGNORECASE)

#: Web identity providers AWS names by host in a trust policy's `{"Federated": ...}` (docs/semantics-services.md
#: §T.3); other OIDC and every SAML provider are named by their IAM provider ARN.
WEB_IDENTITY_HOSTS: frozenset[str] = frozenset({
    "accounts.google.com", "graph.facebook.com", "www.amazon.com", "cognito-identity.amazonaws.com",
})
_PROVIDER_ARN = re.compile(r"arn:[a-z-]+:iam::\d{12}:(?:saml-provider|oidc-provider)/\S+")


def is_provider(text: str) -> bool:
    """`text` names a web identity or SAML provider (the caller of AssumeRoleWithWebIdentity / SAML)."""
    return text.lower() in WEB_IDENTITY_HOSTS or _PROVIDER_ARN.fullmatch(text) is not None


_SAML_PROVIDER_ARN = re.compile(r"arn:[a-z-]+:iam::\d{12}:saml-provider/\S+")


def provider_action(provider: str) -> str:
    """The one AssumeRoleWith* action the users of `provider` call (docs/semantics-services.md §T.5-§T.6): an IAM
    SAML provider's, sts:AssumeRoleWithSAML; a web identity provider's (a host AWS knows, an IAM OIDC provider),
    sts:AssumeRoleWithWebIdentity."""
    if _SAML_PROVIDER_ARN.fullmatch(provider) is not None:
        return "sts:AssumeRoleWithSAML"
    return "sts:AssumeRoleWithWebIdentity"


def _iam_policies(idx: _Index, account: str, p: Principal | None) -> tuple[PolicyDocument, ...]:
    if p is None:
        return ()
    acct = idx.accounts.get(account)
    if acct is not None and not acct.iam_known:
        return ()
    return p.identity_policies


def derive_context(environment: Environment, request: Request, caller: Caller, target: Target) -> Context:
    """The full request context (semantics §5): the user's keys plus the keys AWS derives from the principal,
    the resource and the call (aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalOrgID/OrgPaths,
    aws:PrincipalType, aws:PrincipalIsAWSService, aws:PrincipalTag/*, kms:CallerAccount, aws:userid,
    aws:username; for a declared resource aws:ResourceAccount, aws:ResourceOrgID/OrgPaths, aws:RequestedRegion,
    aws:ResourceTag/*, s3:ResourceAccount, iam:ResourceTag/*; for a key kms:ResourceAliases and the key's
    properties; aws:SecureTransport for KMS; aws:SourceVpc of a declared VPC endpoint). A user value for a
    derived key is an InputError; keys that can never exist for the action (`catalog.condition_key_may_exist`
    False) are dropped."""
    return _derive(environment, request, caller, target,
                   environment.options.bypass_lockout_key_always_present)[0]


def _derived_by_target(target: Target, low: str) -> bool:
    """`low` is a context key AWS derives from the request's resource (the user may not give it)."""
    if target.key is not None:
        return low in KEY_DERIVED_KEYS or low.startswith("aws:resourcetag/")
    if target.declared is None and target.role is None:
        return False
    if low in ("aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths") or \
            low.startswith("aws:resourcetag/"):
        return True
    if low == "aws:requestedregion":
        return bool(target.region)
    if low == "s3:resourceaccount":
        return target.rtype is not None and target.rtype.service == "s3"
    if low == "lambda:functionurlauthtype":
        return target.declared is not None and "function_url_auth_type" in target.declared.attributes
    return target.role is not None and low.startswith("iam:resourcetag/")


def _derive(environment: Environment, request: Request, caller: Caller, target: Target,
            bypass_default: bool = False) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    action = request.action
    is_kms = action[:4].lower() == "kms:"
    key = target.key
    ctx: dict[str, tuple[str, ...]] = {}
    names: dict[str, str] = {}
    ec_keys: list[str] = []
    seen = target.memo.keys  # what a key name tells for this target and action, found once
    for name, values in request.context.items():
        known = seen.get((action, name))
        if known is None:
            lower = name.lower()
            known = seen[(action, name)] = (
                lower,
                lower in CALLER_DERIVED_KEYS or lower.startswith("aws:principaltag/")
                or _derived_by_target(target, lower),
                is_multivalued(lower),
                lower.startswith("kms:") and _key_may_exist(lower, action) is False,
                lower.startswith("kms:encryptioncontext:"))
        low, derived, multivalued, absent, encryption_context = known
        if low in ctx or low in names:
            raise InputError(f"context key `{name}` is given twice (keys are case-insensitive)",
                             code=BAD_CONTEXT)
        if derived:
            raise InputError(f"context key `{name}` is derived from the principal and the resource, not given",
                             help="remove it from the request context; the evaluator fills it in",
                             code=DERIVED_KEY)
        vals = tuple(values) if not isinstance(values, str) else (values,)
        if len(vals) > 1 and not multivalued:
            raise InputError(f"context key `{name}` is single-valued but has {len(vals)} values",
                             code=BAD_CONTEXT)
        if low == "aws:securetransport" and vals != ("true",) and is_kms:
            raise InputError("`aws:SecureTransport` is always true for KMS (TLS only)", code=BAD_CONTEXT)
        names[low] = name
        if not vals or absent:
            continue  # empty, or never exists for this action (semantics §5.1): absent
        ctx[low] = vals
        if encryption_context:
            ec_keys.append(name.split(":", 2)[2])
    names = {k: names[k] for k in ctx}
    request_keys = tuple(names)

    base_values, base_names = _base_context(environment, caller, target, action)
    ctx.update(base_values)
    names.update(base_names)

    def put(name: str, *values: str) -> None:
        low = name.lower()
        if low.startswith("kms:") and _key_may_exist(low, action) is False:
            return
        ctx[low] = tuple(values)
        names[low] = name

    url_auth = target.declared.attributes.get("function_url_auth_type") if target.declared is not None else None
    if url_auth is not None and (action == "lambda:InvokeFunctionUrl" or (
            action == "lambda:InvokeFunction" and ctx.get("lambda:invokedviafunctionurl") == ("true",))):
        put("lambda:FunctionUrlAuthType", url_auth)  # the function URL's AuthType (§LAM.4)
    endpoints = _index(environment).endpoints
    endpoint = endpoints.get((ctx.get("aws:sourcevpce") or ("",))[0]) if endpoints else None
    if endpoint is not None:
        given = ctx.get("aws:sourcevpc")
        if given is not None and given != (endpoint.vpc,):
            raise InputError(f"`aws:SourceVpc` {given} is not the VPC `{endpoint.vpc}` of endpoint "
                             f"`{endpoint.id}`", code=BAD_CONTEXT)
        put("aws:SourceVpc", endpoint.vpc)
    if "aws:viaawsservice" not in ctx and not ctx.keys().isdisjoint(requestfacts.FAS_KEYS):
        put("aws:ViaAWSService", "true")  # a forward access session (requestfacts, fact 3)
    if is_kms:
        via = "kms:viaservice" in ctx
        if "aws:viaawsservice" not in ctx:
            put("aws:ViaAWSService", "true" if via else "false")
        if "kms:grantisforawsresource" not in ctx:
            put("kms:GrantIsForAWSResource", "true" if via else "false")
        # kms:BypassPolicyLockoutSafetyCheck is defaulted only per option: the KMS guide allows PutKeyPolicy
        # with `Null: true` "only when the request does not include the parameter" (conditions-kms__2)
        if bypass_default and "kms:bypasspolicylockoutsafetycheck" not in ctx:
            put("kms:BypassPolicyLockoutSafetyCheck", "false")
        if "kms:encryptionalgorithm" not in ctx and key is not None and key.key_spec == "SYMMETRIC_DEFAULT" \
                and action in SYMMETRIC_ALGORITHM_ACTIONS:
            # the parameter defaults to SYMMETRIC_DEFAULT; GenerateDataKey* always use it (kms-docs
            # conditions-kms__6: a Deny unless SYMMETRIC_DEFAULT leaves GenerateDataKey* unaffected)
            put("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT")
        if "kms:encryptioncontextkeys" in ctx:
            given_keys = {v.lower() for v in ctx["kms:encryptioncontextkeys"]}
            if ec_keys and given_keys != {k.lower() for k in ec_keys}:
                raise InputError("`kms:EncryptionContextKeys` does not list the keys of the "
                                 "`kms:EncryptionContext:*` context entries", code=BAD_CONTEXT)
        elif ec_keys:
            put("kms:EncryptionContextKeys", *ec_keys)
    # (only the keys the request gives can break a fact, with the two AWS derives from them: what AWS derives is
    # consistent by construction)
    broken: list[str] = []
    if request.context:
        asked = {k: ctx[k] for k in request_keys if k in ctx}
        for k in ("aws:viaawsservice", "kms:grantisforawsresource"):
            if k in ctx:
                asked[k] = ctx[k]
        broken = requestfacts.violations(asked, caller.kind)
    if broken:
        raise InputError(f"AWS never sends this request: {broken[0]}", code=IMPOSSIBLE_REQUEST,
                         help="semantics/requestfacts.py lists what AWS guarantees about a request's context")
    return ctx, names


def _base_context(environment: Environment, caller: Caller, target: Target,
                  action: str) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """The context keys derived from the caller, the resource and the action alone (cached per environment;
    the caller must not change them): lower-case name -> values, and lower-case name -> canonical name, keys
    that never exist for the action already dropped."""
    cache = _index(environment).base_contexts
    cache_key = (caller.arn, target.governing, action)
    hit = cache.get(cache_key)
    if hit is not None:
        return hit
    idx = _index(environment)
    ctx: dict[str, tuple[str, ...]] = {}
    names: dict[str, str] = {}

    def put(name: str, *values: str) -> None:
        ctx[name.lower()] = tuple(values)
        names[name.lower()] = name

    kind = caller.kind
    if kind is PrincipalKind.SERVICE:
        put("aws:PrincipalIsAWSService", "true")
        put("aws:PrincipalServiceName", caller.arn)
        put("aws:PrincipalServiceNamesList", caller.arn)
    elif kind is PrincipalKind.ANONYMOUS:
        put("aws:PrincipalAccount", "anonymous")
        put("aws:PrincipalType", "Anonymous")
        put("aws:userid", "anonymous")
        put("aws:PrincipalIsAWSService", "false")
    elif kind is PrincipalKind.PROVIDER:
        put("aws:PrincipalIsAWSService", "false")
    else:
        assert caller.account is not None and caller.principal_arn is not None
        put("aws:PrincipalArn", caller.principal_arn)
        put("aws:PrincipalAccount", caller.account)
        put("kms:CallerAccount", caller.account)
        put("aws:PrincipalIsAWSService", "false")
        put("aws:PrincipalType", {PrincipalKind.ROOT: "Account", PrincipalKind.USER: "User",
                                  PrincipalKind.ROLE_SESSION: "AssumedRole",
                                  PrincipalKind.FEDERATED_USER: "FederatedUser"}[kind])
        if kind is PrincipalKind.ROOT:
            put("aws:userid", caller.account)
        elif kind is PrincipalKind.USER:
            put("aws:username", caller.arn.rsplit("/", 1)[-1])
            if caller.unique_id:
                put("aws:userid", caller.unique_id)
        elif caller.unique_id:
            put("aws:userid", caller.unique_id)
        account = idx.accounts.get(caller.account)
        org = idx.organizations.get(account.organization) if account and account.organization else None
        if account is not None and account.organization:
            put("aws:PrincipalOrgID", account.organization)
            if org is not None:
                put("aws:PrincipalOrgPaths", org_paths(org, account))
        for tag, value in (caller.tags or {}).items():
            put(f"aws:PrincipalTag/{tag}", value)
    if action.lower().startswith("kms:"):
        put("aws:SecureTransport", "true")
    key = target.key
    if (key is not None or target.declared is not None or target.role is not None) and target.owner:
        put("aws:ResourceAccount", target.owner)
        if target.region:
            put("aws:RequestedRegion", target.region)
        owner = idx.accounts.get(target.owner)
        if owner is not None and owner.organization:
            put("aws:ResourceOrgID", owner.organization)
            owner_org = idx.organizations.get(owner.organization)
            if owner_org is not None:
                put("aws:ResourceOrgPaths", org_paths(owner_org, owner))
    if key is not None:
        if key.aliases:
            put("kms:ResourceAliases", *key.aliases)
        for tag, value in key.tags.items():
            put(f"aws:ResourceTag/{tag}", value)
        put("kms:KeySpec", key.key_spec)
        put("kms:CustomerMasterKeySpec", key.key_spec)
        put("kms:KeyUsage", key.key_usage)
        put("kms:CustomerMasterKeyUsage", key.key_usage)
        put("kms:KeyOrigin", key.origin)
        put("kms:MultiRegion", "true" if key.multi_region else "false")
    elif target.declared is not None:
        for tag, value in target.declared.tags.items():
            put(f"aws:ResourceTag/{tag}", value)
        if target.rtype is not None and target.rtype.service == "s3" and target.owner:
            put("s3:ResourceAccount", target.owner)
    elif target.role is not None:
        for tag, value in target.role.tags.items():
            put(f"aws:ResourceTag/{tag}", value)
            put(f"iam:ResourceTag/{tag}", value)
    kept = {low: values for low, values in ctx.items()
            if values and not (low.startswith("kms:") and _key_may_exist(low, action) is False)}
    out = (kept, {low: names[low] for low in kept})
    cache[cache_key] = out
    return out


@lru_cache(maxsize=16384)
def _key_may_exist(key: str, action: str) -> bool | None:
    return condition_key_may_exist(key, action)


# ---- per node kind -----------------------------------------------------------------------------------

def match_action(block: ActionBlock | None, action: str) -> bool:
    """Action / NotAction against one action name (semantics §2.1; case-insensitive; no block: False)."""
    if block is None:
        return False
    hit = any(compile_action(v.text).matches(action) for v in block.patterns)
    return not hit if block.negated else hit


def match_resource(block: ResourceBlock | None, resource: str, policy: PolicyDocument, context: Context,
                   key: Key | None, options: Options) -> bool:
    """Resource / NotResource against the request resource (semantics §2.2). In a key policy `*` means this
    key and the key's own ARN matches per `options.key_policy_own_arn_matches`; keyless actions have
    resource `*`, matched only by patterns that match the literal `*`. Variables resolve from `context`."""
    if block is None:
        return False
    patterns = tuple(compile_resource(v.text, variables=policy.supports_variables) for v in block.patterns)
    hit = resource_hits(patterns, resource, policy, context, key, options)
    return not hit if block.negated else hit


_STRENGTH = {MatchKind.NONE: 0, MatchKind.ACCOUNT: 1, MatchKind.USER_OF_FEDERATED_SESSION: 2,
             MatchKind.ROLE_OF_SESSION: 3, MatchKind.WILDCARD: 4, MatchKind.SERVICE: 5, MatchKind.FEDERATED: 5,
             MatchKind.DIRECT: 6}


def _role_matches(roles: frozenset[tuple[str, str, str]], caller: Caller) -> bool:
    """Whether a role ARN entry (partition, account, path/name in lower case) names the role of a role session; a
    role of another partition never does (§P.2)."""
    if not roles or caller.role_key is None:
        return False
    if caller.role_key in roles:
        return True
    if caller.known:
        return False
    # a role the environment does not describe: its path is unknown, compare partition, account and name
    partition, account, path_name = caller.role_key
    name = path_name.rsplit("/", 1)[-1]
    return any(p == partition and a == account and entry.rsplit("/", 1)[-1] == name for p, a, entry in roles)


def _account_named(accounts: frozenset[tuple[str, str]], caller: Caller) -> bool:
    """Whether an account entry (partition, account) names the caller's account: a root ARN only in its own
    partition (docs/semantics-services.md §P.2: partitions share no principals), a bare account id (partition "")
    in the policy's partition, which is the caller's whenever the request is not refused for crossing partitions."""
    if caller.account is None:
        return False
    partition = caller.arn.split(":", 2)[1] if caller.arn.startswith("arn:") else ""
    return ("", caller.account) in accounts or (partition, caller.account) in accounts


def _service_named(services: frozenset[str], name: str, options: Options) -> bool:
    """Service principal `name` is one of `services` (lower case); `s.amazonaws.com` and `s.amazonaws.com.cn`
    are the same principal per `Options.cn_service_principal_suffix_equivalent` (§P.4)."""
    low = name.lower()
    if low in services:
        return True
    if not options.cn_service_principal_suffix_equivalent:
        return False
    return (low[:-3] if low.endswith(".com.cn") else low + ".cn") in services


def _positive_match(cp: CompiledPrincipal, caller: Caller, options: Options) -> MatchKind:
    """Principal (not negated): the strongest kind of match of any entry (semantics §2.3)."""
    kind = caller.kind
    if kind is PrincipalKind.SERVICE:
        if _service_named(cp.services, caller.arn, options):
            return MatchKind.SERVICE
        return MatchKind.WILDCARD if cp.wildcard else MatchKind.NONE
    if kind is PrincipalKind.PROVIDER:
        # a web identity / SAML caller is named by its provider; `*` names every caller (semantics §2.3)
        if caller.arn.lower() in cp.federated:
            return MatchKind.FEDERATED
        return MatchKind.WILDCARD if cp.wildcard else MatchKind.NONE
    if cp.wildcard:
        best = MatchKind.WILDCARD
    else:
        best = MatchKind.NONE
    if kind is PrincipalKind.ANONYMOUS:
        return best
    if caller.arn in cp.arns and kind is not PrincipalKind.ROOT:
        return MatchKind.DIRECT
    if kind is PrincipalKind.ROLE_SESSION and _role_matches(cp.roles, caller):
        return MatchKind.ROLE_OF_SESSION if _STRENGTH[best] < 3 else best
    if kind is PrincipalKind.FEDERATED_USER and caller.user_arn is not None and caller.user_arn in cp.arns:
        return MatchKind.USER_OF_FEDERATED_SESSION if _STRENGTH[best] < 2 else best
    if best is MatchKind.NONE and _account_named(cp.accounts, caller):
        return MatchKind.ACCOUNT
    return best


def _not_principal_applies(cp: CompiledPrincipal, caller: Caller, options: Options) -> bool:
    """Deny+NotPrincipal: True when the caller is NOT exempt (semantics §2.4)."""
    if caller.boundary is not None:
        return True  # a principal with a permissions boundary is never exempt
    if cp.wildcard:
        return False
    kind = caller.kind
    links: list[bool]
    if kind is PrincipalKind.SERVICE:
        links = [_service_named(cp.services, caller.arn, options)]
    elif kind is PrincipalKind.PROVIDER:
        links = [caller.arn.lower() in cp.federated]
    elif kind is PrincipalKind.ANONYMOUS:
        links = [False]
    else:
        links = [_account_named(cp.accounts, caller)]
        if kind is PrincipalKind.USER:
            links.append(caller.arn in cp.arns)
        elif kind is PrincipalKind.ROLE_SESSION:
            links += [_role_matches(cp.roles, caller), caller.arn in cp.arns]
        elif kind is PrincipalKind.FEDERATED_USER:
            links.append(caller.arn in cp.arns)
    exempt = all(links) if options.not_principal_mode is NotPrincipalMode.CONSERVATIVE_CHAIN else any(links)
    return not exempt


def _match_compiled_principal(cp: CompiledPrincipal, statement: Statement, caller: Caller,
                              options: Options) -> MatchKind:
    """`match_principal` on a compiled statement's principal; NotPrincipal with Allow is unsupported. The
    match depends on the element, the caller and the options only: remembered per caller (`Caller.matches`)."""
    if cp.negated and statement.effect is Effect.ALLOW:
        raise UnsupportedFeatureError(
            "`NotPrincipal` with `Allow` is not supported (AWS documents NotPrincipal for Deny only)",
            span=statement.principal.span if statement.principal else statement.span)
    memo = caller.matches
    hit = memo.get(id(cp))
    if hit is not None and hit[0] is cp and hit[1] is options:
        return hit[2]
    if cp.negated:
        kind = MatchKind.DIRECT if _not_principal_applies(cp, caller, options) else MatchKind.NONE
    else:
        kind = _positive_match(cp, caller, options)
    memo[id(cp)] = (cp, options, kind)
    return kind


def match_principal(block: PrincipalBlock | None, caller: Caller, options: Options) -> MatchKind:
    """Principal / NotPrincipal against the caller (semantics §2.3, §2.4): the strongest kind of match of
    any entry. NotPrincipal (Deny only) returns DIRECT when the caller is not exempt per
    `options.not_principal_mode` (a caller with a permissions boundary is never exempt), else NONE."""
    if block is None:
        return MatchKind.NONE
    cp = compile_principal(block)
    if cp.negated:
        return MatchKind.DIRECT if _not_principal_applies(cp, caller, options) else MatchKind.NONE
    return _positive_match(cp, caller, options)


# ---- conditions --------------------------------------------------------------------------------------

_UNRESOLVED = object()


def _single(cc: CompiledCondition, x: str, values: list[object], options: Options) -> bool:
    """op1(x): the operator on one request value (positive: some value matches; negated: none matches)."""
    if cc.negated:
        for typed in values:
            if typed is _UNRESOLVED:
                if not options.unresolved_variable_negated_true:
                    return False
                continue
            m = compare(cc, x, typed)
            if m is None or m:
                return False
        return True
    for typed in values:
        if typed is _UNRESOLVED:
            continue
        if compare(cc, x, typed):
            return True
    return False


def _resolved_values(cc: CompiledCondition, context: Context) -> list[object]:
    """The condition's typed values with its policy variables resolved from `context` (semantics §3.4)."""
    if not cc.has_variables:
        return [v.typed for v in cc.values]
    look = context_lookup(context)
    out: list[object] = []
    for v in cc.values:
        typed = v.typed
        if isinstance(typed, Glob | ArnPattern) and typed.has_variables:
            r = typed.resolve(look)
            out.append(_UNRESOLVED if r is None else r)
        else:
            out.append(typed)
    return out


def _evaluate_condition(cc: CompiledCondition, context: Context, options: Options) -> bool:
    """`evaluate_condition` on a compiled condition."""
    cond = cc.condition
    present = context.get(cc.key)
    if cond.operator is ConditionOperator.NULL:
        result = False
        for v in cc.values:
            if (v.typed is True and not present) or (v.typed is False and present):
                result = True
        return result
    qualifier = cond.qualifier
    if not present:
        if qualifier is SetQualifier.FOR_ALL_VALUES:
            return True
        if qualifier is SetQualifier.FOR_ANY_VALUE:
            return cond.if_exists and options.for_any_value_if_exists_absent_true
        return cond.if_exists or cc.negated
    values = _resolved_values(cc, context)
    if qualifier is SetQualifier.FOR_ANY_VALUE:
        return any(_single(cc, x, values, options) for x in present)
    if qualifier is SetQualifier.FOR_ALL_VALUES:
        return all(_single(cc, x, values, options) for x in present)
    if cc.multivalued:
        # a plain operator on a multivalued key that has values: [OPEN] §3.2 / §7.1
        if not options.plain_operator_on_multivalued_any:
            return False
        if cc.negated:
            return all(_single(cc, x, values, options) for x in present)
        return any(_single(cc, x, values, options) for x in present)
    return _single(cc, present[0], values, options)


def evaluate_condition(condition: Condition, context: Context, variables: bool, options: Options) -> bool:
    """One condition (operator, qualifier, IfExists, key, values) per the table of semantics §3.2 and the
    operators of §3.3. `variables` is True under Version 2012-10-17 (policy variables are substituted)."""
    return _evaluate_condition(compile_condition(condition, variables, options), context, options)


# ---- statements and policies -------------------------------------------------------------------------

def _evaluate_statement(cs: CompiledStatement, policy: PolicyDocument, request: Request,
                        caller: Caller, context: Context, key: Key | None,
                        options: Options) -> MatchKind | None:
    """`evaluate_statement` on a compiled statement."""
    if not matches_action(cs, request.action):
        return None
    return _applies(cs, policy.kind.is_resource_based, policy, request, caller, context, key, options)


def _applies(cs: CompiledStatement, resource_based: bool, policy: PolicyDocument, request: Request,
             caller: Caller, context: Context, key: Key | None, options: Options) -> MatchKind | None:
    """The rest of `_evaluate_statement` once the action is known to match."""
    st = cs.statement
    trust = policy.kind is PolicyKind.TRUST
    if st.resource is None and not trust:
        return None  # a statement without Resource never applies (semantics §1.2, §6 case 2)
    kind = MatchKind.NONE
    if resource_based:
        if cs.principal is None:
            return None
        kind = _match_compiled_principal(cs.principal, st, caller, options)
        if kind is MatchKind.NONE:
            return None
    if not trust:  # a trust policy is about its role: its statements name no resource (§T)
        hit = resource_hits(cs.resources, request.resource, policy, context, key, options)
        if hit == cs.resources_negated:
            return None
    for cc in cs.conditions:
        if not _evaluate_condition(cc, context, options):
            return None
    return kind


def evaluate_statement(statement: Statement, policy: PolicyDocument, request: Request, caller: Caller,
                       context: Context, key: Key | None, options: Options) -> MatchKind | None:
    """Whether a statement applies (semantics §4.1): None when it does not; otherwise the principal match
    kind (NONE for policies without Principal: identity, boundary, session, SCP)."""
    compiled = compile_policy(policy, options)
    cs = compiled.by_statement.get(id(statement))
    if cs is None:  # a statement that is not part of `policy`: compile it on its own
        cs = compile_statement(statement, policy.supports_variables, options)
    return _evaluate_statement(cs, policy, request, caller, context, key, options)


def evaluate_policy(policy: PolicyDocument, request: Request, caller: Caller, context: Context,
                    key: Key | None, options: Options) -> PolicyResult:
    """Every applicable Allow and Deny statement of one policy."""
    compiled = compile_policy(policy, options)
    candidates = compiled.by_action.get(request.action)
    if candidates is None:
        candidates = compiled.for_action(request.action)
    if not candidates:
        return _EMPTY
    allows: list[StatementHit] = []
    denies: list[StatementHit] = []
    for cs in candidates:
        kind = _applies(cs, compiled.resource_based, policy, request, caller, context, key, options)
        if kind is None:
            continue
        (allows if cs.allow else denies).append(StatementHit(policy, cs.statement, kind))
    return PolicyResult(tuple(allows), tuple(denies))


_EMPTY = PolicyResult()


def _union(results: list[PolicyResult]) -> PolicyResult:
    if len(results) == 1:
        return results[0]
    return PolicyResult(tuple(h for r in results for h in r.allows),
                        tuple(h for r in results for h in r.denies))


def _hit_reason(hit: StatementHit, role: str, note: str = "") -> Reason:
    st = hit.statement
    return Reason(policy=hit.policy.name, kind=hit.policy.kind, statement=st.index, label=st.label,
                  effect=st.effect, span=st.span, role=role, note=note)


def _rule(label: str, note: str, role: str = "rule", span: Span | None = None) -> Reason:
    return Reason(policy="", kind=None, statement=None, label=label, effect=None, span=span, role=role,
                  note=note)


# ---- per decision step -------------------------------------------------------------------------------

def _is_service_linked_role(caller: Caller) -> bool:
    return caller.role_arn is not None and ":role/aws-service-role/" in caller.role_arn


def evaluate_scps(environment: Environment, caller: Caller, request: Request, context: Context) -> GateResult:
    """SCPs of the caller's organization along its OU path (semantics §4.2 step 2, §4.5): every level must
    have an allowing SCP (targets without SCPs get FullAWSAccess); a Deny anywhere denies. Exempt: the
    management account, service principals and service-linked roles."""
    return _scps(environment, caller, request, context, environment.options)


def _scps(environment: Environment, caller: Caller, request: Request, context: Context,
          options: Options) -> GateResult:
    if caller.account is None or caller.kind in (PrincipalKind.SERVICE, PrincipalKind.ANONYMOUS) \
            or _is_service_linked_role(caller):
        return _EXEMPT
    levels = _scp_levels(environment, caller.account)
    if levels is None:
        return _EXEMPT
    denies: list[StatementHit] = []
    reasons: list[Reason] = []
    for target, policies in levels:
        allowed = False
        for p in policies:
            r = evaluate_policy(p, request, caller, context, None, options)
            denies.extend(r.denies)
            allowed = allowed or r.allowed
        if not allowed:
            reasons.append(_rule(f"SCP at {target}", f"no SCP attached to `{target}` allows "
                                 f"`{request.action}`", role="gate"))
    if not denies and not reasons:
        return _PASSED
    return GateResult(not denies and not reasons, tuple(denies), tuple(reasons))


_EXEMPT = GateResult(True, applies=False)
_PASSED = GateResult(True)


_T = TypeVar("_T")


def _scp_levels(environment: Environment,
                account_id: str) -> tuple[tuple[str, tuple[PolicyDocument, ...]], ...] | None:
    """The SCP levels (target, attached SCPs) along an account's path; None when SCPs do not apply (account
    or organization unknown, management account). Targets without an entry (FullAWSAccess) are left out."""
    idx = _index(environment)
    return _along_path(idx, idx.scp_levels, account_id, lambda org, account: tuple(
        (t, org.scps[t]) for t in path_targets(org, account) if t in org.scps))


def _along_path(idx: _Index, cache: dict[str, _T | None], account_id: str,
                collect: Callable[[Organization, Account], _T]) -> _T | None:
    """`collect` on the organization and account of a member account, cached in `cache`; None when the
    account or its organization is unknown or it is the management account."""
    if account_id in cache:
        return cache[account_id]
    account = idx.accounts.get(account_id)
    org = idx.organizations.get(account.organization) if account and account.organization else None
    found = None
    if account is not None and org is not None and org.management_account != account.id:
        found = collect(org, account)
    cache[account_id] = found
    return found


def evaluate_rcps(environment: Environment, target: Target, caller: Caller, request: Request,
                  context: Context) -> GateResult:
    """RCPs of the resource owner's organization along the owner account's path (semantics §4.2 step 3):
    deny-only, for the services RCPs apply to (`resources.RCP_SERVICES`). Exempt: AWS managed keys, the
    management account, requests on no resource or on a resource whose owner is unknown."""
    return _rcps(environment, target, caller, request, context, environment.options)


def _rcps(environment: Environment, target: Target, caller: Caller, request: Request, context: Context,
          options: Options) -> GateResult:
    if not _index(environment).rcps:
        return _EXEMPT  # no RCP attached anywhere: nothing can deny
    key = target.key
    if target.owner is None or target.resource == "*" or not rcps_apply_to(request.action, options):
        return _EXEMPT
    if key is not None and key.aws_managed:
        return _EXEMPT
    if key is None and target.declared is None and target.role is None:
        return _EXEMPT
    if caller.kind is PrincipalKind.SERVICE and not options.rcps_apply_to_service_principals:
        return _EXEMPT
    policies = _rcp_policies(environment, target.owner)
    if policies is None:
        return _EXEMPT
    denies: list[StatementHit] = []
    for p in policies:
        denies.extend(evaluate_policy(p, request, caller, context, key, options).denies)
    return GateResult(not denies, tuple(denies)) if denies else _PASSED


def evaluate_endpoint(environment: Environment, caller: Caller, request: Request, context: Context) -> GateResult:
    """The VPC endpoint policy of a request made through a declared endpoint (aws:SourceVpce names it and it
    serves the action's service, semantics §4.5): it must allow the request and must not deny it. An endpoint
    the environment does not declare has the default policy (allows everything)."""
    return _endpoint(environment, caller, request, context, environment.options)


def _endpoint(environment: Environment, caller: Caller, request: Request, context: Context,
              options: Options) -> GateResult:
    via = context.get("aws:sourcevpce")
    endpoint = _index(environment).endpoints.get(via[0]) if via else None
    if endpoint is None or endpoint.policy is None:
        return _EXEMPT
    if endpoint.service != request.action.split(":", 1)[0].lower():
        return _EXEMPT
    r = evaluate_policy(endpoint.policy, request, caller, context, None, options)
    if r.denies:
        return GateResult(False, r.denies)
    allows = r.allows
    if endpoint.gateway and options.vpce_gateway_account_principal_root_only:
        # in a gateway endpoint's policy an account principal admits the account's root user only (§VPCE.2)
        allows = tuple(h for h in allows if h.match is not MatchKind.ACCOUNT or caller.kind is PrincipalKind.ROOT)
    if not allows:
        return GateResult(False, reasons=(_rule(f"VPC endpoint {endpoint.id}", f"the endpoint policy of "
                                                f"`{endpoint.id}` does not allow `{request.action}`", role="gate",
                                                span=endpoint.span),))
    return _PASSED


def _rcp_policies(environment: Environment, account_id: str) -> tuple[PolicyDocument, ...] | None:
    """The RCPs attached along the path of a key owner's account; None when RCPs do not apply (account or
    organization unknown, management account)."""
    idx = _index(environment)
    return _along_path(idx, idx.rcp_policies, account_id, lambda org, owner: tuple(
        p for t in path_targets(org, owner) for p in org.rcps.get(t, ())))


def _grantee_matches(grantee: str, caller: Caller) -> bool:
    """A grant's grantee names exactly the caller: its ARN, the role of a role session, or the service."""
    if caller.kind is PrincipalKind.SERVICE:
        return grantee.lower() == caller.arn.lower()
    if grantee == caller.arn:
        return True
    return caller.role_arn is not None and grantee == caller.role_arn


def _request_encryption_context(context: Context) -> dict[str, str]:
    prefix = "kms:encryptioncontext:"
    return {k[len(prefix):]: v[0] for k, v in context.items() if k.startswith(prefix) and v}


def _constraints_hold(grant: Grant, action: str, context: Context) -> bool:
    if action in KMS_ENCRYPTION_CONTEXT_ACTIONS:
        ec = _request_encryption_context(context)  # keys already lower case
        if grant.encryption_context_equals is not None:
            want = {k.lower(): v for k, v in grant.encryption_context_equals.items()}
            if ec != want:
                return False
        if grant.encryption_context_subset is not None:
            for k, v in grant.encryption_context_subset.items():
                if ec.get(k.lower()) != v:
                    return False
    if grant.source_arn is not None and action != "kms:RetireGrant" \
            and context.get("aws:sourcearn") != (grant.source_arn,):
        return False
    if action == "kms:CreateGrant":
        # a grant with CreateGrant lets the grantee create grants only for operations it holds
        ops = context.get("kms:grantoperations", ())
        if any(f"kms:{op}" not in grant.operations for op in ops):
            return False
    return True


def evaluate_grants(key: Key, caller: Caller, request: Request, context: Context,
                    options: Options) -> tuple[Grant, ...]:
    """The grants on `key` that allow the request (semantics §4.4): grantee matches the caller (or its account
    per options), the operation is listed, and EncryptionContextEquals / Subset constraints hold (EC key
    case-insensitive, value case-sensitive; ignored for operations without encryption context)."""
    return _grants(key, caller, request, context, options, identity_allows=None)


def _grants(key: Key, caller: Caller, request: Request, context: Context, options: Options,
            identity_allows: bool | None) -> tuple[Grant, ...]:
    action = request.action
    out: list[Grant] = []
    for grant in key.grants:
        if action not in grant.operations:
            continue
        if not _grantee_matches(grant.grantee, caller):
            account = grantee_account(grant.grantee)
            if account is None or account != caller.account:
                continue
            if caller.kind is not PrincipalKind.ROOT:
                if not options.account_grantee_delegates:
                    continue
                if identity_allows is False:
                    continue
        if _constraints_hold(grant, action, context):
            out.append(grant)
    return tuple(out)


def evaluate_resource_policy(target: Target, caller: Caller, request: Request, context: Context,
                             options: Options) -> PolicyResult:
    """The applicable statements of the resource-based policy that decides the request (key policy, trust
    policy, resource policy or sharing attribute), with their principal match kinds; empty when none."""
    if target.key is not None:
        return evaluate_key_policy(target.key, caller, request, context, options)
    policy = target.policy(options)
    if policy is None:
        return _EMPTY
    return evaluate_policy(policy, request, caller, context, None, options)


def evaluate_key_policy(key: Key, caller: Caller, request: Request, context: Context,
                        options: Options) -> PolicyResult:
    """The key policy's applicable statements with their principal match kinds (semantics §4.4)."""
    if not options.resource_keys_in_key_policy:
        context = {k: v for k, v in context.items()
                   if not (k.startswith("aws:resourcetag/") or k == "kms:resourcealiases")}
    return evaluate_policy(key.policy, request, caller, context, key, options)


def evaluate_identity(caller: Caller, request: Request, context: Context, options: Options) -> IdentityResult:
    """The caller's identity side per semantics §4.2 steps 5-7 (root: always allowed, no boundary)."""
    empty = PolicyResult()
    if caller.kind in (PrincipalKind.SERVICE, PrincipalKind.ANONYMOUS):
        return IdentityResult(empty, None, None, allowed=False, boundary_allows=True, session_allows=True)
    if caller.kind is PrincipalKind.ROOT:
        return IdentityResult(empty, None, None, allowed=True, boundary_allows=True, session_allows=True)
    key = None
    identity = _union([evaluate_policy(p, request, caller, context, key, options)
                       for p in caller.identity_policies]) if caller.identity_policies else empty
    boundary = evaluate_policy(caller.boundary, request, caller, context, key, options) \
        if caller.boundary is not None else None
    session = _union([evaluate_policy(p, request, caller, context, key, options)
                      for p in caller.session_policies]) if caller.session_policies else None
    boundary_allows = boundary is None or boundary.allowed
    if caller.kind is PrincipalKind.FEDERATED_USER:
        session_allows = session is not None and session.allowed  # no session policy: implicit deny (§4.2)
    else:
        session_allows = session is None or session.allowed
    allowed = identity.allowed and boundary_allows and session_allows
    return IdentityResult(identity, boundary, session, allowed, boundary_allows, session_allows)


def _sufficient(kind: MatchKind, caller: Caller, ident: IdentityResult) -> bool:
    """Whether a same-account key-policy Allow matched with `kind` grants by itself (semantics §4.2 table)."""
    if kind in (MatchKind.DIRECT, MatchKind.SERVICE, MatchKind.FEDERATED):
        return True
    if kind is MatchKind.WILDCARD:
        # a federated session without session policy is denied except for grants to its exact ARN
        return not (caller.kind is PrincipalKind.FEDERATED_USER and not caller.session_policies)
    if kind in (MatchKind.ROLE_OF_SESSION, MatchKind.USER_OF_FEDERATED_SESSION):
        return ident.boundary_allows and ident.session_allows
    if kind is MatchKind.ACCOUNT:
        return ident.allowed
    return False


def _resolve_target(environment: Environment, request: Request) -> tuple[Request, Target]:
    """Canonical action and what the request acts on (`Target`): the key of a KMS key request (alias ARNs
    resolved to their key, semantics §2.2), the role of an sts request on a role, the declared resource whose
    policy governs the request (an S3 object's bucket), or an undeclared resource (no resource-based policy
    is known for it). It reads the action and resource only: found once per environment (`_find_target`), so
    every request on them shares one `Target`; a request that is refused is refused again each time."""
    idx = _index(environment)
    asked = (request.action, request.resource)
    hit = idx.targets.get(asked)
    if hit is None:
        req, target = _find_target(idx, request)
        hit = idx.targets[asked] = (req.action, req.resource, target)
        return req, target
    action, resource, target = hit
    if action == request.action and resource == request.resource:
        return request, target
    return Request(request.principal, action, resource, request.context), target


def _find_target(idx: _Index, request: Request) -> tuple[Request, Target]:
    """`_resolve_target` of a request whose action and resource were not asked before."""
    action = canonical_action(request.action)
    if action is None:
        raise InputError(f"`{request.action}` is not an action of the AWS catalogue", code=BAD_ACTION,
                         help="a ReEncrypt call is authorised as `kms:ReEncryptFrom` and `kms:ReEncryptTo`"
                         if request.action.lower() == "kms:reencrypt" else None)
    resource = request.resource
    req = request if action == request.action else Request(request.principal, action, resource, request.context)
    if action.lower().startswith("kms:"):
        return _resolve_kms(idx, req)
    takes = action_resource_types(action)
    if resource == "*":
        if takes and action not in _STAR_ALLOWED:
            raise InputError(f"`{action}` acts on a resource ({', '.join(takes)}); name it instead of `*`",
                             code=BAD_RESOURCE)
        return req, Target("*", Rule.IDENTITY)
    rtype = resource_type_of(resource)
    if rtype is not None and takes and rtype.service == action.split(":", 1)[0] and action_type(rtype) not in takes:
        raise InputError(f"`{action}` acts on {', '.join(takes)}, not on a {rtype.label} such as `{resource}`",
                         code=BAD_RESOURCE)
    if not takes and rtype is not None and rtype.service == action.split(":", 1)[0]:
        raise InputError(f"`{action}` takes no resource; use `*` as the request resource, not `{resource}`",
                         code=BAD_RESOURCE)
    rule = rule_for(action, rtype)
    parts = arns.parse(resource)
    in_arn = parts.account if parts is not None and arns.is_account_id(parts.account) else None
    if rule is Rule.TRUST:
        role = idx.principals.get(resource)
        if role is None or role.kind is not PrincipalKind.ROLE:
            raise InputError(f"role `{resource}` is not in the environment", code=BAD_RESOURCE,
                             help="declare it under `principals` with its `trust_policy`")
        if role.trust_policy is None:
            raise InputError(f"the trust policy of role `{resource}` is not given", code=BAD_RESOURCE,
                             help="give it as `trust_policy` of the role in the manifest")
        return req, Target(resource, rule, rtype, in_arn, role=role)
    declared = idx.resources.get(governing_arn(resource))
    owner = declared.account if declared is not None else in_arn
    if rule is Rule.RESOURCE_POLICY and declared is None:
        return req, Target(resource, Rule.IDENTITY, rtype, owner)
    return req, Target(resource, rule, rtype, owner, declared=declared)


def resolve_target(environment: Environment, request: Request) -> Target:
    """What `request` acts on (`_resolve_target` without the canonical request)."""
    return _resolve_target(environment, request)[1]


def given_context(environment: Environment, request: Request) -> dict[str, tuple[str, ...]]:
    """The request's context without the keys AWS derives for its resource and action (a caller cannot give
    them: `_derive` would refuse them): the resource keys of a declared target, aws:SecureTransport of a KMS
    request, aws:SourceVpc of a declared VPC endpoint."""
    try:
        _, target = _resolve_target(environment, request)
    except InputError:
        return dict(request.context)
    low = {k.lower(): k for k in request.context}
    via = request.context.get(low.get("aws:sourcevpce", ""), ("",)) or ("",)
    endpoint = _index(environment).endpoints.get(via[0])
    out: dict[str, tuple[str, ...]] = {}
    for name, values in request.context.items():
        key = name.lower()
        if _derived_by_target(target, key):
            continue
        if key == "aws:securetransport" and request.action[:4].lower() == "kms:":
            continue
        if key == "aws:sourcevpc" and endpoint is not None:
            continue
        out[name] = values
    return out


#: Actions whose catalogue entry names a resource type but that AWS also authorises on `*` (a list call that
#: may name no resource); kept empty until the catalogue says so for an action.
_STAR_ALLOWED: frozenset[str] = frozenset()


def _resolve_kms(idx: _Index, req: Request) -> tuple[Request, Target]:
    """The target of a KMS request (semantics §2.2, §4.6): keyless actions take `*`; an alias ARN names its
    key (and sets kms:RequestAlias); key actions take a key of the environment."""
    action, resource = req.action, req.resource
    if action in kms_keyless_actions():
        if resource != "*":
            raise InputError(f"`{action}` has no resource; use `*` as the request resource, not `{resource}`",
                             code=BAD_RESOURCE)
        return req, Target("*", Rule.IDENTITY)
    named = arns.parse_kms(resource)
    alias_name = None
    if action not in KMS_ALIAS_ACTIONS and isinstance(named, arns.AliasArn):
        aliased = idx.aliases.get((named.region, named.account, named.alias_name))
        if aliased is None:
            raise InputError(f"alias `{resource}` does not name a key of the environment", code=BAD_RESOURCE)
        resource = aliased.arn
        alias_name = named.alias_name
        req = Request(req.principal, action, resource, req.context)
    if isinstance(arns.parse_kms(resource), arns.KeyArn):
        key = idx.keys.get(resource)
        if key is None:
            raise InputError(f"key `{resource}` is not in the environment", code=BAD_RESOURCE)
        return req, Target(resource, Rule.KMS, resource_type_of(resource), key.account, key=key,
                           alias_name=alias_name)
    if action in kms_key_resource_actions() and action not in KMS_ALIAS_ACTIONS:
        raise InputError(f"`{action}` acts on a key; the request resource must be a key ARN, "
                         f"not `{resource}`", code=BAD_RESOURCE)
    parts = arns.parse(resource)
    owner = parts.account if parts is not None and arns.is_account_id(parts.account) else None
    return req, Target(resource, Rule.IDENTITY, resource_type_of(resource), owner)


def evaluate(environment: Environment, request: Request, options: Options | None = None) -> Evaluation:
    """The decision on one request (semantics §4, docs/semantics-services.md): the rules AWS applies on its own
    side, explicit deny anywhere, the SCP, RCP and VPC endpoint gates, then the rule of the resource: KMS keys
    (§4.4: key policy directly or via account delegation, grants), role trust policies (§T), other
    resource-based policies (§G: identity or resource policy in the same account, both across accounts), or
    identity policies alone. A function URL call also needs lambda:InvokeFunction through the URL (§LAM.4, per
    option). `options` defaults to the environment's."""
    opts = options or environment.options
    result = _decide(environment, request, opts, via_url=False)
    if not (result.decision.allowed and opts.lambda_url_requires_invoke_function
            and request.action.lower() == "lambda:invokefunctionurl"
            and canonical_action(request.action) == "lambda:InvokeFunctionUrl"):
        return result
    context = {k: v for k, v in request.context.items() if k.lower() != "lambda:invokedviafunctionurl"}
    inner = _decide(environment, Request(request.principal, "lambda:InvokeFunction", request.resource,
                                         {**context, "lambda:InvokedViaFunctionUrl": ("true",)}), opts, via_url=True)
    if inner.decision.allowed:
        return replace(result, reasons=result.reasons + inner.reasons)
    why = _rule("function URL", "a function URL call also needs lambda:InvokeFunction through the URL")
    return Evaluation(request, inner.decision, (why, *inner.reasons), result.context)


def _decide(environment: Environment, request: Request, opts: Options, *, via_url: bool) -> Evaluation:
    """`evaluate` of one action (`via_url`: the lambda:InvokeFunction a function URL call implies)."""
    callers = _index(environment).callers
    caller = callers.get(request.principal)
    if caller is None:
        caller = callers[request.principal] = resolve_caller(environment, request.principal)
    req, target = _resolve_target(environment, request)
    key = target.key
    alias_name = target.alias_name
    if alias_name is not None:
        given = {k.lower(): v for k, v in req.context.items()}.get("kms:requestalias")
        if given is not None and tuple(given) != (alias_name,):
            raise InputError(f"`kms:RequestAlias` {tuple(given)} disagrees with the alias `{alias_name}` "
                             "named as the resource", code=BAD_CONTEXT)
        if given is None:
            req = replace(req, context={**req.context, "kms:RequestAlias": (alias_name,)})
    ctx, names = _derive(environment, req, caller, target, opts.bypass_lockout_key_always_present)
    full_context = _DisplayContext(ctx, names)

    def done(decision: Decision, reasons: list[Reason]) -> Evaluation:
        return Evaluation(request, decision, tuple(reasons), full_context)

    caller_partition = caller.partition
    if caller_partition and target.partition is not None and target.partition != caller_partition:
        return done(Decision.IMPLICIT_DENY, [_rule(
            "partition", f"`{caller.arn}` and `{target.governing}` are in different partitions, which share "
            "no principals or resources")])
    fixed = _aws_rules(target, caller, req, ctx, opts)
    allow_rule = next((r for r in fixed if r.allowed), None) if fixed else None
    refusal = next((r for r in fixed if not r.allowed), None) if fixed else None
    if allow_rule is not None and (allow_rule.scp_denies is None or getattr(opts, allow_rule.scp_denies)):
        # decided by AWS before any policy is read (docs/semantics-services.md §A)
        return done(Decision.ALLOW, [_rule(f"AWS rule: {allow_rule.name}", allow_rule.note, role="allow")])
    if caller.kind is PrincipalKind.PROVIDER and req.action not in PROVIDER_ACTIONS:
        return done(Decision.IMPLICIT_DENY, [_rule(
            "federated provider", f"a web identity or SAML caller can only call "
            f"{' or '.join(sorted(PROVIDER_ACTIONS))}, not `{req.action}`")])
    if caller.kind is PrincipalKind.ANONYMOUS and not accepts_anonymous(
            "lambda:InvokeFunctionUrl" if via_url else req.action, _facts(target), opts):
        return done(Decision.IMPLICIT_DENY, [_rule(
            "anonymous", f"`{req.action}` does not accept unsigned (anonymous) requests here")])

    scp = _scps(environment, caller, req, ctx, opts)
    if allow_rule is not None:  # sts:GetCallerIdentity when SCP and session-policy denies count (option)
        ident = evaluate_identity(caller, req, ctx, opts)
        org_denies = [*scp.denies, *(ident.session.denies if ident.session else ())]
        if org_denies:
            return done(Decision.EXPLICIT_DENY, [_hit_reason(h, "deny") for h in org_denies])
        return done(Decision.ALLOW, [_rule(f"AWS rule: {allow_rule.name}", allow_rule.note, role="allow")])
    rcp = _rcps(environment, target, caller, req, ctx, opts)
    vpce = _endpoint(environment, caller, req, ctx, opts)
    kp = evaluate_resource_policy(target, caller, req, ctx, opts)
    ident = evaluate_identity(caller, req, ctx, opts)
    if _owner_root_of_bucket(target, caller, req):
        # the bucket owner's root user is never locked out of its bucket policy (§S3.8, §A.4)
        kp = PolicyResult(kp.allows, ())

    # 1. explicit deny anywhere (semantics §4.2 step 1)
    deny_hits = [*scp.denies, *rcp.denies, *vpce.denies, *kp.denies, *ident.denies]
    if deny_hits:
        return done(Decision.EXPLICIT_DENY, [_hit_reason(h, "deny") for h in deny_hits])
    if refusal is not None:  # refused by AWS whatever the policies allow (§A, §0.2)
        return done(Decision.IMPLICIT_DENY, [_rule(f"AWS rule: {refusal.name}", refusal.note)])
    # 2. SCPs: an implicit deny at any level is final; so is a VPC endpoint policy that does not allow
    if not scp.passed:
        return done(Decision.IMPLICIT_DENY, list(scp.reasons))
    if not vpce.passed:
        return done(Decision.IMPLICIT_DENY, list(vpce.reasons))
    region = _region_gate(environment, caller, target, opts)
    if region is not None:
        return done(Decision.IMPLICIT_DENY, [region])

    if target.rule is Rule.TRUST:
        return _decide_trust(target, caller, req, kp, ident, done, opts)
    if target.rule is Rule.RESOURCE_POLICY:
        return _decide_resource_policy(environment, target, caller, req, kp, ident, done)
    if key is None:
        return _decide_without_key(req, caller, target, ident,
                                   _identity_reasons(ident, caller) + _limit_reasons(ident), done)

    same_account = caller.account == key.account
    action = req.action
    if action == "kms:RetireGrant":
        return _decide_retire_grant(key, caller, req, ctx, ident, opts, same_account, done)

    if not same_account and caller.kind is not PrincipalKind.SERVICE:
        # 4.3: cross-account rules
        if action not in KMS_CROSS_ACCOUNT_ACTIONS:
            return done(Decision.IMPLICIT_DENY, [_rule(
                "cross-account", f"`{action}` is not usable across accounts (key owner {key.account}, "
                f"caller {caller.account})")])
        if key.region in OPT_IN_REGIONS:
            acct = _index(environment).accounts.get(caller.account or "")
            enabled = acct.enabled_regions if acct is not None else None
            if enabled is None or key.region not in enabled:
                return done(Decision.IMPLICIT_DENY, [_rule(
                    "opt-in Region", f"account {caller.account} has not enabled the key's Region "
                    f"`{key.region}`")])

    grants = _grants(key, caller, req, ctx, opts, identity_allows=ident.allowed)
    if not same_account and opts.cross_account_grant_requires_iam \
            and caller.kind is not PrincipalKind.SERVICE and not ident.allowed:
        grants = ()
    grant_reasons = [_rule(f"grant {g.name or g.grantee}", f"grant to `{g.grantee}` allows `{action}`",
                           role="allow", span=g.span) for g in grants]

    if caller.kind is PrincipalKind.SERVICE:
        allows = [h for h in kp.allows if h.match in (MatchKind.SERVICE, MatchKind.WILDCARD)]
        if allows or grants:
            return done(Decision.ALLOW, [_hit_reason(h, "allow") for h in allows] + grant_reasons)
        return done(Decision.IMPLICIT_DENY, [_rule("key policy", "no key-policy statement allows the service "
                                                    f"principal `{caller.arn}`")])

    if same_account:
        direct = [h for h in kp.allows
                  if h.match is not MatchKind.ACCOUNT and _sufficient(h.match, caller, ident)]
        delegated = [h for h in kp.allows if h.match is MatchKind.ACCOUNT] if ident.allowed else []
        if direct or delegated or grants:
            reasons = [_hit_reason(h, "allow", f"key policy, {h.match.value} match") for h in direct]
            if delegated:
                reasons += [_hit_reason(h, "allow", "key policy delegates to the account") for h in delegated]
                reasons += _identity_reasons(ident) + _limit_reasons(ident)
            elif any(h.match in (MatchKind.ROLE_OF_SESSION, MatchKind.USER_OF_FEDERATED_SESSION)
                     for h in direct):
                reasons += _limit_reasons(ident)
            return done(Decision.ALLOW, reasons + grant_reasons)
        return done(Decision.IMPLICIT_DENY, _why_not_same_account(kp, caller, ident, action))

    # cross account: key policy (direct or account) and the caller's identity side, or a grant
    if kp.allowed and ident.allowed:
        reasons = [_hit_reason(h, "allow", f"key policy, {h.match.value} match") for h in kp.allows]
        return done(Decision.ALLOW, reasons + _identity_reasons(ident) + _limit_reasons(ident) + grant_reasons)
    if grants:
        return done(Decision.ALLOW, grant_reasons)
    if not kp.allowed:
        return done(Decision.IMPLICIT_DENY, [_rule(
            "key policy", f"the key policy of `{key.arn}` does not allow `{action}` for `{caller.arn}`")])
    return done(Decision.IMPLICIT_DENY,
                [_rule("identity", _identity_gap(caller, ident, action, "cross-account "))])


def _facts(target: Target) -> Facts:
    """What the AWS-side rules read of a request's resource (`awsrules.Facts`; remembered per target)."""
    memo = target.memo
    if memo.facts is not None:
        return memo.facts
    rtype = resource_type_of(target.governing) if target.governing != "*" else None
    attrs: dict[str, str] = dict(target.declared.attributes) if target.declared is not None else {}
    if target.key is not None and target.key.aws_managed:
        attrs["aws_managed"] = "true"
    memo.facts = Facts(target.governing, rtype.service if rtype else "", rtype.name if rtype else "",
                       tuple(sorted(attrs.items())))
    return memo.facts


def _aws_rules(target: Target, caller: Caller, request: Request, context: Context,
               options: Options) -> list[AwsRule]:
    """The AWS-side rules that cover this request and its caller (docs/semantics-services.md §A). The rules of
    the action and target (`awsrules.rules_for`) are found once per target, action and options."""
    memo = target.memo.rules
    found = memo.get((request.action, id(options)))
    if found is None or found[0] is not options:
        found = memo[(request.action, id(options))] = (
            options, rules_for(request.action, _facts(target), options), linked_service(target.governing))
    _, rules, linked = found
    if not rules:
        return []
    same = caller.account is not None and caller.account == target.owner
    out: list[AwsRule] = []
    for r in rules:
        if not r.covers(caller.kind, same, caller.arn if caller.kind is PrincipalKind.SERVICE else None, linked):
            continue
        if all(any(compile_glob(glob).matches(v) for v in context.get(key, ())) for key, glob in r.context):
            out.append(r)
    return out


def _owner_root_of_bucket(target: Target, caller: Caller, request: Request) -> bool:
    """The root user of an S3 bucket's owner account on a bucket-policy operation (§S3.8, §A.4)."""
    return (caller.kind is PrincipalKind.ROOT and caller.account == target.owner and request.action in
            BUCKET_POLICY_ACTIONS and target.rtype is not None and target.rtype.service == "s3")


def _region_gate(environment: Environment, caller: Caller, target: Target, options: Options) -> Reason | None:
    """Opt-in Regions (docs/semantics-services.md §P.3): a resource in a Region its declared owner disabled (its
    `enabled_regions` list omits it) is out of reach for everyone; a caller of another account needs the Region
    enabled too (per option; KMS keys check it in the KMS rule, semantics §4.3)."""
    region = target.region
    if region not in OPT_IN_REGIONS or not target.owner:
        return None
    idx = _index(environment)
    owner = idx.accounts.get(target.owner)
    # an owner that lists its enabled Regions without this one has disabled it; one that lists none (or is not
    # declared) holds a resource there, so enabled it
    if owner is not None and owner.enabled_regions is not None and region not in owner.enabled_regions:
        return _rule("opt-in Region", f"account {target.owner} has not enabled the Region `{region}` of "
                     f"`{target.governing}`")
    if target.key is not None or not options.opt_in_region_cross_account_requires_caller_enabled:
        return None
    if caller.kind in IAM_CALLERS and caller.account != target.owner:
        acct = idx.accounts.get(caller.account or "")
        enabled = acct.enabled_regions if acct is not None else None
        if enabled is None or region not in enabled:
            return _rule("opt-in Region", f"account {caller.account} has not enabled the Region `{region}`")
    return None


#: Caller kinds that are IAM principals of an account.
IAM_CALLERS: frozenset[PrincipalKind] = frozenset({
    PrincipalKind.ROOT, PrincipalKind.USER, PrincipalKind.ROLE_SESSION, PrincipalKind.FEDERATED_USER,
})


def _identity_reasons(ident: IdentityResult, caller: Caller | None = None) -> list[Reason]:
    out = [_hit_reason(h, "allow") for h in ident.identity.allows]
    if caller is not None and caller.kind is PrincipalKind.ROOT:
        out.append(_rule("root user", f"the root user of account {caller.account} needs no identity policy",
                         role="allow"))
    return out


def _limit_reasons(ident: IdentityResult) -> list[Reason]:
    out = [_hit_reason(h, "allow", "permissions boundary") for h in (ident.boundary.allows if ident.boundary else ())]
    out += [_hit_reason(h, "allow", "session policy") for h in (ident.session.allows if ident.session else ())]
    return out


class _DisplayContext(Mapping[str, tuple[str, ...]]):
    """The request context under the key names as given / canonical (built on first use)."""

    def __init__(self, ctx: Mapping[str, tuple[str, ...]], names: Mapping[str, str]) -> None:
        self._ctx = ctx
        self._names = names
        self._built: dict[str, tuple[str, ...]] | None = None

    def _view(self) -> dict[str, tuple[str, ...]]:
        if self._built is None:
            self._built = {self._names.get(k, k): v for k, v in self._ctx.items()}
        return self._built

    def __getitem__(self, name: str) -> tuple[str, ...]:
        return self._view()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._view())

    def __len__(self) -> int:
        return len(self._ctx)

    def __repr__(self) -> str:
        return repr(self._view())


def _identity_gap(caller: Caller, ident: IdentityResult, action: str, prefix: str = "") -> str:
    if not ident.identity.allowed:
        return f"no {prefix}identity policy of `{caller.arn}` allows `{action}`"
    if not ident.boundary_allows:
        return f"the permissions boundary of `{caller.arn}` does not allow `{action}`"
    if caller.kind is PrincipalKind.FEDERATED_USER and ident.session is None:
        return f"federated user `{caller.arn}` has no session policy"
    return f"the session policy of `{caller.arn}` does not allow `{action}`"


def _why_not_same_account(kp: PolicyResult, caller: Caller, ident: IdentityResult,
                          action: str) -> list[Reason]:
    if not kp.allowed:
        return [_rule("key policy", f"no key-policy statement allows `{action}` for `{caller.arn}`")]
    return [_hit_reason(h, "gate", f"{h.match.value} match needs: " + _identity_gap(caller, ident, action))
            for h in kp.allows]


def _decide_without_key(req: Request, caller: Caller, target: Target, ident: IdentityResult,
                        reasons: list[Reason], done: Callable[[Decision, list[Reason]], Evaluation]) -> Evaluation:
    """Requests no resource-based policy can grant (keyless KMS actions, alias ARNs, `*`, actions of another
    service than the resource's, resources of a type without resource-based policy, resources the environment
    does not declare): identity policies only, and a resource of another account is never reachable."""
    owner = target.owner or ""
    if owner and caller.account is not None and owner != caller.account:
        return done(Decision.IMPLICIT_DENY, [_rule(
            "cross-account", f"no resource-based policy is known for `{req.resource}` of account {owner}")])
    if caller.kind in (PrincipalKind.SERVICE, PrincipalKind.ANONYMOUS, PrincipalKind.PROVIDER):
        return done(Decision.IMPLICIT_DENY, [_rule(
            "identity", f"`{caller.arn}` has no identity policies and no resource-based policy is known for "
            f"`{req.resource}`")])
    if ident.allowed:
        return done(Decision.ALLOW, reasons)
    return done(Decision.IMPLICIT_DENY, [_rule("identity", _identity_gap(caller, ident, req.action))])


def _decide_trust(target: Target, caller: Caller, req: Request, tp: PolicyResult,
                  ident: IdentityResult, done: Callable[[Decision, list[Reason]], Evaluation],
                  options: Options) -> Evaluation:
    """An sts action on a role (docs/semantics-services.md §T): the trust policy must allow it. A web identity or
    SAML provider (AssumeRoleWith*) and a service principal need nothing else; in the role's account a trust
    policy naming the caller (not only its account) suffices as a key policy does (semantics §4.2 table),
    across accounts the caller's identity side must allow too."""
    role = target.role
    assert role is not None
    action = req.action
    if action in PROVIDER_ACTIONS and caller.kind is not PrincipalKind.PROVIDER:
        return done(Decision.IMPLICIT_DENY, [_rule(
            "federated provider", f"`{action}` is called by a web identity or SAML provider's user, "
            f"not by `{caller.arn}`")])
    if caller.kind is PrincipalKind.PROVIDER and action in PROVIDER_ACTIONS and action != provider_action(caller.arn):
        return done(Decision.IMPLICIT_DENY, [_rule(
            "federated provider", f"the users of `{caller.arn}` call `{provider_action(caller.arn)}`, "
            f"not `{action}` (§T.5-§T.6)")])
    if caller.kind is PrincipalKind.PROVIDER and options.saml_provider_must_be_role_account and \
            foreign_saml_provider(caller.arn, target.owner):
        return done(Decision.IMPLICIT_DENY, [_rule(
            "SAML provider", f"`{caller.arn}` is not a SAML provider of the role's account {target.owner}")])
    if caller.kind in (PrincipalKind.PROVIDER, PrincipalKind.SERVICE):
        want = MatchKind.FEDERATED if caller.kind is PrincipalKind.PROVIDER else MatchKind.SERVICE
        allows = [h for h in tp.allows if h.match in (want, MatchKind.WILDCARD)]
        if allows:
            return done(Decision.ALLOW, [_hit_reason(h, "allow", f"trust policy, {h.match.value} match")
                                         for h in allows])
        return done(Decision.IMPLICIT_DENY, [_rule("trust policy", f"the trust policy of `{role.arn}` does not "
                                                    f"allow `{action}` for `{caller.arn}`")])
    across = not (action in SESSION_CONTROLS and not options.cross_account_session_controls_need_identity_allow)
    return _decide_by_resource_policy(target, caller, req, tp, ident, done, "trust policy", required=True,
                                      user_boundary=options.trust_user_arn_limited_by_boundary,
                                      identity_across=across)


#: The permission-only STS actions checked beside an AssumeRole* call (§T.7-§T.9).
SESSION_CONTROLS: frozenset[str] = frozenset({"sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext"})


def foreign_saml_provider(provider: str, account: str | None) -> bool:
    """`provider` is the ARN of a SAML provider of another account than `account` (§T.5)."""
    parts = provider.split(":")
    return len(parts) >= 6 and parts[5].startswith("saml-provider/") and parts[4] != account


def _decide_resource_policy(environment: Environment, target: Target, caller: Caller, req: Request,
                            rp: PolicyResult, ident: IdentityResult,
                            done: Callable[[Decision, list[Reason]], Evaluation]) -> Evaluation:
    """A request on a resource with a resource-based policy (docs/semantics-services.md §G): service principals
    and anonymous callers by the resource policy alone; in the owner's account the identity side OR a resource
    policy Allow that names the caller (semantics §4.2 table); across accounts both. S3 Block Public Access
    `RestrictPublicBuckets` on a bucket with a public policy: the policy grants nothing to other accounts
    and anonymous callers (§S3.6)."""
    declared = target.declared
    owner_account = _index(environment).accounts.get(target.owner or "")
    note: list[Reason] = []
    if caller.kind is not PrincipalKind.SERVICE and caller.account != target.owner and \
            restricted_public(declared, owner_account, environment.options):
        note = [_rule("Block Public Access", f"RestrictPublicBuckets is on and the policy of `{target.governing}` "
                      "is public: it grants nothing outside the owner account")]
        rp = PolicyResult((), rp.denies)
    if caller.kind is PrincipalKind.SERVICE:
        allows = [h for h in rp.allows if h.match in (MatchKind.SERVICE, MatchKind.WILDCARD)]
        if allows:
            return done(Decision.ALLOW, [_hit_reason(h, "allow") for h in allows])
        return done(Decision.IMPLICIT_DENY, [_rule("resource policy", f"no statement of the policy of "
                                                    f"`{target.governing}` allows `{caller.arn}`")])
    if caller.kind is PrincipalKind.ANONYMOUS:
        allows = [h for h in rp.allows if h.match is MatchKind.WILDCARD]
        if allows:
            return done(Decision.ALLOW, [_hit_reason(h, "allow", "public") for h in allows])
        return done(Decision.IMPLICIT_DENY, note or [_rule("resource policy", f"no statement of the policy of "
                                                          f"`{target.governing}` allows anonymous callers")])
    return _decide_by_resource_policy(target, caller, req, rp, ident, done, "resource policy", required=False,
                                      notes=note)


def _user_limited(kind: MatchKind, caller: Caller, ident: IdentityResult) -> bool:
    """A direct grant to the calling IAM user that its permissions boundary does not allow (§T.4)."""
    return kind is MatchKind.DIRECT and caller.kind is PrincipalKind.USER and not ident.boundary_allows


def _decide_by_resource_policy(target: Target, caller: Caller, req: Request, rp: PolicyResult,
                               ident: IdentityResult, done: Callable[[Decision, list[Reason]], Evaluation],
                               what: str, *, required: bool, notes: list[Reason] | None = None,
                               user_boundary: bool = False, identity_across: bool = True) -> Evaluation:
    """The same-account / cross-account rule for an IAM caller (semantics §4.2 table, §4.3). `required`: the
    resource policy must allow (trust policies, like key policies); otherwise, in the owner's account, the
    identity side alone suffices. `user_boundary`: a grant to the calling user's ARN is limited by its
    permissions boundary (§T.4). `identity_across`: across accounts the identity side must allow too (§T.7)."""
    action = req.action
    same = caller.account is not None and caller.account == target.owner
    if same:
        direct = [h for h in rp.allows if h.match is not MatchKind.ACCOUNT and _sufficient(h.match, caller, ident)
                  and not (user_boundary and _user_limited(h.match, caller, ident))]
        delegated = [h for h in rp.allows if h.match is MatchKind.ACCOUNT] if ident.allowed else []
        if direct or delegated or (ident.allowed and not required):
            reasons = [_hit_reason(h, "allow", f"{what}, {h.match.value} match") for h in direct]
            if delegated:
                reasons += [_hit_reason(h, "allow", f"{what} names the account") for h in delegated]
            if ident.allowed and (delegated or not direct):
                reasons += _identity_reasons(ident, caller) + _limit_reasons(ident)
            elif any(h.match in (MatchKind.ROLE_OF_SESSION, MatchKind.USER_OF_FEDERATED_SESSION) for h in direct):
                reasons += _limit_reasons(ident)
            return done(Decision.ALLOW, reasons)
        if required or not rp.allowed:
            return done(Decision.IMPLICIT_DENY, (notes or []) + ([_rule(what, f"no statement of the {what} of "
                        f"`{target.governing}` allows `{action}` for `{caller.arn}`")] if not rp.allowed else
                        [_hit_reason(h, "gate", f"{h.match.value} match needs: " +
                                     _identity_gap(caller, ident, action)) for h in rp.allows]))
        return done(Decision.IMPLICIT_DENY, [_hit_reason(h, "gate", f"{h.match.value} match needs: " +
                                                         _identity_gap(caller, ident, action)) for h in rp.allows])
    # across accounts: the resource policy (any match) and the caller's identity side
    if rp.allowed and (ident.allowed or not identity_across):
        reasons = [_hit_reason(h, "allow", f"{what}, {h.match.value} match") for h in rp.allows]
        return done(Decision.ALLOW, reasons + _identity_reasons(ident) + _limit_reasons(ident))
    if not rp.allowed:
        return done(Decision.IMPLICIT_DENY, (notes or []) + [_rule(
            what, f"the {what} of `{target.governing}` does not allow `{action}` for `{caller.arn}` of another "
            f"account")])
    return done(Decision.IMPLICIT_DENY, [_rule("identity", _identity_gap(caller, ident, action, "cross-account "))])


def _decide_retire_grant(key: Key, caller: Caller, req: Request, ctx: Context, ident: IdentityResult,
                         options: Options, same_account: bool,
                         done: Callable[[Decision, list[Reason]], Evaluation]) -> Evaluation:
    """RetireGrant (semantics §4.4): authorised by a grant on the key (its retiring principal, or its grantee
    when the grant includes RetireGrant), or in the key's account by an identity-policy kms:RetireGrant
    (delegation). A key-policy Allow for kms:RetireGrant has no effect."""
    reasons: list[Reason] = []
    for g in key.grants:
        if g.retiring_principal is not None and _grantee_matches(g.retiring_principal, caller):
            reasons.append(_rule(f"grant {g.name or g.grantee}", f"`{caller.arn}` is the retiring principal",
                                 role="allow", span=g.span))
        elif "kms:RetireGrant" in g.operations and _grantee_matches(g.grantee, caller):
            reasons.append(_rule(f"grant {g.name or g.grantee}", "the grantee holds kms:RetireGrant",
                                 role="allow", span=g.span))
    if reasons:
        return done(Decision.ALLOW, reasons)
    if key.grants and same_account and ident.allowed:
        return done(Decision.ALLOW, [_rule("grant account", f"account {key.account} created the grants; "
                                           "its identity policies allow kms:RetireGrant", role="allow"),
                                     *[_hit_reason(h, "allow") for h in ident.identity.allows]])
    return done(Decision.IMPLICIT_DENY, [_rule(
        "RetireGrant", "kms:RetireGrant is authorised by a grant, not by the key policy; no grant on the key "
        f"names `{caller.arn}` as retiring principal or grantee with RetireGrant")])
