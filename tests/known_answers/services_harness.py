"""Builds environments and requests from the per-service known-answer files (`services/*.yaml`).

A case is plain data: an environment in the manifest's shape with policies inline (mappings, dumped to JSON and
parsed by `parse_policy` with the kind their place implies, so the front end is exercised too), a request and
the decision AWS makes, citing the section of docs/semantics-services.md it checks.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reasoner.front.ast import PolicyDocument, PolicyKind
from reasoner.front.parse import parse_policy
from reasoner.semantics import arns
from reasoner.semantics.environment import (
    Account,
    BlockPublicAccess,
    Environment,
    Key,
    NotPrincipalMode,
    Options,
    Organization,
    Principal,
    PrincipalKind,
    Resource,
    Session,
    VpcEndpoint,
)
from reasoner.semantics.request import Request

SERVICES = Path(__file__).parent / "services"


@dataclass(frozen=True)
class ServiceCase:
    id: str
    cite: str
    note: str
    data: dict[str, Any]
    file: str

    def __str__(self) -> str:
        return self.id


def load_cases() -> list[ServiceCase]:
    out: list[ServiceCase] = []
    for path in sorted(SERVICES.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text()) or {}
        for c in doc.get("cases", []):
            out.append(ServiceCase(str(c["id"]), str(c.get("cite", "")), str(c.get("note", "")), c, path.name))
    return out


def _policy(value: Any, kind: PolicyKind, name: str, key_account: str | None = None) -> PolicyDocument:
    return parse_policy(json.dumps(value, indent=1), file=name, kind=kind, key_account=key_account)


def _bpa(value: Any) -> BlockPublicAccess | None:
    return BlockPublicAccess(**value) if value is not None else None


def _options(value: dict[str, Any] | None) -> Options:
    if not value:
        return Options()
    fields = {f.name: f for f in dataclasses.fields(Options)}
    out: dict[str, Any] = {}
    for name, v in value.items():
        if name not in fields:
            raise KeyError(f"unknown option `{name}`")
        current = getattr(Options(), name)
        out[name] = (NotPrincipalMode(v) if isinstance(current, NotPrincipalMode)
                     else tuple(v) if isinstance(current, tuple) else v)
    return dataclasses.replace(Options(), **out)


def build(case: ServiceCase) -> tuple[Environment, Request]:
    """The environment and request of a case."""
    d = case.data
    bpa_by_account = {str(k): _bpa(v) for k, v in (d.get("account_block_public_access") or {}).items()}
    accounts: dict[str, Account] = {}
    for a in d.get("accounts") or []:
        regions = a.get("enabled_regions")
        accounts[str(a["id"])] = Account(
            str(a["id"]), a.get("organization"), tuple(a.get("ou_path") or ()),
            frozenset(regions) if regions is not None else None, a.get("iam_known", True),
            block_public_access=bpa_by_account.get(str(a["id"])),
        )
    for acct, bpa in bpa_by_account.items():
        if acct not in accounts:
            accounts[acct] = Account(acct, block_public_access=bpa)
    orgs = []
    for o in d.get("organizations") or []:
        scps = {t: tuple(_policy(p, PolicyKind.SCP, f"scp-{t}-{i}.json") for i, p in enumerate(ps))
                for t, ps in (o.get("scps") or {}).items()}
        rcps = {t: tuple(_policy(p, PolicyKind.RCP, f"rcp-{t}-{i}.json") for i, p in enumerate(ps))
                for t, ps in (o.get("rcps") or {}).items()}
        orgs.append(Organization(o["id"], o["root"], str(o["management_account"]), scps, rcps))
    principals = []
    for p in d.get("principals") or []:
        arn = p["arn"]
        parsed = arns.parse_principal(arn)
        kind = (PrincipalKind.ROOT if isinstance(parsed, arns.RootArn) else PrincipalKind.USER
                if isinstance(parsed, arns.UserArn) else PrincipalKind.ROLE)
        label = arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        principals.append(Principal(
            arn, kind,
            tuple(_policy(x, PolicyKind.IDENTITY, f"iam-{label}-{i}.json")
                  for i, x in enumerate(p.get("policies") or [])),
            _policy(p["boundary"], PolicyKind.PERMISSIONS_BOUNDARY, f"pb-{label}.json") if p.get("boundary") else None,
            dict(p.get("tags") or {}),
            p.get("unique_id"),
            trust_policy=_policy(p["trust_policy"], PolicyKind.TRUST, f"trust-{label}.json")
            if p.get("trust_policy") else None,
        ))
    sessions = [
        Session(s["arn"], s["source"],
                tuple(_policy(x, PolicyKind.SESSION, f"session-{i}.json")
                      for i, x in enumerate(s.get("policies") or [])),
                dict(s.get("tags") or {}))
        for s in d.get("sessions") or []
    ]
    resources = []
    keys = []
    for r in d.get("resources") or []:
        arn = r["arn"]
        attrs = {str(k): str(v).lower() if isinstance(v, bool) else str(v)
                 for k, v in (r.get("attributes") or {}).items()}
        if ":kms:" in arn and ":key/" in arn:
            keys.append(Key(arn, _policy(r["policy"], PolicyKind.KEY_POLICY, "key-policy.json",
                                         key_account=arn.split(":")[4]),
                            tags=dict(r.get("tags") or {}), aws_managed=attrs.get("aws_managed") == "true"))
            continue
        resources.append(Resource(
            arn,
            _policy(r["policy"], PolicyKind.RESOURCE, f"policy-{arn.rsplit(':', 1)[-1][:20]}.json")
            if r.get("policy") else None,
            str(r.get("account") or arn.split(":")[4]),
            dict(r.get("tags") or {}),
            _bpa(r.get("block_public_access")),
            tuple(str(x) for x in r.get("shared_with") or ()),
            attributes={k: v for k, v in attrs.items() if k not in ("service_linked", "sso_reserved")},
        ))
    endpoints = [
        VpcEndpoint(e["id"], e["vpc"], e["service"], str(e.get("account") or ""),
                    _policy(e["policy"], PolicyKind.ENDPOINT, f"vpce-{e['id']}.json") if e.get("policy") else None,
                    type=str(e.get("type") or ""))
        for e in d.get("vpc_endpoints") or []
    ]
    env = Environment(
        keys=tuple(keys), accounts=tuple(accounts.values()), principals=tuple(principals),
        sessions=tuple(sessions), organizations=tuple(orgs), options=_options(d.get("options")),
        resources=tuple(resources), vpc_endpoints=tuple(endpoints),
    )
    req = d["request"]
    context = {k: tuple(v) if isinstance(v, list) else (str(v),) for k, v in (req.get("context") or {}).items()}
    return env, Request(req["principal"], req["action"], req["resource"], context)
