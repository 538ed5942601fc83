"""Stage 1: policy text -> typed AST.

Input: the JSON text of one policy document (IAM identity policy, KMS key policy, SCP, RCP, permissions
boundary, session policy or another resource-based policy) and the name of the file it came from.
Output: a `PolicyDocument` (reasoner/front/ast.py) and the list of `Diagnostic`s found on the way.
Guarantee: `parse_document` never raises on any text: malformed JSON yields one PARSE001 diagnostic at the
exact position of the first offending character or token; duplicate keys in any object, wrong JSON types,
missing required elements and the other structural errors are all collected, each with the span of the
offending token. A document is returned only when no error was found (`parse_policy` additionally runs
`validate.validate` and raises `PolicyValidationError` carrying every diagnostic).

The Lark grammar (`grammars/policy.lark`, shipped as `reasoner.grammars`) accepts exactly RFC 8259 JSON and
names its rules after AWS's "Grammar of the IAM JSON policy language" (mapping and deviations:
grammars/README.md). A Lark `Transformer`, run inline by the LALR parser, builds a small positioned JSON
model (`_JObject`, `_JArray`, ...; every node keeps its position and an object keeps duplicate members), and
the builder methods below, again named after the AWS nonterminals (`_Builder.policy`, `.statement_block`,
`.principal_block`, `.condition_block`, ...) turn it into the AST.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree
from lark.common import LexerConf
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import Lexer, LexerState, PatternStr, TextSlice

from reasoner.errors import (
    Diagnostic,
    InputError,
    PolicySyntaxError,
    PolicyValidationError,
    Severity,
    one_line,
    register_code,
    sort_diagnostics,
)
from reasoner.front import grammars
from reasoner.front.ast import (
    ActionBlock,
    Condition,
    ConditionBlock,
    ConditionOperator,
    Effect,
    PolicyDocument,
    PolicyKind,
    PrincipalBlock,
    PrincipalEntry,
    PrincipalType,
    ResourceBlock,
    SetQualifier,
    Statement,
    Value,
    ValueKind,
)
from reasoner.front.confine import PATH_REFUSED
from reasoner.front.validate import character_diagnostics, validate
from reasoner.source import SourceFile, Span

__all__ = [
    "grammar_text",
    "guess_kind",
    "load_policy",
    "parse_and_validate",
    "parse_document",
    "parse_operator",
    "parse_policy",
    "parse_tree",
    "read_input_text",
    "read_policy_text",
    "wide_encoding",
]

E = Severity.ERROR
W = Severity.WARNING

# ---- diagnostic codes of this stage (catalogue: grammars/README.md) ----------------------------------
SYNTAX = register_code(PolicySyntaxError.code, E, "malformed json")
NOT_AN_OBJECT = register_code("POL001", E, "policy document is not a json object")
DUPLICATE_KEY = register_code("POL002", E, "duplicate key in a json object")
UNKNOWN_ELEMENT = register_code("POL003", E, "unknown policy element")
WRONG_TYPE = register_code("POL004", E, "wrong json type for a policy element")
MISSING_STATEMENT = register_code("POL006", E, "missing or empty Statement")
MISSING_EFFECT = register_code("POL008", E, "missing Effect")
BAD_EFFECT = register_code("POL009", E, "Effect is not exactly `Allow` or `Deny`")
ACTION_AND_NOT_ACTION = register_code("POL011", E, "Action and NotAction in one statement")
RESOURCE_AND_NOT_RESOURCE = register_code("POL013", E, "Resource and NotResource in one statement")
PRINCIPAL_AND_NOT_PRINCIPAL = register_code("POL016", E, "Principal and NotPrincipal in one statement")
UNKNOWN_PRINCIPAL_TYPE = register_code("POL018", E, "unknown principal type")
UNKNOWN_OPERATOR = register_code("POL019", E, "unknown condition operator")
NULL_IF_EXISTS = register_code("POL020", E, "`IfExists` cannot be attached to `Null`")
EMPTY_LIST = register_code("POL032", E, "empty list where at least one value is required")
TOO_DEEP = register_code("POL033", E, "document nested too deeply")
OPERATOR_CASE = register_code("POL110", W, "condition operator not in canonical case")

#: JSON nesting deeper than this is rejected (policies nest 5 levels; recursion must stay bounded).
MAX_DEPTH = 64

INPUT_UNREADABLE = "INPUT001"
INPUT_NOT_UTF8 = "INPUT002"
INPUT_DIRECTORY = "INPUT003"
INPUT_BAD_ARGUMENT = "INPUT004"
INPUT_TOO_LARGE = "INPUT005"
INPUT_REFUSED = PATH_REFUSED  # INPUT006, registered by `confine` (files named by manifests and property files)
for _code, _title in ((INPUT_UNREADABLE, "file cannot be read"), (INPUT_NOT_UTF8, "file is not valid utf-8"),
                      (INPUT_DIRECTORY, "path is a directory"),
                      (INPUT_BAD_ARGUMENT, "bad command-line value"),
                      (INPUT_TOO_LARGE, "input larger than the size limit")):
    register_code(_code, E, _title)

#: The largest input read or parsed: 8 MiB, 256 times the largest AWS policy (a 32 KB key policy) and ten
#: times the largest generated benchmark policy. A bigger file, or an endless stream such as `/dev/zero`,
#: is refused (INPUT005) after reading at most this many bytes, so hostile input cannot exhaust memory.
MAX_INPUT_BYTES = 8 * 1024 * 1024


# ---- positioned JSON model ---------------------------------------------------------------------------
# Positions are (line, col, end_line, end_col), 1-based, end exclusive; the file name is added by the builder.
Pos = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class _JNode:
    pos: Pos


@dataclass(frozen=True, slots=True)
class _JString(_JNode):
    text: str


@dataclass(frozen=True, slots=True)
class _JNumber(_JNode):
    text: str  # as written: `1`, `1.50`, `1e3`


@dataclass(frozen=True, slots=True)
class _JBool(_JNode):
    value: bool


@dataclass(frozen=True, slots=True)
class _JNull(_JNode):
    pass


@dataclass(frozen=True, slots=True)
class _JArray(_JNode):
    items: tuple[_JNode, ...]


@dataclass(frozen=True, slots=True)
class _JMember:
    key: str
    key_pos: Pos
    value: _JNode
    pos: Pos


@dataclass(frozen=True, slots=True)
class _JObject(_JNode):
    members: tuple[_JMember, ...]

    def first(self, key: str) -> _JMember | None:
        for m in self.members:
            if m.key == key:
                return m
        return None


def _type_name(node: _JNode) -> str:
    return {_JString: "a string", _JNumber: "a number", _JBool: "a boolean", _JNull: "null",
            _JArray: "a list", _JObject: "an object"}[type(node)]


def _token_pos(tok: Token) -> Pos:
    return (tok.line or 1, tok.column or 1, tok.end_line or tok.line or 1, tok.end_column or 2)


def _between(first: Token, last: Token) -> Pos:
    return (first.line or 1, first.column or 1, last.end_line or 1, last.end_column or 2)


def _decode_string(tok: Token) -> str:
    # The grammar's STRING terminal admits exactly RFC 8259 strings, so json.loads decodes every escape
    # (\uXXXX, surrogate pairs, \/ ...) exactly as a JSON parser does; lone surrogates decode to lone
    # surrogate code points, which validation then reports as characters outside the allowed set.
    value = tok.value
    if "\\" not in value:
        return value[1:-1]  # no escapes: the text between the quotes (the common case, 10x faster)
    return str(json.loads(value))


class _ToJson(Transformer[Token, _JNode]):
    """Parse tree -> positioned JSON model; one method per grammar rule, named after it.

    It runs inline, while the LALR parser reduces (no Lark tree is built), with `keep_all_tokens=True` so
    that the brackets and the colon are children and give every node its exact span. (Lark's inline
    transformer does not support `v_args(meta=True)`; building the tree with `propagate_positions=True`
    and transforming it afterwards takes twice as long: 27 ms instead of 14 ms for a 32 KB key policy.)
    """

    def policy(self, children: list[_JNode]) -> _JNode:
        return children[0]

    def object(self, children: list[Token | _JMember]) -> _JObject:
        first, last = children[0], children[-1]
        assert isinstance(first, Token) and isinstance(last, Token)
        members = children[1:-1:2]
        return _JObject(_between(first, last), tuple(m for m in members if isinstance(m, _JMember)))

    def array(self, children: list[Token | _JNode]) -> _JArray:
        first, last = children[0], children[-1]
        assert isinstance(first, Token) and isinstance(last, Token)
        items = children[1:-1:2]
        return _JArray(_between(first, last), tuple(i for i in items if isinstance(i, _JNode)))

    def string(self, children: list[Token]) -> _JString:
        return _JString(_token_pos(children[0]), _decode_string(children[0]))

    def number(self, children: list[Token]) -> _JNumber:
        return _JNumber(_token_pos(children[0]), children[0].value)

    def true(self, children: list[Token]) -> _JBool:
        return _JBool(_token_pos(children[0]), True)

    def false(self, children: list[Token]) -> _JBool:
        return _JBool(_token_pos(children[0]), False)

    def null(self, children: list[Token]) -> _JNull:
        return _JNull(_token_pos(children[0]))

    def _build_member(self, children: list[Token | _JNode]) -> _JMember:
        key, value = children[0], children[-1]
        assert isinstance(key, Token) and isinstance(value, _JNode)
        end = value.pos
        return _JMember(_decode_string(key), _token_pos(key), value,
                        (key.line or 1, key.column or 1, end[2], end[3]))

    # <version_block>, <id_block>, ... and plain members all become `_JMember`s; the builder gives them
    # their meaning from the decoded key, so `"Eff\u0065ct"` and `"Effect"` behave the same.
    member = version_block = id_block = statement_block = sid_block = effect_block = _build_member
    principal_block = action_block = resource_block = condition_block = _build_member


# ---- the grammar, loaded once ------------------------------------------------------------------------

def grammar_text() -> str:
    """The text of `policy.lark`."""
    return grammars.grammar_text("policy.lark")


class _PolicyLexer(Lexer):
    """A one-regex lexer for the grammar's terminals, 2x faster than lark's contextual lexer here.

    The master regex is built from the grammar's own terminal patterns (the grammar stays the single
    source of truth). A JSON token is determined by its first character, so the only context needed is
    the contextual lexer's: a STRING spelling an element name (`"Effect"`) becomes the keyword terminal
    only where the LALR state accepts that keyword (object keys). Tokens never span lines (JSON strings
    cannot hold a raw line break), so positions are tracked per whitespace run. `tests/unit/test_parse.py`
    checks that it gives the same tokens and errors as lark's contextual lexer (`_reference_parser`).
    """

    __future_interface__ = 2

    def __init__(self, conf: LexerConf) -> None:
        self.keywords: dict[str, str] = {}
        parts = []
        for term in conf.terminals:
            if isinstance(term.pattern, PatternStr) and term.pattern.value.startswith('"'):
                self.keywords[term.pattern.value] = term.name
            else:
                parts.append(f"(?P<{term.name}>{term.pattern.to_regexp()})")
        self.ignore = frozenset(conf.ignore)
        self.regex = re.compile("|".join(parts))
        self.terminals_by_name = conf.terminals_by_name

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        text_slice = lexer_state.text
        text = text_slice.text if isinstance(text_slice, TextSlice) else str(text_slice)
        match = self.regex.match
        keywords = self.keywords
        ignore = self.ignore
        states = parser_state.parse_conf.parse_table.states
        pos, end = 0, len(text)
        line, line_start = 1, 0
        last: Token | None = None
        while pos < end:
            m = match(text, pos)
            if m is None:
                raise UnexpectedCharacters(text, pos, line, pos - line_start + 1, state=parser_state,
                                           token_history=[last] if last is not None else None,
                                           terminals_by_name=self.terminals_by_name)
            kind = m.lastgroup
            value = m.group()
            new_pos = m.end()
            if kind in ignore:
                newlines = value.count("\n")
                if newlines:
                    line += newlines
                    line_start = pos + value.rindex("\n") + 1
                pos = new_pos
                continue
            assert kind is not None
            if kind == "STRING":
                keyword = keywords.get(value)
                if keyword is not None and keyword in states[parser_state.position]:
                    kind = keyword
            col = pos - line_start + 1
            last = Token(kind, value, pos, line, col, line, col + len(value), new_pos)
            lexer_state.last_token = last
            yield last
            pos = new_pos


@cache
def _parser() -> Lark:
    """The policy grammar as an LALR parser that builds the JSON model directly (see `_ToJson`)."""
    return grammars.lalr_parser("policy.lark", lexer=_PolicyLexer, keep_all_tokens=True,
                                maybe_placeholders=False, transformer=_ToJson())


@cache
def _reference_parser() -> Lark:
    """The same, with lark's own contextual lexer (the reference `_PolicyLexer` is tested against)."""
    return Lark(grammar_text(), parser="lalr", lexer="contextual", keep_all_tokens=True,
                maybe_placeholders=False, transformer=_ToJson())


@cache
def _tree_parser() -> Lark:
    """The same grammar producing an ordinary Lark parse tree with positions (`parse_tree`)."""
    return Lark(grammar_text(), parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=False)


def parse_tree(text: str) -> Tree[Token]:
    """The Lark parse tree of `text` (for tools and tests); raises lark's `UnexpectedInput` on bad JSON."""
    return _tree_parser().parse(text)


# Friendly labels for LALR syntax errors. As with lark's `match_examples`, each label comes with malformed
# snippets, and an error is labelled by the (parser state, token) in which its snippet fails. The LALR state
# depends on where the mistake sits (first or later member, object or list, nesting), so the snippets are
# generated in every such context from a few templates (`{P}`: earlier members, `{V}`: a value).
_VALUES = ("1", '"x"', "{}", "[]", "true", "null", '{"k": 1}', "[1]")
_NON_STRING_KEYS = ("1", "{}", "[]", "true", "null")
_MEMBER_PREFIXES = ("", '"p": 1, ', '"p": 1, "q": 2, ')
_ITEM_PREFIXES = ("", "0, ", "0, 0, ")
_SYNTAX_TEMPLATES: dict[str, tuple[str, ...]] = {
    "trailing comma before a closing bracket": ('{{{P}"a": {V},}}', "[{I}{V},]"),
    "missing comma": ('{{{P}"a": {V} "b": 1}}', "[{I}{V} {V}]", '[{I}{V} "b"]'),
    "`:` after a value (a nested object needs its own braces)": ('{{{P}"a": {V}: 1}}',),
    "key without a value (a list is written with `[...]`, not `{{...}}`)": (
        '{{{P}"a"}}', '{{{P}"a", "b": 1}}'),
    "missing `:` after a key": ('{{{P}"a" {V}}}',),
    "object key is not a string": ("{{{P}{K}: 1}}",),
    "missing value": ('{{{P}"a": }}', '{{{P}"a": ,"b": 1}}', "[{I},]", "[{I}1,,2]", '{{{P}"a": ]}}'),
}
#: (before, after) around a snippet: top level, member value, list item, deeper
_NESTINGS = (("", ""), ('{"w": ', "}"), ("[", "]"), ('{"w": [0, ', "]}"), ('[{"w": ', "}]"))
#: keyword terminals behave like STRING in every error context
_KEYWORD_TERMINALS = frozenset({"VERSION", "ID", "STATEMENT", "SID", "EFFECT", "PRINCIPAL", "NOT_PRINCIPAL",
                                "ACTION", "NOT_ACTION", "RESOURCE", "NOT_RESOURCE", "CONDITION"})


def _syntax_examples() -> Iterator[tuple[str, str]]:
    """(label, malformed text) pairs generated from the templates."""
    for label, templates in _SYNTAX_TEMPLATES.items():
        shown = label.replace("{{", "{").replace("}}", "}")
        for template in templates:
            values = _VALUES if "{V}" in template else ("",)
            keys = _NON_STRING_KEYS if "{K}" in template else ("",)
            for prefix, item in zip(_MEMBER_PREFIXES, _ITEM_PREFIXES, strict=True):
                for value in values:
                    for key in keys:
                        snippet = template.format(P=prefix, I=item, V=value, K=key)
                        for before, after in _NESTINGS:
                            yield shown, before + snippet + after


def _depth_at(text: str, offset: int) -> int:
    """Bracket depth at `offset` (strings skipped); 0 after the end of a complete top-level value."""
    depth = 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[{}\[\]]', text[:offset]):
        tok = m.group(0)
        if tok in "{[":
            depth += 1
        elif tok in "}]":
            depth -= 1
    return depth


def _error_state(exc: UnexpectedInput) -> tuple[object, str] | None:
    """(LALR state, token type) of a syntax error; the state ignores the depth of the parse stack."""
    state = getattr(exc, "state", None)
    tok = getattr(exc, "token", None)
    if state is None or tok is None:
        return None
    ttype = "STRING" if tok.type in _KEYWORD_TERMINALS else tok.type
    return state.position, ttype


@cache
def _label_table() -> dict[tuple[object, str], str]:
    """Friendly labels keyed by (state, token). Like lark's `match_examples`, but independent of nesting
    depth (lark compares whole parser stacks: an example at depth 1 would not label an error at depth 4)."""
    table: dict[tuple[object, str], str] = {}
    for label, example in _syntax_examples():
        try:
            _parser().parse(example)
        except UnexpectedInput as exc:
            key = _error_state(exc)
            if key is not None:
                table.setdefault(key, label)
    return table


def _syntax_label(exc: UnexpectedInput) -> str | None:
    key = _error_state(exc)
    return _label_table().get(key) if key is not None else None


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of input"
    text = tok.value if len(tok.value) <= 40 else tok.value[:37] + "..."
    return f"`{text}`"


def _syntax_diagnostic(exc: UnexpectedInput, source: SourceFile) -> Diagnostic:
    text = source.text
    if isinstance(exc, UnexpectedCharacters):
        offset = exc.pos_in_stream or 0
        ch = text[offset] if 0 <= offset < len(text) else ""
        if ch == '"':
            return _string_error(source, offset)
        if ch == "'":
            message, help_ = "json strings must use double quotes", "write `\"...\"`, not `'...'`"
        elif text.startswith(("//", "/*", "#"), offset):
            message, help_ = "json does not allow comments", None
        elif ch == "\ufeff":
            message, help_ = "byte order mark (U+FEFF) is not allowed", "save the file as utf-8 without bom"
        elif ch.isalpha() or ch in "_$":
            word = re.match(r"[A-Za-z_$][A-Za-z0-9_$+.-]*", text[offset:])
            w = word.group(0) if word else ch
            message = f"unexpected word `{w}`"
            help_ = ("json literals are lowercase: `true`, `false`, `null`"
                     if w.lower() in ("true", "false", "null")
                     else "strings and keys must be in double quotes")
        elif ch in "+." or ch.isdigit():
            message, help_ = "malformed number", "json numbers have no leading `+`, `.` or zeros"
        else:
            message, help_ = f"unexpected character {_describe_char(ch)}", None
        return Diagnostic(SYNTAX, E, source.span(offset, offset + 1), f"malformed json: {message}", help_)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            span = _end_span(source)
        else:
            start = tok.start_pos if tok.start_pos is not None else 0
            span = source.span(start, tok.end_pos if tok.end_pos is not None else start + 1)
        if tok.type == "$END":
            label: str | None = "empty document" if not text.strip() else None
        elif tok.start_pos and text[:tok.start_pos].strip() and _depth_at(text, tok.start_pos) <= 0:
            label = "text after the end of the document"
        else:
            label = _syntax_label(exc)
        message = f"malformed json: unexpected {_describe_token(tok)}"
        if tok.type == "NUMBER" and re.search(r"(?<![0-9.eE+-])-?0$", text[:tok.start_pos or 0]):
            label = "number with a leading zero"
        return Diagnostic(SYNTAX, E, span, message + (f"; {label}" if label else ""))
    assert isinstance(exc, UnexpectedEOF)
    return Diagnostic(SYNTAX, E, _end_span(source), "malformed json: unexpected end of input")


def _describe_char(ch: str) -> str:
    if not ch:
        return "end of input"
    if ch.isprintable() and not ch.isspace():
        return f"`{ch}`"
    return f"U+{ord(ch):04X}"


def _end_span(source: SourceFile) -> Span:
    return source.span(len(source.text), len(source.text))


_ESCAPE = re.compile(r'\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})')


def _string_error(source: SourceFile, start: int) -> Diagnostic:
    """Pinpoint why the string starting at `start` is not an RFC 8259 string."""
    text = source.text
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            break  # unreachable for a string the lexer rejected, kept for safety
        if ch == "\\":
            m = _ESCAPE.match(text, i)
            if m is None:
                bad = text[i:i + 2]
                return Diagnostic(SYNTAX, E, source.span(i, i + len(bad)),
                                  f"malformed json: invalid escape `{bad}` in a string",
                                  "valid escapes: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")
            i = m.end()
            continue
        if ord(ch) < 0x20:
            what = "line break" if ch in "\r\n" else f"control character U+{ord(ch):04X}"
            return Diagnostic(SYNTAX, E, source.span(i, i + 1),
                              f"malformed json: unescaped {what} in a string",
                              "a string must end on the line it starts; escape it as \\n or \\t"
                              if ch in "\r\n" else "escape it as \\uXXXX")
        i += 1
    return Diagnostic(SYNTAX, E, source.span(start, start + 1), "malformed json: unterminated string")


def _parse_json(source: SourceFile) -> tuple[_JNode | None, list[Diagnostic]]:
    try:
        node = _parser().parse(source.text)
    except UnexpectedInput as exc:
        return None, [_syntax_diagnostic(exc, source)]
    except VisitError as exc:  # unwrap errors raised inside the transformer
        raise exc.orig_exc from None
    except RecursionError:
        return None, [Diagnostic(TOO_DEEP, E, source.span(0, 1), "document nested too deeply")]
    assert isinstance(node, _JNode)
    return node, []


# ---- builder: JSON model -> AST, named after the AWS grammar's nonterminals ---------------------------

_POLICY_ELEMENTS = ("Version", "Id", "Statement")
_STATEMENT_ELEMENTS = ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
                       "NotResource", "Condition")

_OPERATOR_RE = re.compile(r"^(?:(?P<qual>[^:]*):)?(?P<op>.*?)(?P<ifx>IfExists)?$", re.IGNORECASE)
_OPERATORS_LOWER = {op.value.lower(): op for op in ConditionOperator}
_QUALIFIERS_LOWER = {q.value.lower(): q for q in SetQualifier if q is not SetQualifier.NONE}


def parse_operator(text: str) -> tuple[SetQualifier, ConditionOperator, bool, bool] | None:
    """Split `ForAnyValue:StringLikeIfExists` into (qualifier, operator, if_exists, canonical_case).

    Returns None for an unknown operator or qualifier. Matching is case-insensitive (semantics §7.4 [OPEN]:
    simulators accept any case); `canonical_case` tells whether it was written exactly as AWS spells it.
    `NullIfExists` is returned as (.., NULL, True, ..) so the caller can reject it with a precise message.
    """
    m = _OPERATOR_RE.match(text)
    if m is None:
        return None
    qual_text, op_text, ifx = m.group("qual"), m.group("op"), m.group("ifx")
    qualifier = SetQualifier.NONE
    if qual_text is not None:
        q = _QUALIFIERS_LOWER.get(qual_text.lower())
        if q is None:
            return None
        qualifier = q
    op = _OPERATORS_LOWER.get(op_text.lower())
    if op is None:
        # `IfExists` itself may be a suffix of nothing valid; try the whole remainder as an operator
        op = _OPERATORS_LOWER.get((op_text + (ifx or "")).lower())
        if op is None:
            return None
        ifx = None
    canonical = (qual_text is None or qual_text == qualifier.value) and op_text == op.value and (
        ifx is None or ifx == "IfExists")
    return qualifier, op, ifx is not None, canonical


class _Builder:
    """Turns the positioned JSON model into the AST; collects diagnostics instead of stopping."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.file = source.name
        self.diags: list[Diagnostic] = []
        #: statement index -> elements that were present but could not be built (already reported);
        #: validation skips its "missing element" checks for them. "Effect" here means the statement
        #: carries a placeholder effect and effect-dependent checks must be skipped.
        self.incomplete: dict[int, set[str]] = {}
        self._index = -1

    def broken(self, element: str) -> None:
        self.incomplete.setdefault(self._index, set()).add(element)

    # -- helpers --
    def span(self, pos: Pos) -> Span:
        return Span(self.file, *pos)

    def error(self, code: str, pos: Pos, message: str, help: str | None = None) -> None:
        self.diags.append(Diagnostic(code, E, self.span(pos), one_line(message), help and one_line(help)))

    def warning(self, code: str, pos: Pos, message: str, help: str | None = None) -> None:
        self.diags.append(Diagnostic(code, W, self.span(pos), one_line(message), help and one_line(help)))

    def wrong_type(self, node: _JNode, what: str, expected: str) -> None:
        self.error(WRONG_TYPE, node.pos, f"{what} must be {expected}, not {_type_name(node)}")

    def check_duplicates(self, root: _JNode) -> None:
        """Duplicate keys in ANY object are errors (semantics §1.2): JSON libraries keep the last one."""
        stack: list[tuple[_JNode, int]] = [(root, 0)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                self.error(TOO_DEEP, node.pos, f"document nested deeper than {MAX_DEPTH} levels")
                return
            if isinstance(node, _JObject):
                seen: dict[str, _JMember] = {}
                for m in node.members:
                    first = seen.get(m.key)
                    if first is not None:
                        self.error(DUPLICATE_KEY, m.key_pos,
                                   f"duplicate key `{m.key}` (first at line {first.key_pos[0]})",
                                   "json parsers silently keep only the last value; merge the two")
                    else:
                        seen[m.key] = m
                    stack.append((m.value, depth + 1))
            elif isinstance(node, _JArray):
                stack.extend((item, depth + 1) for item in node.items)

    def known_members(self, obj: _JObject, known: Sequence[str], where: str) -> dict[str, _JMember]:
        """First occurrence of each known element; unknown elements are reported."""
        out: dict[str, _JMember] = {}
        lower = {k.lower(): k for k in known}
        for m in obj.members:
            if m.key in known:
                out.setdefault(m.key, m)
                continue
            hint = lower.get(m.key.lower())
            self.error(UNKNOWN_ELEMENT, m.key_pos, f"unknown element `{m.key}` in {where}",
                       f"element names are case-sensitive: did you mean `{hint}`?" if hint else
                       f"allowed here: {', '.join(known)}")
        return out

    def value(self, node: _JNode) -> Value:
        if isinstance(node, _JString):
            return Value(node.text, self.span(node.pos), ValueKind.STRING)
        if isinstance(node, _JNumber):
            return Value(node.text, self.span(node.pos), ValueKind.NUMBER)
        assert isinstance(node, _JBool)
        return Value("true" if node.value else "false", self.span(node.pos), ValueKind.BOOLEAN)

    def string_list(self, node: _JNode, what: str) -> tuple[Value, ...] | None:
        """A string or a non-empty list of strings (scalar-in-place-of-list normalised)."""
        if isinstance(node, _JString):
            return (self.value(node),)
        if not isinstance(node, _JArray):
            self.wrong_type(node, what, "a string or a list of strings")
            return None
        if not node.items:
            self.error(EMPTY_LIST, node.pos, f"{what} is an empty list")
            return None
        out: list[Value] = []
        ok = True
        for item in node.items:
            if isinstance(item, _JString):
                out.append(self.value(item))
            else:
                self.wrong_type(item, f"each entry of {what}", "a string")
                ok = False
        return tuple(out) if ok else None

    # -- <policy> --
    def policy(self, root: _JNode) -> PolicyDocument | None:
        if not isinstance(root, _JObject):
            self.error(NOT_AN_OBJECT, root.pos,
                       f"a policy document must be a json object, not {_type_name(root)}")
            return None
        members = self.known_members(root, _POLICY_ELEMENTS, "the policy document")
        version = self.version_block(members.get("Version"))
        id_ = self.id_block(members.get("Id"))
        statements = self.statement_block(members.get("Statement"), root)
        return PolicyDocument(version=version, id=id_, statements=statements, kind=PolicyKind.IDENTITY,
                              span=self.span(root.pos), source=self.source)

    # -- <version_block> (the value itself is checked in validate.py: POL005) --
    def version_block(self, m: _JMember | None) -> Value | None:
        return self.string_member(m, "Version")

    # -- <id_block> --
    def id_block(self, m: _JMember | None) -> Value | None:
        return self.string_member(m, "Id")

    def string_member(self, m: _JMember | None, element: str) -> Value | None:
        """The string value of element `element`; None (after a type error) when it is not a string."""
        if m is None:
            return None
        if not isinstance(m.value, _JString):
            self.wrong_type(m.value, f"`{element}`", "a string")
            return None
        return self.value(m.value)

    # -- <statement_block> --
    def statement_block(self, m: _JMember | None, root: _JObject) -> tuple[Statement, ...]:
        if m is None:
            self.error(MISSING_STATEMENT, (root.pos[0], root.pos[1], root.pos[0], root.pos[1] + 1),
                       "policy has no `Statement` element")
            return ()
        node = m.value
        if isinstance(node, _JObject):
            items: tuple[_JNode, ...] = (node,)
        elif isinstance(node, _JArray):
            items = node.items
            if not items:
                self.error(MISSING_STATEMENT, node.pos, "`Statement` is an empty list",
                           "a policy needs at least one statement")
        else:
            self.wrong_type(node, "`Statement`", "an object or a list of objects")
            return ()
        out: list[Statement] = []
        for i, item in enumerate(items):
            if not isinstance(item, _JObject):
                self.wrong_type(item, f"`Statement[{i}]`", "an object")
                continue
            out.append(self.statement(item, i))
        return tuple(out)

    # -- <statement> --
    def statement(self, obj: _JObject, index: int) -> Statement:
        """Always returns a statement so that validation can still look at it; what could not be built is
        recorded in `self.incomplete` (with a placeholder Effect when the Effect itself is broken)."""
        self._index = index
        members = self.known_members(obj, _STATEMENT_ELEMENTS, "a statement")
        sid = self.sid_block(members.get("Sid"))
        effect = self.effect_block(members.get("Effect"), obj)
        principal = self.principal_block(members.get("Principal"), members.get("NotPrincipal"))
        action = self.action_block(members.get("Action"), members.get("NotAction"))
        resource = self.resource_block(members.get("Resource"), members.get("NotResource"))
        condition = self.condition_block(members.get("Condition"))
        if effect is None:
            self.broken("Effect")
            effect = (Effect.DENY, self.span(obj.pos))
        return Statement(index=index, sid=sid, effect=effect[0], effect_span=effect[1], principal=principal,
                         action=action, resource=resource, condition=condition, span=self.span(obj.pos))

    def sid_block(self, m: _JMember | None) -> Value | None:
        if m is None:
            return None
        if not isinstance(m.value, _JString):
            self.wrong_type(m.value, "`Sid`", "a string")
            self.broken("Sid")
            return None
        return self.value(m.value)

    # -- <effect_block> --
    def effect_block(self, m: _JMember | None, obj: _JObject) -> tuple[Effect, Span] | None:
        if m is None:
            self.error(MISSING_EFFECT, (obj.pos[0], obj.pos[1], obj.pos[0], obj.pos[1] + 1),
                       "statement has no `Effect` element", "add `\"Effect\": \"Allow\"` or `\"Deny\"`")
            return None
        node = m.value
        if not isinstance(node, _JString):
            self.wrong_type(node, "`Effect`", "the string `Allow` or `Deny`")
            return None
        for effect in Effect:
            if node.text == effect.value:
                return effect, self.span(node.pos)
        hint = next((e.value for e in Effect if e.value.lower() == node.text.strip().lower()), None)
        self.error(BAD_EFFECT, node.pos, f"`Effect` must be exactly `Allow` or `Deny`, not `{node.text}`",
                   f"`Effect` is case-sensitive: write `{hint}`" if hint else None)
        return None

    # -- <principal_block> --
    def principal_block(self, pos_m: _JMember | None, neg_m: _JMember | None) -> PrincipalBlock | None:
        if pos_m is not None and neg_m is not None:
            later = max(pos_m, neg_m, key=lambda x: x.key_pos)
            self.error(PRINCIPAL_AND_NOT_PRINCIPAL, later.key_pos,
                       "a statement cannot have both `Principal` and `NotPrincipal`")
        m = pos_m or neg_m
        if m is None:
            return None
        block = self._principal_block(m, negated=m is not pos_m)
        if block is None:
            self.broken("Principal")
        return block

    def _principal_block(self, m: _JMember, *, negated: bool) -> PrincipalBlock | None:
        name = m.key
        node = m.value
        span = self.span(m.pos)
        if isinstance(node, _JString):
            if node.text == "*":
                return PrincipalBlock(negated, True, (), span)
            self.error(WRONG_TYPE, node.pos, f"`{name}` must be `*` or an object such as "
                       f"`{{\"AWS\": ...}}`, not the string `{node.text}`",
                       f"write `\"{name}\": {{\"AWS\": \"{node.text}\"}}`")
            return None
        if not isinstance(node, _JObject):
            self.wrong_type(node, f"`{name}`", "`*` or an object")
            return None
        entries: list[PrincipalEntry] = []
        ok = True
        if not node.members:
            self.error(EMPTY_LIST, node.pos, f"`{name}` names no principal")
            return None
        types = {t.value: t for t in PrincipalType}
        for entry in node.members:  # <principal_map_entry>
            ptype = types.get(entry.key)
            if ptype is None:
                hint = next((t for t in types if t.lower() == entry.key.lower()), None)
                self.error(UNKNOWN_PRINCIPAL_TYPE, entry.key_pos, f"unknown principal type `{entry.key}`",
                           f"principal types are case-sensitive: write `{hint}`" if hint else
                           "allowed: AWS, Service, Federated, CanonicalUser")
                ok = False
                continue
            values = self.string_list(entry.value, f"`{name}.{entry.key}`")
            if values is None:
                ok = False
                continue
            entries.extend(PrincipalEntry(ptype, v, v.span) for v in values)
        if not ok:
            if not entries:
                return None
            self.broken("Principal")  # the entries that could be built are kept for validation
        return PrincipalBlock(negated, False, tuple(entries), span)

    # -- <action_block> --
    def action_block(self, pos_m: _JMember | None, neg_m: _JMember | None) -> ActionBlock | None:
        found = self.pattern_list(pos_m, neg_m, "Action", ACTION_AND_NOT_ACTION)
        return None if found is None else ActionBlock(*found)

    # -- <resource_block> --
    def resource_block(self, pos_m: _JMember | None, neg_m: _JMember | None) -> ResourceBlock | None:
        found = self.pattern_list(pos_m, neg_m, "Resource", RESOURCE_AND_NOT_RESOURCE)
        return None if found is None else ResourceBlock(*found)

    def pattern_list(self, pos_m: _JMember | None, neg_m: _JMember | None, element: str,
                     both_code: str) -> tuple[bool, tuple[Value, ...], Span] | None:
        """`element` or `Not<element>` (both: `both_code`, the later one wins) as (negated, values, span);
        None when neither is there or the value is not a string list."""
        if pos_m is not None and neg_m is not None:
            later = max(pos_m, neg_m, key=lambda x: x.key_pos)
            self.error(both_code, later.key_pos,
                       f"a statement cannot have both `{element}` and `Not{element}`")
        m = pos_m or neg_m
        if m is None:
            return None
        values = self.string_list(m.value, f"`{m.key}`")
        if values is None:
            self.broken(element)
            return None
        return m is not pos_m, values, self.span(m.pos)

    # -- <condition_block> = "Condition" : { <condition_map> } --
    def condition_block(self, m: _JMember | None) -> ConditionBlock | None:
        if m is None:
            return None
        node = m.value
        if not isinstance(node, _JObject):
            self.wrong_type(node, "`Condition`", "an object such as `{\"StringEquals\": {...}}`")
            self.broken("Condition")
            return None
        conditions: list[Condition] = []
        ok = True
        for op_member in node.members:  # <condition_type_string> : { <condition_key_string> : <values> }
            parsed = self.condition_type_string(op_member)
            block = op_member.value
            if not isinstance(block, _JObject):
                self.wrong_type(block, f"the value of `{op_member.key}`",
                                "an object mapping condition keys to values")
                ok = False
                continue
            if parsed is None:
                ok = False
                continue
            qualifier, operator, if_exists = parsed
            for key_member in block.members:
                values = self.condition_value_list(key_member.value, key_member.key)
                if values is None:
                    ok = False
                    continue
                key = Value(key_member.key, self.span(key_member.key_pos))
                conditions.append(Condition(qualifier, operator, if_exists, key, values,
                                            self.span(op_member.key_pos), self.span(key_member.pos)))
        if not ok:
            self.broken("Condition")  # the conditions that could be built are kept for validation
        return ConditionBlock(tuple(conditions), self.span(m.pos))

    def condition_type_string(self, m: _JMember) -> tuple[SetQualifier, ConditionOperator, bool] | None:
        parsed = parse_operator(m.key)
        if parsed is None:
            close = _closest_operator(m.key)
            self.error(UNKNOWN_OPERATOR, m.key_pos, f"unknown condition operator `{m.key}`",
                       f"did you mean `{close}`?" if close else None)
            return None
        qualifier, op, if_exists, canonical = parsed
        if op is ConditionOperator.NULL and if_exists:
            self.error(NULL_IF_EXISTS, m.key_pos, f"`{m.key}` is not an operator: `IfExists` cannot be "
                       "attached to `Null`", "`Null` already tests for absence; write `Null`")
            return None
        if not canonical:
            q = f"{qualifier.value}:" if qualifier is not SetQualifier.NONE else ""
            self.warning(OPERATOR_CASE, m.key_pos,
                         f"condition operator `{m.key}` is not written in canonical case",
                         f"write `{q}{op.value}{'IfExists' if if_exists else ''}` (semantics §7.4)")
        return qualifier, op, if_exists

    # -- <condition_value_list> = [<condition_value>, ...] (a scalar stands for a one-element list) --
    def condition_value_list(self, node: _JNode, key: str) -> tuple[Value, ...] | None:
        if isinstance(node, _JString | _JNumber | _JBool):
            return (self.value(node),)
        if not isinstance(node, _JArray):
            self.wrong_type(node, f"the value of condition key `{key}`",
                            "a string, number, boolean or a list of them")
            return None
        out: list[Value] = []
        ok = True
        for item in node.items:
            if isinstance(item, _JString | _JNumber | _JBool):
                out.append(self.value(item))
            else:
                self.wrong_type(item, f"each value of condition key `{key}`", "a string, number or boolean")
                ok = False
        return tuple(out) if ok else None


def _closest_operator(text: str) -> str | None:
    import difflib

    names = [op.value for op in ConditionOperator]
    tail = text.rsplit(":", 1)[-1]
    hit = difflib.get_close_matches(tail, names, n=1, cutoff=0.75)
    if not hit:
        return None
    prefix = text[: len(text) - len(tail)]
    return prefix + hit[0]


# ---- policy kind ---------------------------------------------------------------------------------------

def guess_kind(statements: Iterable[Statement]) -> PolicyKind:
    """Kind of a document when the caller did not say: a Principal (or NotPrincipal) anywhere makes it a
    resource-based policy, a KMS key policy when it uses `kms:` actions or names no other service;
    no Principal at all makes it an identity policy."""
    stmts = list(statements)
    if not any(st.principal is not None for st in stmts):
        return PolicyKind.IDENTITY
    services: set[str] = set()
    for st in stmts:
        if st.action is None:
            continue
        for v in st.action.patterns:
            if ":" in v.text:
                services.add(v.text.split(":", 1)[0].lower())
    if "kms" in services or not (services - {"*"}):
        return PolicyKind.KEY_POLICY
    return PolicyKind.RESOURCE


# ---- entry points --------------------------------------------------------------------------------------

_Incomplete = dict[int, set[str]]


def _parse(source: SourceFile,
           kind: PolicyKind | None) -> tuple[PolicyDocument | None, list[Diagnostic], _Incomplete]:
    """Parse into a possibly partial document, with the elements that could not be built."""
    text = source.text
    if len(text) > MAX_INPUT_BYTES:
        return None, [Diagnostic(INPUT_TOO_LARGE, E, source.span(0, 1),
                                 f"document is {len(text)} characters long; the most accepted is {MAX_INPUT_BYTES}",
                                 "the largest AWS policy (a key policy) may have 32,768 bytes")], {}
    deep = _too_deep_at(text)
    if deep is not None:
        return None, [Diagnostic(TOO_DEEP, E, source.span(deep, deep + 1),
                                 f"document nested deeper than {MAX_DEPTH} levels")], {}
    root, diags = _parse_json(source)
    if root is None:
        return None, diags, {}
    builder = _Builder(source)
    builder.check_duplicates(root)
    if any(d.code == TOO_DEEP for d in builder.diags):
        return None, builder.diags, {}
    doc = builder.policy(root)
    if doc is not None:
        doc = dataclasses.replace(doc, kind=kind if kind is not None else guess_kind(doc.statements))
    return doc, builder.diags, builder.incomplete


_BRACKET_OR_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\[\]{}]')


def _too_deep_at(text: str) -> int | None:
    """Offset of the first bracket nested more than MAX_DEPTH + 1 levels deep, found by a linear scan before
    parsing (100,000 nested brackets are rejected in milliseconds instead of being parsed); None if there is
    none. Values exactly one level too deep are left to `_Builder.check_duplicates`."""
    if text.count("[") + text.count("{") <= MAX_DEPTH + 1:
        return None
    depth = 0
    for m in _BRACKET_OR_STRING.finditer(text):
        ch = m.group()
        if ch in "[{":
            depth += 1
            if depth > MAX_DEPTH + 1:
                return m.start()
        elif ch in "]}":
            depth -= 1
    return None


def parse_document(text: str, *, file: str = "<string>",
                   kind: PolicyKind | None = None) -> tuple[PolicyDocument | None, list[Diagnostic]]:
    """Parse one policy document: syntax and structural checks only (no kind-specific rules, no lints).

    Returns the document (None if any error was found) and every diagnostic, sorted by position.
    Never raises for any input text. `kind=None` guesses it (see `guess_kind`).
    """
    doc, diags, _ = _parse(SourceFile(file, text), kind)
    diags = sort_diagnostics(diags)
    if any(d.is_error for d in diags):
        return None, diags
    return doc, diags


def parse_and_validate(text: str, *, file: str = "<string>", kind: PolicyKind | None = None,
                       key_account: str | None = None) -> tuple[PolicyDocument | None, list[Diagnostic]]:
    """Parse and validate: every diagnostic of both stages, sorted; the document is None if any is an error.

    Validation also runs on the statements that could be built when others were broken, so one run reports
    as much as possible. Never raises for any input text.
    """
    source = SourceFile(file, text)
    doc, diags, incomplete = _parse(source, kind)
    if doc is not None:  # validation includes the character-set check of the raw text
        diags.extend(validate(doc, key_account=key_account,
                              incomplete={i: frozenset(e) for i, e in incomplete.items()}))
    else:  # the character-set check does not need the structure: run it on text that does not parse
        syntax_at = {(d.span.line, d.span.col) for d in diags if d.code == SYNTAX}
        if not any(d.code == INPUT_TOO_LARGE for d in diags):
            diags.extend(d for d in character_diagnostics(source)
                         if (d.span.line, d.span.col) not in syntax_at)
    diags = _dedupe(sort_diagnostics(diags))
    if any(d.is_error for d in diags):
        return None, diags
    return doc, diags


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: set[Diagnostic] = set()
    for d in diags:
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def parse_policy(text: str, *, file: str = "<string>", kind: PolicyKind | None = None,
                 key_account: str | None = None) -> PolicyDocument:
    """Parse and validate one policy; raise `PolicyValidationError` (with every diagnostic) on any error,
    `PolicySyntaxError` (a subclass) when the text is not well-formed JSON.
    Warnings are not fatal; they are dropped here (use `parse_and_validate` to see them)."""
    doc, diags = parse_and_validate(text, file=file, kind=kind, key_account=key_account)
    if doc is None:
        errors = [d for d in diags if d.is_error]
        noun = "error" if len(errors) == 1 else "errors"
        message = f"policy `{file}` was rejected with {len(errors)} {noun}"
        if any(d.code == SYNTAX for d in errors):
            raise PolicySyntaxError(message, diags)
        raise PolicyValidationError(message, diags)
    return doc


def read_policy_text(path: str | Path) -> str:
    """Read a policy file as UTF-8; any failure is an `InputError` with a stable code (see `read_input_text`)."""
    return read_input_text(path, what="policy file")


def _show_path(p: Path | str) -> str:
    text = one_line(str(p))
    return text if len(text) <= 200 else text[:120] + "..." + text[-60:]


def read_input_text(path: str | Path, *, what: str = "file", limit: int = MAX_INPUT_BYTES) -> str:
    """Read an input file as UTF-8 text, never hanging and never reading more than `limit` bytes.

    Every failure is an `InputError` at `path:1:1` with a stable code: INPUT001 (missing, unreadable, not a
    valid path), INPUT002 (not UTF-8; UTF-16 and UTF-32 text, LE or BE, with or without a byte-order mark, is
    named as such and refused in one error, see `wide_encoding`), INPUT003 (a directory), INPUT005 (larger
    than `limit`, including endless streams). A FIFO is opened without blocking, so one that no process
    writes to reads as empty instead of hanging; pipes with a writer (`<(...)`) are read to their end.
    """
    name = str(path)
    where = Span.point(one_line(name), 1, 1)
    shown = _show_path(name)

    def fail(message: str, code: str) -> InputError:
        return InputError(message, span=where, code=code)

    def unreadable(exc: OSError) -> InputError:
        reason = exc.strerror.lower() if exc.strerror else type(exc).__name__
        return fail(f"cannot read `{shown}`: {reason}", INPUT_UNREADABLE)

    if "\x00" in name:
        raise fail(f"`{shown}` is not a valid path: it contains a nul character", INPUT_UNREADABLE)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except IsADirectoryError:
        raise fail(f"`{shown}` is a directory, not a {what}", INPUT_DIRECTORY) from None
    except OSError as exc:
        if os.path.isdir(name):  # Windows reports a directory as "permission denied"
            raise fail(f"`{shown}` is a directory, not a {what}", INPUT_DIRECTORY) from None
        raise unreadable(exc) from None
    except ValueError:  # a lone surrogate cannot be encoded as a file name
        raise fail(f"`{shown}` is not a valid path: it cannot be encoded as a file name",
                   INPUT_UNREADABLE) from None
    too_large = fail(f"`{shown}` is larger than {limit} bytes, the most a {what} may have", INPUT_TOO_LARGE)
    chunks: list[bytes] = []
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise fail(f"`{shown}` is a directory, not a {what}", INPUT_DIRECTORY)
        if stat.S_ISREG(info.st_mode) and info.st_size > limit:
            raise too_large
        if getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)  # opened non-blocking only so that a FIFO without writer cannot hang
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise too_large
    except OSError as exc:
        raise unreadable(exc) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    wide = wide_encoding(data)
    if wide is not None:  # one error for the file, never one per NUL (and never decoded)
        encoding, bom = wide
        raise InputError(f"`{shown}` is {encoding} text ({'with' if bom else 'without'} a byte-order mark), "
                         "not utf-8", span=where, code=INPUT_NOT_UTF8,
                         help=f"AWS reads policies as UTF-8: convert the file, e.g. "
                              f"`iconv -f {encoding} -t UTF-8`")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = len(data[data.rfind(b"\n", 0, exc.start) + 1:exc.start].decode("utf-8", "replace")) + 1
        raise fail(f"`{shown}` is not valid utf-8 (byte 0x{data[exc.start]:02x} at line {line}, column {col}, "
                   f"offset {exc.start})", INPUT_NOT_UTF8) from None


#: Bytes looked at to recognise UTF-16 or UTF-32 text without a byte-order mark.
_WIDE_SAMPLE = 4096
_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32LE"), (b"\x00\x00\xfe\xff", "UTF-32BE"), (b"\xff\xfe", "UTF-16LE"),
         (b"\xfe\xff", "UTF-16BE"))


def wide_encoding(data: bytes) -> tuple[str, bool] | None:
    """`(encoding, has_bom)` when `data` is UTF-16 or UTF-32 text (LE or BE), else None.

    With a byte-order mark the mark decides (UTF-32LE's `FF FE 00 00` is tested before UTF-16LE's `FF FE`).
    Without one, the NUL bytes of the first `_WIDE_SAMPLE` bytes decide: policies, manifests and property
    files are mostly ASCII, so in UTF-16 the high byte of most 2-byte units is NUL and the low byte almost
    never is (`{` is `7B 00` in LE, `00 7B` in BE); in UTF-32 the two high bytes of most 4-byte units are
    NUL. A UTF-8 file has no NUL bytes at all unless it is broken, and a few stray NULs (`{"a\x00b": 1}`) do
    not make that pattern, so such a file is still parsed (and its NULs reported). Looks at a bounded
    sample: constant time whatever the size of `data`.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, True
    sample = data[:_WIDE_SAMPLE]
    if b"\x00" not in sample:
        return None

    def most(nuls: int, units: int) -> bool:  # at least half of the units
        return 2 * nuls >= units

    def few(nuls: int, units: int) -> bool:  # at most a tenth of the units
        return 10 * nuls <= units

    quads = len(sample) // 4
    if quads >= 2:
        z = [sample[i:quads * 4:4].count(0) for i in range(4)]
        if most(z[2], quads) and most(z[3], quads) and few(z[0], quads):
            return "UTF-32LE", False
        if most(z[0], quads) and most(z[1], quads) and few(z[3], quads):
            return "UTF-32BE", False
    pairs = len(sample) // 2
    if pairs >= 2:
        even, odd = sample[0:pairs * 2:2].count(0), sample[1:pairs * 2:2].count(0)
        if most(odd, pairs) and few(even, pairs):
            return "UTF-16LE", False
        if most(even, pairs) and few(odd, pairs):
            return "UTF-16BE", False
    return None


def load_policy(path: str | Path, kind: PolicyKind | None = None, *,
                key_account: str | None = None) -> PolicyDocument:
    """Read, parse and validate a policy file. Unreadable file -> `InputError`; rejected policy ->
    `PolicyValidationError`."""
    return parse_policy(read_policy_text(path), file=str(path), kind=kind, key_account=key_account)


# ---- positioned JSON for other front-end readers (CloudFormation, Terraform plans, AWS exports) ----------

#: The positioned JSON model, for the importers (`reasoner.front.importers.nodes`); positions are
#: (line, col, end_line, end_col), 1-based, end exclusive.
JsonNode, JsonString, JsonNumber, JsonBool, JsonNull = _JNode, _JString, _JNumber, _JBool, _JNull
JsonArray, JsonObject = _JArray, _JObject


def json_tree(text: str, *, file: str) -> tuple[_JNode | None, list[Diagnostic]]:
    """Any JSON text (not only a policy) as the positioned model: the root, or None and the diagnostics of
    the first syntax error (PARSE001), of a text larger than `MAX_INPUT_BYTES` (INPUT005) or nested deeper than
    `MAX_DEPTH` (POL033). Duplicate keys are kept (the caller decides). Never raises for any text."""
    source = SourceFile(file, text)
    if len(text) > MAX_INPUT_BYTES:
        return None, [Diagnostic(INPUT_TOO_LARGE, E, source.span(0, 1),
                                 f"document is {len(text)} characters long; the most accepted is {MAX_INPUT_BYTES}")]
    deep = _too_deep_at(text)
    if deep is not None:
        return None, [Diagnostic(TOO_DEEP, E, source.span(deep, deep + 1),
                                 f"document nested deeper than {MAX_DEPTH} levels")]
    return _parse_json(source)
