"""Stage 3: environment -> Z3 terms (SMT-LIB text) over the symbolic request of `domain.py`.

Input: an `Environment` and a `domain.Domain` (the symbolic request shared by the environments of a check).
Output: `EncodedEnvironment` with the named decision terms `allows` / `denies` (`denies` = explicit deny) of
the whole decision of `evaluate.evaluate`, for every caller, KMS key action, key and context at once.
Guarantee: mirrors `evaluate.py` function by function (`encode_condition` <-> `evaluate_condition`,
`encode_statement` <-> `evaluate_statement`, `encode_principal` <-> `match_principal`, `encode_key_policy`
<-> `evaluate_key_policy`, `encode_identity` <-> `evaluate_identity`, `encode_scps` <-> `evaluate_scps`,
`encode_rcps` <-> `evaluate_rcps`, `encode` <-> `evaluate`) and reads the policies through the same compiled
IR (`semantics/ir.py`: `ir.compile_policy`, and `ir.compare`, `ir.matches_action`, `ir.resource_hits` on
constants), so both read the policies identically; ARNs are read by `semantics/arns.py`.
Soundness: for every concrete request and every assignment of the domain that represents it, the terms
evaluate to the evaluator's decision (string atoms of "other" values are tied to real strings by the witness
search of `pipeline.py`). Completeness: every construct is encoded exactly or rejected with
`UnsupportedFeatureError` and a span (policy variables other than never-present template keys, BinaryEquals,
non-`aws` partitions). Grants (operations, grantee, account delegation, encryption-context and SourceArn
constraints, CreateGrant's operations, RetireGrant) are encoded like `evaluate._grants`.
Unknown IAM: a caller whose account's IAM was not given gets an identity policy allowing everything when
`Options.unknown_iam_worst_case` (ALLOW_ALL), exactly as `explain.augment` replays it.
Unknown callers: aws:PrincipalOrgID / aws:PrincipalOrgPaths of undeclared accounts, aws:PrincipalTag/* of
undeclared users and sessions and aws:userid without a declared unique id are open (domain.py), exactly as
`explain.augment_caller` replays them.

Mirrored pairs (tests/unit/test_mirror.py): `Encoder.encode` <-> `evaluate.evaluate`; `Encoder.encode_X` <->
`evaluate.evaluate_X` or `evaluate.match_X`; `Encoder._encode_X` <-> `evaluate._evaluate_X`; every other
method, public or `_X`, <-> the `evaluate.py` function of the same name (`resolve_caller`, `derive_context`,
`_derive`, `_single`, `_union`, `_sufficient`, ...); `Encoder._compare` <-> `ir.compare`, the comparison
both share (the encoder folds constant values with it).

Not mirrored, by design (`NOT_MIRRORED`):
- `_fraction`, `allow_all_policy`, `_located`: term and error plumbing (a Decimal as a real, the worst-case
  identity policy `ALLOW_ALL` that `explain.augment` replays, the place of a TooComplex).
- `sc`, `name`, `kind`, `declared_orgs`: encoder plumbing (the script, named definitions, the caller-kind
  guard, the declared organizations).
- `match_pieces`, `_fields`, `_targets`, `_arn_in`, `_fed_user_in`, `_value_is`: string matching over symbolic pieces
  (automata over fields); the evaluator compares strings directly.
- `_never_present_only`, `_variable_keys`, `_variable_cases`, `_assigned`, `_constant_assignment`: policy
  variables as cases of their values (the evaluator substitutes them from its one context:
  `evaluate._resolved_values`).
- `_match_holed`, `_bool_holed`, `_link`, `_link_facts`: a value against a pattern whose variables hold symbolic values
  (`variables.py`; the evaluator has the one resolved pattern and matches it).
- `_iam_given_for_unknown`, `_iam_split`, `_unknown_split`: the worst case for callers the environment does
  not describe (`Options.unknown_iam_worst_case`); the evaluator sees them declared by `explain.augment`.
- `_mask`, `_raw`: a key's value as guarded cases: masked by the catalogue (the evaluator drops such keys in
  `_derive`), and the raw request value.
- `_caller_value`, `_key_value`, `_key_values`, `_undeclared_owner_org`: one derived key at a time (the
  evaluator derives them all at once in `evaluate._base_context`).
- `_slot`: one value slot of a (multivalued) key (the evaluator loops over the values).
- `_always_arn`: a typed operator on a key assembled from ARN pieces (the evaluator parses the one ARN and fails).
- `_owner`: the owner of a target of the domain as this environment resolves it (the evaluator resolves the one
  target of its request, `evaluate` target resolution, and reads `Target.owner`).
- `_condition`: the table of semantics §3.2 on one case of the variables' values (inside
  `evaluate._evaluate_condition`, which resolves the values first).
- `encode_environment`: the stage's entry point, `Encoder(...).encode()`.
- `iam`, `_own`, `_by_kind`: the caller-kind guard of IAM principals, this environment's object of a target,
  allow statements grouped by match kind (plumbing of `encode`).
- `_sub_hit`: Resource patterns against a sub-resource's symbolic ARN (the evaluator matches the one ARN).
- `_encode_target`, `_encode_key`, `decide_target`, `_gates`: the body of `evaluate._decide` per target of
  the closed world (the rule of a role or resource, the KMS rule of a key, the gates every target shares),
  which the evaluator runs for its one request in `_decide` itself.
- `action_in`, `action_is`, `url_encoder`, `_url_auth_type`, `_covers`: the action guard (a constant in the
  encoder of the lambda:InvokeFunction a function URL call implies, `url_encoder`), the derived
  lambda:FunctionUrlAuthType, and the caller classes an AWS-side rule covers (`awsrules.AwsRule.covers`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from reasoner import limits
from reasoner.errors import UnsupportedFeatureError
from reasoner.front.ast import (
    ConditionOperator,
    Effect,
    PolicyDocument,
    PolicyKind,
    SetQualifier,
    Statement,
)
from reasoner.semantics import awsrules, ir
from reasoner.semantics import evaluate as ev
from reasoner.semantics.arns import RoleArn, UserArn, is_account_id, parse_principal
from reasoner.semantics.catalog import KMS_CROSS_ACCOUNT_ACTIONS, is_multivalued
from reasoner.semantics.environment import Environment, Grant, Key, Options, Principal, PrincipalKind, Resource
from reasoner.semantics.evaluate import MatchKind
from reasoner.semantics.patterns import ArnPattern, Glob, Variable
from reasoner.semantics.resources import (
    PROVIDER_ACTIONS,
    Rule,
    accepts_anonymous,
    rcps_apply_to,
    resource_policy,
    restricted_public,
    rule_for,
)
from reasoner.semantics.values import parse_bool
from reasoner.source import Span
from reasoner.symbolic import smt, strings, variables
from reasoner.symbolic.domain import (
    Case,
    Domain,
    Piece,
    PKind,
    StrField,
    SymTarget,
    Value,
    iam_prefix,
    key_may_exist,
    sts_prefix,
)
from reasoner.symbolic.smt import FALSE, TRUE, Term
from reasoner.symbolic.strings import Nfa

#: Caller kinds of the evaluator and of the symbolic request.
_KINDS: dict[PrincipalKind, PKind] = {
    PrincipalKind.ROOT: PKind.ROOT, PrincipalKind.USER: PKind.USER, PrincipalKind.ROLE_SESSION: PKind.SESSION,
    PrincipalKind.FEDERATED_USER: PKind.FEDERATED, PrincipalKind.SERVICE: PKind.SERVICE,
    PrincipalKind.ANONYMOUS: PKind.ANONYMOUS, PrincipalKind.PROVIDER: PKind.PROVIDER,
}

#: The functions and `Encoder` methods with no `evaluate.py` counterpart (why: the module docstring).
NOT_MIRRORED: tuple[str, ...] = (
    "_fraction", "allow_all_policy", "_located", "sc", "name", "kind", "declared_orgs", "match_pieces", "_targets",
    "_arn_in", "_fed_user_in", "_value_is", "_never_present_only", "_variable_keys", "_variable_cases",
    "_iam_given_for_unknown", "_iam_split", "_unknown_split", "_mask", "_raw", "_caller_value", "_key_value",
    "_key_values", "_undeclared_owner_org", "_slot", "_condition", "encode_environment", "iam", "_own", "_sub_hit",
    "_by_kind", "_encode_target", "_encode_key", "action_in", "action_is", "_covers", "_gates",
    "decide_target", "url_encoder", "_url_auth_type", "_assigned", "_constant_assignment", "_match_holed", "_link",
    "_link_facts", "_bool_holed", "_fields", "_always_arn", "_owner",
)


def _fraction(d: object) -> Fraction:
    assert isinstance(d, Decimal | int | Fraction)
    return Fraction(d)


def allow_all_policy() -> PolicyDocument:
    """The identity policy an account whose IAM was not given may have (worst case)."""
    from reasoner.front.ast import ActionBlock, ResourceBlock
    from reasoner.front.ast import Value as AstValue
    from reasoner.source import Span

    span = Span("<unknown IAM: worst case>", 1, 1, 1, 2)
    st = Statement(
        0,
        None,
        Effect.ALLOW,
        span,
        None,
        ActionBlock(False, (AstValue("*", span),), span),
        ResourceBlock(False, (AstValue("*", span),), span),
        None,
        span,
    )
    return PolicyDocument(AstValue("2012-10-17", span), None, (st,), PolicyKind.IDENTITY, span)


ALLOW_ALL = allow_all_policy()


# ---- policy variables ---------------------------------------------------------------------------------

_UNRESOLVED = object()
#: A link (`variables.Link`) gets its truth for each literal of its one value or hole field up to this many.
_LINK_FACT_LITERALS = 64
#: The texts `values.parse_bool` reads as true and as false: the word in any case, blanks around it.
_BLANK = strings.CharSet(frozenset(c for c in map(chr, range(0x3000 + 1)) if c.isspace()))
_BOOL_TEXT = {b: strings.sequence(strings.Tok(_BLANK, True), *variables.chars(word, True), strings.Tok(_BLANK, True))
              for b, word in ((True, "true"), (False, "false"))}


@dataclass(frozen=True)
class _Holed:
    """A condition value whose policy variables hold symbolic values (`variables.holed`)."""

    items: tuple[variables.Item, ...]
_VARIABLE = re.compile(r"\$\{\s*([^}',]+?)\s*(?:,\s*'[^']*'\s*)?\}")


def _never_present_only(text: str) -> bool:
    """Every variable of `text` names a key no request has: not of the form `prefix:name` (template
    placeholders such as `${ACCELERATOR_PREFIX}`), so it resolves to its default or is unresolved."""
    keys = [m.group(1) for m in _VARIABLE.finditer(text)]
    return all(":" not in k and k not in ("*", "?", "$") for k in keys)


def _variable_keys(typed: object) -> list[str]:
    if not isinstance(typed, Glob | ArnPattern) or not typed.has_variables:
        return []
    tokens = typed.tokens if isinstance(typed, Glob) else tuple(t for g in typed.segments or () for t in g.tokens)
    return [t.key for t in tokens if isinstance(t, Variable)]


# ---- matching pieces ---------------------------------------------------------------------------------


def _always_arn(pieces: tuple[Piece, ...]) -> bool:
    """The value the pieces assemble always starts with `arn:`: no such text parses as a number, an instant, an IP
    address (`r`, `n` are no hex digits), base64 (`:` is none of its characters) or a Boolean."""
    return len(pieces) > 1 and isinstance(pieces[0], str) and pieces[0].startswith("arn:")


def _fields(pieces: tuple[variables.Piece, ...]) -> tuple[Piece, ...]:
    """Pieces of `variables` (fields seen through its protocol) as the domain's pieces."""
    out: list[Piece] = []
    for p in pieces:
        assert isinstance(p, str | StrField)
        out.append(p)
    return tuple(out)


def match_pieces(nfa: Nfa, pieces: tuple[Piece, ...]) -> Term:
    """`concat(pieces) ∈ L(nfa)`, split exactly into one atom per field piece: the automaton is run over the
    constants, and for a field the atom says from which states to which state the field's value leads."""
    if nfa.is_empty_language:
        return FALSE
    fields = [p for p in pieces if not isinstance(p, str)]
    memo = fields[0].domain.match_memo if fields else None
    if memo is not None:
        hit = memo.get((nfa, pieces))
        if hit is not None:
            return hit

    def go(states: frozenset[int], i: int) -> Term:
        if not states:
            return FALSE
        if i == len(pieces):
            return TRUE if states & nfa.finals else FALSE
        p = pieces[i]
        if isinstance(p, str):
            return go(strings.run(nfa.toks, states, p), i + 1)
        if i == len(pieces) - 1:
            return p.atom(Nfa(nfa.toks, states, nfa.finals))
        out: list[Term] = []
        for t in sorted(_targets(p, nfa.toks, states)):
            sub = Nfa(nfa.toks, states, frozenset({t}))
            rest = go(strings.closure(nfa.toks, {t}), i + 1)
            if rest != FALSE:
                out.append(smt.and_(p.atom(sub), rest))
        return smt.or_(out)

    term = go(strings.closure(nfa.toks, nfa.starts), 0)
    if memo is not None:
        memo[(nfa, pieces)] = term  # the atoms it names are the domain's, so the term is too
    return term


#: Actions of a closed world matched by an Action/NotAction block (the catalogue scan is the same for every
#: statement, policy and compilation that writes the same block).
_ACTION_HITS: dict[tuple[tuple[str, ...], bool, tuple[str, ...]], tuple[str, ...]] = {}

_TARGETS: dict[tuple[tuple[Nfa, ...], tuple[strings.Tok, ...], frozenset[int]], frozenset[int]] = {}


def _targets(f: StrField, toks: tuple[strings.Tok, ...], states: frozenset[int]) -> frozenset[int]:
    """The automaton positions in which some value of field `f` (a literal, or a string of its shape) can
    leave the automaton started in `states` (a product search; every position when it is too large)."""
    lit_hit = f.lit_targets.get((toks, states))
    if lit_hit is None:
        found: set[int] = set()
        for s in f.lits:
            found |= strings.run(toks, states, s)
        lit_hit = f.lit_targets[(toks, states)] = frozenset(found)
    lit_targets = lit_hit
    # the shape search is memoised by what it depends on (the literals differ between domains)
    memo_key = (f.hard, toks, states)
    hit = _TARGETS.get(memo_key)
    if hit is not None:
        return hit | lit_targets
    out: set[int] = set()
    probe = Nfa(toks, states, frozenset(range(len(toks) + 1)))
    hard = list(f.hard)
    alphabet = strings._classes(strings._alphabet([*hard, probe]), [*hard, probe], set())
    start = (tuple(strings.closure(h.toks, h.starts) for h in hard), states)
    seen = {start}
    todo = [start]
    while todo:
        hs, ns = todo.pop()
        if all(hs[i] & hard[i].finals for i in range(len(hard))):
            out |= ns
        for ch in alphabet:
            nh = tuple(strings.step(hard[i].toks, hs[i], ch) for i in range(len(hard)))
            if any(not x for x in nh):
                continue
            nn = strings.step(toks, ns, ch)
            if not nn:
                continue
            nxt = (nh, nn)
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
                if len(seen) > 20_000:
                    out = set(range(len(toks) + 1))
                    todo = []
                    break
    result = frozenset(out)
    _TARGETS[memo_key] = result
    return result | lit_targets


# ---- the caller ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerCase:
    """One case of the symbolic caller with everything `evaluate.resolve_caller` would attach to it."""

    guard: Term
    kind: PKind
    identity_policies: tuple[PolicyDocument, ...] = ()
    boundary: PolicyDocument | None = None
    session_policies: tuple[PolicyDocument, ...] = ()
    role_arn: str | None = None  # known role (None: unknown role or not a session)
    user_arn: str | None = None  # the IAM user behind a known federated session
    tags: tuple[tuple[str, str], ...] = ()
    unique_id: str | None = None
    known: bool = False
    worst_case: bool = False
    #: principal tags whose keys are not in `tags` are unknown (absent or any value): the caller, its role or
    #: its session is not described by the environment
    tags_open: bool = False
    #: with `tags_open`: a session the environment does not declare, of a known role, may carry session tags
    #: that override the role's tags (so every key is unknown, the role's value being one possibility)
    tags_override: bool = False


@dataclass(frozen=True)
class _Gates:
    """What every target's decision shares: the caller's identity side and the SCP and VPC endpoint gates."""

    ident: dict[str, Term]
    scp_passed: Term
    scp_denied: Term
    vpce_passed: Term
    vpce_denied: Term


@dataclass
class EncodedEnvironment:
    """The decision terms of one environment over a shared domain."""

    environment: Environment
    allows: Term
    denies: Term
    cases: list[CallerCase] = field(default_factory=list)


class Encoder:
    """Encodes one environment; memoises statements and policies by identity."""

    def __init__(self, domain: Domain, environment: Environment, tag: str, *, pinned_action: str | None = None,
                 via_url: bool = False, callers_of: Encoder | None = None) -> None:
        self.d = domain
        self.env = environment
        self.opts: Options = environment.options
        self.tag = tag
        #: the action of every request this encoder decides (None: the domain's action variable); `via_url`:
        #: the lambda:InvokeFunction a function URL call implies (evaluate.evaluate, §LAM.4)
        self.pinned = pinned_action
        self.via_url = via_url
        self._url_encoder: Encoder | None = None
        self._gates_memo: _Gates | None = None
        self._values: dict[tuple[str, bool], Value] = {}
        self._policy_memo: dict[
            tuple[int, int | None, str | None],
            tuple[list[tuple[Statement, dict[MatchKind, Term]]], list[tuple[Statement, Term]]],
        ] = {}
        self._names = 0
        self.accounts = {a.id: a for a in environment.accounts}
        self.orgs = {o.id: o for o in environment.organizations}
        self._own_memo: dict[str, Key | Resource | Principal | None] = {}
        if callers_of is not None and callers_of.pinned == pinned_action and callers_of.via_url == via_url:
            # (issue 17) `environment` differs from `callers_of`'s only in the policies of its keys, resources
            # and roles (`compiled.callers_alike`, checked by the caller): the caller cases, the identity, SCP
            # and VPC endpoint gates, the context values and the encoded policies are the same terms, reused
            # (a policy memo entry holds by the identity of a policy both environments keep alive)
            self.cases: list[CallerCase] = callers_of.cases
            self._gates_memo = callers_of._gates()
            self._values = dict(callers_of._values)
            self._policy_memo = dict(callers_of._policy_memo)
        else:
            self.cases = list(self.resolve_caller())

    # -- helpers ------------------------------------------------------------------------------------

    @property
    def sc(self) -> smt.Script:
        """The domain's current script (read on every use: `CompiledEnvironment.flush` replaces it, and an
        encoder reused after a flush must write into the new one)."""
        return self.d.script

    def name(self, base: str, term: Term) -> Term:
        """A named definition (keeps the SMT-LIB readable and shares subterms)."""
        if term in (TRUE, FALSE) or len(term) < 40:
            return term
        self._names += 1
        return self.sc.define(f"{self.tag}.{base}.{self._names}", term)

    def kind(self, k: PKind) -> Term:
        return self.d.kind_is(k)

    def action_in(self, names: Iterable[str]) -> Term:
        """The request's action is one of `names` (a constant when the action is pinned)."""
        if self.pinned is None:
            return self.d.action_in(names)
        return TRUE if self.pinned in set(names) else FALSE

    def action_is(self, name: str) -> Term:
        if self.pinned is None:
            return self.d.action_is(name)
        return TRUE if self.pinned == name else FALSE

    def iam(self) -> Term:
        """The caller is an IAM principal of an account (root, user, role session, federated user): not a
        service principal, an anonymous caller or a web identity / SAML provider."""
        return smt.not_(smt.or_(self.kind(k) for k in (PKind.SERVICE, PKind.ANONYMOUS, PKind.PROVIDER)
                                if k in self.d.kinds))

    def declared_orgs(self) -> list[str]:
        """Organization ids the environment declares (closed: no undeclared account is a member), including
        the organization of a declared account when the organization itself is not declared."""
        return sorted(self.env.declared_organizations())

    # -- resolve_caller -------------------------------------------------------------------------------

    def _iam_given_for_unknown(self) -> Term:
        """The caller's account lists its IAM (`Account.iam_known`): principals it does not list have none."""
        return smt.or_(self.d.f("acct").is_lit(a.id) for a in self.env.accounts if a.iam_known)

    def _iam_policies(self, account: str, p: Principal | None) -> tuple[tuple[PolicyDocument, ...], bool]:
        """Mirror of `evaluate._iam_policies` plus the worst case: (policies, worst_case)."""
        acct = self.accounts.get(account)
        worst = self.opts.unknown_iam_worst_case
        if p is None:
            if acct is not None and acct.iam_known:
                return (), False
            return ((ALLOW_ALL,), True) if worst else ((), False)
        if acct is not None and not acct.iam_known:
            return ((ALLOW_ALL,), True) if worst else ((), False)
        return p.identity_policies, False

    def resolve_caller(self) -> list[CallerCase]:
        """Mirror of `evaluate.resolve_caller`: the symbolic caller as exclusive cases, each with the identity
        policies, boundary, session policies and tags the evaluator would attach to it."""
        d = self.d
        env = self.env
        out: list[CallerCase] = [
            CallerCase(self.kind(PKind.ROOT), PKind.ROOT, known=False),
            CallerCase(self.kind(PKind.SERVICE), PKind.SERVICE),
        ]
        for extra in (PKind.ANONYMOUS, PKind.PROVIDER):
            if extra in d.kinds:  # no identity side (evaluate.resolve_caller: no account, no policies)
                out.append(CallerCase(self.kind(extra), extra))
        principals = {p.arn: p for p in env.principals}
        # users
        known_users: list[Term] = []
        for kc in d.known_callers():
            if kc.kind is not PKind.USER:
                continue
            p = principals.get(kc.principal.arn) if kc.principal else None
            if p is None:
                continue  # described only in another environment of the check
            pols, worst = self._iam_policies(kc.account, p)
            known_users.append(kc.guard)
            out.append(
                CallerCase(
                    kc.guard,
                    PKind.USER,
                    pols,
                    p.permissions_boundary,
                    (),
                    tags=tuple(p.tags.items()),
                    unique_id=p.unique_id,
                    known=True,
                    worst_case=worst,
                )
            )
        unknown_user = smt.and_(self.kind(PKind.USER), smt.not_(smt.or_(known_users)))
        out += self._unknown_split(unknown_user, PKind.USER)
        # role sessions
        roles = [
            kc
            for kc in d.known_callers()
            if kc.kind is PKind.SESSION and kc.principal is not None and kc.principal.arn in principals
        ]
        role_guards: list[Term] = []
        sessions = [(g, s, rn, sn) for g, s, rn, sn in d.known_sessions() if any(s.arn == x.arn for x in env.sessions)]
        used_sessions: list[Term] = []
        for kc in roles:
            role = principals[kc.principal.arn]  # type: ignore[union-attr]
            pols, worst = self._iam_policies(kc.account, role)
            role_guards.append(kc.guard)
            mine = [
                (g, s, sn)
                for g, s, rn, sn in sessions
                if rn.lower() == role.arn.rsplit("/", 1)[-1].lower() and s.source == role.arn
            ]
            for g, s, _sn in mine:
                used_sessions.append(g)
                tags = {**role.tags, **s.tags}
                out.append(
                    CallerCase(
                        g,
                        PKind.SESSION,
                        pols,
                        role.permissions_boundary,
                        s.session_policies,
                        role_arn=role.arn,
                        tags=tuple(tags.items()),
                        unique_id=role.unique_id,
                        known=True,
                        worst_case=worst,
                    )
                )
            rest = smt.and_(kc.guard, smt.not_(smt.or_(g for g, _, _ in mine)))
            out.append(
                CallerCase(
                    rest,
                    PKind.SESSION,
                    pols,
                    role.permissions_boundary,
                    (),
                    role_arn=role.arn,
                    tags=tuple(role.tags.items()),
                    known=True,
                    worst_case=worst,
                    unique_id=role.unique_id,
                    tags_open=True,
                    tags_override=True,
                )
            )
        role_known = smt.or_(role_guards)
        # sessions of roles the environment does not describe
        orphan: list[Term] = []
        for g, s, _rn, _sn in sessions:
            if g in used_sessions:
                continue
            sg = smt.and_(g, smt.not_(role_known))
            orphan.append(sg)
            pols, worst = self._iam_policies(s.arn.split(":")[4], None)
            out.append(
                CallerCase(
                    sg,
                    PKind.SESSION,
                    pols,
                    None,
                    s.session_policies,
                    tags=tuple(s.tags.items()),
                    worst_case=worst,
                    tags_open=True,
                )
            )
        unknown_session = smt.and_(self.kind(PKind.SESSION), smt.not_(role_known), smt.not_(smt.or_(orphan)))
        out += self._unknown_split(unknown_session, PKind.SESSION)
        # federated users
        feds: list[Term] = []
        for g, s, acct, _name in d.known_federated():
            if not any(s.arn == x.arn for x in env.sessions):
                continue
            user = principals.get(s.source)
            if user is None:
                continue
            feds.append(g)
            pols, worst = self._iam_policies(acct, user)
            tags = {**user.tags, **s.tags}
            out.append(
                CallerCase(
                    g,
                    PKind.FEDERATED,
                    pols,
                    user.permissions_boundary,
                    s.session_policies,
                    user_arn=user.arn,
                    tags=tuple(tags.items()),
                    known=True,
                    worst_case=worst,
                )
            )
        # a federated user the environment does not declare is a session of some user of its account (its
        # source, fields `upath` / `uname`, domain.fed_source_arn): a declared user, with that user's policies,
        # boundary and tags (session tags may override them), or a user the environment does not describe;
        # its session policy is unknown (worst case: allows everything), semantics §4.2
        unknown_fed = smt.and_(self.kind(PKind.FEDERATED), smt.not_(smt.or_(feds)))
        sources: list[Term] = []
        for user in env.principals:
            m = parse_principal(user.arn)
            if user.kind is not PrincipalKind.USER or not isinstance(m, UserArn):
                continue
            path, _, name = m.path_name.rpartition("/")
            g = smt.and_(
                unknown_fed,
                d.f("acct").is_lit(m.account),
                d.f("upath").is_lit(f"{path}/" if path else ""),
                d.f("uname").is_lit(name),
            )
            sources.append(g)
            pols, worst = self._iam_policies(m.account, user)
            out.append(
                CallerCase(
                    g,
                    PKind.FEDERATED,
                    pols,
                    user.permissions_boundary,
                    (ALLOW_ALL,) if self.opts.unknown_iam_worst_case else (),
                    user_arn=user.arn,
                    tags=tuple(user.tags.items()),
                    known=True,
                    worst_case=worst,
                    tags_open=True,
                    tags_override=True,
                )
            )
        out += self._unknown_split(smt.and_(unknown_fed, smt.not_(smt.or_(sources))), PKind.FEDERATED)
        return out

    def _iam_split(self, guard: Term) -> list[tuple[Term, bool]]:
        """Split a caller guard by whether its account's IAM is missing (second item True)."""
        given = self._iam_given_for_unknown()
        return [(smt.and_(guard, given), False), (smt.and_(guard, smt.not_(given)), True)]

    def _unknown_split(self, guard: Term, kind: PKind) -> list[CallerCase]:
        out: list[CallerCase] = []
        worst = self.opts.unknown_iam_worst_case
        for g, missing in self._iam_split(guard):
            # an undeclared federated user's session policy is unknown: in the worst case it allows everything
            sess = (ALLOW_ALL,) if kind is PKind.FEDERATED and worst else ()
            if missing and worst:
                out.append(CallerCase(g, kind, (ALLOW_ALL,), None, sess, worst_case=True, tags_open=True))
            else:
                out.append(CallerCase(g, kind, (), None, sess, tags_open=True))
        return out

    # -- derive_context ---------------------------------------------------------------------------------

    def derive_context(self, key: str, *, resource_keys: bool = True) -> Value:
        """Mirror of `evaluate.derive_context` for one key: the value of context key `key` (lower case) per
        caller / key / request case, with kms: keys masked by `catalog.condition_key_may_exist`."""
        memo = self._values.get((key, resource_keys))
        if memo is not None:
            return memo
        v = self._derive(key, resource_keys)
        if key.startswith("kms:"):
            v = self._mask(v)
        self._values[(key, resource_keys)] = v
        return v

    def _key_may_exist(self, key: str, term: Term) -> Term:
        """`term` and the key can exist for the action (kms: keys, `catalog.condition_key_may_exist`; mirror
        of `evaluate._key_may_exist`)."""
        if not key.startswith("kms:"):
            return term
        ok = [a for a in self.d.actions if key_may_exist(key, a) is not False]
        return smt.and_(term, self.action_in(ok))

    def _mask(self, v: Value) -> Value:
        ok = [a for a in self.d.actions if key_may_exist(v.key, a) is not False]
        cond = self.action_in(ok)
        if cond == TRUE:
            return v
        return Value(
            v.key,
            [[Case(smt.and_(c.guard, cond), c.pieces) for c in slot] for slot in v.slots],
            v.multivalued,
        )

    def _raw(self, key: str) -> Value:
        raw = self.d.raw_key(key)
        slots = [[Case(p, (f,))] for p, f in zip(raw.present, raw.fields, strict=True)]
        return Value(key, slots, raw.multivalued)

    def _derive(self, key: str, resource_keys: bool) -> Value:
        """Mirror of `evaluate._derive` for one key (before the kms: mask of `derive_context`)."""
        d = self.d
        if key in ev.CALLER_DERIVED_KEYS or key.startswith("aws:principaltag/"):
            return self._caller_value(key)
        if key in ev.KEY_DERIVED_KEYS or key.startswith(("aws:resourcetag/", "iam:resourcetag/")) or \
                key == "s3:resourceaccount":
            if not resource_keys and (key.startswith("aws:resourcetag/") or key == "kms:resourcealiases"):
                return Value(key, [[]], is_multivalued(key))
            return self._key_value(key)
        kms = self.action_in(a for a in d.actions if a[:4].lower() == "kms:")
        if key == "aws:securetransport":
            # always true for KMS (TLS only); for other services the request says
            if kms == TRUE:
                return Value(key, [[Case(TRUE, ("true",))]])
            raw = d.raw_key(key)
            return Value(key, [[Case(kms, ("true",)), Case(smt.and_(smt.not_(kms), raw.present[0]), (raw.fields[0],))]])
        if key == "aws:sourcevpc" and self.env.vpc_endpoints:
            # a declared endpoint's VPC (the request's own value must agree, evaluate._derive)
            raw = d.raw_key(key)
            cases = [Case(self._value_is("aws:sourcevpce", e.id), (e.vpc,)) for e in self.env.vpc_endpoints]
            via = smt.or_(c.guard for c in cases)
            return Value(key, [[*cases, Case(smt.and_(smt.not_(via), raw.present[0]), (raw.fields[0],))]])
        if key == "aws:viaawsservice":
            # given, else true in a forward access session, else false for KMS (requestfacts, fact 3)
            raw = d.raw_key(key)
            p = raw.present[0]
            fas = d.fas()
            return Value(key, [[Case(p, (raw.fields[0],)), Case(smt.and_(smt.not_(p), fas), ("true",)),
                                Case(smt.and_(smt.not_(p), smt.not_(fas), kms), ("false",))]])
        if key == "kms:grantisforawsresource":
            raw = d.raw_key(key)
            via = self._key_may_exist("kms:viaservice", d.raw_key("kms:viaservice").present[0])
            p = self._key_may_exist(key, raw.present[0])
            defaulted = smt.and_(kms, smt.not_(p))
            return Value(
                key,
                [
                    [
                        Case(p, (raw.fields[0],)),
                        Case(smt.and_(defaulted, via), ("true",)),
                        Case(smt.and_(defaulted, smt.not_(via)), ("false",)),
                    ]
                ],
            )
        if key == "kms:bypasspolicylockoutsafetycheck":
            raw = d.raw_key(key)
            p = raw.present[0]
            if not getattr(self.opts, "bypass_lockout_key_always_present", False):
                return self._raw(key)
            return Value(key, [[Case(p, (raw.fields[0],)), Case(smt.not_(p), ("false",))]])
        if key == "kms:encryptionalgorithm":
            # defaulted to SYMMETRIC_DEFAULT for a symmetric key's encryption operations (mirror of _derive)
            raw = d.raw_key(key)
            p = self._key_may_exist(key, raw.present[0])
            symmetric = smt.or_(d.key_is(k) for k in self.env.keys if k.key_spec == "SYMMETRIC_DEFAULT")
            ops = self.action_in(a for a in d.actions if a in ev.SYMMETRIC_ALGORITHM_ACTIONS)
            return Value(
                key,
                [[Case(p, (raw.fields[0],)), Case(smt.and_(smt.not_(p), symmetric, ops), ("SYMMETRIC_DEFAULT",))]],
            )
        if key == "lambda:invokedviafunctionurl" and self.via_url:
            return Value(key, [[Case(TRUE, ("true",))]])  # the call a function URL implies (evaluate.evaluate)
        if key == "lambda:functionurlauthtype":
            return self._url_auth_type()
        return self._raw(key)

    def _url_auth_type(self) -> Value:
        """Mirror of `evaluate._derive` for lambda:FunctionUrlAuthType: a declared function's URL AuthType on a
        function URL call (or the lambda:InvokeFunction it implies); the request's own value elsewhere."""
        d = self.d
        key = "lambda:functionurlauthtype"
        cases: list[Case] = []
        raw_targets: list[Term] = []
        via = self.action_is("lambda:InvokeFunction")
        if not self.via_url:
            via = smt.and_(via, self._value_is("lambda:invokedviafunctionurl", "true"))
        url_call = smt.or_(self.action_is("lambda:InvokeFunctionUrl"), via)
        for t in d.targets:
            mine = self._own(t)
            auth = mine.attributes.get("function_url_auth_type") if isinstance(mine, Resource) else None
            if auth is None:
                raw_targets.append(d.target_is(t))
            else:
                cases.append(Case(smt.and_(d.target_is(t), url_call), (auth,)))
        if raw_targets:
            r = self._raw(key)
            cases += [Case(smt.and_(smt.or_(raw_targets), c.guard), c.pieces) for c in r.slots[0]]
        return Value(key, [cases])

    def _caller_value(self, key: str) -> Value:
        d = self.d
        acct = d.f("acct")
        iam = self.iam()
        anonymous = self.kind(PKind.ANONYMOUS) if PKind.ANONYMOUS in d.kinds else FALSE
        if key == "aws:principalarn":
            cases = []
            for p in d.partitions:
                part = d.partition_is(p)
                cases += [
                    Case(smt.and_(self.kind(PKind.ROOT), part), (iam_prefix(p), acct, ":root")),
                    Case(smt.and_(self.kind(PKind.USER), part),
                         (iam_prefix(p), acct, ":user/", d.f("upath"), d.f("uname"))),
                    Case(smt.and_(self.kind(PKind.FEDERATED), part), (sts_prefix(p), acct, ":federated-user/",
                                                                       d.f("fed"))),
                ]
            known_roles = [c for c in self.cases if c.kind is PKind.SESSION and c.role_arn is not None]
            for c in known_roles:
                cases.append(Case(c.guard, (c.role_arn,)))  # type: ignore[arg-type]
            unknown = smt.and_(self.kind(PKind.SESSION), smt.not_(smt.or_(c.guard for c in known_roles)))
            for part, pieces in d.unknown_role_arns():
                cases.append(Case(smt.and_(unknown, part), pieces))
            return Value(key, [cases])
        if key == "aws:principalaccount":
            return Value(key, [[Case(iam, (acct,)), Case(anonymous, ("anonymous",))]])
        if key == "kms:calleraccount":
            return Value(key, [[Case(iam, (acct,))]])
        if key == "aws:principalisawsservice":
            return Value(key, [[Case(self.kind(PKind.SERVICE), ("true",)),
                                Case(smt.not_(self.kind(PKind.SERVICE)), ("false",))]])
        if key == "aws:principalservicename":
            return Value(key, [[Case(self.kind(PKind.SERVICE), (d.f("svc"),))]])
        if key == "aws:principalservicenameslist":
            return Value(key, [[Case(self.kind(PKind.SERVICE), (d.f("svc"),))]], True)
        if key == "aws:principaltype":
            names = {
                PKind.ROOT: "Account",
                PKind.USER: "User",
                PKind.SESSION: "AssumedRole",
                PKind.FEDERATED: "FederatedUser",
                PKind.ANONYMOUS: "Anonymous",
            }
            return Value(key, [[Case(self.kind(k), (n,)) for k, n in names.items() if k in d.kinds]])
        if key == "aws:username":
            return Value(key, [[Case(self.kind(PKind.USER), (d.f("uname"),))]])
        if key == "aws:userid":
            cases = [
                Case(self.kind(PKind.ROOT), (acct,)),
                Case(self.kind(PKind.FEDERATED), (acct, ":", d.f("fed"))),
                Case(anonymous, ("anonymous",)),
            ]
            for c in self.cases:
                # a unique id the environment does not give is some id of the right shape (AWS always sets it)
                if c.kind is PKind.USER:
                    cases.append(Case(c.guard, (c.unique_id,) if c.unique_id else (d.unknown_field("uid"),)))
                if c.kind is PKind.SESSION:
                    uid: Piece = f"{c.unique_id}:" if c.unique_id else d.unknown_field("rid")
                    cases.append(Case(c.guard, (uid, ":", d.f("sess")) if not c.unique_id else (uid, d.f("sess"))))
            return Value(key, [cases])
        if key in ("aws:principalorgid", "aws:principalorgpaths"):
            cases = []
            for a in self.env.accounts:
                if not a.organization:
                    continue
                if key == "aws:principalorgid":
                    cases.append(Case(smt.and_(iam, acct.is_lit(a.id)), (a.organization,)))
                else:
                    org = self.orgs.get(a.organization)
                    if org is not None:
                        cases.append(Case(smt.and_(iam, acct.is_lit(a.id)), (ir.org_paths(org, a),)))
            # an account the environment does not declare: in no organization, or in one it does not declare
            org_f = d.unknown_field("org")
            undeclared = smt.and_(
                iam,
                smt.not_(smt.or_(acct.is_lit(a.id) for a in self.env.accounts)),
                d.unknown_in_org(),
                smt.not_(smt.or_(org_f.is_lit(o) for o in self.declared_orgs())),
            )
            if key == "aws:principalorgid":
                cases.append(Case(undeclared, (org_f,)))
            else:
                cases.append(Case(undeclared, (org_f, "/", d.unknown_field("orgpath"))))
            return Value(key, [cases], key == "aws:principalorgpaths")
        if key.startswith("aws:principaltag/"):
            tag = key.split("/", 1)[1]
            cases = []
            for c in self.cases:
                hit = [v for k, v in c.tags if k.lower() == tag]
                if c.tags_open and (not hit or c.tags_override):
                    present, value = d.unknown_tag(tag)
                    cases.append(Case(smt.and_(c.guard, present), (value,)))
                    if hit:
                        cases.append(Case(smt.and_(c.guard, smt.not_(present)), (hit[-1],)))
                elif hit:
                    cases.append(Case(c.guard, (hit[-1],)))
            return Value(key, [cases])
        raise UnsupportedFeatureError(f"context key `{key}` is not modelled by the symbolic core")

    def _key_value(self, key: str) -> Value:
        """Mirror of the resource keys of `evaluate._base_context`: per target, the values derived from it, or
        (where it derives nothing for that target, `evaluate._derived_by_target`) the request's own value."""
        d = self.d
        multi = is_multivalued(key)
        per_target: list[tuple[Term, tuple[str, ...]]] = []
        raw_targets: list[Term] = []
        for t in d.targets:
            vals = self._key_values(t, key)
            if vals is None:
                raw_targets.append(d.target_is(t))
            elif vals:
                per_target.append((d.target_is(t), vals))
        undeclared = self._undeclared_owner_org(key) if key in ("aws:resourceorgid", "aws:resourceorgpaths") else []
        raw: list[list[Case]] = []
        if raw_targets:
            r = self._raw(key)
            use = smt.or_(raw_targets)
            raw = [[Case(smt.and_(use, c.guard), c.pieces) for c in slot] for slot in r.slots]
        if not multi:
            return Value(key, [[Case(g, (vs[0],)) for g, vs in per_target] + undeclared + (raw[0] if raw else [])])
        n = max([len(vs) for _, vs in per_target] + ([len(raw)] if raw else []), default=1)
        slots: list[list[Case]] = [[] for _ in range(n)]
        for g, vs in per_target:
            for i, v in enumerate(vs):
                slots[i].append(Case(g, (v,)))
        slots[0] += undeclared
        for i, slot in enumerate(raw):
            slots[i] += slot
        return Value(key, slots, True)

    def _undeclared_owner_org(self, key: str) -> list[Case]:
        """aws:ResourceOrgID / aws:ResourceOrgPaths of a resource whose owner account the environment does not
        declare: in no organization or in one it does not declare (domain.py), the caller's own when the caller
        is in that account (what `evaluate._derive` gives after `explain.augment_caller` declares it)."""
        d = self.d
        acct = d.f("acct")
        out: list[Case] = []
        declared = self.declared_orgs()
        for t in d.targets:
            if t.owner in self.accounts:
                continue
            same = smt.and_(self.iam(), acct.is_lit(t.owner))
            for inorg, org, path, here in (
                (d.unknown_in_org(), d.unknown_field("org"), "orgpath", same),
                (d.key_owner_in_org(), d.unknown_field("rorg"), "rorgpath", smt.not_(same)),
            ):
                guard = smt.and_(
                    d.target_is(t), here, inorg, smt.not_(smt.or_(org.is_lit(o) for o in declared))
                )
                value: tuple[Piece, ...] = (org,) if key == "aws:resourceorgid" else (org, "/", d.unknown_field(path))
                out.append(Case(guard, value))
        return out

    def _key_values(self, t: SymTarget, key: str) -> tuple[str, ...] | None:
        """The values target `t` gives context key `key` (() absent), or None when it derives none and the
        request's own value applies (`evaluate._derived_by_target`: AWS derives the resource's keys only for a
        key, resource or role this environment declares; in a comparison the other environment's targets are not)."""
        mine = self._own(t)
        if mine is None:
            return None
        owner = self.accounts.get(t.owner)
        if key == "aws:resourceaccount":
            return (t.owner,)
        if key == "aws:requestedregion":
            return (t.region,) if t.region else None
        if key == "aws:resourceorgid":
            return (owner.organization,) if owner is not None and owner.organization else ()
        if key == "aws:resourceorgpaths":
            if owner is not None and owner.organization and owner.organization in self.orgs:
                return (ir.org_paths(self.orgs[owner.organization], owner),)
            return ()
        if key.startswith("aws:resourcetag/") or key.startswith("iam:resourcetag/"):
            if key.startswith("iam:") and t.kind != "role":
                return None
            tag = key.split("/", 1)[1]
            tags = mine.tags if isinstance(mine, Key | Resource | Principal) else {}
            return tuple(v for k, v in tags.items() if k.lower() == tag)[:1]
        if key == "s3:resourceaccount":
            return (t.owner,) if t.service == "s3" else None
        k = mine if isinstance(mine, Key) else None
        if k is None:
            return None  # the kms: properties of a key are derived for keys only
        if key == "kms:resourcealiases":
            return tuple(k.aliases)
        if key in ("kms:keyspec", "kms:customermasterkeyspec"):
            return (k.key_spec,)
        if key in ("kms:keyusage", "kms:customermasterkeyusage"):
            return (k.key_usage,)
        if key == "kms:keyorigin":
            return (k.origin,)
        if key == "kms:multiregion":
            return ("true" if k.multi_region else "false",)
        raise UnsupportedFeatureError(f"context key `{key}` is not modelled by the symbolic core")

    def _own(self, t: SymTarget) -> Key | Resource | Principal | None:
        """This environment's object for target `t` (its key, declared resource or role), or None."""
        memo = self._own_memo
        if t.arn not in memo:
            if t.kind == "key":
                memo[t.arn] = next((k for k in self.env.keys if k.arn == t.arn), None)
            elif t.kind == "role":
                memo[t.arn] = next((p for p in self.env.principals if p.arn == t.arn and p.trust_policy), None)
            else:
                memo[t.arn] = next((r for r in self.env.resources if r.arn == t.arn), None)
        return memo[t.arn]

    # -- conditions ---------------------------------------------------------------------------------------

    def _compare(self, cc: ir.CompiledCondition, pieces: tuple[Piece, ...], typed: object) -> tuple[Term, Term]:
        """Mirror of `ir.compare` (the base comparison m(x, v) the evaluator applies): (defined, m) for a
        symbolic value, `defined` False where `ir.compare` returns None (a value that does not parse). A
        constant value is compared by `ir.compare` itself."""
        if isinstance(typed, _Holed) and cc.family == "bool":
            return self._bool_holed(cc, pieces, typed)
        if isinstance(typed, _Holed):
            # a pattern whose policy variables hold symbolic values: compared exactly (variables.py)
            return TRUE, self._match_holed(pieces, list(typed.items))
        const = "".join(p for p in pieces if isinstance(p, str)) if all(isinstance(p, str) for p in pieces) else None
        if const is not None:
            r = ir.compare(cc, const, typed)
            return (FALSE, FALSE) if r is None else (TRUE, TRUE if r else FALSE)
        op = cc.condition.operator
        fam = cc.family
        if fam == "string":
            assert isinstance(typed, Glob)
            if op in (
                ConditionOperator.STRING_EQUALS_IGNORE_CASE,
                ConditionOperator.STRING_NOT_EQUALS_IGNORE_CASE,
            ):
                text = typed.literal_text
                if text is None:
                    return TRUE, FALSE
                return TRUE, match_pieces(strings.literal(text, ignore_case=True), pieces)
            text = typed.literal_text
            if text is not None:
                if len(pieces) == 1 and isinstance(pieces[0], StrField):
                    return TRUE, pieces[0].is_lit(text)
                return TRUE, match_pieces(strings.literal(text), pieces)
            return TRUE, match_pieces(strings.from_glob(typed), pieces)
        if fam == "arn":
            assert isinstance(typed, ArnPattern)
            return TRUE, match_pieces(strings.from_arn(typed), pieces)
        if _always_arn(pieces):
            # every value is an ARN, which is no number, instant, IP address, base64 text or Boolean: `ir.compare`
            # gives what it gives any unparseable value (§3.3), here on the ARN's fixed start
            assert isinstance(pieces[0], str)
            r = ir.compare(cc, pieces[0], typed)
            return (FALSE, FALSE) if r is None else (TRUE, TRUE if r else FALSE)
        if len(pieces) != 1 or not isinstance(pieces[0], StrField):
            raise UnsupportedFeatureError(
                f"operator `{cc.condition.operator_text}` on the derived key "
                f"`{cc.condition.key.text}` is not supported by the symbolic core",
                span=cc.condition.operator_span,
            )
        f = pieces[0]
        if fam in ("numeric", "date"):
            view = f.typed_view(fam)
            if typed is None:
                return FALSE, FALSE
            f.constants.setdefault(fam, set()).add(typed)
            c = smt.real(_fraction(typed))
            name = op.value
            if name.endswith("LessThanEquals"):
                rel = smt.cmp("<=", view["v"], c)
            elif name.endswith("LessThan"):
                rel = smt.cmp("<", view["v"], c)
            elif name.endswith("GreaterThanEquals"):
                rel = smt.cmp(">=", view["v"], c)
            elif name.endswith("GreaterThan"):
                rel = smt.cmp(">", view["v"], c)
            else:
                rel = smt.eq(view["v"], c)
            return view["ok"], smt.and_(view["ok"], rel)
        if fam == "bool":
            view = f.typed_view("bool")
            if isinstance(typed, Glob):  # a resolved variable (options.bool_variables), as ir.compare reads it
                typed = parse_bool(typed.literal_text or "")
            if typed is None:
                return TRUE, FALSE
            return TRUE, smt.eq(view["b"], "1" if typed else "2")
        if fam == "binary":
            view = f.typed_view("binary")
            if not isinstance(typed, bytes):
                return TRUE, FALSE
            return TRUE, smt.eq(view["bytes"], smt.int_(self.d.byte_id(typed)))
        if fam == "ip":
            view = f.typed_view("ip")
            if typed is None:
                return FALSE, FALSE
            net = typed
            width = 32 if net.version == 4 else 128  # type: ignore[attr-defined]
            var = view["v4"] if width == 32 else view["v6"]
            mask = int(net.netmask)  # type: ignore[attr-defined]
            base = int(net.network_address)  # type: ignore[attr-defined]
            fam_ok = smt.eq(view["fam"], "4" if width == 32 else "6")
            inside = smt.eq(smt.bvand(var, smt.bv(mask, width)), smt.bv(base & mask, width))
            defined = smt.not_(smt.eq(view["fam"], "0"))
            return defined, smt.and_(fam_ok, inside)
        raise UnsupportedFeatureError(
            f"operator `{cc.condition.operator_text}` is not supported by the symbolic core",
            span=cc.condition.operator_span,
        )

    def _single(self, cc: ir.CompiledCondition, pieces: tuple[Piece, ...], values: list[object]) -> Term:
        """op1(x) of `evaluate._single` for one (present) symbolic value."""
        resolved = [t for t in values if t is not _UNRESOLVED]
        if cc.condition.operator.negated:
            if len(resolved) < len(values) and not self.opts.unresolved_variable_negated_true:
                return FALSE
            return smt.and_(
                smt.and_(dfn, smt.not_(m)) for dfn, m in (self._compare(cc, pieces, t) for t in resolved)
            )
        return smt.or_(m for _, m in (self._compare(cc, pieces, t) for t in resolved))

    def _slot(self, cc: ir.CompiledCondition, slot: list[Case], values: list[object]) -> tuple[Term, Term]:
        """(present, op1) for one slot of a value."""
        present = smt.or_(c.guard for c in slot if c.pieces is not None)
        op1 = smt.or_(smt.and_(c.guard, self._single(cc, c.pieces, values)) for c in slot if c.pieces is not None)
        return present, op1

    def _variable_cases(
        self, keys: set[str], resource_keys: bool
    ) -> list[tuple[Term, dict[str, tuple[Piece, ...] | None]]]:
        """The policy variables' values (semantics §3.4) as exclusive, exhaustive cases: in each, every variable
        key is absent or has the value of one case of the key (constants, or pieces with fields of the symbolic
        request: the caller's account or name, a caller-controlled key). A multivalued key is never a variable's
        value (absent, as `ir.context_lookup` has it)."""
        combos: list[tuple[Term, dict[str, tuple[Piece, ...] | None]]] = [(TRUE, {})]
        for k in sorted(keys):
            options: list[tuple[Term, tuple[Piece, ...] | None]] = []
            if ":" in k and not is_multivalued(k):
                value = self.derive_context(k, resource_keys=resource_keys)
                if not value.multivalued:
                    for c in value.slots[0] if value.slots else []:
                        if c.pieces is not None:
                            options.append((c.guard, c.pieces))
            options.append((smt.not_(smt.or_(g for g, _ in options)), None))
            combos = [
                (smt.and_(g1, g2), {**d1, k: v}) for g1, d1 in combos for g2, v in options if smt.and_(g1, g2) != FALSE
            ]
        return combos

    @staticmethod
    def _assigned(assignment: dict[str, tuple[Piece, ...] | None]) -> Callable[[str, str | None],
                                                                              tuple[Piece, ...] | None]:
        """A variable's pieces in one case (its default when absent; None when unresolved)."""
        def value(key: str, default: str | None) -> tuple[Piece, ...] | None:
            pieces = assignment.get(key.lower())
            if pieces is None:
                return (default,) if default is not None else None
            return pieces
        return value

    @staticmethod
    def _constant_assignment(assignment: dict[str, tuple[Piece, ...] | None]) -> dict[str, str | None] | None:
        """The assignment as text when every value is constant, else None."""
        out: dict[str, str | None] = {}
        for k, pieces in assignment.items():
            if pieces is not None and not all(isinstance(p, str) for p in pieces):
                return None
            out[k] = None if pieces is None else "".join(p for p in pieces if isinstance(p, str))
        return out

    def _bool_holed(self, cc: ir.CompiledCondition, pieces: tuple[Piece, ...], typed: _Holed) -> tuple[Term, Term]:
        """`ir.compare` of a `Bool` value whose variables hold symbolic values (`Options.bool_variables`): the
        request value and the resolved text parse to the same Boolean (`values.parse_bool`)."""
        text = variables.as_pieces(list(typed.items))
        const = "".join(p for p in pieces if isinstance(p, str)) if all(isinstance(p, str) for p in pieces) else None
        out: list[Term] = []
        for b in (True, False):
            if const is not None:
                x: Term = TRUE if parse_bool(const) is b else FALSE
            elif len(pieces) == 1 and isinstance(pieces[0], StrField):
                x = smt.eq(pieces[0].typed_view("bool")["b"], "1" if b else "2")
            elif _always_arn(pieces):
                x = FALSE  # an ARN is no Boolean
            else:
                raise UnsupportedFeatureError(
                    f"operator `{cc.condition.operator_text}` on the derived key `{cc.condition.key.text}` is "
                    "not supported by the symbolic core", span=cc.condition.operator_span)
            out.append(smt.and_(x, match_pieces(_BOOL_TEXT[b], _fields(text))))
        return TRUE, smt.or_(out)

    def _link(self, pieces: tuple[Piece, ...], items: list[variables.Item]) -> Term:
        """The relation "`pieces` is in the pattern `items`" between fields (`variables.Link`)."""
        key = (pieces, tuple(items))
        hit = self.d.links.get(key)
        if hit is None:
            atom = self.d.script.declare(f"link.{len(self.d.links)}", smt.BOOL)
            hit = self.d.links[key] = variables.Link(atom, pieces, tuple(items))
            self._link_facts(hit)
        return hit.atom

    def _link_facts(self, lk: variables.Link) -> None:
        """The link's truth wherever it is a fact of literals: when the value's one field takes one of its
        literals (the cuts of that text), and when the pattern's one hole field takes one of its literals (an
        automaton over the value). Only the cases where both are "other" are left to decoding."""
        value_fields = list(dict.fromkeys(p for p in lk.value if isinstance(p, StrField)))
        hole_fields = list(dict.fromkeys(it.pieces[0] for it in lk.items
                                         if isinstance(it, variables.Hole) and isinstance(it.pieces[0], StrField)))
        if len(value_fields) == 1 and len(value_fields[0].lits) <= _LINK_FACT_LITERALS:
            f = value_fields[0]
            for lit in f.lits:
                text = "".join(p if isinstance(p, str) else lit for p in lk.value)
                m = variables.match_constant(text, list(lk.items))
                if m is None:
                    continue  # too many ways to cut the literal: decoding decides the link for it
                self.d.script.require(smt.implies(f.is_lit(lit), smt.iff(lk.atom, m)))
        if len(hole_fields) == 1 and len(hole_fields[0].lits) <= _LINK_FACT_LITERALS:
            h = hole_fields[0]
            for lit in h.lits:
                items = variables.concrete_items(list(lk.items), lambda _f, v=lit: v)  # type: ignore[misc]
                nfa = None if items is None else variables.as_nfa(items)
                m = FALSE if nfa is None else match_pieces(nfa, _fields(lk.value))
                self.d.script.require(smt.implies(h.is_lit(lit), smt.iff(lk.atom, m)))

    def _match_holed(self, pieces: tuple[Piece, ...], items: list[variables.Item]) -> Term:
        """`pieces` is in the pattern whose variables hold symbolic values (exact: an automaton when the holes are
        constants, the cuts of a constant value, else a link)."""
        flat = variables.flatten(items)
        nfa = variables.as_nfa(flat)
        if nfa is not None:
            return match_pieces(nfa, pieces)
        if all(isinstance(p, str) for p in pieces):
            hit = variables.match_constant("".join(p for p in pieces if isinstance(p, str)), flat)
            if hit is not None:
                return hit
        return self._link(pieces, flat)

    def encode_condition(self, cc: ir.CompiledCondition, *, resource_keys: bool = True) -> Term:
        """Mirror of `evaluate.evaluate_condition` (semantics §3.2 table, §3.3 operators, §3.4 variables)."""
        try:
            return self._encode_condition(cc, resource_keys)
        except limits.TooComplex as exc:
            raise _located(exc, cc.condition.span) from None

    def _encode_condition(self, cc: ir.CompiledCondition, resource_keys: bool) -> Term:
        """Mirror of `evaluate._evaluate_condition`: `_condition` per case of the policy variables' values (a
        value with fields of the symbolic request is a `_Holed` pattern, compared exactly by `_compare`)."""
        cond = cc.condition
        if not cc.has_variables:
            return self._condition(cc, [v.typed for v in cc.values], resource_keys)
        if cc.family not in ("string", "arn", "bool"):  # (variables in Bool values: `Options.bool_variables`)
            raise UnsupportedFeatureError(
                f"policy variables in `{cond.operator_text}` values are not supported by the symbolic core",
                span=cond.span,
            )
        keys = {k.lower() for v in cc.values for k in _variable_keys(v.typed)}
        combos = self._variable_cases(keys, resource_keys)
        ignore_case = cond.operator in (ConditionOperator.STRING_EQUALS_IGNORE_CASE,
                                        ConditionOperator.STRING_NOT_EQUALS_IGNORE_CASE)
        out: list[Term] = []
        for guard, assignment in combos:
            constant = self._constant_assignment(assignment)
            values: list[object] = []
            for v in cc.values:
                typed = v.typed
                if not (isinstance(typed, Glob | ArnPattern) and typed.has_variables):
                    values.append(typed)
                elif constant is not None:
                    r = typed.resolve(lambda key, a=constant: a.get(key.lower()))  # type: ignore[misc]
                    values.append(_UNRESOLVED if r is None else r)
                else:
                    if isinstance(typed, Glob) and ignore_case:
                        typed = Glob(typed.tokens, ignore_case=True)
                    items = variables.holed(typed, self._assigned(assignment))
                    values.append(_UNRESOLVED if items is None else _Holed(tuple(items)))
            out.append(smt.and_(guard, self._condition(cc, values, resource_keys)))
        return smt.or_(out)

    def _condition(self, cc: ir.CompiledCondition, values: list[object], resource_keys: bool) -> Term:
        """The table of semantics §3.2 on resolved values (the body of `evaluate._evaluate_condition`)."""
        cond = cc.condition
        value = self.derive_context(cc.key, resource_keys=resource_keys)
        slot_present = [smt.or_(c.guard for c in slot if c.pieces is not None) for slot in value.slots]
        present = smt.or_(slot_present)
        if cond.operator is ConditionOperator.NULL:
            out: list[Term] = []
            for v in cc.values:
                if v.typed is True:
                    out.append(smt.not_(present))
                elif v.typed is False:
                    out.append(present)
            return smt.or_(out)
        q = cond.qualifier
        if q is SetQualifier.FOR_ALL_VALUES:
            absent_result = TRUE
        elif q is SetQualifier.FOR_ANY_VALUE:
            absent_result = (
                TRUE if cond.if_exists and getattr(self.opts, "for_any_value_if_exists_absent_true", True) else FALSE
            )
        else:
            absent_result = TRUE if (cond.if_exists or cond.operator.negated) else FALSE
        singles = [self._slot(cc, slot, values) for slot in value.slots]
        if q is SetQualifier.FOR_ANY_VALUE:
            when_present = smt.or_(smt.and_(p, s) for p, s in singles)
        elif q is SetQualifier.FOR_ALL_VALUES:
            when_present = smt.and_(smt.implies(p, s) for p, s in singles)
        elif value.multivalued:
            if not self.opts.plain_operator_on_multivalued_any:
                when_present = FALSE
            elif cond.operator.negated:
                when_present = smt.and_(smt.implies(p, s) for p, s in singles)
            else:
                when_present = smt.or_(smt.and_(p, s) for p, s in singles)
        else:
            when_present = singles[0][1]
        return smt.ite(present, when_present, absent_result)

    # -- statements ---------------------------------------------------------------------------------------

    def encode_action(self, cs: ir.CompiledStatement) -> Term:
        """Mirror of `evaluate.match_action`: a closed world over the domain's actions."""
        if cs.statement.action is None:
            return FALSE
        block = cs.statement.action
        memo_key = (self.d.actions, block.negated, tuple(v.text for v in block.patterns))
        hits = _ACTION_HITS.get(memo_key)
        if hits is None:
            hits = tuple(a for a in self.d.actions if ir.matches_action(cs, a))
            _ACTION_HITS[memo_key] = hits
        return self.action_in(hits)

    def encode_resource(self, cs: ir.CompiledStatement, policy: PolicyDocument, key: Key | None,
                        only: str | None = None) -> Term:
        """Mirror of `evaluate.match_resource` over the domain's targets (constant per target ARN; a
        sub-resource's name is the field `r.sub`). `key`: the key of a key policy; `only`: the ARN of the one
        target a resource policy is attached to (its statements matter for no other)."""
        patterns = []
        guarded_patterns: list[tuple[Term, object]] = []
        holed: list[tuple[Term, list[variables.Item]]] = []
        for p in cs.resources:
            if p.has_variables and _never_present_only(p.text):
                r = p.resolve(lambda _k: None)
                if r is not None:
                    patterns.append(r)
                continue
            if p.has_variables:
                keys = {m.group(1).strip().lower() for m in _VARIABLE.finditer(p.text)}
                for guard, assignment in self._variable_cases(keys, True):
                    constant = self._constant_assignment(assignment)
                    if constant is not None:
                        r = p.resolve(lambda key, a=constant: a.get(key.lower()))  # type: ignore[misc]
                        if r is not None:  # an unresolved variable: the entry matches nothing (semantics §3.4)
                            guarded_patterns.append((guard, r))
                        continue
                    items = variables.holed(p, self._assigned(assignment))
                    if items is not None:
                        holed.append((guard, variables.flatten(items)))
                continue
            patterns.append(p)
        resources = tuple(patterns)
        out: list[Term] = []
        own = {k.arn: k for k in self.env.keys}
        domain_keys = {k.arn: k for k in self.d.keys}
        for t in self.d.targets:
            if key is not None and t.arn != key.arn:
                continue
            if only is not None and t.arn != only:
                continue
            k = own.get(t.arn, domain_keys.get(t.arn)) if t.kind == "key" else None
            owner = k if k is not None and (key is not None or policy.kind is PolicyKind.KEY_POLICY) else None
            if ir.resource_hits(resources, t.arn, policy, {}, owner, self.opts):
                hit = TRUE
            else:
                hit = smt.or_(
                    *(g for g, r in guarded_patterns
                      if ir.resource_hits((r,), t.arn, policy, {}, owner, self.opts)),  # type: ignore[arg-type]
                    *(smt.and_(g, self._match_holed((t.arn,), items)) for g, items in holed
                      if policy.kind is not PolicyKind.TRUST and (
                          policy.kind is not PolicyKind.KEY_POLICY
                          or (owner is not None and self.opts.key_policy_own_arn_matches))),
                )
            at = self.d.target_is(t)
            if t.sub_type:
                sub = smt.or_(self._sub_hit(resources, guarded_patterns, t),
                              *(smt.and_(g, self._match_holed((t.sub_prefix, self.d.f("sub")), items))
                                for g, items in holed))
                on_sub = self.d.onsub
                top = smt.not_(hit) if cs.resources_negated else hit
                below = smt.not_(sub) if cs.resources_negated else sub
                out.append(smt.and_(at, smt.ite(on_sub, below, top)))
            else:
                out.append(smt.and_(at, smt.not_(hit) if cs.resources_negated else hit))
        return smt.or_(out)

    def _sub_hit(self, resources: tuple[object, ...], guarded: list[tuple[Term, object]], t: SymTarget) -> Term:
        """Some pattern matches the request ARN of a sub-resource of `t` (`sub_prefix` + `r.sub`)."""
        from reasoner.semantics.patterns import ResourcePattern

        pieces: tuple[Piece, ...] = (t.sub_prefix, self.d.f("sub"))
        out: list[Term] = []
        for p in resources:
            assert isinstance(p, ResourcePattern)
            out.append(match_pieces(strings.from_resource(p), pieces))
        for g, p in guarded:
            assert isinstance(p, ResourcePattern)
            out.append(smt.and_(g, match_pieces(strings.from_resource(p), pieces)))
        return smt.or_(out)

    def encode_principal(self, cs: ir.CompiledStatement) -> dict[MatchKind, Term]:
        """Mirror of `evaluate.match_principal`: the match kind as mutually exclusive terms."""
        cp = cs.principal
        assert cp is not None
        if cp.negated:
            if cs.statement.effect is Effect.ALLOW:
                raise UnsupportedFeatureError(
                    "`NotPrincipal` with `Allow` is not supported (AWS documents NotPrincipal for Deny only)",
                    span=cs.statement.principal.span if cs.statement.principal else cs.statement.span,
                )
            return {MatchKind.DIRECT: self._not_principal_applies(cp)}
        return self._positive_match(cp)

    def _positive_match(self, cp: ir.CompiledPrincipal) -> dict[MatchKind, Term]:
        """Mirror of `evaluate._positive_match`: per kind, when the strongest match of an entry is that kind."""
        d = self.d
        svc_hit = self._service_named(cp.services)
        service = self.kind(PKind.SERVICE)
        out: dict[MatchKind, Term] = {}
        wild = TRUE if cp.wildcard else FALSE
        # service callers
        s_service = smt.and_(service, svc_hit)
        s_wild = smt.and_(service, smt.not_(svc_hit), wild)
        # web identity / SAML providers and anonymous callers: only their own entry, or `*`
        p_fed: Term = FALSE
        p_wild: Term = FALSE
        if PKind.PROVIDER in d.kinds:
            provider = self.kind(PKind.PROVIDER)
            fed_hit = smt.or_(d.f("prov").atom(strings.literal(f, ignore_case=True)) for f in cp.federated)
            p_fed = smt.and_(provider, fed_hit)
            p_wild = smt.and_(provider, smt.not_(fed_hit), wild)
        a_wild = smt.and_(self.kind(PKind.ANONYMOUS), wild) if PKind.ANONYMOUS in d.kinds else FALSE
        # other callers
        direct = smt.and_(smt.not_(self.kind(PKind.ROOT)), self._arn_in(cp.arns))
        role = smt.and_(self.kind(PKind.SESSION), self._role_matches(cp.roles))
        fed = smt.and_(self.kind(PKind.FEDERATED), self._fed_user_in(cp.arns))
        acct = self._account_named(cp.accounts)
        ns = self.iam()
        nd = smt.and_(ns, smt.not_(direct))
        out[MatchKind.DIRECT] = smt.and_(ns, direct)
        out[MatchKind.SERVICE] = s_service
        out[MatchKind.FEDERATED] = p_fed
        if cp.wildcard:
            out[MatchKind.WILDCARD] = smt.or_(s_wild, p_wild, a_wild, nd)
        else:
            out[MatchKind.ROLE_OF_SESSION] = smt.and_(nd, role)
            out[MatchKind.USER_OF_FEDERATED_SESSION] = smt.and_(nd, smt.not_(role), fed)
            out[MatchKind.ACCOUNT] = smt.and_(nd, smt.not_(role), smt.not_(fed), acct)
        return {k: v for k, v in out.items() if v != FALSE}

    def _service_named(self, services: frozenset[str]) -> Term:
        """Mirror of `evaluate._service_named`: the caller's service principal name is one of `services`."""
        svc = self.d.f("svc")
        names = set(services)
        if self.opts.cn_service_principal_suffix_equivalent:
            names |= {n[:-3] if n.endswith(".com.cn") else n + ".cn" for n in services}
        return smt.or_(svc.is_lit(n) for n in sorted(names))

    def _arn_in(self, arns: Iterable[str]) -> Term:
        out: list[Term] = []
        for e in arns:
            nfa = strings.literal(e)
            for guard, pieces in self.d.iam_arns():
                out.append(smt.and_(guard, match_pieces(nfa, pieces)))
        return smt.or_(out)

    def _account_named(self, accounts: frozenset[tuple[str, str]]) -> Term:
        """Mirror of `evaluate._account_named`: an account entry names the caller's account, a root ARN only in its
        own partition (§P.2); the caller is in the requested resource's partition (`Domain.partition_is`)."""
        acct = self.d.f("acct")
        return smt.or_(smt.and_(acct.is_lit(a), TRUE if not p else self.d.partition_is(p))
                       for p, a in sorted(accounts))

    def _role_matches(self, roles: frozenset[tuple[str, str, str]]) -> Term:
        """Mirror of `evaluate._role_matches`: a role entry (partition, account, path/name) names the caller's role,
        never a role of another partition (§P.2)."""
        if not roles:
            return FALSE
        d = self.d
        out: list[Term] = []
        for c in self.cases:
            if c.kind is not PKind.SESSION or c.role_arn is None:
                continue
            m = parse_principal(c.role_arn)
            if not isinstance(m, RoleArn):
                continue
            if (m.partition, m.account, m.path_name.lower()) in roles:
                out.append(c.guard)
        # roles the environment does not describe: the evaluator compares the entry's last segment too; a
        # worst-case caller is replayed as a described role (explain.augment), so only the full entry counts
        unknown = [c for c in self.cases if c.kind is PKind.SESSION and c.role_arn is None]
        for c in unknown:
            for p, a, e in sorted(roles):
                # the entry is `<path>/<name>`: an undescribed role has any path (`rpath`, domain.py)
                path, _, name = e.rpartition("/")
                last = d.f("role").atom(strings.literal(name, ignore_case=True))
                full = smt.and_(d.f("rpath").atom(strings.literal(f"{path}/" if path else "", ignore_case=True)), last)
                # a path the counterexample records (`rolepath`) is replayed as a described role, compared in
                # full; with none (`rpath` empty) the evaluator compares the name only (role names are unique
                # in an account, so a policy naming the role fixes its path)
                no_path = d.f("rpath").atom(strings.literal(""))
                name_hit = full if c.worst_case else smt.or_(full, smt.and_(last, no_path))
                out.append(smt.and_(c.guard, d.partition_is(p), d.f("acct").is_lit(a), name_hit))
        return smt.or_(out)

    def _fed_user_in(self, arns: frozenset[str]) -> Term:
        known = smt.or_(
            c.guard for c in self.cases if c.kind is PKind.FEDERATED and c.user_arn is not None and c.user_arn in arns
        )
        # a federated user whose source user the environment does not describe: that source may be a user
        # the entry names (domain.fed_source_arn; what `Request.assumed["fedsource"]` records)
        users = [e for e in arns if isinstance(parse_principal(e), UserArn)]
        unknown = smt.or_(c.guard for c in self.cases if c.kind is PKind.FEDERATED and c.user_arn is None)
        if not users or unknown == FALSE:
            return known
        hits = [smt.and_(part, smt.or_(match_pieces(strings.literal(e), src) for e in users))
                for part, src in self.d.fed_source_arns()]
        return smt.or_(known, smt.and_(unknown, smt.or_(hits)))

    def _not_principal_applies(self, cp: ir.CompiledPrincipal) -> Term:
        """Mirror of `evaluate._not_principal_applies`: Deny+NotPrincipal, the caller is not exempt."""
        boundary = smt.or_(c.guard for c in self.cases if c.boundary is not None)
        if cp.wildcard:
            return boundary
        d = self.d
        acct = self._account_named(cp.accounts)
        arn = self._arn_in(cp.arns)
        role = self._role_matches(cp.roles)
        svc = self._service_named(cp.services)
        links = {
            PKind.SERVICE: [svc],
            PKind.ROOT: [acct],
            PKind.USER: [acct, arn],
            PKind.SESSION: [acct, role, arn],
            PKind.FEDERATED: [acct, arn],
        }
        if PKind.ANONYMOUS in d.kinds:
            links[PKind.ANONYMOUS] = [FALSE]
        if PKind.PROVIDER in d.kinds:
            links[PKind.PROVIDER] = [smt.or_(d.f("prov").atom(strings.literal(f, ignore_case=True))
                                             for f in cp.federated)]
        chain = self.opts.not_principal_mode is ev.NotPrincipalMode.CONSERVATIVE_CHAIN
        exempt = smt.or_(smt.and_(self.kind(k), smt.and_(ls) if chain else smt.or_(ls)) for k, ls in links.items())
        return smt.or_(boundary, smt.not_(exempt))

    def encode_statement(
        self, cs: ir.CompiledStatement, policy: PolicyDocument, key: Key | None, only: str | None = None
    ) -> dict[MatchKind, Term]:
        """Mirror of `evaluate.evaluate_statement`: per principal match kind, when the statement applies."""
        limits.tick()
        try:
            return self._encode_statement(cs, policy, key, only)
        except limits.TooComplex as exc:
            raise _located(exc, cs.statement.span) from None

    def _encode_statement(
        self, cs: ir.CompiledStatement, policy: PolicyDocument, key: Key | None, only: str | None = None
    ) -> dict[MatchKind, Term]:
        """Mirror of `evaluate._evaluate_statement` (with `evaluate._applies`, which it continues)."""
        st = cs.statement
        action = self.encode_action(cs)
        trust = policy.kind is PolicyKind.TRUST
        if action == FALSE or (st.resource is None and not trust):
            return {}
        if policy.kind.is_resource_based:
            if cs.principal is None:
                return {}
            kinds = self.encode_principal(cs)
        else:
            kinds = {MatchKind.NONE: TRUE}
        if not kinds:
            return {}
        # a trust policy is about its role: its statements name no resource (evaluate._applies)
        resource = TRUE if trust else self.encode_resource(cs, policy, key, only)
        if resource == FALSE:
            return {}
        resource_keys = self.opts.resource_keys_in_key_policy or policy.kind is not PolicyKind.KEY_POLICY
        conds = smt.and_(self.encode_condition(cc, resource_keys=resource_keys) for cc in cs.conditions)
        base = self.name("stmt", smt.and_(action, resource, conds))
        return {k: smt.and_(v, base) for k, v in kinds.items() if smt.and_(v, base) != FALSE}

    def encode_policy(
        self, policy: PolicyDocument, key: Key | None, only: str | None = None
    ) -> tuple[list[tuple[Statement, dict[MatchKind, Term]]], list[tuple[Statement, Term]]]:
        """Mirror of `evaluate.evaluate_policy`: (allow statements with kinds, deny statements). `only`: the
        ARN of the one target the policy is attached to."""
        memo_key = (id(policy), id(key) if key is not None else None, only)
        hit = self._policy_memo.get(memo_key)
        if hit is not None:
            return hit
        compiled = ir.compile_policy(policy, self.opts)
        allows: list[tuple[Statement, dict[MatchKind, Term]]] = []
        denies: list[tuple[Statement, Term]] = []
        for cs in compiled.statements:
            kinds = self.encode_statement(cs, policy, key, only)
            if not kinds:
                continue
            if cs.allow:
                allows.append((cs.statement, kinds))
            else:
                denies.append((cs.statement, smt.or_(kinds.values())))
        self._policy_memo[memo_key] = (allows, denies)
        return allows, denies

    def _union(self, policies: Iterable[PolicyDocument], key: Key | None,
               only: str | None = None) -> tuple[Term, Term]:
        """Mirror of `evaluate._union` (of `evaluate_policy` per policy): (some allow applies, some deny
        applies) over several policies of one kind."""
        allows: list[Term] = []
        denies: list[Term] = []
        for p in policies:
            a, dn = self.encode_policy(p, key, only)
            allows += [t for _, ks in a for t in ks.values()]
            denies += [t for _, t in dn]
        return smt.or_(allows), smt.or_(denies)

    # -- decision steps ------------------------------------------------------------------------------------

    def encode_identity(self) -> dict[str, Term]:
        """Mirror of `evaluate.evaluate_identity` over the caller cases: allowed (ID(P)), boundary_allows,
        session_allows, denied, and `no_session_policy` (for the federated WILDCARD rule)."""
        allowed: list[Term] = []
        b_allows: list[Term] = []
        s_allows: list[Term] = []
        denied: list[Term] = []
        no_sp: list[Term] = []
        for c in self.cases:
            if c.kind in (PKind.SERVICE, PKind.ANONYMOUS, PKind.PROVIDER):
                b_allows.append(c.guard)
                s_allows.append(c.guard)
                continue
            if c.kind is PKind.ROOT:
                allowed.append(c.guard)
                b_allows.append(c.guard)
                s_allows.append(c.guard)
                continue
            ia, idn = self._union(c.identity_policies, None)
            if c.boundary is not None:
                ba, bdn = self._union((c.boundary,), None)
            else:
                ba, bdn = TRUE, FALSE
            if c.session_policies:
                sa, sdn = self._union(c.session_policies, None)
            else:
                sa, sdn = (FALSE if c.kind is PKind.FEDERATED else TRUE), FALSE
                if c.kind is PKind.FEDERATED:
                    no_sp.append(c.guard)
            allowed.append(smt.and_(c.guard, ia, ba, sa))
            b_allows.append(smt.and_(c.guard, ba))
            s_allows.append(smt.and_(c.guard, sa))
            denied.append(smt.and_(c.guard, smt.or_(idn, bdn, sdn)))
        return {
            "allowed": self.name("id.allowed", smt.or_(allowed)),
            "boundary_allows": self.name("id.boundary", smt.or_(b_allows)),
            "session_allows": self.name("id.session", smt.or_(s_allows)),
            "denied": self.name("id.denied", smt.or_(denied)),
            "no_session_policy": smt.or_(no_sp),
        }

    def _is_service_linked_role(self) -> Term:
        """Mirror of `evaluate._is_service_linked_role`: the caller is a session of a service-linked role."""
        return smt.or_(
            c.guard
            for c in self.cases
            if c.kind is PKind.SESSION and c.role_arn and ":role/aws-service-role/" in c.role_arn
        )

    def encode_scps(self) -> tuple[Term, Term]:
        """Mirror of `evaluate.evaluate_scps`: (passed, denied) for the caller's account."""
        d = self.d
        exempt = smt.or_(smt.not_(self.iam()), self._is_service_linked_role())
        fails: list[Term] = []
        denies: list[Term] = []
        # accounts whose paths carry the same SCPs, encoded once as a group (issue 17: an organisation's
        # hundreds of accounts share a few OUs; the decision of each account is the same as alone)
        groups: dict[tuple[tuple[int, ...], ...], tuple[list[Term], list[tuple[PolicyDocument, ...]]]] = {}
        for a in self.env.accounts:
            org = self.orgs.get(a.organization) if a.organization else None
            if org is None or org.management_account == a.id:
                continue
            levels = [p for t in ir.path_targets(org, a) if (p := org.scps.get(t)) is not None]
            group = groups.setdefault(tuple(tuple(id(x) for x in p) for p in levels), ([], levels))
            group[0].append(d.f("acct").is_lit(a.id))
        for ats, levels in groups.values():
            at = smt.or_(ats)
            for policies in levels:
                allow, deny = self._union(policies, None)
                fails.append(smt.and_(at, smt.not_(allow)))
                denies.append(smt.and_(at, deny))
        ok = smt.not_(exempt)
        return (
            self.name("scp.passed", smt.not_(smt.and_(ok, smt.or_(fails, denies)))),
            self.name("scp.denied", smt.and_(ok, smt.or_(denies))),
        )

    def encode_rcps(self, target: SymTarget) -> Term:
        """Mirror of `evaluate.evaluate_rcps`: the RCP deny for a request on `target` (deny-only gate), for the
        actions of the services RCPs apply to."""
        key = self._own(target) if target.kind == "key" else None
        if isinstance(key, Key) and key.aws_managed:
            return FALSE
        owner = self.accounts.get(target.owner)
        org = self.orgs.get(owner.organization) if owner and owner.organization else None
        if owner is None or org is None or org.management_account == owner.id:
            return FALSE
        applies = self.action_in(a for a in target.actions if rcps_apply_to(a, self.opts))
        if applies == FALSE:
            return FALSE
        denies: list[Term] = []
        for t in ir.path_targets(org, owner):
            for p in org.rcps.get(t, ()):
                if isinstance(key, Key):
                    denies.append(self._union((p,), key)[1])
                else:
                    denies.append(self._union((p,), None, target.arn)[1])
        deny = smt.and_(applies, smt.or_(denies))
        if not self.opts.rcps_apply_to_service_principals:
            deny = smt.and_(smt.not_(self.kind(PKind.SERVICE)), deny)
        return deny

    def encode_endpoint(self) -> tuple[Term, Term]:
        """Mirror of `evaluate.evaluate_endpoint`: (passed, denied) for a request through a declared VPC endpoint
        (aws:SourceVpce names it) of the action's service: its policy must allow and must not deny."""
        d = self.d
        passed: list[Term] = []
        denied: list[Term] = []
        for e in self.env.vpc_endpoints:
            if e.policy is None:
                continue
            applies = smt.and_(self._value_is("aws:sourcevpce", e.id),
                               self.action_in(a for a in d.actions if a.split(":", 1)[0].lower() == e.service))
            if applies == FALSE:
                continue
            allows, denies = self.encode_policy(e.policy, None)
            by_kind = self._by_kind(allows)
            if e.gateway and self.opts.vpce_gateway_account_principal_root_only:
                # an account principal admits the account's root user only (evaluate._endpoint, §VPCE.2)
                by_kind[MatchKind.ACCOUNT] = [smt.and_(self.kind(PKind.ROOT), t)
                                              for t in by_kind.get(MatchKind.ACCOUNT, [])]
            allow = smt.or_(t for ts in by_kind.values() for t in ts)
            passed.append(smt.implies(applies, allow))
            denied.append(smt.and_(applies, smt.or_(t for _, t in denies)))
        return self.name("vpce.passed", smt.and_(passed)), self.name("vpce.denied", smt.or_(denied))

    def encode_resource_policy(self, target: SymTarget) -> tuple[list[tuple[Statement, dict[MatchKind, Term]]], Term]:
        """Mirror of `evaluate.evaluate_resource_policy` for a target other than a key: the allow statements of
        its trust policy, resource policy or sharing attribute with match kinds, and the deny."""
        mine = self._own(target)
        if isinstance(mine, Principal):
            policy = mine.trust_policy
        elif isinstance(mine, Resource):
            policy = resource_policy(mine, self.opts)
        else:
            policy = None
        if policy is None:
            return [], FALSE
        allows, denies = self.encode_policy(policy, None, target.arn)
        return allows, smt.or_(t for _, t in denies)

    def encode_key_policy(self, key: Key) -> tuple[list[tuple[Statement, dict[MatchKind, Term]]], Term]:
        """Mirror of `evaluate.evaluate_key_policy`: allow statements with match kinds, and the deny."""
        allows, denies = self.encode_policy(key.policy, key)
        return allows, smt.or_(t for _, t in denies)

    def _grantee_matches(self, grantee: str) -> Term:
        """Mirror of `evaluate._grantee_matches`: the grant names exactly the caller (its ARN, the role of a
        role session, or the service principal)."""
        d = self.d
        service = smt.and_(self.kind(PKind.SERVICE), d.f("svc").is_lit(grantee.lower()))
        arn = self._arn_in([grantee])
        role: list[Term] = []
        for c in self.cases:
            if c.kind is not PKind.SESSION:
                continue
            if c.role_arn is not None:
                if c.role_arn == grantee:
                    role.append(c.guard)
            else:
                role.append(smt.and_(c.guard, smt.or_(smt.and_(part, match_pieces(strings.literal(grantee), pieces))
                                                      for part, pieces in d.unknown_role_arns())))
        return smt.or_(service, smt.and_(self.iam(), smt.or_(arn, *role)))

    def _value_is(self, key: str, text: str) -> Term:
        """The single-valued context key `key` is present with exactly the value `text`."""
        value = self.derive_context(key)
        out: list[Term] = []
        for c in value.slots[0] if value.slots else []:
            if c.pieces is None:
                continue
            const = c.constant
            if const is not None:
                out.append(c.guard if const == text else FALSE)
            elif len(c.pieces) == 1 and isinstance(c.pieces[0], StrField):
                out.append(smt.and_(c.guard, c.pieces[0].is_lit(text)))
            else:
                out.append(smt.and_(c.guard, match_pieces(strings.literal(text), c.pieces)))
        return smt.or_(out)

    def _constraints_hold(self, g: Grant) -> Term:
        """Mirror of `evaluate._constraints_hold`."""
        d = self.d
        parts: list[Term] = []
        ec: list[Term] = []
        if g.encryption_context_equals is not None:
            want = {k.lower(): v for k, v in g.encryption_context_equals.items()}
            if "kms:encryptioncontextkeys" not in d.raw:
                d.slot_counts.setdefault("kms:encryptioncontextkeys", len(want) + 2)
            ec_keys = self.derive_context("kms:encryptioncontextkeys")
            for k, v in want.items():
                ec.append(self._value_is(f"kms:encryptioncontext:{k}", v))
            # no other key in the context: every listed key is one of `want`, no other EC entry is present
            for slot in ec_keys.slots:
                for c in slot:
                    if c.pieces is None:
                        continue
                    names = [match_pieces(strings.literal(k, ignore_case=True), c.pieces) for k in want]
                    ec.append(smt.implies(c.guard, smt.or_(names)))
            for name in list(d.raw):
                if name.startswith("kms:encryptioncontext:") and name.split(":", 2)[2] not in want:
                    other = self.derive_context(name)
                    ec.append(smt.not_(smt.or_(c.guard for slot in other.slots for c in slot if c.pieces)))
        if g.encryption_context_subset is not None:
            for k, v in g.encryption_context_subset.items():
                ec.append(self._value_is(f"kms:encryptioncontext:{k.lower()}", v))
        if ec:
            ec_action = self.action_in(a for a in d.actions if a in ev.KMS_ENCRYPTION_CONTEXT_ACTIONS)
            parts.append(smt.implies(ec_action, smt.and_(ec)))
        if g.source_arn is not None:
            parts.append(smt.or_(self.action_is("kms:RetireGrant"), self._value_is("aws:sourcearn", g.source_arn)))
        if "kms:CreateGrant" in d.actions:
            ops = self.derive_context("kms:grantoperations")
            allowed_ops = [op.split(":", 1)[1] for op in g.operations if op.startswith("kms:")]
            each: list[Term] = []
            for slot in ops.slots:
                for c in slot:
                    if c.pieces is None:
                        continue
                    ok = smt.or_(match_pieces(strings.literal(op), c.pieces) for op in allowed_ops)
                    each.append(smt.implies(c.guard, ok))
            parts.append(smt.implies(self.action_is("kms:CreateGrant"), smt.and_(each)))
        return smt.and_(parts)

    def encode_grants(self, key: Key, identity_allows: Term) -> Term:
        """Mirror of `evaluate.evaluate_grants` (as `_grants` with the caller's identity decision): some grant
        on `key` lists the action, names the caller (or its account, per options) and its constraints hold."""
        d = self.d
        out: list[Term] = []
        for g in key.grants:
            ops = self.action_in(a for a in d.actions if a in g.operations)
            if ops == FALSE:
                continue
            match = self._grantee_matches(g.grantee)
            account = ir.grantee_account(g.grantee)
            via_account = FALSE
            if account is not None:
                same = smt.and_(smt.not_(self.kind(PKind.SERVICE)), d.f("acct").is_lit(account))
                root = self.kind(PKind.ROOT)
                if self.opts.account_grantee_delegates:
                    via_account = smt.and_(same, smt.or_(root, identity_allows))
                else:
                    via_account = smt.and_(same, root)
            out.append(smt.and_(ops, smt.or_(match, via_account), self._constraints_hold(g)))
        return smt.or_(out)

    def _decide_retire_grant(self, key: Key, same: Term, identity_allows: Term) -> Term:
        """Mirror of `evaluate._decide_retire_grant`: the retiring principal or a grantee holding RetireGrant,
        or (in the key's account, when the key has grants) an identity-policy allow."""
        out: list[Term] = []
        for g in key.grants:
            if g.retiring_principal is not None:
                out.append(self._grantee_matches(g.retiring_principal))
            if "kms:RetireGrant" in g.operations:
                out.append(self._grantee_matches(g.grantee))
        if key.grants:
            out.append(smt.and_(same, identity_allows))
        return smt.or_(out)

    def _sufficient(self, kind: MatchKind, ident: dict[str, Term]) -> Term:
        """Mirror of `evaluate._sufficient`."""
        if kind in (MatchKind.DIRECT, MatchKind.SERVICE, MatchKind.FEDERATED):
            return TRUE
        if kind is MatchKind.WILDCARD:
            return smt.not_(ident["no_session_policy"])
        if kind in (MatchKind.ROLE_OF_SESSION, MatchKind.USER_OF_FEDERATED_SESSION):
            return smt.and_(ident["boundary_allows"], ident["session_allows"])
        if kind is MatchKind.ACCOUNT:
            return ident["allowed"]
        return FALSE

    @staticmethod
    def _by_kind(allows: list[tuple[Statement, dict[MatchKind, Term]]]) -> dict[MatchKind, list[Term]]:
        by_kind: dict[MatchKind, list[Term]] = {}
        for _, kinds in allows:
            for mk, t in kinds.items():
                by_kind.setdefault(mk, []).append(t)
        return by_kind

    def _decide_without_key(self, target: SymTarget, owner: str | None, ident: dict[str, Term]) -> Term:
        """Mirror of `evaluate._decide_without_key`: identity policies only, never another account's resource,
        never a caller without identity policies."""
        if not owner:
            return smt.and_(self.iam(), ident["allowed"])
        return smt.and_(self.iam(), self.d.f("acct").is_lit(owner), ident["allowed"])

    def _decide_trust(self, target: SymTarget, by_kind: dict[MatchKind, list[Term]], ident: dict[str, Term]) -> Term:
        """Mirror of `evaluate._decide_trust`."""
        d = self.d
        provider_action = self.action_in(a for a in target.actions if a in PROVIDER_ACTIONS)
        wild = smt.or_(by_kind.get(MatchKind.WILDCARD, []))
        out: list[Term] = []
        if PKind.PROVIDER in d.kinds:
            fed = smt.or_(*by_kind.get(MatchKind.FEDERATED, []), wild)
            if self.opts.saml_provider_must_be_role_account:
                prov = d.f("prov")
                foreign = smt.and_(prov.atom(strings.glob("arn:*:iam::*:saml-provider/*")),
                                   smt.not_(prov.atom(strings.glob(f"arn:*:iam::{target.owner}:saml-provider/*"))))
                fed = smt.and_(fed, smt.not_(foreign))
            # the users of a SAML provider call AssumeRoleWithSAML, those of a web identity provider
            # AssumeRoleWithWebIdentity (evaluate.provider_action, §T.5-§T.6)
            saml = d.saml_provider()
            fits = smt.or_(smt.and_(self.action_in(a for a in target.actions if a == "sts:AssumeRoleWithSAML"), saml),
                           smt.and_(self.action_in(a for a in target.actions if a == "sts:AssumeRoleWithWebIdentity"),
                                    smt.not_(saml)))
            out.append(smt.and_(self.kind(PKind.PROVIDER), fits, fed))
        out.append(smt.and_(self.kind(PKind.SERVICE), smt.not_(provider_action),
                            smt.or_(*by_kind.get(MatchKind.SERVICE, []), wild)))
        controls = self.action_in(a for a in target.actions if a in ev.SESSION_CONTROLS)
        across = TRUE if self.opts.cross_account_session_controls_need_identity_allow else smt.not_(controls)
        out.append(smt.and_(smt.not_(provider_action), self._decide_by_resource_policy(
            target, by_kind, ident, True, user_boundary=self.opts.trust_user_arn_limited_by_boundary,
            identity_across=across)))
        return smt.or_(out)

    def _decide_resource_policy(self, target: SymTarget, by_kind: dict[MatchKind, list[Term]],
                                ident: dict[str, Term]) -> Term:
        """Mirror of `evaluate._decide_resource_policy`."""
        d = self.d
        mine = self._own(target)
        restricted = isinstance(mine, Resource) and restricted_public(mine, self.accounts.get(target.owner),
                                                                      self.opts)
        out: list[Term] = [smt.and_(self.kind(PKind.SERVICE), smt.or_(*by_kind.get(MatchKind.SERVICE, []),
                                                                         *by_kind.get(MatchKind.WILDCARD, [])))]
        if PKind.ANONYMOUS in d.kinds and not restricted:
            out.append(smt.and_(self.kind(PKind.ANONYMOUS), smt.or_(by_kind.get(MatchKind.WILDCARD, []))))
        if restricted:
            # RestrictPublicBuckets: the policy grants nothing to callers of other accounts
            same = smt.and_(self.iam(), d.f("acct").is_lit(target.owner))
            kept = {k: [smt.and_(same, t) for t in ts] for k, ts in by_kind.items()}
            out.append(self._decide_by_resource_policy(target, kept, ident, False))
        else:
            out.append(self._decide_by_resource_policy(target, by_kind, ident, False))
        return smt.or_(out)

    def _decide_by_resource_policy(self, target: SymTarget, by_kind: dict[MatchKind, list[Term]],
                                   ident: dict[str, Term], required: bool, *, user_boundary: bool = False,
                                   identity_across: Term = TRUE) -> Term:
        """Mirror of `evaluate._decide_by_resource_policy` for IAM callers."""
        iam = self.iam()
        same = smt.and_(iam, self.d.f("acct").is_lit(target.owner))
        cross = smt.and_(iam, smt.not_(same))
        any_allow = smt.or_(t for ts in by_kind.values() for t in ts)
        direct: list[Term] = []
        for mk, ts in by_kind.items():
            if mk is MatchKind.ACCOUNT:
                continue
            ok = self._sufficient(mk, ident)
            if user_boundary and mk is MatchKind.DIRECT:
                # a grant to the calling user's ARN is limited by its boundary (evaluate._user_limited, §T.4)
                ok = smt.and_(ok, smt.or_(smt.not_(self.kind(PKind.USER)), ident["boundary_allows"]))
            direct.append(smt.and_(smt.or_(ts), ok))
        delegated = smt.and_(ident["allowed"], smt.or_(by_kind.get(MatchKind.ACCOUNT, [])))
        same_ok = smt.or_(*direct, delegated, FALSE if required else ident["allowed"])
        cross_ok = smt.and_(any_allow, smt.or_(ident["allowed"], smt.not_(identity_across)))
        return smt.or_(smt.and_(same, same_ok), smt.and_(cross, cross_ok))

    def _aws_rules(self, target: SymTarget) -> tuple[Term, Term]:
        """Mirror of the AWS-side rules of `evaluate.evaluate` (`awsrules.rules_for`, `evaluate._aws_rules`):
        (fixed allow, fixed refusal) over the target's actions and the caller classes each rule covers."""
        if not self.opts.aws_side_rules:
            return FALSE, FALSE
        allow: list[Term] = []
        refuse: list[Term] = []
        facts = self._facts(target)
        linked = awsrules.linked_service(target.arn)
        for a, rule in awsrules.rules_for_actions(target.actions, facts, self.opts):
            covered = smt.and_(self.action_is(a), self._covers(rule, target, linked))
            (allow if rule.allowed else refuse).append(covered)
        return smt.or_(allow), smt.or_(refuse)

    def _facts(self, target: SymTarget) -> awsrules.Facts:
        """`evaluate._facts` of this environment's object for `target`."""
        mine = self._own(target)
        attrs: dict[str, str] = dict(mine.attributes) if isinstance(mine, Resource) else {}
        if isinstance(mine, Key) and mine.aws_managed:
            attrs["aws_managed"] = "true"
        return awsrules.Facts(target.arn, target.service, target.rtype.name if target.rtype else "",
                              tuple(sorted(attrs.items())))

    def _owner(self, t: SymTarget) -> str | None:
        """The owner account of `t` as this environment resolves it (`evaluate` target resolution): the declared
        owner of its own object, else the account its ARN names (none for an S3 bucket). Another environment of
        the same check (a diff) may declare a target this one does not."""
        if self._own(t) is not None:
            return t.owner
        parts = t.arn.split(":", 5)
        return parts[4] if len(parts) == 6 and is_account_id(parts[4]) else None

    def _covers(self, rule: awsrules.AwsRule, target: SymTarget, linked: str | None) -> Term:
        """The caller is one `rule` covers (`AwsRule.covers`) and the context matches its `context` pairs."""
        d = self.d
        kinds = [pk for k, pk in _KINDS.items() if pk in d.kinds and (rule.kinds is None or k in rule.kinds)]
        out: list[Term] = [smt.or_(self.kind(k) for k in kinds)]
        owner = self._owner(target)
        same = FALSE if owner is None else smt.and_(self.iam(), d.f("acct").is_lit(owner))
        if rule.relation == "same":
            out.append(same)
        elif rule.relation == "other":
            out.append(smt.not_(same))
        if rule.unless_linked_service and linked is not None:
            out.append(smt.not_(smt.and_(self.kind(PKind.SERVICE), d.f("svc").atom(strings.literal(linked, True)))))
        for key, glob in rule.context:
            value = self.derive_context(key)
            nfa = strings.glob(glob)
            out.append(smt.or_(smt.and_(c.guard, match_pieces(nfa, c.pieces))
                               for slot in value.slots for c in slot if c.pieces is not None))
        return smt.and_(out)

    def encode(self) -> EncodedEnvironment:
        """Mirror of `evaluate.evaluate` for every target of the domain: (allows, explicit denies)."""
        d = self.d
        allow_terms: list[Term] = []
        deny_terms: list[Term] = []
        for t in d.targets:
            found = self.decide_target(t)
            if found is None:
                continue
            decided, explicit = found
            at = d.target_is(t)
            allow_terms.append(smt.and_(at, self.name(f"allows.key{d.key_index(t.arn)}", decided)))
            deny_terms.append(smt.and_(at, explicit))
        allows = self.sc.name_const(f"{self.tag}.allows", smt.or_(allow_terms))
        denies = self.sc.name_const(f"{self.tag}.denies", smt.or_(deny_terms))
        return EncodedEnvironment(self.env, allows, denies, self.cases)

    def _gates(self) -> _Gates:
        if self._gates_memo is None:
            scp_passed, scp_denied = self.encode_scps()
            vpce_passed, vpce_denied = self.encode_endpoint()
            self._gates_memo = _Gates(self.encode_identity(), scp_passed, scp_denied, vpce_passed, vpce_denied)
        return self._gates_memo

    def decide_target(self, t: SymTarget) -> tuple[Term, Term] | None:
        """Mirror of `evaluate._decide` for requests on target `t`: (allowed, explicit deny); None when this
        environment has no such key. The AWS-side rules first, then the callers AWS refuses before reading a
        policy, explicit denies, refusals, gates and the rule of the target."""
        d = self.d
        gates = self._gates()
        mine = self._own(t)
        fixed_allow, fixed_refuse = self._aws_rules(t)
        # callers AWS refuses before any policy is read
        refused: list[Term] = []
        if PKind.PROVIDER in d.kinds:
            ok = self.action_in(a for a in t.actions if a in PROVIDER_ACTIONS)
            refused.append(smt.implies(self.kind(PKind.PROVIDER), ok))
        if PKind.ANONYMOUS in d.kinds:
            facts = self._facts(t)
            ok = self.action_in(a for a in t.actions
                                if accepts_anonymous("lambda:InvokeFunctionUrl" if self.via_url else a, facts,
                                                     self.opts))
            refused.append(smt.implies(self.kind(PKind.ANONYMOUS), ok))
        caller_ok = smt.and_(refused)
        if t.kind == "key":
            if not isinstance(mine, Key):
                return None
            allowed_t, explicit = self._encode_key(mine, gates)
        else:
            explicit, allowed_t = self._encode_target(t, mine, gates)
        decided = smt.or_(fixed_allow, smt.and_(smt.not_(fixed_allow), smt.not_(fixed_refuse), caller_ok, allowed_t))
        explicit = smt.and_(smt.not_(fixed_allow), caller_ok, explicit)
        if (self.pinned is None and self.opts.lambda_url_requires_invoke_function
                and "lambda:InvokeFunctionUrl" in t.actions):
            # a function URL call also needs lambda:InvokeFunction through the URL (evaluate.evaluate, §LAM.4)
            inner = self.url_encoder().decide_target(t)
            inner_allowed, inner_explicit = inner if inner is not None else (FALSE, FALSE)
            url = self.action_is("lambda:InvokeFunctionUrl")
            explicit = smt.or_(explicit, smt.and_(url, decided, inner_explicit))
            decided = smt.and_(decided, smt.implies(url, inner_allowed))
        return decided, explicit

    def url_encoder(self) -> Encoder:
        """The encoder of the lambda:InvokeFunction a function URL call implies (action pinned, via the URL)."""
        if self._url_encoder is None:
            self._url_encoder = Encoder(self.d, self.env, f"{self.tag}.url", pinned_action="lambda:InvokeFunction",
                                        via_url=True)
        return self._url_encoder

    def _encode_target(self, t: SymTarget, mine: Key | Resource | Principal | None,
                       gates: _Gates) -> tuple[Term, Term]:
        """(explicit deny, allowed) of a request on a role or a declared resource (evaluate.evaluate after the
        gates: the trust, resource-policy or identity rule of each action)."""
        d = self.d
        ident, scp_passed, scp_denied = gates.ident, gates.scp_passed, gates.scp_denied
        vpce_passed, vpce_denied = gates.vpce_passed, gates.vpce_denied
        if mine is None:
            parts = t.arn.split(":", 5)
            owner = parts[4] if len(parts) == 6 and parts[4] else None
            explicit = smt.or_(scp_denied, vpce_denied, ident["denied"])
            allowed = smt.and_(smt.not_(explicit), scp_passed, vpce_passed, self._decide_without_key(t, owner, ident))
            if t.kind == "role":
                # the environment does not give this role's trust policy: no sts action on it is decided here
                # (`evaluate._resolve_target` refuses the request); its iam: actions are those on a resource the
                # environment does not declare (identity rule), as for any other undeclared resource
                trust = self.action_in(a for a in t.actions if rule_for(a, t.rtype) is Rule.TRUST)
                explicit, allowed = smt.and_(smt.not_(trust), explicit), smt.and_(smt.not_(trust), allowed)
            return explicit, allowed
        allows, rp_denied = self.encode_resource_policy(t)
        if t.service == "s3":
            # the bucket owner's root user is never locked out of its bucket policy (evaluate, §A.4)
            owner_root = smt.and_(self.kind(PKind.ROOT), d.f("acct").is_lit(t.owner),
                                  self.action_in(awsrules.BUCKET_POLICY_ACTIONS))
            rp_denied = smt.and_(rp_denied, smt.not_(owner_root))
        rcp_denied = self.encode_rcps(t)
        explicit = smt.or_(scp_denied, rcp_denied, vpce_denied, rp_denied, ident["denied"])
        by_kind = self._by_kind(allows)
        groups: dict[Rule, list[str]] = {}
        for a in t.actions:
            groups.setdefault(rule_for(a, t.rtype), []).append(a)
        parts_: list[Term] = []
        for rule, acts in groups.items():
            if rule is Rule.TRUST:
                decision = self._decide_trust(t, by_kind, ident)
            elif rule is Rule.RESOURCE_POLICY:
                decision = self._decide_resource_policy(t, by_kind, ident)
            else:
                decision = self._decide_without_key(t, t.owner, ident)
            parts_.append(smt.and_(self.action_in(acts), decision))
        allowed = smt.and_(smt.not_(explicit), scp_passed, vpce_passed, self._region_gate(t), smt.or_(parts_))
        return explicit, allowed

    def _region_gate(self, t: SymTarget) -> Term:
        """Mirror of `evaluate._region_gate`: a target in an opt-in Region its declared owner has not enabled is out
        of reach; a caller of another account needs the Region enabled too (per option; keys: `_encode_key`)."""
        region = t.region
        owner_id = self._owner(t)
        if region not in ev.OPT_IN_REGIONS or not owner_id:
            return TRUE
        owner = self.accounts.get(owner_id)
        if owner is not None and owner.enabled_regions is not None and region not in owner.enabled_regions:
            return FALSE
        if t.kind == "key" or not self.opts.opt_in_region_cross_account_requires_caller_enabled:
            return TRUE
        d = self.d
        same = smt.and_(self.iam(), d.f("acct").is_lit(owner_id))
        enabled = smt.or_(
            *(d.f("acct").is_lit(a.id) for a in self.env.accounts
              if a.enabled_regions is not None and region in a.enabled_regions),
            # an account the environment does not declare may have enabled it (replayed via `Request.assumed`)
            smt.not_(smt.or_(d.f("acct").is_lit(a.id) for a in self.env.accounts)),
        )
        return smt.or_(smt.not_(self.iam()), same, enabled)

    def _encode_key(self, k: Key, gates: _Gates) -> tuple[Term, Term]:
        """(allowed, explicit deny) of a request on key `k` (the KMS rule of evaluate.evaluate, semantics §4.4)."""
        d = self.d
        ident, scp_passed, scp_denied = gates.ident, gates.scp_passed, gates.scp_denied
        vpce_passed, vpce_denied = gates.vpce_passed, gates.vpce_denied
        service, iam = self.kind(PKind.SERVICE), self.iam()
        cross_ok = self.action_in(a for a in d.actions if a in KMS_CROSS_ACCOUNT_ACTIONS)
        retire = self.action_is("kms:RetireGrant")
        rcp_denied = self.encode_rcps(d.targets[d.key_index(k.arn) or 0])
        kp_allows, kp_denied = self.encode_key_policy(k)
        grants = self.encode_grants(k, ident["allowed"])
        explicit = smt.or_(scp_denied, rcp_denied, vpce_denied, kp_denied, ident["denied"])
        same = smt.and_(iam, d.f("acct").is_lit(k.account))
        cross = smt.and_(iam, smt.not_(same))
        region_ok = TRUE
        if k.region in ev.OPT_IN_REGIONS:
            # a declared account enabled the Region iff it lists it; whether an account the environment
            # does not declare enabled it is unknown, so it may have (replayed via `Request.assumed`)
            region_ok = smt.or_(
                *(
                    d.f("acct").is_lit(a.id)
                    for a in self.env.accounts
                    if a.enabled_regions is not None and k.region in a.enabled_regions
                ),
                smt.not_(smt.or_(d.f("acct").is_lit(a.id) for a in self.env.accounts)),
            )
        by_kind = self._by_kind(kp_allows)
        any_allow = smt.or_(t for ts in by_kind.values() for t in ts)
        service_allow = smt.or_(*by_kind.get(MatchKind.SERVICE, []), *by_kind.get(MatchKind.WILDCARD, []))
        direct = smt.or_(
            smt.and_(smt.or_(ts), self._sufficient(mk, ident))
            for mk, ts in by_kind.items()
            if mk is not MatchKind.ACCOUNT
        )
        delegated = smt.and_(ident["allowed"], smt.or_(by_kind.get(MatchKind.ACCOUNT, [])))
        cross_grants = grants
        if self.opts.cross_account_grant_requires_iam:
            cross_grants = smt.and_(grants, ident["allowed"])
        granted = smt.or_(
            smt.and_(service, smt.or_(service_allow, grants)),
            smt.and_(same, smt.or_(direct, delegated, grants)),
            smt.and_(cross, cross_ok, region_ok, smt.or_(smt.and_(any_allow, ident["allowed"]), cross_grants)),
        )
        retired = self._decide_retire_grant(k, same, ident["allowed"])
        owner_ok = self._region_gate(d.targets[d.key_index(k.arn) or 0])
        allowed_k = smt.and_(smt.not_(explicit), scp_passed, vpce_passed, owner_ok, smt.ite(retire, retired, granted))
        return allowed_k, explicit


def _located(exc: limits.TooComplex, span: Span) -> limits.TooComplex:
    """`exc` with the place of the policy text that made it (the innermost place wins)."""
    if exc.span is None:
        exc.span = span
    return exc


def encode_environment(domain: Domain, environment: Environment, tag: str = "env") -> EncodedEnvironment:
    """Encode the whole decision of `environment` over `domain` (stage 3 entry point)."""
    return Encoder(domain, environment, tag).encode()


__all__ = ["ALLOW_ALL", "CallerCase", "EncodedEnvironment", "Encoder", "encode_environment", "match_pieces"]
