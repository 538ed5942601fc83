"""The fixpoint of `eventually` claims (issue 18, docs/eventually.md): time per claim on the bundled organisation
example and on a generated organisation of 50 roles, 20 keys and 10 accounts.

Input: `examples/org/environment.yaml` as bundled (its roles have no trust policy: every claim that a role could
reach is UNKNOWN, naming the roles) and the same with a trust policy on each role, its own account's root
(`org_with_trust`), and `generated_org(roles=50, keys=20, accounts=10, seed)` (below).
Output: `run(quick=False) -> dict` (shape of benchmarks/README.md: `figures` and `notes`): per environment and
claim, the wall time of a cold check (the environment compiled first, as `reasoner check` does for its first
assertion) and of a warm one (compiled once, shared by the claims), the verdict, and the fixpoint's rounds,
steps found and solver queries.
Guarantee: the timed call is the public `reasoner.analyses.pipeline.check` on an `Eventually` property compiled
from the claim text by the property language; the generated environment is a fixed function of its seed.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ORG = ROOT / "examples" / "org" / "environment.yaml"

ORG_CLAIMS: tuple[tuple[str, str], ...] = (
    ("outside-org-decrypt", "no principal outside organization o-a1b2c3d4e5 can eventually kms:Decrypt on all keys"),
    ("outside-account-audit", "no principal outside account 111122223333 can eventually kms:Decrypt "
                              "on key alias/audit-logs"),
    ("only-admins-put-policy", "only [arn:aws:iam::111122223333:role/KeyAdmin, 111122223333] can eventually "
                               "kms:PutKeyPolicy on all keys"),
    ("intern-decrypt-3-steps", "none of [arn:aws:iam::444455556666:user/intern] can eventually kms:Decrypt "
                               "on all keys within 3 steps"),
)


def _policy(kind: str, statements: list[dict[str, Any]]) -> Any:
    from reasoner.front.ast import PolicyKind
    from reasoner.front.parse import parse_policy

    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": statements}), kind=PolicyKind(kind),
                        file=f"<generated {kind}>")


def org_with_trust() -> Any:
    """examples/org with a trust policy on every role: its own account's root (the console's default)."""
    from reasoner.front.manifest import load_environment
    from reasoner.semantics.environment import PrincipalKind

    env = load_environment(ORG)
    principals = []
    for p in env.principals:
        if p.kind is PrincipalKind.ROLE and p.trust_policy is None:
            account = p.arn.split(":")[4]
            trust = _policy("trust", [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                                       "Action": "sts:AssumeRole"}])
            principals.append(replace(p, trust_policy=trust))
        else:
            principals.append(p)
    return replace(env, principals=tuple(principals))


def _account(i: int) -> str:
    return f"{100000000000 + i * 111111111:012d}"


def generated_org(roles: int = 50, keys: int = 20, accounts: int = 10, seed: int = 18) -> Any:
    """An organisation: `accounts` accounts (the first `accounts - 3` declared with their IAM, the last three
    not: outsiders such as vendors), `keys` keys owned by the first four accounts, each with the console's
    default statement, an administrator role and users from its own or a partner account, some with a grant
    statement for an AWS service; `roles` roles spread over the declared accounts: most trust their own
    account, some a role of another account (a tenth of those with an external id), some Lambda; their
    identity policies decrypt with keys, assume other roles, create grants, or pass roles to Lambda."""
    from reasoner.semantics.environment import Account, Environment, Key, Principal, PrincipalKind

    rng = random.Random(seed)
    declared = [_account(i) for i in range(accounts - 3)]
    outsiders = [_account(i) for i in range(accounts - 3, accounts)]
    owners = declared[:4]
    key_arns = [f"arn:aws:kms:us-east-1:{owners[i % len(owners)]}:key/{i:08d}-0000-4000-8000-000000000000"
                for i in range(keys)]
    role_arns = [f"arn:aws:iam::{declared[i % len(declared)]}:role/R{i:02d}" for i in range(roles)]
    admins = {owner: f"arn:aws:iam::{owner}:role/R{declared.index(owner):02d}" for owner in owners}
    principals = []
    for i, arn in enumerate(role_arns):
        account = arn.split(":")[4]
        kind = rng.random()
        if kind < 0.55:
            trust_st: dict[str, Any] = {"Principal": {"AWS": f"arn:aws:iam::{account}:root"}}
        elif kind < 0.8:
            other = rng.choice(role_arns[:i] or role_arns[1:])
            trust_st = {"Principal": {"AWS": other}}
        elif kind < 0.88:
            trust_st = {"Principal": {"AWS": f"arn:aws:iam::{rng.choice(outsiders)}:root"},
                        "Condition": {"StringEquals": {"sts:ExternalId": f"ext-{i:03d}"}}}
        elif kind < 0.9:  # a vendor trusted without its external id
            trust_st = {"Principal": {"AWS": f"arn:aws:iam::{rng.choice(outsiders)}:root"}}
        else:
            trust_st = {"Principal": {"Service": "lambda.amazonaws.com"}}
        trust = _policy("trust", [{"Effect": "Allow", "Action": "sts:AssumeRole", **trust_st}])
        own_keys = [k for k in key_arns if k.split(":")[4] == account]
        statements: list[dict[str, Any]] = []
        if own_keys and rng.random() < 0.6:
            statements.append({"Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                               "Resource": rng.sample(own_keys, min(2, len(own_keys)))})
        if rng.random() < 0.4:
            statements.append({"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Resource": rng.sample(role_arns, 2)})
        if own_keys and rng.random() < 0.15:
            statements.append({"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": own_keys[0],
                               "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}})
        if rng.random() < 0.1:
            statements.append({"Effect": "Allow", "Action": ["iam:PassRole", "lambda:CreateFunction"],
                               "Resource": "*", "Condition": {"StringEquals": {
                                   "iam:PassedToService": "lambda.amazonaws.com"}}})
        if arn in admins.values():
            statements.append({"Effect": "Allow", "Action": ["kms:PutKeyPolicy", "kms:Describe*",
                                                             "kms:ScheduleKeyDeletion"], "Resource": "*"})
        identity = (_policy("identity", statements),) if statements else ()
        principals.append(Principal(arn, PrincipalKind.ROLE, identity, trust_policy=trust))
    keys_out = []
    for k in key_arns:
        owner = k.split(":")[4]
        statements = [
            {"Sid": "Default", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{owner}:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": admins[owner]},
             "Action": ["kms:PutKeyPolicy", "kms:Describe*", "kms:ScheduleKeyDeletion"], "Resource": "*"},
        ]
        partner = rng.choice([a for a in declared if a != owner])
        statements.append({"Sid": "PartnerUse", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{partner}:root"},
                           "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"})
        statements.append({"Sid": "PersistentResources", "Effect": "Allow",
                           "Principal": {"AWS": f"arn:aws:iam::{partner}:root"}, "Action": "kms:CreateGrant",
                           "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}})
        keys_out.append(Key(k, _policy("key", statements)))
    return Environment(keys=tuple(keys_out), accounts=tuple(Account(a) for a in declared),
                       principals=tuple(principals))


def generated_claims(env: Any) -> tuple[tuple[str, str], ...]:
    declared = sorted({a.id for a in env.accounts})
    # a role that decrypts nothing itself but may assume other roles: its claim is about chains only
    victim = next(p.arn for p in env.principals if p.identity_policies and "kms:Decrypt" not in json.dumps(
        [[v.text for v in st.action.patterns] for d in p.identity_policies for st in d.statements if st.action])
        and "sts:AssumeRole" in json.dumps([[v.text for v in st.action.patterns] for d in p.identity_policies
                                            for st in d.statements if st.action]))
    admins = [p.arn for p in env.principals if any("kms:PutKeyPolicy" in json.dumps(
        [[v.text for v in st.action.patterns] for st in d.statements if st.action]) for d in p.identity_policies)]
    return (
        ("outside-declared-decrypt", f"no principal outside accounts [{', '.join(declared)}] can eventually "
                                     "kms:Decrypt on all keys"),
        ("one-role-decrypt", f"none of [{victim}] can eventually kms:Decrypt on all keys"),
        ("only-admins-put-policy", f"only [{', '.join([*admins, *declared])}] can eventually kms:PutKeyPolicy "
                                   "on all keys"),
        ("outside-declared-2-steps", f"no principal outside accounts [{', '.join(declared)}] can eventually "
                                     "kms:Decrypt on all keys within 2 steps"),
    )


def _measure(env: Any, claims: tuple[tuple[str, str], ...], repeat: int) -> tuple[dict[str, Any], list[str]]:
    from reasoner.analyses.compiled import compile_environment
    from reasoner.analyses.pipeline import check
    from reasoner.language.property_files import parse_property

    figures: dict[str, Any] = {}
    notes: list[str] = []
    for name, text in claims:
        prop = parse_property(text, env)
        cold: list[float] = []
        warm: list[float] = []
        result = None
        for _ in range(repeat):
            start = time.perf_counter()
            compiled = compile_environment(env)
            result = check(compiled, prop, timeout=300)
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            result = check(compiled, prop, timeout=300)
            warm.append(time.perf_counter() - start)
        assert result is not None
        figures[f"{name}.cold_s"] = {"value": statistics.median(cold), "unit": "s", "better": "lower"}
        figures[f"{name}.warm_s"] = {"value": statistics.median(warm), "unit": "s", "better": "lower"}
        for stat in ("rounds", "steps_found", "queries", "held_roles"):
            if stat in result.stats:
                figures[f"{name}.{stat}"] = {"value": float(result.stats[stat]), "unit": "", "better": ""}
        reason = f" ({result.reason[:120]})" if result.reason else ""
        notes.append(f"{name}: {result.verdict.value}{reason}")
    return figures, notes


def run(quick: bool = False, tiny: bool = False) -> dict[str, Any]:
    """`quick`: one repetition and an organisation of 20 roles and 8 keys; `tiny` (the smoke test): one claim
    per environment and 6 roles, 2 keys."""
    from reasoner.front.manifest import load_environment

    repeat = 1 if quick or tiny else 3
    figures: dict[str, Any] = {}
    notes: list[str] = []
    claims = ORG_CLAIMS[:1] if tiny else ORG_CLAIMS
    for label, env, cs in (
        ("org", load_environment(ORG), claims),
        ("org_trusted", org_with_trust(), claims),
    ):
        f, n = _measure(env, cs, repeat)
        figures[label] = f
        notes += [f"{label}.{x}" for x in n]
    size = (6, 2) if tiny else (20, 8) if quick else (50, 20)
    env = generated_org(roles=size[0], keys=size[1], accounts=10)
    f, n = _measure(env, generated_claims(env)[: 1 if tiny else None], repeat)
    label = f"generated_{size[0]}r_{size[1]}k_10a"
    figures[label] = f
    notes += [f"{label}.{x}" for x in n]
    return {"figures": figures, "notes": notes}


if __name__ == "__main__":
    import pprint

    pprint.pprint(run(quick=False))
