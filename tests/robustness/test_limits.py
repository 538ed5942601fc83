"""Every analysis is bounded: pattern size budgets, deadlines inside every loop, the run's total, memory.

Issue 11 (safe on a pull request from a stranger). The hostile inputs are rebuilt here: a 20 KB key policy
whose one condition value holds 10,000 wildcards (inside AWS's 32 KB limit) made `findings --timeout 5` run
65 s and die with MemoryError. Limits are asserted by counts, never by wall clock: the size budgets count
automaton states, and the deadline is tested with a clock that advances one second per reading, so "the
analysis stopped at the first deadline check after its limit" is the same on any machine under any load.
Wall time and peak memory against the limits are measured in `benchmarks/` (section `hostile`).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import hostile
from reasoner import limits
from reasoner.analyses import diff as diff_mod
from reasoner.analyses import findings as findings_mod
from reasoner.analyses import hygiene as hygiene_mod
from reasoner.analyses.pipeline import check
from reasoner.analyses.properties import AccessNotGranted, PrincipalScope
from reasoner.analyses.result import Verdict
from reasoner.face.cli import EXIT_UNKNOWN, main
from reasoner.front.manifest import load_environment
from reasoner.symbolic import strings

KEY = hostile.KEY


_policy = hostile.key_policy  # the hostile inputs of the benchmarks' `hostile` section, built the same way


def _env_dir(tmp_path: Path, policy: dict) -> Path:
    return hostile.environment(tmp_path, policy)


def cli(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], out, err)
    return status, out.getvalue(), err.getvalue()


HOSTILE = {
    # 10,000 wildcards in one 20 KB value: over the state budget
    "10000 wildcards": ["a*" * 10_000],
    # `*?` pairs and a run of stars, 15 KB
    "stars and marks": ["*?" * 5_000 + "*" * 5_000],
    # 1,000 wildcards in 2,000 characters: under the state budget, over the wildcard budget
    "1000 wildcards": ["x*" * 1_000],
}


@pytest.mark.parametrize("values", list(HOSTILE.values()), ids=list(HOSTILE))
@pytest.mark.parametrize("command", ["findings", "lint", "check", "diff"])
def test_hostile_pattern_is_unknown_with_its_place(tmp_path: Path, values: list[str], command: str) -> None:
    d = _env_dir(tmp_path, _policy(values))
    if command == "check":
        status, out, err = cli("check", d / "p.access")
    elif command == "diff":
        status, out, err = cli("diff", d / "env.yaml", d / "env.yaml")
    else:
        status, out, err = cli(command, d / "env.yaml")
    text = out + err
    assert status == EXIT_UNKNOWN, text
    assert "Traceback" not in text and "INTERNAL" not in text, text
    assert "pattern too complex: " in text, text
    # the place is the condition (or its statement) in the key policy: file:line:col
    assert f"{d / 'key.json'}:1:" in text or "key.json:1:" in text, text


def test_pattern_budgets_are_counts() -> None:
    with pytest.raises(limits.TooComplex, match=r"pattern too complex: 20000 states, budget 4096"):
        strings.glob("a*" * 10_000)
    with pytest.raises(limits.TooComplex, match=r"pattern too complex: 65 wildcards, budget 64"):
        strings.glob("a*" * 65)
    assert strings.glob("a*" * 64).accepts("a" * 64)


def test_star_heavy_patterns_match_without_backtracking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python's backtracking regex is polynomial of the degree of the star count: for three or more stars
    the automaton is simulated instead (one step per character of the text)."""
    nfa = strings.glob("a*" * 64)
    calls = {"step": 0}
    real = strings.step

    def counting(*args: object) -> frozenset[int]:
        calls["step"] += 1
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(strings, "step", counting)
    text = "a" * 63 + "b" * 500
    assert not nfa.accepts(text)
    assert 0 < calls["step"] <= len(text)
    calls["step"] = 0
    assert strings.glob("a*b").accepts("aXXb") and calls["step"] == 0  # few stars: the regex


class _Clock:
    """`time.monotonic` for `limits`: one second more at every reading after `free` free readings."""

    def __init__(self, free: int) -> None:
        self.now = 1_000.0
        self.free = free
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        if self.reads > self.free:
            self.now += 1.0
        return self.now


def _w64_env(tmp_path: Path) -> Path:
    """40 statements with 64-wildcard values: inside every size budget, a lot of search work."""
    values = ["*a?" * 21 + str(i) for i in range(40)]
    return _env_dir(tmp_path, _policy(values)) / "env.yaml"


@pytest.mark.parametrize("free", [0, 3, 30, 60])  # a whole check reads the clock ~200 times
def test_deadline_is_checked_inside_every_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free: int) -> None:
    """Whatever stage the deadline passes in (compiling, building terms, searching witnesses, refining,
    generalising findings), the analysis stops at its next deadline check with the one wording of a timeout."""
    env = load_environment(_w64_env(tmp_path))
    clock = _Clock(free)
    monkeypatch.setattr(limits.time, "monotonic", clock)
    prop = AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",))
    r = check(env, prop, timeout=5)
    assert r.verdict is Verdict.UNKNOWN and r.reason == "timeout after 5 s", r.reason
    # the clock gained one second a reading after the free ones: the check stopped within a few readings of
    # its deadline (one per loop step), not after the work it had left
    assert clock.reads - free <= 8, clock.reads
    f = findings_mod.findings(env, timeout=5)
    assert f.keys and all(k.complete is Verdict.UNKNOWN and "timeout after 5 s" in (k.reason or "") for k in f.keys)
    h = hygiene_mod.hygiene(env, timeout=5)
    assert h.undecided and all("timeout after 5 s" in i.message for i in h.undecided)
    d = diff_mod.diff(env, env, timeout=5)
    assert d.verdict is Verdict.UNKNOWN and "timeout after 5 s" in (d.reason or "")


def test_an_interrupted_compilation_is_never_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deadline that stops the encoder half-way leaves a half-built environment: the next check compiles
    anew and gets the same verdict as a check that was never interrupted."""
    env_path = _env_dir(tmp_path, _policy(["*a?b*" + str(i) for i in range(5)])) / "env.yaml"  # small: quick
    env = load_environment(env_path)
    prop = AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",))
    with monkeypatch.context() as m:
        m.setattr(limits.time, "monotonic", _Clock(3))
        assert check(env, prop, timeout=5).verdict is Verdict.UNKNOWN
    again = check(env, prop, timeout=600, rlimit=50_000_000)
    fresh = check(load_environment(env_path), prop, timeout=600, rlimit=50_000_000)
    assert again.verdict is fresh.verdict is Verdict.REFUTED


def test_the_runs_total_bounds_every_assertion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--total-timeout` caps the run, whatever `within N seconds` the (untrusted) property file asks for."""
    d = _env_dir(tmp_path, _policy(["*a?" * 21 + str(i) for i in range(40)]))
    (d / "p.access").write_text(
        'environment "env.yaml"\n'
        'assert "one" within 100000 seconds:\n'
        "    no principal outside account 111122223333 can kms:Decrypt on all keys\n"
        'assert "two" within 100000 seconds:\n'
        "    no principal outside account 111122223333 can kms:Encrypt on all keys\n"
    )
    monkeypatch.setattr(limits.time, "monotonic", _Clock(0))
    status, out, err = cli("check", d / "p.access", "--total-timeout", "7", "--format", "json")
    assert status == EXIT_UNKNOWN, out + err
    reasons = [a["reason"] for a in json.loads(out)["results"]]
    assert reasons == ["timeout after 7 s (the run's total)"] * 2, reasons


def test_running_out_of_memory_is_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `MemoryError` (the address-space cap reached) anywhere in an analysis is UNKNOWN with the memory
    reason, never a crash or exit 4."""
    env = load_environment(_env_dir(tmp_path, _policy(["a*b"])) / "env.yaml")
    from reasoner.symbolic import encode

    def exhausted(*args: object, **kwargs: object) -> object:
        raise MemoryError

    monkeypatch.setattr(encode.Encoder, "encode_statement", exhausted)
    prop = AccessNotGranted(PrincipalScope.outside_account("111122223333"), ("kms:Decrypt",))
    r = check(env, prop)
    assert r.verdict is Verdict.UNKNOWN and r.reason is not None and "memory" in r.reason
    f = findings_mod.findings(env)
    assert f.keys and all(k.complete is Verdict.UNKNOWN and "memory" in (k.reason or "") for k in f.keys)
    status, out, err = cli("findings", tmp_path / "env.yaml")
    assert status == EXIT_UNKNOWN and "memory" in out + err


def _run(*argv: str, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run([sys.executable, "-m", "reasoner", *argv], capture_output=True, text=True, env=env,
                          timeout=120, check=False, **kw)  # type: ignore[call-overload]


def test_memory_cap_of_the_process(tmp_path: Path) -> None:
    """`--memory-limit` caps the process: below what the run needs, the answer is one located line with
    LIMIT003 and exit 3, never a traceback, exit 4 or a killed process."""
    d = _env_dir(tmp_path, _policy(["a*b"]))
    r = _run("findings", str(d / "env.yaml"), "--memory-limit", "40")
    assert r.returncode == EXIT_UNKNOWN, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "LIMIT003 memory limit of 40 MiB reached" in r.stderr + r.stdout
    ok = _run("findings", str(d / "env.yaml"), "--memory-limit", "2048")
    assert ok.returncode in (0, 1), ok.stderr


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`reasoner decide ... | head -1`: the reader goes away; no BrokenPipeError, no internal error."""
    d = _env_dir(tmp_path, _policy(["a*b"]))
    argv = [sys.executable, "-m", "reasoner", "decide", str(d / "env.yaml"), "--principal",
            "arn:aws:iam::111122223333:root", "--action", "kms:Decrypt", "--resource", KEY]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # `head` exits before the report is written
    err = proc.stderr.read()
    status = proc.wait(timeout=120)
    assert status in (0, 1), (status, err)
    assert "BrokenPipe" not in err and "INTERNAL" not in err and "Traceback" not in err, err
