"""Built-in properties, as values passed to `check(environment, property)`.

Input: what a user wants to hold (from Python, or compiled from a property file by `props.py`).
Output: frozen property values; the symbolic core turns each into assertions that are unsat iff it holds.
Guarantee: a property names its scope, actions and resources explicitly; action and resource lists accept
wildcard patterns with IAM semantics (`kms:*`, `kms:Generate*`, `*`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from reasoner.semantics.environment import Environment


class ScopeKind(Enum):
    ANY = "any"  # every principal of every account
    OUTSIDE_ACCOUNTS = "outside-accounts"  # principals whose account is not one of `values`
    OUTSIDE_ORGANIZATIONS = "outside-organizations"  # principals whose account is in none of the orgs `values`
    PRINCIPALS = "principals"  # exactly the principals (ARNs, or account ids) in `values`


#: How a principal written in a scope or in `OnlyPrincipalsCan` counts callers (`conditions.principal_is`): an
#: account id or root ARN is the account's root user only; `account:<id>` (`every_principal_of(id)`, written
#: `account <id>` in a property file) is every principal of the account (root user, users, role sessions,
#: federated users); a role ARN is every session of the role; a user ARN is the user and its GetFederationToken
#: sessions (federated users whose source is that user, semantics §4.2); a session or federated-user ARN is that
#: session. `CanAccess` asks for the principal itself (a role ARN: some session of it; a user ARN: the user, not
#: one of its federated sessions).

#: The prefix of a principal value that stands for every principal of an account.
ACCOUNT_PREFIX = "account:"


def every_principal_of(account_id: str) -> str:
    """The principal value that stands for every principal of `account_id` (not only its root user)."""
    return ACCOUNT_PREFIX + account_id


@dataclass(frozen=True)
class ContextCondition:
    """Which requests a claim is about, by one context key as the evaluator derives it (semantics §5; keys AWS
    derives, such as kms:GrantIsForAWSResource or aws:PrincipalOrgID, as the request has them): the key holds
    one of `values`, compared as a policy condition with the operator of the key's type (`StringEquals` for
    strings and ARNs, `Bool`, `NumericEquals`, `DateEquals`, `IpAddress` for a range, `BinaryEquals`; with
    `ForAnyValue` for a multivalued key). `negated` (`unless`): the claim is about the requests where the key
    does not hold such a value (absent or another value)."""

    key: str
    values: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class PrincipalScope:
    kind: ScopeKind
    values: tuple[str, ...] = ()

    @staticmethod
    def outside_account(*account_ids: str) -> PrincipalScope:
        return PrincipalScope(ScopeKind.OUTSIDE_ACCOUNTS, tuple(account_ids))

    @staticmethod
    def outside_organization(*org_ids: str) -> PrincipalScope:
        return PrincipalScope(ScopeKind.OUTSIDE_ORGANIZATIONS, tuple(org_ids))


@dataclass(frozen=True)
class AccessNotGranted:
    """No principal in `scope` can perform any of `actions` on any of `resources` (key ARNs, `*` = every key
    of the environment) in a request that satisfies every condition of `when`."""

    scope: PrincipalScope
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ("*",)
    #: only requests that satisfy every condition count (`when` / `unless` / `only via service`)
    when: tuple[ContextCondition, ...] = ()


@dataclass(frozen=True)
class OnlyPrincipalsCan:
    """Only the listed principals (ARNs; an account id or root ARN stands for the account's root user only,
    `account:<id>` for every principal of the account) can perform `actions` on `resources`; every other caller
    is denied (among the requests that satisfy every condition of `when`)."""

    principals: tuple[str, ...]
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ("*",)
    when: tuple[ContextCondition, ...] = ()


@dataclass(frozen=True)
class CanAccess:
    """The lockout guard: `principal` can perform every one of `actions` on every one of `resources` in some
    context (with `context` fixing the keys the caller controls, when given)."""

    principal: str
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class NoNewAccess:
    """Every request allowed in `new` (the environment passed to `check`) is allowed in `old`."""

    old: Environment
    actions: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class Equivalent:
    """`new` (the environment passed to `check`) and `old` allow exactly the same requests."""

    old: Environment
    actions: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class Eventually:
    """`claim` over chains of steps (docs/eventually.md): no principal the claim is about (the scope of an
    `AccessNotGranted`, everyone but the listed principals of an `OnlyPrincipalsCan`) can reach the access by
    any chain of requests that change who it is or what the policies say (assuming roles, passing roles to
    code, creating grants, writing key, resource, trust and identity policies; `semantics/steps.py`), from
    the environment as given. `max_steps`: only chains of at most that many steps (None: any length)."""

    claim: AccessNotGranted | OnlyPrincipalsCan
    max_steps: int | None = None

    @property
    def actions(self) -> tuple[str, ...]:
        return self.claim.actions

    @property
    def resources(self) -> tuple[str, ...]:
        return self.claim.resources


Property = AccessNotGranted | OnlyPrincipalsCan | CanAccess | NoNewAccess | Equivalent | Eventually
