"""Command line: `reasoner validate|decide|check ...`.

Input: argv.
Output: text or JSON on stdout/stderr and an exit status.
Guarantee: `main(argv, stdout, stderr) -> int` never lets a traceback reach the user; exit statuses are a
contract (see EXIT_CODES), documented in `--help` and the README.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from reasoner import __version__
from reasoner.errors import InputError, InternalError, ReasonerError

EXIT_OK = 0  # clean / every property holds / allowed
EXIT_FINDINGS = 1  # validation errors found / a property is refuted
EXIT_INPUT = 2  # usage or input error: the input could not be used
EXIT_UNKNOWN = 3  # no property refuted, but at least one is unknown
EXIT_INTERNAL = 4  # a bug in the reasoner (reported, never a wrong answer)

EXIT_CODES = """exit status:
  0  success: no errors / every assertion holds
  1  findings: validation errors / at least one assertion refuted
  2  usage or input error: a file could not be read or is unusable
  3  no assertion refuted, but at least one is unknown (timeout, resource limit, unsupported)
  4  internal error in the reasoner (please report it with --dump smt2)"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reasoner",
        description="Formal reasoner for AWS access policies (KMS key policies and IAM).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"reasoner {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_validate(sub)
    return parser


# ---- validate ----------------------------------------------------------------------------------------

def _add_validate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("validate", help="parse and validate policy documents",
                       epilog="exit status: 0 clean (warnings allowed), 1 errors found, 2 input unreadable",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--kind", default=None,
                   choices=["key", "identity", "scp", "rcp", "boundary", "session", "resource"],
                   help="policy kind (default: guessed from the document)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(handler=_cmd_validate)


def _cmd_validate(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    raise InternalError("validate is not implemented yet")


# ---- entry point -------------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # argparse: --help / --version (0) or usage error (2)
        return int(exc.code or 0)
    if not getattr(args, "handler", None):
        parser.print_help(out)
        return EXIT_INPUT
    try:
        return int(args.handler(args, out, err))
    except InputError as exc:
        err.write(f"{exc}\n")
        return EXIT_INPUT
    except InternalError as exc:
        err.write(f"{exc}\n")
        return EXIT_INTERNAL
    except ReasonerError as exc:
        err.write(f"{exc}\n")
        return EXIT_INPUT
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return 130
    except Exception as exc:  # a bug: report it in one line, never a traceback
        err.write(f"error: INTERNAL unexpected {type(exc).__name__}: {exc}\n")
        return EXIT_INTERNAL
