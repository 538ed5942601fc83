"""Source text and positions.

Input: policy or manifest text with the name of the file it came from.
Output: `SourceFile` (text + line index) and `Span` (file, line, column, end line, end column; all 1-based,
end column exclusive), `rebase_span` (a span of a file named relative to a manifest, made usable from the
current directory) and `render_snippet`, the caret context printed under a diagnostic.
Guarantee: spans are plain values (frozen, hashable); rendering never raises on any span, even one
that lies outside the text.
"""

from __future__ import annotations

import dataclasses
import os
import re
from bisect import bisect_right
from dataclasses import dataclass, field

_NEWLINE = re.compile("\n")
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


@dataclass(frozen=True, order=True)
class Span:
    """A region of a source file. Lines and columns are 1-based; `end_col` is exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    @staticmethod
    def point(file: str, line: int, col: int) -> Span:
        return Span(file, line, col, line, col + 1)


@dataclass(frozen=True)
class SourceFile:
    """The text of one input file and an index from offsets to (line, column)."""

    name: str
    text: str
    _line_starts: tuple[int, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        starts.extend(m.end() for m in _NEWLINE.finditer(self.text))
        object.__setattr__(self, "_line_starts", tuple(starts))

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a 0-based character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def offset(self, line: int, col: int) -> int:
        """0-based character offset of a 1-based (line, column), clamped to the text."""
        if line < 1:
            return 0
        if line > len(self._line_starts):
            return len(self.text)
        return max(0, min(self._line_starts[line - 1] + col - 1, len(self.text)))

    def span(self, start: int, end: int) -> Span:
        """Span of the characters `text[start:end]`."""
        line, col = self.position(start)
        end_line, end_col = self.position(max(start, end))
        if (end_line, end_col) == (line, col):
            end_col = col + 1
        return Span(self.name, line, col, end_line, end_col)

    def line_text(self, line: int, *, max_width: int | None = None, around: int = 1) -> str:
        """The text of a line; with `max_width`, only the window of that width a snippet shows around
        column `around` when the line is wider."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        if max_width is not None and end - start > max_width:
            lo = max(0, max(1, around) - 1 - max_width // 3)
            return self.text[start + lo : min(end, start + lo + max_width)].rstrip("\r")
        return self.text[start:end].rstrip("\r")

    def line_width(self, line: int) -> int:
        """Length of `line_text(line)` without building it."""
        if line < 1 or line > len(self._line_starts):
            return 0
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return end - start - (1 if end > start and self.text[end - 1] == "\r" else 0)

    def line_count(self) -> int:
        """The number of lines (`len(text.splitlines())`), computed once."""
        n: int | None = self.__dict__.get("_line_count")
        if n is None:
            n = len(self.text.splitlines())
            object.__setattr__(self, "_line_count", n)
        return n


def rebase_span(span: Span, base_dir: str) -> Span:
    """`span` with a file name usable from the current directory: a relative name that denotes an existing file
    under `base_dir` (the directory of the manifest that named the file) gets `base_dir` as prefix; any other
    span (absolute, already usable, or of a file that is not there) is returned unchanged."""
    if not base_dir or os.path.isabs(span.file):
        return span
    joined = os.path.normpath(os.path.join(base_dir, span.file))
    if joined != span.file and os.path.isfile(joined):
        return dataclasses.replace(span, file=joined)
    return span


def render_snippet(source: SourceFile | None, span: Span, *, max_width: int = 120) -> str:
    """Return the source line of `span` with a caret underline, e.g.::

         3 |     "Effect": "allow",
           |               ^^^^^^^
    Returns "" when the text is not available.
    """
    if source is None:
        return ""
    text = source.line_text(span.line, max_width=max_width, around=span.col)
    if not text and span.line > 1 and span.line > source.line_count() + 1:
        return ""
    width = source.line_width(span.line)
    start = max(1, span.col)
    end = span.end_col if span.end_line == span.line else width + 1
    end = max(end, start + 1)
    if width > max_width:
        # keep the caret region visible (`line_text` cut the same window: the work is bounded by
        # `max_width`, not by the line, so a thousand diagnostics on one long line stay linear)
        lo = max(0, start - 1 - max_width // 3)
        start -= lo
        end = min(end - lo, len(text) + 1)
    # one visible character per control character: the carets stay aligned and a raw NUL, ESC or CR
    # never reaches the terminal
    text = _CONTROL.sub("\ufffd", text.replace("\t", " "))
    gutter = str(span.line)
    pad = " " * len(gutter)
    carets = "^" * max(1, min(end, len(text) + 1) - start)
    return f"{gutter} | {text}\n{pad} | {' ' * (start - 1)}{carets}"
