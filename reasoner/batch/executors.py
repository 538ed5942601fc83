"""Where work units run: in this process, on a pool of processes, or on a Dask cluster.

Input: a `Job` (shipped once per worker without its keys and declared resources, `Job.lean`: to the pool's
initializer, or scattered to every Dask worker; each unit is sent with its own resource, `Job.carried`), units
in order, and what to compute of each (`"record"`: the JSON record of `reasoner scan`; `"analysed"`: the
analyses' result objects, for `findings`/`lint` with `--jobs`).
Output: `executor(spec, jobs).map(job, units, mode)`, an iterator of `(unit, result)` as units finish (the
caller puts them in order: at most `WINDOW` units per worker are in flight, submitted in order).
Guarantee: every unit gives exactly one result, whatever happens to workers: a worker that dies (killed,
crashed, out of memory beyond the cap) or raises is reported as the failed record of its unit
(`units.failed`: UNKNOWN, with the reason), never a lost result; a pool that breaks is rebuilt and the units
that were in flight are run again one at a time, so the unit that kills its worker is the only one reported
failed. Workers are started with `spawn` (Z3's state must not be forked), each capped at `memory_mb` MiB
(`limits.cap_memory`) and replaced after `TASKS_PER_CHILD` units (memory stays bounded). Within one Dask worker
process units run one at a time (Z3's context is per process). The same units give the same records on every
executor (`units.py`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from reasoner.batch.units import Analysed, Job, Unit, analyse, failed, record

#: Units in flight per worker.
WINDOW = 4
#: Units one pool worker runs before it is replaced by a fresh process (memory stays bounded). A worker's RSS
#: no longer grows measurably per unit (0.00 MB/unit over units 100-500 of the 10,600-resource organisation,
#: was ~0.06), and a replacement costs a process start and a small job (`Job.lean`) plus the warm-up of its
#: memos (issue 17: it was 500 when each replacement unpickled the whole job, 30-50 s).
TASKS_PER_CHILD = 2000


def compute(job: Job, unit: Unit, mode: str) -> Any:
    """What a worker returns for `unit`: its record, or its analyses' objects."""
    if mode == "record":
        try:
            return record(job, unit, analyse(job, unit))
        except MemoryError:
            from reasoner import limits

            return failed(job, unit, limits.memory_reason())
    return analyse(job, unit)


def failure(job: Job, unit: Unit, mode: str, why: str) -> Any:
    """The result of a unit whose worker could not give one."""
    return failed(job, unit, why) if mode == "record" else Analysed(error=why)


class Serial:
    """In this process, one unit after the other."""

    name = "serial"

    def map(self, job: Job, units: Iterable[Unit], mode: str) -> Iterator[tuple[Unit, Any]]:
        for unit in units:
            try:
                yield unit, compute(job, unit, mode)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:  # a bug in one unit: reported as its failure, the run goes on
                yield unit, failure(job, unit, mode, f"analysis failed: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        pass


# ---- a pool of processes ------------------------------------------------------------------------------------

#: The job of this pool worker process (set once by `_pool_init`).
_WORKER: dict[str, Job] = {}


def _pool_init(job: Job, memory_mb: int | None) -> None:
    # the modules of the analyses (and Z3's library) are loaded before the cap, not under it (cli.main)
    import reasoner.analyses.findings
    import reasoner.analyses.hygiene
    import reasoner.analyses.pipeline
    import reasoner.face.render.findings
    import reasoner.face.render.hygiene
    import reasoner.face.render.results  # noqa: F401
    from reasoner import limits

    if memory_mb:
        limits.cap_memory(memory_mb)
    _WORKER["job"] = job


def _pool_run(unit: Unit, mode: str, carried: tuple[tuple[int, Any], ...] = ()) -> Any:
    job = _WORKER["job"]
    with job.adopt(carried):
        return compute(job, unit, mode)


class Pool:
    """`jobs` worker processes (module docstring)."""

    name = "pool"

    def __init__(self, jobs: int, memory_mb: int | None = None) -> None:
        self.jobs = jobs
        self.memory_mb = memory_mb
        self._pool: Any = None

    def _start(self, job: Job, workers: int) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_pool_init,
                                   initargs=(job, self.memory_mb), max_tasks_per_child=TASKS_PER_CHILD)

    def map(self, job: Job, units: Iterable[Unit], mode: str) -> Iterator[tuple[Unit, Any]]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        listed = list(units)
        todo = iter(listed)
        window = max(1, self.jobs) * WINDOW
        lean = job.lean(listed)  # what workers hold: the units bring their resources (`Job.lean`)
        self._pool = self._start(lean, self.jobs)
        running: dict[Any, Unit] = {}
        suspects: list[Unit] = []
        try:
            while True:
                while len(running) < window and not suspects:
                    unit = next(todo, None)
                    if unit is None:
                        break
                    running[self._pool.submit(_pool_run, unit, mode, job.carried(unit))] = unit
                if suspects:  # a worker died: the units it may have been running, each alone
                    yield from self._isolate(job, lean, suspects, mode)
                    suspects = []
                    continue
                if not running:
                    return
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = False
                for fut in done:
                    unit = running.pop(fut)
                    try:
                        yield unit, fut.result()
                    except BrokenProcessPool:
                        broken = True
                        suspects.append(unit)
                    except Exception as exc:
                        yield unit, failure(job, unit, mode, f"analysis failed: {type(exc).__name__}: {exc}")
                if broken:
                    suspects += list(running.values())
                    running.clear()
                    self._pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = self._start(lean, self.jobs)
                    suspects.sort(key=lambda u: u.index)
        finally:
            self.close()

    def _isolate(self, job: Job, lean: Job, units: list[Unit], mode: str) -> Iterator[tuple[Unit, Any]]:
        """Each unit on a worker of its own: the one that kills it is reported, the others give their result."""
        from concurrent.futures.process import BrokenProcessPool

        for unit in units:
            alone = self._start(lean, 1)
            try:
                yield unit, alone.submit(_pool_run, unit, mode, job.carried(unit)).result()
            except BrokenProcessPool:
                yield unit, failure(job, unit, mode, "the worker process died while analysing this resource "
                                                     "(killed, crashed, or out of memory)")
            except Exception as exc:
                yield unit, failure(job, unit, mode, f"analysis failed: {type(exc).__name__}: {exc}")
            finally:
                alone.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# ---- Dask ---------------------------------------------------------------------------------------------------

_DASK_LOCK = threading.Lock()


def _dask_run(job: Job, unit: Unit, mode: str, carried: tuple[tuple[int, Any], ...] = ()) -> Any:
    with _DASK_LOCK, job.adopt(carried):  # one unit at a time per worker process: the Z3 context is the process's
        return compute(job, unit, mode)


class Dask:
    """Units on a Dask distributed cluster: `dask://HOST:PORT` (a running scheduler) or `dask:local` (a
    `LocalCluster` of `jobs` single-threaded worker processes started for the run)."""

    name = "dask"

    def __init__(self, address: str | None, jobs: int, memory_mb: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            from reasoner.errors import InputError

            raise InputError("`--executor dask...` needs Dask distributed, which is not installed",
                             code="INPUT004", help="pip install 'aws-policy-reasoner[dask]'") from None
        self._cluster: Any = None
        if address is None:
            limit = f"{memory_mb}MiB" if memory_mb else "auto"
            self._cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                         dashboard_address=None, memory_limit=limit)
            self.client = Client(self._cluster)
        else:
            self.client = Client(address)

    def map(self, job: Job, units: Iterable[Unit], mode: str) -> Iterator[tuple[Unit, Any]]:
        from distributed import as_completed

        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        window = workers * WINDOW
        listed = list(units)
        shipped = self.client.scatter(job.lean(listed), broadcast=True)  # the units bring their resources
        todo = iter(listed)
        pending: dict[Any, Unit] = {}

        def submit(unit: Unit) -> Any:
            fut = self.client.submit(_dask_run, shipped, unit, mode, job.carried(unit), pure=False, retries=0)
            pending[fut] = unit
            return fut

        first = [submit(u) for u in _take(todo, window)]
        if not first:
            return
        queue = as_completed(first)
        for fut in queue:
            unit = pending.pop(fut)
            try:
                yield unit, fut.result()
            except Exception as exc:  # KilledWorker included: the unit's workers died
                why = (f"the worker process died while analysing this resource ({type(exc).__name__})"
                       if type(exc).__name__ == "KilledWorker" else
                       f"analysis failed: {type(exc).__name__}: {exc}")
                yield unit, failure(job, unit, mode, why)
            fut.release()
            nxt = next(todo, None)
            if nxt is not None:
                queue.add(submit(nxt))

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def _take(it: Iterator[Unit], n: int) -> list[Unit]:
    out = []
    for _ in range(n):
        u = next(it, None)
        if u is None:
            break
        out.append(u)
    return out


def executor(spec: str | None, jobs: int, memory_mb: int | None = None) -> Serial | Pool | Dask:
    """The executor `--executor SPEC --jobs N` names: `dask://HOST:PORT` or `dask:local`, else a pool of
    `jobs` processes (in this process when `jobs` is 1)."""
    if spec:
        if spec == "dask:local":
            return Dask(None, jobs, memory_mb)
        if spec.startswith("dask://"):
            return Dask("tcp://" + spec[len("dask://"):], jobs, memory_mb)
        if spec not in ("pool", "process", "serial"):
            from reasoner.errors import InputError

            raise InputError(f"unknown executor `{spec}`", code="INPUT004",
                             help="`--executor dask://HOST:PORT` (a Dask scheduler) or `dask:local`; without it, "
                                  "--jobs N processes of this machine")
        if spec == "serial":
            return Serial()
    return Pool(jobs, memory_mb) if jobs > 1 else Serial()


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
