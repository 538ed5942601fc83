"""Start-up of the command line, two checkouts side by side (issue 17): `python -m benchmarks.startup BASE NEW`.

Input: two checkout directories, each with its own virtual environment in `.venv` (`pip install -e .`), and the
number of rounds (`--rounds`, default 15).
Output: a Markdown table on stdout: per command, the median wall time and the median CPU time (user + system of
the child) of each side and their ratio, and the exit statuses; the load average before and after on stderr.
Guarantee: both sides run the same commands in the same rounds, alternating which goes first, so that the load
of a shared machine falls on both alike; CPU time is less sensitive to that load than wall time. Each command
runs in its checkout's directory (the bundled examples). Compile the checkouts' bytecode first
(`python -m compileall -q reasoner`) when PYTHONDONTWRITEBYTECODE is set, or every run compiles every module.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: The commands measured: a label and the console script's arguments (None: `python -c pass`, the floor).
COMMANDS: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("python -c pass", None),
    ("--version", ("--version",)),
    ("--help", ("--help",)),
    ("validate examples/org/keys/app-data.json", ("validate", "examples/org/keys/app-data.json")),
    ("check examples/org/checks/control.access", ("check", "examples/org/checks/control.access")),
    ("check examples/org/checks", ("check", "examples/org/checks")),
    ("check examples/seed.access", ("check", "examples/seed.access")),
    ("findings examples/org/environment.yaml", ("findings", "examples/org/environment.yaml")),
)


def run_once(checkout: Path, argv: tuple[str, ...] | None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and exit status of one run."""
    bin_dir = checkout / ".venv" / "bin"
    cmd = [str(bin_dir / "python"), "-c", "pass"] if argv is None else [str(bin_dir / "reasoner"), *argv]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    status = subprocess.run(cmd, check=False, cwd=checkout, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    sides = {"base": args.base.resolve(), "new": args.new.resolve()}
    walls: dict[tuple[str, str], list[float]] = {}
    cpus: dict[tuple[str, str], list[float]] = {}
    statuses: dict[tuple[str, str], set[int]] = {}
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    for i in range(args.rounds):
        for label, command in COMMANDS:
            order = list(sides.items()) if i % 2 == 0 else list(sides.items())[::-1]
            for side, checkout in order:
                wall, cpu, status = run_once(checkout, command)
                walls.setdefault((side, label), []).append(wall)
                cpus.setdefault((side, label), []).append(cpu)
                statuses.setdefault((side, label), set()).add(status)
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    print("| command | base wall ms | new wall ms | new/base | base CPU ms | new CPU ms | new/base | exit |\n"
          "|---|---:|---:|---:|---:|---:|---:|---|")
    for label, _ in COMMANDS:
        bw, nw = (statistics.median(walls[(s, label)]) * 1000 for s in ("base", "new"))
        bc, nc = (statistics.median(cpus[(s, label)]) * 1000 for s in ("base", "new"))
        exits = "/".join(",".join(map(str, sorted(statuses[(s, label)]))) for s in ("base", "new"))
        print(f"| `{label}` | {bw:.0f} | {nw:.0f} | {nw / bw:.2f} | {bc:.0f} | {nc:.0f} | {nc / bc:.2f} | {exits} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
