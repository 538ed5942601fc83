"""Work units: one resource of one environment, with every analysis asked of it.

Input: a `Job` (the environments of a run, each shipped once per worker, and the run's `ScanOptions`) and its
`Unit`s (an environment, one of its targets, and the property checks that apply to it).
Output: `analyse(job, unit) -> Analysed` (the findings of the resource, its lint issues, its checked
assertions, as the analyses' own result objects) and `record(job, unit, analysed) -> dict`, the JSON record
`reasoner scan` streams and caches (`record_line` is its one canonical text).
Guarantee: a unit runs on its resource's slice (`slices.py`) and starts from a fresh solver state (a new Z3
context, no compiled environment kept from another unit), so its result depends on the unit alone: the same
on one process, on a pool of processes in any order, on a Dask worker, and equal to the per-resource commands
(`reasoner findings ENV --resource ARN`, `lint ... --resource ARN`). The slice is compiled once for findings,
lint and all the unit's property checks (`findings.shared_compilation`; issue 17: compiling was a third of a
unit's time), in that order: findings come first on the fresh compilation, as `findings --resource` has them;
lint and the checks then solve in the same solver, whose earlier queries are guarded by their own assumption
literals and whose lemmas are true facts, so a decided verdict or issue is the one a fresh solver gives
(only the requests the solver picks as examples may differ, and a query near the solver's resource limit may
end UNKNOWN on one and not the other: lint with `--separation-of-duties`, whose issues show the requests,
starts afresh). After findings not proved complete or lint with an undecided check (a limit may have
stopped them half-way), what follows starts afresh. Every limit, unsupported construct and memory exhaustion is
UNKNOWN with its reason (never a lost result); the record holds no wall-clock figure, so equal inputs give
byte-equal records.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reasoner.analyses.properties import Property
from reasoner.batch.slices import Slicer, Target
from reasoner.semantics.environment import Environment
from reasoner.source import Span
from reasoner.symbolic.solve import DEFAULT_RLIMIT

#: Version of the record's shape and of what decides its contents (part of every cache key): 3 since slices leave
#: out roles indistinguishable from undeclared ones (the same verdicts, other example requests).
RECORD_VERSION = 3


@dataclass(frozen=True)
class ScanOptions:
    """What every unit of a run is asked: the analyses and their options (each part of the cache key)."""

    findings: bool = True
    lint: bool = True
    zone: tuple[str, ...] = ()  # zone of trust of findings (accounts, `o-...`); default: each resource's account
    include_services: bool = False
    separation_of_duties: bool = False
    timeout: float = 60.0  # wall-clock seconds of each analysis of one resource, and of each assertion
    rlimit: int | None = None  # Z3 resource limit per solver call (None: the default)
    deadline: float | None = None  # `time.time()` by which every unit of the run ends (`findings`' whole-run limit)


@dataclass(frozen=True)
class CheckSpec:
    """One assertion, checked on one resource: its property (the environment a comparison compares with is
    `old`, an index into `Job.environments`; the property's own `old` is put back in the worker), the index of
    the environment it is checked in, and what its property file says of it."""

    name: str
    span: Span | None
    property: Property
    env: int
    old: int | None = None
    allow_unknown: bool = False
    timeout: float | None = None


@dataclass(frozen=True)
class Unit:
    """One resource (`target`) of the environment `env` (an index into `Job.environments`), with the checks
    that apply to it. `key` is the content hash of everything its record depends on (`digest.py`)."""

    index: int
    env: int
    target: Target
    checks: tuple[CheckSpec, ...] = ()
    key: str = ""


@dataclass
class Job:
    """What the units of one run share: the environments (inputs and those of the assertions) and options.
    `inputs[i]` is what the run calls environment i (its path as given)."""

    environments: tuple[Environment, ...]
    inputs: tuple[str, ...]
    options: ScanOptions
    rebase: bool = True  # spans of the records made usable from the working directory (`face.paths`)
    _slicers: dict[int, Slicer] = field(default_factory=dict, repr=False, compare=False)

    def slicer(self, env: int) -> Slicer:
        hit = self._slicers.get(env)
        if hit is None:
            hit = self._slicers[env] = Slicer(self.environments[env])
        return hit

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_slicers"] = {}
        return state

    def lean(self, units: Sequence[Unit]) -> Job:
        """This job without the keys and declared resources of its environments, for shipping to workers
        (issue 17: a scan's bulk is one policy per resource, and every worker unpickled all of them); a
        worker gets each unit's own with the unit (`carried`, `adopt`), so its slices are the same. An
        environment a chain of steps of `units` is checked in stays whole (a chain reads other resources)."""
        from reasoner.analyses.properties import Eventually

        whole = {spec.env for u in units for spec in u.checks if isinstance(spec.property, Eventually)}
        envs = tuple(e if i in whole or not (e.keys or e.resources) else replace(e, keys=(), resources=())
                     for i, e in enumerate(self.environments))
        return Job(envs, self.inputs, self.options, self.rebase)

    def carried(self, unit: Unit) -> tuple[tuple[int, Any], ...]:
        """What a lean copy of this job needs besides itself to run `unit`: per environment the unit slices,
        the key or declared resource that is its target there (none: a role, in every copy, or no such
        target)."""
        envs = dict.fromkeys([unit.env, *(i for spec in unit.checks for i in (spec.env, spec.old) if i is not None)])
        out: list[tuple[int, Any]] = []
        for i in envs:
            own = self.slicer(i).own(unit.target.arn)
            if own is not None:
                out.append((i, own))
        return tuple(out)

    @contextlib.contextmanager
    def adopt(self, carried: tuple[tuple[int, Any], ...]) -> Iterator[None]:
        """Within it, the slicers of this (lean) job know the targets `carried` brings (nothing kept after)."""
        for i, own in carried:
            self.slicer(i).adopt(own)
        try:
            yield
        finally:
            for i, own in carried:
                self.slicer(i).forget(own)


@dataclass(frozen=True)
class Analysed:
    """The results of one unit, as the analyses give them (None: not asked)."""

    findings: Any = None  # FindingsResult of the slice
    lint: Any = None  # HygieneResult of the slice
    checks: tuple[Any, ...] = ()  # Report per CheckSpec
    error: str | None = None  # the unit could not run at all (a worker died): everything is UNKNOWN


def fresh_solver_state() -> None:
    """A new Z3 context and no compiled environment kept: what an analysis finds no longer depends on what the
    process solved before (Z3's choices follow the order terms were created in its context)."""
    from reasoner.analyses import compiled
    from reasoner.symbolic import smt

    compiled._RECENT.clear()
    smt.context.cache_clear()


def analyse(job: Job, unit: Unit) -> Analysed:
    """Run the analyses of `unit` on its resource's slice (module docstring)."""
    from reasoner.analyses import findings as fnd
    from reasoner.analyses.result import Verdict
    from reasoner.face.paths import rebase_findings, rebase_hygiene
    from reasoner.semantics import ir

    opts = job.options
    env = job.slicer(unit.env).slice(unit.target.arn, mentions=mentions(unit))
    rlimit = DEFAULT_RLIMIT if opts.rlimit is None else opts.rlimit
    found = linted = None
    fresh_solver_state()
    with fnd.shared_compilation():  # the slice compiled once for findings, lint and checks (module docstring)
        if opts.findings:
            with _run_budget(opts):
                found = fnd.findings(env, fnd.parse_zone(opts.zone), include_services=opts.include_services,
                                     timeout=opts.timeout, rlimit=rlimit)
            if any(k.complete is not Verdict.PROVED for k in found.keys):
                fresh_solver_state()  # a limit may have stopped it: what follows starts afresh
            found = rebase_findings(found, env) if job.rebase else found
        if opts.lint:
            from reasoner.analyses import hygiene  # (only when asked: `findings` does not load lint)

            if opts.separation_of_duties:  # its issues show the requests the solver picks: as `lint` alone
                fresh_solver_state()
            with _run_budget(opts):
                linted = hygiene.hygiene(env, separation_of_duties=opts.separation_of_duties,
                                         timeout=opts.timeout, rlimit=rlimit)
            if linted.undecided:
                fresh_solver_state()
            linted = rebase_hygiene(linted, env) if job.rebase else linted
        checks: tuple[Any, ...] = ()
        slices: dict[tuple[int, bool, bool], Environment] = {(unit.env, False, True): env}  # one object
        if unit.checks:
            checks = tuple(check(job, unit, spec, slices) for spec in unit.checks)  # per environment
    fresh_solver_state()  # nothing of this unit is kept alive in the worker: no compiled environment, and no
    shared = {id(e) for e in job.environments}  # evaluator index of its slices and their variants (lint's)
    ir.forget_if(lambda obj: isinstance(obj, Environment) and id(obj) not in shared)
    return Analysed(found, linted, checks)


def mentions(unit: Unit) -> frozenset[str]:
    """Every text of the unit's property checks (principals, actions, resources, conditions they name): a role
    named in them is never left out of the unit's slices (`Slicer.slice`)."""
    out: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, str):
            out.add(v)
        elif isinstance(v, Environment) or v is None or isinstance(v, int | float | bool):
            return
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            for f in dataclasses.fields(v):
                walk(getattr(v, f.name))
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
        elif isinstance(v, tuple | list | set | frozenset):
            for x in v:
                walk(x)
        else:
            out.add(str(getattr(v, "value", v)))

    for spec in unit.checks:
        walk(spec.property)
    return frozenset(out)


def _run_budget(opts: ScanOptions) -> Any:
    """What is left of the run's limit (`ScanOptions.deadline`), named by its seconds, or no limit of its own."""
    import contextlib

    from reasoner import limits

    if opts.deadline is None:
        return contextlib.nullcontext()
    return limits.budget(max(0.0, opts.deadline - time.time()), shown=opts.timeout)


def check(job: Job, unit: Unit, spec: CheckSpec,
          slices: dict[tuple[int, bool, bool], Environment] | None = None) -> Any:
    """One assertion on the unit's resource: the `Report` of `reasoner check`, computed on the slices (of the
    environment it is checked in, and of the one a comparison compares with) of the resource. `slices` keeps
    one slice object per environment for all the checks of a unit, so that the compiled environment
    (`compiled.compiled_for`, by object) serves them all. A chain of steps (`Eventually`) reads policies
    about other resources than its own (other roles' trust policies, other keys): it is checked on the whole
    environment."""
    from reasoner import limits
    from reasoner.analyses.pipeline import check as check_property
    from reasoner.analyses.properties import Eventually
    from reasoner.analyses.result import CheckResult, Verdict, rebase_spans
    from reasoner.errors import InputError, UnsupportedFeatureError
    from reasoner.face.report import Report

    arn = unit.target.arn
    made = {} if slices is None else slices
    prop = spec.property
    if isinstance(prop, Eventually):
        # a chain's steps act on other resources (assume a role through its trust policy, pass a role, use
        # another key): it is checked on the whole environment, as `reasoner check` does (its cache key covers
        # the whole environment: `digest.Digests.check`)
        env = job.environments[spec.env]  # (a chain compares with no other environment: `old` is None)
    else:
        mine = made.get((spec.env, False, True))
        if mine is None:
            mine = made[(spec.env, False, True)] = job.slicer(spec.env).slice(arn, mentions=mentions(unit))
        env = mine
        if spec.old is not None:
            old = made.get((spec.old, True, True))
            if old is None:
                old = made[(spec.old, True, True)] = job.slicer(spec.old).slice_or_empty(
                    arn, mentions=mentions(unit))
            prop = dataclasses.replace(prop, old=old)  # type: ignore[arg-type]
    start = time.perf_counter()
    try:
        result = check_property(env, prop, timeout=spec.timeout or job.options.timeout,
                                rlimit=job.options.rlimit)
    except UnsupportedFeatureError as exc:
        result = CheckResult(prop, Verdict.UNKNOWN, reason=limits.unknown_reason(exc),
                             seconds=time.perf_counter() - start)
    except InputError as exc:  # the claim does not apply after all: said, never a verdict of its own
        result = CheckResult(prop, Verdict.UNKNOWN, reason=f"not checkable on `{arn}`: {exc.message}",
                             seconds=time.perf_counter() - start)
    named = dataclasses.replace(result, name=spec.name)
    return Report(rebase_spans(named, env), spec.name, spec.span, spec.allow_unknown)


# ---- records -----------------------------------------------------------------------------------------------

#: Keys of wall-clock figures, dropped from records (equal inputs give byte-equal records).
_TIMES = frozenset({"seconds"})


def _untimed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k not in _TIMES}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def record(job: Job, unit: Unit, analysed: Analysed) -> dict[str, Any]:
    """The JSON record of one unit: the resource, then `findings` (its entry of `reasoner findings --format
    json`), `lint` (issues and undecided checks as `reasoner lint` gives them), `checks` (the results of
    `reasoner check --format json`, without solver statistics) and `status` (the exit status the per-resource
    commands together would have)."""
    from reasoner.face.exit import ExitStatus, combine, exit_status
    from reasoner.face.render import findings as render_findings
    from reasoner.face.render import hygiene as render_hygiene
    from reasoner.face.render import results as render_results

    t = unit.target
    out: dict[str, Any] = {"resource": t.arn, "type": t.type, "account": t.account, "input": job.inputs[unit.env]}
    statuses: list[ExitStatus] = []
    if analysed.error is not None:
        out.update(findings=None, lint=None, checks=[], error=analysed.error, status=int(ExitStatus.UNKNOWN))
        return out
    if analysed.findings is not None:
        keys = render_findings.result_json(analysed.findings)["keys"]
        out["findings"] = _untimed(keys[0]) if keys else None
        statuses.append(exit_status(analysed.findings))
    else:
        out["findings"] = None
    if analysed.lint is not None:
        out["lint"] = {"issues": [render_hygiene.issue_json(i) for i in analysed.lint.issues],
                       "undecided": [render_hygiene.issue_json(i) for i in analysed.lint.undecided]}
        statuses.append(exit_status(analysed.lint))
    else:
        out["lint"] = None
    checks = []
    for rep in analysed.checks:
        entry = render_results.report_json(rep)
        entry.pop("stats", None)
        checks.append(_untimed(entry))
    out["checks"] = checks
    if analysed.checks:
        statuses.append(exit_status(list(analysed.checks)))
    out["error"] = None
    out["status"] = int(combine(statuses))
    return out


def record_line(rec: dict[str, Any]) -> str:
    """The record as one line of JSON (keys in a fixed order, no spaces beyond the separators)."""
    return json.dumps(rec, ensure_ascii=False, separators=(",", ":"))


def failed(job: Job, unit: Unit, why: str) -> dict[str, Any]:
    """The record of a unit whose worker died or failed: everything UNKNOWN, with the reason."""
    return record(job, unit, Analysed(error=why))
