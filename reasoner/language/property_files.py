"""Property files: the text a security engineer writes -> property values to check.

Input: a property file (`*.access`, grammar `grammars/property.lark`), or one claim given as a string
(`reasoner.check(environment, "no principal outside account 111122223333 can kms:Decrypt")`).
Output: `Assertion`s, each an (environment, property value of `reasoner.analyses.properties`) pair with its name,
span and run options (`allowing unknown`, `within N seconds`).
Guarantee: the language adds no semantics of its own: every claim maps one to one onto a property value
(`no principal ... can` -> AccessNotGranted, `none of P can` -> AccessNotGranted over PRINCIPALS,
`only P can` -> OnlyPrincipalsCan, `P can` -> CanAccess, `grants no new access over` -> NoNewAccess,
`is equivalent to` -> Equivalent, `... can eventually ...` -> Eventually over the same claim; `unless` /
`when KEY is VALUES` / `only via service S` after one of the first three -> its `when` conditions, `account ID`
in a principal list -> `every_principal_of(ID)`). Everything else is name resolution and checking: syntax
errors, unknown names, unknown actions, keys the environment does not have and values of the wrong kind raise a
`PropertyError` (an `InputError`) with `file:line:col`, a caret snippet and a hint; nothing is skipped.
Every file a property file names lies inside the root (`reasoner.front.confine`; by default the git
repository of the file compiled) or is refused unread (INPUT006) at the token naming it; an included file
that is not a property file is located, never quoted.
The file extension `.access` (not `.props`) avoids collecting MSBuild `*.props` files in mixed repositories.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from reasoner.analyses.properties import (
    ACCOUNT_PREFIX,
    AccessNotGranted,
    CanAccess,
    ContextCondition,
    Equivalent,
    Eventually,
    NoNewAccess,
    OnlyPrincipalsCan,
    PrincipalScope,
    Property,
    ScopeKind,
    every_principal_of,
)
from reasoner.analyses.result import CheckResult
from reasoner.errors import InputError, Severity, one_line, register_code
from reasoner.front import confine
from reasoner.front.grammars import lalr_parser
from reasoner.front.importers import load as load_any
from reasoner.semantics import arns, catalog, context_keys
from reasoner.semantics.environment import Environment, Key
from reasoner.semantics.patterns import compile_action, compile_resource
from reasoner.semantics.resources import POLICY_TYPES, declared_targets, governing_arn, type_named
from reasoner.source import SourceFile, Span, render_snippet

if TYPE_CHECKING:
    from reasoner.analyses.compiled import CompiledEnvironment

#: The extension of property files (collected by `reasoner check DIR` and by the pytest plugin).
SUFFIX = ".access"

# ---- errors ------------------------------------------------------------------------------------------

SYNTAX = register_code("PROP001", Severity.ERROR, "property file syntax error")
UNKNOWN_NAME = register_code("PROP002", Severity.ERROR, "unknown name")
UNKNOWN_ACTION = register_code("PROP003", Severity.ERROR, "unknown action")
UNKNOWN_KEY = register_code("PROP004", Severity.ERROR, "key not in the environment")
UNKNOWN_PRINCIPAL = register_code("PROP005", Severity.ERROR, "principal not in the environment")
BAD_INCLUDE = register_code("PROP006", Severity.ERROR, "include cycle")
NO_ENVIRONMENT = register_code("PROP007", Severity.ERROR, "assertion without an environment")
DUPLICATE = register_code("PROP008", Severity.ERROR, "name defined twice")
BAD_VALUE = register_code("PROP009", Severity.ERROR, "value of the wrong kind")
UNREADABLE = register_code("PROP010", Severity.ERROR, "file cannot be read")
UNKNOWN_CONTEXT_KEY = register_code("PROP020", Severity.ERROR, "unknown context key in a condition of a claim")


class PropertyError(InputError):
    """A property file (or claim string) cannot be used. `str()` gives `file:line:col: error: CODE message`,
    the source line with a caret under the culprit, and the hint."""

    code = "PROP"

    def __init__(self, message: str, *, span: Span | None = None, code: str | None = None,
                 help: str | None = None, source: SourceFile | None = None) -> None:
        super().__init__(message, span=span, code=code, help=help)
        self.source = source

    def __str__(self) -> str:
        lines = [super().__str__()]
        if self.span is not None:
            snippet = render_snippet(self.source, self.span)
            if snippet:
                lines.append(snippet)
        if self.help:
            lines.append(f"help: {self.help}")
        return "\n".join(lines)


class PropertySyntaxError(PropertyError, SyntaxError):
    """The text is not a well-formed property file or claim."""

    code = SYNTAX

    def __init__(self, message: str, *, span: Span | None = None, code: str | None = None,
                 help: str | None = None, source: SourceFile | None = None) -> None:
        super().__init__(message, span=span, code=code, help=help, source=source)
        # the fields `traceback` prints for a SyntaxError (it does not call `__str__`)
        self.msg = f"{self.code} {message}" + (f" (help: {help})" if help else "")
        if span is not None:
            self.filename = span.file
            self.lineno, self.offset = span.line, span.col
            self.end_lineno, self.end_offset = span.end_line, span.end_col
            self.text = source.line_text(span.line) if source is not None else None


# ---- syntax tree (internal) --------------------------------------------------------------------------


@dataclass(frozen=True)
class Val:
    """One value as written: `kind` is the terminal (ARN, ACTION, NUMBER, ORG_ID, SERVICE, STRING, WILDCARD,
    NAME); `text` is unquoted."""

    kind: str
    text: str
    span: Span


@dataclass(frozen=True)
class Vals:
    items: tuple[Val, ...]
    span: Span


@dataclass(frozen=True)
class Sel:
    """An `on ...` clause: `kind` is `keys` (`on key(s) VALUES`), `all-keys` (`on all keys`), `resources`
    (`on resource(s)|role(s) VALUES`), `types` (`on all resources of type VALUES`) or `all` (`on all
    resources`)."""

    kind: str
    vals: Vals | None = None


@dataclass(frozen=True)
class CondSyntax:
    """A condition of a claim as written: `kind` is `unless`, `when` or `via` (`only via service VALUES`, whose
    key is kms:ViaService); `key` is None for `via`."""

    kind: str
    key: Val | None
    values: Vals
    span: Span


@dataclass(frozen=True)
class Claim:
    """One claim. `actions` None means `any action`; `keys` None means every key and resource (the clause was
    left out); `conditions` restrict the requests it is about (`unless` / `when` / `only via service`)."""

    kind: str  # no_access | none_of_can | only_can | can_access | no_new_access | equivalent
    span: Span
    scope: str = "any"  # any | accounts | organizations (no_access only)
    subjects: Vals | None = None  # scope values, principals
    actions: Vals | None = None
    keys: Sel | None = None
    new: Val | None = None
    old: Val | None = None
    conditions: tuple[CondSyntax, ...] = ()
    #: `can eventually` (chains of steps): None for a plain claim, else the bound of `within N steps` (0: none)
    eventually: int | None = None
    steps_span: Span | None = None


@dataclass(frozen=True)
class EnvironmentDecl:
    name: str | None
    path: Val
    span: Span


@dataclass(frozen=True)
class Include:
    path: Val
    span: Span


@dataclass(frozen=True)
class Let:
    name: str
    values: Vals
    span: Span


@dataclass(frozen=True)
class AssertStmt:
    name: str | None
    claim: Claim
    span: Span
    allow_unknown: bool = False
    timeout: float | None = None
    timeout_span: Span | None = None


Statement = EnvironmentDecl | Include | Let | AssertStmt


@dataclass(frozen=True)
class PropertyFile:
    """A parsed property file: its statements in order, with the source for error snippets."""

    source: SourceFile
    statements: tuple[Statement, ...]


# ---- compiled assertions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Assertion:
    """One claim ready to check: `reasoner.analyses.pipeline.check(assertion.environment, assertion.property)`."""

    name: str
    property: Property
    environment: Environment
    span: Span
    allow_unknown: bool = False
    timeout: float | None = None  # `within N seconds`; overrides the run's timeout
    text: str = ""  # the claim as written, whitespace collapsed
    named: bool = True  # False: `name` was made from `text`
    source: SourceFile | None = field(default=None, compare=False, repr=False)


# ---- parsing -----------------------------------------------------------------------------------------


@cache
def _parser() -> Lark:
    parser: Lark = lalr_parser("property.lark", propagate_positions=True, start=["start", "single_claim"],
                               maybe_placeholders=True)
    return parser


_TERMINAL_NAMES = {
    "ARN": "an ARN", "ALIAS": "an alias", "ACTION": "an action such as `kms:Decrypt`", "NUMBER": "a number",
    "ORG_ID": "an organization id", "SERVICE": "a service principal", "STRING": "a quoted string",
    "WILDCARD": "`*`", "NAME": "a name", "COLON": "`:`", "LSQB": "`[`", "RSQB": "`]`", "COMMA": "`,`",
    "EQUAL": "`=`", "$END": "the end of the file",
}


def _describe_expected(expected: Iterable[str], parser: Lark) -> str:
    names: set[str] = set()
    for term in expected:
        if term in _TERMINAL_NAMES:
            names.add(_TERMINAL_NAMES[term])
            continue
        try:
            pattern = parser.get_terminal(term).pattern
        except KeyError:
            continue
        if pattern.type == "str":
            names.add(f"`{pattern.value}`")
        else:
            names.add(term.lower())
    ordered = sorted(names, key=lambda n: (not n.startswith("`"), n))
    if len(ordered) > 8:
        ordered = [*ordered[:8], "..."]
    return ", ".join(ordered)


def _syntax_hint(exc: UnexpectedInput, source: SourceFile, offset: int) -> str | None:
    """A targeted hint for the common slips; None when there is nothing better than the expected list."""
    expected = set(getattr(exc, "expected", ()) or getattr(exc, "allowed", ()) or ())
    before = source.text[:offset].rstrip()
    rest = source.text[offset:]
    if "COLON" in expected:
        return "an assertion reads `assert \"name\": CLAIM`; put a `:` after the name"
    if "CAN" in expected:
        return ("a claim reads `WHO can ACTIONS [on KEYS]`, "
                "e.g. `no principal outside account A can kms:Decrypt`")
    if rest.startswith("'"):
        return "strings are written in double quotes"
    if before.endswith(",") and ("RSQB" in expected or "NAME" in expected):
        return "lists are written `[a, b]` in square brackets"
    if re.match(r"[A-Za-z]+\s*:", rest) and "ASSERT" in expected:
        return "every assertion starts with `assert`"
    if "ASSERT" in expected:
        return ("a property file holds `environment \"PATH\"`, `include \"PATH\"`, `let NAME = VALUES` "
                "and `assert [\"NAME\"]: CLAIM` statements")
    return None


def _syntax_error(exc: UnexpectedInput, source: SourceFile, parser: Lark) -> PropertySyntaxError:
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        offset = len(source.text.rstrip())
        span = source.span(max(0, offset - 1), offset)
        expected = exc.expected
        return PropertySyntaxError(
            f"unexpected end of input, expected {_describe_expected(expected, parser)}", span=span,
            code=SYNTAX, source=source, help=_syntax_hint(exc, source, offset))
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        start = tok.start_pos if tok.start_pos is not None else 0
        end = tok.end_pos if tok.end_pos is not None else start + 1
        span = source.span(start, end)
        return PropertySyntaxError(
            f"unexpected `{tok.value}`, expected {_describe_expected(exc.expected, parser)}", span=span,
            code=SYNTAX, source=source, help=_syntax_hint(exc, source, start))
    if isinstance(exc, UnexpectedCharacters):
        start = exc.pos_in_stream or 0
        char = source.text[start] if start < len(source.text) else ""
        span = source.span(start, start + 1)
        allowed = exc.allowed or set()
        if char == "\ufeff":
            return PropertySyntaxError("byte order mark (U+FEFF) is not allowed", span=span, code=SYNTAX,
                                       source=source, help="save the file as utf-8 without bom")
        shown = f"`{char}`" if char.isprintable() and not char.isspace() else f"U+{ord(char or chr(0)):04X}"
        return PropertySyntaxError(
            f"unexpected character {shown}, expected {_describe_expected(allowed, parser)}", span=span,
            code=SYNTAX, source=source, help=_syntax_hint(exc, source, start))
    return PropertySyntaxError("syntax error", code=SYNTAX, source=source)  # pragma: no cover


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


class _ToSyntax(Transformer[Token, object]):
    """Lark tree -> the internal syntax dataclasses, with spans."""

    def __init__(self, source: SourceFile) -> None:
        super().__init__()
        self.source = source

    def _span(self, meta: object) -> Span:
        start = getattr(meta, "start_pos", 0)
        end = getattr(meta, "end_pos", start + 1)
        return self.source.span(start, end)

    def _tok_span(self, tok: Token) -> Span:
        start = tok.start_pos or 0
        return self.source.span(start, tok.end_pos if tok.end_pos is not None else start + 1)

    @v_args(meta=True)
    def start(self, meta: object, children: list[Statement]) -> tuple[Statement, ...]:
        return tuple(children)

    @v_args(meta=True)
    def single_claim(self, meta: object, children: list[Claim]) -> Claim:
        return children[0]

    # declarations
    @v_args(meta=True)
    def default_environment(self, meta: object, children: list[Token]) -> EnvironmentDecl:
        path = Val("STRING", _unquote(children[0]), self._tok_span(children[0]))
        return EnvironmentDecl(None, path, self._span(meta))

    @v_args(meta=True)
    def named_environment(self, meta: object, children: list[Token]) -> EnvironmentDecl:
        path = Val("STRING", _unquote(children[1]), self._tok_span(children[1]))
        return EnvironmentDecl(str(children[0]), path, self._span(meta))

    @v_args(meta=True)
    def include(self, meta: object, children: list[Token]) -> Include:
        return Include(Val("STRING", _unquote(children[0]), self._tok_span(children[0])), self._span(meta))

    @v_args(meta=True)
    def let_decl(self, meta: object, children: list[object]) -> Let:
        name, values = children
        assert isinstance(name, Token) and isinstance(values, Vals)
        return Let(str(name), values, self._span(meta))

    # assertions
    @v_args(meta=True)
    def assertion(self, meta: object, children: list[object]) -> AssertStmt:
        name_tok, *mods, claim = children
        assert isinstance(claim, Claim)
        allow_unknown = any(m == ("allow_unknown", None) for m in mods)
        within = next((m[1] for m in mods if isinstance(m, tuple) and m[0] == "within"), None)
        timeout = float(within) if within is not None else None
        name = _unquote(name_tok) if isinstance(name_tok, Token) else None
        return AssertStmt(name, claim, self._span(meta), allow_unknown, timeout,
                          self._tok_span(within) if isinstance(within, Token) else None)

    def allow_unknown(self, children: list[Token]) -> tuple[str, None]:
        return ("allow_unknown", None)

    def within(self, children: list[Token]) -> tuple[str, Token]:
        return ("within", children[0])

    @v_args(meta=True)
    def no_access(self, meta: object, children: list[object]) -> Claim:
        scope, actions, keys = children
        kind, subjects = scope if isinstance(scope, tuple) else ("any", None)
        return Claim("no_access", self._span(meta), scope=kind, subjects=subjects,
                     actions=actions, keys=keys)  # type: ignore[arg-type]

    def outside_accounts(self, children: list[Vals]) -> tuple[str, Vals]:
        return ("accounts", children[0])

    def outside_organizations(self, children: list[Vals]) -> tuple[str, Vals]:
        return ("organizations", children[0])

    @v_args(meta=True)
    def none_of_can(self, meta: object, children: list[object]) -> Claim:
        subjects, actions, keys = children
        return Claim("none_of_can", self._span(meta), subjects=subjects, actions=actions,  # type: ignore[arg-type]
                     keys=keys)  # type: ignore[arg-type]

    @v_args(meta=True)
    def only_can(self, meta: object, children: list[object]) -> Claim:
        subjects, actions, keys = children
        return Claim("only_can", self._span(meta), subjects=subjects, actions=actions,  # type: ignore[arg-type]
                     keys=keys)  # type: ignore[arg-type]

    @v_args(meta=True)
    def can_access(self, meta: object, children: list[object]) -> Claim:
        who, actions, keys = children
        assert isinstance(who, Val)
        return Claim("can_access", self._span(meta), subjects=Vals((who,), who.span),
                     actions=actions, keys=keys)  # type: ignore[arg-type]

    @v_args(meta=True)
    def no_new_access(self, meta: object, children: list[object]) -> Claim:
        new, old, actions, keys = children
        return Claim("no_new_access", self._span(meta), new=new, old=old, actions=actions,  # type: ignore[arg-type]
                     keys=keys)  # type: ignore[arg-type]

    @v_args(meta=True)
    def equivalent(self, meta: object, children: list[object]) -> Claim:
        new, old, actions, keys = children
        return Claim("equivalent", self._span(meta), new=new, old=old, actions=actions,  # type: ignore[arg-type]
                     keys=keys)  # type: ignore[arg-type]

    @v_args(meta=True)
    def eventually_no_access(self, meta: object, children: list[object]) -> Claim:
        *rest, bound = children
        return self._eventually(self.no_access(meta, rest), bound)

    @v_args(meta=True)
    def eventually_none_of_can(self, meta: object, children: list[object]) -> Claim:
        *rest, bound = children
        return self._eventually(self.none_of_can(meta, rest), bound)

    @v_args(meta=True)
    def eventually_only_can(self, meta: object, children: list[object]) -> Claim:
        *rest, bound = children
        return self._eventually(self.only_can(meta, rest), bound)

    def _eventually(self, claim: Claim, bound: object) -> Claim:
        if bound is None:
            return replace(claim, eventually=0)
        assert isinstance(bound, Token)
        span = self._tok_span(bound)
        text = str(bound)
        steps = int(text) if text.isdigit() else -1
        return replace(claim, eventually=steps if steps > 0 else -1, steps_span=span)

    def steps_bound(self, children: list[Token]) -> Token:
        return children[0]

    def env_ref(self, children: list[Val]) -> Val:
        return children[-1]

    @v_args(meta=True)
    def policy_ref(self, meta: object, children: list[Val]) -> Val:
        """`key policy "FILE"`: kind POLICY; the text is the path if the value was a quoted string."""
        val = children[0]
        return Val("POLICY" if val.kind == "STRING" else "POLICY?" + val.kind, val.text, val.span)

    def restriction(self, children: list[Vals | None]) -> Vals | None:
        return children[0]

    # conditions of a claim
    @v_args(meta=True)
    def conditioned(self, meta: object, children: list[object]) -> Claim:
        claim, *conds = children
        assert isinstance(claim, Claim)
        return replace(claim, span=self._span(meta),
                       conditions=tuple(c for c in conds if isinstance(c, CondSyntax)))

    @v_args(meta=True)
    def unless_condition(self, meta: object, children: list[object]) -> CondSyntax:
        key, vals = children
        return CondSyntax("unless", key, vals, self._span(meta))  # type: ignore[arg-type]

    @v_args(meta=True)
    def when_condition(self, meta: object, children: list[object]) -> CondSyntax:
        key, vals = children
        return CondSyntax("when", key, vals, self._span(meta))  # type: ignore[arg-type]

    @v_args(meta=True)
    def via_condition(self, meta: object, children: list[object]) -> CondSyntax:
        vals = children[-1]
        return CondSyntax("via", None, vals, self._span(meta))  # type: ignore[arg-type]

    def context_key(self, children: list[Token]) -> Val:
        tok = children[0]
        text = _unquote(tok) if tok.type == "STRING" else str(tok)
        return Val("CONTEXT_KEY", text, self._tok_span(tok))

    @v_args(meta=True)
    def account_value(self, meta: object, children: list[Val]) -> Val:
        """`account ID`: every principal of the account (kind ACCOUNT; the text is the id as written)."""
        inner = children[-1]
        return Val("ACCOUNT", inner.text, self._span(meta))

    # values
    def action_values(self, children: list[Vals]) -> Vals:
        return children[0]

    def any_action(self, children: list[Token]) -> None:
        return None

    def key_values(self, children: list[Vals]) -> Sel:
        return Sel("keys", children[0])

    def any_key(self, children: list[Token]) -> Sel:
        return Sel("all-keys")

    def resource_values(self, children: list[Vals]) -> Sel:
        return Sel("resources", children[0])

    def any_resource(self, children: list[Vals | None]) -> Sel:
        types = next((c for c in children if isinstance(c, Vals)), None)
        return Sel("types", types) if types is not None else Sel("all")

    @v_args(meta=True)
    def values(self, meta: object, children: list[Val]) -> Vals:
        return Vals((children[0],), children[0].span)

    @v_args(meta=True)
    def value_list(self, meta: object, children: list[Val | None]) -> Vals:
        return Vals(tuple(c for c in children if c is not None), self._span(meta))

    def value(self, children: list[Token]) -> Val:
        tok = children[0]
        text = _unquote(tok) if tok.type == "STRING" else str(tok)
        return Val(tok.type, text, self._tok_span(tok))


def _parse(source: SourceFile, start: str) -> object:
    parser = _parser()
    try:
        tree = parser.parse(source.text, start=start)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, source, parser) from None
    try:
        return _ToSyntax(source).transform(tree)
    except VisitError as exc:  # pragma: no cover - our own transformer raises no ReasonerError
        raise exc.orig_exc from None


def parse_text(text: str, name: str = "<property>") -> PropertyFile:
    """Parse the text of a property file (no includes resolved, no names checked)."""
    source = SourceFile(name, text)
    statements = _parse(source, "start")
    assert isinstance(statements, tuple)
    return PropertyFile(source, statements)


def parse_file(path: str | Path) -> PropertyFile:
    """Read and parse one property file."""
    text = _read(Path(path), None)
    return parse_text(text, str(path))


def _read(path: Path, at: tuple[Span, SourceFile] | None) -> str:
    """The text of a property file (at most `parse.MAX_INPUT_BYTES`, never hanging on a FIFO); an unreadable
    one is reported at the `include` naming it, or at `path:1:1`."""
    from reasoner.front.parse import read_input_text

    try:
        return read_input_text(path, what="property file")
    except InputError as exc:
        span, source = at if at else (exc.span, None)
        raise PropertyError(exc.message, span=span, code=UNREADABLE, source=source) from None


def _resolve(path: Path, span: Span | None, source: SourceFile | None) -> Path:
    """`path.resolve()`, with a path that cannot be resolved (a nul character, a name too long, a symlink
    loop) reported at `span` instead of escaping as an OSError, ValueError or RuntimeError."""
    try:
        if "\x00" in str(path):
            raise ValueError("it contains a nul character")
        return path.resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        reason = (exc.strerror if isinstance(exc, OSError) and exc.strerror
                  else "it is a symbolic link loop" if isinstance(exc, RuntimeError) else str(exc))
        raise PropertyError(f"`{_shown(path)}` is not a usable path: {one_line(reason).lower()}", span=span,
                            code=UNREADABLE, source=source) from None


def _shown(path: Path) -> str:
    """A path for a message: control characters escaped, at most 200 characters."""
    text = one_line(str(path))
    return text if len(text) <= 200 else text[:120] + "..." + text[-60:]


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


# ---- compiling ---------------------------------------------------------------------------------------

EnvironmentLoader = Callable[[Path], Environment]


def _confine(root: Path, base: Path, val: Val, source: SourceFile) -> None:
    """Refuse (INPUT006, at the token) a file `val` names that must not be read (`reasoner.front.confine`).
    A path with a nul character is left to `_resolve`, which reports it as unusable."""
    if "\x00" in val.text:
        return
    try:
        confine.check(root, val.text, base / val.text)
    except confine.Refused as exc:
        raise PropertyError(f"`{_shown(Path(val.text))}` is refused: {exc.reason}", span=val.span,
                            code=confine.PATH_REFUSED, source=source, help=confine.HELP) from None


def _closest(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    cands = list(dict.fromkeys(candidates))
    lowered = {c.lower(): c for c in cands}
    import difflib  # (only to suggest a spelling)

    return [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.6)]


def _did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    close = _closest(word, candidates)
    return f"did you mean {' or '.join(f'`{c}`' for c in close)}?" if close else None


_ACCOUNT = re.compile(r"^\d{12}$")
_ORG = re.compile(r"^o-[a-z0-9]{10,32}$")
_SERVICE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?$")


def _principal_arn(text: str) -> bool:
    """An `iam` / `sts` ARN of an `aws*` partition with an account id (any resource part but an empty one)."""
    arn = arns.parse_identity(text)
    return arn is not None and arns.is_aws_partition(arn.partition) and bool(arn.resource)


def _key_arn(text: str) -> bool:
    """A KMS key or alias ARN of an `aws*` partition."""
    arn = arns.parse_kms(text)
    return arn is not None and arns.is_aws_partition(arn.partition)


@dataclass
class _Scope:
    """What is visible at a point of a file: lets, named environments, the current environment."""

    lets: dict[str, Vals] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)
    current: Environment | None = None
    included: set[Path] = field(default_factory=set)  # files already read (each is included once)
    root: Path = field(default_factory=lambda: Path(os.path.abspath(".")))  # files named must lie inside it


class Compiler:
    """Compiles property files and claims; loads each environment manifest once per compiler.

    `load_environment` maps a manifest path to an `Environment` (default: `reasoner.front.manifest`, with the
    policies it names confined to the same root). `root` confines every file a property file names
    (`include`, `environment`, `key policy`) and, with the default loader, the policies of the manifests:
    a file outside it, in `/proc`, `/sys`, `/dev` or `.git`, or not a regular file is refused (INPUT006) at
    the token that names it, unread (`reasoner.front.confine`). Default: the git repository of the file
    compiled (of `base_dir` for text and claims), else its directory.
    """

    def __init__(self, load_environment: EnvironmentLoader | None = None, *,
                 root: str | Path | None = None) -> None:
        self._custom_load = load_environment
        self._root = root
        self._environments: dict[tuple[Path, Path], Environment] = {}
        self._policy_envs: dict[tuple[Path, str, int], tuple[Environment, Environment]] = {}

    # ---- files ----

    def compile_file(self, path: str | Path) -> tuple[Assertion, ...]:
        """All assertions of a property file and of the files it includes, in order."""
        out: list[Assertion] = []
        self._compile_into(Path(path), _Scope(root=confine.root_of(self._root, path)), out, stack=(), at=None)
        return tuple(_unique_names(out))

    def compile_text(self, text: str, name: str = "<property>", base_dir: str | Path = ".",
                     environment: Environment | None = None) -> tuple[Assertion, ...]:
        """Assertions of property-file text; relative paths are resolved against `base_dir`."""
        parsed = parse_text(text, name)
        out: list[Assertion] = []
        scope = _Scope(current=environment, root=confine.root_of(self._root, base_dir))
        self._compile_statements(parsed, Path(base_dir), scope, out, stack=())
        return tuple(_unique_names(out))

    def _compile_into(self, path: Path, scope: _Scope, out: list[Assertion], stack: tuple[Path, ...],
                      at: tuple[Span, SourceFile] | None) -> None:
        span, source = at if at else (Span.point(one_line(str(path)), 1, 1), None)
        resolved = _resolve(path, span, source)
        if resolved in stack:
            chain = " -> ".join(str(p.name) for p in (*stack, resolved))
            raise PropertyError(f"`{path}` includes itself ({chain})", span=span, code=BAD_INCLUDE,
                                source=source, help="remove one of the `include` statements of the cycle")
        if resolved in scope.included:
            return  # included once already (e.g. by two files that both include it): its names are in scope
        scope.included.add(resolved)
        text = _read(path, at)
        try:
            parsed = parse_text(text, str(path))
        except PropertySyntaxError as exc:
            if at is None or path.suffix == SUFFIX:
                raise
            # an included file that is not a property file (a `.env`, a token file): located, never quoted
            raise PropertySyntaxError(
                f"included file `{_shown(path)}` is not a property file (syntax error at {exc.span}); its "
                "content is not shown", span=span, source=source,
                help=f"include `{SUFFIX}` files only; `reasoner check FILE` on it shows the error") from None
        self._compile_statements(parsed, path.parent, scope, out, (*stack, resolved))

    def _compile_statements(self, parsed: PropertyFile, base: Path, scope: _Scope, out: list[Assertion],
                            stack: tuple[Path, ...]) -> None:
        source = parsed.source
        for stmt in parsed.statements:
            if isinstance(stmt, EnvironmentDecl):
                env = self._environment_at(base, stmt.path, source, scope.root)
                if stmt.name is None:
                    scope.current = env
                else:
                    if stmt.name in scope.environments or stmt.name in scope.lets:
                        raise PropertyError(f"`{stmt.name}` is already defined", span=stmt.span,
                                            code=DUPLICATE, source=source, help="choose another name")
                    scope.environments[stmt.name] = env
            elif isinstance(stmt, Include):
                _confine(scope.root, base, stmt.path, source)
                self._compile_into(base / stmt.path.text, scope, out, stack, (stmt.path.span, source))
            elif isinstance(stmt, Let):
                if stmt.name in scope.lets or stmt.name in scope.environments or stmt.name == "this":
                    raise PropertyError(f"`{stmt.name}` is already defined", span=stmt.span, code=DUPLICATE,
                                        source=source,
                                        help="names are defined once per file and its includes")
                scope.lets[stmt.name] = _expand(stmt.values, scope, source)
            else:
                out.append(self._assertion(stmt, scope, base, source))

    def _assertion(self, stmt: AssertStmt, scope: _Scope, base: Path, source: SourceFile) -> Assertion:
        if stmt.timeout is not None and not 0 < stmt.timeout < float("inf"):
            raise PropertyError(f"`within {stmt.timeout:g} seconds` is not a positive time limit",
                                span=stmt.timeout_span or stmt.span, code=BAD_VALUE, source=source,
                                help="write a positive number of seconds, e.g. `within 60 seconds`")
        environment, prop = self._claim(stmt.claim, scope, base, source)
        text = " ".join(_slice(source, stmt.claim.span).split())
        name = stmt.name if stmt.name is not None else (text if len(text) <= 72 else text[:71] + "…")
        return Assertion(name, prop, environment, stmt.span, stmt.allow_unknown, stmt.timeout, text,
                         stmt.name is not None, source)

    # ---- claims ----

    def compile_claim(self, text: str, environment: Environment | None = None, *,
                      environments: Mapping[str, Environment] | None = None,
                      base_dir: str | Path = ".") -> tuple[Environment, Property]:
        """One claim (without `assert`) -> (environment to check in, property value).

        `environment` is the environment of the claim, also visible as `this`; `environments` gives names
        for `grants no new access over NAME` and `is equivalent to NAME`.
        """
        source = SourceFile("<property>", text)
        claim = _parse(source, "single_claim")
        assert isinstance(claim, Claim)
        scope = _Scope(environments=dict(environments or {}), current=environment,
                       root=confine.root_of(self._root, base_dir))
        return self._claim(claim, scope, Path(base_dir), source)

    def _claim(self, claim: Claim, scope: _Scope, base: Path,
               source: SourceFile) -> tuple[Environment, Property]:
        if claim.eventually is not None:
            if claim.eventually < 0:
                raise PropertyError("`within N steps` needs a whole number of steps, at least 1",
                                    span=claim.steps_span or claim.span, code=BAD_VALUE, source=source,
                                    help="e.g. `within 3 steps`; leave the bound out for chains of any length")
            where, inner = self._claim(replace(claim, eventually=None), scope, base, source)
            assert isinstance(inner, AccessNotGranted | OnlyPrincipalsCan)
            return where, Eventually(inner, claim.eventually or None)
        if claim.kind in ("no_new_access", "equivalent"):
            assert claim.new is not None and claim.old is not None
            if claim.new.kind.startswith("POLICY") or claim.old.kind.startswith("POLICY"):
                new, old, keys = self._policy_comparison(claim, scope, base, source)
            else:
                new = self._env_ref(claim.new, scope, base, source)
                old = self._env_ref(claim.old, scope, base, source)
                keys = self._keys(claim.keys, scope, source, (new, old))
            actions = self._actions(claim.actions, scope, source)
            if claim.kind == "no_new_access":
                return new, NoNewAccess(old, actions, keys)
            return new, Equivalent(old, actions, keys)
        env = scope.current
        if env is None:
            raise PropertyError("no environment for this assertion", span=claim.span, code=NO_ENVIRONMENT,
                                source=source,
                                help="declare one before the assertion: `environment \"environment.yaml\"`")
        actions = self._actions(claim.actions, scope, source)
        keys = self._keys(claim.keys, scope, source, (env,))
        when = self._conditions(claim.conditions, scope, source)
        if claim.kind == "no_access":
            if claim.scope == "any":
                return env, AccessNotGranted(PrincipalScope(ScopeKind.ANY), actions, keys, when)
            assert claim.subjects is not None
            if claim.scope == "accounts":
                accounts = self._accounts(claim.subjects, scope, source)
                return env, AccessNotGranted(PrincipalScope.outside_account(*accounts), actions, keys, when)
            orgs = self._organizations(claim.subjects, scope, source, env)
            return env, AccessNotGranted(PrincipalScope.outside_organization(*orgs), actions, keys, when)
        assert claim.subjects is not None
        if claim.kind == "none_of_can":
            principals = self._principals(claim.subjects, scope, source, env)
            return env, AccessNotGranted(PrincipalScope(ScopeKind.PRINCIPALS, principals), actions, keys, when)
        if claim.kind == "only_can":
            principals = self._principals(claim.subjects, scope, source, env)
            return env, OnlyPrincipalsCan(principals, actions, keys, when)
        principals = self._principals(claim.subjects, scope, source, env)
        if principals and principals[0].startswith(ACCOUNT_PREFIX):
            raise PropertyError(f"`account {principals[0][len(ACCOUNT_PREFIX):]}` is every principal of the account",
                                span=claim.subjects.span, code=BAD_VALUE, source=source,
                                help="`P can ...` checks one principal: write the account id (its root user) "
                                     "or a principal ARN")
        if len(principals) != 1:
            raise PropertyError(f"`{claim.subjects.items[0].text}` names {len(principals)} principals",
                                span=claim.subjects.span, code=BAD_VALUE, source=source,
                                help="`P can ...` checks one principal; write one assertion per principal")
        return env, CanAccess(principals[0], actions, keys)

    def _policy_comparison(self, claim: Claim, scope: _Scope, base: Path,
                           source: SourceFile) -> tuple[Environment, Environment, tuple[str, ...]]:
        """`key policy "A" grants no new access over key policy "B" on key K`: two copies of the current
        environment, K's key policy replaced by A and by B (`this` or another environment keep theirs)."""
        env = scope.current
        if env is None:
            raise PropertyError("no environment for this assertion", span=claim.span, code=NO_ENVIRONMENT,
                                source=source,
                                help="a key policy is compared inside an environment: declare one first")
        keys = self._keys(claim.keys, scope, source, (env,))
        if len(keys) != 1 or any(c in keys[0] for c in "*?") or keys[0].startswith("type:"):
            raise PropertyError("a key policy comparison names exactly one key", span=claim.span,
                                code=BAD_VALUE, source=source,
                                help="end the claim with `on key KEY`, the key whose policy is compared")
        assert claim.new is not None and claim.old is not None
        sides = []
        for val in (claim.new, claim.old):
            if val.kind == "POLICY":
                sides.append(self._with_key_policy(env, keys[0], val, base, source, root=scope.root))
            elif val.kind.startswith("POLICY"):
                raise PropertyError(f"`{val.text}` is not a policy file", span=val.span, code=BAD_VALUE,
                                    source=source,
                                    help='write the path in quotes: `key policy "keys/new.json"`')
            else:
                sides.append(self._env_ref(val, scope, base, source))
        return sides[0], sides[1], keys

    def _with_key_policy(self, env: Environment, key_arn: str, val: Val, base: Path,
                         source: SourceFile, *, root: Path) -> Environment:
        from reasoner.errors import PolicyValidationError
        from reasoner.front.ast import PolicyKind
        from reasoner.front.parse import load_policy

        _confine(root, base, val, source)
        path = Path(os.path.normpath(base / val.text))
        cache_key = (_resolve(path, val.span, source), key_arn, id(env))
        hit = self._policy_envs.get(cache_key)
        if hit is not None and hit[0] is env:
            return hit[1]
        key = env.key(key_arn)
        assert key is not None
        try:
            doc = load_policy(path, PolicyKind.KEY_POLICY, key_account=key.account)
        except PolicyValidationError as exc:
            first = next((d for d in exc.diagnostics if d.is_error), None)
            detail = f": {confine.referenced_detail(first)}" if first else ""
            raise PropertyError(f"`{val.text}` is not a valid key policy{detail}", span=val.span,
                                code=BAD_VALUE, source=source,
                                help="`reasoner validate` on the policy file shows every diagnostic") from None
        except InputError as exc:
            raise PropertyError(exc.message, span=val.span, code=UNREADABLE, source=source,
                                help="paths are relative to the property file") from None
        keys = tuple(replace(k, policy=doc) if k.arn == key_arn else k for k in env.keys)
        changed = replace(env, keys=keys)
        self._policy_envs[cache_key] = (env, changed)
        return changed

    # ---- values ----

    def _environment_at(self, base: Path, val: Val, source: SourceFile, root: Path) -> Environment:
        """The manifest `val` names (relative to `base`), loaded once per compiler and root."""
        _confine(root, base, val, source)
        span = val.span
        path = Path(os.path.normpath(base / val.text))
        key = (_resolve(path, span, source), root)
        if key not in self._environments:
            if not _is_file(path) and not _is_dir(path):  # a directory: a cloud assembly or exports (issue 15)
                raise PropertyError(f"environment manifest `{_shown(path)}` not found", span=span, code=UNREADABLE,
                                    source=source, help="paths are relative to the property file")
            self._environments[key] = (self._custom_load(path) if self._custom_load is not None
                                       else load_any(path, root=root))
        return self._environments[key]

    def _env_ref(self, val: Val, scope: _Scope, base: Path, source: SourceFile) -> Environment:
        if val.kind == "STRING":
            return self._environment_at(base, val, source, scope.root)
        if val.kind == "NAME":
            if val.text == "this":
                if scope.current is None:
                    raise PropertyError("`this` names the current environment, but none is declared yet",
                                        span=val.span, code=NO_ENVIRONMENT, source=source,
                                        help="declare one first: `environment \"environment.yaml\"`")
                return scope.current
            if val.text in scope.environments:
                return scope.environments[val.text]
            raise PropertyError(f"unknown environment `{val.text}`", span=val.span, code=UNKNOWN_NAME,
                                source=source,
                                help=_did_you_mean(val.text, [*scope.environments, "this"])
                                or "name one with `environment NAME = \"PATH\"`, or write the path in quotes")
        raise PropertyError(f"`{val.text}` is not an environment", span=val.span, code=BAD_VALUE,
                            source=source,
                            help="write the manifest path in quotes, or a name declared with `environment`")

    def _actions(self, vals: Vals | None, scope: _Scope, source: SourceFile) -> tuple[str, ...]:
        if vals is None:
            return ("*",)
        out: list[str] = []
        for val in _expand(vals, scope, source).items:
            if val.kind not in ("ACTION", "STRING", "WILDCARD"):
                raise PropertyError(f"`{val.text}` is not an action", span=val.span, code=BAD_VALUE,
                                    source=source,
                                    help="actions are written `service:Name`, e.g. `kms:Decrypt`")
            out.append(_check_action(val, source))
        return tuple(dict.fromkeys(out))

    def _keys(self, sel: Sel | None, scope: _Scope, source: SourceFile,
              envs: Sequence[Environment]) -> tuple[str, ...]:
        """The resource list of a property (`conditions.expand_resources`): `*` for every key and resource,
        `type:T` for every one of type T, else key ARNs and ARN patterns of resources and roles."""
        if sel is None or sel.kind == "all":
            return ("*",)
        if sel.kind == "all-keys":
            return ("type:AWS::KMS::Key",)
        assert sel.vals is not None
        out: list[str] = []
        for val in _expand(sel.vals, scope, source).items:
            if sel.kind == "types":
                out.append(_resolve_type(val, source))
                continue
            if val.kind == "WILDCARD":
                out.append("*" if sel.kind == "resources" else "type:AWS::KMS::Key")
                continue
            if val.kind not in ("ARN", "ALIAS", "STRING"):
                what = "a key" if sel.kind == "keys" else "a resource"
                raise PropertyError(f"`{val.text}` is not {what}", span=val.span, code=BAD_VALUE,
                                    source=source,
                                    help="name a key by its ARN, `alias/NAME` or its key id (in quotes)"
                                    if sel.kind == "keys" else "name a resource or role by its ARN (a pattern "
                                    "with `*` names every resource it matches, e.g. `arn:aws:s3:::reports/*`)")
            out.append(_resolve_key(val, envs, source) if sel.kind == "keys" else
                       _resolve_resource(val, envs, source))
        return tuple(dict.fromkeys(out))

    def _accounts(self, vals: Vals, scope: _Scope, source: SourceFile) -> tuple[str, ...]:
        out: list[str] = []
        for val in _expand(vals, scope, source).items:
            text = val.text
            root = arns.parse_principal(text)
            if isinstance(root, arns.RootArn) and arns.is_aws_partition(root.partition):
                text = root.account
            if not _ACCOUNT.match(text):
                raise PropertyError(f"`{val.text}` is not an account id", span=val.span, code=BAD_VALUE,
                                    source=source, help="an account id has 12 digits, e.g. `111122223333`")
            out.append(text)
        return tuple(dict.fromkeys(out))

    def _organizations(self, vals: Vals, scope: _Scope, source: SourceFile,
                       env: Environment) -> tuple[str, ...]:
        out: list[str] = []
        for val in _expand(vals, scope, source).items:
            if not _ORG.match(val.text):
                raise PropertyError(f"`{val.text}` is not an organization id", span=val.span, code=BAD_VALUE,
                                    source=source, help="an organization id looks like `o-a1b2c3d4e5`")
            if env.organizations and env.organization(val.text) is None:
                raise PropertyError(f"organization `{val.text}` is not in the environment", span=val.span,
                                    code=UNKNOWN_NAME, source=source,
                                    help=_did_you_mean(val.text, [o.id for o in env.organizations])
                                    or "organizations of the environment: "
                                    + ", ".join(f"`{o.id}`" for o in env.organizations))
            out.append(val.text)
        return tuple(dict.fromkeys(out))

    def _account_word(self, val: Val, scope: _Scope, source: SourceFile) -> str:
        """The account id of `account ID` (ID may be a `let` name of one account id, or its root ARN)."""
        text = val.text
        if text in scope.lets and len(scope.lets[text].items) == 1:
            text = scope.lets[text].items[0].text
        root = arns.parse_principal(text)
        if isinstance(root, arns.RootArn) and arns.is_aws_partition(root.partition):
            text = root.account
        if not _ACCOUNT.match(text):
            raise PropertyError(f"`{val.text}` is not an account id", span=val.span, code=BAD_VALUE, source=source,
                                help="`account ID` takes a 12-digit account id, e.g. `account 111122223333`")
        return text

    def _conditions(self, conds: Sequence[CondSyntax], scope: _Scope,
                    source: SourceFile) -> tuple[ContextCondition, ...]:
        """The conditions of a claim, each checked: the key must be a context key AWS defines (PROP020), every
        value of its type (PROP009); `let` names among the values are replaced by their values, any other
        name is the word itself (`true`, `vpce-1a2b3c4d`)."""
        from reasoner.analyses.conditions import condition_problem  # loads the solver: only when a claim has one

        out: list[ContextCondition] = []
        for c in conds:
            values: list[Val] = []
            for val in c.values.items:
                if val.kind == "NAME" and val.text in scope.lets:
                    values.extend(scope.lets[val.text].items)
                else:
                    values.append(val)
            for val in values:
                if val.kind == "ACCOUNT":
                    raise PropertyError(f"`account {val.text}` names principals, not a value of a context key",
                                        span=val.span, code=BAD_VALUE, source=source,
                                        help="write the value itself, e.g. `111122223333`")
            if c.kind == "via":
                for val in values:
                    if not _SERVICE.match(val.text):
                        raise PropertyError(f"`{val.text}` is not an AWS service endpoint", span=val.span,
                                            code=BAD_VALUE, source=source,
                                            help="kms:ViaService holds an endpoint such as "
                                                 "`s3.us-east-1.amazonaws.com`")
                cond = ContextCondition("kms:ViaService", tuple(v.text for v in values), negated=True)
            else:
                assert c.key is not None
                key = context_keys.canonical(c.key.text)
                if key is None:
                    close = context_keys.suggestions(c.key.text)
                    raise PropertyError(f"unknown context key `{c.key.text}`", span=c.key.span,
                                        code=UNKNOWN_CONTEXT_KEY, source=source,
                                        help=("did you mean " + " or ".join(f"`{k}`" for k in close) + "?")
                                        if close else "name a global key (`aws:...`) or a key of the service "
                                                      "(`kms:...`) as AWS documents it")
                cond = ContextCondition(key, tuple(v.text for v in values), negated=c.kind == "unless")
            problem = condition_problem(cond)
            if problem is not None:
                bad = next((v for v in values if f"`{v.text}`" in problem[1]), None)
                fam = context_keys.family(context_keys.key_type(cond.key) or "String")
                hint = {"ip": 'an address or range in double quotes, e.g. `"10.0.0.0/8"`',
                        "date": 'a date in double quotes, e.g. `"2026-01-01T00:00:00Z"`, or epoch seconds',
                        "bool": "`true` or `false`", "numeric": "a number, e.g. `3600`"}.get(fam)
                raise PropertyError(problem[1], span=bad.span if bad is not None else c.values.span,
                                    code=BAD_VALUE, source=source, help=f"write {hint}" if hint else None)
            out.append(cond)
        return tuple(out)

    def _principals(self, vals: Vals, scope: _Scope, source: SourceFile, env: Environment) -> tuple[str, ...]:
        out: list[str] = []
        for val in _expand(vals, scope, source).items:
            text = val.text
            if val.kind == "ACCOUNT":
                out.append(every_principal_of(self._account_word(val, scope, source)))
                continue
            if _ACCOUNT.match(text) or _SERVICE.match(text):
                out.append(text)
                continue
            if not _principal_arn(text):
                raise PropertyError(f"`{text}` is not a principal", span=val.span, code=BAD_VALUE,
                                    source=source,
                                    help="name an IAM or STS ARN, a 12-digit account id or a service")
            _check_principal_known(val, env, source)
            out.append(text)
        return tuple(dict.fromkeys(out))


def _slice(source: SourceFile, span: Span) -> str:
    """The text of a span (by offsets: splitting the whole file per assertion would be quadratic)."""
    return source.text[source.offset(span.line, span.col) : source.offset(span.end_line, span.end_col)]


def _expand(vals: Vals, scope: _Scope, source: SourceFile) -> Vals:
    """Replace references to `let` names by their values."""
    items: list[Val] = []
    for val in vals.items:
        if val.kind != "NAME":
            items.append(val)
            continue
        if val.text in scope.lets:
            items.extend(scope.lets[val.text].items)
            continue
        raise PropertyError(f"unknown name `{val.text}`", span=val.span, code=UNKNOWN_NAME, source=source,
                            help=_did_you_mean(val.text, scope.lets)
                            or "define it first with `let NAME = VALUES`, or quote the value")
    return Vals(tuple(items), vals.span)


def _check_action(val: Val, source: SourceFile) -> str:
    text = val.text
    if text == "*":
        return text
    svc, sep, name = text.partition(":")
    if not sep or not svc or not name:
        raise PropertyError(f"`{text}` is not an action", span=val.span, code=BAD_VALUE, source=source,
                            help="actions are written `service:Name`, e.g. `kms:Decrypt`")
    if svc.lower() not in catalog.services():
        raise PropertyError(f"unknown service `{svc}` in action `{text}`", span=val.span, code=UNKNOWN_ACTION,
                            source=source, help=_did_you_mean(svc.lower(), catalog.services()))
    if "*" in name or "?" in name:
        pattern = compile_action(text)
        if not any(pattern.matches(a) for a in catalog.actions_of(svc.lower())):
            raise PropertyError(f"action pattern `{text}` matches no action", span=val.span,
                                code=UNKNOWN_ACTION, source=source,
                                help=_did_you_mean(text, catalog.actions_of(svc.lower())))
        return f"{svc.lower()}:{name}"
    canon = catalog.canonical_action(text)
    if canon is None:
        raise PropertyError(f"unknown action `{text}`", span=val.span, code=UNKNOWN_ACTION, source=source,
                            help=_did_you_mean(text, catalog.actions_of(svc.lower())))
    return canon


def _resolve_key(val: Val, envs: Sequence[Environment], source: SourceFile) -> str:
    """A key ARN of the environment(s); a key id or alias is resolved to its key's ARN. ARN patterns with
    `*`/`?` are kept as written (they must match a key)."""
    text = val.text
    keys = [k for env in envs for k in env.keys]
    if "*" in text or "?" in text:
        regex = re.compile("^" + re.escape(text).replace(r"\*", ".*").replace(r"\?", ".") + "$")
        if not any(regex.match(k.arn) for k in keys):
            raise PropertyError(f"key pattern `{text}` matches no key of the environment", span=val.span,
                                code=UNKNOWN_KEY, source=source, help=_known_keys(text, keys))
        return text
    for k in keys:
        if k.arn == text:
            return k.arn
    for k in keys:
        alias = text.split(":", 5)[5] if text.startswith("arn:") and text.count(":") >= 5 else text
        if alias in k.aliases or f"alias/{alias}" in k.aliases:
            return k.arn
        if k.arn.endswith(f":key/{text}"):
            return k.arn
    if text.startswith("arn:") and not _key_arn(text):
        raise PropertyError(f"`{text}` is not a KMS key ARN", span=val.span, code=BAD_VALUE, source=source,
                            help="a key ARN looks like `arn:aws:kms:REGION:ACCOUNT:key/KEY-ID`")
    raise PropertyError(f"key `{text}` is not in the environment", span=val.span, code=UNKNOWN_KEY,
                        source=source, help=_known_keys(text, keys))


def _resolve_type(val: Val, source: SourceFile) -> str:
    """`type:LABEL` for a resource type users name (`AWS::SQS::Queue`, `sqs:queue`)."""
    if not type_named(val.text):
        raise PropertyError(f"`{val.text}` is not a resource type with resource-based policies", span=val.span,
                            code=BAD_VALUE, source=source,
                            help=_did_you_mean(val.text, sorted(set(POLICY_TYPES.values())))
                            or "types: " + ", ".join(sorted(set(POLICY_TYPES.values()))))
    return f"type:{val.text}"


def _resolve_resource(val: Val, envs: Sequence[Environment], source: SourceFile) -> str:
    """A resource, role or key ARN (or ARN pattern) that names something of the environment(s): a key (also by
    alias), a declared resource or one of its sub-resources (an S3 bucket's objects), a role with a trust
    policy."""
    text = val.text
    if not text.startswith("arn:"):
        return _resolve_key(val, envs, source)
    targets = [a for env in envs for a in declared_targets(env)]
    pattern = compile_resource(text)
    if any(pattern.matches(a) for a in targets) or any(
            governing_arn(text) == a for a in targets):
        return text
    if any(a.startswith(text.split("*", 1)[0]) or text.startswith(a + "/") for a in targets):
        return text  # a pattern or ARN of sub-resources of a declared resource
    more = " ..." if len(targets) > 5 else ""
    known = ("declared: " + ", ".join(f"`{a}`" for a in targets[:5]) + more if targets
             else "the environment declares no keys, resources or roles with trust policies")
    raise PropertyError(f"`{text}` names no key, resource or role of the environment", span=val.span,
                        code=UNKNOWN_KEY, source=source, help=_did_you_mean(text, targets) or known)


def _known_keys(text: str, keys: Sequence[Key]) -> str:
    arns = [k.arn for k in keys]
    close = _did_you_mean(text, [*arns, *(a for k in keys for a in k.aliases)])
    if close:
        return close
    if not arns:
        return "the environment declares no keys"
    more = " ..." if len(arns) > 5 else ""
    return "keys of the environment: " + ", ".join(f"`{a}`" for a in arns[:5]) + more


def _check_principal_known(val: Val, env: Environment, source: SourceFile) -> None:
    """An IAM/STS ARN in an account whose identities the environment lists must be one of them (or the
    root user). Accounts the environment does not describe are open: any ARN is accepted."""
    text = val.text
    account = text.split(":")[4]
    acct = env.account(account)
    if acct is None or not acct.iam_known:
        return
    if text.endswith(":root") or env.principal(text) is not None or env.session(text) is not None:
        return
    session = arns.parse_principal(text, strict=True)
    if isinstance(session, arns.AssumedRoleArn) and arns.is_aws_partition(session.partition) and any(
            p.arn.split(":")[4] == session.account and p.arn.split(":")[5].startswith("role/")
            and p.arn.rsplit("/", 1)[-1] == session.role_name for p in env.principals):
        return  # a session of a declared role
    known = [p.arn for p in env.principals] + [s.arn for s in env.sessions]
    raise PropertyError(f"principal `{text}` is not in the environment", span=val.span,
                        code=UNKNOWN_PRINCIPAL, source=source,
                        help=_did_you_mean(text, known)
                        or f"account `{account}` lists its principals; add it to the manifest or fix the ARN")


def _unique_names(assertions: Iterable[Assertion]) -> list[Assertion]:
    seen: dict[str, Assertion] = {}
    out: list[Assertion] = []
    for item in assertions:
        a = item
        if a.name in seen:
            first = seen[a.name]
            if a.named or first.span == a.span:
                raise PropertyError(f"assertion name `{a.name}` is used twice (first at {first.span})",
                                    span=a.span, code=DUPLICATE, source=a.source,
                                    help="names identify assertions in reports and tests; keep them unique")
            a = replace(a, name=f"{a.name} (line {a.span.line})")
        seen[a.name] = a
        out.append(a)
    return out


# ---- module-level conveniences ----------------------------------------------------------------------


def compile_file(path: str | Path, *, load_environment: EnvironmentLoader | None = None,
                 root: str | Path | None = None) -> tuple[Assertion, ...]:
    """The assertions of one property file (see `Compiler.compile_file`; `root` confines the files named)."""
    return Compiler(load_environment, root=root).compile_file(path)


def compile_claim(text: str, environment: Environment | None = None, *,
                  environments: Mapping[str, Environment] | None = None, base_dir: str | Path = ".",
                  load_environment: EnvironmentLoader | None = None,
                  root: str | Path | None = None) -> tuple[Environment, Property]:
    """One claim as a string -> (environment, property value); see `Compiler.compile_claim`."""
    return Compiler(load_environment, root=root).compile_claim(text, environment, environments=environments,
                                                               base_dir=base_dir)


def parse_property(text: str, environment: Environment | None = None, *,
                   environments: Mapping[str, Environment] | None = None,
                   base_dir: str | Path = ".") -> Property:
    """The property value of a claim string, e.g. `no principal outside account 111122223333 can kms:Decrypt`.

    The claim must be about `environment` (for comparisons, write `this grants no new access over NAME`).
    """
    env, prop = compile_claim(text, environment, environments=environments, base_dir=base_dir)
    if environment is not None and env is not environment:
        raise PropertyError("the claim compares two other environments", code=BAD_VALUE,
                            help="write `this grants no new access over OTHER` to compare with `environment`")
    return prop


def check(environment: Environment | CompiledEnvironment, property: Property | str, *,
          environments: Mapping[str, Environment] | None = None, **options: Any) -> CheckResult:
    """`reasoner.check`: check a property value, or a claim in the property language, in `environment`.

    `reasoner.check(env, "no principal outside account 111122223333 can kms:Decrypt on key alias/app")` is
    `reasoner.analyses.pipeline.check(env, AccessNotGranted(...))`; `options` (`timeout`, `rlimit`, `dump_smt2`) go to
    the pipeline unchanged. In a claim, `this` is `environment` and `environments` names others
    (`this grants no new access over old`). Spans of the responsible statements are made relative to the
    current directory (see `result.rebase_spans`), so reports and notebook snippets find the policy files.
    """
    from reasoner.analyses import pipeline
    from reasoner.analyses.result import rebase_spans

    env = environment.environment if isinstance(environment, pipeline.CompiledEnvironment) else environment
    prop = parse_property(property, env, environments=environments) if isinstance(property, str) else property
    return rebase_spans(pipeline.check(environment, prop, **options), env)


def find_property_files(paths: Iterable[str | Path], *, root: str | Path | None = None) -> list[Path]:
    """Files named directly, plus every `*.access` file under the directories named, sorted per directory.

    A file found under a directory was named by the tree, not by the user, so it is confined like a file a
    property file names: a symbolic link whose target lies outside both the directory and the root (default:
    the directory's git repository), or in `/proc`, `/sys`, `/dev` or `.git`, is refused with a
    `PropertyError` (INPUT006) at `file:1:1`, unread (`checks/x.access -> /proc/self/environ` in a pull
    request must not print the environment)."""
    out: list[Path] = []
    for p in map(Path, paths):
        try:
            is_dir = p.is_dir()
        except (OSError, ValueError):  # a name too long: reported when the file is read
            is_dir = False
        if is_dir:
            found = sorted(x for x in _walk(p) if _is_file(x))
            _confine_found(p, found, root)
            out.extend(found)
        else:
            out.append(p)
    return list(dict.fromkeys(out))


def _confine_found(directory: Path, found: Iterable[Path], root: str | Path | None) -> None:
    top = Path(os.path.realpath(directory))
    confined_to: Path | None = None
    for x in found:
        real = Path(os.path.realpath(x))
        if (real == top or top in real.parents) and confine.check_system(real) is None:
            continue  # a file of the directory itself: the user named it
        confined_to = confined_to or confine.root_of(root, directory)
        try:
            confine.check(confined_to, os.path.relpath(x, directory), x)
        except confine.Refused as exc:
            raise PropertyError(f"`{_shown(x)}` (found under `{_shown(directory)}`) is refused: {exc.reason}",
                                span=Span.point(one_line(str(x)), 1, 1), code=confine.PATH_REFUSED,
                                help=confine.HELP) from None


def _walk(directory: Path) -> Iterable[Path]:
    """`directory.rglob("*.access")` without following symbolic links to directories (no symlink loop can
    make it run forever); unreadable subdirectories are skipped."""
    for root, _dirs, names in os.walk(directory, followlinks=False):
        for name in names:
            if name.endswith(SUFFIX):
                yield Path(root, name)


__all__ = [
    "SUFFIX",
    "Assertion",
    "Compiler",
    "PropertyError",
    "PropertyFile",
    "PropertySyntaxError",
    "check",
    "compile_claim",
    "compile_file",
    "find_property_files",
    "parse_file",
    "parse_property",
    "parse_text",
]
