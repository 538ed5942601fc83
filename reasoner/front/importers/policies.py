"""Policies written inside infrastructure files -> `PolicyDocument`s whose spans point into those files.

Input: a policy as a resolved `Node` tree (a CloudFormation `KeyPolicy`, `PolicyDocument`, ...) or as JSON text
(a Terraform `policy` attribute, the `Policy` string of `aws kms get-key-policy`), the policy kind of its place,
a label of its place for messages, and the unknowns of the import.
Output: a `PolicyDocument` parsed and validated by the one policy front end (`parse.parse_document` and
`validate.validate`), every span of which points where the value was written: the template's
file:line:col (for a value computed by an intrinsic function, where the function is called), or, for a policy
held in a JSON string, a line of that string under the name `FILE#ADDRESS` (the document's `source` holds that
text, so snippets show it).
Guarantee: a policy AWS would reject for its place is an `InputError` (IAC007) at the place of its first error,
with that error's code and message; an error whose only cause is an unknown value (a placeholder where AWS
wants an account id, a principal or an ARN) is not an error: the value is unknown, not wrong, and the
placeholder is recorded where it ended up. A policy whose very structure depends on an unknown (a `Statement`
chosen by `Fn::If` on an unknown condition) is a stand-in that carries the placeholder, so every verdict on it
is UNKNOWN (`unknowns.py`).
"""

from __future__ import annotations

import dataclasses
import json
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

from reasoner.errors import Diagnostic, InputError, one_line
from reasoner.front import confine
from reasoner.front.ast import PolicyDocument, PolicyKind
from reasoner.front.importers.nodes import POLICY, Mapping, Node, Number, fail, from_json
from reasoner.front.importers.unknowns import VALUE_RE, Unknowns
from reasoner.source import SourceFile, Span


class _Emitter:
    """Writes a `Node` tree as JSON, one member or list item per line, and remembers, for the first character
    of every key and value, the node (and so the span) it came from."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.starts: dict[tuple[int, int], Span] = {}

    def emit(self, node: Node) -> str:
        self.lines = [""]
        self._value(node)
        return "\n".join(self.lines) + "\n"

    def _put(self, text: str, span: Span | None) -> None:
        if span is not None:
            self.starts[(len(self.lines), len(self.lines[-1]) + 1)] = span
        self.lines[-1] += text

    def _value(self, node: Node) -> None:
        v = node.value
        if isinstance(v, Mapping):
            self._put("{", node.span)
            for i, (k, child) in enumerate(v.items()):
                self.lines.append("")
                self._put(json.dumps(k), v.key_spans.get(k, child.span))
                self.lines[-1] += ": "
                self._value(child)
                if i < len(v) - 1:
                    self.lines[-1] += ","
            self.lines.append("}")
        elif isinstance(v, tuple):
            self._put("[", node.span)
            for i, child in enumerate(v):
                self.lines.append("")
                self._value(child)
                if i < len(v) - 1:
                    self.lines[-1] += ","
            self.lines.append("]")
        elif isinstance(v, Number):
            self._put(v.text, node.span)
        else:
            self._put(json.dumps(v), node.span)


def _remapper(starts: dict[tuple[int, int], Span]) -> Callable[[Span], Span]:
    order = sorted(starts)

    def remap(span: Span) -> Span:
        hit = starts.get((span.line, span.col))
        if hit is not None:
            return hit
        i = bisect_right(order, (span.line, span.col)) - 1
        return starts[order[max(i, 0)]]

    return remap


def _respan(obj: Any, remap: Callable[[Span], Span], source: SourceFile | None, memo: dict[int, Any]) -> Any:
    """`obj` (an AST node) with every `Span` remapped and every `SourceFile` replaced by `source`."""
    if isinstance(obj, Span):
        return remap(obj)
    if isinstance(obj, SourceFile):
        return source
    if isinstance(obj, tuple):
        return tuple(_respan(x, remap, source, memo) for x in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        key = id(obj)
        if key not in memo:
            changes = {f.name: _respan(getattr(obj, f.name), remap, source, memo) for f in dataclasses.fields(obj)}
            memo[key] = dataclasses.replace(obj, **changes)
        return memo[key]
    return obj


def _covered(source: SourceFile, d: Diagnostic) -> bool:
    """The diagnostic's text holds a placeholder of an unknown value."""
    start = source.offset(d.span.line, d.span.col)
    end = source.offset(d.span.end_line, d.span.end_col)
    return VALUE_RE.search(source.text, start, max(end, start + 1)) is not None


def _stand_in(kind: PolicyKind, placeholder_text: str) -> str:
    principal = ', "Principal": "*"' if kind.is_resource_based else ""
    return ('{"Version": "2012-10-17", "Statement": [{"Sid": ' + json.dumps(placeholder_text) +
            ', "Effect": "Allow"' + principal + ', "Action": "*", "Resource": "*"}]}')


def policy_from_node(node: Node, kind: PolicyKind, what: str, unknowns: Unknowns, *,
                     key_account: str | None = None, source: SourceFile | None = None,
                     where: str = "") -> PolicyDocument:
    """The policy `node` (resolved: no intrinsic function left) of `kind`; spans are the nodes' spans and the
    document's `source` is `source` (the text of the file the nodes came from). `where` names the place the
    placeholders in it end up (for `Unknown.used_in`)."""
    emitter = _Emitter()
    text = emitter.emit(node)
    remap = _remapper(emitter.starts)
    doc = _parse_checked(text, node.span.file, kind, what, at=node.span, key_account=key_account, remap=remap)
    unknowns.note_uses(text, where or what)
    return _respan(doc, remap, source, {})


def policy_from_text(text: str, label: str, kind: PolicyKind, what: str, unknowns: Unknowns, *, at: Span,
                     key_account: str | None = None, where: str = "") -> PolicyDocument:
    """A policy held in a JSON string (a plan's `policy`, an export's `Policy`), named `label` (`FILE#ADDRESS`).
    A one-line (minified) text is laid out one member per line first, so that spans tell statements apart;
    `at` is the place of the string itself (for errors that have no better place)."""
    if "\n" not in text.strip():
        try:
            tree = from_json(text, label)
        except InputError as exc:
            raise fail(at, f"{what} is not valid json: {exc.message}", POLICY) from None
        emitter = _Emitter()
        text = emitter.emit(tree)
    source = SourceFile(label, text)
    doc = _parse_checked(text, label, kind, what, at=at, key_account=key_account, remap=None)
    unknowns.note_uses(text, where or what)
    return _respan(doc, lambda s: s, source, {})


def _parse_checked(text: str, file: str, kind: PolicyKind, what: str, *, at: Span, key_account: str | None,
                   remap: Callable[[Span], Span] | None) -> PolicyDocument:
    from reasoner.front.parse import parse_document
    from reasoner.front.validate import validate

    source = SourceFile(file, text)
    doc, diags = parse_document(text, file=file, kind=kind)
    errors = [d for d in diags if d.is_error and not _covered(source, d)]
    if doc is None and not errors:  # its structure depends on an unknown value: a stand-in carries it
        found = VALUE_RE.search(text)
        assert found is not None
        doc, _ = parse_document(_stand_in(kind, found.group()), file=file, kind=kind)
        assert doc is not None
        return doc
    if doc is not None:
        errors = [d for d in validate(doc, key_account=key_account) if d.is_error and not _covered(source, d)]
    if errors:
        first = errors[0]
        span = remap(first.span) if remap is not None else first.span
        detail = confine.referenced_detail(first) if remap is None else f"{first.code} {first.message}"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(one_line(f"{what} is not a valid {kind.value} policy: {detail}{more}"), span=span or at,
                         code=POLICY, help="`reasoner validate` on the policy shows every diagnostic")
    assert doc is not None
    return doc


def stand_in(kind: PolicyKind, placeholder_text: str, file: str) -> PolicyDocument:
    """A policy of `kind` whose content is unknown: it carries the placeholder (so verdicts are UNKNOWN)."""
    from reasoner.front.parse import parse_document

    doc, _ = parse_document(_stand_in(kind, placeholder_text), file=file, kind=kind)
    assert doc is not None
    return doc
