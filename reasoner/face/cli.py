"""Command line: `reasoner validate|decide|check|findings|diff|lint|report ...`.

Input: argv.
Output: the reports the run's `--format FMT[=FILE]` / `--output` ask for (text, JSON, SARIF, JUnit, workflow
annotations, HTML; `outputs.py`), errors on stderr, and an exit status. With SARIF, JUnit or annotations asked
for, those reports are written also when the input is unusable (the errors as their content).
Guarantee: `main(argv, stdout, stderr) -> int` never lets a traceback reach the user; exit statuses are a
contract (see EXIT_CODES), documented in `--help` and the README.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from reasoner.errors import InputError, InternalError, PolicyValidationError, ReasonerError
from reasoner.face.exit import INTERRUPTED, ExitStatus, exit_status
from reasoner.version import __version__

if TYPE_CHECKING:
    from reasoner.errors import Diagnostic
    from reasoner.face.accepted import Triage
    from reasoner.face.outputs import Plan
    from reasoner.face.render import sarif, terminal

# Start-up (issue 17): what a command does not use is not imported. The renderers, the outputs' plan and the
# analyses are imported inside the functions that use them, so that `--version` and `--help` load argparse and
# this module only, and a command loads its own stage modules (tests/packaging/test_startup.py).

# the statuses (reasoner/face/exit.py), under the names tests and callers use
EXIT_OK = ExitStatus.OK
EXIT_FINDINGS = ExitStatus.FINDINGS
EXIT_INPUT = ExitStatus.INPUT
EXIT_UNKNOWN = ExitStatus.UNKNOWN
EXIT_INTERNAL = ExitStatus.INTERNAL

EXIT_CODES = """exit status:
  0  success: no errors / every assertion holds
  1  findings: validation errors / at least one assertion refuted
  2  usage or input error: a file could not be read or is unusable
  3  no assertion refuted, but at least one is unknown (timeout, resource limit, unsupported)
  4  internal error in the reasoner (please report it with --dump smt2)"""


class _Parser(argparse.ArgumentParser):
    """argparse writing usage errors, `--help` and `--version` to the streams `main` was given (argparse
    itself writes to `sys.stderr` / `sys.stdout`, which an in-process caller does not read)."""

    #: a check of the parsed arguments as a whole (options needed together): the usage error it returns
    check_args: Callable[[argparse.Namespace], str | None] | None = None

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        parsed, extras = super().parse_known_args(args, namespace)
        problem = self.check_args(parsed) if self.check_args is not None else None
        if problem is not None:
            self.error(problem)
        return parsed, extras

    def _print_message(self, message: str, file: Any = None) -> None:
        streams = _STREAMS.get()
        if streams is None or not message:
            super()._print_message(message, file)
            return
        out, err = streams
        (out if file is sys.stdout else err).write(message)


_STREAMS: ContextVar[tuple[TextIO, TextIO] | None] = ContextVar("reasoner_cli_streams", default=None)


#: The commands, in the order `--help` lists them, with the line it shows for each.
COMMANDS: dict[str, str] = {
    "validate": "parse and validate policy documents",
    "decide": "decide one request against an environment manifest",
    "check": "check the assertions of property files (*.access)",
    "findings": "who outside the zone of trust can use each key",
    "diff": "semantic diff of two environments or key policies",
    "lint": "hygiene checks of key policies",
    "snapshot": "write a manifest directory of a live AWS account (boto3)",
    "report": "one self-contained HTML page: findings, lint, checks and a diff",
    "scan": "every resource of many environments: findings, lint and property checks",
}
#: Other names of commands.
ALIASES = {"hygiene": "lint"}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of the command line. With `argv`, only the arguments of the command it names are added
    (start-up, issue 17: adding all ~140 costs every run ~10 ms); the other commands are listed by name and
    help line, as `--help` shows them. The top level has no option taking a value, so the command is the
    first argument not starting with `-`."""
    if argv is None:
        wanted = set(COMMANDS)
    else:
        first = next((a for a in argv if not a.startswith("-")), None)
        wanted = {ALIASES.get(first, first)} if first is not None else set()
    parser = _Parser(
        prog="reasoner",
        description="Formal reasoner for AWS access policies (KMS key policies and IAM).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"reasoner {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    adders = {"validate": _add_validate, "decide": _add_decide, "check": _add_check, "findings": _add_findings,
              "diff": _add_diff, "lint": _add_lint, "snapshot": _add_snapshot, "report": _add_report,
              "scan": _add_scan}
    for name, line in COMMANDS.items():
        if name in wanted:
            adders[name](sub)
        else:
            sub.add_parser(name, help=line, aliases=[a for a, to in ALIASES.items() if to == name])
    return parser


def _add_root(p: argparse.ArgumentParser) -> None:
    """`--root DIR` (reasoner.front.confine): the directory that every file a manifest or property file
    names must lie in."""
    p.add_argument("--root", type=_directory, default=None, metavar="DIR",
                   help="files named by manifests and property files must lie inside DIR (default: the git "
                        "repository of each file given, else its directory); files outside it, in /proc, "
                        "/sys, /dev or .git, and non-regular files are refused (INPUT006)")


#: `reasoner.front.importers.FORMATS`, written out: building the parser must not import the importers (70 ms of
#: every start, `--version` and `--help` included); tests/unit/test_scan.py checks that both are the same.
INPUT_FORMATS = ("manifest", "cloudformation", "cdk", "terraform", "aws")


def _add_input(p: argparse.ArgumentParser) -> None:
    """How an environment is read (issue 15): its format, and CloudFormation parameters."""
    FORMATS = INPUT_FORMATS

    p.add_argument("--input-format", choices=FORMATS, default=None, metavar="FORMAT",
                   help="read environments as " + ", ".join(FORMATS) + " (default: detected from the content)")
    p.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE",
                   help="a template parameter or pseudo parameter (`AWS::AccountId=111122223333`, "
                        "`AWS::Region=us-east-1`); repeat for several")
    p.add_argument("--parameters-file", action="append", default=[], type=_path, metavar="FILE",
                   help="parameter values: the CLI's ParameterKey/ParameterValue list, `{\"Parameters\": {...}}` or "
                        "a mapping (JSON or YAML); --parameter wins")


def _import_options(args: argparse.Namespace) -> Any:
    from reasoner.front.importers import ImportOptions, parse_parameters

    return ImportOptions(getattr(args, "input_format", None),
                         parse_parameters(getattr(args, "parameter", []), getattr(args, "parameters_file", [])))


# ---- outputs, accepted findings and the run's errors (issue 16) --------------------------------------------

def _add_outputs(p: argparse.ArgumentParser, formats: Sequence[str], *, sarif: bool = True) -> None:
    """`--format FMT[=FILE]` (repeatable), `--output FILE` and, for commands with SARIF, `--sarif-root DIR`.
    The default format is the first of `formats`."""
    from reasoner.face.outputs import target

    p.add_argument("--format", action="append", type=target, default=None, metavar="FMT[=FILE]",
                   help="report format {" + ",".join(formats) + f"}} (default: {formats[0]}), on stdout or, as "
                        "FMT=FILE, in FILE; repeat it for several formats in one run")
    p.add_argument("--output", "-o", default=None, metavar="FILE",
                   help="write the report whose --format names no file to FILE instead of stdout")
    p.set_defaults(formats_offered=tuple(formats))
    if sarif:
        p.add_argument("--sarif-root", type=_directory, default=None, metavar="DIR",
                       help="SARIF URIs are relative to DIR, with uriBaseId SRCROOT (default: the git repository "
                            "of the working directory, else the working directory)")


def _add_triage(p: argparse.ArgumentParser) -> None:
    """`--accepted FILE` and `--baseline PREVIOUS.json` (docs/accepted-findings.md)."""
    p.add_argument("--accepted", default=None, metavar="FILE", type=_path,
                   help="accepted-findings file (YAML): accepted results are reported as suppressed and do not "
                        "fail the run; an expired acceptance fails it (docs/accepted-findings.md)")
    p.add_argument("--baseline", default=None, metavar="PREVIOUS.json", type=_path,
                   help="the --format json report of an earlier run: only results not in it fail the run")


@dataclass
class _Run:
    """One run of `main`: its output plan, the SARIF context and every error reported (for the SARIF
    invocation's notifications, written even when the input is unusable)."""

    command: str
    plan: Plan | None = None
    ctx: sarif.Context | None = None
    notifications: list[sarif.Notification] = field(default_factory=list)
    accepted: tuple[Any, ...] = ()  # the entries of --accepted, read before the analysis runs
    baseline: frozenset[str] | None = None  # the fingerprints of --baseline, read before the analysis runs


_RUN: ContextVar[_Run | None] = ContextVar("reasoner_cli_run", default=None)


def _error(stream: TextIO, error: ReasonerError | Diagnostic, line: str | None = None) -> None:
    """Print an error (its one-line form, or `line`) and record it for the run's SARIF invocation."""
    from reasoner.errors import Diagnostic, one_line

    stream.write(f"{line if line is not None else error}\n")
    run = _RUN.get()
    if run is None:
        return
    from reasoner.face.render import sarif

    if isinstance(error, Diagnostic):
        run.notifications.append(sarif.Notification(error.severity.value, error.code, one_line(error.message),
                                                    error.span))
    else:
        run.notifications.append(sarif.Notification("error", error.code, one_line(error.message), error.span))


def _emit(args: argparse.Namespace, stdout: TextIO, render: Callable[[str], str],
          table: Callable[[], terminal.Table] | None = None) -> None:
    """Write every report of the run's plan (`outputs.Plan.emit`); text on a terminal is styled, with `table`
    under it (`render/terminal.py`: never in CI, pipes or files)."""

    from reasoner.face.render import terminal

    def on_stdout(fmt: str, text: str) -> str:
        if fmt != "text" or not terminal.wanted(stdout):
            return text
        return terminal.styled(text, table() if table is not None else None)

    run = _RUN.get()
    if run is None or run.plan is None:  # called outside `main`: the first format, on stdout
        formats = [t.fmt for t in (getattr(args, "format", None) or [])] or ["text"]
        stdout.write(on_stdout(formats[0], render(formats[0])))
        return
    run.plan.emit(render, stdout, on_stdout=on_stdout)


def _context(args: argparse.Namespace) -> sarif.Context:
    from reasoner.face.render import sarif

    run = _RUN.get()
    if run is not None and run.ctx is not None:
        return run.ctx
    return sarif.Context.at(_command_name(args), getattr(args, "sarif_root", None))


def _triage(args: argparse.Namespace, items: Sequence[Any]) -> Triage | None:
    """The triage of this run's items under `--accepted` and `--baseline`, or None without either."""
    if getattr(args, "accepted", None) is None and getattr(args, "baseline", None) is None:
        return None
    from reasoner.face import accepted  # (YAML: only with --accepted or --baseline)

    run = _RUN.get()
    if run is None:  # called outside `main`
        run = _Run(_command_name(args))
        _read_triage_files(args, run)
    return accepted.triage(items, run.accepted, run.baseline)


def _read_triage_files(args: argparse.Namespace, run: _Run) -> None:
    """Read `--accepted` and `--baseline` before anything is analysed: a bad file fails at once (exit 2)."""
    if getattr(args, "accepted", None) is not None:
        from reasoner.face import accepted

        run.accepted = accepted.load(args.accepted)
    if getattr(args, "baseline", None) is not None:
        from reasoner.face import accepted

        run.baseline = accepted.read_baseline(args.baseline)


def _report_triage(stderr: TextIO, triage: Triage | None) -> None:
    """Expired and unused acceptances, one line each on stderr (they are in SARIF through the renderers)."""
    if triage is None:
        return
    for n in triage.notifications():
        stderr.write(f"{n.span}: {n.level}: {n.code} {n.message}\n")


def _command_name(args: argparse.Namespace) -> str:
    command = str(getattr(args, "command", None) or "reasoner")
    return "lint" if command == "hygiene" else command


def _error_documents(run: _Run, status: int, stdout: TextIO) -> None:
    """The reports a CI step reads even when the run failed before any result (exit 2, 3 from a limit, 4):
    SARIF with no result and the errors as the invocation's notifications, JUnit with one errored test case,
    and workflow annotations on the errors. Other formats are not written."""
    documents = ("sarif", "junit", "github")
    if run.plan is None or not any(t.fmt in documents for t in run.plan.pending):
        return
    from reasoner.face.outputs import Plan
    from reasoner.face.render import sarif  # (each loaded before the memory cap when asked for: `_reporting`)

    ctx = run.ctx or sarif.Context.at(run.command)

    def render(fmt: str) -> str:
        if fmt == "sarif":
            return sarif.document([], [], ctx, exit_code=status, notifications=run.notifications)
        from reasoner.face.render import ci

        if fmt == "junit":
            return ci.junit_error(f"reasoner {run.command}", run.notifications, status)
        return ci.annotate([ci.Annotation("error", n.code, n.message, n.span) for n in run.notifications],
                           f"reasoner {run.command}: exit status {status}")

    pending = Plan(run.plan.pending)
    with contextlib.suppress(ReasonerError, MemoryError):  # under the memory cap, nothing more can be done
        pending.emit(render, stdout, only=documents)


def _path(text: str) -> str:
    """A file or directory argument: an empty one names nothing (argparse usage error, exit 2)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path names no file")
    return text


def _directory(text: str) -> str:
    try:
        ok = Path(text).is_dir()
    except (OSError, ValueError):
        ok = False
    if not ok:
        raise argparse.ArgumentTypeError(f"`{text}` is not a directory")
    return text


# ---- validate ----------------------------------------------------------------------------------------

def _add_validate(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("validate", help=COMMANDS["validate"],
                       epilog="exit status: 0 clean (warnings allowed), 1 errors found, 2 input unreadable",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", type=_path, metavar="FILE")
    p.add_argument("--kind", default=None,
                   choices=["key", "identity", "scp", "rcp", "boundary", "session", "resource"],
                   help="policy kind (default: guessed from the document)")
    _add_outputs(p, ("text", "json", "sarif"))
    p.add_argument("--key-account", default=None, metavar="ACCOUNT",
                   help="12-digit account that owns the key (key policies): flags KMS permissions granted to "
                        "other accounts for operations that cannot be used across accounts")
    _add_memory_limit(p)
    _add_root(p)
    p.set_defaults(handler=_cmd_validate)


def _cmd_validate(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Validate every file and print every diagnostic of every file ("nothing is lost"): an unreadable
    file is reported and the others are still validated. Exit 2 if any file was unreadable, else 1 if any
    error was found, else 0 (warnings allowed)."""
    from reasoner.errors import Diagnostic, Severity
    from reasoner.face.render.diagnostics import FileReport, render_json, render_sarif, render_text
    from reasoner.front.ast import PolicyKind
    from reasoner.front.parse import INPUT_BAD_ARGUMENT, parse_and_validate, read_policy_text
    from reasoner.source import SourceFile, Span

    kind = PolicyKind(args.kind) if args.kind else None
    key_account = getattr(args, "key_account", None)
    if key_account is not None and not (len(key_account) == 12 and key_account.isdigit()):
        raise InputError(f"`--key-account` must be a 12-digit account id, not `{key_account}`",
                         code=INPUT_BAD_ARGUMENT)
    reports: list[FileReport] = []
    for name in args.files:
        try:
            text = read_policy_text(name)
        except InputError as exc:
            diag = Diagnostic(exc.code, Severity.ERROR, exc.span or Span(name, 1, 1, 1, 2), exc.message, exc.help)
            reports.append(FileReport(name, (diag,), None, None, readable=False))
            continue
        doc, diags = parse_and_validate(text, file=name, kind=kind, key_account=key_account)
        used_kind = kind.value if kind else (doc.kind.value if doc is not None else None)
        reports.append(FileReport(name, tuple(diags), SourceFile(name, text), used_kind))
    ctx = _context(args)  # (an unreadable file is an input error of the SARIF invocation: render_sarif)
    status = exit_status(reports)
    _emit(args, stdout, lambda fmt: {"json": render_json, "text": render_text}[fmt](reports) if fmt != "sarif"
          else render_sarif(reports, ctx=ctx, exit_code=int(status)))
    return status


# ---- check -------------------------------------------------------------------------------------------

CHECK_EPILOG = """examples:
  reasoner check examples/org/checks
  reasoner check keys.access --format sarif > reasoner.sarif
  reasoner check checks/ --format text --format sarif=reasoner.sarif --format junit=report.xml
  reasoner check checks/ --accepted accepted.yaml --baseline previous.json

exit status:
  0  every assertion holds (an UNKNOWN marked `allowing unknown` counts as holding)
  1  at least one assertion is refuted (a counterexample was found and replayed)
  2  usage or input error: a property file, manifest or policy is unreadable or invalid
  3  no assertion refuted, but at least one is unknown (timeout, resource limit, unsupported)
  4  internal error in the reasoner (please report it with --dump smt2 DIR)

A directory argument means every *.access file below it. Progress is shown on stderr when it is a
terminal; the report goes to stdout. Language reference: docs/property-language.md"""


def _add_check(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("check", help=COMMANDS["check"],
                       description="Check every assertion of the property files named (or found under the\n"
                                   "directories named) and report a verdict for each.",
                       epilog=CHECK_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", type=_path, metavar="PATH",
                   help="property file, or directory searched for *.access files")
    _add_outputs(p, ("text", "json", "sarif", "junit", "github"))
    _add_triage(p)
    p.add_argument("--timeout", type=_positive_float, default=30.0, metavar="S",
                   help="wall-clock limit per assertion in seconds (default: 30); `within N seconds` in a "
                        "file overrides it")
    p.add_argument("--rlimit", type=_positive_int, default=None, metavar="N",
                   help="solver resource limit per assertion, for machine-independent results in CI")
    p.add_argument("--total-timeout", type=_positive_float, default=DEFAULT_TOTAL_S, metavar="S",
                   help=f"wall-clock limit of the whole run in seconds (default: {DEFAULT_TOTAL_S:g}); no "
                        "assertion runs past it, whatever its `within N seconds`")
    p.add_argument("--jobs", "-j", type=_positive_int, default=1, metavar="N",
                   help="check N assertions in parallel processes (default: 1)")
    p.add_argument("--stats", action="store_true",
                   help="add Z3's statistics of each assertion to the JSON report (not read otherwise)")
    _add_memory_limit(p)
    p.add_argument("--dump", nargs=2, metavar=("smt2", "DIR"), default=None,
                   help="write the SMT-LIB query of each assertion to DIR/<assertion>.smt2")
    _add_root(p)
    _add_input(p)
    p.set_defaults(handler=_cmd_check)


#: Wall-clock limit of one `check` run over all its assertions (`--total-timeout`).
DEFAULT_TOTAL_S = 1800.0


def _add_analysis_options(p: argparse.ArgumentParser, handler: Callable[..., int]) -> None:
    """The options findings, diff and lint share: formats, the run's time limit, memory cap and root."""
    _add_outputs(p, ("text", "json", "sarif", "junit", "github"))
    p.add_argument("--timeout", type=_positive_float, default=60.0, metavar="S",
                   help="wall-clock limit for the whole analysis in seconds (default: 60)")
    _add_memory_limit(p)
    _add_root(p)
    _add_input(p)
    p.set_defaults(handler=handler)


def _add_memory_limit(p: argparse.ArgumentParser) -> None:
    from reasoner.limits import DEFAULT_MEMORY_MB

    p.add_argument("--memory-limit", type=_non_negative_int, default=None, metavar="MIB",
                   help=f"cap the process's memory at MIB MiB (default: {DEFAULT_MEMORY_MB}; 0: no cap); an "
                        "analysis that reaches it is UNKNOWN (exit 3), never a crash")


def _non_negative_int(text: str) -> int:
    return _argument(text, int, "a whole number", (lambda v: v < 0, "must not be negative"))


def _positive_float(text: str) -> float:
    return _argument(text, float, "a number", (lambda v: not v > 0, "must be positive"),
                     (lambda v: v == float("inf"), "must be finite"))


def _positive_int(text: str) -> int:
    return _argument(text, int, "a whole number", (lambda v: v < 1, "must be at least 1"))


_N = TypeVar("_N", int, float)


def _argument(text: str, parse: Callable[[str], _N], what: str, *rules: tuple[Callable[[_N], bool], str]) -> _N:
    """`text` read by `parse` (else "is not `what`"), then the first rule it breaks, if any, refuses it."""
    try:
        value = parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not {what}") from None
    for breaks, problem in rules:
        if breaks(value):
            raise argparse.ArgumentTypeError(f"`{text}` {problem}")
    return value


def _cmd_check(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from reasoner.face.render import results as render
    from reasoner.face.render import terminal
    from reasoner.front.parse import INPUT_BAD_ARGUMENT

    dump_dir = None
    if args.dump is not None:
        what, directory = args.dump
        if what != "smt2":
            raise InputError(f"cannot dump `{what}`", help="the only dump is `--dump smt2 DIR`",
                             code=INPUT_BAD_ARGUMENT)
        dump_dir = Path(directory)
        try:
            dump_dir.mkdir(parents=True, exist_ok=True)
        except (OSError, ValueError) as exc:
            reason = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else "not a valid path"
            raise InputError(f"cannot create the dump directory `{directory}`: {reason}",
                             code=INPUT_BAD_ARGUMENT) from None
    assertions, failures = _collect_assertions(args.paths, root=args.root, options=_import_options(args))
    if failures:  # nothing is lost: the first error of every unusable file, then exit 2 (nothing is checked)
        for failure in failures:
            _error(stderr, failure)
        return EXIT_INPUT
    try:
        reports = _run_assertions(assertions, timeout=args.timeout, rlimit=args.rlimit, jobs=args.jobs,
                                  dump_dir=dump_dir, progress=stderr, total=args.total_timeout, stats=args.stats)
    except _AssertionErrors as bad:  # nothing is lost: every assertion the input makes unusable, located
        for failure in bad.errors:
            _error(stderr, failure)
        return EXIT_INPUT
    triage = _triage(args, reports)
    ctx = _context(args)
    _emit(args, stdout, lambda fmt: render.render(fmt, reports, ctx=ctx, triage=triage),
          lambda: terminal.Table("assertions", ("verdict", "assertion", "where", "time"), tuple(
              (r.verdict.value, r.name, str(r.location or ""), render.seconds_text(r.result.seconds))
              for r in reports)))
    _report_triage(stderr, triage)
    return exit_status(reports, triage)


def _collect_assertions(paths: Sequence[str], *, root: str | None = None,
                        options: Any = None) -> tuple[list[Any], list[ReasonerError]]:
    """Every assertion of the files named or found, each once (a file included twice counts once), and the
    error of every file that could not be compiled (each file is compiled even after another failed)."""
    from reasoner.front.parse import INPUT_BAD_ARGUMENT
    from reasoner.language import property_files as props

    files = props.find_property_files(paths, root=root)
    if not files:
        raise InputError(f"no property files (`*{props.SUFFIX}`) under {', '.join(f'`{p}`' for p in paths)}",
                         code=INPUT_BAD_ARGUMENT)
    loader = None
    if options is not None and (options.input_format or options.parameters):
        from reasoner.front.importers import load

        def loader(path: Path) -> Any:
            return load(path, root=root, options=options)
    compiler = props.Compiler(loader, root=root)
    seen: set[tuple[str, int, int]] = set()
    out = []
    failures: list[ReasonerError] = []
    for f in files:
        try:
            compiled = compiler.compile_file(f)
        except InternalError:
            raise
        except ReasonerError as exc:
            failures.append(exc)
            continue
        for a in compiled:
            key = (str(Path(a.span.file).resolve()), a.span.line, a.span.col)
            if key not in seen:
                seen.add(key)
                out.append(a)
    return out, failures


def _dump_name(dump_dir: Path | None, index: int, name: str) -> str | None:
    if dump_dir is None:
        return None
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower()).strip("-")[:60]
    slug = slug or "assertion"
    return str(dump_dir / f"{index:03d}-{slug}.smt2")


def _run_assertions(assertions: Sequence[Any], *, timeout: float, rlimit: int | None, jobs: int,
                    dump_dir: Path | None, progress: TextIO, total: float = DEFAULT_TOTAL_S,
                    stats: bool = False) -> list[Any]:
    import dataclasses
    import time

    from reasoner.analyses.result import rebase_spans
    from reasoner.batch.checks import check_one
    from reasoner.face.render.results import Report

    results: list[Any] = [None] * len(assertions)
    total_deadline = time.time() + total
    jobs_args = [(a.environment, a.property, a.timeout or timeout, rlimit, _dump_name(dump_dir, i, a.name))
                 for i, a in enumerate(assertions)]
    errors: list[InputError] = []

    def unusable(i: int, exc: InputError) -> None:
        if exc.span is None:  # e.g. SYM002: the claim names no action of the domain; its place is the assertion
            exc.span = assertions[i].span
        errors.append(exc)

    with _Progress(progress, len(assertions)) as bar:
        if jobs == 1 or len(assertions) < 2:
            for i, a in enumerate(assertions):
                bar.start(a.name)
                try:
                    results[i] = check_one(*jobs_args[i], total_deadline=total_deadline, total=total, stats=stats)
                except InputError as exc:
                    unusable(i, exc)
                bar.finish()
        else:
            from reasoner.batch import checks

            # each environment shipped once per worker and compiled once there, never per assertion
            bar.start(f"{len(assertions)} assertions on {jobs} processes")
            for i, out in checks.run(jobs_args, jobs, deadline=total_deadline, total=total, stats=stats):
                if isinstance(out, InputError):
                    unusable(i, out)
                else:
                    results[i] = out
                bar.finish()
    if errors:
        raise _AssertionErrors(sorted(errors, key=lambda e: e.to_diagnostic().sort_key()))
    reports = []
    for a, r in zip(assertions, results, strict=True):
        named = dataclasses.replace(r, name=a.name) if r.name is None else r
        reports.append(Report(rebase_spans(named, a.environment), a.name, a.span, a.allow_unknown))
    return reports


class _AssertionErrors(Exception):
    """Assertions whose input is unusable (each error located at its assertion when it has no place)."""

    def __init__(self, errors: list[InputError]) -> None:
        super().__init__(f"{len(errors)} unusable assertion(s)")
        self.errors = errors


class _Progress:
    """`[3/10] checking "name" 2.1 s` on a terminal, redrawn while a check runs and erased at the end;
    nothing when the stream is not a terminal or the run is over within `delay` seconds."""

    def __init__(self, stream: TextIO, total: int, delay: float = 0.5) -> None:
        import threading
        import time

        self.stream = stream
        self.total = total
        self.delay = delay
        self.done = 0
        self.current = ""
        self.began = time.monotonic()
        self.shown = False
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True) if self.enabled else None

    def __enter__(self) -> _Progress:
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            if self.shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()

    def start(self, name: str) -> None:
        import time

        with self._lock:
            self.current = name
            self.current_began = time.monotonic()

    def finish(self) -> None:
        with self._lock:
            self.done += 1

    def _loop(self) -> None:
        import time

        while not self._stop.wait(0.1):
            now = time.monotonic()
            if now - self.began < self.delay:
                continue
            with self._lock:
                name = self.current if len(self.current) <= 50 else self.current[:49] + "…"
                line = (f"[{self.done}/{self.total}] checking \"{name}\" "
                        f"{now - getattr(self, 'current_began', self.began):.1f} s")
                self.stream.write("\r\x1b[K" + line)
                self.stream.flush()
                self.shown = True


# ---- decide ------------------------------------------------------------------------------------------

DECIDE_EPILOG = """examples:
  reasoner decide examples/seed/environment.yaml \\
      --principal arn:aws:sts::444455556666:assumed-role/ExampleRole/app --action kms:Decrypt \\
      --resource arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
  reasoner decide env.yaml --principal ... --action kms:CreateGrant --resource ... \\
      --context kms:GrantOperations=Decrypt --context kms:GrantOperations=Encrypt --format json
  reasoner check checks/ --format json > report.json
  reasoner decide env.yaml --request report.json      # its one counterexample, with what it assumes
  reasoner decide env.yaml --principal ... --action ... --resource ... \\
      --assume "organization of the caller's account=o-a1b2c3d4e5"

A caller of an account whose IAM the environment does not give is decided as `check` decides it: with
identity policies that allow everything (the worst case; --no-worst-case: only what is given). What the
decision assumes is printed after it (`assuming ...`).

exit status:
  0  allowed
  1  denied (explicitly or implicitly)
  2  usage or input error: the manifest, a policy, the request file or an argument is unusable"""


def _add_decide(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("decide", help=COMMANDS["decide"],
                       description="Evaluate one request (principal, action, resource, context) with the "
                                   "reference semantics and print the decision and the statements behind it.",
                       epilog=DECIDE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("environment", type=_path, metavar="ENV", help="environment manifest (YAML)")
    p.add_argument("--principal", metavar="ARN",
                   help="caller: root, user, assumed-role session or federated-user ARN, "
                        "or a service principal")
    p.add_argument("--action", metavar="ACTION", help="IAM action, e.g. kms:Decrypt")
    p.add_argument("--resource", metavar="ARN",
                   help="key ARN (or alias ARN), or `*` for actions without a resource")
    p.add_argument("--context", action="append", default=[], metavar="KEY=VALUE",
                   help="a request context value; repeat the key for a multivalued key")
    p.add_argument("--assume", action="append", default=[], metavar="KEY=VALUE",
                   help="what a counterexample assumes about a caller the environment does not describe: "
                        "org, orgpath, uid, rolepath, region, fedsource, keyorg, keyorgpath, tag:KEY, or the "
                        "name an `assuming NAME = VALUE` line of `reasoner check` prints")
    p.add_argument("--request", type=_path, metavar="FILE",
                   help="a counterexample as `reasoner check --format json` prints it (the report, one "
                        "result, or its `counterexample` object); --principal, --action, --resource, "
                        "--context and --assume given too replace or add to it")
    p.add_argument("--no-worst-case", dest="worst_case", action="store_false",
                   help="decide a caller whose account's IAM is not given by what is given only (default: "
                        "its identity policies may allow anything, as `check` assumes)")
    _add_outputs(p, ("text", "json"), sarif=False)
    _add_memory_limit(p)
    _add_root(p)
    _add_input(p)
    p.set_defaults(handler=_cmd_decide)
    p.check_args = _decide_request_given


def _decide_request_given(args: argparse.Namespace) -> str | None:
    missing = [f"--{n}" for n in ("principal", "action", "resource") if getattr(args, n, None) is None]
    if missing and getattr(args, "request", None) is None:
        return f"decide needs {', '.join(missing)} (or --request FILE)"
    return None


def _cmd_decide(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import json

    from reasoner.analyses import unresolved
    from reasoner.face.requests import decide, parse_assume, parse_context, request_from
    from reasoner.front.importers import load

    request = request_from(args.principal, args.action, args.resource, context=parse_context(args.context),
                           assumed=parse_assume(args.assume), request_file=args.request)
    environment = load(args.environment, root=args.root, options=_import_options(args))
    pending = unresolved.reason(environment)
    if pending is not None:  # issue 15: a value no input fixes decides nothing
        _emit(args, stdout, lambda fmt: json.dumps({"decision": "UNKNOWN", "reason": pending}, indent=2) + "\n"
              if fmt == "json" else f"UNKNOWN\n  {pending}\n")
        return EXIT_UNKNOWN
    evaluation, notes = decide(environment, request, worst_case=args.worst_case)
    _emit(args, stdout, lambda fmt: _decide_text(fmt, evaluation, notes, args.worst_case))
    return exit_status(evaluation)


def _decide_text(fmt: str, evaluation: Any, notes: Any, worst_case: bool) -> str:
    import json

    from reasoner.face.render.shapes import span_json
    from reasoner.face.requests import assumption_lines

    req = evaluation.request
    if fmt == "json":
        doc = {
            "decision": evaluation.decision.value,
            "request": {"principal": req.principal, "action": req.action, "resource": req.resource,
                        "context": {k: list(v) for k, v in req.context.items()},
                        "assumed": dict(sorted(req.assumed.items()))},
            "worst_case": worst_case,
            "assumptions": [n.note for n in notes],
            "reasons": [{"role": r.role, "policy": r.policy or None, "kind": r.kind.value if r.kind else None,
                         "statement": r.statement, "label": r.label,
                         "effect": r.effect.value if r.effect else None,
                         "span": span_json(r.span) if r.span else None, "note": r.note or None}
                        for r in evaluation.reasons],
            "context": {k: list(v) for k, v in evaluation.context.items()},
        }
        return json.dumps(doc, indent=2) + "\n"
    return "".join([f"{evaluation.decision.value}\n", *(f"  {x}\n" for x in evaluation.reasons),
                    *(f"  {line}\n" for line in assumption_lines(notes))])


# ---- findings / diff / lint (issue 6) -----------------------------------------------------------------

FINDINGS_EPILOG = """examples:
  reasoner findings env.yaml
  reasoner findings key-policy.json --zone-of-trust 111122223333 o-exampleorgid --format sarif

ENV is an environment manifest (YAML) or one key policy (JSON; the key's account is guessed from the
policy, or given with --key-arn). Public access and the restricting condition keys: docs/findings.md

exit status:
  0  no access from outside the zone of trust (proved complete)
  1  external access found
  2  usage or input error: the manifest, a policy or an argument is unusable
  3  no external access found, but the set could not be proved complete (timeout, unsupported)
  4  internal error in the reasoner"""


def _load_subject(path: str, key_arn: str | None, root: str | None = None, options: Any = None) -> Any:
    """An environment (a manifest, template, plan, cloud assembly or export, `reasoner.front.importers`), or
    one key policy (JSON) wrapped on one key (`api.load_subject`)."""
    from reasoner.face.api import load_subject

    return load_subject(path, key_arn, root, options)


def _add_findings(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("findings", help=COMMANDS["findings"],
                       description="External-access findings for every key: each a class of access "
                                   "(principal, actions, conditions, public or not) with a concrete request; "
                                   "the set is proved complete by the solver.",
                       epilog=FINDINGS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("environment", type=_path, metavar="ENV", help="environment manifest (YAML) or key policy (JSON)")
    p.add_argument("--zone-of-trust", nargs="+", default=[], metavar="ACCOUNT|ORG",
                   help="12-digit account ids and organization ids (o-...) whose principals are trusted "
                        "(default: each key's own account)")
    _add_triage(p)
    p.add_argument("--include-services", action="store_true",
                   help="also report access by AWS service principals (not external by default)")
    p.add_argument("--key-arn", default=None, metavar="ARN", help="key ARN for a key policy file")
    _add_resource_options(p)
    p.add_argument("--escalation", action="store_true",
                   help="also list escalation paths: principals outside the zone that reach a key or resource "
                        "only through a chain of steps, each replayed (docs/eventually.md)")
    _add_analysis_options(p, _cmd_findings)


def _add_resource_options(p: argparse.ArgumentParser) -> None:
    """`--resource ARN` and `--jobs N`: an environment's resources are analysed one by one (on their slices,
    docs/scan.md), in N processes."""
    p.add_argument("--resource", default=None, metavar="ARN",
                   help="only this key, resource or role (analysed on its own, as `reasoner scan` does)")
    p.add_argument("--jobs", "-j", type=_positive_int, default=1, metavar="N",
                   help="analyse the resources in N worker processes (default: 1)")


def _cmd_findings(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from reasoner.analyses import findings
    from reasoner.batch import whole
    from reasoner.face.paths import rebase_findings
    from reasoner.face.render import findings as render
    from reasoner.face.render import terminal
    zone = findings.parse_zone(args.zone_of_trust)
    env = _load_subject(args.environment, args.key_arn, args.root, _import_options(args))
    result = rebase_findings(whole.findings(env, zone, include_services=args.include_services, timeout=args.timeout,
                                            jobs=args.jobs, only=args.resource), env)
    if args.escalation:  # issue 18
        from reasoner.analyses.escalation import with_escalations
        result = with_escalations(result, env, timeout=args.timeout)
    triage = _triage(args, result.findings)
    ctx = _context(args)
    _emit(args, stdout, lambda fmt: render.render(fmt, result, ctx=ctx, triage=triage),
          lambda: terminal.Table("findings", ("key", "kind", "principal", "actions", "conditions"), tuple(
              (f.key, "PUBLIC" if f.public else "external", str(f.principal), ", ".join(f.actions),
               " and ".join(str(c) for c in f.conditions)) for f in result.findings)))
    _report_triage(stderr, triage)
    return exit_status(result, triage)


DIFF_EPILOG = """examples:
  reasoner diff old.yaml new.yaml
  reasoner diff key-policy-v1.json key-policy-v2.json --format json

OLD and NEW are environment manifests (YAML) or two versions of one key policy (JSON, put on the same key).

exit status:
  0  PROVED equivalent: both allow exactly the same requests
  1  different: at least one class of access added or removed (each with a concrete request)
  2  usage or input error
  3  no difference found, but equivalence could not be proved (timeout, unsupported)
  4  internal error in the reasoner"""


def _add_diff(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("diff", help=COMMANDS["diff"],
                       description="Prove two environments (or key policies) equivalent, or list the classes "
                                   "of access NEW adds and removes, each with a concrete request.",
                       epilog=DIFF_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("old", type=_path, metavar="OLD")
    p.add_argument("new", type=_path, metavar="NEW")
    p.add_argument("--key-arn", default=None, metavar="ARN", help="key ARN for key policy files")
    _add_analysis_options(p, _cmd_diff)


def _cmd_diff(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from reasoner.analyses import diff
    from reasoner.face.paths import rebase_diff
    from reasoner.face.render import diff as render
    from reasoner.face.render import terminal
    old = _load_subject(args.old, args.key_arn, args.root, _import_options(args))
    new = _load_subject(args.new, args.key_arn, args.root, _import_options(args))
    old, new = diff.same_key(old, new)
    result = rebase_diff(diff.diff(old, new, timeout=args.timeout), old, new)
    ctx = _context(args)
    _emit(args, stdout, lambda fmt: render.render(fmt, result, ctx=ctx),
          lambda: terminal.Table("changes", ("change", "principal", "actions", "key"), tuple(
              (c.direction, str(c.principal), ", ".join(c.actions), c.key) for c in (*result.added, *result.removed))))
    return exit_status(result)


LINT_EPILOG = """checks:
  HYG001  lockout: no principal of the key's account can call kms:PutKeyPolicy any more (error)
  HYG002  separation of duties (with --separation-of-duties): one principal administers and uses the key
  HYG003  a statement never applies
  HYG004  a statement is redundant: removing it changes no decision
  HYG005  a check could not be decided (note)

exit status:
  0  no issue
  1  at least one issue
  2  usage or input error
  3  no issue, but a check could not be decided
  4  internal error in the reasoner"""


def _add_lint(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("lint", aliases=["hygiene"], help=COMMANDS["lint"],
                       description="Lockout, dead and redundant statements, and optionally separation of "
                                   "duties, for every key.",
                       epilog=LINT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("environment", type=_path, metavar="ENV", help="environment manifest (YAML) or key policy (JSON)")
    _add_triage(p)
    p.add_argument("--separation-of-duties", action="store_true",
                   help="also check that key administrators cannot use the key for cryptography")
    p.add_argument("--key-arn", default=None, metavar="ARN", help="key ARN for a key policy file")
    _add_resource_options(p)
    _add_analysis_options(p, _cmd_lint)


def _cmd_lint(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from reasoner.batch import whole
    from reasoner.face.paths import rebase_hygiene
    from reasoner.face.render import hygiene as render
    from reasoner.face.render import terminal
    env = _load_subject(args.environment, args.key_arn, args.root, _import_options(args))
    result = rebase_hygiene(whole.lint(env, separation_of_duties=args.separation_of_duties, timeout=args.timeout,
                                       jobs=args.jobs, only=args.resource), env)
    triage = _triage(args, result.issues)
    ctx = _context(args)
    _emit(args, stdout, lambda fmt: render.render(fmt, result, ctx=ctx, triage=triage),
          lambda: terminal.Table("issues", ("code", "severity", "where", "key"), tuple(
              (i.code, i.severity.value, str(i.span), i.key) for i in (*result.issues, *result.undecided))))
    _report_triage(stderr, triage)
    return exit_status(result, triage)


# ---- report (issue 16) -----------------------------------------------------------------------------------

REPORT_EPILOG = """examples:
  reasoner report examples/org/environment.yaml --checks examples/org/checks -o report.html
  reasoner report env.yaml --checks policies/checks --diff old/env.yaml env.yaml --accepted accepted.yaml -o r.html

The page is one file: its style and script are inline and it loads nothing (no network at view time), so it
can be kept as a CI artifact and opened offline. Each responsible or granting statement is marked in the text
of its policy.

exit status:
  0  nothing found in any part
  1  a refuted assertion, external access, a difference or an issue in some part
  2  usage or input error
  3  nothing found, but some part could not be decided
  4  internal error in the reasoner"""


def _add_report(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("report", help=COMMANDS["report"],
                       description="Run findings and lint on each environment, check the property files, diff two "
                                   "environments, and write one HTML page with every result.",
                       epilog=REPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("environments", nargs="*", type=_path, metavar="ENV",
                   help="environment manifests (YAML) or key policies (JSON): findings and lint of each")
    p.add_argument("--checks", nargs="+", type=_path, default=[], metavar="PATH",
                   help="property files or directories to check")
    p.add_argument("--diff", nargs=2, type=_path, default=None, metavar=("OLD", "NEW"),
                   help="two environments (or key policies) to diff")
    p.add_argument("--zone-of-trust", nargs="+", default=[], metavar="ACCOUNT|ORG",
                   help="the zone of trust of findings (default: each key's own account)")
    p.add_argument("--title", default="reasoner report", help="the page's title")
    _add_input(p)
    _add_outputs(p, ("html",), sarif=False)
    _add_triage(p)
    p.add_argument("--timeout", type=_positive_float, default=60.0, metavar="S",
                   help="wall-clock limit of each analysis, and of each assertion, in seconds (default: 60)")
    _add_memory_limit(p)
    _add_root(p)
    p.set_defaults(handler=_cmd_report)


def _cmd_report(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from reasoner.analyses import diff, findings
    from reasoner.batch import whole
    from reasoner.face.exit import combine
    from reasoner.face.paths import rebase_diff, rebase_findings, rebase_hygiene
    from reasoner.face.render import html
    from reasoner.face.render.findings import render_text as findings_text
    from reasoner.face.render.results import summarize

    if not (args.environments or args.checks or args.diff):
        raise InputError("nothing to report: give environments, `--checks PATH` or `--diff OLD NEW`",
                         code="INPUT004")
    sections: list[html.Section] = []
    statuses: list[ExitStatus] = []
    if args.checks:
        assertions, failures = _collect_assertions(args.checks, root=args.root)
        if failures:
            for failure in failures:
                _error(stderr, failure)
            return EXIT_INPUT
        try:
            reports = _run_assertions(assertions, timeout=args.timeout, rlimit=None, jobs=1, dump_dir=None,
                                      progress=stderr)
        except _AssertionErrors as bad:
            for failure in bad.errors:
                _error(stderr, failure)
            return EXIT_INPUT
        triage = _triage(args, reports)
        statuses.append(exit_status(reports, triage))
        s = summarize(reports)
        sections.append(html.Section("checks", "Property checks", f"{s.total} assertion(s): {s.proved} proved, "
                                     f"{s.refuted} refuted, {s.unknown} unknown", html.checks_html(reports, triage)))
    zone = findings.parse_zone(args.zone_of_trust)
    for n, path in enumerate(args.environments, 1):
        env = _load_subject(path, None, args.root, _import_options(args))
        found = rebase_findings(whole.findings(env, zone, timeout=args.timeout), env)
        triage = _triage(args, found.findings)
        statuses.append(exit_status(found, triage))
        sections.append(html.Section(f"findings-{n}", f"Findings: {path}", findings_text(found).splitlines()[-1],
                                     html.findings_html(found, triage)))
        issues = rebase_hygiene(whole.lint(env, timeout=args.timeout), env)
        triage = _triage(args, issues.issues)
        statuses.append(exit_status(issues, triage))
        sections.append(html.Section(f"lint-{n}", f"Lint: {path}", f"{len(issues.issues)} issue(s), "
                                     f"{len(issues.undecided)} undecided", html.lint_html(issues, triage)))
    if args.diff:
        old, new = diff.same_key(_load_subject(args.diff[0], None, args.root, _import_options(args)),
                                 _load_subject(args.diff[1], None, args.root, _import_options(args)))
        changed = rebase_diff(diff.diff(old, new, timeout=args.timeout), old, new)
        statuses.append(exit_status(changed))
        sections.append(html.Section("diff", f"Diff: {args.diff[0]} → {args.diff[1]}",
                                     f"{changed.verdict.value}: {len(changed.added)} added, "
                                     f"{len(changed.removed)} removed", html.diff_html(changed)))
    status = combine(statuses)
    subtitle = f"exit status {int(status)}"
    _emit(args, stdout, lambda fmt: html.page(args.title, sections, subtitle=subtitle))
    return status


# ---- scan (issue 17) ---------------------------------------------------------------------------------------

SCAN_EPILOG = """examples:
  reasoner scan examples/org/environment.yaml
  reasoner scan snapshots/ --properties checks/ --jobs 4 --format jsonl=scan.jsonl --format sarif=scan.sarif
  reasoner scan org/ --executor dask://scheduler:8786 --format jsonl
  reasoner scan org/ --no-cache --format text

Every key, resource and role (with a trust policy) of every input goes through findings, lint and the
assertions of --properties that apply to it, on its own slice of the environment (docs/scan.md). Records are
streamed as JSON lines in the inputs' order; a rerun takes unchanged resources from the cache, and an
interrupted run resumes where it stopped.

exit status:
  0  nothing found: no external access, no lint issue, every assertion holds, everything decided
  1  something found: external access, a lint issue or a refuted assertion on some resource
  2  usage or input error: an input, a property file or an option is unusable (nothing is scanned)
  3  nothing found, but something could not be decided (timeout, unsupported, a worker that died)
  4  internal error in the reasoner"""


def _add_scan(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("scan", help=COMMANDS["scan"],
                       description="Scan environments resource by resource, with a cache, on processes or Dask.",
                       epilog=SCAN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", type=_path, metavar="INPUT",
                   help="manifests, snapshot or manifest directories (a tree of them), templates, plans, exports")
    p.add_argument("--properties", nargs="+", action="extend", type=_path, default=[], metavar="PATH",
                   help="property files or directories: each assertion is checked on every resource it applies to")
    p.add_argument("--zone-of-trust", nargs="+", default=[], metavar="ACCOUNT|ORG",
                   help="zone of trust of findings (default: each resource's own account)")
    p.add_argument("--include-services", action="store_true", help="findings: also report AWS service principals")
    p.add_argument("--separation-of-duties", action="store_true", help="lint: also check separation of duties")
    p.add_argument("--no-findings", action="store_true", help="do not run findings")
    p.add_argument("--no-lint", action="store_true", help="do not run lint")
    p.add_argument("--timeout", type=_positive_float, default=60.0, metavar="S",
                   help="wall-clock limit of each analysis of one resource, and of each assertion (default: 60)")
    p.add_argument("--rlimit", type=_positive_int, default=None, metavar="N",
                   help="solver resource limit per solver call, for machine-independent results")
    p.add_argument("--jobs", "-j", type=_positive_int, default=1, metavar="N",
                   help="N worker processes (default: 1, in this process)")
    p.add_argument("--executor", default=None, metavar="SPEC",
                   help="`dask://HOST:PORT` (a Dask scheduler) or `dask:local` (a LocalCluster of --jobs "
                        "workers); needs the extra `reasoner[dask]`")
    p.add_argument("--worker-memory", type=_non_negative_int, default=2048, metavar="MIB",
                   help="memory cap of each worker process (default: 2048; 0: none); a resource that needs more "
                        "is UNKNOWN")
    p.add_argument("--cache", default=None, type=_path, metavar="PATH",
                   help="the SQLite file of cached records (default: scan.sqlite in the user's cache directory)")
    p.add_argument("--no-cache", action="store_true", help="compute every resource, store nothing")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress or closing line on stderr")
    _add_outputs(p, ("text", "jsonl", "sarif"))
    _add_memory_limit(p)
    _add_root(p)
    _add_input(p)
    p.set_defaults(handler=_cmd_scan)


def _cmd_scan(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from reasoner.face import scan

    run = _RUN.get()
    return scan.command(args, stdout, stderr, plan=run.plan if run is not None else None, ctx=_context(args))


# ---- snapshot (issue 15) ----------------------------------------------------------------------------

SNAPSHOT_EPILOG = """examples:
  reasoner snapshot account/ --region us-east-1
  reasoner snapshot account/ --profile audit && git -C account diff

Writes DIR/environment.yaml (a manifest, docs/environment.md) and one JSON file per policy; every call that
failed is listed on stderr and in DIR/failures.json. Needs the optional extra: pip install 'reasoner[aws]'.

exit status:
  0  the account was read completely
  1  written, but some calls failed (listed; the manifest says what it lacks)
  2  usage error, boto3 missing, or the account could not be read at all"""


def _add_snapshot(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("snapshot", help=COMMANDS["snapshot"],
                       description="Read KMS, IAM, Organizations and resource policies of the account the "
                                   "credentials reach, and write them as a manifest directory.",
                       epilog=SNAPSHOT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("directory", type=_path, metavar="DIR", help="output directory (created if needed)")
    p.add_argument("--region", default=None, help="AWS Region (default: the profile's)")
    p.add_argument("--profile", default=None, help="AWS profile (default: the environment's credentials)")
    p.add_argument("--endpoint-url", default=None, metavar="URL", help="send every call to URL (a test server)")
    p.set_defaults(handler=_cmd_snapshot)


def _cmd_snapshot(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from reasoner.front.snapshot import boto3_clients, snapshot

    clients = boto3_clients(region=args.region, profile=args.profile, endpoint_url=args.endpoint_url)
    report = snapshot(clients, args.directory, progress=stderr)
    for failure in report.failures:
        stderr.write(f"warning: SNAP003 {failure}\n")
    stdout.write(f"account {report.account}: {report.keys} key(s), {report.principals} principal(s), "
                 f"{report.resources} resource(s), {len(report.failures)} failed call(s) -> "
                 f"{report.directory / 'environment.yaml'}\n")
    return EXIT_FINDINGS if report.failures else EXIT_OK


# ---- entry point -------------------------------------------------------------------------------------

class _PipeSafe:
    """The report stream, quiet once its reader has gone (`reasoner decide ... | head -1`): the command
    still ends with its own exit status, as Unix tools do, and nothing is printed about the closed pipe."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.closed_pipe = False

    def write(self, text: str) -> int:
        if not self.closed_pipe:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self) -> None:
        if not self.closed_pipe:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    def _gone(self) -> None:
        self.closed_pipe = True
        if self._stream is sys.stdout:
            # the interpreter flushes stdout once more at exit: point it at /dev/null so that it stays quiet
            import os

            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    for stream in {id(out): out, id(err): err}.values():
        if stream is sys.stdout or stream is sys.stderr:  # a lone surrogate (`\ud800` in a policy) or a
            # character the terminal's encoding lacks is printed escaped instead of crashing
            with contextlib.suppress(AttributeError, ValueError, OSError):
                stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    argv = list(argv) if argv is not None else None
    parser = build_parser(argv if argv is not None else sys.argv[1:])
    token = _STREAMS.set((out, err))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help / --version (0) or usage error (2)
        return EXIT_OK if not exc.code else EXIT_INPUT
    finally:
        _STREAMS.reset(token)
    if not getattr(args, "handler", None):
        parser.print_help(out)
        return EXIT_INPUT
    from reasoner import limits

    memory = getattr(args, "memory_limit", None)
    if argv is None or memory is not None:  # a process of its own (not `main([...])` called by a test)
        # Z3's library is mapped, and the modules of the analyses compiled, before the cap, not under it
        # (under it, creating a dataclass or compiling a module fails with errors that are not MemoryError);
        # only those the command runs (importing the others cost a small `check` ~100 ms)
        import importlib

        for module in (*_ANALYSES.get(args.handler, ()), *_reporting(args)):
            importlib.import_module(module)
        limits.cap_memory(limits.DEFAULT_MEMORY_MB if memory is None else memory)
    safe: Any = _PipeSafe(out)
    run = _Run(_command_name(args))
    token_run = _RUN.set(run)
    try:
        status = _handle(args, run, safe, err)
        _error_documents(run, status, safe)
        return status
    finally:
        _RUN.reset(token_run)


def _reporting(args: argparse.Namespace) -> tuple[str, ...]:
    """The modules that report this run's results and errors in the formats it asks for, loaded before the memory
    cap with the analyses (`main`): they are imported where used, and under the cap an import fails with
    MemoryError, in the very handler that reports an analysis out of memory. Every error is recorded as a SARIF
    notification (`_error`)."""
    formats = {t.fmt for t in (getattr(args, "format", None) or ())}
    modules = ["reasoner.face.render.sarif", "reasoner.face.render.terminal", "hashlib"]
    if "sarif" in formats:
        modules.append("reasoner.face.render.rules")
    if formats & {"junit", "github"}:
        modules.append("reasoner.face.render.ci")
    if "junit" in formats:
        modules.append("xml.etree.ElementTree")
    if getattr(args, "output", None) is not None or any(t.path for t in (getattr(args, "format", None) or ())):
        modules.append("tempfile")
    return tuple(modules)


#: The modules each command's input readers, analyses and renderer need, loaded before the memory cap (`main`):
#: under the cap, loading a module or a shared library (Lark's, Z3's) can fail with errors that are not
#: MemoryError, and those are the modules every run of the command imports anyway.
_ANALYSES: dict[Callable[..., int], tuple[str, ...]] = {
    _cmd_check: ("reasoner.front.importers", "reasoner.language.property_files", "reasoner.analyses.pipeline",
                 "reasoner.symbolic.solve", "reasoner.face.render.results"),
    _cmd_findings: ("reasoner.front.importers", "reasoner.analyses.findings", "reasoner.batch.whole",
                    "reasoner.symbolic.solve", "reasoner.face.paths", "reasoner.face.render.findings"),
    _cmd_diff: ("reasoner.front.importers", "reasoner.analyses.diff", "reasoner.symbolic.solve",
                "reasoner.face.paths", "reasoner.face.render.diff"),
    _cmd_lint: ("reasoner.front.importers", "reasoner.analyses.hygiene", "reasoner.batch.whole",
                "reasoner.symbolic.solve", "reasoner.face.paths", "reasoner.face.render.hygiene"),
    _cmd_scan: ("reasoner.analyses.findings", "reasoner.analyses.hygiene", "reasoner.analyses.pipeline",
                "reasoner.batch.executors", "reasoner.symbolic.solve"),
}


def _handle(args: argparse.Namespace, run: _Run, out: TextIO, err: TextIO) -> int:
    """Run the command's handler: every error becomes its one-line message on `err` (recorded for the run's
    SARIF invocation) and its exit status."""
    from reasoner import limits
    from reasoner.face.outputs import plan
    from reasoner.face.render import sarif

    try:
        if getattr(args, "formats_offered", None):
            run.plan = plan(args.format, args.output, args.formats_offered, default=args.formats_offered[0])
            run.ctx = sarif.Context.at(run.command, getattr(args, "sarif_root", None))
        _read_triage_files(args, run)
        limits.require_headroom()  # a cap below what is already mapped: nothing can run (LIMIT003 at once)
        return int(args.handler(args, out, err))
    except MemoryError:
        _error(err, limits.OutOfBudget(limits.memory_reason(), code=limits.OUT_OF_MEMORY),
               f"error: {limits.OUT_OF_MEMORY} {limits.memory_reason()}")
        return EXIT_UNKNOWN
    except limits.OutOfBudget as exc:
        _error(err, exc)
        return EXIT_UNKNOWN
    except PolicyValidationError as exc:  # nothing is lost: every diagnostic, not only the first
        from reasoner.face.render.diagnostics import render_diagnostic

        for diag in exc.diagnostics or (exc.to_diagnostic(),):
            _error(err, diag, render_diagnostic(diag))
        return EXIT_INPUT
    except InputError as exc:
        for one in getattr(exc, "errors", None) or (exc,):
            _error(err, one)
        return EXIT_INPUT
    except InternalError as exc:
        _error(err, exc)
        return EXIT_INTERNAL
    except ReasonerError as exc:
        _error(err, exc)
        return EXIT_INPUT
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return INTERRUPTED
    except Exception as exc:  # a bug: report it in one line, never a traceback
        if limits.current_memory_cap() and _out_of_memory(exc):
            _error(err, limits.OutOfBudget(limits.memory_reason(), code=limits.OUT_OF_MEMORY),
                   f"error: {limits.OUT_OF_MEMORY} {limits.memory_reason()}")
            return EXIT_UNKNOWN
        _error(err, InternalError(f"unexpected {type(exc).__name__}: {exc}", code="INTERNAL"),
               f"error: INTERNAL unexpected {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL


def _out_of_memory(exc: BaseException) -> bool:
    """Under the memory cap, loading a shared library (Z3's) fails with ENOMEM from the dynamic loader."""
    text = f"{exc} {exc.__cause__ or ''} {exc.__context__ or ''}".lower()
    return any(s in text for s in ("failed to map segment", "cannot allocate memory", "out of memory"))
