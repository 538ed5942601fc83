"""External-access findings over the corpus key policies (issue 6): < 1 s for a typical key policy, the
whole key-policy corpus < 2 minutes on 2 cores.

Input: the corpus directory: `wild/` entries of kind `key-policy` and the `kms-docs/` policies and
statements parsed as key policies (they have a Principal).
Output: `run(corpus_dir, quick=False) -> dict` (shape of benchmarks/README.md: `figures` and `notes`): per
key the wall time of `reasoner.analyses.findings.findings` (p50/p90/p99/max), the corpus total, how many keys have
external and public access, how many are proved complete, and the same for `reasoner.analyses.hygiene.hygiene`.
Guarantee: the timed call is the public `findings` on one single-key environment per policy (no IAM given:
worst case); template placeholders are instantiated by `instantiate` (the stack's own account becomes the
key's account 111122223333, a `aws_kms_key...arn` reference the key's ARN, every other account placeholder
a distinct account, organizations, regions and partitions fixed values; placeholders holding whole
expressions stay as written and never match a caller).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

OWNER = "111122223333"
KEY_ARN = f"arn:aws:kms:us-east-1:{OWNER}:key/00000000-0000-0000-0000-000000000000"  # key_policy_environment's
_PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")
_SELF = re.compile(
    r"caller_identity[._](current|current_account)|AWS::AccountId|^tf:(var|local)\.(aws_)?account_id$"
    r"|current\.account_id|current\.id$",
    re.IGNORECASE,
)


def instantiate(text: str) -> str:
    """Replace template placeholders by plausible values (see the module docstring)."""

    def sub(m: re.Match[str]) -> str:
        inner = m.group(1)
        low = inner.lower()
        if "kms_key" in low and low.endswith(".arn") and "(" not in low:
            return KEY_ARN  # the key the policy is attached to (resource of `aws_kms_key`)
        if "format(" in low or "compact(" in low or "arn" in low.split(".")[-1]:
            return m.group(0)
        if _SELF.search(inner):
            return OWNER
        if "organization" in low and ("id" in low.rsplit(".", 1)[-1] or low.endswith("organizationid")) \
                and "account" not in low:
            return "o-exampleorg01"
        if "account" in low:
            digest = int(hashlib.sha256(inner.encode()).hexdigest(), 16) % 10**10
            return f"2{digest:011d}"
        if "partition" in low:
            return "aws"
        if "region" in low:
            return "us-east-1"
        return m.group(0)

    return _PLACEHOLDER.sub(sub, text)


def corpus_key_policies(corpus_dir: str | Path, *, fill: bool = True) -> list[tuple[str, Any]]:
    """(name, PolicyDocument) of every corpus key policy that parses (structure only, no validation)."""
    from reasoner.front.ast import PolicyKind
    from reasoner.front.parse import parse_document

    root = Path(corpus_dir)
    out: list[tuple[str, Any]] = []
    wild = root / "wild" / "index.json"
    if wild.is_file():
        for entry in json.loads(wild.read_text(encoding="utf-8")):
            if entry.get("kind") != "key-policy" or not entry.get("file"):
                continue
            name = f"wild/{entry['file']}"
            text = (root / name).read_text(encoding="utf-8")
            doc, _ = parse_document(instantiate(text) if fill else text, file=name, kind=PolicyKind.KEY_POLICY)
            if doc is not None:
                out.append((name, doc))
    docs = root / "kms-docs" / "index.json"
    if docs.is_file():
        for entry in json.loads(docs.read_text(encoding="utf-8")):
            if not entry.get("file"):
                continue
            name = f"kms-docs/{entry['file']}"
            text = (root / name).read_text(encoding="utf-8")
            if entry.get("kind") in ("statement", "statement-list"):
                text = '{"Version": "2012-10-17", "Statement": ' + text + "\n}"
            doc, _ = parse_document(text, file=name)
            if doc is not None and doc.kind is PolicyKind.KEY_POLICY:
                out.append((name, doc))
    return out


def _percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def run(corpus_dir: str | Path, quick: bool = False) -> dict[str, Any]:
    from reasoner.analyses.findings import findings, key_policy_environment
    from reasoner.analyses.hygiene import hygiene

    policies = corpus_key_policies(corpus_dir)
    if quick:
        policies = policies[:25]
    times: list[float] = []
    h_times: list[float] = []
    external = public = complete = found = 0
    slowest = ("", 0.0)
    start = time.perf_counter()
    for name, doc in policies:
        env = key_policy_environment(doc)
        t = time.perf_counter()
        result = findings(env)
        dt = time.perf_counter() - t
        times.append(dt)
        if dt > slowest[1]:
            slowest = (name, dt)
        k = result.keys[0]
        external += k.external
        public += k.public
        complete += k.complete.value == "PROVED"
        found += len(k.findings)
        t = time.perf_counter()
        hygiene(env)
        h_times.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    figures = {
        "keys": len(policies),
        "keys_external": external,
        "keys_public": public,
        "keys_proved_complete": complete,
        "findings": found,
        "per_key_p50_ms": _percentile(times, 0.5) * 1000,
        "per_key_p90_ms": _percentile(times, 0.9) * 1000,
        "per_key_p99_ms": _percentile(times, 0.99) * 1000,
        "per_key_max_ms": max(times, default=0.0) * 1000,
        "corpus_total_s" if not quick else "sample_total_s": sum(times),
        "hygiene_per_key_p50_ms": _percentile(h_times, 0.5) * 1000,
        "hygiene_total_s": sum(h_times),
        "wall_s": total,
    }
    notes = [f"slowest key policy: {slowest[0]} ({slowest[1] * 1000:.0f} ms)"]
    if quick:
        notes.append(f"quick: first {len(policies)} key policies only")
    return {"figures": {"findings": figures}, "notes": notes}


if __name__ == "__main__":  # pragma: no cover - manual runs
    import sys

    default = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else default, "--quick" in sys.argv), indent=2))
