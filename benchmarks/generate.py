"""Synthetic policies for the scaling curves.

Input: a `GenSpec` (statement count, account count, conditions per statement, wildcard rate, seed).
Output: a `Scenario`: one KMS key with its key policy and the principals of several accounts with their
identity policies, every policy as JSON *text* so that it goes through the real parser like a user's file.
Guarantee: deterministic (the same spec gives byte-identical text on every machine and Python version:
only `random.Random(seed)` draws, no hash order); every policy is one AWS would accept apart from
its size (a 1,000-statement key policy is far beyond the 32 KB limit; `Scenario.oversized` says so);
wildcards appear where AWS allows them: `"Principal": "*"` (partial principal wildcards are invalid,
semantics §1.3), action names (§2.1), resource ARNs (§2.2) and StringLike/ArnLike values (§3.3).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

KEY_POLICY_LIMIT = 32_768  # bytes, semantics §1.2
OWNER = "111122223333"
REGION = "us-east-1"

#: KMS actions used by the generator; the first ones work across accounts (semantics §4.6).
KMS_ACTIONS = (
    "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:DescribeKey", "kms:CreateGrant", "kms:ListGrants",
    "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:EnableKeyRotation",
    "kms:TagResource",
)
#: Action patterns with wildcards (semantics §2.1: `*` any sequence, `?` one character).
KMS_ACTION_WILDCARDS = ("kms:*", "kms:Generate*", "kms:ReEncrypt*", "kms:Describe*", "kms:List*",
                        "kms:Re?ncrypt*", "kms:*Grant*", "kms:Get*")
VIA_SERVICES = ("s3", "ec2", "rds", "lambda", "secretsmanager", "ssm", "dynamodb", "sqs")
ROLE_NAMES = ("Admin", "Deploy", "App", "Analytics", "Backup", "Audit", "Ops", "Batch")

#: String/Arn conditions (what the plain string baseline can express) -> key, operator, value maker.
STRING_ARN_CONDITIONS = ("via-service", "caller-account", "encryption-context", "principal-arn",
                         "principal-tag", "source-vpce", "request-alias")
#: Other families, used only when `GenSpec.families` asks for them.
OTHER_CONDITIONS = ("bool-mfa", "numeric-window", "ip-source", "date-time", "null-token", "ec-keys")


@dataclass(frozen=True)
class GenSpec:
    """What to generate. `statements` counts key-policy statements; each account's principals get
    `identity_statements` statements each. `wildcards` is the probability that a pattern carries one."""

    statements: int = 10
    accounts: int = 3
    conditions: int = 1
    wildcards: float = 0.3
    identity_statements: int = 3
    deny_ratio: float = 0.1
    families: tuple[str, ...] = ("string", "arn")
    seed: int = 0

    @property
    def label(self) -> str:
        return (f"s{self.statements}-a{self.accounts}-c{self.conditions}-w{int(self.wildcards * 100)}"
                f"-seed{self.seed}")


@dataclass(frozen=True)
class GenPrincipal:
    """A principal of the scenario: `kind` is one of root, user, role; `policies` are identity policy
    texts (JSON)."""

    arn: str
    kind: str
    account: str
    policies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    spec: GenSpec
    key_arn: str
    key_policy: str  # JSON text
    accounts: tuple[str, ...]
    principals: tuple[GenPrincipal, ...] = field(default=())

    @property
    def owner(self) -> str:
        return self.accounts[0]

    @property
    def oversized(self) -> bool:
        """True when the key policy is larger than KMS accepts (semantics §1.2)."""
        return len(self.key_policy.encode()) > KEY_POLICY_LIMIT

    @property
    def statement_count(self) -> int:
        return int(self.spec.statements)


def account_ids(n: int) -> tuple[str, ...]:
    """`n` distinct 12-digit account ids, the owner first; deterministic."""
    out = [OWNER]
    for i in range(1, n):
        out.append(f"{(444455556666 + i * 101010101) % 10**12:012d}")
    return tuple(out)


class _Gen:
    def __init__(self, spec: GenSpec) -> None:
        self.spec = spec
        self.rng = random.Random(f"reasoner-bench:{spec.label}:{spec.families}")
        self.accounts = account_ids(max(1, spec.accounts))
        bits = [self.rng.getrandbits(n) for n in (32, 16, 16, 16, 48)]
        key_id = f"{bits[0]:08x}-{bits[1]:04x}-{bits[2]:04x}-{bits[3]:04x}-{bits[4]:012x}"
        self.key_arn = f"arn:aws:kms:{REGION}:{OWNER}:key/{key_id}"

    def wild(self) -> bool:
        return self.rng.random() < self.spec.wildcards

    # ---- principals ------------------------------------------------------------------------------
    def principal_value(self) -> str:
        if self.wild() and self.rng.random() < 0.3:
            return "*"
        acct = self.rng.choice(self.accounts)
        form = self.rng.randrange(4)
        if form == 0:
            return acct
        if form == 1:
            return f"arn:aws:iam::{acct}:root"
        if form == 2:
            return f"arn:aws:iam::{acct}:role/{self.rng.choice(ROLE_NAMES)}"
        return f"arn:aws:iam::{acct}:user/user{self.rng.randrange(5)}"

    def principal_block(self) -> object:
        values = sorted({self.principal_value() for _ in range(self.rng.randint(1, 3))})
        if "*" in values:
            return "*" if self.rng.random() < 0.5 else {"AWS": "*"}
        return {"AWS": values[0] if len(values) == 1 else values}

    # ---- actions and resources ------------------------------------------------------------------
    def actions(self) -> list[str]:
        n = self.rng.randint(1, 4)
        out: list[str] = []
        for _ in range(n):
            out.append(self.rng.choice(KMS_ACTION_WILDCARDS) if self.wild() else self.rng.choice(KMS_ACTIONS))
        return sorted(set(out))

    def identity_resource(self) -> str:
        if not self.wild():
            return self.key_arn if self.rng.random() < 0.7 else "*"
        return self.rng.choice((
            "*",
            f"arn:aws:kms:*:{OWNER}:key/*",
            f"arn:aws:kms:{REGION}:{OWNER}:*",
            f"arn:aws:kms:{REGION}:*:key/*",
            self.key_arn[:-6] + "*",
            self.key_arn[:-1] + "?",
        ))

    # ---- conditions -------------------------------------------------------------------------------
    def condition(self, names: tuple[str, ...]) -> tuple[str, str, object]:
        """(operator, key, value) for one condition."""
        name = self.rng.choice(names)
        rng = self.rng
        if name == "via-service":
            svc = rng.choice(VIA_SERVICES)
            if self.wild():
                return "StringLike", "kms:ViaService", f"{svc}.*.amazonaws.com"
            op = "StringNotEquals" if rng.random() < 0.2 else "StringEquals"
            return op, "kms:ViaService", f"{svc}.{REGION}.amazonaws.com"
        if name == "caller-account":
            accts = sorted(set(rng.sample(self.accounts, min(len(self.accounts), rng.randint(1, 3)))))
            op = "StringNotEquals" if rng.random() < 0.2 else "StringEquals"
            return op, "kms:CallerAccount", accts if len(accts) > 1 else accts[0]
        if name == "encryption-context":
            ctx_key = rng.choice(("AppName", "Department", "Project", "Stage"))
            value = rng.choice(("ExampleApp", "Finance", "IT", "Alpha", "prod"))
            if self.wild():
                return "StringLike", f"kms:EncryptionContext:{ctx_key}", value[:2] + "*"
            return "StringEquals", f"kms:EncryptionContext:{ctx_key}", value
        if name == "principal-arn":
            acct = "*" if self.wild() else rng.choice(self.accounts)
            role = rng.choice(ROLE_NAMES)
            op = rng.choice(("ArnLike", "ArnEquals", "ArnNotLike", "StringLike"))
            return op, "aws:PrincipalArn", f"arn:aws:iam::{acct}:role/{role}{'*' if self.wild() else ''}"
        if name == "principal-tag":
            value = rng.choice(("blue", "green", "red"))
            if self.wild():
                return "StringLike", "aws:PrincipalTag/team", value[0] + "*"
            return "StringEquals", "aws:PrincipalTag/team", value
        if name == "source-vpce":
            vpce = f"vpce-{rng.getrandbits(32):08x}"
            if self.wild():
                return "StringLike", "aws:SourceVpce", vpce[:8] + "*"
            return rng.choice(("StringEquals", "StringNotEquals")), "aws:SourceVpce", vpce
        if name == "request-alias":
            alias = f"alias/{rng.choice(('finance', 'app', 'backup'))}-key"
            if self.wild():
                return "StringLike", "kms:RequestAlias", alias[:8] + "*"
            return "StringEquals", "kms:RequestAlias", alias
        if name == "bool-mfa":
            op = rng.choice(("Bool", "BoolIfExists"))
            return op, "aws:MultiFactorAuthPresent", rng.choice(("true", "false"))
        if name == "numeric-window":
            days = str(rng.randint(7, 30))
            return "NumericLessThanEquals", "kms:ScheduleKeyDeletionPendingWindowInDays", days
        if name == "ip-source":
            return (rng.choice(("IpAddress", "NotIpAddress")), "aws:SourceIp",
                    f"203.0.{rng.randrange(256)}.0/24")
        if name == "date-time":
            return "DateGreaterThan", "aws:CurrentTime", f"2026-0{rng.randint(1, 9)}-01T00:00:00Z"
        if name == "null-token":
            return "Null", "aws:TokenIssueTime", rng.choice(("true", "false"))
        # ec-keys: a set operator on a multivalued key
        if self.wild():
            return "ForAnyValue:StringLike", "kms:EncryptionContextKeys", "App*"
        return "ForAnyValue:StringEquals", "kms:EncryptionContextKeys", "AppName"

    def condition_names(self) -> tuple[str, ...]:
        names: list[str] = []
        if "string" in self.spec.families or "arn" in self.spec.families:
            names.extend(STRING_ARN_CONDITIONS)
        if "other" in self.spec.families:
            names.extend(OTHER_CONDITIONS)
        return tuple(names) or STRING_ARN_CONDITIONS

    def condition_block(self, count: int) -> dict[str, dict[str, object]]:
        block: dict[str, dict[str, object]] = {}
        names = self.condition_names()
        for _ in range(count):
            op, key, value = self.condition(names)
            keys = block.setdefault(op, {})
            if key in keys:  # one key per operator block: merge as an OR of values
                old = keys[key]
                merged = sorted({*(old if isinstance(old, list) else [old]),
                                 *(value if isinstance(value, list) else [value])})
                keys[key] = merged
            else:
                keys[key] = value
        return block

    # ---- documents ---------------------------------------------------------------------------------
    def key_policy(self) -> str:
        stmts: list[dict[str, object]] = [{
            "Sid": "EnableIAMPolicies", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"}, "Action": "kms:*", "Resource": "*",
        }]
        for i in range(1, self.spec.statements):
            deny = self.rng.random() < self.spec.deny_ratio
            st: dict[str, object] = {"Sid": f"S{i}", "Effect": "Deny" if deny else "Allow",
                                     "Principal": self.principal_block(), "Action": self.actions(),
                                     "Resource": "*"}
            if self.spec.conditions:
                st["Condition"] = self.condition_block(self.rng.randint(max(0, self.spec.conditions // 2),
                                                                        self.spec.conditions))
                if not st["Condition"]:
                    del st["Condition"]
            stmts.append(st)
        return _document({"Version": "2012-10-17", "Id": f"bench-{self.spec.label}"}, stmts)

    def identity_policy(self, owner: str, index: int) -> str:
        stmts: list[dict[str, object]] = []
        for i in range(max(1, self.spec.identity_statements)):
            deny = i > 0 and self.rng.random() < self.spec.deny_ratio
            st: dict[str, object] = {"Sid": f"P{index}S{i}", "Effect": "Deny" if deny else "Allow",
                                     "Action": self.actions(), "Resource": self.identity_resource()}
            if self.spec.conditions and self.rng.random() < 0.5:
                st["Condition"] = self.condition_block(self.rng.randint(0, min(3, self.spec.conditions)))
                if not st["Condition"]:
                    del st["Condition"]
            stmts.append(st)
        return _document({"Version": "2012-10-17"}, stmts)

    def principals(self) -> tuple[GenPrincipal, ...]:
        out: list[GenPrincipal] = []
        for acct in self.accounts:
            out.append(GenPrincipal(f"arn:aws:iam::{acct}:root", "root", acct))
            role = self.rng.choice(ROLE_NAMES)
            out.append(GenPrincipal(f"arn:aws:iam::{acct}:role/{role}", "role", acct,
                                    (self.identity_policy(acct, 2 * len(out)),)))
            out.append(GenPrincipal(f"arn:aws:iam::{acct}:user/user{self.rng.randrange(5)}", "user", acct,
                                    (self.identity_policy(acct, 2 * len(out) + 1),)))
        return tuple(out)


def _document(head: dict[str, str], statements: list[dict[str, object]]) -> str:
    """JSON text with one statement per line (compact inside a statement, so sizes stay close to what a
    person would upload and each statement has its own line number)."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    body = ",\n".join("    " + json.dumps(st, separators=(",", ":")) for st in statements)
    return "{\n" + "\n".join(lines) + '\n  "Statement": [\n' + body + "\n  ]\n}\n"


def generate(spec: GenSpec) -> Scenario:
    """The scenario of `spec` (deterministic)."""
    g = _Gen(spec)
    key_policy = g.key_policy()
    principals = g.principals()
    return Scenario(spec=spec, key_arn=g.key_arn, key_policy=key_policy, accounts=g.accounts,
                    principals=principals)


def loosen(sc: Scenario) -> Scenario:
    """A proposed change of the scenario's key policy that may grant new access (for no-new-access queries):
    one Allow statement loses its Condition; without any, one Allow statement's actions become `kms:*`;
    a one-statement policy gains a statement for the second account. Deterministic."""
    doc = json.loads(sc.key_policy)
    stmts: list[dict[str, object]] = doc["Statement"]
    rng = random.Random(f"loosen:{sc.spec.label}")
    with_cond = [i for i, st in enumerate(stmts) if i > 0 and st["Effect"] == "Allow" and "Condition" in st]
    allows = [i for i, st in enumerate(stmts) if i > 0 and st["Effect"] == "Allow"]
    if with_cond:
        del stmts[rng.choice(with_cond)]["Condition"]
    elif allows:
        stmts[rng.choice(allows)]["Action"] = "kms:*"
    else:
        other = sc.accounts[1] if len(sc.accounts) > 1 else "444455556666"
        stmts.append({"Sid": "Added", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{other}:root"},
                      "Action": "kms:Decrypt", "Resource": "*"})
    head = {k: v for k, v in doc.items() if k != "Statement"}
    return Scenario(spec=sc.spec, key_arn=sc.key_arn, key_policy=_document(head, stmts), accounts=sc.accounts,
                    principals=sc.principals)


#: The scaling grid of issue 7: statements x accounts x conditions x wildcards.
STATEMENT_SIZES = (1, 10, 100, 1000)
ACCOUNT_SIZES = (1, 5, 20, 50)
CONDITION_SIZES = (0, 2, 5, 10, 20)
WILDCARD_RATES = (0.0, 0.3, 0.7, 1.0)


def scaling_grid(quick: bool = False) -> dict[str, list[GenSpec]]:
    """One curve per axis, the other axes held at the defaults of `GenSpec`."""
    if quick:
        return {
            "statements": [GenSpec(statements=n) for n in (1, 10, 100)],
            "accounts": [GenSpec(accounts=n) for n in (1, 20)],
            "conditions": [GenSpec(conditions=n) for n in (0, 5)],
            "wildcards": [GenSpec(wildcards=w) for w in (0.0, 1.0)],
        }
    return {
        "statements": [GenSpec(statements=n) for n in STATEMENT_SIZES],
        "accounts": [GenSpec(accounts=n) for n in ACCOUNT_SIZES],
        "conditions": [GenSpec(conditions=n) for n in CONDITION_SIZES],
        "wildcards": [GenSpec(wildcards=w) for w in WILDCARD_RATES],
    }


def write_corpus(directory: str, specs: list[GenSpec]) -> list[str]:
    """Write each scenario's policies as files under `directory` (for the CLI and external tools);
    returns the written paths."""
    import os

    paths: list[str] = []
    for spec in specs:
        sc = generate(spec)
        base = os.path.join(directory, spec.label)
        os.makedirs(base, exist_ok=True)
        path = os.path.join(base, "key-policy.json")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(sc.key_policy)
        paths.append(path)
        for i, p in enumerate(sc.principals):
            for j, text in enumerate(p.policies):
                ip = os.path.join(base, f"identity-{i}-{j}.json")
                with open(ip, "w", encoding="utf-8") as fh:
                    fh.write(text)
                paths.append(ip)
    return paths
