"""AWS CLI (or SDK) outputs saved as JSON -> keys, principals, accounts and organizations.

Input: one JSON output of `aws kms get-key-policy`, `describe-key`, `list-grants`, `list-aliases`,
`aws iam get-account-authorization-details`, `aws organizations describe-organization`, `list-roots`,
`list-accounts`, `list-organizational-units-for-parent`, `list-children`, `list-accounts-for-parent`,
`list-parents`, `describe-policy` or `list-targets-for-policy`. A directory of such files is one environment.
Outputs that do not name the object they were asked about (a key policy does not say its key; the targets of a
policy do not say the policy) are tied to it by the file name, which must contain the id that was queried:
`1234abcd-....policy.json`, `p-examplepolicy.targets.json`, `ou-ab12-workload.children.json`,
`111122223333.parents.json` (`reasoner snapshot` writes a manifest instead, which needs no such convention).
Output: added to the builder: keys (policy, metadata, aliases, grants), roles, users and groups with every
inline, managed and group policy and boundary (all managed policy versions are in the authorization details;
the default version is the one read), an account whose IAM is known when the authorization details list users,
groups, roles and policies, the organization with its accounts, OU paths, SCPs and RCPs and their targets.
Guarantee: a key policy file that names no key of the environment, and a policy or OU file that names none
of its ids, is an error (IAC006) rather than a guess; a policy document given URL-encoded (the raw API) is
decoded; every policy is validated for its place (IAC007).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path

from reasoner.front.ast import PolicyDocument, PolicyKind
from reasoner.front.importers import nodes
from reasoner.front.importers.build import Builder, OrgPolicy
from reasoner.front.importers.nodes import REFERENCE, SHAPE, Node, fail
from reasoner.front.importers.options import ImportOptions
from reasoner.front.importers.policies import policy_from_node, policy_from_text
from reasoner.semantics.environment import Account, Grant, Organization, PrincipalKind
from reasoner.source import SourceFile

_KEYS = ("KeyMetadata", "Grants", "Aliases", "UserDetailList", "RoleDetailList", "GroupDetailList", "Organization",
         "Roots", "Accounts", "OrganizationalUnits", "Children", "Parents", "Targets")
_KEY_ID = re.compile(r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
_ORG_ID = re.compile(r"(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|p-[0-9a-zA-Z_]{8,128}|\d{12})")


def is_export(tree: Node) -> bool:
    if not tree.is_mapping:
        return False
    if any(tree.get(k) is not None for k in _KEYS):
        return True
    policy = tree.get("Policy")
    return policy is not None and (policy.is_str or (policy.is_mapping and policy.get("Content") is not None))


def _document(node: Node, kind: PolicyKind, what: str, file: str, *, source: SourceFile,
              b: Builder) -> PolicyDocument:
    if node.is_str:
        text = str(node.value)
        if text.lstrip().startswith("%7B") or text.lstrip().startswith("%7b"):
            text = urllib.parse.unquote(text)
        return policy_from_text(text, f"{file}#{node.pointer}", kind, what, b.unknowns, at=node.span)
    return policy_from_node(node, kind, what, b.unknowns, source=source)


def _tags(node: Node | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in node.elements() if node is not None else ():
        k = t.get("Key") or t.get("TagKey")
        v = t.get("Value") or t.get("TagValue")
        if k is not None and v is not None:
            out[str(k.value)] = str(v.value)
    return out


def _s(node: Node | None) -> str:
    return "" if node is None or node.value is None else str(node.value)


def read_export(text: str, file: str, b: Builder, opts: ImportOptions) -> None:
    tree = nodes.from_json(text, file)
    source = SourceFile(file, text)
    stem = Path(file).name
    if not is_export(tree):
        raise fail(tree.span, "not an AWS CLI output this tool reads", SHAPE)
    meta = tree.get("KeyMetadata")
    if meta is not None:
        arn = _s(meta.get("Arn"))
        draft = b.key(arn, meta.span)
        draft.key_spec = _s(meta.get("KeySpec")) or draft.key_spec
        draft.key_usage = _s(meta.get("KeyUsage")) or draft.key_usage
        draft.origin = _s(meta.get("Origin")) or draft.origin
        draft.multi_region = meta.get("MultiRegion") is not None and meta.get("MultiRegion").value is True  # type: ignore[union-attr]
        draft.aws_managed = _s(meta.get("KeyManager")) == "AWS"
    state = _state(b)
    policy = tree.get("Policy")
    if policy is not None and policy.is_str:
        doc = _document(policy, PolicyKind.KEY_POLICY, f"the key policy in `{stem}`", file, source=source, b=b)
        m = _KEY_ID.search(stem)
        state.key_policies.append((m.group(1) if m else None, doc, policy, stem))
    elif policy is not None and policy.is_mapping:  # organizations describe-policy
        summary = policy.get("PolicySummary") or Node(nodes.Mapping(), policy.span)
        ptype = _s(summary.get("Type"))
        kind = {"SERVICE_CONTROL_POLICY": PolicyKind.SCP, "RESOURCE_CONTROL_POLICY": PolicyKind.RCP}.get(ptype)
        content = policy.get("Content")
        if kind is not None and content is not None:
            doc = _document(content, kind, f"policy `{_s(summary.get('Name'))}`", file, source=source, b=b)
            b.org_policies.append(OrgPolicy(doc, kind, [], "", policy.span, _s(summary.get("Id"))))
    grants = tree.get("Grants")
    for g in grants.elements() if grants is not None else ():
        constraints = g.get("Constraints")
        eq = constraints.get("EncryptionContextEquals") if constraints is not None else None
        sub = constraints.get("EncryptionContextSubset") if constraints is not None else None
        ops = frozenset(f"kms:{_s(o)}" for o in (g.get("Operations") or Node((), g.span)).elements())
        b.grants.append((_s(g.get("KeyId")), Grant(
            _s(g.get("GranteePrincipal")), ops,
            {k: str(v.value) for k, v in eq.items()} if eq is not None else None,
            {k: str(v.value) for k, v in sub.items()} if sub is not None else None,
            None, _s(g.get("RetiringPrincipal")) or None, _s(g.get("Name")) or None, span=g.span)))
    aliases = tree.get("Aliases")
    for a in aliases.elements() if aliases is not None else ():
        target = _s(a.get("TargetKeyId"))
        if target:
            b.aliases.append((_s(a.get("AliasName")), target, a.span))
    _authorization_details(tree, file, source, b)
    _organizations(tree, stem, b)


def _authorization_details(tree: Node, file: str, source: SourceFile, b: Builder) -> None:
    lists = [tree.get(k) for k in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")]
    if all(x is None for x in lists[:3]):
        return
    users, groups, roles, policies = (x.elements() if x is not None else () for x in lists)
    accounts: set[str] = set()
    for p in policies:
        arn = _s(p.get("Arn"))
        default = _s(p.get("DefaultVersionId"))
        for v in (p.get("PolicyVersionList") or Node((), p.span)).elements():
            is_default = v.get("IsDefaultVersion")
            if (is_default is not None and is_default.value is True) or _s(v.get("VersionId")) == default:
                doc = v.get("Document")
                if doc is not None:
                    b.managed[arn] = _document(doc, PolicyKind.IDENTITY, f"managed policy `{arn}`", file,
                                               source=source, b=b)
    for g in groups:
        arn = _s(g.get("Arn"))
        account = arn.split(":")[4] if arn.count(":") >= 5 else ""
        accounts.add(account)
        draft = b.group(account, _s(g.get("GroupName")), arn, g.span)
        for inline in (g.get("GroupPolicyList") or Node((), g.span)).elements():
            draft.policies.append(_document(inline.get("PolicyDocument") or inline, PolicyKind.IDENTITY,
                                            f"policy `{_s(inline.get('PolicyName'))}` of `{arn}`", file,
                                            source=source, b=b))
        draft.managed += [(_s(m.get("PolicyArn")), m.span)
                          for m in (g.get("AttachedManagedPolicies") or Node((), g.span)).elements()]
    for kind, items, inline_key in ((PrincipalKind.USER, users, "UserPolicyList"),
                                    (PrincipalKind.ROLE, roles, "RolePolicyList")):
        for u in items:
            arn = _s(u.get("Arn"))
            accounts.add(arn.split(":")[4] if arn.count(":") >= 5 else "")
            name = _s(u.get("UserName") or u.get("RoleName"))
            draft = b.principal(arn, kind, name, u.span)
            for inline in (u.get(inline_key) or Node((), u.span)).elements():
                draft.policies.append(_document(inline.get("PolicyDocument") or inline, PolicyKind.IDENTITY,
                                                f"policy `{_s(inline.get('PolicyName'))}` of `{arn}`", file,
                                                source=source, b=b))
            draft.managed += [(_s(m.get("PolicyArn")), m.span)
                              for m in (u.get("AttachedManagedPolicies") or Node((), u.span)).elements()]
            boundary = u.get("PermissionsBoundary")
            if boundary is not None and boundary.get("PermissionsBoundaryArn") is not None:
                draft.boundary = _s(boundary.get("PermissionsBoundaryArn"))
                draft.boundary_span = boundary.span
            draft.tags.update(_tags(u.get("Tags")))
            draft.unique_id = _s(u.get("UserId") or u.get("RoleId")) or None
            if kind is PrincipalKind.USER:
                draft.groups += [_s(x) for x in (u.get("GroupList") or Node((), u.span)).elements()]
            else:
                trust = u.get("AssumeRolePolicyDocument")
                if trust is not None:
                    draft.trust = _document(trust, PolicyKind.TRUST, f"the trust policy of `{arn}`", file,
                                            source=source, b=b)
    if all(x is not None for x in lists):  # the account's whole IAM
        for a in accounts - {""}:
            if a not in b.accounts:
                b.accounts[a] = Account(a, iam_known=True, span=tree.span)


#: Organizations data of the files read so far, for assembling the organization at the end.
class _OrgState:
    def __init__(self) -> None:
        self.org: tuple[str, str] | None = None  # id, management account
        self.roots: list[str] = []
        self.accounts: list[str] = []
        self.parent: dict[str, str] = {}
        self.targets: dict[str, list[str]] = {}  # policy id -> targets
        self.key_policies: list[tuple[str | None, object, Node, str]] = []  # key id in the file name, policy


def _state(b: Builder) -> _OrgState:
    if not isinstance(b.exports_state, _OrgState):
        b.exports_state = _OrgState()
    return b.exports_state


def _organizations(tree: Node, stem: str, b: Builder) -> None:
    state = _state(b)
    org = tree.get("Organization")
    if org is not None:
        state.org = (_s(org.get("Id")), _s(org.get("MasterAccountId")))
    for r in (tree.get("Roots") or Node((), tree.span)).elements():
        state.roots.append(_s(r.get("Id")))
    for a in (tree.get("Accounts") or Node((), tree.span)).elements():
        state.accounts.append(_s(a.get("Id")))
    queried = _ORG_ID.search(stem)
    for key in ("OrganizationalUnits", "Children"):
        for c in (tree.get(key) or Node((), tree.span)).elements():
            if queried is None:
                raise fail(c.span, f"cannot tell the parent of the children in `{stem}`", REFERENCE,
                           help="name the file after the parent id (`r-ab12.children.json`)")
            state.parent[_s(c.get("Id"))] = queried.group(1)
    for p in (tree.get("Parents") or Node((), tree.span)).elements():
        if queried is None:
            raise fail(p.span, f"cannot tell the child of the parents in `{stem}`", REFERENCE,
                       help="name the file after the child id (`111122223333.parents.json`)")
        state.parent[queried.group(1)] = _s(p.get("Id"))
    for t in (tree.get("Targets") or Node((), tree.span)).elements():
        if queried is None:
            raise fail(t.span, f"cannot tell the policy whose targets `{stem}` lists", REFERENCE,
                       help="name the file after the policy id (`p-examplepolicy.targets.json`)")
        state.targets.setdefault(queried.group(1), []).append(_s(t.get("TargetId")))


def finish(b: Builder) -> None:
    """Assemble the organization of the Organizations files read into `b` (once, after the last file)."""
    state = b.exports_state
    b.exports_state = None
    if not isinstance(state, _OrgState):
        return
    keys = list(b.keys.values())
    for key_id, doc, node, stem in state.key_policies:
        target = next((k for k in keys if key_id is not None and k.arn.endswith("/" + key_id)), None)
        if target is None and key_id is None and len(keys) == 1:
            target = keys[0]
        if target is None:
            b.errors.append(fail(node.span, f"cannot tell which key `{stem}` is the policy of", REFERENCE,
                                 help="name the file after the key id (`KEY-ID.policy.json`) and give the key's "
                                      "`describe-key` output too"))
            continue
        b.key_policy(target, doc, node.span)  # type: ignore[arg-type]
    for op in b.org_policies:
        if op.policy_id:
            op.targets = state.targets.get(op.policy_id, [])
            if state.org is not None:
                op.management_account = state.org[1]
    if state.org is None:
        return
    org_id, mgmt = state.org
    root = state.roots[0] if state.roots else ""
    if not root:
        return
    b.organizations[org_id] = Organization(org_id, root, mgmt)
    for a in dict.fromkeys(state.accounts + ([mgmt] if mgmt else [])):
        path = [a]
        seen = set()
        while path[-1] in state.parent and path[-1] not in seen:
            seen.add(path[-1])
            path.append(state.parent[path[-1]])
        ou_path = tuple(reversed(path[1:])) if path[-1] == root else (root,)
        prior = b.accounts.get(a)
        b.accounts[a] = Account(a, org_id, ou_path, iam_known=prior.iam_known if prior else False,
                                span=prior.span if prior else None)


_ = json
