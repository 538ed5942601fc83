"""Benchmark of the policy front end: parse + validate every policy of the corpus, and one ~32 KB key policy.

Called by the benchmark runner as `run(corpus_dir, quick=False) -> dict` (format: benchmarks/README.md), or
directly: `python -m benchmarks.bench_parse [CORPUS_DIR]`.
Figures: documents per second over the whole corpus (statements of the docs wrapped into policies, the
1,594 AWS managed policies included), total seconds, document count, documents with errors, peak traced
memory of one corpus pass (tracemalloc, measured in a separate pass so tracing does not slow the timed
one), and the median time to parse + validate a generated key policy just under the 32 KB limit.
Targets (issue 2): whole corpus < 10 s on one core; 32 KB key policy < 20 ms.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reasoner.front.ast import PolicyKind
from reasoner.front.parse import parse_and_validate
from reasoner.front.validate import KEY_POLICY_MAX_BYTES

FOLDERS = ("kms-docs", "aws-docs-other", "iam-docs", "wild")
_WILD_KINDS = {"key-policy": PolicyKind.KEY_POLICY, "resource-policy": PolicyKind.RESOURCE}


def corpus_documents(corpus: Path) -> Iterator[tuple[str, str, PolicyKind | None]]:
    """(name, text, kind) of every policy document in the corpus; lone statements wrapped into a policy."""
    for folder in FOLDERS:
        index = corpus / folder / "index.json"
        if not index.exists():
            continue
        for entry in json.loads(index.read_text(encoding="utf-8")):
            if not entry.get("file"):
                continue
            text = (corpus / folder / entry["file"]).read_text(encoding="utf-8")
            if entry.get("kind") in ("statement", "statement-list"):
                text = '{"Version": "2012-10-17", "Statement": ' + text + "\n}"
            kind = _WILD_KINDS.get(entry.get("kind", "")) if folder == "wild" else None
            yield f"{folder}/{entry['file']}", text, kind
    managed = corpus / "managed" / "aws-managed-policies.json"
    if managed.exists():
        for name, item in json.loads(managed.read_text(encoding="utf-8")).items():
            yield f"managed/{name}", json.dumps(item["document"], indent=2), PolicyKind.IDENTITY


def key_policy_text(max_bytes: int = KEY_POLICY_MAX_BYTES) -> str:
    """A realistic key policy (administrators, users, cross-account, conditions) of just under `max_bytes`."""
    statements: list[dict[str, Any]] = [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
    ]
    best = ""
    i = 0
    while True:
        acct = f"{444455550000 + i:012d}"
        statements.append({
            "Sid": f"Allow use of the key by team {i}",
            "Effect": "Allow" if i % 7 else "Deny",
            "Principal": {"AWS": [f"arn:aws:iam::{acct}:role/app-{i}", f"arn:aws:iam::{acct}:root"]},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                       "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.us-east-{1 + i % 2}.amazonaws.com",
                                 "kms:CallerAccount": acct},
                "ForAnyValue:StringLike": {"kms:EncryptionContextKeys": ["aws:s3:arn", f"team-{i}-*"]},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        })
        text = json.dumps({"Version": "2012-10-17", "Id": "bench-key-policy", "Statement": statements},
                          indent=2)
        if len(text.encode("utf-8")) > max_bytes:
            return best
        best = text
        i += 1


def _timed_pass(docs: list[tuple[str, str, PolicyKind | None]]) -> tuple[float, int]:
    rejected = 0
    start = time.perf_counter()
    for name, text, kind in docs:
        doc, _ = parse_and_validate(text, file=name, kind=kind)
        rejected += doc is None
    return time.perf_counter() - start, rejected


def run(corpus_dir: str | Path, quick: bool = False) -> dict[str, Any]:
    corpus = Path(corpus_dir)
    docs = list(corpus_documents(corpus))
    if not docs:
        return {"skipped": f"no policy corpus at {corpus}"}
    if quick:
        docs = docs[:: max(1, len(docs) // 200)]

    # warm up: grammar, parser tables and the action catalogue are loaded once per process
    warm_start = time.perf_counter()
    parse_and_validate(docs[0][1], file=docs[0][0], kind=docs[0][2])
    parse_and_validate(key_policy_text(2000), kind=PolicyKind.KEY_POLICY, key_account="111122223333")
    warm_s = time.perf_counter() - warm_start

    total_s, rejected = _timed_pass(docs)

    tracemalloc.start()
    _timed_pass(docs[: len(docs) if not quick else 50])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    big = key_policy_text()
    times = []
    statements = 0
    for _ in range(5 if quick else 25):
        t = time.perf_counter()
        doc, diags = parse_and_validate(big, file="bench-key-policy.json", kind=PolicyKind.KEY_POLICY,
                                        key_account="111122223333")
        times.append(time.perf_counter() - t)
        assert doc is not None, [str(d) for d in diags if d.is_error]
        statements = len(doc.statements)

    return {
        "figures": {
            "policies_per_s": {"value": len(docs) / total_s, "unit": "policies/s", "better": "higher"},
            "total_s": total_s,
            "documents": len(docs),
            "rejected": rejected,
            "peak_mb": peak / 1e6,
            "warmup_s": warm_s,
            "key_policy_32kb_ms": statistics.median(times) * 1000,
            "key_policy_32kb_p90_ms": sorted(times)[int(0.9 * (len(times) - 1))] * 1000,
            "key_policy_kb": len(big.encode("utf-8")) / 1024,
        },
        "notes": [f"{len(docs)} documents, {rejected} with errors (placeholders, doc bugs, size limits); "
                  f"key policy {len(big.encode('utf-8'))} bytes, {statements} statements"],
    }


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    result = run(sys.argv[1] if len(sys.argv) > 1 else default)
    print(json.dumps(result, indent=2))
