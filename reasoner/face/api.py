"""The analyses of the command line as Python functions with readable results: `findings`, `diff`, `lint` and
`decide` of the facade (`reasoner.findings(...)`, ...), for scripts and notebooks.

Input: an environment (an `Environment`, or the path of a manifest or of one key policy, as the command line
takes them), and each analysis's options.
Output: a result object per analysis (`Findings`, `Diff`, `Lint`, `Decision`) holding the analysis's result
(`.result`; its fields are also read through the object: `findings(env).keys`), with `.text` (what the command
prints), `.exit_status` (what the command would exit with), `.json` and `.sarif`, `str()` (the text), a short
`repr`, and `_repr_markdown_` / `_repr_html_` for notebooks (the HTML shows each statement marked in its policy).
Guarantee: the same analysis, spans and renderers as the command line (`reasoner findings ENV` prints exactly
`reasoner.findings("ENV").text`); nothing is folded: an incomplete or unknown result says so in every form.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reasoner.errors import InputError
from reasoner.face.exit import ExitStatus, exit_status
from reasoner.semantics.environment import Environment

if TYPE_CHECKING:
    from reasoner.analyses.diff import DiffResult
    from reasoner.analyses.findings import FindingsResult
    from reasoner.analyses.hygiene import HygieneResult
    from reasoner.face.accepted import Triage
    from reasoner.semantics.request import Evaluation, Reason

__all__ = ["Decision", "Diff", "Findings", "Lint", "decide", "diff", "findings", "lint", "load_subject"]

Subject = Environment | str | os.PathLike[str]


def load_subject(subject: Subject, key_arn: str | None = None, root: str | Path | None = None,
                 options: Any = None) -> Environment:
    """An environment: given, or read from what the path holds (a manifest, CloudFormation template, CDK cloud
    assembly, Terraform plan, AWS export or a directory of them: `reasoner.front.importers`, `options` its
    `ImportOptions`), or one key policy (JSON) put on one key (its account guessed from the policy, or
    `key_arn`)."""
    from reasoner.analyses.findings import key_policy_environment
    from reasoner.front import importers
    from reasoner.front.ast import PolicyKind
    from reasoner.front.parse import load_policy
    from reasoner.semantics import arns

    if isinstance(subject, Environment):
        return subject
    path = os.fspath(subject)
    key = arns.parse_kms(key_arn, strict=True) if key_arn is not None else None
    if key_arn is not None and not (isinstance(key, arns.KeyArn) and arns.is_aws_partition(key.partition)):
        raise InputError(f"`--key-arn` must be a KMS key ARN, not `{key_arn}`", code="INPUT004",
                         help="a key ARN looks like `arn:aws:kms:REGION:ACCOUNT:key/KEY-ID`")
    opts = options if options is not None else importers.ImportOptions()
    fmt = opts.input_format
    if fmt is None:
        try:
            fmt = importers.detect(path)
        except InputError:
            if Path(path).suffix.lower() != ".json":
                raise
            fmt = "policy"  # a JSON file of no known format: reported as the key policy it may be meant as
        if fmt == "manifest" and Path(path).suffix.lower() == ".json":
            fmt = "policy"  # a missing or unreadable JSON file: reported as the key policy it was meant as
    if fmt == "policy":
        return key_policy_environment(load_policy(path, PolicyKind.KEY_POLICY), key_arn)
    if key_arn is not None:
        raise InputError("`--key-arn` applies to a key policy file (JSON), not to an environment", code="INPUT004")
    env: Environment = importers.load(path, root=None if root is None else os.fspath(root), options=opts)
    return env


def _bases(*environments: Environment) -> tuple[str, ...]:
    return tuple(os.path.dirname(env.source) for env in environments if env.source)


class _Shown:
    """What the results have in common: the forms of display, and the analysis's fields read through."""

    result: Any

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.result, name)

    @property
    def text(self) -> str:
        return self._render("text")

    @property
    def json(self) -> str:
        return self._render("json")

    @property
    def sarif(self) -> str:
        return self._render("sarif")

    def _render(self, fmt: str) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, repr=False)
class Findings(_Shown):
    """External access to each key (`reasoner findings`)."""

    result: FindingsResult
    bases: tuple[str, ...] = ()
    triage: Triage | None = None

    def _render(self, fmt: str) -> str:
        from reasoner.face.render import findings as render

        return render.render(fmt, self.result, triage=self.triage)

    @property
    def exit_status(self) -> ExitStatus:
        return exit_status(self.result, self.triage)

    def __repr__(self) -> str:
        from reasoner.analyses.result import Verdict

        incomplete = sum(k.complete is not Verdict.PROVED for k in self.result.keys)
        return (f"Findings({len(self.result.findings)} finding(s) on {len(self.result.keys)} key(s), "
                f"{sum(f.public for f in self.result.findings)} public, "
                + (f"{incomplete} key(s) INCOMPLETE)" if incomplete else "complete)"))

    def _repr_markdown_(self) -> str:
        from reasoner.face.render.markdown import findings_markdown

        return findings_markdown(self.result)

    def _repr_html_(self) -> str:
        from reasoner.face.render.html import findings_html

        return f'<div class="reasoner-findings">{findings_html(self.result, self.triage, bases=self.bases)}</div>'


@dataclass(frozen=True, repr=False)
class Diff(_Shown):
    """The access NEW adds and removes over OLD, or a proof that they are equivalent (`reasoner diff`)."""

    result: DiffResult
    bases: tuple[str, ...] = ()

    def _render(self, fmt: str) -> str:
        from reasoner.face.render import diff as render

        return render.render(fmt, self.result)

    @property
    def exit_status(self) -> ExitStatus:
        return exit_status(self.result)

    def __repr__(self) -> str:
        r = self.result
        return f"Diff({r.verdict.value}: {len(r.added)} added, {len(r.removed)} removed)"

    def _repr_markdown_(self) -> str:
        from reasoner.face.render.markdown import diff_markdown

        return diff_markdown(self.result)

    def _repr_html_(self) -> str:
        from reasoner.face.render.html import diff_html

        return f'<div class="reasoner-diff">{diff_html(self.result, bases=self.bases)}</div>'


@dataclass(frozen=True, repr=False)
class Lint(_Shown):
    """The hygiene checks of every key (`reasoner lint`)."""

    result: HygieneResult
    bases: tuple[str, ...] = ()
    triage: Triage | None = None

    def _render(self, fmt: str) -> str:
        from reasoner.face.render import hygiene as render

        return render.render(fmt, self.result, triage=self.triage)

    @property
    def exit_status(self) -> ExitStatus:
        return exit_status(self.result, self.triage)

    def __repr__(self) -> str:
        return f"Lint({len(self.result.issues)} issue(s), {len(self.result.undecided)} undecided)"

    def _repr_markdown_(self) -> str:
        from reasoner.face.render.markdown import lint_markdown

        return lint_markdown(self.result)

    def _repr_html_(self) -> str:
        from reasoner.face.render.html import lint_html

        return f'<div class="reasoner-lint">{lint_html(self.result, self.triage, bases=self.bases)}</div>'


@dataclass(frozen=True, repr=False)
class Decision(_Shown):
    """The decision on one request with the statements behind it (`reasoner decide`)."""

    result: Evaluation
    bases: tuple[str, ...] = ()
    #: what the decision assumes (the worst case for a caller whose account's IAM is not given, what the
    #: request assumes about a caller the environment does not describe), as `check` assumes it
    assumptions: tuple[Reason, ...] = ()

    def _render(self, fmt: str) -> str:
        from reasoner.face.requests import assumption_lines

        if fmt != "text":
            raise ValueError(f"a decision has no `{fmt}` form here (the command line has --format json)")
        return "".join([f"{self.result.decision.value}\n", *(f"  {r}\n" for r in self.result.reasons),
                        *(f"  {line}\n" for line in assumption_lines(self.assumptions))])

    @property
    def exit_status(self) -> ExitStatus:
        return exit_status(self.result)

    @property
    def allowed(self) -> bool:
        return bool(self.result.decision.allowed)

    def __repr__(self) -> str:
        r = self.result.request
        return f"Decision({self.result.decision.value}: {r.principal} calls {r.action} on {r.resource})"

    def _repr_markdown_(self) -> str:
        from reasoner.face.render.markdown import decision_markdown

        return decision_markdown(self.result)

    def _repr_html_(self) -> str:
        from reasoner.face.render.html import decision_html

        return f'<div class="reasoner-decision">{decision_html(self.result, bases=self.bases)}</div>'


def _triage(items: Any, accepted: str | os.PathLike[str] | None) -> Triage | None:
    if accepted is None:
        return None
    from reasoner.face import accepted as acceptances

    return acceptances.triage(items, acceptances.load(os.fspath(accepted)))


def findings(environment: Subject, zone_of_trust: tuple[str, ...] | list[str] = (), *, include_services: bool = False,
             timeout: float = 60.0, key_arn: str | None = None, root: str | Path | None = None,
             accepted: str | os.PathLike[str] | None = None) -> Findings:
    """Who outside the zone of trust (accounts and `o-...` organizations; default: each key's own account) can
    use each key, proved complete (docs/findings.md). `accepted`: an accepted-findings file."""
    from reasoner.analyses import findings as analysis
    from reasoner.batch import whole
    from reasoner.face.paths import rebase_findings

    env = load_subject(environment, key_arn, root)
    result = rebase_findings(whole.findings(env, analysis.parse_zone(list(zone_of_trust)),
                                            include_services=include_services, timeout=timeout), env)
    return Findings(result, _bases(env), _triage(result.findings, accepted))


def diff(old: Subject, new: Subject, *, timeout: float = 60.0, key_arn: str | None = None,
         root: str | Path | None = None) -> Diff:
    """Prove two environments (or two versions of a key policy) equivalent, or list what NEW adds and removes."""
    from reasoner.analyses import diff as analysis
    from reasoner.face.paths import rebase_diff

    before, after = analysis.same_key(load_subject(old, key_arn, root), load_subject(new, key_arn, root))
    result = rebase_diff(analysis.diff(before, after, timeout=timeout), before, after)
    return Diff(result, _bases(before, after))


def lint(environment: Subject, *, separation_of_duties: bool = False, timeout: float = 60.0,
         key_arn: str | None = None, root: str | Path | None = None,
         accepted: str | os.PathLike[str] | None = None) -> Lint:
    """The hygiene checks of every key: lockout, statements that never apply or are redundant, and (opt-in)
    separation of duties."""
    from reasoner.batch import whole
    from reasoner.face.paths import rebase_hygiene

    env = load_subject(environment, key_arn, root)
    result = rebase_hygiene(whole.lint(env, separation_of_duties=separation_of_duties, timeout=timeout), env)
    return Lint(result, _bases(env), _triage(result.issues, accepted))


def decide(environment: Subject, principal: str, action: str, resource: str,
           context: dict[str, str | list[str] | tuple[str, ...]] | None = None, *,
           assume: dict[str, str] | None = None, worst_case: bool = True,
           root: str | Path | None = None) -> Decision:
    """The decision of the reference evaluator on one request (no solver), with the statements behind it,
    as `check` replays a counterexample: a caller of an account whose IAM is not given may have identity
    policies that allow everything (`worst_case=False`: only what is given), and `assume` holds what a
    counterexample assumes about a caller the environment does not describe (`Request.assumed`: `org`,
    `uid`, `tag:K`, ... or the names `check` prints after `assuming`). The assumptions made are
    `Decision.assumptions`."""
    from reasoner.face.requests import decide as decide_request
    from reasoner.face.requests import parse_assume
    from reasoner.semantics.request import Request

    env = load_subject(environment, None, root)
    values = {k: (v,) if isinstance(v, str) else tuple(v) for k, v in (context or {}).items()}
    facts = parse_assume(f"{k}={v}" for k, v in (assume or {}).items())
    evaluation, notes = decide_request(env, Request(principal, action, resource, values, facts),
                                       worst_case=worst_case)
    return Decision(evaluation, _bases(env), notes)
