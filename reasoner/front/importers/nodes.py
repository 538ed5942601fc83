"""Positioned documents: JSON and YAML text -> a tree of `Node`s that remember where each value was written.

Input: the text of a CloudFormation template, Terraform plan, CDK or AWS CLI output (JSON, or YAML with
CloudFormation's short-form tags) and the name of its file.
Output: a `Node` tree (mappings keep their key order and key positions; scalars keep their JSON type) with a
`Span` and a JSON pointer per node; YAML short-form tags are already rewritten to their long form
(`!Sub x` is the mapping `{"Fn::Sub": x}`, `!GetAtt A.B` is `{"Fn::GetAtt": ["A", "B"]}`).
Guarantee: never constructs an object from a tag (the YAML text is only composed, never loaded); every
problem is an `InputError` with a stable code at its file:line:col: malformed JSON or YAML (IAC001), a tag
that is not plain data or a CloudFormation function (IAC003), a duplicate key (IAC004), a document larger than
8 MiB, nested deeper than `MAX_DEPTH` or expanding (YAML aliases) to more than `MAX_NODES` nodes (IAC009). The
work is linear in the size of the text, bounded by `MAX_NODES`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Union

import yaml

from reasoner.errors import InputError, Severity, one_line, register_code
from reasoner.front import parse as _parse
from reasoner.source import SourceFile, Span

E = Severity.ERROR
SYNTAX = register_code("IAC001", E, "infrastructure file is not valid json or yaml")
UNKNOWN_FORMAT = register_code("IAC002", E, "input of no known environment format")
BAD_TAG = register_code("IAC003", E, "unknown intrinsic function or yaml tag")
DUPLICATE = register_code("IAC004", E, "key given twice")
SHAPE = register_code("IAC005", E, "value of the wrong type or shape")
REFERENCE = register_code("IAC006", E, "reference to an undefined parameter, resource, mapping or condition")
POLICY = register_code("IAC007", E, "policy rejected for its place in the infrastructure file")
UNSUPPORTED = register_code("IAC008", E, "construct the importer does not read")
TOO_BIG = register_code("IAC009", E, "input too large, too deep or expanding too much")
PARAMETER = register_code("IAC010", E, "bad parameter value")
CONFLICT = register_code("IAC011", E, "resource declared by two inputs")

#: Nodes one document may expand to (YAML aliases share nodes; expanding them is counted): a 1 MB template
#: (CloudFormation's limit) has about 100,000.
MAX_NODES = 2_000_000
#: Nesting depth of a document (CloudFormation templates nest about 15 levels; policies 5 more).
MAX_DEPTH = _parse.MAX_DEPTH

Scalar = Union[str, bool, None, "Number"]


@dataclass(frozen=True, slots=True)
class Number:
    """A number as written (`1`, `1.50`)."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Node:
    """One value of a positioned document. `value` is a str, bool, None, `Number`, a tuple of `Node`s (a list)
    or a `Mapping`; `span` is where it was written (for a value computed by an intrinsic function: where the
    function was called); `pointer` is its JSON pointer in the document (RFC 6901)."""

    value: object
    span: Span
    pointer: str = ""

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.value, Mapping)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, tuple)

    @property
    def is_str(self) -> bool:
        return isinstance(self.value, str)

    def get(self, key: str) -> Node | None:
        return self.value.get(key) if isinstance(self.value, Mapping) else None

    def items(self) -> Iterator[tuple[str, Node]]:
        if isinstance(self.value, Mapping):
            yield from self.value.items()

    def elements(self) -> tuple[Node, ...]:
        return self.value if isinstance(self.value, tuple) else ()

    def type_name(self) -> str:
        v = self.value
        return ("a mapping" if isinstance(v, Mapping) else "a list" if isinstance(v, tuple)
                else "a string" if isinstance(v, str) else "a boolean" if isinstance(v, bool)
                else "null" if v is None else "a number")

    def plain(self) -> object:
        """The value as plain Python data (str, bool, None, int/float/str for numbers, list, dict)."""
        v = self.value
        if isinstance(v, Mapping):
            return {k: n.plain() for k, n in v.items()}
        if isinstance(v, tuple):
            return [n.plain() for n in v]
        if isinstance(v, Number):
            try:
                return int(v.text)
            except ValueError:
                return float(v.text)
        return v


class Mapping(dict[str, Node]):
    """A mapping of a positioned document: keys in written order, and where each key was written."""

    def __init__(self, items: list[tuple[str, Node]] | None = None, key_spans: dict[str, Span] | None = None):
        super().__init__(items or [])
        self.key_spans: dict[str, Span] = key_spans or {}

    def __hash__(self) -> int:  # type: ignore[override]
        return id(self)


def pointer(base: str, token: str | int) -> str:
    """`base` extended by one reference token (RFC 6901 escapes)."""
    return f"{base}/{str(token).replace('~', '~0').replace('/', '~1')}"


def fail(span: Span, message: str, code: str, help: str | None = None) -> InputError:
    return InputError(one_line(message), span=span, code=code, help=help)


# ---- JSON ----------------------------------------------------------------------------------------------

def from_json(text: str, file: str) -> Node:
    """The positioned tree of a JSON document; IAC001 / IAC004 / IAC009 on malformed, duplicate-key or too
    large input (every duplicate key is reported, not only the first)."""
    root, diags = _parse.json_tree(text, file=file)
    if root is None:
        d = diags[0]
        code = TOO_BIG if d.code in (_parse.INPUT_TOO_LARGE, _parse.TOO_DEEP) else SYNTAX
        raise fail(d.span, d.message, code)
    errors: list[InputError] = []
    count = [0]

    def convert(n: Any, ptr: str) -> Node:
        count[0] += 1
        span = Span(file, *n.pos)
        if isinstance(n, _parse.JsonObject):
            m = Mapping()
            for member in n.members:
                if member.key in m:
                    errors.append(fail(Span(file, *member.key_pos), f"key `{member.key}` is given twice "
                                       f"(first at line {m.key_spans[member.key].line})", DUPLICATE))
                    continue
                m.key_spans[member.key] = Span(file, *member.key_pos)
                m[member.key] = convert(member.value, pointer(ptr, member.key))
            return Node(m, span, ptr)
        if isinstance(n, _parse.JsonArray):
            return Node(tuple(convert(x, pointer(ptr, i)) for i, x in enumerate(n.items)), span, ptr)
        if isinstance(n, _parse.JsonString):
            return Node(n.text, span, ptr)
        if isinstance(n, _parse.JsonNumber):
            return Node(Number(n.text), span, ptr)
        if isinstance(n, _parse.JsonBool):
            return Node(n.value, span, ptr)
        return Node(None, span, ptr)

    out = convert(root, "")
    if errors:
        from reasoner.errors import raise_all

        raise_all(list(errors))
    return out


# ---- YAML ----------------------------------------------------------------------------------------------

#: CloudFormation's short-form tags and the long form each stands for.
SHORT_FORMS = {
    "!Ref": "Ref", "!Condition": "Condition", "!Sub": "Fn::Sub", "!GetAtt": "Fn::GetAtt", "!Join": "Fn::Join",
    "!Select": "Fn::Select", "!Split": "Fn::Split", "!FindInMap": "Fn::FindInMap", "!If": "Fn::If",
    "!ImportValue": "Fn::ImportValue", "!GetAZs": "Fn::GetAZs", "!Base64": "Fn::Base64", "!Cidr": "Fn::Cidr",
    "!Equals": "Fn::Equals", "!And": "Fn::And", "!Or": "Fn::Or", "!Not": "Fn::Not", "!Transform": "Fn::Transform",
    "!Length": "Fn::Length", "!ToJsonString": "Fn::ToJsonString",
}
_PLAIN = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(f"{_PLAIN}{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp"))


def _yaml_span(file: str, node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    end_col = max(e.column + 1, s.column + 2) if e.line == s.line else e.column + 1
    return Span(file, s.line + 1, s.column + 1, e.line + 1, end_col)


def from_yaml(text: str, file: str) -> Node:
    """The positioned tree of a YAML document with CloudFormation short-form tags; see the module docstring."""
    if len(text) > _parse.MAX_INPUT_BYTES:
        raise fail(Span.point(file, 1, 1), f"document is {len(text)} characters long; the most accepted is "
                   f"{_parse.MAX_INPUT_BYTES}", TOO_BIG)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)  # nodes only: no tag is ever constructed
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        what = (f"character U+{exc.character:04X} is not allowed" if isinstance(exc.character, int)
                else str(exc.reason))
        raise fail(Span.point(file, line, col), f"not valid yaml: {what}", SYNTAX) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        span = Span.point(file, mark.line + 1, mark.column + 1) if mark else Span.point(file, 1, 1)
        problem = getattr(exc, "problem", None) or str(exc)
        raise fail(span, f"not valid yaml: {' '.join(str(problem).split())}", SYNTAX) from None
    except RecursionError:
        raise fail(Span.point(file, 1, 1), "document nested too deeply", TOO_BIG) from None
    if root is None:
        return Node(None, Span.point(file, 1, 1), "")
    errors: list[InputError] = []
    count = [0]

    def scalar(node: yaml.ScalarNode) -> object:
        tag = node.tag
        if tag == f"{_PLAIN}null":
            return None
        if tag == f"{_PLAIN}bool":
            return str(node.value).lower() in ("true", "yes", "on", "y")
        if tag in (f"{_PLAIN}int", f"{_PLAIN}float"):
            return Number(str(node.value))
        return str(node.value)  # str, timestamp (`2012-10-17` stays text), and the text under a short form

    cache: dict[int, tuple[Node, int]] = {}

    def convert(node: yaml.Node, ptr: str, depth: int) -> Node:
        """The tree of `node`; an aliased node is converted once and its size counted at every use, so an
        alias bomb is refused after `MAX_NODES` values without being expanded."""
        hit = cache.get(id(node))
        if hit is not None:
            count[0] += hit[1]
            if count[0] > MAX_NODES:
                raise fail(_yaml_span(file, node), f"document expands to more than {MAX_NODES} values (yaml aliases)",
                           TOO_BIG)
            return hit[0]
        before = count[0]
        out = _convert(node, ptr, depth)
        cache[id(node)] = (out, count[0] - before)
        return out

    def _convert(node: yaml.Node, ptr: str, depth: int) -> Node:
        count[0] += 1
        span = _yaml_span(file, node)
        if count[0] > MAX_NODES:
            raise fail(span, f"document expands to more than {MAX_NODES} values (yaml aliases?)", TOO_BIG)
        if depth > MAX_DEPTH:
            raise fail(span, f"document nested deeper than {MAX_DEPTH} levels", TOO_BIG)
        tag = node.tag
        if tag in SHORT_FORMS:
            inner = _untagged(node)
            if tag == "!GetAtt" and isinstance(node, yaml.ScalarNode):
                name, _, attr = str(node.value).partition(".")
                value: Node = Node((Node(name, span, pointer(ptr, 0)), Node(attr, span, pointer(ptr, 1))),
                                   span, ptr)
            else:
                value = convert(inner, ptr, depth + 1)
            long = SHORT_FORMS[tag]
            return Node(Mapping([(long, value)], {long: span}), span, ptr)
        if tag not in _PLAIN_TAGS:
            shown = tag.replace(_PLAIN, "!!", 1)
            raise fail(span, f"yaml tag `{shown}` is not allowed", BAD_TAG,
                       help="a template holds plain data and CloudFormation's short forms (`!Ref`, `!Sub`, ...)")
        if isinstance(node, yaml.ScalarNode):
            return Node(scalar(node), span, ptr)
        if isinstance(node, yaml.SequenceNode):
            return Node(tuple(convert(x, pointer(ptr, i), depth + 1) for i, x in enumerate(node.value)), span, ptr)
        assert isinstance(node, yaml.MappingNode)
        m = Mapping()
        for k, v in node.value:
            kspan = _yaml_span(file, k)
            if not isinstance(k, yaml.ScalarNode) or k.tag not in _PLAIN_TAGS:
                raise fail(kspan, "a mapping key must be a plain value", SHAPE)
            key = str(k.value)
            if key in m:
                errors.append(fail(kspan, f"key `{key}` is given twice (first at line {m.key_spans[key].line})",
                                   DUPLICATE))
                continue
            m.key_spans[key] = kspan
            m[key] = convert(v, pointer(ptr, key), depth + 1)
        return Node(m, span, ptr)

    try:
        out = convert(root, "", 0)
    except RecursionError:
        raise fail(Span.point(file, 1, 1), "document nested too deeply", TOO_BIG) from None
    if errors:
        from reasoner.errors import raise_all

        raise_all(list(errors))
    return out


def _untagged(node: yaml.Node) -> yaml.Node:
    """The node under a short-form tag, with the tag its content would have had without it."""
    if isinstance(node, yaml.ScalarNode):
        return yaml.ScalarNode(f"{_PLAIN}str", node.value, node.start_mark, node.end_mark, node.style)
    if isinstance(node, yaml.SequenceNode):
        return yaml.SequenceNode(f"{_PLAIN}seq", node.value, node.start_mark, node.end_mark, node.flow_style)
    assert isinstance(node, yaml.MappingNode)
    return yaml.MappingNode(f"{_PLAIN}map", node.value, node.start_mark, node.end_mark, node.flow_style)


def read(text: str, file: str) -> Node:
    """JSON when the text starts with `{` or `[` (after white space), else YAML."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("{", "["):
        return from_json(text, file)
    return from_yaml(text, file)


def source_of(text: str, file: str) -> SourceFile:
    return SourceFile(file, text)
