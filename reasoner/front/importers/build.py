"""Assembling one `Environment` from the pieces importers find, in any order and from several files.

Input: calls from the importers: a key with its policy, an alias or grant that names a key by id or ARN, a
role, user or group with inline policies and managed-policy ARNs, a managed policy, a group membership, a
resource-based policy, an SCP or RCP with its targets, an account or organization (exports), and the
unknowns of each import.
Output: `Builder.environment()`, an `Environment` in which a user's identity policies are its inline and
managed policies and those of its groups, aliases and grants sit on their keys, and every unknown is recorded.
Guarantee: nothing is dropped silently: a managed policy attached by ARN whose content no input gives (an AWS
managed policy named in a template) is an unknown value (its holder's verdicts are UNKNOWN), a resource named
twice with two different policies is an error (IAC011), an alias or grant of a key that no input declares is
kept out (it cannot change a decision on the declared keys) and so is an SCP or RCP of no declared
organization only when its targets are unknown, else it is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reasoner.errors import InputError, raise_all
from reasoner.front.ast import PolicyDocument, PolicyKind, Statement
from reasoner.front.importers.nodes import CONFLICT, REFERENCE, fail
from reasoner.front.importers.policies import stand_in
from reasoner.front.importers.unknowns import VALUE_RE, Unknowns, check_generated
from reasoner.semantics.environment import (
    Account,
    BlockPublicAccess,
    Environment,
    Grant,
    Key,
    Organization,
    Principal,
    PrincipalKind,
    Resource,
    Session,
    Unknown,
    VpcEndpoint,
)
from reasoner.source import Span


@dataclass
class KeyDraft:
    arn: str
    policy: PolicyDocument | None = None
    aliases: list[str] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    key_spec: str = "SYMMETRIC_DEFAULT"
    key_usage: str = "ENCRYPT_DECRYPT"
    origin: str = "AWS_KMS"
    multi_region: bool = False
    aws_managed: bool = False
    span: Span | None = None


@dataclass
class PrincipalDraft:
    arn: str
    kind: PrincipalKind
    name: str
    policies: list[PolicyDocument] = field(default_factory=list)
    managed: list[tuple[str, Span | None]] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # group names (users)
    boundary: str | None = None  # managed policy ARN
    boundary_span: Span | None = None
    tags: dict[str, str] = field(default_factory=dict)
    unique_id: str | None = None
    trust: PolicyDocument | None = None
    span: Span | None = None


@dataclass
class ResourceDraft:
    arn: str
    account: str
    policy: PolicyDocument | None = None
    statements: list[PolicyDocument] = field(default_factory=list)  # pieces merged into one policy (Lambda)
    tags: dict[str, str] = field(default_factory=dict)
    block_public_access: BlockPublicAccess | None = None
    shared_with: tuple[str, ...] = ()
    span: Span | None = None


@dataclass
class OrgPolicy:
    doc: PolicyDocument
    kind: PolicyKind  # SCP or RCP
    targets: list[str]
    management_account: str
    span: Span | None
    policy_id: str = ""  # the id an Organizations export gives it (its targets are listed by id)


@dataclass
class Builder:
    """The environment being assembled; importers add to it, `environment()` finishes it."""

    unknowns: Unknowns = field(default_factory=Unknowns)
    keys: dict[str, KeyDraft] = field(default_factory=dict)
    principals: dict[str, PrincipalDraft] = field(default_factory=dict)
    groups: dict[tuple[str, str], PrincipalDraft] = field(default_factory=dict)  # (account, name)
    managed: dict[str, PolicyDocument] = field(default_factory=dict)
    resources: dict[str, ResourceDraft] = field(default_factory=dict)
    aliases: list[tuple[str, str, Span | None]] = field(default_factory=list)  # alias name, key id or ARN
    grants: list[tuple[str, Grant]] = field(default_factory=list)  # key id or ARN
    org_policies: list[OrgPolicy] = field(default_factory=list)
    accounts: dict[str, Account] = field(default_factory=dict)
    organizations: dict[str, Organization] = field(default_factory=dict)
    sessions: list[Session] = field(default_factory=list)
    endpoints: list[VpcEndpoint] = field(default_factory=list)
    exports: dict[str, str] = field(default_factory=dict)  # CloudFormation exports of the stacks read so far
    errors: list[InputError] = field(default_factory=list)
    #: declarations the environment is built on (a manifest that imports files), if any
    base: Environment | None = None
    #: what AWS exports said that is assembled at the end (`aws_exports.finish`), if any were read
    exports_state: object | None = None

    # ---- adding ----

    def key(self, arn: str, span: Span | None = None) -> KeyDraft:
        draft = self.keys.get(arn)
        if draft is None:
            draft = self.keys[arn] = KeyDraft(arn, span=span)
        elif span is not None and draft.span is None:
            draft.span = span
        return draft

    def principal(self, arn: str, kind: PrincipalKind, name: str, span: Span | None = None) -> PrincipalDraft:
        draft = self.principals.get(arn)
        if draft is None:
            draft = self.principals[arn] = PrincipalDraft(arn, kind, name, span=span)
        return draft

    def group(self, account: str, name: str, arn: str = "", span: Span | None = None) -> PrincipalDraft:
        draft = self.groups.get((account, name))
        if draft is None:
            draft = self.groups[(account, name)] = PrincipalDraft(arn, PrincipalKind.USER, name, span=span)
        return draft

    def resource(self, arn: str, account: str, span: Span | None = None) -> ResourceDraft:
        draft = self.resources.get(arn)
        if draft is None:
            draft = self.resources[arn] = ResourceDraft(arn, account, span=span)
        return draft

    def resource_policy(self, arn: str, account: str, doc: PolicyDocument, span: Span | None) -> None:
        draft = self.resource(arn, account, span)
        if draft.policy is not None and draft.policy is not doc:
            self.errors.append(fail(span or doc.span, f"`{arn}` has two resource policies (the other at "
                                    f"{draft.policy.span})", CONFLICT))
            return
        draft.policy = doc

    def key_policy(self, draft: KeyDraft, doc: PolicyDocument, span: Span | None) -> None:
        if draft.policy is not None and draft.policy is not doc:
            self.errors.append(fail(span or doc.span, f"key `{draft.arn}` has two key policies (the other at "
                                    f"{draft.policy.span})", CONFLICT))
            return
        draft.policy = doc

    # ---- finishing ----

    def _key_of(self, ref: str) -> KeyDraft | None:
        """The key an alias or grant names: by ARN, or by key id (the id of exactly one key)."""
        if ref in self.keys:
            return self.keys[ref]
        matches = [k for k in self.keys.values() if k.arn.rsplit("/", 1)[-1] == ref]
        return matches[0] if len(matches) == 1 else None

    def _managed_doc(self, arn: str, span: Span | None, holder: str) -> PolicyDocument:
        doc = self.managed.get(arn)
        if doc is not None:
            return doc
        address = f"{span}#{arn}" if span is not None else arn
        text = self.unknowns.value(address, f"the content of managed policy `{arn}` is in no input (give the "
                                   "account's authorization details, or a manifest that lists it)", span)
        self.unknowns.used(text, f"the identity policies of `{holder}`")
        return stand_in(PolicyKind.IDENTITY, text, span.file if span else arn)

    def environment(self, source: str | None = None, *, base: Environment | None = None) -> Environment:
        """The environment assembled so far, on top of `base` (a manifest's declarations, if any)."""
        base = base if base is not None else self.base
        errors = list(self.errors)
        for alias, ref, _span in self.aliases:
            k = self._key_of(ref)
            if k is not None and alias not in k.aliases:
                k.aliases.append(alias)
            elif k is None and VALUE_RE.search(ref):
                self.unknowns.used(VALUE_RE.search(ref).group(), f"the target of `{alias}`")  # type: ignore[union-attr]
        for ref, grant in self.grants:
            k = self._key_of(ref)
            if k is not None:
                k.grants.append(grant)
        keys = []
        for d in self.keys.values():
            if d.policy is None:
                continue  # a key described (aliases, tags) without its policy is not an input of a decision
            keys.append(Key(d.arn, d.policy, tuple(d.grants), tuple(d.aliases), d.tags, d.key_spec, d.key_usage,
                            d.origin, d.multi_region, d.aws_managed, span=d.span))
        principals = []
        for p in self.principals.values():
            docs = list(p.policies)
            docs += [self._managed_doc(a, s, p.arn) for a, s in p.managed]
            if p.kind is PrincipalKind.USER:
                account = p.arn.split(":")[4]
                for g in p.groups:
                    gd = self.groups.get((account, g))
                    if gd is None:
                        text = self.unknowns.value(f"group `{g}` of `{p.arn}`",
                                                   f"the policies of group `{g}` are in no input", p.span)
                        self.unknowns.used(text, f"the identity policies of `{p.arn}`")
                        docs.append(self._managed_doc(text, p.span, p.arn))
                        continue
                    docs += gd.policies
                    docs += [self._managed_doc(a, s, p.arn) for a, s in gd.managed]
            boundary = (self._managed_doc(p.boundary, p.boundary_span, p.arn) if p.boundary is not None else None)
            principals.append(Principal(p.arn, p.kind, tuple(dict.fromkeys(docs)), boundary, p.tags, p.unique_id,
                                        span=p.span, trust_policy=p.trust))
        resources = []
        for r in self.resources.values():
            policy = r.policy
            if r.statements:
                policy = _merge(r.statements) if policy is None else _merge([policy, *r.statements])
            resources.append(Resource(r.arn, policy, r.account, r.tags, r.block_public_access, r.shared_with,
                                      span=r.span))
        orgs = dict(self.organizations)
        if base is not None:
            orgs.update({o.id: o for o in base.organizations})
        for op in self.org_policies:
            org = next((o for o in orgs.values() if o.management_account == op.management_account), None)
            if org is None:
                if VALUE_RE.search(op.management_account):
                    continue  # the account is unknown: its verdicts are UNKNOWN already
                errors.append(fail(op.span or op.doc.span, f"account `{op.management_account}` is the management "
                                   "account of no declared organization: the policy has nowhere to attach",
                                   REFERENCE, help="declare the organization (a manifest's `organizations:` or "
                                   "an Organizations export) in the same environment"))
                continue
            table = dict(org.scps if op.kind is PolicyKind.SCP else org.rcps)
            for t in op.targets:
                table[t] = (*table.get(t, ()), op.doc)
            from dataclasses import replace

            orgs[org.id] = (replace(org, scps=table) if op.kind is PolicyKind.SCP else replace(org, rcps=table))
        raise_all(errors)
        env = Environment(
            keys=tuple(keys) + (base.keys if base else ()),
            accounts=tuple(self.accounts.values()) + (base.accounts if base else ()),
            principals=tuple(principals) + (base.principals if base else ()),
            sessions=tuple(self.sessions) + (base.sessions if base else ()),
            organizations=tuple(orgs.values()),
            options=base.options if base else Environment().options,
            source=source if source is not None else (base.source if base else None),
            resources=tuple(resources) + (base.resources if base else ()),
            vpc_endpoints=tuple(self.endpoints) + (base.vpc_endpoints if base else ()),
            unknowns=tuple(self.unknowns.records) + (base.unknowns if base else ()),
        )
        _unique(env)
        from dataclasses import replace

        return replace(env, unknowns=check_generated(env))


def _merge(docs: list[PolicyDocument]) -> PolicyDocument:
    """One policy made of the statements of several (a Lambda function's permissions), renumbered."""
    from dataclasses import replace

    statements: list[Statement] = []
    for d in docs:
        for st in d.statements:
            statements.append(replace(st, index=len(statements)))
    return replace(docs[0], statements=tuple(statements))


def _unique(env: Environment) -> None:
    errors: list[InputError] = []
    for what, items in (("key", [(k.arn, k.span) for k in env.keys]),
                        ("principal", [(p.arn, p.span) for p in env.principals]),
                        ("resource", [(r.arn, r.span) for r in env.resources]),
                        ("account", [(a.id, a.span) for a in env.accounts]),
                        ("organization", [(o.id, o.span) for o in env.organizations])):
        seen: dict[str, Span | None] = {}
        for name, span in items:
            if name in seen:
                errors.append(InputError(f"{what} `{name}` is declared twice (also at {seen[name]})",
                                         span=span, code=CONFLICT))
            else:
                seen[name] = span
    raise_all(errors)


__all__ = ["Builder", "KeyDraft", "OrgPolicy", "PrincipalDraft", "ResourceDraft", "Unknown"]
