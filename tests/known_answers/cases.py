"""The known-answer table: decisions AWS makes, each citing the section of semantics.md it checks.

Every corner case of semantics §6 that concerns a decision is here (ids `c6-NN-...`); the few that concern
policy validation or API behaviour outside a decision are listed in `NOT_DECISIONS` with the reason.
"""

from __future__ import annotations

from typing import Any

from reasoner.semantics.environment import Account
from tests.known_answers.harness import (
    DEFAULT_KP_STMT,
    K2,
    A,
    B,
    Case,
    K,
    O,
    allow,
    deny,
    doc,
    federated,
    role,
    root,
    session,
    user,
)

ALLOW, XDENY, IDENY = "ALLOW", "EXPLICIT_DENY", "IMPLICIT_DENY"
U_O, R_O, S_O = user(O), role(O), session(O)
U_A, R_A, S_A = user(A), role(A), session(A)
DECRYPT_ON_K = doc(allow("kms:Decrypt", K))
KMS_ALL = doc(allow("kms:*", "*"))
S3_ONLY = doc(allow("s3:*", "*"))

CASES: list[Case] = []


def case(*args: Any, **kw: Any) -> None:
    CASES.append(Case(*args, **kw))


# ---- §6 corner cases ----------------------------------------------------------------------------------

case(
    "c6-02-no-resource",
    "§6.2 §1.2",
    "key-policy statement without Resource never applies",
    S_O,
    "kms:Decrypt",
    IDENY,
    key_policy=doc({"Effect": "Allow", "Principal": {"AWS": R_O}, "Action": "kms:Decrypt"}),
    sessions={S_O: (R_O, [])},
    lenient=True,
)
case(
    "c6-05-delegation",
    "§6.5 §4.4",
    "default KP + IAM allow in the same account",
    U_O,
    "kms:Decrypt",
    ALLOW,
    iam={U_O: [DECRYPT_ON_K]},
)
case(
    "c6-06-no-delegation",
    "§6.6 §4.4",
    "KP without the account statement: IAM allows are inert",
    session(O, "R2"),
    "kms:Decrypt",
    IDENY,
    key_policy=doc(allow("kms:*", principal={"AWS": role(O, "R1")})),
    iam={role(O, "R2"): [KMS_ALL]},
)
case(
    "c6-07-kp-alone",
    "§6.7 §4.4",
    "KP naming role R suffices in the same account",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=doc(allow("kms:Decrypt", principal={"AWS": R_O})),
    sessions={S_O: (R_O, [])},
)
case(
    "c6-08-role-pb",
    "§6.8 §4.2",
    "role-ARN grant limited by the role's boundary",
    S_O,
    "kms:Decrypt",
    IDENY,
    key_policy=doc(allow("kms:Decrypt", principal={"AWS": R_O})),
    boundary={R_O: S3_ONLY},
)
case(
    "c6-08-session-arn-pb",
    "§6.8 §4.2",
    "session-ARN grant not limited by the boundary",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=doc(allow("kms:Decrypt", principal={"AWS": S_O})),
    boundary={R_O: S3_ONLY},
)
case(
    "c6-09-user-pb",
    "§6.9 §4.2",
    "user-ARN grant not limited by the user's boundary",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=doc(allow("kms:Decrypt", principal={"AWS": U_O})),
    boundary={U_O: S3_ONLY},
)
case(
    "c6-10-iam-deny",
    "§6.10 §4.2",
    "IAM deny wins even without delegation",
    S_O,
    "kms:Decrypt",
    XDENY,
    key_policy=doc(allow("kms:Decrypt", principal={"AWS": R_O})),
    iam={R_O: [doc(deny("kms:*"))]},
)
VIA_S3 = "s3.us-east-1.amazonaws.com"
DENY_NOT_VIA = deny("kms:Decrypt", principal="*", cond={"StringNotEquals": {"kms:ViaService": VIA_S3}})
case(
    "c6-11-notequals-absent",
    "§6.11 §3.2",
    "ViaService absent: negated test true => deny",
    U_O,
    "kms:Decrypt",
    XDENY,
    key_policy=doc(DENY_NOT_VIA, DEFAULT_KP_STMT),
    iam={U_O: [DECRYPT_ON_K]},
)
case(
    "c6-11-via-s3",
    "§6.11 §3.2",
    "via S3 the deny does not apply",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=doc(DENY_NOT_VIA, DEFAULT_KP_STMT),
    iam={U_O: [DECRYPT_ON_K]},
    context={"kms:ViaService": VIA_S3},
)
VIA_KP = doc(allow("kms:Decrypt", principal={"AWS": R_O}, cond={"StringEquals": {"kms:ViaService": VIA_S3}}))
case(
    "c6-12-direct",
    "§6.12",
    "ViaService required, direct call",
    S_O,
    "kms:Decrypt",
    IDENY,
    key_policy=VIA_KP,
    sessions={S_O: (R_O, [])},
)
case(
    "c6-12-via",
    "§6.12",
    "ViaService required, call through S3",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=VIA_KP,
    context={"kms:ViaService": VIA_S3},
    sessions={S_O: (R_O, [])},
)
case(
    "c6-13-ifexists",
    "§6.13 §3.2",
    "StringEqualsIfExists: absent key is true",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=doc(
        allow(
            "kms:Decrypt", principal={"AWS": R_O}, cond={"StringEqualsIfExists": {"kms:ViaService": VIA_S3}}
        )
    ),
    sessions={S_O: (R_O, [])},
)
XKP = doc(DEFAULT_KP_STMT, allow(["kms:Decrypt"], principal={"AWS": root(A)}))
case(
    "c6-14-cross",
    "§6.14 §4.3",
    "cross-account: KP names A, A's IAM allows",
    S_A,
    "kms:Decrypt",
    ALLOW,
    key_policy=XKP,
    iam={R_A: [DECRYPT_ON_K]},
)
case(
    "c6-15-star-resource",
    "§6.15",
    "IAM Resource * matches the foreign key",
    S_A,
    "kms:Decrypt",
    ALLOW,
    key_policy=XKP,
    iam={R_A: [KMS_ALL]},
)
case(
    "c6-15-encrypt-not-given",
    "§6.15",
    "KP did not give Encrypt",
    S_A,
    "kms:Encrypt",
    IDENY,
    key_policy=XKP,
    iam={R_A: [KMS_ALL]},
)
XKP_ALL = doc(DEFAULT_KP_STMT, allow("kms:*", principal={"AWS": root(A)}))
for n, act in enumerate(
    ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:TagResource", "kms:DisableKey", "kms:GetKeyPolicy"]
):
    case(
        f"c6-16-not-cross-{n}",
        "§6.16 §4.6",
        f"{act} is not usable across accounts",
        S_A,
        act,
        IDENY,
        key_policy=XKP_ALL,
        iam={R_A: [KMS_ALL]},
    )
case(
    "c6-16-listkeys",
    "§6.16 §4.6",
    "kms:ListKeys lists the caller's own keys: a foreign key is unreachable",
    S_A,
    "kms:ListKeys",
    ALLOW,
    resource="*",
    key_policy=XKP_ALL,
    iam={R_A: [KMS_ALL]},
)
case(
    "c6-17-named-no-iam",
    "§6.17 §4.3",
    "KP names external role; no IAM policy => deny",
    S_A,
    "kms:Decrypt",
    IDENY,
    key_policy=doc(DEFAULT_KP_STMT, allow("kms:Decrypt", principal={"AWS": R_A})),
    sessions={S_A: (R_A, [])},
)
case(
    "c6-18-other-role",
    "§6.18 §4.3",
    "KP names R1 of A; R2's IAM allow is inert",
    session(A, "R2"),
    "kms:Decrypt",
    IDENY,
    key_policy=doc(DEFAULT_KP_STMT, allow("kms:Decrypt", principal={"AWS": role(A, "R1")})),
    iam={role(A, "R2"): [DECRYPT_ON_K]},
)
case(
    "c6-19-intersection",
    "§6.19 §4.3",
    "KP gives A Encrypt only; IAM gives Decrypt",
    S_A,
    "kms:Decrypt",
    IDENY,
    key_policy=doc(DEFAULT_KP_STMT, allow("kms:Encrypt", principal={"AWS": root(A)})),
    iam={R_A: [DECRYPT_ON_K]},
)
STAR_KP = doc(DEFAULT_KP_STMT, allow("kms:Decrypt", principal="*"))
case(
    "c6-20-star-external",
    "§6.20",
    "Principal * + external IAM allow",
    S_A,
    "kms:Decrypt",
    ALLOW,
    key_policy=STAR_KP,
    iam={R_A: [DECRYPT_ON_K]},
)
case(
    "c6-20-star-external-no-iam",
    "§6.20 §4.3",
    "Principal * but no external IAM allow",
    S_A,
    "kms:Decrypt",
    IDENY,
    key_policy=STAR_KP,
    sessions={S_A: (R_A, [])},
)
case(
    "c6-20-star-same-account",
    "§6.20",
    "Principal *: same-account user without IAM",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=STAR_KP,
)
ORG_KP = doc(
    DEFAULT_KP_STMT,
    allow("kms:Decrypt", principal="*", cond={"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}),
)
ORG = {"id": "o-abcdefghij", "root": "r-ab12", "management": B}
case(
    "c6-21-org-member",
    "§6.21",
    "external role in the org with IAM allow",
    S_A,
    "kms:Decrypt",
    ALLOW,
    key_policy=ORG_KP,
    iam={R_A: [DECRYPT_ON_K]},
    organizations=[ORG],
    accounts=[Account(A, "o-abcdefghij", ("r-ab12",)), Account(O, None)],
)
case(
    "c6-21-org-outsider",
    "§6.21",
    "external role outside the org",
    S_A,
    "kms:Decrypt",
    IDENY,
    key_policy=ORG_KP,
    iam={R_A: [DECRYPT_ON_K]},
)
ORG_DENY = deny("kms:*", principal="*", cond={"StringNotEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}})
CT = "cloudtrail.amazonaws.com"
CT_ALLOW = allow("kms:GenerateDataKey*", principal={"Service": CT})
case(
    "c6-22-service-denied",
    "§6.22 §3.2",
    "service principal has no org id: negated test true",
    CT,
    "kms:GenerateDataKey",
    XDENY,
    key_policy=doc(ORG_DENY, DEFAULT_KP_STMT, CT_ALLOW),
)
ORG_DENY_SVC = deny(
    "kms:*",
    principal="*",
    cond={
        "StringNotEquals": {"aws:PrincipalOrgID": "o-abcdefghij"},
        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
    },
)
case(
    "c6-22-service-exempt",
    "§6.22",
    "BoolIfExists PrincipalIsAWSService false lets the service through",
    CT,
    "kms:GenerateDataKey",
    ALLOW,
    key_policy=doc(ORG_DENY_SVC, DEFAULT_KP_STMT, CT_ALLOW),
)
for form, p in (("id", A), ("arn", root(A))):
    case(
        f"c6-23-account-{form}",
        "§6.23 §1.3",
        "account id and root ARN mean the same",
        S_A,
        "kms:Decrypt",
        ALLOW,
        key_policy=doc(DEFAULT_KP_STMT, allow("kms:Decrypt", principal={"AWS": p})),
        iam={R_A: [DECRYPT_ON_K]},
    )
    case(
        f"c6-23-account-{form}-no-iam",
        "§6.23",
        "either form needs the IAM side",
        S_A,
        "kms:Decrypt",
        IDENY,
        key_policy=doc(DEFAULT_KP_STMT, allow("kms:Decrypt", principal={"AWS": p})),
        sessions={S_A: (R_A, [])},
    )
case(
    "c6-24-user-no-iam",
    "§6.24 §2.3",
    "account principal is not every principal of the account",
    U_O,
    "kms:Decrypt",
    IDENY,
)
case("c6-24-root", "§6.24", "the account's root user needs no IAM policy", root(O), "kms:Decrypt", ALLOW)
ROOT_ONLY = doc(allow("kms:Decrypt", "*", cond={"ArnEquals": {"aws:PrincipalArn": root(A)}}))
XKP_DEC = doc(DEFAULT_KP_STMT, allow("kms:Decrypt", principal={"AWS": root(A)}))
case(
    "c6-25-root-arn-cond-role",
    "§6.25 §2.3",
    "PrincipalArn root ARN does not match a role",
    S_A,
    "kms:Decrypt",
    IDENY,
    key_policy=XKP_DEC,
    iam={R_A: [ROOT_ONLY]},
)
case(
    "c6-26-principalarn-session",
    "§6.26 §2.3",
    "PrincipalArn of a session is the role ARN",
    S_O,
    "kms:Decrypt",
    IDENY,
    key_policy=doc(allow("kms:Decrypt", principal="*", cond={"StringEquals": {"aws:PrincipalArn": S_O}})),
    sessions={S_O: (R_O, [])},
)
case(
    "c6-26-principalarn-role",
    "§6.26",
    "PrincipalArn equals the role ARN",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=doc(allow("kms:Decrypt", principal="*", cond={"StringEquals": {"aws:PrincipalArn": R_O}})),
    sessions={S_O: (R_O, [])},
)
NP_ROLE = doc(
    deny("kms:*", principal={"AWS": [R_A]}, not_principal=True),
    XKP_DEC.get("Statement")[0],
    XKP_DEC.get("Statement")[1],
)
case(
    "c6-27-notprincipal-role-only",
    "§6.27 §2.4",
    "conservative chain: role alone does not exempt",
    S_A,
    "kms:Decrypt",
    XDENY,
    key_policy=NP_ROLE,
    iam={R_A: [DECRYPT_ON_K]},
)
NP_CHAIN = doc(
    deny("kms:*", principal={"AWS": [root(A), R_A, S_A]}, not_principal=True),
    DEFAULT_KP_STMT,
    allow("kms:Decrypt", principal={"AWS": root(A)}),
)
case(
    "c6-27-notprincipal-chain",
    "§6.27 §2.4",
    "account + role + session listed: exempt",
    S_A,
    "kms:Decrypt",
    ALLOW,
    key_policy=NP_CHAIN,
    iam={R_A: [DECRYPT_ON_K]},
)
case(
    "c6-27-notprincipal-any-link",
    "§6.27 §7.6",
    "option any-link: role alone exempts",
    S_A,
    "kms:Decrypt",
    ALLOW,
    key_policy=NP_ROLE,
    iam={R_A: [DECRYPT_ON_K]},
    options={"not_principal_mode": "any"},
)
NP_USER = doc(deny("kms:*", principal={"AWS": [root(O), U_O]}, not_principal=True), DEFAULT_KP_STMT)
case(
    "c6-28-notprincipal-pb",
    "§6.28 §2.4",
    "Deny+NotPrincipal always hits a principal with a boundary",
    U_O,
    "kms:Decrypt",
    XDENY,
    key_policy=NP_USER,
    iam={U_O: [DECRYPT_ON_K]},
    boundary={U_O: KMS_ALL},
)
case(
    "c6-28-notprincipal-user-exempt",
    "§6.28 §2.4",
    "same user without boundary is exempt",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=NP_USER,
    iam={U_O: [DECRYPT_ON_K]},
)
FAV = {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["AppName"]}}
case(
    "c6-30-forall-no-ec",
    "§6.30 §3.2",
    "ForAllValues with no encryption context: vacuously true",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=doc(allow("kms:Decrypt", principal="*", cond=FAV)),
)
case(
    "c6-30-foranyvalue-no-ec",
    "§6.30 §3.2",
    "ForAnyValue with no encryption context: false",
    U_O,
    "kms:Decrypt",
    IDENY,
    key_policy=doc(
        allow(
            "kms:Decrypt",
            principal="*",
            cond={"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["AppName"]}},
        )
    ),
)
FAV_DEPT = {"ForAllValues:StringEquals": {"kms:EncryptionContext:Dept": "IT"}}
case(
    "c6-31-forall-single-valued",
    "§6.31 §3.2",
    "ForAllValues on a single-valued key: vacuous when absent",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=doc(allow("kms:Decrypt", principal="*", cond=FAV_DEPT)),
    lenient=True,
)
case(
    "c6-31-forall-single-valued-other",
    "§6.31",
    "present with another value: false",
    U_O,
    "kms:Decrypt",
    IDENY,
    key_policy=doc(allow("kms:Decrypt", principal="*", cond=FAV_DEPT)),
    lenient=True,
    context={"kms:EncryptionContext:Dept": "HR"},
)
EC_APP = doc(
    allow(
        "kms:Decrypt", principal="*", cond={"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}
    )
)
case(
    "c6-32-ec-key-case",
    "§6.32 §3.1",
    "EC key part case-insensitive",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=EC_APP,
    context={"kms:EncryptionContext:appname": "ExampleApp"},
)
case(
    "c6-32-ec-value-case",
    "§6.32 §3.3",
    "EC value case-sensitive",
    U_O,
    "kms:Decrypt",
    IDENY,
    key_policy=EC_APP,
    context={"kms:EncryptionContext:AppName": "exampleapp"},
)
GRANT_EQ = {
    "grantee": R_O,
    "operations": frozenset({"kms:Decrypt"}),
    "encryption_context_equals": {"Department": "IT"},
}
GRANT_SUB = {**GRANT_EQ, "encryption_context_equals": None, "encryption_context_subset": {"Department": "IT"}}
NO_ACCESS_KP = doc(DEFAULT_KP_STMT)
EC_EXTRA = {"kms:EncryptionContext:Department": "IT", "kms:EncryptionContext:Project": "x"}
case(
    "c6-33-grant-equals-extra",
    "§6.33 §4.4",
    "EncryptionContextEquals needs the exact context",
    S_O,
    "kms:Decrypt",
    IDENY,
    key={"grants": [GRANT_EQ]},
    context=EC_EXTRA,
    sessions={S_O: (R_O, [])},
)
case(
    "c6-33-grant-equals-exact",
    "§6.33 §4.4",
    "exact context satisfies EncryptionContextEquals",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key={"grants": [GRANT_EQ]},
    context={"kms:EncryptionContext:department": "IT"},
    sessions={S_O: (R_O, [])},
)
case(
    "c6-33-grant-subset",
    "§6.33 §4.4",
    "EncryptionContextSubset allows extra pairs",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key={"grants": [GRANT_SUB]},
    context=EC_EXTRA,
    sessions={S_O: (R_O, [])},
)
case(
    "c6-33-grant-subset-value-case",
    "§4.4",
    "grant constraint values are case-sensitive",
    S_O,
    "kms:Decrypt",
    IDENY,
    key={"grants": [GRANT_SUB]},
    context={"kms:EncryptionContext:Department": "it"},
    sessions={S_O: (R_O, [])},
)
case(
    "c6-33-grant-wrong-op",
    "§4.4",
    "grant does not list the operation",
    S_O,
    "kms:Encrypt",
    IDENY,
    key={"grants": [GRANT_SUB]},
    context=EC_EXTRA,
    sessions={S_O: (R_O, [])},
)
VIA2 = ["ec2.us-west-2.amazonaws.com", "rds.us-west-2.amazonaws.com"]
VIA_OR = doc(allow("kms:Decrypt", principal="*", cond={"StringEquals": {"kms:ViaService": VIA2}}))
case(
    "c6-34-values-or-1",
    "§6.34 §3.1",
    "values are OR-ed (ec2)",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=VIA_OR,
    context={"kms:ViaService": VIA2[0]},
)
case(
    "c6-34-values-or-2",
    "§6.34 §3.1",
    "values are OR-ed (rds)",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=VIA_OR,
    context={"kms:ViaService": VIA2[1]},
)
AND_KP = doc(
    allow(
        "kms:Decrypt",
        principal={"AWS": "*"},
        cond={"StringEquals": {"kms:CallerAccount": O, "kms:ViaService": VIA2[0]}},
    )
)
case(
    "c6-35-keys-and",
    "§6.35 §3.1",
    "keys are AND-ed: both hold",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=AND_KP,
    context={"kms:ViaService": VIA2[0]},
)
case(
    "c6-35-keys-and-one-missing",
    "§6.35 §3.1",
    "keys are AND-ed: ViaService missing",
    U_O,
    "kms:Decrypt",
    IDENY,
    key_policy=AND_KP,
)
case(
    "c6-35-keys-and-wrong-account",
    "§6.35",
    "keys are AND-ed: other caller account",
    U_A,
    "kms:Decrypt",
    IDENY,
    key_policy=AND_KP,
    iam={U_A: [DECRYPT_ON_K]},
    context={"kms:ViaService": VIA2[0]},
)
NOR_KP = doc(
    DEFAULT_KP_STMT,
    allow("kms:Decrypt", principal="*"),
    deny("kms:Decrypt", principal="*", cond={"StringNotEquals": {"aws:PrincipalAccount": [A, B]}}),
)
case(
    "c6-36-nor-outsider",
    "§6.36 §3.1",
    "negated multi-value = NOR: caller in neither",
    U_O,
    "kms:Decrypt",
    XDENY,
    key_policy=NOR_KP,
)
case(
    "c6-36-nor-member",
    "§6.36 §3.1",
    "negated multi-value = NOR: caller in A",
    U_A,
    "kms:Decrypt",
    ALLOW,
    key_policy=NOR_KP,
    iam={U_A: [DECRYPT_ON_K]},
)
case(
    "c6-37-action-case",
    "§6.37 §2.1",
    "action matching is case-insensitive",
    U_O,
    "kms:Decrypt",
    ALLOW,
    iam={U_O: [doc(allow("KMS:decrypt", K))]},
)
case(
    "c6-37-action-case-request",
    "§2.1",
    "request action in any case",
    U_O,
    "KMS:DECRYPT",
    ALLOW,
    iam={U_O: [doc(allow("kms:Decrypt", K))]},
)
case(
    "c6-38-reencrypt-literal",
    "§6.38 §2.1",
    "kms:ReEncrypt matches nothing",
    U_O,
    "kms:ReEncryptFrom",
    IDENY,
    iam={U_O: [doc(allow("kms:ReEncrypt", K))]},
)
case(
    "c6-38-reencrypt-star",
    "§6.38",
    "kms:ReEncrypt* covers ReEncryptTo",
    U_O,
    "kms:ReEncryptTo",
    ALLOW,
    iam={U_O: [doc(allow("kms:ReEncrypt*", K))]},
)
XKP2 = doc(allow("kms:*", principal={"AWS": root(A)}), allow("kms:ReEncrypt*", principal={"AWS": root(O)}))
RE_IAM = {U_O: [doc(allow(["kms:ReEncryptFrom", "kms:ReEncryptTo"], "*"))]}
case(
    "c6-39-reencrypt-from",
    "§6.39",
    "ReEncryptFrom on K1 (own key)",
    U_O,
    "kms:ReEncryptFrom",
    ALLOW,
    iam=RE_IAM,
    extra_keys=[(K2, XKP2)],
)
case(
    "c6-39-reencrypt-to-foreign",
    "§6.39 §4.3",
    "ReEncryptTo on K2 of another account: K2's KP names O",
    U_O,
    "kms:ReEncryptTo",
    ALLOW,
    resource=K2,
    iam=RE_IAM,
    extra_keys=[(K2, XKP2)],
)
case(
    "c6-39-reencrypt-to-missing-iam",
    "§6.39",
    "ReEncryptTo on K2 without the caller's IAM",
    U_O,
    "kms:ReEncryptTo",
    IDENY,
    resource=K2,
    iam={U_O: [doc(allow("kms:ReEncryptFrom", "*"))]},
    extra_keys=[(K2, XKP2)],
)
case(
    "c6-40-generate-random-key-arn",
    "§6.40 §2.2",
    "GenerateRandom needs Resource *",
    U_O,
    "kms:GenerateRandom",
    IDENY,
    resource="*",
    iam={U_O: [doc(allow("kms:Generate*", f"arn:aws:kms:us-east-1:{O}:key/*"))]},
)
case(
    "c6-40-generate-random-star",
    "§6.40",
    "GenerateRandom with Resource *",
    U_O,
    "kms:GenerateRandom",
    ALLOW,
    resource="*",
    iam={U_O: [doc(allow("kms:Generate*", "*"))]},
)
case(
    "c6-40-generate-datakey-key-arn",
    "§6.40",
    "the key-ARN pattern covers GenerateDataKey",
    U_O,
    "kms:GenerateDataKey",
    ALLOW,
    iam={U_O: [doc(allow("kms:Generate*", f"arn:aws:kms:us-east-1:{O}:key/*"))]},
)
ALIAS = f"arn:aws:kms:us-east-1:{O}:alias/finance"
case(
    "c6-41-alias-resource",
    "§6.41 §2.2",
    "alias ARN in Resource never authorises a key operation",
    U_O,
    "kms:Decrypt",
    IDENY,
    resource=ALIAS,
    key={"aliases": ("alias/finance",)},
    iam={U_O: [doc(allow("kms:Decrypt", ALIAS))]},
)
case(
    "c6-41-alias-request-key-arn",
    "§2.2",
    "request by alias is authorised against the key ARN",
    U_O,
    "kms:Decrypt",
    ALLOW,
    resource=ALIAS,
    key={"aliases": ("alias/finance",)},
    iam={U_O: [DECRYPT_ON_K]},
)
RA_KP = doc(
    allow(
        "kms:GenerateDataKey",
        principal={"AWS": R_O},
        cond={"StringEquals": {"kms:RequestAlias": "alias/finance-key"}},
    )
)
FK = f"arn:aws:kms:us-east-1:{O}:alias/finance-key"
case(
    "c6-42-requestalias-key-arn",
    "§6.42",
    "RequestAlias absent when called with the key ARN",
    S_O,
    "kms:GenerateDataKey",
    IDENY,
    key_policy=RA_KP,
    key={"aliases": ("alias/finance-key",)},
    sessions={S_O: (R_O, [])},
)
case(
    "c6-42-requestalias-alias-arn",
    "§6.42",
    "called with the alias ARN",
    S_O,
    "kms:GenerateDataKey",
    ALLOW,
    key_policy=RA_KP,
    resource=FK,
    key={"aliases": ("alias/finance-key",)},
    sessions={S_O: (R_O, [])},
)
case(
    "c6-42-requestalias-name",
    "§6.42",
    "called with the alias name",
    S_O,
    "kms:GenerateDataKey",
    ALLOW,
    key_policy=RA_KP,
    context={"kms:RequestAlias": "alias/finance-key"},
    key={"aliases": ("alias/finance-key",)},
    sessions={S_O: (R_O, [])},
)
ALL_TEST = {"ForAllValues:StringLike": {"kms:ResourceAliases": "alias/*Test*"}}
ANY_TEST = {"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/*Test*"}}
case(
    "c6-43-forall-no-alias",
    "§6.43",
    "ForAllValues on a key without aliases: vacuous",
    U_O,
    "kms:Decrypt",
    ALLOW,
    iam={U_O: [doc(allow("kms:Decrypt", "*", cond=ALL_TEST))]},
)
case(
    "c6-43-forany-no-alias",
    "§6.43",
    "ForAnyValue requires an alias",
    U_O,
    "kms:Decrypt",
    IDENY,
    iam={U_O: [doc(allow("kms:Decrypt", "*", cond={**ALL_TEST, **ANY_TEST}))]},
)
case(
    "c6-43-forany-alias",
    "§6.43",
    "ForAllValues + ForAnyValue with a matching alias",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key={"aliases": ("alias/myTestKey",)},
    iam={U_O: [doc(allow("kms:Decrypt", "*", cond={**ALL_TEST, **ANY_TEST}))]},
)
case(
    "c6-43-forall-one-bad-alias",
    "§6.43",
    "one alias not matching fails ForAllValues",
    U_O,
    "kms:Decrypt",
    IDENY,
    key={"aliases": ("alias/myTestKey", "alias/prod")},
    iam={U_O: [doc(allow("kms:Decrypt", "*", cond=ALL_TEST))]},
)
case(
    "c6-44-all-regions",
    "§6.44 §2.2",
    "region wildcard",
    U_O,
    "kms:Decrypt",
    ALLOW,
    iam={U_O: [doc(allow("kms:Decrypt", f"arn:aws:kms:*:{O}:key/*"))]},
)
case(
    "c6-44-account-prefix",
    "§6.44 §2.2",
    "`arn:aws:kms:us-east-1:O:*` covers key/...",
    U_O,
    "kms:Decrypt",
    ALLOW,
    iam={U_O: [doc(allow("kms:Decrypt", f"arn:aws:kms:us-east-1:{O}:*"))]},
)
case(
    "c6-44-resource-id-case",
    "§6.44 §2.2",
    "resource id is case-sensitive",
    U_O,
    "kms:Decrypt",
    IDENY,
    iam={U_O: [doc(allow("kms:Decrypt", f"arn:aws:kms:us-east-1:{O}:key/1234ABCD*"))]},
)
case(
    "c6-44-other-account-pattern",
    "§2.2",
    "account segment must match",
    U_O,
    "kms:Decrypt",
    IDENY,
    iam={U_O: [doc(allow("kms:Decrypt", f"arn:aws:kms:*:{A}:key/*"))]},
)
ARN46 = "arn:aws:svc:us-east-2:999999999999:store/abc:111122223333:finance/doc.txt"
PAT46 = "arn:aws:svc:*:111122223333:finance/*"
case(
    "c6-46-stringlike-spans-colons",
    "§6.46 §3.3",
    "StringLike * spans colons",
    CT,  # aws:SourceArn is present only for a service principal's request (requestfacts, fact 5)
    "kms:Decrypt",
    ALLOW,
    key_policy=doc(allow("kms:Decrypt", principal="*", cond={"StringLike": {"aws:SourceArn": PAT46}})),
    context={"aws:SourceArn": ARN46},
)
case(
    "c6-46-arnlike-segments",
    "§6.46 §3.3",
    "ArnLike is segment-wise",
    CT,  # aws:SourceArn is present only for a service principal's request (requestfacts, fact 5)
    "kms:Decrypt",
    IDENY,
    key_policy=doc(allow("kms:Decrypt", principal="*", cond={"ArnLike": {"aws:SourceArn": PAT46}})),
    context={"aws:SourceArn": ARN46},
)
TRAIL = f"arn:aws:cloudtrail:us-east-1:{O}:trail/t1"
case(
    "c6-46-arnlike-trail",
    "§6.46 §3.3",
    "ArnLike trail pattern",
    CT,
    "kms:GenerateDataKey",
    ALLOW,
    key_policy=doc(
        allow(
            "kms:GenerateDataKey*",
            principal={"Service": CT},
            cond={"ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:*:{O}:trail/*"}},
        )
    ),
    context={"aws:SourceArn": TRAIL},
)
ADMIN = "arn:aws:iam::*:role/Admin"
case(
    "c6-47-arnequals-wildcard",
    "§6.47",
    "ArnEquals honours wildcards",
    session(A, "Admin"),
    "kms:Decrypt",
    ALLOW,
    key_policy=doc(
        DEFAULT_KP_STMT, allow("kms:Decrypt", principal="*", cond={"ArnEquals": {"aws:PrincipalArn": ADMIN}})
    ),
    iam={role(A, "Admin"): [DECRYPT_ON_K]},
)
case(
    "c6-48-stringequals-literal-star",
    "§6.48",
    "StringEquals treats * literally",
    session(A, "Admin"),
    "kms:Decrypt",
    IDENY,
    key_policy=doc(
        DEFAULT_KP_STMT,
        allow("kms:Decrypt", principal="*", cond={"StringEquals": {"aws:PrincipalArn": ADMIN}}),
    ),
    iam={role(A, "Admin"): [DECRYPT_ON_K]},
)
KAF = f"arn:aws:kms:af-south-1:{O}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
case(
    "c6-49-opt-in-disabled",
    "§6.49 §4.3",
    "opt-in Region not enabled by the external account",
    S_A,
    "kms:Decrypt",
    IDENY,
    resource=KAF,
    key={"arn": KAF},
    key_policy=XKP,
    iam={R_A: [KMS_ALL]},
)
case(
    "c6-49-opt-in-enabled",
    "§6.49 §4.3",
    "opt-in Region enabled",
    S_A,
    "kms:Decrypt",
    ALLOW,
    resource=KAF,
    key={"arn": KAF},
    key_policy=XKP,
    iam={R_A: [KMS_ALL]},
    accounts=[Account(A, enabled_regions=frozenset({"af-south-1"}))],
)
case(
    "c6-49-opt-in-same-account",
    "§4.3",
    "opt-in rule concerns external accounts only",
    U_O,
    "kms:Decrypt",
    ALLOW,
    resource=KAF,
    key={"arn": KAF},
    iam={U_O: [KMS_ALL]},
)
SCP_ORG = {"id": "o-abcdefghij", "root": "r-ab12", "management": B, "scps": {"r-ab12": [doc(allow("s3:*"))]}}
ORG_ACCTS = [Account(A, "o-abcdefghij", ("r-ab12",)), Account(B, "o-abcdefghij", ("r-ab12",))]
case(
    "c6-50-scp-allowlist",
    "§6.50 §4.2",
    "SCP allow-list without kms: implicit deny is final",
    S_A,
    "kms:Decrypt",
    IDENY,
    key_policy=XKP,
    iam={R_A: [KMS_ALL]},
    organizations=[SCP_ORG],
    accounts=ORG_ACCTS,
)
case(
    "c6-50-scp-management-exempt",
    "§6.50 §4.5",
    "management account is not subject to SCPs",
    session(B),
    "kms:Decrypt",
    ALLOW,
    key_policy=doc(DEFAULT_KP_STMT, allow("kms:Decrypt", principal={"AWS": root(B)})),
    iam={role(B): [KMS_ALL]},
    organizations=[SCP_ORG],
    accounts=ORG_ACCTS,
)
RCP = doc(
    deny(
        "kms:*",
        principal="*",
        cond={
            "StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-mine123456"},
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
        },
    )
)
RCP_ORG = {"id": "o-mine123456", "root": "r-mm11", "management": B, "rcps": {"r-mm11": [RCP]}}
case(
    "c6-51-rcp-outsider",
    "§6.51 §4.2",
    "RCP denies an outsider despite KP and IAM allow",
    S_A,
    "kms:Decrypt",
    XDENY,
    key_policy=XKP,
    iam={R_A: [KMS_ALL]},
    organizations=[RCP_ORG],
    accounts=[Account(O, "o-mine123456", ("r-mm11",))],
)
case(
    "c6-51-rcp-aws-managed",
    "§6.51",
    "RCPs do not apply to AWS managed keys",
    S_A,
    "kms:Decrypt",
    ALLOW,
    key_policy=XKP,
    iam={R_A: [KMS_ALL]},
    organizations=[RCP_ORG],
    key={"aws_managed": True},
    accounts=[Account(O, "o-mine123456", ("r-mm11",))],
)
case(
    "c6-51-rcp-management",
    "§6.51",
    "RCPs do not apply to the management account",
    S_A,
    "kms:Decrypt",
    ALLOW,
    key_policy=XKP,
    iam={R_A: [KMS_ALL]},
    organizations=[{**RCP_ORG, "management": O}],
    accounts=[Account(O, "o-mine123456", ("r-mm11",))],
)
case(
    "c6-51-rcp-service",
    "§6.51",
    "RCP exempts service principals through BoolIfExists",
    CT,
    "kms:GenerateDataKey",
    ALLOW,
    key_policy=doc(DEFAULT_KP_STMT, CT_ALLOW),
    organizations=[RCP_ORG],
    accounts=[Account(O, "o-mine123456", ("r-mm11",))],
)
IP_DENY = deny("kms:*", "*", cond={"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
case(
    "c6-52-notip-vpce",
    "§6.52 §3.2",
    "SourceIp absent via VPC endpoint: NotIpAddress true",
    U_O,
    "kms:Decrypt",
    XDENY,
    iam={U_O: [doc(allow("kms:Decrypt", "*"), IP_DENY)]},
    context={"aws:SourceVpce": "vpce-1a2b3c4d"},
)
case(
    "c6-52-notip-in-range",
    "§6.52",
    "caller inside the range",
    U_O,
    "kms:Decrypt",
    ALLOW,
    iam={U_O: [doc(allow("kms:Decrypt", "*"), IP_DENY)]},
    context={"aws:SourceIp": "203.0.113.7"},
)
case(
    "c6-52-ip-allow-absent",
    "§6.52",
    "IpAddress allow with SourceIp absent: false",
    U_O,
    "kms:Decrypt",
    IDENY,
    iam={U_O: [doc(allow("kms:Decrypt", "*", cond={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))]},
)
MFA_DENY = deny("kms:*", "*", cond={"Bool": {"aws:MultiFactorAuthPresent": "false"}})
MFA_DENY_IE = deny("kms:*", "*", cond={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})
case(
    "c6-53-bool-absent",
    "§6.53 §3.2",
    "Bool deny with MFA key absent: not denied",
    U_O,
    "kms:Decrypt",
    ALLOW,
    iam={U_O: [doc(allow("kms:Decrypt", "*"), MFA_DENY)]},
)
case(
    "c6-53-boolifexists-absent",
    "§6.53",
    "BoolIfExists deny with key absent: denied",
    U_O,
    "kms:Decrypt",
    XDENY,
    iam={U_O: [doc(allow("kms:Decrypt", "*"), MFA_DENY_IE)]},
)
case(
    "c6-53-bool-false",
    "§6.53",
    "temporary credentials without MFA: denied",
    U_O,
    "kms:Decrypt",
    XDENY,
    iam={U_O: [doc(allow("kms:Decrypt", "*"), MFA_DENY)]},
    context={"aws:MultiFactorAuthPresent": "false"},
)
NULL_ALLOW = doc(allow("kms:Decrypt", "*", cond={"Null": {"aws:TokenIssueTime": "true"}}))
case(
    "c6-54-null-long-term",
    "§6.54",
    "Null true: long-term credentials",
    U_O,
    "kms:Decrypt",
    ALLOW,
    iam={U_O: [NULL_ALLOW]},
)
case(
    "c6-54-null-temporary",
    "§6.54",
    "Null true: temporary credentials fail",
    U_O,
    "kms:Decrypt",
    IDENY,
    iam={U_O: [NULL_ALLOW]},
    context={"aws:TokenIssueTime": "2026-01-01T00:00:00Z"},
)
VAR_RES = f"arn:aws:kms:us-east-1:{O}:key/${{aws:username}}"
KU = f"arn:aws:kms:us-east-1:{O}:key/U"
case(
    "c6-55-no-version-literal",
    "§6.55 §1.1",
    "no Version: ${aws:username} is literal",
    U_O,
    "kms:Decrypt",
    IDENY,
    resource=KU,
    key={"arn": KU},
    iam={U_O: [doc(allow("kms:Decrypt", VAR_RES), version=None)]},
)
case(
    "c6-55-version-resolves",
    "§1.1 §3.4",
    "2012-10-17: the variable resolves",
    U_O,
    "kms:Decrypt",
    ALLOW,
    resource=KU,
    key={"arn": KU},
    iam={U_O: [doc(allow("kms:Decrypt", VAR_RES))]},
)
KSHARED = f"arn:aws:kms:us-east-1:{O}:key/shared"
case(
    "c6-56-role-no-username",
    "§6.56 §3.4",
    "role session has no aws:username: entry matches nothing",
    S_O,
    "kms:Decrypt",
    IDENY,
    resource=KSHARED,
    key={"arn": KSHARED},
    iam={R_O: [doc(allow("kms:Decrypt", VAR_RES))]},
)
case(
    "c6-56-default",
    "§6.56 §3.4",
    "default value resolves to key/shared",
    S_O,
    "kms:Decrypt",
    ALLOW,
    resource=KSHARED,
    key={"arn": KSHARED},
    iam={R_O: [doc(allow("kms:Decrypt", f"arn:aws:kms:us-east-1:{O}:key/${{aws:username, 'shared'}}"))]},
)
TEAM_DENY = deny("kms:*", "*", cond={"StringNotEquals": {"aws:ResourceTag/Team": "${aws:PrincipalTag/Team}"}})
case(
    "c6-57-unresolved-negated",
    "§6.57 §3.4",
    "caller without Team tag: negated test true => deny",
    U_O,
    "kms:Decrypt",
    XDENY,
    key={"tags": {"Team": "red"}},
    iam={U_O: [doc(allow("kms:Decrypt", "*"), TEAM_DENY)]},
)
case(
    "c6-57-unresolved-negated-sim",
    "§7.2",
    "option: unresolved variable makes the negated test false",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key={"tags": {"Team": "red"}},
    iam={U_O: [doc(allow("kms:Decrypt", "*"), TEAM_DENY)]},
    options={"unresolved_variable_negated_true": False},
)
case(
    "c6-57-same-team",
    "§3.4",
    "same team: not denied",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key={"tags": {"Team": "red"}},
    tags={U_O: {"Team": "red"}},
    iam={U_O: [doc(allow("kms:Decrypt", "*"), TEAM_DENY)]},
)
case(
    "c6-57-other-team",
    "§3.4",
    "other team: denied",
    U_O,
    "kms:Decrypt",
    XDENY,
    key={"tags": {"Team": "red"}},
    tags={U_O: {"Team": "blue"}},
    iam={U_O: [doc(allow("kms:Decrypt", "*"), TEAM_DENY)]},
)
ESC = doc(
    allow(
        "kms:Decrypt", principal="*", cond={"StringLike": {"aws:RequestTag/p": "home/${aws:username}/${*}"}}
    )
)
case(
    "c6-58-escape-literal-star",
    "§6.58 §3.4",
    "${*} is a literal star",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=ESC,
    context={"aws:RequestTag/p": "home/U/*"},
)
case(
    "c6-58-escape-not-wildcard",
    "§6.58 §3.4",
    "${*} does not match other text",
    U_O,
    "kms:Decrypt",
    IDENY,
    key_policy=ESC,
    context={"aws:RequestTag/p": "home/U/file"},
)
for form, when in (("iso", "2026-01-01T00:00:00Z"), ("epoch", "1767225600")):
    d = doc(allow("kms:Decrypt", principal="*", cond={"DateGreaterThan": {"aws:CurrentTime": when}}))
    case(
        f"c6-59-date-{form}-after",
        "§6.59 §3.3",
        f"DateGreaterThan ({form}) after",
        U_O,
        "kms:Decrypt",
        ALLOW,
        key_policy=d,
        context={"aws:CurrentTime": "2026-03-01T12:00:00Z"},
    )
    case(
        f"c6-59-date-{form}-equal",
        "§6.59 §3.3",
        f"DateGreaterThan ({form}) at the instant",
        U_O,
        "kms:Decrypt",
        IDENY,
        key_policy=d,
        context={"aws:CurrentTime": "2026-01-01T01:00:00+01:00"},
    )
WINDOW = f"arn:aws:kms:us-east-1:{O}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
case(
    "c6-60-numeric-le",
    "§6.60 §3.3",
    "NumericLessThanEquals 30 vs 7",
    U_O,
    "kms:ScheduleKeyDeletion",
    ALLOW,
    iam={
        U_O: [
            doc(
                allow(
                    "kms:ScheduleKeyDeletion",
                    "*",
                    cond={"NumericLessThanEquals": {"kms:ScheduleKeyDeletionPendingWindowInDays": "30"}},
                )
            )
        ]
    },
    context={"kms:ScheduleKeyDeletionPendingWindowInDays": "7"},
)
case(
    "c6-60-numeric-unparseable",
    "§6.60 §3.3",
    "unparseable policy number never matches",
    U_O,
    "kms:ScheduleKeyDeletion",
    IDENY,
    lenient=True,
    iam={
        U_O: [
            doc(
                allow(
                    "kms:ScheduleKeyDeletion",
                    "*",
                    cond={"NumericLessThanEquals": {"kms:ScheduleKeyDeletionPendingWindowInDays": "abc"}},
                )
            )
        ]
    },
    context={"kms:ScheduleKeyDeletionPendingWindowInDays": "7"},
)
case(
    "c6-62-statement-object",
    "§6.62 §1.1",
    "Statement as an object",
    U_O,
    "kms:Decrypt",
    ALLOW,
    iam={U_O: [{"Version": "2012-10-17", "Statement": allow("kms:Decrypt", K)}]},
)
case(
    "c6-64-notaction-other-service",
    "§6.64 §2.1",
    "NotAction allows other services' actions",
    U_O,
    "s3:DeleteBucket",
    ALLOW,
    resource="arn:aws:s3:::bucket",
    iam={U_O: [doc(allow("kms:ScheduleKeyDeletion", "*", not_action=True))]},
)
case(
    "c6-64-notaction-excluded",
    "§6.64 §2.1",
    "NotAction excludes the listed action",
    U_O,
    "kms:ScheduleKeyDeletion",
    IDENY,
    iam={U_O: [doc(allow("kms:ScheduleKeyDeletion", "*", not_action=True))]},
)
case(
    "c6-65-star-callaccount",
    "§6.65",
    "Principal * with CallerAccount: direct match, no IAM needed",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=doc(allow("kms:Decrypt", principal="*", cond={"StringEquals": {"kms:CallerAccount": O}})),
)
GRANT_KP = doc(
    DEFAULT_KP_STMT,
    allow(
        ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
        principal={"AWS": root(A)},
        cond={"Bool": {"kms:GrantIsForAWSResource": True}},
    ),
)
case(
    "c6-66-grant-direct",
    "§6.66",
    "CreateGrant called directly: GrantIsForAWSResource false",
    U_A,
    "kms:CreateGrant",
    IDENY,
    key_policy=GRANT_KP,
    iam={U_A: [KMS_ALL]},
    context={"kms:GrantOperations": ["Decrypt"]},
)
case(
    "c6-66-grant-via-ebs",
    "§6.66",
    "CreateGrant through EBS",
    U_A,
    "kms:CreateGrant",
    ALLOW,
    key_policy=GRANT_KP,
    iam={U_A: [KMS_ALL]},
    context={"kms:ViaService": "ec2.us-east-1.amazonaws.com", "kms:GrantOperations": ["Decrypt"]},
)
GO_ALL = {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Encrypt", "ReEncryptTo"]}}
GO_ANY = {"ForAnyValue:StringEquals": {"kms:GrantOperations": ["Encrypt", "ReEncryptTo"]}}
for qual, cond, ops, want in (
    ("all", GO_ALL, ["Encrypt", "Decrypt"], IDENY),
    ("all", GO_ALL, ["Encrypt"], ALLOW),
    ("any", GO_ANY, ["Encrypt", "Decrypt"], ALLOW),
    ("any", GO_ANY, ["Decrypt"], IDENY),
):
    case(
        f"c6-67-grantops-{qual}-{'-'.join(ops)}",
        "§6.67 §3.2",
        f"{qual} of {ops}",
        U_O,
        "kms:CreateGrant",
        want,
        key_policy=doc(allow("kms:CreateGrant", principal={"AWS": U_O}, cond=cond)),
        context={"kms:GrantOperations": ops},
    )
GO_NOT = {"ForAllValues:StringNotEquals": {"kms:GrantOperations": ["Decrypt"]}}
for ops, want in ((["Encrypt"], ALLOW), (["Encrypt", "Decrypt"], IDENY)):
    case(
        f"c6-68-forall-notequals-{'-'.join(ops)}",
        "§6.68 §3.2",
        "ForAllValues:StringNotEquals",
        U_O,
        "kms:CreateGrant",
        want,
        key_policy=doc(allow("kms:CreateGrant", principal={"AWS": U_O}, cond=GO_NOT)),
        context={"kms:GrantOperations": ops},
    )
OU_ORG = {"id": "o-aaaaaaaaaa", "root": "r-bbbb", "management": B}
OU_KP = doc(
    DEFAULT_KP_STMT,
    allow(
        "kms:Decrypt",
        principal="*",
        cond={"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-aaaaaaaaaa/r-bbbb/ou-x/*"}},
    ),
)
case(
    "c6-69-orgpaths-nested",
    "§6.69",
    "account in a nested OU under ou-x",
    S_A,
    "kms:Decrypt",
    ALLOW,
    key_policy=OU_KP,
    iam={R_A: [DECRYPT_ON_K]},
    organizations=[OU_ORG],
    accounts=[Account(A, "o-aaaaaaaaaa", ("r-bbbb", "ou-x", "ou-y"))],
)
case(
    "c6-69-orgpaths-root",
    "§6.69",
    "account directly under the root",
    S_A,
    "kms:Decrypt",
    IDENY,
    key_policy=OU_KP,
    iam={R_A: [DECRYPT_ON_K]},
    organizations=[OU_ORG],
    accounts=[Account(A, "o-aaaaaaaaaa", ("r-bbbb",))],
)
PLAIN_MV = doc(
    DEFAULT_KP_STMT,
    allow(
        "kms:Decrypt", principal="*", cond={"StringLike": {"aws:PrincipalOrgPaths": "o-aaaaaaaaaa/r-bbbb/*"}}
    ),
)
case(
    "c6-70-plain-on-multivalued",
    "§6.70 §7.1",
    "plain operator on a multivalued key: false by default",
    S_A,
    "kms:Decrypt",
    IDENY,
    key_policy=PLAIN_MV,
    iam={R_A: [DECRYPT_ON_K]},
    organizations=[OU_ORG],
    lenient=True,
    accounts=[Account(A, "o-aaaaaaaaaa", ("r-bbbb",))],
)
case(
    "c6-70-plain-on-multivalued-any",
    "§6.70 §7.1",
    "option: plain operator means any value",
    S_A,
    "kms:Decrypt",
    ALLOW,
    key_policy=PLAIN_MV,
    iam={R_A: [DECRYPT_ON_K]},
    organizations=[OU_ORG],
    lenient=True,
    accounts=[Account(A, "o-aaaaaaaaaa", ("r-bbbb",))],
    options={"plain_operator_on_multivalued_any": True},
)
RETIRE_KP = doc(DEFAULT_KP_STMT, allow("kms:RetireGrant", principal={"AWS": U_O}))
case(
    "c6-71-retire-kp-ineffective",
    "§6.71 §4.4",
    "key-policy RetireGrant for a user not named in the grant",
    U_O,
    "kms:RetireGrant",
    IDENY,
    key_policy=RETIRE_KP,
    key={"grants": [{"grantee": R_O, "operations": frozenset({"kms:Decrypt"})}]},
)
case(
    "c6-71-retiring-principal",
    "§6.71 §4.4",
    "the retiring principal needs no permission",
    S_A,
    "kms:RetireGrant",
    ALLOW,
    key_policy=doc(DEFAULT_KP_STMT),
    key={"grants": [{"grantee": R_O, "operations": frozenset({"kms:Decrypt"}), "retiring_principal": R_A}]},
    sessions={S_A: (R_A, [])},
)
case(
    "c6-71-grantee-with-retire",
    "§4.4",
    "the grantee holding RetireGrant may retire",
    S_O,
    "kms:RetireGrant",
    ALLOW,
    key={"grants": [{"grantee": R_O, "operations": frozenset({"kms:Decrypt", "kms:RetireGrant"})}]},
    sessions={S_O: (R_O, [])},
)
case(
    "c6-71-iam-deny-retire",
    "§4.4",
    "an IAM Deny on RetireGrant is effective",
    S_A,
    "kms:RetireGrant",
    XDENY,
    key={"grants": [{"grantee": R_O, "operations": frozenset({"kms:Decrypt"}), "retiring_principal": R_A}]},
    iam={R_A: [doc(deny("kms:RetireGrant"))]},
)
case(
    "c6-71-account-delegates-retire",
    "§4.4",
    "the key's account delegates RetireGrant through IAM",
    U_O,
    "kms:RetireGrant",
    ALLOW,
    key={"grants": [{"grantee": R_O, "operations": frozenset({"kms:Decrypt"})}]},
    iam={U_O: [doc(allow("kms:RetireGrant", "*"))]},
)
F_O = federated(O)
case(
    "c6-72-federated-no-session-policy",
    "§6.72 §4.2",
    "federated user without session policy",
    F_O,
    "kms:Decrypt",
    IDENY,
    iam={U_O: [DECRYPT_ON_K]},
    sessions={F_O: (U_O, [])},
)
case(
    "c6-72-federated-session-policy",
    "§4.2",
    "federated user with an allowing session policy",
    F_O,
    "kms:Decrypt",
    ALLOW,
    iam={U_O: [DECRYPT_ON_K]},
    sessions={F_O: (U_O, [KMS_ALL])},
)
IP_V4_DENY = deny("kms:*", "*", cond={"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}})
case(
    "c6-74-ipv6-vs-v4-range",
    "§6.74 §3.3",
    "IPv6 caller vs IPv4 range: NotIpAddress true",
    U_O,
    "kms:Decrypt",
    XDENY,
    iam={U_O: [doc(allow("kms:Decrypt", "*"), IP_V4_DENY)]},
    context={"aws:SourceIp": "2001:db8::1"},
)
IP_BOTH = deny("kms:*", "*", cond={"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}})
case(
    "c6-74-both-families",
    "§6.74 §3.3",
    "listing both families avoids it",
    U_O,
    "kms:Decrypt",
    ALLOW,
    iam={U_O: [doc(allow("kms:Decrypt", "*"), IP_BOTH)]},
    context={"aws:SourceIp": "2001:db8::1"},
)

# ---- §4.2 table: same-account resource-policy allow vs implicit denies --------------------------------

KP_USER = doc(allow("kms:Decrypt", principal={"AWS": U_O}))
KP_ROLE = doc(allow("kms:Decrypt", principal={"AWS": R_O}))
KP_SESSION = doc(allow("kms:Decrypt", principal={"AWS": S_O}))
KP_FED = doc(allow("kms:Decrypt", principal={"AWS": F_O}))
S3_SESSION = [S3_ONLY]
case(
    "t42-user-no-iam",
    "§4.2 table row 1",
    "user ARN: identity implicit deny, still allowed",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=KP_USER,
)
case(
    "t42-user-pb",
    "§4.2 table row 1",
    "user ARN: PB implicit deny, still allowed",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=KP_USER,
    boundary={U_O: S3_ONLY},
)
case(
    "t42-role-no-iam",
    "§4.2 table row 2",
    "role ARN: identity implicit deny, still allowed",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=KP_ROLE,
    sessions={S_O: (R_O, [])},
)
case(
    "t42-role-pb",
    "§4.2 table row 2",
    "role ARN: PB implicit deny => deny",
    S_O,
    "kms:Decrypt",
    IDENY,
    key_policy=KP_ROLE,
    boundary={R_O: S3_ONLY},
)
case(
    "t42-role-pb-allows",
    "§4.2 table row 2",
    "role ARN: PB allows",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=KP_ROLE,
    boundary={R_O: KMS_ALL},
)
case(
    "t42-role-session-policy",
    "§4.2 table row 2",
    "role ARN: session-policy implicit deny => deny",
    S_O,
    "kms:Decrypt",
    IDENY,
    key_policy=KP_ROLE,
    sessions={S_O: (R_O, S3_SESSION)},
)
case(
    "t42-session-no-iam",
    "§4.2 table row 3",
    "session ARN: identity implicit deny, allowed",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=KP_SESSION,
    sessions={S_O: (R_O, [])},
)
case(
    "t42-session-pb",
    "§4.2 table row 3",
    "session ARN: PB implicit deny, allowed",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=KP_SESSION,
    boundary={R_O: S3_ONLY},
)
case(
    "t42-session-sp",
    "§4.2 table row 3",
    "session ARN: session-policy implicit deny, allowed",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=KP_SESSION,
    sessions={S_O: (R_O, S3_SESSION)},
)
case(
    "t42-fed-no-iam",
    "§4.2 table row 4",
    "federated ARN: no session policy, still allowed (direct)",
    F_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=KP_FED,
    sessions={F_O: (U_O, [])},
)
case(
    "t42-fed-pb",
    "§4.2 table row 4",
    "federated ARN: PB implicit deny, allowed",
    F_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=KP_FED,
    boundary={U_O: S3_ONLY},
    sessions={F_O: (U_O, [S3_ONLY])},
)
case(
    "t42-fed-sp",
    "§4.2 table row 4",
    "federated ARN: session-policy implicit deny, allowed",
    F_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=KP_FED,
    sessions={F_O: (U_O, S3_SESSION)},
)
case(
    "t42-user-of-fed-pb",
    "§4.2 table row 5",
    "user ARN, call by its federated session: PB deny",
    F_O,
    "kms:Decrypt",
    IDENY,
    key_policy=KP_USER,
    boundary={U_O: S3_ONLY},
    sessions={F_O: (U_O, [KMS_ALL])},
)
case(
    "t42-user-of-fed-sp",
    "§4.2 table row 5",
    "user ARN, federated session: session-policy deny",
    F_O,
    "kms:Decrypt",
    IDENY,
    key_policy=KP_USER,
    sessions={F_O: (U_O, S3_SESSION)},
)
case(
    "t42-user-of-fed-ok",
    "§4.2 table row 5",
    "user ARN, federated session, session policy allows",
    F_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=KP_USER,
    sessions={F_O: (U_O, [KMS_ALL])},
)
case(
    "t42-user-of-fed-none",
    "§4.2 step 7",
    "user ARN, federated session without session policy",
    F_O,
    "kms:Decrypt",
    IDENY,
    key_policy=KP_USER,
    sessions={F_O: (U_O, [])},
)
case(
    "t42-account-no-iam",
    "§4.2 table row 6",
    "account principal needs an identity allow",
    S_O,
    "kms:Decrypt",
    IDENY,
    sessions={S_O: (R_O, [])},
)
case(
    "t42-account-iam",
    "§4.2 table row 6",
    "account principal + identity allow",
    S_O,
    "kms:Decrypt",
    ALLOW,
    iam={R_O: [DECRYPT_ON_K]},
)
case(
    "t42-account-pb",
    "§4.2 table row 6",
    "account principal: PB implicit deny",
    S_O,
    "kms:Decrypt",
    IDENY,
    iam={R_O: [DECRYPT_ON_K]},
    boundary={R_O: S3_ONLY},
)
case(
    "t42-account-sp",
    "§4.2 table row 6",
    "account principal: session-policy implicit deny",
    S_O,
    "kms:Decrypt",
    IDENY,
    iam={R_O: [DECRYPT_ON_K]},
    sessions={S_O: (R_O, S3_SESSION)},
)
case(
    "t42-account-sp-allows",
    "§4.2 table row 6",
    "account principal: session policy allows",
    S_O,
    "kms:Decrypt",
    ALLOW,
    iam={R_O: [DECRYPT_ON_K]},
    sessions={S_O: (R_O, [KMS_ALL])},
)
STAR_ARN = doc(allow("kms:Decrypt", principal="*", cond={"ArnEquals": {"aws:PrincipalArn": R_O}}))
case(
    "t42-star-arn-no-iam",
    "§4.2 table row 7",
    "* + PrincipalArn: no identity policy",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=STAR_ARN,
    sessions={S_O: (R_O, [])},
)
case(
    "t42-star-arn-pb",
    "§4.2 table row 7",
    "* + PrincipalArn: not limited by PB",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=STAR_ARN,
    boundary={R_O: S3_ONLY},
)
case(
    "t42-star-arn-sp",
    "§4.2 table row 7",
    "* + PrincipalArn: not limited by session policy",
    S_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=STAR_ARN,
    sessions={S_O: (R_O, S3_SESSION)},
)
case(
    "t42-star-arn-pb-deny",
    "§4.2 table row 7",
    "* + PrincipalArn: explicit PB deny still wins",
    S_O,
    "kms:Decrypt",
    XDENY,
    key_policy=STAR_ARN,
    boundary={R_O: doc(deny("kms:Decrypt"))},
)
case(
    "t42-star-fed-no-sp",
    "§4.2 step 7",
    "* grants do not reach a federated session without session policy",
    F_O,
    "kms:Decrypt",
    IDENY,
    key_policy=doc(allow("kms:Decrypt", principal="*")),
    sessions={F_O: (U_O, [])},
)
case(
    "t42-root-scp",
    "§4.2 step 8",
    "the root user of a member account is subject to SCPs",
    root(A),
    "kms:Decrypt",
    IDENY,
    key_policy=XKP,
    organizations=[SCP_ORG],
    accounts=ORG_ACCTS,
)
case(
    "t42-root-kp-deny",
    "§4.2 step 8",
    "the root user is subject to key-policy denies",
    root(O),
    "kms:Decrypt",
    XDENY,
    key_policy=doc(DEFAULT_KP_STMT, deny("kms:Decrypt", principal={"AWS": root(O)})),
)
case(
    "t42-kp-deny-beats-iam",
    "§4.2 step 1",
    "explicit KP deny beats IAM allow",
    U_O,
    "kms:Decrypt",
    XDENY,
    key_policy=doc(DEFAULT_KP_STMT, deny("kms:Decrypt", principal="*")),
    iam={U_O: [DECRYPT_ON_K]},
)

# ---- SCP tree (§4.2 step 2, §4.5) ---------------------------------------------------------------------

TREE = {
    "id": "o-tttttttttt",
    "root": "r-tt11",
    "management": B,
    "scps": {
        "r-tt11": [doc(allow("*"))],
        "ou-tt11-a": [doc(allow("kms:*"))],
        "ou-tt11-b": [doc(allow("s3:*"))],
        A: [doc(allow("kms:Decrypt"), deny("kms:Encrypt"))],
    },
}
KP_A_ALL = doc(DEFAULT_KP_STMT, allow("kms:*", principal={"AWS": root(A)}))
TREE_A = [Account(A, "o-tttttttttt", ("r-tt11", "ou-tt11-a"))]
case(
    "scp-every-level-allows",
    "§4.2 step 2",
    "root, OU and account SCPs allow Decrypt",
    S_A,
    "kms:Decrypt",
    ALLOW,
    key_policy=KP_A_ALL,
    iam={R_A: [KMS_ALL]},
    organizations=[TREE],
    accounts=TREE_A,
)
case(
    "scp-account-level-misses",
    "§4.2 step 2",
    "account-level SCP does not allow DescribeKey",
    S_A,
    "kms:DescribeKey",
    IDENY,
    key_policy=KP_A_ALL,
    iam={R_A: [KMS_ALL]},
    organizations=[TREE],
    accounts=TREE_A,
)
case(
    "scp-deny",
    "§4.2 step 1",
    "SCP deny is explicit",
    S_A,
    "kms:Encrypt",
    XDENY,
    key_policy=KP_A_ALL,
    iam={R_A: [KMS_ALL]},
    organizations=[TREE],
    accounts=TREE_A,
)
case(
    "scp-ou-misses",
    "§4.2 step 2",
    "OU-level SCP allows only s3",
    S_A,
    "kms:Decrypt",
    IDENY,
    key_policy=KP_A_ALL,
    iam={R_A: [KMS_ALL]},
    organizations=[TREE],
    accounts=[Account(A, "o-tttttttttt", ("r-tt11", "ou-tt11-b"))],
)
case(
    "scp-no-entry-full-access",
    "§4.2 step 2",
    "levels without SCPs get FullAWSAccess",
    S_A,
    "kms:Decrypt",
    ALLOW,
    key_policy=KP_A_ALL,
    iam={R_A: [KMS_ALL]},
    organizations=[TREE],
    accounts=[Account(A, "o-tttttttttt", ("r-tt11", "ou-tt11-c"))],
)
case(
    "scp-service-linked-role",
    "§4.5",
    "service-linked roles are not subject to SCPs",
    session(A, "AWSServiceRoleForX"),
    "kms:DescribeKey",
    ALLOW,
    key_policy=KP_A_ALL,
    iam={f"arn:aws:iam::{A}:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX": [KMS_ALL]},
    organizations=[TREE],
    accounts=TREE_A,
)
case(
    "scp-conditions",
    "§4.5",
    "SCP with a condition (2025 full language)",
    S_A,
    "kms:Decrypt",
    IDENY,
    key_policy=KP_A_ALL,
    iam={R_A: [KMS_ALL]},
    organizations=[
        {
            **TREE,
            "scps": {
                "r-tt11": [doc(allow("*", cond={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}))]
            },
        }
    ],
    accounts=TREE_A,
)

# ---- grants (§4.4) -------------------------------------------------------------------------------------

case(
    "grant-cross-account",
    "§4.4 §7.7",
    "grant to an external role: a grant alone suffices (default)",
    S_A,
    "kms:Decrypt",
    ALLOW,
    key={"grants": [{"grantee": R_A, "operations": frozenset({"kms:Decrypt"})}]},
    sessions={S_A: (R_A, [])},
)
case(
    "grant-cross-account-needs-iam",
    "§7.7",
    "option: cross-account grantee also needs IAM",
    S_A,
    "kms:Decrypt",
    IDENY,
    key={"grants": [{"grantee": R_A, "operations": frozenset({"kms:Decrypt"})}]},
    sessions={S_A: (R_A, [])},
    options={"cross_account_grant_requires_iam": True},
)
case(
    "grant-to-account-delegates",
    "§7.7",
    "grant to an account: IAM of the account delegates",
    S_A,
    "kms:Decrypt",
    ALLOW,
    key={"grants": [{"grantee": root(A), "operations": frozenset({"kms:Decrypt"})}]},
    iam={R_A: [DECRYPT_ON_K]},
)
case(
    "grant-to-account-no-iam",
    "§7.7",
    "grant to an account: principal without IAM allow",
    S_A,
    "kms:Decrypt",
    IDENY,
    key={"grants": [{"grantee": root(A), "operations": frozenset({"kms:Decrypt"})}]},
    sessions={S_A: (R_A, [])},
)
case(
    "grant-to-account-root-only",
    "§7.7",
    "option: account grant reaches the root user only",
    S_A,
    "kms:Decrypt",
    IDENY,
    key={"grants": [{"grantee": root(A), "operations": frozenset({"kms:Decrypt"})}]},
    iam={R_A: [DECRYPT_ON_K]},
    options={"account_grantee_delegates": False},
)
case(
    "grant-deny-wins",
    "§4.4",
    "grants never override an explicit deny",
    S_A,
    "kms:Decrypt",
    XDENY,
    key_policy=doc(DEFAULT_KP_STMT, deny("kms:Decrypt", principal={"AWS": root(A)})),
    key={"grants": [{"grantee": R_A, "operations": frozenset({"kms:Decrypt"})}]},
    sessions={S_A: (R_A, [])},
)
case(
    "grant-describe-ignores-ec",
    "§4.4",
    "EC constraints are ignored for DescribeKey",
    S_O,
    "kms:DescribeKey",
    ALLOW,
    key={"grants": [{**GRANT_EQ, "operations": frozenset({"kms:DescribeKey"})}]},
    sessions={S_O: (R_O, [])},
)
case(
    "grant-creategrant-subset",
    "§4.4",
    "a CreateGrant grant only for operations it holds",
    S_O,
    "kms:CreateGrant",
    IDENY,
    key={"grants": [{"grantee": R_O, "operations": frozenset({"kms:Decrypt", "kms:CreateGrant"})}]},
    context={"kms:GrantOperations": ["Decrypt", "Encrypt"]},
    sessions={S_O: (R_O, [])},
)
case(
    "grant-creategrant-ok",
    "§4.4",
    "CreateGrant for held operations",
    S_O,
    "kms:CreateGrant",
    ALLOW,
    key={"grants": [{"grantee": R_O, "operations": frozenset({"kms:Decrypt", "kms:CreateGrant"})}]},
    context={"kms:GrantOperations": ["Decrypt"]},
    sessions={S_O: (R_O, [])},
)
case(
    "grant-not-cross-capable-op",
    "§4.3",
    "cross-account grants still obey the cross-account set",
    S_A,
    "kms:ScheduleKeyDeletion",
    IDENY,
    key_policy=XKP_ALL,
    iam={R_A: [KMS_ALL]},
)

# ---- service principals and misc KMS rules --------------------------------------------------------------

case(
    "svc-allowed",
    "§4.4",
    "service principal allowed by the key policy",
    CT,
    "kms:GenerateDataKey",
    ALLOW,
    key_policy=doc(DEFAULT_KP_STMT, CT_ALLOW),
)
case(
    "svc-other-service",
    "§2.3",
    "another service principal does not match",
    "logs.amazonaws.com",
    "kms:GenerateDataKey",
    IDENY,
    key_policy=doc(DEFAULT_KP_STMT, CT_ALLOW),
)
case(
    "svc-account-principal",
    "§2.3",
    "an account principal never matches a service",
    CT,
    "kms:GenerateDataKey",
    IDENY,
)
case(
    "svc-scp-exempt",
    "§4.5",
    "SCPs never apply to service principals",
    CT,
    "kms:GenerateDataKey",
    ALLOW,
    key_policy=doc(DEFAULT_KP_STMT, CT_ALLOW),
    organizations=[SCP_ORG],
    accounts=[Account(O, "o-abcdefghij", ("r-ab12",))],
)
case(
    "kp-own-arn",
    "§2.2 §7.9",
    "a key policy naming the key's own ARN matches",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key_policy=doc(allow("kms:Decrypt", K, principal={"AWS": U_O})),
)
case(
    "kp-own-arn-off",
    "§7.9",
    "option: the own ARN does not match",
    U_O,
    "kms:Decrypt",
    IDENY,
    key_policy=doc(allow("kms:Decrypt", K, principal={"AWS": U_O})),
    options={"key_policy_own_arn_matches": False},
)
case(
    "kp-other-arn",
    "§2.2",
    "a key policy naming another key's ARN never matches",
    U_O,
    "kms:Decrypt",
    IDENY,
    key_policy=doc(allow("kms:Decrypt", K2, principal={"AWS": U_O})),
    lenient=True,
)
case(
    "kp-notresource-star",
    "§2.2",
    "NotResource * in a key policy matches nothing",
    U_O,
    "kms:Decrypt",
    IDENY,
    key_policy=doc(allow("kms:Decrypt", "*", principal={"AWS": U_O}, not_resource=True)),
    lenient=True,
)
case(
    "kp-resource-tag",
    "§5.1 §7.10",
    "aws:ResourceTag in a key policy evaluates normally by default",
    U_O,
    "kms:Decrypt",
    ALLOW,
    key={"tags": {"env": "prod"}},
    key_policy=doc(
        allow("kms:Decrypt", principal={"AWS": U_O}, cond={"StringEquals": {"aws:ResourceTag/env": "prod"}})
    ),
    lenient=True,
)
case(
    "kp-resource-tag-off",
    "§7.10",
    "option: resource keys absent in key policies",
    U_O,
    "kms:Decrypt",
    IDENY,
    key={"tags": {"env": "prod"}},
    options={"resource_keys_in_key_policy": False},
    key_policy=doc(
        allow("kms:Decrypt", principal={"AWS": U_O}, cond={"StringEquals": {"aws:ResourceTag/env": "prod"}})
    ),
    lenient=True,
)
case(
    "key-spec-condition",
    "§5.1",
    "kms:KeySpec is derived from the key",
    U_O,
    "kms:Sign",
    ALLOW,
    key={"key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY"},
    iam={U_O: [doc(allow("kms:Sign", "*", cond={"StringEquals": {"kms:KeySpec": "RSA_2048"}}))]},
)
case(
    "key-never-present",
    "§5.1",
    "kms:GrantOperations never exists for Decrypt: StringEquals false",
    U_O,
    "kms:Decrypt",
    IDENY,
    iam={
        U_O: [
            doc(
                allow(
                    "kms:Decrypt", "*", cond={"ForAnyValue:StringEquals": {"kms:GrantOperations": "Decrypt"}}
                )
            )
        ]
    },
)
case(
    "create-key-iam-only",
    "§4.6",
    "CreateKey is authorised by IAM alone",
    U_O,
    "kms:CreateKey",
    ALLOW,
    resource="*",
    iam={U_O: [doc(allow("kms:CreateKey"))]},
)
case("create-key-denied", "§4.6", "CreateKey without IAM", U_O, "kms:CreateKey", IDENY, resource="*")
case(
    "alias-side-iam",
    "§4.4",
    "CreateAlias on the alias ARN: IAM only",
    U_O,
    "kms:CreateAlias",
    ALLOW,
    resource=f"arn:aws:kms:us-east-1:{O}:alias/new",
    iam={U_O: [doc(allow("kms:CreateAlias", "*"))]},
)
case(
    "alias-side-foreign",
    "§4.6",
    "CreateAlias on another account's alias: never",
    U_A,
    "kms:CreateAlias",
    IDENY,
    resource=f"arn:aws:kms:us-east-1:{O}:alias/new",
    iam={U_A: [doc(allow("kms:CreateAlias", "*"))]},
)
case(
    "unknown-principal",
    "§4.4",
    "a principal the environment does not describe has no IAM policies",
    S_A,
    "kms:Decrypt",
    IDENY,
    key_policy=XKP,
)
case(
    "unknown-principal-kp-star",
    "§4.4",
    "an undescribed same-account principal via Principal *",
    session(O, "Ghost"),
    "kms:Decrypt",
    ALLOW,
    key_policy=STAR_KP,
)
case(
    "iam-unknown-account",
    "§4.4",
    "an account whose IAM is not known has no identity policies",
    S_A,
    "kms:Decrypt",
    IDENY,
    key_policy=XKP,
    iam={R_A: [KMS_ALL]},
    accounts=[Account(A, iam_known=False)],
)
case(
    "role-path",
    "§2.3",
    "role ARN with a path matches sessions of that role",
    session(O, "P"),
    "kms:Decrypt",
    ALLOW,
    key_policy=doc(allow("kms:Decrypt", principal={"AWS": f"arn:aws:iam::{O}:role/team/P"})),
    iam={f"arn:aws:iam::{O}:role/team/P": []},
)
case(
    "role-path-mismatch",
    "§2.3",
    "role ARN without the path does not match a role that has one",
    session(O, "P"),
    "kms:Decrypt",
    IDENY,
    key_policy=doc(allow("kms:Decrypt", principal={"AWS": role(O, "P")})),
    iam={f"arn:aws:iam::{O}:role/team/P": []},
)
case(
    "user-name-case",
    "§1.3",
    "user names in Principal are case-sensitive",
    user(O, "alice"),
    "kms:Decrypt",
    IDENY,
    key_policy=doc(allow("kms:Decrypt", principal={"AWS": user(O, "Alice")})),
)
case(
    "kp-statement-no-action",
    "§1.2",
    "a key-policy statement without Action never applies",
    U_O,
    "kms:Decrypt",
    IDENY,
    key_policy=doc({"Effect": "Allow", "Principal": {"AWS": U_O}, "Resource": "*"}),
    lenient=True,
)


# ---- condition operators (§3.2, §3.3): Principal * + one condition on a same-account user --------------


def cond_case(  # noqa: PLR0917
    cid: str,
    section: str,
    cond: dict[str, Any],
    context: dict[str, Any],
    holds: bool,
    note: str = "",
    **kw: Any,
) -> None:
    case(
        f"op-{cid}",
        section,
        note or cid,
        U_O,
        "kms:Decrypt",
        ALLOW if holds else IDENY,
        key_policy=doc(allow("kms:Decrypt", principal="*", cond=cond)),
        context=context,
        **kw,
    )


T = "aws:RequestTag/t"
cond_case("streq-hit", "§3.3", {"StringEquals": {T: "abc"}}, {T: "abc"}, True)
cond_case("streq-case", "§3.3", {"StringEquals": {T: "abc"}}, {T: "ABC"}, False)
cond_case("streq-absent", "§3.2", {"StringEquals": {T: "abc"}}, {}, False)
cond_case("streq-star-literal", "§3.3", {"StringEquals": {T: "a*"}}, {T: "abc"}, False)
cond_case("strne-absent", "§3.2", {"StringNotEquals": {T: "abc"}}, {}, True)
cond_case("strne-hit", "§3.3", {"StringNotEquals": {T: "abc"}}, {T: "abc"}, False)
cond_case("strne-nor", "§3.1", {"StringNotEquals": {T: ["a", "b"]}}, {T: "c"}, True)
cond_case("streqic", "§3.3", {"StringEqualsIgnoreCase": {T: "AbC"}}, {T: "aBc"}, True)
cond_case("strneic", "§3.3", {"StringNotEqualsIgnoreCase": {T: "AbC"}}, {T: "abc"}, False)
cond_case("strneic-absent", "§3.2", {"StringNotEqualsIgnoreCase": {T: "AbC"}}, {}, True)
cond_case("strlike-q", "§3.3", {"StringLike": {T: "a?c"}}, {T: "abc"}, True)
cond_case("strlike-q-empty", "§3.3", {"StringLike": {T: "a?c"}}, {T: "ac"}, False)
cond_case("strlike-star-empty", "§3.3", {"StringLike": {T: "a*c"}}, {T: "ac"}, True)
cond_case("strlike-case", "§3.3", {"StringLike": {T: "A*"}}, {T: "abc"}, False)
cond_case("strnotlike", "§3.3", {"StringNotLike": {T: "a*"}}, {T: "bcd"}, True)
cond_case("strnotlike-hit", "§3.3", {"StringNotLike": {T: ["x*", "a*"]}}, {T: "abc"}, False)
N = "aws:MultiFactorAuthAge"
cond_case("numeq", "§3.3", {"NumericEquals": {N: "10"}}, {N: "10.0"}, True)
cond_case("numne", "§3.3", {"NumericNotEquals": {N: "10"}}, {N: "11"}, True)
cond_case("numne-absent", "§3.2", {"NumericNotEquals": {N: "10"}}, {}, True)
cond_case("numlt", "§3.3", {"NumericLessThan": {N: "3600"}}, {N: "3600"}, False)
cond_case("numle", "§3.3", {"NumericLessThanEquals": {N: "3600"}}, {N: "3600"}, True)
cond_case("numgt", "§3.3", {"NumericGreaterThan": {N: "-1.5"}}, {N: "-1"}, True)
cond_case("numge", "§3.3", {"NumericGreaterThanEquals": {N: "5"}}, {N: "4.99"}, False)
cond_case("num-bad-request", "§3.3", {"NumericLessThan": {N: "5"}}, {N: "four"}, False)
D = "aws:CurrentTime"
cond_case(
    "dateeq-offset",
    "§3.3",
    {"DateEquals": {D: "2026-01-01T00:00:00Z"}},
    {D: "2026-01-01T02:00:00+02:00"},
    True,
)
cond_case("datene", "§3.3", {"DateNotEquals": {D: "2026-01-01"}}, {D: "2026-01-02"}, True)
cond_case("datelt", "§3.3", {"DateLessThan": {D: "2026-06-30T00:00:00Z"}}, {D: "2026-06-29T23:59:59Z"}, True)
cond_case("datele", "§3.3", {"DateLessThanEquals": {D: "1767225600"}}, {D: "2026-01-01T00:00:00Z"}, True)
cond_case("dategt-epoch-request", "§3.3", {"DateGreaterThan": {D: "2025-12-31"}}, {D: "1767225600"}, True)
cond_case(
    "datege",
    "§3.3",
    {"DateGreaterThanEquals": {D: "2026-01-01T00:00:01Z"}},
    {D: "2026-01-01T00:00:00Z"},
    False,
)
cond_case("date-absent", "§3.2", {"DateLessThan": {D: "2026-01-01"}}, {}, False)
Bk = "aws:ViaAWSService"
cond_case(
    "bool-true", "§3.3", {"Bool": {"aws:SecureTransport": "true"}}, {}, True, "SecureTransport is derived"
)
cond_case("bool-json-true", "§1.2 §3.3", {"Bool": {"aws:SecureTransport": True}}, {}, True)
cond_case("bool-case", "§3.3", {"Bool": {Bk: "TRUE"}}, {Bk: "true"}, True)
cond_case("bool-mismatch", "§3.3", {"Bool": {Bk: "true"}}, {Bk: "false"}, False)
BIN = "aws:RequestTag/blob"
cond_case("binary-eq", "§3.3", {"BinaryEquals": {BIN: "QmluYXJ5VmFsdWU="}}, {BIN: "QmluYXJ5VmFsdWU="}, True)
cond_case("binary-ne", "§3.3", {"BinaryEquals": {BIN: "QmluYXJ5VmFsdWU="}}, {BIN: "T3RoZXI="}, False)
IP = "aws:SourceIp"
cond_case("ip-v4", "§3.3", {"IpAddress": {IP: "203.0.113.0/24"}}, {IP: "203.0.113.200"}, True)
cond_case("ip-v4-out", "§3.3", {"IpAddress": {IP: "203.0.113.0/24"}}, {IP: "203.0.114.1"}, False)
cond_case("ip-bare", "§3.3", {"IpAddress": {IP: "203.0.113.5"}}, {IP: "203.0.113.5"}, True)
cond_case(
    "ip-v6", "§3.3", {"IpAddress": {IP: "2001:DB8:1234:5678::/64"}}, {IP: "2001:db8:1234:5678::abcd"}, True
)
cond_case("ip-family-mismatch", "§3.3", {"IpAddress": {IP: "::/0"}}, {IP: "10.0.0.1"}, False)
cond_case("notip-v6", "§3.3", {"NotIpAddress": {IP: "2001:db8::/32"}}, {IP: "2001:db9::1"}, True)
ARNK = "ec2:SourceInstanceARN"  # an ARN a role session of an instance carries (aws:SourceArn: services only)
cond_case(
    "arneq",
    "§3.3",
    {"ArnEquals": {ARNK: f"arn:aws:s3:::bucket-{O}"}},
    {ARNK: f"arn:aws:s3:::bucket-{O}"},
    True,
)
cond_case("arnlike-q", "§3.3", {"ArnLike": {ARNK: "arn:aws:s3:::b?"}}, {ARNK: "arn:aws:s3:::b1"}, True)
cond_case("arnlike-malformed", "§3.3", {"ArnLike": {ARNK: "arn:aws:s3:::*"}}, {ARNK: "not-an-arn"}, False)
cond_case("arnnoteq", "§3.3", {"ArnNotEquals": {ARNK: "arn:aws:s3:::b1"}}, {ARNK: "arn:aws:s3:::b2"}, True)
cond_case("arnnotlike", "§3.3", {"ArnNotLike": {ARNK: "arn:aws:s3:::b*"}}, {ARNK: "arn:aws:s3:::b2"}, False)
cond_case("arnnotlike-absent", "§3.2", {"ArnNotLike": {ARNK: "arn:aws:s3:::b*"}}, {}, True)
cond_case("arnlike-case", "§3.3", {"ArnLike": {ARNK: "arn:aws:s3:::B*"}}, {ARNK: "arn:aws:s3:::b2"}, False)
cond_case("null-true-absent", "§3.2", {"Null": {T: "true"}}, {}, True)
cond_case("null-true-present", "§3.2", {"Null": {T: "true"}}, {T: "x"}, False)
cond_case("null-false-present", "§3.2", {"Null": {T: "false"}}, {T: "x"}, True)
cond_case("null-both", "§3.2", {"Null": {T: ["true", "false"]}}, {}, True)
cond_case("ifexists-numeric-present", "§3.2", {"NumericLessThanIfExists": {N: "10"}}, {N: "20"}, False)
cond_case("ifexists-numeric-absent", "§3.2", {"NumericLessThanIfExists": {N: "10"}}, {}, True)
cond_case("ifexists-ip-absent", "§3.2", {"IpAddressIfExists": {IP: "10.0.0.0/8"}}, {}, True)
cond_case(
    "ifexists-arn-present",
    "§3.2",
    {"ArnLikeIfExists": {ARNK: "arn:aws:s3:::x*"}},
    {ARNK: "arn:aws:s3:::x1"},
    True,
)
TK = "aws:TagKeys"
cond_case("forall-subset", "§3.2", {"ForAllValues:StringEquals": {TK: ["a", "b"]}}, {TK: ["a"]}, True)
cond_case("forall-extra", "§3.2", {"ForAllValues:StringEquals": {TK: ["a", "b"]}}, {TK: ["a", "c"]}, False)
cond_case("forall-absent", "§3.2", {"ForAllValues:StringEquals": {TK: ["a"]}}, {}, True)
cond_case("forany-hit", "§3.2", {"ForAnyValue:StringLike": {TK: ["x*"]}}, {TK: ["a", "xy"]}, True)
cond_case("forany-absent", "§3.2", {"ForAnyValue:StringLike": {TK: ["x*"]}}, {}, False)
cond_case("forany-ifexists-absent", "§3.2", {"ForAnyValue:StringLikeIfExists": {TK: ["x*"]}}, {}, True)
cond_case(
    "forany-ifexists-absent-sim",
    "§3.2",
    {"ForAnyValue:StringLikeIfExists": {TK: ["x*"]}},
    {},
    False,
    "option: iam-simulate's reading (ForAnyValue before IfExists)",
    options={"for_any_value_if_exists_absent_true": False},
)
cond_case("forany-negated", "§3.2", {"ForAnyValue:StringNotEquals": {TK: ["a"]}}, {TK: ["a", "b"]}, True)
cond_case("forany-negated-only-a", "§3.2", {"ForAnyValue:StringNotEquals": {TK: ["a"]}}, {TK: ["a"]}, False)
cond_case("var-username", "§3.4", {"StringEquals": {T: "${aws:username}"}}, {T: "U"}, True)
cond_case("var-key-case", "§3.4", {"StringEquals": {T: "${AWS:UserName}"}}, {T: "U"}, True)
cond_case("var-default", "§3.4", {"StringEquals": {T: "${aws:PrincipalTag/team, 'none'}"}}, {T: "none"}, True)
cond_case(
    "var-unresolved-positive", "§3.4", {"StringLike": {T: "${aws:PrincipalTag/team}*"}}, {T: "x"}, False
)
cond_case("var-escape-q", "§3.4", {"StringLike": {T: "a${?}"}}, {T: "a?"}, True)
cond_case("var-escape-q-not-wild", "§3.4", {"StringLike": {T: "a${?}"}}, {T: "ab"}, False)
cond_case("var-escape-dollar", "§3.4", {"StringEquals": {T: "${$}x"}}, {T: "$x"}, True)
cond_case(
    "var-resolved-star-literal",
    "§3.4",
    {"StringLike": {T: "${aws:PrincipalTag/p}"}},
    {T: "abc"},
    False,
    "a `*` inside a resolved value is literal",
    tags={U_O: {"p": "a*"}},
)
cond_case(
    "var-arn",
    "§3.4",
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:user/*"}},
    {},
    True,
)
cond_case("multi-key-and", "§3.1", {"StringEquals": {T: "a", "aws:RequestTag/u": "b"}}, {T: "a"}, False)
cond_case(
    "multi-op-and",
    "§3.1",
    {"StringEquals": {T: "a"}, "StringLike": {"aws:RequestTag/u": "b*"}},
    {T: "a", "aws:RequestTag/u": "bz"},
    True,
)
cond_case(
    "key-name-case", "§3.1", {"StringEquals": {"AWS:REQUESTTAG/T": "a"}}, {"aws:requesttag/t": "a"}, True
)
cond_case("principal-type", "§5.2", {"StringEquals": {"aws:PrincipalType": "User"}}, {}, True)
cond_case(
    "userid-root-absent",
    "§5.2",
    {"Null": {"aws:userid": "false"}},
    {},
    False,
    "aws:userid is not determined for a user without unique id",
)
cond_case("principal-account", "§5.2", {"StringEquals": {"aws:PrincipalAccount": O}}, {}, True)
cond_case("resource-account", "§5.2", {"StringEquals": {"aws:ResourceAccount": O}}, {}, True)
cond_case("requested-region", "§5.2", {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}, {}, True)
cond_case("empty-condition", "§3.1", {}, {}, True, "an empty Condition block is unconditional")


#: §6 corner cases that are not decisions of the evaluator (validation, API behaviour), with the reason.
NOT_DECISIONS: dict[int, str] = {
    1: "policy validation: Principal in an identity policy is rejected (tests/unit of the parser)",
    3: "PutKeyPolicy checks that principals exist; the environment cannot know deleted principals",
    4: "the key-policy lockout safety check is a property (see properties), not a decision",
    29: "Allow+NotPrincipal: the evaluator raises UnsupportedFeatureError (test_evaluate_rules)",
    45: "pattern level: tests/unit/test_patterns.py (S3 bucket/*/test/*)",
    61: "policy validation: `Effect: allow` is rejected by the parser",
    63: "policy validation: duplicate JSON keys are rejected by the parser",
    73: "policy validation: Sid with a space",
}
