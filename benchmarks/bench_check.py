"""Property-check latency of the symbolic core (issue 4): p50 <= 30 ms, p99 <= 300 ms on the corpus key
policies, one check <= 2 s on a 1,000-statement policy.

Input: the corpus directory (`wild/` entries of kind `key-policy`, `kms-docs/` entries of kind `policy` that
have a Principal), and generated key policies of 1, 10, 100 and 1,000 statements (`benchmarks/generate.py`).
Output: `run(corpus_dir, quick=False) -> dict` (shape of benchmarks/README.md): per built-in property
(AccessNotGranted, OnlyPrincipalsCan, CanAccess, NoNewAccess, Equivalent) the latency p50/p90/p99/max of
`reasoner.analyses.pipeline.check` on each corpus key policy (the first property of a policy includes compiling it,
shown separately as `first_check`), the further properties pooled (`further`, wall clock, and `further_cpu`,
CPU time: issue 17's p50 <= 0.5 ms, p99 <= 5 ms), verdict counts, and per synthetic size the cold compile +
first check and a warm further check.
Guarantee: the timed calls are the public `check`; every REFUTED verdict inside has been replayed by the
evaluator (that is what `check` does); templated placeholders (`{{...}}`) in corpus policies are replaced
by a fixed account id or name before parsing, and a policy that still does not parse is skipped and counted.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

OWNER = "111122223333"
KEY = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = min(len(s) - 1, max(0, round(q * (len(s) - 1))))
    return s[k]


def _fill(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        inner = m.group(1).lower()
        if "account" in inner:
            return OWNER
        if "partition" in inner:
            return "aws"
        if "region" in inner:
            return "us-east-1"
        return "example"

    return re.sub(r"\{\{([^}]*)\}\}", sub, text)


def corpus_key_policies(corpus_dir: str | Path) -> tuple[list[tuple[str, Any]], int]:
    """(name, PolicyDocument) of the corpus key policies, and how many could not be used."""
    from reasoner.errors import ReasonerError
    from reasoner.front.ast import PolicyKind
    from reasoner.front.parse import parse_document, parse_policy

    root = Path(corpus_dir)
    out: list[tuple[str, Any]] = []
    skipped = 0
    for folder, kind in (("wild", "key-policy"), ("kms-docs", "policy")):
        index = root / folder / "index.json"
        if not index.is_file():
            continue
        for entry in json.loads(index.read_text(encoding="utf-8")):
            if entry.get("kind") != kind or not entry.get("file"):
                continue
            text = _fill((root / folder / entry["file"]).read_text(encoding="utf-8"))
            try:
                doc = parse_policy(text, file=f"{folder}/{entry['file']}", kind=PolicyKind.KEY_POLICY)
            except ReasonerError:
                doc, _ = parse_document(text, file=f"{folder}/{entry['file']}", kind=PolicyKind.KEY_POLICY)
            if doc is None or not any(s.principal is not None for s in doc.statements):
                skipped += 1
                continue
            out.append((f"{folder}/{entry['file']}", doc))
    return out, skipped


def _properties(env: Any) -> list[tuple[str, Any]]:
    from reasoner.analyses.properties import (
        AccessNotGranted,
        CanAccess,
        Equivalent,
        NoNewAccess,
        OnlyPrincipalsCan,
        PrincipalScope,
    )

    return [
        ("AccessNotGranted", AccessNotGranted(PrincipalScope.outside_account(OWNER), ("kms:Decrypt",))),
        ("AccessNotGranted_admin", AccessNotGranted(PrincipalScope.outside_account(OWNER), ("kms:PutKeyPolicy",
                                                                                          "kms:ScheduleKeyDeletion"))),
        ("OnlyPrincipalsCan", OnlyPrincipalsCan((f"arn:aws:iam::{OWNER}:root",), ("kms:PutKeyPolicy",))),
        ("CanAccess", CanAccess(f"arn:aws:iam::{OWNER}:root", ("kms:PutKeyPolicy",))),
        ("NoNewAccess", NoNewAccess(env, ("kms:*",))),
        ("Equivalent", Equivalent(env, ("kms:*",))),
    ]


def _corpus(corpus_dir: str | Path, quick: bool) -> tuple[dict[str, Any], list[str]]:
    from reasoner.analyses.compiled import compile_environment
    from reasoner.analyses.pipeline import check
    from reasoner.errors import UnsupportedFeatureError
    from reasoner.semantics.environment import Account, Environment, Key

    policies, skipped = corpus_key_policies(corpus_dir)
    if quick:
        policies = policies[:20]
    per_prop: dict[str, list[float]] = {}
    further: list[float] = []  # every property but the first of a compiled policy (issue 17)
    further_cpu: list[float] = []
    verdicts: dict[str, dict[str, int]] = {}
    first: list[float] = []
    compile_times: list[float] = []
    unsupported: list[str] = []
    for name, doc in policies:
        env = Environment(keys=(Key(KEY, doc),), accounts=(Account(OWNER),))
        t0 = time.perf_counter()
        try:
            compiled = compile_environment(env)
        except UnsupportedFeatureError as exc:
            unsupported.append(f"{name}: {exc.message}")
            continue
        compile_times.append(time.perf_counter() - t0)
        for i, (label, prop) in enumerate(_properties(env)):
            t, c = time.perf_counter(), time.process_time()
            r = check(compiled, prop, timeout=10)
            dt, dc = time.perf_counter() - t, time.process_time() - c
            if i == 0:
                first.append(dt + compile_times[-1])
            else:
                further.append(dt)
                further_cpu.append(dc)
            per_prop.setdefault(label, []).append(dt)
            counts = verdicts.setdefault(label, {})
            counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
    figures: dict[str, Any] = {"policies": len(policies), "policies_skipped": skipped,
                               "policies_unsupported": len(unsupported)}
    all_first = [c + d for c, d in zip(compile_times, per_prop.get("AccessNotGranted", []), strict=False)]
    figures["first_check"] = _lat(all_first or first)
    figures["compile"] = _lat(compile_times)
    figures["further"] = _lat(further)
    figures["further_cpu"] = _lat(further_cpu)  # the same checks in CPU time, which load does not inflate
    for label, xs in per_prop.items():
        figures[label] = {**_lat(xs), **{v.lower(): n for v, n in verdicts[label].items()}}
    every = [x for xs in per_prop.values() for x in xs] + all_first
    figures["all"] = _lat(every)
    notes = [f"{len(policies)} corpus key policies ({skipped} without a usable statement skipped); "
             "`first_check` is compile + the first property, the others are further properties on the "
             "compiled policy; `further` pools the further properties (`further_cpu`: their CPU time)",
             *(f"unsupported (UNKNOWN): {u}" for u in unsupported)]
    return figures, notes


def _lat(xs: list[float]) -> dict[str, float]:
    if not xs:
        return {}
    return {"p50_ms": _percentile(xs, 0.5) * 1000, "p90_ms": _percentile(xs, 0.9) * 1000,
            "p99_ms": _percentile(xs, 0.99) * 1000, "max_ms": max(xs) * 1000}


def _synthetic(quick: bool) -> tuple[dict[str, Any], list[str]]:
    from benchmarks.generate import GenSpec, generate
    from benchmarks.runner import build_environment, scaling_property
    from reasoner.analyses.compiled import compile_environment
    from reasoner.analyses.pipeline import check

    figures: dict[str, Any] = {}
    notes: list[str] = []
    sizes = (1, 10, 100, 1000)
    seeds = (0,) if quick else (0, 1, 2)
    for n in sizes:
        cold: list[float] = []
        warm: list[float] = []
        verdicts: list[str] = []
        for seed in seeds:
            sc = generate(GenSpec(statements=n, accounts=3, seed=seed))
            env, _ = build_environment(sc)
            t = time.perf_counter()
            compiled = compile_environment(env)
            r = check(compiled, scaling_property(sc))
            cold.append(time.perf_counter() - t)
            verdicts.append(r.verdict.value)
            t = time.perf_counter()
            check(compiled, scaling_property(sc, "kms:Encrypt"))
            warm.append(time.perf_counter() - t)
        figures[f"statements={n}"] = {"cold_check_ms": statistics.median(cold) * 1000,
                                      "further_check_ms": statistics.median(warm) * 1000}
        notes.append(f"statements={n}: verdicts {', '.join(verdicts)}")
    return figures, notes


def run(corpus_dir: str | Path, quick: bool = False) -> dict[str, Any]:
    from reasoner.analyses.pipeline import check  # noqa: F401 - fail early when the core is missing

    figures: dict[str, Any] = {}
    notes: list[str] = []
    corpus_figs, corpus_notes = _corpus(corpus_dir, quick)
    figures["corpus"] = corpus_figs
    notes += corpus_notes
    synth, synth_notes = _synthetic(quick)
    figures["synthetic"] = synth
    notes += synth_notes
    return {"figures": figures, "notes": notes}


if __name__ == "__main__":  # pragma: no cover - manual runs
    import sys

    result = run(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "corpus")
    print(json.dumps(result, indent=2))
