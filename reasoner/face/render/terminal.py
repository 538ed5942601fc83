"""Text for a person at a terminal: the plain text report with colour, then a table that fits the terminal's width.

Input: the plain text of a command's report (what `render_text` gives), an optional table (`Table`: headers and
rows) and the stream it goes to, with the environment.
Output: `wanted(stream, environ)` (whether to style at all) and `styled(text, table, ...)` (the text with its
verdicts, severities and `file:line:col` coloured, then the table drawn with `rich`, columns folded to the width).
Guarantee: nothing changes unless the stream is a terminal and `CI` is not set (CI logs, pipes, files and every
golden file get the plain text, byte for byte); `NO_COLOR` (any value) removes every colour but keeps the
table; `TERM=dumb` is plain text. The text's lines and words are those of the plain report: colour only.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

__all__ = ["Table", "styled", "wanted"]

#: Words of the reports and their styles (rich style names).
_STYLES: tuple[tuple[str, str], ...] = (
    (r"\bPROVED\b|complete \(PROVED\)|\bALLOW\b|\bclean\b", "bold green"),
    (r"\bREFUTED\b|\bPUBLIC\b|\berror\b|\bDIFFERENT\b|\bEXPLICIT_DENY\b", "bold red"),
    (r"\bUNKNOWN\b|\bINCOMPLETE\b|\bwarning\b|\bexternal\b|\bIMPLICIT_DENY\b", "bold yellow"),
    (r"\bnote\b|\baccepted\b|in the baseline", "cyan"),
    (r"(?m)^\S+?:\d+:\d+(?=:)|\S+\.(?:json|ya?ml|access):\d+:\d+", "blue"),
    (r"\b[A-Z]{3,5}\d{3}\b", "magenta"),
)


@dataclass(frozen=True)
class Table:
    """A table under the report: a title, the column headers and the rows (cells are plain text)."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def wanted(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Style the report: `stream` is a terminal, `CI` is not set and `TERM` is not `dumb`."""
    env = os.environ if environ is None else environ
    if env.get("CI") or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


def styled(text: str, table: Table | None = None, *, environ: Mapping[str, str] | None = None,
           width: int | None = None) -> str:
    """`text` coloured (no colour under `NO_COLOR`), then `table` drawn to `width` columns (default: the
    terminal's, else 100)."""
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    env = os.environ if environ is None else environ
    columns = width or shutil.get_terminal_size(fallback=(100, 24)).columns
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=columns, no_color="NO_COLOR" in env,
                      color_system="standard", highlight=False, soft_wrap=True, emoji=False, markup=False)
    body = Text(text.rstrip("\n"))
    for pattern, style in _STYLES:
        body.highlight_regex(pattern, style)
    console.print(body)
    if table is not None and table.rows:
        grid = RichTable(title=table.title, title_justify="left", expand=False, show_lines=False)
        for header in table.headers:
            grid.add_column(header, overflow="fold")
        for row in table.rows:
            cells = [Text(cell) for cell in row]
            for cell in cells:
                for pattern, style in _STYLES[:3]:
                    cell.highlight_regex(pattern, style)
            grid.add_row(*cells)
        console.print(grid)
    return buffer.getvalue()

