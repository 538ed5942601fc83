"""The benchmark runner: every section, one table, one JSON file, and ratios against an earlier run.

Input: command-line options (`--quick`, `--json OUT`, `--compare OLD.json`, `--only SECTION ...`) and the
stages that exist in the tree (`reasoner.front.parse`, `reasoner.semantics.evaluate`, `reasoner.analyses.pipeline`,
`reasoner.analyses.findings`, the stage benchmarks `benchmarks/bench_*.py`, the optional external baselines).
Output: a text table on stdout (figure, value, unit, target, verdict against the target), the same as JSON
(`Report.to_json`), and with `--compare` a table of new/old ratios per figure.
Guarantee: a number is printed only when it was measured in this run on this machine; a section whose
stage cannot be imported is "skipped: <reason>", a section that raised is "error: <message>", never a
made-up figure. Timings are wall-clock (`time.perf_counter`); memory is tracemalloc's peak for in-process
work and `ru_maxrss` of the child for subprocesses.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import importlib
import inspect
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = Path(os.environ.get("REASONER_CORPUS", ROOT.parent / "shared" / "corpus"))
SCHEMA = 1


# ---- figures and sections ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A goal of issue 7: `value op threshold` must hold (op is "<=" or ">=")."""

    op: str
    threshold: float
    text: str

    def met(self, value: float) -> bool:
        return value <= self.threshold if self.op == "<=" else value >= self.threshold


@dataclass(frozen=True)
class Figure:
    """One measured number. `better` is "lower", "higher" or "" (informational, e.g. a count)."""

    name: str
    value: float
    unit: str = ""
    better: str = ""
    target: Target | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "unit": self.unit, "better": self.better}
        if self.target is not None:
            t = self.target
            out["target"] = {"op": t.op, "threshold": t.threshold, "text": t.text, "met": t.met(self.value)}
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Section:
    name: str
    title: str
    status: str = "ok"  # ok | skipped | error
    reason: str = ""
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, name: str, value: float, unit: str = "", better: str = "", note: str = "") -> None:
        if not math.isfinite(value):  # e.g. a ratio over a zero time: say so, never print it as a number
            self.notes.append(f"{name}: not a finite number ({value}){' - ' + note if note else ''}")
            return
        self.figures.append(Figure(name, float(value), unit, better, target_for(self.name, name), note))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title, "status": self.status, "seconds": round(self.seconds, 3)}
        if self.reason:
            out["reason"] = self.reason
        out["figures"] = {f.name: f.to_json() for f in self.figures}
        if self.notes:
            out["notes"] = list(self.notes)
        return out


class Skip(Exception):
    """Raised by a section that cannot run here; the message is the reason shown to the user."""


# ---- the targets of issue 7 -------------------------------------------------------------------------------

#: (section, figure-name glob, op, threshold, text). The first match wins.
TARGETS: tuple[tuple[str, str, str, float, str], ...] = (
    ("check", "*compile.*", "", 0.0, ""),  # compiling is not a property check: no target of its own
    ("parse", "*total_s", "<=", 10.0, "< 10 s for the corpus"),
    ("parse", "*seconds", "<=", 10.0, "< 10 s for the corpus"),
    ("decide", "*decisions_per_s", ">=", 20_000.0, ">= 20,000/s"),
    ("decide", "*per_s", ">=", 20_000.0, ">= 20,000/s"),
    ("check", "corpus.further*.p50_ms", "<=", 0.5, "further properties p50 <= 0.5 ms"),  # issue 17
    ("check", "corpus.further*.p99_ms", "<=", 5.0, "further properties p99 <= 5 ms"),
    ("check", "*p50_ms", "<=", 30.0, "p50 <= 30 ms"),
    ("check", "*p99_ms", "<=", 300.0, "p99 <= 300 ms"),
    ("check", "*1000*_s", "<=", 2.0, "<= 2 s at 1,000 statements"),
    ("check", "*1000*_ms", "<=", 2000.0, "<= 2 s at 1,000 statements"),
    ("scaling", "statements=1000.check_ms", "<=", 2000.0, "<= 2 s at 1,000 statements"),
    ("strings", "speedup_at_*", ">=", 30.0, ">= 30x at 10+ statements"),
    ("strings", "speedup_total_at_*", ">=", 30.0, ">= 30x at 10+ statements"),
    ("findings", "corpus_total_s", "<=", 120.0, "< 2 min for the key-policy corpus"),
    ("scan", "rerun_s", "<=", 30.0, "< 30 s with nothing changed"),
    ("scan", "projected_10000_s", "<=", 600.0, "10,000 resources < 10 min on 2 cores"),
    ("scan", "pool_s", "", 0.0, ""),
    ("hostile", "*.over_limit_s", "<=", 1.0, "ends within its limit + 1 s (start-up included)"),
    ("hostile", "*.max_rss_mb", "<=", 3072.0, "<= the 3072 MiB memory cap"),
    ("hostile", "*.exit_ok", ">=", 1.0, "exit 2 (located input error) or 3 (UNKNOWN), never 4"),
)


def target_for(section: str, name: str) -> Target | None:
    for sec, pattern, op, threshold, text in TARGETS:
        if sec == section and fnmatch.fnmatchcase(name, pattern):
            if sec == "strings" and not _at_least_10(name):
                continue
            return Target(op, threshold, text) if op else None
    return None


def _at_least_10(name: str) -> bool:
    digits = "".join(ch for ch in name.rsplit("_", 1)[-1] if ch.isdigit())
    return bool(digits) and int(digits) >= 10


# ---- reading the dicts of the stage benchmarks ------------------------------------------------------------

_SUFFIX_UNITS: tuple[tuple[str, str, str], ...] = (
    ("_per_s", "/s", "higher"), ("_per_sec", "/s", "higher"), ("per_second", "/s", "higher"),
    ("_ms", "ms", "lower"), ("_us", "us", "lower"), ("_ns", "ns", "lower"), ("_s", "s", "lower"),
    ("_seconds", "s", "lower"), ("seconds", "s", "lower"), ("_mb", "MB", "lower"), ("_mib", "MiB", "lower"),
    ("_kb", "kB", "lower"), ("_bytes", "B", "lower"), ("_ratio", "x", "higher"), ("_x", "x", "higher"),
    ("speedup", "x", "higher"),
)


def infer_unit(name: str) -> tuple[str, str]:
    """(unit, better) from a figure name's suffix; ("", "") when it says nothing (counts, labels)."""
    low = name.lower()
    for suffix, unit, better in _SUFFIX_UNITS:
        if low.endswith(suffix):
            return unit, better
    return "", ""


def read_stage_dict(section: Section, data: Mapping[str, Any]) -> None:
    """Fill `section` from a stage's `run()` dict (shape documented in benchmarks/README.md)."""
    if not isinstance(data, Mapping):
        raise TypeError(f"stage returned {type(data).__name__}, expected a dict")
    skipped = data.get("skipped")
    if skipped:
        raise Skip(str(skipped))
    notes = data.get("notes")
    if isinstance(notes, str):
        section.notes.append(notes)
    elif isinstance(notes, Iterable):
        section.notes.extend(str(n) for n in notes)
    body = data.get("figures", {k: v for k, v in data.items() if k not in ("notes", "skipped")})
    for name, value, unit, better in _flatten(body, ""):
        section.figures.append(Figure(name, value, unit, better, target_for(section.name, name)))
    for name, text in _texts(body, ""):
        section.notes.append(f"{name}: {text}")


def _is_figure_dict(value: Any) -> bool:
    return isinstance(value, Mapping) and "value" in value and _number(value["value"]) is not None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return float(value)


def _flatten(body: Any, prefix: str) -> Iterator[tuple[str, float, str, str]]:
    if not isinstance(body, Mapping):
        return
    for key, value in body.items():
        name = f"{prefix}{key}"
        if _is_figure_dict(value):
            unit, better = infer_unit(str(key))
            yield name, float(value["value"]), str(value.get("unit", unit)), str(value.get("better", better))
        elif isinstance(value, Mapping):
            yield from _flatten(value, name + ".")
        else:
            num = _number(value)
            if num is not None:
                unit, better = infer_unit(str(key))
                yield name, num, unit, better


def _texts(body: Any, prefix: str) -> Iterator[tuple[str, str]]:
    if not isinstance(body, Mapping):
        return
    for key, value in body.items():
        name = f"{prefix}{key}"
        if _is_figure_dict(value):
            continue
        if isinstance(value, Mapping):
            yield from _texts(value, name + ".")
        elif isinstance(value, str) or (isinstance(value, list | tuple) and value and
                                        all(isinstance(v, str) for v in value)):
            yield name, value if isinstance(value, str) else ", ".join(value)


def call_stage(fn: Callable[..., Any], *args: Any, quick: bool) -> Any:
    """Call a stage's `run`, passing `quick` only if it accepts it."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}  # type: ignore[assignment]
    if "quick" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return fn(*args, quick=quick)
    return fn(*args)


def import_stage(module: str, attr: str | None = None) -> Any:
    """Import `module` (and `attr` of it); a missing module or attribute becomes `Skip`."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise Skip(f"`{module}` is not available yet") from None
        raise
    if attr is None:
        return mod
    if not hasattr(mod, attr):
        raise Skip(f"`{module}` has no `{attr}` yet")
    return getattr(mod, attr)


# ---- measuring helpers -------------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]."""
    if not values:
        raise ValueError("no values")
    xs = sorted(values)
    if len(xs) == 1:
        return xs[0]
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def evaluate_all(evaluate: Callable[..., Any], env: Any, requests: Sequence[Any]) -> list[Any]:
    return [evaluate(env, r) for r in requests]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def peak_memory_mb(fn: Callable[[], Any]) -> tuple[float, Any]:
    """tracemalloc peak (MB) of the Python allocations made by `fn` (Z3's native allocations are not seen)."""
    was = tracemalloc.is_tracing()
    if not was:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        out = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was:
            tracemalloc.stop()
    return (peak - base) / 1e6, out


#: Runs argv[1:] and prints its wall time, exit status and max RSS. A launcher is needed because Linux carries
#: the parent's RSS high-water mark into a child across exec: a child started straight from this (large)
#: process would report this process's memory, not its own.
_LAUNCHER = """
import json, os, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(p.pid, 0)
wall = time.perf_counter() - t0
print(json.dumps({"wall": wall, "status": os.waitstatus_to_exitcode(status), "maxrss_kb": usage.ru_maxrss}))
"""


def run_child(argv: Sequence[str], *, cwd: Path | None = None,
              timeout: float = 120.0) -> tuple[float, int, float]:
    """Run a subprocess; (wall seconds, exit status, the child's own max RSS in MB)."""
    try:
        proc = subprocess.run([sys.executable, "-c", _LAUNCHER, *argv], cwd=cwd, capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"`{' '.join(argv)}` took more than {timeout:.0f} s") from None
    if proc.returncode != 0:
        raise RuntimeError(f"launcher failed: {proc.stderr.strip()[-300:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(out["wall"]), int(out["status"]), out["maxrss_kb"] / 1024.0  # kilobytes on Linux


# ---- machine -----------------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    with contextlib.suppress(AttributeError):
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    with contextlib.suppress(OSError):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    for mod in ("z3", "lark"):
        try:
            m = importlib.import_module(mod)
            ver = getattr(m, "__version__", None)
            if mod == "z3":
                ver = m.get_version_string()
            info[mod] = ver
        except Exception:
            info[mod] = None
    try:
        import reasoner

        info["reasoner"] = reasoner.__version__
    except Exception:
        info["reasoner"] = None
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=False)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=False)
        if head.returncode == 0:
            info["commit"] = head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    info["date"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return info


# ---- the run context --------------------------------------------------------------------------------------

@dataclass
class Context:
    quick: bool = False
    tiny: bool = False  # the smoke test's budget: smallest inputs, one repetition
    corpus_dir: Path | None = None
    log: TextIO | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    def say(self, text: str) -> None:
        if self.log is not None:
            self.log.write(text + "\n")
            self.log.flush()

    @property
    def corpus(self) -> Path:
        if self.corpus_dir is None or not self.corpus_dir.is_dir():
            raise Skip(f"policy corpus not found at {self.corpus_dir} (set REASONER_CORPUS or --corpus)")
        if not self.tiny:
            return self.corpus_dir
        if "tiny_corpus" not in self.cache:
            tmp = tempdir()
            self.cache["tiny_corpus_dir"] = tmp  # removed with the context
            self.cache["tiny_corpus"] = tiny_corpus(self.corpus_dir, Path(tmp.name))
        return Path(self.cache["tiny_corpus"])

    def close(self) -> None:
        tmp = self.cache.pop("tiny_corpus_dir", None)
        if tmp is not None:
            tmp.cleanup()


def tiny_corpus(corpus: Path, dest: Path, per_folder: int = 4) -> Path:
    """A copy of the corpus with the first `per_folder` entries of each `index.json` (plus the small
    catalogue), for the smoke test's budget. Same layout, so the stage benchmarks read it like the real
    one."""
    for index in sorted(corpus.glob("*/index.json")):
        folder = index.parent
        try:
            entries = json.loads(index.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if not isinstance(entries, list):
            continue
        kept = [e for e in entries if isinstance(e, dict) and isinstance(e.get("file"), str)
                and (folder / e["file"]).is_file()][:per_folder]
        if not kept:
            continue
        out = dest / folder.name
        out.mkdir(parents=True, exist_ok=True)
        (out / "index.json").write_text(json.dumps(kept, indent=1), encoding="utf-8")
        for e in kept:
            target = out / e["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / e["file"], target)
    if (corpus / "catalog").is_dir():
        shutil.copytree(corpus / "catalog", dest / "catalog", dirs_exist_ok=True)
    return dest


# ---- the report ------------------------------------------------------------------------------------------

@dataclass
class Report:
    sections: list[Section]
    machine: dict[str, Any]
    quick: bool
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "quick": self.quick, "seconds": round(self.seconds, 2),
                "machine": self.machine, "sections": {s.name: s.to_json() for s in self.sections}}

    def flat(self) -> dict[str, float]:
        return flatten_report(self.to_json())


def flatten_report(data: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for sname, sec in data.get("sections", {}).items():
        for fname, fig in sec.get("figures", {}).items():
            num = _number(fig.get("value"))
            if num is not None:
                out[f"{sname}.{fname}"] = num
    return out


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    a = abs(value)
    if value == int(value) and a < 100_000:
        return str(int(value))
    if a >= 100_000:
        return f"{value:,.0f}"
    if a >= 100:
        return f"{value:.0f}"
    if a >= 10:
        return f"{value:.1f}"
    if a >= 0.01:
        return f"{value:.3g}"
    return f"{value:.2e}"


def render_table(report: Report, out: TextIO) -> None:
    m = report.machine
    out.write(f"machine: {m.get('cpu', '?')}, {m.get('cpus_usable', m.get('cpu_count'))} cpus, "
              f"{m.get('memory_gb', '?')} GB, Python {m.get('python')}, z3 {m.get('z3')}, "
              f"commit {m.get('commit', '?')}, {m.get('date')}\n")
    out.write(f"mode: {'quick' if report.quick else 'full'}; total {report.seconds:.1f} s\n")
    for sec in report.sections:
        out.write(f"\n== {sec.name}: {sec.title} ({sec.seconds:.1f} s)\n")
        if sec.status != "ok":
            out.write(f"   {sec.status}: {sec.reason}\n")
        if sec.figures:
            width = max(len(f.name) for f in sec.figures)
            for f in sec.figures:
                line = f"   {f.name.ljust(width)}  {_fmt(f.value):>12} {f.unit:<10}"
                if f.target is not None:
                    line += f"  target {f.target.text}: {'met' if f.target.met(f.value) else 'NOT MET'}"
                if f.note:
                    line += f"  ({f.note})"
                out.write(line.rstrip() + "\n")
        for note in sec.notes:
            out.write(f"   - {note}\n")


def render_markdown(data: Mapping[str, Any]) -> str:
    """The report as Markdown tables (for benchmarks/README.md), from its JSON form."""
    m = data.get("machine", {})
    lines = [f"Machine: {m.get('cpu', '?')}, {m.get('cpus_usable', m.get('cpu_count'))} cpus, "
             f"{m.get('memory_gb', '?')} GB, {m.get('platform', '?')}; Python {m.get('python')}, "
             f"z3 {m.get('z3')}, lark {m.get('lark')}; commit {m.get('commit', '?')}; {m.get('date')}; "
             f"load average at start {m.get('load_average')}. Mode: {'quick' if data.get('quick') else 'full'}, "
             f"{data.get('seconds')} s in total.", ""]
    for name, sec in data.get("sections", {}).items():
        lines.append(f"**{name}**: {sec.get('title', '')} ({sec.get('seconds')} s)")
        lines.append("")
        if sec.get("status") != "ok":
            lines.append(f"{sec.get('status')}: {sec.get('reason', '')}")
            lines.append("")
        figs = sec.get("figures", {})
        if figs:
            lines += ["| figure | value | unit | target |", "|---|---:|---|---|"]
            for fname, fig in figs.items():
                t = fig.get("target")
                target = f"{t['text']}: {'met' if t['met'] else 'NOT MET'}" if t else ""
                note = f" ({fig['note']})" if fig.get("note") else ""
                lines.append(f"| `{fname}` | {_fmt(fig['value'])} | {fig.get('unit', '')} | {target}{note} |")
            lines.append("")
        for note in sec.get("notes", []):
            lines.append(f"- {note}")
        if sec.get("notes"):
            lines.append("")
    return "\n".join(lines)


def render_compare(new: Mapping[str, Any], old: Mapping[str, Any], out: TextIO) -> None:
    """Per-figure ratio new/old, with whether the change is an improvement."""
    nf, of = flatten_report(new), flatten_report(old)
    better: dict[str, str] = {}
    for sname, sec in new.get("sections", {}).items():
        for fname, fig in sec.get("figures", {}).items():
            better[f"{sname}.{fname}"] = fig.get("better", "")
    common = [k for k in nf if k in of]
    out.write(f"\n== compare: new/old ratio per figure ({len(common)} common, "
              f"{len(set(nf) - set(of))} new only, {len(set(of) - set(nf))} old only)\n")
    if not common:
        return
    width = max(len(k) for k in common)
    for k in common:
        o, n = of[k], nf[k]
        ratio = n / o if o else math.inf if n else 1.0
        verdict = ""
        b = better.get(k, "")
        if b and o and n != o and abs(ratio - 1.0) > 0.10:
            improved = (ratio < 1.0) if b == "lower" else (ratio > 1.0)
            verdict = "better" if improved else "WORSE"
        line = f"   {k.ljust(width)}  {_fmt(o):>12} -> {_fmt(n):>12}  x{ratio:.3g}  {verdict}"
        out.write(line.rstrip() + "\n")
    for k in sorted(set(of) - set(nf)):
        out.write(f"   {k.ljust(width)}  {_fmt(of[k]):>12} -> (not measured)\n")


# ---- running ---------------------------------------------------------------------------------------------

SectionFn = Callable[[Context, Section], None]


def _sections() -> list[tuple[str, str, SectionFn]]:
    return SECTIONS


def section_names() -> list[str]:
    return [name for name, _, _ in _sections()]


def run(names: Sequence[str] | None = None, *, quick: bool = False, tiny: bool = False,
        corpus_dir: Path | None = DEFAULT_CORPUS, log: TextIO | None = None) -> Report:
    """Run the chosen sections (all by default) in the fixed order; never raises for a section's failure."""
    ctx = Context(quick=quick or tiny, tiny=tiny, corpus_dir=corpus_dir, log=log)
    chosen = set(names) if names else None
    out: list[Section] = []
    info = machine()  # before the run: its date and load average are those at the start
    t_all = time.perf_counter()
    for name, title, fn in _sections():
        if chosen is not None and name not in chosen:
            continue
        sec = Section(name, title)
        ctx.say(f"[bench] {name}: {title} ...")
        t0 = time.perf_counter()
        try:
            fn(ctx, sec)
        except Skip as exc:
            sec.status, sec.reason = "skipped", str(exc)
        except Exception as exc:
            sec.status, sec.reason = "error", f"{type(exc).__name__}: {exc}"
        sec.seconds = time.perf_counter() - t0
        ctx.say(f"[bench] {name}: {sec.status} in {sec.seconds:.1f} s"
                + (f" ({sec.reason})" if sec.reason else ""))
        out.append(sec)
    ctx.close()
    return Report(out, info, quick or tiny, time.perf_counter() - t_all)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks",
                                description="Measure every stage of reasoner on the corpus and on generated "
                                            "policies, against baselines in the same run.")
    p.add_argument("--quick", action="store_true", help="small inputs and few repetitions (under a minute)")
    p.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # the smoke test's budget
    p.add_argument("--json", metavar="OUT", help="also write the report as JSON to OUT")
    p.add_argument("--markdown", metavar="OUT.md", help="also write the report as Markdown tables to OUT.md")
    p.add_argument("--compare", metavar="OLD.json",
                   help="print new/old ratios against an earlier --json report")
    p.add_argument("--only", nargs="+", metavar="SECTION", help="run only these sections")
    p.add_argument("--corpus", metavar="DIR", default=str(DEFAULT_CORPUS),
                   help="policy corpus (default: ../shared/corpus or $REASONER_CORPUS)")
    p.add_argument("--list", action="store_true", help="list the sections and exit")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    return p


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    names = section_names()
    if args.list:
        for name, title, _ in _sections():
            out.write(f"{name:12} {title}\n")
        return 0
    if args.only:
        unknown = [n for n in args.only if n not in names]
        if unknown:
            err.write(f"error: unknown section(s) {', '.join(unknown)}; choose from {', '.join(names)}\n")
            return 2
    old = None
    if args.compare:
        try:
            old = json.loads(Path(args.compare).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            err.write(f"error: cannot read `{args.compare}`: {exc}\n")
            return 2
    report = run(args.only, quick=args.quick, tiny=args.tiny, corpus_dir=Path(args.corpus),
                 log=None if args.quiet else err)
    render_table(report, out)
    data = report.to_json()
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        out.write(f"\nwrote {path}\n")
    if args.markdown:
        md = Path(args.markdown)
        md.parent.mkdir(parents=True, exist_ok=True)
        md.write_text(render_markdown(data) + "\n", encoding="utf-8")
        out.write(f"wrote {md}\n")
    if old is not None:
        render_compare(data, old, out)
    return 1 if any(s.status == "error" for s in report.sections) else 0


# ---- small shared helpers for sections ---------------------------------------------------------------------

def console_script() -> str | None:
    """Path of the installed `reasoner` console script next to this interpreter, or on PATH."""
    here = Path(sys.executable).parent / "reasoner"
    if here.exists():
        return str(here)
    return shutil.which("reasoner")


def tempdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="reasoner-bench-")


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


# ============================================================================================================
# Sections
# ============================================================================================================

# ---- stages measured by their own helpers ------------------------------------------------------------------

def section_parse(ctx: Context, sec: Section) -> None:
    run_fn = import_stage("benchmarks.bench_parse", "run")
    read_stage_dict(sec, call_stage(run_fn, ctx.corpus, quick=ctx.quick))


def section_decide(ctx: Context, sec: Section) -> None:
    run_fn = import_stage("benchmarks.bench_decide", "run")
    read_stage_dict(sec, call_stage(run_fn, quick=ctx.quick))


def section_check(ctx: Context, sec: Section) -> None:
    run_fn = import_stage("benchmarks.bench_check", "run")
    read_stage_dict(sec, call_stage(run_fn, ctx.corpus, quick=ctx.quick))


# ---- generated environments --------------------------------------------------------------------------------

def _require_stage_callable(module: str, attr: str) -> Callable[..., Any]:
    fn: Callable[..., Any] = import_stage(module, attr)
    return fn


class Stages:
    """The public API the scaling sections go through; each getter raises `Skip` until the stage exists, and
    the returned callables raise `Skip` when the stage is still a `NotImplementedError` stub."""

    @staticmethod
    def parse() -> Callable[..., Any]:
        return _require_stage_callable("reasoner.front.parse", "parse_policy")

    @staticmethod
    def evaluate() -> Callable[..., Any]:
        evaluate = _require_stage_callable("reasoner.semantics.evaluate", "evaluate")
        return _guard(evaluate, "reasoner.semantics.evaluate.evaluate")

    @staticmethod
    def check() -> Callable[..., Any]:
        check = _require_stage_callable("reasoner.analyses.pipeline", "check")
        return _guard(check, "reasoner.analyses.pipeline.check")


def _guard(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except NotImplementedError as exc:
            from reasoner.errors import ReasonerError

            if isinstance(exc, ReasonerError):  # UnsupportedFeatureError is a real answer, not a stub
                raise
            raise Skip(f"`{name}` is not implemented yet") from None

    return call


def parse_generated(text: str, file: str, kind: Any, key_account: str | None = None) -> tuple[Any, str]:
    """Parse + validate generated text through the public API. A generated key policy above the 32 KB limit
    is rejected by validation (as KMS would): it is then parsed and validated as two steps
    (`parse_document`, `validate.validate`, the same work) and kept when the size limit is its only error,
    and the note says so. Any other error is a generator bug and propagates."""
    from reasoner.errors import PolicyValidationError

    parse = Stages.parse()
    kwargs: dict[str, Any] = {"file": file, "kind": kind}
    if key_account is not None and "key_account" in inspect.signature(parse).parameters:
        kwargs["key_account"] = key_account
    if len(text.encode()) <= 32_768:
        return parse(text, **kwargs), ""
    try:
        from reasoner.front.parse import parse_document
        from reasoner.front.validate import validate
    except ImportError:
        return parse(text, **kwargs), ""
    doc, diags = parse_document(text, file=file, kind=kind)
    if doc is not None:
        diags = [*diags, *validate(doc, key_account=key_account)]
    errors = [d for d in diags if d.is_error]
    if doc is None or not errors or not all(_is_size_error(d) for d in errors):
        raise PolicyValidationError(f"generated policy `{file}` was rejected", diags)
    return doc, f"{file}: over the 32 KB key-policy limit, used anyway (the limit is its only error)"


def _is_size_error(diag: Any) -> bool:
    """The size-limit diagnostic of validation (code POL025 `TOO_LARGE`), and nothing else."""
    try:
        from reasoner.front.validate import TOO_LARGE
    except ImportError:
        msg = str(getattr(diag, "message", "")).lower()
        return "bytes" in msg and "limit" in msg
    return bool(getattr(diag, "code", None) == TOO_LARGE)


def build_environment(sc: Any) -> tuple[Any, list[str]]:
    """The `reasoner.Environment` of a generated scenario; every policy goes through the parser."""
    from reasoner.front.ast import PolicyKind
    from reasoner.semantics.environment import Account, Environment, Key, Principal, PrincipalKind, Session

    notes: list[str] = []
    label = sc.spec.label
    kp, note = parse_generated(sc.key_policy, f"{label}/key-policy.json", PolicyKind.KEY_POLICY, sc.owner)
    if note:
        notes.append(note)
    principals = []
    sessions = []
    for i, p in enumerate(sc.principals):
        docs = []
        for j, text in enumerate(p.policies):
            doc, note = parse_generated(text, f"{label}/identity-{i}-{j}.json", PolicyKind.IDENTITY)
            docs.append(doc)
            if note:
                notes.append(note)
        principals.append(Principal(arn=p.arn, kind=PrincipalKind(p.kind), identity_policies=tuple(docs)))
        if p.kind == "role":
            sessions.append(Session(arn=session_arn(p.arn), source=p.arn))
    env = Environment(keys=(Key(arn=sc.key_arn, policy=kp),),
                      accounts=tuple(Account(id=a) for a in sc.accounts),
                      principals=tuple(principals), sessions=tuple(sessions))
    return env, notes


def warm_up(ctx: Context) -> None:
    """Load grammars and catalogues once, so that the figures are per input and not start-up; the cold
    cost is a figure of the cold-start section."""
    if ctx.cache.get("warm"):
        return
    from benchmarks.generate import GenSpec, generate

    sc = generate(GenSpec(statements=2, accounts=2))
    env, _ = build_environment(sc)
    with contextlib.suppress(Skip):
        evaluate = Stages.evaluate()
        for r in generated_requests(sc, limit=4):
            evaluate(env, r)
    with contextlib.suppress(Skip):
        Stages.check()(env, scaling_property(sc))
    ctx.cache["warm"] = True


def session_arn(role_arn: str, name: str = "bench") -> str:
    acct = role_arn.split(":")[4]
    role = role_arn.rsplit("/", 1)[-1]
    return f"arn:aws:sts::{acct}:assumed-role/{role}/{name}"


def generated_requests(sc: Any, limit: int | None = None) -> list[Any]:
    """Concrete requests over the scenario: every caller (root, user, role session) x a few actions x
    two contexts (none; a service call with an encryption context)."""
    from benchmarks.generate import KMS_ACTIONS, REGION
    from reasoner.semantics.request import Request

    callers = []
    for p in sc.principals:
        callers.append(session_arn(p.arn) if p.kind == "role" else p.arn)
    contexts: list[dict[str, tuple[str, ...]]] = [
        {},
        {"kms:ViaService": (f"s3.{REGION}.amazonaws.com",), "kms:EncryptionContext:AppName": ("ExampleApp",)},
    ]
    out = []
    for caller in callers:
        for action in (*KMS_ACTIONS[:6], "kms:ScheduleKeyDeletion"):
            for c in contexts:
                out.append(Request(principal=caller, action=action, resource=sc.key_arn, context=dict(c)))
                if limit is not None and len(out) >= limit:
                    return out
    return out


def warm_property(sc: Any) -> Any:
    """A property used only to get an environment compiled before a warm timing."""
    from reasoner.analyses.properties import CanAccess

    return CanAccess(f"arn:aws:iam::{sc.owner}:root", ("kms:DescribeKey",), (sc.key_arn,))


def scaling_property(sc: Any, action: str = "kms:Decrypt") -> Any:
    """The query of the scaling curves: no principal outside the owner account can `action` on the key."""
    from reasoner.analyses.properties import AccessNotGranted, PrincipalScope

    return AccessNotGranted(PrincipalScope.outside_account(sc.owner), (action,), (sc.key_arn,))


def section_scaling(ctx: Context, sec: Section) -> None:
    from benchmarks.generate import GenSpec, generate, scaling_grid

    Stages.parse()  # Skip the whole section until the parser exists
    warm_up(ctx)
    grid = scaling_grid(quick=ctx.quick)
    if ctx.tiny:
        grid = {"statements": [GenSpec(statements=n) for n in (1, 10)]}
    parts: dict[str, Callable[..., Any] | None] = {"evaluate": None, "check": None}
    reasons: dict[str, str] = {}
    for part, getter in (("evaluate", Stages.evaluate), ("check", Stages.check)):
        try:
            parts[part] = getter()
        except Skip as exc:
            reasons[part] = str(exc)
    for part, reason in reasons.items():
        sec.notes.append(f"{part}: skipped: {reason}")
    check_timeout = 10.0 if ctx.quick else 60.0
    for axis, specs in grid.items():
        for spec in specs:
            value = {"statements": spec.statements, "accounts": spec.accounts, "conditions": spec.conditions,
                     "wildcards": spec.wildcards}[axis]
            tag = f"{axis}={value}"
            sc = generate(spec)
            t, (env, notes) = timed(partial(build_environment, sc))
            sec.notes.extend(n for n in notes if n not in sec.notes)
            sec.add(f"{tag}.parse_ms", t * 1000, "ms", "lower")
            evaluate = parts["evaluate"]
            if evaluate is not None:
                reqs = generated_requests(sc)
                reps = 2 if ctx.quick else 3
                best = math.inf
                try:
                    for _ in range(reps):
                        t, _ = timed(partial(evaluate_all, evaluate, env, reqs))
                        best = min(best, t)
                    sec.add(f"{tag}.decisions_per_s", len(reqs) / best, "/s", "higher")
                except Skip as exc:
                    parts["evaluate"] = None
                    sec.notes.append(f"evaluate: skipped: {exc}")
            check = parts["check"]
            if check is not None:
                prop = scaling_property(sc)
                runs: list[float] = []
                try:
                    for i in range(1 if ctx.quick else 3):  # cold every time: freshly parsed policies
                        cold_env = env if i == 0 else build_environment(sc)[0]
                        t, result = timed(partial(check, cold_env, prop))
                        runs.append(t)
                except Skip as exc:
                    parts["check"] = None
                    sec.notes.append(f"check: skipped: {exc}")
                    continue
                t = median(runs)
                verdict = getattr(getattr(result, "verdict", None), "value", str(result))
                sec.add(f"{tag}.check_ms", t * 1000, "ms", "lower",
                        note=f"{verdict}" + (f", median of {len(runs)} cold runs" if len(runs) > 1 else ""))
                if t > check_timeout and axis == "statements":
                    sec.notes.append(f"{tag}: check took {t:.1f} s; larger sizes of this axis skipped")
                    break


# ---- the plain string-theory baseline ----------------------------------------------------------------------

def section_strings(ctx: Context, sec: Section) -> None:
    from benchmarks import baseline_strings
    from benchmarks.generate import GenSpec, generate, loosen

    Stages.parse()
    try:
        check = Stages.check()
    except Skip as exc:
        check = None
        sec.notes.append(f"ours: skipped: {exc}; baseline times only, no ratio")
    sizes: tuple[int, ...]
    seeds: tuple[int, ...]
    if ctx.tiny:
        sizes, seeds, timeout_s = (1, 10), (0,), 5.0
    elif ctx.quick:
        sizes, seeds, timeout_s = (1, 10), (0, 1), 5.0
    else:
        sizes, seeds, timeout_s = (1, 10, 30, 100), (0, 1, 2), 30.0
    from reasoner.analyses.properties import NoNewAccess

    actions = ("kms:Decrypt",) if ctx.quick else ("kms:Decrypt", "kms:ScheduleKeyDeletion")
    warm_up(ctx)
    agree = disagree = 0
    for n in sizes:
        base_times: list[float] = []
        our_times: list[float] = []
        warm_times: list[float] = []
        timeouts = 0
        for seed in seeds:
            sc = generate(GenSpec(statements=n, seed=seed, families=("string", "arn")))

            def make(kind: str, sc: Any = sc) -> tuple[Any, Any]:
                """The query's environment and property, from freshly parsed policies."""
                env, _ = build_environment(sc)
                if kind != "no-new-access":
                    return env, scaling_property(sc, kind)
                changed, _ = build_environment(loosen(sc))
                return changed, NoNewAccess(env, ("kms:*",), (sc.key_arn,))

            for action in (*actions, "no-new-access"):
                qenv, prop = make(action)
                res = baseline_strings.check(qenv, prop, timeout_s=timeout_s)
                base_times.append(res.seconds)
                if res.verdict == "NOT_EXPRESSIBLE":
                    raise RuntimeError(f"generated policy not expressible in the baseline: {res.reason}")
                if res.verdict == "UNKNOWN":
                    timeouts += 1
                if check is not None:
                    try:
                        # cold, like the baseline: freshly parsed policies, compiled from scratch
                        cold_env, cold_prop = make(action)
                        t, ours = timed(partial(check, cold_env, cold_prop))
                        # warm: the environment already compiled (by another property), as `reasoner check`
                        # does for the second and later assertions of a file
                        check(qenv, warm_property(sc))
                        t_warm, _ = timed(partial(check, qenv, prop))
                    except Skip as exc:
                        check = None
                        sec.notes.append(f"ours: skipped: {exc}; baseline times only, no ratio")
                        continue
                    our_times.append(t)
                    warm_times.append(t_warm)
                    ours_v = getattr(getattr(ours, "verdict", None), "value", "")
                    if res.verdict in ("PROVED", "REFUTED") and ours_v in ("PROVED", "REFUTED"):
                        same = res.verdict == ours_v
                        if same:
                            agree += 1
                        else:
                            disagree += 1
                            sec.notes.append(f"DISAGREE statements={n} seed={seed} {action}: ours {ours_v}, "
                                             f"strings {res.verdict}")
        b = median(base_times)
        note = f"{timeouts} of {len(base_times)} timed out at {timeout_s:.0f} s" if timeouts else ""
        sec.add(f"strings_ms_at_{n}", b * 1000, "ms", "lower", note=f"median of {len(base_times)}")
        sec.add(f"strings_max_ms_at_{n}", max(base_times) * 1000, "ms", "lower", note=note)
        if our_times and check is not None:
            o = median(our_times)
            sec.add(f"ours_ms_at_{n}", o * 1000, "ms", "lower", note=f"median of {len(our_times)}")
            sec.add(f"ours_max_ms_at_{n}", max(our_times) * 1000, "ms", "lower")
            w = median(warm_times)
            sec.add(f"ours_warm_ms_at_{n}", w * 1000, "ms", "lower", note="environment already compiled")
            sec.add(f"speedup_at_{n}", b / o if o > 0 else math.inf, "x", "higher",
                    note="ratio of medians, both cold")
            sec.add(f"speedup_warm_at_{n}", b / w if w > 0 else math.inf, "x", "higher",
                    note="baseline cold vs ours on a compiled environment")
            total = sum(our_times)
            ratio = sum(base_times) / total if total > 0 else math.inf
            sec.add(f"speedup_total_at_{n}", ratio, "x", "higher",
                    note="total time ratio" + ("; lower bound: baseline timed out" if timeouts else ""))
    if check is not None:
        sec.add("verdicts_agree", agree, "queries")
        sec.add("verdicts_disagree", disagree, "queries", "lower")


# ---- external baselines ------------------------------------------------------------------------------------

def section_reach(ctx: Context, sec: Section) -> None:
    from benchmarks import baselines

    baselines.run_reach(ctx, sec)


def section_iam_simulate(ctx: Context, sec: Section) -> None:
    from benchmarks import baselines

    baselines.run_iam_simulate(ctx, sec)


# ---- findings ----------------------------------------------------------------------------------------------

def corpus_key_policies(corpus: Path, limit: int | None = None) -> list[tuple[str, str]]:
    """(path, text) of the corpus's key policies: `wild/` entries of kind key-policy and `kms-docs/` policies
    with a Principal element."""
    out: list[tuple[str, str]] = []
    wild = corpus / "wild" / "index.json"
    if wild.is_file():
        for e in json.loads(wild.read_text(encoding="utf-8")):
            if e.get("kind") == "key-policy" and isinstance(e.get("file"), str):
                p = corpus / "wild" / e["file"]
                if p.is_file():
                    out.append((str(p), p.read_text(encoding="utf-8")))
    docs = corpus / "kms-docs" / "index.json"
    if docs.is_file():
        for e in json.loads(docs.read_text(encoding="utf-8")):
            if e.get("kind") != "policy" or not isinstance(e.get("file"), str):
                continue
            p = corpus / "kms-docs" / e["file"]
            if p.is_file():
                text = p.read_text(encoding="utf-8")
                if '"Principal"' in text:
                    out.append((str(p), text))
    return out[:limit] if limit is not None else out


def corpus_key_documents(corpus: Path, limit: int | None = None) -> tuple[list[tuple[str, Any]], int]:
    """(name, parsed key policy) of the corpus key policies, and how many could not be used. The same set as
    the `check` section when `benchmarks/bench_check.py` provides its loader (templated placeholders
    filled in), else the policies of `corpus_key_policies` that parse and validate as they are."""
    shared_loader: Callable[[Path], tuple[list[tuple[str, Any]], int]] | None
    try:
        from benchmarks.bench_check import corpus_key_policies as shared_loader
    except ImportError:
        shared_loader = None
    if shared_loader is not None:
        docs, skipped = shared_loader(corpus)
        return (docs[:limit] if limit is not None else docs), skipped
    from reasoner.errors import ReasonerError
    from reasoner.front.ast import PolicyKind

    parse = Stages.parse()
    out: list[tuple[str, Any]] = []
    rejected = 0
    for path, text in corpus_key_policies(corpus):
        try:
            out.append((path, parse(text, file=path, kind=PolicyKind.KEY_POLICY)))
        except ReasonerError:
            rejected += 1
    return (out[:limit] if limit is not None else out), rejected


def corpus_key_environments(corpus: Path, limit: int | None = None) -> tuple[list[tuple[str, Any]], int]:
    """One single-key environment per usable corpus key policy (key owner 111122223333); (envs, unusable)."""
    from reasoner.semantics.environment import Account, Environment, Key

    docs, skipped = corpus_key_documents(corpus, limit)
    envs = []
    for i, (name, doc) in enumerate(docs):
        arn = f"arn:aws:kms:us-east-1:111122223333:key/bench-{i:04d}"
        env = Environment(keys=(Key(arn=arn, policy=doc),), accounts=(Account(id="111122223333"),))
        envs.append((name, env))
    return envs, skipped


def section_findings(ctx: Context, sec: Section) -> None:
    try:
        mod = importlib.import_module("reasoner.analyses.findings")
    except ModuleNotFoundError:
        raise Skip("findings not available (`reasoner.analyses.findings` does not exist yet)") from None
    fn = getattr(mod, "findings", None)
    if fn is None or not callable(fn):
        raise Skip("findings not available (`reasoner.analyses.findings` has no `findings(environment)` function yet)")
    fn = _guard(fn, "reasoner.analyses.findings.findings")
    docs, skipped = corpus_key_documents(ctx.corpus, 5 if ctx.tiny else 20 if ctx.quick else None)
    if not docs:
        raise Skip("no corpus key policy parses")
    wrap = getattr(mod, "key_policy_environment", None)  # the key's owner guessed from its policy
    times: list[float] = []
    found = complete = public = 0
    for i, (_, doc) in enumerate(docs):
        if wrap is not None:
            env = wrap(doc)
        else:
            from reasoner.semantics.environment import Environment, Key

            env = Environment(keys=(Key(arn=f"arn:aws:kms:us-east-1:111122223333:key/bench-{i:04d}",
                                        policy=doc),))
        t, result = timed(partial(fn, env))
        times.append(t)
        for kf in getattr(result, "keys", ()):
            found += len(getattr(kf, "findings", ()))
            complete += getattr(getattr(kf, "complete", None), "value", "") == "PROVED"
            public += bool(getattr(kf, "public", False))
    sec.add("keys", len(docs), "keys")
    sec.add("policies_skipped", skipped, "policies")
    sec.add("findings", found, "findings")
    sec.add("keys_proved_complete", complete, "keys")
    sec.add("keys_public", public, "keys")
    sec.add("per_key_p50_ms", percentile(times, 50) * 1000, "ms", "lower")
    sec.add("per_key_p90_ms", percentile(times, 90) * 1000, "ms", "lower")
    sec.add("per_key_p99_ms", percentile(times, 99) * 1000, "ms", "lower")
    sec.add("per_key_max_ms", max(times) * 1000, "ms", "lower")
    name = "corpus_total_s" if not ctx.quick else "sample_total_s"
    sec.add(name, sum(times), "s", "lower", note="" if not ctx.quick else f"first {len(docs)} key policies")


def section_services(ctx: Context, sec: Section) -> None:
    """Check and findings latency per service on environments of every resource type (benchmarks/bench_services.py):
    the corpus resource policies of each type, and generated ones where the corpus has few (all of them generated
    when the corpus is absent)."""
    run_fn = import_stage("benchmarks.bench_services", "run")
    try:
        corpus: Path | None = ctx.corpus
    except Skip as exc:
        corpus = None
        sec.notes.append(f"{exc}: generated environments only")
    read_stage_dict(sec, run_fn(corpus, quick=ctx.quick, limit=1 if ctx.tiny else None))


# ---- eventually (issue 18) ----------------------------------------------------------------------------------

def section_eventually(ctx: Context, sec: Section) -> None:
    run_fn = import_stage("benchmarks.bench_eventually", "run")
    read_stage_dict(sec, run_fn(quick=ctx.quick, tiny=ctx.tiny))


# ---- cold start and memory ---------------------------------------------------------------------------------

def section_cold_start(ctx: Context, sec: Section) -> None:
    script = console_script()
    if script is None:
        raise Skip("the `reasoner` console script is not installed (pip install -e .)")
    runs = 2 if ctx.tiny else 3 if ctx.quick else 7
    walls: list[float] = []
    rss: list[float] = []
    for _ in range(runs):
        wall, status, mb = run_child([script, "--version"])
        if status != 0:
            raise RuntimeError(f"`reasoner --version` exited {status}")
        walls.append(wall)
        rss.append(mb)
    sec.add("version_median_ms", median(walls) * 1000, "ms", "lower")
    sec.add("version_max_rss_mb", max(rss), "MB", "lower")
    # `python -c pass` as the floor the interpreter itself costs
    floor = [run_child([sys.executable, "-c", "pass"])[0] for _ in range(runs)]
    sec.add("python_floor_ms", median(floor) * 1000, "ms", "lower")
    props = _example_props()
    if not _cli_has_command("check"):
        sec.notes.append("check: skipped: `reasoner check` does not exist yet")
        return
    if props is None:
        sec.notes.append("check: skipped: no example property file under examples/")
        return
    walls, rss = [], []
    statuses: set[int] = set()
    for _ in range(runs):
        wall, status, mb = run_child([script, "check", str(props)], cwd=ROOT)
        statuses.add(status)
        walls.append(wall)
        rss.append(mb)
    if statuses - {0, 1, 3}:  # 2 input error, 4 internal error: no meaningful time to report
        sec.notes.append(f"check: skipped: `reasoner check {props.relative_to(ROOT)}` exited "
                         f"{', '.join(map(str, sorted(statuses)))}")
        return
    sec.add("check_median_ms", median(walls) * 1000, "ms", "lower", note=str(props.relative_to(ROOT)))
    sec.add("check_max_rss_mb", max(rss), "MB", "lower")


def _cli_has_command(name: str) -> bool:
    try:
        from reasoner.face.cli import build_parser
    except ImportError:
        return False
    return any(isinstance(action, argparse._SubParsersAction) and name in action.choices
               for action in build_parser()._actions)


def _example_props() -> Path | None:
    """A small property file of examples/ that holds assertions (the seed scenario's first)."""
    examples = ROOT / "examples"
    if not examples.is_dir():
        return None
    found = [p for ext in ("*.access", "*.props") for p in examples.rglob(ext)]
    found = [p for p in found if "assert" in p.read_text(encoding="utf-8", errors="replace")]
    found.sort(key=lambda p: (p.parent.name != "seed", "failing" in p.parts, p.stat().st_size, str(p)))
    return found[0] if found else None


def section_memory(ctx: Context, sec: Section) -> None:
    from benchmarks.generate import GenSpec, generate

    Stages.parse()
    n = 10 if ctx.tiny else 100 if ctx.quick else 1000
    sc = generate(GenSpec(statements=n))
    mb, (env, _) = peak_memory_mb(lambda: build_environment(sc))
    sec.add(f"parse_{n}_statements_peak_mb", mb, "MB", "lower")
    try:
        check = Stages.check()
    except Skip as exc:
        sec.notes.append(f"check: skipped: {exc}")
    else:
        prop = scaling_property(sc)
        mb, _ = peak_memory_mb(lambda: check(env, prop))
        sec.add(f"check_{n}_statements_peak_mb", mb, "MB", "lower",
                note="Python heap only (tracemalloc); Z3's native memory is in the child figure")
    # the whole process, Z3's native memory included: a child that parses and checks, and one that only
    # imports the package (the floor)
    script = ("import sys; from benchmarks import runner; from benchmarks.generate import GenSpec, generate; "
              f"sc = generate(GenSpec(statements={n})); env, _ = runner.build_environment(sc); "
              "runner.Stages.check()(env, runner.scaling_property(sc))")
    floor = "import reasoner.analyses.pipeline, reasoner.front.parse, reasoner.semantics.evaluate"
    for name, code in ((f"check_{n}_statements_child_max_rss_mb", script), ("import_child_max_rss_mb", floor)):
        _, status, mb = run_child([sys.executable, "-c", code], cwd=ROOT, timeout=600)
        if status == 0:
            sec.add(name, mb, "MB", "lower", note="subprocess ru_maxrss, Z3 included")
        else:
            sec.notes.append(f"{name}: the child exited {status}")
    sec.add("process_max_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "MB", "lower",
            note="this benchmark process so far")


def section_hostile(ctx: Context, sec: Section) -> None:
    """The hostile inputs of issue 11 (benchmarks/hostile.py), each run as the console script in a child:
    wall time beyond its limit, peak RSS, and whether the exit status is the documented one."""
    import tempfile

    from benchmarks import hostile

    script = console_script()
    if script is None:
        raise Skip("the `reasoner` console script is not installed (pip install -e .)")
    with tempfile.TemporaryDirectory() as tmp:
        runs = hostile.build(Path(tmp))
        if ctx.tiny:
            runs = runs[:3]
        for name, argv, limit, allowed in runs:
            wall, status, mb = run_child([script, *argv], cwd=Path(tmp), timeout=limit + 120)
            sec.add(f"{name}.over_limit_s", max(0.0, wall - limit), "s", "lower",
                    note=f"wall {wall:.2f} s, limit {limit:g} s, exit {status}")
            sec.add(f"{name}.max_rss_mb", mb, "MB", "lower")
            sec.add(f"{name}.exit_ok", 1.0 if status in allowed else 0.0, "", "higher",
                    note=f"exit {status}, allowed {sorted(allowed)}")


def section_scan(ctx: Context, sec: Section) -> None:
    run_fn = import_stage("benchmarks.bench_scan", "run")
    ctx.corpus  # noqa: B018 - Skip when there is no corpus (the generator draws from the whole one, also when tiny)
    read_stage_dict(sec, run_fn(ctx.corpus_dir, quick=ctx.quick, tiny=ctx.tiny))


SECTIONS: list[tuple[str, str, SectionFn]] = [
    ("parse", "parse + validate throughput over the corpus", section_parse),
    ("decide", "concrete decisions per second", section_decide),
    ("check", "property-check latency over the corpus key policies", section_check),
    ("scaling", "generated policies: statements, accounts, conditions, wildcards", section_scaling),
    ("strings", "baseline: plain Z3 string-theory encoding of the same queries", section_strings),
    ("reach", "baseline: reach-security (PyPI) on one concrete principal", section_reach),
    ("iam-simulate", "baseline: @cloud-copilot/iam-simulate (npm) concrete decisions", section_iam_simulate),
    ("findings", "findings per key and for the whole key-policy corpus", section_findings),
    ("services", "check and findings latency per service, every resource type", section_services),
    ("eventually", "the fixpoint of eventually claims: the organisation example, 50 roles / 20 keys / 10 accounts",
     section_eventually),
    ("cold-start", "console script start-up (subprocess, median)", section_cold_start),
    ("memory", "peak memory", section_memory),
    ("hostile", "hostile inputs of a stranger's pull request: time over the limit, memory, exit", section_hostile),
    ("scan", "reasoner scan of a generated organisation: pool, cache rerun, Dask, memory", section_scan),
]
