"""Builds environments and requests from the compact case descriptions of `cases.py`.

A case is plain data: policies as Python dicts (dumped to JSON and parsed with `parse_policy`, so the whole
front end is exercised), principals and sessions by ARN, and the expected decision. Each case cites the
section of `semantics.md` it checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from reasoner.errors import PolicyValidationError
from reasoner.front.ast import PolicyDocument, PolicyKind
from reasoner.front.parse import parse_document, parse_policy
from reasoner.semantics.environment import (
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
from reasoner.semantics.request import Request

O = "111111111111"  # key owner  # noqa: E741
A = "222222222222"  # external account
B = "333333333333"  # a third account
REGION = "us-east-1"
K = f"arn:aws:kms:{REGION}:{O}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
K2 = f"arn:aws:kms:{REGION}:{A}:key/0987dcba-09fe-87dc-65ba-ab0987654321"


def root(acct: str) -> str:
    return f"arn:aws:iam::{acct}:root"


def user(acct: str, name: str = "U") -> str:
    return f"arn:aws:iam::{acct}:user/{name}"


def role(acct: str, name: str = "R") -> str:
    return f"arn:aws:iam::{acct}:role/{name}"


def session(acct: str, role_name: str = "R", name: str = "s") -> str:
    return f"arn:aws:sts::{acct}:assumed-role/{role_name}/{name}"


def federated(acct: str, name: str = "F") -> str:
    return f"arn:aws:sts::{acct}:federated-user/{name}"


def stmt(
    effect: str,
    actions: Any,
    resource: Any = "*",
    *,
    principal: Any = None,
    cond: Any = None,
    sid: str | None = None,
    not_action: bool = False,
    not_resource: bool = False,
    not_principal: bool = False,
) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": effect}
    if sid:
        s["Sid"] = sid
    if principal is not None:
        s["NotPrincipal" if not_principal else "Principal"] = principal
    s["NotAction" if not_action else "Action"] = actions
    if resource is not None:
        s["NotResource" if not_resource else "Resource"] = resource
    if cond is not None:
        s["Condition"] = cond
    return s


def allow(actions: Any, resource: Any = "*", **kw: Any) -> dict[str, Any]:
    return stmt("Allow", actions, resource, **kw)


def deny(actions: Any, resource: Any = "*", **kw: Any) -> dict[str, Any]:
    return stmt("Deny", actions, resource, **kw)


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    d: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        d = {"Version": version, **d}
    return d


#: The default key policy: the owner account may delegate every KMS action to its IAM policies.
DEFAULT_KP_STMT = allow("kms:*", principal={"AWS": root(O)}, sid="EnableIAM")


@dataclass
class Case:
    id: str
    section: str  # e.g. "§6.14" or "§3.2"
    note: str
    principal: str
    action: str
    want: str  # ALLOW / EXPLICIT_DENY / IMPLICIT_DENY
    key_policy: dict[str, Any] | None = None  # None: the default key policy
    resource: str = K
    context: dict[str, Any] = field(default_factory=dict)
    iam: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # user/role ARN -> identity policies
    boundary: dict[str, dict[str, Any]] = field(default_factory=dict)  # user/role ARN -> PB
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # user/role ARN -> tags
    sessions: dict[str, tuple[str, list[dict[str, Any]]]] = field(
        default_factory=dict
    )  # arn -> (source, SPs)
    extra_keys: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    key: dict[str, Any] = field(default_factory=dict)  # extra Key fields (aliases, tags, grants, ...)
    accounts: list[Account] = field(default_factory=list)
    organizations: list[dict[str, Any]] = field(
        default_factory=list
    )  # id, root, mgmt, scps, rcps (dict docs)
    options: dict[str, Any] = field(default_factory=dict)
    lenient: bool = False  # the policy is rejected by validation (e.g. KMS would reject it); parse only

    def __str__(self) -> str:
        return self.id


def _policy(d: dict[str, Any], kind: PolicyKind, name: str, lenient: bool) -> PolicyDocument:
    text = json.dumps(d, indent=1)
    try:
        return parse_policy(text, file=name, kind=kind)
    except PolicyValidationError:
        if not lenient:
            raise
        parsed, diags = parse_document(text, file=name, kind=kind)
        assert parsed is not None, diags
        return parsed


def _principal_kind(arn: str) -> PrincipalKind:
    if ":user/" in arn:
        return PrincipalKind.USER
    if ":role/" in arn:
        return PrincipalKind.ROLE
    return PrincipalKind.ROOT


def build(case: Case) -> tuple[Environment, Request]:
    lenient = case.lenient
    kp = _policy(case.key_policy or doc(DEFAULT_KP_STMT), PolicyKind.KEY_POLICY, "key-policy.json", lenient)
    key_fields = dict(case.key)
    grants = tuple(Grant(**g) for g in key_fields.pop("grants", ()))
    keys = [Key(K if "arn" not in key_fields else key_fields.pop("arn"), kp, grants, **key_fields)]
    for i, (arn, d) in enumerate(case.extra_keys):
        keys.append(Key(arn, _policy(d, PolicyKind.KEY_POLICY, f"key-policy-{i + 2}.json", lenient)))
    arns = set(case.iam) | set(case.boundary) | set(case.tags) | {src for src, _ in case.sessions.values()}
    principals = []
    for arn in sorted(arns):
        pols = tuple(
            _policy(d, PolicyKind.IDENTITY, f"iam-{arn.rsplit('/', 1)[-1]}-{j}.json", lenient)
            for j, d in enumerate(case.iam.get(arn, []))
        )
        pb = (
            _policy(case.boundary[arn], PolicyKind.PERMISSIONS_BOUNDARY, "boundary.json", lenient)
            if arn in case.boundary
            else None
        )
        principals.append(Principal(arn, _principal_kind(arn), pols, pb, case.tags.get(arn, {})))
    sessions = [
        Session(
            arn,
            src,
            tuple(_policy(d, PolicyKind.SESSION, f"session-{j}.json", lenient) for j, d in enumerate(sps)),
        )
        for arn, (src, sps) in case.sessions.items()
    ]
    orgs = []
    for o in case.organizations:
        scps = {
            t: tuple(_policy(d, PolicyKind.SCP, f"scp-{t}-{j}.json", lenient) for j, d in enumerate(ds))
            for t, ds in o.get("scps", {}).items()
        }
        rcps = {
            t: tuple(_policy(d, PolicyKind.RCP, f"rcp-{t}-{j}.json", lenient) for j, d in enumerate(ds))
            for t, ds in o.get("rcps", {}).items()
        }
        orgs.append(Organization(o["id"], o["root"], o["management"], scps, rcps))
    opts = dict(case.options)
    if "not_principal_mode" in opts:
        opts["not_principal_mode"] = NotPrincipalMode(opts["not_principal_mode"])
    env = Environment(
        keys=tuple(keys),
        accounts=tuple(case.accounts),
        principals=tuple(principals),
        sessions=tuple(sessions),
        organizations=tuple(orgs),
        options=Options(**opts),
    )
    context = {k: tuple(v) if isinstance(v, list | tuple) else (v,) for k, v in case.context.items()}
    return env, Request(case.principal, case.action, case.resource, context)
