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
from reasoner.request import Decision, Evaluation, Reason, Request
from reasoner.result import CheckResult, Verdict
from reasoner.source import Span

__all__ = [
    "Account",
    "CheckResult",
    "Decision",
    "Diagnostic",
    "Effect",
    "Environment",
    "Evaluation",
    "Grant",
    "InputError",
    "InternalError",
    "Key",
    "NotPrincipalMode",
    "Options",
    "Organization",
    "PolicyDocument",
    "PolicyKind",
    "PolicySyntaxError",
    "PolicyValidationError",
    "Principal",
    "PrincipalKind",
    "ReasonerError",
    "Reason",
    "Request",
    "Session",
    "Severity",
    "Span",
    "Statement",
    "UnsupportedFeatureError",
    "Verdict",
    "__version__",
]
