"""Built-in hygiene checks for key policies: lockout, separation of duties (opt-in), dead statements.

Input: an `Environment` (a manifest, or a key policy wrapped by `findings.key_policy_environment`).
Output: `HygieneResult`: issues with stable codes, spans, the proof (the unsat query) or the concrete
requests behind them, plus the checks that ended UNKNOWN with their reason.
Guarantee: every issue is decided by the solver over the whole decision of `evaluate.evaluate`:
- HYG001 lockout: no principal of the key's own account can call kms:PutKeyPolicy on the key in any
  context (unsat), so the key policy can never be changed again.
- HYG002 separation of duties (opt-in): one principal can both administer the key (`ADMIN_ACTIONS`) and use
  it for cryptography (`CRYPTO_ACTIONS`); both requests are replayed through the evaluator.
- HYG003 a statement never applies: no request of the analysed actions satisfies its principal, action,
  resource and conditions for the key (unsat).
- HYG004 a statement is redundant: removing it changes no decision (for an Allow: every request it allows
  is allowed by other statements or denied; for a Deny: every request it denies is denied without it),
  proved by an unsat query comparing the policy with and without the statement, for every identity policy
  an account with unknown IAM may have (both extremes: allow everything, allow nothing).
Statements whose actions are all outside the analysed KMS key actions (alias actions, kms:CreateKey, other
services) are not judged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from reasoner import limits
from reasoner.analyses import unresolved
from reasoner.analyses.conditions import principal_is
from reasoner.analyses.explain import confirm
from reasoner.analyses.findings import Engine, Subject, class_term, derive_class, subjects_of
from reasoner.errors import Diagnostic, Severity, UnsupportedFeatureError, register_code
from reasoner.front.ast import Effect, Statement
from reasoner.semantics.environment import Environment, Key
from reasoner.semantics.evaluate import match_action
from reasoner.semantics.request import Request
from reasoner.source import Span
from reasoner.symbolic import smt
from reasoner.symbolic.solve import DEFAULT_RLIMIT, Status

LOCKOUT = register_code("HYG001", Severity.ERROR, "key policy lockout")
SEPARATION = register_code("HYG002", Severity.WARNING, "separation of duties violated")
NEVER_APPLIES = register_code("HYG003", Severity.WARNING, "statement never applies")
REDUNDANT = register_code("HYG004", Severity.WARNING, "statement is redundant")
UNDECIDED = register_code("HYG005", Severity.NOTE, "hygiene check undecided")

#: Key administration (changes the key, its material, state or policy): semantics of the AWS default key
#: policy's "key administrators" statement, without its read-only and grant actions.
ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:CancelKeyDeletion",
    "kms:DeleteImportedKeyMaterial",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:ImportKeyMaterial",
    "kms:PutKeyPolicy",
    "kms:ReplicateKey",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:SynchronizeMultiRegionKey",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
    "kms:UpdatePrimaryRegion",
)
#: Cryptographic use of the key.
CRYPTO_ACTIONS: tuple[str, ...] = (
    "kms:Decapsulate",
    "kms:Decrypt",
    "kms:DeriveSharedSecret",
    "kms:Encapsulate",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateMac",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:Sign",
    "kms:Verify",
    "kms:VerifyMac",
)
MAX_SOD_ROUNDS = 16


@dataclass(frozen=True)
class Issue:
    code: str
    severity: Severity
    key: str
    span: Span
    message: str
    proof: str = ""
    requests: tuple[Request, ...] = ()
    statement: int | None = None

    def to_diagnostic(self) -> Diagnostic:
        return Diagnostic(self.code, self.severity, self.span, self.message, self.proof or None)


@dataclass(frozen=True)
class HygieneResult:
    issues: tuple[Issue, ...]
    undecided: tuple[Issue, ...]
    checks: int
    queries: int
    seconds: float

    def diagnostics(self) -> list[Diagnostic]:
        return [i.to_diagnostic() for i in (*self.issues, *self.undecided)]


class _Undecided(Exception):
    pass


def _solve(engine: Engine, term: smt.Term) -> tuple[bool, Request | None]:
    status, req, why = engine.solve(term)
    if status is Status.UNKNOWN:
        raise _Undecided(why or "solver returned unknown")
    return status is Status.SAT, req


def _policy_span(key: Key) -> Span:
    return key.policy.span


def check_lockout(engine: Engine, key: Key) -> Issue | None:
    d = engine.compiled.domain
    q = smt.and_(
        engine.compiled.encoded.allows,
        d.key_is(key),
        d.action_is("kms:PutKeyPolicy"),
        d.account_is(key.account),
    )
    sat, req = _solve(engine, q)
    if sat:
        assert req is not None
        confirm(engine.env, req, True, "a PutKeyPolicy witness")
        return None
    return Issue(
        LOCKOUT,
        Severity.ERROR,
        key.arn,
        _policy_span(key),
        f"no principal of account {key.account} can call kms:PutKeyPolicy on key `{key.arn}`: the key "
        f"policy can never be changed again",
        "unsat: allowed(kms:PutKeyPolicy) by a principal of the owning account",
    )


def _analysed(st: Statement, actions: tuple[str, ...]) -> bool:
    if st.action is None:
        return False
    return any(match_action(st.action, a) for a in actions)


def check_statements(engine: Engine, key: Key | Subject) -> list[Issue]:
    """HYG003 and HYG004 for every statement of the key policy (or of a resource's or role's policy)."""
    d = engine.compiled.domain
    if isinstance(key, Key):
        key = Subject(key.arn, key.account, key.policy, "AWS::KMS::Key", key)
    terms = engine.statement_terms(key)
    on_key = d.target_is(key.arn)
    noun = "key" if key.key is not None else "resource"
    out: list[Issue] = []
    for st in key.policy.statements:
        if not _analysed(st, d.actions):
            continue
        t = terms.get(st.index, smt.FALSE)
        sat, _ = _solve(engine, smt.and_(t, on_key)) if t != smt.FALSE else (False, None)
        if not sat:
            out.append(
                Issue(
                    NEVER_APPLIES,
                    Severity.WARNING,
                    key.arn,
                    st.span,
                    f"statement `{st.label}` never applies to {noun} `{key.arn}`: no request matches its "
                    f"principal, action, resource and conditions",
                    "unsat: the statement applies",
                    statement=st.index,
                )
            )
            continue
        if st.effect is Effect.ALLOW:
            what = (
                "removing it changes no decision: every request it matches is allowed by other statements, "
                "denied by a Deny, or refused for another reason (e.g. an action that cannot be used across "
                "accounts)"
            )
        else:
            what = "removing it changes no decision: every request it denies is refused without it"
        if any(_changes_decision(engine, variant, key, st) for variant in _iam_extremes(engine.env)):
            continue
        out.append(
            Issue(
                REDUNDANT,
                Severity.WARNING,
                key.arn,
                st.span,
                f"statement `{st.label}` is redundant: {what}",
                "unsat: a decision that changes when the statement is removed",
                statement=st.index,
            )
        )
    return out


def _iam_extremes(env: Environment) -> list[Environment]:
    """The environments whose decisions cover every identity policy an account with unknown IAM may have:
    the worst case (allows everything) and none (allows nothing). The identity allow is one bit per
    request, so a decision that changes for some identity policy changes in one of the two."""
    if not env.options.unknown_iam_worst_case:
        return [env]
    return [env, replace(env, options=replace(env.options, unknown_iam_worst_case=False))]


def _changes_decision(engine: Engine, env: Environment, key: Subject, st: Statement) -> bool:
    """Some request on `key` is decided differently in `env` with and without `st` (replayed)."""
    d = engine.compiled.domain
    with_st = engine.encoded(env)
    without = _without(env, key, st)
    other = engine.encoded(without, like=env)  # only the policy of `key` is encoded anew (issue 17)
    allow = st.effect is Effect.ALLOW
    on = d.target_is(key.arn)
    q = (
        smt.and_(on, with_st, smt.not_(other))
        if allow
        else smt.and_(on, other, smt.not_(with_st))
    )
    sat, req = _solve(engine, q)
    if sat:
        assert req is not None
        confirm(env, req, allow, "a statement-removal witness")
        confirm(without, req, not allow, "a statement-removal witness (statement removed)")
    return sat


def _without(env: Environment, key: Subject, st: Statement) -> Environment:
    """`env` with the statement `st` removed from the policy of `key` (a key, resource or role)."""
    policy = replace(key.policy, statements=tuple(s for s in key.policy.statements if s is not st))
    if key.key is not None:
        keys = tuple(replace(k, policy=policy) if k is key.key else k for k in env.keys)
        return replace(env, keys=keys)
    resources = tuple(replace(r, policy=policy) if r.arn == key.arn and r.policy is key.policy else r
                      for r in env.resources)
    principals = tuple(replace(p, trust_policy=policy) if p.arn == key.arn and p.trust_policy is key.policy else p
                       for p in env.principals)
    return replace(env, resources=resources, principals=principals)


def check_separation(engine: Engine, key: Key) -> Issue | None:
    """HYG002: a principal that can administer the key and use it for cryptography. Administrator classes
    are enumerated as in `findings` (generalised from the allowing statement, then blocked)."""
    d = engine.compiled.domain
    env = engine.env
    allows = engine.compiled.encoded.allows
    on_key = d.key_is(key)
    admin = d.action_in(a for a in ADMIN_ACTIONS if a in d.actions)
    crypto = d.action_in(a for a in CRYPTO_ACTIONS if a in d.actions)
    blocked: list[smt.Term] = []
    by_index = {s.index: s for s in key.policy.statements}
    for _ in range(MAX_SOD_ROUNDS):
        sat, ra = _solve(engine, smt.and_(allows, on_key, admin, smt.not_(smt.or_(blocked))))
        if not sat:
            return None
        assert ra is not None
        ev_a, _ = confirm(env, ra, True, "an administrator witness")
        idx = next((r.statement for r in ev_a.reasons if r.role == "allow" and r.policy == key.policy.name), None)
        st = by_index.get(idx) if idx is not None else None
        span = st.span if st is not None else _policy_span(key)
        who = principal_is(d, ra.principal)
        sat, rc = _solve(engine, smt.and_(allows, on_key, crypto, who))
        if sat:
            assert rc is not None
            return _separation_issue(env, key, ra, rc, span=span, idx=idx)
        pc = derive_class(st, ra.principal) if st is not None else None
        if pc is None or pc.kind == "any":
            blocked.append(who)
            continue
        sat, rc = _solve(engine, smt.and_(allows, on_key, crypto, class_term(engine, pc)))
        if not sat:
            blocked.append(class_term(engine, pc))  # nobody of the class uses the key
            continue
        assert rc is not None
        sat, ra2 = _solve(engine, smt.and_(allows, on_key, admin, principal_is(d, rc.principal)))
        if sat:
            assert ra2 is not None
            return _separation_issue(env, key, ra2, rc, span=span, idx=idx)
        blocked += [who, principal_is(d, rc.principal)]
    raise _Undecided(f"more than {MAX_SOD_ROUNDS} administrator classes")


def _separation_issue(env: Environment, key: Key, ra: Request, rc: Request, *, span: Span, idx: int | None) -> Issue:
    confirm(env, ra, True, "an administrator witness")
    confirm(env, rc, True, "a cryptographic-use witness")
    return Issue(
        SEPARATION,
        Severity.WARNING,
        key.arn,
        span,
        f"`{ra.principal}` can both administer key `{key.arn}` ({ra.action}) and use it for cryptography ({rc.action})",
        requests=(ra, rc),
        statement=idx,
    )


def hygiene(
    env: Environment,
    *,
    separation_of_duties: bool = False,
    lockout: bool = True,
    dead_statements: bool = True,
    timeout: float | None = None,
    rlimit: int = DEFAULT_RLIMIT,
) -> HygieneResult:
    """Run the hygiene checks on every key of `env` (entry point)."""
    start = time.perf_counter()
    issues: list[Issue] = []
    undecided: list[Issue] = []
    checks = 0
    pending = unresolved.reason(env)
    if pending is not None:  # issue 15: a value no input fixes decides nothing (see `unresolved`)
        span = env.keys[0].policy.span if env.keys else Span("<input>", 1, 1, 1, 2)
        return HygieneResult((), (Issue(UNDECIDED, Severity.NOTE, "", span, pending),), 0, 0,
                             time.perf_counter() - start)
    with limits.budget(limits.seconds_or_default(timeout, run=True), rlimit):
        try:
            engine = Engine.build(env)
        except (UnsupportedFeatureError, limits.OutOfBudget, MemoryError) as exc:
            span = getattr(exc, "span", None) or (env.keys[0].policy.span if env.keys else Span("<input>", 1, 1, 1, 2))
            why = limits.unknown_reason(exc)
            return HygieneResult(
                (),
                (Issue(UNDECIDED, Severity.NOTE, "", span, why),),
                0,
                0,
                time.perf_counter() - start,
            )
        for subject in subjects_of(env):
            key = subject.key
            if key is None:  # a resource's or role's policy: its dead statements (lockout and SoD are KMS's)
                if dead_statements and subject.policy.source is not None:
                    checks += 1
                    try:
                        issues += check_statements(engine, subject)
                    except _Undecided as exc:
                        undecided.append(Issue(UNDECIDED, Severity.NOTE, subject.arn, subject.policy.span,
                                               f"dead statements check undecided for `{subject.arn}`: {exc}"))
                    except (UnsupportedFeatureError, limits.OutOfBudget, MemoryError) as exc:
                        undecided.append(Issue(
                            UNDECIDED, Severity.NOTE, subject.arn, getattr(exc, "span", None) or subject.policy.span,
                            f"dead statements check undecided for `{subject.arn}`: {limits.unknown_reason(exc)}"))
                continue
            for name, enabled in (
                ("lockout", lockout),
                ("separation of duties", separation_of_duties),
                ("dead statements", dead_statements),
            ):
                if not enabled:
                    continue
                checks += 1
                try:
                    if name == "lockout":
                        found = check_lockout(engine, key)
                        issues += [found] if found else []
                    elif name == "separation of duties":
                        found = check_separation(engine, key)
                        issues += [found] if found else []
                    else:
                        issues += check_statements(engine, key)
                except _Undecided as exc:
                    undecided.append(
                        Issue(
                            UNDECIDED,
                            Severity.NOTE,
                            key.arn,
                            _policy_span(key),
                            f"{name} check undecided for key `{key.arn}`: {exc}",
                        )
                    )
                except (UnsupportedFeatureError, limits.OutOfBudget, MemoryError) as exc:
                    undecided.append(
                        Issue(
                            UNDECIDED,
                            Severity.NOTE,
                            key.arn,
                            getattr(exc, "span", None) or _policy_span(key),
                            f"{name} check undecided for key `{key.arn}`: {limits.unknown_reason(exc)}",
                        )
                    )
        return HygieneResult(tuple(issues), tuple(undecided), checks, engine.queries, time.perf_counter() - start)
