"""Findings and hygiene checks over every key policy of the corpus (issue 6; `corpus_dir` fixture).

Key policies: `wild/` entries of kind `key-policy` and the `kms-docs/` policies and statements whose kind
is guessed as a key policy (they have a Principal), loaded by `benchmarks/bench_findings.py` (template
placeholders instantiated: the stack's account becomes the key's account, other account placeholders
distinct accounts) and put alone on one key (`findings.key_policy_environment`, no IAM given: worst case).
- No crash and no internal error; every example request replays as allowed, every finding is external.
- Every key's findings are PROVED complete except when an unsupported construct is named as the reason.
- Completeness against the evaluator: the root and a role session of every account the policy names and of
  an unknown account, for every key action, are either denied or covered by a finding.
- Run with `-s` to see the counts (keys, with external access, public, issues per code, time).
Sample (default suite and CI, tests/sweeps.py `sample_key_policies`): 37 of the 246 key policies, every folder,
origin and index feature of each folder, and the policies that found a bug; `REASONER_FULL_SWEEPS=1` sweeps all.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.bench_findings import corpus_key_policies
from reasoner.analyses.explain import replay
from reasoner.analyses.findings import findings, in_class, key_policy_environment, principal_account
from reasoner.analyses.hygiene import hygiene
from reasoner.analyses.result import Verdict
from reasoner.semantics.request import Request
from tests.sweeps import FULL_SWEEPS, sample_key_policies

pytestmark = [pytest.mark.slow, pytest.mark.solver]


def _sweep_uncovered(env: object, result: object, accounts: list[str]) -> list[Request]:
    """Concrete external requests (root and a role session of each account named in the policy plus an
    unknown account, every key action, empty context) that the evaluator allows but no finding covers."""
    from reasoner.symbolic.domain import key_actions

    out = []
    for acct in accounts:
        for p in (f"arn:aws:iam::{acct}:root", f"arn:aws:sts::{acct}:assumed-role/Example/s"):
            for a in key_actions():
                r = Request(p, a, env.keys[0].arn)  # type: ignore[attr-defined]
                if not replay(env, r)[0].decision.allowed:  # type: ignore[arg-type]
                    continue
                if not any(in_class(f.principal, p) and a in f.actions
                           for f in result.findings):  # type: ignore[attr-defined]
                    out.append(r)
    return out


def test_findings_and_hygiene_over_the_corpus(corpus_dir: Path) -> None:
    counts: Counter[str] = Counter()
    issues: Counter[str] = Counter()
    f_times: list[float] = []
    h_times: list[float] = []
    raw = {name for name, _ in corpus_key_policies(corpus_dir, fill=False)}
    for name, doc in sample_key_policies(corpus_dir, corpus_key_policies(corpus_dir)):
        counts["parsed as written"] += name in raw
        env = key_policy_environment(doc)
        t = time.perf_counter()
        result = findings(env)
        f_times.append(time.perf_counter() - t)
        (k,) = result.keys
        counts["keys"] += 1
        if k.complete is Verdict.PROVED:
            counts["complete"] += 1
        else:
            assert k.reason and k.reason.startswith("unsupported"), f"{name}: {k.reason}"
            counts["unsupported"] += 1
        counts["external"] += k.external
        counts["public"] += k.public
        counts["findings"] += len(k.findings)
        for f in k.findings:
            assert replay(env, f.example)[0].decision.allowed, name
            assert principal_account(f.example.principal) not in (None, k.account), name
        if k.complete is Verdict.PROVED:
            named = sorted(set(re.findall(r"(?<!\d)\d{12}(?!\d)", doc.source.text if doc.source else ""))
                           - {k.account})
            assert _sweep_uncovered(env, result, [*named[:4], "999999999999"]) == [], name
        t = time.perf_counter()
        h = hygiene(env, separation_of_duties=True)
        h_times.append(time.perf_counter() - t)
        issues.update(i.code for i in (*h.issues, *h.undecided))
    assert counts["keys"] > (150 if FULL_SWEEPS else 30)
    assert counts["complete"] >= counts["keys"] - 5
    f_times.sort()
    print(f"\ncorpus findings: {dict(counts)}")
    print(f"findings time: total {sum(f_times):.1f} s, p50 {f_times[len(f_times) // 2] * 1000:.0f} ms, "
          f"max {f_times[-1] * 1000:.0f} ms; hygiene total {sum(h_times):.1f} s")
    print(f"hygiene issues: {dict(sorted(issues.items()))}")
