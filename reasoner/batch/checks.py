"""`reasoner check --jobs N`: assertions on a pool of processes, each environment shipped and compiled once per
worker.

Input: the assertions' (environment, property, timeout, rlimit, dump file) in order, the run's total deadline,
and N.
Output: `run(items, jobs, ...)`, an iterator of `(index, CheckResult | InputError)` as assertions finish.
Guarantee: every environment (and every environment a comparison compares with) is pickled once, to each
worker's initializer; a task is the assertion's property (its `old` environment by index) and limits, so no
environment is shipped per assertion and each worker compiles an environment once for all the assertions it
checks in it (`compiled.compiled_for`; assertions are submitted grouped by environment). A result is the one
`check_one` gives in one process (as `reasoner check` without `--jobs`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

from reasoner.semantics.environment import Environment

_ENVS: list[Environment] = []


def _init(envs: Sequence[Environment]) -> None:
    import reasoner.analyses.pipeline  # noqa: F401 - loaded once per worker, before any task

    _ENVS[:] = list(envs)


def _one(task: tuple[int, int, Any, int | None, float, int | None, str | None], deadline: float, total: float,
         stats: bool) -> tuple[int, Any]:
    from reasoner.errors import InputError

    env, index, prop, old, timeout, rlimit, dump = task

    if old is not None:
        prop = dataclasses.replace(prop, old=_ENVS[old])
    try:
        return index, check_one(_ENVS[env], prop, timeout, rlimit, dump, total_deadline=deadline, total=total,
                                stats=stats)
    except InputError as exc:
        return index, exc


def check_one(environment: Any, prop: Any, timeout: float, rlimit: int | None, dump: str | None, *,
               total_deadline: float, total: float, stats: bool = False) -> Any:
    """One assertion (the unit of work of `--jobs`; `reasoner check` runs it in process for one job), within
    its own time limit and what is left of the run's total (`total_deadline`, seconds since the epoch, so that
    it means the same in every worker). A limit, an unsupported construct or running out of memory make the
    verdict UNKNOWN with the reason, so the other assertions still run; every other error propagates."""
    import time

    from reasoner import limits
    from reasoner.analyses.pipeline import check
    from reasoner.analyses.result import CheckResult, Verdict
    from reasoner.errors import UnsupportedFeatureError

    start = time.perf_counter()
    left = total_deadline - time.time()
    with limits.budget(max(0.0, left), what="the run's total", shown=total):
        try:
            return check(environment, prop, timeout=timeout, rlimit=rlimit, dump_smt2=dump,
                         **({"stats": True} if stats else {}))
        except UnsupportedFeatureError as exc:
            return CheckResult(prop, Verdict.UNKNOWN, reason=limits.unknown_reason(exc),
                               seconds=time.perf_counter() - start)


class EnvIndex:
    """The index of an environment in `envs` by identity, appended on first sight (what a task ships instead of
    the environment itself)."""

    def __init__(self, envs: list[Environment]) -> None:
        self.envs = envs
        self._index = {id(e): i for i, e in enumerate(envs)}

    def __call__(self, env: Environment) -> int:
        hit = self._index.get(id(env))
        if hit is None:
            hit = self._index[id(env)] = len(self.envs)
            self.envs.append(env)
        return hit


def run(items: Sequence[tuple[Environment, Any, float, int | None, str | None]], jobs: int, *, deadline: float,
        total: float, stats: bool = False) -> Iterator[tuple[int, Any]]:
    """Check `items` on `jobs` processes (module docstring)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    envs: list[Environment] = []
    env_index = EnvIndex(envs)
    tasks = []
    for i, (env, prop, timeout, rlimit, dump) in enumerate(items):
        old = getattr(prop, "old", None)
        shipped = prop if old is None else dataclasses.replace(prop, old=None)
        tasks.append((env_index(env), i, shipped, None if old is None else env_index(old), timeout, rlimit, dump))
    tasks.sort(key=lambda t: (t[0], t[1]))  # grouped by environment: a worker reuses what it compiled
    ctx = multiprocessing.get_context("spawn")  # z3 state must not be forked
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=ctx, initializer=_init,
                             initargs=(envs,)) as pool:
        futures = [pool.submit(_one, task, deadline, total, stats) for task in tasks]
        for fut in as_completed(futures):
            yield fut.result()
