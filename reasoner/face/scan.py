"""`reasoner scan INPUT...`: every resource of every environment through findings, lint and property checks.

Input: environments (manifests, snapshot directories, a tree of manifests, CloudFormation, CDK, Terraform plans,
AWS exports: `reasoner.front.importers`), property files (`--properties PATH`), the analyses' options, the
executor (`--jobs N`, `--executor dask://HOST:PORT` or `dask:local`) and the cache (`--cache PATH`,
`--no-cache`).
Output: one JSON record per resource (`batch/units.py`), streamed as JSON lines (`--format jsonl`) in the
resources' order as they are done, a summary table (`text`), SARIF at the end (`sarif`), a progress line on
stderr, and the exit status (`reasoner scan --help`).
Guarantee: a record is what the per-resource commands give for that resource (`findings`/`lint --resource`,
the property checks on the resource's slice), computed once per content hash: a rerun recomputes only the
resources whose inputs changed, an interrupted run resumes where it stopped (`batch/cache.py`), and every
resource gets exactly one record, UNKNOWN with the reason when its worker died. The records of one run are
the same, byte for byte, on one process, a pool and a Dask cluster. Memory stays flat in the number of
resources: records are written as they come (SARIF and the text report are built from a spooled copy), only
the units in flight and a bounded reorder window are held.

Property files: an assertion whose file declares an `environment` applies to the input that is that
environment (by path; an assertion about an environment that is not an input is an input error), checked on
each resource it names on which one of its actions acts; an assertion of a file without `environment` is a
template checked in every input, on each resource it names on which one of its actions acts (`on all keys`,
`on all resources of type AWS::S3::Bucket`, or no `on`: every resource).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TextIO

from reasoner.batch.checks import EnvIndex
from reasoner.batch.slices import targets
from reasoner.batch.units import CheckSpec, Job, ScanOptions, Unit, record_line
from reasoner.errors import InputError, Severity, register_code
from reasoner.face.exit import ExitStatus
from reasoner.semantics.environment import Environment

__all__ = ["command", "expand_inputs", "plan_units", "run"]

#: Seconds between two plain progress lines when stderr is not a terminal (CI logs).
PLAIN_EVERY_S = 30.0


NOT_ANALYSED = register_code("SCAN001", Severity.NOTE, "a resource was not analysed: its worker died or failed")


# ---- inputs -------------------------------------------------------------------------------------------------

def expand_inputs(paths: Sequence[str]) -> list[str]:
    """Each environment the arguments name: a file, a manifest directory (`environment.yaml`), a cloud assembly,
    or for a directory holding neither, every manifest directory below it (a tree of manifests), else the
    directory itself (its templates, plans and exports are one environment)."""
    out: list[str] = []
    for text in paths:
        p = Path(text)
        if not p.is_dir() or (p / "environment.yaml").is_file() or (p / "manifest.json").is_file():
            out.append(text)
            continue
        below = sorted(str(m.parent) for m in p.rglob("environment.yaml") if ".git" not in m.parts)
        out.extend(below or [text])
    return list(dict.fromkeys(out))


def _same_file(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return False


def _source_of(path: str, env: Environment) -> str:
    return env.source or path


# ---- property checks ----------------------------------------------------------------------------------------

@dataclasses.dataclass
class Assertions:
    """The assertions of `--properties`, each with the environment it is checked in and the one it compares
    with, both indices into the run's environments."""

    items: list[tuple[Any, int, int | None]]  # (Assertion, env index, old env index)


def collect_assertions(paths: Sequence[str], inputs: Sequence[str], envs: list[Environment], *,
                       root: str | None, loader: Callable[[Path], Any] | None) -> Assertions:
    """Compile the property files (module docstring); `envs` grows by the environments the assertions name
    (their own copies of an input, the other sides of comparisons)."""
    from reasoner.language import property_files as props

    files = props.find_property_files(paths, root=root)
    if not files:
        raise InputError(f"no property files (`*{props.SUFFIX}`) under {', '.join(f'`{p}`' for p in paths)}",
                         code="INPUT004")
    compiler = props.Compiler(loader, root=root)
    env_index = EnvIndex(envs)
    scanned = len(inputs)

    def input_of(env: Environment) -> int | None:
        return next((i for i in range(scanned) if envs[i] is env or _same_file(envs[i].source, env.source)), None)

    out: list[tuple[Any, int, int | None]] = []
    errors: list[InputError] = []
    for f in files:
        try:
            compiled: Sequence[Any] = compiler.compile_file(f)
            templates = False
        except props.PropertyError as exc:
            if exc.code != props.NO_ENVIRONMENT:
                errors.append(exc)
                continue
            templates = True
        if templates:  # a file without `environment`: its assertions are checked in every input
            text = Path(f).read_text(encoding="utf-8")
            try:
                for i in range(scanned):
                    for a in compiler.compile_text(text, str(f), Path(f).parent, environment=envs[i]):
                        out.append((a, i, _old_index(a, env_index)))
            except InputError as exc:
                errors.append(exc)
            continue
        for a in compiled:
            old = getattr(a.property, "old", None)
            if input_of(a.environment) is None and (old is None or input_of(old) is None):
                errors.append(InputError(
                    f"assertion \"{a.name}\" is about `{a.environment.source}`, which is not an input of the scan",
                    code="INPUT004", span=a.span,
                    help="add that environment to the inputs, or leave the file out of `--properties`"))
                continue
            out.append((a, env_index(a.environment), _old_index(a, env_index)))
    if errors:
        from reasoner.errors import raise_all

        raise_all(errors)
    return Assertions(out)


def _old_index(assertion: Any, env_index: Callable[[Environment], int]) -> int | None:
    old = getattr(assertion.property, "old", None)
    return None if old is None else env_index(old)


def applies(prop: Any, target_info: Any) -> bool:
    """The property names `target_info` (a `SymTarget`) and one of its actions acts on it."""
    from reasoner.analyses.conditions import expand_actions, expand_resources

    try:
        expand_resources(prop.resources, SimpleNamespace(targets=(target_info,)))  # type: ignore[arg-type]
        expand_actions(prop.actions, SimpleNamespace(actions=target_info.actions))  # type: ignore[arg-type]
    except InputError:
        return False
    return True


def plan_units(envs: list[Environment], inputs: Sequence[str], assertions: Assertions) -> list[Unit]:
    """The units of the run: every target of every input, in order, with the checks that apply to it."""
    from reasoner.symbolic.domain import targets_of

    by_env: dict[int, list[tuple[Any, int, int | None]]] = {}
    for a, env_i, old_i in assertions.items:
        by_env.setdefault(env_i, []).append((a, env_i, old_i))
    sym: dict[int, dict[str, Any]] = {}

    def sym_targets(i: int) -> dict[str, Any]:
        hit = sym.get(i)
        if hit is None:
            hit = sym[i] = {t.arn: t for t in targets_of((envs[i],))}
        return hit

    def input_of(e: int) -> int | None:
        return next((i for i in range(len(inputs)) if e == i or _same_file(envs[e].source, envs[i].source)), None)

    # an assertion belongs to the input it is checked in, else (a comparison) to the input it compares with
    home: dict[int, list[tuple[Any, int, int | None]]] = {}
    for items in by_env.values():
        for a, e, o in items:
            at = input_of(e)
            if at is None and o is not None:
                at = input_of(o)
            if at is not None:
                home.setdefault(at, []).append((a, e, o))
    memo: dict[tuple[Any, ...], bool] = {}

    def applies_to(prop: Any, st: Any) -> bool:
        """`applies`, remembered: it depends on the target's type and actions, and on its ARN only when the
        property names resources by ARN."""
        by_arn = any(not (p == "*" or p.startswith("type:")) for p in prop.resources)
        key = (id(prop), st.rtype.label if st.rtype is not None else None, st.actions,
               (st.arn, st.sub_prefix) if by_arn else None)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = applies(prop, st)
        return hit

    units: list[Unit] = []
    for i in range(len(inputs)):
        mine = home.get(i, [])
        for t in targets(envs[i]):
            checks: list[CheckSpec] = []
            for a, e, o in mine:
                st = sym_targets(e).get(t.arn)
                if st is None or not applies_to(a.property, st):
                    continue
                prop = a.property if o is None else dataclasses.replace(a.property, old=None)  # old: in the job
                checks.append(CheckSpec(a.name, a.span, prop, e, o, a.allow_unknown, a.timeout))
            units.append(Unit(len(units), i, t, tuple(checks)))
    return units


# ---- the run ------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Summary:
    """Counts over the records (O(1) memory)."""

    resources: int = 0
    cached: int = 0
    computed: int = 0
    external: int = 0
    public: int = 0
    incomplete: int = 0
    issues: int = 0
    undecided: int = 0
    assertions: int = 0
    refuted: int = 0
    unknown: int = 0
    failed: int = 0
    by_type: dict[str, list[int]] = dataclasses.field(default_factory=dict)  # type -> [resources, found, unknown]
    status: ExitStatus = ExitStatus.OK

    def add(self, rec: dict[str, Any]) -> None:
        from reasoner.face.exit import combine

        self.resources += 1
        f = rec.get("findings")
        if f:
            self.external += len(f.get("findings", []))
            self.public += sum(1 for x in f.get("findings", []) if x.get("public"))
            self.incomplete += f.get("complete") != "PROVED"
        lint = rec.get("lint")
        if lint:
            self.issues += len(lint.get("issues", []))
            self.undecided += len(lint.get("undecided", []))
        for c in rec.get("checks", []):
            self.assertions += 1
            self.refuted += c.get("verdict") == "REFUTED"
            self.unknown += c.get("verdict") == "UNKNOWN" and not c.get("allow_unknown")
        if rec.get("error"):
            self.failed += 1
        row = self.by_type.setdefault(rec.get("type", "?"), [0, 0, 0])
        row[0] += 1
        status = ExitStatus(rec.get("status", 3))
        row[1] += status is ExitStatus.FINDINGS
        row[2] += status is ExitStatus.UNKNOWN
        self.status = combine([self.status, status])


class Progress:
    """`[done/total] rate/s ETA` redrawn on a terminal; a plain line every `PLAIN_EVERY_S` seconds otherwise
    (CI logs); nothing when quiet."""

    def __init__(self, stream: TextIO, total: int, *, quiet: bool = False) -> None:
        self.stream = stream
        self.total = total
        self.quiet = quiet
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.began = time.monotonic()
        self.last = 0.0
        self.done = 0
        self.shown = False

    def line(self) -> str:
        spent = max(1e-9, time.monotonic() - self.began)
        rate = self.done / spent
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        eta = "?" if left == float("inf") else f"{int(left) // 60}m{int(left) % 60:02d}s"
        return f"scan: {self.done}/{self.total} resources, {rate:.1f}/s, ETA {eta}"

    def step(self) -> None:
        self.done += 1
        if self.quiet:
            return
        now = time.monotonic()
        if self.tty and now - self.last >= 0.1:
            self.stream.write("\r\x1b[K" + self.line())
            self.stream.flush()
            self.shown = True
            self.last = now
        elif not self.tty and now - self.began >= PLAIN_EVERY_S and now - self.last >= PLAIN_EVERY_S:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
            self.last = now

    def end(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def run(job: Job, units: Sequence[Unit], *, executor: Any, store: Any, emit: Callable[[str], None],
        progress: Progress | None = None, on_record: Callable[[dict[str, Any]], None] | None = None) -> Summary:
    """Run the units not in `store` on `executor` and `emit` every record line in the units' order (cached
    ones as they are reached); the summary of all records. `on_record` is called after each emitted record
    (the tests interrupt a run there)."""
    from reasoner.batch.digest import Digests

    digests = Digests(job)
    keyed = [dataclasses.replace(u, key=digests.unit_key(u)) for u in units]
    hit = [store.get(u.key) is not None for u in keyed] if store.enabled else [False] * len(keyed)
    store.hits = 0
    summary = Summary()
    done: dict[int, str] = {}
    position = 0

    def flush() -> None:
        nonlocal position
        while position < len(keyed):
            u = keyed[position]
            if hit[position]:
                line = store.get(u.key)
                if line is None:  # gone from the store since (another run replaced it): computed below
                    return
                summary.cached += 1
            elif position in done:
                line = done.pop(position)
                summary.computed += 1
            else:
                return
            rec = json.loads(line)
            summary.add(rec)
            emit(line)
            if progress is not None:
                progress.step()
            position += 1
            if on_record is not None:
                on_record(rec)

    misses = [u for u, h in zip(keyed, hit, strict=True) if not h]
    try:
        flush()
        for unit, rec in (executor.map(job, iter(misses), "record") if misses else ()):
            line = record_line(rec)
            if not rec.get("error"):
                store.put(unit.key, line)
            done[unit.index] = line
            flush()
        flush()
        if position < len(keyed):  # cached records that disappeared meanwhile: computed now, in order
            rest = [keyed[i] for i in range(position, len(keyed)) if i not in done]
            for unit, rec in executor.map(job, iter(rest), "record"):
                done[unit.index] = record_line(rec)
                hit[unit.index] = False
                flush()
    finally:
        store.commit()
        if progress is not None:
            progress.end()
    return summary


# ---- reports ------------------------------------------------------------------------------------------------

def summary_text(summary: Summary, seconds: float, cache: str) -> str:
    """The summary table and lines (text format)."""
    rows = [("type", "resources", "found", "unknown")]
    rows += [(t, str(r[0]), str(r[1]), str(r[2])) for t, r in sorted(summary.by_type.items())]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths,
                                                                                            strict=True)))
             for row in rows]
    rate = summary.resources / seconds if seconds > 0 else 0.0
    lines += [
        "",
        f"{summary.resources} resource(s) in {seconds:.1f} s ({rate:.1f}/s; {summary.cached} from the cache, "
        f"{summary.computed} computed; cache: {cache})",
        f"findings: {summary.external} external access finding(s), {summary.public} public, "
        f"{summary.incomplete} resource(s) not proved complete",
        f"lint: {summary.issues} issue(s), {summary.undecided} undecided check(s)",
        f"checks: {summary.assertions} assertion check(s), {summary.refuted} refuted, {summary.unknown} unknown",
    ]
    if summary.failed:
        lines.append(f"{summary.failed} resource(s) not analysed: their worker died (UNKNOWN)")
    lines.append(f"exit status {int(summary.status)}")
    return "\n".join(lines) + "\n"


def problem_lines(rec: dict[str, Any]) -> list[str]:
    """The text lines of one record with something found or unknown (nothing for a clean resource)."""
    status = rec.get("status", 0)
    if status == 0:
        return []
    head = {1: "FOUND", 3: "UNKNOWN"}.get(status, "ERROR")
    parts = []
    f = rec.get("findings")
    if rec.get("error"):
        parts.append(rec["error"])
    if f:
        n = len(f.get("findings", []))
        pub = sum(1 for x in f.get("findings", []) if x.get("public"))
        if n:
            parts.append(f"{n} finding(s)" + (f", {pub} public" if pub else ""))
        if f.get("complete") != "PROVED":
            parts.append(f"findings incomplete: {f.get('reason')}")
    lint = rec.get("lint")
    if lint:
        parts += [f"{i['code']} {i['message']}" for i in lint.get("issues", [])]
        parts += [f"undecided: {i['message']}" for i in lint.get("undecided", [])]
    for c in rec.get("checks", []):
        if c.get("verdict") == "REFUTED":
            parts.append(f"refuted \"{c['name']}\"")
        elif c.get("verdict") == "UNKNOWN":
            parts.append(f"unknown \"{c['name']}\": {c.get('reason')}")
    return [f"{head} {rec.get('type')} {rec.get('resource')}", *(f"  {p}" for p in parts)]


def sarif_document(records: Iterator[dict[str, Any]], ctx: Any, exit_code: int) -> str:
    """SARIF 2.1.0 of the records: a result per finding (on its granting statements), per lint issue, per
    refuted assertion (on its assertion), and a note per resource whose findings are not complete or whose
    worker died."""
    from reasoner.analyses.findings import FINDING_EXTERNAL, FINDING_PUBLIC, FINDINGS_INCOMPLETE
    from reasoner.errors import Severity
    from reasoner.face.render import ci, sarif
    from reasoner.face.render.results import _RULES
    from reasoner.source import Span

    check_rules = dict(_RULES)

    def span(d: dict[str, Any] | None) -> Span | None:
        return None if not d else Span(d["file"], d["line"], d["col"], d["end_line"], d["end_col"])

    results: list[dict[str, Any]] = []
    levels = {"error": "error", "warning": "warning", "note": "note"}
    for rec in records:
        arn = rec["resource"]
        f = rec.get("findings")
        if f:
            for x in f.get("findings", []):
                msg = (f"{'public' if x['public'] else 'external'} access to {arn}: {x['principal']['kind']} "
                       f"{x['principal']['value']} can {', '.join(x['actions'])}")
                locs = [(s, f"`{st['label']}` grants it") for st in x.get("statements", [])
                        if (s := span(st.get("span"))) is not None]
                results.append(sarif.result(x["code"], "error" if x["public"] else "warning", msg, None, ctx,
                                            fingerprint=x["fingerprint"], locations=locs,
                                            properties={"resource": arn, "actions": x["actions"]}))
            if f.get("complete") != "PROVED":
                results.append(sarif.result(FINDINGS_INCOMPLETE, "note",
                                            f"findings for {arn} are not proved complete: {f.get('reason')}", None,
                                            ctx, fingerprint=ci.digest("incomplete", arn)))
        lint = rec.get("lint")
        if lint:
            for i in (*lint.get("issues", []), *lint.get("undecided", [])):
                results.append(sarif.result(i["code"], levels.get(i["severity"], "note"), i["message"],
                                            span(i.get("span")), ctx, fingerprint=i["fingerprint"],
                                            properties={"resource": arn}))
        for c in rec.get("checks", []):
            if c["verdict"] == "PROVED":
                continue
            rule = check_rules.get(c["property"]["type"], c["property"]["type"])
            level = "error" if c["verdict"] == "REFUTED" else ("note" if c.get("allow_unknown") else "warning")
            text = (f"\"{c['name']}\" is {c['verdict']} on {arn}"
                    + (f": {c['reason']}" if c.get("reason") else ""))
            results.append(sarif.result(rule, level, text, span(c.get("location")), ctx,
                                        fingerprint=ci.digest(c["fingerprint"], arn),
                                        properties={"resource": arn, "verdict": c["verdict"]}))
        if rec.get("error"):
            results.append(sarif.result(NOT_ANALYSED, "note", f"{arn} was not analysed: {rec['error']}", None, ctx,
                                        fingerprint=ci.digest("failed", arn)))
    rules = [sarif.rule(c, severity=s) for c, s in ((FINDING_EXTERNAL, Severity.WARNING),
                                                     (FINDING_PUBLIC, Severity.ERROR),
                                                     (FINDINGS_INCOMPLETE, Severity.NOTE))]
    return sarif.document(rules, results, ctx, exit_code=exit_code)


# ---- the command --------------------------------------------------------------------------------------------

def command(args: Any, stdout: TextIO, stderr: TextIO, *, on_record: Callable[[dict[str, Any]], None] | None = None,
            plan: Any = None, ctx: Any = None) -> int:
    """`reasoner scan` (cli.py parses the arguments)."""
    from reasoner.batch import cache as caches
    from reasoner.batch import executors
    from reasoner.face.api import load_subject
    from reasoner.front.importers import ImportOptions, parse_parameters

    started = time.perf_counter()
    opts = ImportOptions(args.input_format, parse_parameters(args.parameter, args.parameters_file))
    inputs = expand_inputs(args.inputs)
    envs: list[Environment] = []
    errors: list[InputError] = []
    for path in inputs:
        try:
            envs.append(load_subject(path, None, args.root, opts))
        except InputError as exc:
            errors.append(exc)
    if errors:
        from reasoner.errors import raise_all

        raise_all(errors)
    assertions = Assertions([])
    if args.properties:
        loader = None
        if opts.input_format or opts.parameters:
            from reasoner.front.importers import load

            def loader(path: Path) -> Any:
                return load(path, root=args.root, options=opts)
        assertions = collect_assertions(args.properties, inputs, envs, root=args.root, loader=loader)
    scan_opts = ScanOptions(findings=not args.no_findings, lint=not args.no_lint, zone=tuple(args.zone_of_trust),
                            include_services=args.include_services, separation_of_duties=args.separation_of_duties,
                            timeout=args.timeout, rlimit=args.rlimit)
    from reasoner.analyses.findings import parse_zone

    parse_zone(scan_opts.zone)  # a bad zone is an input error before anything runs
    units = plan_units(envs, inputs, assertions)
    job = Job(tuple(envs), tuple(inputs) + tuple(e.source or "<environment>" for e in envs[len(inputs):]),
              scan_opts)
    store_path = None if args.no_cache else (args.cache or caches.default_path())
    store = caches.Store.open(store_path)
    formats = plan.formats if plan is not None else ("text",)
    jsonl_targets = [t for t in plan.targets if t.fmt == "jsonl"] if plan is not None else []
    spool = (tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed below
             if any(f in formats for f in ("text", "sarif")) else None)
    streams: list[TextIO] = []
    opened: list[TextIO] = []
    for t in jsonl_targets:
        if t.path is None:
            streams.append(stdout)
        else:
            try:
                fh: TextIO = open(t.path, "w", encoding="utf-8")  # noqa: SIM115 - closed below, written as it goes
            except OSError as exc:
                raise InputError(f"cannot write `{t.path}`: {(exc.strerror or 'error').lower()}",
                                 code="INPUT004") from None
            opened.append(fh)
            streams.append(fh)

    def emit(line: str) -> None:
        for s in streams:
            s.write(line + "\n")
            if s is stdout:
                s.flush()
        if spool is not None:
            spool.write(line + "\n")

    jobs = args.jobs or 1
    runner = executors.executor(args.executor, jobs, args.worker_memory)
    progress = Progress(stderr, len(units), quiet=args.quiet)
    try:
        summary = run(job, units, executor=runner, store=store, emit=emit, progress=progress, on_record=on_record)
    finally:
        runner.close()
        store.close()
        for fh in opened:
            fh.close()
    seconds = time.perf_counter() - started
    status = summary.status
    cache_text = "off" if store_path is None else str(store_path)
    if plan is not None and spool is not None:
        def records() -> Iterator[dict[str, Any]]:
            spool.seek(0)
            for line in spool:
                yield json.loads(line)

        def render(fmt: str) -> str:
            if fmt == "sarif":
                return sarif_document(records(), ctx, int(status))
            out: list[str] = []
            for rec in records():
                out += problem_lines(rec)
            return ("\n".join(out) + "\n\n" if out else "") + summary_text(summary, seconds, cache_text)

        non_stream = dataclasses.replace(plan, targets=tuple(t for t in plan.targets if t.fmt != "jsonl"))
        non_stream.emit(render, stdout)
        plan.written.extend(t for t in plan.targets if t.fmt == "jsonl")
        spool.close()
    elif plan is not None:
        plan.written.extend(plan.targets)
    if not args.quiet and not any(t.path is None and t.fmt == "text" for t in (plan.targets if plan else ())):
        stderr.write(f"scan: {summary.resources} resource(s) in {seconds:.1f} s, {summary.cached} from the cache; "
                     f"exit status {int(status)}\n")
    return int(status)
