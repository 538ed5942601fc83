"""Hypothesis strategies for well-formed policy documents, as JSON values, JSON text and parsed AST.

Every document drawn here is accepted by `parse.parse_policy` for its kind (no error diagnostics;
warnings such as POL106 may occur). They are meant for reuse: round-trip tests of the front end, and
differential tests of the evaluator and the encoder (statements with principals, actions, resources, and
conditions of every operator, qualifier and `IfExists`, with values typed for their operator family).

Entry points:
- `policy_json(kind)`: a `dict` (the JSON value), `policy_text(kind)`: its text in varied formatting,
  `policy_documents(kind)`: the parsed `PolicyDocument`;
- building blocks: `account_ids`, `principal_arns`, `principal_blocks`, `action_patterns`,
  `resource_patterns`, `condition_blocks`, `conditions_for(family)`, `statements(kind)`;
- `canonical(json_value)`: the normal form (lists everywhere, values as strings) that the AST denotes, and
  `ast_to_canonical(doc)` to compare a parsed document with it;
- `grammar_texts()`: syntactically valid JSON texts from the Lark grammar (`hypothesis.extra.lark`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from reasoner.front.ast import ConditionOperator, PolicyDocument, PolicyKind, SetQualifier
from reasoner.front.parse import grammar_text, parse_policy


def examples(n: int) -> int:
    """A test's own example count, scaled up under the `nightly` Hypothesis profile (tests/conftest.py) so that
    a long local run explores more than the CI default."""
    return n * 25 if os.environ.get("HYPOTHESIS_PROFILE") == "nightly" else n


JSON = Any

KMS_ACTIONS = (
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GenerateMac",
    "VerifyMac",
    "DescribeKey",
    "GetPublicKey",
    "CreateGrant",
    "ListGrants",
    "RevokeGrant",
    "RetireGrant",
    "GetKeyPolicy",
    "PutKeyPolicy",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
    "EnableKey",
    "DisableKey",
    "TagResource",
    "CreateAlias",
    "ListKeys",
    "CreateKey",
    "GenerateRandom",
    "GetKeyRotationStatus",
)
KMS_WILDCARDS = (
    "*",
    "Generate*",
    "ReEncrypt*",
    "Get*",
    "List*",
    "Create*",
    "Describe*",
    "*Grant*",
    "GenerateDataKey*",
    "Sig?",
)
OTHER_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:*",
    "iam:PassRole",
    "sts:AssumeRole",
    "ec2:Describe*",
    "sqs:SendMessage",
    "secretsmanager:GetSecretValue",
)
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "af-south-1")
SERVICES = (
    "cloudtrail.amazonaws.com",
    "s3.amazonaws.com",
    "logs.us-east-1.amazonaws.com",
    "ec2.amazonaws.com",
)

# ---- scalars ------------------------------------------------------------------------------------------

account_ids = st.sampled_from(("111122223333", "444455556666", "777788889999", "123456789012"))
_name_chars = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@+=,")
names = st.text(_name_chars, min_size=1, max_size=12)
#: text that may contain Latin-1 characters and JSON specials (quotes, backslashes) but nothing outside
#: the characters policies may contain (U+0020-U+00FF)
latin1_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=12)
key_ids = st.sampled_from(
    (
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "mrk-1234abcd12ab34cd56ef1234567890ab",
        "0987dcba-09fe-87dc-65ba-ab0987654321",
    )
)


@st.composite
def principal_arns(draw: st.DrawFn) -> str:
    """A valid `AWS` principal: account id, root, user, role, assumed-role session or federated user."""
    acct = draw(account_ids)
    form = draw(st.sampled_from(("id", "root", "user", "role", "role-path", "session", "federated")))
    if form == "id":
        return acct
    if form == "root":
        return f"arn:aws:iam::{acct}:root"
    if form == "user":
        return f"arn:aws:iam::{acct}:user/{draw(names).strip('/') or 'u'}"
    if form == "role":
        return f"arn:aws:iam::{acct}:role/{draw(names)}"
    if form == "role-path":
        return f"arn:aws:iam::{acct}:role/path/{draw(names)}"
    if form == "session":
        return f"arn:aws:sts::{acct}:assumed-role/{draw(names)}/{draw(names)}"
    return f"arn:aws:sts::{acct}:federated-user/{draw(names)}"


def _one_or_list(elements: st.SearchStrategy[JSON], max_size: int = 3) -> st.SearchStrategy[JSON]:
    """A bare scalar or a non-empty list (both forms are accepted for list-valued elements)."""
    return st.one_of(elements, st.lists(elements, min_size=1, max_size=max_size))


@st.composite
def principal_blocks(draw: st.DrawFn) -> JSON:
    """The value of `Principal`: `"*"` or a map of principal types to one value or a list of values."""
    if draw(st.integers(0, 5)) == 0:
        return "*"
    out: dict[str, JSON] = {}
    if draw(st.booleans()):
        out["AWS"] = draw(_one_or_list(st.one_of(principal_arns(), st.just("*"))))
    if draw(st.booleans()) or not out:
        if draw(st.booleans()):
            out["Service"] = draw(_one_or_list(st.sampled_from(SERVICES), max_size=2))
        else:
            out["AWS"] = draw(_one_or_list(principal_arns()))
    return out


@st.composite
def action_patterns(draw: st.DrawFn, *, kms_only: bool = False) -> str:
    """`kms:` actions (exact, any case, wildcards), other services' actions, or `*`."""
    choice = draw(st.integers(0, 9))
    if choice <= 4:
        name = draw(st.sampled_from(KMS_ACTIONS))
        if draw(st.integers(0, 4)) == 0:
            name = name.lower()
        return f"kms:{name}"
    if choice <= 6 or kms_only:
        return f"kms:{draw(st.sampled_from(KMS_WILDCARDS))}"
    if choice == 7:
        return "*"
    return draw(st.sampled_from(OTHER_ACTIONS))


@st.composite
def kms_key_arns(draw: st.DrawFn, *, wildcards: bool = True) -> str:
    region = draw(st.sampled_from((*REGIONS, "*"))) if wildcards else draw(st.sampled_from(REGIONS))
    acct = draw(account_ids)
    tail = draw(
        st.one_of(key_ids.map(lambda k: f"key/{k}"), st.just("key/*"), st.just("alias/finance*"))
        if wildcards
        else key_ids.map(lambda k: f"key/{k}")
    )
    return f"arn:aws:kms:{region}:{acct}:{tail}"


resource_patterns = st.one_of(
    st.just("*"),
    kms_key_arns(),
    st.sampled_from(
        (
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::bucket/home/${aws:username}/*",
            "arn:aws:sqs:us-east-1:111122223333:queue?",
            "arn:aws:iam::111122223333:role/*",
        )
    ),
)

# ---- conditions ---------------------------------------------------------------------------------------

#: condition keys by the operator family their values suit (semantics §5)
KEYS_BY_FAMILY: dict[str, tuple[str, ...]] = {
    "string": (
        "kms:CallerAccount",
        "kms:ViaService",
        "kms:EncryptionContext:Department",
        "aws:PrincipalOrgID",
        "aws:PrincipalTag/team",
        "kms:RequestAlias",
        "aws:SourceAccount",
        "aws:PrincipalAccount",
        "aws:username",
    ),
    "numeric": ("kms:ScheduleKeyDeletionPendingWindowInDays", "aws:MultiFactorAuthAge", "aws:EpochTime"),
    "date": ("aws:CurrentTime", "aws:TokenIssueTime", "aws:EpochTime"),
    "bool": (
        "kms:GrantIsForAWSResource",
        "aws:MultiFactorAuthPresent",
        "aws:SecureTransport",
        "aws:PrincipalIsAWSService",
        "kms:BypassPolicyLockoutSafetyCheck",
    ),
    "binary": ("aws:SomeBinaryKey",),
    "ip": ("aws:SourceIp", "aws:VpcSourceIp"),
    "arn": ("aws:PrincipalArn", "aws:SourceArn"),
    "null": ("aws:TokenIssueTime", "kms:ViaService", "aws:PrincipalTag/team", "kms:EncryptionContextKeys"),
}
#: multivalued keys (semantics §5) usable with ForAllValues/ForAnyValue and string operators
MULTIVALUED_STRING_KEYS = (
    "kms:EncryptionContextKeys",
    "kms:GrantOperations",
    "aws:PrincipalOrgPaths",
    "aws:TagKeys",
    "kms:ResourceAliases",
    "aws:CalledVia",
)

_string_values = st.one_of(
    st.sampled_from(
        (
            "111122223333",
            "s3.us-east-1.amazonaws.com",
            "IT",
            "o-abc123",
            "alias/finance",
            "Decrypt",
            "o-a/r-b/ou-x/",
        )
    ),
    latin1_text,
)
_like_values = st.one_of(
    _string_values,
    st.sampled_from(("*.amazonaws.com", "alias/*Test*", "o-a/r-b/*", "a?c", "${aws:username}-*")),
)
_numeric_values = st.one_of(
    st.integers(-5, 40), st.integers(0, 40).map(str), st.sampled_from(("7", "30", "1.5", "-0.25", "3600"))
)
_date_values = st.sampled_from(
    ("2026-01-01", "2026-01-01T00:00:00Z", "2026-06-30T12:00:00+02:00", "1767225600", "2030-12-31T23:59:59Z")
)
_bool_values = st.one_of(st.booleans(), st.sampled_from(("true", "false")))
_binary_values = st.sampled_from(("QmluYXJ5VmFsdWU=", "AAEC", ""))
_ip_values = st.sampled_from(("203.0.113.0/24", "192.0.2.1", "10.0.0.0/8", "2001:db8::/32", "2001:db8::1"))
_arn_values = st.sampled_from(
    (
        "arn:aws:iam::111122223333:role/Admin",
        "arn:aws:iam::*:role/Admin",
        "arn:aws:cloudtrail:*:111122223333:trail/*",
        "arn:aws:iam::111122223333:root",
        "arn:aws:s3:::bucket",
    )
)

#: operator family -> value strategy
VALUES_BY_FAMILY: dict[str, st.SearchStrategy[JSON]] = {
    "string": _string_values,
    "numeric": _numeric_values,
    "date": _date_values,
    "bool": _bool_values,
    "binary": _binary_values,
    "ip": _ip_values,
    "arn": _arn_values,
    "null": st.sampled_from(("true", "false", True, False)),
}


@st.composite
def condition_operator_names(
    draw: st.DrawFn, operator: ConditionOperator | None = None, *, multivalued: bool = False
) -> str:
    """`[ForAllValues:|ForAnyValue:]Operator[IfExists]` in canonical spelling (never `NullIfExists`)."""
    op = operator or draw(st.sampled_from(list(ConditionOperator)))
    qualifier = SetQualifier.NONE
    if multivalued or draw(st.integers(0, 5)) == 0:
        qualifier = draw(st.sampled_from((SetQualifier.FOR_ALL_VALUES, SetQualifier.FOR_ANY_VALUE)))
    if_exists = op is not ConditionOperator.NULL and draw(st.integers(0, 3)) == 0
    q = f"{qualifier.value}:" if qualifier is not SetQualifier.NONE else ""
    return f"{q}{op.value}{'IfExists' if if_exists else ''}"


@st.composite
def conditions_for(draw: st.DrawFn, operator: ConditionOperator) -> tuple[str, dict[str, JSON]]:
    """One operator block: (operator name, {key: value or list of values}) with values of its family."""
    family = operator.family
    multivalued = family == "string" and draw(st.integers(0, 3)) == 0
    name = draw(condition_operator_names(operator, multivalued=multivalued))
    if multivalued:
        keys = st.sampled_from(MULTIVALUED_STRING_KEYS)
    else:
        keys = st.sampled_from(KEYS_BY_FAMILY[family])
    values = (
        _like_values
        if operator in (ConditionOperator.STRING_LIKE, ConditionOperator.STRING_NOT_LIKE)
        else VALUES_BY_FAMILY[family]
    )
    block = draw(st.dictionaries(keys, _one_or_list(values), min_size=1, max_size=2))
    if name.startswith("ForAllValues:"):
        # ForAllValues on single-valued context keys is rejected by KMS (POL023): keep such blocks clean
        block = {k: v for k, v in block.items() if not _is_single_valued_context_key(k)} or {
            "kms:EncryptionContextKeys": "Department"
        }
    return name, block


def _is_single_valued_context_key(key: str) -> bool:
    k = key.lower()
    return k.startswith("kms:encryptioncontext:") or k.startswith("aws:requesttag/")


@st.composite
def condition_blocks(draw: st.DrawFn, *, max_operators: int = 3) -> dict[str, JSON]:
    """The value of `Condition`: operator blocks drawn over every operator."""
    ops = draw(
        st.lists(st.sampled_from(list(ConditionOperator)), min_size=1, max_size=max_operators, unique=True)
    )
    out: dict[str, JSON] = {}
    for op in ops:
        name, block = draw(conditions_for(op))
        out.setdefault(name, block)
    return out


# ---- statements and policies ------------------------------------------------------------------------------

_IDENTITY_KINDS = (PolicyKind.IDENTITY, PolicyKind.SCP, PolicyKind.PERMISSIONS_BOUNDARY, PolicyKind.SESSION)


@st.composite
def sids(draw: st.DrawFn, kind: PolicyKind) -> str:
    if kind in (*_IDENTITY_KINDS, PolicyKind.RCP):
        return draw(st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefxyz0123456789"), max_size=10))
    return draw(latin1_text)  # key policies may contain spaces (and any allowed character)


@st.composite
def statements(draw: st.DrawFn, kind: PolicyKind = PolicyKind.KEY_POLICY) -> dict[str, JSON]:
    """One statement valid for `kind` (JSON value; key order varies)."""
    st_: dict[str, JSON] = {}
    effect = "Deny" if kind is PolicyKind.RCP else draw(st.sampled_from(("Allow", "Deny")))
    items: list[tuple[str, JSON]] = [("Effect", effect)]
    if draw(st.booleans()):
        items.append(("Sid", draw(sids(kind))))
    if kind is PolicyKind.RCP:
        items.append(("Principal", "*"))
    elif kind.is_resource_based:
        principal = draw(principal_blocks())
        negated = (effect == "Deny" and kind is not PolicyKind.TRUST and draw(st.integers(0, 4)) == 0
                   and principal != "*")
        items.append(("NotPrincipal" if negated else "Principal", principal))
    kms_only = kind is PolicyKind.KEY_POLICY
    actions = _one_or_list(action_patterns(kms_only=kms_only))
    not_action = kind is not PolicyKind.RCP and draw(st.integers(0, 5)) == 0
    items.append(("NotAction" if not_action else "Action", draw(actions)))
    if kind is PolicyKind.KEY_POLICY:
        resource: JSON = "*" if draw(st.integers(0, 3)) else draw(_one_or_list(kms_key_arns(wildcards=False)))
        items.append(("Resource", resource))
    else:
        not_resource = draw(st.integers(0, 5)) == 0
        items.append(("NotResource" if not_resource else "Resource", draw(_one_or_list(resource_patterns))))
    if draw(st.booleans()):
        items.append(("Condition", draw(condition_blocks())))
    for k, v in draw(st.permutations(items)):
        st_[k] = v
    return st_


@st.composite
def policy_json(
    draw: st.DrawFn, kind: PolicyKind = PolicyKind.KEY_POLICY, *, max_statements: int = 4
) -> dict[str, JSON]:
    """A whole well-formed policy of `kind` as a JSON value (unique Sids, statement object or list)."""
    stmts = draw(st.lists(statements(kind), min_size=1, max_size=max_statements))
    seen: set[str] = set()
    for s in stmts:  # Sids must be unique (IAM) - drop repeats rather than filter whole examples
        sid = s.get("Sid")
        if sid is not None and sid != "":
            if sid in seen:
                del s["Sid"]
            seen.add(sid)
    doc: dict[str, JSON] = {}
    items: list[tuple[str, JSON]] = []
    if kind is PolicyKind.RCP or draw(st.integers(0, 4)):
        items.append(
            ("Version", "2012-10-17" if kind is PolicyKind.RCP or draw(st.integers(0, 5)) else "2008-10-17")
        )
    if kind.is_resource_based and draw(st.booleans()):
        items.append(("Id", draw(latin1_text)))
    statement: JSON = stmts[0] if len(stmts) == 1 and draw(st.booleans()) else stmts
    items.append(("Statement", statement))
    for k, v in draw(st.permutations(items)):
        doc[k] = v
    return doc


@st.composite
def policy_text(draw: st.DrawFn, kind: PolicyKind = PolicyKind.KEY_POLICY) -> str:
    """`policy_json(kind)` serialised with varied indentation, separators and `\\uXXXX` escaping."""
    value = draw(policy_json(kind))
    return dumps_varied(value, draw)


def dumps_varied(value: JSON, draw: Callable[[st.SearchStrategy[Any]], Any]) -> str:
    """Serialise with a drawn indentation, separators, `\\uXXXX` escaping and line endings."""
    indent = draw(st.sampled_from((None, 0, 1, 2, 4, "\t")))
    ensure_ascii = draw(st.booleans())
    separators = draw(st.sampled_from(((",", ":"), (", ", ": "), (",", ": "))))
    text = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii, separators=separators)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text


@st.composite
def policy_documents(draw: st.DrawFn, kind: PolicyKind = PolicyKind.KEY_POLICY) -> PolicyDocument:
    """A parsed and validated `PolicyDocument` of `kind`."""
    return parse_policy(draw(policy_text(kind)), file="<hypothesis>", kind=kind)


policy_kinds = st.sampled_from(list(PolicyKind))

# ---- canonical form: what the AST denotes ----------------------------------------------------------------


def _scalar_text(v: JSON) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return json.dumps(v)
    return str(v)


def _as_list(v: JSON) -> list[str]:
    return [_scalar_text(x) for x in (v if isinstance(v, list) else [v])]


def canonical(doc: dict[str, JSON]) -> dict[str, JSON]:
    """Normal form of a policy JSON value: statements as a list; principal, action, resource and condition
    values as lists of strings; numbers/booleans as their JSON text. Computed without the parser."""
    raw = doc["Statement"]
    stmts = raw if isinstance(raw, list) else [raw]
    out_st = []
    for s in stmts:
        c: dict[str, JSON] = {"Effect": s["Effect"], "Sid": s.get("Sid")}
        for name in ("Principal", "NotPrincipal"):
            if name in s:
                p = s[name]
                c["Principal"] = {
                    "negated": name == "NotPrincipal",
                    "wildcard": p == "*",
                    "entries": []
                    if p == "*"
                    else sorted((t, x) for t, vals in p.items() for x in _as_list(vals)),
                }
        for name, neg in (("Action", "NotAction"), ("Resource", "NotResource")):
            for key in (name, neg):
                if key in s:
                    c[name] = {"negated": key == neg, "patterns": _as_list(s[key])}
        if "Condition" in s:
            c["Condition"] = sorted(
                (op, k, tuple(_as_list(v))) for op, block in s["Condition"].items() for k, v in block.items()
            )
        out_st.append(c)
    return {"Version": doc.get("Version"), "Id": doc.get("Id"), "Statement": out_st}


def ast_to_canonical(doc: PolicyDocument) -> dict[str, JSON]:
    """The same normal form read back from a parsed document."""
    out_st = []
    for s in doc.statements:
        c: dict[str, JSON] = {"Effect": s.effect.value, "Sid": s.sid.text if s.sid else None}
        if s.principal is not None:
            c["Principal"] = {
                "negated": s.principal.negated,
                "wildcard": s.principal.wildcard,
                "entries": sorted((e.type.value, e.value.text) for e in s.principal.entries),
            }
        if s.action is not None:
            c["Action"] = {"negated": s.action.negated, "patterns": [v.text for v in s.action.patterns]}
        if s.resource is not None:
            c["Resource"] = {"negated": s.resource.negated, "patterns": [v.text for v in s.resource.patterns]}
        if s.condition is not None:
            c["Condition"] = sorted(
                (cond.operator_text, cond.key.text, tuple(v.text for v in cond.values))
                for cond in s.condition.conditions
            )
        out_st.append(c)
    return {
        "Version": doc.version.text if doc.version else None,
        "Id": doc.id.text if doc.id else None,
        "Statement": out_st,
    }


# ---- grammar-driven texts -------------------------------------------------------------------------------


def grammar_texts() -> st.SearchStrategy[str]:
    """Syntactically valid JSON texts generated from `grammars/policy.lark` itself."""
    return from_lark(Lark(grammar_text(), parser="lalr", lexer="contextual"))
