"""Limits of an analysis: wall-clock deadline, solver work, automaton and search sizes, process memory.

Input: the limits a command or API call was given (`timeout` seconds, Z3 `rlimit`, a memory cap in MiB).
Output: `Budget` (entered with `with limits.budget(...)`), `tick(where)`, which every loop that can run long
calls (automaton products, witness and conflict searches, term building, findings generalisation), the
pattern size budgets, and `OutOfBudget`, the one exception an analysis turns into UNKNOWN with its reason.
Guarantee: inside an active budget no analysis runs past its deadline by more than one loop step (every
step is bounded by the size budgets below), every solver call gets the remaining time *and* the resource
limit, and running out of memory under the cap is an `OutOfMemory` (UNKNOWN), not a crash. Size budgets
count states, never seconds, so the verdicts they give are the same on every machine under any load.

Wording (one for each reason, used by every analysis): `timeout after 5 s`, `resource limit 50000000
reached`, `pattern too complex: 20000 states, budget 4096`, `memory limit of 3072 MiB reached`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from reasoner.errors import ReasonerError, Severity, register_code
from reasoner.source import Span

TIMEOUT = register_code("LIMIT001", Severity.ERROR, "time limit reached")
TOO_COMPLEX = register_code("LIMIT002", Severity.ERROR, "pattern or search too complex")
OUT_OF_MEMORY = register_code("LIMIT003", Severity.ERROR, "memory limit reached")

#: Wall-clock seconds of one property check (`--timeout`, `within N seconds`).
DEFAULT_TIMEOUT_S = 10.0
#: Wall-clock seconds of one findings, diff or lint run over every key (`--timeout` of those commands).
DEFAULT_RUN_TIMEOUT_S = 60.0
#: Z3 resource limit of one solver call: a count of solver steps, the same on every machine.
DEFAULT_RLIMIT = 50_000_000
#: Cap on the process's address space for the command line (`--memory-limit`, MiB; 0: no cap).
DEFAULT_MEMORY_MB = 3072
#: Positions of one pattern automaton (about its length) and the `*` wildcards in it. The largest patterns
#: of the 4,000 real policies of the shared corpus have 3 wildcards and 200 characters; every automaton
#: product, witness search and concrete match is polynomial in these numbers.
MAX_PATTERN_STATES = 4096
MAX_PATTERN_WILDCARDS = 64


class OutOfBudget(ReasonerError):
    """A limit was reached; the analysis answers UNKNOWN with `message` as the reason (and `span`, the place
    of the input that made the analysis too big, when there is one)."""

    code = TIMEOUT


class Timeout(OutOfBudget):
    code = TIMEOUT


class TooComplex(OutOfBudget):
    code = TOO_COMPLEX


class OutOfMemory(OutOfBudget):
    code = OUT_OF_MEMORY


def timeout_reason(seconds: float, what: str = "") -> str:
    return f"timeout after {seconds:g} s" + (f" ({what})" if what else "")


def rlimit_reason(rlimit: int) -> str:
    return f"resource limit {rlimit} reached"


def memory_reason(mb: int | None = None) -> str:
    mb = current_memory_cap() if mb is None else mb
    return f"memory limit of {mb} MiB reached" if mb else "out of memory"


def unknown_reason(exc: BaseException) -> str:
    """The reason of an UNKNOWN for an exception that stopped an analysis: a limit, an unsupported
    construct (with its span), or running out of memory."""
    if isinstance(exc, MemoryError):
        return memory_reason()
    if isinstance(exc, ReasonerError):
        where = f" at {exc.span}" if exc.span else ""
        prefix = "" if isinstance(exc, OutOfBudget) else "unsupported: "
        return f"{prefix}{exc.message}{where}"
    raise exc


def too_complex(what: str, size: int, budget: int, unit: str = "states", span: Span | None = None) -> TooComplex:
    return TooComplex(f"{what} too complex: {size} {unit}, budget {budget}", span=span)


@dataclass(frozen=True)
class Budget:
    """The limits of the analysis running now: its wall-clock `deadline` (`time.monotonic()` seconds), the
    `seconds` it was given (for the reason text) and the solver's `rlimit` per call."""

    seconds: float
    deadline: float
    rlimit: int
    what: str = ""  # whose limit it is, when not the analysis's own (`the run's total of 1800 s`)

    def timeout_reason(self) -> str:
        return timeout_reason(self.seconds, self.what)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


_ACTIVE: ContextVar[Budget | None] = ContextVar("reasoner_budget", default=None)


def active() -> Budget | None:
    return _ACTIVE.get()


def seconds_or_default(seconds: float | None, run: bool = False) -> float:
    """`seconds`, or the default read now (so that a test suite can move every default far off at once,
    keeping its verdicts bounded by the resource limit alone)."""
    if seconds is not None:
        return seconds
    return DEFAULT_RUN_TIMEOUT_S if run else DEFAULT_TIMEOUT_S


@contextlib.contextmanager
def budget(
    seconds: float | None = None, rlimit: int | None = None, *, what: str = "", shown: float | None = None
) -> Iterator[Budget]:
    """Run the body under a time limit and a solver resource limit. Nested budgets never extend the outer
    deadline (a per-run total bounds every assertion in it: the reason of a timeout then names the outer
    limit); `None` keeps the outer (or default) value. `shown`: the seconds a timeout names, when the body
    gets only what is left of a larger limit (`what`)."""
    outer = _ACTIVE.get()
    now = time.monotonic()
    if seconds is None:
        seconds = outer.seconds if outer is not None else DEFAULT_TIMEOUT_S
    deadline = now + max(0.0, seconds)
    if outer is not None and outer.deadline < deadline:
        deadline, seconds, what = outer.deadline, outer.seconds, outer.what
    if rlimit is None:
        rlimit = outer.rlimit if outer is not None else DEFAULT_RLIMIT
    b = Budget(seconds if shown is None else shown, deadline, rlimit, what)
    token = _ACTIVE.set(b)
    try:
        yield b
    finally:
        _ACTIVE.reset(token)


def tick() -> None:
    """Raise `Timeout` once the active budget's deadline has passed (cheap: call it in every loop step)."""
    b = _ACTIVE.get()
    if b is not None and time.monotonic() > b.deadline:
        raise Timeout(b.timeout_reason())


def remaining() -> float | None:
    b = _ACTIVE.get()
    return None if b is None else b.remaining()


def check_pattern(states: int, wildcards: int) -> None:
    """Raise `TooComplex` for an automaton over the size budgets (before anything is built from it)."""
    if states > MAX_PATTERN_STATES:
        raise too_complex("pattern", states, MAX_PATTERN_STATES)
    if wildcards > MAX_PATTERN_WILDCARDS:
        raise too_complex("pattern", wildcards, MAX_PATTERN_WILDCARDS, "wildcards")


# ---- memory ----------------------------------------------------------------------------------------------

_MEMORY_CAP: dict[str, int] = {}  # "mb": the cap in force, once `cap_memory` set one


def current_memory_cap() -> int | None:
    return _MEMORY_CAP.get("mb")


def require_headroom() -> None:
    """Raise `MemoryError` when the process already maps as much address space as the cap allows (Linux:
    `/proc/self/status`): no allocation can succeed then, and one that fails inside a library's C code (Z3's)
    may crash the process instead of raising. Nothing when no cap is set or the size cannot be read."""
    cap = current_memory_cap()
    if not cap:
        return
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            size_kb = next((int(line.split()[1]) for line in fh if line.startswith("VmSize:")), None)
    except (OSError, ValueError, IndexError):
        return
    if size_kb is not None and size_kb // 1024 >= cap:
        raise MemoryError(f"the process already maps {size_kb // 1024} MiB, the cap is {cap} MiB")


def cap_memory(mb: int | None) -> int | None:
    """Cap the address space of this process at `mb` MiB (None or 0: set none), so that an allocation past
    the cap raises `MemoryError` in Python instead of growing until the machine kills the process; the
    solver wrapper keeps Z3 below half of it (Z3 then answers unknown). Returns the cap in force. Only lowers
    a cap already set by the environment (ulimit); the command line calls this once at start."""
    if not mb:
        return current_memory_cap()
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX: no cap, documented
        return None
    want = mb * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY and want > hard:
        want = hard
    if soft == resource.RLIM_INFINITY or want < soft:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    _MEMORY_CAP["mb"] = want // (1024 * 1024)
    return _MEMORY_CAP["mb"]
