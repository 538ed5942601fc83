"""reasoner: an offline formal reasoner for AWS access policies.

The public API is what `__all__` lists; everything else is internal.
"""

from __future__ import annotations

__version__ = "0.1.0"

from reasoner.ast import Effect, PolicyDocument, PolicyKind, Statement
from reasoner.environment import (
    Account,
    Environment,
    Grant,
    Key,
    NotPrincipalMode,
    Options,
    Organization,
    Principal,
    PrincipalKind,
    Session,
)
from reasoner.errors import (
    Diagnostic,
    InputError,
    InternalError,
    PolicySyntaxError,
    PolicyValidationError,
    ReasonerError,
    Severity,
    UnsupportedFeatureError,
)
from reasoner.properties import (
    AccessNotGranted,
    CanAccess,
    Equivalent,
    NoNewAccess,
    OnlyPrincipalsCan,
    PrincipalScope,
    ScopeKind,
)
from reasoner.request import Decision, Evaluation, Reason, Request
from reasoner.result import CheckResult, Verdict
from reasoner.source import Span

_LAZY = {"check": "reasoner.props", "compile_environment": "reasoner.pipeline",
         "CompiledEnvironment": "reasoner.pipeline", "load_environment": "reasoner.manifest",
         "parse_policy": "reasoner.parse", "load_policy": "reasoner.parse", "evaluate": "reasoner.evaluate"}


def __getattr__(name: str) -> object:
    """`check` and `compile_environment` load Z3 (~90 ms) only when first used. `check` is
    `reasoner.props.check`: `reasoner.pipeline.check` that also takes a claim string."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'reasoner' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)

__all__ = [
    "AccessNotGranted",
    "Account",
    "CanAccess",
    "CheckResult",
    "CompiledEnvironment",
    "Decision",
    "Diagnostic",
    "Effect",
    "Environment",
    "Equivalent",
    "Evaluation",
    "Grant",
    "InputError",
    "InternalError",
    "Key",
    "NoNewAccess",
    "NotPrincipalMode",
    "OnlyPrincipalsCan",
    "Options",
    "Organization",
    "PolicyDocument",
    "PolicyKind",
    "PolicySyntaxError",
    "PolicyValidationError",
    "Principal",
    "PrincipalKind",
    "PrincipalScope",
    "Reason",
    "ReasonerError",
    "Request",
    "ScopeKind",
    "Session",
    "Severity",
    "Span",
    "Statement",
    "UnsupportedFeatureError",
    "Verdict",
    "__version__",
    "check",
    "compile_environment",
    "evaluate",
    "load_environment",
    "load_policy",
    "parse_policy",
]
