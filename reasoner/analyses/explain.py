"""Stage 6: replay counterexamples through the concrete evaluator; minimise them; name responsible statements.

Input: a decoded `Request`, the environment(s) of the check and what the symbolic side claims about it (the
decision was ALLOW or not).
Output: the concrete `Evaluation` (from `evaluate.evaluate`), a request with the context keys the violation
does not need left out, and the statements behind a verdict as `Reason`s.
Guarantee: nothing leaves this module unconfirmed: when the evaluator disagrees with the symbolic claim the
result is `InternalError` naming both sides, never an answer. A caller whose account's IAM was not given is
replayed in an environment where it has an identity policy allowing everything (`augment`), which is the
worst case the encoder assumed (`Options.unknown_iam_worst_case`). What a counterexample assumes about a caller
the environment does not describe (`Request.assumed`: organization, path, unique id, principal tags, see
domain.py) is replayed in a copy of the environment that declares it (`augment_caller`), and said in a
`Reason` of role "rule".
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import replace

from reasoner.errors import InputError, InternalError
from reasoner.front.ast import PolicyDocument
from reasoner.semantics import arns
from reasoner.semantics import evaluate as ev
from reasoner.semantics.environment import Account, Environment, Organization, Principal, PrincipalKind, Session
from reasoner.semantics.request import Decision, Evaluation, Reason, Request
from reasoner.symbolic.domain import PARTITION, iter_policies, modelled_principal
from reasoner.symbolic.encode import ALLOW_ALL

WORST_SOURCE = "reasoner-unknown-iam-federation-source"


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

    m = modelled_principal(text)
    if isinstance(m, arns.UserArn):
        account = m.account
        p = idx_principals.get(text)
        if not _iam_missing(env, account, p is not None):
            return env, None
        if p is None:
            new_principals.append(Principal(text, PrincipalKind.USER, (ALLOW_ALL,)))
        else:
            new_principals[new_principals.index(p)] = grant_all(p)
    elif isinstance(m, arns.AssumedRoleArn):
        account, role_name = m.account, m.role_name
        role = env.role_named(account, role_name)
        if not _iam_missing(env, account, role is not None):
            return env, None
        if role is None:
            new_principals.append(Principal(arns.format(m.role()), PrincipalKind.ROLE, (ALLOW_ALL,)))
        else:
            new_principals[new_principals.index(role)] = grant_all(role)
    elif isinstance(m, arns.FederatedUserArn):
        account = m.account
        session = env.session(text)
        user = idx_principals.get(session.source) if session is not None else None
        if not _iam_missing(env, account, user is not None):
            return env, None
        if session is None or user is None:
            source = arns.format(arns.UserArn(PARTITION, account, "", WORST_SOURCE))
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


def augment_caller(env: Environment, request: Request) -> tuple[Environment, Reason | None]:
    """The environment in which what the counterexample assumes about a caller the environment does not
    describe (`Request.assumed`: its account's organization and path, its unique id, its principal tags, its
    role's path, an opt-in Region its account enabled) is concrete: the account declared in that organization
    (the organization added with no SCPs, i.e. FullAWSAccess, and the account's IAM not given) and with that
    Region enabled, the user, role or session declared with those values. Only what the environment leaves
    open is used (an organization it declares is closed); unchanged when nothing applies."""
    facts = request.assumed
    text = request.principal
    caller = modelled_principal(text)
    if not facts and not (isinstance(caller, arns.FederatedUserArn) and env.options.unknown_iam_worst_case):
        return env, None
    accounts = list(env.accounts)
    orgs = list(env.organizations)
    principals = list(env.principals)
    sessions = list(env.sessions)
    said: list[str] = []
    tags = {k[4:]: v for k, v in sorted(facts.items()) if k.startswith("tag:")}
    uid = facts.get("uid")
    account: str | None = None
    declare_account = False
    if isinstance(caller, arns.RootArn | arns.UserArn | arns.AssumedRoleArn | arns.FederatedUserArn):
        account = caller.account
    if account is None:
        return env, None
    # an account this declares keeps what the environment says of the caller's IAM: a principal it declares
    # in an undeclared account has its own policies (IAM given), an undescribed one has unknown IAM
    given = _caller_declared(env, text, facts)
    org = facts.get("org")
    if org is not None and org in env.declared_organizations():
        org = None  # an organization this environment declares is closed: the account is not in it here
    region = facts.get("region")
    regions = frozenset({region}) if region is not None and env.account(account) is None else None
    if org is not None and env.account(account) is None:
        path = tuple(x for x in facts.get("orgpath", "").split("/") if x)
        accounts.append(Account(account, organization=org, ou_path=path, enabled_regions=regions, iam_known=given))
        said.append(f"account {account} is in organization {org}" + (f" at `{org}/{'/'.join(path)}/`" if path else ""))
        if path and env.organization(org) is None:
            orgs.append(Organization(org, path[0], account))
    elif regions is not None:
        accounts.append(Account(account, enabled_regions=regions, iam_known=given))
    if regions is not None:
        said.append(f"account {account} has enabled the opt-in Region {region}")
    if isinstance(caller, arns.UserArn):
        p = env.principal(text)
        if p is None and (tags or uid):
            principals.append(Principal(text, PrincipalKind.USER, tags=tags, unique_id=uid))
            declare_account = True
            said.append(f"user {text} has " + _describe(tags, uid))
        elif p is not None and p.unique_id is None and uid:
            principals[principals.index(p)] = replace(p, unique_id=uid)
            said.append(f"user {text} has unique id {uid}")
    elif isinstance(caller, arns.AssumedRoleArn):
        role_name = caller.role_name
        role = env.role_named(account, role_name)
        session = env.session(text)
        role_path = facts.get("rolepath", "") if role is None else ""
        role_arn = role.arn if role is not None else arns.format(caller.role(role_path))
        if role is None and (uid or role_path):
            principals.append(Principal(role_arn, PrincipalKind.ROLE, unique_id=uid))
            declare_account = True
            said.append(f"role {role_arn} has " + _describe({}, uid) if uid else f"role {role_arn} exists")
        elif role is not None and role.unique_id is None and uid:
            principals[principals.index(role)] = replace(role, unique_id=uid)
            said.append(f"role {role_arn} has unique id {uid}")
        # a declared session's tags are fixed (they override its role's); an undeclared session of a known
        # role may override any of the role's tags
        fixed = {k.lower() for k in session.tags} if session is not None else set()
        open_tags = {k: v for k, v in tags.items() if k.lower() not in fixed}
        if session is not None and role is None and open_tags:
            sessions[sessions.index(session)] = replace(session, tags={**open_tags, **session.tags})
            said.append(f"session {text} has " + _describe(open_tags, None))
        elif session is None and open_tags:
            sessions.append(Session(text, role_arn, tags=open_tags))
            said.append(f"session {text} has " + _describe(open_tags, None))
    elif isinstance(caller, arns.FederatedUserArn) and env.session(text) is None and (
        tags or "fedsource" in facts or env.options.unknown_iam_worst_case
    ):
        # an undeclared federated user is a session of some user of its account (`fedsource` when the
        # counterexample chose one, else a user nothing names), with an unknown session policy (worst case:
        # allows everything) and session tags that override its user's; `augment` adds the worst-case
        # identity policy when the account's IAM is unknown (domain.py, semantics §4.2)
        acct = env.account(account)
        worst = env.options.unknown_iam_worst_case and (acct is None or not acct.iam_known)
        source = facts.get("fedsource") or arns.format(arns.UserArn(PARTITION, account, "", WORST_SOURCE))
        session_policies = (ALLOW_ALL,) if env.options.unknown_iam_worst_case else ()
        user = env.principal(source)
        if user is None:
            principals.append(Principal(source, PrincipalKind.USER, (ALLOW_ALL,) if worst else (), tags=tags))
            declare_account = True
        sessions.append(Session(text, source, session_policies, tags=tags if user is not None else {}))
        said.append(
            f"federated user {text} is a session of user {source}"
            + (" with a session policy that allows everything" if session_policies else "")
        )
        if tags:
            said.append(f"federated user {text} has " + _describe(tags, None))
    if not said:
        return env, None
    if declare_account and env.account(account) is None and not any(a.id == account for a in accounts):
        accounts.append(Account(account, iam_known=given))
    note = Reason(
        "<assumption>", None, None, "unknown caller", None, None, "rule",
        "not described by the environment: " + "; ".join(said),
    )
    new = replace(
        env,
        accounts=tuple(accounts),
        organizations=tuple(orgs),
        principals=tuple(principals),
        sessions=tuple(sessions),
    )
    return new, note


def _caller_declared(env: Environment, text: str, facts: Mapping[str, str]) -> bool:
    """The caller is, or acts for, a principal the environment declares: the user, the role of a session, the
    source user of a federated user (declared, or the one `facts` assume)."""
    m = modelled_principal(text)
    if isinstance(m, arns.UserArn):
        return env.principal(text) is not None
    if isinstance(m, arns.AssumedRoleArn):
        return env.role_named(m.account, m.role_name) is not None
    if isinstance(m, arns.FederatedUserArn):
        session = env.session(text)
        source = session.source if session is not None else facts.get("fedsource")
        return source is not None and env.principal(source) is not None
    return False


def _describe(tags: dict[str, str], uid: str | None) -> str:
    parts = [f"tag {k}={v}" for k, v in tags.items()]
    if uid:
        parts.append(f"unique id {uid}")
    return ", ".join(parts) or "no tags"


def augment_key_owner(
    env: Environment, request: Request, closed: frozenset[str] | None = None
) -> tuple[Environment, Reason | None]:
    """The environment in which the organization a counterexample assumes for the owner account of the
    requested key (`Request.assumed` "keyorg" / "keyorgpath"; an account the environment does not declare)
    is concrete: the account declared in it, its IAM not given. `closed`: the organizations the original
    environment declares (an account it does not declare is in none of them); unchanged when nothing
    applies."""
    org = request.assumed.get("keyorg")
    parts = request.resource.split(":")
    owner = parts[4] if len(parts) > 5 else None
    if closed is None:
        closed = env.declared_organizations()
    if org is None or owner is None or org in closed or env.account(owner) is not None:
        return env, None
    path = tuple(x for x in request.assumed.get("keyorgpath", "").split("/") if x)
    orgs = list(env.organizations)
    if path and env.organization(org) is None:
        orgs.append(Organization(org, path[0], owner))
    accounts = (*env.accounts, Account(owner, organization=org, ou_path=path, iam_known=False))
    where = f" at `{org}/{'/'.join(path)}/`" if path else ""
    note = Reason(
        "<assumption>", None, None, "unknown key owner", None, None, "rule",
        f"not described by the environment: account {owner}, the key's owner, is in organization {org}{where}",
    )
    return replace(env, accounts=accounts, organizations=tuple(orgs)), note


def augment_all(env: Environment, request: Request) -> tuple[Environment, list[Reason]]:
    """`augment_caller`, `augment_key_owner`, then `augment` (the worst case for unknown IAM) on the result."""
    closed = env.declared_organizations()
    env1, note1 = augment_caller(env, request)
    env2, note2 = augment_key_owner(env1, request, closed)
    env3, note3 = augment(env2, request)
    return env3, [n for n in (note1, note2, note3) if n is not None]


def replay(env: Environment, request: Request) -> tuple[Evaluation, Reason | None]:
    """The concrete decision (in the environment extended by what the counterexample assumes about an
    undescribed caller, and in the worst-case environment when the caller's IAM is unknown).

    A comparison (diff, NoNewAccess, Equivalent) asks about a key or role of one environment in the other: where
    that environment has no such key (or no such role with a trust policy), it does not exist there and the
    request is denied, as the encoding says (`Encoder.decide_target` gives no key, `_encode_target` assumes no
    role); `evaluate` itself refuses the request (EVAL004), which is right for a request a user typed."""
    env2, notes = augment_all(env, request)
    try:
        return ev.evaluate(env2, request), _join(notes)
    except InputError as exc:
        absent = _absent_target(env2, request) if exc.code == ev.BAD_RESOURCE else None
        if absent is None:
            raise
        return absent, _join(notes)


def _absent_target(env: Environment, request: Request) -> Evaluation | None:
    """An implicit deny of a request on a key or an assumable role `env` does not have, else None."""
    key = arns.parse_kms(request.resource) if request.action[:4].lower() == "kms:" else None
    role = arns.parse_principal(request.resource)
    if isinstance(key, arns.KeyArn) and all(k.arn != request.resource for k in env.keys):
        what = f"key `{request.resource}`"
    elif isinstance(role, arns.RoleArn) and request.action[:4].lower() == "sts:" and not any(
            p.arn == request.resource and p.trust_policy is not None for p in env.principals):
        what = f"role `{request.resource}` (with a trust policy)"
    else:
        return None
    why = Reason(policy="", kind=None, statement=None, label="not in this environment", effect=None, span=None,
                 role="rule", note=f"this environment has no {what}: nothing can act on it here")
    return Evaluation(request, Decision.IMPLICIT_DENY, (why,))


def _join(notes: list[Reason]) -> Reason | None:
    if not notes:
        return None
    if len(notes) == 1:
        return notes[0]
    return replace(notes[0], label=" and ".join(n.label for n in notes), note="; ".join(n.note for n in notes))


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
            + (f", assuming {dict(request.assumed)}" if request.assumed else "")
        )
    return evaluation, note


def minimise(
    request: Request,
    still_violates: Callable[[Request], bool],
    named_paths: Collection[str] | None = None,
) -> Request:
    """Leave out every context key the violation does not need, and a federated user's assumed source user
    when any user will do (checked by replaying each trial). With
    `named_paths` (the user paths the policies and the environment name), a user ARN whose path is none
    of them is also tried without its path (`user/example` rather than `user/example/example`)."""
    current = request

    def simpler(trial: Request) -> bool:
        try:
            return still_violates(trial)
        except Exception:  # a request the evaluator rejects is not a simplification
            return False

    user = arns.parse_principal(request.principal)
    if named_paths is not None and isinstance(user, arns.UserArn) and len(user.path) > 1 and user.name \
            and user.path not in named_paths:
        # the same user without its path, when no policy names the path
        trial = replace(current, principal=arns.format(replace(user, path="")))
        if simpler(trial):
            current = trial
    if "fedsource" in current.assumed:
        # a federated user's source user, when the violation does not depend on which user it is
        trial = replace(current, assumed={k: v for k, v in current.assumed.items() if k != "fedsource"})
        if simpler(trial):
            current = trial
    for key in sorted(request.context):
        trial = replace(current, context={k: v for k, v in current.context.items() if k != key})
        if simpler(trial):
            current = trial
    return current


#: Values a counterexample's service-principal caller may take instead of the placeholder, when the violation
#: does not depend on which service it is (the first that still violates, checked by replay).
_READABLE_SERVICES = ("cloudtrail.amazonaws.com", "logs.amazonaws.com", "sns.amazonaws.com")


def _instances(value: str, region: str | None) -> list[str]:
    """Fuller spellings of a value: without wildcard characters when it is written like a pattern
    (`arn:aws:s3:::*`: `*` as `example` or empty, `?` as `x`), and for an ARN with an empty Region or an empty
    last part, the request's Region and `example` there."""
    out: list[str] = []
    parts = value.split(":", 5)
    if value.startswith("arn:") and len(parts) == 6:
        if region and parts[3] in ("", "*"):
            parts[3] = region
        if parts[5].endswith(("/", ":")) or not parts[5]:
            parts[5] += "example"
        fuller = ":".join(parts).replace("*", "example").replace("?", "x")
        if fuller != value:
            out.append(fuller)
    if "*" in value or "?" in value:
        out += [value.replace("*", "example").replace("?", "x"), value.replace("*", "").replace("?", "x")]
    return out


def readable(request: Request, still_violates: Callable[[Request], bool]) -> Request:
    """The same counterexample, easier to read where the violation allows it (each trial replayed): a real
    service principal for the placeholder `example.amazonaws.com`, values without wildcard characters for
    context values the decoder took from a policy's patterns, ARNs with their Region and a resource name
    (issue 14 item 4)."""
    current = request

    def works(trial: Request) -> bool:
        try:
            return still_violates(trial)
        except Exception:  # a request the evaluator rejects is not a better reading
            return False

    if current.principal == "example.amazonaws.com":
        for service in _READABLE_SERVICES:
            trial = replace(current, principal=service)
            if works(trial):
                current = trial
                break
    resource = current.resource.split(":")
    region = resource[3] if current.resource.startswith("arn:") and len(resource) > 3 else None
    for key in sorted(current.context):
        values = current.context[key]
        for i, v in enumerate(values):
            for instance in _instances(v, region):
                if instance in values:
                    continue
                trial = replace(current, context={**current.context, key: (*values[:i], instance, *values[i + 1:])})
                if works(trial):
                    current = trial
                    values = current.context[key]
                    break
    return current


def decisive_derived(env: Environment, evaluation: Evaluation) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The context keys AWS set for the request (not given in it) that a condition of a statement behind the
    decision reads, with their values: what a reader needs besides the request to see why (e.g.
    `kms:GrantIsForAWSResource` = true, set because the request came through a service)."""
    hits = {(r.policy, r.statement) for r in evaluation.reasons if r.statement is not None}
    read: dict[str, None] = {}
    for policy in iter_policies(env):
        for st in policy.statements:
            if (policy.name, st.index) in hits and st.condition is not None:
                for c in st.condition.conditions:
                    read.setdefault(c.key.text.lower())
    given = {k.lower() for k in evaluation.request.context}
    ctx = {k.lower(): (k, v) for k, v in evaluation.context.items()}
    return tuple((ctx[k][0], tuple(ctx[k][1])) for k in read if k in ctx and k not in given)


def statement_reasons(policy: PolicyDocument, indexes: list[int], role: str, note: str = "") -> list[Reason]:
    out: list[Reason] = []
    for st in policy.statements:
        if st.index in indexes:
            out.append(Reason(policy.name, policy.kind, st.index, st.label, st.effect, st.span, role, note))
    return out
