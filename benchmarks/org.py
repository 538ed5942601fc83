"""Generated organisations for `reasoner scan` (the `scan` section of the benchmarks, and its smoke test).

Input: `OrgSpec(accounts, keys, buckets_per_account, roles_per_account, seed)` and the policy corpus
(`../shared/corpus`: the key policies of `wild/` and `resource-policies/`, the S3 bucket policies and the role
trust policies of `resource-policies/`).
Output: `write_org(spec, corpus_dir, directory) -> OrgInfo`: a manifest directory (`environment.yaml` and one
JSON file per policy) of one AWS Organization: a root and 4 OUs, `accounts` member accounts spread over the
OUs, SCPs (the full-access policy everywhere, a key-protection and a region SCP on two OUs), per account
`roles_per_account` roles (an administrator and application roles, identity policies scoped to the account's
keys and buckets, trust policies from the corpus) and `buckets_per_account` buckets with corpus bucket
policies, and `keys` KMS keys spread round-robin over the accounts, each with a corpus key policy; and
`write_properties(directory)`: the three properties checked on every resource they apply to.
Guarantee: deterministic (`random.Random(seed)`): the same spec and corpus give the same bytes. Corpus
policies are real text: placeholders (`{{...}}`) are filled, their account ids are rewritten (the first one to
the owner, the others to accounts of the organisation or to a few fixed accounts outside it), bucket ARNs to the
bucket's own name; a policy that then fails validation (or is over a size limit) is not used, never patched.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ORG_ID = "o-benchorg01a"
ROOT_ID = "r-bnch"
MANAGEMENT = "100000000000"
OUTSIDE = ("999900001111", "999900002222", "999900003333")
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
_ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")
_BUCKET_ARN = re.compile(r"arn:aws:s3:::([^/\"*]+)")


@dataclass(frozen=True)
class OrgSpec:
    accounts: int = 200
    keys: int = 10_000
    buckets_per_account: int = 1
    roles_per_account: int = 2
    seed: int = 0

    @property
    def label(self) -> str:
        return f"org-a{self.accounts}-k{self.keys}-b{self.buckets_per_account}-r{self.roles_per_account}-s{self.seed}"


@dataclass(frozen=True)
class OrgInfo:
    manifest: Path
    keys: int
    buckets: int
    roles: int
    policies_skipped: int

    @property
    def resources(self) -> int:
        return self.keys + self.buckets + self.roles


def _fill(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        inner = m.group(1).lower()
        if "account" in inner:
            return "111111111111"
        if "partition" in inner:
            return "aws"
        if "region" in inner:
            return "us-east-1"
        if "org" in inner and "id" in inner:
            return ORG_ID
        return "example"

    return re.sub(r"\{\{([^}]*)\}\}", sub, text)


def _entries(corpus: Path, folder: str, pred: Any) -> list[str]:
    index = corpus / folder / "index.json"
    if not index.is_file():
        return []
    out = []
    for e in json.loads(index.read_text(encoding="utf-8")):
        if isinstance(e, dict) and e.get("file") and pred(e):
            path = corpus / folder / e["file"]
            if path.is_file():
                out.append(_fill(path.read_text(encoding="utf-8")))
    return out


class _Pools:
    """The corpus policies the generator draws from (read once)."""

    def __init__(self, corpus: Path) -> None:
        self.keys = (_entries(corpus, "wild", lambda e: e.get("kind") == "key-policy")
                     + _entries(corpus, "resource-policies", lambda e: e.get("kind") == "key-policy"))
        self.buckets = _entries(corpus, "resource-policies", lambda e: e.get("resource_type") == "AWS::S3::Bucket")
        self.trusts = _entries(corpus, "resource-policies", lambda e: e.get("kind") == "trust-policy")
        if not self.keys or not self.buckets or not self.trusts:
            raise FileNotFoundError(f"policy corpus not found (or incomplete) at {corpus}")


def _rewrite_accounts(text: str, owner: str, accounts: list[str], rng: random.Random) -> str:
    mapping: dict[str, str] = {}

    def sub(m: re.Match[str]) -> str:
        old = m.group(0)
        if old not in mapping:
            if not mapping:
                mapping[old] = owner
            elif rng.random() < 0.7:
                mapping[old] = rng.choice(accounts)
            else:
                mapping[old] = rng.choice(OUTSIDE)
        return mapping[old]

    return _ACCOUNT.sub(sub, text)


def _valid(text: str, kind: Any, key_account: str | None = None) -> bool:
    from reasoner.errors import ReasonerError
    from reasoner.front.parse import parse_policy

    try:
        doc = parse_policy(text, file="<generated>", kind=kind, key_account=key_account)
    except (ReasonerError, RecursionError, ValueError):
        return False
    return any(s.principal is not None for s in doc.statements)


def write_org(spec: OrgSpec, corpus: Path, directory: Path) -> OrgInfo:
    """Write the organisation of `spec` under `directory` (module docstring)."""
    from reasoner.front.ast import PolicyKind

    rng = random.Random(spec.seed)
    pools = _Pools(corpus)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "policies").mkdir(exist_ok=True)
    accounts = [f"{200000000000 + i:012d}" for i in range(spec.accounts)]
    ous = [f"ou-bnch-{n:08d}" for n in range(4)]
    skipped = 0

    def write(name: str, text: str) -> str:
        (directory / "policies" / name).write_text(text, encoding="utf-8")
        return f"policies/{name}"

    scps = {
        "full": write("scp-full-access.json", json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}, indent=2)),
        "keys": write("scp-protect-keys.json", json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "OnlyAdminsDeleteKeys", "Effect": "Deny",
             "Action": ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey"], "Resource": "*",
             "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Admin"}}}]}, indent=2)),
        "regions": write("scp-regions.json", json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyOtherRegions", "Effect": "Deny", "NotAction": ["iam:*", "sts:*", "organizations:*"],
             "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": list(REGIONS)}}}]},
            indent=2)),
    }
    lines = ["# Generated by benchmarks/org.py (" + spec.label + "): do not edit.", "organizations:",
             f"  - id: {ORG_ID}", f"    root: {ROOT_ID}", f'    management_account: "{MANAGEMENT}"', "    scps:",
             f"      {ROOT_ID}: [{scps['full']}]", f"      {ous[0]}: [{scps['full']}, {scps['keys']}]",
             f"      {ous[1]}: [{scps['full']}, {scps['regions']}]", f"      {ous[2]}: [{scps['full']}]",
             f"      {ous[3]}: [{scps['full']}, {scps['keys']}]", "", "accounts:",
             f'  - {{id: "{MANAGEMENT}", organization: {ORG_ID}, ou_path: [{ROOT_ID}]}}']
    for i, a in enumerate(accounts):
        lines.append(f'  - {{id: "{a}", organization: {ORG_ID}, ou_path: [{ROOT_ID}, {ous[i % 4]}]}}')
    # keys (round-robin over the accounts)
    key_lines: list[str] = []
    key_arns: dict[str, list[str]] = {a: [] for a in accounts}
    used_keys = 0
    n = 0
    while used_keys < spec.keys:
        owner = accounts[n % len(accounts)]
        region = REGIONS[n % len(REGIONS)]
        n += 1
        text = _rewrite_accounts(rng.choice(pools.keys), owner, accounts, rng)
        if len(text.encode()) > 32_768 or not _valid(text, PolicyKind.KEY_POLICY, owner):
            skipped += 1
            if skipped > 50 * spec.keys + 1000:
                raise RuntimeError("too few usable key policies in the corpus")
            n -= 1
            continue
        key_id = f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-{rng.getrandbits(16):04x}-" \
                 f"{rng.getrandbits(16):04x}-{rng.getrandbits(48):012x}"
        arn = f"arn:aws:kms:{region}:{owner}:key/{key_id}"
        key_arns[owner].append(arn)
        key_lines += [f"  - arn: {arn}", f"    policy: {write(f'key-{used_keys:05d}.json', text)}"]
        used_keys += 1
    lines += ["", "keys:", *key_lines] if key_lines else []
    # buckets
    bucket_lines: list[str] = []
    buckets: dict[str, list[str]] = {a: [] for a in accounts}
    for a in accounts:
        for b in range(spec.buckets_per_account):
            name = f"bench-{a}-{b}"
            for _ in range(50):
                text = _rewrite_accounts(rng.choice(pools.buckets), a, accounts, rng)
                text = _BUCKET_ARN.sub(f"arn:aws:s3:::{name}", text)
                if _valid(text, PolicyKind.RESOURCE):
                    break
                skipped += 1
            else:
                continue
            buckets[a].append(name)
            bucket_lines += [f"  - arn: arn:aws:s3:::{name}", f'    account: "{a}"',
                             f"    policy: {write(f'bucket-{name}.json', text)}"]
    lines += ["", "resources:", *bucket_lines] if bucket_lines else []
    # roles: an administrator and application roles per account
    role_lines: list[str] = []
    roles = 0
    for a in accounts:
        keys_of = [f"arn:aws:kms:*:{a}:key/*"]
        for r in range(spec.roles_per_account):
            name = "Admin" if r == 0 else f"App{r}"
            if r == 0:
                identity = {"Version": "2012-10-17", "Statement": [
                    {"Sid": "AdministerKeys", "Effect": "Allow", "Action": ["kms:*"], "Resource": keys_of},
                    {"Sid": "ManageBuckets", "Effect": "Allow", "Action": ["s3:*"],
                     "Resource": [f"arn:aws:s3:::{b}" for b in buckets[a]] or ["arn:aws:s3:::none"]}]}
            else:
                identity = {"Version": "2012-10-17", "Statement": [
                    {"Sid": "UseKeys", "Effect": "Allow",
                     "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"], "Resource": keys_of,
                     "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGIONS[r % 3]}.amazonaws.com"}}},
                    {"Sid": "ReadData", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                     "Resource": [f"arn:aws:s3:::{b}/*" for b in buckets[a]] or ["arn:aws:s3:::none/*"]}]}
            for _ in range(50):
                trust = _rewrite_accounts(rng.choice(pools.trusts), MANAGEMENT if r == 0 else a, accounts, rng)
                if _valid(trust, PolicyKind.TRUST):
                    break
                skipped += 1
            else:
                continue
            role_lines += [f"  - arn: arn:aws:iam::{a}:role/{name}",
                           f"    policies: [{write(f'iam-{a}-{name}.json', json.dumps(identity, indent=2))}]",
                           f"    trust_policy: {write(f'trust-{a}-{name}.json', trust)}"]
            roles += 1
    lines += ["", "principals:", *role_lines] if role_lines else []
    manifest = directory / "environment.yaml"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return OrgInfo(manifest, used_keys, sum(len(b) for b in buckets.values()), roles, skipped)


#: The properties of the scan benchmark (templates: no environment; each applies to the resources it names).
PROPERTIES = f"""# Checked on every resource of the generated organisation they apply to: three per resource type.
assert "keys: no use outside the organisation":
    no principal outside organization {ORG_ID} can [kms:Decrypt, kms:Encrypt, kms:ReEncrypt*] on all keys
assert "keys: no administration outside the organisation":
    no principal outside organization {ORG_ID} can [kms:PutKeyPolicy, kms:ScheduleKeyDeletion] on all keys
assert "keys: no grants outside the organisation":
    no principal outside organization {ORG_ID} can kms:CreateGrant on all keys

assert "buckets: data stays in the organisation":
    no principal outside organization {ORG_ID} can [s3:GetObject, s3:PutObject]
        on all resources of type AWS::S3::Bucket
assert "buckets: policies are changed only inside the organisation":
    no principal outside organization {ORG_ID} can [s3:PutBucketPolicy, s3:DeleteBucketPolicy]
        on all resources of type AWS::S3::Bucket
assert "buckets: nobody deletes a bucket":
    nobody can s3:DeleteBucket on all resources of type AWS::S3::Bucket

assert "roles: assumed only inside the organisation":
    no principal outside organization {ORG_ID} can sts:AssumeRole on all resources of type AWS::IAM::Role
assert "roles: no web identity":
    nobody can sts:AssumeRoleWithWebIdentity on all resources of type AWS::IAM::Role
assert "roles: no session tags from outside":
    no principal outside organization {ORG_ID} can sts:TagSession on all resources of type AWS::IAM::Role
"""


def write_properties(directory: Path) -> Path:
    path = directory / "checks.access"
    path.write_text(PROPERTIES, encoding="utf-8")
    return path
