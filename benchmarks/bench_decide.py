"""Concrete decisions per second: `reasoner.semantics.evaluate.evaluate` on a typical key policy, three identity
policies and a two-level SCP tree (issue 3: target >= 20,000 decisions/s on one core).

Input: nothing (the environment is built here from inline policies).
Output: `run(quick=False) -> dict` with `decisions_per_s` (figure), the request count and notes.
Guarantee: every policy is parsed once before timing; the timed loop only calls `evaluate` on requests
that vary principal, action and context, so per-request work is what is measured. The answers are checked
against a few known decisions first, so a fast but wrong evaluator cannot report a figure.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

OWN = "111122223333"
EXT = "444455556666"
KEY = f"arn:aws:kms:us-west-2:{OWN}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ORG = "o-benchbench1"
ROOT = "r-be11"
OU = "ou-be11-prod"

KEY_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Id": "key-consolepolicy-3",
    "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWN}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Allow access for Key Administrators", "Effect": "Allow",
         "Principal": {"AWS": [f"arn:aws:iam::{OWN}:role/KeyAdmin", f"arn:aws:iam::{OWN}:user/KMSAdminUser"]},
         "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
                    "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
                    "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
         "Resource": "*"},
        {"Sid": "Allow use of the key", "Effect": "Allow",
         "Principal": {"AWS": [f"arn:aws:iam::{OWN}:role/App", f"arn:aws:iam::{EXT}:root"]},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
         "Resource": "*"},
        {"Sid": "Allow attachment of persistent resources", "Effect": "Allow",
         "Principal": {"AWS": [f"arn:aws:iam::{OWN}:role/App", f"arn:aws:iam::{EXT}:root"]},
         "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
        {"Sid": "Deny outside the organization", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
         "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG},
                       "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}},
        {"Sid": "Require encryption context", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt",
         "Resource": "*", "Condition": {"Null": {"kms:EncryptionContext:app": "true"},
                                        "StringNotLike": {"kms:ViaService": "*.us-west-2.amazonaws.com"}}},
    ],
}

IDENTITY: dict[str, dict[str, Any]] = {
    "App": {"Version": "2012-10-17", "Statement": [
        {"Sid": "UseKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
         "Resource": f"arn:aws:kms:*:{OWN}:key/*",
         "Condition": {"StringEquals": {"aws:ResourceTag/app": "${aws:PrincipalTag/app}"}}},
        {"Sid": "S3", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::app-bucket/*"}]},
    "KeyAdmin": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["kms:*"], "Resource": "*"},
        {"Effect": "Deny", "Action": ["kms:ScheduleKeyDeletion"], "Resource": "*",
         "Condition": {"NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": "14"}}}]},
    "Partner": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], "Resource": KEY,
         "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}}]},
}

SCPS: dict[str, list[dict[str, Any]]] = {
    ROOT: [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": ["iam:*", "sts:*", "kms:Describe*"], "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-west-2", "eu-west-1"]}}}]}],
    OU: [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["kms:*", "s3:*"], "Resource": "*"},
        {"Effect": "Deny", "Action": "kms:PutKeyPolicy", "Resource": "*",
         "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/KeyAdmin"}}}]}],
}


def build_environment() -> Any:
    from reasoner.front.ast import PolicyKind
    from reasoner.front.parse import parse_policy
    from reasoner.semantics.environment import Account, Environment, Key, Organization, Principal, PrincipalKind

    def parse(doc: dict[str, Any], kind: PolicyKind, name: str) -> Any:
        return parse_policy(json.dumps(doc, indent=2), file=name, kind=kind)

    key = Key(KEY, parse(KEY_POLICY, PolicyKind.KEY_POLICY, "key-policy.json"), aliases=("alias/app",),
              tags={"app": "billing"})
    principals = (
        Principal(f"arn:aws:iam::{OWN}:role/App", PrincipalKind.ROLE,
                  (parse(IDENTITY["App"], PolicyKind.IDENTITY, "app.json"),), tags={"app": "billing"}),
        Principal(f"arn:aws:iam::{OWN}:role/KeyAdmin", PrincipalKind.ROLE,
                  (parse(IDENTITY["KeyAdmin"], PolicyKind.IDENTITY, "key-admin.json"),)),
        Principal(f"arn:aws:iam::{EXT}:role/Partner", PrincipalKind.ROLE,
                  (parse(IDENTITY["Partner"], PolicyKind.IDENTITY, "partner.json"),)),
    )
    scps = {t: tuple(parse(d, PolicyKind.SCP, f"scp-{t}-{i}.json") for i, d in enumerate(ds))
            for t, ds in SCPS.items()}
    return Environment(
        keys=(key,),
        accounts=(Account(OWN, ORG, (ROOT, OU)), Account(EXT, ORG, (ROOT, OU))),
        principals=principals,
        organizations=(Organization(ORG, ROOT, "999999999999", scps),),
    )


def requests() -> list[Any]:
    from reasoner.semantics.request import Request

    principals = [f"arn:aws:sts::{OWN}:assumed-role/App/worker", f"arn:aws:sts::{OWN}:assumed-role/KeyAdmin/ops",
                  f"arn:aws:sts::{EXT}:assumed-role/Partner/p", f"arn:aws:iam::{OWN}:user/KMSAdminUser",
                  f"arn:aws:iam::{EXT}:root"]
    actions = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant",
               "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:ReEncryptFrom"]
    contexts: list[dict[str, tuple[str, ...]]] = [
        {},
        {"kms:EncryptionContext:app": ("billing",), "aws:SourceIp": ("203.0.113.9",)},
        {"kms:ViaService": ("s3.us-west-2.amazonaws.com",), "aws:SourceIp": ("198.51.100.1",)},
        {"kms:ScheduleKeyDeletionPendingWindowInDays": ("7",), "aws:SourceIp": ("2001:db8::5",)},
        {"kms:GrantOperations": ("Decrypt", "Encrypt"), "kms:ViaService": ("ec2.us-west-2.amazonaws.com",)},
    ]
    return [Request(p, a, KEY, c) for p, a, c in itertools.product(principals, actions, contexts)]


def _sanity(env: Any) -> None:
    """A few known answers, so that a broken evaluator cannot produce a figure."""
    from reasoner.semantics.evaluate import evaluate
    from reasoner.semantics.request import Request

    app = f"arn:aws:sts::{OWN}:assumed-role/App/worker"
    ec = {"kms:EncryptionContext:app": ("billing",)}
    checks = [
        (Request(app, "kms:Decrypt", KEY, ec), "ALLOW"),
        (Request(app, "kms:Decrypt", KEY), "EXPLICIT_DENY"),  # no encryption context, not via a service
        (Request(app, "kms:ScheduleKeyDeletion", KEY), "IMPLICIT_DENY"),
        (Request(f"arn:aws:sts::{EXT}:assumed-role/Partner/p", "kms:Encrypt", KEY,
                 {"aws:SourceIp": ("203.0.113.9",)}), "ALLOW"),
        (Request(f"arn:aws:sts::{EXT}:assumed-role/Partner/p", "kms:ScheduleKeyDeletion", KEY), "IMPLICIT_DENY"),
        (Request(f"arn:aws:sts::{OWN}:assumed-role/KeyAdmin/ops", "kms:ScheduleKeyDeletion", KEY,
                 {"kms:ScheduleKeyDeletionPendingWindowInDays": ("7",)}), "EXPLICIT_DENY"),
    ]
    for request, want in checks:
        got = evaluate(env, request).decision.value
        if got != want:
            raise AssertionError(f"bench_decide sanity check: {request} -> {got}, expected {want}")


def run(quick: bool = False) -> dict[str, Any]:
    from reasoner.semantics.evaluate import evaluate

    env = build_environment()
    _sanity(env)
    reqs = requests()
    for r in reqs:  # warm-up: compile every pattern once
        evaluate(env, r)
    rounds = 20 if quick else 150
    n = 0
    start = time.perf_counter()
    for _ in range(rounds):
        for r in reqs:
            evaluate(env, r)
        n += len(reqs)
    elapsed = time.perf_counter() - start
    return {
        "decisions_per_s": {"value": n / elapsed, "unit": "1/s", "better": "higher"},
        "requests": {"value": float(n), "unit": "", "better": "none"},
        "notes": [f"{len(reqs)} distinct requests x {rounds} rounds on one core; key policy of "
                  f"{len(KEY_POLICY['Statement'])} statements, 3 identity policies, SCPs at root and OU"],
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
