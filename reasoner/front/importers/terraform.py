"""Terraform plans (`terraform show -json PLAN`) -> keys, principals, resources and policies.

Input: the JSON of a plan: `resource_changes[].change.after` with `after_unknown` (the values known only after
apply), `planned_values` (used when there are no `resource_changes`), `prior_state` (data sources read while
planning, `aws_caller_identity`), and `configuration` (the provider's Region, and which attribute of which
resource an unknown expression refers to). Modules are read at every depth (`module.a.module.b.aws_x.y`).
Output: added to the builder: `aws_kms_key` (`policy`; the default key policy when the configuration sets none),
`aws_kms_key_policy`, `aws_kms_grant`, `aws_kms_alias`; `aws_iam_role` (`assume_role_policy`, `inline_policy`,
`managed_policy_arns`, `permissions_boundary`), `aws_iam_user`, `aws_iam_group` and their `*_policy`,
`*_policy_attachment`, `aws_iam_policy_attachment` and group memberships; `aws_iam_policy`; the resource policies of
S3 buckets (`aws_s3_bucket_policy`, public access blocks), SQS queues, SNS topics, Secrets Manager secrets, ECR
repositories and Lambda functions (`aws_lambda_permission`); `aws_organizations_policy` (SCPs, RCPs) and its
attachments; `aws_iam_policy_document` data sources (their `json`, or, when it is known only after apply, the
document rebuilt from their `statement` blocks).
Guarantee: a value known only after apply is never skipped or guessed: an ARN or id of a resource the plan
creates is a generated name (the same placeholder wherever the configuration refers to it), anything else is
an unknown value with its address (`plan.json:aws_iam_policy.p.policy`); a resource the plan deletes is not
read. Policies held in JSON strings have spans `plan.json#ADDRESS.ATTRIBUTE:line:col` into that string.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from reasoner.errors import InputError, raise_all
from reasoner.front.ast import PolicyDocument, PolicyKind
from reasoner.front.importers import nodes
from reasoner.front.importers.build import Builder, KeyDraft, OrgPolicy, PrincipalDraft
from reasoner.front.importers.cloudformation import partition_of, url_suffix
from reasoner.front.importers.nodes import SHAPE, Node, fail
from reasoner.front.importers.options import ImportOptions
from reasoner.front.importers.policies import policy_from_text
from reasoner.front.importers.unknowns import VALUE_RE
from reasoner.semantics.environment import BlockPublicAccess, Grant, PrincipalKind
from reasoner.source import Span


def is_plan(tree: Node) -> bool:
    return tree.is_mapping and tree.get("format_version") is not None and (
        tree.get("planned_values") is not None or tree.get("resource_changes") is not None)


@dataclass
class _Res:
    address: str
    module: str
    type: str
    name: str
    mode: str
    after: dict[str, Any]
    unknown: dict[str, Any]
    span: Span


class Plan:
    def __init__(self, tree: Node, text: str, file: str, builder: Builder, opts: ImportOptions) -> None:
        self.tree = tree
        self.file = file
        self.builder = builder
        self.unknowns = builder.unknowns
        self.params = dict(opts.parameters)
        self.resources: dict[str, _Res] = {}
        self.config: dict[str, dict[str, Any]] = {}  # address (no index) -> expressions
        self.identity: dict[tuple[str, str], str] = {}  # (address, attribute) -> generated value
        self.errors: list[InputError] = []
        self._collect()
        self.account = self._account()
        self.region = self._region()
        self.partition = self.params.get("AWS::Partition") or (
            partition_of(self.region) if not VALUE_RE.search(self.region) else self.region)

    # ---- reading the plan ----

    def _collect(self) -> None:
        changes = self.tree.get("resource_changes")
        for rc in changes.elements() if changes is not None else ():
            change = rc.get("change")
            if change is None:
                continue
            actions = [str(a.value) for a in (change.get("actions") or Node((), rc.span)).elements()]
            if actions == ["delete"]:
                continue
            after = change.get("after")
            unknown = change.get("after_unknown")
            self._add(rc, after.plain() if after is not None and after.is_mapping else {},
                      unknown.plain() if unknown is not None and unknown.is_mapping else {})
        for section in ("prior_state", "planned_values"):
            top = self.tree.get(section)
            if top is None:
                continue
            values = top.get("values") if section == "prior_state" else top
            root = values.get("root_module") if values is not None else None
            for res in _module_resources(root):
                mode = res.get("mode")
                if section == "prior_state" and (mode is None or mode.value != "data"):
                    continue
                addr = res.get("address")
                if addr is not None and str(addr.value) not in self.resources:
                    vals = res.get("values")
                    self._add(res, vals.plain() if vals is not None and vals.is_mapping else {}, {})
        conf = self.tree.get("configuration")
        if conf is not None:
            self._config(conf.get("root_module"), "")

    def _add(self, node: Node, after: object, unknown: object) -> None:
        def text(key: str) -> str:
            v = node.get(key)
            return str(v.value) if v is not None and v.value is not None else ""

        address = text("address")
        assert isinstance(after, dict) and isinstance(unknown, dict)
        self.resources[address] = _Res(address, text("module_address"), text("type"), text("name"),
                                       text("mode") or "managed", after, unknown, node.span)

    def _config(self, module: Node | None, prefix: str) -> None:
        if module is None:
            return
        for res in (module.get("resources") or Node((), module.span)).elements():
            addr = res.get("address")
            exprs = res.get("expressions")
            if addr is not None and exprs is not None:
                self.config[prefix + str(addr.value)] = exprs.plain()  # type: ignore[assignment]
        for name, call in (module.get("module_calls") or Node(nodes.Mapping(), module.span)).items():
            inner = call.get("module")
            self._config(inner, f"{prefix}module.{name}.")

    def _account(self) -> str:
        given = self.params.get("AWS::AccountId")
        if given:
            return given
        for r in self.resources.values():
            if r.type == "aws_caller_identity" and isinstance(r.after.get("account_id"), str):
                return str(r.after["account_id"])
        return self.unknowns.value(f"{self.file}:account", "the account the plan deploys to is not in the plan "
                                   "(`--parameter AWS::AccountId=...`, or a `data.aws_caller_identity`)")

    def _region(self) -> str:
        given = self.params.get("AWS::Region")
        if given:
            return given
        conf = self.tree.get("configuration")
        pc = conf.get("provider_config") if conf is not None else None
        for _, provider in pc.items() if pc is not None else ():
            exprs = provider.get("expressions")
            region = exprs.get("region") if exprs is not None else None
            const = region.get("constant_value") if region is not None else None
            if const is not None and const.is_str and provider.get("alias") is None:
                return str(const.value)
        for r in self.resources.values():
            if r.type == "aws_region" and isinstance(r.after.get("name"), str):
                return str(r.after["name"])
        return self.unknowns.value(f"{self.file}:region", "the Region the plan deploys to is not in the plan "
                                   "(`--parameter AWS::Region=...`)")

    # ---- values ----

    def at(self, r: _Res, attr: str) -> str:
        return f"{self.file}:{r.address}.{attr}"

    def value(self, r: _Res, attr: str) -> object:
        """The planned value of `attr`: known, a reference to a value of this plan, or an unknown value."""
        v = r.after.get(attr)
        if v is not None and not r.unknown.get(attr):
            return v
        if r.unknown.get(attr) is True or (attr not in r.after and r.mode == "managed"):
            linked = self.linked(r, attr)
            if linked is not None:
                return linked
            if r.unknown.get(attr) is True:
                return self.unknowns.value(self.at(r, attr), f"`{r.address}.{attr}` is known only after apply",
                                           r.span)
        return v

    def text(self, r: _Res, attr: str) -> str | None:
        v = self.value(r, attr)
        return None if v is None else str(v) if not isinstance(v, bool) else str(v).lower()

    def linked(self, r: _Res, attr: str) -> str | None:
        """The value of an expression that is one reference to an identity of a resource of this plan (the
        placeholder of the key, role, bucket it names), or to an `aws_iam_policy_document`'s `json`."""
        base = r.address.split("[", 1)[0]
        expr = self.config.get(base, {}).get(attr)
        refs = expr.get("references") if isinstance(expr, dict) else None
        if not isinstance(refs, list) or not refs:
            return None
        prefix = f"{r.module}." if r.module else ""
        for ref in refs:
            target, _, target_attr = str(ref).rpartition(".")
            full = prefix + target
            if (full, target_attr) in self.identity:
                return self.identity[(full, target_attr)]
            if target.startswith("data.aws_iam_policy_document.") and target_attr == "json":
                doc = self.resources.get(full)
                if doc is not None:
                    return self.document_json(doc)
        return None

    # ---- identities of the resources the plan creates ----

    def identities(self) -> None:
        acct, region, part = self.account, self.region, self.partition
        for r in self.resources.values():
            if r.mode != "managed":
                continue
            a = r.address

            def fresh(attr: str, text: str, arn_of: object, what: str, _r: _Res = r) -> str:
                return self.unknowns.generated(self.at(_r, attr), text, f"the {what} of `{_r.address}` is known only "
                                               "after apply", arn_of, _r.span)  # type: ignore[arg-type]

            safe = "".join(c for c in r.name if c.isalnum()) or "x"
            if r.type == "aws_kms_key":
                known = r.after.get("arn")
                if isinstance(known, str) and not r.unknown.get("arn"):
                    arn, key_id = known, known.rsplit("/", 1)[-1]
                else:
                    prefix = f"arn:{part}:kms:{region}:{acct}:key/"
                    key_id = fresh("key_id", f"unknown-{safe}", lambda x, p=prefix: p + x, "key id")
                    arn = prefix + key_id
                for attr, v in (("arn", arn), ("key_id", key_id), ("id", key_id)):
                    self.identity[(a, attr)] = v
            elif r.type in ("aws_iam_role", "aws_iam_user", "aws_iam_group", "aws_iam_policy"):
                kind = r.type.split("_", 2)[2]
                name: Any = r.after.get("name")
                path = r.after.get("path") if isinstance(r.after.get("path"), str) else "/"
                if not isinstance(name, str) or r.unknown.get("name"):
                    prefix = f"arn:{part}:iam::{acct}:{kind}{path}"
                    name = fresh("name", f"{safe}@unknown", lambda x, p=prefix: p + x, "name")
                planned = r.after.get("arn")
                iam_arn = planned if isinstance(planned, str) and not r.unknown.get("arn") \
                    else f"arn:{part}:iam::{acct}:{kind}{path}{name}"
                self.identity[(a, "arn")] = iam_arn
                self.identity[(a, "name")] = name
                self.identity[(a, "id")] = iam_arn if kind == "policy" else name
            elif r.type == "aws_s3_bucket":
                name = r.after.get("bucket")
                if not isinstance(name, str) or r.unknown.get("bucket"):
                    name = fresh("bucket", f"unknown..{safe.lower()}", lambda x: f"arn:{part}:s3:::{x}", "bucket name")
                for attr, v in (("bucket", name), ("id", name), ("arn", f"arn:{part}:s3:::{name}")):
                    self.identity[(a, attr)] = v
            elif r.type in ("aws_sqs_queue", "aws_sns_topic", "aws_lambda_function"):
                service = {"aws_sqs_queue": "sqs", "aws_sns_topic": "sns", "aws_lambda_function": "lambda"}[r.type]
                field = "function_name" if service == "lambda" else "name"
                name = r.after.get(field)
                middle = "function:" if service == "lambda" else ""
                prefix = f"arn:{part}:{service}:{region}:{acct}:{middle}"
                if not isinstance(name, str) or r.unknown.get(field):
                    name = fresh(field, f"{safe}.unknown", lambda x, p=prefix: p + x, "name")
                arn = prefix + name
                self.identity[(a, "arn")] = arn
                self.identity[(a, field)] = name
                self.identity[(a, "id")] = (f"https://sqs.{region}.{url_suffix(part)}/{acct}/{name}"
                                            if service == "sqs" else arn if service == "sns" else name)
                if service == "sqs":
                    self.identity[(a, "url")] = self.identity[(a, "id")]
            elif r.type == "aws_secretsmanager_secret":
                name = r.after.get("name") if isinstance(r.after.get("name"), str) else f"{safe}.unknown"
                prefix = f"arn:{part}:secretsmanager:{region}:{acct}:secret:"
                known = r.after.get("arn")
                arn = known if isinstance(known, str) and not r.unknown.get("arn") else prefix + fresh(
                    "arn", f"{name}-unknown", lambda x, p=prefix: p + x, "ARN")
                self.identity[(a, "arn")] = str(arn)
                self.identity[(a, "id")] = str(arn)
            elif r.type == "aws_organizations_policy":
                pid = r.after.get("id") if isinstance(r.after.get("id"), str) else fresh("id", f"p-UNKNOWN-{safe}",
                                                                                        None, "policy id")
                self.identity[(a, "id")] = str(pid)
            elif r.type == "aws_organizations_organizational_unit":
                ou = r.after.get("id") if isinstance(r.after.get("id"), str) else fresh("id", f"ou-UNKNOWN-{safe}",
                                                                                      None, "OU id")
                self.identity[(a, "id")] = str(ou)

    # ---- policies ----

    def policy(self, r: _Res, attr: str, kind: PolicyKind, where: str,
               key_account: str | None = None) -> PolicyDocument | None:
        text = self.value(r, attr)
        if text is None or text == "":
            return None
        if not isinstance(text, str):
            raise fail(r.span, f"`{r.address}.{attr}` must be a JSON string", SHAPE)
        if VALUE_RE.fullmatch(text):
            from reasoner.front.importers.policies import stand_in

            self.unknowns.used(text, where)
            return stand_in(kind, text, f"{self.file}#{r.address}.{attr}")
        return policy_from_text(text, f"{self.file}#{r.address}.{attr}", kind, f"`{r.address}.{attr}`",
                                self.unknowns, at=r.span, key_account=key_account, where=where)

    def document_json(self, r: _Res) -> str:
        """The `json` of an `aws_iam_policy_document`: as planned, or rebuilt from its statement blocks."""
        known = r.after.get("json")
        if isinstance(known, str) and not r.unknown.get("json"):
            return known
        if r.after.get("source_policy_documents") or r.after.get("override_policy_documents"):
            return self.unknowns.value(self.at(r, "json"), f"`{r.address}` merges other documents only after apply",
                                       r.span)
        unknown_statements = r.unknown.get("statement")
        statements = []
        for i, block in enumerate(r.after.get("statement") or []):
            if not isinstance(block, dict):
                continue
            unk = unknown_statements[i] if isinstance(unknown_statements, list) and i < len(unknown_statements) else {}
            statements.append(self._statement(r, i, block, unk if isinstance(unk, dict) else {}))
        doc: dict[str, object] = {"Version": r.after.get("version") or "2012-10-17", "Statement": statements}
        if r.after.get("policy_id"):
            doc["Id"] = r.after["policy_id"]
        return json.dumps(doc)

    def _statement(self, r: _Res, i: int, block: dict[str, Any], unk: dict[str, Any]) -> dict[str, object]:
        def field(name: str) -> Any:
            if unk.get(name) is True or (isinstance(unk.get(name), list) and any(x is True for x in unk[name])):
                return self.unknowns.value(f"{self.at(r, 'statement')}[{i}].{name}",
                                           f"`{name}` of statement {i} of `{r.address}` is known only after apply",
                                           r.span)
            return block.get(name)

        out: dict[str, object] = {}
        if block.get("sid"):
            out["Sid"] = field("sid")
        out["Effect"] = field("effect") or "Allow"
        for key, name in (("Action", "actions"), ("NotAction", "not_actions"), ("Resource", "resources"),
                          ("NotResource", "not_resources")):
            v = field(name)
            if v:
                out[key] = sorted(v) if isinstance(v, list) else v
        for key, name in (("Principal", "principals"), ("NotPrincipal", "not_principals")):
            v = field(name)
            if isinstance(v, str):
                out[key] = {"AWS": v}
            elif v:
                principal: dict[str, list[str]] = {}
                for p in v:
                    if isinstance(p, dict):
                        principal.setdefault(str(p.get("type")), []).extend(str(x) for x in p.get("identifiers") or [])
                out[key] = "*" if list(principal) == ["*"] else principal
        v = field("condition")
        if isinstance(v, str):
            out["Condition"] = {"StringEquals": {"aws:unknown": v}}
        elif v:
            cond: dict[str, dict[str, list[str]]] = {}
            for c in v:
                if isinstance(c, dict):
                    cond.setdefault(str(c.get("test")), {}).setdefault(str(c.get("variable")), []).extend(
                        str(x) for x in c.get("values") or [])
            out["Condition"] = cond
        return out

    # ---- resources ----

    def read(self) -> None:
        self.identities()
        for r in self.resources.values():
            if r.mode != "managed":
                continue
            handler = _HANDLERS.get(r.type)
            if handler is None:
                continue
            try:
                handler(self, r)
            except InputError as exc:
                self.errors.append(exc)

    def key_ref(self, r: _Res, attr: str) -> str | None:
        return self.text(r, attr)

    def principal(self, name: str, kind: PrincipalKind, span: Span) -> PrincipalDraft:
        if name.startswith("arn:"):
            arn, short = name, name.rsplit("/", 1)[-1]
        else:
            found = [p for p in self.builder.principals.values() if p.name == name and p.kind is kind]
            if found:
                return found[0]
            short = name
            arn = f"arn:{self.partition}:iam::{self.account}:{'role' if kind is PrincipalKind.ROLE else 'user'}/{name}"
        return self.builder.principal(arn, kind, short, span)


def _module_resources(module: Node | None) -> Iterator[Node]:
    if module is None:
        return
    yield from (module.get("resources") or Node((), module.span)).elements()
    for child in (module.get("child_modules") or Node((), module.span)).elements():
        yield from _module_resources(child)


_HANDLERS: dict[str, Callable[[Plan, _Res], None]] = {}


def handles(*types: str) -> Callable[[Callable[[Plan, _Res], None]], Callable[[Plan, _Res], None]]:
    def register(fn: Callable[[Plan, _Res], None]) -> Callable[[Plan, _Res], None]:
        for t in types:
            _HANDLERS[t] = fn
        return fn
    return register


def _default_key_policy(plan: Plan) -> str:
    from reasoner.front.importers.cloudformation import _default_key_policy as default

    return default(plan.account, plan.partition)


@handles("aws_kms_key")
def _kms_key(p: Plan, r: _Res) -> None:
    arn = p.identity[(r.address, "arn")]
    draft = p.builder.key(arn, r.span)
    base = r.address.split("[", 1)[0]
    where = f"the key policy of `{arn}`"
    if "policy" not in p.config.get(base, {"policy": None}) and (r.unknown.get("policy") or not r.after.get("policy")):
        has_policy_resource = any(x.type == "aws_kms_key_policy" for x in p.resources.values())
        if not has_policy_resource:
            doc = policy_from_text(_default_key_policy(p), f"{p.file}#{r.address}.policy(default)",
                                   PolicyKind.KEY_POLICY, f"the default key policy of `{r.address}`", p.unknowns,
                                   at=r.span, where=where)
            p.builder.key_policy(draft, doc, r.span)
    else:
        given = p.policy(r, "policy", PolicyKind.KEY_POLICY, where,
                         key_account=None if VALUE_RE.search(p.account) else p.account)
        if given is not None:
            p.builder.key_policy(draft, given, r.span)
    p.unknowns.note_uses(arn, f"key `{r.address}`")
    tags = r.after.get("tags")
    if isinstance(tags, dict):
        draft.tags.update({str(k): str(v) for k, v in tags.items()})
    draft.key_spec = str(r.after.get("customer_master_key_spec") or draft.key_spec)
    draft.key_usage = str(r.after.get("key_usage") or draft.key_usage)
    draft.multi_region = bool(r.after.get("multi_region"))


def _key_draft(p: Plan, ref: str) -> KeyDraft | None:
    key = p.builder._key_of(ref)
    return key


@handles("aws_kms_key_policy")
def _kms_key_policy(p: Plan, r: _Res) -> None:
    ref = p.key_ref(r, "key_id")
    key = _key_draft(p, ref) if ref else None
    if key is None:
        return  # a key this plan does not describe: no input of a decision on the declared keys
    doc = p.policy(r, "policy", PolicyKind.KEY_POLICY, f"the key policy of `{key.arn}`")
    if doc is not None:
        p.builder.key_policy(key, doc, r.span)


@handles("aws_kms_alias")
def _kms_alias(p: Plan, r: _Res) -> None:
    name, target = p.text(r, "name"), p.key_ref(r, "target_key_id")
    if name and target:
        p.builder.aliases.append((name, target, r.span))


@handles("aws_kms_grant")
def _kms_grant(p: Plan, r: _Res) -> None:
    ref = p.key_ref(r, "key_id")
    grantee = p.text(r, "grantee_principal")
    if not ref or not grantee:
        return
    ops = frozenset(o if str(o).startswith("kms:") else f"kms:{o}" for o in (r.after.get("operations") or []))
    equals = subset = None
    for c in r.after.get("constraints") or []:
        if isinstance(c, dict):
            equals = c.get("encryption_context_equals") or equals
            subset = c.get("encryption_context_subset") or subset
    p.builder.grants.append((ref, Grant(grantee, ops, equals, subset, None, p.text(r, "retiring_principal"),
                                        p.text(r, "name"), span=r.span)))


@handles("aws_iam_role", "aws_iam_user")
def _iam_principal(p: Plan, r: _Res) -> None:
    kind = PrincipalKind.ROLE if r.type == "aws_iam_role" else PrincipalKind.USER
    arn = p.identity[(r.address, "arn")]
    draft = p.builder.principal(arn, kind, p.identity[(r.address, "name")], r.span)
    p.unknowns.note_uses(arn, f"principal `{r.address}`")
    where = f"the identity policies of `{arn}`"
    for i, block in enumerate(r.after.get("inline_policy") or []):
        if isinstance(block, dict) and block.get("policy"):
            sub = _Res(f"{r.address}.inline_policy[{i}]", r.module, r.type, r.name, r.mode, block, {}, r.span)
            doc = p.policy(sub, "policy", PolicyKind.IDENTITY, where)
            if doc is not None:
                draft.policies.append(doc)
    arns = p.value(r, "managed_policy_arns")
    if isinstance(arns, list):
        draft.managed += [(str(a), r.span) for a in arns]
    elif isinstance(arns, str):
        draft.managed.append((arns, r.span))
    boundary = p.text(r, "permissions_boundary")
    if boundary:
        draft.boundary, draft.boundary_span = boundary, r.span
    tags = r.after.get("tags")
    if isinstance(tags, dict):
        draft.tags.update({str(k): str(v) for k, v in tags.items()})
    if kind is PrincipalKind.ROLE:
        draft.trust = p.policy(r, "assume_role_policy", PolicyKind.TRUST, f"the trust policy of `{arn}`")


@handles("aws_iam_group")
def _iam_group(p: Plan, r: _Res) -> None:
    p.builder.group(p.account, p.identity[(r.address, "name")], p.identity[(r.address, "arn")], r.span)


@handles("aws_iam_policy")
def _iam_policy(p: Plan, r: _Res) -> None:
    arn = p.identity[(r.address, "arn")]
    doc = p.policy(r, "policy", PolicyKind.IDENTITY, f"managed policy `{arn}`")
    if doc is not None:
        p.builder.managed[arn] = doc


@handles("aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy")
def _inline(p: Plan, r: _Res) -> None:
    holder = {"aws_iam_role_policy": "role", "aws_iam_user_policy": "user", "aws_iam_group_policy": "group"}[r.type]
    target = p.text(r, holder)
    if not target:
        return
    doc = p.policy(r, "policy", PolicyKind.IDENTITY, f"an identity policy of {holder} `{target}`")
    if doc is None:
        return
    if holder == "group":
        p.builder.group(p.account, target, span=r.span).policies.append(doc)
    else:
        p.principal(target, PrincipalKind.ROLE if holder == "role" else PrincipalKind.USER, r.span).policies.append(doc)


@handles("aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment",
         "aws_iam_policy_attachment")
def _attachment(p: Plan, r: _Res) -> None:
    policy_arn = p.text(r, "policy_arn")
    if not policy_arn:
        return
    targets: list[tuple[str, str]] = []
    for field, holder in (("role", "role"), ("user", "user"), ("group", "group"), ("roles", "role"),
                          ("users", "user"), ("groups", "group")):
        v = p.value(r, field)
        for t in (v if isinstance(v, list) else [v] if isinstance(v, str) else []):
            targets.append((holder, str(t)))
    for holder, t in targets:
        if holder == "group":
            p.builder.group(p.account, t, span=r.span).managed.append((policy_arn, r.span))
        else:
            p.principal(t, PrincipalKind.ROLE if holder == "role" else PrincipalKind.USER, r.span).managed.append(
                (policy_arn, r.span))


@handles("aws_iam_user_group_membership", "aws_iam_group_membership")
def _membership(p: Plan, r: _Res) -> None:
    if r.type == "aws_iam_user_group_membership":
        user, groups = p.text(r, "user"), p.value(r, "groups")
        pairs = [(user, str(g)) for g in groups] if user and isinstance(groups, list) else []
    else:
        group, users = p.text(r, "group"), p.value(r, "users")
        pairs = [(str(u), group) for u in users] if group and isinstance(users, list) else []
    for user, group in pairs:
        if user and group:
            p.principal(user, PrincipalKind.USER, r.span).groups.append(group)


def _resource_policy(p: Plan, r: _Res, arn: str, attr: str = "policy") -> None:
    doc = p.policy(r, attr, PolicyKind.RESOURCE, f"the policy of `{arn}`")
    if doc is not None:
        p.builder.resource_policy(arn, p.account, doc, r.span)


@handles("aws_s3_bucket")
def _s3_bucket(p: Plan, r: _Res) -> None:
    p.builder.resource(p.identity[(r.address, "arn")], p.account, r.span)


@handles("aws_s3_bucket_policy")
def _s3_policy(p: Plan, r: _Res) -> None:
    bucket = p.text(r, "bucket")
    if bucket:
        _resource_policy(p, r, f"arn:{p.partition}:s3:::{bucket}")


@handles("aws_s3_bucket_public_access_block")
def _s3_bpa(p: Plan, r: _Res) -> None:
    bucket = p.text(r, "bucket")
    if bucket:
        draft = p.builder.resource(f"arn:{p.partition}:s3:::{bucket}", p.account, r.span)
        draft.block_public_access = BlockPublicAccess(*(bool(r.after.get(f)) for f in (
            "block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets")))


@handles("aws_sqs_queue", "aws_sns_topic")
def _queue_topic(p: Plan, r: _Res) -> None:
    arn = p.identity[(r.address, "arn")]
    if r.after.get("policy") or r.unknown.get("policy"):
        _resource_policy(p, r, arn)


@handles("aws_sqs_queue_policy")
def _sqs_policy(p: Plan, r: _Res) -> None:
    url = p.text(r, "queue_url")
    if not url:
        return
    parts = url.split("/")
    if len(parts) < 5 or not parts[2].startswith("sqs."):
        raise fail(r.span, f"`{url}` is not a queue URL", SHAPE)
    _resource_policy(p, r, f"arn:{p.partition}:sqs:{parts[2].split('.')[1]}:{parts[3]}:{parts[4]}")


@handles("aws_sns_topic_policy")
def _sns_policy(p: Plan, r: _Res) -> None:
    arn = p.text(r, "arn")
    if arn:
        _resource_policy(p, r, arn)


@handles("aws_secretsmanager_secret_policy")
def _secret_policy(p: Plan, r: _Res) -> None:
    arn = p.text(r, "secret_arn")
    if arn:
        _resource_policy(p, r, arn)


@handles("aws_ecr_repository_policy")
def _ecr_policy(p: Plan, r: _Res) -> None:
    repo = p.text(r, "repository")
    if repo:
        _resource_policy(p, r, f"arn:{p.partition}:ecr:{p.region}:{p.account}:repository/{repo}")


@handles("aws_lambda_permission")
def _lambda_permission(p: Plan, r: _Res) -> None:
    function, action, principal = p.text(r, "function_name"), p.text(r, "action"), p.text(r, "principal")
    if not (function and action and principal):
        return
    arn = (function if function.startswith("arn:")
           else f"arn:{p.partition}:lambda:{p.region}:{p.account}:function:{function}")
    stmt: dict[str, object] = {"Sid": "".join(c for c in r.name if c.isalnum()) or "permission", "Effect": "Allow",
                               "Principal": "*" if principal == "*" else {
                                   "AWS": f"arn:{p.partition}:iam::{principal}:root" if principal.isdigit()
                                   else principal} if principal.isdigit() or principal.startswith("arn:")
                               else {"Service": principal},
                               "Action": action, "Resource": arn}
    cond: dict[str, dict[str, str]] = {}
    for attr, op, key in (("source_arn", "ArnLike", "AWS:SourceArn"), ("source_account", "StringEquals",
                          "AWS:SourceAccount"), ("principal_org_id", "StringEquals", "aws:PrincipalOrgID"),
                          ("function_url_auth_type", "StringEquals", "lambda:FunctionUrlAuthType")):
        v = p.text(r, attr)
        if v:
            cond.setdefault(op, {})[key] = v
    if cond:
        stmt["Condition"] = cond
    doc = policy_from_text(json.dumps({"Version": "2012-10-17", "Statement": [stmt]}),
                           f"{p.file}#{r.address}", PolicyKind.RESOURCE, f"`{r.address}`", p.unknowns, at=r.span,
                           where=f"the policy of `{arn}`")
    p.builder.resource(arn, arn.split(":")[4], r.span).statements.append(doc)


@handles("aws_organizations_policy")
def _org_policy(p: Plan, r: _Res) -> None:
    kind = {"SERVICE_CONTROL_POLICY": PolicyKind.SCP, "RESOURCE_CONTROL_POLICY": PolicyKind.RCP}.get(
        str(r.after.get("type") or "SERVICE_CONTROL_POLICY"))
    if kind is None:
        return
    doc = p.policy(r, "content", kind, f"the {kind.value.upper()} `{r.address}`")
    if doc is None:
        return
    pid = p.identity[(r.address, "id")]
    targets = [p.text(x, "target_id") or "" for x in p.resources.values()
               if x.type == "aws_organizations_policy_attachment" and p.text(x, "policy_id") == pid]
    p.builder.org_policies.append(OrgPolicy(doc, kind, [t for t in targets if t], p.account, r.span))


def read_plan(text: str, file: str, builder: Builder, opts: ImportOptions) -> None:
    tree = nodes.from_json(text, file)
    if not is_plan(tree):
        raise fail(tree.span, "not a Terraform plan (`terraform show -json PLAN` has `format_version` and "
                   "`planned_values`)", SHAPE)
    plan = Plan(tree, text, file, builder, opts)
    plan.read()
    raise_all(plan.errors)
