"""reasoner: an offline formal reasoner for AWS access policies.

The public API is what `__all__` lists; everything else is internal.
"""

from __future__ import annotations

from reasoner.version import __version__

#: Where each public name is defined. Nothing is imported before a name is first used, so that
#: `import reasoner` (and the command line, which imports this package first) costs only what it uses: the
#: property and environment classes ~45 ms, `check` and `compile_environment` Z3 (~90 ms) on top.
_LAZY = {
    **dict.fromkeys(("AccessNotGranted", "CanAccess", "ContextCondition", "Equivalent", "Eventually",
                     "NoNewAccess", "OnlyPrincipalsCan", "PrincipalScope", "ScopeKind", "every_principal_of"),
                    "reasoner.analyses.properties"),
    **dict.fromkeys(("CheckResult", "Verdict"), "reasoner.analyses.result"),
    **dict.fromkeys(("Diagnostic", "InputError", "InternalError", "PolicySyntaxError", "PolicyValidationError",
                     "ReasonerError", "Severity", "UnsupportedFeatureError"), "reasoner.errors"),
    **dict.fromkeys(("Effect", "PolicyDocument", "PolicyKind", "Statement"), "reasoner.front.ast"),
    **dict.fromkeys(("Account", "Environment", "Grant", "Key", "NotPrincipalMode", "Options", "Organization",
                     "Principal", "PrincipalKind", "Session"), "reasoner.semantics.environment"),
    **dict.fromkeys(("Decision", "Evaluation", "Reason", "Request"), "reasoner.semantics.request"),
    "Span": "reasoner.source",
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


#: The entry points, looked up in their module at every use (as they always were), so that a module replaced in
#: `sys.modules` (tests of the command line and the pytest plugin do) is the one used; the other names are
#: classes and constants, kept here once imported.
_RESOLVED_EACH_TIME = frozenset({"check", "compile_environment", "CompiledEnvironment", "load_environment",
                                 "parse_policy", "load_policy", "evaluate", "findings", "diff", "lint", "decide"})


def __getattr__(name: str) -> object:
    """A public name, imported from its module when first used and then kept here (`_LAZY`). `check` is
    `reasoner.language.property_files.check`: `reasoner.analyses.pipeline.check` that also takes a claim string.
    `findings`, `diff`, `lint` and `decide` are the command line's analyses with readable results
    (`reasoner.face.api`: `.text`, `.exit_status`, and Markdown and HTML forms in notebooks)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'reasoner' has no attribute {name!r}")
    import importlib

    if name in _DISPLAYED:
        importlib.import_module("reasoner.face.render.results")
    value = getattr(importlib.import_module(module), name)
    if name not in _RESOLVED_EACH_TIME:
        globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
