"""Typed AST of AWS policy documents.

Input: built by `parse.py` from the Lark parse tree of a JSON policy document.
Output: frozen dataclasses, one per construct of AWS's "Grammar of the IAM JSON policy language"
(policy, statement, effect, principal block, action block, resource block, condition block, condition).
Guarantee: every node carries a `Span`; list-or-scalar forms, statement-as-object-or-list and
boolean/number condition values are already normalised (values are strings, lists are tuples).
Nodes hold what the document says; what it means is decided in `evaluate.py` / `encode.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from reasoner.source import SourceFile, Span


class PolicyKind(Enum):
    """Where a policy is attached; each kind has its own rules (semantics §1.2, §4.5)."""

    KEY_POLICY = "key"
    IDENTITY = "identity"
    SCP = "scp"
    RCP = "rcp"
    PERMISSIONS_BOUNDARY = "boundary"
    SESSION = "session"
    RESOURCE = "resource"  # another resource-based policy (S3 bucket, SQS queue, SNS topic, ...)
    TRUST = "trust"  # an IAM role's trust policy (who may assume the role)
    ENDPOINT = "endpoint"  # a VPC endpoint policy

    @property
    def is_resource_based(self) -> bool:
        return self in (PolicyKind.KEY_POLICY, PolicyKind.RCP, PolicyKind.RESOURCE, PolicyKind.TRUST,
                        PolicyKind.ENDPOINT)


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"


class ValueKind(Enum):
    """The JSON type a value was written with (all values are compared as strings)."""

    STRING = "string"
    BOOLEAN = "boolean"
    NUMBER = "number"


@dataclass(frozen=True)
class Value:
    """A scalar written in the policy, normalised to its string form (`true` -> "true")."""

    text: str
    span: Span
    kind: ValueKind = ValueKind.STRING


class PrincipalType(Enum):
    AWS = "AWS"
    SERVICE = "Service"
    FEDERATED = "Federated"
    CANONICAL_USER = "CanonicalUser"


@dataclass(frozen=True)
class PrincipalEntry:
    """One principal named under a type key, e.g. AWS: "arn:aws:iam::111122223333:root"."""

    type: PrincipalType
    value: Value
    span: Span


@dataclass(frozen=True)
class PrincipalBlock:
    """`Principal` or `NotPrincipal`. `"Principal": "*"` is `wildcard=True` with no entries;
    `{"AWS": "*"}` is an AWS entry whose value is `*` (they mean the same, semantics §1.3)."""

    negated: bool
    wildcard: bool
    entries: tuple[PrincipalEntry, ...]
    span: Span


@dataclass(frozen=True)
class ActionBlock:
    """`Action` (negated=False) or `NotAction` (negated=True): a list of `service:name` patterns."""

    negated: bool
    patterns: tuple[Value, ...]
    span: Span


@dataclass(frozen=True)
class ResourceBlock:
    """`Resource` or `NotResource`: a list of ARN patterns or `*`."""

    negated: bool
    patterns: tuple[Value, ...]
    span: Span


class SetQualifier(Enum):
    NONE = ""
    FOR_ALL_VALUES = "ForAllValues"
    FOR_ANY_VALUE = "ForAnyValue"


class ConditionOperator(Enum):
    """The base condition operators of semantics §3.3 (without qualifier and `IfExists`)."""

    STRING_EQUALS = "StringEquals"
    STRING_NOT_EQUALS = "StringNotEquals"
    STRING_EQUALS_IGNORE_CASE = "StringEqualsIgnoreCase"
    STRING_NOT_EQUALS_IGNORE_CASE = "StringNotEqualsIgnoreCase"
    STRING_LIKE = "StringLike"
    STRING_NOT_LIKE = "StringNotLike"
    NUMERIC_EQUALS = "NumericEquals"
    NUMERIC_NOT_EQUALS = "NumericNotEquals"
    NUMERIC_LESS_THAN = "NumericLessThan"
    NUMERIC_LESS_THAN_EQUALS = "NumericLessThanEquals"
    NUMERIC_GREATER_THAN = "NumericGreaterThan"
    NUMERIC_GREATER_THAN_EQUALS = "NumericGreaterThanEquals"
    DATE_EQUALS = "DateEquals"
    DATE_NOT_EQUALS = "DateNotEquals"
    DATE_LESS_THAN = "DateLessThan"
    DATE_LESS_THAN_EQUALS = "DateLessThanEquals"
    DATE_GREATER_THAN = "DateGreaterThan"
    DATE_GREATER_THAN_EQUALS = "DateGreaterThanEquals"
    BOOL = "Bool"
    BINARY_EQUALS = "BinaryEquals"
    IP_ADDRESS = "IpAddress"
    NOT_IP_ADDRESS = "NotIpAddress"
    ARN_EQUALS = "ArnEquals"
    ARN_LIKE = "ArnLike"
    ARN_NOT_EQUALS = "ArnNotEquals"
    ARN_NOT_LIKE = "ArnNotLike"
    NULL = "Null"

    @property
    def negated(self) -> bool:
        """Negated operators: absent key => true; several values => NOR (semantics §3.2)."""
        return self in _NEGATED

    @property
    def family(self) -> str:
        """One of: string, numeric, date, bool, binary, ip, arn, null."""
        name = self.value
        for prefix, fam in (("String", "string"), ("Numeric", "numeric"), ("Date", "date"),
                            ("Bool", "bool"), ("Binary", "binary"), ("Arn", "arn"), ("Null", "null")):
            if name.startswith(prefix):
                return fam
        return "ip"


_NEGATED = frozenset({
    ConditionOperator.STRING_NOT_EQUALS, ConditionOperator.STRING_NOT_EQUALS_IGNORE_CASE,
    ConditionOperator.STRING_NOT_LIKE, ConditionOperator.NUMERIC_NOT_EQUALS, ConditionOperator.DATE_NOT_EQUALS,
    ConditionOperator.NOT_IP_ADDRESS, ConditionOperator.ARN_NOT_EQUALS, ConditionOperator.ARN_NOT_LIKE,
})


@dataclass(frozen=True)
class Condition:
    """One `"<Qualifier>:<Operator>[IfExists]": {"<key>": <values>}` pair: one operator applied to one key.
    Several keys under one operator become several `Condition`s (AND), as do several operator blocks."""

    qualifier: SetQualifier
    operator: ConditionOperator
    if_exists: bool
    key: Value
    values: tuple[Value, ...]
    operator_span: Span
    span: Span

    @property
    def operator_text(self) -> str:
        q = f"{self.qualifier.value}:" if self.qualifier is not SetQualifier.NONE else ""
        return f"{q}{self.operator.value}{'IfExists' if self.if_exists else ''}"


@dataclass(frozen=True)
class ConditionBlock:
    conditions: tuple[Condition, ...]
    span: Span


@dataclass(frozen=True)
class Statement:
    """One statement. `index` is its 0-based position in the document; `sid` may be None."""

    index: int
    sid: Value | None
    effect: Effect
    effect_span: Span
    principal: PrincipalBlock | None
    action: ActionBlock | None
    resource: ResourceBlock | None
    condition: ConditionBlock | None
    span: Span

    @property
    def label(self) -> str:
        """Human name: the Sid if any, else `Statement[i]`."""
        return self.sid.text if self.sid is not None and self.sid.text else f"Statement[{self.index}]"


@dataclass(frozen=True)
class PolicyDocument:
    """A whole policy. `version` is None when the document has no Version element (language 2008-10-17)."""

    version: Value | None
    id: Value | None
    statements: tuple[Statement, ...]
    kind: PolicyKind
    span: Span
    source: SourceFile | None = None

    @property
    def supports_variables(self) -> bool:
        """Policy variables are interpreted only under Version 2012-10-17 (semantics §1.1)."""
        return self.version is not None and self.version.text == "2012-10-17"

    @property
    def name(self) -> str:
        return self.span.file
