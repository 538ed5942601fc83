"""Hostile inputs of issue 11, rebuilt in a directory: what a stranger's pull request could hand the CI.

`build(root)` writes them and returns the runs to measure: (name, argv, time limit in seconds, the exit
statuses allowed). The runner's `hostile` section runs each as a child process and reports its wall time over
the limit and its peak RSS against the memory cap (`python -m benchmarks --only hostile`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

KEY = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def key_policy(values: list[str], op: str = "StringLike", key: str = "kms:EncryptionContext:app") -> dict:
    statements: list[dict] = [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
         "Action": "kms:*", "Resource": "*"},
    ]
    for i, v in enumerate(values):
        statements.append({"Sid": f"S{i}", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt",
                           "Resource": "*", "Condition": {op: {key: v}}})
    return {"Version": "2012-10-17", "Statement": statements}


def environment(d: Path, policy: dict | str) -> Path:
    """`d` with `key.json`, a manifest `env.yaml` of one key with it, and `p.access` asserting within 2 s that
    no principal outside the owner account can decrypt."""
    d.mkdir(parents=True, exist_ok=True)
    text = policy if isinstance(policy, str) else json.dumps(policy)
    (d / "key.json").write_text(text)
    (d / "env.yaml").write_text(f'keys:\n  - arn: {KEY}\n    policy: key.json\naccounts:\n  - id: "111122223333"\n')
    (d / "p.access").write_text(
        'environment "env.yaml"\n'
        'assert "outsiders" within 2 seconds:\n'
        "    no principal outside account 111122223333 can kms:Decrypt on all keys\n"
    )
    return d


def build(root: Path) -> list[tuple[str, list[str], float, set[int]]]:
    runs: list[tuple[str, list[str], float, set[int]]] = []
    # 1. one 20 KB condition value of 10,000 wildcards (inside AWS's 32 KB key-policy limit)
    w = environment(root / "wildcards", key_policy(["a*" * 10_000]))
    runs += [
        ("wildcards_10000.findings", ["findings", str(w / "env.yaml"), "--timeout", "5"], 5.0, {3}),
        ("wildcards_10000.lint", ["lint", str(w / "env.yaml"), "--timeout", "5"], 5.0, {3}),
        ("wildcards_10000.check", ["check", str(w / "p.access")], 2.0, {3}),
        ("wildcards_10000.diff", ["diff", str(w / "env.yaml"), str(w / "env.yaml"), "--timeout", "5"], 5.0, {3}),
    ]
    # 2. inside every size budget but a lot of search: 40 values of 64 wildcards (15 KB); the deadline decides
    s = environment(root / "search", key_policy(["*a?" * 21 + str(i) for i in range(40)]))
    runs += [
        ("search_64x40.findings", ["findings", str(s / "env.yaml"), "--timeout", "5"], 5.0, {3}),
        ("search_64x40.lint", ["lint", str(s / "env.yaml"), "--timeout", "5"], 5.0, {3}),
        ("search_64x40.check", ["check", str(s / "p.access")], 2.0, {1, 3}),
    ]
    # 3. a 5,000-digit number under NumericLessThan
    n = environment(root / "number", key_policy(["9" * 5_000], "NumericLessThan", "kms:RecipientAttestation:x"))
    runs += [(f"number_5000_digits.{c}", [c, str(n / "env.yaml")], 60.0, {2}) for c in ("findings", "lint")]
    runs.append(("number_5000_digits.check", ["check", str(n / "p.access")], 60.0, {2}))
    # 4. UTF-16 without a byte-order mark, 123 KB
    u = root / "utf16"
    u.mkdir(parents=True, exist_ok=True)
    text = json.dumps(key_policy([f"value-{i}" for i in range(600)]), indent=2)
    (u / "policy.json").write_bytes(text.encode("utf-16-le")[: 123 * 1024])
    runs.append(("utf16_no_bom_123kb.validate", ["validate", str(u / "policy.json")], 60.0, {1, 2}))
    # 5. files outside the repository: /proc/self/environ, ../../etc/passwd, a symlink out of the root
    r = environment(root / "repo" / "checks", key_policy(["x"]))
    (root / "repo" / ".git").mkdir(exist_ok=True)
    for name, target in (("environ", "/proc/self/environ"), ("passwd", "../../../../../../etc/passwd")):
        (r / f"{name}.access").write_text(f'include "{target}"\n')
        runs.append((f"include_{name}.check", ["check", str(r / f"{name}.access")], 60.0, {2}))
    link = r / "outside.access"
    if not link.exists():
        os.symlink("/etc/hostname", link)
    (r / "symlink.access").write_text('include "outside.access"\n')
    runs.append(("include_symlink.check", ["check", str(r / "symlink.access")], 60.0, {2}))
    (r / "env-environ.yaml").write_text(f"keys:\n  - arn: {KEY}\n    policy: /proc/self/environ\n")
    runs.append(("manifest_environ.findings", ["findings", str(r / "env-environ.yaml")], 60.0, {2}))
    return runs
