"""One error root, diagnostics and their stable codes.

Input: nothing (a vocabulary).
Output: `ReasonerError` and its subclasses, `Diagnostic`, `Severity`, the code catalogue `CODES`, and
`one_line`, which keeps a message with user input on one line.
Guarantee: every error that reaches a user is a `ReasonerError` with a stable `code`; a diagnostic carries
code, severity, span, message and optional help. Messages are lowercase, without a trailing period, with
user input in backticks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from reasoner.source import Span


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Diagnostic:
    """One finding about an input: a rejected construct (error) or a probable mistake (warning)."""

    code: str
    severity: Severity
    span: Span
    message: str
    help: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.file, self.span.line, self.span.col, self.code)

    def __str__(self) -> str:
        return f"{self.span}: {self.severity.value}: {self.code} {self.message}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """A message with the control characters of quoted user input (decoded `\\n`, `\\t`, ...) escaped,
    so that every message stays on one line (house style)."""
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(lambda m: json.dumps(m.group())[1:-1], text)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sort by position (file, line, column), then code; stable for equal keys."""
    return sorted(diagnostics, key=Diagnostic.sort_key)


class ReasonerError(Exception):
    """Root of every error this package raises on purpose."""

    code = "REASONER"

    def __init__(self, message: str, *, span: Span | None = None, code: str | None = None,
                 help: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        if code is not None:
            self.code = code
        self.help = help

    def to_diagnostic(self) -> Diagnostic:
        span = self.span or Span("<input>", 1, 1, 1, 2)
        return Diagnostic(self.code, Severity.ERROR, span, self.message, self.help)

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span else ""
        return f"{where}error: {self.code} {self.message}"


class InputError(ReasonerError, ValueError):
    """The input cannot be used (unreadable file, broken manifest, bad command-line value). Exit status 2."""

    code = "INPUT"


class InputErrors(InputError):
    """Several independent input errors of one run (every malformed policy of a manifest, say): nothing is
    lost. `errors` holds them in order; code and span are the first one's, and `str` gives one line each."""

    def __init__(self, errors: Iterable[InputError]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0]
        super().__init__(first.message, span=first.span, code=first.code, help=first.help)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def raise_all(errors: list[InputError]) -> None:
    """Raise the one error, or all of them together sorted by place; nothing when there is none."""
    errors = [one for e in errors for one in (e.errors if isinstance(e, InputErrors) else (e,))]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputErrors(sorted(errors, key=lambda e: e.to_diagnostic().sort_key()))


class PolicyValidationError(ReasonerError, ValueError):
    """A policy document was rejected; `diagnostics` holds every error and warning found."""

    code = "VALIDATION"

    def __init__(self, message: str, diagnostics: Iterable[Diagnostic], *, span: Span | None = None) -> None:
        self.diagnostics = tuple(sort_diagnostics(diagnostics))
        first = next((d for d in self.diagnostics if d.is_error), None)
        super().__init__(message, span=span or (first.span if first else None),
                         code=first.code if first else None)


class PolicySyntaxError(PolicyValidationError, SyntaxError):
    """A policy document is not well-formed JSON. Carries the diagnostics like `PolicyValidationError` (which it
    extends, so one `except PolicyValidationError` catches both) and the `SyntaxError` fields, so tracebacks and
    pytest show the position."""

    code = "PARSE001"

    def __init__(self, message: str, diagnostics: Iterable[Diagnostic], *, span: Span | None = None) -> None:
        super().__init__(message, diagnostics, span=span)
        where = self.span
        self.msg = message
        self.filename = where.file if where else None
        self.lineno = where.line if where else None
        self.offset = where.col if where else None
        self.end_lineno = where.end_line if where else None
        self.end_offset = where.end_col if where else None
        self.text = None

    def __str__(self) -> str:
        return ReasonerError.__str__(self)


class UnsupportedFeatureError(ReasonerError, NotImplementedError):
    """A construct that the analysis does not model; never silently skipped."""

    code = "UNSUPPORTED"


class InternalError(ReasonerError, RuntimeError):
    """A bug in the reasoner itself, e.g. the symbolic and concrete evaluations disagree."""

    code = "INTERNAL"


# Stable code catalogue: code -> (severity, short title). Codes are never reused or renumbered.
CODES: dict[str, tuple[Severity, str]] = {}


def register_code(code: str, severity: Severity, title: str) -> str:
    """Declare a diagnostic code once (at import time of the module that emits it)."""
    existing = CODES.get(code)
    if existing is not None and existing != (severity, title):
        raise InternalError(f"diagnostic code `{code}` registered twice with different meanings")
    CODES[code] = (severity, title)
    return code
