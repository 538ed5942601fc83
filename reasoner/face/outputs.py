"""Where a command's reports go: `--format FMT[=FILE]` (repeatable) and `--output FILE`.

Input: the `--format` values of a command line (`Target`s, parsed by `target`), its `--output`, and the formats
the command offers.
Output: a `Plan` (`plan`): the targets of one run, each a format and a file, or stdout; `Plan.emit` renders each
format once and writes it where it goes.
Guarantee: at most one target writes to stdout (two would interleave); `--output FILE` sends the target that
names no file (by default `text`) to FILE; a format the command does not offer, or a file that cannot be
written, is a usage error (INPUT004, exit 2) before anything is analysed (files are opened when written, so a
bad directory is reported with its name). A file is written whole or not at all (written next to it, then
renamed), so a CI step never uploads half a document.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from reasoner.errors import InputError

__all__ = ["FORMATS", "Plan", "Target", "plan", "target"]

#: Every format of every command.
FORMATS = ("text", "json", "sarif", "junit", "github", "html", "jsonl")
_BAD_ARGUMENT = "INPUT004"  # reasoner.front.parse.INPUT_BAD_ARGUMENT (not imported: the parser is not needed here)


@dataclass(frozen=True)
class Target:
    """One report of a run: a format and the file it goes to (None: stdout)."""

    fmt: str
    path: str | None = None


def target(text: str) -> Target:
    """`FMT` or `FMT=FILE` (argparse type of `--format`)."""
    fmt, sep, path = text.partition("=")
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        raise argparse.ArgumentTypeError(f"`{fmt}` is not a format (choose from {', '.join(FORMATS)})")
    if sep and not path.strip():
        raise argparse.ArgumentTypeError(f"`{text}` names no file after `=`")
    return Target(fmt, path if sep else None)


@dataclass(frozen=True)
class Plan:
    """The targets of one run, in the order given."""

    targets: tuple[Target, ...]
    written: list[Target] = field(default_factory=list, compare=False)

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.fmt for t in self.targets))

    def emit(self, render: Callable[[str], str], stdout: TextIO, *, only: Sequence[str] | None = None,
             on_stdout: Callable[[str, str], str] | None = None) -> None:
        """Render each format once (`render(fmt)`) and write it to its file or to `stdout` (through
        `on_stdout(fmt, text)` when given: the terminal's styling); `only` restricts the formats (the error
        documents of a run whose input was unusable)."""
        cache: dict[str, str] = {}
        for t in self.targets:
            if only is not None and t.fmt not in only:
                continue
            if t.fmt not in cache:
                cache[t.fmt] = render(t.fmt)
            if t.path is None:
                stdout.write(on_stdout(t.fmt, cache[t.fmt]) if on_stdout is not None else cache[t.fmt])
            else:
                _write(t.path, cache[t.fmt])
            self.written.append(t)

    @property
    def pending(self) -> tuple[Target, ...]:
        """The targets not written yet."""
        return tuple(t for t in self.targets if t not in self.written)


def plan(formats: Sequence[Target] | None, output: str | None, offered: Sequence[str],
         default: str = "text") -> Plan:
    """The plan of a command offering `offered` formats (module docstring)."""
    given = list(formats or [Target(default)])
    for t in given:
        if t.fmt not in offered:
            raise InputError(f"`{t.fmt}` is not a format of this command (choose from {', '.join(offered)})",
                             code=_BAD_ARGUMENT)
    if output is not None:
        bare = [t for t in given if t.path is None]
        if len(bare) > 1:
            raise InputError(f"`--output` takes one format, not {len(bare)}: give the others a file "
                             "(`--format FMT=FILE`)", code=_BAD_ARGUMENT)
        given = [Target(t.fmt, output) if t.path is None else t for t in given]
        if not bare:
            raise InputError("`--output` names a file but every `--format` has one already", code=_BAD_ARGUMENT)
    to_stdout = [t for t in given if t.path is None]
    if len(to_stdout) > 1:
        raise InputError(f"{len(to_stdout)} formats would write to stdout: give all but one a file "
                         "(`--format FMT=FILE`) or use `--output FILE`", code=_BAD_ARGUMENT)
    for t in given:
        if t.path is not None:
            _check_writable(t.path)
    return Plan(tuple(given))


def _check_writable(path: str) -> None:
    directory = Path(path).parent if Path(path).parent != Path("") else Path(".")
    if Path(path).is_dir():
        raise InputError(f"cannot write the report `{path}`: it is a directory", code=_BAD_ARGUMENT)
    if not directory.is_dir() or not os.access(directory, os.W_OK):
        raise InputError(f"cannot write the report `{path}`: no writable directory `{directory}`",
                         code=_BAD_ARGUMENT)


def _write(path: str, text: str) -> None:
    import tempfile  # (only when a report goes to a file: not at start-up)

    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent if str(target.parent) else ".")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as `open` would create it (mkstemp makes it private)
        os.replace(tmp, target)
    except OSError as exc:
        raise InputError(f"cannot write the report `{path}`: {(exc.strerror or 'error').lower()}",
                         code=_BAD_ARGUMENT) from None
