"""pytest plugin: property files as test items, and assertions for properties written in Python.

Input: `*.access` property files that pytest comes across while collecting (installed through the `pytest11`
entry point, so `pytest` alone picks them up), and `assert_proved` / `assert_refuted` calls in test code.
Output: one test item per assertion. PROVED passes; REFUTED fails with the counterexample and the responsible
statements as its report; UNKNOWN fails, unless allowed (the `allowing unknown` modifier in the file, the
`reasoner_allow_unknown` marker, or the `reasoner_allow_unknown = true` ini option), in which case it is
reported as skipped with the reason, never as passed.
Guarantee: a file that does not parse or names unknown things is a collection error with the same
`file:line:col` message, caret and hint as `reasoner check`. Items carry the `reasoner` marker, so
`-m "not reasoner"` deselects them. Only files ending in `.access` are collected.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reasoner.analyses.properties import Property
from reasoner.analyses.result import CheckResult, Verdict, rebase_spans
from reasoner.errors import ReasonerError
from reasoner.face.render.results import render_text
from reasoner.face.report import Report
from reasoner.language import property_files as props
from reasoner.semantics.environment import Environment

DEFAULT_TIMEOUT = 30.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("reasoner", "reasoner property files")
    group.addoption("--reasoner-timeout", type=float, default=None, metavar="S",
                    help="wall-clock limit per assertion of a property file (default: ini reasoner_timeout)")
    group.addoption("--reasoner-rlimit", type=int, default=None, metavar="N",
                    help="solver resource limit per assertion (machine-independent budgets in CI)")
    parser.addini("reasoner_timeout", "wall-clock limit per assertion in seconds (default 30)",
                  default=str(DEFAULT_TIMEOUT))
    parser.addini("reasoner_allow_unknown", "report UNKNOWN verdicts as skipped instead of failed",
                  type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reasoner: an assertion collected from a property file (*.access)")
    config.addinivalue_line("markers",
                            "reasoner_allow_unknown: an UNKNOWN verdict is reported as skipped, not failed")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == props.SUFFIX:
        return PropertyFileCollector.from_parent(parent, path=file_path)
    return None


_COMPILER_KEY = pytest.StashKey[props.Compiler]()


def _compiler(config: pytest.Config) -> props.Compiler:
    """One compiler per session, so each environment manifest is loaded once."""
    if _COMPILER_KEY not in config.stash:
        config.stash[_COMPILER_KEY] = props.Compiler()
    return config.stash[_COMPILER_KEY]


class PropertyFileCollector(pytest.File):
    """A property file: one `AssertionItem` per assertion (those of included files too)."""

    def collect(self) -> Iterator[pytest.Item]:
        # report paths relative to where pytest runs, like `reasoner check` does
        path = self.path.relative_to(Path.cwd()) if self.path.is_relative_to(Path.cwd()) else self.path
        try:
            assertions = _compiler(self.config).compile_file(path)
        except ReasonerError as exc:
            raise self.CollectError(str(exc)) from None
        for a in assertions:
            yield AssertionItem.from_parent(self, name=a.name, assertion=a)


class PropertyNotProved(AssertionError):
    """Raised by an item or a helper whose verdict is not the expected one; carries the result."""

    def __init__(self, report: Report, expected: str = "PROVED") -> None:
        self.report = report
        self.expected = expected
        super().__init__(describe_failure(report, expected))


def describe_failure(report: Report, expected: str = "PROVED") -> str:
    return f"expected {expected}, got {report.result.verdict.value}\n" + render_text([report]).rstrip("\n")


class AssertionItem(pytest.Item):
    """One assertion of a property file."""

    def __init__(self, *, assertion: props.Assertion, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.assertion = assertion
        self.add_marker("reasoner")
        if assertion.allow_unknown:
            self.add_marker("reasoner_allow_unknown")

    def _timeout(self) -> float:
        if self.assertion.timeout is not None:
            return self.assertion.timeout
        option = self.config.getoption("--reasoner-timeout")
        if option is not None:
            return float(option)
        return float(self.config.getini("reasoner_timeout") or DEFAULT_TIMEOUT)

    def _allow_unknown(self) -> bool:
        return bool(self.get_closest_marker("reasoner_allow_unknown")
                    or self.config.getini("reasoner_allow_unknown"))

    def runtest(self) -> None:
        a = self.assertion
        result = _run(a.environment, a.property, timeout=self._timeout(),
                      rlimit=self.config.getoption("--reasoner-rlimit"), name=a.name)
        self.user_properties.append(("verdict", result.verdict.value))
        report = Report(result, a.name, a.span, self._allow_unknown())
        if result.verdict is Verdict.PROVED:
            return
        if result.verdict is Verdict.UNKNOWN and report.allow_unknown:
            pytest.skip(f"UNKNOWN (allowed): {result.reason}")
        raise PropertyNotProved(report)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | Any:
        if isinstance(excinfo.value, PropertyNotProved):
            return str(excinfo.value)
        if isinstance(excinfo.value, ReasonerError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, self.assertion.span.line - 1, f"assertion \"{self.name}\""


def _run(environment: Environment, prop: Property, *, timeout: float, rlimit: int | None = None,
         name: str | None = None) -> CheckResult:
    import dataclasses

    from reasoner.analyses.pipeline import check

    result = check(environment, prop, timeout=timeout, rlimit=rlimit)
    if name is not None and result.name is None:
        result = dataclasses.replace(result, name=name)
    return rebase_spans(result, environment)


def _property(environment: Environment, prop: Property | str) -> Property:
    if isinstance(prop, str):
        return props.parse_property(prop, environment)
    return prop


def assert_proved(environment: Environment, prop: Property | str, *, timeout: float = DEFAULT_TIMEOUT,
                  rlimit: int | None = None) -> CheckResult:
    """Check `prop` (a property value, or a claim in the property language) and fail the test with the
    counterexample unless it is PROVED. Returns the result."""
    result = _run(environment, _property(environment, prop), timeout=timeout, rlimit=rlimit)
    if result.verdict is not Verdict.PROVED:
        raise PropertyNotProved(_report(result))
    return result


def assert_refuted(environment: Environment, prop: Property | str, *, timeout: float = DEFAULT_TIMEOUT,
                   rlimit: int | None = None) -> CheckResult:
    """Check `prop` and fail the test unless it is REFUTED (e.g. a regression test that a known-bad policy
    is caught). Returns the result, whose `counterexample` the test can inspect further."""
    result = _run(environment, _property(environment, prop), timeout=timeout, rlimit=rlimit)
    if result.verdict is not Verdict.REFUTED:
        raise PropertyNotProved(_report(result), expected="REFUTED")
    return result


def _report(result: CheckResult) -> Report:
    from reasoner.face.render.results import as_report

    return as_report(result)
