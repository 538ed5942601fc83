"""Findings and lint of a whole environment as the merge of its resources' (`reasoner findings`, `lint`).

Input: an `Environment`, the analysis's options, `--jobs N` (and an executor), optionally one resource ARN
(`--resource`).
Output: `findings(...) -> FindingsResult` and `lint(...) -> HygieneResult`, as `analyses.findings.findings` and
`analyses.hygiene.hygiene` give them (spans as the analyses give them: the caller rebases them), with the
resources in the environment's order.
Guarantee: each resource is analysed on its slice (`slices.py`), as one work unit of `reasoner scan`, so the
cost is linear in the number of resources (the whole environment's domain made each query cost grow with it:
about N^1.47 for N keys) and a resource's result is the one `reasoner scan` records for it. The time limit is
the whole run's: each unit gets what is left of it (a resource reached after it is UNKNOWN with the timeout's
reason, as before). A resource whose worker died is UNKNOWN (findings not proved complete, lint undecided)
with the reason. An environment with at most one resource, run in one process without `--resource`, is
analysed whole, exactly as before (also its errors: an environment without any resource is SYM001).
"""

from __future__ import annotations

import time
from typing import Any

from reasoner.batch.slices import Slicer, Target, targets
from reasoner.batch.units import Analysed, Job, ScanOptions, Unit
from reasoner.semantics.environment import Environment


def _units(env: Environment, only: str | None) -> list[Unit]:
    ts = targets(env)
    if only is not None:
        Slicer(env).slice(only)  # INPUT004 when it is not a target
        ts = [t for t in ts if t.arn == only]
    return [Unit(i, 0, t) for i, t in enumerate(ts)]


def _run(env: Environment, options: ScanOptions, jobs: int, executor: str | None, *, only: str | None,
         memory_mb: int | None) -> list[tuple[Target, Analysed]]:
    from reasoner.batch.executors import executor as make

    units = _units(env, only)
    job = Job((env,), (env.source or "<environment>",), options, rebase=False)
    runner = make(executor, jobs, memory_mb)
    out: dict[int, Analysed] = {}
    try:
        for unit, analysed in runner.map(job, iter(units), "analysed"):
            out[unit.index] = analysed
    finally:
        runner.close()
    return [(u.target, out[u.index]) for u in units]


def whole(env: Environment, only: str | None, jobs: int) -> bool:
    """Analyse `env` whole, as before slices: at most one resource, no `--resource`, one process."""
    return only is None and jobs <= 1 and len(targets(env)) <= 1


def findings(env: Environment, zone: tuple[str, ...], *, include_services: bool = False, timeout: float = 60.0,
             jobs: int = 1, executor: str | None = None, only: str | None = None,
             memory_mb: int | None = None) -> Any:
    """The `FindingsResult` of `env` (module docstring)."""
    from reasoner.analyses import findings as analysis
    from reasoner.analyses.result import Verdict

    start = time.perf_counter()
    if whole(env, only, jobs):
        return analysis.findings(env, zone, include_services=include_services, timeout=timeout)
    opts = ScanOptions(findings=True, lint=False, zone=tuple(zone), include_services=include_services,
                       timeout=timeout, deadline=time.time() + timeout)
    keys: list[Any] = []
    for t, a in _run(env, opts, jobs, executor, only=only, memory_mb=memory_mb):
        if a.error is not None:
            keys.append(analysis.KeyFindings(t.arn, t.account, (), Verdict.UNKNOWN, f"incomplete: {a.error}", 0,
                                             0.0, a.error, t.type))
        else:
            keys.extend(a.findings.keys)
    return analysis.FindingsResult(tuple(keys), analysis.parse_zone(zone), include_services,
                                   time.perf_counter() - start)


def lint(env: Environment, *, separation_of_duties: bool = False, timeout: float = 60.0, jobs: int = 1,
         executor: str | None = None, only: str | None = None, memory_mb: int | None = None) -> Any:
    """The `HygieneResult` of `env` (module docstring)."""
    from reasoner.analyses import hygiene as analysis
    from reasoner.errors import Severity
    from reasoner.source import Span

    start = time.perf_counter()
    if whole(env, only, jobs):
        return analysis.hygiene(env, separation_of_duties=separation_of_duties, timeout=timeout)
    opts = ScanOptions(findings=False, lint=True, separation_of_duties=separation_of_duties, timeout=timeout,
                       deadline=time.time() + timeout)
    issues: list[Any] = []
    undecided: list[Any] = []
    checks = queries = 0
    for t, a in _run(env, opts, jobs, executor, only=only, memory_mb=memory_mb):
        if a.error is not None:
            undecided.append(analysis.Issue(analysis.UNDECIDED, Severity.NOTE, t.arn, Span("<input>", 1, 1, 1, 2),
                                            f"checks of `{t.arn}` undecided: {a.error}"))
            continue
        issues.extend(a.lint.issues)
        undecided.extend(a.lint.undecided)
        checks += a.lint.checks
        queries += a.lint.queries
    return analysis.HygieneResult(tuple(issues), tuple(undecided), checks, queries, time.perf_counter() - start)
