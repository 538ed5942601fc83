"""What AWS guarantees about a request's context: relations between keys that no request breaks (issue 14 item 2).

Input: a request's context (lower-case key names, the values as AWS would put them), the caller's kind.
Output: `violations(context, caller)`: the facts the context breaks, each a short sentence (empty for a request AWS
could send); and the data the symbolic domain reads for the same facts: `SHAPES` (the form of a key's value),
`BOOLEAN_KEYS`, `FAS_KEYS`, `SERVICE_ONLY_KEYS`, `PREFER` (values a counterexample shows, readable and real).
Guarantee: every fact below cites the AWS documentation (docs/semantics-services.md §G.8, semantics.md §4.4, §5);
`evaluate._derive` refuses a request that breaks one (EVAL003, "AWS never sends this request") and
`symbolic/domain.py` constrains the symbolic request by the same facts, so both engines reason about the same
requests. A relation AWS does not guarantee stays free (it is not listed here).

The facts (README, "What a verdict assumes"):
1. Booleans are spelled `true` / `false` (`BOOLEAN_KEYS`: AWS sets them; the Bool operators compare the parsed
   value, so only the spelling of a counterexample changes).
2. `kms:ViaService` is a service endpoint `SERVICE.REGION.amazonaws.com` (the KMS condition-key reference; the suffix
   is `.amazonaws.com` in every partition).
3. A forward access session (FAS: a service calling with its caller's credentials) is made on behalf of an IAM
   principal, and AWS marks it: `kms:ViaService` or `aws:CalledVia` present ⇒ `aws:ViaAWSService` is `true`; and
   `aws:ViaAWSService` `true` ⇒ the caller is a root user, IAM user, role session or federated user (IAM user
   guide, "Forward access sessions"; semantics.md §4.4).
4. `kms:GrantIsForAWSResource` is `true` only when an integrated service calls on the principal's behalf, which it
   does in a FAS: `true` ⇒ `kms:ViaService` present (KMS condition keys; semantics.md §5.1 and corner case 66).
5. `aws:SourceArn`, `aws:SourceAccount`, `aws:SourceOrgID`, `aws:SourceOrgPaths` are present only when a service
   principal calls on behalf of a resource (IAM user guide, "The confused deputy problem"; semantics-services §G.8);
   `aws:SourceAccount` is an account id and `aws:SourceArn` an ARN.
6. `aws:CalledViaFirst` and `aws:CalledViaLast` are present exactly when `aws:CalledVia` is, and each is one of its
   values; the values are service principals `NAME.amazonaws.com` (IAM global condition keys, "aws:CalledVia").
7. `aws:SourceVpc` and `aws:VpcSourceIp` are present only with `aws:SourceVpce`, and `aws:SourceIp` is absent then
   (IAM global condition keys: the VPC keys exist only for requests through a VPC endpoint, which carry no public
   source address); endpoint ids are `vpce-…`, VPC ids `vpc-…`. (AWS sets `aws:SourceVpc` with every
   `aws:SourceVpce`; a request may still leave it out here, the weaker fact, so that a request given without the
   VPC is not refused.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from reasoner.semantics.environment import PrincipalKind

#: Keys AWS sets to a Boolean (fact 1), lower case.
BOOLEAN_KEYS: frozenset[str] = frozenset({
    "aws:viaawsservice", "aws:securetransport", "aws:multifactorauthpresent", "aws:principalisawsservice",
    "kms:grantisforawsresource", "kms:bypasspolicylockoutsafetycheck", "kms:multiregion", "kms:reencryptonsamekey",
    "lambda:invokedviafunctionurl",
})
#: Keys present only in a forward access session (fact 3).
FAS_KEYS: tuple[str, ...] = ("kms:viaservice", "aws:calledvia", "aws:calledviafirst", "aws:calledvialast")
#: Keys present only when a service principal calls on behalf of a resource (fact 5).
SERVICE_ONLY_KEYS: tuple[str, ...] = ("aws:sourcearn", "aws:sourceaccount", "aws:sourceorgid", "aws:sourceorgpaths")
#: The callers a FAS is made for (fact 3).
IAM_CALLERS: frozenset[PrincipalKind] = frozenset({
    PrincipalKind.ROOT, PrincipalKind.USER, PrincipalKind.ROLE, PrincipalKind.ROLE_SESSION,
    PrincipalKind.FEDERATED_USER,
})

#: The form of each value AWS puts in these keys (facts 2, 5, 6, 7), as a glob over lower-case letters, digits, `.`,
#: `-` (`*` any run of them, at least one character each): the symbolic domain reads the same table.
SHAPES: dict[str, str] = {
    "kms:viaservice": "*.*.amazonaws.com",
    "aws:calledvia": "*.amazonaws.com",
    "aws:calledviafirst": "*.amazonaws.com",
    "aws:calledvialast": "*.amazonaws.com",
    "aws:sourcevpce": "vpce-*",
    "aws:sourcevpc": "vpc-*",
}
#: Characters of the shapes' `*` runs: DNS labels and resource ids.
SHAPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
#: Values a counterexample shows for a key when the policies leave it open: a real endpoint, service, id.
PREFER: dict[str, tuple[str, ...]] = {
    "kms:viaservice": ("s3.us-east-1.amazonaws.com", "ec2.us-east-1.amazonaws.com", "rds.us-east-1.amazonaws.com"),
    "aws:calledvia": ("athena.amazonaws.com", "cloudformation.amazonaws.com", "dynamodb.amazonaws.com"),
    "aws:calledviafirst": ("athena.amazonaws.com", "cloudformation.amazonaws.com"),
    "aws:calledvialast": ("athena.amazonaws.com", "cloudformation.amazonaws.com"),
    "aws:sourcevpce": ("vpce-1a2b3c4d5e6f7a8b9",),
    "aws:sourcevpc": ("vpc-1a2b3c4d",),
    "aws:sourcearn": ("arn:aws:s3:::example-bucket", "arn:aws:sns:us-east-1:123456789012:example-topic"),
    "aws:sourceaccount": ("123456789012",),
    "aws:sourceorgid": ("o-a1b2c3d4e5",),
}
_ACCOUNT = re.compile(r"[0-9]{12}")


#: `SHAPES` as regular expressions: each `*` a run of lower-case letters, digits, `.` and `-`.
_SHAPE_RES: dict[str, re.Pattern[str]] = {
    k: re.compile(re.escape(glob).replace(r"\*", "[a-z0-9.-]+")) for k, glob in SHAPES.items()}


def shape_matches(key: str, value: str) -> bool:
    """`value` has the form AWS gives key `key` (true for a key without a listed form)."""
    if key == "aws:sourceaccount":
        return bool(_ACCOUNT.fullmatch(value))
    if key == "aws:sourcearn":
        return value.startswith("arn:") and value.count(":") >= 5
    pattern = _SHAPE_RES.get(key)
    if pattern is None:
        return True
    return pattern.fullmatch(value) is not None and set(value) <= SHAPE_CHARS


#: The keys whose spelling or form a fact constrains (`violations` reads no other key's values).
_CHECKED_KEYS: frozenset[str] = frozenset({*BOOLEAN_KEYS, *SHAPES, "aws:sourceaccount", "aws:sourcearn"})


#: The keys `shape_matches` constrains (any value of another key has the form AWS gives it).
_SHAPED_KEYS: frozenset[str] = frozenset({*SHAPES, "aws:sourceaccount", "aws:sourcearn"})


def _true(context: Mapping[str, tuple[str, ...]], key: str) -> bool:
    return context.get(key) == ("true",)


def violations(context: Mapping[str, tuple[str, ...]], caller: PrincipalKind) -> list[str]:
    """The facts the request's context breaks (lower-case keys; the keys AWS derives already in it)."""
    out: list[str] = []
    for key, values in context.items():
        if key not in _CHECKED_KEYS:  # (every decision asks: only the keys a fact is about)
            continue
        if key in BOOLEAN_KEYS and any(v not in ("true", "false") for v in values):
            out.append(f"`{key}` is `true` or `false`, as AWS spells it")
        if key in _SHAPED_KEYS and not all(shape_matches(key, v) for v in values):
            out.append(f"`{key}` has the form {SHAPES.get(key, 'AWS gives it')!s}"
                       if key in SHAPES else f"`{key}` is not of the form AWS gives it")
    fas = [k for k in FAS_KEYS if k in context]
    if fas and not _true(context, "aws:viaawsservice"):
        out.append(f"`{fas[0]}` is set only in a forward access session, where `aws:ViaAWSService` is `true`")
    if _true(context, "aws:viaawsservice") and caller not in IAM_CALLERS:
        out.append("a forward access session (`aws:ViaAWSService` true) is made for an IAM principal only")
    if _true(context, "kms:grantisforawsresource") and "kms:viaservice" not in context:
        out.append("`kms:GrantIsForAWSResource` is true only when a service calls on the principal's behalf "
                   "(`kms:ViaService` present)")
    service_only = [k for k in SERVICE_ONLY_KEYS if k in context]
    if service_only and caller is not PrincipalKind.SERVICE:
        out.append(f"`{service_only[0]}` is present only when a service principal calls on behalf of a resource")
    called = set(context.get("aws:calledvia", ()))
    for key in ("aws:calledviafirst", "aws:calledvialast"):
        if (key in context) != bool(called):
            out.append(f"`{key}` is present exactly when `aws:CalledVia` is")
        elif key in context and not set(context[key]) <= called:
            out.append(f"`{key}` is one of the `aws:CalledVia` values")
    if "aws:sourcevpc" in context and "aws:sourcevpce" not in context:
        out.append("`aws:SourceVpc` is present only for a request through a VPC endpoint (with `aws:SourceVpce`)")
    if "aws:vpcsourceip" in context and "aws:sourcevpce" not in context:
        out.append("`aws:VpcSourceIp` is present only for a request through a VPC endpoint")
    if "aws:sourcevpce" in context and "aws:sourceip" in context:
        out.append("a request through a VPC endpoint has no `aws:SourceIp`")
    return out


__all__ = ["BOOLEAN_KEYS", "FAS_KEYS", "IAM_CALLERS", "PREFER", "SERVICE_ONLY_KEYS", "SHAPES", "SHAPE_CHARS",
           "shape_matches", "violations"]
