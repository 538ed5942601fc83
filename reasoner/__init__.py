"""reasoner: an offline formal reasoner for AWS access policies.

The public API is what `__all__` lists; everything else is internal.
"""

from __future__ import annotations

from reasoner.analyses.properties import (
    AccessNotGranted,
    CanAccess,
    ContextCondition,
    Equivalent,
    Eventually,
    NoNewAccess,
    OnlyPrincipalsCan,
    PrincipalScope,
    ScopeKind,
    every_principal_of,
)
from reasoner.analyses.result import CheckResult, Verdict
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
from reasoner.front.ast import Effect, PolicyDocument, PolicyKind, Statement
from reasoner.semantics.environment import (
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
from reasoner.semantics.request import Decision, Evaluation, Reason, Request
from reasoner.source import Span
from reasoner.version import __version__

_LAZY = {
    "check": "reasoner.language.property_files",
    "compile_environment": "reasoner.analyses.pipeline",
    "CompiledEnvironment": "reasoner.analyses.pipeline",
    "load_environment": "reasoner.front.manifest",
    "parse_policy": "reasoner.front.parse",
    "load_policy": "reasoner.front.parse",
    "evaluate": "reasoner.semantics.evaluate",
    "findings": "reasoner.face.api",
    "diff": "reasoner.face.api",
    "lint": "reasoner.face.api",
    "decide": "reasoner.face.api",
}


#: The names that give `CheckResult`s: loading one also loads the face's renderer, which installs the results'
#: readable `repr` and notebook forms (`reasoner.analyses.result.register_display`).
_DISPLAYED = frozenset({"check", "compile_environment", "CompiledEnvironment"})


def __getattr__(name: str) -> object:
    """`check` and `compile_environment` load Z3 (~90 ms) only when first used. `check` is
    `reasoner.language.property_files.check`: `reasoner.analyses.pipeline.check` that also takes a claim string.
    `findings`, `diff`, `lint` and `decide` are the command line's analyses with readable results
    (`reasoner.face.api`: `.text`, `.exit_status`, and Markdown and HTML forms in notebooks)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'reasoner' has no attribute {name!r}")
    import importlib

    if name in _DISPLAYED:
        importlib.import_module("reasoner.face.render.results")
    return getattr(importlib.import_module(module), name)

__all__ = [
    "AccessNotGranted",
    "Account",
    "CanAccess",
    "CheckResult",
    "CompiledEnvironment",
    "ContextCondition",
    "Decision",
    "Diagnostic",
    "Effect",
    "Environment",
    "Equivalent",
    "Evaluation",
    "Eventually",
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
    "decide",
    "diff",
    "evaluate",
    "every_principal_of",
    "findings",
    "lint",
    "load_environment",
    "load_policy",
    "parse_policy",
]
