"""Stage 6: replay counterexamples through the concrete evaluator; minimise them; name responsible statements.

Input: a decoded `Request`, the environment(s) of the check and what the symbolic side claims about it (the
decision was ALLOW or not).
Output: the concrete `Evaluation` (from `evaluate.evaluate`), a request with the context keys the violation
does not need left out, and the statements behind a verdict as `Reason`s.
Guarantee: nothing leaves this module unconfirmed: when the evaluator disagrees with the symbolic claim the
result is `InternalError` naming both sides, never an answer. A caller whose account's IAM was not given is
replayed in an environment where it has an identity policy allowing everything (`augment`), which is the
worst case the encoder assumed (`Options.unknown_iam_worst_case`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import replace

from reasoner import evaluate as ev
from reasoner.ast import PolicyDocument
from reasoner.encode import ALLOW_ALL
from reasoner.environment import Account, Environment, Principal, PrincipalKind, Session
from reasoner.errors import InternalError
from reasoner.request import Decision, Evaluation, Reason, Request

_USER = re.compile(r"arn:aws:iam::(\d{12}):user/(.+)")
_SESSION = re.compile(r"arn:aws:sts::(\d{12}):assumed-role/([^/]+)/(.+)")
_FED = re.compile(r"arn:aws:sts::(\d{12}):federated-user/(.+)")
_ROOT = re.compile(r"arn:aws:iam::(\d{12}):root")
_WORST_SOURCE = "reasoner-unknown-iam-federation-source"


def _iam_missing(env: Environment, account: str, known: bool) -> bool:
    acct = env.account(account)
    if known:
        return acct is not None and not acct.iam_known
    return acct is None or not acct.iam_known


def augment(env: Environment, request: Request) -> tuple[Environment, Reason | None]:
    """The environment in which the worst case for the caller's unknown IAM is concrete: the caller (or its
    role / source user) gets an identity policy allowing everything. Unchanged when the IAM is given or
    the option is off."""
    if not env.options.unknown_iam_worst_case:
        return env, None
    text = request.principal
    idx_principals = {p.arn: p for p in env.principals}
    new_principals = list(env.principals)
    new_sessions = list(env.sessions)
    account: str | None = None

    def grant_all(p: Principal) -> Principal:
        return replace(p, identity_policies=(ALLOW_ALL,))

    if m := _USER.fullmatch(text):
        account = m.group(1)
        p = idx_principals.get(text)
        if not _iam_missing(env, account, p is not None):
            return env, None
        if p is None:
            new_principals.append(Principal(text, PrincipalKind.USER, (ALLOW_ALL,)))
        else:
            new_principals[new_principals.index(p)] = grant_all(p)
    elif m := _SESSION.fullmatch(text):
        account, role_name = m.group(1), m.group(2)
        role = next(
            (
                p
                for p in env.principals
                if p.kind is PrincipalKind.ROLE
                and p.arn.split(":")[4] == account
                and p.arn.rsplit("/", 1)[-1].lower() == role_name.lower()
            ),
            None,
        )
        if not _iam_missing(env, account, role is not None):
            return env, None
        if role is None:
            new_principals.append(
                Principal(f"arn:aws:iam::{account}:role/{role_name}", PrincipalKind.ROLE, (ALLOW_ALL,))
            )
        else:
            new_principals[new_principals.index(role)] = grant_all(role)
    elif m := _FED.fullmatch(text):
        account = m.group(1)
        session = env.session(text)
        user = idx_principals.get(session.source) if session is not None else None
        if not _iam_missing(env, account, user is not None):
            return env, None
        if session is None or user is None:
            source = f"arn:aws:iam::{account}:user/{_WORST_SOURCE}"
            new_principals.append(Principal(source, PrincipalKind.USER, (ALLOW_ALL,)))
            if session is not None:
                new_sessions[new_sessions.index(session)] = replace(session, source=source)
            else:
                new_sessions.append(Session(text, source, (ALLOW_ALL,)))
        else:
            new_principals[new_principals.index(user)] = grant_all(user)
    else:
        return env, None
    accounts = [replace(a, iam_known=True) if a.id == account else a for a in env.accounts]
    if account is not None and env.account(account) is None:
        accounts.append(Account(account))
    note = Reason(
        "<assumption>",
        None,
        None,
        "unknown IAM",
        None,
        None,
        "rule",
        f"the IAM of account {account} was not given: its identity policies may allow anything",
    )
    return replace(
        env, principals=tuple(new_principals), sessions=tuple(new_sessions), accounts=tuple(accounts)
    ), note


def replay(env: Environment, request: Request) -> tuple[Evaluation, Reason | None]:
    """The concrete decision (in the worst-case environment when the caller's IAM is unknown)."""
    env2, note = augment(env, request)
    return ev.evaluate(env2, request), note


def confirm(
    env: Environment, request: Request, claimed_allowed: bool, what: str
) -> tuple[Evaluation, Reason | None]:
    """Replay and insist that the evaluator agrees with the symbolic claim."""
    evaluation, note = replay(env, request)
    if evaluation.decision.allowed != claimed_allowed:
        claim = "ALLOW" if claimed_allowed else "a deny"
        raise InternalError(
            f"the symbolic core and the evaluator disagree on {what}: the encoding says {claim}, "
            f"`evaluate.evaluate` says {evaluation.decision.value} for principal `{request.principal}`, "
            f"action `{request.action}`, resource `{request.resource}`, context {dict(request.context)}"
        )
    return evaluation, note


def minimise(
    request: Request,
    still_violates: Callable[[Request], bool],
    named_paths: Collection[str] | None = None,
) -> Request:
    """Leave out every context key the violation does not need (checked by replaying each trial). With
    `named_paths` (the user paths the policies and the environment name), a user ARN whose path is none
    of them is also tried without its path (`user/example` rather than `user/example/example`)."""
    current = request
    if named_paths is not None and (m := _USER_PATH.fullmatch(request.principal)) and m.group(2) not in named_paths:
        trial = replace(current, principal=m.group(1) + m.group(3))
        try:
            ok = still_violates(trial)
        except Exception:  # a request the evaluator rejects is not a simplification
            ok = False
        if ok:
            current = trial
    for key in sorted(request.context):
        trial_ctx = {k: v for k, v in current.context.items() if k != key}
        trial = replace(current, context=trial_ctx)
        try:
            ok = still_violates(trial)
        except Exception:  # a request the evaluator rejects is not a simplification
            ok = False
        if ok:
            current = trial
    return current


_USER_PATH = re.compile(r"(arn:[^:]+:iam::\d{12}:user/)(.+/)([^/]+)")


def statement_reasons(policy: PolicyDocument, indexes: list[int], role: str, note: str = "") -> list[Reason]:
    out: list[Reason] = []
    for st in policy.statements:
        if st.index in indexes:
            out.append(Reason(policy.name, policy.kind, st.index, st.label, st.effect, st.span, role, note))
    return out


def decision_allowed(e: Evaluation) -> bool:
    return e.decision is Decision.ALLOW
