"""Text on a terminal (reasoner/face/render/terminal.py; issue 16): colour and a table fitted to the width on a
terminal, exactly the plain text everywhere else (CI, pipes, files: what the golden files pin)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from reasoner.face.cli import main

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[\d;]*m")
COLOUR = re.compile(r"\x1b\[[\d;]*?(?:3[0-7]|9[0-7])(?:;[\d;]*)?m")
TIMES = re.compile(r"\d+\.\d+ s|\d+ ms|^\s+e\.g\. .*$|^\s+counterexample: .*$|^\s{4,}\S.*$", re.M)  # and solver picks


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _terminal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for name in ("CI", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "100")


def run(*argv: str, tty: bool = True) -> tuple[int, str]:
    out = Terminal() if tty else io.StringIO()
    status = main(list(argv), out, io.StringIO())
    return status, out.getvalue()


@pytest.mark.parametrize(("argv", "columns"), [
    (("findings", "examples/org/environment.yaml"), ("key", "kind", "principal", "actions", "conditions")),
    (("check", "examples/org/failing"), ("verdict", "assertion", "where", "time")),
    (("lint", "examples/org/environment.yaml"), ("code", "severity", "where", "key")),
])
def test_colour_and_a_table_on_a_terminal(argv: tuple[str, ...], columns: tuple[str, ...]) -> None:
    status, plain = run(*argv, tty=False)
    assert "\x1b[" not in plain
    status_tty, shown = run(*argv)
    assert status_tty == status
    assert COLOUR.search(shown), "no colour on a terminal"
    visible, plain = TIMES.sub("T", ANSI.sub("", shown)), TIMES.sub("T", plain)
    last = plain.splitlines()[-1]
    text, _, table = visible.partition(last + "\n")  # the plain report, then the table
    assert text + last == plain.rstrip("\n")  # the same lines and words as the plain text
    header = next(line for line in table.splitlines() if columns[0] in line)
    assert all(c in header for c in columns)


@pytest.mark.parametrize("width", [60, 140])
def test_the_table_fits_the_width(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    _, shown = run("findings", "examples/org/environment.yaml")
    table = ANSI.sub("", shown).split("\nfindings\n", 1)[1]
    widths = [len(line) for line in table.splitlines()]
    assert max(widths) <= width and (width == 140 or max(widths) >= width - 10), widths


def test_no_color_keeps_the_table_without_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    _, shown = run("check", "examples/org/failing")
    assert not COLOUR.search(shown) and "verdict" in shown


@pytest.mark.parametrize("env", [{"CI": "true"}, {"TERM": "dumb"}])
def test_ci_and_dumb_terminals_get_the_plain_text(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    _, shown = run("check", "examples/org/checks")
    _, plain = run("check", "examples/org/checks", tty=False)
    assert TIMES.sub("T", shown) == TIMES.sub("T", plain) and "\x1b[" not in shown


def test_a_file_gets_the_plain_text(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    _, shown = run("lint", "examples/org/environment.yaml", "--format", f"text={target}", "--format", "json")
    assert "\x1b[" not in target.read_text() and shown.lstrip().startswith("{")
    assert os.path.getsize(target) > 0
