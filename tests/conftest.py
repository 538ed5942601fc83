"""Shared test configuration: Hypothesis profiles and corpus location."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", deadline=None, max_examples=2000,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# Verdicts in tests are bounded by the solver's resource limit and the size budgets (counts, the same on any
# machine under any load), never by wall clock: the default time limits of the analyses move far off, as a
# safety net only. Tests about time limits pass their own and drive a fake clock (tests/robustness).
from reasoner import limits  # noqa: E402

limits.DEFAULT_TIMEOUT_S = 900.0
limits.DEFAULT_RUN_TIMEOUT_S = 900.0

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("REASONER_CORPUS", ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared policy corpus; tests that need it skip with a clear message when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"policy corpus not found at {CORPUS} (set REASONER_CORPUS to its path)")
    return CORPUS
