"""CloudFormation templates (JSON, or YAML with short-form tags) -> keys, principals, resources and policies.

Input: the text of one template, its file name, the parameter values the user gave (`--parameter K=V`,
parameter files; the pseudo parameters `AWS::AccountId`, `AWS::Region`, `AWS::Partition`, `AWS::StackName`
among them) and the `Builder` of the environment being assembled (several templates may add to one).
Output: added to the builder: `AWS::KMS::Key` (its `KeyPolicy`, or the default key policy when it has none) and
`AWS::KMS::Alias`; `AWS::IAM::Role` (trust policy, inline and managed policies, boundary), `User`, `Group`,
`Policy`, `ManagedPolicy`, `RolePolicy`, `UserPolicy`, `GroupPolicy`, `UserToGroupAddition`; the resource policies
of S3 buckets, SQS queues, SNS topics, Secrets Manager secrets, Lambda functions (`AWS::Lambda::Permission`, made
into statements as Lambda does), Lambda layer versions, ECR repositories, EFS file systems, DynamoDB tables and S3
directory buckets; S3 Block Public Access; `AWS::Organizations::Policy` SCPs and RCPs with their targets.
Intrinsic functions `Ref`, `Fn::Sub`, `Fn::Join`, `Fn::GetAtt`, `Fn::If` (with `Conditions`: `Fn::Equals`,
`Fn::And`, `Fn::Or`, `Fn::Not`, `Condition`), `Fn::Select`, `Fn::Split`, `Fn::FindInMap`, `Fn::ImportValue`
(resolved when another stack of the same environment exports the name), `Fn::GetAZs`, `Fn::Base64`, and the
pseudo parameters.
Guarantee: a value the template does not fix (a parameter with no value and no default, an import, a
condition on one, an attribute AWS computes, a nested stack's content) is never guessed: it becomes an unknown
of `unknowns.py` with its address (`FILE#/Resources/Logical/Properties/...`); a name AWS generates is a fresh
name proved unable to change a decision. Every other problem is an `InputError` at file:line:col with a stable
code: an unknown function or tag (IAC003), a wrong shape (IAC005), an undefined name (IAC006), a policy AWS would
reject (IAC007), a transform (IAC008); the errors of all resources are reported together. Resource types that
have no access policy are read no further than their name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field

from reasoner.errors import InputError
from reasoner.front.ast import PolicyDocument, PolicyKind
from reasoner.front.importers import nodes
from reasoner.front.importers.build import Builder, PrincipalDraft, ResourceDraft
from reasoner.front.importers.nodes import (
    BAD_TAG,
    PARAMETER,
    REFERENCE,
    SHAPE,
    UNSUPPORTED,
    Mapping,
    Node,
    Number,
    fail,
    pointer,
)
from reasoner.front.importers.policies import policy_from_node, policy_from_text
from reasoner.front.importers.unknowns import VALUE_RE
from reasoner.semantics.environment import BlockPublicAccess, PrincipalKind
from reasoner.source import SourceFile, Span

PSEUDO = ("AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::StackName", "AWS::StackId", "AWS::URLSuffix",
          "AWS::NotificationARNs", "AWS::NoValue")
_FUNCTIONS = ("Ref", "Fn::Sub", "Fn::Join", "Fn::GetAtt", "Fn::If", "Fn::Select", "Fn::Split", "Fn::FindInMap",
              "Fn::ImportValue", "Fn::GetAZs", "Fn::Base64", "Fn::Cidr", "Fn::Equals", "Fn::And", "Fn::Or",
              "Fn::Not", "Fn::Transform", "Fn::Length", "Fn::ToJsonString", "Condition")
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class _NoValue:
    """`Ref: AWS::NoValue`: the property or list item is left out."""


NO_VALUE = _NoValue()


def partition_of(region: str) -> str:
    """The partition of a Region (AWS's naming of Regions)."""
    for prefix, part in (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"),
                         ("us-iso-", "aws-iso"), ("eu-isoe-", "aws-iso-e"), ("us-isof-", "aws-iso-f")):
        if region.startswith(prefix):
            return part
    return "aws"


def url_suffix(partition: str) -> str:
    return {"aws-cn": "amazonaws.com.cn", "aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov"}.get(
        partition, "amazonaws.com")


@dataclass
class Settings:
    """What the user said about a stack: parameter values (template parameters and pseudo parameters)."""

    parameters: dict[str, str] = field(default_factory=dict)
    #: where the values came from, for messages (`--parameter`, a parameter file's name)
    origin: str = "--parameter"


def _safe(name: str, allowed: str = "A-Za-z0-9") -> str:
    return re.sub(f"[^{allowed}]", "", name) or "x"


class Template:
    """One template being read into a builder."""

    def __init__(self, root: Node, text: str, file: str, builder: Builder, *, settings: Settings,
                 read_nested: Callable[[Node, str, dict[str, str]], Node | None] | None = None) -> None:
        self.root = root
        self.file = file
        self.source = SourceFile(file, text)
        self.builder = builder
        self.unknowns = builder.unknowns
        self.settings = settings
        self.read_nested = read_nested
        if not root.is_mapping:
            raise fail(root.span, f"a template is a mapping, not {root.type_name()}", SHAPE)
        self.parameters = root.get("Parameters") or Node(Mapping(), root.span, "/Parameters")
        self.mappings = root.get("Mappings") or Node(Mapping(), root.span, "/Mappings")
        self.conditions = root.get("Conditions") or Node(Mapping(), root.span, "/Conditions")
        resources = root.get("Resources")
        if resources is None or not resources.is_mapping:
            raise fail(root.span, "a template has a `Resources` mapping", SHAPE)
        self.resources = resources
        self._conditions: dict[str, bool | None] = {}
        self._evaluating: set[str] = set()
        self.errors: list[InputError] = []
        for name in settings.parameters:
            if name not in PSEUDO and self.parameters.get(name) is None and "::" not in name:
                pass  # a value for a parameter this template does not have (several stacks share parameters)

    # ---- addresses and unknowns ----

    def address(self, node: Node) -> str:
        return f"{self.file}#{node.pointer}"

    def unknown(self, node: Node, why: str) -> Node:
        return Node(self.unknowns.value(self.address(node), why, node.span), node.span, node.pointer)

    def pseudo(self, name: str, node: Node) -> Node | _NoValue:
        given = self.settings.parameters.get(name)
        if given is not None:
            return Node(given, node.span, node.pointer)
        if name == "AWS::NoValue":
            return NO_VALUE
        if name == "AWS::Partition":
            region = self.settings.parameters.get("AWS::Region")
            if region is not None:
                return Node(partition_of(region), node.span, node.pointer)
        if name == "AWS::URLSuffix":
            part = self.pseudo("AWS::Partition", node)
            if isinstance(part, Node) and not VALUE_RE.search(str(part.value)):
                return Node(url_suffix(str(part.value)), node.span, node.pointer)
        address = f"{self.file}#{name}"
        text = self.unknowns.value(address, f"`{name}` was not given (`--parameter {name}=...`)", node.span)
        return Node(text, node.span, node.pointer)

    def setting(self, name: str) -> str:
        """A pseudo parameter as text (a placeholder when it was not given)."""
        value = self.pseudo(name, self.root)
        assert isinstance(value, Node)
        return str(value.value)

    @property
    def account(self) -> str:
        return self.setting("AWS::AccountId")

    @property
    def region(self) -> str:
        return self.setting("AWS::Region")

    @property
    def partition(self) -> str:
        return self.setting("AWS::Partition")

    # ---- parameters, mappings, conditions ----

    def parameter(self, name: str, node: Node) -> Node:
        decl = self.parameters.get(name)
        assert decl is not None
        ptype = decl.get("Type")
        type_text = str(ptype.value) if ptype is not None and ptype.is_str else "String"
        given = self.settings.parameters.get(name)
        if given is not None:
            allowed = decl.get("AllowedValues")
            if allowed is not None and allowed.is_list and given not in [str(a.value) for a in allowed.elements()]:
                raise fail(decl.span, f"the value `{given}` of parameter `{name}` ({self.settings.origin}) is not "
                           "one of its `AllowedValues`", PARAMETER)
            if type_text.startswith("AWS::SSM::Parameter::Value") is False and "List" in type_text:
                return Node(tuple(Node(v.strip(), node.span, pointer(node.pointer, i))
                                  for i, v in enumerate(given.split(","))), node.span, node.pointer)
            return Node(given, node.span, node.pointer)
        default = decl.get("Default")
        if default is not None and not type_text.startswith("AWS::SSM::Parameter::Value"):
            if "List" in type_text and default.is_str:
                return Node(tuple(Node(v.strip(), default.span, pointer(default.pointer, i))
                                  for i, v in enumerate(str(default.value).split(","))), default.span, node.pointer)
            value = default.value
            return Node(str(value) if isinstance(value, Number) else value, default.span, node.pointer)
        why = (f"parameter `{name}` has no value (`--parameter {name}=...`)" if default is None else
               f"parameter `{name}` is read from SSM at deploy time (`--parameter {name}=...`)")
        return Node(self.unknowns.value(f"{self.file}#/Parameters/{name}", why, decl.span), node.span, node.pointer)

    def condition(self, name: str, at: Node) -> bool | None:
        """The truth of a named condition: True, False, or None (it depends on an unknown)."""
        if name in self._conditions:
            return self._conditions[name]
        decl = self.conditions.get(name)
        if decl is None:
            raise fail(at.span, f"condition `{name}` is not defined in `Conditions`", REFERENCE)
        if name in self._evaluating:
            raise fail(at.span, f"condition `{name}` depends on itself", REFERENCE)
        self._evaluating.add(name)
        try:
            value = self.truth(decl)
        finally:
            self._evaluating.discard(name)
        self._conditions[name] = value
        return value

    def truth(self, node: Node) -> bool | None:
        if node.is_mapping and len(node.value) == 1:  # type: ignore[arg-type]
            (fn, arg), = node.items()
            if fn == "Condition":
                return self.condition(self.text(arg, "a condition name"), node)
            if fn == "Fn::Equals":
                args = self.resolve(arg)
                items = args.elements()
                if len(items) != 2:
                    raise fail(node.span, "`Fn::Equals` takes two values", SHAPE)
                a, b = (json.dumps(i.plain(), sort_keys=True) for i in items)
                if VALUE_RE.search(a + b) or self._generated_in(a + b):
                    return None
                return a == b
            if fn in ("Fn::And", "Fn::Or"):
                values = [self.truth(x) for x in self._args(arg, fn)]
                if fn == "Fn::And":
                    return False if False in values else None if None in values else True
                return True if True in values else None if None in values else False
            if fn == "Fn::Not":
                items = self._args(arg, fn)
                if len(items) != 1:
                    raise fail(node.span, "`Fn::Not` takes one condition", SHAPE)
                v = self.truth(items[0])
                return None if v is None else not v
        value = self.resolve(node)
        if isinstance(value.value, bool):
            return value.value
        if value.is_str and str(value.value).lower() in ("true", "false"):
            return str(value.value).lower() == "true"
        if value.is_str and VALUE_RE.search(str(value.value)):
            return None
        raise fail(node.span, "a condition is `Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not` or `Condition`", SHAPE)

    def _generated_in(self, text: str) -> bool:
        return any(u.kind == "generated" and u.placeholder in text for u in self.unknowns.records)

    def _args(self, arg: Node, fn: str) -> tuple[Node, ...]:
        if not arg.is_list:
            raise fail(arg.span, f"`{fn}` takes a list", SHAPE)
        return arg.elements()

    def text(self, node: Node, what: str) -> str:
        """A value that must be a known string (a logical id, a condition name, a mapping key)."""
        value = self.resolve(node)
        if value.is_str or isinstance(value.value, Number):
            return str(value.value)
        raise fail(node.span, f"{what} must be a string, not {value.type_name()}", SHAPE)

    # ---- intrinsic functions ----

    def resolve(self, node: Node) -> Node:
        """`node` with every intrinsic function evaluated; `AWS::NoValue` members and items left out."""
        out = self._resolve(node)
        if isinstance(out, _NoValue):
            return Node(None, node.span, node.pointer)
        return out

    def _resolve(self, node: Node) -> Node | _NoValue:
        v = node.value
        if isinstance(v, Mapping):
            if len(v) == 1:
                (fn, arg), = v.items()
                if fn == "Ref" or fn.startswith("Fn::"):
                    return self.function(fn, arg, node)
            m = Mapping()
            for k, child in v.items():
                r = self._resolve(child)
                if not isinstance(r, _NoValue):
                    m[k] = r
                    m.key_spans[k] = v.key_spans.get(k, child.span)
            return Node(m, node.span, node.pointer)
        if isinstance(v, tuple):
            items = [self._resolve(x) for x in v]
            return Node(tuple(x for x in items if isinstance(x, Node)), node.span, node.pointer)
        return node

    def function(self, fn: str, arg: Node, node: Node) -> Node | _NoValue:
        if fn == "Ref":
            return self.ref(self.text(arg, "the argument of `Ref`"), node)
        if fn == "Fn::GetAtt":
            if arg.is_str:
                name, _, attr = str(arg.value).partition(".")
            else:
                items = self._args(arg, fn)
                if len(items) != 2:
                    raise fail(arg.span, "`Fn::GetAtt` takes a logical id and an attribute name", SHAPE)
                name, attr = self.text(items[0], "a logical id"), self.text(items[1], "an attribute name")
            return self.get_att(name, attr, node)
        if fn == "Fn::Sub":
            return self.sub(arg, node)
        if fn == "Fn::Join":
            items = self._args(arg, fn)
            if len(items) != 2:
                raise fail(arg.span, "`Fn::Join` takes a delimiter and a list", SHAPE)
            delim = self.text(items[0], "the delimiter of `Fn::Join`")
            values = self.resolve(items[1])
            if values.is_str and VALUE_RE.fullmatch(str(values.value)):
                return self.unknown(node, f"`Fn::Join` of an unknown list ({values.value})")
            if not values.is_list:
                raise fail(items[1].span, f"`Fn::Join` joins a list, not {values.type_name()}", SHAPE)
            parts = []
            for x in values.elements():
                if not (x.is_str or isinstance(x.value, Number | bool)):
                    raise fail(x.span, f"`Fn::Join` joins strings, not {x.type_name()}", SHAPE)
                parts.append(str(x.value).lower() if isinstance(x.value, bool) else str(x.value))
            return Node(delim.join(parts), node.span, node.pointer)
        if fn == "Fn::Select":
            items = self._args(arg, fn)
            if len(items) != 2:
                raise fail(arg.span, "`Fn::Select` takes an index and a list", SHAPE)
            index_node = self.resolve(items[0])
            values = self.resolve(items[1])
            if VALUE_RE.search(str(index_node.value)) or (values.is_str and VALUE_RE.search(str(values.value))):
                return self.unknown(node, "`Fn::Select` on an unknown index or list")
            try:
                index = int(str(index_node.value))
            except ValueError:
                raise fail(items[0].span, f"the index of `Fn::Select` must be a number, not `{index_node.value}`",
                           SHAPE) from None
            if not values.is_list:
                raise fail(items[1].span, f"`Fn::Select` selects from a list, not {values.type_name()}", SHAPE)
            if not 0 <= index < len(values.elements()):
                raise fail(items[0].span, f"index {index} is outside the list of {len(values.elements())}", SHAPE)
            return values.elements()[index]
        if fn == "Fn::Split":
            items = self._args(arg, fn)
            if len(items) != 2:
                raise fail(arg.span, "`Fn::Split` takes a delimiter and a string", SHAPE)
            delim = self.text(items[0], "the delimiter of `Fn::Split`")
            value = self.resolve(items[1])
            if not value.is_str:
                raise fail(items[1].span, f"`Fn::Split` splits a string, not {value.type_name()}", SHAPE)
            text = str(value.value)
            if VALUE_RE.search(text) or (self._generated_in(text) and delim not in (":", "/")):
                return self.unknown(node, f"`Fn::Split` of a string with an unknown part (`{text}`)")
            return Node(tuple(Node(p, node.span, pointer(node.pointer, i)) for i, p in enumerate(text.split(delim))),
                        node.span, node.pointer)
        if fn == "Fn::FindInMap":
            items = self._args(arg, fn)
            if len(items) not in (3, 4):
                raise fail(arg.span, "`Fn::FindInMap` takes a map name and two keys", SHAPE)
            names = [self.text(x, "a key of `Fn::FindInMap`") for x in items[:3]]
            if any(VALUE_RE.search(n) for n in names):
                return self.unknown(node, f"`Fn::FindInMap` with an unknown key ({', '.join(names)})")
            found: Node | None = self.mappings
            for n, item in zip(names, items, strict=False):
                found = found.get(n) if found is not None else None
                if found is None:
                    if len(items) == 4:  # AWS::LanguageExtensions' DefaultValue
                        return self.resolve(items[3])
                    raise fail(item.span, f"`{n}` is not in mapping `{names[0]}`" if item is not items[0] else
                               f"mapping `{n}` is not defined in `Mappings`", REFERENCE)
            assert found is not None
            return self.resolve(found)
        if fn == "Fn::If":
            items = self._args(arg, fn)
            if len(items) != 3:
                raise fail(arg.span, "`Fn::If` takes a condition name and two values", SHAPE)
            truth = self.condition(self.text(items[0], "a condition name"), items[0])
            if truth is None:
                return self.unknown(node, f"`Fn::If` on condition `{items[0].value}`, which depends on an unknown")
            return self._resolve(items[1] if truth else items[2])
        if fn == "Fn::ImportValue":
            name = self.text(arg, "the name of `Fn::ImportValue`")
            if name in self.builder.exports:
                return Node(self.builder.exports[name], node.span, node.pointer)
            return self.unknown(node, f"`Fn::ImportValue` of `{name}`, exported by another stack")
        if fn == "Fn::GetAZs":
            return self.unknown(node, "`Fn::GetAZs`: the Availability Zones are known at deploy time")
        if fn == "Fn::Cidr":
            return self.unknown(node, "`Fn::Cidr` is not evaluated")
        if fn == "Fn::Base64":
            inner = self.resolve(arg)
            return Node(str(inner.value), node.span, node.pointer) if inner.is_str else inner
        if fn == "Fn::Transform":
            raise fail(node.span, "`Fn::Transform` (a macro) is not expanded", UNSUPPORTED,
                       help="give the processed template (`aws cloudformation get-template --template-stage "
                            "Processed`)")
        if fn == "Fn::ToJsonString":
            inner = self.resolve(arg)
            return Node(json.dumps(inner.plain()), node.span, node.pointer)
        if fn == "Fn::Length":
            inner = self.resolve(arg)
            if inner.is_list:
                return Node(Number(str(len(inner.elements()))), node.span, node.pointer)
            return self.unknown(node, "`Fn::Length` of an unknown list")
        close = [f for f in _FUNCTIONS if f.lower() == fn.lower()]
        raise fail(node.span, f"unknown intrinsic function `{fn}`", BAD_TAG,
                   help=f"did you mean `{close[0]}`?" if close else "functions: " + ", ".join(_FUNCTIONS[:10]))

    def ref(self, name: str, node: Node) -> Node | _NoValue:
        if name in PSEUDO:
            return self.pseudo(name, node)
        if self.parameters.get(name) is not None:
            return self.parameter(name, node)
        res = self.resources.get(name)
        if res is None:
            raise fail(node.span, f"`Ref` to `{name}`, which is neither a parameter nor a resource", REFERENCE)
        return Node(self.attribute(name, res, "Ref"), node.span, node.pointer)

    def get_att(self, name: str, attr: str, node: Node) -> Node:
        res = self.resources.get(name)
        if res is None:
            raise fail(node.span, f"`Fn::GetAtt` of `{name}`, which is not a resource", REFERENCE)
        return Node(self.attribute(name, res, attr), node.span, node.pointer)

    def sub(self, arg: Node, node: Node) -> Node:
        variables: dict[str, Node] = {}
        if arg.is_list:
            items = arg.elements()
            if len(items) != 2 or not items[1].is_mapping:
                raise fail(arg.span, "`Fn::Sub` takes a string, or a string and a mapping of variables", SHAPE)
            template_node, var_node = items
            variables = dict(var_node.items())
        else:
            template_node = arg
        if not template_node.is_str:
            raise fail(template_node.span, f"`Fn::Sub` takes a string, not {template_node.type_name()}", SHAPE)
        template = str(template_node.value)

        def one(m: re.Match[str]) -> str:
            name = m.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            if name in variables:
                value = self.resolve(variables[name])
            elif "." in name and self.resources.get(name.split(".", 1)[0]) is not None and name not in PSEUDO:
                res, attr = name.split(".", 1)
                value = self.get_att(res, attr, node)
            else:
                ref = self.ref(name, node) if (name in PSEUDO or self.parameters.get(name) is not None or
                                               self.resources.get(name) is not None) else None
                if ref is None:
                    raise fail(template_node.span, f"`${{{name}}}` in `Fn::Sub` names no parameter, resource or "
                               "variable", REFERENCE, help="write `${!Name}` for a literal `${Name}` (a policy "
                                                           "variable)")
                if isinstance(ref, _NoValue):
                    return ""
                value = ref
            if value.is_list:
                if value.elements() and all(x.is_str for x in value.elements()):
                    return ",".join(str(x.value) for x in value.elements())
                raise fail(template_node.span, f"`${{{name}}}` in `Fn::Sub` is a list", SHAPE)
            if value.is_mapping or value.value is None:
                raise fail(template_node.span, f"`${{{name}}}` in `Fn::Sub` is {value.type_name()}", SHAPE)
            return str(value.value).lower() if isinstance(value.value, bool) else str(value.value)

        return Node(_SUB_VARIABLE.sub(one, template), node.span, node.pointer)

    # ---- the values AWS gives a resource (Ref, Fn::GetAtt) ----

    def attribute(self, name: str, res: Node, attr: str) -> str:
        rtype = self.type_of(res)
        props = res.get("Properties")
        here = f"{self.file}#/Resources/{name}"

        def prop(key: str) -> str | None:
            p = props.get(key) if props is not None else None
            if p is None:
                return None
            value = self.resolve(p)
            if isinstance(value.value, bool):
                return str(value.value).lower()
            return str(value.value) if value.is_str or isinstance(value.value, Number) else None

        acct, region, part = self.account, self.region, self.partition
        if rtype == "AWS::KMS::Key":
            key_id = self.key_id(name, res)
            arn = f"arn:{part}:kms:{region}:{acct}:key/{key_id}"
            if attr in ("Ref", "KeyId"):
                return key_id
            if attr == "Arn":
                return arn
        elif rtype == "AWS::KMS::Alias" and attr == "Ref":
            return prop("AliasName") or self._unknown_attr(here, attr, res)
        elif rtype in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::ManagedPolicy"):
            name_text, path = self.iam_name(name, res, rtype)
            kind = {"AWS::IAM::Role": "role", "AWS::IAM::User": "user", "AWS::IAM::Group": "group",
                    "AWS::IAM::ManagedPolicy": "policy"}[rtype]
            arn = f"arn:{part}:iam::{acct}:{kind}{path}{name_text}"
            if attr == "Arn" or (attr == "Ref" and kind == "policy") or (attr == "PolicyArn" and kind == "policy"):
                return arn
            if attr in ("Ref", "RoleName", "GroupName", "UserName", "PolicyName"):
                return name_text
        elif rtype == "AWS::IAM::InstanceProfile" and attr == "Ref":
            return prop("InstanceProfileName") or self._unknown_attr(here, attr, res)
        elif rtype == "AWS::S3::Bucket":
            bucket = self.bucket_name(name, res)
            if attr == "Ref":
                return bucket
            if attr == "Arn":
                return f"arn:{part}:s3:::{bucket}"
        elif rtype == "AWS::SQS::Queue":
            fifo = ".fifo" if prop("FifoQueue") == "true" else ""
            queue = prop("QueueName") or self.fresh(name, "QueueName", f"{_safe(name)}.unknown{fifo}", "queue name",
                    arn_of=lambda q: f"arn:{part}:sqs:{region}:{acct}:{q}", res=res)
            if attr in ("Ref", "QueueUrl"):
                return f"https://sqs.{region}.{url_suffix(part)}/{acct}/{queue}"
            if attr == "Arn":
                return f"arn:{part}:sqs:{region}:{acct}:{queue}"
            if attr == "QueueName":
                return queue
        elif rtype == "AWS::SNS::Topic":
            topic = prop("TopicName") or self.fresh(name, "TopicName", f"{_safe(name)}.unknown", "topic name",
                    arn_of=lambda x: f"arn:{part}:sns:{region}:{acct}:{x}", res=res)
            if attr in ("Ref", "TopicArn"):
                return f"arn:{part}:sns:{region}:{acct}:{topic}"
            if attr == "TopicName":
                return topic
        elif rtype == "AWS::Lambda::Function":
            fn = prop("FunctionName") or self.fresh(name, "FunctionName", f"{_safe(name)}.unknown", "function name",
                    arn_of=lambda x: f"arn:{part}:lambda:{region}:{acct}:function:{x}", res=res)
            if attr == "Ref":
                return fn
            if attr == "Arn":
                return f"arn:{part}:lambda:{region}:{acct}:function:{fn}"
        elif rtype == "AWS::SecretsManager::Secret":
            secret = prop("Name") or f"{_safe(name)}.unknown"
            suffixed = self.fresh(name, "Id", f"{secret}-unknown", "random suffix of the secret ARN",
                    arn_of=lambda x: f"arn:{part}:secretsmanager:{region}:{acct}:secret:{x}", res=res)
            if attr in ("Ref", "Id"):
                return f"arn:{part}:secretsmanager:{region}:{acct}:secret:{suffixed}"
        elif rtype == "AWS::ECR::Repository":
            repo_arn = f"arn:{part}:ecr:{region}:{acct}:repository/"
            repo = prop("RepositoryName") or self.fresh(name, "RepositoryName", f"{_safe(name).lower()}..unknown",
                                                        "repository name", arn_of=lambda x: repo_arn + x, res=res)
            if attr == "Ref":
                return repo
            if attr == "Arn":
                return f"arn:{part}:ecr:{region}:{acct}:repository/{repo}"
        elif rtype == "AWS::DynamoDB::Table":
            table = prop("TableName") or self.fresh(name, "TableName", f"{_safe(name)}@unknown", "table name",
                    arn_of=lambda x: f"arn:{part}:dynamodb:{region}:{acct}:table/{x}", res=res)
            if attr == "Ref":
                return table
            if attr == "Arn":
                return f"arn:{part}:dynamodb:{region}:{acct}:table/{table}"
        elif rtype == "AWS::Organizations::OrganizationalUnit" and attr in ("Ref", "Id"):
            return self.fresh(name, "Id", f"ou-UNKNOWN-{_safe(name)}", "OU id", arn_of=None, res=res)
        elif rtype == "AWS::Organizations::Policy" and attr in ("Ref", "Id"):
            return self.fresh(name, "Id", f"p-UNKNOWN-{_safe(name)}", "policy id", arn_of=None, res=res)
        return self._unknown_attr(here, attr, res)

    def fresh(self, name: str, field_name: str, text: str, what: str, *, arn_of: Callable[[str], str] | None,
              res: Node) -> str:
        """A name AWS generates for resource `name` (see `unknowns.py`), unless the user pinned it with
        `--parameter LOGICAL.FIELD=VALUE` (`AppKey.KeyId=1234abcd-...`: the id of the deployed resource)."""
        pinned = self.settings.parameters.get(f"{name}.{field_name}")
        if pinned is not None:
            return pinned
        return self.unknowns.generated(f"{self.file}#/Resources/{name}.{field_name}", text,
                                       f"the {what} AWS generates for `{name}`", arn_of, res.span)

    def _unknown_attr(self, here: str, attr: str, res: Node) -> str:
        what = "`Ref`" if attr == "Ref" else f"attribute `{attr}`"
        return self.unknowns.value(f"{here}.{attr}", f"{what} of `{here.rsplit('/', 1)[-1]}` "
                                   f"({self.type_of(res)}) is known only after deploy", res.span)

    def type_of(self, res: Node) -> str:
        t = res.get("Type")
        return str(t.value) if t is not None and t.is_str else ""

    def key_id(self, name: str, res: Node) -> str:
        prefix = f"arn:{self.partition}:kms:{self.region}:{self.account}:key/"
        return self.fresh(name, "KeyId", f"unknown-{_safe(name)}", "key id", arn_of=lambda x: prefix + x, res=res)

    def iam_name(self, name: str, res: Node, rtype: str) -> tuple[str, str]:
        props = res.get("Properties")
        field_name = {"AWS::IAM::Role": "RoleName", "AWS::IAM::User": "UserName", "AWS::IAM::Group": "GroupName",
                      "AWS::IAM::ManagedPolicy": "ManagedPolicyName"}[rtype]
        given = props.get(field_name) if props is not None else None
        path_node = props.get("Path") if props is not None else None
        path = str(self.resolve(path_node).value) if path_node is not None else "/"
        if given is not None:
            value = self.resolve(given)
            if value.is_str:
                return str(value.value), path
        kind = {"AWS::IAM::Role": "role", "AWS::IAM::User": "user", "AWS::IAM::Group": "group",
                "AWS::IAM::ManagedPolicy": "policy"}[rtype]
        prefix = f"arn:{self.partition}:iam::{self.account}:{kind}{path}"
        return self.fresh(name, field_name, f"{_safe(name)[:50]}@unknown", "name",
                arn_of=lambda x: prefix + x, res=res), path

    def bucket_name(self, name: str, res: Node) -> str:
        props = res.get("Properties")
        given = props.get("BucketName") if props is not None else None
        if given is not None:
            value = self.resolve(given)
            if value.is_str:
                return str(value.value)
        prefix = f"arn:{self.partition}:s3:::"
        return self.fresh(name, "BucketName", f"unknown..{_safe(name).lower()}", "bucket name",
                arn_of=lambda x: prefix + x, res=res)

    # ---- reading the resources ----

    def read(self) -> None:
        transform = self.root.get("Transform")
        if transform is not None:
            raise fail(transform.span, "templates with a `Transform` (SAM, macros) are not expanded", UNSUPPORTED,
                       help="give the processed template (`sam build`, or `aws cloudformation get-template "
                            "--template-stage Processed`)")
        for name, res in self.resources.items():
            try:
                self.resource(name, res)
            except InputError as exc:
                self.errors.append(exc)
        outputs = self.root.get("Outputs")
        for _, out in outputs.items() if outputs is not None else ():
            export = out.get("Export")
            value = out.get("Value")
            if export is None or value is None:
                continue
            try:
                export_name = self.text(export.get("Name") or export, "an export name")
                resolved = self.resolve(value)
            except InputError:
                continue  # an output that cannot be evaluated only matters where another stack imports it
            if resolved.is_str and not VALUE_RE.search(export_name):
                self.builder.exports[export_name] = str(resolved.value)

    def resource(self, name: str, res: Node) -> None:
        if not res.is_mapping:
            raise fail(res.span, f"resource `{name}` must be a mapping, not {res.type_name()}", SHAPE)
        rtype = self.type_of(res)
        handler = _HANDLERS.get(rtype)
        if handler is None:
            if rtype == "AWS::CloudFormation::Stack":
                self.nested(name, res)
            return
        cond = res.get("Condition")
        if cond is not None:
            truth = self.condition(self.text(cond, "a condition name"), cond)
            if truth is False:
                return
            if truth is None:
                text = self.unknowns.value(f"{self.address(res)}/Condition", f"whether `{name}` is created depends "
                                           f"on condition `{cond.value}`", cond.span)
                self.unknowns.used(text, f"the existence of `{name}`")
        props = res.get("Properties") or Node(Mapping(), res.span, pointer(res.pointer, "Properties"))
        if not props.is_mapping:
            raise fail(props.span, "`Properties` must be a mapping", SHAPE)
        handler(self, name, res, props)

    def nested(self, name: str, res: Node) -> None:
        """A nested stack: read through `read_nested` (a CDK assembly knows its template) with the parameters the
        parent passes and the parent's account, Region and partition; else its content is an unknown."""
        child = None
        if self.read_nested is not None:
            params = {k: v for k, v in self.settings.parameters.items()
                      if k.startswith("AWS::") and k != "AWS::StackName"}
            props = res.get("Properties")
            given = props.get("Parameters") if props is not None else None
            for k, v in self.resolve(given).items() if given is not None else ():
                params[k] = str(v.value) if not (v.is_list or v.is_mapping) else ",".join(
                    str(x.value) for x in v.elements())
            child = self.read_nested(res, name, params)
        if child is None:
            text = self.unknowns.value(self.address(res), f"the content of nested stack `{name}` is not read "
                                       "(its template is elsewhere)", res.span)
            self.unknowns.used(text, f"nested stack `{name}`")

    def policy(self, node: Node, kind: PolicyKind, what: str, where: str,
               key_account: str | None = None) -> PolicyDocument:
        value = self.resolve(node)
        if value.is_str:  # a policy written as a JSON string
            return policy_from_text(str(value.value), f"{self.file}#{node.pointer}", kind, what, self.unknowns,
                                    at=node.span, key_account=key_account, where=where)
        return policy_from_node(value, kind, what, self.unknowns, key_account=key_account, source=self.source,
                                where=where)

    def strings(self, props: Node, key: str) -> list[tuple[str, Span]]:
        node = props.get(key)
        if node is None:
            return []
        value = self.resolve(node)
        items = value.elements() if value.is_list else (value,)
        out = []
        for x in items:
            if not (x.is_str or isinstance(x.value, Number)):
                raise fail(x.span, f"each entry of `{key}` must be a string, not {x.type_name()}", SHAPE)
            out.append((str(x.value), x.span))
        return out

    def string(self, props: Node, key: str, required: bool = True) -> str | None:
        node = props.get(key)
        if node is None:
            if required:
                raise fail(props.span, f"`{key}` is missing", SHAPE)
            return None
        value = self.resolve(node)
        if not (value.is_str or isinstance(value.value, Number | bool)):
            raise fail(node.span, f"`{key}` must be a string, not {value.type_name()}", SHAPE)
        return str(value.value).lower() if isinstance(value.value, bool) else str(value.value)

    def tags(self, props: Node) -> dict[str, str]:
        node = props.get("Tags")
        if node is None:
            return {}
        value = self.resolve(node)
        out: dict[str, str] = {}
        if value.is_list:
            for t in value.elements():
                k, v = t.get("Key"), t.get("Value")
                if k is not None and v is not None:
                    out[str(k.value)] = str(v.value)
        elif value.is_mapping:
            out = {k: str(v.value) for k, v in value.items()}
        return out


# ---- resource handlers -----------------------------------------------------------------------------------

Handler = Callable[[Template, str, Node, Node], None]
_HANDLERS: dict[str, Handler] = {}


def handles(*types: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for t in types:
            _HANDLERS[t] = fn
        return fn
    return register


def _default_key_policy(account: str, partition: str) -> str:
    """The key policy AWS KMS gives a key created without one (KMS guide, "Default key policy")."""
    return json.dumps({"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}]})


@handles("AWS::KMS::Key")
def _kms_key(t: Template, name: str, res: Node, props: Node) -> None:
    arn = t.attribute(name, res, "Arn")
    draft = t.builder.key(arn, res.span)
    where = f"the key policy of `{name}`"
    node = props.get("KeyPolicy")
    account = t.account
    if node is None:
        doc = policy_from_text(_default_key_policy(account, t.partition), f"{t.file}#/Resources/{name}(default)",
                               PolicyKind.KEY_POLICY, f"the default key policy of `{name}`", t.unknowns, at=res.span,
                               where=where)
    else:
        doc = t.policy(node, PolicyKind.KEY_POLICY, f"the key policy of `{name}`", where,
                       key_account=None if VALUE_RE.search(account) else account)
    t.builder.key_policy(draft, doc, res.span)
    t.unknowns.note_uses(arn, f"key `{name}`")
    draft.tags.update(t.tags(props))
    draft.key_spec = t.string(props, "KeySpec", False) or draft.key_spec
    draft.key_usage = t.string(props, "KeyUsage", False) or draft.key_usage
    draft.origin = t.string(props, "Origin", False) or draft.origin
    draft.multi_region = (t.string(props, "MultiRegion", False) or "false") == "true"


@handles("AWS::KMS::Alias")
def _kms_alias(t: Template, name: str, res: Node, props: Node) -> None:
    alias = t.string(props, "AliasName")
    target = t.string(props, "TargetKeyId")
    assert alias is not None and target is not None
    t.builder.aliases.append((alias, target, res.span))


_IAM_KIND = {"AWS::IAM::Role": PrincipalKind.ROLE, "AWS::IAM::User": PrincipalKind.USER}


@handles("AWS::IAM::Role", "AWS::IAM::User")
def _iam_principal(t: Template, name: str, res: Node, props: Node) -> None:
    rtype = t.type_of(res)
    arn = t.attribute(name, res, "Arn")
    iam_name = t.attribute(name, res, "Ref")
    draft = t.builder.principal(arn, _IAM_KIND[rtype], iam_name, res.span)
    t.unknowns.note_uses(arn, f"principal `{name}`")
    _inline_policies(t, props, draft.policies, arn)
    draft.managed += [(a, s) for a, s in t.strings(props, "ManagedPolicyArns")]
    boundary = t.string(props, "PermissionsBoundary", False)
    if boundary is not None:
        draft.boundary = boundary
        draft.boundary_span = props.get("PermissionsBoundary").span  # type: ignore[union-attr]
    draft.tags.update(t.tags(props))
    if rtype == "AWS::IAM::Role":
        node = props.get("AssumeRolePolicyDocument")
        if node is None:
            raise fail(props.span, f"role `{name}` has no `AssumeRolePolicyDocument`", SHAPE)
        draft.trust = t.policy(node, PolicyKind.TRUST, f"the trust policy of `{name}`", f"the trust policy of `{arn}`")
    else:
        draft.groups += [g for g, _ in t.strings(props, "Groups")]


@handles("AWS::IAM::Group")
def _iam_group(t: Template, name: str, res: Node, props: Node) -> None:
    group = t.attribute(name, res, "Ref")
    draft = t.builder.group(t.account, group, t.attribute(name, res, "Arn"), res.span)
    _inline_policies(t, props, draft.policies, f"group `{group}`")
    draft.managed += [(a, s) for a, s in t.strings(props, "ManagedPolicyArns")]


def _inline_policies(t: Template, props: Node, out: list[PolicyDocument], holder: str) -> None:
    node = props.get("Policies")
    if node is None:
        return
    value = t.resolve(node)
    for i, item in enumerate(value.elements()):
        doc = item.get("PolicyDocument")
        if doc is None:
            raise fail(item.span, f"`Policies[{i}]` has no `PolicyDocument`", SHAPE)
        pname = item.get("PolicyName")
        out.append(t.policy(doc, PolicyKind.IDENTITY, f"policy `{pname.value if pname else i}`",
                            f"the identity policies of {holder}"))


def _attach(t: Template, props: Node, doc: PolicyDocument | None, *, managed_arn: str | None = None) -> None:
    """Attach an identity policy (or a managed policy by ARN) to the roles, users and groups it names."""
    acct, _part = t.account, t.partition
    for key, single in (("Roles", None), ("Users", None), ("Groups", None), ("RoleName", "Roles"),
                        ("UserName", "Users"), ("GroupName", "Groups")):
        kind = single or key
        for target, span in t.strings(props, key):
            if kind == "Groups":
                g = t.builder.group(acct, target, span=span)
                if managed_arn is not None:
                    g.managed.append((managed_arn, span))
                elif doc is not None:
                    g.policies.append(doc)
                continue
            principal = _principal_named(t, target, kind, span)
            if principal is None:
                continue
            if managed_arn is not None:
                principal.managed.append((managed_arn, span))
            elif doc is not None:
                principal.policies.append(doc)


def _principal_named(t: Template, target: str, kind: str, span: Span) -> PrincipalDraft:
    """The role or user of this account called `target` (a name, or an ARN)."""
    if target.startswith("arn:"):
        arn = target
        name = target.rsplit("/", 1)[-1]
    else:
        name = target
        found = [p for p in t.builder.principals.values() if p.name == name
                 and p.kind is (PrincipalKind.ROLE if kind == "Roles" else PrincipalKind.USER)]
        if found:
            return found[0]
        arn = f"arn:{t.partition}:iam::{t.account}:{'role' if kind == 'Roles' else 'user'}/{name}"
    return t.builder.principal(arn, PrincipalKind.ROLE if kind == "Roles" else PrincipalKind.USER, name, span)


@handles("AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy")
def _iam_policy(t: Template, name: str, res: Node, props: Node) -> None:
    node = props.get("PolicyDocument")
    if node is None:
        raise fail(props.span, f"`{name}` has no `PolicyDocument`", SHAPE)
    doc = t.policy(node, PolicyKind.IDENTITY, f"policy `{name}`", f"the identity policy `{name}`")
    _attach(t, props, doc)


@handles("AWS::IAM::ManagedPolicy")
def _managed_policy(t: Template, name: str, res: Node, props: Node) -> None:
    node = props.get("PolicyDocument")
    if node is None:
        raise fail(props.span, f"`{name}` has no `PolicyDocument`", SHAPE)
    arn = t.attribute(name, res, "Ref")
    doc = t.policy(node, PolicyKind.IDENTITY, f"managed policy `{name}`", f"managed policy `{arn}`")
    t.builder.managed[arn] = doc
    _attach(t, props, doc, managed_arn=arn)


@handles("AWS::IAM::UserToGroupAddition")
def _group_addition(t: Template, name: str, res: Node, props: Node) -> None:
    group = t.string(props, "GroupName")
    assert group is not None
    for user, span in t.strings(props, "Users"):
        p = _principal_named(t, user, "Users", span)
        if p is not None:
            p.groups.append(group)


def _resource_policy(t: Template, name: str, props: Node, arn: str, *, key: str = "PolicyDocument",
                     kind: PolicyKind = PolicyKind.RESOURCE) -> ResourceDraft:
    node = props.get(key)
    if node is None:
        raise fail(props.span, f"`{name}` has no `{key}`", SHAPE)
    doc = t.policy(node, kind, f"the policy of `{name}`", f"the policy of `{arn}`")
    t.builder.resource_policy(arn, t.account, doc, node.span)
    return t.builder.resources[arn]


@handles("AWS::S3::Bucket")
def _s3_bucket(t: Template, name: str, res: Node, props: Node) -> None:
    arn = t.attribute(name, res, "Arn")
    draft = t.builder.resource(arn, t.account, res.span)
    draft.tags.update(t.tags(props))
    bpa = props.get("PublicAccessBlockConfiguration")
    if bpa is not None:
        v = t.resolve(bpa)
        flags = {k: str(x.value).lower() == "true" for k, x in v.items()}
        draft.block_public_access = BlockPublicAccess(flags.get("BlockPublicAcls", False),
                                                      flags.get("IgnorePublicAcls", False),
                                                      flags.get("BlockPublicPolicy", False),
                                                      flags.get("RestrictPublicBuckets", False))


@handles("AWS::S3::BucketPolicy")
def _s3_bucket_policy(t: Template, name: str, res: Node, props: Node) -> None:
    bucket = t.string(props, "Bucket")
    _resource_policy(t, name, props, f"arn:{t.partition}:s3:::{bucket}")


@handles("AWS::S3Express::BucketPolicy")
def _s3express_policy(t: Template, name: str, res: Node, props: Node) -> None:
    bucket = t.string(props, "Bucket")
    _resource_policy(t, name, props, f"arn:{t.partition}:s3express:{t.region}:{t.account}:bucket/{bucket}")


@handles("AWS::SQS::QueuePolicy")
def _sqs_policy(t: Template, name: str, res: Node, props: Node) -> None:
    for url, span in t.strings(props, "Queues"):
        parts = url.split("/")
        if len(parts) < 5 or not parts[2].startswith("sqs."):
            raise fail(span, f"`{url}` is not a queue URL (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`)", SHAPE)
        region = parts[2].split(".")[1]
        _resource_policy(t, name, props, f"arn:{t.partition}:sqs:{region}:{parts[3]}:{parts[4]}")


@handles("AWS::SNS::TopicPolicy")
def _sns_policy(t: Template, name: str, res: Node, props: Node) -> None:
    for arn, _ in t.strings(props, "Topics"):
        _resource_policy(t, name, props, arn)


@handles("AWS::SecretsManager::ResourcePolicy")
def _secret_policy(t: Template, name: str, res: Node, props: Node) -> None:
    secret = t.string(props, "SecretId")
    assert secret is not None
    if not secret.startswith("arn:"):
        secret = t.unknowns.value(f"{t.address(res)}/Properties/SecretId", f"the ARN of secret `{secret}` "
                                  "(AWS adds a random suffix to the name)", res.span)
    _resource_policy(t, name, props, secret, key="ResourcePolicy")


@handles("AWS::ECR::Repository")
def _ecr(t: Template, name: str, res: Node, props: Node) -> None:
    if props.get("RepositoryPolicyText") is not None:
        _resource_policy(t, name, props, t.attribute(name, res, "Arn"), key="RepositoryPolicyText")


@handles("AWS::DynamoDB::Table")
def _dynamodb(t: Template, name: str, res: Node, props: Node) -> None:
    node = props.get("ResourcePolicy")
    if node is not None:
        inner = t.resolve(node)
        _resource_policy(t, name, inner, t.attribute(name, res, "Arn"))


@handles("AWS::EFS::FileSystem")
def _efs(t: Template, name: str, res: Node, props: Node) -> None:
    if props.get("FileSystemPolicy") is None:
        return
    prefix = f"arn:{t.partition}:elasticfilesystem:{t.region}:{t.account}:file-system/"
    arn = prefix + t.fresh(name, "FileSystemId", f"fs-unknown{_safe(name)}", "file system id",
            arn_of=lambda x: prefix + x, res=res)
    _resource_policy(t, name, props, arn, key="FileSystemPolicy")


def _lambda_arn(t: Template, function: str) -> str:
    """The ARN of a function named by name, partial ARN (`ACCOUNT:function:NAME`) or ARN."""
    if function.startswith("arn:"):
        return function
    if ":function:" in function:
        return f"arn:{t.partition}:lambda:{t.region}:{function}"
    return f"arn:{t.partition}:lambda:{t.region}:{t.account}:function:{function}"


@handles("AWS::Lambda::Permission")
def _lambda_permission(t: Template, name: str, res: Node, props: Node) -> None:
    """The statement Lambda's AddPermission writes for these properties (Lambda developer guide: principal as
    `Service` or `AWS`, `AWS:SourceArn` under `ArnLike`, `AWS:SourceAccount` and `aws:PrincipalOrgID` under
    `StringEquals`, `lambda:FunctionUrlAuthType` for function URLs)."""
    function = t.string(props, "FunctionName")
    action = t.string(props, "Action")
    principal = t.string(props, "Principal")
    assert function is not None and action is not None and principal is not None
    arn = _lambda_arn(t, function)
    span = res.span

    def n(value: object) -> Node:
        if isinstance(value, dict):
            return Node(Mapping([(k, n(v)) for k, v in value.items()]), span, res.pointer)
        return Node(value, span, res.pointer)

    if principal == "*":
        principal_value: object = "*"
    elif principal.isdigit() or principal.startswith("arn:"):
        principal_value = {"AWS": f"arn:{t.partition}:iam::{principal}:root" if principal.isdigit() else principal}
    else:
        principal_value = {"Service": principal}
    condition: dict[str, dict[str, str]] = {}
    for key, op, cond_key in (("SourceArn", "ArnLike", "AWS:SourceArn"),
                              ("SourceAccount", "StringEquals", "AWS:SourceAccount"),
                              ("PrincipalOrgID", "StringEquals", "aws:PrincipalOrgID"),
                              ("FunctionUrlAuthType", "StringEquals", "lambda:FunctionUrlAuthType")):
        value = t.string(props, key, False)
        if value is not None:
            condition.setdefault(op, {})[cond_key] = value
    statement: dict[str, object] = {"Sid": _safe(name), "Effect": "Allow", "Principal": principal_value,
                                    "Action": action, "Resource": arn}
    if condition:
        statement["Condition"] = condition
    tree = Node(Mapping([("Version", n("2012-10-17")), ("Statement", Node((n(statement),), span, res.pointer))]),
                span, res.pointer)
    doc = policy_from_node(tree, PolicyKind.RESOURCE, f"the permission `{name}`", t.unknowns, source=t.source,
                           where=f"the policy of `{arn}`")
    draft = t.builder.resource(arn, arn.split(":")[4], span)
    draft.statements.append(doc)


@handles("AWS::Lambda::LayerVersionPermission")
def _layer_permission(t: Template, name: str, res: Node, props: Node) -> None:
    layer = t.string(props, "LayerVersionArn")
    action = t.string(props, "Action")
    principal = t.string(props, "Principal")
    assert layer is not None and action is not None and principal is not None
    span = res.span
    stmt: dict[str, object] = {"Sid": _safe(name), "Effect": "Allow",
                               "Principal": "*" if principal == "*" else {
                                   "AWS": f"arn:{t.partition}:iam::{principal}:root" if principal.isdigit()
                                   else principal},
                               "Action": action, "Resource": layer}
    org = t.string(props, "OrganizationId", False)
    if org is not None:
        stmt["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": org}}
    tree = nodes.from_json(json.dumps({"Version": "2012-10-17", "Statement": [stmt]}), t.file)
    tree = _at(tree, span)
    doc = policy_from_node(tree, PolicyKind.RESOURCE, f"the permission `{name}`", t.unknowns, source=t.source,
                           where=f"the policy of `{layer}`")
    t.builder.resource(layer, layer.split(":")[4] if layer.count(":") >= 5 else t.account, span).statements.append(doc)


def _at(node: Node, span: Span) -> Node:
    """`node` with every span replaced by `span` (a tree built here stands for the resource that made it)."""
    v = node.value
    if isinstance(v, Mapping):
        m = Mapping([(k, _at(x, span)) for k, x in v.items()], dict.fromkeys(v, span))
        return Node(m, span, node.pointer)
    if isinstance(v, tuple):
        return Node(tuple(_at(x, span) for x in v), span, node.pointer)
    return Node(v, span, node.pointer)


@handles("AWS::Organizations::Policy")
def _org_policy(t: Template, name: str, res: Node, props: Node) -> None:
    from reasoner.front.importers.build import OrgPolicy

    ptype = t.string(props, "Type")
    kind = {"SERVICE_CONTROL_POLICY": PolicyKind.SCP, "RESOURCE_CONTROL_POLICY": PolicyKind.RCP}.get(ptype or "")
    if kind is None:
        return  # tag, backup and AI opt-out policies decide no access
    node = props.get("Content")
    if node is None:
        raise fail(props.span, f"`{name}` has no `Content`", SHAPE)
    doc = t.policy(node, kind, f"the {kind.value.upper()} `{name}`", f"the {kind.value.upper()} `{name}`")
    targets = [x for x, _ in t.strings(props, "TargetIds")]
    t.builder.org_policies.append(OrgPolicy(doc, kind, targets, t.account, res.span))


@handles("AWS::EC2::VPCEndpoint")
def _vpc_endpoint(t: Template, name: str, res: Node, props: Node) -> None:
    from reasoner.semantics.environment import VpcEndpoint

    node = props.get("PolicyDocument")
    if node is None:
        return  # the default endpoint policy allows everything: no input of a decision
    service_name = t.string(props, "ServiceName") or ""
    vpc = t.string(props, "VpcId") or ""
    endpoint = t.fresh(name, "Id", f"vpce-unknown{_safe(name).lower()}", "endpoint id", arn_of=None, res=res)
    doc = t.policy(node, PolicyKind.ENDPOINT, f"the endpoint policy of `{name}`", f"endpoint `{name}`")
    service = service_name.rsplit(".", 1)[-1] if "." in service_name else service_name
    t.builder.endpoints.append(VpcEndpoint(endpoint, vpc, service, t.account, doc, span=res.span))


def read_template(text: str, file: str, builder: Builder, settings: Settings, *,
                  read_nested: Callable[[Node, str, dict[str, str]], Node | None] | None = None,
                  root: Node | None = None) -> None:
    """Read one template into `builder` (see the module docstring); every error of every resource together."""
    from reasoner.errors import raise_all

    tree = root if root is not None else nodes.read(text, file)
    template = Template(tree, text, file, builder, settings=settings, read_nested=read_nested)
    template.read()
    raise_all(template.errors)


def parameter_file(text: str, file: str) -> dict[str, str]:
    """Parameter values from a file: the CLI's `[{"ParameterKey": K, "ParameterValue": V}, ...]`, CodePipeline's
    `{"Parameters": {K: V}}`, or a plain mapping `{K: V}` (JSON or YAML)."""
    tree = nodes.read(text, file)
    out: dict[str, str] = {}
    if tree.is_list:
        for item in tree.elements():
            k, v = item.get("ParameterKey"), item.get("ParameterValue")
            if k is None or v is None:
                raise fail(item.span, "each entry needs `ParameterKey` and `ParameterValue`", SHAPE)
            out[str(k.value)] = _scalar_text(v)
        return out
    if tree.is_mapping:
        inner = tree.get("Parameters") or tree
        for key, value in inner.items():
            out[key] = _scalar_text(value)
        return out
    raise fail(tree.span, "a parameter file is a list of `ParameterKey`/`ParameterValue` or a mapping", SHAPE)


def _scalar_text(v: Node) -> str:
    if v.is_list:
        return ",".join(_scalar_text(x) for x in v.elements())
    if isinstance(v.value, bool):
        return str(v.value).lower()
    if v.value is None or v.is_mapping:
        raise fail(v.span, f"a parameter value must be a string, not {v.type_name()}", SHAPE)
    return str(v.value)


def is_template(tree: Node) -> bool:
    """The document is a CloudFormation template: `AWSTemplateFormatVersion`, or `Resources` whose entries have
    a `Type` of the form `X::Y::Z`."""
    if not tree.is_mapping:
        return False
    if tree.get("AWSTemplateFormatVersion") is not None:
        return True
    res = tree.get("Resources")
    if res is None or not res.is_mapping:
        return False
    types = [r.get("Type") for _, r in res.items()]
    return bool(types) and all(t is not None and t.is_str and str(t.value).count("::") == 2 for t in types)


__all__ = ["PSEUDO", "Settings", "Template", "is_template", "parameter_file", "partition_of", "read_template"]

_ = AbcMapping  # re-exported name kept for type readers
