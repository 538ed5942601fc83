"""The script of the GitHub Action (`action.yml` at the root of the repository): one run of `reasoner` in a
workflow, with what GitHub expects of a CI step.

Input: the environment a composite action's step gets: `INPUT_COMMAND` (check, findings, lint, diff or
validate), `INPUT_PATHS` (the paths, separated by spaces or newlines), `INPUT_ACCEPTED` (an accepted-findings
file), `INPUT_BASELINE`, `INPUT_SARIF_FILE` (default `reasoner.sarif`), `INPUT_FORMATS` (more reports, as
`FMT=FILE`, separated by spaces), `INPUT_ARGS` (more options), `INPUT_FAIL_ON` (`findings`: exit statuses 1 and
3 fail the job, the default; `error`: only 2 and 4 do; `never`), and GitHub's `GITHUB_OUTPUT`,
`GITHUB_STEP_SUMMARY` and `GITHUB_WORKSPACE`.
Output: the SARIF file (always written, also when the input is bad), workflow annotations on stdout (each result
on its policy line), a Markdown summary appended to `GITHUB_STEP_SUMMARY`, the step outputs `exit-code`,
`sarif-file` and `failed` in `GITHUB_OUTPUT`; its own exit status is 0, so the next step (the SARIF upload)
runs; the action's last step fails the job when `failed` is `true`.
Guarantee: `reasoner`'s exit status is passed on unchanged in `exit-code`; an unusable input (an unknown
command, no paths) is reported as a workflow error annotation and `exit-code` 2, never a traceback.
"""

from __future__ import annotations

import io
import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from reasoner.face.cli import main as reasoner_main
from reasoner.face.exit import ExitStatus

__all__ = ["COMMANDS", "main", "run"]

COMMANDS = ("check", "findings", "lint", "diff", "validate")
_TRIAGED = ("check", "findings", "lint")
_MEANING = {
    0: "no finding: every assertion holds / nothing outside the zone of trust / equivalent / clean",
    1: "findings: a refuted assertion, external access, a difference or an issue",
    2: "the input could not be used (see the annotations)",
    3: "nothing found, but something could not be decided (timeout, unsupported construct)",
    4: "internal error in reasoner",
}


def _input(env: Mapping[str, str], name: str, default: str = "") -> str:
    return env.get(f"INPUT_{name.upper().replace('-', '_')}", "").strip() or default


def argv_of(env: Mapping[str, str]) -> tuple[list[str], str]:
    """The command line of `reasoner` for the action's inputs, and the SARIF file."""
    command = _input(env, "command", "check")
    if command not in COMMANDS:
        raise ValueError(f"input `command` must be one of {', '.join(COMMANDS)}, not `{command}`")
    paths = _input(env, "paths").split()
    if not paths:
        raise ValueError("input `paths` names no file or directory")
    sarif_file = _input(env, "sarif-file", "reasoner.sarif")
    argv = [command, *paths, "--format", "github", "--format", f"sarif={sarif_file}"]
    for spec in _input(env, "formats").split():
        argv += ["--format", spec]
    if command in _TRIAGED:
        if _input(env, "accepted"):
            argv += ["--accepted", _input(env, "accepted")]
        if _input(env, "baseline"):
            argv += ["--baseline", _input(env, "baseline")]
    argv += shlex.split(_input(env, "args"))
    return argv, sarif_file


def _summary(command: str, argv: Sequence[str], status: int, annotations: str) -> str:
    counts = {level: sum(line.startswith(f"::{level}") for line in annotations.splitlines())
              for level in ("error", "warning", "notice")}
    closing = [line for line in annotations.splitlines() if line and not line.startswith("::")]
    lines = [f"### reasoner {command}: exit status {status}", "",
             f"{_MEANING.get(status, 'unexpected status')}", "",
             "| errors | warnings | notices |", "|---|---|---|",
             f"| {counts['error']} | {counts['warning']} | {counts['notice']} |", ""]
    if closing:
        lines += ["```", *closing, "```", ""]
    lines += [f"`reasoner {' '.join(shlex.quote(a) for a in argv)}`", ""]
    return "\n".join(lines)


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)


def run(env: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    """One run of the action's step (module docstring); returns `reasoner`'s exit status."""
    try:
        argv, sarif_file = argv_of(env)
    except ValueError as exc:
        stdout.write(f"::error title=reasoner action::{exc}\n")
        _append(env.get("GITHUB_OUTPUT"), "exit-code=2\nsarif-file=\nfailed=true\n")
        return int(ExitStatus.INPUT)
    out = io.StringIO()
    status = reasoner_main(argv, out, stderr)
    stdout.write(out.getvalue())
    fail_on = _input(env, "fail-on", "findings")
    failed = status in (2, 4) or (fail_on == "findings" and status in (1, 3))
    if fail_on == "never":
        failed = False
    _append(env.get("GITHUB_OUTPUT"),
            f"exit-code={status}\nsarif-file={sarif_file if Path(sarif_file).exists() else ''}\n"
            f"failed={'true' if failed else 'false'}\n")
    _append(env.get("GITHUB_STEP_SUMMARY"), _summary(argv[0], argv, status, out.getvalue()))
    return status


def main() -> int:
    """`python -m reasoner.face.action`: the step exits 0 whatever `reasoner` found (the action's last step
    fails the job), except when it could not write its outputs."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace:
        os.chdir(workspace)
    run(os.environ, sys.stdout, sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
