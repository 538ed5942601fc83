"""The rules of code scanning: what each kind of result means, how serious it is, and where it is documented.

Input: a rule id: a diagnostic code of the catalogue (`errors.CODES`: FND, DIF, HYG, POL, PARSE, ...) or the id
of a property kind of `check` (`access-not-granted`, ...).
Output: `describe(rule_id)`, a `RuleText` (name, short and full description, help in Markdown, the page of
docs/ that documents it, and its `security-severity`), which `sarif.rule` turns into a reporting descriptor.
Guarantee: every rule any command reports has a full description, help and a severity score in GitHub's range
(0.1 to 10.0, one decimal: 9.0 and above is critical, 7.0 high, 4.0 medium, below low); docs/rules.md has a
section per rule of `RULES` (checked by tests/unit/test_sarif.py). A code not in `RULES` (a validation code
of `validate`) is described from its catalogue title and its severity, with help pointing at the table of
codes in grammars/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from reasoner.errors import CODES, Severity

__all__ = ["RULES", "RuleText", "describe"]


@dataclass(frozen=True)
class RuleText:
    """What a rule says about its results."""

    id: str
    name: str  # PascalCase, as code-scanning UIs show rule names
    short: str  # one line
    full: str  # what a result of the rule means, in sentences
    help: str  # Markdown: what to do about it
    doc: str  # the page of the repository that documents it (`docs/rules.md#fnd001`), with its anchor
    severity: float  # `security-severity`: 0.1 .. 10.0

    @property
    def help_text(self) -> str:
        """The help as plain text (the Markdown without its marks)."""
        return self.help.replace("`", "").replace("**", "")


#: The rules of findings, diff, lint and check. Their sections in docs/rules.md carry the same ids.
RULES: dict[str, RuleText] = {r.id: r for r in (
    RuleText("FND001", "ExternalAccess", "external access to a key",
       "A principal outside the zone of trust can use the key: the finding names the class of principals, the "
       "actions, the conditions and the granting statements, with a concrete request that the evaluator allows.",
       "If the access is intended, accept it in the accepted-findings file (`--accepted`, see "
       "docs/accepted-findings.md) with a reason; otherwise narrow the granting statement's `Principal` or add "
       "a condition such as `aws:PrincipalOrgID`.", "docs/rules.md#fnd001", 6.5),
    RuleText("FND002", "PublicAccess", "public access to a key",
       "Any principal of any account can use the key, and no restricting condition key (`aws:SourceAccount`, "
       "`aws:SourceVpce`, `aws:PrincipalOrgID`, ...) limits the access: the example request is replayed and "
       "allowed.",
       "Replace `\"Principal\": \"*\"` by the accounts or roles that need the key, or restrict the statement "
       "with a fixed `aws:PrincipalOrgID` or `aws:SourceVpce`; public access should almost never be accepted.",
       "docs/rules.md#fnd002", 9.1),
    RuleText("FND003", "FindingsIncomplete", "findings could not be proved complete",
       "The solver could not prove that the listed findings cover every external access to the key (timeout, "
       "resource limit or a construct the symbolic core does not model): there may be more.",
       "Raise `--timeout`, or remove the construct named in the message; an incomplete list is never a pass "
       "(exit status 3).", "docs/rules.md#fnd003", 3.0),
    RuleText("DIF001", "AccessAdded", "access added",
       "The new policies allow a class of requests that the old ones deny, with a concrete request allowed by "
       "NEW and denied by OLD.",
       "Check that the added access is intended; `reasoner check` with a `grants no new access` assertion "
       "makes it a gate.", "docs/rules.md#dif001", 5.0),
    RuleText("DIF002", "AccessRemoved", "access removed",
       "The new policies deny a class of requests that the old ones allow: a principal may lose access it "
       "relies on.",
       "Check that nobody still needs the removed access (a `can` assertion guards against lockout).",
       "docs/rules.md#dif002", 2.0),
    RuleText("DIF003", "DifferenceIncomplete", "difference could not be proved complete",
       "The solver could not prove that the listed differences are all there is (timeout, resource limit or an "
       "unsupported construct).",
       "Raise `--timeout` or remove the construct named in the message; exit status 3.", "docs/rules.md#dif003", 3.0),
    RuleText("HYG001", "KeyPolicyLockout", "key policy lockout",
       "No principal of the key's own account can call `kms:PutKeyPolicy` any more: the key policy can only be "
       "changed through AWS support.",
       "Keep a statement that lets the account's root or an administrator role call `kms:PutKeyPolicy`.",
       "docs/rules.md#hyg001", 7.5),
    RuleText("HYG002", "SeparationOfDuties", "separation of duties violated",
       "One principal can both administer the key and use it for cryptography.",
       "Give administration and use to different roles (checked with `--separation-of-duties`).",
       "docs/rules.md#hyg002", 4.0),
    RuleText("HYG003", "StatementNeverApplies", "statement never applies",
       "No request matches the statement's principal, action, resource and conditions on this key: it is dead "
       "text, often a typo in an action or a condition.",
       "Fix or delete the statement.", "docs/rules.md#hyg003", 2.0),
    RuleText("HYG004", "RedundantStatement", "statement is redundant",
       "Removing the statement changes no decision: every request it matches is decided the same way without it.",
       "Delete the statement, or fix it if it was meant to grant or deny something else.", "docs/rules.md#hyg004",
       1.0),
    RuleText("HYG005", "HygieneUndecided", "hygiene check undecided",
       "A hygiene check could not be decided (timeout, resource limit or an unsupported construct).",
       "Raise `--timeout` or remove the construct named in the message; exit status 3.", "docs/rules.md#hyg005", 1.0),
    RuleText("access-not-granted", "AccessNotGranted", "principals outside a scope must not get the named access",
       "An assertion `no principal outside ... can ...` (or `none of [...] can ...`) is refuted: a concrete "
       "request by a principal outside the scope is allowed; the result sits on the responsible statements.",
       "Narrow the responsible statements, or correct the assertion if the access is intended.",
       "docs/rules.md#access-not-granted", 8.0),
    RuleText("only-principals-can", "OnlyPrincipalsCan", "only the listed principals may get the named access",
       "An assertion `only [...] can ...` is refuted: a principal not in the list is allowed the access.",
       "Narrow the responsible statements, or add the principal to the assertion if it is intended.",
       "docs/rules.md#only-principals-can", 8.0),
    RuleText("can-access", "CanAccess", "a principal must keep the named access (lockout guard)",
       "An assertion `P can ...` is refuted: the principal is denied a request it must be able to make.",
       "Restore the access in the key policy or the principal's identity policies.", "docs/rules.md#can-access",
       5.0),
    RuleText("no-new-access", "NoNewAccess", "a change must not grant access that was not granted before",
       "An assertion `grants no new access over ...` is refuted: the new policies allow a request the old ones "
       "deny.", "Review the change; if the new access is intended, update the assertion.",
       "docs/rules.md#no-new-access", 7.0),
    RuleText("equivalent", "Equivalent", "two environments must allow exactly the same requests",
       "An assertion `is equivalent to ...` is refuted: one side allows a request the other denies.",
       "Review the change, or run `reasoner diff` to see every difference.", "docs/rules.md#equivalent", 5.0),
)}

_VALIDATION_SEVERITY = {Severity.ERROR: 5.0, Severity.WARNING: 3.0, Severity.NOTE: 1.0}


def describe(rule_id: str, severity: Severity | None = None) -> RuleText:
    """The rule `rule_id` (module docstring); `severity` is used for a code the catalogue does not know."""
    known = RULES.get(rule_id)
    if known is not None:
        return known
    level, title = CODES.get(rule_id, (severity or Severity.ERROR, f"policy diagnostic {rule_id}"))
    kind = "AWS rejects the policy" if level is Severity.ERROR else "the policy is accepted but probably wrong"
    return RuleText(
        rule_id, "".join(w.capitalize() for w in rule_id.lower().split("-")) or rule_id, title,
        f"{title} ({kind}); the message says what and where, the help line how to fix it.",
        f"See the row of `{rule_id}` in the table of diagnostic codes; `reasoner validate FILE` prints the "
        "offending line with a caret and a hint.",
        "grammars/README.md", _VALIDATION_SEVERITY[level])
