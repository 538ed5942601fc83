"""Stage 2: AST -> diagnostics (the policy-kind rules AWS enforces, and lints for probable mistakes).

Input: a `PolicyDocument` built by `parse.py` (its `kind` says where it is attached; its `source` gives the
text for size and character-set checks), and optionally the account that owns the key of a key policy.
Output: a list of `Diagnostic`s sorted by position. Errors are what AWS rejects (the policy would not be
accepted); warnings are accepted by AWS but probably wrong (a statement that can never apply, a literal `*`
meant as a wildcard, a KMS permission that cannot be used across accounts, ...).
Guarantee: every finding is reported (nothing stops at the first), each with the span of the offending token;
never raises for any document `parse.py` can build. Every code is registered in `errors.CODES` and listed
in grammars/README.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from functools import cache

from reasoner.errors import Diagnostic, Severity, one_line, register_code, sort_diagnostics
from reasoner.front.ast import (
    ActionBlock,
    Condition,
    ConditionOperator,
    Effect,
    PolicyDocument,
    PolicyKind,
    PrincipalEntry,
    PrincipalType,
    ResourceBlock,
    SetQualifier,
    Statement,
    Value,
)
from reasoner.semantics import arns, catalog
from reasoner.semantics.values import MAX_IP_TEXT, MAX_NUMBER_DIGITS, number_digits
from reasoner.source import SourceFile, Span

__all__ = ["character_diagnostics", "validate"]

E = Severity.ERROR
W = Severity.WARNING

# ---- errors: AWS rejects the policy ------------------------------------------------------------------
BAD_VERSION = register_code("POL005", E, "Version is not `2012-10-17` or `2008-10-17`")
MISSING_ACTION = register_code("POL010", E, "statement has neither Action nor NotAction")
MISSING_RESOURCE = register_code("POL012", E, "statement has neither Resource nor NotResource")
PRINCIPAL_FORBIDDEN = register_code("POL014", E, "Principal or NotPrincipal in a policy kind that forbids it")
MISSING_PRINCIPAL = register_code("POL015", E, "resource-based policy statement without Principal")
NOT_PRINCIPAL_ALLOW = register_code("POL017", E, "NotPrincipal with Effect Allow")
MALFORMED_ARN = register_code("POL021", E, "malformed ARN")
PRINCIPAL_WILDCARD = register_code("POL022", E, "partial wildcard in a principal")
FOR_ALL_VALUES_KEY = register_code("POL023", E, "ForAllValues on a single-valued key (KMS rejects it)")
BAD_CHARACTER = register_code("POL024", E, "character outside the allowed set")
TOO_LARGE = register_code("POL025", E, "policy exceeds its size limit")
BAD_SID = register_code("POL026", E, "Sid contains characters not allowed for this policy kind")
DUPLICATE_SID = register_code("POL027", E, "duplicate Sid")
RCP_PRINCIPAL = register_code("POL028", E, "RCP statement Principal is not `*`")
RCP_ALLOW = register_code("POL029", E, "RCP statement with Effect Allow")
RCP_NOT_ACTION = register_code("POL030", E, "NotAction in an RCP")
MALFORMED_ACTION = register_code("POL031", E, "action is not `*` or `service:action`")
MALFORMED_PRINCIPAL = register_code("POL034", E, "malformed principal")
RCP_VERSION = register_code("POL035", E, "RCP without Version `2012-10-17`")
NUMBER_TOO_LONG = register_code("POL036", E, f"number with more than {MAX_NUMBER_DIGITS} digits")

# ---- warnings: accepted by AWS, probably wrong ---------------------------------------------------------
REENCRYPT_NO_STAR = register_code("POL101", W, "`kms:ReEncrypt` without `*` matches no action")
KEY_POLICY_NO_RESOURCE = register_code("POL102", W, "key-policy statement without Resource never applies")
KEY_POLICY_NO_ACTION = register_code("POL103", W, "key-policy statement without Action never applies")
NOT_CROSS_ACCOUNT = register_code("POL104", W, "KMS permission that does not work across accounts")
LITERAL_STAR = register_code("POL105", W, "`*` in a String*Equals value is a literal, not a wildcard")
KEY_NEVER_PRESENT = register_code("POL106", W, "condition key never present for the statement's actions")
UNKNOWN_KMS_ACTION = register_code("POL107", W, "unknown kms action")
PLAIN_OP_MULTIVALUED = register_code("POL108", W, "single-value operator on a multivalued condition key")
SERVICE_WILDCARD = register_code("POL109", W, "wildcard in the service prefix of an action")
FOR_ALL_VALUES_SINGLE = register_code("POL111", W, "ForAllValues on a single-valued context key")
SHORT_ARN = register_code("POL112", W, "ARN pattern with fewer than six segments")
DUPLICATE_SID_WARN = register_code("POL113", W, "duplicate Sid")
VARIABLE_OUTSIDE_RESOURCE = register_code("POL114", W, "policy variable outside the resource part of an ARN")
BAD_TYPED_VALUE = register_code("POL115", W, "condition value not of its operator's type (never matches)")

VERSIONS = ("2012-10-17", "2008-10-17")
_STRING_EQUALS_FAMILY = frozenset({
    ConditionOperator.STRING_EQUALS, ConditionOperator.STRING_NOT_EQUALS,
    ConditionOperator.STRING_EQUALS_IGNORE_CASE, ConditionOperator.STRING_NOT_EQUALS_IGNORE_CASE})

#: Policy kinds that are identity-style: no Principal, Sid restricted to [A-Za-z0-9] (semantics §1.2).
_IDENTITY_STYLE = frozenset({PolicyKind.IDENTITY, PolicyKind.SCP, PolicyKind.PERMISSIONS_BOUNDARY,
                             PolicyKind.SESSION})
_SID_ALNUM = re.compile(r"^[A-Za-z0-9]*$")

# Size limits (semantics §1.2): (limit, unit) per kind.
KEY_POLICY_MAX_BYTES = 32_768
SCP_RCP_MAX_CHARS = 5_120
MANAGED_POLICY_MAX_CHARS = 6_144  # non-whitespace characters (IAM does not count whitespace)


def validate(doc: PolicyDocument, *, key_account: str | None = None,
             incomplete: Mapping[int, frozenset[str]] | None = None) -> list[Diagnostic]:
    """All kind rules and lints for `doc`, sorted by position.

    `key_account`: the 12-digit account that owns the key (key policies only); when given, KMS permissions
    granted to principals of other accounts for operations that cannot be used across accounts are flagged.
    `incomplete`: from the parser, statement index -> elements that were present but broken (already
    reported); "missing element" checks are skipped for them, and effect-dependent checks when "Effect" is
    broken (the statement then carries a placeholder effect).
    """
    v = _Validator(doc, key_account, incomplete or {})
    v.run()
    return sort_diagnostics(v.diags)


class _Validator:
    def __init__(self, doc: PolicyDocument, key_account: str | None,
                 incomplete: Mapping[int, frozenset[str]]) -> None:
        self.doc = doc
        self.incomplete = incomplete
        self.kind = doc.kind
        self.key_account = key_account
        self.diags: list[Diagnostic] = []

    def error(self, code: str, span: Span, message: str, help: str | None = None) -> None:
        self.diags.append(Diagnostic(code, E, span, one_line(message), help and one_line(help)))

    def warning(self, code: str, span: Span, message: str, help: str | None = None) -> None:
        self.diags.append(Diagnostic(code, W, span, one_line(message), help and one_line(help)))

    def run(self) -> None:
        doc = self.doc
        self.version()
        self.size()
        if doc.source is None:
            self.decoded_characters(None)
        else:
            self.diags.extend(character_diagnostics(doc.source))
            if "\\u" in doc.source.text:
                self.decoded_characters(doc.source)
        seen_sids: dict[str, Value] = {}
        for st in doc.statements:
            self.statement(st, seen_sids)

    # -- document level --
    def version(self) -> None:
        v = self.doc.version
        if v is not None and v.text not in VERSIONS:
            self.error(BAD_VERSION, v.span, f"`Version` must be `2012-10-17` or `2008-10-17`, not `{v.text}`",
                       "the version is the policy-language version, not a date you choose")
        if self.kind is PolicyKind.RCP and (v is None or v.text != "2012-10-17"):
            span = v.span if v is not None else _head(self.doc.span)
            self.error(RCP_VERSION, span, "a resource control policy must have `\"Version\": \"2012-10-17\"`")

    def size(self) -> None:
        src = self.doc.source
        if src is None:
            return
        text = src.text
        if self.kind is PolicyKind.KEY_POLICY:
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > KEY_POLICY_MAX_BYTES:
                self.error(TOO_LARGE, _at_offset(src, _byte_offset_to_char(text, KEY_POLICY_MAX_BYTES)),
                           f"key policy is {size} bytes; the limit is {KEY_POLICY_MAX_BYTES} bytes (32 KB)")
        elif self.kind in (PolicyKind.SCP, PolicyKind.RCP):
            if len(text) > SCP_RCP_MAX_CHARS:
                name = "service control policy" if self.kind is PolicyKind.SCP else "resource control policy"
                self.error(TOO_LARGE, _at_offset(src, SCP_RCP_MAX_CHARS),
                           f"{name} is {len(text)} characters; the limit is {SCP_RCP_MAX_CHARS} "
                           "(whitespace counts)")
        elif self.kind in (PolicyKind.IDENTITY, PolicyKind.PERMISSIONS_BOUNDARY):
            if len(text) <= MANAGED_POLICY_MAX_CHARS:
                return
            # runs of non-whitespace (`\S` is `not str.isspace()`), linear in C rather than per character
            count = 0
            over: int | None = None
            for m in _NON_SPACE.finditer(text):
                run = m.end() - m.start()
                if over is None and count + run > MANAGED_POLICY_MAX_CHARS:
                    over = m.start() + (MANAGED_POLICY_MAX_CHARS - count)
                count += run
            if over is not None:
                self.error(TOO_LARGE, _at_offset(src, over),
                           f"policy has {count} non-whitespace characters; a managed policy may have at most "
                           f"{MANAGED_POLICY_MAX_CHARS}")

    def decoded_characters(self, src: SourceFile | None) -> None:
        """Values with characters outside the allowed set. With the source text at hand, only characters
        written as `\\uXXXX` escapes are reported here (raw ones are found by `character_diagnostics`)."""
        for value in _all_values(self.doc):
            bad = next((ch for ch in value.text if not _allowed_char(ch)), None)
            if bad is not None and src is not None and value.span.line == value.span.end_line:
                raw = src.line_text(value.span.line)[value.span.col - 1:value.span.end_col - 1]
                bad = next((ch for ch in value.text if not _allowed_char(ch) and ch not in raw), None)
            if bad is not None:
                self.error(BAD_CHARACTER, value.span,
                           f"value contains U+{ord(bad):04X}, outside the characters policies may contain",
                           "allowed: tab, line feed, carriage return and U+0020 to U+00FF")

    # -- statement level --
    def statement(self, st: Statement, seen_sids: dict[str, Value]) -> None:
        kind = self.kind
        broken = self.incomplete.get(st.index, frozenset())
        self.sid(st, seen_sids)
        self.principal(st, broken)
        if st.action is None:
            if "Action" in broken:
                pass
            elif kind is PolicyKind.KEY_POLICY:
                self.warning(KEY_POLICY_NO_ACTION, _head(st.span),
                             f"statement `{st.label}` has no `Action`: KMS accepts it but it never applies")
            else:
                self.error(MISSING_ACTION, _head(st.span),
                           f"statement `{st.label}` has no `Action` or `NotAction`")
        else:
            self.actions(st, st.action)
        if st.resource is None:
            if "Resource" in broken or kind is PolicyKind.TRUST or (
                    kind is PolicyKind.RESOURCE and _is_trust_statement(st)):
                pass  # a role trust policy statement has no Resource (semantics §1.2 table)
            elif kind is PolicyKind.KEY_POLICY:
                self.warning(KEY_POLICY_NO_RESOURCE, _head(st.span),
                             f"statement `{st.label}` has no `Resource`: KMS accepts it but it never applies",
                             "in a key policy write `\"Resource\": \"*\"` (this key)")
            else:
                self.error(MISSING_RESOURCE, _head(st.span),
                           f"statement `{st.label}` has no `Resource` or `NotResource`")
        else:
            self.resources(st.resource)
        if st.condition is not None:
            for cond in st.condition.conditions:
                self.condition(st, cond)
        if kind is PolicyKind.RCP:
            if st.effect is Effect.ALLOW and "Effect" not in broken:
                self.error(RCP_ALLOW, st.effect_span, "resource control policies may only `Deny`")
            if st.action is not None and st.action.negated:
                self.error(RCP_NOT_ACTION, st.action.span,
                           "resource control policies do not support `NotAction`")
        if self.key_account is not None and kind is PolicyKind.KEY_POLICY and "Effect" not in broken:
            self.cross_account(st)

    def sid(self, st: Statement, seen: dict[str, Value]) -> None:
        sid = st.sid
        if sid is None:
            return
        if (self.kind in _IDENTITY_STYLE or self.kind is PolicyKind.RCP) and not _SID_ALNUM.match(sid.text):
            bad = next(ch for ch in sid.text if not (ch.isascii() and ch.isalnum()))
            self.error(BAD_SID, sid.span, f"`Sid` `{sid.text}` contains {_char_name(bad)}; in this kind of "
                       "policy a Sid may contain only ASCII letters and digits",
                       "key policies allow spaces in a Sid, IAM policies do not (semantics §1.2)")
        if sid.text == "":
            return
        first = seen.get(sid.text)
        if first is None:
            seen[sid.text] = sid
            return
        if self.kind in _IDENTITY_STYLE or self.kind is PolicyKind.RCP:
            self.error(DUPLICATE_SID, sid.span,
                       f"duplicate `Sid` `{sid.text}` (first at line {first.span.line})",
                       "IAM requires Sid values to be unique within a policy")
        else:
            self.warning(DUPLICATE_SID_WARN, sid.span,
                         f"duplicate `Sid` `{sid.text}` (first at line {first.span.line})")

    # -- principals --
    def principal(self, st: Statement, broken: frozenset[str]) -> None:
        pb = st.principal
        kind = self.kind
        if kind in _IDENTITY_STYLE:
            if pb is not None:
                name = "NotPrincipal" if pb.negated else "Principal"
                self.error(PRINCIPAL_FORBIDDEN, pb.span, f"`{name}` is not allowed in {_kind_name(kind)}",
                           "the principal of an identity-style policy is whoever it is attached to")
            return
        if pb is None:
            if "Principal" in broken:
                return
            if kind is PolicyKind.RCP:
                self.error(RCP_PRINCIPAL, _head(st.span),
                           f"statement `{st.label}` has no `Principal`; an RCP statement must have "
                           "`\"Principal\": \"*\"`")
            else:
                self.error(MISSING_PRINCIPAL, _head(st.span),
                           f"statement `{st.label}` has no `Principal`; every statement of "
                           f"{_kind_name(kind)} must name at least one principal")
            return
        if pb.negated and kind in (PolicyKind.RCP, PolicyKind.TRUST):
            self.error(PRINCIPAL_FORBIDDEN, pb.span,
                       "`NotPrincipal` is not allowed in " + (
                           "resource control policies" if kind is PolicyKind.RCP else "role trust policies"))
        elif pb.negated and st.effect is Effect.ALLOW and "Effect" not in broken:
            self.error(NOT_PRINCIPAL_ALLOW, pb.span,
                       "`NotPrincipal` can only be used with `\"Effect\": \"Deny\"`",
                       "use `\"Principal\": \"*\"` with a condition on `aws:PrincipalArn` (semantics §2.4)")
        if kind is PolicyKind.RCP and not pb.negated and not pb.wildcard and "Principal" not in broken:
            self.error(RCP_PRINCIPAL, pb.span, "the `Principal` of a resource control policy must be `\"*\"`")
        for entry in pb.entries:
            self.principal_entry(entry)

    def principal_entry(self, entry: PrincipalEntry) -> None:
        text = entry.value.text
        span = entry.value.span
        if entry.type is PrincipalType.AWS:
            if text == "*":
                return
            problem = aws_principal_problem(text)
            if problem is None:
                return
            code, message = problem
            help_ = ("only the whole value `*` is a wildcard in a principal; use a condition such as "
                     "`ArnLike aws:PrincipalArn` instead" if code == PRINCIPAL_WILDCARD else
                     "expected an account id, `arn:aws:iam::<account>:root|user/...|role/...` or "
                     "`arn:aws:sts::<account>:assumed-role/<role>/<session>|federated-user/<name>`")
            self.error(code, span, message, help_)
        elif entry.type is PrincipalType.SERVICE:
            if "*" in text or "?" in text:
                self.error(PRINCIPAL_WILDCARD, span, f"service principal `{text}` contains a wildcard")
            elif not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", text):
                self.error(MALFORMED_PRINCIPAL, span, f"malformed service principal `{text}`",
                           "expected a name such as `cloudtrail.amazonaws.com`")
        elif entry.type is PrincipalType.FEDERATED:
            if "*" in text or "?" in text:
                self.error(PRINCIPAL_WILDCARD, span, f"federated principal `{text}` contains a wildcard")
            elif text.startswith("arn:"):
                why = arn_problem(text, allow_wildcards=False)
                if why is not None:
                    self.error(MALFORMED_ARN, span, f"malformed federated principal ARN `{text}`: {why}")
            elif not text or any(ch.isspace() for ch in text):
                self.error(MALFORMED_PRINCIPAL, span, f"malformed federated principal `{text}`")
        elif entry.type is PrincipalType.CANONICAL_USER and not re.fullmatch(r"[0-9a-fA-F]{64}", text):
            self.error(MALFORMED_PRINCIPAL, span, f"canonical user id `{text}` is not 64 hexadecimal digits")

    def cross_account(self, st: Statement) -> None:
        """KMS permissions for another account's principals that only work in the key's own account (§4.6)."""
        pb = st.principal
        if st.effect is not Effect.ALLOW or pb is None or pb.negated or pb.wildcard or st.action is None:
            return
        if st.action.negated:
            return
        foreign = sorted({acct for e in pb.entries if e.type is PrincipalType.AWS
                          for acct in [principal_account(e.value.text)]
                          if acct is not None and acct != self.key_account})
        if not foreign:
            return
        accounts = ", ".join(f"`{a}`" for a in foreign)
        for pattern in st.action.patterns:
            matched = _kms_matches(pattern.text)
            if not matched:
                continue
            ineffective = sorted(a for a in matched if a not in catalog.KMS_CROSS_ACCOUNT_ACTIONS)
            has_wildcard = "*" in pattern.text or "?" in pattern.text
            if not ineffective or (has_wildcard and len(ineffective) < len(matched)):
                continue  # a wildcard that also grants usable operations is not flagged
            listed = ", ".join(f"`{a}`" for a in ineffective[:6]) + (" ..." if len(ineffective) > 6 else "")
            what = f"the operations it matches ({listed})" if has_wildcard else "it"
            self.warning(NOT_CROSS_ACCOUNT, pattern.span,
                         f"`{pattern.text}` is granted to account {accounts}, but {what} cannot be used "
                         f"across accounts (key account `{self.key_account}`): the permission is ineffective",
                         "cross-account principals can only use the operations of semantics §4.6")

    # -- actions --
    def actions(self, st: Statement, block: ActionBlock) -> None:
        for pattern in block.patterns:
            text = pattern.text
            if text == "*":
                continue
            if ":" not in text:
                self.error(MALFORMED_ACTION, pattern.span, f"action `{text}` has no service prefix",
                           "write it as `service:Action`, e.g. `kms:Decrypt`, or `*`")
                continue
            service, name = text.split(":", 1)
            if not service or not name:
                self.error(MALFORMED_ACTION, pattern.span, f"malformed action `{text}`",
                           "write it as `service:Action`, e.g. `kms:Decrypt`")
                continue
            if any(ch.isspace() for ch in text) or ":" in name:
                self.error(MALFORMED_ACTION, pattern.span, f"malformed action `{text}`",
                           "an action is `service:Action` with no spaces and one colon")
                continue
            if "*" in service or "?" in service:
                self.warning(SERVICE_WILDCARD, pattern.span,
                             f"wildcard in the service prefix of `{text}`: AWS does not document it and the "
                             "reasoner treats it as matching nothing (semantics §2.1, §7.4)")
                continue
            if service.lower() != "kms":
                continue
            if name.lower() == "reencrypt":
                self.warning(REENCRYPT_NO_STAR, pattern.span,
                             f"`{text}` matches no action: ReEncrypt is authorised by "
                             "`kms:ReEncryptFrom` and `kms:ReEncryptTo`", "write `kms:ReEncrypt*`")
                continue
            if not _kms_matches(text):
                close = _closest_kms_action(name)
                self.warning(UNKNOWN_KMS_ACTION, pattern.span,
                             f"`{text}` matches no kms action"
                             + (" in the catalogue" if "*" not in text else ""),
                             f"did you mean `{close}`?" if close else None)

    # -- resources --
    def resources(self, block: ResourceBlock) -> None:
        for pattern in block.patterns:
            text = pattern.text
            if text == "*":
                continue
            if not text.startswith("arn:"):
                self.error(MALFORMED_ARN, pattern.span,
                           f"`{block_name(block)}` entry `{text}` is neither `*` nor an ARN",
                           "an ARN starts with `arn:`, e.g. `arn:aws:kms:us-east-1:111122223333:key/...`")
                continue
            parts = split_arn(text)
            if len(parts) < 6:
                if "*" in text or "?" in text:
                    self.warning(SHORT_ARN, pattern.span,
                                 f"ARN pattern `{text}` has {len(parts)} of the 6 segments; how AWS "
                                 "matches it is undocumented (semantics §2.2, §7.5)",
                                 "spell out every segment, e.g. `...:*`")
                else:
                    self.error(MALFORMED_ARN, pattern.span,
                               f"malformed ARN `{text}`: {len(parts)} of the 6 segments "
                               "`arn:partition:service:region:account:resource`")
                continue
            problem = arn_problem(text, allow_wildcards=True)
            if problem is not None:
                self.error(MALFORMED_ARN, pattern.span, f"malformed ARN `{text}`: {problem}")
            elif any(_VAR.search(seg) for seg in parts[:5]):
                self.warning(VARIABLE_OUTSIDE_RESOURCE, pattern.span,
                             f"policy variable outside the resource part of `{text}`: the IAM guide "
                             "allows variables only after the fifth colon (semantics §2.2), though some "
                             "AWS managed policies use them there")

    # -- conditions --
    def condition(self, st: Statement, cond: Condition) -> None:
        key = cond.key.text
        lkey = key.lower()
        op = cond.operator
        if cond.qualifier is SetQualifier.FOR_ALL_VALUES and (
                lkey.startswith("kms:encryptioncontext:") or lkey.startswith("aws:requesttag/")):
            message = (f"`{cond.operator_text}` on single-valued key `{key}` is vacuously true when the key "
                       "is absent")
            help_ = "use the operator without `ForAllValues:` (semantics §3.2, corner case 31)"
            if self.kind is PolicyKind.KEY_POLICY:
                self.error(FOR_ALL_VALUES_KEY, cond.operator_span,
                           message + "; KMS rejects such key policies", help_)
            else:
                self.warning(FOR_ALL_VALUES_SINGLE, cond.operator_span, message, help_)
        if op in _STRING_EQUALS_FAMILY:
            for value in cond.values:
                if _has_literal_wildcard(value.text, self.doc.supports_variables):
                    like = op.value.replace("Equals", "Like").replace("IgnoreCase", "")
                    self.warning(LITERAL_STAR, value.span,
                                 f"`*` in `{value.text}` is a literal character under `{op.value}`, "
                                 "not a wildcard",
                                 f"to match a pattern use `{like}` (or `ArnLike` for ARNs)")
        if (cond.qualifier is SetQualifier.NONE and op is not ConditionOperator.NULL
                and catalog.is_multivalued(key)):
            self.warning(PLAIN_OP_MULTIVALUED, cond.operator_span,
                         f"`{cond.operator_text}` on multivalued key `{key}`: AWS requires `ForAnyValue:` "
                         "or `ForAllValues:`; how a single-value operator behaves is undocumented "
                         "(semantics §3.2, §7.1)",
                         f"write `ForAnyValue:{cond.operator_text}` or `ForAllValues:...`")
        if op is not ConditionOperator.NULL and lkey.startswith("kms:"):
            self.key_presence(st, cond)
        family = op.family
        if family != "string":
            for value in cond.values:
                if self.number_too_long(family, value):
                    continue
                problem = typed_value_problem(family, value.text)
                if problem is not None:
                    self.warning(BAD_TYPED_VALUE, value.span,
                                 f"`{value.text}` {problem}: under `{op.value}` it never matches a request "
                                 "value (semantics §3.3)")

    def number_too_long(self, family: str, value: Value) -> bool:
        """A number (or an epoch-seconds date) of more than `MAX_NUMBER_DIGITS` digits (values.py): an error,
        so that no analysis ever computes with it (it would be exact arithmetic on a digit string of any
        length). AWS documents no bound; whether it accepts such values is OPEN, the reasoner refuses them."""
        if family not in ("numeric", "date"):
            return False
        digits = number_digits(value.text)
        if digits is None or digits <= MAX_NUMBER_DIGITS:
            return False
        text = value.text.strip()
        shown = text if len(text) <= 24 else text[:20] + "..."
        self.error(NUMBER_TOO_LONG, value.span,
                   f"number `{shown}` has {digits} digits; the most a condition value may have is "
                   f"{MAX_NUMBER_DIGITS}",
                   "leading zeros and trailing zeros after the decimal point do not count")
        return True

    def key_presence(self, st: Statement, cond: Condition) -> None:
        """kms: condition key that no action of the statement can carry (semantics §5.1)."""
        if st.action is None or st.action.negated:
            return
        actions: set[str] = set()
        for pattern in st.action.patterns:
            text = pattern.text
            if ":" not in text or text.split(":", 1)[0].lower() != "kms":
                return  # another service, or `*`: the catalogue cannot exclude the key
            actions |= _kms_matches(text)
        if not actions:
            return
        verdicts = [_key_may_exist(cond.key.text.lower(), a) for a in sorted(actions)]
        if any(v is None or v for v in verdicts):
            return
        shown = ", ".join(f"`{a}`" for a in sorted(actions)[:4]) + (" ..." if len(actions) > 4 else "")
        effect = ("the condition is always false, so the statement never applies"
                  if not cond.operator.negated and not cond.if_exists
                  and cond.qualifier is not SetQualifier.FOR_ALL_VALUES
                  else "the condition is always true")
        self.warning(KEY_NEVER_PRESENT, cond.key.span,
                     f"condition key `{cond.key.text}` is never present in requests for {shown}: {effect}")


# ---- helpers -------------------------------------------------------------------------------------------

def _head(span: Span) -> Span:
    """The first character of a span (the `{` of a statement), for findings about a missing element."""
    return Span(span.file, span.line, span.col, span.line, span.col + 1)


def _at_offset(src: SourceFile, offset: int) -> Span:
    return src.span(offset, offset + 1)


def _byte_offset_to_char(text: str, byte_offset: int) -> int:
    return len(text.encode("utf-8", "surrogatepass")[:byte_offset].decode("utf-8", errors="ignore"))


def _is_trust_statement(st: Statement) -> bool:
    """A role trust policy statement: only `sts:` actions (AssumeRole*, TagSession, SetSourceIdentity)."""
    return st.action is not None and not st.action.negated and all(
        v.text.lower().startswith("sts:") for v in st.action.patterns)


def _kind_name(kind: PolicyKind) -> str:
    return {PolicyKind.KEY_POLICY: "a key policy", PolicyKind.IDENTITY: "an identity policy",
            PolicyKind.SCP: "a service control policy", PolicyKind.RCP: "a resource control policy",
            PolicyKind.PERMISSIONS_BOUNDARY: "a permissions boundary", PolicyKind.SESSION: "a session policy",
            PolicyKind.RESOURCE: "a resource-based policy", PolicyKind.TRUST: "a role trust policy",
            PolicyKind.ENDPOINT: "a VPC endpoint policy"}[kind]


def block_name(block: ResourceBlock) -> str:
    return "NotResource" if block.negated else "Resource"


def _char_name(ch: str) -> str:
    return "a space" if ch == " " else f"`{ch}`" if ch.isprintable() else f"U+{ord(ch):04X}"


_NON_SPACE = re.compile(r"\S+")


def _allowed_char(ch: str) -> bool:
    return ch in "\t\n\r" or 0x20 <= ord(ch) <= 0xFF


#: At most this many runs of bad characters are reported one by one; the last report counts the rest. Text
#: with a bad character every other position (UTF-16 read as UTF-8) would otherwise give one diagnostic per
#: character, and printing each with its source line is quadratic on a long line.
MAX_CHARACTER_DIAGNOSTICS = 20
_DISALLOWED_RUN = re.compile(r"[^\t\n\r\x20-\xff]+")


def character_diagnostics(source: SourceFile) -> Iterator[Diagnostic]:
    """Runs of raw characters outside U+0009, U+000A, U+000D, U+0020-U+00FF (semantics §1.2), one
    diagnostic per run, at most `MAX_CHARACTER_DIAGNOSTICS` (the last one counts the characters of the
    runs after it). Independent of the JSON structure, so it also runs on text that does not parse."""
    text = source.text
    help_ = ("allowed: tab, line feed, carriage return and U+0020 to U+00FF; typographic quotes and dashes "
             "are a common cause")
    for count, m in enumerate(_DISALLOWED_RUN.finditer(text), start=1):
        i, j = m.span()
        what = f"U+{ord(text[i]):04X}" + (f" (and {j - i - 1} more)" if j - i > 1 else "")
        message = f"character {what} is outside the characters policies may contain"
        if count == MAX_CHARACTER_DIAGNOSTICS:
            rest = sum(len(r) for r in _DISALLOWED_RUN.findall(text, j))
            if rest:
                message += f"; {rest} more such characters follow, not reported one by one"
        yield Diagnostic(BAD_CHARACTER, E, source.span(i, j), message, help_)
        if count == MAX_CHARACTER_DIAGNOSTICS:
            return


def _all_values(doc: PolicyDocument) -> Iterator[Value]:
    for v in (doc.version, doc.id):
        if v is not None:
            yield v
    for st in doc.statements:
        if st.sid is not None:
            yield st.sid
        if st.principal is not None:
            for e in st.principal.entries:
                yield e.value
        if st.action is not None:
            yield from st.action.patterns
        if st.resource is not None:
            yield from st.resource.patterns
        if st.condition is not None:
            for c in st.condition.conditions:
                yield c.key
                yield from c.values


def _has_literal_wildcard(text: str, variables: bool) -> bool:
    if variables:
        text = re.sub(r"\$\{[^}]*\}", "", text)  # `${*}` is how a literal star is written on purpose
    return "*" in text


@cache
def _kms_matches(pattern: str) -> frozenset[str]:
    """Canonical kms actions matched by an action pattern (case-insensitive, `*`/`?` wildcards)."""
    p = pattern.lower()
    if p == "*":
        return frozenset(catalog.kms_actions())
    if ":" not in p:
        return frozenset()
    service = p.split(":", 1)[0]
    if service != "kms" and not (("*" in service or "?" in service) and fnmatchcase("kms", service)):
        return frozenset()
    glob = p.replace("[", "[[]")
    return frozenset(a for a in catalog.kms_actions() if fnmatchcase(a.lower(), glob))


@cache
def _key_may_exist(key: str, action: str) -> bool | None:
    return catalog.condition_key_may_exist(key, action)


def _closest_kms_action(name: str) -> str | None:
    import difflib

    names = {a.split(":", 1)[1].lower(): a for a in catalog.kms_actions()}
    hit = difflib.get_close_matches(name.lower(), list(names), n=1, cutoff=0.75)
    return names[hit[0]] if hit else None


_ACCOUNT = re.compile(r"^[0-9]{12}$")
_WILD = re.compile(r"[*?]")
_VAR = re.compile(r"\$\{")
_VAR_FULL = re.compile(r"\$\{[^}]*\}")


def split_arn(text: str) -> list[str]:
    """Split an ARN into at most 6 segments at colons outside policy variables (`${aws:username}` keeps
    its colon); the sixth segment (the resource part) keeps its own colons."""
    parts: list[str] = []
    start = 0
    depth = 0
    i = 0
    while i < len(text) and len(parts) < 5:
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        ch = text[i]
        if ch == "}" and depth:
            depth -= 1
        elif ch == ":" and not depth:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def arn_problem(text: str, *, allow_wildcards: bool) -> str | None:
    """Why `text` is not a well-formed ARN (pattern), or None. Segment rules of semantics §2.2; policy
    variables in the first five segments are accepted here when wildcards are (POL114 warns about them)."""
    parts = split_arn(text)
    if len(parts) < 6 or parts[0] != "arn":
        return "expected `arn:partition:service:region:account:resource`"
    # the resource part is not checked: even an empty one is accepted by AWS (the AWS managed policy
    # AmazonDevOpsGuruOrganizationsAccess has `arn:aws:organizations::*:`)
    _, partition, service, region, account, _resource = parts
    named = (("partition", partition), ("service", service), ("region", region), ("account", account))
    for name, seg in named:
        if not allow_wildcards and _VAR.search(seg):
            return f"policy variable in the {name} segment"
        if not allow_wildcards and _WILD.search(seg):
            return f"wildcard in the {name} segment"
    if allow_wildcards:  # variables outside the resource part are a warning of the caller (POL114)
        partition, region, account = (_VAR_FULL.sub("*", s) for s in (partition, region, account))
    if not partition:
        return "empty partition segment"
    if not service:
        return "empty service segment"
    if _WILD.search(service):
        return "wildcard in the service segment"
    checks = (("partition", partition, r"[a-z0-9-]+"), ("service", service, r"[a-z0-9-]+"),
              ("region", region, r"[a-z0-9-]*"))
    for name, seg, rx in checks:
        if not re.fullmatch(rx, _WILD.sub("a", seg)):
            return f"invalid {name} segment `{seg}`"
    if account and not _WILD.search(account) and not (_ACCOUNT.match(account) or account == "aws"):
        return f"account segment `{account}` is not a 12-digit account id"
    return None


_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
                   r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?$|^[0-9]+$")
_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")


def typed_value_problem(family: str, text: str) -> str | None:
    """Why a condition value can never match under an operator of `family` (numeric, date, bool, binary,
    ip, arn, null), or None. Policy variables are not interpreted in numeric, date, binary, IP and Null
    values (semantics §3.4), so there they are literal text too."""
    if family == "numeric":
        return None if _NUMBER.match(text) else "is not a number"
    if family == "date":
        return None if _DATE.match(text) else "is not an ISO 8601 date or epoch seconds"
    if family in ("bool", "null"):
        return None if text.lower() in ("true", "false") else "is not `true` or `false`"
    if family == "binary":
        return None if _BASE64.match(text) else "is not base64"
    if family == "ip":
        import ipaddress

        if len(text) > MAX_IP_TEXT:  # never parsed: see values.MAX_IP_TEXT
            return "is not an IPv4 or IPv6 address or CIDR block"
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            return "is not an IPv4 or IPv6 address or CIDR block"
        return None
    if family == "arn":
        if "${" in text or text == "*" or len(split_arn(text)) == 6:
            return None
        return "is not an ARN (`arn:partition:service:region:account:resource`)"
    return None


def _iam_principal(text: str) -> arns.Arn | None:
    """An `iam` / `sts` ARN of an `aws*` partition with an ASCII account id and a resource part, or None."""
    arn = arns.parse_identity(text)
    if arn is None or not arns.is_aws_partition(arn.partition) or not arn.account.isascii() or not arn.resource:
        return None
    return arn


def aws_principal_problem(text: str) -> tuple[str, str] | None:
    """(code, message) if `text` is not a valid `AWS` principal entry; `*` is checked by the caller."""
    if _ACCOUNT.match(text):
        return None
    if _WILD.search(text):
        return PRINCIPAL_WILDCARD, f"principal `{text}` contains a wildcard; only the whole value `*` is one"
    if not text.startswith("arn:"):
        if re.fullmatch(r"A[A-Z0-9]{15,127}", text):
            return None  # a unique id (AIDA.../AROA...) as shown for deleted principals (semantics §1.3)
        return MALFORMED_PRINCIPAL, f"principal `{text}` is neither an account id nor an ARN"
    m = _iam_principal(text)
    if m is None:
        problem = arn_problem(text, allow_wildcards=False)
        why = problem or "expected an `iam` or `sts` ARN with an account id"
        return MALFORMED_ARN, f"malformed principal ARN `{text}`: {why}"
    service, resource = m.service, m.resource
    if service == "iam":
        ok = resource == "root" or re.fullmatch(r"(user|role)/([^/\s]+/)*[^/\s]+", resource) is not None
    else:
        ok = re.fullmatch(r"assumed-role/[^/\s]+/[^/\s]+|federated-user/[^/\s]+", resource) is not None
    if not ok:
        return MALFORMED_ARN, (f"malformed principal ARN `{text}`: the resource part `{resource}` is not "
                               + ("`root`, `user/...` or `role/...`" if service == "iam" else
                                  "`assumed-role/<role>/<session>` or `federated-user/<name>`"))
    return None


def principal_account(text: str) -> str | None:
    """The account of an `AWS` principal entry (bare id or iam/sts ARN), or None (`*`, unique ids, bad)."""
    if _ACCOUNT.match(text):
        return text
    m = _iam_principal(text)
    return m.account if m else None
